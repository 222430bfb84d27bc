/*
 * pca.c: principal component analysis of a cells x genes matrix (doc/method.md §8.4, the
 * joint PCA of real and synthetic cells behind MMD, LISI, the kNN classifier and the
 * UMAP-ready export).
 *
 * Method: exact eigendecomposition of the G x G sample covariance
 *     C = (X - 1 mu^T)^T (X - 1 mu^T) / (n - 1),   mu_g = mean_i x_ig,
 * accumulated in double by dsyrk over dense row blocks of the centred matrix (the CSR
 * input is never densified whole), then LAPACK's dsyevr (MRRR) for the k largest
 * eigenpairs only. The eigenvalues are the explained variances (scanpy / scikit-learn
 * `explained_variance_`), the eigenvectors the loadings; scores = (X - mu) V.
 * The covariance route is exact (no randomisation, so no seed) and for G up to
 * SDD_PCA_EXACT_GENES costs n G^2 flops for C plus O(G^2 k) for the eigenpairs.
 *
 * Above that (all genes rather than highly variable ones) the G x G matrix would not fit,
 * and the randomized SVD of Halko et al. (2011, algorithm 4.4) is used instead, with
 * scikit-learn's randomized_svd settings (7 power iterations, QR between them) but
 * k + max(10, k) test vectors: with k + 10 the 50th component of a flat spectrum moved
 * the MMD by 0.2%, with 2k by 0.02% (tests/test_metrics.c). The centred matrix is applied implicitly,
 *     (X - 1 mu^T) V = X V - 1 (mu^T V),   (X - 1 mu^T)^T U = X^T U - mu (1^T U),
 * so X stays sparse. For the final step, B = Q^T (X - 1 mu^T) (l x G) is decomposed
 * through the l x l eigenproblem of B B^T: B B^T w = s^2 w, v = B^T w / s. The test
 * vectors come from a fixed seed, so the result is a deterministic function of X.
 *
 * Invariants: components are orthonormal, in descending variance order, and their sign
 * is fixed so that each component's entry of largest magnitude is positive (first such
 * entry on ties): the same input gives the same components on every run and platform
 * BLAS rounding aside.
 */
#include "blas.h"
#include <math.h>

#define PCA_BLOCK 512 /* rows densified at a time */
#define RSVD_OVERSAMPLE 10 /* at least; k when larger */
#define RSVD_ITER 7
#define RSVD_SEED 0x7063612d72737664ULL

void sdd_pca_free(sdd_pca_t *p)
{
    if (!p) return;
    free(p->mean);
    free(p->components);
    free(p->variance);
    free(p->variance_ratio);
    free(p->scores);
    memset(p, 0, sizeof *p);
}

/* Rows [r0, r0 + b) of X, centred, into buf [b x G] (double). */
static void dense_centred(const sdd_csr_t *X, int64_t r0, int64_t b, const double *mean, double *buf)
{
    int64_t G = X->n_cols;
    for (int64_t i = 0; i < b; i++) {
        double *row = buf + i * G;
        for (int64_t g = 0; g < G; g++) row[g] = -mean[g];
        for (int64_t p = X->indptr[r0 + i]; p < X->indptr[r0 + i + 1]; p++)
            row[X->indices[p]] += X->data[p];
    }
}

/* Upper triangle (row-major) of sum_i (x_i - mu)(x_i - mu)^T / (n - 1) into C [G x G]. */
static int covariance(const sdd_csr_t *X, const double *mean, double *C)
{
    int64_t n = X->n_rows, G = X->n_cols;
    double *buf = sdd_malloc((size_t)PCA_BLOCK * (size_t)G * sizeof *buf);
    if (!buf) return SDD_ENOMEM;
    memset(C, 0, (size_t)G * (size_t)G * sizeof *C);
    for (int64_t r0 = 0; r0 < n; r0 += PCA_BLOCK) {
        int64_t b = n - r0 < PCA_BLOCK ? n - r0 : PCA_BLOCK;
        dense_centred(X, r0, b, mean, buf);
        sdd_dsyrk_t((int)G, (int)b, 1.0, buf, (int)G, 1.0, C, (int)G);
    }
    for (int64_t i = 0; i < G; i++)
        for (int64_t j = i; j < G; j++) C[i * G + j] /= (double)(n - 1);
    free(buf);
    return SDD_OK;
}

/* The k largest eigenpairs of the symmetric C [G x G] (upper triangle, row-major =
 * lower triangle column-major): w [k] descending, V [k x G] rows = eigenvectors. */
