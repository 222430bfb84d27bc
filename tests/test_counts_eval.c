/*
 * test_counts_eval.c: sdd_counts_evaluate and sdd_ks_distance against figures computed
 * independently with NumPy and SciPy (scipy.stats.ks_2samp, numpy.var(ddof=1),
 * scipy.stats.pearsonr) on the same generated count matrices; the generator and the
 * script are in the comment of make_counts().
 */
#include "../src/sdd_internal.h"
#include "tap.h"
#include <stdlib.h>

/* M[i, g] = ((i a + g b + (i g) % 7) % 11) (g + 1) // 25 over n cells and G genes; the
 * expectations below come from:
 *   R = mat(40, 60, 31, 17); S = mat(35, 60, 29, 13)
 *   ks_2samp(R.sum(1), S.sum(1)).statistic, np.median(...), the binned curves of mean
 *   log10 var over 20 equal-width bins of log10 mean (real genes' range, >= 3 genes a
 *   side), pearsonr of the curves, of log10 var over genes, and of the zero fractions. */
static void make_counts(int n, int G, int a, int b, sdd_csr_t *X)
{
    int64_t k = 0;
    CHECK(sdd_csr_alloc(X, n, G, (int64_t)n * G) == 0);
    for (int i = 0; i < n; i++) {
        for (int g = 0; g < G; g++) {
            int v = ((i * a + g * b + (i * g) % 7) % 11) * (g + 1) / 25;
            if (v == 0) continue;
            X->indices[k] = g;
            X->data[k++] = (float)v;
        }
        X->indptr[i + 1] = k;
    }
    X->nnz = k;
}

static void test_reference(void)
{
    sdd_csr_t R, S;
    sdd_counts_eval_t e;
    make_counts(40, 60, 31, 17, &R);
    make_counts(35, 60, 29, 13, &S);
    CHECK(sdd_counts_evaluate(&R, &S, &e) == 0);
    CHECK(e.n_real == 40 && e.n_synth == 35 && e.G == 60);
    CHECK_CLOSE(e.lib_ks, 0.15, 1e-12, 1e-12);
    CHECK_CLOSE(e.lib_median_real, 339.5, 0, 1e-9);
    CHECK_CLOSE(e.lib_median_synth, 344.0, 0, 1e-9);
    CHECK(e.mean_var_bins == 6);
    CHECK_CLOSE(e.mean_var_pcc, 0.995425236700, 0, 1e-9);
    CHECK_CLOSE(e.mean_var_offset, -0.004901247626, 0, 1e-9);
    CHECK_CLOSE(e.gene_log_var_pcc, 0.997006301879, 0, 1e-9);
    CHECK_CLOSE(e.zero_frac_pcc, 0.967708274786, 0, 1e-9);
    CHECK_CLOSE(e.zero_frac_mae, 0.040535714286, 0, 1e-9);
    /* a matrix against itself: no distance, perfect correlations */
    CHECK(sdd_counts_evaluate(&R, &R, &e) == 0);
    CHECK(e.lib_ks == 0 && e.mean_var_offset == 0 && e.zero_frac_mae == 0);
    CHECK_CLOSE(e.mean_var_pcc, 1, 0, 1e-12);
    CHECK_CLOSE(e.zero_frac_pcc, 1, 0, 1e-12);
    /* different gene counts are refused */
    sdd_csr_free(&S);
    make_counts(35, 59, 29, 13, &S);
    CHECK(sdd_counts_evaluate(&R, &S, &e) == SDD_EINVAL);
    sdd_csr_free(&R);
    sdd_csr_free(&S);
}

static void test_ks(void)
{
    /* hand-computed: F_a and F_b differ most after 2 (2/3 vs 0) */
    double a[] = {1, 2, 2}, b[] = {3, 4}, c[] = {1, 2, 3}, d[] = {1, 2, 3};
    CHECK_CLOSE(sdd_ks_distance(a, 3, b, 2), 1.0, 0, 1e-15);
    CHECK_CLOSE(sdd_ks_distance(c, 3, d, 3), 0.0, 0, 1e-15);
    double e[] = {1, 3, 5, 7}, f[] = {2, 3, 4};
    /* after 1: 1/4 vs 0; after 2: 1/4 vs 1/3; after 3: 1/2 vs 2/3; after 4: 1/2 vs 1 */
    CHECK_CLOSE(sdd_ks_distance(e, 4, f, 3), 0.5, 0, 1e-15);
    CHECK(isnan(sdd_ks_distance(e, 0, f, 3)));
}

int main(void)
{
    test_ks();
    test_reference();
    return tap_done();
}
