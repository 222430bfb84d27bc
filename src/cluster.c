/*
 * cluster.c: cell clusters from the neighbour graph, as scanpy's pp.pca + pp.neighbors +
 * tl.louvain find them; `--label auto` trains a conditional model on them.
 *
 *   1. PCA of the log1p matrix (pca.c), n_pcs components.
 *   2. Exact kNN on the scores, k = n_neighbors counting the cell itself, and UMAP's
 *      fuzzy simplicial set on it (embed.c): a symmetric weighted graph W.
 *   3. Louvain (Blondel et al. 2008) on W with resolution r, maximising
 *        Q = 1/(2m) sum_ij [A_ij - r k_i k_j / (2m)] [c_i = c_j],
 *      2m = sum_ij A_ij, k_i = sum_j A_ij: nodes are visited in a seeded random order and
 *      each moves to the neighbouring community of the largest gain
 *        w_i,c - r tot_c k_i / (2m)   (w_i,c: weight from i into c; tot_c without i),
 *      staying where it is unless a move gains strictly more; sweeps repeat until none
 *      moves, then each community becomes one node (its internal weight on the diagonal)
 *      and the next level runs, until a level moves nothing.
 *   4. Clusters smaller than min_size cells are dissolved: each of their cells joins the
 *      large cluster it is most strongly connected to in W (cells without such a
 *      neighbour join the largest cluster). Codes are then ordered by size, largest
 *      first, ties by the lowest cell index.
   5. Above max_cells cells (50,000), steps 1-4 run on a seeded random max_cells of them;
 *      every other cell is projected on their components and joins the cluster most
 *      common among its n_neighbors nearest clustered cells, and codes are ordered by
 *      size over all cells. Time and memory then grow linearly with the cells.
 * Everything is sequential or goes through sdd_knn / sdd_pca_fit, whose results do not
 * depend on the thread count, so a seed gives the same clusters with any thread count.
 */
#include "sdd_internal.h"
#include <math.h>
#include <stdio.h>

#define LOUVAIN_MAX_SWEEPS 100
#define LOUVAIN_MAX_LEVELS 32

void sdd_cluster_opt_init(sdd_cluster_opt_t *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->n_pcs = 50;
    opt->n_neighbors = 15;
    opt->resolution = 1.0;
    opt->min_size = 20;
    opt->seed = 0;
    opt->max_cells = 50000;
}

int sdd_cluster_opt_check(const sdd_cluster_opt_t *opt)
{
    if (opt->n_pcs < 2 || opt->n_pcs > 1000) return sdd_error(SDD_EINVAL, "cluster PCs %d: must be in [2, 1000]", opt->n_pcs);
    if (opt->n_neighbors < 2 || opt->n_neighbors > 1000)
        return sdd_error(SDD_EINVAL, "cluster neighbours %d: must be in [2, 1000]", opt->n_neighbors);
    if (!(opt->resolution > 0 && opt->resolution <= 100))
        return sdd_error(SDD_EINVAL, "cluster resolution must be in (0, 100]");
    if (opt->min_size < 1) return sdd_error(SDD_EINVAL, "smallest cluster size must be >= 1");
    if (opt->max_cells != 0 && opt->max_cells < 100)
        return sdd_error(SDD_EINVAL, "cells clustered as a graph %lld: must be 0 (all) or >= 100",
                         (long long)opt->max_cells);
    return SDD_OK;
}

/* A weighted graph in CSR form with the diagonal stored like any other entry. */
typedef struct {
    int64_t n, *ptr, *col;
    double *w;
} graph_t;

static void graph_free(graph_t *g)
{
    free(g->ptr);
    free(g->col);
    free(g->w);
    memset(g, 0, sizeof *g);
}

/* One level of local moves on g; comm [n] starts as the identity. Returns the number of
 * moves made (0: the level changed nothing), or a negative code. */
