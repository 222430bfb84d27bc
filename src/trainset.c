/*
 * trainset.c: pass 3 of preprocessing (doc/method.md §2.6), the training set: one more
 * pass over the counts that materialises only the selected genes' values,
 *     x_ig <- log1p(x_ig / d_i),  d_i = normalize_total's divisor of cell i (normalize.c),
 * for the cells QC kept, with their library sizes (totals over the kept genes) and labels.
 *
 * The held-out cells of the held-out protocol (holdout.c) come out of the same pass,
 * brought to the same space by what was fitted on the training cells alone: a held-out
 * cell stays if it expresses min_genes of the genes the training cells kept (the cell
 * filter, a per-cell rule), its divisor is its total over those genes against the
 * training target T, and only the selected genes are kept.
 */
#include "prep_internal.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

/* A CSR matrix filled row by row; X->n_rows counts the rows so far. */
typedef struct {
    sdd_csr_t *X;
    int64_t cap;
} grow_t;

static int grow_init(grow_t *g, sdd_csr_t *X, int64_t rows, int64_t cols)
{
    memset(X, 0, sizeof *X);
    g->X = X;
    g->cap = 1 << 16;
    X->n_cols = cols;
    X->indptr = sdd_calloc((size_t)rows + 1, sizeof *X->indptr);
    X->indices = sdd_malloc((size_t)g->cap * sizeof *X->indices);
    X->data = sdd_malloc((size_t)g->cap * sizeof *X->data);
    return X->indptr && X->indices && X->data ? SDD_OK : SDD_ENOMEM;
}

/* Append row r of chunk c as log1p(x / d) over the selected genes (col[j] >= 0). */
static int grow_row(grow_t *g, const sdd_csr_t *c, int64_t r, const int32_t *col, float d)
{
    sdd_csr_t *X = g->X;
    for (int64_t e = c->indptr[r]; e < c->indptr[r + 1]; e++) {
        int32_t j = col[c->indices[e]];
        float v;
        if (j < 0 || (v = sdd_log1pf(sdd_norm_value(c->data[e], d))) == 0) continue;
        if (X->nnz == g->cap) {
            int32_t *ni = sdd_realloc(X->indices, 2 * (size_t)g->cap * sizeof *ni);
            if (ni) X->indices = ni;
            float *nd = sdd_realloc(X->data, 2 * (size_t)g->cap * sizeof *nd);
            if (nd) X->data = nd;
            if (!ni || !nd) return SDD_ENOMEM;
            g->cap *= 2;
        }
        X->indices[X->nnz] = j;
        X->data[X->nnz++] = v;
    }
    X->indptr[++X->n_rows] = X->nnz;
    return SDD_OK;
}

/* A held-out row under the training cells' QC: its total over the kept genes (*tot) gives
 * its divisor *d; it stays if it expresses min_genes of them. */
static int heldout_row(const sdd_csr_t *c, int64_t r, const sdd_hvg_t *h, int64_t min_genes, float *d,
                       double *tot)
{
    double total = 0;
    int64_t npos = 0;
    for (int64_t e = c->indptr[r]; e < c->indptr[r + 1]; e++)
        if (c->data[e] > 0 && h->gene_kept[c->indices[e]]) total += c->data[e], npos++;
    *d = sdd_norm_divisor(total, (float)h->target_sum);
    *tot = total;
    return npos >= min_genes;
}

/* The selected genes' log1p-normalised values of the kept cells into X and of the held-out
 * cells (held, may be NULL) that pass the same QC into HX (held_kept marks them, htot
 * [n_held] receives their totals over the kept genes, in HX's row order). */
static int pass_select(sdd_src_t *s, const sdd_hvg_t *h, const float *div, const uint8_t *held,
                       int64_t n_held, int64_t min_genes, sdd_csr_t *X, sdd_csr_t *HX, uint8_t *held_kept,
                       double *htot)
{
    int32_t *col = sdd_malloc((size_t)h->n_genes * sizeof *col + 1);
    grow_t gx, gh;
    sdd_csr_t c;
    int owned = 0, rc = SDD_ENOMEM;
    int64_t k, row = 0, G = 0;
    memset(&c, 0, sizeof c);
    if (!col) return SDD_ENOMEM;
    for (int64_t j = 0; j < h->n_genes; j++) col[j] = h->highly_variable[j] ? (int32_t)G++ : -1;
    if (grow_init(&gx, X, h->n_cells_kept, G) < 0 || grow_init(&gh, HX, n_held, G) < 0) goto fail;
    if ((rc = sdd_src_rewind(s)) < 0) goto fail;
    while ((k = sdd_src_next(s, &c, &owned)) > 0) {
        for (int64_t r = 0; r < c.n_rows; r++, row++) {
            float d;
            double tot;
            if (h->cell_kept[row]) rc = grow_row(&gx, &c, r, col, div[row]);
            else if (held && held[row] && (held_kept[row] = (uint8_t)heldout_row(&c, r, h, min_genes, &d, &tot))) {
                htot[HX->n_rows] = tot;
                rc = grow_row(&gh, &c, r, col, d);
            }
            if (rc < 0) goto fail;
        }
        sdd_src_release(&c, owned);
    }
    sdd_src_release(&c, owned);
    if (k < 0) {
        rc = (int)k;
        goto fail;
    }
    if ((rc = sdd_csr_sort(X)) < 0 || (rc = sdd_csr_sort(HX)) < 0) goto fail;
    free(col);
    return SDD_OK;
fail:
    if (owned) sdd_csr_free(&c);
    free(col);
    sdd_csr_free(X);
    sdd_csr_free(HX);
    return rc;
}

