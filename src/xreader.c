/*
 * xreader.c: the row reader under every format (sdd_xreader_*): a format's opener
 * (h5ad_read.c, tenx_read.c, mtx_read.c) sets it up over on-disk CSR, a dense 2-d array
 * or a matrix already in memory, and read.c hands it to the caller.
 *
 * Row access never holds more than one chunk of X: compressed rows are read through
 * hyperslabs of data/indices between indptr[r0] and indptr[r1], dense rows as 2-d
 * hyperslabs. Structure is checked before any value is used: indptr fully at set-up
 * (length n_rows + 1, starts at 0, monotone, ends at nnz = len(data) = len(indices));
 * column indices chunk by chunk as they arrive, before they reach the caller.
 */
#include "read_internal.h"
#include <stdio.h>

/* ------------------------------------------------------------ set-up */

int sdd_xr_init_sparse(sdd_xreader_t *r, hid_t grp, int64_t n_rows, int64_t n_src_cols)
{
    char w[600];
    int64_t n_ip = 0, n_data = 0, n_ind = 0;
    int rc;
    r->kind = SDD_XR_SPARSE;
    r->n_rows = n_rows;
    r->n_src_cols = n_src_cols;
    if ((rc = sdd_h5_open_dataset(grp, "data", &r->data)) < 0) return rc;
    if ((rc = sdd_h5_open_dataset(grp, "indices", &r->indices)) < 0) return rc;
    if ((rc = sdd_h5_len1(r->data, &n_data)) < 0 || (rc = sdd_h5_len1(r->indices, &n_ind)) < 0) return rc;
    if (!sdd_h5_is_numeric(r->data))
        return sdd_error(SDD_EFORMAT, "%s: is not numeric", sdd_h5_where(grp, "data", w, sizeof w));
    if (n_data != n_ind)
        return sdd_error(SDD_EFORMAT, "%s: holds %lld values but indices holds %lld",
                         sdd_h5_where(grp, "data", w, sizeof w), (long long)n_data, (long long)n_ind);
    if ((rc = sdd_h5_load_i64(grp, "indptr", -1, &r->indptr, &n_ip)) < 0) return rc;
    if (n_ip != n_rows + 1)
        return sdd_error(SDD_EFORMAT, "%s: has %lld entries, expected %lld (the shape gives %lld compressed rows)",
                         sdd_h5_where(grp, "indptr", w, sizeof w), (long long)n_ip, (long long)(n_rows + 1),
                         (long long)n_rows);
    if (r->indptr[0] != 0)
        return sdd_error(SDD_EFORMAT, "%s: starts at %lld, expected 0",
                         sdd_h5_where(grp, "indptr", w, sizeof w), (long long)r->indptr[0]);
    for (int64_t i = 0; i < n_rows; i++)
        if (r->indptr[i + 1] < r->indptr[i])
            return sdd_error(SDD_EFORMAT, "%s: decreases at position %lld (%lld -> %lld)",
                             sdd_h5_where(grp, "indptr", w, sizeof w), (long long)(i + 1),
                             (long long)r->indptr[i], (long long)r->indptr[i + 1]);
    if (r->indptr[n_rows] != n_data)
        return sdd_error(SDD_EFORMAT, "%s: ends at %lld but data holds %lld values",
                         sdd_h5_where(grp, "indptr", w, sizeof w), (long long)r->indptr[n_rows],
                         (long long)n_data);
    sdd_h5_where(grp, "indices", r->indices_name, sizeof r->indices_name);
    return SDD_OK;
}

int sdd_xr_init_dense(sdd_xreader_t *r, hid_t dset, int64_t n_rows, int64_t n_cols)
{
    r->kind = SDD_XR_DENSE;
    r->dense = dset;
    r->n_rows = n_rows;
    r->n_cols = n_cols;
    return SDD_OK;
}

