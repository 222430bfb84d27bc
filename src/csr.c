/*
 * csr.c: the compressed-sparse-row matrix every stage shares (cells x genes).
 * Invariants after sdd_csr_validate: indptr[0] = 0, indptr non-decreasing,
 * indptr[n_rows] = nnz, 0 <= indices < n_cols.
 */
#include "sdd_internal.h"

int sdd_csr_alloc(sdd_csr_t *m, int64_t n_rows, int64_t n_cols, int64_t nnz)
{
    memset(m, 0, sizeof *m);
    if (n_rows < 0 || n_cols < 0 || nnz < 0 || n_cols > INT32_MAX)
        return sdd_error(SDD_EINVAL, "matrix shape %lld x %lld (nnz %lld) out of range",
                         (long long)n_rows, (long long)n_cols, (long long)nnz);
    m->indptr = sdd_calloc((size_t)n_rows + 1, sizeof *m->indptr);
    m->indices = sdd_malloc((size_t)nnz * sizeof *m->indices);
    m->data = sdd_malloc((size_t)nnz * sizeof *m->data);
    if (!m->indptr || !m->indices || !m->data) {
        sdd_csr_free(m);
        return SDD_ENOMEM;
    }
    m->n_rows = n_rows;
    m->n_cols = n_cols;
    m->nnz = nnz;
    return SDD_OK;
}

void sdd_csr_free(sdd_csr_t *m)
{
    if (!m) return;
    free(m->indptr);
    free(m->indices);
    free(m->data);
    memset(m, 0, sizeof *m);
}

int sdd_csr_validate(const sdd_csr_t *m, const char *what)
{
    if (!m->indptr) return sdd_error(SDD_EFORMAT, "%s: indptr is missing", what);
    if (m->indptr[0] != 0)
        return sdd_error(SDD_EFORMAT, "%s: indptr[0] is %lld, expected 0", what,
                         (long long)m->indptr[0]);
    for (int64_t i = 0; i < m->n_rows; i++)
        if (m->indptr[i + 1] < m->indptr[i])
            return sdd_error(SDD_EFORMAT, "%s: indptr decreases at row %lld", what, (long long)i);
    if (m->indptr[m->n_rows] != m->nnz)
        return sdd_error(SDD_EFORMAT, "%s: indptr ends at %lld but there are %lld stored values",
                         what, (long long)m->indptr[m->n_rows], (long long)m->nnz);
    for (int64_t k = 0; k < m->nnz; k++)
        if (m->indices[k] < 0 || m->indices[k] >= m->n_cols)
            return sdd_error(SDD_EFORMAT, "%s: index %lld at position %lld is outside [0, %lld)",
                             what, (long long)m->indices[k], (long long)k, (long long)m->n_cols);
    return SDD_OK;
}

int sdd_csr_sort(sdd_csr_t *m)
{
    for (int64_t i = 0; i < m->n_rows; i++) {
        int64_t a = m->indptr[i], b = m->indptr[i + 1];
        /* insertion sort: rows are short and nearly always sorted already */
        for (int64_t k = a + 1; k < b; k++) {
            int32_t ci = m->indices[k];
            float cv = m->data[k];
            int64_t j = k - 1;
            while (j >= a && m->indices[j] > ci) {
                m->indices[j + 1] = m->indices[j];
                m->data[j + 1] = m->data[j];
                j--;
            }
            m->indices[j + 1] = ci;
            m->data[j + 1] = cv;
        }
    }
    return SDD_OK;
}

int sdd_csr_transpose(const sdd_csr_t *m, sdd_csr_t *out)
{
    int rc = sdd_csr_alloc(out, m->n_cols, m->n_rows, m->nnz);
    int64_t *pos = NULL;
    if (rc < 0) return rc;
    if (m->n_rows > INT32_MAX) {
        sdd_csr_free(out);
        return sdd_error(SDD_EINVAL, "cannot transpose: %lld rows exceed 32-bit indices",
                         (long long)m->n_rows);
    }
    for (int64_t k = 0; k < m->nnz; k++) out->indptr[m->indices[k] + 1]++;
    for (int64_t j = 0; j < m->n_cols; j++) out->indptr[j + 1] += out->indptr[j];
    pos = sdd_malloc((size_t)m->n_cols * sizeof *pos + 1);
    if (!pos) {
        sdd_csr_free(out);
        return SDD_ENOMEM;
    }
    memcpy(pos, out->indptr, (size_t)m->n_cols * sizeof *pos);
    for (int64_t i = 0; i < m->n_rows; i++)
        for (int64_t k = m->indptr[i]; k < m->indptr[i + 1]; k++) {
            int64_t d = pos[m->indices[k]]++;
            out->indices[d] = (int32_t)i;
            out->data[d] = m->data[k];
        }
    free(pos);
    return SDD_OK;
}

