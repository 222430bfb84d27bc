/*
 * prep.c: the preprocessing driver (doc/method.md §2) in bounded memory.
 * X is read in row chunks (opt->chunk_rows) from a file (sdd_xreader) or from memory,
 * in passes that each keep only per-gene and per-cell vectors:
 *
 *   pass 1  counts check and QC tallies (qc.c): genes' positive cells, cells' totals;
 *           and per-gene sums S, SS over kept cells and genes of the value the flavor
 *           needs: seurat y = expm1(log1p(x / d_i)), cell_ranger log1p(x / d_i),
 *           seurat_v3 x (d_i = normalize_total's divisor of cell i, normalize.c).
 *           A row is summed at once when every gene it expresses has already reached
 *           min_cells cells (its QC fate and total are then final); the others wait in
 *           memory until QC is decided (a few per gene at most). With a median target,
 *           or past sdd_prep_pending_budget, the sums take a second pass instead.
 *   pass 2  seurat_v3 only: sums of the counts clipped at the loess-derived limits
 *   pass 3  trainset.c: the log1p-normalised values of the selected genes, the only
 *           part of the matrix ever materialised (sdd_trainset_t)
 *
 * With a held-out fraction (doc/method.md §10.1, holdout.c) a pass 0 first finds the cells
 * that pass the per-cell QC on all genes and splits them; the held-out rows are then
 * skipped by passes 1-2 (so the gene filter, the median target and the HVG statistics
 * see the training cells only) and come back in pass 3, normalised by what the training
 * cells fixed.
 *
 * Memory: O(G + N) doubles plus one chunk, the waiting rows and the selected genes'
 * columns. Counts are mostly small integers, so the float32 transforms are memoised per
 * row. The sums are in double; their order differs from scanpy's multi-threaded sums only
 * by rounding.
 */
#include "prep_internal.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

void sdd_prep_opt_init(sdd_prep_opt_t *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->min_cells = 3;
    opt->min_genes = 10;
    opt->target_sum = 1e4;
    opt->n_top_genes = 1000;
    opt->flavor = SDD_HVG_SEURAT;
    opt->chunk_rows = 10000;
    opt->threads = 1;
    opt->cluster_resolution = 1.0;
    opt->holdout_min = 100;
    sdd_read_opt_init(&opt->read);
}

int sdd_prep_opt_check(const sdd_prep_opt_t *opt)
{
    int rc;
    if (opt->auto_labels && opt->label_key)
        return sdd_error(SDD_EINVAL, "give either a label column or automatic cluster labels, not both");
    if (opt->auto_labels && !(opt->cluster_resolution > 0 && opt->cluster_resolution <= 100))
        return sdd_error(SDD_EINVAL, "cluster resolution must be in (0, 100]");
    if ((rc = sdd_opt_check_table(SDD_OPTS_PREP, opt)) < 0) return rc;
    if (!sdd_hvg_flavor_name(opt->flavor)) return sdd_error(SDD_EINVAL, "unknown HVG flavor %d", opt->flavor);
    if (opt->threads < 1)
        return sdd_error(SDD_EINVAL, "threads must be >= 1, not %d", opt->threads);
    if (opt->holdout_min < 1)
        return sdd_error(SDD_EINVAL, "holdout_min must be >= 1, not %lld", (long long)opt->holdout_min);
    return SDD_OK;
}

void sdd_hvg_destroy(sdd_hvg_t *h)
{
    if (!h) return;
    free(h->gene_kept);
    free(h->cell_kept);
    free(h->lib_size);
    free(h->means);
    free(h->dispersions);
    free(h->dispersions_norm);
    free(h->variances);
    free(h->variances_norm);
    free(h->rank);
    free(h->highly_variable);
    free(h);
}

/* ---- the passes */

typedef struct {
    int flavor;
    int clipped; /* pass 2b: clip counts at clip[j] into csum / csumsq */
    const uint8_t *gene_kept, *cell_kept;
    const float *divisor; /* [N] */
    const double *clip;   /* [G] */
} stats_t;

