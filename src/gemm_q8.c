/*
 * gemm_q8.c: the int8 products of sampling (`--sample-precision int8`) and training
 * (`--precision int8`); blas.h has the contracts. A weight matrix W [N][K] is quantised
 * once per output row n,
 *   sw[n] = max_k |W[n][k]| / 127,  q[n][k] = round(W[n][k] 127 / max_k |W[n][k]|),
 * and an input row x [K] of each product the same way (xs, xq), its integers stored as
 * unsigned bytes 128 + xq, which is what AVX512_VNNI's VPDPBUSD multiplies (unsigned by
 * signed bytes, four at a time, summed into 32-bit lanes). Then
 *   y[m][n] = (float)(acc[m][n] - comp[n]) (xs[m] sw[n]) + add[n],
 *   acc[m][n] = sum_k (128 + xq[m][k]) q[n][k],  comp[n] = 128 sum_k q[n][k],
 * the sum exact in 32-bit integers (K <= SDD_Q8_KMAX), the rest in float operations in
 * that order. So an entry depends on neither the piece nor the kernel nor the thread
 * count: the VNNI kernel and the portable one give the same bits.
 *
 * The VNNI kernel reads the input rows in place and the weights from panels of 32 rows:
 * for each group of four k, the 32 rows' four bytes side by side (128 bytes, two zmm
 * registers). A tile of 8 rows x 32 columns keeps 16 accumulators in registers over the
 * whole of K; the rows are taken in blocks that stay in L2 while the panels sweep them.
 *
 * Training's input gradients dx = dy W use the same integers: W ~ diag(sw) q, so
 * dy W ~ (dy diag(sw)) q, whose rows are quantised as inputs are (sdd_q8_rows_scaled),
 * against q transposed into panels of its own (sdd_q8w_transpose_rows: each 32 x 32 block
 * moves as 64 pieces of 4 x 4 bytes) with scales 1.
 */
#include "blas.h"
#include "vec.h"
#include <math.h>
#include <string.h>

#ifdef SDD_X86
#include <immintrin.h>
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

#define NR 32                       /* rows of W per panel = columns of a tile */
#define MR 8                        /* rows of x per tile */
#define PANEL(Kp) ((size_t)(Kp) * NR) /* bytes of a panel */
#define ROW_BLOCK (768 * 1024)      /* bytes of x rows swept by the panels at a time */
#define COLS_PER_PIECE 128          /* columns of y per piece on the compute threads */
#define ROWS_PER_PIECE 16           /* rows per piece of the input quantisation */
#define MIN_PIECES 8                /* pieces of a product at least (rows allowing) */

static int portable_only; /* tests */

void sdd_q8_force_portable(int on) { portable_only = on; }

static int vnni_kernel(void) { return sdd_cpu_vnni() && !portable_only; }

/* ------------------------------------------------------------ quantisation */

/* The integer of v in [-127, 127]: v * inv rounded to nearest even, NaN to -127 (as the
 * vector version: max(NaN, -127) is -127). */
static inline int q8_round(float v, float inv)
{
    float t = v * inv;
    t = t > -127.0f ? t : -127.0f;
    t = t < 127.0f ? t : 127.0f;
    return (int)nearbyintf(t);
}

/* Entry k of a row: x[k], or x[k] cs[k] when its columns are scaled (cs not NULL). */
static inline float xval(const float *x, const float *cs, int k) { return cs ? x[k] * cs[k] : x[k]; }

/* max |x[k]| (scaled), NaN ignored */
static float absmax_c(const float *x, const float *cs, int K)
{
    float mx = 0.0f;
    for (int k = 0; k < K; k++) {
        float a = fabsf(xval(x, cs, k));
        mx = a > mx ? a : mx;
    }
    return mx;
}

static inline float inv_of(float mx) { return mx > 0.0f ? 127.0f / mx : 0.0f; }

/* Where entry (n, k) of q lies in its panels. */
static inline size_t at_of(const sdd_q8w_t *q, int n, int k)
{
    return (size_t)(n / NR) * PANEL(q->Kp) + (size_t)(k >> 2) * (NR * 4) + 4 * (n % NR) + (k & 3);
}

typedef struct {
    sdd_q8w_t *q;
    const float *W;
    int ldw, hw;
} q8w_ctx_t;

/* Row n of W into its panel (stride NR * 4 between groups of four k), scale and
 * compensation: plain loops. */
