/* test_sample: decoding of a hand-set x0-hat against hand-computed values (threshold,
 * Bernoulli with its own uniform draws replayed, per-gene scaling, the no-bits baseline);
 * sampling from a small trained model: exact zeros, every non-zero in [m_g, M], the same
 * seed gives identical cells with 1 and 2 threads and another seed other cells, DDIM and
 * DDPM both decode valid cells, the DDIM-T baseline reaches the training sparsity,
 * conditional sampling honours --label / --label-counts / proportions and rejects unknown
 * labels, guidance 1 equals the plain conditional prediction, and Poisson counts. */
#include "sample_internal.h"
#include "vec.h"
#include <cjson/cJSON.h>
#include "tap.h"
#include "trainset_fixture.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- decoding */

static void test_decode_threshold(void)
{
    /* G = 3, M = 4: v = -1 -> 0, v = 0 -> 2, v = 1 -> 4; m_g clamps from below. */
    const float mg[3] = {0.5f, 1.0f, 3.0f};
    const float x0[2 * 6] = {
        /* values          bits */
        -1.0f, 0.0f, 0.5f, 1.0f, -0.2f, 0.3f,    /* gene 0 on (v=-1 -> clamp to 0.5) */
        0.9f, -0.75f, 1.0f, -0.1f, 0.7f, 0.0f};  /* gene 2 bit 0 -> off under threshold */
    sdd_decode_t d = {3, 1, 1.0, 4.0, NULL, mg, SDD_BITS_THRESHOLD};
    float out[6];
    CHECK(sdd_decode_rows(&d, x0, 2, NULL, out) == 0);
    CHECK_CLOSE(out[0], 0.5, 0, 1e-7);        /* (−1+1)/2*4 = 0 -> m_0 = 0.5 */
    CHECK(out[1] == 0.0f);                    /* bit -0.2 */
    CHECK_CLOSE(out[2], 3.0, 0, 1e-6);        /* (0.5+1)/2*4 = 3 >= m_2 = 3 */
    CHECK(out[3] == 0.0f);                    /* bit -0.1 */
    CHECK_CLOSE(out[4], 1.0, 0, 1e-6);        /* (−0.75+1)/2*4 = 0.5 -> m_1 = 1 */
    CHECK(out[5] == 0.0f);                    /* bit exactly 0 is off */

    /* bit_scale 2: threshold still at 0 */
    const float x1[6] = {0.0f, 0.0f, 0.0f, 0.1f, -0.1f, 1.9f};
    d.bit_scale = 2.0;
    CHECK(sdd_decode_rows(&d, x1, 1, NULL, out) == 0);
    CHECK_CLOSE(out[0], 2.0, 0, 1e-6);
    CHECK(out[1] == 0.0f);
    CHECK_CLOSE(out[2], 3.0, 0, 1e-6);        /* 2 < m_2 = 3 */

    /* per-gene scaling: value = (v+1)/2 M_g, clamped to [m_g, M_g] */
    const float Mg[3] = {2.0f, 6.0f, 0.0f};   /* an all-zero gene decodes with M = 1 */
    const float x2[6] = {0.5f, -0.5f, 1.0f, 1.0f, 1.0f, 1.0f};
    const float mg2[3] = {0.5f, 1.0f, 0.0f};   /* an all-zero gene has m_g = 0 */
    d.bit_scale = 1.0;
    d.Mg = Mg;
    d.mg = mg2;
    CHECK(sdd_decode_rows(&d, x2, 1, NULL, out) == 0);
    CHECK_CLOSE(out[0], 1.5, 0, 1e-6);        /* 0.75 * 2 */
    CHECK_CLOSE(out[1], 1.5, 0, 1e-6);        /* 0.25 * 6 = 1.5 >= m_1 */
    CHECK_CLOSE(out[2], 1.0, 0, 1e-6);        /* (1+1)/2 * 1 */
}

