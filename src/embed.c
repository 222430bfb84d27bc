/*
 * embed.c: the joint embedding of real and synthetic cells, laid out as scanpy's
 * pp.pca + pp.neighbors compute it, ready for sc.tl.umap (FORMATS.md, "UMAP-ready
 * export").
 *
 *   1. X = [real; synthetic] (n x G, log1p), PCA (pca.c): scores n x k.
 *   2. Exact kNN on the scores (knn.c) with k = n_neighbors counting the cell itself
 *      (scanpy's convention: 15 means the cell and 14 others). obsp['distances'] holds
 *      the Euclidean distances to the k - 1 others.
 *   3. UMAP's fuzzy simplicial set (umap-learn umap_.py), with local_connectivity 1:
 *        rho_i   = distance to the nearest other cell (first non-zero distance),
 *        sigma_i : sum_{j=1..k-1} exp(-max(0, d_ij - rho_i) / sigma_i) = log2 k, by
 *                  bisection (64 steps, tolerance 1e-5), then floored at 1e-3 times the
 *                  mean distance of the row (or of all rows when rho_i = 0),
 *        a_ij    = exp(-max(0, d_ij - rho_i) / sigma_i), 0 on the diagonal,
 *        W       = A + A^T - A o A^T   (fuzzy union, set_op_mix_ratio 1).
 *   4. Optionally the UMAP layout (McInnes, Healy, Melville 2018) by stochastic gradient
 *      descent on W, as umap-learn's simplicial_set_embedding / optimize_layout_euclidean
 *      compute it with scanpy's defaults (min_dist 0.5, spread 1), started from the
 *      first two PCs scaled to |coordinate| <= 10 plus N(0, 1e-4) noise (init="pca"):
 *        q(d) = 1 / (1 + a d^{2b}), a = 0.58303, b = 1.33417 (umap's find_ab_params fit);
 *        edges with w < max(w) / n_epochs are dropped; edge e is sampled every
 *        max(w) / w_e epochs and pulls its ends together with
 *          g = -2ab d^{2(b-1)} / (1 + a d^{2b}) (y_i - y_j),
 *        then 5 negative samples per positive one push apart with
 *          g = 2b / ((0.001 + d^2)(1 + a d^{2b})) (y_i - y_k);
 *        gradient components clipped to [-4, 4]; learning rate 1 - (epoch - 1) / n_epochs;
 *        the initial layout is rescaled to [0, 10] in each dimension first.
 *      One sequential pass per epoch and one seeded sdd_rng_t for the negative samples:
 *      a seed gives the same layout on every run (umap-learn's parallel loop does not).
 *
 * Invariants: W is symmetric with entries in (0, 1] and an empty diagonal; rows of both
 * graphs are sorted by column.
 */
#include "sdd_internal.h"
#include <math.h>

#define SMOOTH_K_TOLERANCE 1e-5
#define MIN_K_DIST_SCALE 1e-3

void sdd_embed_opt_init(sdd_embed_opt_t *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->n_pcs = 50;
    opt->n_neighbors = 15;
    opt->seed = 42;
}

int sdd_embed_opt_check(const sdd_embed_opt_t *opt)
{
    int rc;
    if ((rc = sdd_opt_check_table(SDD_OPTS_EMBED, opt)) < 0) return rc;
    if (opt->n_epochs < 0 || opt->n_epochs > 100000) return sdd_error(SDD_EINVAL, "UMAP epochs %d: must be in [0, 100000]", opt->n_epochs);
    return SDD_OK;
}

void sdd_embed_destroy(sdd_embed_t *e)
{
    if (!e) return;
    sdd_csr_free(&e->X);
    sdd_pca_free(&e->pca);
    sdd_csr_free(&e->distances);
    sdd_csr_free(&e->connectivities);
    free(e->umap);
    free(e);
}

/* umap-learn smooth_knn_dist for one row d[k] (d[0] = 0, the cell itself). */
static void smooth_knn_row(const double *d, int k, double mean_all, double *sigma, double *rho)
{
    double target = log2((double)k), lo = 0, hi = INFINITY, mid = 1, mean_row = 0;
    *rho = 0;
    for (int j = 0; j < k; j++) {
        mean_row += d[j];
        if (*rho == 0 && d[j] > 0) *rho = d[j];
    }
    mean_row /= k;
    for (int it = 0; it < 64; it++) {
        double psum = 0;
        for (int j = 1; j < k; j++) {
            double x = d[j] - *rho;
            psum += x > 0 ? exp(-(x / mid)) : 1.0;
        }
        if (fabs(psum - target) < SMOOTH_K_TOLERANCE) break;
        if (psum > target) {
            hi = mid;
            mid = (lo + hi) / 2;
        } else {
            lo = mid;
            mid = isinf(hi) ? mid * 2 : (lo + hi) / 2;
        }
    }
    if (*rho > 0) {
        if (mid < MIN_K_DIST_SCALE * mean_row) mid = MIN_K_DIST_SCALE * mean_row;
    } else if (mid < MIN_K_DIST_SCALE * mean_all) {
        mid = MIN_K_DIST_SCALE * mean_all;
    }
    *sigma = mid;
}