static int32_t qwpart_c(int8_t *pan, const float *w, int k0, int K, float inv)
{
    int32_t sum = 0;
    for (int k = k0; k < K; k++) {
        int v = q8_round(w[k], inv);
        pan[(size_t)(k >> 2) * (NR * 4) + (k & 3)] = (int8_t)v;
        sum += v;
    }
    return sum;
}

static void qwrow_c(sdd_q8w_t *q, int n, const float *w)
{
    float mx = absmax_c(w, NULL, q->K);
    int32_t sum = qwpart_c(q->panels + at_of(q, n, 0), w, 0, q->K, inv_of(mx));
    q->scale[n] = mx / 127.0f;
    q->comp[n] = 128 * sum;
}

#ifdef SDD_X86
/* Entries [k, k + 16) of a row, scaled as xval */
__attribute__((target("avx512f"))) static inline __m512 xval16(const float *x, const float *cs, int k)
{
    __m512 v = _mm512_loadu_ps(x + k);
    return cs ? _mm512_mul_ps(v, _mm512_loadu_ps(cs + k)) : v;
}

/* max |x[k]| (scaled) with AVX-512, NaN ignored (max(NaN, a) is a) */
__attribute__((target("avx512f"))) static inline float absmax_v(const float *x, const float *cs, int K)
{
    __m512 mv = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) mv = _mm512_max_ps(_mm512_abs_ps(xval16(x, cs, k)), mv);
    float mx = _mm512_reduce_max_ps(mv);
    for (; k < K; k++) {
        float a = fabsf(xval(x, cs, k));
        mx = a > mx ? a : mx;
    }
    return mx;
}

/* The same with AVX-512 (the same integers: rounding to nearest even, NaN to -127). */
__attribute__((target("avx512f,avx512bw,avx512vl"))) static void qwrow_v(sdd_q8w_t *q, int n, const float *w)
{
    int K = q->K, k;
    float mx = absmax_v(w, NULL, K), inv = inv_of(mx);
    int8_t *pan = q->panels + at_of(q, n, 0);
    __m512 vi = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    __m512i acc = _mm512_setzero_si512();
    for (k = 0; k + 16 <= K; k += 16) {
        __m512 t = _mm512_mul_ps(_mm512_loadu_ps(w + k), vi);
        __m512i v = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(t, lo), hi));
        __m128i b = _mm512_cvtepi32_epi8(v);
        int8_t *d = pan + (size_t)(k >> 2) * (NR * 4);
        acc = _mm512_add_epi32(acc, v);
        _mm_storeu_si32(d, b);
        _mm_storeu_si32(d + NR * 4, _mm_srli_si128(b, 4));
        _mm_storeu_si32(d + 2 * NR * 4, _mm_srli_si128(b, 8));
        _mm_storeu_si32(d + 3 * NR * 4, _mm_srli_si128(b, 12));
    }
    int32_t sum = _mm512_reduce_add_epi32(acc) + qwpart_c(pan, w, k, K, inv);
    q->scale[n] = mx / 127.0f;
    q->comp[n] = 128 * sum;
}
#endif

/* rows [lo, hi) of W quantised into their panels, scales and compensations */
static void q8w_rows(void *ctx, int lo, int hi)
{
    const q8w_ctx_t *c = ctx;
    for (int n = lo; n < hi; n++) {
#ifdef SDD_X86
        if (c->hw) {
            qwrow_v(c->q, n, c->W + (size_t)n * c->ldw);
            continue;
        }
#endif
        qwrow_c(c->q, n, c->W + (size_t)n * c->ldw);
    }
}

int sdd_q8w_alloc(sdd_q8w_t *q, int N, int K)
{
    memset(q, 0, sizeof *q);
    if (N < 1 || K < 1 || K > SDD_Q8_KMAX) return sdd_error(SDD_EINVAL, "int8 product of %d x %d", N, K);
    int Kp = (K + 3) & ~3, np = (N + NR - 1) / NR;
    q->N = N;
    q->K = K;
    q->Kp = Kp;
    q->scale = sdd_malloc((size_t)N * sizeof(float));
    q->comp = sdd_malloc((size_t)N * sizeof(int32_t));
    q->panels = sdd_calloc((size_t)np * PANEL(Kp), 1);
    if (!q->scale || !q->comp || !q->panels) {
        sdd_q8w_free(q);
        return SDD_ENOMEM;
    }
    return SDD_OK;
}

