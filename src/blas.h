/*
 * blas.h: the library's one door to BLAS and LAPACK (blas.c). Products are cut into
 * pieces fixed by their shape and shared out on the library's compute threads, so results
 * do not depend on the thread count; OpenBLAS itself always runs single-threaded.
 */
#ifndef SDD_BLAS_H
#define SDD_BLAS_H

#include "sdd_internal.h"

/* ---- single precision (the network) */

/* C[M][N] = alpha op(A) op(B) + beta C, row-major; op(A) is [M][K], op(B) is [K][N].
 * ta/tb non-zero = transposed. The only entry point to CBLAS in the library. */
void sdd_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);
/* C [M][N] = b [N] broadcast over the rows, then C += op(A) op(B): the bias is written
 * piece by piece by the thread that then adds the piece's product onto it. */
void sdd_gemm_bias(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   const float *bias, float *C, int ldc);
/* sdd_gemm, then the sum of squares of the C it leaves, in double: each piece's block is
 * summed right after its product (while it is in cache) and the pieces' sums are added in
 * order, so the value is fixed by the shape whatever the thread count. */
double sdd_gemm_sumsq(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc);
/* The same, with n_also pieces of other work, also(ctx, 0 .. n_also - 1), shared out on
 * the compute threads in the same job after the product's pieces, so that neither waits
 * on the other's last piece; the work must not touch C. The results are those of running
 * the two apart. */
double sdd_gemm_sumsq_also(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                           const float *B, int ldb, float beta, float *C, int ldc,
                           void (*also)(void *ctx, int piece), void *also_ctx, int n_also);
/* Precision of sdd_gemm: fp32 (OpenBLAS sgemm), or bf16 operands with fp32 accumulation
 * (gemm_bf16.c) on the AVX512_BF16 kernel or its portable emulation (tests). The bf16
 * kernels serve products with alpha 1 and beta 0 or 1; others stay fp32. */
enum { SDD_GEMM_FP32 = 0, SDD_GEMM_BF16 = 1, SDD_GEMM_BF16_EMU = 2 };
/* Set the precision of the calling thread's coming sdd_gemm calls; returns the previous. */
int sdd_gemm_set_precision(int prec);
/* SDD_PRECISION_* (sddcell.h) as run on this CPU: fp32 stays fp32; bf16 and auto are
 * SDD_GEMM_BF16 where the CPU has AVX512_BF16, else fp32 (bf16 logs a warning once). */
int sdd_gemm_resolve(int requested);
/* Tests: 1 = bf16 and auto run the emulation where the CPU lacks AVX512_BF16; 2 = always
 * the emulation; 0 = off. */
void sdd_gemm_bf16_emulate(int on);
/* One bf16 product block (gemm_bf16.c), alpha 1: C [M][N] = (beta ? C : 0) + op(A) op(B)
 * with bf16 operands, fp32 accumulation. hw: the AVX512_BF16 kernel, else the emulation.
 * Returns -1 (C untouched) when its packing buffers cannot be allocated. */
int sdd_gemm_bf16_piece(int hw, int ta, int tb, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc);
/* Free the calling thread's bf16 packing buffers (a compute thread that ends). */
void sdd_gemm_bf16_release(void);
/* x rounded to bfloat16 (nearest even) and back. */
float sdd_bf16_round(float x);
/* ---- int8 products (sampling, training; gemm_q8.c has the arithmetic) */
/* A weight matrix W [N][K] quantised per row: scale[n] = max_k |W[n][k]| / 127, integers
 * round(W[n][k] / scale[n]) in [-127, 127], packed for the products below, and
 * comp[n] = 128 times their sum. */
#define SDD_Q8_KMAX 65536 /* K above this could overflow the 32-bit sums */
typedef struct {
    int N, K, Kp;      /* Kp: K rounded up to a multiple of 4 */
    float *scale;      /* [N] */
    int32_t *comp;     /* [N] */
    int8_t *panels;    /* packed integers */
} sdd_q8w_t;
/* Returns SDD_OK, SDD_ENOMEM, or SDD_EINVAL for N < 1, K < 1 or K > SDD_Q8_KMAX; on
 * failure *q is empty (sdd_q8w_free is safe on it). */
int sdd_q8w_init(sdd_q8w_t *q, const float *W, int ldw, int N, int K);
void sdd_q8w_free(sdd_q8w_t *q);
/* The same in two parts, for weights quantised again after every change (training):
 * alloc sizes *q for W [N][K] (same returns as init), quantise fills it from W (row
 * stride ldw), which must have the N and K of the alloc; the padding stays zero. */
int sdd_q8w_alloc(sdd_q8w_t *q, int N, int K);
void sdd_q8w_quantise(sdd_q8w_t *q, const float *W, int ldw);
/* Rows [n0, n1) only, on the calling thread (W points at row 0). */
void sdd_q8w_quantise_rows(sdd_q8w_t *q, const float *W, int ldw, int n0, int n1);
/* Rows of x [M][K] quantised the same way: xs[m] = max_k |x[m][k]| / 127 and
 * xq[m][k] = 128 + round(x[m][k] / xs[m]) as bytes, k in [K, Kp) set to 128 (zero);
 * ldq >= Kp. NaN entries become -127, a row of zeros has xs = 0. Rows shared out on the
 * compute threads. */
void sdd_q8_rows(uint8_t *xq, int ldq, float *xs, const float *x, int ldx, int M, int K);
/* The same for the rows of x with column k scaled by cs[k] (x[m][k] cs[k], one float
 * product, then quantised as above). */
