/*
 * knn.c: exact k nearest neighbours by Euclidean distance (LISI, the kNN classifier and
 * the neighbour graph of the UMAP-ready export).
 *
 * For a block of queries Q_b and a block of reference rows R_b the squared distances are
 *     D = |q|^2 1^T + 1 |r|^T^2 - 2 Q_b R_b^T
 * with the cross term from one dgemm; negative rounding is clamped to 0. Each query
 * keeps a bounded max-heap of its k best (distance, index) pairs across reference
 * blocks, so memory is O(block^2 + nq k), never nq x nr. Everything is double: PCA
 * scores of magnitude ~10-100 would lose neighbour order to cancellation in float.
 *
 * Invariants: results are ascending by distance, ties broken by the lower reference
 * index, so the output does not depend on the block sizes or the BLAS thread count
 * beyond the last bits of the distances. A query never returns its `self` row. Query
 * blocks are shared out over the compute threads; each query's result depends only on
 * its own block's arithmetic, so it is the same with any thread count.
 */
#include "blas.h"

#include <limits.h>

#define KNN_QBLOCK 256
#define KNN_RBLOCK 2048

/* (d, i) orders before (e, j) */
static inline int before(double d, int64_t i, double e, int64_t j) { return d < e || (d == e && i < j); }

/* Max-heap on (d, i) of at most k entries: root = worst kept neighbour. */
/* Put (d, i) at the root of the max-heap hd/hi of n entries and sift it down. */
static void sift_down(double *hd, int64_t *hi, int n, double d, int64_t i)
{
    int c = 0;
    for (;;) {
        int l = 2 * c + 1, r = l + 1, m = c;
        double md = d;
        int64_t mi = i;
        if (l < n && before(md, mi, hd[l], hi[l])) m = l, md = hd[l], mi = hi[l];
        if (r < n && before(md, mi, hd[r], hi[r])) m = r;
        if (m == c) break;
        hd[c] = hd[m], hi[c] = hi[m];
        c = m;
    }
    hd[c] = d, hi[c] = i;
}

static void heap_push(double *hd, int64_t *hi, int *size, int k, double d, int64_t i)
{
    int c, p;
    if (*size == k) {
        if (before(d, i, hd[0], hi[0])) sift_down(hd, hi, k, d, i); /* replace the root */
        return;
    }
    c = (*size)++;
    while (c > 0) {
        p = (c - 1) / 2;
        if (!before(hd[p], hi[p], d, i)) break;
        hd[c] = hd[p], hi[c] = hi[p];
        c = p;
    }
    hd[c] = d, hi[c] = i;
}

/* Heap -> ascending order in place (heap sort on the max-heap). */
static void heap_sort(double *hd, int64_t *hi, int size)
{
    for (int n = size - 1; n > 0; n--) {
        double d = hd[n];
        int64_t i = hi[n];
        hd[n] = hd[0], hi[n] = hi[0];
        sift_down(hd, hi, n, d, i);
    }
}

static void row_norms(const double *X, int64_t n, int64_t d, double *out)
{
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++) s += X[i * d + j] * X[i * d + j];
        out[i] = s;
    }
}

/* One query block on one compute thread: its own distance buffer, its heaps kept in
 * dist2/idx (the rows of this block only), so blocks run in any order and concurrently. */
typedef struct {
    const double *Q, *R, *qn, *rn;
    const int64_t *self;
    int64_t nq, nr, d;
    int k, failed;
    int64_t *idx;
    double *dist2;
} knn_job_t;

static void knn_block(void *ctx, int piece)
{
    knn_job_t *j = ctx;
    int64_t q0 = (int64_t)piece * KNN_QBLOCK, bq = j->nq - q0 < KNN_QBLOCK ? j->nq - q0 : KNN_QBLOCK, d = j->d;
    int k = j->k, size[KNN_QBLOCK] = {0};
    double *G = sdd_malloc((size_t)KNN_QBLOCK * KNN_RBLOCK * sizeof *G);
    if (!G) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t r0 = 0; r0 < j->nr; r0 += KNN_RBLOCK) {
        int64_t br = j->nr - r0 < KNN_RBLOCK ? j->nr - r0 : KNN_RBLOCK;
        sdd_dgemm(0, 1, (int)bq, (int)br, (int)d, -2.0, j->Q + q0 * d, (int)d, j->R + r0 * d, (int)d, 0.0, G,
                  (int)br);
        for (int64_t a = 0; a < bq; a++) {
            int64_t q = q0 + a, skip = j->self ? j->self[q] : -1;
            double *hd = j->dist2 + q * k;
            int64_t *hi = j->idx + q * k;
            const double *g = G + a * br;
            for (int64_t b = 0; b < br; b++) {
                double v = j->qn[q] + j->rn[r0 + b] + g[b];
                if (r0 + b == skip) continue;
                heap_push(hd, hi, &size[a], k, v < 0 ? 0 : v, r0 + b);
            }
        }
    }
    for (int64_t a = 0; a < bq; a++) heap_sort(j->dist2 + (q0 + a) * k, j->idx + (q0 + a) * k, size[a]);
    free(G);
}

int sdd_knn(const double *Q, int64_t nq, const double *R, int64_t nr, int64_t d, int k,
            const int64_t *self, int64_t *idx, double *dist2)
{
    double *qn = NULL, *rn = NULL;
    knn_job_t j;
    int rc = SDD_ENOMEM;

    if (k < 1 || k > nr - (self ? 1 : 0))
        return sdd_error(SDD_EINVAL, "kNN: %d neighbours requested from %lld reference rows", k, (long long)nr);
    if ((nq + KNN_QBLOCK - 1) / KNN_QBLOCK > INT_MAX) return sdd_error(SDD_EINVAL, "kNN: too many queries");
    qn = sdd_malloc((size_t)nq * sizeof *qn + 1);
    rn = sdd_malloc((size_t)nr * sizeof *rn + 1);
    if (!qn || !rn) goto fail;
    row_norms(Q, nq, d, qn);
    row_norms(R, nr, d, rn);
    j = (knn_job_t){Q, R, qn, rn, self, nq, nr, d, k, 0, idx, dist2};
    sdd_parallel_for((int)((nq + KNN_QBLOCK - 1) / KNN_QBLOCK), knn_block, &j);
    rc = j.failed ? SDD_ENOMEM : SDD_OK;
fail:
    free(qn);
    free(rn);
    return rc;
}