void sdd_q8w_quantise(sdd_q8w_t *q, const float *W, int ldw)
{
    q8w_ctx_t c = {q, W, ldw, vnni_kernel()};
    sdd_parallel_range(q->N, NR, q8w_rows, &c); /* whole panels a piece */
}

void sdd_q8w_quantise_rows(sdd_q8w_t *q, const float *W, int ldw, int n0, int n1)
{
    q8w_ctx_t c = {q, W, ldw, vnni_kernel()};
    q8w_rows(&c, n0, n1);
}

int sdd_q8w_init(sdd_q8w_t *q, const float *W, int ldw, int N, int K)
{
    int rc = sdd_q8w_alloc(q, N, K);
    if (rc == SDD_OK) sdd_q8w_quantise(q, W, ldw);
    return rc;
}

void sdd_q8w_free(sdd_q8w_t *q)
{
    free(q->scale);
    free(q->comp);
    free(q->panels);
    memset(q, 0, sizeof *q);
}

static void qrow_c(uint8_t *xq, float *xs, const float *x, const float *cs, int K, int Kp)
{
    float mx = absmax_c(x, cs, K), inv = inv_of(mx);
    for (int k = 0; k < K; k++) xq[k] = (uint8_t)(128 + q8_round(xval(x, cs, k), inv));
    for (int k = K; k < Kp; k++) xq[k] = 128;
    *xs = mx / 127.0f;
}

#ifdef SDD_X86
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

VNNI static void qrow_v(uint8_t *xq, float *xs, const float *x, const float *cs, int K, int Kp)
{
    int k;
    float mx = absmax_v(x, cs, K), inv = inv_of(mx);
    __m512 vi = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    __m128i off = _mm_set1_epi8((char)0x80);
    for (k = 0; k + 16 <= K; k += 16) {
        __m512 t = _mm512_mul_ps(xval16(x, cs, k), vi);
        t = _mm512_min_ps(_mm512_max_ps(t, lo), hi);
        __m128i b = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(t));
        _mm_storeu_si128((__m128i *)(xq + k), _mm_xor_si128(b, off));
    }
    for (; k < K; k++) xq[k] = (uint8_t)(128 + q8_round(xval(x, cs, k), inv));
    for (; k < Kp; k++) xq[k] = 128;
    *xs = mx / 127.0f;
}
#endif

typedef struct {
    uint8_t *xq;
    float *xs;
    const float *x, *cs;
    int ldq, ldx, K, hw;
} qrows_ctx_t;

static void qrows_piece(void *ctx, int lo, int hi)
{
    const qrows_ctx_t *c = ctx;
    int Kp = (c->K + 3) & ~3;
    for (int m = lo; m < hi; m++) {
        uint8_t *q = c->xq + (size_t)m * c->ldq;
        const float *x = c->x + (size_t)m * c->ldx;
#ifdef SDD_X86
        if (c->hw) {
            qrow_v(q, c->xs + m, x, c->cs, c->K, Kp);
            continue;
        }
#endif
        qrow_c(q, c->xs + m, x, c->cs, c->K, Kp);
    }
}

void sdd_q8_rows_scaled(uint8_t *xq, int ldq, float *xs, const float *x, int ldx, int M, int K, const float *cs)
{
    qrows_ctx_t c = {xq, xs, x, cs, ldq, ldx, K, vnni_kernel()};
    sdd_parallel_range(M, ROWS_PER_PIECE, qrows_piece, &c);
}

void sdd_q8_rows(uint8_t *xq, int ldq, float *xs, const float *x, int ldx, int M, int K)
{
    sdd_q8_rows_scaled(xq, ldq, xs, x, ldx, M, K, NULL);
}

/* ------------------------------------------------------------ the transposed weights */

int sdd_q8w_alloc_t(sdd_q8w_t *t, const sdd_q8w_t *q)
{
    int rc = sdd_q8w_alloc(t, q->K, q->N);
    if (rc == SDD_OK)
        for (int n = 0; n < t->N; n++) t->scale[n] = 1.0f;
    return rc;
}

/* One block of 32 rows x 32 columns of q, both whole, into t: q's panel holds it as
 * 8 groups of [32 rows][4 k] (128 bytes each), t's as 8 groups of [32 k][4 rows]. The 16
 * bytes of 4 rows x 4 k of one group move whole, transposed within. */
