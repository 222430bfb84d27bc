/*
 * sdd_internal.h: cross-module internals of libsddcell. Not installed; front ends
 * use sddcell.h only.
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

/* kNN lists of the rows of S [n x d] with each cell itself first (distance 0), then its
 * k - 1 nearest other rows ascending, as umap's nearest_neighbors: idx / dist [n x k]
 * (Euclidean distances, not squared), caller-owned. Needs 2 <= k <= n. (embed.c) */
int sdd_self_knn(const double *S, int64_t n, int64_t d, int k, int64_t *idx, double *dist);
/* metrics.c: n of `size` rows drawn without replacement by a partial Fisher-Yates
 * shuffle from rng (all rows, in order, and no draw when size == n), ascending. */
int sdd_subsample_rows(sdd_rng_t *rng, int64_t size, int64_t n, int64_t *out);
/* counts_eval.c: the two-sample Kolmogorov-Smirnov distance sup |F_a - F_b| of the
 * ascending samples a[na] and b[nb]; NaN when a side is empty. */
double sdd_ks_distance(const double *a, int64_t na, const double *b, int64_t nb);
/* 1 when the interrupt hook (sdd_set_interrupt_hook) asks to stop, else 0. */
int sdd_interrupt_requested(void);

#define SDD_LOG_E(...) sdd_log(SDD_LOG_ERROR, __func__, __VA_ARGS__)
#define SDD_LOG_W(...) sdd_log(SDD_LOG_WARNING, __func__, __VA_ARGS__)
#define SDD_LOG_I(...) sdd_log(SDD_LOG_INFO, __func__, __VA_ARGS__)
#define SDD_LOG_D(...) sdd_log(SDD_LOG_DEBUG, __func__, __VA_ARGS__)

#endif
