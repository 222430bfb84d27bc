/* test_model_file: damaged model files. A small conditional model is saved, then copies
 * of it are changed one field at a time (the header's sizes and widths, the metadata's
 * labels and options, NaN or infinite numbers in the weights and scales) with the
 * checksum recomputed, as a careless tool or a bit flip before checksumming would leave
 * them. Each must be refused by sdd_model_load with a detail naming the cause (no
 * overflow, no huge allocation, no endless loop); the unchanged copy must load and
 * sample. A model held in memory whose EMA weights are NaN is refused by sampling. */
#include "nn.h"
#include "sdd_internal.h"
#include "tap.h"
#include "trainset_fixture.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Offsets of checkpoint.c's header (the documented file layout). */
enum { O_G = 16, O_E = 52, O_NLAB = 56, O_NPARAMS = 64, O_JSON = 128, HDR = 144 };

typedef struct {
    unsigned char hdr[HDR];
    char *json;
    unsigned char *rest;    /* parameter, EMA, Adam, scaling and library sections */
    size_t rest_n;
} mfile_t;

static char dir[] = "/tmp/sdd_model_file.XXXXXX";
static char base_path[600];

static int read_mfile(const char *path, mfile_t *mf)
{
    FILE *f = fopen(path, "rb");
    long size;
    uint64_t jb;
    memset(mf, 0, sizeof *mf);
    if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < HDR + 8 || fseek(f, 0, SEEK_SET) ||
        fread(mf->hdr, 1, HDR, f) != HDR)
        return -1;
    memcpy(&jb, mf->hdr + O_JSON, 8);
    mf->json = calloc(jb + 1, 1);
    mf->rest_n = (size_t)size - HDR - jb - 8;
    mf->rest = malloc(mf->rest_n);
    if (fread(mf->json, 1, jb, f) != jb || fread(mf->rest, 1, mf->rest_n, f) != mf->rest_n) return -1;
    fclose(f);
    return 0;
}

/* Write mf with its JSON length and checksum made consistent again. */
static void write_mfile(const char *path, const mfile_t *mf)
{
    FILE *f = fopen(path, "wb");
    unsigned char hdr[HDR];
    uint64_t jb = strlen(mf->json), h = 0xcbf29ce484222325ULL;
    memcpy(hdr, mf->hdr, HDR);
    memcpy(hdr + O_JSON, &jb, 8);
    h = sdd_fnv1a(h, mf->json, jb);
    h = sdd_fnv1a(h, mf->rest, mf->rest_n);
    fwrite(hdr, 1, HDR, f);
    fwrite(mf->json, 1, jb, f);
    fwrite(mf->rest, 1, mf->rest_n, f);
    fwrite(&h, 8, 1, f);
    fclose(f);
}

static void free_mfile(mfile_t *mf)
{
    free(mf->json);
    free(mf->rest);
}

/* Replace the first `from` in the JSON text by `to`. */
static void json_sub(mfile_t *mf, const char *from, const char *to)
{
    char *at = strstr(mf->json, from), *n;
    size_t a, lf = strlen(from), lt = strlen(to), lj = strlen(mf->json);
    CHECK_MSG(at != NULL, "'%s' not in the model's metadata", from);
    if (!at) return;
    a = (size_t)(at - mf->json);
    n = malloc(lj - lf + lt + 1);
    memcpy(n, mf->json, a);
    memcpy(n + a, to, lt);
    memcpy(n + a + lt, at + lf, lj - a - lf + 1);
    free(mf->json);
    mf->json = n;
}

/* Load a changed copy; it must fail with a detail containing `want`. */
static void expect_refused(const char *name, const mfile_t *mf, const char *want)
{
    char path[700];
    sdd_model_t *m = NULL;
    int rc;
    snprintf(path, sizeof path, "%s/%s.sdd", dir, name);
    write_mfile(path, mf);
    rc = sdd_model_load(path, &m);
    CHECK_MSG(rc < 0 && m == NULL, "%s: loaded (rc %d)", name, rc);
    CHECK_MSG(rc >= 0 || strstr(sdd_errdetail(), want), "%s: message '%s' does not say '%s'", name,
              sdd_errdetail(), want);
    sdd_model_destroy(m);
    unlink(path);
}

static void set_i32(mfile_t *mf, int off, int32_t v) { memcpy(mf->hdr + off, &v, 4); }
static void set_i64(mfile_t *mf, int off, int64_t v) { memcpy(mf->hdr + off, &v, 8); }

static void test_header(void)
{
    mfile_t mf;
    CHECK(read_mfile(base_path, &mf) == 0);
    set_i64(&mf, O_NPARAMS, INT64_MAX);
    expect_refused("n_params_max", &mf, "9223372036854775807 parameters");
    free_mfile(&mf);
    CHECK(read_mfile(base_path, &mf) == 0);
    set_i64(&mf, O_G, (int64_t)1 << 28);
    expect_refused("genes_huge", &mf, "truncated model file");
    free_mfile(&mf);
    CHECK(read_mfile(base_path, &mf) == 0);
    set_i32(&mf, O_E, INT32_MAX);
    expect_refused("emb_max", &mf, "embedding widths");
    free_mfile(&mf);
    CHECK(read_mfile(base_path, &mf) == 0);
    set_i32(&mf, O_NLAB, INT32_MAX);
    expect_refused("labels_max", &mf, "parameters, but its widths give");
    free_mfile(&mf);
}

