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
/* The same product by plain loops with double accumulation (reference for tests). */
void sdd_gemm_ref(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc);
/* Wall-clock seconds spent in sdd_gemm so far (from the calling thread); reset if asked. */
double sdd_gemm_seconds(int reset);
/* Run fn(ctx, p) for p = 0..n_pieces-1 on the compute threads (any order, concurrently);
 * returns when all are done. Callers cut work by shape only, never by thread count. */
void sdd_parallel_for(int n_pieces, void (*fn)(void *ctx, int piece), void *ctx);
/* Threads used by BLAS (>= 1), and the current setting. */
void sdd_blas_set_threads(int n);
int sdd_blas_get_threads(void);

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
