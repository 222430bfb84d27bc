/*
 * pair.c: loading the two sides of a comparison (real and synthetic cells) into one gene
 * space, for evaluation (metrics.c) and the joint embedding (embed.c).
 *
 * REAL is raw counts, brought to the space SYNTH lives in exactly as preprocessing does
 * (doc/method.md §2.3-§2.4, §8.1): x <- log(1 + x T / sum_g x_g) with the totals over all of
 * REAL's genes, before any gene is dropped. SYNTH is already log1p-normalised over its
 * (highly variable) genes. Genes are matched by name; the result keeps SYNTH's gene order
 * and drops SYNTH genes REAL lacks (logged). Labels from one obs column of both files
 * are recoded into one shared list of names. TRAIN, the training cells of the held-out
 * protocol, is read as REAL is and brought to the pair's genes.
 */
#include "sdd_internal.h"
#include <math.h>
#include <stdio.h>

void sdd_pair_opt_init(sdd_pair_opt_t *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->target_sum = 1e4;
}

void sdd_pair_destroy(sdd_pair_t *p)
{
    if (!p) return;
    sdd_strv_free(p->gene_names, p->G);
    sdd_strv_free(p->real_cells, p->real.n_rows);
    sdd_strv_free(p->synth_cells, p->synth.n_rows);
    sdd_csr_free(&p->real);
    sdd_csr_free(&p->synth);
    sdd_strv_free(p->train_cells, p->train.n_rows);
    sdd_csr_free(&p->train);
    sdd_csr_free(&p->real_counts);
    sdd_csr_free(&p->synth_counts);
    sdd_csr_free(&p->train_counts);
    free(p->train_labels);
    free(p->real_labels);
    free(p->synth_labels);
    sdd_strv_free(p->label_names, p->n_labels);
    free(p);
}

typedef struct {
    const char *name;
    int64_t i;
} named_t;