static int64_t local_moves(const graph_t *g, double r, sdd_rng_t *rng, int64_t *comm)
{
    int64_t n = g->n, moves = 0, *order = NULL, *touched = NULL;
    double *k = NULL, *tot = NULL, *wc = NULL, m2 = 0;
    int64_t rc = SDD_ENOMEM;
    order = sdd_malloc((size_t)n * sizeof *order);
    touched = sdd_malloc((size_t)n * sizeof *touched);
    k = sdd_calloc((size_t)n, sizeof *k);
    tot = sdd_calloc((size_t)n, sizeof *tot);
    wc = sdd_calloc((size_t)n, sizeof *wc);
    if (!order || !touched || !k || !tot || !wc) goto done;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t q = g->ptr[i]; q < g->ptr[i + 1]; q++) k[i] += g->w[q];
        tot[i] = k[i];
        m2 += k[i];
        order[i] = i;
    }
    rc = 0;
    if (!(m2 > 0)) goto done;
    sdd_rng_shuffle(rng, order, n);
    for (int sweep = 0; sweep < LOUVAIN_MAX_SWEEPS; sweep++) {
        int64_t moved = 0;
        for (int64_t oi = 0; oi < n; oi++) {
            int64_t i = order[oi], ci = comm[i], nt = 0, best = ci;
            double best_gain;
            for (int64_t q = g->ptr[i]; q < g->ptr[i + 1]; q++) {
                int64_t c = comm[g->col[q]];
                if (g->col[q] == i) continue;
                if (wc[c] == 0) touched[nt++] = c;
                wc[c] += g->w[q];
            }
            tot[ci] -= k[i];
            best_gain = wc[ci] - r * tot[ci] * k[i] / m2;
            for (int64_t t = 0; t < nt; t++) {
                int64_t c = touched[t];
                double gain = wc[c] - r * tot[c] * k[i] / m2;
                if (gain > best_gain + 1e-12) {
                    best_gain = gain;
                    best = c;
                }
            }
            for (int64_t t = 0; t < nt; t++) wc[touched[t]] = 0;
            wc[ci] = 0;
            tot[best] += k[i];
            if (best != ci) comm[i] = best, moved++;
        }
        moves += moved;
        if (moved == 0) break;
    }
    rc = moves;
done:
    free(order);
    free(touched);
    free(k);
    free(tot);
    free(wc);
    return rc;
}

