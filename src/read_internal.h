/*
 * read_internal.h: the row reader (xreader.c) that the format readers (h5ad_read.c,
 * tenx_read.c, mtx_read.c) set up, and their openers, which the format-neutral front
 * (read.c) dispatches to. Private to libsddcell.
 */
#ifndef SDD_READ_INTERNAL_H
#define SDD_READ_INTERNAL_H

#include "h5_util.h"

/* Where the reader takes rows of X from. */
enum {
    SDD_XR_SPARSE = 1, /* on-disk CSR (h5ad csr_matrix, 10x CSC over genes = CSR over cells) */
    SDD_XR_DENSE = 2,  /* on-disk 2-d array, rows read as hyperslabs */
    SDD_XR_MEM = 3     /* the whole matrix already in memory (h5ad csc_matrix, MTX) */
};

struct sdd_xreader {
    int kind;                /* SDD_XR_* */
    int64_t n_rows, n_cols;  /* shape as the caller sees it (after feature filtering) */
    int64_t pos;             /* next row to return */
    int64_t budget;          /* at most this many stored entries per chunk (>= 1 row) */
    char what[600];          /* "file: X", prefix of messages about the matrix */
    hid_t fid;               /* the open file (SPARSE, DENSE) */
    /* SPARSE */
    hid_t data, indices;     /* 1-d datasets */
    int64_t *indptr;         /* [n_rows + 1], validated at open */
    int64_t n_src_cols;      /* stored column indices must lie in [0, n_src_cols) */
    int32_t *colmap;         /* [n_src_cols] output column or -1 (dropped); NULL = identity */
    char indices_name[600];  /* "file: X/indices" for index range errors */
    int threads;             /* decoding threads for chunked data / indices */
    int chunked_tried;       /* the fast chunk readers below have been set up */
    sdd_h5_chunked_t *cdata, *cindices; /* NULL where H5Dread is used */
    /* DENSE */
    hid_t dense;
    /* MEM */
    sdd_csr_t mem;           /* validated, cells x genes */
};

/* Set up r (xreader.c) as SPARSE over group `grp` (datasets data, indices, indptr) holding n_rows
 * compressed rows whose stored indices lie in [0, n_src_cols). Loads indptr and checks:
 * n_rows + 1 entries, starts at 0, never decreases, ends at the length of data, which
 * equals the length of indices. Takes no ownership of grp. */
int sdd_xr_init_sparse(sdd_xreader_t *r, hid_t grp, int64_t n_rows, int64_t n_src_cols);
/* Set up r as DENSE over a 2-d numeric dataset `dset` (r takes ownership). */
int sdd_xr_init_dense(sdd_xreader_t *r, hid_t dset, int64_t n_rows, int64_t n_cols);
/* Read a whole compressed-sparse matrix from grp into m (n_major compressed rows,
 * indices in [0, n_minor)), validated. Used for csc_matrix X (then transposed). */
int sdd_xr_load_compressed(hid_t grp, int64_t n_major, int64_t n_minor, sdd_csr_t *m);

/* The per-format openers: fill *meta (names, columns, format fields, shape) and set up r.
 * fid is the open file (HDF5 formats); the opener does not close it (r->fid owns it). */
int sdd_h5ad_open(const char *path, hid_t fid, const sdd_read_opt_t *opt, sdd_xreader_t *r,
                  sdd_dataset_t *meta);
int sdd_tenx_open(const char *path, hid_t fid, const sdd_read_opt_t *opt, sdd_xreader_t *r,
                  sdd_dataset_t *meta);
int sdd_mtx_open(const char *dir, const sdd_read_opt_t *opt, sdd_xreader_t *r, sdd_dataset_t *meta);
/* 1 if the open HDF5 file looks like a 10x matrix (a /matrix group, or a root group
 * holding indptr and shape, and no obs group). */
int sdd_tenx_detect(hid_t fid);

#endif