int sdd_xr_load_compressed(hid_t grp, int64_t n_major, int64_t n_minor, sdd_csr_t *m)
{
    sdd_xreader_t r;
    int rc;
    memset(&r, 0, sizeof r);
    r.data = r.indices = -1;
    memset(m, 0, sizeof *m);
    if (n_minor > INT32_MAX)
        return sdd_error(SDD_EUNSUPPORTED, "matrix with %lld columns exceeds 32-bit indices", (long long)n_minor);
    if ((rc = sdd_xr_init_sparse(&r, grp, n_major, n_minor)) < 0) goto done;
    if ((rc = sdd_csr_alloc(m, n_major, n_minor, r.indptr[n_major])) < 0) goto done;
    memcpy(m->indptr, r.indptr, (size_t)(n_major + 1) * sizeof *m->indptr);
    if ((rc = sdd_h5_read_i32(r.indices, 0, m->nnz, m->indices)) < 0) goto done;
    if ((rc = sdd_h5_read_f32(r.data, 0, m->nnz, m->data)) < 0) goto done;
    for (int64_t k = 0; k < m->nnz; k++)
        if (m->indices[k] < 0 || m->indices[k] >= n_minor) {
            rc = sdd_error(SDD_EFORMAT, "%s: value %lld at position %lld is outside [0, %lld)",
                           r.indices_name, (long long)m->indices[k], (long long)k, (long long)n_minor);
            goto done;
        }
done:
    if (rc < 0) sdd_csr_free(m);
    free(r.indptr);
    sdd_h5_close(r.data);
    sdd_h5_close(r.indices);
    return rc;
}

/* ------------------------------------------------------------ closing */

void sdd_xreader_close(sdd_xreader_t *r)
{
    if (!r) return;
    sdd_h5_close(r->data);
    sdd_h5_close(r->indices);
    sdd_h5_close(r->dense);
    sdd_h5_close(r->fid);
    sdd_h5_chunked_close(r->cdata);
    sdd_h5_chunked_close(r->cindices);
    free(r->indptr);
    free(r->colmap);
    sdd_csr_free(&r->mem);
    free(r);
}

void sdd_xreader_set_threads(sdd_xreader_t *r, int threads)
{
    r->threads = threads < 1 ? 1 : threads;
}

int sdd_xreader_rewind(sdd_xreader_t *r)
{
    r->pos = 0;
    return SDD_OK;
}

/* ------------------------------------------------------------ row chunks */

/* Keep only the entries whose column survives the feature filter, renumbered. */
static void apply_colmap(const int32_t *colmap, sdd_csr_t *c)
{
    int64_t o = 0, k = 0;
    for (int64_t i = 0; i < c->n_rows; i++) {
        int64_t end = c->indptr[i + 1];
        for (; k < end; k++) {
            int32_t j = colmap[c->indices[k]];
            if (j >= 0) {
                c->indices[o] = j;
                c->data[o++] = c->data[k];
            }
        }
        c->indptr[i + 1] = o;
    }
    c->nnz = o;
}

/* A range of data (float) or indices (int32), through the threaded chunk reader where
 * the dataset's storage allows it. */
static int read_part(sdd_h5_chunked_t *ck, hid_t d, int64_t start, int64_t n, int want_float, void *out)
{
    if (ck) {
        int rc = sdd_h5_chunked_read(ck, start, n, want_float, 0, out, NULL);
        if (rc != SDD_EUNSUPPORTED) return rc;
    }
    return want_float ? sdd_h5_read_f32(d, start, n, out) : sdd_h5_read_i32(d, start, n, out);
}

/* Column indices of entries [e0, e0+n) into out, each checked to lie in [0, n_src_cols)
 * (on the decoding threads when the chunk reader applies). */
static int read_indices(sdd_xreader_t *r, int64_t e0, int64_t n, int32_t *out)
{
    int64_t bad = -1;
    int rc = SDD_EUNSUPPORTED;
    if (r->cindices) rc = sdd_h5_chunked_read(r->cindices, e0, n, 0, r->n_src_cols, out, &bad);
    if (rc == SDD_EUNSUPPORTED) {
        if ((rc = sdd_h5_read_i32(r->indices, e0, n, out)) < 0) return rc;
        for (int64_t k = 0; k < n && bad < 0; k++)
            if (out[k] < 0 || out[k] >= r->n_src_cols) bad = k;
    }
    if (rc < 0) return rc;
    if (bad >= 0)
        return sdd_error(SDD_EFORMAT, "%s: value %lld at position %lld is outside [0, %lld)", r->indices_name,
                         (long long)out[bad], (long long)(e0 + bad), (long long)r->n_src_cols);
    return SDD_OK;
}

