/* test_bf16: the bf16 products of `--precision bf16` (gemm_bf16.c).
 * - The product against a double-precision reference on bf16-rounded operands (tight:
 *   only fp32 accumulation error) and on the fp32 operands (bf16 tolerance), for every
 *   transpose, odd and multi-block K, ragged tiles, beta 0 and 1; the same bits with 1 and
 *   2 threads.
 * - The network's forward and backward on bf16 products against the fp32 path, whose
 *   backward test_model checks by finite differences: within a bf16 tolerance, tensor
 *   by tensor; and a few gradient entries against central differences of the fp32 loss.
 * - Training with bf16 products: the same model file with 1 and 2 threads, the option
 *   stored in the model and checked.
 * The portable emulation runs everywhere; the AVX512_BF16 kernel is compared with it
 * where the CPU has the feature and skipped with a message where it does not. */
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

/* C = beta C + op(A) op(B) in double, operands optionally rounded to bf16 first */
static void ref(int ta, int tb, int M, int N, int K, const float *A, const float *B, float beta,
                const float *C0, double *C, int round, double *mag)
{
    int lda = ta ? M : K, ldb = tb ? K : N;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = beta != 0 ? C0[i * N + j] : 0, m = fabs(s);
            for (int k = 0; k < K; k++) {
                float a = ta ? A[k * lda + i] : A[i * lda + k], b = tb ? B[j * ldb + k] : B[k * ldb + j];
                if (round) a = sdd_bf16_round(a), b = sdd_bf16_round(b);
                s += (double)a * b;
                m += fabs((double)a * b);
            }
            C[i * N + j] = s;
            if (mag) mag[i * N + j] = m;
        }
}

static void gemm_case(int ta, int tb, int M, int N, int K, float beta)
{
    size_t mn = (size_t)M * N;
    float *A = malloc(sizeof(float) * K * M), *B = malloc(sizeof(float) * K * N);
    float *C0 = malloc(sizeof(float) * mn), *C1 = malloc(sizeof(float) * mn), *C2 = malloc(sizeof(float) * mn);
    double *Cr = malloc(sizeof(double) * mn), *Cf = malloc(sizeof(double) * mn), *mag = malloc(sizeof(double) * mn);
    int worst_tight = 0, worst_loose = 0;
    fill(&R, A, (size_t)K * M, 1);
    fill(&R, B, (size_t)K * N, 1);
    fill(&R, C0, mn, 1);
    memcpy(C1, C0, sizeof(float) * mn);
    memcpy(C2, C0, sizeof(float) * mn);
    sdd_gemm_set_precision(SDD_GEMM_BF16_EMU);
    sdd_set_threads(1);
    sdd_gemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, C1, N);
    sdd_set_threads(2);
    sdd_gemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, C2, N);
    sdd_set_threads(1);
    CHECK_MSG(!memcmp(C1, C2, sizeof(float) * mn), "bf16 %dx%dx%d differs with 2 threads", M, N, K);
    ref(ta, tb, M, N, K, A, B, beta, C0, Cr, 1, mag);
    ref(ta, tb, M, N, K, A, B, beta, C0, Cf, 0, NULL);
    for (size_t i = 0; i < mn; i++) {
        /* fp32 accumulation of K exact products: a few ulps of the magnitudes summed */
        if (!(fabs(C1[i] - Cr[i]) <= 1e-6 * K * 0.25 * mag[i] + 1e-30)) worst_tight++;
        /* bf16 operands: each product off by up to ~2^-8 relative, errors partly cancel */
        if (!(fabs(C1[i] - Cf[i]) <= 1e-2 * mag[i] + 1e-30)) worst_loose++;
    }
    CHECK_MSG(worst_tight == 0, "bf16 %d%d %dx%dx%d: %d entries off the bf16-operand reference", ta, tb, M, N,
              K, worst_tight);
    CHECK_MSG(worst_loose == 0, "bf16 %d%d %dx%dx%d: %d entries off the fp32 reference", ta, tb, M, N, K,
              worst_loose);
    if (sdd_cpu_bf16()) { /* the hardware kernel on the same panels */
        memcpy(C2, C0, sizeof(float) * mn);
        sdd_gemm_set_precision(SDD_GEMM_BF16);
        sdd_gemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, C2, N);
        for (size_t i = 0; i < mn; i++) CHECK_CLOSE(C2[i], C1[i], 0, 1e-6 * K * 0.25 * mag[i] + 1e-30);
        memcpy(C1, C0, sizeof(float) * mn);
        sdd_set_threads(2);
        sdd_gemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, C1, N);
        sdd_set_threads(1);
        CHECK_MSG(!memcmp(C1, C2, sizeof(float) * mn), "AVX512_BF16 %dx%dx%d differs with 2 threads", M, N, K);
    }
    sdd_gemm_set_precision(SDD_GEMM_FP32);
    free(A); free(B); free(C0); free(C1); free(C2); free(Cr); free(Cf); free(mag);
}

static void test_gemm(void)
{
    /* ragged tiles (not multiples of 8 x 32), odd K, K over one block (512), split products */
    int shapes[][3] = {{1, 1, 1}, {7, 33, 5}, {37, 29, 53}, {17, 300, 1031}, {64, 300, 200}, {300, 64, 200},
                       {256, 130, 96}};
    for (int s = 0; s < 7; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int beta = 0; beta < 2; beta++)
                    gemm_case(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], (float)beta);
    /* rounding: nearest even, and bf16 values are kept exactly */
    CHECK(sdd_bf16_round(1.0f) == 1.0f);
    CHECK(sdd_bf16_round(1.0f + 1.0f / 256) == 1.0f);                  /* tie: to even */
    CHECK(sdd_bf16_round(1.0f + 3.0f / 256) == 1.0f + 4.0f / 256);     /* tie: to even */
    CHECK(sdd_bf16_round(1.0f + 1.5f / 256) == 1.0f + 2.0f / 256);
    CHECK(isnan(sdd_bf16_round(NAN)) && isinf(sdd_bf16_round(INFINITY)));
    if (!sdd_cpu_bf16()) fprintf(stderr, "# skip: this CPU lacks AVX512_BF16; the hardware kernel was not run "
                                         "(the emulation of its arithmetic was)\n");
}