static int top_eigen(double *C, int G, int k, double *w, double *V)
{
    int il = G - k + 1, iu = G, m = 0, info = 0, lwork = -1, liwork = -1, iwq = 0;
    double wq = 0;
    double *wa = NULL, *z = NULL, *work = NULL;
    int *isuppz = NULL, *iwork = NULL, rc = SDD_ENOMEM;

    info = sdd_dsyevr(G, C, G, il, iu, &m, w, V, G, NULL, &wq, lwork, &iwq, liwork);
    if (info != 0) return sdd_error(SDD_EINVAL, "PCA: dsyevr workspace query failed (info %d)", info);
    lwork = (int)wq + 1;
    liwork = iwq + 1;
    wa = sdd_malloc((size_t)G * sizeof *wa);
    z = sdd_malloc((size_t)G * (size_t)k * sizeof *z);
    work = sdd_malloc((size_t)lwork * sizeof *work);
    isuppz = sdd_malloc(2 * (size_t)k * sizeof *isuppz);
    iwork = sdd_malloc((size_t)liwork * sizeof *iwork);
    if (!wa || !z || !work || !isuppz || !iwork) goto fail;
    info = sdd_dsyevr(G, C, G, il, iu, &m, wa, z, G, isuppz, work, lwork, iwork, liwork);
    if (info != 0 || m != k) {
        rc = sdd_error(SDD_EDATA, "PCA: eigendecomposition did not converge (info %d, %d of %d)",
                       info, m, k);
        goto fail;
    }
    /* dsyevr returns ascending eigenvalues; z column j (column-major) is eigenvector j */
    for (int j = 0; j < k; j++) {
        const double *src = z + (size_t)(k - 1 - j) * (size_t)G;
        double *dst = V + (size_t)j * (size_t)G, big = 0;
        int arg = 0;
        w[j] = wa[k - 1 - j];
        for (int g = 0; g < G; g++)
            if (fabs(src[g]) > big) big = fabs(src[g]), arg = g;
        for (int g = 0; g < G; g++) dst[g] = src[arg] < 0 ? -src[g] : src[g];
    }
    rc = SDD_OK;
fail:
    free(wa);
    free(z);
    free(work);
    free(isuppz);
    free(iwork);
    return rc;
}

/* scores [n x k] = (X - mu) V^T, block by block. */
int sdd_pca_transform(const sdd_pca_t *p, const sdd_csr_t *X, double *scores)
{
    int64_t n = X->n_rows, G = X->n_cols;
    double *buf;
    if (G != p->G)
        return sdd_error(SDD_EINVAL, "PCA projection: %lld genes given, the PCA has %lld", (long long)G,
                         (long long)p->G);
    if (!(buf = sdd_malloc((size_t)PCA_BLOCK * (size_t)G * sizeof *buf))) return SDD_ENOMEM;
    for (int64_t r0 = 0; r0 < n; r0 += PCA_BLOCK) {
        int64_t b = n - r0 < PCA_BLOCK ? n - r0 : PCA_BLOCK;
        dense_centred(X, r0, b, p->mean, buf);
        sdd_dgemm(0, 1, (int)b, (int)p->k, (int)G, 1.0, buf, (int)G, p->components, (int)G, 0.0,
                  scores + r0 * p->k, (int)p->k);
    }
    free(buf);
    return SDD_OK;
}

/* Shared set-up: checks, k lowered, arrays allocated, column means. */
static int pca_begin(const sdd_csr_t *X, int *k, sdd_pca_t *out)
{
    int64_t n = X->n_rows, G = X->n_cols;
    memset(out, 0, sizeof *out);
    if (n < 2 || G < 1)
        return sdd_error(SDD_EINVAL, "PCA needs at least 2 cells and 1 gene (got %lld x %lld)", (long long)n,
                         (long long)G);
    if (*k < 1) return sdd_error(SDD_EINVAL, "PCA: number of components %d must be >= 1", *k);
    if (*k > G) *k = (int)G;
    if (*k > n - 1) *k = (int)(n - 1);
    out->n = n, out->G = G, out->k = *k;
    out->mean = sdd_calloc((size_t)G, sizeof *out->mean);
    out->components = sdd_malloc((size_t)*k * (size_t)G * sizeof *out->components);
    out->variance = sdd_malloc((size_t)*k * sizeof *out->variance);
    out->variance_ratio = sdd_malloc((size_t)*k * sizeof *out->variance_ratio);
    out->scores = sdd_malloc((size_t)n * (size_t)*k * sizeof *out->scores);
    if (!out->mean || !out->components || !out->variance || !out->variance_ratio || !out->scores) {
        sdd_pca_free(out);
        return SDD_ENOMEM;
    }
    for (int64_t p = 0; p < X->nnz; p++) out->mean[X->indices[p]] += X->data[p];
    for (int64_t g = 0; g < G; g++) out->mean[g] /= (double)n;
    return SDD_OK;
}

