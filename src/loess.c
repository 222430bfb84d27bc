/*
 * loess.c: R's loess(y ~ x, span = f, degree = 2) for one predictor, with R's defaults
 * (family "gaussian", surface "interpolate", cell 0.2), as Seurat's vst and scanpy's
 * seurat_v3 (through scikit-misc) call it. This follows Cleveland, Grosse and Shyu's
 * dloess (R's loessf.f) step by step, so that the fitted values agree with R's:
 *
 * 1. q = floor(n f) points form each local neighbourhood; the k-d tree's cells hold at
 *    most fc = floor(n f cell) points.
 * 2. Bounding box [min x - mu, max x + mu], mu = 0.005 max(range, 1e-10 max|x| + 1e-30).
 * 3. A cell [l, u] of the sorted x with more than fc points is split at the median
 *    x_(m), m = floor((l + u)/2); if x_(m) = x_(m+1) the split moves to the nearest
 *    position m + o (o = 1, -1, 2, -2, ...) between two different values; a split on the
 *    cell's own boundary makes it a leaf. Left son [l, m], right son [m + 1, u]; the split
 *    value becomes a new vertex.
 * 4. At every vertex v a local quadratic is fitted by weighted least squares: the q
 *    nearest points, weights (1 - (|x - v| / h)^3)^3 with h the q-th smallest distance.
 *    The vertex keeps the fit's value and slope.
 * 5. The fit at x is the cubic Hermite interpolant of value and slope between the two
 *    vertices of x's leaf cell (x <= split goes left).
 *
 * The local least squares are solved as R solves them (QR, then an SVD pseudo-inverse),
 * which matters only where a neighbourhood holds fewer than 3 distinct x.
 */
#include "prep_internal.h"
#include <float.h>
#include <gsl/gsl_linalg.h>
#include <math.h>

typedef struct {
    int64_t l, u;     /* range of the sorted points, inclusive */
    int64_t vlo, vhi; /* vertex indices of the cell's ends */
    int leaf;
    double xi;      /* split value */
    int64_t lo, hi; /* sons */
} cell_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Weighted least squares of y on [1, t, t^2] (t = x - v) with weights w (already the
 * square roots of the tricube weights), as ehg127: equilibrate the columns, Householder
 * QR without pivoting (dqrdc), SVD of the 3 x 3 R (dsvdc) and the pseudo-inverse with
 * singular values below 100 eps sigma_1 dropped, so that degenerate neighbourhoods (many
 * equal x) get R's minimum-norm answer. out[0] = value at v, out[1] = slope at v. */
