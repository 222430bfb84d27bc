/*
 * metrics.c: real-vs-synthetic evaluation (doc/method.md §8), both sides log1p-normalised
 * over the same genes in the same order.
 *
 *   sparsity      fraction of exact zeros of each matrix (stored zeros count as zeros);
 *                 per-cell zero fractions z_i = 1 - nnz_i / G as histograms on [0, 1]
 *                 and the Wasserstein-1 distance of the two distributions of z.
 *   SCC / PCC     Spearman (average ranks for ties) and Pearson correlation of the
 *                 per-gene mean vectors mu_g = sum_i x_ig / n (all cells of each side).
 *   MMD, LISI,    on the joint PCA of a subsample of n = min(n_real, n_synth, n_sub)
 *   kNN AUC       cells per side (mixing.c); LISI's labels are the two sources and
 *                 scaled LISI = (median - 1) / (2 - 1).
 *   per label     for each label present on both sides: sparsity, SCC / PCC of the
 *                 label's mean vectors, MMD of the label's subsampled cells on the same
 *                 joint PCs, and the Pearson correlation real vs synthetic of the log
 *                 fold changes (label vs the other labelled cells), computed as Seurat's
 *                 FindMarkers does (avg_log2FC, pseudocount 1 on the normalised scale):
 *                 log2(mean expm1(x) in + 1) - log2(mean expm1(x) out + 1), over the
 *                 genes it tests (min.pct: detected in >= 10% of the label's real cells
 *                 or of the other real cells) and over the 50 of them with the highest
 *                 real fold change (the label's markers).
 *
 * Reproducibility: one sdd_rng_t seeded with opt->seed draws the subsample (partial
 * Fisher-Yates on each side larger than n, real first; rows then sorted ascending) and
 * then the folds (a Fisher-Yates shuffle of each side's n rows, fold = position % F).
 * Nothing else is random: the PCA is exact and the kNN exact.
 */
#include "sdd_internal.h"
#include <math.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

double sdd_pearson(const double *x, const double *y, int64_t n)
{
    double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
    if (n < 2) return NAN;
    for (int64_t i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= (double)n, my /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        double a = x[i] - mx, b = y[i] - my;
        sxx += a * a, syy += b * b, sxy += a * b;
    }
    if (sxx == 0 || syy == 0) return NAN;
    return sxy / sqrt(sxx * syy);
}

double sdd_spearman(const double *x, const double *y, int64_t n)
{
    double *rx = sdd_malloc((size_t)n * sizeof *rx + 1), *ry = sdd_malloc((size_t)n * sizeof *ry + 1), c = NAN;
    if (rx && ry && sdd_average_ranks(x, n, rx) == 0 && sdd_average_ranks(y, n, ry) == 0) c = sdd_pearson(rx, ry, n);
    free(rx);
    free(ry);
    return c;
}

void sdd_eval_opt_init(sdd_eval_opt_t *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->n_sub = 10000;
    opt->n_pcs = 50;
    opt->lisi_pcs = 20;
    opt->perplexity = 30;
    opt->knn_pcs = 20;
    opt->knn_k = 5;
    opt->cv_folds = 5;
    opt->hist_bins = 20;
    opt->min_label_cells = 10;
    opt->seed = 42;
}

int sdd_eval_opt_check(const sdd_eval_opt_t *opt)
{
    int rc;
    if ((rc = sdd_opt_check_table(SDD_OPTS_EVAL, opt)) < 0) return rc;
    if (opt->n_pcs < 1 || opt->n_pcs > 1000) return sdd_error(SDD_EINVAL, "PCs for MMD %d: must be in [1, 1000]", opt->n_pcs);
    if (opt->lisi_pcs < 1 || opt->lisi_pcs > opt->n_pcs || opt->knn_pcs < 1 || opt->knn_pcs > opt->n_pcs)
        return sdd_error(SDD_EINVAL, "PCs for LISI / kNN must be in [1, %d]", opt->n_pcs);
    if (!(opt->perplexity >= 1 && opt->perplexity <= 1000))
        return sdd_error(SDD_EINVAL, "LISI perplexity %g: must be in [1, 1000]", opt->perplexity);
    if (opt->knn_k < 1 || opt->knn_k > 1000) return sdd_error(SDD_EINVAL, "kNN k %d: must be in [1, 1000]", opt->knn_k);
    if (opt->cv_folds < 2 || opt->cv_folds > 100) return sdd_error(SDD_EINVAL, "folds %d: must be in [2, 100]", opt->cv_folds);
    if (opt->hist_bins < 1 || opt->hist_bins > 10000) return sdd_error(SDD_EINVAL, "histogram bins %d: must be in [1, 10000]", opt->hist_bins);
    if (opt->min_label_cells < 1) return sdd_error(SDD_EINVAL, "minimum cells per label must be >= 1");
    return SDD_OK;
}