static void test_decode_nobits(void)
{
    const float mg[2] = {0.7f, 0.7f};
    const float x0[4] = {-0.9f, 0.25f, -1.0f, 1.0f};
    sdd_decode_t d = {2, 0, 1.0, 8.0, NULL, mg, SDD_BITS_THRESHOLD};
    float out[4];
    CHECK(sdd_decode_rows(&d, x0, 2, NULL, out) == 0);
    CHECK_CLOSE(out[0], 0.4, 1e-6, 1e-7);     /* (−0.9+1)/2*8, no m_g clamp without bits */
    CHECK_CLOSE(out[1], 5.0, 1e-6, 0);
    CHECK(out[2] == 0.0f);
    CHECK_CLOSE(out[3], 8.0, 1e-6, 0);
}

static void test_decode_bernoulli(void)
{
    enum { B = 4000, G = 4 };
    const float mg[G] = {0.1f, 0.1f, 0.1f, 0.1f};
    static float x0[B * 2 * G], out[B * G];
    /* bits -1 (p 0), 1 (p 1), 0 (p 1/2), -0.6 (p 0.2); values 0 -> 2 */
    const float bits[G] = {-1.0f, 1.0f, 0.0f, -0.6f};
    sdd_decode_t d = {G, 1, 1.0, 4.0, NULL, mg, SDD_BITS_BERNOULLI};
    sdd_rng_t r, replay;
    int64_t on[G] = {0}, agree = 0;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < G; j++) {
            x0[i * 2 * G + j] = 0.0f;
            x0[i * 2 * G + G + j] = bits[j];
        }
    CHECK(sdd_decode_rows(&d, x0, B, NULL, out) == SDD_EINVAL); /* needs an RNG */
    sdd_rng_seed(&r, 11);
    sdd_rng_seed(&replay, 11);
    CHECK(sdd_decode_rows(&d, x0, B, &r, out) == 0);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < G; j++) {
            double p = (bits[j] + 1.0) / 2.0;
            int expect = sdd_rng_uniform(&replay) < p;
            on[j] += out[i * G + j] != 0;
            agree += (out[i * G + j] != 0) == expect;
            if (out[i * G + j] != 0) CHECK_CLOSE(out[i * G + j], 2.0, 0, 1e-6);
        }
    CHECK(agree == (int64_t)B * G);
    CHECK(on[0] == 0);
    CHECK(on[1] == B);
    CHECK_CLOSE((double)on[2] / B, 0.5, 0, 4 * sqrt(0.25 / B));
    CHECK_CLOSE((double)on[3] / B, 0.2, 0, 4 * sqrt(0.16 / B));
    /* bit_scale 2: p = (b/2 + 1)/2, so b = 1 gives 0.75 */
    for (int i = 0; i < B; i++) x0[i * 2 * G + G + 2] = 1.0f;
    d.bit_scale = 2.0;
    memset(on, 0, sizeof on);
    CHECK(sdd_decode_rows(&d, x0, B, &r, out) == 0);
    for (int i = 0; i < B; i++) on[2] += out[i * G + 2] != 0;
    CHECK_CLOSE((double)on[2] / B, 0.75, 0, 4 * sqrt(0.1875 / B));
}

/* ------------------------------------------------------- a small model */

static sdd_trainset_t *make_trainset(int64_t n, int64_t G, int n_labels, uint64_t seed)
{
    static const trainset_fixture_t f = {1, 2, 500, 10, NULL};
    return make_fixture_trainset(n, G, n_labels, seed, &f);
}

static sdd_model_t *train_small(const sdd_trainset_t *ts)
{
    sdd_train_opt_t o;
    sdd_model_t *m = NULL;
    fixture_small_net(&o, 32, 32, 16, 8, 64, 32, 16, 60);
    o.lr = 1e-3;
    o.seed = 3;
    if (sdd_model_create(ts, &o, &m) < 0 || sdd_model_train(m, ts, NULL, NULL) < 0) {
        sdd_model_destroy(m);
        return NULL;
    }
    return m;
}

