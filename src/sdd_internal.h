/*
 * sdd_internal.h: cross-module internals of libsddcell. Not installed; the front ends (the
 * CLI, the R shim) use sddcell.h only. The tests and bench/ include this header too, for
 * the kernels they check one by one.
 */
#ifndef SDD_INTERNAL_H
#define SDD_INTERNAL_H

#include "sddcell.h"
#include <stdlib.h>
#include <string.h>

/* Allocation helpers that record SDD_ENOMEM detail. They return NULL on failure. */
void *sdd_malloc(size_t n);
void *sdd_calloc(size_t n, size_t size);
void *sdd_realloc(void *p, size_t n);
char *sdd_strdup(const char *s);
/* Free an array of n owned strings and the array itself (NULL-safe). */
void sdd_strv_free(char **v, int64_t n);
/* Index of a string of v[n] that equals an earlier one (the first such pair in sorted
 * order), or -1 when all are distinct (or on out-of-memory, which sets the detail). */
int64_t sdd_strv_find_dup(char *const *v, int64_t n);
/* dataset.c: make names unique as anndata's make_index_unique / scanpy's
 * var_names_make_unique: the first occurrence keeps its name, later ones become name-1,
 * name-2, ... skipping names already present. Strings are replaced in place. */
int sdd_names_make_unique(char **names, int64_t n);
/* dataset.c: append a column to a dataset's obs or var table (takes ownership of *c's
 * contents). */
int sdd_cols_append(sdd_column_t **cols, int *n, sdd_column_t *c);

/* checkpoint.c: the fixed header at the start of a model file (the file's layout is in
 * checkpoint.c's opening comment). */
typedef struct {
    char magic[8];
    uint32_t version, header_bytes;
    int64_t G;
    int32_t bits, D, H[4], F, E, n_labels;
    int64_t n_params, step;
    uint64_t rng[4];
    int32_t rng_has_spare, sections;
    double rng_spare;
    uint64_t json_bytes;
    int64_t n_lib;
} sdd_ckpt_header_t;
/* checkpoint.c: the model file's checksum, FNV-1a over 8-byte words (native order) then the
 * remaining bytes, of p[n] continued from h (0xcbf29ce484222325 to start). */
uint64_t sdd_fnv1a(uint64_t h, const void *p, size_t n);

/* kNN lists of the rows of S [n x d] with each cell itself first (distance 0), then its
 * k - 1 nearest other rows ascending, as umap's nearest_neighbors: idx / dist [n x k]
 * (Euclidean distances, not squared), caller-owned. Needs 2 <= k <= n. (embed.c) */
int sdd_self_knn(const double *S, int64_t n, int64_t d, int k, int64_t *idx, double *dist);
/* cluster.c: for each row of Q [nq x d], its k nearest rows of R [nr x d] (self excluded
 * when self_ref: then Q is R), the most common of their clusters rl (codes < nc; ties:
 * the cluster of the nearest of the tied) into lab[q] (caller-owned), and the share of
 * the k in it, averaged over the rows into *purity. */
int sdd_cluster_assign(const double *Q, int64_t nq, const double *R, int64_t nr, int64_t d, int k,
                       const int32_t *rl, int nc, int self_ref, int32_t *lab, double *purity);
/* counts_eval.c: the two-sample Kolmogorov-Smirnov distance sup |F_a - F_b| of the
 * ascending samples a[na] and b[nb]; NaN when a side is empty. */
double sdd_ks_distance(const double *a, int64_t na, const double *b, int64_t nb);
/* options.c: check every field of options struct `which` (SDD_OPTS_*) at opts against
 * its table; SDD_EINVAL with "learning rate must be in (0, 1), not 1" on the first
 * field outside. */
int sdd_opt_check_table(int which, const void *opts);
/* 1 when the interrupt hook (sdd_set_interrupt_hook) asks to stop, else 0. */
int sdd_interrupt_requested(void);

/* ---- kernels behind the stages: called by the library's own files and, directly, by
 * the tests, which check them against reference implementations. */

/* cpus.c: the cgroup part of sdd_cpus_available. */
/* self_cgroup is a file in the format of /proc/self/cgroup and
 * cgroup_root the cgroup mount (/sys/fs/cgroup; v1 controllers in subdirectories such as
 * cpu,cpuacct, v2 at the root or under unified/). Returns ceil(quota / period) of the
 * tightest limit on the process's cgroup and its ancestors, or 0 when none is set. */
int sdd_cgroup_cpu_limit(const char *self_cgroup, const char *cgroup_root);

