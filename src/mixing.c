/*
 * mixing.c: how well real and synthetic cells mix in the joint PC space (doc/method.md
 * §8.5-§8.7): MMD with a multi-bandwidth Gaussian kernel, LISI, and a cross-validated kNN
 * classifier.
 *
 * MMD. With D_ij = |x_i - x_j|^2 over all N = n_a + n_b rows,
 *     b = sum_{i != j} D_ij / (N (N - 1)),  K_ij = sum_{q=-2..2} exp(-D_ij / (b 2^q)),
 *     MMD = mean_{A x A} K + mean_{B x B} K - 2 mean_{A x B} K   (biased, diagonals in).
 * b comes in closed form, sum_{i,j} D_ij = 2 N sum_i |x_i|^2 - 2 |sum_i x_i|^2, so one
 * blocked pass over the upper triangle suffices; the five kernels share one exp:
 * t = exp(-D / 4b) and K = t + t^2 + t^4 + t^8 + t^16. Sums are in double.
 *
 * LISI follows lisi::compute_lisi / compute_simpson_index (Korsunsky et al. 2019) line by
 * line, in double: k = 3 * perplexity nearest cells counting the cell itself, which is
 * dropped; P_j = exp(-beta d_j) / sum with d the Euclidean (not squared) distance; beta
 * starts at 1 and is doubled / halved, then bisected, until |H - ln perplexity| <= tol
 * or 50 tries, H = ln sum_j exp(-beta d_j) + beta sum_j d_j P_j; LISI = 1 / sum_l P_l^2,
 * or -1 (lisi's marker) when every weight underflows.
 *
 * kNN AUC: for each fold, the other folds are the training set; a held-out row scores the
 * fraction of class-1 rows among its k nearest training rows (scikit-learn's
 * KNeighborsClassifier.predict_proba with uniform weights); the AUC of each fold is
 * averaged (cross_val_score with scoring="roc_auc").
 */
#include "blas.h"
#include <math.h>

#define MMD_BLOCK 512

/* Sum of K over rows [i0, i0+bi) x [j0, j0+bj) into s[0] (A x A), s[1] (B x B),
 * s[2] (A x B and B x A), each entry counted `w` times. G is scratch [bi x bj]. */
static void mmd_block(const double *X, const double *nrm, int64_t n_a, int64_t d, double inv4b,
                      int64_t i0, int64_t bi, int64_t j0, int64_t bj, double w, double *G, double *s)
{
    sdd_dgemm(0, 1, (int)bi, (int)bj, (int)d, -2.0, X + i0 * d,
                (int)d, X + j0 * d, (int)d, 0.0, G, (int)bj);
    for (int64_t a = 0; a < bi; a++) {
        int64_t i = i0 + a;
        double acc[2] = {0, 0}; /* same side as i, other side */
        for (int64_t b = 0; b < bj; b++) {
            int64_t j = j0 + b;
            double D = i == j ? 0 : nrm[i] + nrm[j] + G[a * bj + b];
            double t = exp(-(D > 0 ? D : 0) * inv4b), t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
            acc[(i < n_a) != (j < n_a)] += t + t2 + t4 + t8 + t8 * t8;
        }
        s[i < n_a ? 0 : 1] += w * acc[0];
        s[2] += w * acc[1];
    }
}

int sdd_mmd(const double *X, int64_t n_a, int64_t n_b, int64_t d, double *mmd, double *bandwidth)
{
    int64_t N = n_a + n_b;
    double *nrm = NULL, *sum = NULL, *G = NULL, s[3] = {0, 0, 0}, tot = 0, sq = 0, b;
    int rc = SDD_ENOMEM;

    if (n_a < 1 || n_b < 1 || N < 2) return sdd_error(SDD_EINVAL, "MMD needs cells on both sides");
    nrm = sdd_malloc((size_t)N * sizeof *nrm);
    sum = sdd_calloc((size_t)d + 1, sizeof *sum);
    G = sdd_malloc((size_t)MMD_BLOCK * MMD_BLOCK * sizeof *G);
    if (!nrm || !sum || !G) goto fail;
    for (int64_t i = 0; i < N; i++) {
        double r = 0;
        for (int64_t j = 0; j < d; j++) r += X[i * d + j] * X[i * d + j], sum[j] += X[i * d + j];
        nrm[i] = r;
        tot += r;
    }
    for (int64_t j = 0; j < d; j++) sq += sum[j] * sum[j];
    b = (2.0 * (double)N * tot - 2.0 * sq) / ((double)N * (double)(N - 1));
    if (bandwidth) *bandwidth = b;
    if (!(b > 0)) { /* all rows identical: every kernel entry is 5 */
        *mmd = 0;
        rc = SDD_OK;
        goto fail;
    }
    for (int64_t i0 = 0; i0 < N; i0 += MMD_BLOCK) {
        int64_t bi = N - i0 < MMD_BLOCK ? N - i0 : MMD_BLOCK;
        for (int64_t j0 = i0; j0 < N; j0 += MMD_BLOCK) {
            int64_t bj = N - j0 < MMD_BLOCK ? N - j0 : MMD_BLOCK;
            mmd_block(X, nrm, n_a, d, 0.25 / b, i0, bi, j0, bj, j0 == i0 ? 1.0 : 2.0, G, s);
        }
    }
    *mmd = s[0] / ((double)n_a * n_a) + s[1] / ((double)n_b * n_b) - s[2] / ((double)n_a * n_b);
    if (*mmd < 0) *mmd = 0; /* a squared RKHS norm: below 0 only by rounding */
    rc = SDD_OK;
fail:
    free(nrm);
    free(sum);
    free(G);
    return rc;
}

