/*
 * umap.c: the UMAP layout (McInnes, Healy, Melville 2018) by stochastic gradient descent
 * on the fuzzy graph, as umap-learn's simplicial_set_embedding and
 * optimize_layout_euclidean compute it with scanpy's defaults (min_dist 0.5, spread 1).
 *
 *   low-dimensional similarity  q(d) = 1 / (1 + a d^{2b}),  a = 0.58303, b = 1.33417
 *   (umap's find_ab_params least-squares fit for min_dist 0.5, spread 1);
 *   edges with w < max(w) / n_epochs are dropped; edge e is sampled every
 *   n_epochs / (n_epochs w_e / max w) epochs and then pulls its ends together with
 *     g = -2ab d^{2(b-1)} / (1 + a d^{2b}) (y_i - y_j),
 *   followed by negative samples (5 per positive sample) that push apart with
 *     g = 2b / ((0.001 + d^2)(1 + a d^{2b})) (y_i - y_k);
 *   every gradient component clipped to [-4, 4], learning rate alpha = 1 - (epoch-1)/n_epochs.
 *   The initial layout is rescaled to [0, 10] in each dimension first.
 *
 * Determinism: one sequential pass per epoch and one seeded sdd_rng_t for the negative
 * samples, so a seed gives the same layout on every run (umap-learn's parallel numba
 * loop does not guarantee that).
 */
#include "sdd_internal.h"
#include <math.h>

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
