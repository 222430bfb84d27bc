/* test_train_q8: training with int8 products (`--precision int8`, model.c, model_q8.c).
 * - Weight quantisation: the packed layout read back entry by entry against rounding
 *   W 127 / max|row| to nearest even; the AVX-512 rows against the portable loops and 1
 *   against 2 threads, bit for bit (with a NaN, a row of zeros and ragged K); quantising
 *   again in place equals a fresh quantisation.
 * - The transposes for the input gradients: entry by entry, the same bits in every setting,
 *   and dy W on them against the arithmetic done here and near the float product.
 * - The network: the int8 forward against the fp32 forward (relative rms, and not equal,
 *   so the int8 path ran); the backward on it against the fp32 backward, which test_model
 *   checks by finite differences and against PyTorch, tensor by tensor within int8's
 *   tolerance, and a few entries against central differences of the fp32 loss; after a
 *   step the weights are quantised again (the same output as a fresh model holding the
 *   same parameters); other weights (the EMA's) run in float.
 * - Training: the same model file with 1 and 2 threads and with the portable loops, a
 *   different one from fp32 training, the precision stored in the model; the int8
 *   weights and transposes the optimiser's pass left equal to quantising the parameters
 *   anew. */
#include "nn.h"
#include "vec.h"
#include "tap.h"
#include "trainset_fixture.h"
#include "net_fixture.h"
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static sdd_rng_t R;

static size_t panel_bytes(const sdd_q8w_t *q) { return (size_t)(q->N + 31) / 32 * 32 * (size_t)q->Kp; }

static int same_q8w(const sdd_q8w_t *a, const sdd_q8w_t *b)
{
    return a->N == b->N && a->Kp == b->Kp && !memcmp(a->panels, b->panels, panel_bytes(a)) &&
           !memcmp(a->scale, b->scale, sizeof(float) * a->N) && !memcmp(a->comp, b->comp, sizeof(int32_t) * a->N);
}

static void weight_case(int N, int K)
{
    float *W = malloc(sizeof(float) * N * K);
    fill(&R, W, (size_t)N * K, 0.3);
    for (int n = 0; n < N; n += 5) W[(size_t)n * K + (n * 7) % K] *= 4; /* a larger entry sets some scales */
    W[(size_t)(N / 2) * K + K / 3] = NAN;
    if (N > 2) memset(W + K, 0, sizeof(float) * K); /* row 1: zeros */
    sdd_q8w_t ref, q;
    sdd_q8_force_portable(1);
    sdd_set_threads(1);
    CHECK(sdd_q8w_init(&ref, W, K, N, K) == SDD_OK);
    /* the layout, entry by entry */
    int bad = 0;
    for (int n = 0; n < N; n++) {
        const float *w = W + (size_t)n * K;
        float mx = 0;
        int32_t sum = 0;
        for (int k = 0; k < K; k++) mx = fabsf(w[k]) > mx ? fabsf(w[k]) : mx;
        float inv = mx > 0 ? 127.0f / mx : 0.0f;
        for (int k = 0; k < ref.Kp; k++) {
            int want = 0;
            if (k < K) {
                float t = w[k] * inv;
                want = isnan(t) ? -127 : (int)rintf(t < -127 ? -127 : t > 127 ? 127 : t);
            }
            sum += want;
            int8_t got = ref.panels[(size_t)(n / 32) * 32 * ref.Kp + (size_t)(k / 4) * 128 + (n % 32) * 4 + k % 4];
            if (got != want) bad++;
        }
        if (ref.scale[n] != mx / 127.0f || ref.comp[n] != 128 * sum) bad++;
    }
    CHECK_MSG(bad == 0, "weights %dx%d: %d entries or scales quantised wrongly", N, K, bad);
    for (int v = 1; v < 4; v++) {
        sdd_q8_force_portable(v < 2);
        sdd_set_threads(v % 2 ? 2 : 1);
        CHECK(sdd_q8w_alloc(&q, N, K) == SDD_OK);
        memset(q.scale, 0x7f, sizeof(float) * N);
        sdd_q8w_quantise(&q, W, K);
        CHECK_MSG(same_q8w(&ref, &q), "weights %dx%d: setting %d (%s, %d threads) differs", N, K, v,
                  v < 2 ? "portable" : "AVX-512", v % 2 ? 2 : 1);
        /* again in place, from other weights and back */
        if (N >= 3) fill(&R, W + (size_t)K * 2, (size_t)K, 1.0);
        sdd_q8w_quantise(&q, W, K);
        CHECK(!same_q8w(&ref, &q) || N < 3);
        sdd_q8w_free(&q);
        sdd_q8w_free(&ref);
        sdd_q8_force_portable(1);
        sdd_set_threads(1);
        CHECK(sdd_q8w_init(&ref, W, K, N, K) == SDD_OK);
    }
    sdd_q8_force_portable(0);
    sdd_set_threads(1);
    sdd_q8w_free(&ref);
    free(W);
}

