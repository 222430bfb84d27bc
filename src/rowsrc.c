/*
 * rowsrc.c: the row source the preprocessing passes read (sdd_src_t, prep_internal.h):
 * the rows of a count matrix in chunks of chunk_rows, either from a file through the row
 * reader (chunks owned by the caller) or from a matrix in memory (chunks that borrow its
 * indices and values). File sources report each chunk as progress stage "read", one
 * "pass N" per rewind, so that a long pass shows where it is and can be interrupted.
 */
#include "prep_internal.h"
#include <stdio.h>

int64_t sdd_src_next(sdd_src_t *s, sdd_csr_t *c, int *owned)
{
    memset(c, 0, sizeof *c);
    if (s->xr) {
        int64_t k;
        char status[32];
        *owned = 1;
        k = sdd_xreader_next(s->xr, s->chunk_rows, c);
        if (k <= 0 || !s->progress || s->total <= s->chunk_rows) return k; /* one chunk: no display */
        if (s->done == 0) {
            s->pass++;
            snprintf(status, sizeof status, "pass %d", s->pass);
            s->progress("read", 0, s->total, status, s->progress_user); /* a new pass: restart the clock */
        }
        s->done += k;
        snprintf(status, sizeof status, "pass %d", s->pass);
        if (s->progress("read", s->done, s->total, status, s->progress_user)) {
            sdd_csr_free(c);
            return sdd_error(SDD_EINTR, "%s: reading interrupted", s->what);
        }
        return k;
    }
    int64_t k = s->mem->n_rows - s->pos;
    if (k > s->chunk_rows) k = s->chunk_rows;
    *owned = 0;
    if (k <= 0) return 0;
    if (!(c->indptr = sdd_malloc(((size_t)k + 1) * sizeof *c->indptr))) return SDD_ENOMEM;
    int64_t base = s->mem->indptr[s->pos];
    for (int64_t i = 0; i <= k; i++) c->indptr[i] = s->mem->indptr[s->pos + i] - base;
    c->indices = s->mem->indices + base;
    c->data = s->mem->data + base;
    c->n_rows = k;
    c->n_cols = s->mem->n_cols;
    c->nnz = c->indptr[k];
    s->pos += k;
    return k;
}

void sdd_src_release(sdd_csr_t *c, int owned)
{
    if (owned) {
        sdd_csr_free(c);
    } else {
        free(c->indptr);
        memset(c, 0, sizeof *c);
    }
}

int sdd_src_rewind(sdd_src_t *s)
{
    s->done = 0;
    if (s->xr) return sdd_xreader_rewind(s->xr);
    s->pos = 0;
    return SDD_OK;
}