/* Renumber comm [n] to 0..nc-1 in order of first appearance; returns nc. */
static int64_t renumber(int64_t *comm, int64_t n, int64_t *map)
{
    int64_t nc = 0;
    for (int64_t i = 0; i < n; i++) map[i] = -1;
    for (int64_t i = 0; i < n; i++) {
        if (map[comm[i]] < 0) map[comm[i]] = nc++;
        comm[i] = map[comm[i]];
    }
    return nc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The graph of communities: A'_cd = sum of A_ij over i in c, j in d (diagonal kept). */
static int aggregate(const graph_t *g, const int64_t *comm, int64_t nc, graph_t *out)
{
    int64_t n = g->n, *start = NULL, *members = NULL, *touched = NULL, nnz = 0, cap = 0;
    double *acc = NULL;
    int rc = SDD_ENOMEM;
    memset(out, 0, sizeof *out);
    start = sdd_calloc((size_t)nc + 1, sizeof *start);
    members = sdd_malloc((size_t)n * sizeof *members);
    touched = sdd_malloc((size_t)nc * sizeof *touched);
    acc = sdd_calloc((size_t)nc, sizeof *acc);
    out->ptr = sdd_calloc((size_t)nc + 1, sizeof *out->ptr);
    cap = g->ptr[n] > 0 ? g->ptr[n] : 1;
    out->col = sdd_malloc((size_t)cap * sizeof *out->col);
    out->w = sdd_malloc((size_t)cap * sizeof *out->w);
    if (!start || !members || !touched || !acc || !out->ptr || !out->col || !out->w) goto fail;
    out->n = nc;
    for (int64_t i = 0; i < n; i++) start[comm[i] + 1]++;
    for (int64_t c = 0; c < nc; c++) start[c + 1] += start[c];
    {
        int64_t *pos = touched; /* reused as fill pointers before the accumulation */
        for (int64_t c = 0; c < nc; c++) pos[c] = start[c];
        for (int64_t i = 0; i < n; i++) members[pos[comm[i]]++] = i;
    }
    for (int64_t c = 0; c < nc; c++) {
        int64_t nt = 0;
        for (int64_t m = start[c]; m < start[c + 1]; m++) {
            int64_t i = members[m];
            for (int64_t q = g->ptr[i]; q < g->ptr[i + 1]; q++) {
                int64_t d = comm[g->col[q]];
                if (acc[d] == 0) touched[nt++] = d;
                acc[d] += g->w[q];
            }
        }
        /* columns in ascending order; nt <= the number of entries read, so nnz <= cap */
        qsort(touched, (size_t)nt, sizeof *touched, cmp_i64);
        for (int64_t t = 0; t < nt; t++) {
            out->col[nnz] = touched[t];
            out->w[nnz++] = acc[touched[t]];
            acc[touched[t]] = 0;
        }
        out->ptr[c + 1] = nnz;
    }
    rc = SDD_OK;
fail:
    free(start);
    free(members);
    free(touched);
    free(acc);
    if (rc < 0) graph_free(out);
    return rc;
}

/* Louvain over the levels; labels [n] receive community codes 0..nc-1. */
static int louvain(graph_t *g0, double r, uint64_t seed, int32_t *labels, int64_t *n_out)
{
    graph_t g = *g0, next;
    int64_t n = g0->n, *comm = NULL, *map = NULL, *node = NULL, nc = n;
    sdd_rng_t rng;
    int rc = SDD_ENOMEM;
    comm = sdd_malloc((size_t)n * sizeof *comm);
    map = sdd_malloc((size_t)n * sizeof *map);
    node = sdd_malloc((size_t)n * sizeof *node); /* each cell's node at the current level */
    if (!comm || !map || !node) goto fail;
    for (int64_t i = 0; i < n; i++) node[i] = i;
    sdd_rng_seed(&rng, seed);
    for (int level = 0; level < LOUVAIN_MAX_LEVELS; level++) {
        int64_t moved;
        for (int64_t i = 0; i < g.n; i++) comm[i] = i;
        if ((moved = local_moves(&g, r, &rng, comm)) < 0) {
            rc = (int)moved;
            goto fail;
        }
        if (moved == 0) break;
        nc = renumber(comm, g.n, map);
        for (int64_t i = 0; i < n; i++) node[i] = comm[node[i]];
        if ((rc = aggregate(&g, comm, nc, &next)) < 0) goto fail;
        if (g.ptr != g0->ptr) graph_free(&g);
        g = next;
    }
    nc = g.n;
    for (int64_t i = 0; i < n; i++) labels[i] = (int32_t)node[i];
    *n_out = nc;
    rc = SDD_OK;
fail:
    if (g.ptr != g0->ptr) graph_free(&g);
    free(comm);
    free(map);
    free(node);
    return rc;
}

/* Codes renumbered by size over the n cells, largest first, ties by the lower first cell
 * (first[c]: given, or NULL to take each code's first cell in lab); codes without cells
 * are dropped. *n_labels receives the number kept. */
static int order_codes(int32_t *lab, int64_t n, int64_t nc, const int64_t *first, int *n_labels)
{
    int64_t *size = sdd_calloc((size_t)nc, sizeof *size), *rank = sdd_malloc((size_t)nc * sizeof *rank);
    int64_t *own = first ? NULL : sdd_malloc((size_t)nc * sizeof *own), kept = 0;
    if (!size || !rank || (!first && !own)) {
        free(size), free(rank), free(own);
        return SDD_ENOMEM;
    }
    if (!first) {
        for (int64_t c = 0; c < nc; c++) own[c] = n;
        for (int64_t i = 0; i < n; i++)
            if (own[lab[i]] == n) own[lab[i]] = i;
        first = own;
    }
    for (int64_t i = 0; i < n; i++) size[lab[i]]++;
    for (int64_t c = 0; c < nc; c++) rank[c] = -1;
    for (;;) {
        int64_t best = -1;
        for (int64_t c = 0; c < nc; c++)
            if (size[c] > 0 && rank[c] < 0 &&
                (best < 0 || size[c] > size[best] || (size[c] == size[best] && first[c] < first[best])))
                best = c;
        if (best < 0) break;
        rank[best] = kept++;
    }
    for (int64_t i = 0; i < n; i++) lab[i] = (int32_t)rank[lab[i]];
    *n_labels = (int)kept;
    free(size), free(rank), free(own);
    return SDD_OK;
}

/* Dissolve clusters under min_size (step 4) and order the codes by size. */
static int tidy(const sdd_csr_t *W, int32_t *lab, int64_t n, int64_t nc, int64_t min_size, int *n_labels)
{
    int64_t *size = sdd_calloc((size_t)nc, sizeof *size), *first = sdd_malloc((size_t)nc * sizeof *first);
    int64_t big = 0, largest = 0;
    double *pull = sdd_calloc((size_t)nc, sizeof *pull);
    int rc = SDD_ENOMEM;
    if (!size || !first || !pull) goto fail;
    for (int64_t c = 0; c < nc; c++) first[c] = n;
    for (int64_t i = 0; i < n; i++) {
        size[lab[i]]++;
        if (first[lab[i]] == n) first[lab[i]] = i;
    }
    for (int64_t c = 0; c < nc; c++) {
        if (size[c] > size[largest]) largest = c;
        big += size[c] >= min_size;
    }
    for (int64_t i = 0; i < n && big > 0; i++) {
        int64_t best = -1;
        if (size[lab[i]] >= min_size) continue;
        for (int64_t q = W->indptr[i]; q < W->indptr[i + 1]; q++) {
            int64_t c = lab[W->indices[q]];
            if (size[c] >= min_size) pull[c] += W->data[q];
        }
        for (int64_t q = W->indptr[i]; q < W->indptr[i + 1]; q++) {
            int64_t c = lab[W->indices[q]];
            if (size[c] >= min_size && (best < 0 || pull[c] > pull[best] || (pull[c] == pull[best] && c < best)))
                best = c;
        }
        for (int64_t q = W->indptr[i]; q < W->indptr[i + 1]; q++) pull[lab[W->indices[q]]] = 0;
        lab[i] = (int32_t)(best >= 0 ? best : largest); /* its old cluster's size is not updated:
                                                           it stays small for its other cells */
    }
    rc = order_codes(lab, n, nc, first, n_labels);
fail:
    free(size);
    free(first);
    free(pull);
    return rc;
}

/* Progress of stage "cluster": step done of total (0 at the start); SDD_EINTR when the
 * callback asks to stop. */
static int tick(const sdd_cluster_opt_t *opt, int64_t done, int64_t total, const char *what)
{
    if (opt->progress && opt->progress("cluster", done, total, what, opt->progress_user))
        return sdd_error(SDD_EINTR, "clustering interrupted");
    return SDD_OK;
}

/* Steps 1-4 on all rows of X, reported as steps 1-3 of total; the fitted PCA is kept in
 * *keep when it is not NULL. */
static int cluster_graph(const sdd_csr_t *X, const sdd_cluster_opt_t *opt, int64_t total, int32_t *labels,
                         int *n_labels, sdd_pca_t *keep)
{
    sdd_pca_t pca;
    sdd_csr_t W = {0};
    graph_t g = {0};
    int64_t n = X->n_rows, *idx = NULL, nc = 0;
    double *dist = NULL;
    int k, rc;
    memset(&pca, 0, sizeof pca);
    *n_labels = 0;
    if ((rc = sdd_cluster_opt_check(opt)) < 0) return rc;
    if (n < 3) return sdd_error(SDD_EINVAL, "clustering needs at least 3 cells, not %lld", (long long)n);
    k = opt->n_neighbors < n ? opt->n_neighbors : (int)n;
    rc = SDD_ENOMEM;
    idx = sdd_malloc((size_t)n * (size_t)k * sizeof *idx);
    dist = sdd_malloc((size_t)n * (size_t)k * sizeof *dist);
    if (!idx || !dist) goto fail;
    if ((rc = tick(opt, 0, total, "pca")) < 0 || (rc = sdd_pca_fit(X, opt->n_pcs, &pca)) < 0 ||
        (rc = tick(opt, 1, total, "pca")) < 0 ||
        (rc = sdd_self_knn(pca.scores, n, pca.k, k, idx, dist)) < 0 ||
        (rc = sdd_fuzzy_simplicial_set(idx, dist, n, k, NULL, NULL, &W)) < 0 ||
        (rc = tick(opt, 2, total, "neighbours")) < 0)
        goto fail;
    g.n = n;
    g.ptr = W.indptr; /* borrowed: louvain frees only the graphs it builds */
    g.col = sdd_malloc((size_t)(W.nnz > 0 ? W.nnz : 1) * sizeof *g.col);
    g.w = sdd_malloc((size_t)(W.nnz > 0 ? W.nnz : 1) * sizeof *g.w);
    if (!g.col || !g.w) {
        rc = SDD_ENOMEM;
        goto fail;
    }
    for (int64_t q = 0; q < W.nnz; q++) g.col[q] = W.indices[q], g.w[q] = W.data[q];
    if ((rc = louvain(&g, opt->resolution, opt->seed, labels, &nc)) < 0) goto fail;
    if ((rc = tidy(&W, labels, n, nc, opt->min_size, n_labels)) >= 0) rc = tick(opt, 3, total, "communities");
    if (rc >= 0 && keep) *keep = pca, memset(&pca, 0, sizeof pca);
fail:
    free(g.col);
    free(g.w);
    free(idx);
    free(dist);
    sdd_csr_free(&W);
    sdd_pca_free(&pca);
    return rc;
}

int sdd_cluster_assign(const double *Q, int64_t nq, const double *R, int64_t nr, int64_t d, int k,
                       const int32_t *rl, int nc, int self_ref, int32_t *lab, double *purity)
{
    int64_t *idx = sdd_malloc((size_t)nq * (size_t)k * sizeof *idx), *self = NULL;
    double *d2 = sdd_malloc((size_t)nq * (size_t)k * sizeof *d2);
    int *cnt = sdd_calloc((size_t)nc + 1, sizeof *cnt);
    int rc = SDD_ENOMEM;
    if (!idx || !d2 || !cnt) goto done;
    if (self_ref) {
        if (!(self = sdd_malloc((size_t)nq * sizeof *self))) goto done;
        for (int64_t q = 0; q < nq; q++) self[q] = q;
    }
    if ((rc = sdd_knn(Q, nq, R, nr, d, k, self, idx, d2)) < 0) goto done;
    *purity = 0;
    for (int64_t q = 0; q < nq; q++) {
        int best = -1;
        memset(cnt, 0, (size_t)nc * sizeof *cnt);
        for (int j = 0; j < k; j++) cnt[rl[idx[q * k + j]]]++;
        for (int j = 0; j < k; j++) { /* nearest first: ties go to the nearer cluster */
            int c = rl[idx[q * k + j]];
            if (best < 0 || cnt[c] > cnt[best]) best = c;
        }
        lab[q] = best;
        *purity += (double)cnt[best] / k;
    }
    *purity /= (double)nq;
    rc = SDD_OK;
done:
    free(idx);
    free(d2);
    free(cnt);
    free(self);
    return rc;
}

/* Above opt->max_cells cells: the clusters of a seeded random max_cells of them (steps
 * 1-4), and for every other cell, projected on their principal components, the cluster
 * most common among its n_neighbors nearest clustered cells (sdd_cluster_assign), a
 * block of CLUSTER_ASSIGN_BLOCK cells at a time; codes are then ordered by size over all
 * cells. Cost O(n max_cells n_pcs) instead of O(n^2 n_pcs). */
#define CLUSTER_ASSIGN_BLOCK 32768
static int cluster_subsample(const sdd_csr_t *X, const sdd_cluster_opt_t *opt, int32_t *labels, int *n_labels)
{
    int64_t n = X->n_rows, m = opt->max_cells, *pick = NULL, *rest = NULL, step = 3;
    int64_t total = 3 + (n - m + CLUSTER_ASSIGN_BLOCK - 1) / CLUSTER_ASSIGN_BLOCK;
    int32_t *sl = NULL, *bl = NULL;
    double *sc = NULL, pur;
    char *in = NULL;
    sdd_csr_t S = {0}, B = {0};
    sdd_pca_t pca;
    sdd_rng_t root, rng;
    int nc = 0, rc = SDD_ENOMEM;
    memset(&pca, 0, sizeof pca);
    pick = sdd_malloc((size_t)m * sizeof *pick);
    rest = sdd_malloc((size_t)CLUSTER_ASSIGN_BLOCK * sizeof *rest);
    sl = sdd_malloc((size_t)m * sizeof *sl);
    bl = sdd_malloc((size_t)CLUSTER_ASSIGN_BLOCK * sizeof *bl);
    in = sdd_calloc((size_t)n, 1);
    if (!pick || !rest || !sl || !bl || !in) goto done;
    sdd_rng_seed(&root, opt->seed);
    sdd_rng_split(&root, 0x636c7573u /* "clus" */, &rng);
    if ((rc = sdd_subsample_rows(&rng, n, m, pick)) < 0 || (rc = sdd_csr_select_rows(X, pick, m, &S)) < 0 ||
        (rc = cluster_graph(&S, opt, total, sl, &nc, &pca)) < 0)
        goto done;
    sdd_csr_free(&S);
    for (int64_t i = 0; i < m; i++) labels[pick[i]] = sl[i], in[pick[i]] = 1;
    rc = SDD_ENOMEM;
    if (!(sc = sdd_malloc((size_t)CLUSTER_ASSIGN_BLOCK * (size_t)pca.k * sizeof *sc))) goto done;
    for (int64_t i = 0; i < n;) {
        int64_t nb = 0;
        for (; i < n && nb < CLUSTER_ASSIGN_BLOCK; i++)
            if (!in[i]) rest[nb++] = i;
        if (nb == 0) break;
        if ((rc = sdd_csr_select_rows(X, rest, nb, &B)) < 0 || (rc = sdd_pca_transform(&pca, &B, sc)) < 0 ||
            (rc = sdd_cluster_assign(sc, nb, pca.scores, m, pca.k, opt->n_neighbors, sl, nc, 0, bl, &pur)) < 0 ||
            (rc = tick(opt, ++step, total, "nearest clustered cells")) < 0)
            goto done;
        sdd_csr_free(&B);
        for (int64_t j = 0; j < nb; j++) labels[rest[j]] = bl[j];
    }
    rc = order_codes(labels, n, nc, NULL, n_labels);
done:
    sdd_csr_free(&S);
    sdd_csr_free(&B);
    sdd_pca_free(&pca);
    free(pick), free(rest), free(sl), free(bl), free(sc), free(in);
    return rc;
}

int sdd_cluster_cells(const sdd_csr_t *X, const sdd_cluster_opt_t *opt, int32_t *labels, int *n_labels)
{
    int rc;
    *n_labels = 0;
    if ((rc = sdd_cluster_opt_check(opt)) < 0) return rc;
    if (opt->max_cells > 0 && X->n_rows > opt->max_cells) return cluster_subsample(X, opt, labels, n_labels);
    return cluster_graph(X, opt, 3, labels, n_labels, NULL);
}

int sdd_trainset_cluster(sdd_trainset_t *ts, const sdd_cluster_opt_t *opt)
{
    int32_t *lab = sdd_malloc((size_t)(ts->n_cells > 0 ? ts->n_cells : 1) * sizeof *lab);
    char **names = NULL, *key = NULL, buf[24];
    int nl = 0, rc;
    if (!lab) return SDD_ENOMEM;
    if ((rc = sdd_cluster_cells(&ts->X, opt, lab, &nl)) < 0) goto fail;
    rc = SDD_ENOMEM;
    if (!(names = sdd_calloc((size_t)nl, sizeof *names)) || !(key = sdd_strdup("cluster"))) goto fail;
    for (int k = 0; k < nl; k++) {
        snprintf(buf, sizeof buf, "c%d", k);
        if (!(names[k] = sdd_strdup(buf))) goto fail;
    }
    free(ts->labels);
    sdd_strv_free(ts->label_names, ts->n_labels);
    free(ts->label_key);
    ts->labels = lab;
    ts->label_names = names;
    ts->n_labels = nl;
    ts->label_key = key;
    return SDD_OK;
fail:
    free(lab);
    sdd_strv_free(names, nl);
    free(key);
    return rc;
}