static void tblock_c(int8_t *dst, const int8_t *src)
{
    for (int og = 0; og < 8; og++)
        for (int kg = 0; kg < 8; kg++)
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                    dst[og * (NR * 4) + kg * 16 + 4 * b + a] = src[kg * (NR * 4) + og * 16 + 4 * a + b];
}

#ifdef SDD_X86
__attribute__((target("ssse3"))) static void tblock_v(int8_t *dst, const int8_t *src)
{
    const __m128i tr = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    for (int og = 0; og < 8; og++)
        for (int kg = 0; kg < 8; kg++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(src + kg * (NR * 4) + og * 16));
            _mm_storeu_si128((__m128i *)(dst + og * (NR * 4) + kg * 16), _mm_shuffle_epi8(v, tr));
        }
}
#endif

void sdd_q8w_transpose_rows(sdd_q8w_t *t, const sdd_q8w_t *q, int n0, int n1)
{
    for (int k0 = 0; k0 < q->K; k0 += NR)
        for (int r0 = n0; r0 < n1; r0 += NR) {
            int r1 = r0 + NR < n1 ? r0 + NR : n1, k1 = k0 + NR < q->K ? k0 + NR : q->K;
            if (r0 % NR == 0 && r1 - r0 == NR && k1 - k0 == NR) {
                int8_t *dst = t->panels + at_of(t, k0, r0);
                const int8_t *src = q->panels + at_of(q, r0, k0);
#ifdef SDD_X86
                if (vnni_kernel()) {
                    tblock_v(dst, src);
                    continue;
                }
#endif
                tblock_c(dst, src);
                continue;
            }
            for (int n = r0; n < r1; n++) /* a ragged edge, entry by entry */
                for (int k = k0; k < k1; k++) t->panels[at_of(t, k, n)] = q->panels[at_of(q, n, k)];
        }
}

/* comp of the rows of panel p: 128 times each row's sum of integers */
static void sums_c(sdd_q8w_t *t, int p)
{
    const int8_t *pan = t->panels + (size_t)p * PANEL(t->Kp);
    int32_t acc[NR] = {0};
    for (int g = 0; g < t->Kp / 4; g++, pan += NR * 4)
        for (int c = 0; c < NR; c++) acc[c] += pan[4 * c] + pan[4 * c + 1] + pan[4 * c + 2] + pan[4 * c + 3];
    for (int c = 0; c < NR && p * NR + c < t->N; c++) t->comp[p * NR + c] = 128 * acc[c];
}

#ifdef SDD_X86
/* The same with VPDPBUSD against bytes of 1: the sums of four, lane by lane. */
VNNI static void sums_v(sdd_q8w_t *t, int p)
{
    const int8_t *pan = t->panels + (size_t)p * PANEL(t->Kp);
    __m512i one = _mm512_set1_epi8(1), a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    for (int g = 0; g < t->Kp / 4; g++, pan += NR * 4) {
        a0 = _mm512_dpbusd_epi32(a0, one, _mm512_loadu_si512((const void *)pan));
        a1 = _mm512_dpbusd_epi32(a1, one, _mm512_loadu_si512((const void *)(pan + 64)));
    }
    int32_t acc[NR];
    _mm512_storeu_si512((void *)acc, _mm512_slli_epi32(a0, 7));
    _mm512_storeu_si512((void *)(acc + 16), _mm512_slli_epi32(a1, 7));
    for (int c = 0; c < NR && p * NR + c < t->N; c++) t->comp[p * NR + c] = acc[c];
}
#endif

static void sums_piece(void *ctx, int p)
{
#ifdef SDD_X86
    if (vnni_kernel()) {
        sums_v(ctx, p);
        return;
    }
#endif
    sums_c(ctx, p);
}

void sdd_q8w_sums(sdd_q8w_t *t) { sdd_parallel_for((t->N + NR - 1) / NR, sums_piece, t); }

/* ------------------------------------------------------------ products */

/* The entry from its exact sum, in the one order both kernels use. */
static inline float dequant(int32_t acc, int32_t comp, float xs, float ws, float add)
{
    float v = (float)(acc - comp), s = xs * ws, t = v * s;
    return t + add;
}