static int8_t q8_at(const sdd_q8w_t *q, int n, int k)
{
    return q->panels[(size_t)(n / 32) * 32 * q->Kp + (size_t)(k / 4) * 128 + (n % 32) * 4 + k % 4];
}

/* The transpose for the input gradients: entry by entry against the integers of W, its
 * padding zero, scales 1, compensations 128 times the column sums; the same bits from
 * the AVX-512 and portable loops, 1 and 2 threads, rows in spans of 32 or all at once.
 * Then dy W on it (M rows), bit for bit against the arithmetic of blas.h done here (dy
 * scaled by the row scales, quantised per row, exact integer sums, dequantised), with
 * and without accumulating, and near the float product dy W. */
static void transpose_case(int N, int K, int M)
{
    float *W = malloc(sizeof(float) * N * K), *dy = malloc(sizeof(float) * M * N);
    float *dx0 = malloc(sizeof(float) * M * K), *dx = malloc(sizeof(float) * M * K);
    fill(&R, W, (size_t)N * K, 0.3);
    for (int n = 0; n < N; n += 3) W[(size_t)n * K + (n * 5) % K] *= 5;
    fill(&R, dy, (size_t)M * N, 1.0);
    for (int b = 0; b < M; b += 4) dy[(size_t)b * N + (b * 3) % N] *= 20; /* a large entry sets some row scales */
    fill(&R, dx0, (size_t)M * K, 1.0);
    sdd_q8w_t q, t, t0;
    sdd_q8_force_portable(1);
    sdd_set_threads(1);
    CHECK(sdd_q8w_init(&q, W, K, N, K) == SDD_OK);
    int Kpt = (N + 3) & ~3;
    uint8_t *xq = malloc((size_t)M * Kpt);
    float *xs = malloc(sizeof(float) * M);
    for (int v = 0; v < 4; v++) {
        sdd_q8_force_portable(v < 2);
        sdd_set_threads(v % 2 ? 2 : 1);
        CHECK(sdd_q8w_alloc_t(&t, &q) == SDD_OK && t.N == K && t.K == N && t.Kp == Kpt);
        if (v == 3) {
            sdd_q8w_transpose_rows(&t, &q, 0, N);
        } else {
            for (int n0 = 0; n0 < N; n0 += 32) sdd_q8w_transpose_rows(&t, &q, n0, n0 + 32 < N ? n0 + 32 : N);
        }
        sdd_q8w_sums(&t);
        if (v == 0) {
            int bad = 0;
            for (int k = 0; k < K; k++) {
                int32_t sum = 0;
                for (int n = 0; n < Kpt; n++) {
                    int want = n < N ? q8_at(&q, n, k) : 0;
                    sum += want;
                    bad += q8_at(&t, k, n) != want;
                }
                bad += t.comp[k] != 128 * sum || t.scale[k] != 1.0f;
            }
            CHECK_MSG(bad == 0, "transpose of %dx%d: %d entries, sums or scales wrong", N, K, bad);
            t0 = t;
        } else {
            CHECK_MSG(same_q8w(&t0, &t), "transpose of %dx%d: setting %d differs", N, K, v);
        }
        for (int acc = 0; acc < 2; acc++) {
            memcpy(dx, dx0, sizeof(float) * M * K);
            sdd_q8_rows_scaled(xq, Kpt, xs, dy, N, M, N, q.scale);
            sdd_q8_gemm(xq, Kpt, xs, M, &t, NULL, acc, dx, K);
            int bad = 0;
            double num = 0, den = 0;
            for (int b = 0; b < M; b++) {
                const float *d = dy + (size_t)b * N;
                float mx = 0;
                for (int n = 0; n < N; n++) mx = fabsf(d[n] * q.scale[n]) > mx ? fabsf(d[n] * q.scale[n]) : mx;
                float inv = mx > 0 ? 127.0f / mx : 0.0f;
                for (int k = 0; k < K; k++) {
                    int64_t sum = 0;
                    double f = 0;
                    for (int n = 0; n < N; n++) {
                        float u = d[n] * q.scale[n], r = u * inv;
                        sum += (int64_t)rintf(r < -127 ? -127 : r > 127 ? 127 : r) * q8_at(&q, n, k);
                        f += (double)d[n] * W[(size_t)n * K + k];
                    }
                    volatile float e = (float)sum * (mx / 127.0f);
                    float want = e + (acc ? dx0[(size_t)b * K + k] : 0.0f), got = dx[(size_t)b * K + k];
                    bad += memcmp(&want, &got, sizeof want) != 0;
                    if (!acc) num += (got - f) * (got - f), den += f * f;
                }
            }
            CHECK_MSG(bad == 0, "dy W on the transpose of %dx%d (%d rows, setting %d, accumulate %d): %d entries "
                      "differ from the arithmetic of blas.h", N, K, M, v, acc, bad);
            if (!acc)
                CHECK_MSG(sqrt(num / den) < 0.1, "dy W in int8 (%dx%d) off the float product by %.3g relative rms", N,
                          K, sqrt(num / den));
        }
        if (v > 0) sdd_q8w_free(&t);
    }
    sdd_q8_force_portable(0);
    sdd_set_threads(1);
    sdd_q8w_free(&t0);
    sdd_q8w_free(&q);
    free(W); free(dy); free(dx0); free(dx); free(xq); free(xs);
}

