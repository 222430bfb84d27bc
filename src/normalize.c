/*
 * normalize.c: library-size normalisation and log1p, as scanpy's normalize_total and
 * log1p compute them (doc/method.md §2.3-§2.4):
 *   x_ij <- x_ij * T / sum_j x_ij,  T = target_sum or the median of non-zero totals;
 *   x_ij <- ln(1 + x_ij).
 * scanpy works on float32 data: the row total is summed in double and stored as float32
 * (c_i), the divisor is d_i = float32(c_i / T) with T in float32, and each value becomes
 * float32(x / d_i). We round at the same places, so our normalised values are scanpy's
 * bit for bit (a float32 quotient computed in double and rounded once is exact).
 * log1p and expm1 are the correctly rounded float32 results (numpy's own float32 kernels
 * may differ from them by one unit in the last place). Rows whose total is 0 stay 0.
 */
#include "prep_internal.h"
#include <math.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

float sdd_norm_divisor(double total, float target)
{
    return (float)((double)(float)total / (double)target);
}

float sdd_log1pf(float x) { return (float)log1p((double)x); }

float sdd_expm1f(float x) { return (float)expm1((double)x); }

int sdd_norm_target(const double *totals, const uint8_t *keep, int64_t n, double target_sum,
                    float *out)
{
    double *w;
    int64_t k = 0;
    if (target_sum > 0) {
        *out = (float)target_sum;
        return SDD_OK;
    }
    if (!(w = sdd_malloc((size_t)n * sizeof *w + 1))) return SDD_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        if ((!keep || keep[i]) && (float)totals[i] > 0) w[k++] = (float)totals[i];
    qsort(w, (size_t)k, sizeof *w, cmp_double);
    /* numpy's median of a float32 array: the mean of the middle pair, in float32 */
    if (k == 0) *out = 0;
    else if (k % 2) *out = (float)w[k / 2];
    else *out = (float)((double)(float)(w[k / 2 - 1] + w[k / 2]) / 2.0);
    free(w);
    return SDD_OK;
}

int sdd_normalize_total(sdd_csr_t *X, double target_sum, double *lib_size)
{
    double *tot = lib_size ? lib_size : sdd_malloc((size_t)X->n_rows * sizeof *tot + 1);
    float T;
    int rc;
    if (!tot) return SDD_ENOMEM;
    for (int64_t i = 0; i < X->n_rows; i++) {
        double s = 0;
        for (int64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++) s += X->data[k];
        tot[i] = s;
    }
    if ((rc = sdd_norm_target(tot, NULL, X->n_rows, target_sum, &T)) < 0) {
        if (!lib_size) free(tot);
        return rc;
    }
    for (int64_t i = 0; i < X->n_rows; i++) {
        float d = sdd_norm_divisor(tot[i], T);
        for (int64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++)
            X->data[k] = sdd_norm_value(X->data[k], d);
    }
    if (!lib_size) free(tot);
    return SDD_OK;
}

void sdd_log1p(sdd_csr_t *X)
{
    for (int64_t k = 0; k < X->nnz; k++) X->data[k] = sdd_log1pf(X->data[k]);
}
