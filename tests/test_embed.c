/* test_embed: the joint embedding on the metrics fixtures (700 real + 600 perturbed
 * pbmc3k cells, 4 clusters): graph invariants, a hand-checked fuzzy set, and the UMAP
 * layout's determinism and faithfulness (it keeps PC-space neighbourhoods and clusters). */
#include "sddcell.h"
#include "sdd_internal.h"
#include "tap.h"
#include "fixture.h"
#include <string.h>

/* Three points on a line, k = 3 (self + 2): every row has rho = its nearest distance, so
 * the nearest neighbour gets weight 1; the union of 1 and 1 stays 1. */
static void test_fuzzy_small(void)
{
    int64_t idx[] = {0, 1, 2, 1, 0, 2, 2, 1, 0};
    double dist[] = {0, 1, 3, 0, 1, 2, 0, 2, 3}, sigma[3], rho[3];
    sdd_csr_t W = {0};
    CHECK(sdd_fuzzy_simplicial_set(idx, dist, 3, 3, sigma, rho, &W) == 0);
    CHECK(rho[0] == 1 && rho[1] == 1 && rho[2] == 2);
    /* row 0: weights exp(-(d - rho)/sigma) over d = {1, 3} sum to log2(3) */
    CHECK_CLOSE(1 + exp(-(3 - 1) / sigma[0]), log2(3.0), 0, 2e-5);
    CHECK(W.nnz == 6); /* complete graph without the diagonal */
    for (int64_t i = 0; i < 3; i++)
        for (int64_t p = W.indptr[i]; p < W.indptr[i + 1]; p++) {
            int64_t j = W.indices[p];
            double a = 0, b = 0;
            for (int t = 1; t < 3; t++) {
                if (idx[i * 3 + t] == j) a = dist[i * 3 + t] <= rho[i] ? 1 : exp(-(dist[i * 3 + t] - rho[i]) / sigma[i]);
                if (idx[j * 3 + t] == i) b = dist[j * 3 + t] <= rho[j] ? 1 : exp(-(dist[j * 3 + t] - rho[j]) / sigma[j]);
            }
            CHECK_CLOSE(W.data[p], a + b - a * b, 1e-6, 1e-7);
        }
    sdd_csr_free(&W);
}

/* sdd_knn against brute force (every distance in double, sorted by distance then index)
 * over several query and reference blocks, ties included, the same bits with 1 and 2
 * threads, and a query never its own neighbour. */
static void test_knn_brute(void)
{
    enum { NQ = 700, NR = 4500, D = 3, K = 6 };
    static double Q[NQ * D], R[NR * D], d1[NQ * K], d2[NQ * K];
    static int64_t i1[NQ * K], i2[NQ * K], self[NQ];
    int bad = 0;
    uint64_t x = 12345;
    for (int64_t i = 0; i < NR * D; i++) { /* small integers: many exact ties */
        x = x * 6364136223846793005u + 1442695040888963407u;
        R[i] = (double)((x >> 33) % 9);
    }
    for (int64_t q = 0; q < NQ; q++) {
        self[q] = q * 5; /* the query is reference row 5q */
        memcpy(Q + q * D, R + self[q] * D, D * sizeof *Q);
    }
    sdd_set_threads(1);
    CHECK(sdd_knn(Q, NQ, R, NR, D, K, self, i1, d1) == 0);
    sdd_set_threads(2);
    CHECK(sdd_knn(Q, NQ, R, NR, D, K, self, i2, d2) == 0);
    sdd_set_threads(1);
    CHECK(memcmp(i1, i2, sizeof i1) == 0 && memcmp(d1, d2, sizeof d1) == 0);
    for (int64_t q = 0; q < NQ && !bad; q++) {
        int64_t best[K];
        double bd[K];
        int n = 0;
        for (int64_t r = 0; r < NR; r++) { /* insertion into the K best, (distance, index) order */
            double v = 0;
            if (r == self[q]) continue;
            for (int j = 0; j < D; j++) v += (Q[q * D + j] - R[r * D + j]) * (Q[q * D + j] - R[r * D + j]);
            if (n == K && v >= bd[K - 1]) continue;
            int p = n < K ? n++ : K - 1;
            while (p > 0 && bd[p - 1] > v) best[p] = best[p - 1], bd[p] = bd[p - 1], p--;
            best[p] = r, bd[p] = v;
        }
        for (int j = 0; j < K; j++) bad += i1[q * K + j] != best[j] || d1[q * K + j] != bd[j];
    }
    CHECK_MSG(bad == 0, "%d neighbours differ from brute force", bad);
}

/* Mean fraction of each cell's kk nearest cells in A [n x da] that are also among its kk
 * nearest in B [n x db]. */
static double overlap(const double *A, int64_t da, const double *B, int64_t db, int64_t n, int kk)
{
    int64_t *ia = calloc((size_t)(n * kk), sizeof *ia), *ib = calloc((size_t)(n * kk), sizeof *ib), *self = calloc((size_t)n, sizeof *self);
    double *d = malloc((size_t)(n * kk) * sizeof *d), s = 0;
    for (int64_t i = 0; i < n; i++) self[i] = i;
    sdd_knn(A, n, A, n, da, kk, self, ia, d);
    sdd_knn(B, n, B, n, db, kk, self, ib, d);
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < kk; a++)
            for (int b = 0; b < kk; b++) s += ia[i * kk + a] == ib[i * kk + b];
    free(ia), free(ib), free(self), free(d);
    return s / (double)(n * kk);
}