void sdd_eval_destroy(sdd_eval_t *e)
{
    if (!e) return;
    free(e->sub_real);
    free(e->sub_synth);
    free(e->zero_hist_real);
    free(e->zero_hist_synth);
    for (int l = 0; l < e->n_labels; l++) free(e->per_label[l].name);
    free(e->per_label);
    free(e);
}

/* Number of stored values that are not 0 in row i. */
static int64_t row_nonzero(const sdd_csr_t *X, int64_t i)
{
    int64_t c = 0;
    for (int64_t p = X->indptr[i]; p < X->indptr[i + 1]; p++) c += X->data[p] != 0;
    return c;
}

/* Per-cell zero fractions zf [n_rows], their histogram h [bins] and the overall
 * fraction of zeros. A cell with z zeros falls in bin floor(z bins / G), computed in
 * integers so that fractions on a bin edge land in the upper bin exactly. */
static double zero_fractions(const sdd_csr_t *X, int bins, double *zf, double *h)
{
    double nz = 0;
    int64_t G = X->n_cols;
    for (int b = 0; b < bins; b++) h[b] = 0;
    for (int64_t i = 0; i < X->n_rows; i++) {
        int64_t c = row_nonzero(X, i), b = (G - c) * bins / G;
        nz += (double)c;
        zf[i] = 1.0 - (double)c / (double)G;
        h[b >= bins ? bins - 1 : b] += 1.0;
    }
    for (int b = 0; b < bins; b++) h[b] /= (double)X->n_rows;
    return 1.0 - nz / ((double)X->n_rows * (double)G);
}

/* Wasserstein-1 distance of two empirical distributions (u, v sorted in place):
 * the integral of |F_u - F_v| over the merged support. */
static double wasserstein1(double *u, int64_t nu, double *v, int64_t nv)
{
    int64_t a = 0, b = 0;
    double w = 0, x;
    qsort(u, (size_t)nu, sizeof *u, cmp_double);
    qsort(v, (size_t)nv, sizeof *v, cmp_double);
    x = u[0] < v[0] ? u[0] : v[0];
    while (a < nu || b < nv) {
        double next = a < nu && (b >= nv || u[a] <= v[b]) ? u[a] : v[b];
        w += fabs((double)a / nu - (double)b / nv) * (next - x);
        x = next;
        while (a < nu && u[a] == x) a++;
        while (b < nv && v[b] == x) b++;
    }
    return w;
}

/* Column sums [G] over all rows of X. */
static void col_means(const sdd_csr_t *X, double *mu)
{
    for (int64_t g = 0; g < X->n_cols; g++) mu[g] = 0;
    for (int64_t p = 0; p < X->nnz; p++) mu[X->indices[p]] += X->data[p];
    for (int64_t g = 0; g < X->n_cols; g++) mu[g] /= X->n_rows > 0 ? (double)X->n_rows : 1.0;
}

/* Sparsity, histograms, W1, SCC and PCC on all cells. */
static int global_stats(const sdd_csr_t *real, const sdd_csr_t *synth, sdd_eval_t *e)
{
    int64_t G = real->n_cols, nr = real->n_rows, ns = synth->n_rows;
    /* one block: per-cell zero fractions of both sides, then both sides' gene means */
    double *zr = sdd_malloc((size_t)(nr + ns + 2 * G + 1) * sizeof *zr), *zs, *mr, *ms;
    if (!zr) return SDD_ENOMEM;
    zs = zr + nr;
    mr = zs + ns;
    ms = mr + G;
    e->sparsity_real = zero_fractions(real, e->hist_bins, zr, e->zero_hist_real);
    e->sparsity_synth = zero_fractions(synth, e->hist_bins, zs, e->zero_hist_synth);
    e->zero_frac_w1 = wasserstein1(zr, nr, zs, ns);
    col_means(real, mr);
    col_means(synth, ms);
    e->scc = sdd_spearman(mr, ms, G);
    e->pcc = sdd_pearson(mr, ms, G);
    free(zr);
    return SDD_OK;
}

