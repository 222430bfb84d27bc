/*
 * dataset.c: the in-memory dataset (count matrix + names + obs/var columns) that
 * readers fill and the writer takes, and the column helpers.
 */
#include "sdd_internal.h"

void sdd_column_free(sdd_column_t *c)
{
    if (!c) return;
    free(c->name);
    sdd_strv_free(c->strings, c->strings ? c->n : 0);
    free(c->codes);
    sdd_strv_free(c->categories, c->n_categories);
    free(c->numeric);
    memset(c, 0, sizeof *c);
}

static char **strv_copy(char *const *v, int64_t n)
{
    char **o = sdd_calloc((size_t)n + 1, sizeof *o);
    if (!o) return NULL;
    for (int64_t i = 0; i < n; i++)
        if (!(o[i] = sdd_strdup(v[i] ? v[i] : ""))) {
            sdd_strv_free(o, i);
            return NULL;
        }
    return o;
}

int sdd_column_copy(sdd_column_t *dst, const sdd_column_t *src)
{
    memset(dst, 0, sizeof *dst);
    dst->kind = src->kind;
    dst->n = src->n;
    dst->n_categories = src->n_categories;
    dst->ordered = src->ordered;
    dst->is_integer = src->is_integer;
    if (!(dst->name = sdd_strdup(src->name))) goto fail;
    if (src->strings && !(dst->strings = strv_copy(src->strings, src->n))) goto fail;
    if (src->categories && !(dst->categories = strv_copy(src->categories, src->n_categories)))
        goto fail;
    if (src->codes) {
        if (!(dst->codes = sdd_malloc((size_t)src->n * sizeof *dst->codes))) goto fail;
        memcpy(dst->codes, src->codes, (size_t)src->n * sizeof *dst->codes);
    }
    if (src->numeric) {
        if (!(dst->numeric = sdd_malloc((size_t)src->n * sizeof *dst->numeric))) goto fail;
        memcpy(dst->numeric, src->numeric, (size_t)src->n * sizeof *dst->numeric);
    }
    return SDD_OK;
fail:
    sdd_column_free(dst);
    return SDD_ENOMEM;
}

int sdd_column_find(const sdd_column_t *cols, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (cols[i].name && strcmp(cols[i].name, name) == 0) return i;
    return -1;
}

sdd_dataset_t *sdd_dataset_init(void)
{
    return sdd_calloc(1, sizeof(sdd_dataset_t));
}

void sdd_dataset_destroy(sdd_dataset_t *ds)
{
    if (!ds) return;
    sdd_strv_free(ds->cell_names, ds->n_cells);
    sdd_strv_free(ds->gene_names, ds->n_genes);
    sdd_strv_free(ds->gene_ids, ds->n_genes);
    for (int i = 0; i < ds->n_obs; i++) sdd_column_free(&ds->obs[i]);
    free(ds->obs);
    for (int i = 0; i < ds->n_var; i++) sdd_column_free(&ds->var[i]);
    free(ds->var);
    for (int i = 0; i < ds->n_obsm; i++) {
        free(ds->obsm[i].name);
        free(ds->obsm[i].data);
    }
    free(ds->obsm);
    sdd_csr_free(&ds->X);
    free(ds);
}

void sdd_read_opt_init(sdd_read_opt_t *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->feature_type = "Gene Expression";
}

void sdd_trainset_destroy(sdd_trainset_t *ts)
{
    if (!ts) return;
    sdd_csr_free(&ts->X);
    sdd_strv_free(ts->gene_names, ts->G);
    sdd_strv_free(ts->gene_ids, ts->G);
    free(ts->library_size);
    free(ts->labels);
    sdd_strv_free(ts->label_names, ts->n_labels);
    free(ts->label_key);
    free(ts->prep_json);
    sdd_csr_free(&ts->heldout_X);
    sdd_strv_free(ts->heldout_names, ts->n_heldout);
    free(ts->heldout_labels);
    free(ts->heldout_library_size);
    free(ts);
}