/* knn.c, mixing.c: the neighbour search and the mixing metrics of sdd_evaluate. */
/* Exact k nearest neighbours by Euclidean distance: for each row q of Q [nq x d] the k
 * rows of R [nr x d] closest to it, ascending by distance, ties to the lower index.
 * self (may be NULL): self[q] >= 0 names a row of R never returned for query q (the
 * query itself). idx [nq x k] and dist2 [nq x k] (squared distances) are caller-owned.
 * Distances come from blocked GEMM; no nq x nr matrix is held. Needs k <= nr - 1 when
 * self is given, else k <= nr. */
int sdd_knn(const double *Q, int64_t nq, const double *R, int64_t nr, int64_t d, int k,
            const int64_t *self, int64_t *idx, double *dist2);

/* MMD of doc/method.md §8.5 between rows [0, n_a) and [n_a, n_a + n_b) of X [(n_a+n_b) x d]:
 * D = squared Euclidean distances, b = mean off-diagonal D, K = sum_{q=-2..2}
 * exp(-D / (b 2^q)), MMD = mean K_aa + mean K_bb - 2 mean K_ab (biased, diagonals
 * included; rounding below 0 is clamped to 0). Accumulated in double over blocks.
 * *bandwidth (may be NULL) receives b. */
int sdd_mmd(const double *X, int64_t n_a, int64_t n_b, int64_t d, double *mmd, double *bandwidth);

/* Per-cell LISI as the R lisi package computes it: the 3*perplexity nearest cells
 * including the cell itself, the cell dropped; Gaussian weights exp(-beta d) on the
 * Euclidean distances d with beta bisected until the entropy is within tol (1e-5) of
 * ln(perplexity) (50 tries); LISI = 1 / sum_label p_label^2 (-1 where all weights
 * vanish, as lisi does). X [n x d], labels [n] in [0, n_labels). lisi [n] caller-owned. */
int sdd_lisi(const double *X, int64_t n, int64_t d, const int32_t *labels, int n_labels,
             double perplexity, double *lisi);

/* Cross-validated ROC AUC of a k-NN classifier separating class 1 from class 0: rows
 * with fold[i] = f are scored by the fraction of class-1 cells among their k nearest
 * rows of the other folds (all of them when there are fewer than k); the result is the
 * mean over folds of the per-fold AUC. */
int sdd_knn_auc(const double *X, int64_t n, int64_t d, const int32_t *cls, const int32_t *fold,
                int n_folds, int k, double *auc);

/* ROC AUC of scores for positives (cls 1) against negatives (cls 0), ties counted half
 * (Mann-Whitney with average ranks). NaN if a class is empty. */
double sdd_roc_auc(const double *score, const int32_t *cls, int64_t n);

/* mixing.c: a value with its index, ordered by value then index (qsort with sdd_vi_cmp),
 * and average ranks (1-based) of x[n] into r[n], ties sharing the mean of their ranks. */
typedef struct {
    double v;
    int64_t i;
} sdd_vi_t;
int sdd_vi_cmp(const void *a, const void *b);
int sdd_average_ranks(const double *x, int64_t n, double *r);

/* embed.c: UMAP's graph and layout for sdd_embed_run. */
/* UMAP's fuzzy simplicial set from kNN lists that start with the cell itself (umap-learn
 * smooth_knn_dist, local_connectivity 1, then compute_membership_strengths and the fuzzy
 * union with set_op_mix_ratio 1): knn_idx / knn_dist [n x k] row-major. sigma / rho [n]
 * may be NULL. *out (n x n, sorted rows, zero diagonal) is allocated. */
int sdd_fuzzy_simplicial_set(const int64_t *knn_idx, const double *knn_dist, int64_t n, int k,
                             double *sigma, double *rho, sdd_csr_t *out);

/* UMAP SGD layout (umap-learn optimize_layout_euclidean: a = 0.583, b = 1.334 for
 * min_dist 0.5 and spread 1, negative sample rate 5, gamma 1, alpha from 1 down
 * linearly) of the graph G (n x n) from init [n x 2] (rescaled to [0, 10]); the result
 * replaces init. Sequential and seeded: the same seed gives the same layout. */
int sdd_umap_layout(const sdd_csr_t *G, int n_epochs, uint64_t seed, float *init);

#define SDD_LOG_E(...) sdd_log(SDD_LOG_ERROR, __func__, __VA_ARGS__)
#define SDD_LOG_W(...) sdd_log(SDD_LOG_WARNING, __func__, __VA_ARGS__)
#define SDD_LOG_I(...) sdd_log(SDD_LOG_INFO, __func__, __VA_ARGS__)
#define SDD_LOG_D(...) sdd_log(SDD_LOG_DEBUG, __func__, __VA_ARGS__)

#endif
