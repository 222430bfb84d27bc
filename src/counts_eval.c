/*
 * counts_eval.c: integer counts judged against real counts over the same genes in the
 * same order (cells x G each, raw counts, not normalised).
 *
 *   library size   per-cell total over the G genes; the two-sample Kolmogorov-Smirnov
 *                  distance sup_x |F_real(x) - F_synth(x)| and the two medians.
 *   mean-variance  per-gene mean m_g and sample variance v_g (n - 1) of each side, in
 *                  double. Genes with m_g > 0 and v_g > 0 on a side enter that side's
 *                  curve: B (20) equal-width bins of log10 m over the range of the real
 *                  genes' log10 m, each bin's mean log10 v; mean_var_pcc is the Pearson
 *                  correlation of the two curves over the bins holding >= 3 genes on both
 *                  sides (log variance at matched means), mean_var_offset the mean over
 *                  those bins of synth minus real (> 0: over-dispersed), and
 *                  gene_log_var_pcc the Pearson correlation over genes of log10 v real vs
 *                  log10 v synth (genes positive on both sides).
 *   zero fraction  per gene, the fraction of cells with a zero count; Pearson correlation
 *                  and mean absolute difference over the genes.
 * Stored zeros count as zeros. Nothing is random.
 */
#include "sdd_internal.h"
#include <math.h>