static void pca_ratios(sdd_pca_t *p)
{
    for (int64_t j = 0; j < p->k; j++) {
        if (p->variance[j] < 0) p->variance[j] = 0; /* rounding below a zero eigenvalue */
        p->variance_ratio[j] = p->total_variance > 0 ? p->variance[j] / p->total_variance : 0;
    }
}

int sdd_pca_fit(const sdd_csr_t *X, int k, sdd_pca_t *out)
{
    int64_t G = X->n_cols;
    double *C = NULL;
    int rc;

    if (G > SDD_PCA_EXACT_GENES) return sdd_pca_fit_randomized(X, k, RSVD_ITER, RSVD_SEED, out);
    if ((rc = pca_begin(X, &k, out)) < 0) return rc;
    rc = SDD_ENOMEM;
    if (!(C = sdd_malloc((size_t)G * (size_t)G * sizeof *C))) goto fail;
    if ((rc = covariance(X, out->mean, C)) < 0) goto fail;
    out->total_variance = 0;
    for (int64_t g = 0; g < G; g++) out->total_variance += C[g * G + g];
    if ((rc = top_eigen(C, (int)G, k, out->variance, out->components)) < 0) goto fail;
    pca_ratios(out);
    if ((rc = sdd_pca_transform(out, X, out->scores)) < 0) goto fail;
    free(C);
    return SDD_OK;
fail:
    free(C);
    sdd_pca_free(out);
    return rc;
}

/* ------------------------------------------------------- randomized SVD */

/* Y [n x l] = (X - 1 mu^T) V with V [G x l], both row-major: each stored x_ig adds
 * x_ig V[g, :] to a contiguous row of Y. */
static void centred_times(const sdd_csr_t *X, const double *mu, const double *V, int l, double *Y)
{
    int64_t n = X->n_rows, G = X->n_cols;
    double mv[l > 0 ? l : 1]; /* mu^T V */
    for (int t = 0; t < l; t++) mv[t] = 0;
    for (int64_t g = 0; g < G; g++)
        for (int t = 0; t < l; t++) mv[t] += mu[g] * V[(size_t)g * l + t];
    for (int64_t i = 0; i < n; i++) {
        double *y = Y + (size_t)i * l;
        for (int t = 0; t < l; t++) y[t] = -mv[t];
        for (int64_t p = X->indptr[i]; p < X->indptr[i + 1]; p++) {
            const double *v = V + (size_t)X->indices[p] * l;
            double x = X->data[p];
            for (int t = 0; t < l; t++) y[t] += x * v[t];
        }
    }
}

/* Z [G x l] = (X - 1 mu^T)^T U with U [n x l], both row-major. */
static void centred_t_times(const sdd_csr_t *X, const double *mu, const double *U, int l, double *Z)
{
    int64_t n = X->n_rows, G = X->n_cols;
    double su[l > 0 ? l : 1];
    for (int t = 0; t < l; t++) su[t] = 0;
    for (int64_t i = 0; i < n; i++)
        for (int t = 0; t < l; t++) su[t] += U[(size_t)i * l + t];
    for (int64_t g = 0; g < G; g++)
        for (int t = 0; t < l; t++) Z[(size_t)g * l + t] = -mu[g] * su[t];
    for (int64_t i = 0; i < n; i++) {
        const double *u = U + (size_t)i * l;
        for (int64_t p = X->indptr[i]; p < X->indptr[i + 1]; p++) {
            double *z = Z + (size_t)X->indices[p] * l, x = X->data[p];
            for (int t = 0; t < l; t++) z[t] += x * u[t];
        }
    }
}

/* Orthonormal basis of the columns of A [m x l] (row-major), in place, by LAPACK's QR on
 * a column-major copy. */
static int orthonormalize(double *A, int m, int l)
{
    int info = 0, lwork = -1;
    double wq = 0, *tau = sdd_malloc((size_t)l * sizeof *tau), *work = NULL;
    double *c = sdd_malloc((size_t)m * l * sizeof *c);
    if (!tau || !c) goto done;
    for (int i = 0; i < m; i++)
        for (int t = 0; t < l; t++) c[(size_t)t * m + i] = A[(size_t)i * l + t];
    info = sdd_dgeqrf(m, l, c, m, tau, &wq, lwork);
    lwork = (int)wq + 1;
    if (info == 0 && (work = sdd_malloc((size_t)lwork * sizeof *work))) {
        info = sdd_dgeqrf(m, l, c, m, tau, work, lwork);
        if (info == 0) info = sdd_dorgqr(m, l, l, c, m, tau, work, lwork);
    }
    for (int i = 0; i < m; i++)
        for (int t = 0; t < l; t++) A[(size_t)i * l + t] = c[(size_t)t * m + i];
done:
    free(tau);
    free(c);
    if (!work) return SDD_ENOMEM;
    free(work);
    return info == 0 ? SDD_OK : sdd_error(SDD_EDATA, "PCA: QR factorisation failed (info %d)", info);
}

