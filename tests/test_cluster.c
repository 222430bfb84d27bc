/* test_cluster: Louvain clusters of the kNN graph (cluster.c) against planted groups.
 * Cells are drawn from well-separated groups that differ in which genes they express;
 * the clusters must be exactly those groups (up to renaming), numbered by size, the
 * same with any thread count, and groups below the smallest cluster size are folded
 * into the group their cells are closest to. */
#include "sddcell.h"
#include "tap.h"
#include <stdlib.h>
#include <string.h>

/* n cells in groups of sizes[g] cells; group g expresses genes [g*20, g*20+20) at a high
 * level and every gene at a low one, with noise: log1p-like values, dense rows as CSR. */
static void planted(const int *sizes, int n_groups, int G, uint64_t seed, sdd_csr_t *X, int32_t *truth)
{
    sdd_rng_t r;
    int64_t n = 0, k = 0;
    for (int g = 0; g < n_groups; g++) n += sizes[g];
    sdd_rng_seed(&r, seed);
    sdd_csr_alloc(X, n, G, n * G);
    for (int g = 0, i = 0; g < n_groups; g++)
        for (int c = 0; c < sizes[g]; c++, i++) {
            truth[i] = g;
            for (int j = 0; j < G; j++) {
                double v = 0.3 * sdd_rng_uniform(&r) + ((j / 20) == g ? 2.0 + 0.5 * sdd_rng_normal(&r) : 0);
                X->data[k] = (float)(v > 0 ? v : 0.01);
                X->indices[k++] = j;
            }
            X->indptr[i + 1] = k;
        }
}

/* 1 when every code of a lies inside one code of b. */
static int refines(const int32_t *a, const int32_t *b, int64_t n, int na)
{
    int32_t map[64];
    for (int i = 0; i < 64; i++) map[i] = -1;
    for (int64_t i = 0; i < n; i++) {
        if (a[i] < 0 || a[i] >= na || a[i] >= 64) return 0;
        if (map[a[i]] < 0) map[a[i]] = b[i];
        if (map[a[i]] != b[i]) return 0;
    }
    return 1;
}

/* 1 when a and b are the same partition of n cells: a refines b and no two codes of a
 * fall in one code of b. */
static int same_partition(const int32_t *a, const int32_t *b, int64_t n, int na)
{
    int32_t first[64];
    if (na > 64 || !refines(a, b, n, na)) return 0;
    for (int x = 0; x < na; x++) first[x] = -1;
    for (int64_t i = 0; i < n; i++)
        if (first[a[i]] < 0) first[a[i]] = b[i];
    for (int x = 0; x < na; x++)
        for (int y = x + 1; y < na; y++)
            if (first[x] >= 0 && first[x] == first[y]) return 0;
    return 1;
}

static void test_planted(void)
{
    int sizes[4] = {120, 90, 60, 40}, G = 100, nl = 0, nl2 = 0;
    int64_t n = 310;
    int32_t truth[310], lab[310], lab2[310];
    sdd_csr_t X = {0};
    sdd_cluster_opt_t o;
    planted(sizes, 4, G, 7, &X, truth);
    sdd_cluster_opt_init(&o);
    o.n_pcs = 10;
    sdd_set_threads(1);
    /* at resolution 1 a kNN graph of a uniform blob has communities of its own: every
     * cluster must still lie inside one planted group */
    CHECK(sdd_cluster_cells(&X, &o, lab, &nl) == 0);
    CHECK_MSG(nl >= 4, "found %d clusters, planted 4", nl);
    CHECK(same_partition(truth, truth, n, 4) && refines(lab, truth, n, nl));
    o.resolution = 0.1;
    CHECK(sdd_cluster_cells(&X, &o, lab, &nl) == 0);
    CHECK_MSG(nl == 4, "found %d clusters at resolution 0.1, planted 4", nl);
    CHECK(same_partition(lab, truth, n, nl));
    /* codes by size: group 0 (120 cells) is code 0, group 3 (40 cells) code 3 */
    CHECK(lab[0] == 0 && lab[n - 1] == 3);
    sdd_set_threads(2);
    CHECK(sdd_cluster_cells(&X, &o, lab2, &nl2) == 0);
    CHECK(nl2 == nl && memcmp(lab, lab2, sizeof lab) == 0);
    sdd_set_threads(1);
    /* a smallest size above the last group's 40 cells folds it into another group */
    o.min_size = 50;
    CHECK(sdd_cluster_cells(&X, &o, lab2, &nl2) == 0);
    CHECK_MSG(nl2 == 3, "found %d clusters with min_size 50", nl2);
    CHECK(memcmp(lab2, lab, 270 * sizeof *lab) == 0);
    o.resolution = 0;
    CHECK(sdd_cluster_cells(&X, &o, lab2, &nl2) == SDD_EINVAL);
    sdd_csr_free(&X);
}