/* The value a flavor sums for a count x of a cell with divisor d. Counts are mostly small
 * integers, so each row memoises them (the result depends on x and d only). */
#define MEMO 64
typedef struct {
    float v[MEMO];
    uint8_t ok[MEMO];
} memo_t;

static float flavor_value(int flavor, float x, float d, memo_t *m)
{
    int xi = (int)x;
    if (flavor == SDD_HVG_SEURAT_V3) return x;
    if (xi >= 0 && xi < MEMO && (float)xi == x && m->ok[xi]) return m->v[xi];
    float l = sdd_log1pf(sdd_norm_value(x, d));
    float v = flavor == SDD_HVG_SEURAT ? sdd_expm1f(l) : l;
    if (xi >= 0 && xi < MEMO && (float)xi == x) {
        m->v[xi] = v;
        m->ok[xi] = 1;
    }
    return v;
}

/* Add row r of chunk c (cell with divisor d) to the sums; gene_kept NULL = all genes. */
static void stats_row(const stats_t *st, const sdd_csr_t *c, int64_t r, float d,
                      const uint8_t *gene_kept, sdd_hvg_acc_t *a)
{
    memo_t m;
    memset(m.ok, 0, sizeof m.ok);
    for (int64_t k = c->indptr[r]; k < c->indptr[r + 1]; k++) {
        int32_t j = c->indices[k];
        float x = c->data[k];
        if (x == 0 || (gene_kept && !gene_kept[j])) continue;
        if (st->clipped) {
            double v = x > st->clip[j] ? st->clip[j] : x;
            a->csum[j] += v;
            a->csumsq[j] += v * v;
            continue;
        }
        double v = flavor_value(st->flavor, x, d, &m);
        a->sum[j] += v;
        a->sumsq[j] += v * v;
    }
}

static void stats_chunk(const stats_t *st, const sdd_csr_t *c, int64_t row0, sdd_hvg_acc_t *a)
{
    for (int64_t r = 0; r < c->n_rows; r++)
        if (st->cell_kept[row0 + r]) stats_row(st, c, r, st->divisor[row0 + r], st->gene_kept, a);
}

/* Rows of pass 1 whose genes were not all certain to pass QC yet, kept for the end. */
typedef struct {
    sdd_csr_t m;   /* the rows, n_cols = G */
    int64_t *cell; /* [m.n_rows] their cell numbers */
    int64_t cap_rows, cap_nnz;
    int on; /* 0 once over budget: pass 2 then reads the file again */
} pending_t;

/* Bytes of waiting rows beyond which the fused pass gives up and the statistics take a
 * second pass (a variable so that the tests can force that path). */
int64_t sdd_prep_pending_budget = (int64_t)256 << 20;

static void pending_free(pending_t *p)
{
    sdd_csr_free(&p->m);
    free(p->cell);
    p->cell = NULL;
    p->cap_rows = p->cap_nnz = 0;
}

static int pending_add(pending_t *p, const sdd_csr_t *c, int64_t r, int64_t cell)
{
    int64_t a = c->indptr[r], n = c->indptr[r + 1] - a;
    if ((p->m.nnz + n) * 8 + p->m.n_rows * 16 > sdd_prep_pending_budget) {
        pending_free(p);
        p->on = 0;
        return SDD_OK;
    }
    if (p->m.n_rows + 1 >= p->cap_rows) {
        int64_t nc = p->cap_rows ? 2 * p->cap_rows : 1024;
        int64_t *ip = sdd_realloc(p->m.indptr, (size_t)(nc + 1) * sizeof *ip);
        if (ip) p->m.indptr = ip;
        int64_t *ce = sdd_realloc(p->cell, (size_t)nc * sizeof *ce);
        if (ce) p->cell = ce;
        if (!ip || !ce) return SDD_ENOMEM;
        if (p->cap_rows == 0) p->m.indptr[0] = 0;
        p->cap_rows = nc;
    }
    if (p->m.nnz + n > p->cap_nnz) {
        int64_t nc = p->cap_nnz ? 2 * p->cap_nnz : 1 << 16;
        while (nc < p->m.nnz + n) nc *= 2;
        int32_t *ix = sdd_realloc(p->m.indices, (size_t)nc * sizeof *ix);
        if (ix) p->m.indices = ix;
        float *dx = sdd_realloc(p->m.data, (size_t)nc * sizeof *dx);
        if (dx) p->m.data = dx;
        if (!ix || !dx) return SDD_ENOMEM;
        p->cap_nnz = nc;
    }
    memcpy(p->m.indices + p->m.nnz, c->indices + a, (size_t)n * sizeof *p->m.indices);
    memcpy(p->m.data + p->m.nnz, c->data + a, (size_t)n * sizeof *p->m.data);
    p->m.nnz += n;
    p->cell[p->m.n_rows++] = cell;
    p->m.indptr[p->m.n_rows] = p->m.nnz;
    return SDD_OK;
}

