/*
 * qc.c: quality control of a count matrix, as scanpy's
 *   pp.filter_genes(min_cells = 3)   keep gene j if #{i : x_ij > 0} >= min_cells
 *   pp.filter_cells(min_genes = 10)  then keep cell i if #{kept j : x_ij > 0} >= min_genes
 * in that order (doc/method.md §2.2), accumulated over row chunks so that the matrix
 * is read once and never held.
 *
 * The same pass validates the input as counts (no negative, NaN or infinite value) and
 * sums each row in double. The row totals that normalize_total needs are over the kept
 * genes only. A removed gene has at most min_cells - 1 positive entries, and we keep the
 * first two positive entries of every gene; with the default min_cells <= 3 that is all
 * of a removed gene's entries, so kept-gene totals follow without a second pass. For a
 * larger min_cells the caller passes over the data again (sdd_qc_need_recount).
 *
 * Rows marked in `skip` (the held-out cells, holdout.c) are validated and otherwise
 * ignored: they count towards no gene and are never kept.
 *
 * Invariants: gene_npos[j] counts rows with x_ij > 0 among the rows_seen rows not
 * skipped; first_cell is -1 where a gene has fewer positive entries than slots.
 */
#include "prep_internal.h"
#include <math.h>

int sdd_qc_init(sdd_qc_acc_t *q, int64_t n_cells, int64_t n_genes, int64_t min_cells)
{
    memset(q, 0, sizeof *q);
    q->n_cells = n_cells;
    q->n_genes = n_genes;
    q->slots = min_cells > 2 ? (int)min_cells - 1 : 1;
    q->gene_npos = sdd_calloc((size_t)n_genes + 1, sizeof *q->gene_npos);
    q->first_cell = sdd_malloc((size_t)q->slots * ((size_t)n_genes + 1) * sizeof *q->first_cell);
    q->first_val = sdd_calloc((size_t)q->slots * ((size_t)n_genes + 1), sizeof *q->first_val);
    q->cell_total = sdd_calloc((size_t)n_cells + 1, sizeof *q->cell_total);
    q->cell_npos = sdd_calloc((size_t)n_cells + 1, sizeof *q->cell_npos);
    if (!q->gene_npos || !q->first_cell || !q->first_val || !q->cell_total || !q->cell_npos) {
        sdd_qc_free(q);
        return SDD_ENOMEM;
    }
    for (int64_t k = 0; k < q->slots * n_genes; k++) q->first_cell[k] = -1;
    return SDD_OK;
}

void sdd_qc_free(sdd_qc_acc_t *q)
{
    if (!q) return;
    free(q->gene_npos);
    free(q->first_cell);
    free(q->first_val);
    free(q->cell_total);
    free(q->cell_npos);
    memset(q, 0, sizeof *q);
}

/* One line that says what is wrong and what to do, naming the first bad entry. */
static int not_counts(const char *what, const char *kind, int64_t cell, int64_t gene, double v)
{
    return sdd_error(SDD_EDATA,
                     "%s: X contains %s values (%g at cell %lld, gene %lld): sddcell needs raw "
                     "counts; use --layer counts or --raw",
                     what, kind, v, (long long)cell + 1, (long long)gene + 1);
}

int sdd_qc_add(sdd_qc_acc_t *q, const sdd_csr_t *chunk, const char *what)
{
    if (chunk->n_cols != q->n_genes || q->rows_seen + chunk->n_rows > q->n_cells)
        return sdd_error(SDD_EFORMAT,
                         "%s: a chunk of %lld x %lld does not fit a %lld x %lld matrix", what,
                         (long long)chunk->n_rows, (long long)chunk->n_cols, (long long)q->n_cells,
                         (long long)q->n_genes);
    for (int64_t r = 0; r < chunk->n_rows; r++) {
        int64_t cell = q->rows_seen + r, npos = 0;
        double tot = 0;
        for (int64_t k = chunk->indptr[r]; k < chunk->indptr[r + 1]; k++) {
            float v = chunk->data[k];
            int32_t j = chunk->indices[k];
            if (!(v >= 0)) { /* negative or NaN */
                if (isnan(v)) return not_counts(what, "NaN", cell, j, v);
                return not_counts(what, "negative", cell, j, v);
            }
            if (isinf(v)) return not_counts(what, "infinite", cell, j, v);
            if (v == 0 || (q->skip && q->skip[cell])) continue;
            tot += v;
            npos++;
            if (q->gene_npos[j] < q->slots) {
                q->first_cell[q->slots * j + q->gene_npos[j]] = cell;
                q->first_val[q->slots * j + q->gene_npos[j]] = v;
            }
            q->gene_npos[j]++;
        }
        q->cell_total[cell] = tot;
        q->cell_npos[cell] = npos;
    }
    q->rows_seen += chunk->n_rows;
    return SDD_OK;
}

int sdd_qc_finish(sdd_qc_acc_t *q, int64_t min_cells, int64_t min_genes, uint8_t *gene_kept,
                  uint8_t *cell_kept, int64_t *n_genes_kept, int64_t *n_cells_kept)
{
    int64_t ng = 0, nc = 0;
    if (q->rows_seen != q->n_cells)
        return sdd_error(SDD_EFORMAT, "X ended after %lld of %lld rows", (long long)q->rows_seen,
                         (long long)q->n_cells);
    if (min_cells > q->slots + 1)
        return sdd_error(SDD_EINVAL, "min_cells %lld is more than the QC pass kept entries for",
                         (long long)min_cells);
    for (int64_t j = 0; j < q->n_genes; j++) {
        gene_kept[j] = q->gene_npos[j] >= min_cells;
        ng += gene_kept[j];
        if (gene_kept[j]) continue;
        /* take the removed gene's entries (all kept in the slots) back out of its cells */
        for (int s = 0; s < q->slots; s++) {
            int64_t c = q->first_cell[q->slots * j + s];
            if (c < 0) continue;
            q->cell_total[c] -= q->first_val[q->slots * j + s];
            q->cell_npos[c]--;
        }
    }
    if (ng == 0)
        return sdd_error(
            SDD_EDATA, "nothing left after QC: none of the %lld genes has counts in >= %lld cells",
            (long long)q->n_genes, (long long)min_cells);
    for (int64_t i = 0; i < q->n_cells; i++) {
        cell_kept[i] = q->cell_npos[i] >= min_genes && !(q->skip && q->skip[i]);
        nc += cell_kept[i];
    }
    if (nc == 0)
        return sdd_error(SDD_EDATA,
                         "nothing left after QC: none of the %lld cells expresses >= %lld of the "
                         "%lld genes kept",
                         (long long)q->n_cells, (long long)min_genes, (long long)ng);
    *n_genes_kept = ng;
    *n_cells_kept = nc;
    return SDD_OK;
}