/* Columns [n0, n1) (n0 a multiple of NR) by plain loops over the same panels. */
static void cols_c(const sdd_q8job_t *j, int m0, int m1, int n0, int n1)
{
    const sdd_q8w_t *w = j->w;
    for (int c0 = n0; c0 < n1; c0 += NR) {
        const int8_t *pan = w->panels + (size_t)(c0 / NR) * PANEL(w->Kp);
        int nc = n1 - c0 < NR ? n1 - c0 : NR;
        for (int m = m0; m < m1; m++) {
            const uint8_t *a = j->xq + (size_t)m * j->ldq;
            float *y = j->y + (size_t)m * j->ldy + c0;
            int32_t acc[NR] = {0};
            for (int g = 0; g < w->Kp / 4; g++) {
                const int8_t *b = pan + (size_t)g * (NR * 4);
                int32_t a0 = a[4 * g], a1 = a[4 * g + 1], a2 = a[4 * g + 2], a3 = a[4 * g + 3];
                for (int c = 0; c < NR; c++)
                    acc[c] += a0 * b[4 * c] + a1 * b[4 * c + 1] + a2 * b[4 * c + 2] + a3 * b[4 * c + 3];
            }
            for (int c = 0; c < nc; c++) {
                float add = j->accumulate ? y[c] : j->bias ? j->bias[c0 + c] : 0.0f;
                y[c] = dequant(acc[c], w->comp[c0 + c], j->xs[m], w->scale[c0 + c], add);
            }
        }
    }
}

#ifdef SDD_X86
/* The sums of one tile: rows [0, mr) of x from a (rows lda apart) by the panel at b, kg
 * groups of four k, into out. mr is a constant at each call site, so the loops unroll and
 * the 16 accumulators stay in registers. */
static inline __attribute__((always_inline)) VNNI void sums(const int mr, int kg, const uint8_t *a, size_t lda,
                                                            const int8_t *b, __m512i out[MR][2])
{
    __m512i acc[MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < 2; v++) acc[r][v] = _mm512_setzero_si512();
    for (int g = 0; g < kg; g++) {
        __m512i b0 = _mm512_loadu_si512((const void *)b), b1 = _mm512_loadu_si512((const void *)(b + 64));
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++)
            if (r < mr) {
                int32_t x;
                memcpy(&x, a + r * lda, 4);
                __m512i av = _mm512_set1_epi32(x);
                acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], av, b0);
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], av, b1);
            }
        a += 4;
        b += 4 * NR;
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
        if (r < mr) out[r][0] = acc[r][0], out[r][1] = acc[r][1];
}

/* The tile's entries from its sums: rows [row0, row0 + mr), the columns col0 .. under
 * mask[2]. */
VNNI static __attribute__((noinline)) void finish(int mr, const sdd_q8job_t *j, int row0, int col0,
                                                  const __mmask16 *mask, __m512i acc[MR][2])
{
    const sdd_q8w_t *w = j->w;
    __m512i comp[2];
    __m512 ws[2], add[2];
    for (int v = 0; v < 2; v++) {
        int c = col0 + 16 * v;
        comp[v] = _mm512_maskz_loadu_epi32(mask[v], w->comp + c);
        ws[v] = _mm512_maskz_loadu_ps(mask[v], w->scale + c);
        add[v] = j->bias && !j->accumulate ? _mm512_maskz_loadu_ps(mask[v], j->bias + c) : _mm512_setzero_ps();
    }
    for (int r = 0; r < mr; r++) {
        float *y = j->y + (size_t)(row0 + r) * j->ldy + col0;
        __m512 xs = _mm512_set1_ps(j->xs[row0 + r]);
        for (int v = 0; v < 2; v++) {
            __m512 e = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][v], comp[v]));
            __m512 t = _mm512_mul_ps(e, _mm512_mul_ps(xs, ws[v]));
            __m512 ad = j->accumulate ? _mm512_maskz_loadu_ps(mask[v], y + 16 * v) : add[v];
            _mm512_mask_storeu_ps(y + 16 * v, mask[v], _mm512_add_ps(t, ad));
        }
    }
}

VNNI static __attribute__((noinline)) void tile_full(const sdd_q8job_t *j, int kg, const uint8_t *a,
                                                     const int8_t *b, int row0, int col0, const __mmask16 *mask)
{
    __m512i acc[MR][2];
    sums(MR, kg, a, (size_t)j->ldq, b, acc);
    finish(MR, j, row0, col0, mask, acc);
}

