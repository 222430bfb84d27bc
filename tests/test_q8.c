/* test_q8: the int8 products of sampling (gemm_q8.c).
 * - Quantisation by hand: a row's scale, its integers rounded to nearest even, the
 *   padding, a NaN and a row of zeros; a weight row's scale and compensation.
 * - Products on integer operands that quantise exactly: equal to the integer sums (int64
 *   reference), for ragged M, N and K, several row blocks, with a bias and accumulating.
 * - Products on real operands: within the bound that the rounding of each operand to
 *   its grid allows, from a double reference on the unrounded operands.
 * - The AVX512_VNNI kernel against the portable loops, and 1 against 2 threads: the same
 *   bits (the VNNI comparison is skipped, with a message, on a CPU without it).
 * - Refusals: K above SDD_Q8_KMAX, N < 1. */
#include "nn.h"
#include "vec.h"
#include "tap.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static sdd_rng_t R;

static int ri(int lo, int hi) { return lo + (int)(sdd_rng_uniform(&R) * (hi - lo + 1)) % (hi - lo + 1); }

static void test_quantise_by_hand(void)
{
    /* max 2: 127 / 2 = 63.5 per unit; 1 -> 63.5 -> 64 (even), 0.5 -> 31.75 -> 32,
     * 0.25 -> 15.875 -> 16, -2 -> -127; K = 5 pads to 8 with 128 */
    const float x[3][5] = {{1.0f, -2.0f, 0.5f, 0.0f, 0.25f}, {NAN, 1.0f, 0, 0, 0}, {0, 0, 0, 0, 0}};
    const uint8_t want[3][8] = {{192, 1, 160, 128, 144, 128, 128, 128},
                                {1, 255, 128, 128, 128, 128, 128, 128},
                                {128, 128, 128, 128, 128, 128, 128, 128}};
    const float want_s[3] = {2.0f / 127.0f, 1.0f / 127.0f, 0.0f};
    for (int portable = 0; portable < 2; portable++) {
        uint8_t q[3][8];
        float s[3];
        memset(q, 0xee, sizeof q);
        sdd_q8_force_portable(portable);
        sdd_q8_rows(&q[0][0], 8, s, &x[0][0], 5, 3, 5);
        for (int r = 0; r < 3; r++) {
            CHECK_MSG(!memcmp(q[r], want[r], 8), "row %d quantised wrongly (portable %d): %d %d %d %d %d", r,
                      portable, q[r][0], q[r][1], q[r][2], q[r][3], q[r][4]);
            CHECK(s[r] == want_s[r]);
        }
    }
    sdd_q8_force_portable(0);
    /* a weight row: max 1, integers 64, -127, 32; comp = 128 (64 - 127 + 32) = -3968 */
    const float w[2][3] = {{0.5f, -1.0f, 0.25f}, {0, 0, 0}};
    sdd_q8w_t qw;
    CHECK(sdd_q8w_init(&qw, &w[0][0], 3, 2, 3) == SDD_OK);
    CHECK(qw.Kp == 4 && qw.N == 2 && qw.K == 3);
    CHECK(qw.scale[0] == 1.0f / 127.0f && qw.comp[0] == -3968);
    CHECK(qw.scale[1] == 0.0f && qw.comp[1] == 0);
    /* x = (127, 0, 0) exactly: y = xs ws 127 * 64 = (1/127)(1/127) 8128 */
    const float xe[3] = {127.0f, 0, 0};
    uint8_t q[4];
    float s, y[2] = {-1, -1};
    sdd_q8_rows(q, 4, &s, xe, 3, 1, 3);
    sdd_q8_gemm(q, 4, &s, 1, &qw, NULL, 0, y, 2);
    CHECK(s == 1.0f);
    CHECK(y[0] == (float)8128 * (1.0f * (1.0f / 127.0f)));
    CHECK(y[1] == 0.0f);
    sdd_q8w_free(&qw);
    CHECK(qw.scale == NULL && qw.panels == NULL);
}

/* y of the four kernels-and-threads settings: [0] portable 1 thread, [1] portable 2
 * threads, [2] VNNI 1 thread, [3] VNNI 2 threads (2, 3 only with VNNI). */
static int run_all(const uint8_t *q, int ldq, const float *xs, int M, const sdd_q8w_t *w, const float *bias,
                   int acc, const float *y0, float *ys[4], int N)
{
    int n = sdd_cpu_vnni() ? 4 : 2;
    for (int v = 0; v < n; v++) {
        memcpy(ys[v], y0, sizeof(float) * M * N);
        sdd_q8_force_portable(v < 2);
        sdd_set_threads(v % 2 ? 2 : 1);
        sdd_q8_gemm(q, ldq, xs, M, w, bias, acc, ys[v], N);
    }
    sdd_q8_force_portable(0);
    sdd_set_threads(1);
    return n;
}

/* Integer operands with a +-127 in every row, so the scales are 1 and the result is the
 * integer sum (plus the bias or the old y), exactly. */
