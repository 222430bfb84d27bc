/*
 * gemm_bf16.c: the reduced-precision products of `--precision bf16`: operands rounded to
 * bfloat16 (round to nearest even), products accumulated in fp32, results in fp32. The
 * weights themselves stay fp32 (master weights); only their copies packed for a product
 * are bf16.
 *
 * One piece of sdd_gemm (blas.c cuts a product into shape-fixed pieces and shares them
 * out) is computed GotoBLAS-style: K in blocks of KC, op(A) packed into micro-panels of
 * MR rows, op(B) into panels of NR columns, both as bf16 pairs (k, k+1) in one 32-bit
 * word, which is what AVX512_BF16's VDPBF16PS multiplies. For each C entry:
 *   acc = (beta ? C : 0); for k = 0, 2, 4, ...: acc += A[k+1] B[k+1]; acc += A[k] B[k]
 * with each product exact and each addition rounded to fp32 (a bf16 x bf16 product fits
 * fp32), carried over K blocks in C exactly; so an entry's value depends on neither the
 * piece nor the tile it falls in, and results do not depend on the thread count.
 *
 * Two kernels on the same packed panels: VDPBF16PS (compiled with target attributes,
 * chosen at run time when the CPU has AVX512_BF16) and a portable emulation of the same
 * arithmetic (tests run the whole bf16 path with it on any CPU; hardware flushes
 * denormal operands, so the two agree to within rounding, not always bit for bit).
 */
#include "blas.h"
#include "vec.h"
#include <string.h>

/* The same bits however the library is built: a product and a sum are never contracted
 * into an FMA unless the code asks for one (GCC contracts in its GNU language modes, the
 * default of R's package builds; the tree builds with -std=c11, where it does not). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

#define MR 8     /* rows of a micro-tile */
#define NR 32    /* columns of a micro-tile: two 16-float vectors */
#define KC 512   /* k per block (even) */

static inline uint32_t bf16_rne(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u; /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

static inline float bf16_f(uint32_t h)
{
    uint32_t u = (h & 0xffffu) << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float sdd_bf16_round(float x) { return bf16_f(bf16_rne(x)); }

/* op(A) rows [0, m), k in [k0, k0 + kc) into micro-panels ap[m/MR][kc/2][MR], zeros padding */
static void pack_a(uint32_t *ap, const float *A, int lda, int ta, int m, int k0, int kc)
{
    int kp = (kc + 1) / 2;
    for (int i = 0; i < m; i += MR) {
        uint32_t *panel = ap + (size_t)(i / MR) * kp * MR;
        int mr = m - i < MR ? m - i : MR;
        if (mr < MR) memset(panel, 0, (size_t)kp * MR * sizeof *panel);
        if (!ta) { /* A [m][K]: along a row */
            for (int r = 0; r < mr; r++) {
                const float *a = A + (size_t)(i + r) * lda + k0;
                for (int p = 0; p < kp; p++)
                    panel[(size_t)p * MR + r] = bf16_rne(a[2 * p]) | (2 * p + 1 < kc ? bf16_rne(a[2 * p + 1]) << 16 : 0);
            }
        } else { /* A stored [K][m]: along a column of storage */
            for (int p = 0; p < kp; p++) {
                const float *a0 = A + (size_t)(k0 + 2 * p) * lda + i, *a1 = a0 + lda;
                for (int r = 0; r < mr; r++)
                    panel[(size_t)p * MR + r] = bf16_rne(a0[r]) | (2 * p + 1 < kc ? bf16_rne(a1[r]) << 16 : 0);
            }
        }
    }
}

/* op(B) columns [j0, j0 + n), n <= NR, k in [k0, k0 + kc) into bp[kc/2][NR], zeros padding */
static void pack_b(uint32_t *bp, const float *B, int ldb, int tb, int j0, int n, int k0, int kc)
{
    int kp = (kc + 1) / 2;
    if (n < NR) memset(bp, 0, (size_t)kp * NR * sizeof *bp);
    if (!tb) { /* B [K][N] */
        for (int p = 0; p < kp; p++) {
            const float *b0 = B + (size_t)(k0 + 2 * p) * ldb + j0, *b1 = b0 + ldb;
            for (int j = 0; j < n; j++)
                bp[(size_t)p * NR + j] = bf16_rne(b0[j]) | (2 * p + 1 < kc ? bf16_rne(b1[j]) << 16 : 0);
        }
    } else { /* B stored [N][K] */
        for (int j = 0; j < n; j++) {
            const float *b = B + (size_t)(j0 + j) * ldb + k0;
            for (int p = 0; p < kp; p++)
                bp[(size_t)p * NR + j] = bf16_rne(b[2 * p]) | (2 * p + 1 < kc ? bf16_rne(b[2 * p + 1]) << 16 : 0);
        }
    }
}

/* C [m][n] (m <= MR, n <= NR) = (load ? C : 0) + the kp pairs of the panels, portably. */
static void kern_emu(int kp, const uint32_t *a, const uint32_t *b, float *c, int ldc, int m, int n,
                     int load)
{
    for (int r = 0; r < m; r++)
        for (int j = 0; j < n; j++) {
            float acc = load ? c[(size_t)r * ldc + j] : 0.0f;
            for (int p = 0; p < kp; p++) {
                uint32_t x = a[(size_t)p * MR + r], y = b[(size_t)p * NR + j];
                acc += bf16_f(x >> 16) * bf16_f(y >> 16);
                acc += bf16_f(x) * bf16_f(y);
            }
            c[(size_t)r * ldc + j] = acc;
        }
}

#ifdef SDD_X86
#include <immintrin.h>
#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* The same tile with VDPBF16PS: 8 rows x 2 vectors of 16 accumulators. */
BF16 static void kern_hw(int kp, const uint32_t *a, const uint32_t *b, float *c, int ldc, int m, int n,
                         int load)
{
    __m512 acc[MR][2];
    __mmask16 k0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
    __mmask16 k1 = n >= 32 ? 0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        int on = load && r < m;
        acc[r][0] = on ? _mm512_maskz_loadu_ps(k0, c + (size_t)r * ldc) : _mm512_setzero_ps();
        acc[r][1] = on ? _mm512_maskz_loadu_ps(k1, c + (size_t)r * ldc + 16) : _mm512_setzero_ps();
    }
    for (int p = 0; p < kp; p++) {
        __m512i b0 = _mm512_loadu_si512(b + (size_t)p * NR), b1 = _mm512_loadu_si512(b + (size_t)p * NR + 16);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512i av = _mm512_set1_epi32((int)a[(size_t)p * MR + r]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], (__m512bh)av, (__m512bh)b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], (__m512bh)av, (__m512bh)b1);
        }
    }
    for (int r = 0; r < m; r++) {
        _mm512_mask_storeu_ps(c + (size_t)r * ldc, k0, acc[r][0]);
        _mm512_mask_storeu_ps(c + (size_t)r * ldc + 16, k1, acc[r][1]);
    }
}
#define HAVE_KERN_HW 1
#endif