static int same_csr(const sdd_csr_t *a, const sdd_csr_t *b)
{
    if (a->n_rows != b->n_rows || a->n_cols != b->n_cols || a->nnz != b->nnz) return 0;
    return !memcmp(a->indptr, b->indptr, (size_t)(a->n_rows + 1) * sizeof *a->indptr) &&
           !memcmp(a->indices, b->indices, (size_t)a->nnz * sizeof *a->indices) &&
           !memcmp(a->data, b->data, (size_t)a->nnz * sizeof *a->data);
}

/* Training set minima / maxima per gene (what the model stores as m_g and M). */
static void data_bounds(const sdd_trainset_t *ts, float *mg, double *M)
{
    *M = 0;
    for (int64_t j = 0; j < ts->G; j++) mg[j] = 0;
    for (int64_t k = 0; k < ts->X.nnz; k++) {
        float x = ts->X.data[k];
        int32_t j = ts->X.indices[k];
        if (x > *M) *M = x;
        if (mg[j] == 0 || x < mg[j]) mg[j] = x;
    }
}

static void check_valid(const sdd_dataset_t *ds, const sdd_trainset_t *ts)
{
    float mg[256];
    double M;
    int bad = 0;
    data_bounds(ts, mg, &M);
    CHECK(sdd_csr_validate(&ds->X, "X") == 0);
    for (int64_t k = 0; k < ds->X.nnz; k++) {
        float x = ds->X.data[k];
        int32_t j = ds->X.indices[k];
        bad += !(x != 0 && x >= mg[j] && x <= (float)M);
    }
    CHECK_MSG(bad == 0, "%d stored values outside [m_g, M] or zero", bad);
}

