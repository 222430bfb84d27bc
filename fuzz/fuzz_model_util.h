/*
 * fuzz_model_util.h: the model file's layout (checkpoint.c's header comment) as the
 * model harnesses need it, to rewrite the checksum of a mutated file so that mutations
 * reach what is read after the checksum is checked (the metadata, the values), and to
 * load and sample the model as `sddcell info` and `sddcell sample` do.
 */
#ifndef SDD_FUZZ_MODEL_UTIL_H
#define SDD_FUZZ_MODEL_UTIL_H

#include "fuzz_util.h"
#include "sdd_internal.h"

/* When the header's sizes account for exactly n bytes, store the checksum of the
 * sections in the last 8 bytes of buf. */
static void fuzz_fix_checksum(uint8_t *buf, size_t n)
{
    sdd_ckpt_header_t hd;
    uint64_t sec[8], h = 0xcbf29ce484222325ULL, total = sizeof hd + 8;
    const uint64_t lim = (uint64_t)1 << 40;
    size_t at = sizeof hd;
    if (n < sizeof hd + 8) return;
    memcpy(&hd, buf, sizeof hd);
    if (hd.G < 0 || hd.n_params < 0 || hd.n_lib < 0 || (uint64_t)hd.G > lim || (uint64_t)hd.n_params > lim ||
        (uint64_t)hd.n_lib > lim || hd.json_bytes > lim)
        return;
    sec[0] = hd.json_bytes;
    sec[1] = sec[2] = sec[3] = sec[4] = 4 * (uint64_t)hd.n_params;
    sec[5] = sec[6] = 4 * (uint64_t)hd.G;
    sec[7] = 8 * (uint64_t)hd.n_lib;
    for (int i = 0; i < 8; i++) total += sec[i];
    if (total != n) return;
    for (int i = 0; i < 8; i++) {
        h = sdd_fnv1a(h, buf + at, (size_t)sec[i]);
        at += (size_t)sec[i];
    }
    memcpy(buf + at, &h, 8);
}

/* Load the model at path; when it loads, print its metadata to memory and sample a few
 * cells with few steps (label assignment, guidance and decoding read the metadata). */
static void fuzz_load_and_sample(const char *path)
{
    sdd_model_t *m = NULL;
    sdd_dataset_t *ds = NULL;
    sdd_sample_opt_t so;
    char *json;
    if (sdd_model_load(path, &m) < 0) return;
    free(json = sdd_model_json(m));
    sdd_sample_opt_init(&so);
    so.n_cells = 5;
    so.steps = 2;
    so.batch = 5;
    if (sdd_model_n_params(m) <= ((int64_t)1 << 22) && sdd_sample(m, &so, NULL, NULL, &ds) == 0)
        sdd_dataset_destroy(ds);
    sdd_model_destroy(m);
}

/* Give buf[n] (taken over) a consistent checksum, write it as the model file input.sdd,
 * then load and sample it. */
static void fuzz_model_run(uint8_t *buf, size_t n)
{
    char path[600];
    fuzz_fix_checksum(buf, n);
    snprintf(path, sizeof path, "%s/input.sdd", fuzz_tmpdir());
    fuzz_write(path, buf, n);
    free(buf);
    fuzz_load_and_sample(path);
    sdd_error_clear();
}

#endif