/* Packing buffers of the calling thread, grown as needed and kept for the next product
 * (pool threads live until the pool shrinks or the library is unloaded, and free them
 * then with sdd_gemm_bf16_release), so a training step allocates nothing after its first. */
static _Thread_local uint32_t *tl_a, *tl_b;
static _Thread_local size_t tl_na;

void sdd_gemm_bf16_release(void)
{
    free(tl_a);
    free(tl_b);
    tl_a = tl_b = NULL;
    tl_na = 0;
}

int sdd_gemm_bf16_piece(int hw, int ta, int tb, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc)
{
    size_t na = (size_t)(M + MR - 1) / MR * MR * (KC / 2);
    void (*kern)(int, const uint32_t *, const uint32_t *, float *, int, int, int, int) = kern_emu;
#ifdef HAVE_KERN_HW
    if (hw) kern = kern_hw;
#else
    if (hw) return -1;
#endif
    if (!tl_b && !(tl_b = malloc((size_t)(KC / 2) * NR * sizeof *tl_b))) return -1;
    if (na > tl_na) {
        uint32_t *p = realloc(tl_a, na * sizeof *p);
        if (!p) return -1;
        tl_a = p;
        tl_na = na;
    }
    for (int k0 = 0; k0 < K; k0 += KC) {
        int kc = K - k0 < KC ? K - k0 : KC, kp = (kc + 1) / 2, load = k0 > 0 || beta != 0.0f;
        pack_a(tl_a, A, lda, ta, M, k0, kc);
        for (int j0 = 0; j0 < N; j0 += NR) {
            int n = N - j0 < NR ? N - j0 : NR;
            pack_b(tl_b, B, ldb, tb, j0, n, k0, kc);
            for (int i = 0; i < M; i += MR)
                kern(kp, tl_a + (size_t)(i / MR) * kp * MR, tl_b, C + (size_t)i * ldc + j0, ldc,
                     M - i < MR ? M - i : MR, n, load);
        }
    }
    return 0;
}
