/*
 * dataset.c: the in-memory dataset (count matrix + names + obs/var columns) that
 * readers fill and the writer takes, the column helpers, and unique names as anndata
 * makes them.
 */
#include "sdd_internal.h"
#include <stdio.h>

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

/* ------------------------------------------------------------ names */

/* Open-addressing set of strings (borrowed pointers), for make_unique. */
typedef struct {
    const char **slot;
    uint64_t mask;
} strset_t;

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

/* Insert s; returns 1 if it was new, 0 if present. */
static int strset_add(strset_t *t, const char *s)
{
    uint64_t i = str_hash(s) & t->mask;
    while (t->slot[i]) {
        if (strcmp(t->slot[i], s) == 0) return 0;
        i = (i + 1) & t->mask;
    }
    t->slot[i] = s;
    return 1;
}

static int strset_has(const strset_t *t, const char *s)
{
    uint64_t i = str_hash(s) & t->mask;
    while (t->slot[i]) {
        if (strcmp(t->slot[i], s) == 0) return 1;
        i = (i + 1) & t->mask;
    }
    return 0;
}

int sdd_names_make_unique(char **names, int64_t n)
{
    strset_t all = {0}, seen = {0};
    uint64_t cap = 16;
    char *dup = NULL, **made = NULL;
    int64_t *counter = NULL, n_made = 0;
    int rc = SDD_OK;
    /* sized for the originals plus one new name per duplicate */
    while (cap < 4 * (uint64_t)n + 16) cap <<= 1;
    all.slot = sdd_calloc(cap, sizeof *all.slot);
    seen.slot = sdd_calloc(cap, sizeof *seen.slot);
    dup = sdd_calloc((size_t)n + 1, 1);
    counter = sdd_calloc((size_t)n + 1, sizeof *counter);
    made = sdd_calloc((size_t)n + 1, sizeof *made);
    if (!all.slot || !seen.slot || !dup || !counter || !made) {
        rc = SDD_ENOMEM;
        goto done;
    }
    all.mask = seen.mask = cap - 1;
    for (int64_t i = 0; i < n; i++) {
        strset_add(&all, names[i]);
        dup[i] = !strset_add(&seen, names[i]);
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t first = -1;
        if (!dup[i]) continue;
        /* the counter lives with the first occurrence of the name */
        for (int64_t j = 0; j < i && first < 0; j++)
            if (!dup[j] && strcmp(names[j], names[i]) == 0) first = j;
        for (;;) {
            size_t len = strlen(names[i]) + 24;
            char *cand = sdd_malloc(len);
            if (!cand) {
                rc = SDD_ENOMEM;
                goto done;
            }
            snprintf(cand, len, "%s-%lld", names[i], (long long)++counter[first]);
            if (!strset_has(&all, cand)) {
                made[n_made++] = names[i];
                names[i] = cand;
                strset_add(&all, cand);
                break;
            }
            free(cand);
        }
    }
done:
    for (int64_t k = 0; k < n_made; k++) free(made[k]);
    free(made);
    free(all.slot);
    free(seen.slot);
    free(dup);
    free(counter);
    return rc;
}

int sdd_cols_append(sdd_column_t **cols, int *n, sdd_column_t *c)
{
    sdd_column_t *v = sdd_realloc(*cols, (size_t)(*n + 1) * sizeof *v);
    if (!v) {
        sdd_column_free(c);
        return SDD_ENOMEM;
    }
    v[*n] = *c;
    memset(c, 0, sizeof *c);
    *cols = v;
    (*n)++;
    return SDD_OK;
}