static void test_sampling(void)
{
    sdd_trainset_t *ts = make_trainset(200, 12, 0, 5);
    sdd_model_t *m = train_small(ts);
    sdd_sample_opt_t o;
    sdd_dataset_t *a = NULL, *b = NULL, *c = NULL, *b2 = NULL;
    CHECK(m != NULL);
    if (!m) goto done;
    sdd_sample_opt_init(&o);
    o.n_cells = 150;
    o.steps = 20;
    o.batch = 64; /* rounded up to one whole tile of the products */
    o.seed = 9;
    sdd_set_threads(1);
    CHECK(sdd_sample(m, &o, NULL, NULL, &a) == 0);
    sdd_set_threads(2);
    CHECK(sdd_sample(m, &o, NULL, NULL, &b) == 0);
    sdd_set_threads(1);
    if (!a || !b) goto done;
    CHECK(a->n_cells == 150 && a->n_genes == 12 && a->X.n_rows == 150);
    CHECK(same_csr(&a->X, &b->X));
    check_valid(a, ts);
    CHECK(strcmp(a->cell_names[0], "syn_000001") == 0 && strcmp(a->cell_names[149], "syn_000150") == 0);
    CHECK(strcmp(a->gene_names[3], "gene3") == 0);
    CHECK(a->n_obs == 1 && strcmp(a->obs[0].name, "source") == 0 &&
          strcmp(a->obs[0].categories[0], "synthetic") == 0);
    /* sparsity of a model trained briefly is in a sane range, not all-on or all-off */
    double sp = 1.0 - (double)a->X.nnz / (150.0 * 12);
    CHECK_MSG(sp > 0.2 && sp < 0.95, "sparsity %.3f", sp);
    o.seed = 10;
    CHECK(sdd_sample(m, &o, NULL, NULL, &c) == 0);
    if (c) CHECK(!same_csr(&a->X, &c->X));
    sdd_dataset_destroy(c);
    c = NULL;
    /* DDPM, threshold decoding, the DDIM-T baseline */
    o.sampler = SDD_SAMPLER_DDPM;
    o.bit_decode = SDD_BITS_THRESHOLD;
    CHECK(sdd_sample(m, &o, NULL, NULL, &c) == 0);
    if (c) check_valid(c, ts);
    sdd_dataset_destroy(c);
    c = NULL;
    o.sampler = SDD_SAMPLER_DDIM;
    o.threshold = 0;
    CHECK(sdd_sample(m, &o, NULL, NULL, &c) == 0);
    o.threshold = 1;
    CHECK(sdd_sample(m, &o, NULL, NULL, &b2) == 0);
    if (c && b2) {
        /* DDIM-T keeps ceil((1 - training sparsity) * cells * genes) values at most: the
         * largest ones of the same cells */
        int64_t want = (int64_t)ceil((double)ts->X.nnz / (200.0 * 12) * (150.0 * 12) - 1e-9);
        float min_kept = INFINITY, max_dropped = -INFINITY;
        int subset = 1;
        CHECK(b2->X.nnz == (c->X.nnz < want ? c->X.nnz : want));
        for (int64_t i = 0; i < 150; i++) {
            int64_t q = b2->X.indptr[i];
            for (int64_t k = c->X.indptr[i]; k < c->X.indptr[i + 1]; k++) {
                if (q < b2->X.indptr[i + 1] && b2->X.indices[q] == c->X.indices[k]) {
                    subset &= b2->X.data[q] == c->X.data[k];
                    if (c->X.data[k] < min_kept) min_kept = c->X.data[k];
                    q++;
                } else if (c->X.data[k] > max_dropped) {
                    max_dropped = c->X.data[k];
                }
            }
            subset &= q == b2->X.indptr[i + 1];
        }
        CHECK(subset);
        CHECK_MSG(max_dropped <= min_kept, "dropped %g > kept %g", max_dropped, min_kept);
    }
    /* counts: integers >= 1 exactly where X is non-zero; a cell normalised from known
     * counts whose smallest is 1 gives those counts back */
    {
        sdd_csr_t cnt, one = {0}, back;
        int ok = 1;
        CHECK(sdd_sample_counts(m, &a->X, 1, &cnt) == 0);
        for (int64_t k = 0; k < cnt.nnz; k++) ok &= cnt.data[k] >= 1 && cnt.data[k] == floorf(cnt.data[k]);
        CHECK(ok);
        CHECK(cnt.nnz == a->X.nnz && cnt.n_rows == 150);
        for (int64_t i = 0; ok && i <= 150; i++) ok &= cnt.indptr[i] == a->X.indptr[i];
        for (int64_t k = 0; ok && k < cnt.nnz; k++) ok &= cnt.indices[k] == a->X.indices[k];
        CHECK(ok);
        sdd_csr_free(&cnt);
        double L = 0, T = 1e4;
        for (int64_t i = 0; i < m->n_lib; i++) L += m->lib_sizes[i] / (double)m->n_lib;
        const cJSON *tj = NULL;
        cJSON *pj = cJSON_Parse(m->prep_json);
        if ((tj = cJSON_GetObjectItem(pj, "target_sum_used")) && cJSON_IsNumber(tj)) T = tj->valuedouble;
        cJSON_Delete(pj);
        static const int want[4] = {3, 1, 12, 7};
        CHECK(sdd_csr_alloc(&one, 1, m->shape.G, 4) == 0);
        for (int k = 0; k < 4; k++) {
            one.indices[k] = 2 * k + 1;
            one.data[k] = (float)log1p(want[k] * T / L);
        }
        one.indptr[1] = one.nnz = 4;
        CHECK(sdd_sample_counts(m, &one, 1, &back) == 0);
        CHECK(back.nnz == 4);
        for (int k = 0; k < 4 && back.nnz == 4; k++) CHECK(back.data[k] == (float)want[k] && back.indices[k] == 2 * k + 1);
        sdd_csr_free(&one);
        sdd_csr_free(&back);
    }
    /* labels need a conditional model */
    o.threshold = 0;
    o.label = "type0";
    sdd_dataset_destroy(c);
    c = NULL;
    CHECK(sdd_sample(m, &o, NULL, NULL, &c) == SDD_EINVAL && c == NULL);
    o.label = NULL;
    o.n_cells = 0;
    CHECK(sdd_sample(m, &o, NULL, NULL, &c) == SDD_EINVAL);
done:
    sdd_dataset_destroy(a);
    sdd_dataset_destroy(b);
    sdd_dataset_destroy(b2);
    sdd_dataset_destroy(c);
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
}