/* Above max_cells the graph is built on a random subsample and every other cell joins its
 * neighbours' cluster: still exactly the planted groups, numbered by size over all cells,
 * the same with any thread count and seeded; max_cells below 100 is refused. */
typedef struct {
    int calls, ordered, stop_at;
    int64_t last_done, total;
} prog_t;

/* records the "cluster" progress calls; asks to stop at call stop_at (0: never) */
static int record(const char *stage, int64_t done, int64_t total, const char *status, void *user)
{
    prog_t *p = user;
    (void)status;
    p->ordered = (p->calls == 0 ? done == 0 : p->ordered && done == p->last_done + 1) && strcmp(stage, "cluster") == 0;
    p->calls++;
    p->last_done = done;
    p->total = total;
    return p->stop_at && p->calls == p->stop_at;
}

static void test_subsample(void)
{
    enum { N = 1560 };
    int sizes[4] = {300, 700, 160, 400}, G = 100, nl = 0, nl2 = 0; /* codes by size: 2, 0, 3, 1 */
    static int32_t truth[N], lab[N], lab2[N], all[N];
    sdd_csr_t X = {0};
    sdd_cluster_opt_t o;
    planted(sizes, 4, G, 11, &X, truth);
    sdd_cluster_opt_init(&o);
    o.n_pcs = 10;
    o.resolution = 0.1;
    CHECK(o.max_cells == 50000);
    o.max_cells = 0;
    sdd_set_threads(1);
    CHECK(sdd_cluster_cells(&X, &o, all, &nl) == 0);
    CHECK_MSG(nl == 4 && same_partition(all, truth, N, nl), "all cells: %d clusters", nl);
    o.max_cells = 300;
    CHECK(sdd_cluster_cells(&X, &o, lab, &nl) == 0);
    CHECK_MSG(nl == 4 && same_partition(lab, truth, N, nl), "300 of %d cells: %d clusters", N, nl);
    CHECK(lab[0] == 2 && lab[300] == 0 && lab[1000] == 3 && lab[N - 1] == 1);
    CHECK(memcmp(lab, all, sizeof lab) == 0);
    sdd_set_threads(2);
    CHECK(sdd_cluster_cells(&X, &o, lab2, &nl2) == 0);
    CHECK(nl2 == nl && memcmp(lab, lab2, sizeof lab) == 0);
    sdd_set_threads(1);
    { /* progress: start, PCA, neighbours, communities, then one block of the other 1260 cells */
        prog_t pr = {0};
        o.progress = record;
        o.progress_user = &pr;
        CHECK(sdd_cluster_cells(&X, &o, lab2, &nl2) == 0);
        CHECK_MSG(pr.calls == 5 && pr.last_done == 4 && pr.total == 4 && pr.ordered,
                  "%d calls, last %lld of %lld", pr.calls, (long long)pr.last_done, (long long)pr.total);
        CHECK(memcmp(lab, lab2, sizeof lab) == 0);
        pr = (prog_t){.stop_at = 2};
        CHECK(sdd_cluster_cells(&X, &o, lab2, &nl2) == SDD_EINTR && pr.calls == 2 && pr.last_done == 1);
        o.max_cells = 0;
        pr = (prog_t){0};
        CHECK(sdd_cluster_cells(&X, &o, lab2, &nl2) == 0 && pr.calls == 4 && pr.total == 3 && pr.ordered);
        o.progress = NULL;
    }
    o.max_cells = 99;
    CHECK(sdd_cluster_cells(&X, &o, lab2, &nl2) == SDD_EINVAL);
    sdd_csr_free(&X);
}

int main(void)
{
    test_planted();
    test_subsample();
    return tap_done();
}