/* ------------------------------------------------------------ the network */

static double rel_rms(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den + 1e-300));
}

static void test_network(void)
{
    sdd_netshape_t s;
    sdd_train_opt_t o;
    sdd_model_t *m = NULL, *m2 = NULL;
    enum { B = NET_B, D = NET_D };
    int n_sc = NET_SC;
    net_ref_t ref;
    net_fixture(&s, &o, SDD_PRECISION_INT8);
    CHECK(sdd_model_alloc(&m, &s, &o) == 0 && m->q8 == NULL); /* allocated for training only */
    CHECK(sdd_model_alloc(&m2, &s, &o) == 0);
    CHECK(m && m2 && sdd_net_q8_alloc(m) == SDD_OK && sdd_net_q8_alloc(m2) == SDD_OK && m->q8 != NULL);
    if (!m || !m2) return;
    net_ref_make(&ref, m, &R);
    float *xt = ref.nb.xt, *sc = ref.nb.sc, *x0 = ref.nb.x0, *t = ref.nb.t;
    float *o32 = ref.o32, *o8 = ref.o, *g32 = ref.g32, *g8 = ref.g;
    double L32 = ref.L32;
    m->opt.precision = SDD_PRECISION_INT8;
    CHECK(sdd_net_use_precision(m) == SDD_GEMM_FP32); /* the backward's products */
    double L8 = net_grads(m, B, xt, sc, n_sc, t, x0, o8, g8);
    double ro = rel_rms(o8, o32, (size_t)B * D);
    CHECK_MSG(ro < 4e-2 && ro > 0, "int8 forward off fp32 by %.3g relative rms (0: int8 did not run)", ro);
    CHECK_CLOSE(L8, L32, 2e-2, 0);
    double worst = 0;
    const char *wname = "";
    for (int ti = 0; ti < m->n_tensors; ti++) {
        const sdd_tensor_t *tt = &m->table[ti];
        size_t n = (size_t)(tt->rows * tt->cols);
        double r = rel_rms(g8 + tt->offset, g32 + tt->offset, n);
        CHECK_MSG(r <= 5e-2, "%s: gradient on the int8 forward off fp32 by %.3g relative", tt->name, r);
        if (r > worst) worst = r, wname = tt->name;
    }
    fprintf(stderr, "# int8 forward: output off fp32 by %.2g relative rms, loss %.6g vs %.6g, gradients off by "
                    "<= %.2g relative (%s)\n", ro, L8, L32, worst, wname);
    /* a few entries of the largest tensors against central differences of the fp32 loss */
    check_fd(m, g8, g32, B, xt, sc, n_sc, t, x0, 1e-1, 5e-2, "int8 forward", &R);
    /* a step later the weights are quantised again: the output of a fresh model holding
     * the same parameters, bit for bit */
    m->opt.precision = SDD_PRECISION_INT8;
    sdd_net_forward(m, m->params, B, xt, sc, n_sc, t, NULL);
    memcpy(o8, m->a.out, sizeof(float) * B * D);
    for (int64_t i = 0; i < m->n_params; i++) m->params[i] *= 0.9f;
    m->step++;
    sdd_net_forward(m, m->params, B, xt, sc, n_sc, t, NULL);
    memcpy(m2->params, m->params, sizeof(float) * m->n_params);
    m2->step = 7;
    sdd_net_forward(m2, m2->params, B, xt, sc, n_sc, t, NULL);
    CHECK_MSG(!memcmp(m->a.out, m2->a.out, sizeof(float) * B * D) && memcmp(m->a.out, o8, sizeof(float) * B * D),
              "int8 forward after a step: the weights were not quantised again");
    /* other weights (the EMA's, for the validation loss) run in float */
    for (int64_t i = 0; i < m->n_params; i++) m->ema[i] = m->params[i] * 1.01f;
    sdd_net_forward(m, m->ema, B, xt, sc, n_sc, t, NULL);
    memcpy(o8, m->a.out, sizeof(float) * B * D);
    m->opt.precision = SDD_PRECISION_FP32;
    sdd_net_forward(m, m->ema, B, xt, sc, n_sc, t, NULL);
    CHECK_MSG(!memcmp(m->a.out, o8, sizeof(float) * B * D), "int8 model: the EMA weights' forward is not float");
    net_ref_free(&ref);
    sdd_model_destroy(m);
    sdd_model_destroy(m2);
}