/* W = A + A^T - A o A^T, row by row (both operands have sorted rows). */
static int fuzzy_union(const sdd_csr_t *A, const sdd_csr_t *T, sdd_csr_t *W)
{
    int64_t nz = 0;
    int rc = sdd_csr_alloc(W, A->n_rows, A->n_cols, A->nnz + T->nnz);
    if (rc < 0) return rc;
    for (int64_t i = 0; i < A->n_rows; i++) {
        int64_t p = A->indptr[i], pe = A->indptr[i + 1], q = T->indptr[i], qe = T->indptr[i + 1];
        while (p < pe || q < qe) {
            int32_t c;
            float a = 0, b = 0;
            if (q >= qe || (p < pe && A->indices[p] < T->indices[q])) c = A->indices[p], a = A->data[p++];
            else if (p >= pe || T->indices[q] < A->indices[p]) c = T->indices[q], b = T->data[q++];
            else c = A->indices[p], a = A->data[p++], b = T->data[q++];
            W->indices[nz] = c;
            W->data[nz++] = a + b - a * b;
        }
        W->indptr[i + 1] = nz;
    }
    W->nnz = nz;
    return SDD_OK;
}

int sdd_fuzzy_simplicial_set(const int64_t *knn_idx, const double *knn_dist, int64_t n, int k,
                             double *sigma, double *rho, sdd_csr_t *out)
{
    sdd_csr_t A = {0}, T = {0};
    double mean_all = 0, s, r;
    int64_t nz = 0;
    int rc;

    memset(out, 0, sizeof *out);
    for (int64_t i = 0; i < n * k; i++) mean_all += knn_dist[i];
    mean_all /= (double)(n * k);
    if ((rc = sdd_csr_alloc(&A, n, n, n * (k - 1))) < 0) return rc;
    for (int64_t i = 0; i < n; i++) {
        smooth_knn_row(knn_dist + i * k, k, mean_all, &s, &r);
        if (sigma) sigma[i] = s;
        if (rho) rho[i] = r;
        for (int j = 0; j < k; j++) {
            int64_t c = knn_idx[i * k + j];
            double d = knn_dist[i * k + j], v;
            if (c == i || c < 0) continue;
            v = (d - r <= 0 || s == 0) ? 1.0 : exp(-((d - r) / s));
            if ((float)v == 0) continue; /* scipy's eliminate_zeros */
            A.indices[nz] = (int32_t)c;
            A.data[nz++] = (float)v;
        }
        A.indptr[i + 1] = nz;
    }
    A.nnz = nz;
    if ((rc = sdd_csr_sort(&A)) == 0 && (rc = sdd_csr_transpose(&A, &T)) == 0 && (rc = sdd_csr_sort(&T)) == 0)
        rc = fuzzy_union(&A, &T, out);
    sdd_csr_free(&A);
    sdd_csr_free(&T);
    return rc;
}

/* kNN lists with the cell itself first (distance 0), as umap's nearest_neighbors. */
int sdd_self_knn(const double *S, int64_t n, int64_t d, int k, int64_t *idx, double *dist)
{
    int64_t *self = sdd_malloc((size_t)n * sizeof *self), *oi = NULL;
    double *od = NULL;
    int rc = SDD_ENOMEM;
    oi = sdd_malloc((size_t)n * (size_t)(k - 1) * sizeof *oi);
    od = sdd_malloc((size_t)n * (size_t)(k - 1) * sizeof *od);
    if (!self || !oi || !od) goto fail;
    for (int64_t i = 0; i < n; i++) self[i] = i;
    if ((rc = sdd_knn(S, n, S, n, d, k - 1, self, oi, od)) < 0) goto fail;
    for (int64_t i = 0; i < n; i++) {
        idx[i * k] = i, dist[i * k] = 0;
        for (int j = 1; j < k; j++) {
            idx[i * k + j] = oi[i * (k - 1) + j - 1];
            dist[i * k + j] = sqrt(od[i * (k - 1) + j - 1]);
        }
    }
fail:
    free(self);
    free(oi);
    free(od);
    return rc;
}

