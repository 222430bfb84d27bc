/*
 * h5ad_extra.h: private additions to a written .h5ad (h5ad_extra.c) for elements the
 * general writer leaves empty: varm and obsp entries. Not installed.
 */
#ifndef SDD_H5AD_EXTRA_H
#define SDD_H5AD_EXTRA_H

#include "sdd_internal.h"

/* Add the dense float32 array x [rows x cols] as /<group>/<name> (`array` 0.2.0) to the
 * existing file `path` (the group is created as a dict when absent). */
int sdd_h5ad_add_dense(const char *path, const char *group, const char *name, const float *x,
                       int64_t rows, int64_t cols);
/* Add m as /<group>/<name>, a `csr_matrix` 0.1.0 group (shape int64[2], data float32,
 * indices int32, indptr int32 below 2^31 entries, else int64). Stored zeros are kept. */
int sdd_h5ad_add_csr(const char *path, const char *group, const char *name, const sdd_csr_t *m);

#endif
