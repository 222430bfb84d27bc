/*
 * hvg.c: highly variable genes, as scanpy's pp.highly_variable_genes(n_top_genes = n)
 * computes them (doc/method.md §2.5), from per-gene sums over the QC-kept cells.
 *
 * seurat (on log1p data; the sums are of y = expm1(log1p x), i.e. normalised values):
 *   m = S/n, v = (SS/n - m^2) n/(n-1); m[m == 0] = 1e-12; d = v/m; d[d == 0] = NaN;
 *   d = ln d; m = ln(1 + m). Bins: 20 equal-width intervals (a, b] over [min m, max m]
 *   with the first edge lowered by 0.1% of the range (pandas.cut). Per bin, over the
 *   non-NaN d: mean (Kahan sum) and standard deviation (Welford, ddof 1, as pandas'
 *   groupby). z = (d - mean)/sd; a bin whose sd is NaN (a single gene) uses mean 0 and
 *   sd = its mean, so that gene gets z = 1.
 * cell_ranger (on the log1p data itself): d = v/m, no logs. Bin edges -inf, the 10th,
 *   15th, ..., 100th percentiles of m (numpy's linear interpolation), +inf;
 *   z = (d - median)/MAD with MAD = median(|d - median| / 0.6744897501960817).
 *   (Equal percentiles, which make pandas.cut raise in scanpy, just leave empty bins.)
 * Selection: c = the n-th largest non-NaN z; selected = z >= c (ties at c all kept, NaN
 *   never). Fewer non-NaN genes than n: all of them.
 * seurat_v3 (on counts): m, v as above; a loess of log10 v on log10 m (span 0.3,
 *   degree 2, genes with v > 0) gives the expected variance e = 10^fit and the regularised
 *   sd s = sqrt(e) (s = 1 for constant genes); each count is clipped at m + s sqrt(n);
 *   z = (n m^2 + sum c^2 - 2 m sum c) / ((n-1) s^2) is the variance of the standardised,
 *   clipped counts. Genes are ranked by z, largest first, ties by gene order (Seurat's
 *   stable order()); the first n are selected and 'highly_variable_rank' is the rank.
 */
#include "prep_internal.h"
#include <math.h>
#include <string.h>

static const char *const flavor_names[] = {"seurat", "cell_ranger", "seurat_v3"};

const char *sdd_hvg_flavor_name(int f)
{
    return f >= 0 && f < (int)(sizeof flavor_names / sizeof *flavor_names) ? flavor_names[f] : NULL;
}

int sdd_hvg_flavor_parse(const char *name)
{
    for (int f = 0; name && sdd_hvg_flavor_name(f); f++)
        if (strcmp(name, flavor_names[f]) == 0) return f;
    return -1;
}