/* scanpy's obsp['distances']: the k - 1 other neighbours, zeros dropped, sorted rows. */
static int distance_graph(const int64_t *idx, const double *dist, int64_t n, int k, sdd_csr_t *D)
{
    int64_t nz = 0;
    int rc = sdd_csr_alloc(D, n, n, n * (k - 1));
    if (rc < 0) return rc;
    for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < k; j++) {
            if (idx[i * k + j] == i || (float)dist[i * k + j] == 0) continue;
            D->indices[nz] = (int32_t)idx[i * k + j];
            D->data[nz++] = (float)dist[i * k + j];
        }
        D->indptr[i + 1] = nz;
    }
    D->nnz = nz;
    return sdd_csr_sort(D);
}

/* ---------------------------------------------------------------- UMAP layout */

#define UMAP_A 0.583030020479462
#define UMAP_B 1.3341669929263487
#define NEG_RATE 5

static inline double clip4(double g) { return g > 4 ? 4 : g < -4 ? -4 : g; }

static void rescale(float *y, int64_t n)
{
    for (int c = 0; c < 2; c++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int64_t i = 0; i < n; i++) lo = fminf(lo, y[2 * i + c]), hi = fmaxf(hi, y[2 * i + c]);
        for (int64_t i = 0; i < n; i++) y[2 * i + c] = hi > lo ? 10.0f * (y[2 * i + c] - lo) / (hi - lo) : 0;
    }
}

/* One positive sample of edge (j, k) followed by its due negative samples. */
static void sample_edge(float *y, int64_t n, int64_t j, int64_t k, double alpha, int n_neg, sdd_rng_t *rng)
{
    float *cur = y + 2 * j, *oth = y + 2 * k;
    double dx = cur[0] - oth[0], dy = cur[1] - oth[1], d2 = dx * dx + dy * dy, g = 0;
    if (d2 > 0) g = -2.0 * UMAP_A * UMAP_B * pow(d2, UMAP_B - 1.0) / (UMAP_A * pow(d2, UMAP_B) + 1.0);
    {
        double gx = clip4(g * dx), gy = clip4(g * dy);
        cur[0] += (float)(gx * alpha), cur[1] += (float)(gy * alpha);
        oth[0] -= (float)(gx * alpha), oth[1] -= (float)(gy * alpha);
    }
    for (int p = 0; p < n_neg; p++) {
        int64_t r = (int64_t)sdd_rng_below(rng, (uint64_t)n);
        float *o = y + 2 * r;
        double ex = cur[0] - o[0], ey = cur[1] - o[1], e2 = ex * ex + ey * ey, gx, gy;
        if (e2 > 0) {
            double h = 2.0 * UMAP_B / ((0.001 + e2) * (UMAP_A * pow(e2, UMAP_B) + 1.0));
            gx = clip4(h * ex), gy = clip4(h * ey);
        } else if (r == j) {
            continue;
        } else {
            gx = gy = 4.0;
        }
        cur[0] += (float)(gx * alpha), cur[1] += (float)(gy * alpha);
    }
}

int sdd_umap_layout(const sdd_csr_t *G, int n_epochs, uint64_t seed, float *init)
{
    int64_t n = G->n_rows, m = 0, *head = NULL, *tail = NULL;
    double *eps = NULL, *next = NULL, *next_neg = NULL, wmax = 0;
    sdd_rng_t rng;
    int rc = SDD_ENOMEM;

    if (n_epochs < 1) return sdd_error(SDD_EINVAL, "UMAP needs at least one epoch");
    for (int64_t p = 0; p < G->nnz; p++) wmax = fmax(wmax, G->data[p]);
    head = sdd_malloc((size_t)G->nnz * sizeof *head + 1);
    tail = sdd_malloc((size_t)G->nnz * sizeof *tail + 1);
    eps = sdd_malloc((size_t)G->nnz * sizeof *eps + 1);
    next = sdd_malloc((size_t)G->nnz * sizeof *next + 1);
    next_neg = sdd_malloc((size_t)G->nnz * sizeof *next_neg + 1);
    if (!head || !tail || !eps || !next || !next_neg) goto fail;
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = G->indptr[i]; p < G->indptr[i + 1]; p++) {
            double w = G->data[p];
            if (w < wmax / n_epochs || w <= 0) continue;
            head[m] = i, tail[m] = G->indices[p];
            eps[m] = (double)n_epochs / ((double)n_epochs * (w / wmax));
            next[m] = eps[m];
            next_neg[m] = eps[m] / NEG_RATE;
            m++;
        }
    rescale(init, n);
    sdd_rng_seed(&rng, seed);
    for (int ep = 0; ep < n_epochs; ep++) {
        /* umap-learn lowers alpha after each epoch: epochs 0 and 1 both run at 1 */
        double alpha = ep == 0 ? 1.0 : 1.0 - (double)(ep - 1) / n_epochs;
        for (int64_t e = 0; e < m; e++) {
            int n_neg;
            if (next[e] > ep) continue;
            n_neg = (int)((ep - next_neg[e]) / (eps[e] / NEG_RATE));
            sample_edge(init, n, head[e], tail[e], alpha, n_neg > 0 ? n_neg : 0, &rng);
            next[e] += eps[e];
            next_neg[e] += n_neg * (eps[e] / NEG_RATE);
        }
    }
    rc = SDD_OK;