/* Sort rows only when some row is out of order (files written by anndata never are). */
static void sort_if_needed(sdd_csr_t *c)
{
    for (int64_t i = 0; i < c->n_rows; i++)
        for (int64_t k = c->indptr[i] + 1; k < c->indptr[i + 1]; k++)
            if (c->indices[k] <= c->indices[k - 1]) {
                sdd_csr_sort(c);
                return;
            }
}

static int64_t next_sparse(sdd_xreader_t *r, int64_t max_rows, sdd_csr_t *c)
{
    int64_t r0 = r->pos, r1 = r0 + 1, e0 = r->indptr[r0], ne;
    int rc;
    while (r1 < r->n_rows && r1 - r0 < max_rows && r->indptr[r1 + 1] - e0 <= r->budget) r1++;
    ne = r->indptr[r1] - e0;
    if ((rc = sdd_csr_alloc(c, r1 - r0, r->colmap ? r->n_src_cols : r->n_cols, ne)) < 0) return rc;
    for (int64_t i = r0; i <= r1; i++) c->indptr[i - r0] = r->indptr[i] - e0;
    if (!r->chunked_tried) {
        r->chunked_tried = 1;
        sdd_h5_chunked_open(r->data, r->threads, &r->cdata);
        sdd_h5_chunked_open(r->indices, r->threads, &r->cindices);
    }
    if ((rc = read_indices(r, e0, ne, c->indices)) < 0 || (rc = read_part(r->cdata, r->data, e0, ne, 1, c->data)) < 0)
        goto fail;
    if (r->colmap) {
        apply_colmap(r->colmap, c);
        c->n_cols = r->n_cols;
    }
    sort_if_needed(c);
    r->pos = r1;
    return r1 - r0;
fail:
    sdd_csr_free(c);
    return rc;
}

static int64_t next_dense(sdd_xreader_t *r, int64_t max_rows, sdd_csr_t *c)
{
    int64_t nr = r->budget / (r->n_cols > 0 ? r->n_cols : 1);
    float *buf;
    int rc;
    if (nr < 1) nr = 1;
    if (nr > max_rows) nr = max_rows;
    if (nr > r->n_rows - r->pos) nr = r->n_rows - r->pos;
    if (!(buf = sdd_malloc((size_t)(nr * r->n_cols) * sizeof *buf))) return SDD_ENOMEM;
    rc = sdd_h5_read_rows_f32(r->dense, r->pos, nr, r->n_cols, buf);
    if (rc == 0) rc = sdd_csr_from_dense(buf, nr, r->n_cols, c);
    free(buf);
    if (rc < 0) return rc;
    r->pos += nr;
    return nr;
}

static int64_t next_mem(sdd_xreader_t *r, int64_t max_rows, sdd_csr_t *c)
{
    const sdd_csr_t *m = &r->mem;
    int64_t r0 = r->pos, r1 = r0 + 1, e0 = m->indptr[r0], ne;
    int rc;
    while (r1 < m->n_rows && r1 - r0 < max_rows && m->indptr[r1 + 1] - e0 <= r->budget) r1++;
    ne = m->indptr[r1] - e0;
    if ((rc = sdd_csr_alloc(c, r1 - r0, m->n_cols, ne)) < 0) return rc;
    for (int64_t i = r0; i <= r1; i++) c->indptr[i - r0] = m->indptr[i] - e0;
    memcpy(c->indices, m->indices + e0, (size_t)ne * sizeof *c->indices);
    memcpy(c->data, m->data + e0, (size_t)ne * sizeof *c->data);
    r->pos = r1;
    return r1 - r0;
}

int64_t sdd_xreader_next(sdd_xreader_t *r, int64_t max_rows, sdd_csr_t *chunk)
{
    memset(chunk, 0, sizeof *chunk);
    if (max_rows < 1) return sdd_error(SDD_EINVAL, "row chunk size %lld must be >= 1", (long long)max_rows);
    if (r->pos >= r->n_rows) return 0;
    switch (r->kind) {
    case SDD_XR_SPARSE: return next_sparse(r, max_rows, chunk);
    case SDD_XR_DENSE: return next_dense(r, max_rows, chunk);
    case SDD_XR_MEM: return next_mem(r, max_rows, chunk);
    default: return sdd_error(SDD_EINVAL, "row reader not initialised");
    }
}