/* scanpy: means and unbiased variances in float64 from sums over n cells. */
static void mean_var(double S, double SS, int64_t n, double *m, double *v)
{
    *m = S / (double)n;
    *v = SS / (double)n - *m * *m;
    if (n != 1) *v *= (double)n / (double)(n - 1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of w[0..k) (sorted in place); NaN when empty. */
static double median(double *w, int64_t k)
{
    if (k == 0) return NAN;
    qsort(w, (size_t)k, sizeof *w, cmp_double);
    return k % 2 ? w[k / 2] : (w[k / 2 - 1] + w[k / 2]) / 2;
}

/* numpy.percentile(a, q) with linear interpolation, a sorted, n >= 1. */
static double percentile_sorted(const double *a, int64_t n, double q)
{
    double vi = (double)(n - 1) * (q / 100.0), g;
    int64_t lo = (int64_t)floor(vi), hi = lo + 1;
    if (vi >= (double)(n - 1)) return a[n - 1];
    if (lo < 0) lo = 0;
    g = vi - (double)lo;
    double d = a[hi] - a[lo];
    return g >= 0.5 ? a[hi] - d * (1 - g) : a[lo] + d * g;
}

/* Bin labels as pandas.cut with right-closed intervals: bin k holds (e[k], e[k+1]]. */
static int bin_of(const double *e, int ne, double x)
{
    int lo = 0, hi = ne; /* first index with e[i] >= x (searchsorted 'left') */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (e[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return (lo == 0 || lo == ne) ? -1 : lo - 1;
}

/* Edges of the mean bins: pandas.cut(m, 20) for seurat, percentiles for cell_ranger. */
static int mean_edges(const double *m, int64_t k, int flavor, double *e, int *ne)
{
    double *s;
    if (flavor == SDD_HVG_SEURAT) {
        double mn = INFINITY, mx = -INFINITY;
        for (int64_t i = 0; i < k; i++) {
            if (m[i] < mn) mn = m[i];
            if (m[i] > mx) mx = m[i];
        }
        int same = mn == mx;
        if (same) { /* pandas widens a zero range before binning */
            mn -= mn != 0 ? 0.001 * fabs(mn) : 0.001;
            mx += mx != 0 ? 0.001 * fabs(mx) : 0.001;
        }
        double step = (mx - mn) / 20.0; /* numpy.linspace: i * step + start, exact stop */
        for (int i = 0; i < 20; i++) e[i] = (double)i * step + mn;
        e[20] = mx;
        if (!same) e[0] -= (mx - mn) * 0.001; /* and lowers the first edge by 0.1% */
        *ne = 21;
        return SDD_OK;
    }
    if (!(s = sdd_malloc((size_t)k * sizeof *s + 1))) return SDD_ENOMEM;
    memcpy(s, m, (size_t)k * sizeof *s);
    qsort(s, (size_t)k, sizeof *s, cmp_double);
    e[0] = -INFINITY;
    for (int i = 0; i < 19; i++) e[i + 1] = percentile_sorted(s, k, (double)(10 + 5 * i));
    e[20] = INFINITY;
    *ne = 21;
    free(s);
    return SDD_OK;
}

/* Per-bin centre and scale of the dispersions d[0..k) with labels b[0..k). */
static int bin_stats(const double *d, const int *b, int64_t k, int flavor, double *avg,
                     double *dev)
{
    double *w = sdd_malloc((size_t)k * sizeof *w + 1);
    if (!w) return SDD_ENOMEM;
    for (int bin = 0; bin < 20; bin++) {
        if (flavor == SDD_HVG_SEURAT) {
            double sum = 0, comp = 0, mean = 0, ssq = 0;
            int64_t c = 0;
            for (int64_t i = 0; i < k; i++) {
                if (b[i] != bin || isnan(d[i])) continue;
                double y = d[i] - comp, t = sum + y, old = mean;
                comp = t - sum - y;
                sum = t;
                c++;
                mean += (d[i] - old) / (double)c;
                ssq += (d[i] - mean) * (d[i] - old);
            }
            avg[bin] = c ? sum / (double)c : NAN;
            dev[bin] = c > 1 ? sqrt(ssq / (double)(c - 1)) : NAN;
            if (isnan(dev[bin])) { /* one gene in the bin: scanpy sets its z to 1 */
                dev[bin] = avg[bin];
                avg[bin] = 0;
            }
        } else {
            int64_t c = 0;
            for (int64_t i = 0; i < k; i++)
                if (b[i] == bin && !isnan(d[i])) w[c++] = d[i];
            double med = median(w, c);
            /* statsmodels' mad over the whole group (NaN if the group holds a NaN) */
            int64_t c2 = 0;
            int has_nan = 0;
            for (int64_t i = 0; i < k; i++)
                if (b[i] == bin) {
                    if (isnan(d[i])) has_nan = 1;
                    else w[c2++] = fabs(d[i] - med) / 0.6744897501960817;
                }
            avg[bin] = med;
            dev[bin] = has_nan ? NAN : median(w, c2);
        }
    }
    free(w);
    return SDD_OK;
}

/* z >= the n-th largest non-NaN z. */
static int64_t select_top(const double *z, int64_t k, int64_t n, uint8_t *sel)
{
    double *w = sdd_malloc((size_t)k * sizeof *w + 1), cut;
    int64_t c = 0, ns = 0;
    if (!w) return SDD_ENOMEM;
    for (int64_t i = 0; i < k; i++)
        if (!isnan(z[i])) w[c++] = z[i];
    if (n > c) {
        SDD_LOG_W("%lld genes asked for but only %lld have a normalised dispersion: selecting "
                  "all of them", (long long)n, (long long)c);
        n = c;
    }
    if (n == 0) {
        free(w);
        memset(sel, 0, (size_t)k);
        return 0;
    }
    qsort(w, (size_t)c, sizeof *w, cmp_double);
    cut = w[c - n];
    for (int64_t i = 0; i < k; i++) {
        sel[i] = !isnan(z[i]) && z[i] >= cut;
        ns += sel[i];
    }
    free(w);
    return ns;
}

int sdd_hvg_dispersion(const sdd_hvg_acc_t *a, const uint8_t *gene_kept, int flavor,
                       int64_t n_top, sdd_hvg_t *h)
{
    int64_t G = a->G, k = 0, ns;
    int64_t *idx = sdd_malloc((size_t)G * sizeof *idx + 1);
    double *m = sdd_malloc((size_t)G * sizeof *m + 1), *d = sdd_malloc((size_t)G * sizeof *d + 1);
    double *z = sdd_malloc((size_t)G * sizeof *z + 1), e[21], avg[20], dev[20];
    int *b = sdd_malloc((size_t)G * sizeof *b + 1), ne, rc = SDD_ENOMEM;
    uint8_t *sel = sdd_malloc((size_t)G + 1);
    if (!idx || !m || !d || !z || !b || !sel) goto fail;
    for (int64_t j = 0; j < G; j++) {
        double mean, var;
        h->means[j] = h->dispersions[j] = h->dispersions_norm[j] = NAN;
        h->highly_variable[j] = 0;
        if (!gene_kept[j]) continue;
        mean_var(a->sum[j], a->sumsq[j], a->n, &mean, &var);
        if (mean == 0) mean = 1e-12;
        double disp = var / mean;
        if (flavor == SDD_HVG_SEURAT) {
            disp = disp == 0 ? NAN : log(disp);
            mean = log1p(mean);
        }
        idx[k] = j;
        m[k] = mean;
        d[k] = disp;
        k++;
    }
    if ((rc = mean_edges(m, k, flavor, e, &ne)) < 0) goto fail;
    for (int64_t i = 0; i < k; i++) b[i] = bin_of(e, ne, m[i]);
    if ((rc = bin_stats(d, b, k, flavor, avg, dev)) < 0) goto fail;
    for (int64_t i = 0; i < k; i++) z[i] = b[i] < 0 ? NAN : (d[i] - avg[b[i]]) / dev[b[i]];
    if ((ns = select_top(z, k, n_top, sel)) < 0) {
        rc = (int)ns;
        goto fail;
    }
    for (int64_t i = 0; i < k; i++) {
        h->means[idx[i]] = m[i];
        h->dispersions[idx[i]] = d[i];
        h->dispersions_norm[idx[i]] = z[i];
        h->highly_variable[idx[i]] = sel[i];
    }
    h->n_selected = ns;
    rc = SDD_OK;
fail:
    free(idx);
    free(m);
    free(d);
    free(z);
    free(b);
    free(sel);
    return rc;
}

int sdd_hvg_v3_fit(const sdd_hvg_acc_t *a, const uint8_t *gene_kept, sdd_hvg_t *h,
                   double *clip)
{
    int64_t G = a->G, k = 0;
    int64_t *idx = sdd_malloc((size_t)G * sizeof *idx + 1);
    double *x = sdd_malloc((size_t)G * sizeof *x + 1), *y = sdd_malloc((size_t)G * sizeof *y + 1);
    double *fit = sdd_malloc((size_t)G * sizeof *fit + 1);
    int rc = SDD_ENOMEM;
    if (!idx || !x || !y || !fit) goto fail;
    for (int64_t j = 0; j < G; j++) {
        h->means[j] = h->variances[j] = h->variances_norm[j] = h->rank[j] = NAN;
        h->highly_variable[j] = 0;
        clip[j] = INFINITY;
        if (!gene_kept[j]) continue;
        mean_var(a->sum[j], a->sumsq[j], a->n, &h->means[j], &h->variances[j]);
        clip[j] = sqrt((double)a->n) + h->means[j]; /* s = 1 unless fitted below */
        if (h->variances[j] > 0) {
            idx[k] = j;
            x[k] = log10(h->means[j]);
            y[k] = log10(h->variances[j]);
            k++;
        }
    }
    if (k > 0 && (rc = sdd_loess(x, y, k, 0.3, fit)) < 0) goto fail;
    for (int64_t i = 0; i < k; i++) {
        int64_t j = idx[i];
        double s = sqrt(pow(10.0, fit[i]));
        clip[j] = s * sqrt((double)a->n) + h->means[j];
        /* keep the fitted sd for the second step in variances_norm until then */
        h->variances_norm[j] = s;
    }
    rc = SDD_OK;
fail:
    free(idx);
    free(x);
    free(y);
    free(fit);
    return rc;
}

typedef struct {
    double z;
    int64_t j;
} ranked_t;

/* Largest z first, ties in gene order (R's order(decreasing = TRUE) is stable). */
static int cmp_rank(const void *pa, const void *pb)
{
    const ranked_t *a = pa, *b = pb;
    if (a->z > b->z) return -1;
    if (a->z < b->z) return 1;
    return (a->j > b->j) - (a->j < b->j);
}

int sdd_hvg_v3_select(const sdd_hvg_acc_t *a, const uint8_t *gene_kept,
                      int64_t n_top, sdd_hvg_t *h)
{
    int64_t G = a->G, k = 0, n = a->n;
    ranked_t *order = sdd_malloc((size_t)G * sizeof *order + 1);
    if (!order) return SDD_ENOMEM;
    for (int64_t j = 0; j < G; j++) {
        if (!gene_kept[j]) continue;
        double s = isnan(h->variances_norm[j]) ? 1.0 : h->variances_norm[j], m = h->means[j];
        double z = ((double)n * m * m + a->csumsq[j] - 2 * a->csum[j] * m) /
                   ((double)(n - 1) * s * s);
        h->variances_norm[j] = z;
        order[k].z = z;
        order[k++].j = j;
    }
    qsort(order, (size_t)k, sizeof *order, cmp_rank);
    if (n_top > k) {
        SDD_LOG_W("%lld genes asked for but only %lld passed QC: selecting all of them",
                  (long long)n_top, (long long)k);
        n_top = k;
    }
    for (int64_t r = 0; r < n_top; r++) {
        h->rank[order[r].j] = (double)r;
        h->highly_variable[order[r].j] = 1;
    }
    h->n_selected = n_top;
    free(order);
    return SDD_OK;
}