static void exact_case(int M, int N, int K, int mode)
{
    size_t mk = (size_t)M * K, nk = (size_t)N * K, mn = (size_t)M * N;
    int Kp = (K + 3) & ~3;
    float *x = malloc(mk * sizeof(float)), *W = malloc(nk * sizeof(float)), *bias = malloc(N * sizeof(float));
    float *y0 = malloc(mn * sizeof(float)), *ys[4], xs[600];
    uint8_t *q = malloc((size_t)M * Kp);
    for (int v = 0; v < 4; v++) ys[v] = malloc(mn * sizeof(float));
    for (size_t i = 0; i < mk; i++) x[i] = (float)ri(-127, 127);
    for (size_t i = 0; i < nk; i++) W[i] = (float)ri(-127, 127);
    for (int m = 0; m < M; m++) x[(size_t)m * K + ri(0, K - 1)] = ri(0, 1) ? 127.0f : -127.0f;
    for (int n = 0; n < N; n++) W[(size_t)n * K + ri(0, K - 1)] = ri(0, 1) ? 127.0f : -127.0f;
    for (int n = 0; n < N; n++) bias[n] = (float)ri(-1000, 1000);
    for (size_t i = 0; i < mn; i++) y0[i] = (float)ri(-1000, 1000);
    sdd_q8w_t w;
    CHECK(sdd_q8w_init(&w, W, K, N, K) == SDD_OK);
    sdd_q8_rows(q, Kp, xs, x, K, M, K);
    int bad = 0, n_set = run_all(q, Kp, xs, M, &w, mode == 1 ? bias : NULL, mode == 2, y0, ys, N);
    for (int m = 0; m < M; m++) {
        CHECK(xs[m] == 1.0f);
        for (int n = 0; n < N; n++) {
            int64_t s = 0;
            for (int k = 0; k < K; k++) s += (int64_t)x[(size_t)m * K + k] * (int64_t)W[(size_t)n * K + k];
            /* |s| < 2^24 here, so the float is the integer; the add is one rounding */
            float want = (float)s + (mode == 1 ? bias[n] : mode == 2 ? y0[(size_t)m * N + n] : 0.0f);
            if (ys[0][(size_t)m * N + n] != want) bad++;
        }
    }
    CHECK_MSG(bad == 0, "int8 %dx%dx%d mode %d: %d entries differ from the integer sums", M, N, K, mode, bad);
    for (int v = 1; v < n_set; v++)
        CHECK_MSG(!memcmp(ys[0], ys[v], mn * sizeof(float)), "int8 %dx%dx%d mode %d: setting %d differs", M, N, K,
                  mode, v);
    sdd_q8w_free(&w);
    for (int v = 0; v < 4; v++) free(ys[v]);
    free(x), free(W), free(bias), free(y0), free(q);
}

/* Real operands: each entry within the error that rounding x and W to their grids can
 * make (half a step of each, and their product), against double sums of the originals. */
static void real_case(int M, int N, int K)
{
    size_t mk = (size_t)M * K, nk = (size_t)N * K, mn = (size_t)M * N;
    int Kp = (K + 3) & ~3, bad = 0;
    float *x = malloc(mk * sizeof(float)), *W = malloc(nk * sizeof(float)), *ys[4], *y0 = calloc(mn, sizeof(float));
    float xs[600];
    uint8_t *q = malloc((size_t)M * Kp);
    for (int v = 0; v < 4; v++) ys[v] = malloc(mn * sizeof(float));
    for (size_t i = 0; i < mk; i++) x[i] = (float)(sdd_rng_normal(&R) * (1 + i % 7));
    for (size_t i = 0; i < nk; i++) W[i] = (float)(sdd_rng_normal(&R) * 0.05);
    sdd_q8w_t w;
    CHECK(sdd_q8w_init(&w, W, K, N, K) == SDD_OK);
    sdd_q8_rows(q, Kp, xs, x, K, M, K);
    int n_set = run_all(q, Kp, xs, M, &w, NULL, 0, y0, ys, N);
    double worst = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0, bound = 0, hx = xs[m] / 2.0, hw = w.scale[n] / 2.0;
            for (int k = 0; k < K; k++) {
                double a = x[(size_t)m * K + k], b = W[(size_t)n * K + k];
                s += a * b;
                bound += hx * fabs(b) + hw * fabs(a) + hx * hw;
            }
            double e = fabs(ys[0][(size_t)m * N + n] - s);
            bound = bound * (1 + 1e-5) + 1e-6 * fabs(s) + 1e-30;
            if (e > bound) bad++;
            if (e / bound > worst) worst = e / bound;
        }
    CHECK_MSG(bad == 0, "int8 %dx%dx%d: %d entries beyond the rounding bound (worst %.3g of it)", M, N, K, bad,
              worst);
    for (int v = 1; v < n_set; v++)
        CHECK_MSG(!memcmp(ys[0], ys[v], mn * sizeof(float)), "int8 real %dx%dx%d: setting %d differs", M, N, K, v);
    sdd_q8w_free(&w);
    for (int v = 0; v < 4; v++) free(ys[v]);
    free(x), free(W), free(y0), free(q);
}

int main(void)
{
    sdd_rng_seed(&R, 7);
    if (!sdd_cpu_vnni()) fprintf(stderr, "# no AVX512_VNNI: the portable int8 loops only\n");
    test_quantise_by_hand();
    const int shapes[][3] = {{1, 1, 1}, {5, 17, 3}, {37, 45, 100}, {13, 77, 99}, {64, 300, 257}, {520, 96, 2000}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        for (int mode = 0; mode < 3; mode++) exact_case(shapes[i][0], shapes[i][1], shapes[i][2], mode);
    real_case(23, 130, 515);
    real_case(100, 64, 1024);
    sdd_q8w_t w;
    float W[4] = {1, 2, 3, 4};
    CHECK(sdd_q8w_init(&w, W, 1, 1, SDD_Q8_KMAX + 1) == SDD_EINVAL && w.panels == NULL);
    CHECK(sdd_q8w_init(&w, W, 1, 0, 4) == SDD_EINVAL);
    sdd_q8w_free(&w);
    return tap_done();
}