/* lisi's Hbeta: entropy H of P = exp(-beta d) / sum (P filled), 0 if the sum vanishes. */
static double hbeta(const double *dist, int k, double beta, double *P)
{
    double sumP = 0, dp = 0;
    for (int j = 0; j < k; j++) sumP += P[j] = exp(-dist[j] * beta);
    if (sumP == 0) {
        for (int j = 0; j < k; j++) P[j] = 0;
        return 0;
    }
    for (int j = 0; j < k; j++) dp += dist[j] * P[j];
    for (int j = 0; j < k; j++) P[j] /= sumP;
    return log(sumP) + beta * dp / sumP;
}

/* compute_simpson_index for one cell: the inverse Simpson index of its neighbours' labels. */
static double lisi_one(const double *dist, const int64_t *nb, int k, const int32_t *labels,
                       int n_labels, double logU, double *P, double *pl)
{
    double beta = 1, betamin = -INFINITY, betamax = INFINITY, H, simpson = 0;
    int tries = 0;
    H = hbeta(dist, k, beta, P);
    while (fabs(H - logU) > 1e-5 && tries < 50) {
        if (H - logU > 0) {
            betamin = beta;
            beta = isinf(betamax) ? beta * 2 : (beta + betamax) / 2;
        } else {
            betamax = beta;
            beta = isinf(betamin) ? beta / 2 : (beta + betamin) / 2;
        }
        H = hbeta(dist, k, beta, P);
        tries++;
    }
    if (H == 0) return -1;
    for (int l = 0; l < n_labels; l++) pl[l] = 0;
    for (int j = 0; j < k; j++) pl[labels[nb[j]]] += P[j];
    for (int l = 0; l < n_labels; l++) simpson += pl[l] * pl[l];
    return 1 / simpson;
}

int sdd_lisi(const double *X, int64_t n, int64_t d, const int32_t *labels, int n_labels,
             double perplexity, double *lisi)
{
    int k = (int)lround(3 * perplexity) - 1, rc = SDD_ENOMEM;
    int64_t *idx = NULL, *self = NULL;
    double *dist = NULL, *P = NULL, *pl = NULL;

    if (!(perplexity >= 1)) return sdd_error(SDD_EINVAL, "LISI perplexity %g must be >= 1", perplexity);
    if (k > n - 1) k = (int)(n - 1);
    if (k < 1 || n_labels < 1) return sdd_error(SDD_EINVAL, "LISI needs at least 2 cells and a label");
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_labels)
            return sdd_error(SDD_EINVAL, "LISI: label %d of cell %lld out of range", labels[i], (long long)i);
    idx = sdd_malloc((size_t)n * (size_t)k * sizeof *idx);
    dist = sdd_malloc((size_t)n * (size_t)k * sizeof *dist);
    self = sdd_malloc((size_t)n * sizeof *self);
    P = sdd_malloc((size_t)k * sizeof *P);
    pl = sdd_malloc((size_t)n_labels * sizeof *pl);
    if (!idx || !dist || !self || !P || !pl) goto fail;
    for (int64_t i = 0; i < n; i++) self[i] = i;
    if ((rc = sdd_knn(X, n, X, n, d, k, self, idx, dist)) < 0) goto fail;
    for (int64_t i = 0; i < n * k; i++) dist[i] = sqrt(dist[i]);
    for (int64_t i = 0; i < n; i++)
        lisi[i] = lisi_one(dist + i * k, idx + i * k, k, labels, n_labels, log(perplexity), P, pl);
    rc = SDD_OK;
fail:
    free(idx);
    free(dist);
    free(self);
    free(P);
    free(pl);
    return rc;
}