static int local_fit(const double *t, const double *yw, const double *w, int64_t q, double *out)
{
    double *B = sdd_malloc((size_t)q * 3 * sizeof *B + 1),
           *eta = sdd_malloc((size_t)q * sizeof *eta + 1);
    double scal[3], c[3], g[3] = {0, 0, 0};
    gsl_matrix *U = gsl_matrix_calloc(3, 3), *V = gsl_matrix_alloc(3, 3);
    gsl_vector *S = gsl_vector_alloc(3), *work = gsl_vector_alloc(3);
    int rc = SDD_ENOMEM;
    if (!B || !eta || !U || !V || !S || !work) goto done;
    for (int64_t i = 0; i < q; i++) {
        B[i] = w[i];
        B[q + i] = w[i] * t[i];
        B[2 * q + i] = w[i] * t[i] * t[i];
        eta[i] = yw[i];
    }
    for (int j = 0; j < 3; j++) {
        double s = 0;
        for (int64_t i = 0; i < q; i++) s += B[j * q + i] * B[j * q + i];
        s = sqrt(s);
        scal[j] = s > 0 ? s : 1;
        if (s > 0)
            for (int64_t i = 0; i < q; i++) B[j * q + i] /= s;
    }
    for (int j = 0; j < 3 && j < q; j++) {
        double *col = B + j * q, nrm = 0;
        for (int64_t i = j; i < q; i++) nrm += col[i] * col[i];
        nrm = sqrt(nrm);
        if (nrm > 0 && j < q - 1) {
            if (col[j] < 0) nrm = -nrm;
            for (int64_t i = j; i < q; i++) col[i] /= nrm;
            col[j] += 1;
            for (int jj = j + 1; jj < 3; jj++) {
                double *cc = B + jj * q, s = 0;
                for (int64_t i = j; i < q; i++) s += col[i] * cc[i];
                s = -s / col[j];
                for (int64_t i = j; i < q; i++) cc[i] += s * col[i];
            }
            double s = 0;
            for (int64_t i = j; i < q; i++) s += col[i] * eta[i];
            s = -s / col[j];
            for (int64_t i = j; i < q; i++) eta[i] += s * col[i];
            gsl_matrix_set(U, j, j, -nrm);
        } else {
            gsl_matrix_set(U, j, j, col[j]);
        }
        for (int jj = j + 1; jj < 3; jj++) gsl_matrix_set(U, j, jj, B[jj * q + j]);
        c[j] = eta[j];
    }
    if (gsl_linalg_SV_decomp(U, V, S, work) != 0) {
        rc = sdd_error(SDD_EDATA, "loess: the SVD of a local fit failed");
        goto done;
    }
    double tol = gsl_vector_get(S, 0) * 100 * DBL_EPSILON;
    for (int j = 0; j < 3; j++) {
        double sj = gsl_vector_get(S, j), d = 0;
        if (!(sj > tol)) continue;
        for (int i = 0; i < 3; i++) d += gsl_matrix_get(U, i, j) * c[i];
        g[j] = d / sj;
    }
    for (int k = 0; k < 2; k++) {
        double s = 0;
        for (int j = 0; j < 3; j++) s += gsl_matrix_get(V, k, j) * g[j];
        out[k] = s / scal[k];
    }
    rc = SDD_OK;
done:
    free(B);
    free(eta);
    if (U) gsl_matrix_free(U);
    if (V) gsl_matrix_free(V);
    if (S) gsl_vector_free(S);
    if (work) gsl_vector_free(work);
    return rc;
}

/* Value and slope of the local quadratic at v (ehg127): xs sorted, ys in the same order. */
static int vertex_fit(const double *xs, const double *ys, int64_t n, int64_t q, double v,
                      double *dist, double *tw, double *out)
{
    double rho, *t = tw, *yw = tw + n, *w = tw + 2 * n;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) dist[i] = (xs[i] - v) * (xs[i] - v);
    memcpy(w, dist, (size_t)n * sizeof *w);
    qsort(w, (size_t)n, sizeof *w, cmp_double);
    rho = w[q - 1]; /* times max(1, span) = 1 */
    if (!(rho > 0))
        return sdd_error(SDD_EDATA, "loess: zero-width neighbourhood; make span bigger");
    for (int64_t i = 0; i < n; i++) {
        if (!(dist[i] < rho)) continue; /* the q nearest; the q-th itself has weight 0 */
        double r = sqrt(dist[i] / rho), c = 1 - r * r * r;
        double wt = sqrt(c * c * c);
        t[k] = xs[i] - v;
        w[k] = wt;
        yw[k] = wt * ys[i];
        k++;
    }
    if (k == 0)
        return sdd_error(SDD_EDATA,
                         "loess: all points on the boundary of a neighbourhood; make span bigger");
    return local_fit(t, yw, w, k, out);
}

/* Split cell p (steps 3): returns 1 and the split index if it splits. */
static int split_at(const double *xs, const cell_t *c, const double *vx, int64_t fc, int64_t *mout)
{
    int64_t l = c->l, u = c->u, m, off = 0;
    if (u - l + 1 <= fc) return 0;
    m = (l + u) / 2;
    while (m + off < u && m + off >= l) {
        if (xs[m + off] == xs[m + off + 1]) {
            off = -off;
            if (off >= 0) off++;
        } else {
            m += off;
            break;
        }
    }
    if (vx[c->vlo] == xs[m] || vx[c->vhi] == xs[m]) return 0;
    *mout = m;
    return 1;
}