/* ------------------------------------------------------------ the network */

static void test_network(int hw)
{
    sdd_netshape_t s;
    sdd_train_opt_t o;
    sdd_model_t *m = NULL;
    enum { B = NET_B, D = NET_D };
    int n_sc = NET_SC;
    net_ref_t ref;
    net_fixture(&s, &o, SDD_PRECISION_FP32);
    CHECK(sdd_model_alloc(&m, &s, &o) == 0);
    if (!m) return;
    net_ref_make(&ref, m, &R);
    float *xt = ref.nb.xt, *sc = ref.nb.sc, *x0 = ref.nb.x0, *t = ref.nb.t;
    float *o32 = ref.o32, *o16 = ref.o, *g32 = ref.g32, *g16 = ref.g;
    double L32 = ref.L32;
    sdd_gemm_bf16_emulate(hw ? 0 : 2);
    m->opt.precision = SDD_PRECISION_BF16;
    CHECK(sdd_net_use_precision(m) == (hw ? SDD_GEMM_BF16 : SDD_GEMM_BF16_EMU));
    double L16 = net_grads(m, B, xt, sc, n_sc, t, x0, o16, g16);
    CHECK_CLOSE(L16, L32, 2e-2, 0);
    double dmax = 0;
    for (int i = 0; i < B * D; i++) dmax = fmax(dmax, fabs(o16[i] - o32[i]));
    CHECK_MSG(dmax < 5e-2, "%s: bf16 output off fp32 by %g", hw ? "AVX512_BF16" : "emulation", dmax);
    /* tensor by tensor: relative L2 distance of the gradients */
    double worst = 0;
    const char *wname = "";
    for (int ti = 0; ti < m->n_tensors; ti++) {
        const sdd_tensor_t *tt = &m->table[ti];
        double num = 0, den = 0;
        for (int64_t i = tt->offset; i < tt->offset + tt->rows * tt->cols; i++) {
            num += ((double)g16[i] - g32[i]) * ((double)g16[i] - g32[i]);
            den += (double)g32[i] * g32[i];
        }
        CHECK_MSG(sqrt(num) <= 3e-2 * sqrt(den) + 1e-9, "%s %s: bf16 gradient off fp32 by %.3g relative",
                  hw ? "AVX512_BF16" : "emulation", tt->name, sqrt(num / (den + 1e-300)));
        if (sqrt(num / (den + 1e-300)) > worst) worst = sqrt(num / (den + 1e-300)), wname = tt->name;
    }
    fprintf(stderr, "# bf16 network (%s): loss %.6g vs fp32 %.6g, output off by <= %.2g, gradients off by "
                    "<= %.2g relative (%s)\n", hw ? "AVX512_BF16" : "emulation", L16, L32, dmax, worst, wname);
    /* a few entries of the largest tensors against central differences of the fp32 loss */
    check_fd(m, g16, g32, B, xt, sc, n_sc, t, x0, 5e-2, 3e-2, hw ? "AVX512_BF16" : "emulated bf16", &R);
    sdd_gemm_bf16_emulate(0);
    sdd_gemm_set_precision(SDD_GEMM_FP32);
    net_ref_free(&ref);
    sdd_model_destroy(m);
}

/* ------------------------------------------------------------ training */

static void test_training(const char *dir)
{
    sdd_train_opt_t o;
    sdd_trainset_t *ts = train_fixture(&o, 7);
    char a[4200], b[4200], c[4200];
    snprintf(a, sizeof a, "%s/b1.sdd", dir);
    snprintf(b, sizeof b, "%s/b2.sdd", dir);
    snprintf(c, sizeof c, "%s/f1.sdd", dir);
    CHECK(sdd_train_opt_check(&o) == SDD_EINVAL);
    CHECK(sdd_precision_parse("bf16") == SDD_PRECISION_BF16 && sdd_precision_parse("BF16") == -1);
    o.precision = SDD_PRECISION_BF16;
    sdd_gemm_bf16_emulate(1); /* the hardware kernel where there is one, else the emulation */
    sdd_set_threads(1);
    train_to(ts, &o, a);
    sdd_set_threads(2);
    train_to(ts, &o, b);
    sdd_set_threads(1);
    CHECK_MSG(same_file(a, b), "bf16: 1 and 2 threads give different models");
    o.precision = SDD_PRECISION_FP32;
    train_to(ts, &o, c);
    CHECK_MSG(!same_file(a, c), "bf16 and fp32 training gave the same model: bf16 products not used");
    check_stored_precision(a, SDD_PRECISION_BF16);
    sdd_gemm_bf16_emulate(0);
    remove(a); remove(b); remove(c);
    sdd_trainset_destroy(ts);
}

int main(void)
{
    char dir[4096];
    if (scratch_dir(dir, sizeof dir, "test_bf16")) return 1;
    sdd_rng_seed(&R, 9);
    sdd_set_threads(1);
    test_gemm();
    test_network(0);
    if (sdd_cpu_bf16()) test_network(1);
    else fprintf(stderr, "# skip: this CPU lacks AVX512_BF16; the network on the hardware kernel was not run\n");
    test_training(dir);
    rmdir(dir);
    return tap_done();
}