/* Pass 1: validate and tally QC, and when `fused`, also sum the statistics of every row
 * whose fate is already certain: all its positive genes have reached min_cells cells, so
 * its total over kept genes is its total, and it is kept iff it has min_genes of them.
 * The other rows wait in `pend`. `T` is the normalize_total target (fixed when fused). */
static int pass_first(sdd_src_t *s, sdd_qc_acc_t *q, const sdd_prep_opt_t *opt, const stats_t *st,
                      float T, sdd_hvg_acc_t *a, pending_t *pend)
{
    sdd_csr_t c;
    int owned, rc = SDD_OK;
    int64_t k;
    while ((k = sdd_src_next(s, &c, &owned)) > 0) {
        int64_t row0 = q->rows_seen;
        if ((rc = sdd_qc_add(q, &c, s->what)) < 0) {
            sdd_src_release(&c, owned);
            return rc;
        }
        for (int64_t r = 0; r < c.n_rows && pend->on; r++) {
            int64_t cell = row0 + r, e;
            if (q->skip && q->skip[cell]) continue;
            for (e = c.indptr[r]; e < c.indptr[r + 1]; e++)
                if (c.data[e] > 0 && q->gene_npos[c.indices[e]] < opt->min_cells) break;
            if (e < c.indptr[r + 1]) {
                if ((rc = pending_add(pend, &c, r, cell)) < 0) break;
            } else if (q->cell_npos[cell] >= opt->min_genes) {
                stats_row(st, &c, r, sdd_norm_divisor(q->cell_total[cell], T), NULL, a);
            }
        }
        sdd_src_release(&c, owned);
        if (rc < 0) return rc;
    }
    sdd_src_release(&c, owned);
    return k < 0 ? (int)k : SDD_OK;
}

static int pass_stats(sdd_src_t *s, const stats_t *st, sdd_hvg_acc_t *a)
{
    sdd_csr_t c;
    int owned, rc;
    int64_t k, row = 0;
    if ((rc = sdd_src_rewind(s)) < 0) return rc;
    while ((k = sdd_src_next(s, &c, &owned)) > 0) {
        stats_chunk(st, &c, row, a);
        row += k;
        sdd_src_release(&c, owned);
    }
    sdd_src_release(&c, owned);
    return k < 0 ? (int)k : SDD_OK;
}