static int prep_json(const sdd_prep_opt_t *opt, const sdd_hvg_t *h, const sdd_trainset_t *ts, char **out)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return SDD_ENOMEM;
    cJSON_AddNumberToObject(o, "min_cells", (double)opt->min_cells);
    cJSON_AddNumberToObject(o, "min_genes", (double)opt->min_genes);
    if (opt->target_sum > 0)
        cJSON_AddNumberToObject(o, "target_sum", opt->target_sum);
    else
        cJSON_AddStringToObject(o, "target_sum", "median");
    cJSON_AddNumberToObject(o, "target_sum_used", h->target_sum);
    cJSON_AddStringToObject(o, "flavor", sdd_hvg_flavor_name(opt->flavor));
    cJSON_AddNumberToObject(o, "n_top_genes", (double)opt->n_top_genes);
    cJSON_AddNumberToObject(o, "chunk_rows", (double)opt->chunk_rows);
    if (opt->read.layer) cJSON_AddStringToObject(o, "layer", opt->read.layer);
    if (opt->read.raw) cJSON_AddTrueToObject(o, "raw");
    if (opt->label_key) cJSON_AddStringToObject(o, "label_key", opt->label_key);
    cJSON_AddNumberToObject(o, "cells_in", (double)h->n_cells);
    cJSON_AddNumberToObject(o, "genes_in", (double)h->n_genes);
    cJSON_AddNumberToObject(o, "cells_kept", (double)h->n_cells_kept);
    cJSON_AddNumberToObject(o, "genes_kept", (double)h->n_genes_kept);
    cJSON_AddNumberToObject(o, "genes_selected", (double)h->n_selected);
    cJSON_AddNumberToObject(o, "nnz_selected", (double)ts->X.nnz);
    if (opt->holdout > 0) {
        cJSON_AddNumberToObject(o, "holdout", opt->holdout);
        cJSON_AddNumberToObject(o, "holdout_seed", (double)opt->holdout_seed);
        cJSON_AddNumberToObject(o, "cells_heldout", (double)ts->n_heldout);
    }
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!txt) return SDD_ENOMEM;
    *out = sdd_strdup(txt);
    cJSON_free(txt);
    return *out ? SDD_OK : SDD_ENOMEM;
}

/* Names, labels and library sizes: what the training set carries besides X. */
static int trainset_cells(const sdd_dataset_t *md, const sdd_hvg_t *h, const uint8_t *held_kept,
                          sdd_labels_t *lab, sdd_trainset_t *ts)
{
    int64_t o = 0, q = 0;
    ts->library_size = sdd_malloc((size_t)ts->n_cells * sizeof(double) + 1);
    ts->heldout_names = sdd_calloc((size_t)ts->n_heldout + 1, sizeof(char *));
    ts->target_sum = h->target_sum;
    if (!ts->library_size || !ts->heldout_names) return SDD_ENOMEM;
    if (lab->codes) {
        ts->labels = sdd_malloc((size_t)ts->n_cells * sizeof *ts->labels + 1);
        ts->heldout_labels = sdd_malloc((size_t)ts->n_heldout * sizeof *ts->labels + 1);
        if (!ts->labels || !ts->heldout_labels) return SDD_ENOMEM;
        ts->label_names = lab->names, ts->n_labels = lab->n;
        lab->names = NULL, lab->n = 0;
    }
    for (int64_t i = 0; i < h->n_cells; i++) {
        if (h->cell_kept[i]) {
            if (lab->codes) ts->labels[o] = lab->codes[i];
            ts->library_size[o++] = h->lib_size[i];
        } else if (held_kept && held_kept[i]) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)i);
            if (lab->codes) ts->heldout_labels[q] = lab->codes[i];
            if (!(ts->heldout_names[q++] = sdd_strdup(md->cell_names ? md->cell_names[i] : num)))
                return SDD_ENOMEM;
        }
    }
    if (!ts->n_heldout) {
        free(ts->heldout_labels);
        ts->heldout_labels = NULL;
    }
    return SDD_OK;
}