#define MV_BINS 20
#define MV_MIN_GENES 3

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_sorted(const double *v, int64_t n)
{
    if (n < 1) return NAN;
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* sup |F_a - F_b| over sorted a[na], b[nb]: both step functions are compared after every
 * distinct value. */
double sdd_ks_distance(const double *a, int64_t na, const double *b, int64_t nb)
{
    int64_t i = 0, j = 0;
    double d = 0;
    if (na < 1 || nb < 1) return NAN;
    while (i < na && j < nb) {
        double x = a[i] < b[j] ? a[i] : b[j];
        while (i < na && a[i] <= x) i++;
        while (j < nb && b[j] <= x) j++;
        double e = fabs((double)i / (double)na - (double)j / (double)nb);
        if (e > d) d = e;
    }
    return d;
}

/* Per-cell totals (sorted) and per-gene mean, variance and zero fraction of X. */
static int gene_stats(const sdd_csr_t *X, double *lib, double *mean, double *var, double *zf)
{
    int64_t n = X->n_rows, G = X->n_cols;
    double *s2 = sdd_calloc((size_t)G + 1, sizeof *s2);
    int64_t *nz = sdd_calloc((size_t)G + 1, sizeof *nz);
    if (!s2 || !nz) {
        free(s2);
        free(nz);
        return SDD_ENOMEM;
    }
    memset(mean, 0, (size_t)G * sizeof *mean);
    for (int64_t i = 0; i < n; i++) {
        double t = 0;
        for (int64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++) {
            double v = X->data[k];
            int32_t g = X->indices[k];
            t += v;
            mean[g] += v;
            s2[g] += v * v;
            nz[g] += v != 0;
        }
        lib[i] = t;
    }
    for (int64_t g = 0; g < G; g++) {
        double m = mean[g] / (double)n;
        var[g] = n > 1 ? (s2[g] - (double)n * m * m) / (double)(n - 1) : NAN;
        if (var[g] < 0) var[g] = 0;
        mean[g] = m;
        zf[g] = 1.0 - (double)nz[g] / (double)n;
    }
    qsort(lib, (size_t)n, sizeof *lib, cmp_double);
    free(s2);
    free(nz);
    return SDD_OK;
}

/* Binned curve of mean log10 var over equal-width bins of log10 mean on [lo, hi]. */
static void mv_curve(const double *mean, const double *var, int64_t G, double lo, double hi,
                     double *curve, int64_t *cnt)
{
    for (int b = 0; b < MV_BINS; b++) curve[b] = 0, cnt[b] = 0;
    for (int64_t g = 0; g < G; g++) {
        if (!(mean[g] > 0 && var[g] > 0)) continue;
        double x = log10(mean[g]);
        if (x < lo || x > hi) continue;
        int b = hi > lo ? (int)((x - lo) / (hi - lo) * MV_BINS) : 0;
        if (b >= MV_BINS) b = MV_BINS - 1;
        curve[b] += log10(var[g]);
        cnt[b]++;
    }
    for (int b = 0; b < MV_BINS; b++) curve[b] = cnt[b] ? curve[b] / (double)cnt[b] : NAN;
}

static void mean_variance(const double *mr, const double *vr, const double *ms, const double *vs, int64_t G,
                          sdd_counts_eval_t *e, double *w)
{
    double lo = INFINITY, hi = -INFINITY, cr[MV_BINS], cs[MV_BINS], a[MV_BINS], b[MV_BINS], off = 0;
    int64_t nr[MV_BINS], ns[MV_BINS], n = 0;
    double *x = w, *y = w + G;
    for (int64_t g = 0; g < G; g++)
        if (mr[g] > 0 && vr[g] > 0) {
            double l = log10(mr[g]);
            lo = l < lo ? l : lo;
            hi = l > hi ? l : hi;
        }
    e->mean_var_pcc = e->mean_var_offset = e->gene_log_var_pcc = NAN;
    e->mean_var_bins = 0;
    if (!(lo <= hi)) return;
    mv_curve(mr, vr, G, lo, hi, cr, nr);
    mv_curve(ms, vs, G, lo, hi, cs, ns);
    for (int k = 0; k < MV_BINS; k++)
        if (nr[k] >= MV_MIN_GENES && ns[k] >= MV_MIN_GENES) {
            a[n] = cr[k], b[n] = cs[k];
            off += cs[k] - cr[k];
            n++;
        }
    e->mean_var_bins = (int)n;
    if (n >= 2) e->mean_var_pcc = sdd_pearson(a, b, n);
    if (n >= 1) e->mean_var_offset = off / (double)n;
    n = 0;
    for (int64_t g = 0; g < G; g++)
        if (vr[g] > 0 && vs[g] > 0) x[n] = log10(vr[g]), y[n] = log10(vs[g]), n++;
    if (n >= 2) e->gene_log_var_pcc = sdd_pearson(x, y, n);
}

int sdd_counts_evaluate(const sdd_csr_t *real, const sdd_csr_t *synth, sdd_counts_eval_t *e)
{
    int64_t G = real->n_cols, nr = real->n_rows, ns = synth->n_rows;
    double *lr = NULL, *ls = NULL, *st = NULL;
    int rc = SDD_ENOMEM;
    memset(e, 0, sizeof *e);
    if (synth->n_cols != G) return sdd_error(SDD_EINVAL, "counts: %lld real genes against %lld synthetic",
                                            (long long)G, (long long)synth->n_cols);
    if (nr < 2 || ns < 2) return sdd_error(SDD_EINVAL, "counts: need at least 2 cells a side");
    e->n_real = nr, e->n_synth = ns, e->G = G;
    lr = sdd_malloc((size_t)nr * sizeof *lr);
    ls = sdd_malloc((size_t)ns * sizeof *ls);
    /* mean, var, zero fraction of each side, then 2G of scratch */
    st = sdd_malloc((size_t)G * 8 * sizeof *st);
    if (!lr || !ls || !st) goto done;
    double *mr = st, *vr = mr + G, *zr = vr + G, *ms = zr + G, *vs = ms + G, *zs = vs + G, *w = zs + G;
    if ((rc = gene_stats(real, lr, mr, vr, zr)) < 0 || (rc = gene_stats(synth, ls, ms, vs, zs)) < 0) goto done;
    e->lib_ks = sdd_ks_distance(lr, nr, ls, ns);
    e->lib_median_real = median_sorted(lr, nr);
    e->lib_median_synth = median_sorted(ls, ns);
    mean_variance(mr, vr, ms, vs, G, e, w);
    double mae = 0;
    for (int64_t g = 0; g < G; g++) mae += fabs(zr[g] - zs[g]);
    e->zero_frac_mae = G ? mae / (double)G : NAN;
    e->zero_frac_pcc = sdd_pearson(zr, zs, G);
    rc = SDD_OK;
done:
    free(lr);
    free(ls);
    free(st);
    return rc;
}