static sdd_hvg_t *hvg_alloc(int64_t N, int64_t G, int flavor)
{
    sdd_hvg_t *h = sdd_calloc(1, sizeof *h);
    size_t g = (size_t)G + 1;
    if (!h) return NULL;
    h->flavor = flavor;
    h->n_cells = N;
    h->n_genes = G;
    h->gene_kept = sdd_calloc(g, 1);
    h->cell_kept = sdd_calloc((size_t)N + 1, 1);
    h->lib_size = sdd_calloc((size_t)N + 1, sizeof(double));
    h->means = sdd_calloc(g, sizeof(double));
    h->highly_variable = sdd_calloc(g, 1);
    int ok = h->gene_kept && h->cell_kept && h->lib_size && h->means && h->highly_variable;
    if (flavor == SDD_HVG_SEURAT_V3) {
        h->variances = sdd_calloc(g, sizeof(double));
        h->variances_norm = sdd_calloc(g, sizeof(double));
        h->rank = sdd_calloc(g, sizeof(double));
        ok = ok && h->variances && h->variances_norm && h->rank;
    } else {
        h->dispersions = sdd_calloc(g, sizeof(double));
        h->dispersions_norm = sdd_calloc(g, sizeof(double));
        ok = ok && h->dispersions && h->dispersions_norm;
    }
    if (!ok) {
        sdd_hvg_destroy(h);
        return NULL;
    }
    return h;
}

/* Passes 1, 2 (and 2b) over `s`, leaving out the rows marked in `skip` (may be NULL);
 * *out is new. */
static int hvg_run(sdd_src_t *s, int64_t N, int64_t G, const sdd_prep_opt_t *opt, const uint8_t *skip,
                   sdd_hvg_t **out)
{
    sdd_qc_acc_t q = {0};
    sdd_hvg_acc_t a = {0};
    sdd_hvg_t *h = NULL;
    pending_t pend;
    float *div = NULL, T;
    double *clip = NULL;
    int rc;

    *out = NULL;
    memset(&pend, 0, sizeof pend);
    if ((rc = sdd_prep_opt_check(opt)) < 0) return rc;
    if (opt->n_top_genes > G)
        return sdd_error(SDD_EINVAL,
                         "%s: %lld highly variable genes asked for, but it has only %lld genes",
                         s->what, (long long)opt->n_top_genes, (long long)G);
    rc = SDD_ENOMEM;
    if (!(h = hvg_alloc(N, G, opt->flavor))) goto fail;
    if ((rc = sdd_qc_init(&q, N, G, opt->min_cells)) < 0) goto fail;
    q.skip = skip;
    rc = SDD_ENOMEM;
    a.G = G;
    div = sdd_malloc((size_t)N * sizeof *div + 1);
    a.sum = sdd_calloc((size_t)G + 1, sizeof *a.sum);
    a.sumsq = sdd_calloc((size_t)G + 1, sizeof *a.sumsq);
    if (!div || !a.sum || !a.sumsq) goto fail;
    /* one pass does QC and statistics unless the target depends on all the totals */
    pend.on = opt->flavor == SDD_HVG_SEURAT_V3 || opt->target_sum > 0;
    stats_t st = {.flavor = opt->flavor,
                  .gene_kept = h->gene_kept,
                  .cell_kept = h->cell_kept,
                  .divisor = div};
    if ((rc = pass_first(s, &q, opt, &st, (float)opt->target_sum, &a, &pend)) < 0) goto fail;
    if ((rc = sdd_qc_finish(&q, opt->min_cells, opt->min_genes, h->gene_kept, h->cell_kept,
                            &h->n_genes_kept, &h->n_cells_kept)) < 0) {
        if (rc == SDD_EDATA) {
            char d[512];
            snprintf(d, sizeof d, "%s", sdd_errdetail());
            sdd_error(SDD_EDATA, "%s: %s", s->what, d);
        }
        goto fail;
    }
    SDD_LOG_I("QC kept %lld of %lld cells and %lld of %lld genes", (long long)h->n_cells_kept,
              (long long)N, (long long)h->n_genes_kept, (long long)G);
    memcpy(h->lib_size, q.cell_total, (size_t)N * sizeof *h->lib_size);
    if ((rc = sdd_norm_target(q.cell_total, h->cell_kept, N, opt->target_sum, &T)) < 0) goto fail;
    h->target_sum = T;
    a.n = h->n_cells_kept;
    for (int64_t i = 0; i < N; i++) div[i] = sdd_norm_divisor(q.cell_total[i], T);
    sdd_qc_free(&q);
    if (pend.on) { /* the rows that waited, now that QC is decided */
        SDD_LOG_D("one pass: %lld rows (%lld values) waited for QC", (long long)pend.m.n_rows,
                  (long long)pend.m.nnz);
        for (int64_t r = 0; r < pend.m.n_rows; r++)
            if (h->cell_kept[pend.cell[r]])
                stats_row(&st, &pend.m, r, div[pend.cell[r]], h->gene_kept, &a);
        pending_free(&pend);
    } else {
        memset(a.sum, 0, (size_t)G * sizeof *a.sum);
        memset(a.sumsq, 0, (size_t)G * sizeof *a.sumsq);
        if ((rc = pass_stats(s, &st, &a)) < 0) goto fail;
    }
    if (opt->flavor != SDD_HVG_SEURAT_V3) {
        if ((rc = sdd_hvg_dispersion(&a, h->gene_kept, opt->flavor, opt->n_top_genes, h)) < 0)
            goto fail;
    } else {
        rc = SDD_ENOMEM;
        clip = sdd_malloc((size_t)G * sizeof *clip + 1);
        a.csum = sdd_calloc((size_t)G + 1, sizeof *a.csum);
        a.csumsq = sdd_calloc((size_t)G + 1, sizeof *a.csumsq);
        if (!clip || !a.csum || !a.csumsq) goto fail;
        if ((rc = sdd_hvg_v3_fit(&a, h->gene_kept, h, clip)) < 0) goto fail;
        st.clipped = 1;
        st.clip = clip;
        if ((rc = pass_stats(s, &st, &a)) < 0) goto fail;
        if ((rc = sdd_hvg_v3_select(&a, h->gene_kept, opt->n_top_genes, h)) < 0) goto fail;
    }
    SDD_LOG_I("%lld highly variable genes (%s)", (long long)h->n_selected,
              sdd_hvg_flavor_name(opt->flavor));
    *out = h;
    h = NULL;
    rc = SDD_OK;
fail:
    sdd_qc_free(&q);
    pending_free(&pend);
    sdd_hvg_destroy(h);
    free(div);
    free(clip);
    free(a.sum);
    free(a.sumsq);
    free(a.csum);
    free(a.csumsq);
    return rc;
}