int sdd_trainset_counts(const sdd_trainset_t *ts, int heldout, sdd_csr_t *out)
{
    const sdd_csr_t *H = heldout ? &ts->heldout_X : &ts->X;
    const double *lib = heldout ? ts->heldout_library_size : ts->library_size;
    int rc;
    memset(out, 0, sizeof *out);
    if (!lib || !(ts->target_sum > 0)) return sdd_error(SDD_EINVAL, "the training set has no library sizes");
    if ((rc = sdd_csr_alloc(out, H->n_rows, H->n_cols, H->nnz)) < 0) return rc;
    int64_t k = 0;
    for (int64_t i = 0; i < H->n_rows; i++) {
        double d = sdd_norm_divisor(lib[i], (float)ts->target_sum);
        for (int64_t q = H->indptr[i]; q < H->indptr[i + 1]; q++) {
            double c = nearbyint(expm1((double)H->data[q]) * d);
            if (c <= 0) continue;
            out->data[k] = (float)c;
            out->indices[k++] = H->indices[q];
        }
        out->indptr[i + 1] = k;
    }
    out->nnz = k;
    return SDD_OK;
}

int sdd_trainset_build(sdd_src_t *s, const sdd_dataset_t *md, const sdd_hvg_t *h,
                       const sdd_prep_opt_t *opt, const uint8_t *held, sdd_labels_t *lab,
                       sdd_trainset_t **out)
{
    sdd_trainset_t *ts = sdd_calloc(1, sizeof *ts);
    float *div = NULL;
    uint8_t *held_kept = NULL;
    int64_t n_held = 0;
    int rc = SDD_ENOMEM;
    if (!ts) return SDD_ENOMEM;
    for (int64_t i = 0; held && i < h->n_cells; i++) n_held += held[i];
    if (!(div = sdd_malloc((size_t)h->n_cells * sizeof *div + 1))) goto fail;
    if (!(ts->heldout_library_size = sdd_malloc((size_t)n_held * sizeof(double) + 1))) goto fail;
    if (held && !(held_kept = sdd_calloc((size_t)h->n_cells + 1, 1))) goto fail;
    for (int64_t i = 0; i < h->n_cells; i++)
        div[i] = sdd_norm_divisor(h->lib_size[i], (float)h->target_sum);
    if ((rc = pass_select(s, h, div, held, n_held, opt->min_genes, &ts->X, &ts->heldout_X, held_kept,
                          ts->heldout_library_size)) < 0)
        goto fail;
    rc = SDD_ENOMEM;
    ts->n_cells = ts->X.n_rows;
    ts->G = ts->X.n_cols;
    ts->n_heldout = ts->heldout_X.n_rows;
    if (n_held > ts->n_heldout)
        SDD_LOG_I("%lld held-out cells express fewer than %lld of the genes the training cells kept "
                  "and are left out", (long long)(n_held - ts->n_heldout), (long long)opt->min_genes);
    ts->gene_names = sdd_calloc((size_t)ts->G + 1, sizeof(char *));
    if (!ts->gene_names) goto fail;
    if (md->gene_ids && !(ts->gene_ids = sdd_calloc((size_t)ts->G + 1, sizeof(char *)))) goto fail;
    for (int64_t j = 0, g = 0; j < h->n_genes; j++) {
        if (!h->highly_variable[j]) continue;
        char num[32];
        snprintf(num, sizeof num, "gene%lld", (long long)j);
        if (!(ts->gene_names[g] = sdd_strdup(md->gene_names ? md->gene_names[j] : num))) goto fail;
        if (ts->gene_ids && !(ts->gene_ids[g] = sdd_strdup(md->gene_ids[j]))) goto fail;
        g++;
    }
    if ((rc = trainset_cells(md, h, held_kept, lab, ts)) < 0) goto fail;
    if (opt->label_key && !(ts->label_key = sdd_strdup(opt->label_key))) goto fail;
    if (opt->auto_labels) { /* clusters of the training cells; held-out cells get none */
        sdd_cluster_opt_t co;
        sdd_cluster_opt_init(&co);
        co.resolution = opt->cluster_resolution;
        co.progress = opt->progress;
        co.progress_user = opt->progress_user;
        if ((rc = sdd_trainset_cluster(ts, &co)) < 0) goto fail;
    }
    if ((rc = prep_json(opt, h, ts, &ts->prep_json)) < 0) goto fail;
    free(div);
    free(held_kept);
    *out = ts;
    return SDD_OK;
fail:
    free(div);
    free(held_kept);
    sdd_trainset_destroy(ts);
    return rc < 0 ? rc : SDD_ENOMEM;
}