/* One fold: train on rows with fold != f, score rows with fold == f. */
static int auc_fold(const double *X, int64_t n, int64_t d, const int32_t *cls, const int32_t *fold,
                    int f, int k, double *auc)
{
    int64_t ntr = 0, nte = 0, *idx = NULL;
    double *Xtr = NULL, *Xte = NULL, *dist = NULL, *score = NULL;
    int32_t *ctr = NULL, *cte = NULL;
    int rc = SDD_ENOMEM;

    for (int64_t i = 0; i < n; i++) {
        if (fold[i] == f) nte++;
        else ntr++;
    }
    if (nte == 0 || ntr < 1) return sdd_error(SDD_EINVAL, "kNN AUC: fold %d has %lld test and %lld training rows",
                                              f, (long long)nte, (long long)ntr);
    if (k > ntr) k = (int)ntr; /* tiny inputs */
    Xtr = sdd_malloc((size_t)ntr * (size_t)d * sizeof *Xtr);
    Xte = sdd_malloc((size_t)nte * (size_t)d * sizeof *Xte);
    ctr = sdd_malloc((size_t)ntr * sizeof *ctr);
    cte = sdd_malloc((size_t)nte * sizeof *cte);
    idx = sdd_malloc((size_t)nte * (size_t)k * sizeof *idx);
    dist = sdd_malloc((size_t)nte * (size_t)k * sizeof *dist);
    score = sdd_malloc((size_t)nte * sizeof *score);
    if (!Xtr || !Xte || !ctr || !cte || !idx || !dist || !score) goto fail;
    ntr = nte = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fold[i] == f) {
            memcpy(Xte + nte * d, X + i * d, (size_t)d * sizeof *X);
            cte[nte++] = cls[i];
        } else {
            memcpy(Xtr + ntr * d, X + i * d, (size_t)d * sizeof *X);
            ctr[ntr++] = cls[i];
        }
    }
    if ((rc = sdd_knn(Xte, nte, Xtr, ntr, d, k, NULL, idx, dist)) < 0) goto fail;
    for (int64_t i = 0; i < nte; i++) {
        int c = 0;
        for (int j = 0; j < k; j++) c += ctr[idx[i * k + j]] == 1;
        score[i] = (double)c / k;
    }
    *auc = sdd_roc_auc(score, cte, nte);
    rc = SDD_OK;
fail:
    free(Xtr);
    free(Xte);
    free(ctr);
    free(cte);
    free(idx);
    free(dist);
    free(score);
    return rc;
}

int sdd_knn_auc(const double *X, int64_t n, int64_t d, const int32_t *cls, const int32_t *fold,
                int n_folds, int k, double *auc)
{
    double sum = 0, a = 0;
    int rc;
    if (n_folds < 2 || k < 1) return sdd_error(SDD_EINVAL, "kNN AUC needs >= 2 folds and k >= 1");
    for (int f = 0; f < n_folds; f++) {
        if ((rc = auc_fold(X, n, d, cls, fold, f, k, &a)) < 0) return rc;
        sum += a;
    }
    *auc = sum / n_folds;
    return SDD_OK;
}

/* ---- ranks: the AUC of the classifier above, and Spearman's correlation (metrics.c) */

int sdd_vi_cmp(const void *a, const void *b)
{
    const sdd_vi_t *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int sdd_average_ranks(const double *x, int64_t n, double *r)
{
    sdd_vi_t *p = sdd_malloc((size_t)n * sizeof *p + 1);
    if (!p) return SDD_ENOMEM;
    for (int64_t i = 0; i < n; i++) p[i].v = x[i], p[i].i = i;
    qsort(p, (size_t)n, sizeof *p, sdd_vi_cmp);
    for (int64_t a = 0; a < n;) {
        int64_t b = a;
        while (b + 1 < n && p[b + 1].v == p[a].v) b++;
        for (int64_t t = a; t <= b; t++) r[p[t].i] = 0.5 * (double)(a + b) + 1.0;
        a = b + 1;
    }
    free(p);
    return SDD_OK;
}

double sdd_roc_auc(const double *score, const int32_t *cls, int64_t n)
{
    double *r = sdd_malloc((size_t)n * sizeof *r + 1), s = 0, np = 0, nn = 0, auc = NAN;
    if (!r || sdd_average_ranks(score, n, r) < 0) goto fail;
    for (int64_t i = 0; i < n; i++) {
        if (cls[i] == 1) s += r[i], np++;
        else nn++;
    }
    if (np > 0 && nn > 0) auc = (s - np * (np + 1) / 2) / (np * nn);
fail:
    free(r);
    return auc;
}