/* Components from B^T = (X - 1 mu^T)^T Q [G x l, row-major]: eigenpairs of B B^T. */
static int small_svd(const double *Bt, int64_t G, int l, int k, sdd_pca_t *out)
{
    double *C = sdd_malloc((size_t)l * l * sizeof *C), *w = sdd_malloc((size_t)k * sizeof *w);
    double *W = sdd_malloc((size_t)k * l * sizeof *W);
    int rc = SDD_ENOMEM;
    if (!C || !w || !W) goto fail;
    /* C = Bt^T Bt (l x l); symmetric, so row/column-major is the same */
    sdd_dgemm(1, 0, l, l, (int)G, 1.0, Bt, l, Bt, l, 0.0, C, l);
    if ((rc = top_eigen(C, l, k, w, W)) < 0) goto fail;
    for (int j = 0; j < k; j++) {
        double s = sqrt(w[j] > 0 ? w[j] : 0), big = 0;
        double *v = out->components + (size_t)j * G;
        int64_t arg = 0;
        out->variance[j] = w[j] / (double)(out->n - 1);
        for (int64_t g = 0; g < G; g++) {
            double a = 0;
            for (int t = 0; t < l; t++) a += Bt[(size_t)g * l + t] * W[(size_t)j * l + t];
            v[g] = s > 0 ? a / s : 0;
            if (fabs(v[g]) > big) big = fabs(v[g]), arg = g;
        }
        if (v[arg] < 0)
            for (int64_t g = 0; g < G; g++) v[g] = -v[g];
    }
    rc = SDD_OK;
fail:
    free(C);
    free(w);
    free(W);
    return rc;
}

/* scores = X V^T - 1 (mu^T V^T), sparse. */
static void project_sparse(const sdd_csr_t *X, sdd_pca_t *p)
{
    int64_t k = p->k, G = p->G;
    for (int64_t j = 0; j < k; j++) {
        const double *v = p->components + j * G;
        double m = 0;
        for (int64_t g = 0; g < G; g++) m += p->mean[g] * v[g];
        for (int64_t i = 0; i < X->n_rows; i++) {
            double s = -m;
            for (int64_t q = X->indptr[i]; q < X->indptr[i + 1]; q++) s += X->data[q] * v[X->indices[q]];
            p->scores[i * k + j] = s;
        }
    }
}

int sdd_pca_fit_randomized(const sdd_csr_t *X, int k, int n_iter, uint64_t seed, sdd_pca_t *out)
{
    int64_t n = X->n_rows, G = X->n_cols;
    double *V = NULL, *Q = NULL;
    sdd_rng_t rng;
    int l, rc;

    if ((rc = pca_begin(X, &k, out)) < 0) return rc;
    l = k + (k > RSVD_OVERSAMPLE ? k : RSVD_OVERSAMPLE);
    if (l > G) l = (int)G;
    if (l > n) l = (int)n;
    rc = SDD_ENOMEM;
    V = sdd_malloc((size_t)G * l * sizeof *V);
    Q = sdd_malloc((size_t)n * l * sizeof *Q);
    if (!V || !Q) goto fail;
    sdd_rng_seed(&rng, seed);
    for (int64_t i = 0; i < G * l; i++) V[i] = sdd_rng_normal(&rng);
    centred_times(X, out->mean, V, l, Q);
    if ((rc = orthonormalize(Q, (int)n, l)) < 0) goto fail;
    for (int it = 0; it < n_iter; it++) {
        centred_t_times(X, out->mean, Q, l, V);
        if ((rc = orthonormalize(V, (int)G, l)) < 0) goto fail;
        centred_times(X, out->mean, V, l, Q);
        if ((rc = orthonormalize(Q, (int)n, l)) < 0) goto fail;
    }
    centred_t_times(X, out->mean, Q, l, V); /* V = B^T */
    if ((rc = small_svd(V, G, l, k, out)) < 0) goto fail;
    out->total_variance = 0; /* the trace of the covariance: sum of column variances */
    {
        double *ss = sdd_calloc((size_t)G, sizeof *ss);
        if (!ss) goto fail;
        for (int64_t p = 0; p < X->nnz; p++) ss[X->indices[p]] += (double)X->data[p] * X->data[p];
        for (int64_t g = 0; g < G; g++) out->total_variance += (ss[g] - n * out->mean[g] * out->mean[g]) / (double)(n - 1);
        free(ss);
    }
    pca_ratios(out);
    project_sparse(X, out);
    free(V);
    free(Q);
    return SDD_OK;
fail:
    free(V);
    free(Q);
    sdd_pca_free(out);
    return rc;
}