static int count_label(const sdd_dataset_t *d, int k)
{
    int n = 0;
    for (int64_t i = 0; i < d->n_cells; i++) n += d->obs[1].codes[i] == k;
    return n;
}

static void test_conditional(void)
{
    sdd_trainset_t *ts = make_trainset(200, 12, 2, 6);
    sdd_model_t *m = train_small(ts);
    sdd_sample_opt_t o;
    sdd_dataset_t *a = NULL, *b = NULL;
    const char *names[2] = {"type1", "type0"};
    const int64_t counts[2] = {7, 33};
    CHECK(m != NULL);
    if (!m) goto done;
    sdd_sample_opt_init(&o);
    o.n_cells = 40;
    o.steps = 10;
    o.seed = 4;
    /* training proportions 150:50 */
    CHECK(sdd_sample(m, &o, NULL, NULL, &a) == 0);
    if (a) {
        CHECK(a->n_obs == 2 && strcmp(a->obs[1].name, "cell_type") == 0);
        CHECK(count_label(a, 0) == 30 && count_label(a, 1) == 10);
        check_valid(a, ts);
    }
    /* guidance 1 is the conditional prediction alone: the same cells as the default */
    o.guidance = 1.0;
    CHECK(sdd_sample(m, &o, NULL, NULL, &b) == 0);
    if (a && b) CHECK(same_csr(&a->X, &b->X));
    sdd_dataset_destroy(b);
    b = NULL;
    o.guidance = 2.0;
    CHECK(sdd_sample(m, &o, NULL, NULL, &b) == 0);
    if (a && b) CHECK(!same_csr(&a->X, &b->X));
    if (b) check_valid(b, ts);
    sdd_dataset_destroy(b);
    b = NULL;
    o.guidance = 1.0;
    o.count_labels = names;
    o.label_counts = counts;
    o.n_label_counts = 2;
    CHECK(sdd_sample(m, &o, NULL, NULL, &b) == 0);
    if (b) CHECK(count_label(b, 1) == 7 && count_label(b, 0) == 33);
    sdd_dataset_destroy(b);
    b = NULL;
    o.n_label_counts = 0;
    o.label = "type1";
    CHECK(sdd_sample(m, &o, NULL, NULL, &b) == 0);
    if (b) CHECK(count_label(b, 1) == 40);
    sdd_dataset_destroy(b);
    b = NULL;
    o.label = "nosuch";
    CHECK(sdd_sample(m, &o, NULL, NULL, &b) == SDD_ENOTFOUND && b == NULL);
done:
    sdd_dataset_destroy(a);
    sdd_dataset_destroy(b);
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
}

/* The sampling forward (one time embedding per label) equals the training forward. With
 * int8 products it is close (each product's inputs and weights rounded to 255 levels a
 * row; LayerNorm after each block keeps the error from growing) but not equal, so the int8
 * path did run; back in fp32 it is equal again. */
