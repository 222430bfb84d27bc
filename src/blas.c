/*
 * blas.c: the one module that talks to BLAS. Every matrix product of the network goes
 * through sdd_gemm (row-major single precision, OpenBLAS's cblas_sgemm), so a change of
 * BLAS or a product-level trace touches this file only. sdd_gemm_ref computes the same
 * product by plain loops with double accumulation; the tests hold sdd_gemm against it.
 *
 * Determinism: OpenBLAS splits a product between threads by blocks of rows and columns
 * of C, never along K, so each entry is summed in the same order whatever the thread
 * count; the tests check that a training run is bit-identical with 1 and 2 threads.
 */
#include "nn.h"
#include <cblas.h>

void sdd_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        /* an empty sum: C = beta C, as BLAS defines it */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0 ? 0 : beta * C[(size_t)i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sdd_gemm_ref(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * s + (beta == 0 ? 0.0 : (double)beta * *c));
        }
}

void sdd_blas_set_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
}

int sdd_blas_get_threads(void)
{
    return openblas_get_num_threads();
}
