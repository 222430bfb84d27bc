/*
 * fuzz_model_json.c: the JSON metadata of models (genes, scaling, labels, training
 * options, preprocessing). The input is the metadata text; the harness puts it into a
 * template model (fuzz/template.sdd, a small conditional model: $SDD_FUZZ_TEMPLATE
 * overrides), with the header's JSON length and the checksum set to match, loads the
 * result and samples from it when it loads.
 */
#include "fuzz_model_util.h"

#ifndef FUZZ_TEMPLATE
#define FUZZ_TEMPLATE "fuzz/template.sdd"
#endif

static uint8_t *tpl;
static size_t tpl_n;
static sdd_ckpt_header_t tpl_hd;

static void load_template(void)
{
    const char *p = getenv("SDD_FUZZ_TEMPLATE");
    FILE *f = fopen(p && *p ? p : FUZZ_TEMPLATE, "rb");
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < (long)sizeof tpl_hd || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "fuzz_model_json: cannot read the template model %s\n", p && *p ? p : FUZZ_TEMPLATE);
        abort();
    }
    tpl_n = (size_t)n;
    if (!(tpl = malloc(tpl_n)) || fread(tpl, 1, tpl_n, f) != tpl_n) abort();
    fclose(f);
    memcpy(&tpl_hd, tpl, sizeof tpl_hd);
    if (tpl_hd.header_bytes != sizeof tpl_hd || tpl_hd.json_bytes > tpl_n) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdd_ckpt_header_t hd;
    size_t rest, n;
    uint8_t *buf;
    if (!tpl) load_template();
    rest = tpl_n - sizeof hd - tpl_hd.json_bytes; /* the binary sections and the checksum */
    n = sizeof hd + size + rest;
    if (!(buf = malloc(n))) return 0;
    hd = tpl_hd;
    hd.json_bytes = size;
    memcpy(buf, &hd, sizeof hd);
    memcpy(buf + sizeof hd, data, size);
    memcpy(buf + sizeof hd + size, tpl + sizeof hd + tpl_hd.json_bytes, rest);
    fuzz_model_run(buf, n);
    return 0;
}