static void test_forward(void)
{
    sdd_trainset_t *ts = make_trainset(100, 40, 2, 12);
    sdd_train_opt_t o;
    sdd_model_t *m = NULL;
    sdd_fwd_t *f = NULL;
    enum { B = 10 };
    const int32_t lab[B] = {0, 0, 0, 1, 1, 2, 2, 0, 1, 2};
    static const int prec[3] = {SDD_PRECISION_FP32, SDD_PRECISION_INT8, SDD_PRECISION_FP32};
    float xt[B * 80], sc[B * 80], t[B];
    sdd_rng_t r;
    fixture_small_net(&o, 48, 40, 24, 8, 56, 16, 16, 5);
    CHECK(sdd_model_create(ts, &o, &m) == 0);
    if (!m) goto done;
    CHECK(sdd_model_train(m, ts, NULL, NULL) == 0);
    sdd_rng_seed(&r, 1);
    for (int i = 0; i < B * 80; i++) xt[i] = (float)sdd_rng_normal(&r), sc[i] = (float)(2 * sdd_rng_uniform(&r) - 1);
    for (int i = 0; i < B; i++) t[i] = 0.37f;
    CHECK(sdd_fwd_init(&f, m, m->ema, B) == 0);
    if (!f) goto done;
    for (int k = 0; k < 3; k++) {
        int q8 = prec[k] == SDD_PRECISION_INT8;
        CHECK(sdd_fwd_set_precision(f, prec[k]) == SDD_OK && sdd_fwd_int8(f) == q8);
        for (int pass = 0; pass < 2; pass++) {
            double num = 0, den = 0, worst = 0, scale = 0;
            const float *a = sdd_fwd_run(f, B, xt, sc, pass ? 6 : 0, 0.37f, lab);
            sdd_net_forward(m, m->ema, B, xt, sc, pass ? 6 : 0, t, lab);
            for (int i = 0; i < B * 80; i++) {
                double d = fabs(a[i] - m->a.out[i]);
                num += d * d;
                den += (double)m->a.out[i] * m->a.out[i];
                worst = d > worst ? d : worst;
                scale = fabs(m->a.out[i]) > scale ? fabs(m->a.out[i]) : scale;
            }
            if (q8)
                CHECK_MSG(sqrt(num / den) < 0.03 && worst < 0.1 * scale && num > 0,
                          "int8 forward (pass %d): relative rms %.3g, worst %.3g of %.3g", pass, sqrt(num / den),
                          worst, scale);
            else
                CHECK_MSG(worst < 1e-5, "sampling forward differs from the training forward by %g", worst);
        }
    }
done:
    sdd_fwd_free(f);
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
}

/* Products large enough to be cut into pieces shared by the threads. */
static void test_threads(void)
{
    sdd_trainset_t *ts = make_trainset(300, 200, 0, 8);
    sdd_train_opt_t o;
    sdd_sample_opt_t so;
    sdd_model_t *m = NULL;
    sdd_dataset_t *a = NULL, *b = NULL;
    fixture_small_net(&o, 256, 128, 64, 32, 256, 64, 64, 10);
    CHECK(sdd_model_create(ts, &o, &m) == 0);
    if (!m) goto done;
    CHECK(sdd_model_train(m, ts, NULL, NULL) == 0);
    sdd_sample_opt_init(&so);
    so.n_cells = 300;
    so.steps = 4;
    so.seed = 2;
    for (int prec = 0; prec < 2; prec++) {
        so.precision = prec ? SDD_PRECISION_INT8 : SDD_PRECISION_FP32;
        sdd_set_threads(1);
        CHECK(sdd_sample(m, &so, NULL, NULL, &a) == 0);
        sdd_set_threads(2);
        CHECK(sdd_sample(m, &so, NULL, NULL, &b) == 0);
        sdd_set_threads(1);
        if (a && b) CHECK_MSG(same_csr(&a->X, &b->X), "%s: cells differ with 2 threads", sdd_precision_name(so.precision));
        if (a) check_valid(a, ts);
        if (prec && a && sdd_cpu_vnni()) { /* the portable int8 loops make the same cells */
            sdd_dataset_destroy(b);
            b = NULL;
            sdd_q8_force_portable(1);
            CHECK(sdd_sample(m, &so, NULL, NULL, &b) == 0);
            sdd_q8_force_portable(0);
            if (b) CHECK_MSG(same_csr(&a->X, &b->X), "int8 cells differ between the VNNI and the portable kernels");
        }
        sdd_dataset_destroy(a);
        sdd_dataset_destroy(b);
        a = b = NULL;
    }
    CHECK(sdd_sample_products(m, SDD_PRECISION_INT8) == SDD_PRECISION_INT8);
    CHECK(sdd_sample_products(m, SDD_PRECISION_FP32) == SDD_PRECISION_FP32);
    CHECK(sdd_sample_products(m, SDD_PRECISION_AUTO) == (sdd_cpu_vnni() ? SDD_PRECISION_INT8 : SDD_PRECISION_FP32));
    so.precision = 7;
    CHECK(sdd_sample_opt_check(&so) == SDD_EINVAL);
done:
    sdd_dataset_destroy(a);
    sdd_dataset_destroy(b);
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
}