int sdd_loess(const double *x, const double *y, int64_t n, double span, double *fitted)
{
    int64_t q = (int64_t)floor((double)n * span), fc = (int64_t)floor((double)n * (span * 0.2));
    int64_t nvmax = n > 200 ? n : 200, ncmax = nvmax, nc = 1, nv = 2;
    double *xs = NULL, *ys = NULL, *vx = NULL, *v0 = NULL, *v1 = NULL, *dist = NULL, *tw = NULL;
    cell_t *cells = NULL;
    int rc = SDD_ENOMEM;
    if (q > n) q = n;
    if (q < 4)
        return sdd_error(SDD_EINVAL, "loess: span %g is too small for %lld points", span,
                         (long long)n);
    xs = sdd_malloc((size_t)n * sizeof *xs);
    ys = sdd_malloc((size_t)n * sizeof *ys);
    vx = sdd_malloc((size_t)nvmax * sizeof *vx);
    v0 = sdd_malloc((size_t)nvmax * sizeof *v0);
    v1 = sdd_malloc((size_t)nvmax * sizeof *v1);
    dist = sdd_malloc((size_t)n * sizeof *dist);
    tw = sdd_malloc(3 * (size_t)n * sizeof *tw);
    cells = sdd_malloc((size_t)ncmax * sizeof *cells);
    if (!xs || !ys || !vx || !v0 || !v1 || !dist || !tw || !cells) goto fail;
    { /* sort (x, y) pairs by x through a permutation */
        double *pair = sdd_malloc(2 * (size_t)n * sizeof *pair);
        if (!pair) goto fail;
        for (int64_t i = 0; i < n; i++) pair[2 * i] = x[i], pair[2 * i + 1] = y[i];
        qsort(pair, (size_t)n, 2 * sizeof *pair, cmp_double);
        for (int64_t i = 0; i < n; i++) xs[i] = pair[2 * i], ys[i] = pair[2 * i + 1];
        free(pair);
    }
    {
        double lo = xs[0], hi = xs[n - 1];
        double mu = 0.005 * fmax(hi - lo, 1e-10 * fmax(fabs(lo), fabs(hi)) + 1e-30);
        vx[0] = lo - mu;
        vx[1] = hi + mu;
    }
    cells[0] = (cell_t){.l = 0, .u = n - 1, .vlo = 0, .vhi = 1, .leaf = 1};
    for (int64_t p = 0; p < nc; p++) { /* breadth first, as ehg124 */
        cell_t *c = &cells[p];
        int64_t m;
        c->leaf = 1;
        if (ncmax < nc + 2 || (double)nvmax < (double)nv + 1.0) continue;
        if (!split_at(xs, c, vx, fc, &m)) continue;
        c->leaf = 0;
        c->xi = xs[m];
        vx[nv] = c->xi;
        c->lo = nc;
        c->hi = nc + 1;
        cells[nc] = (cell_t){.l = c->l, .u = m, .vlo = c->vlo, .vhi = nv};
        cells[nc + 1] = (cell_t){.l = m + 1, .u = c->u, .vlo = nv, .vhi = c->vhi};
        nc += 2;
        nv++;
    }
    for (int64_t k = 0; k < nv; k++) {
        double s[2] = {0, 0};
        if ((rc = vertex_fit(xs, ys, n, q, vx[k], dist, tw, s)) < 0) goto fail;
        v0[k] = s[0];
        v1[k] = s[1];
    }
    for (int64_t i = 0; i < n; i++) { /* step 5 at the original points */
        const cell_t *c = &cells[0];
        double z = x[i];
        while (!c->leaf) c = &cells[z <= c->xi ? c->lo : c->hi];
        double a = vx[c->vlo], b = vx[c->vhi], h = (z - a) / (b - a);
        double phi0 = (1 - h) * (1 - h) * (1 + 2 * h), phi1 = h * h * (3 - 2 * h);
        double psi0 = h * (1 - h) * (1 - h), psi1 = h * h * (h - 1);
        fitted[i] = phi0 * v0[c->vlo] + phi1 * v0[c->vhi] +
                    (psi0 * v1[c->vlo] + psi1 * v1[c->vhi]) * (b - a);
    }
    rc = SDD_OK;
fail:
    free(xs);
    free(ys);
    free(vx);
    free(v0);
    free(v1);
    free(dist);
    free(tw);
    free(cells);
    return rc;
}
