/*
 * holdout.c: the held-out protocol (doc/method.md §10), the figures that count: real cells
 * the model never saw, compared with the synthetic cells, beside the floor a perfect
 * generator reaches with as many cells, and a test of copying.
 *
 *   split         before anything is fitted, round(F n) of the n cells that pass the
 *                 per-cell QC are held out, stratified by label: stratum s gets
 *                 floor(F n_s) cells and the rest go to the largest remainders
 *                 (Hamilton's apportionment), so the total is exact and every stratum
 *                 is within one cell of F n_s. prep.c fits on the other cells only.
 *   comparisons   m = min(held-out, synthetic, training) cells a side, drawn once:
 *                 synthetic vs held-out, and training vs the same held-out cells (the
 *                 floor: sampling noise of m real cells against m real cells).
 *   memorisation  a PCA fitted on m training + m held-out cells; each synthetic cell's
 *                 nearest of those 2m cells in PC space. A generator that does not copy
 *                 lands next to a training cell as often as next to a held-out one
 *                 (share 0.5, both being draws from the same population); one that copies
 *                 lands on its training cells (share 1).
 *
 * Reproducibility: the split draws from its own seeded generator; the comparisons from
 * one generator seeded with the evaluation seed (held-out, synthetic, training draws in
 * that order). PCA and neighbours are exact.
 */
#include "sdd_internal.h"
#include <math.h>

/* ------------------------------------------------------------------ split */

typedef struct {
    int32_t code;
    int64_t first;  /* first cell of the stratum in file order */
    int64_t n;      /* its eligible cells */
    int64_t quota;  /* cells it gives to the held-out set */
    double rem;     /* F n - floor(F n) */
} stratum_t;

typedef struct {
    int32_t code;
    int64_t i;
} ci_t;

