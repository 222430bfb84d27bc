/*
 * read.c: the format-neutral front of reading. Detects the format of a path (a
 * directory is a 10x MTX folder; an HDF5 file with a /matrix group or genome groups is
 * a 10x .h5; any other HDF5 file is an .h5ad), lets the format's opener fill the
 * annotations and set up the row reader (xreader.c), and then serves X in row chunks
 * (sdd_xreader_*) or whole (sdd_dataset_read, which is the row reader run to the end).
 */
#include "read_internal.h"
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#define CHUNK_ENTRIES ((int64_t)1 << 22) /* stored entries per chunk: 4M = 32 MiB buffers */

/* ------------------------------------------------------------ opening */

int sdd_xreader_open(const char *path, const sdd_read_opt_t *opt, sdd_xreader_t **out,
                     sdd_dataset_t **meta)
{
    sdd_read_opt_t dflt;
    sdd_xreader_t *r = NULL;
    sdd_dataset_t *ds = NULL;
    struct stat st;
    hid_t fid = -1;
    int rc;
    *out = NULL;
    *meta = NULL;
    if (!opt) {
        sdd_read_opt_init(&dflt);
        opt = &dflt;
    }
    if (!(r = sdd_calloc(1, sizeof *r)) || !(ds = sdd_dataset_init())) {
        rc = SDD_ENOMEM;
        goto fail;
    }
    r->fid = r->data = r->indices = r->dense = -1;
    r->budget = CHUNK_ENTRIES;
    r->threads = 1;
    if (stat(path, &st) != 0) {
        rc = sdd_error(SDD_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = sdd_mtx_open(path, opt, r, ds);
    } else {
        if ((rc = sdd_h5_open(path, &fid)) < 0) goto fail;
        r->fid = fid;
        rc = sdd_tenx_detect(fid) ? sdd_tenx_open(path, fid, opt, r, ds) : sdd_h5ad_open(path, fid, opt, r, ds);
    }
    if (rc < 0) goto fail;
    ds->n_cells = r->n_rows;
    ds->n_genes = r->n_cols;
    *out = r;
    *meta = ds;
    return SDD_OK;
fail:
    sdd_xreader_close(r);
    sdd_dataset_destroy(ds);
    return rc;
}

/* ------------------------------------------------------------ whole read */

/* Copy chunk c into m (allocated with room for every entry) after row `row`. */
static void place_rows(sdd_csr_t *m, int64_t row, const sdd_csr_t *c)
{
    int64_t base = m->indptr[row];
    for (int64_t i = 1; i <= c->n_rows; i++) m->indptr[row + i] = base + c->indptr[i];
    memcpy(m->indices + base, c->indices, (size_t)c->nnz * sizeof *c->indices);
    memcpy(m->data + base, c->data, (size_t)c->nnz * sizeof *c->data);
}

int sdd_dataset_read(const char *path, const sdd_read_opt_t *opt, sdd_dataset_t **out)
{
    sdd_xreader_t *r = NULL;
    sdd_dataset_t *ds = NULL;
    sdd_csr_t c = {0};
    int64_t got, row = 0;
    int rc;
    *out = NULL;
    if ((rc = sdd_xreader_open(path, opt, &r, &ds)) < 0) return rc;
    if (r->kind == SDD_XR_MEM) {
        /* already whole and validated: hand it over */
        ds->X = r->mem;
        memset(&r->mem, 0, sizeof r->mem);
    } else if (r->kind == SDD_XR_SPARSE) {
        /* the stored entries bound the size: one allocation, chunks copied in place */
        if ((rc = sdd_csr_alloc(&ds->X, r->n_rows, r->n_cols, r->indptr[r->n_rows])) < 0) goto fail;
        while ((got = sdd_xreader_next(r, INT64_MAX, &c)) > 0) {
            place_rows(&ds->X, row, &c);
            row += got;
            sdd_csr_free(&c);
        }
        if (got < 0) goto fail_got;
        ds->X.nnz = ds->X.indptr[r->n_rows];
    } else {
        if ((rc = sdd_csr_alloc(&ds->X, 0, r->n_cols, 0)) < 0) goto fail;
        while ((got = sdd_xreader_next(r, INT64_MAX, &c)) > 0) {
            rc = sdd_csr_append_rows(&ds->X, &c);
            sdd_csr_free(&c);
            if (rc < 0) goto fail;
        }
        if (got < 0) goto fail_got;
    }
    sdd_xreader_close(r);
    *out = ds;
    return SDD_OK;
fail_got:
    rc = (int)got;
fail:
    sdd_xreader_close(r);
    sdd_dataset_destroy(ds);
    return rc;
}