void sdd_q8_rows_scaled(uint8_t *xq, int ldq, float *xs, const float *x, int ldx, int M, int K, const float *cs);
/* The transpose of an int8 weight matrix, for the products dy W (training's input
 * gradients): t holds W^T [K][N] with the integers of q, unscaled. alloc_t sizes t for q
 * (returns as sdd_q8w_alloc) and sets its scales to 1; transpose_rows copies rows
 * [n0, n1) of q (columns of t) into t's panels, on the calling thread; sums sets t's comp
 * from its panels once all are copied (on the compute threads). With xq, xs the rows of
 * dy [M][N] scaled by q's scales (sdd_q8_rows_scaled with cs = q->scale), sdd_q8_gemm on
 * t gives dy W with W ~ diag(scale) q. */
int sdd_q8w_alloc_t(sdd_q8w_t *t, const sdd_q8w_t *q);
void sdd_q8w_transpose_rows(sdd_q8w_t *t, const sdd_q8w_t *q, int n0, int n1);
void sdd_q8w_sums(sdd_q8w_t *t);
/* y [M][N] = (float)(acc - comp[n]) (xs[m] scale[n]) + (accumulate ? y : bias ? bias[n] : 0)
 * with acc = sum_k xq[m][k] q[n][k] exact in 32 bits: y ~ x W^T (+ bias or + y). Columns
 * in pieces on the compute threads; the AVX512_VNNI kernel where the CPU has it (and the
 * vector kernels are not forced portable), else portable loops: the same bits either way
 * and with any thread count. */
void sdd_q8_gemm(const uint8_t *xq, int ldq, const float *xs, int M, const sdd_q8w_t *w, const float *bias,
                 int accumulate, float *y, int ldy);
/* The same product as pieces to run alongside other work: sdd_q8_gemm_job fills *j and
 * returns its number of pieces; sdd_q8_gemm_piece(j, p) computes piece p (any order,
 * concurrently). The pieces of one job together give sdd_q8_gemm's result. */
typedef struct {
    const uint8_t *xq;
    const float *xs;
    const sdd_q8w_t *w;
    const float *bias;
    float *y;
    int ldq, ldy, M, accumulate, hw;
    int n_cols, rows; /* the cut: column pieces, rows per row block */
} sdd_q8job_t;
int sdd_q8_gemm_job(sdd_q8job_t *j, const uint8_t *xq, int ldq, const float *xs, int M, const sdd_q8w_t *w,
                    const float *bias, int accumulate, float *y, int ldy);
void sdd_q8_gemm_piece(void *j, int p);
/* Tests: 1 = the portable loops even where the CPU has AVX512_VNNI. */
void sdd_q8_force_portable(int on);
/* The same product by plain loops with double accumulation (reference for tests). */
void sdd_gemm_ref(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc);
/* Wall-clock seconds spent in sdd_gemm so far (from the calling thread); reset if asked. */
double sdd_gemm_seconds(int reset);
/* Run fn(ctx, p) for p = 0..n_pieces-1 on the compute threads (any order, concurrently);
 * returns when all are done. Callers cut work by shape only, never by thread count. */
void sdd_parallel_for(int n_pieces, void (*fn)(void *ctx, int piece), void *ctx);
/* fn(ctx, lo, hi) over [0, n) in pieces of `piece` items (the last one shorter), the
 * pieces on the compute threads in any order: for loops whose items are independent, so
 * the result does not depend on who runs which piece. */
void sdd_parallel_range(int n, int piece, void (*fn)(void *ctx, int lo, int hi), void *ctx);
/* The sum over [0, n) of f(ctx, lo, hi), cut into pieces of `piece` items (grown, to a
 * multiple of `align`, so that there are at most SDD_SUM_MAX_PIECES), the pieces run on
 * the compute threads and their double results added in piece order: the same bits with
 * any thread count. No allocation. */
#define SDD_SUM_MAX_PIECES 4096
double sdd_parallel_sum(int64_t n, int64_t piece, int64_t align,
                        double (*f)(void *ctx, int64_t lo, int64_t hi), void *ctx);
/* The compute threads' setting (sdd_set_threads in sddcell.h sets it and has the
 * contract). */
int sdd_blas_get_threads(void);
/* Workers running now (tests: never more than the setting minus one). */
int sdd_blas_running_workers(void);

/* ---- double precision (PCA, neighbours) */

/* C[M][N] = alpha op(A) op(B) + beta C, row-major doubles, split like sdd_gemm. */
void sdd_dgemm(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
               const double *B, int ldb, double beta, double *C, int ldc);
/* Upper triangle of C[N][N] = alpha A^T A + beta C for A [K][N] row-major. */
void sdd_dsyrk_t(int N, int K, double alpha, const double *A, int lda, double beta, double *C,
                 int ldc);
/* LAPACK (Fortran column-major conventions, as the reference routines document them):
 * QR factorisation and explicit Q of a [m x n] matrix, and selected eigenpairs of a
 * symmetric matrix (dsyevr, JOBZ='V', RANGE='I', UPLO='L'). lwork/liwork = -1 queries the
 * workspace size into work[0]/iwork[0]. Each returns LAPACK's info. */
int sdd_dgeqrf(int m, int n, double *a, int lda, double *tau, double *work, int lwork);
int sdd_dorgqr(int m, int n, int k, double *a, int lda, const double *tau, double *work, int lwork);
int sdd_dsyevr(int n, double *a, int lda, int il, int iu, int *m, double *w, double *z, int ldz,
               int *isuppz, double *work, int lwork, int *iwork, int liwork);

#endif