/* Rows [r0, r0 + n) of a equal all of b (values, columns, names, label codes). */
static int same_rows(const sdd_dataset_t *a, int64_t r0, const sdd_dataset_t *b)
{
    const sdd_csr_t *x = &a->X, *y = &b->X;
    int64_t base = x->indptr[r0];
    if (y->n_rows != b->n_cells || r0 + y->n_rows > x->n_rows || a->n_obs != b->n_obs) return 0;
    for (int64_t i = 0; i <= y->n_rows; i++)
        if (x->indptr[r0 + i] - base != y->indptr[i]) return 0;
    if (memcmp(x->indices + base, y->indices, (size_t)y->nnz * sizeof *y->indices) ||
        memcmp(x->data + base, y->data, (size_t)y->nnz * sizeof *y->data))
        return 0;
    for (int64_t i = 0; i < y->n_rows; i++) {
        if (strcmp(a->cell_names[r0 + i], b->cell_names[i])) return 0;
        for (int c = 0; c < a->n_obs; c++)
            if (a->obs[c].codes[r0 + i] != b->obs[c].codes[i]) return 0;
    }
    return 1;
}

/* Shards 1..K of a run, put together, are the run: for K in {1, 2, 3, 7}, with another
 * batch size and thread count than the run's, for an unconditional model whose products
 * are cut into pieces and for a conditional one (labels follow the cell's position). */
static void test_shards(void)
{
    static const int64_t Ks[] = {1, 2, 3, 7};
    for (int cq = 0; cq < 4; cq++) {
        int cond = cq % 2, prec = cq < 2 ? SDD_PRECISION_FP32 : SDD_PRECISION_INT8;
        sdd_trainset_t *ts = cond ? make_trainset(200, 12, 3, 5) : make_trainset(300, 200, 0, 8);
        sdd_train_opt_t o;
        sdd_sample_opt_t so;
        sdd_model_t *m = NULL;
        sdd_dataset_t *full = NULL;
        int64_t first, count;
        if (cond) fixture_small_net(&o, 32, 32, 16, 8, 64, 32, 32, 10);
        else fixture_small_net(&o, 256, 128, 64, 32, 256, 32, 32, 10);
        if (sdd_model_create(ts, &o, &m) < 0 || sdd_model_train(m, ts, NULL, NULL) < 0) {
            CHECK_MSG(0, "training the %s model", cond ? "conditional" : "unconditional");
            goto next;
        }
        sdd_sample_opt_init(&so);
        so.n_cells = 1101; /* three tiles of the products, the last one partial */
        so.steps = 4;
        so.seed = 17;
        so.eta = 0.5;        /* the reverse steps draw noise too */
        so.batch = 48;       /* one tile a batch; the shards' 0 is two */
        so.precision = prec;
        sdd_set_threads(1);
        CHECK(sdd_sample(m, &so, NULL, NULL, &full) == 0);
        if (!full) goto next;
        CHECK(full->n_cells == 1101 && strcmp(full->cell_names[1100], "syn_001101") == 0);
        if (cond) { /* several labels, in blocks in code order */
            const int32_t *c = full->obs[1].codes;
            int changes = 0, down = 0;
            for (int i = 1; i < 1101; i++) changes += c[i] != c[i - 1], down += c[i] < c[i - 1];
            CHECK_MSG(changes >= 1 && down == 0, "label blocks: %d changes, %d down", changes, down);
        }
        for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++) {
            int64_t K = Ks[ki], at = 0;
            int ok = 1;
            for (int64_t i = 1; i <= K; i++) {
                sdd_dataset_t *part = NULL;
                sdd_sample_opt_t sh = so;
                CHECK(sdd_sample_shard(so.n_cells, i, K, &first, &count) == 0);
                CHECK_MSG(first == at && count >= so.n_cells / K && count <= so.n_cells / K + 1,
                          "shard %lld/%lld: first %lld count %lld", (long long)i, (long long)K,
                          (long long)first, (long long)count);
                sh.first = first;
                sh.count = count;
                sh.batch = i % 2 ? 16 : 0; /* other batch sizes, other threads */
                sdd_set_threads(1 + (int)(i % 2));
                if (sdd_sample(m, &sh, NULL, NULL, &part) < 0 || !part || part->n_cells != count ||
                    !same_rows(full, first, part))
                    ok = 0;
                sdd_dataset_destroy(part);
                at += count;
            }
            sdd_set_threads(1);
            CHECK_MSG(ok && at == so.n_cells, "%s model, %s: shards 1..%lld differ from the run",
                      cond ? "conditional" : "unconditional", sdd_precision_name(prec), (long long)K);
        }
        /* bad ranges */
        CHECK(sdd_sample_shard(101, 0, 3, &first, &count) == SDD_EINVAL);
        CHECK(sdd_sample_shard(101, 4, 3, &first, &count) == SDD_EINVAL);
        CHECK(sdd_sample_shard(3, 1, 4, &first, &count) == SDD_EINVAL);
        so.first = 1100;
        so.count = 2;
        CHECK(sdd_sample_opt_check(&so) == SDD_EINVAL);
        so.first = 1;
        so.count = 0;
        so.threshold = 1;
        CHECK(sdd_sample_opt_check(&so) == SDD_EINVAL);
    next:
        sdd_dataset_destroy(full);
        sdd_model_destroy(m);
        sdd_trainset_destroy(ts);
    }
}