int sdd_subsample_rows(sdd_rng_t *rng, int64_t size, int64_t n, int64_t *out)
{
    int64_t *idx = sdd_malloc((size_t)size * sizeof *idx);
    if (!idx) return SDD_ENOMEM;
    for (int64_t i = 0; i < size; i++) idx[i] = i;
    if (size > n) {
        for (int64_t i = 0; i < n; i++) {
            int64_t j = i + (int64_t)sdd_rng_below(rng, (uint64_t)(size - i)), t = idx[i];
            idx[i] = idx[j], idx[j] = t;
        }
        qsort(idx, (size_t)n, sizeof *idx, cmp_i64);
    }
    memcpy(out, idx, (size_t)n * sizeof *out);
    free(idx);
    return SDD_OK;
}

/* The first d of the k columns of S [n x k] as a contiguous [n x d] copy. */
static double *first_cols(const double *S, int64_t n, int64_t k, int64_t d)
{
    double *o = sdd_malloc((size_t)n * (size_t)d * sizeof *o + 1);
    if (!o) return NULL;
    for (int64_t i = 0; i < n; i++) memcpy(o + i * d, S + i * k, (size_t)d * sizeof *o);
    return o;
}

static double median(double *v, int64_t n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* LISI and kNN AUC on the joint scores S [2n x k] (real rows first). */
static int mixing_stats(const double *S, int64_t n, int64_t k, const sdd_eval_opt_t *opt,
                        sdd_rng_t *rng, sdd_eval_t *e)
{
    int64_t N = 2 * n, *perm = NULL;
    int32_t *cls = sdd_malloc((size_t)N * sizeof *cls), *fold = sdd_malloc((size_t)N * sizeof *fold);
    double *lisi = sdd_malloc((size_t)N * sizeof *lisi), *X = NULL;
    int d, rc = SDD_ENOMEM, folds = n < opt->cv_folds ? (int)n : opt->cv_folds; /* no empty fold */
    perm = sdd_malloc((size_t)n * sizeof *perm);
    if (!cls || !fold || !lisi || !perm) goto fail;
    for (int64_t i = 0; i < N; i++) cls[i] = i >= n;
    for (int side = 0; side < 2; side++) {
        for (int64_t i = 0; i < n; i++) perm[i] = i;
        sdd_rng_shuffle(rng, perm, n);
        for (int64_t r = 0; r < n; r++) fold[side * n + perm[r]] = (int32_t)(r % folds);
    }
    d = opt->lisi_pcs < k ? opt->lisi_pcs : (int)k;
    if (!(X = first_cols(S, N, k, d))) goto fail;
    if ((rc = sdd_lisi(X, N, d, cls, 2, opt->perplexity, lisi)) < 0) goto fail;
    e->lisi = median(lisi, N);
    e->lisi_scaled = e->lisi - 1.0;
    free(X);
    d = opt->knn_pcs < k ? opt->knn_pcs : (int)k;
    if (!(X = first_cols(S, N, k, d))) goto fail;
    rc = sdd_knn_auc(X, N, d, cls, fold, folds, opt->knn_k, &e->knn_auc);
fail:
    free(cls);
    free(fold);
    free(lisi);
    free(perm);
    free(X);
    return rc;
}

/* Per-label sums of X, of expm1(X) and of X != 0 [n_labels x G] each, nonzero counts and
 * cell counts. */
static void label_sums(const sdd_csr_t *X, const int32_t *lab, int nl, double *sum, double *sume, double *det,
                       double *nz, int64_t *cnt)
{
    int64_t G = X->n_cols;
    memset(sum, 0, (size_t)nl * (size_t)G * sizeof *sum);
    memset(sume, 0, (size_t)nl * (size_t)G * sizeof *sume);
    memset(det, 0, (size_t)nl * (size_t)G * sizeof *det);
    memset(nz, 0, (size_t)nl * sizeof *nz);
    memset(cnt, 0, (size_t)nl * sizeof *cnt);
    for (int64_t i = 0; i < X->n_rows; i++) {
        int l = lab[i];
        if (l < 0 || l >= nl) continue;
        cnt[l]++;
        nz[l] += (double)row_nonzero(X, i);
        for (int64_t p = X->indptr[i]; p < X->indptr[i + 1]; p++) {
            sum[l * G + X->indices[p]] += X->data[p];
            sume[l * G + X->indices[p]] += expm1((double)X->data[p]);
            det[l * G + X->indices[p]] += X->data[p] != 0;
        }
    }
}

/* log2 fold change of label l against the other labelled cells, Seurat's avg_log2FC:
 * log2(mean expm1(x) in l + 1) - log2(mean expm1(x) outside + 1) from the per-label sums
 * of expm1(x) (normalised expression; pseudocount 1). */
static void log_fold_change(const double *sume, const int64_t *cnt, int nl, int l, int64_t G, double *lfc)
{
    int64_t n_out = 0;
    for (int m = 0; m < nl; m++) n_out += m == l ? 0 : cnt[m];
    for (int64_t g = 0; g < G; g++) {
        double in = sume[l * G + g] / (double)cnt[l], out = 0;
        for (int m = 0; m < nl; m++) out += m == l ? 0 : sume[m * G + g];
        out = n_out > 0 ? out / (double)n_out : 0;
        lfc[g] = log2(in + 1) - log2(out + 1);
    }
}

/* The genes Seurat's FindMarkers tests for label l (min.pct): detected (non-zero) in at
 * least SDD_EVAL_MIN_PCT of the label's real cells or of the other labelled real cells.
 * Their indices go to keep; returns how many. */
static int64_t tested_genes(const double *det, const int64_t *cnt, int nl, int l, int64_t G, int64_t *keep)
{
    int64_t n_out = 0, n = 0;
    for (int m = 0; m < nl; m++) n_out += m == l ? 0 : cnt[m];
    for (int64_t g = 0; g < G; g++) {
        double out = 0;
        for (int m = 0; m < nl; m++) out += m == l ? 0 : det[m * G + g];
        if (det[l * G + g] >= SDD_EVAL_MIN_PCT * (double)cnt[l] || (n_out > 0 && out >= SDD_EVAL_MIN_PCT * (double)n_out))
            keep[n++] = g;
    }
    return n;
}

/* Pearson of real (a) and synthetic (b) fold changes over the SDD_EVAL_MARKERS genes of
 * highest real fold change (ties to the lower gene index). */
static int marker_pcc(const double *a, const double *b, int64_t G, double *out)
{
    int64_t m = G < SDD_EVAL_MARKERS ? G : SDD_EVAL_MARKERS;
    sdd_vi_t *p = sdd_malloc((size_t)G * sizeof *p);
    double *x = sdd_malloc((size_t)m * sizeof *x), *y = sdd_malloc((size_t)m * sizeof *y);
    int rc = SDD_ENOMEM;
    if (p && x && y) {
        for (int64_t g = 0; g < G; g++) p[g].v = -a[g], p[g].i = g;
        qsort(p, (size_t)G, sizeof *p, sdd_vi_cmp);
        for (int64_t t = 0; t < m; t++) x[t] = a[p[t].i], y[t] = b[p[t].i];
        *out = sdd_pearson(x, y, m);
        rc = SDD_OK;
    }
    free(p);
    free(x);
    free(y);
    return rc;
}

/* MMD of label l's subsampled cells on the joint scores S [2n x k]. NaN if a side has
 * fewer than 2 such cells. */
static int label_mmd(const double *S, int64_t n, int64_t k, const sdd_eval_t *e, const int32_t *rl,
                     const int32_t *sl, int l, sdd_eval_label_t *L)
{
    double *X = sdd_malloc((size_t)(2 * n) * (size_t)k * sizeof *X + 1);
    int64_t m = 0;
    int rc = SDD_OK;
    if (!X) return SDD_ENOMEM;
    L->n_sub_real = L->n_sub_synth = 0;
    for (int64_t r = 0; r < n; r++)
        if (rl[e->sub_real[r]] == l) memcpy(X + (m++) * k, S + r * k, (size_t)k * sizeof *X), L->n_sub_real++;
    for (int64_t r = 0; r < n; r++)
        if (sl[e->sub_synth[r]] == l) memcpy(X + (m++) * k, S + (n + r) * k, (size_t)k * sizeof *X), L->n_sub_synth++;
    L->mmd = NAN;
    if (L->n_sub_real >= 2 && L->n_sub_synth >= 2) rc = sdd_mmd(X, L->n_sub_real, L->n_sub_synth, k, &L->mmd, NULL);
    free(X);
    return rc;
}

static int label_stats(const sdd_csr_t *real, const sdd_csr_t *synth, const int32_t *rl, const int32_t *sl,
                       char *const *names, int nl, const double *S, int64_t n, int64_t k,
                       const sdd_eval_opt_t *opt, sdd_eval_t *e)
{
    int64_t G = real->n_cols, *cr = sdd_malloc((size_t)nl * sizeof *cr), *cs = sdd_malloc((size_t)nl * sizeof *cs);
    double *sr = sdd_malloc((size_t)nl * (size_t)G * sizeof *sr), *ss = sdd_malloc((size_t)nl * (size_t)G * sizeof *ss);
    double *er = sdd_malloc((size_t)nl * (size_t)G * sizeof *er), *es = sdd_malloc((size_t)nl * (size_t)G * sizeof *es);
    double *dr = sdd_malloc((size_t)nl * (size_t)G * sizeof *dr), *ds = sdd_malloc((size_t)nl * (size_t)G * sizeof *ds);
    int64_t *keep = sdd_malloc((size_t)G * sizeof *keep);
    double *nzr = sdd_malloc((size_t)nl * sizeof *nzr), *nzs = sdd_malloc((size_t)nl * sizeof *nzs);
    double *a = sdd_malloc((size_t)G * sizeof *a), *b = sdd_malloc((size_t)G * sizeof *b);
    int rc = SDD_ENOMEM;
    if (!cr || !cs || !sr || !ss || !er || !es || !dr || !ds || !keep || !nzr || !nzs || !a || !b) goto fail;
    if (!(e->per_label = sdd_calloc((size_t)nl, sizeof *e->per_label))) goto fail;
    label_sums(real, rl, nl, sr, er, dr, nzr, cr);
    label_sums(synth, sl, nl, ss, es, ds, nzs, cs);
    for (int l = 0; l < nl; l++) {
        sdd_eval_label_t *L = &e->per_label[e->n_labels];
        if (cr[l] < opt->min_label_cells || cs[l] < opt->min_label_cells) continue;
        if (!(L->name = sdd_strdup(names[l]))) goto fail;
        e->n_labels++;
        L->n_real = cr[l], L->n_synth = cs[l];
        L->sparsity_real = 1.0 - nzr[l] / ((double)cr[l] * (double)G);
        L->sparsity_synth = 1.0 - nzs[l] / ((double)cs[l] * (double)G);
        for (int64_t g = 0; g < G; g++) a[g] = sr[l * G + g] / (double)cr[l], b[g] = ss[l * G + g] / (double)cs[l];
        L->scc = sdd_spearman(a, b, G);
        L->pcc = sdd_pearson(a, b, G);
        log_fold_change(er, cr, nl, l, G, a);
        log_fold_change(es, cs, nl, l, G, b);
        L->n_tested = tested_genes(dr, cr, nl, l, G, keep);
        for (int64_t q = 0; q < L->n_tested; q++) a[q] = a[keep[q]], b[q] = b[keep[q]];
        L->lfc_pcc = L->n_tested >= 2 ? sdd_pearson(a, b, L->n_tested) : NAN;
        L->lfc_pcc_markers = NAN;
        if (L->n_tested >= 2 && (rc = marker_pcc(a, b, L->n_tested, &L->lfc_pcc_markers)) < 0) goto fail;
        if ((rc = label_mmd(S, n, k, e, rl, sl, l, L)) < 0) goto fail;
    }
    rc = SDD_OK;
fail:
    free(cr);
    free(cs);
    free(sr);
    free(ss);
    free(er);
    free(es);
    free(dr);
    free(ds);
    free(keep);
    free(nzr);
    free(nzs);
    free(a);
    free(b);
    return rc;
}

/* Step `done` of the evaluation for the progress callback; SDD_EINTR on request. */
static int step(sdd_progress_f progress, void *user, int done, const char *what)
{
    if (progress && progress("evaluate", done, 6, what, user)) return sdd_error(SDD_EINTR, "evaluation interrupted");
    return SDD_OK;
}

/* The joint subsample [2n x G], real rows first. */
static int joint_matrix(const sdd_csr_t *real, const sdd_csr_t *synth, const sdd_eval_t *e, sdd_csr_t *J)
{
    sdd_csr_t B = {0};
    int rc = sdd_csr_select_rows(real, e->sub_real, e->n_sub, J);
    if (rc == 0) rc = sdd_csr_select_rows(synth, e->sub_synth, e->n_sub, &B);
    if (rc == 0) rc = sdd_csr_append_rows(J, &B);
    sdd_csr_free(&B);
    return rc;
}

int sdd_evaluate(const sdd_csr_t *real, const sdd_csr_t *synth, const int32_t *real_labels,
                 const int32_t *synth_labels, char *const *label_names, int n_label_names,
                 const sdd_eval_opt_t *opt, sdd_progress_f progress, void *user, sdd_eval_t **out)
{
    sdd_eval_t *e = NULL;
    sdd_csr_t J = {0};
    sdd_pca_t pca = {0};
    sdd_rng_t rng;
    int64_t n;
    int rc;

    *out = NULL;
    if ((rc = sdd_eval_opt_check(opt)) < 0) return rc;
    if (real->n_cols != synth->n_cols)
        return sdd_error(SDD_EINVAL, "real has %lld genes, synthetic %lld: match genes first",
                         (long long)real->n_cols, (long long)synth->n_cols);
    if (real->n_rows < 3 || synth->n_rows < 3 || real->n_cols < 2)
        return sdd_error(SDD_EINVAL, "evaluation needs at least 3 cells per side and 2 genes");
    if (!real_labels != !synth_labels) return sdd_error(SDD_EINVAL, "labels must be given for both sides or neither");
    n = real->n_rows < synth->n_rows ? real->n_rows : synth->n_rows;
    if (n > opt->n_sub) n = opt->n_sub;
    rc = SDD_ENOMEM;
    if (!(e = sdd_calloc(1, sizeof *e))) goto fail;
    e->n_real = real->n_rows, e->n_synth = synth->n_rows, e->n_genes = real->n_cols, e->n_sub = n;
    e->hist_bins = opt->hist_bins;
    e->zero_hist_real = sdd_malloc((size_t)opt->hist_bins * sizeof(double));
    e->zero_hist_synth = sdd_malloc((size_t)opt->hist_bins * sizeof(double));
    e->sub_real = sdd_malloc((size_t)n * sizeof *e->sub_real);
    e->sub_synth = sdd_malloc((size_t)n * sizeof *e->sub_synth);
    if (!e->zero_hist_real || !e->zero_hist_synth || !e->sub_real || !e->sub_synth) goto fail;
    if ((rc = step(progress, user, 0, "sparsity")) < 0 || (rc = global_stats(real, synth, e)) < 0) goto fail;
    sdd_rng_seed(&rng, opt->seed);
    if ((rc = sdd_subsample_rows(&rng, real->n_rows, n, e->sub_real)) < 0 ||
        (rc = sdd_subsample_rows(&rng, synth->n_rows, n, e->sub_synth)) < 0)
        goto fail;
    if ((rc = step(progress, user, 1, "pca")) < 0 || (rc = joint_matrix(real, synth, e, &J)) < 0 ||
        (rc = sdd_pca_fit(&J, opt->n_pcs, &pca)) < 0)
        goto fail;
    e->n_pcs = (int)pca.k;
    if ((rc = step(progress, user, 2, "mmd")) < 0 ||
        (rc = sdd_mmd(pca.scores, n, n, pca.k, &e->mmd, &e->mmd_bandwidth)) < 0)
        goto fail;
    if ((rc = step(progress, user, 3, "lisi, knn")) < 0 || (rc = mixing_stats(pca.scores, n, pca.k, opt, &rng, e)) < 0)
        goto fail;
    if (real_labels && (rc = step(progress, user, 4, "labels")) == 0)
        rc = label_stats(real, synth, real_labels, synth_labels, label_names, n_label_names, pca.scores, n,
                         pca.k, opt, e);
    if (rc < 0 || (rc = step(progress, user, 6, "done")) < 0) goto fail;
    sdd_csr_free(&J);
    sdd_pca_free(&pca);
    *out = e;
    return SDD_OK;
fail:
    sdd_csr_free(&J);
    sdd_pca_free(&pca);
    sdd_eval_destroy(e);
    return rc;
}