int sdd_csr_append_rows(sdd_csr_t *a, const sdd_csr_t *b)
{
    int64_t nr, nz;
    int64_t *ip;
    int32_t *ix;
    float *dx;
    if (a->indptr == NULL) {
        int rc = sdd_csr_alloc(a, 0, b->n_cols, 0);
        if (rc < 0) return rc;
    }
    if (a->n_cols != b->n_cols)
        return sdd_error(SDD_EINVAL, "cannot stack matrices with %lld and %lld columns",
                         (long long)a->n_cols, (long long)b->n_cols);
    nr = a->n_rows + b->n_rows;
    nz = a->nnz + b->nnz;
    ip = sdd_realloc(a->indptr, (size_t)(nr + 1) * sizeof *ip);
    if (!ip) return SDD_ENOMEM;
    a->indptr = ip;
    ix = sdd_realloc(a->indices, (size_t)nz * sizeof *ix);
    if (!ix) return SDD_ENOMEM;
    a->indices = ix;
    dx = sdd_realloc(a->data, (size_t)nz * sizeof *dx);
    if (!dx) return SDD_ENOMEM;
    a->data = dx;
    for (int64_t i = 1; i <= b->n_rows; i++) ip[a->n_rows + i] = a->nnz + b->indptr[i];
    memcpy(ix + a->nnz, b->indices, (size_t)b->nnz * sizeof *ix);
    memcpy(dx + a->nnz, b->data, (size_t)b->nnz * sizeof *dx);
    a->n_rows = nr;
    a->nnz = nz;
    return SDD_OK;
}

double sdd_csr_sum(const sdd_csr_t *m)
{
    double s = 0;
    for (int64_t k = 0; k < m->nnz; k++) s += m->data[k];
    return s;
}

int sdd_csr_from_dense(const float *x, int64_t n_rows, int64_t n_cols, sdd_csr_t *out)
{
    int64_t nz = 0;
    int rc;
    for (int64_t k = 0; k < n_rows * n_cols; k++) nz += x[k] != 0;
    rc = sdd_csr_alloc(out, n_rows, n_cols, nz);
    if (rc < 0) return rc;
    nz = 0;
    for (int64_t i = 0; i < n_rows; i++) {
        for (int64_t j = 0; j < n_cols; j++) {
            float v = x[i * n_cols + j];
            if (v != 0) {
                out->indices[nz] = (int32_t)j;
                out->data[nz++] = v;
            }
        }
        out->indptr[i + 1] = nz;
    }
    return SDD_OK;
}

int sdd_csr_select_cols(const sdd_csr_t *m, const int64_t *cols, int64_t n_keep, sdd_csr_t *out)
{
    int32_t *map = NULL;
    int64_t nz = 0;
    int rc;
    memset(out, 0, sizeof *out);
    map = sdd_malloc((size_t)m->n_cols * sizeof *map + 1);
    if (!map) return SDD_ENOMEM;
    for (int64_t j = 0; j < m->n_cols; j++) map[j] = -1;
    for (int64_t k = 0; k < n_keep; k++) {
        if (cols[k] < 0 || cols[k] >= m->n_cols) {
            free(map);
            return sdd_error(SDD_EINVAL, "column %lld out of range", (long long)cols[k]);
        }
        map[cols[k]] = (int32_t)k;
    }
    for (int64_t k = 0; k < m->nnz; k++) nz += map[m->indices[k]] >= 0;
    rc = sdd_csr_alloc(out, m->n_rows, n_keep, nz);
    if (rc < 0) {
        free(map);
        return rc;
    }
    nz = 0;
    for (int64_t i = 0; i < m->n_rows; i++) {
        for (int64_t k = m->indptr[i]; k < m->indptr[i + 1]; k++) {
            int32_t c = map[m->indices[k]];
            if (c >= 0) {
                out->indices[nz] = c;
                out->data[nz++] = m->data[k];
            }
        }
        out->indptr[i + 1] = nz;
    }
    free(map);
    return sdd_csr_sort(out);
}

int sdd_csr_select_rows(const sdd_csr_t *m, const int64_t *rows, int64_t n_keep, sdd_csr_t *out)
{
    int64_t nz = 0;
    int rc;
    memset(out, 0, sizeof *out);
    for (int64_t k = 0; k < n_keep; k++) {
        if (rows[k] < 0 || rows[k] >= m->n_rows)
            return sdd_error(SDD_EINVAL, "row %lld out of range", (long long)rows[k]);
        nz += m->indptr[rows[k] + 1] - m->indptr[rows[k]];
    }
    rc = sdd_csr_alloc(out, n_keep, m->n_cols, nz);
    if (rc < 0) return rc;
    nz = 0;
    for (int64_t k = 0; k < n_keep; k++) {
        int64_t a = m->indptr[rows[k]], n = m->indptr[rows[k] + 1] - a;
        memcpy(out->indices + nz, m->indices + a, (size_t)n * sizeof *out->indices);
        memcpy(out->data + nz, m->data + a, (size_t)n * sizeof *out->data);
        nz += n;
        out->indptr[k + 1] = nz;
    }
    return SDD_OK;
}