static int cmp_named(const void *a, const void *b)
{
    const named_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* For each of want[n_want], its index in have[n_have] (first occurrence) or -1. */
static int match_names(char *const *want, int64_t n_want, char *const *have, int64_t n_have, int64_t *idx)
{
    named_t *t = sdd_malloc((size_t)n_have * sizeof *t + 1);
    if (!t) return SDD_ENOMEM;
    for (int64_t i = 0; i < n_have; i++) t[i].name = have[i] ? have[i] : "", t[i].i = i;
    qsort(t, (size_t)n_have, sizeof *t, cmp_named);
    for (int64_t k = 0; k < n_want; k++) {
        int64_t lo = 0, hi = n_have;
        const char *w = want[k] ? want[k] : "";
        while (lo < hi) { /* first entry >= w */
            int64_t mid = lo + (hi - lo) / 2;
            if (strcmp(t[mid].name, w) < 0) lo = mid + 1;
            else hi = mid;
        }
        idx[k] = lo < n_have && strcmp(t[lo].name, w) == 0 ? t[lo].i : -1;
    }
    free(t);
    return SDD_OK;
}

/* Index of `name` in names[*n], appending a copy when absent. */
static int label_code(char ***names, int *n, const char *name)
{
    char **v;
    for (int i = 0; i < *n; i++)
        if (strcmp((*names)[i], name) == 0) return i;
    if (!(v = sdd_realloc(*names, (size_t)(*n + 1) * sizeof *v))) return SDD_ENOMEM;
    *names = v;
    if (!(v[*n] = sdd_strdup(name))) return SDD_ENOMEM;
    return (*n)++;
}

/* Codes [col->n] of one obs column in the shared label list. */
static int column_labels(const sdd_column_t *col, char ***names, int *n, int32_t **codes)
{
    char buf[64];
    int32_t *c = sdd_malloc((size_t)col->n * sizeof *c + 1);
    if (!(*codes = c)) return SDD_ENOMEM;
    for (int64_t i = 0; i < col->n; i++) {
        const char *s = NULL;
        int k;
        if (col->kind == SDD_COL_CATEGORICAL) {
            if (col->codes[i] >= 0 && col->codes[i] < col->n_categories) s = col->categories[col->codes[i]];
        } else if (col->kind == SDD_COL_STRING) {
            s = col->strings[i];
        } else if (!isnan(col->numeric[i])) {
            snprintf(buf, sizeof buf, "%.17g", col->numeric[i]);
            s = buf;
        }
        c[i] = -1;
        if (!s) continue;
        if ((k = label_code(names, n, s)) < 0) return k;
        c[i] = k;
    }
    return SDD_OK;
}

static int take_labels(sdd_pair_t *p, const sdd_dataset_t *r, const sdd_dataset_t *s, const char *key,
                       const char *rpath, const char *spath)
{
    int a = sdd_column_find(r->obs, r->n_obs, key), b = sdd_column_find(s->obs, s->n_obs, key), rc;
    if (a < 0) return sdd_error(SDD_ENOTFOUND, "%s: no obs column '%s'", rpath, key);
    if (b < 0) return sdd_error(SDD_ENOTFOUND, "%s: no obs column '%s'", spath, key);
    if (r->obs[a].kind == SDD_COL_CATEGORICAL) /* REAL's category order first */
        for (int i = 0; i < r->obs[a].n_categories; i++)
            if ((rc = label_code(&p->label_names, &p->n_labels, r->obs[a].categories[i])) < 0) return rc;
    if ((rc = column_labels(&r->obs[a], &p->label_names, &p->n_labels, &p->real_labels)) < 0) return rc;
    return column_labels(&s->obs[b], &p->label_names, &p->n_labels, &p->synth_labels);
}

/* Move the matched columns and names out of the two datasets into p. */
static int take_genes(sdd_pair_t *p, sdd_dataset_t *r, sdd_dataset_t *s, const char *spath)
{
    int64_t *idx = sdd_malloc((size_t)s->n_genes * sizeof *idx + 1), *cr = NULL, *cs = NULL, G = 0;
    int rc = SDD_ENOMEM;
    if (!idx || (rc = match_names(s->gene_names, s->n_genes, r->gene_names, r->n_genes, idx)) < 0) goto fail;
    rc = SDD_ENOMEM;
    cr = sdd_malloc((size_t)s->n_genes * sizeof *cr + 1);
    cs = sdd_malloc((size_t)s->n_genes * sizeof *cs + 1);
    p->gene_names = sdd_calloc((size_t)s->n_genes + 1, sizeof *p->gene_names);
    if (!cr || !cs || !p->gene_names) goto fail;
    for (int64_t g = 0; g < s->n_genes; g++) {
        if (idx[g] < 0) continue;
        cr[G] = idx[g], cs[G] = g;
        p->gene_names[G++] = s->gene_names[g];
        s->gene_names[g] = NULL;
    }
    p->G = G;
    p->n_synth_genes = s->n_genes;
    if (G < 2) {
        rc = sdd_error(SDD_EDATA, "%s: only %lld of its %lld genes are in the real data (genes are matched by name)",
                       spath, (long long)G, (long long)s->n_genes);
        goto fail;
    }
    if (G < s->n_genes)
        SDD_LOG_W("%lld of the %lld synthetic genes are not in the real data and are left out",
                  (long long)(s->n_genes - G), (long long)s->n_genes);
    if ((rc = sdd_csr_select_cols(&r->X, cr, G, &p->real)) < 0) goto fail;
    rc = sdd_csr_select_cols(&s->X, cs, G, &p->synth);
fail:
    free(idx);
    free(cr);
    free(cs);
    return rc;
}

/* Read a real side (REAL or TRAIN): raw counts checked, normalised and log1p'd unless
 * opt->real_normalized. */
static int read_real(const char *path, const sdd_read_opt_t *ro, const sdd_pair_opt_t *opt,
                     sdd_dataset_t **out)
{
    sdd_dataset_t *r = NULL;
    int rc;
    *out = NULL;
    if ((rc = sdd_opt_check_table(SDD_OPTS_PAIR, opt)) < 0 || (rc = sdd_dataset_read(path, ro, &r)) < 0) return rc;
    if (!opt->real_normalized) {
        for (int64_t k = 0; k < r->X.nnz; k++)
            if (!(r->X.data[k] >= 0) || isinf(r->X.data[k])) {
                rc = sdd_error(SDD_EDATA, "%s: X holds %g, not a count (use --real-normalized for "
                               "log-normalised data)", path, r->X.data[k]);
                goto fail;
            }
        for (int64_t k = 0; k < r->X.nnz; k++)
            if (r->X.data[k] != floorf(r->X.data[k])) {
                SDD_LOG_W("%s holds non-integer values (%g): if it is already log-normalised, "
                          "use --real-normalized", path, r->X.data[k]);
                break;
            }
        if ((rc = sdd_normalize_total(&r->X, opt->target_sum, NULL)) < 0) goto fail;
        sdd_log1p(&r->X);
    }
    *out = r;
    return SDD_OK;
fail:
    sdd_dataset_destroy(r);
    return rc;
}

int sdd_pair_load(const char *real_path, const char *synth_path, const sdd_pair_opt_t *opt,
                  sdd_pair_t **out)
{
    sdd_read_opt_t ro;
    sdd_dataset_t *r = NULL, *s = NULL;
    sdd_pair_t *p = NULL;
    int rc;

    *out = NULL;
    sdd_read_opt_init(&ro);
    ro.skip_obs = !opt->label_key;
    if ((rc = read_real(real_path, &ro, opt, &r)) < 0 || (rc = sdd_dataset_read(synth_path, &ro, &s)) < 0)
        goto fail;
    rc = SDD_ENOMEM;
    if (!(p = sdd_calloc(1, sizeof *p))) goto fail;
    if ((rc = take_genes(p, r, s, synth_path)) < 0) goto fail;
    if (opt->label_key && (rc = take_labels(p, r, s, opt->label_key, real_path, synth_path)) < 0) goto fail;
    p->real_cells = r->cell_names, r->cell_names = NULL;
    p->synth_cells = s->cell_names, s->cell_names = NULL;
    sdd_dataset_destroy(r);
    sdd_dataset_destroy(s);
    *out = p;
    return SDD_OK;
fail:
    sdd_dataset_destroy(r);
    sdd_dataset_destroy(s);
    sdd_pair_destroy(p);
    return rc;
}

int sdd_pair_load_train(sdd_pair_t *p, const char *train_path, const sdd_pair_opt_t *opt)
{
    sdd_read_opt_t ro;
    sdd_dataset_t *t = NULL;
    int64_t *idx = NULL;
    int rc;

    sdd_read_opt_init(&ro);
    ro.skip_obs = !opt->label_key;
    if ((rc = read_real(train_path, &ro, opt, &t)) < 0) return rc;
    rc = SDD_ENOMEM;
    if (!(idx = sdd_malloc((size_t)p->G * sizeof *idx + 1))) goto fail;
    if ((rc = match_names(p->gene_names, p->G, t->gene_names, t->n_genes, idx)) < 0) goto fail;
    for (int64_t g = 0; g < p->G; g++)
        if (idx[g] < 0) {
            rc = sdd_error(SDD_EDATA, "%s lacks gene '%s' of the comparison: the training cells "
                           "need every gene the held-out and synthetic cells share", train_path,
                           p->gene_names[g]);
            goto fail;
        }
    if (opt->label_key) {
        int a = sdd_column_find(t->obs, t->n_obs, opt->label_key);
        if (a < 0) {
            rc = sdd_error(SDD_ENOTFOUND, "%s: no obs column '%s'", train_path, opt->label_key);
            goto fail;
        }
        if ((rc = column_labels(&t->obs[a], &p->label_names, &p->n_labels, &p->train_labels)) < 0) goto fail;
    }
    if ((rc = sdd_csr_select_cols(&t->X, idx, p->G, &p->train)) < 0) goto fail;
    p->train_cells = t->cell_names, t->cell_names = NULL;
    rc = SDD_OK;
fail:
    if (rc < 0) {
        sdd_csr_free(&p->train);
        free(p->train_labels);
        p->train_labels = NULL;
    }
    free(idx);
    sdd_dataset_destroy(t);
    return rc;
}

/* One side's matrix brought to p's genes by name (SDD_EDATA naming a missing gene). */
static int to_pair_genes(const sdd_pair_t *p, const sdd_dataset_t *d, const char *path, sdd_csr_t *out)
{
    int64_t *idx = sdd_malloc((size_t)p->G * sizeof *idx + 1);
    int rc;
    if (!idx) return SDD_ENOMEM;
    if ((rc = match_names(p->gene_names, p->G, d->gene_names, d->n_genes, idx)) < 0) goto done;
    for (int64_t g = 0; g < p->G; g++)
        if (idx[g] < 0) {
            rc = sdd_error(SDD_EDATA, "%s lacks gene '%s' of the comparison", path, p->gene_names[g]);
            goto done;
        }
    rc = sdd_csr_select_cols(&d->X, idx, p->G, out);
done:
    free(idx);
    return rc;
}

/* A raw-count side as read, refused unless every value is a non-negative integer. */
static int read_counts(const char *path, const sdd_read_opt_t *ro, sdd_dataset_t **out)
{
    int rc = sdd_dataset_read(path, ro, out);
    if (rc < 0) return rc;
    for (int64_t k = 0; k < (*out)->X.nnz; k++) {
        float v = (*out)->X.data[k];
        if (!(v >= 0) || v != floorf(v)) {
            rc = sdd_error(SDD_EDATA, "%s: X holds %g, not a count: counts are compared with raw counts", path, v);
            sdd_dataset_destroy(*out);
            *out = NULL;
            return rc;
        }
    }
    return SDD_OK;
}

int sdd_pair_load_counts(sdd_pair_t *p, const char *real_path, const char *synth_path, const char *train_path,
                         const sdd_pair_opt_t *opt)
{
    sdd_read_opt_t ro;
    sdd_dataset_t *r = NULL, *s = NULL, *t = NULL;
    int rc;
    if (opt->real_normalized)
        return sdd_error(SDD_EINVAL, "counts are compared with REAL's raw counts, and REAL is log-normalised");
    sdd_read_opt_init(&ro);
    ro.skip_obs = 1;
    if ((rc = read_counts(real_path, &ro, &r)) < 0) goto done;
    if (train_path && (rc = read_counts(train_path, &ro, &t)) < 0) goto done;
    ro.layer = "counts";
    if ((rc = sdd_dataset_read(synth_path, &ro, &s)) < 0) {
        if (rc == SDD_ENOTFOUND)
            rc = sdd_error(SDD_ENOTFOUND, "%s has no layers/counts: sample with --counts to compare counts",
                           synth_path);
        goto done;
    }
    if ((rc = to_pair_genes(p, r, real_path, &p->real_counts)) < 0) goto done;
    if (t && (rc = to_pair_genes(p, t, train_path, &p->train_counts)) < 0) goto done;
    rc = to_pair_genes(p, s, synth_path, &p->synth_counts);
done:
    sdd_dataset_destroy(r);
    sdd_dataset_destroy(s);
    sdd_dataset_destroy(t);
    return rc;
}