fail:
    free(head);
    free(tail);
    free(eps);
    free(next);
    free(next_neg);
    return rc;
}

/* The UMAP layout from PC1 and PC2 scaled to max |coordinate| 10 plus N(0, 1e-4) noise
 * (umap-learn's init="pca"). */
static int layout(sdd_embed_t *e, const sdd_embed_opt_t *opt)
{
    int64_t n = e->n, k = e->pca.k;
    double big = 0;
    sdd_rng_t rng;
    int epochs = opt->n_epochs > 0 ? opt->n_epochs : n <= 10000 ? 500 : 200;
    if (!(e->umap = sdd_malloc((size_t)n * 2 * sizeof *e->umap))) return SDD_ENOMEM;
    for (int64_t i = 0; i < n * k; i += k)
        for (int c = 0; c < 2; c++) big = fmax(big, fabs(e->pca.scores[i + c]));
    sdd_rng_seed(&rng, opt->seed);
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < 2; c++)
            e->umap[2 * i + c] = (float)(e->pca.scores[i * k + c] * (big > 0 ? 10 / big : 1)) +
                                 (float)(1e-4 * sdd_rng_normal(&rng));
    return sdd_umap_layout(&e->connectivities, epochs, sdd_rng_u64(&rng), e->umap);
}

static int step(sdd_progress_f progress, void *user, int done, const char *what)
{
    if (progress && progress("embed", done, 4, what, user)) return sdd_error(SDD_EINTR, "embedding interrupted");
    return SDD_OK;
}

int sdd_embed_run(const sdd_pair_t *pair, const sdd_embed_opt_t *opt, sdd_progress_f progress,
                  void *user, sdd_embed_t **out)
{
    sdd_embed_t *e = NULL;
    int64_t *idx = NULL, n = pair->real.n_rows + pair->synth.n_rows;
    double *dist = NULL;
    int k, rc;

    *out = NULL;
    if ((rc = sdd_embed_opt_check(opt)) < 0) return rc;
    if (n < 3) return sdd_error(SDD_EINVAL, "embedding needs at least 3 cells");
    k = opt->n_neighbors < n ? opt->n_neighbors : (int)n;
    rc = SDD_ENOMEM;
    if (!(e = sdd_calloc(1, sizeof *e))) goto fail;
    e->n = n, e->n_real = pair->real.n_rows, e->n_neighbors = k;
    idx = sdd_malloc((size_t)n * (size_t)k * sizeof *idx);
    dist = sdd_malloc((size_t)n * (size_t)k * sizeof *dist);
    if (!idx || !dist) goto fail;
    if ((rc = step(progress, user, 0, "pca")) < 0 || (rc = sdd_csr_alloc(&e->X, 0, pair->G, 0)) < 0 || (rc = sdd_csr_append_rows(&e->X, &pair->real)) < 0 ||
        (rc = sdd_csr_append_rows(&e->X, &pair->synth)) < 0 || (rc = sdd_pca_fit(&e->X, opt->n_pcs, &e->pca)) < 0)
        goto fail;
    if ((rc = step(progress, user, 1, "neighbours")) < 0 ||
        (rc = sdd_self_knn(e->pca.scores, n, e->pca.k, k, idx, dist)) < 0 ||
        (rc = distance_graph(idx, dist, n, k, &e->distances)) < 0 ||
        (rc = sdd_fuzzy_simplicial_set(idx, dist, n, k, NULL, NULL, &e->connectivities)) < 0)
        goto fail;
    if (opt->umap && ((rc = step(progress, user, 2, "umap")) < 0 || (rc = layout(e, opt)) < 0)) goto fail;
    if ((rc = step(progress, user, 4, "done")) < 0) goto fail;
    free(idx);
    free(dist);
    *out = e;
    return SDD_OK;
fail:
    free(idx);
    free(dist);
    sdd_embed_destroy(e);
    return rc;
}