/* Leave-one-out 5-NN label accuracy in X [n x d]. */
static double label_accuracy(const double *X, int64_t n, int64_t d, const int32_t *lab)
{
    int64_t *idx = calloc((size_t)(n * 5), sizeof *idx), *self = calloc((size_t)n, sizeof *self), ok = 0;
    double *dist = malloc((size_t)(n * 5) * sizeof *dist);
    for (int64_t i = 0; i < n; i++) self[i] = i;
    sdd_knn(X, n, X, n, d, 5, self, idx, dist);
    for (int64_t i = 0; i < n; i++) {
        int votes[8] = {0}, best = 0;
        for (int j = 0; j < 5; j++) votes[lab[idx[i * 5 + j]] & 7]++;
        for (int c = 1; c < 8; c++) best = votes[c] > votes[best] ? c : best;
        ok += best == lab[i];
    }
    free(idx), free(self), free(dist);
    return (double)ok / n;
}

static void test_layout(sdd_pair_t *p)
{
    sdd_embed_opt_t opt;
    sdd_embed_t *a = NULL, *b = NULL, *c = NULL;
    sdd_embed_opt_init(&opt);
    opt.umap = 1;
    opt.n_epochs = 200;
    opt.seed = 3;
    CHECK(sdd_embed_run(p, &opt, NULL, NULL, &a) == 0 && sdd_embed_run(p, &opt, NULL, NULL, &b) == 0);
    opt.seed = 4;
    CHECK(sdd_embed_run(p, &opt, NULL, NULL, &c) == 0);
    if (a && b && c) {
        int64_t n = a->n, asym = 0;
        double *u = malloc((size_t)(2 * n) * sizeof *u), *pc2 = malloc((size_t)(2 * n) * sizeof *pc2), ov, ov2, acc_pc, acc_umap;
        int32_t *lab = malloc((size_t)n * sizeof *lab);
        CHECK(memcmp(a->umap, b->umap, (size_t)(2 * n) * sizeof *a->umap) == 0); /* same seed, same layout */
        CHECK(memcmp(a->umap, c->umap, (size_t)(2 * n) * sizeof *a->umap) != 0);
        CHECK(a->distances.nnz == n * 14 && a->pca.k == 50);
        for (int64_t i = 0; i < n; i++) /* W symmetric: each entry has its mirror */
            for (int64_t q = a->connectivities.indptr[i]; q < a->connectivities.indptr[i + 1]; q++) {
                int64_t j = a->connectivities.indices[q], found = 0;
                for (int64_t r = a->connectivities.indptr[j]; r < a->connectivities.indptr[j + 1]; r++)
                    found |= a->connectivities.indices[r] == i && a->connectivities.data[r] == a->connectivities.data[q];
                asym += !found || j == i;
            }
        CHECK(asym == 0);
        for (int64_t i = 0; i < 2 * n; i++) u[i] = a->umap[i], pc2[i] = a->pca.scores[(i / 2) * 50 + i % 2];
        for (int64_t i = 0; i < n; i++) lab[i] = i < a->n_real ? p->real_labels[i] : p->synth_labels[i - a->n_real];
        ov = overlap(a->pca.scores, 50, u, 2, n, 14);
        ov2 = overlap(a->pca.scores, 50, pc2, 2, n, 14);
        acc_pc = label_accuracy(a->pca.scores, n, 50, lab);
        acc_umap = label_accuracy(u, n, 2, lab);
        fprintf(stderr, "UMAP keeps %.1f%% of the 14-NN of the 50 PCs (PC1/PC2 %.1f%%, random %.1f%%); "
                "5-NN cluster accuracy %.3f (50 PCs %.3f)\n", 100 * ov, 100 * ov2, 100.0 * 14 / n, acc_umap, acc_pc);
        CHECK(ov > 0.1 && ov > 1.5 * ov2);
        CHECK(acc_umap > 0.9 * acc_pc);
        free(u), free(pc2), free(lab);
    }
    sdd_embed_destroy(a), sdd_embed_destroy(b), sdd_embed_destroy(c);
}

int main(void)
{
    const char *src = getenv("SDD_SRCDIR");
    char p1[4096], p2[4096];
    sdd_pair_t p;
    char *names[] = {"c0", "c1", "c2", "c3"};
    memset(&p, 0, sizeof p);
    if (!src) src = ".";
    snprintf(p1, sizeof p1, "%s/tests/data/metrics_real.bin.gz", src);
    snprintf(p2, sizeof p2, "%s/tests/data/metrics_synth.bin.gz", src);
    test_fuzzy_small();
    test_knn_brute();
    CHECK(read_fixture(p1, &p.real, &p.real_labels) == 0 && read_fixture(p2, &p.synth, &p.synth_labels) == 0);
    p.G = p.real.n_cols;
    p.label_names = names;
    p.n_labels = 4;
    if (p.real.n_rows && p.synth.n_rows) test_layout(&p);
    sdd_csr_free(&p.real), sdd_csr_free(&p.synth);
    free(p.real_labels), free(p.synth_labels);
    return tap_done();
}