int sdd_hvg_csr(const sdd_csr_t *X, const sdd_prep_opt_t *opt, sdd_hvg_t **out)
{
    sdd_src_t s = {.mem = X, .chunk_rows = opt->chunk_rows, .what = "X"};
    return hvg_run(&s, X->n_rows, X->n_cols, opt, NULL, out);
}

int sdd_hvg_file(const char *path, const sdd_prep_opt_t *opt, sdd_hvg_t **out, sdd_dataset_t **meta)
{
    sdd_xreader_t *xr = NULL;
    sdd_dataset_t *md = NULL;
    int rc;
    *out = NULL;
    if (meta) *meta = NULL;
    if ((rc = sdd_prep_opt_check(opt)) < 0) return rc;
    if ((rc = sdd_xreader_open(path, &opt->read, &xr, &md)) < 0) return rc;
    sdd_xreader_set_threads(xr, opt->threads);
    sdd_src_t s = {.xr = xr, .chunk_rows = opt->chunk_rows, .what = path, .progress = opt->progress,
                   .progress_user = opt->progress_user, .total = md->n_cells};
    rc = hvg_run(&s, md->n_cells, md->n_genes, opt, NULL, out);
    sdd_xreader_close(xr);
    if (rc == SDD_OK && meta)
        *meta = md;
    else
        sdd_dataset_destroy(md);
    return rc;
}

/* ---- labels and the held-out split */