static int cmp_ci(const void *a, const void *b)
{
    const ci_t *x = a, *y = b;
    if (x->code != y->code) return x->code < y->code ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int cmp_first(const void *a, const void *b)
{
    const stratum_t *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

/* Strata by first appearance, largest remainders first (ties: earlier stratum). */
static int cmp_rem(const void *a, const void *b)
{
    const stratum_t *x = a, *y = b;
    if (x->rem != y->rem) return x->rem > y->rem ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

/* Quotas of the ns strata for frac of ne eligible cells (Hamilton's method). */
static int apportion(stratum_t *st, int64_t ns, int64_t ne, double frac)
{
    int64_t total = (int64_t)floor(frac * (double)ne + 0.5), given = 0;
    for (int64_t s = 0; s < ns; s++) {
        double q = frac * (double)st[s].n + 1e-9; /* 0.29 * 100 is 28.999... in binary */
        st[s].quota = (int64_t)floor(q);
        if (st[s].quota > st[s].n) st[s].quota = st[s].n;
        st[s].rem = q - (double)st[s].quota;
        given += st[s].quota;
    }
    qsort(st, (size_t)ns, sizeof *st, cmp_rem);
    for (int64_t s = 0; s < ns && given < total; s++)
        if (st[s].quota < st[s].n) st[s].quota++, given++;
    qsort(st, (size_t)ns, sizeof *st, cmp_first);
    return SDD_OK;
}

int64_t sdd_holdout_split(const uint8_t *eligible, const int32_t *strata, int64_t n, double frac,
                          uint64_t seed, uint8_t *held)
{
    ci_t *c = NULL;
    stratum_t *st = NULL;
    int64_t ne = 0, ns = 0, n_held = 0, *idx = NULL;
    sdd_rng_t base, rng;
    int rc = SDD_ENOMEM;

    if (n < 0 || !(frac >= 0 && frac < 1))
        return sdd_error(SDD_EINVAL, "held-out fraction %g: must be in [0, 1)", frac);
    memset(held, 0, (size_t)n);
    c = sdd_malloc((size_t)n * sizeof *c + 1);
    idx = sdd_malloc((size_t)n * sizeof *idx + 1);
    st = sdd_malloc((size_t)n * sizeof *st + 1);
    if (!c || !idx || !st) goto fail;
    for (int64_t i = 0; i < n; i++)
        if (!eligible || eligible[i]) c[ne].code = strata ? strata[i] : 0, c[ne++].i = i;
    qsort(c, (size_t)ne, sizeof *c, cmp_ci); /* by stratum, cells in file order within */
    for (int64_t a = 0; a < ne; ns++) {
        int64_t b = a;
        while (b < ne && c[b].code == c[a].code) b++;
        st[ns].code = c[a].code, st[ns].first = c[a].i, st[ns].n = b - a;
        a = b;
    }
    apportion(st, ns, ne, frac);
    sdd_rng_seed(&base, seed);
    sdd_rng_split(&base, 0x686f6c646f7574ULL, &rng); /* "holdout": apart from training's */
    for (int64_t s = 0; s < ns; s++) {
        /* the stratum's cells, in file order, from the sorted list */
        int64_t lo = 0, hi = ne, k = 0;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (c[mid].code < st[s].code) lo = mid + 1;
            else hi = mid;
        }
        for (int64_t a = lo; a < ne && c[a].code == st[s].code; a++) idx[k++] = c[a].i;
        sdd_rng_shuffle(&rng, idx, k);
        for (int64_t r = 0; r < st[s].quota; r++) held[idx[r]] = 1;
        n_held += st[s].quota;
    }
    rc = SDD_OK;
fail:
    free(c);
    free(idx);
    free(st);
    return rc < 0 ? rc : n_held;
}

/* ----------------------------------------------------------- memorisation */

/* The rows of a, then those of b, as one new matrix. */
static int stack_rows(const sdd_csr_t *a, const sdd_csr_t *b, sdd_csr_t *out)
{
    int64_t *all = sdd_malloc((size_t)a->n_rows * sizeof *all + 1);
    int rc = SDD_ENOMEM;
    if (!all) return rc;
    for (int64_t i = 0; i < a->n_rows; i++) all[i] = i;
    if ((rc = sdd_csr_select_rows(a, all, a->n_rows, out)) == 0) rc = sdd_csr_append_rows(out, b);
    free(all);
    return rc;
}

#define MEM_TIES 8 /* neighbours looked at for distances tied with the nearest */

int sdd_memorisation(const sdd_csr_t *train, const sdd_csr_t *heldout, const sdd_csr_t *synth,
                     int n_pcs, double *share)
{
    sdd_csr_t J = {0};
    sdd_pca_t pca = {0};
    double *Q = NULL, *d2 = NULL, sum = 0;
    int64_t *idx = NULL, nt = train->n_rows, nr = train->n_rows + heldout->n_rows, ns = synth->n_rows;
    int k, rc;

    if (train->n_cols != heldout->n_cols || train->n_cols != synth->n_cols)
        return sdd_error(SDD_EINVAL, "memorisation: training, held-out and synthetic cells need the same genes");
    if (nt < 1 || heldout->n_rows < 1 || ns < 1)
        return sdd_error(SDD_EINVAL, "memorisation needs at least one cell on each side");
    if ((rc = stack_rows(train, heldout, &J)) < 0 || (rc = sdd_pca_fit(&J, n_pcs, &pca)) < 0) goto fail;
    k = nr < MEM_TIES ? (int)nr : MEM_TIES;
    rc = SDD_ENOMEM;
    Q = sdd_malloc((size_t)ns * (size_t)pca.k * sizeof *Q);
    d2 = sdd_malloc((size_t)ns * (size_t)k * sizeof *d2);
    idx = sdd_malloc((size_t)ns * (size_t)k * sizeof *idx);
    if (!Q || !d2 || !idx) goto fail;
    if ((rc = sdd_pca_transform(&pca, synth, Q)) < 0 ||
        (rc = sdd_knn(Q, ns, pca.scores, nr, pca.k, k, NULL, idx, d2)) < 0)
        goto fail;
    for (int64_t q = 0; q < ns; q++) {
        /* distances equal to the nearest up to the rounding of |q|^2 + |r|^2 - 2 q.r */
        double qq = 0, tol, t = 0;
        int tied = 0;
        for (int64_t j = 0; j < pca.k; j++) qq += Q[q * pca.k + j] * Q[q * pca.k + j];
        tol = 1e-9 * (1.0 + d2[q * k] + qq);
        for (int j = 0; j < k && d2[q * k + j] <= d2[q * k] + tol; j++) tied++, t += idx[q * k + j] < nt;
        sum += t / tied;
    }
    *share = sum / (double)ns;
    rc = SDD_OK;
fail:
    sdd_csr_free(&J);
    sdd_pca_free(&pca);
    free(Q);
    free(d2);
    free(idx);
    return rc;
}

/* --------------------------------------------------------- the comparisons */

void sdd_heldout_eval_destroy(sdd_heldout_eval_t *h)
{
    if (!h) return;
    free(h->sub_heldout);
    free(h->sub_synth);
    free(h->sub_train);
    sdd_eval_destroy(h->synth);
    sdd_eval_destroy(h->floor);
    free(h->cluster_share);
    free(h);
}

/* One side cut to the rows sub [n]: matrix and (when given) labels. */
typedef struct {
    sdd_csr_t X;
    int32_t *labels;
} side_t;

static int take_side(const sdd_csr_t *X, const int32_t *labels, const int64_t *sub, int64_t n, side_t *s)
{
    int rc = sdd_csr_select_rows(X, sub, n, &s->X);
    if (rc < 0 || !labels) return rc;
    if (!(s->labels = sdd_malloc((size_t)n * sizeof *s->labels + 1))) return SDD_ENOMEM;
    for (int64_t i = 0; i < n; i++) s->labels[i] = labels[sub[i]];
    return SDD_OK;
}

static void free_side(side_t *s)
{
    sdd_csr_free(&s->X);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

/* The memorisation share on mem_n cells a side, drawn from the m of each side. */
/* Clusters of the held-out cells (sdd_cluster_cells) and, on their principal components,
 * the cluster of each synthetic and training cell by its nearest held-out cells: shares
 * per cluster, their total variation distance from the held-out shares, and purity. */
static int cluster_step(const side_t *sd, int64_t n, const sdd_eval_opt_t *opt, sdd_heldout_eval_t *h)
{
    sdd_cluster_opt_t co;
    sdd_pca_t pca;
    int32_t *lab = sdd_malloc((size_t)3 * (size_t)n * sizeof *lab);
    double *sc = NULL, pur[3] = {0, 0, 0};
    int nc = 0, k = n - 1 < 15 ? (int)n - 1 : 15, rc = SDD_ENOMEM;
    memset(&pca, 0, sizeof pca);
    if (!lab) return SDD_ENOMEM;
    sdd_cluster_opt_init(&co);
    co.seed = opt->seed;
    if (co.n_pcs > n - 1) co.n_pcs = (int)n - 1;
    if ((rc = sdd_cluster_cells(&sd[0].X, &co, lab, &nc)) < 0) goto done;
    if ((rc = sdd_pca_fit(&sd[0].X, co.n_pcs, &pca)) < 0) goto done;
    rc = SDD_ENOMEM;
    if (!(sc = sdd_malloc((size_t)2 * (size_t)n * (size_t)pca.k * sizeof *sc))) goto done;
    if ((rc = sdd_pca_transform(&pca, &sd[1].X, sc)) < 0 ||
        (rc = sdd_pca_transform(&pca, &sd[2].X, sc + n * pca.k)) < 0)
        goto done;
    if ((rc = sdd_cluster_assign(pca.scores, n, pca.scores, n, pca.k, k, lab, nc, 1, lab + n, &pur[0])) < 0 ||
        (rc = sdd_cluster_assign(sc, n, pca.scores, n, pca.k, k, lab, nc, 0, lab + n, &pur[1])) < 0 ||
        (rc = sdd_cluster_assign(sc + n * pca.k, n, pca.scores, n, pca.k, k, lab, nc, 0, lab + 2 * n, &pur[2])) < 0)
        goto done;
    rc = SDD_ENOMEM;
    if (!(h->cluster_share = sdd_calloc((size_t)3 * (size_t)nc, sizeof *h->cluster_share))) goto done;
    h->n_clusters = nc;
    h->cluster_cells = n;
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < n; i++) h->cluster_share[s * nc + lab[s * n + i]] += 1.0 / (double)n;
    h->cluster_tvd = h->cluster_tvd_floor = 0;
    for (int c = 0; c < nc; c++) {
        h->cluster_tvd += 0.5 * fabs(h->cluster_share[nc + c] - h->cluster_share[c]);
        h->cluster_tvd_floor += 0.5 * fabs(h->cluster_share[2 * nc + c] - h->cluster_share[c]);
    }
    h->purity_heldout = pur[0], h->purity_synth = pur[1], h->purity_train = pur[2];
    rc = SDD_OK;
done:
    free(lab);
    free(sc);
    sdd_pca_free(&pca);
    return rc;
}

static int memorisation_step(const side_t *sd, sdd_rng_t *rng, const sdd_eval_opt_t *opt,
                             sdd_heldout_eval_t *h)
{
    side_t cut[3];
    int64_t *sub = NULL;
    int rc = SDD_OK;
    memset(cut, 0, sizeof cut);
    h->mem_n = h->m < opt->n_sub ? h->m : opt->n_sub;
    h->mem_pcs = opt->n_pcs;
    if (h->mem_pcs > sd[0].X.n_cols) h->mem_pcs = (int)sd[0].X.n_cols;
    if (h->mem_pcs > 2 * h->mem_n - 1) h->mem_pcs = (int)(2 * h->mem_n - 1);
    if (h->mem_n < h->m) {
        if (!(sub = sdd_malloc((size_t)h->mem_n * sizeof *sub))) return SDD_ENOMEM;
        for (int s = 0; s < 3 && rc == 0; s++)
            if ((rc = sdd_subsample_rows(rng, h->m, h->mem_n, sub)) == 0)
                rc = take_side(&sd[s].X, NULL, sub, h->mem_n, &cut[s]);
        if (rc == 0) rc = sdd_memorisation(&cut[2].X, &cut[0].X, &cut[1].X, opt->n_pcs, &h->memorisation);
        if (rc == 0) rc = cluster_step(cut, h->mem_n, opt, h);
    } else {
        rc = sdd_memorisation(&sd[2].X, &sd[0].X, &sd[1].X, opt->n_pcs, &h->memorisation);
        if (rc == 0) rc = cluster_step(sd, h->mem_n, opt, h);
    }
    for (int s = 0; s < 3; s++) free_side(&cut[s]);
    free(sub);
    return rc;
}

int sdd_evaluate_heldout(const sdd_csr_t *heldout, const sdd_csr_t *synth, const sdd_csr_t *train,
                         const int32_t *heldout_labels, const int32_t *synth_labels,
                         const int32_t *train_labels, char *const *label_names, int n_label_names,
                         const sdd_eval_opt_t *opt, sdd_progress_f progress, void *user,
                         sdd_heldout_eval_t **out)
{
    const sdd_csr_t *X[3] = {heldout, synth, train};
    const int32_t *L[3] = {heldout_labels, synth_labels, train_labels};
    sdd_heldout_eval_t *h = NULL;
    side_t sd[3];
    int64_t *sub[3];
    sdd_rng_t rng;
    int rc;

    *out = NULL;
    memset(sd, 0, sizeof sd);
    if ((rc = sdd_eval_opt_check(opt)) < 0) return rc;
    if (heldout->n_cols != synth->n_cols || heldout->n_cols != train->n_cols)
        return sdd_error(SDD_EINVAL, "held-out, synthetic and training cells need the same genes "
                         "(%lld, %lld, %lld)", (long long)heldout->n_cols, (long long)synth->n_cols,
                         (long long)train->n_cols);
    if (heldout->n_rows < 3 || synth->n_rows < 3 || train->n_rows < 3)
        return sdd_error(SDD_EINVAL, "the held-out comparison needs at least 3 cells per side");
    if ((!heldout_labels != !synth_labels) || (!heldout_labels != !train_labels))
        return sdd_error(SDD_EINVAL, "labels must be given for all three sides or none");
    if (!(h = sdd_calloc(1, sizeof *h))) return SDD_ENOMEM;
    h->n_heldout = heldout->n_rows, h->n_synth = synth->n_rows, h->n_train = train->n_rows;
    h->m = h->n_heldout;
    if (h->n_synth < h->m) h->m = h->n_synth;
    if (h->n_train < h->m) h->m = h->n_train;
    rc = SDD_ENOMEM;
    h->sub_heldout = sdd_malloc((size_t)h->m * sizeof(int64_t));
    h->sub_synth = sdd_malloc((size_t)h->m * sizeof(int64_t));
    h->sub_train = sdd_malloc((size_t)h->m * sizeof(int64_t));
    if (!h->sub_heldout || !h->sub_synth || !h->sub_train) goto fail;
    sub[0] = h->sub_heldout, sub[1] = h->sub_synth, sub[2] = h->sub_train;
    sdd_rng_seed(&rng, opt->seed);
    for (int s = 0; s < 3; s++)
        if ((rc = sdd_subsample_rows(&rng, X[s]->n_rows, h->m, sub[s])) < 0 ||
            (rc = take_side(X[s], L[s], sub[s], h->m, &sd[s])) < 0)
            goto fail;
    if ((rc = sdd_evaluate(&sd[0].X, &sd[1].X, sd[0].labels, sd[1].labels, label_names, n_label_names,
                           opt, progress, user, &h->synth)) < 0 ||
        (rc = sdd_evaluate(&sd[0].X, &sd[2].X, sd[0].labels, sd[2].labels, label_names, n_label_names,
                           opt, progress, user, &h->floor)) < 0)
        goto fail;
    if (progress && progress("memorisation", 0, 1, "pca, nearest cells", user)) {
        rc = sdd_error(SDD_EINTR, "evaluation interrupted");
        goto fail;
    }
    if ((rc = memorisation_step(sd, &rng, opt, h)) < 0) goto fail;
    if (progress) progress("memorisation", 1, 1, "done", user);
    for (int s = 0; s < 3; s++) free_side(&sd[s]);
    *out = h;
    return SDD_OK;
fail:
    for (int s = 0; s < 3; s++) free_side(&sd[s]);
    sdd_heldout_eval_destroy(h);
    return rc;
}