/* ------------------------------------------------------------ training */

static void test_training(const char *dir)
{
    sdd_train_opt_t o;
    sdd_trainset_t *ts = train_fixture(&o, SDD_PRECISION_INT8);
    sdd_model_t *m = NULL;
    char a[4200], b[4200], c[4200], d[4200];
    snprintf(a, sizeof a, "%s/q1.sdd", dir);
    snprintf(b, sizeof b, "%s/q2.sdd", dir);
    snprintf(c, sizeof c, "%s/qp.sdd", dir);
    snprintf(d, sizeof d, "%s/f1.sdd", dir);
    CHECK(sdd_train_opt_check(&o) == SDD_OK);
    sdd_set_threads(1);
    train_to(ts, &o, a);
    sdd_set_threads(2);
    train_to(ts, &o, b);
    sdd_q8_force_portable(1);
    train_to(ts, &o, c);
    sdd_q8_force_portable(0);
    sdd_set_threads(1);
    CHECK_MSG(same_file(a, b), "int8 training: 1 and 2 threads give different models");
    CHECK_MSG(same_file(a, c), "int8 training: the portable loops give a different model");
    /* the int8 weights the optimiser's pass left are those of quantising the parameters anew */
    o.precision = SDD_PRECISION_INT8;
    CHECK(sdd_model_create(ts, &o, &m) == 0);
    if (m) {
        CHECK(sdd_model_train(m, ts, NULL, NULL) == 0);
        CHECK(m->q8_step == m->step && m->step == 3);
        /* the weights and the transposes (all but t1 and block 0) */
        sdd_q8w_t kept[2 * SDD_Q8_NET], *now[2 * SDD_Q8_NET];
        int nk = 0;
        for (int i = 0; i < 2 * SDD_Q8_NET; i++) {
            sdd_q8w_t *w = i < SDD_Q8_NET ? &m->q8->w[i] : &m->q8->wt[i - SDD_Q8_NET];
            if (!w->panels) continue;
            now[nk] = w;
            CHECK(sdd_q8w_alloc(&kept[nk], w->N, w->K) == SDD_OK);
            memcpy(kept[nk].panels, w->panels, panel_bytes(w));
            memcpy(kept[nk].scale, w->scale, sizeof(float) * w->N);
            memcpy(kept[nk].comp, w->comp, sizeof(int32_t) * w->N);
            nk++;
        }
        CHECK(nk == SDD_Q8_NET + SDD_N_RB + 3); /* every matrix, and 10 transposes */
        sdd_net_q8_quantise(m);
        int same = 1;
        for (int i = 0; i < nk; i++) {
            same &= same_q8w(&kept[i], now[i]);
            sdd_q8w_free(&kept[i]);
        }
        CHECK_MSG(same, "int8 weights of the fused optimiser pass differ from a fresh quantisation");
        sdd_model_destroy(m);
        m = NULL;
    }
    o.precision = SDD_PRECISION_FP32;
    train_to(ts, &o, d);
    CHECK_MSG(!same_file(a, d), "int8 and fp32 training gave the same model: int8 products not used");
    check_stored_precision(a, SDD_PRECISION_INT8);
    remove(a); remove(b); remove(c); remove(d);
    sdd_trainset_destroy(ts);
}

int main(void)
{
    char dir[4096];
    if (scratch_dir(dir, sizeof dir, "test_train_q8")) return 1;
    sdd_rng_seed(&R, 11);
    if (!sdd_cpu_vnni()) fprintf(stderr, "# no AVX512_VNNI: the portable int8 loops only\n");
    weight_case(1, 1);
    weight_case(45, 37);
    weight_case(70, 100);
    weight_case(33, 2000);
    transpose_case(1, 1, 3);
    transpose_case(45, 37, 9);
    transpose_case(64, 96, 20);
    transpose_case(100, 70, 17);
    transpose_case(1000, 130, 8);
    test_network();
    test_training(dir);
    rmdir(dir);
    return tap_done();
}