void sdd_labels_free(sdd_labels_t *l)
{
    free(l->codes);
    sdd_strv_free(l->names, l->n);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The obs column `key` as a label source: categorical or string, else an error that lists
 * what obs has. */
static int label_column(const sdd_dataset_t *md, const char *key, int *ci)
{
    if ((*ci = sdd_column_find(md->obs, md->n_obs, key)) < 0) {
        char list[1024] = "";
        for (int i = 0; i < md->n_obs && strlen(list) < sizeof list - 80; i++) {
            strcat(list, i ? ", " : "");
            strncat(list, md->obs[i].name, 64);
        }
        return sdd_error(SDD_ENOTFOUND, "no obs column '%s' for labels; the obs columns are: %s",
                         key, md->n_obs ? list : "(none)");
    }
    int kind = md->obs[*ci].kind;
    if (kind != SDD_COL_CATEGORICAL && kind != SDD_COL_STRING)
        return sdd_error(SDD_EDATA,
                         "obs column '%s' is numeric: labels need a categorical or "
                         "string column",
                         key);
    return SDD_OK;
}

static int string_labels(const sdd_column_t *c, sdd_labels_t *lab)
{
    char **v = sdd_malloc((size_t)c->n * sizeof *v + 1);
    int rc = SDD_ENOMEM;
    if (!v) return SDD_ENOMEM;
    for (int64_t i = 0; i < c->n; i++) v[i] = c->strings[i];
    qsort(v, (size_t)c->n, sizeof *v, cmp_str);
    if (!(lab->names = sdd_calloc((size_t)c->n + 1, sizeof(char *)))) goto out;
    for (int64_t i = 0; i < c->n; i++)
        if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
            if (!(lab->names[lab->n++] = sdd_strdup(v[i]))) goto out;
    for (int64_t i = 0; i < c->n; i++) {
        int32_t lo = 0, hi = lab->n - 1;
        while (lo < hi) {
            int32_t mid = (lo + hi) / 2;
            if (strcmp(lab->names[mid], c->strings[i]) < 0) lo = mid + 1;
            else hi = mid;
        }
        lab->codes[i] = lo;
    }
    rc = SDD_OK;
out:
    free(v);
    return rc;
}

static int label_codes(const sdd_dataset_t *md, const char *key, sdd_labels_t *lab)
{
    int ci, rc;
    const sdd_column_t *c;
    memset(lab, 0, sizeof *lab);
    if ((rc = label_column(md, key, &ci)) < 0) return rc;
    c = &md->obs[ci];
    if (c->n != md->n_cells)
        return sdd_error(SDD_EFORMAT, "obs column '%s' has %lld rows for %lld cells", key, (long long)c->n,
                         (long long)md->n_cells);
    if (!(lab->codes = sdd_malloc((size_t)c->n * sizeof *lab->codes + 1))) return SDD_ENOMEM;
    if (c->kind == SDD_COL_STRING) return string_labels(c, lab);
    if (!(lab->names = sdd_calloc((size_t)c->n_categories + 1, sizeof(char *)))) return SDD_ENOMEM;
    for (int32_t k = 0; k < c->n_categories; k++)
        if (!(lab->names[lab->n++] = sdd_strdup(c->categories[k]))) return SDD_ENOMEM;
    memcpy(lab->codes, c->codes, (size_t)c->n * sizeof *lab->codes);
    return SDD_OK;
}

/* elig [N] = the cells that pass the per-cell QC on all genes (>= min_genes expressed), the
 * cells the held-out split draws from. Leaves the source rewound. */
static int pass_eligible(sdd_src_t *s, int64_t N, int64_t min_genes, uint8_t *elig, int64_t *n_elig)
{
    sdd_csr_t c;
    int owned, rc;
    int64_t k, row = 0;
    *n_elig = 0;
    if ((rc = sdd_src_rewind(s)) < 0) return rc;
    while ((k = sdd_src_next(s, &c, &owned)) > 0) {
        for (int64_t r = 0; r < c.n_rows && row < N; r++, row++) {
            int64_t npos = 0;
            for (int64_t e = c.indptr[r]; e < c.indptr[r + 1]; e++) npos += c.data[e] > 0;
            elig[row] = npos >= min_genes;
            *n_elig += elig[row];
        }
        sdd_src_release(&c, owned);
    }
    sdd_src_release(&c, owned);
    if (k < 0) return (int)k;
    return sdd_src_rewind(s);
}

/* The held-out cells [N] of opt->holdout (sdd_holdout_split stratified by the label codes,
 * may be NULL), or NULL for none: no holdout asked, or fewer than opt->holdout_min. */
static int holdout_mask(sdd_src_t *s, int64_t N, const sdd_prep_opt_t *opt, const int32_t *strata,
                        uint8_t **out)
{
    uint8_t *elig = NULL, *held = NULL;
    int64_t n_elig = 0, n_held;
    int rc = SDD_ENOMEM;
    *out = NULL;
    if (opt->holdout <= 0) return SDD_OK;
    elig = sdd_malloc((size_t)N + 1);
    held = sdd_malloc((size_t)N + 1);
    if (!elig || !held) goto fail;
    if ((rc = pass_eligible(s, N, opt->min_genes, elig, &n_elig)) < 0) goto fail;
    if ((n_held = sdd_holdout_split(elig, strata, N, opt->holdout, opt->holdout_seed, held)) < 0) {
        rc = (int)n_held;
        goto fail;
    }
    if (n_held < opt->holdout_min) {
        SDD_LOG_W("holding out %g of the %lld cells that pass QC would keep only %lld cells apart "
                  "(fewer than %lld): none held out, every cell trains and is what the model "
                  "can be compared with", opt->holdout, (long long)n_elig, (long long)n_held,
                  (long long)opt->holdout_min);
    } else {
        SDD_LOG_I("held out %lld of the %lld cells that pass QC%s; nothing is fitted on them",
                  (long long)n_held, (long long)n_elig, strata ? " (stratified by label)" : "");
        *out = held;
        held = NULL;
    }
    rc = SDD_OK;
fail:
    free(elig);
    free(held);
    return rc;
}

/* Labels, the held-out split, passes 1-2 on the training cells, pass 3. */
static int prep_source(sdd_src_t *s, const sdd_dataset_t *md, int64_t N, int64_t G,
                       const sdd_prep_opt_t *opt, sdd_trainset_t **out)
{
    sdd_labels_t lab = {0};
    uint8_t *held = NULL;
    sdd_hvg_t *h = NULL;
    int rc;
    if (opt->label_key && (rc = label_codes(md, opt->label_key, &lab)) < 0) goto out;
    if ((rc = holdout_mask(s, N, opt, lab.codes, &held)) < 0) goto out;
    if ((rc = hvg_run(s, N, G, opt, held, &h)) < 0) goto out;
    rc = sdd_trainset_build(s, md, h, opt, held, &lab, out);
out:
    sdd_labels_free(&lab);
    free(held);
    sdd_hvg_destroy(h);
    return rc;
}

int sdd_prep_dataset(const sdd_dataset_t *ds, const sdd_prep_opt_t *opt, sdd_trainset_t **out)
{
    sdd_src_t s = {.mem = &ds->X, .chunk_rows = opt->chunk_rows, .what = "X"};
    *out = NULL;
    return prep_source(&s, ds, ds->X.n_rows, ds->X.n_cols, opt, out);
}

int sdd_prep_run(const char *path, const sdd_prep_opt_t *opt, sdd_trainset_t **out)
{
    sdd_xreader_t *xr = NULL;
    sdd_dataset_t *md = NULL;
    int rc;
    *out = NULL;
    sdd_read_opt_t ro = opt->read;
    if ((rc = sdd_prep_opt_check(opt)) < 0) return rc;
    if (opt->label_key) ro.skip_obs = 0; /* the labels live in obs */
    if ((rc = sdd_xreader_open(path, &ro, &xr, &md)) < 0) return rc;
    sdd_xreader_set_threads(xr, opt->threads);
    sdd_src_t s = {.xr = xr, .chunk_rows = opt->chunk_rows, .what = path, .progress = opt->progress,
                   .progress_user = opt->progress_user, .total = md->n_cells};
    rc = prep_source(&s, md, md->n_cells, md->n_genes, opt, out);
    sdd_xreader_close(xr);
    sdd_dataset_destroy(md);
    return rc;
}