/* The sampler's element-wise kernels (vec.c): the vector and the portable versions give
 * the same bits (odd lengths for the tails, NaN, signed zeros, values beyond the clamp),
 * and a hand-computed DDIM step. */
static void test_step_kernels(void)
{
    enum { N = 203 };
    static float x[2][N], x0[N], f[N], y[2][N];
    sdd_rng_t r;
    int same = 1;
    float hx = 1.0f, hx0 = 0.5f;
    sdd_rng_seed(&r, 21);
    for (int i = 0; i < N; i++) {
        x[0][i] = x[1][i] = (float)(3 * sdd_rng_normal(&r));
        x0[i] = (float)(2 * sdd_rng_uniform(&r) - 1);
        f[i] = (float)sdd_rng_normal(&r);
    }
    x[0][5] = x[1][5] = NAN;
    x[0][6] = x[1][6] = -0.0f;
    x0[6] = 0.0f;
    for (int v = 0; v < 2; v++) {
        sdd_vec_force_portable(v);
        sdd_vec_ddim(x[v], x0, N, 0.8, 0.6, 0.9f, 0.43f);
        sdd_vec_affine2(y[v], x[v], f, N, 0.7f, -1.3f, 0.05f);
        sdd_vec_clamp(y[v], N, 1.0f);
        sdd_vec_clamp(x[v], N, 0.8f);
    }
    sdd_vec_force_portable(0);
    same = memcmp(x[0], x[1], sizeof x[0]) == 0 && memcmp(y[0], y[1], sizeof y[0]) == 0;
    CHECK_MSG(same, "vector and portable sampler kernels differ");
    CHECK(isnan(x[0][5]) && isnan(y[0][5]));
    for (int i = 0; i < N; i++)
        if (i != 5) CHECK(fabsf(y[0][i]) <= 1.0f && fabsf(x[0][i]) <= 0.8f);
    /* eps = (1 - 0.5 * 0.5) / 0.75 = 1; x = 0.5 * 0.5 + 0.25 * 1 */
    sdd_vec_ddim(&hx, &hx0, 1, 0.5, 0.75, 0.5f, 0.25f);
    CHECK(hx == 0.5f);
}

int main(void)
{
    sdd_init();
    test_step_kernels();
    test_decode_threshold();
    test_decode_nobits();
    test_decode_bernoulli();
    test_sampling();
    test_conditional();
    test_threads();
    test_shards();
    test_forward();
    return tap_done();
}