VNNI static __attribute__((noinline)) void tile_part(int mr, const sdd_q8job_t *j, int kg, const uint8_t *a,
                                                     const int8_t *b, int row0, int col0, const __mmask16 *mask)
{
    __m512i acc[MR][2];
    size_t lda = (size_t)j->ldq;
    switch (mr) {
    case 1: sums(1, kg, a, lda, b, acc); break;
    case 2: sums(2, kg, a, lda, b, acc); break;
    case 3: sums(3, kg, a, lda, b, acc); break;
    case 4: sums(4, kg, a, lda, b, acc); break;
    case 5: sums(5, kg, a, lda, b, acc); break;
    case 6: sums(6, kg, a, lda, b, acc); break;
    case 7: sums(7, kg, a, lda, b, acc); break;
    default: return;
    }
    finish(mr, j, row0, col0, mask, acc);
}

#if MR != 8
#error "tile_part covers 1 to 7 rows"
#endif

/* Columns [n0, n1) of y for all rows (n0 a multiple of NR). The input rows are padded to
 * Kp with 128 (zero), so a tile always reads whole groups of four. */
static void cols_v(const sdd_q8job_t *j, int m0, int m1, int n0, int n1)
{
    const sdd_q8w_t *w = j->w;
    int kg = w->Kp / 4, mc = ROW_BLOCK / w->Kp / MR * MR;
    if (mc < MR) mc = MR;
    for (int mb = m0; mb < m1; mb += mc) {
        int me = mb + mc < m1 ? mb + mc : m1;
        for (int c0 = n0; c0 < n1; c0 += NR) {
            int nc = n1 - c0 < NR ? n1 - c0 : NR;
            uint32_t bits = nc == 32 ? 0xffffffffu : (1u << nc) - 1u;
            __mmask16 mask[2] = {(__mmask16)(bits & 0xffff), (__mmask16)(bits >> 16)};
            const int8_t *b = w->panels + (size_t)(c0 / NR) * PANEL(w->Kp);
            int i = mb;
            for (; i + MR <= me; i += MR) tile_full(j, kg, j->xq + (size_t)i * j->ldq, b, i, c0, mask);
            if (i < me) tile_part(me - i, j, kg, j->xq + (size_t)i * j->ldq, b, i, c0, mask);
        }
    }
}
#endif

/* Piece p: column piece p % n_cols, row block p / n_cols. */
void sdd_q8_gemm_piece(void *ctx, int p)
{
    const sdd_q8job_t *j = ctx;
    int c = p % j->n_cols, r = p / j->n_cols;
    int n0 = c * COLS_PER_PIECE, n1 = n0 + COLS_PER_PIECE < j->w->N ? n0 + COLS_PER_PIECE : j->w->N;
    int m0 = r * j->rows, m1 = m0 + j->rows < j->M ? m0 + j->rows : j->M;
#ifdef SDD_X86
    if (j->hw) {
        cols_v(j, m0, m1, n0, n1);
        return;
    }
#endif
    cols_c(j, m0, m1, n0, n1);
}

int sdd_q8_gemm_job(sdd_q8job_t *j, const uint8_t *xq, int ldq, const float *xs, int M, const sdd_q8w_t *w,
                    const float *bias, int accumulate, float *y, int ldy)
{
    *j = (sdd_q8job_t){xq, xs, w, bias, y, ldq, ldy, M, accumulate, vnni_kernel(), 0, M};
    if (M < 1) return 0;
    /* A narrow product is cut in row blocks too, so that there are MIN_PIECES pieces
     * (the entries do not depend on the cut). */
    j->n_cols = (w->N + COLS_PER_PIECE - 1) / COLS_PER_PIECE;
    if (j->n_cols < MIN_PIECES) {
        int blocks = (MIN_PIECES + j->n_cols - 1) / j->n_cols;
        j->rows = ((M + blocks - 1) / blocks + MR - 1) / MR * MR;
    }
    return j->n_cols * ((M + j->rows - 1) / j->rows);
}

void sdd_q8_gemm(const uint8_t *xq, int ldq, const float *xs, int M, const sdd_q8w_t *w, const float *bias,
                 int accumulate, float *y, int ldy)
{
    sdd_q8job_t j;
    int n = sdd_q8_gemm_job(&j, xq, ldq, xs, M, w, bias, accumulate, y, ldy);
    if (n > 0) sdd_parallel_for(n, sdd_q8_gemm_piece, &j);
}
