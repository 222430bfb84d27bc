/*
 * pca.c: principal component analysis of a cells x genes matrix (SPEC section 5, the
 * joint PCA of real and synthetic cells behind MMD, LISI, the kNN classifier and the
 * UMAP-ready export).
 *
 * Method: exact eigendecomposition of the G x G sample covariance
 *     C = (X - 1 mu^T)^T (X - 1 mu^T) / (n - 1),   mu_g = mean_i x_ig,
 * accumulated in double by dsyrk over dense row blocks of the centred matrix (the CSR
 * input is never densified whole), then LAPACK's dsyevr (MRRR) for the k largest
 * eigenpairs only. The eigenvalues are the explained variances (scanpy / scikit-learn
 * `explained_variance_`), the eigenvectors the loadings; scores = (X - mu) V.
 * The covariance route is exact (no randomisation, so no seed) and for G up to a few
 * thousand costs n G^2 flops for C plus O(G^2 k) for the eigenpairs.
 *
 * Invariants: components are orthonormal, in descending variance order, and their sign
 * is fixed so that each component's entry of largest magnitude is positive (first such
 * entry on ties): the same input gives the same components on every run and platform
 * BLAS rounding aside.
 */
#include "sdd_internal.h"
#include <cblas.h>
#include <math.h>

/* LAPACK from OpenBLAS (Fortran calling convention, hidden string lengths last). */
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a,
                    const int *lda, const double *vl, const double *vu, const int *il, const int *iu,
                    const double *abstol, int *m, double *w, double *z, const int *ldz, int *isuppz,
                    double *work, const int *lwork, int *iwork, const int *liwork, int *info,
                    size_t l_jobz, size_t l_range, size_t l_uplo);

#define PCA_BLOCK 512 /* rows densified at a time */

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
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)G, (int)b, 1.0, buf, (int)G, 1.0,
                    C, (int)G);
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
    double vl = 0, vu = 0, abstol = 0, wq = 0;
    double *wa = NULL, *z = NULL, *work = NULL;
    int *isuppz = NULL, *iwork = NULL, rc = SDD_ENOMEM;

    dsyevr_("V", "I", "L", &G, C, &G, &vl, &vu, &il, &iu, &abstol, &m, w, V, &G, NULL, &wq, &lwork,
            &iwq, &liwork, &info, 1, 1, 1);
    if (info != 0) return sdd_error(SDD_EINVAL, "PCA: dsyevr workspace query failed (info %d)", info);
    lwork = (int)wq + 1;
    liwork = iwq + 1;
    wa = sdd_malloc((size_t)G * sizeof *wa);
    z = sdd_malloc((size_t)G * (size_t)k * sizeof *z);
    work = sdd_malloc((size_t)lwork * sizeof *work);
    isuppz = sdd_malloc(2 * (size_t)k * sizeof *isuppz);
    iwork = sdd_malloc((size_t)liwork * sizeof *iwork);
    if (!wa || !z || !work || !isuppz || !iwork) goto fail;
    dsyevr_("V", "I", "L", &G, C, &G, &vl, &vu, &il, &iu, &abstol, &m, wa, z, &G, isuppz, work,
            &lwork, iwork, &liwork, &info, 1, 1, 1);
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
static int project(const sdd_csr_t *X, const sdd_pca_t *p)
{
    int64_t n = X->n_rows, G = X->n_cols;
    double *buf = sdd_malloc((size_t)PCA_BLOCK * (size_t)G * sizeof *buf);
    if (!buf) return SDD_ENOMEM;
    for (int64_t r0 = 0; r0 < n; r0 += PCA_BLOCK) {
        int64_t b = n - r0 < PCA_BLOCK ? n - r0 : PCA_BLOCK;
        dense_centred(X, r0, b, p->mean, buf);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)p->k, (int)G, 1.0, buf,
                    (int)G, p->components, (int)G, 0.0, p->scores + r0 * p->k, (int)p->k);
    }
    free(buf);
    return SDD_OK;
}

int sdd_pca_fit(const sdd_csr_t *X, int k, sdd_pca_t *out)
{
    int64_t n = X->n_rows, G = X->n_cols;
    double *C = NULL;
    int rc = SDD_ENOMEM;

    memset(out, 0, sizeof *out);
    if (n < 2 || G < 1) return sdd_error(SDD_EINVAL, "PCA needs at least 2 cells and 1 gene (got %lld x %lld)",
                                         (long long)n, (long long)G);
    if (G > SDD_PCA_MAX_GENES)
        return sdd_error(SDD_EUNSUPPORTED, "PCA over %lld genes: select at most %d (highly variable) genes first",
                         (long long)G, SDD_PCA_MAX_GENES);
    if (k < 1) return sdd_error(SDD_EINVAL, "PCA: number of components %d must be >= 1", k);
    if (k > G) k = (int)G;
    if (k > n - 1) k = (int)(n - 1);
    out->n = n, out->G = G, out->k = k;
    out->mean = sdd_calloc((size_t)G, sizeof *out->mean);
    out->components = sdd_malloc((size_t)k * (size_t)G * sizeof *out->components);
    out->variance = sdd_malloc((size_t)k * sizeof *out->variance);
    out->variance_ratio = sdd_malloc((size_t)k * sizeof *out->variance_ratio);
    out->scores = sdd_malloc((size_t)n * (size_t)k * sizeof *out->scores);
    C = sdd_malloc((size_t)G * (size_t)G * sizeof *C);
    if (!out->mean || !out->components || !out->variance || !out->variance_ratio || !out->scores || !C)
        goto fail;
    for (int64_t p = 0; p < X->nnz; p++) out->mean[X->indices[p]] += X->data[p];
    for (int64_t g = 0; g < G; g++) out->mean[g] /= (double)n;
    if ((rc = covariance(X, out->mean, C)) < 0) goto fail;
    out->total_variance = 0;
    for (int64_t g = 0; g < G; g++) out->total_variance += C[g * G + g];
    if ((rc = top_eigen(C, (int)G, k, out->variance, out->components)) < 0) goto fail;
    for (int j = 0; j < k; j++) {
        if (out->variance[j] < 0) out->variance[j] = 0; /* rounding below a zero eigenvalue */
        out->variance_ratio[j] = out->total_variance > 0 ? out->variance[j] / out->total_variance : 0;
    }
    if ((rc = project(X, out)) < 0) goto fail;
    free(C);
    return SDD_OK;
fail:
    free(C);
    sdd_pca_free(out);
    return rc;
}