static void test_labels(void)
{
    static const struct { const char *name, *from, *to, *want; } cases[] = {
        {"freq_negative", "\"frequencies\":[", "\"frequencies\":[-0.5,", "not a proportion"},
        {"freq_huge", "\"frequencies\":[", "\"frequencies\":[1e308,", "not a proportion"},
        {"freq_int_min", "\"frequencies\":[", "\"frequencies\":[-9223372036854775808,", "not a proportion"},
        {"freq_text", "\"frequencies\":[", "\"frequencies\":[\"a\",", "not a proportion"},
        {"key_empty", "\"key\":\"cell_type\"", "\"key\":\"\"", "cannot name an obs column"},
        {"key_slash", "\"key\":\"cell_type\"", "\"key\":\"a/b\"", "cannot name an obs column"},
        {"label_twice", "\"type1\"", "\"type0\"", "appears twice"},
        {"batch_huge", "\"batch_size\":", "\"batch_size\":1e300,\"x\":", "batch size"},
        {"steps_nan", "\"steps\":", "\"steps\":-1e300,\"x\":", "steps"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mfile_t mf;
        CHECK(read_mfile(base_path, &mf) == 0);
        json_sub(&mf, cases[i].from, cases[i].to);
        if (!strcmp(cases[i].name, "freq_negative") || !strcmp(cases[i].name, "freq_huge") ||
            !strcmp(cases[i].name, "freq_int_min") || !strcmp(cases[i].name, "freq_text")) {
            /* one more value than labels: drop the last one */
            char *end = strstr(mf.json, "\"frequencies\":[");
            char *close = end ? strchr(end, ']') : NULL, *comma = close;
            while (comma && comma > end && *comma != ',') comma--;
            if (comma && comma > end) memmove(comma, close, strlen(close) + 1);
        }
        expect_refused(cases[i].name, &mf, cases[i].want);
        free_mfile(&mf);
    }
    {
        mfile_t mf; /* proportions in [0, 1] that add up to more than 1 */
        char *f, *close;
        CHECK(read_mfile(base_path, &mf) == 0);
        f = strstr(mf.json, "\"frequencies\":[");
        close = f ? strchr(f, ']') : NULL;
        if (f && close) {
            size_t tail = strlen(close);
            char *n = malloc((size_t)(f - mf.json) + 64 + tail);
            memcpy(n, mf.json, (size_t)(f - mf.json));
            sprintf(n + (f - mf.json), "\"frequencies\":[0.9,0.9,0.9%s", close);
            free(mf.json);
            mf.json = n;
        }
        expect_refused("freq_sum", &mf, "add up to");
        free_mfile(&mf);
    }
}

static void test_values(const sdd_model_t *m0)
{
    int64_t n = m0->n_params, G = m0->shape.G;
    mfile_t mf;
    float bad[2] = {NAN, INFINITY};
    CHECK(read_mfile(base_path, &mf) == 0);
    for (int64_t i = 0; i < n; i++) memcpy(mf.rest + 4 * (n + i), &bad[0], 4); /* every EMA weight */
    expect_refused("ema_nan", &mf, "EMA weights are not finite");
    free_mfile(&mf);
    CHECK(read_mfile(base_path, &mf) == 0);
    memcpy(mf.rest + 4 * (n - 1), &bad[1], 4); /* the last training weight */
    expect_refused("param_inf", &mf, "training weights are not finite");
    free_mfile(&mf);
    CHECK(read_mfile(base_path, &mf) == 0);
    memcpy(mf.rest + 4 * (4 * n + G), &bad[0], 4); /* m_g of gene 1 */
    expect_refused("scale_nan", &mf, "scaling of gene 1");
    free_mfile(&mf);
}

/* Sampling refuses a model in memory whose EMA weights are NaN. */
static void test_sample_nan(sdd_model_t *m)
{
    sdd_sample_opt_t so;
    sdd_dataset_t *ds = NULL;
    sdd_sample_opt_init(&so);
    so.n_cells = 8;
    so.steps = 2;
    CHECK(sdd_sample(m, &so, NULL, NULL, &ds) == 0);
    sdd_dataset_destroy(ds);
    ds = NULL;
    m->ema[3] = NAN;
    CHECK(sdd_sample(m, &so, NULL, NULL, &ds) == SDD_EDATA && ds == NULL);
    CHECK(strstr(sdd_errdetail(), "EMA weights are not finite") != NULL);
    so.use_ema = 0;
    CHECK(sdd_sample(m, &so, NULL, NULL, &ds) == 0);
    sdd_dataset_destroy(ds);
}

int main(void)
{
    static const trainset_fixture_t fx = {0, 3, 500, 10, NULL};
    sdd_trainset_t *ts = make_fixture_trainset(60, 12, 3, 7, &fx);
    sdd_train_opt_t o;
    sdd_model_t *m = NULL, *back = NULL;
    if (sdd_init() < 0 || !mkdtemp(dir)) return 1;
    fixture_small_net(&o, 16, 16, 8, 8, 16, 8, 16, 3);
    CHECK(sdd_model_create(ts, &o, &m) == 0 && sdd_model_train(m, ts, NULL, NULL) == 0);
    snprintf(base_path, sizeof base_path, "%s/base.sdd", dir);
    CHECK(sdd_model_save(m, base_path) == 0);
    CHECK(sdd_model_load(base_path, &back) == 0); /* the unchanged copy */
    sdd_model_destroy(back);
    test_header();
    test_labels();
    test_values(m);
    test_sample_nan(m);
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
    unlink(base_path);
    rmdir(dir);
    return tap_done();
}
