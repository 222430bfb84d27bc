/*
 * normalize.c: library-size normalisation and log1p, as scanpy's normalize_total and
 * log1p compute them (SPEC section 1, steps 2-3):
 *   x_ij <- x_ij * T / sum_j x_ij,  T = target_sum or the median of non-zero totals;
 *   x_ij <- ln(1 + x_ij).
 * Totals are accumulated in double; rows whose total is 0 stay 0.
 */
#include "sdd_internal.h"
#include <math.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy's median: mean of the two middle values for an even count. */
static double median_nonzero(const double *v, int64_t n)
{
    double *w = sdd_malloc((size_t)n * sizeof *w + 1), m;
    int64_t k = 0;
    if (!w) return NAN;
    for (int64_t i = 0; i < n; i++)
        if (v[i] > 0) w[k++] = v[i];
    if (k == 0) {
        free(w);
        return 0;
    }
    qsort(w, (size_t)k, sizeof *w, cmp_double);
    m = (k % 2) ? w[k / 2] : 0.5 * (w[k / 2 - 1] + w[k / 2]);
    free(w);
    return m;
}

int sdd_normalize_total(sdd_csr_t *X, double target_sum, double *lib_size)
{
    double *tot = lib_size ? lib_size : sdd_malloc((size_t)X->n_rows * sizeof *tot + 1);
    if (!tot) return SDD_ENOMEM;
    for (int64_t i = 0; i < X->n_rows; i++) {
        double s = 0;
        for (int64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++) s += X->data[k];
        tot[i] = s;
    }
    if (!(target_sum > 0)) {
        target_sum = median_nonzero(tot, X->n_rows);
        if (isnan(target_sum)) {
            if (!lib_size) free(tot);
            return SDD_ENOMEM;
        }
    }
    for (int64_t i = 0; i < X->n_rows; i++) {
        double f = tot[i] > 0 ? target_sum / tot[i] : 0;
        for (int64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++)
            X->data[k] = (float)(X->data[k] * f);
    }
    if (!lib_size) free(tot);
    return SDD_OK;
}

void sdd_log1p(sdd_csr_t *X)
{
    for (int64_t k = 0; k < X->nnz; k++) X->data[k] = (float)log1p((double)X->data[k]);
}
