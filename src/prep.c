/*
 * prep.c: the preprocessing driver (SPEC section 1, steps 1-4) in bounded memory.
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
 *   pass 3  sdd_prep_*: the log1p-normalised values of the selected genes, the only
 *           part of the matrix ever materialised (sdd_trainset_t)
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
    sdd_read_opt_init(&opt->read);
}

int sdd_prep_opt_check(const sdd_prep_opt_t *opt)
{
    if (opt->auto_labels && opt->label_key)
        return sdd_error(SDD_EINVAL, "give either a label column or automatic cluster labels, not both");
    if (opt->auto_labels && !(opt->cluster_resolution > 0 && opt->cluster_resolution <= 100))
        return sdd_error(SDD_EINVAL, "cluster resolution must be in (0, 100]");
    if (opt->min_cells < 0 || opt->min_cells > 1000)
        return sdd_error(SDD_EINVAL, "min_cells must be in [0, 1000], not %lld",
                         (long long)opt->min_cells);
    if (opt->min_genes < 0)
        return sdd_error(SDD_EINVAL, "min_genes must be >= 0, not %lld", (long long)opt->min_genes);
    if (!isfinite(opt->target_sum))
        return sdd_error(SDD_EINVAL, "target_sum must be a finite number (<= 0 for the median)");
    if (opt->n_top_genes < 1)
        return sdd_error(SDD_EINVAL, "n_top_genes must be >= 1, not %lld",
                         (long long)opt->n_top_genes);
    if (opt->flavor != SDD_HVG_SEURAT && opt->flavor != SDD_HVG_CELL_RANGER &&
        opt->flavor != SDD_HVG_SEURAT_V3)
        return sdd_error(SDD_EINVAL, "unknown HVG flavor %d", opt->flavor);
    if (opt->threads < 1)
        return sdd_error(SDD_EINVAL, "threads must be >= 1, not %d", opt->threads);
    if (opt->chunk_rows < 1)
        return sdd_error(SDD_EINVAL, "chunk_rows must be >= 1, not %lld",
                         (long long)opt->chunk_rows);
    return SDD_OK;
}

static const char *flavor_name(int f)
{
    return f == SDD_HVG_CELL_RANGER ? "cell_ranger"
           : f == SDD_HVG_SEURAT_V3 ? "seurat_v3"
                                    : "seurat";
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

/* ---- row sources: an in-memory matrix or a file, read in chunks */

typedef struct {
    const sdd_csr_t *mem;
    int64_t pos;
    sdd_xreader_t *xr;
    int64_t chunk_rows;
    const char *what;
} source_t;

/* Next chunk into *c (c->indices / data borrowed from memory when `*owned` is 0).
 * Returns rows read, 0 at the end, or a negative code. */
static int64_t src_next(source_t *s, sdd_csr_t *c, int *owned)
{
    memset(c, 0, sizeof *c);
    if (s->xr) {
        *owned = 1;
        return sdd_xreader_next(s->xr, s->chunk_rows, c);
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

static void src_release(sdd_csr_t *c, int owned)
{
    if (owned) {
        sdd_csr_free(c);
    } else {
        free(c->indptr);
        memset(c, 0, sizeof *c);
    }
}

static int src_rewind(source_t *s)
{
    if (s->xr) return sdd_xreader_rewind(s->xr);
    s->pos = 0;
    return SDD_OK;
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
static int pass_first(source_t *s, sdd_qc_acc_t *q, const sdd_prep_opt_t *opt, const stats_t *st,
                      float T, sdd_hvg_acc_t *a, pending_t *pend)
{
    sdd_csr_t c;
    int owned, rc = SDD_OK;
    int64_t k;
    while ((k = src_next(s, &c, &owned)) > 0) {
        int64_t row0 = q->rows_seen;
        if ((rc = sdd_qc_add(q, &c, s->what)) < 0) {
            src_release(&c, owned);
            return rc;
        }
        for (int64_t r = 0; r < c.n_rows && pend->on; r++) {
            int64_t cell = row0 + r, e;
            for (e = c.indptr[r]; e < c.indptr[r + 1]; e++)
                if (c.data[e] > 0 && q->gene_npos[c.indices[e]] < opt->min_cells) break;
            if (e < c.indptr[r + 1]) {
                if ((rc = pending_add(pend, &c, r, cell)) < 0) break;
            } else if (q->cell_npos[cell] >= opt->min_genes) {
                stats_row(st, &c, r, sdd_norm_divisor(q->cell_total[cell], T), NULL, a);
            }
        }
        src_release(&c, owned);
        if (rc < 0) return rc;
    }
    src_release(&c, owned);
    return k < 0 ? (int)k : SDD_OK;
}

static int pass_stats(source_t *s, const stats_t *st, sdd_hvg_acc_t *a)
{
    sdd_csr_t c;
    int owned, rc;
    int64_t k, row = 0;
    if ((rc = src_rewind(s)) < 0) return rc;
    while ((k = src_next(s, &c, &owned)) > 0) {
        stats_chunk(st, &c, row, a);
        row += k;
        src_release(&c, owned);
    }
    src_release(&c, owned);
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

/* Passes 1, 2 (and 2b) over `s`; *out is new. */
static int hvg_run(source_t *s, int64_t N, int64_t G, const sdd_prep_opt_t *opt, sdd_hvg_t **out)
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
              flavor_name(opt->flavor));
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
    source_t s = {.mem = X, .chunk_rows = opt->chunk_rows, .what = "X"};
    return hvg_run(&s, X->n_rows, X->n_cols, opt, out);
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
    source_t s = {.xr = xr, .chunk_rows = opt->chunk_rows, .what = path};
    rc = hvg_run(&s, md->n_cells, md->n_genes, opt, out);
    sdd_xreader_close(xr);
    if (rc == SDD_OK && meta)
        *meta = md;
    else
        sdd_dataset_destroy(md);
    return rc;
}

/* ---- pass 3: the training set */

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

/* Labels of the kept cells from obs column `key`: categorical codes as they are, strings
 * coded by their sorted distinct values. */
static int take_labels(const sdd_dataset_t *md, const uint8_t *keep, const char *key,
                       sdd_trainset_t *ts)
{
    int ci, rc;
    const sdd_column_t *c;
    if ((rc = label_column(md, key, &ci)) < 0) return rc;
    c = &md->obs[ci];
    if (!(ts->labels = sdd_malloc((size_t)ts->n_cells * sizeof *ts->labels + 1))) return SDD_ENOMEM;
    if (!(ts->label_key = sdd_strdup(key))) return SDD_ENOMEM;
    if (c->kind == SDD_COL_CATEGORICAL) {
        if (!(ts->label_names = sdd_calloc((size_t)c->n_categories + 1, sizeof(char *))))
            return SDD_ENOMEM;
        for (int32_t k = 0; k < c->n_categories; k++)
            if (!(ts->label_names[ts->n_labels++] = sdd_strdup(c->categories[k])))
                return SDD_ENOMEM;
        for (int64_t i = 0, o = 0; i < md->n_cells; i++)
            if (keep[i]) ts->labels[o++] = c->codes[i];
        return SDD_OK;
    }
    /* strings: distinct values in sorted order */
    char **v = sdd_malloc((size_t)c->n * sizeof *v + 1);
    if (!v) return SDD_ENOMEM;
    int64_t nv = 0;
    for (int64_t i = 0; i < c->n; i++) v[nv++] = c->strings[i];
    qsort(v, (size_t)nv, sizeof *v, cmp_str);
    rc = SDD_ENOMEM;
    if (!(ts->label_names = sdd_calloc((size_t)nv + 1, sizeof(char *)))) goto out;
    for (int64_t i = 0; i < nv; i++)
        if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
            if (!(ts->label_names[ts->n_labels++] = sdd_strdup(v[i]))) goto out;
    for (int64_t i = 0, o = 0; i < md->n_cells; i++) {
        if (!keep[i]) continue;
        int32_t lo = 0, hi = ts->n_labels - 1;
        while (lo < hi) {
            int32_t mid = (lo + hi) / 2;
            if (strcmp(ts->label_names[mid], c->strings[i]) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        ts->labels[o++] = lo;
    }
    rc = SDD_OK;
out:
    free(v);
    return rc;
}

/* The selected genes' log1p-normalised values for the kept cells (rows sorted). */
static int pass_select(source_t *s, const sdd_hvg_t *h, const float *div, sdd_csr_t *X)
{
    int32_t *col = sdd_malloc((size_t)h->n_genes * sizeof *col + 1);
    sdd_csr_t c;
    int owned = 0, rc = SDD_ENOMEM;
    int64_t k, row = 0, out = 0, cap = 1 << 16, G = 0;
    memset(X, 0, sizeof *X);
    if (!col) return SDD_ENOMEM;
    for (int64_t j = 0; j < h->n_genes; j++) col[j] = h->highly_variable[j] ? (int32_t)G++ : -1;
    X->n_rows = h->n_cells_kept;
    X->n_cols = G;
    X->indptr = sdd_calloc((size_t)X->n_rows + 1, sizeof *X->indptr);
    X->indices = sdd_malloc((size_t)cap * sizeof *X->indices);
    X->data = sdd_malloc((size_t)cap * sizeof *X->data);
    if (!X->indptr || !X->indices || !X->data) goto fail;
    if ((rc = src_rewind(s)) < 0) goto fail;
    while ((k = src_next(s, &c, &owned)) > 0) {
        for (int64_t r = 0; r < c.n_rows; r++, row++) {
            if (!h->cell_kept[row]) continue;
            for (int64_t e = c.indptr[r]; e < c.indptr[r + 1]; e++) {
                int32_t j = col[c.indices[e]];
                float v;
                if (j < 0 || (v = sdd_log1pf(sdd_norm_value(c.data[e], div[row]))) == 0) continue;
                if (X->nnz == cap) {
                    int32_t *ni = sdd_realloc(X->indices, 2 * (size_t)cap * sizeof *ni);
                    if (ni) X->indices = ni;
                    float *nd = sdd_realloc(X->data, 2 * (size_t)cap * sizeof *nd);
                    if (nd) X->data = nd;
                    if (!ni || !nd) {
                        rc = SDD_ENOMEM;
                        goto fail;
                    }
                    cap *= 2;
                }
                X->indices[X->nnz] = j;
                X->data[X->nnz++] = v;
            }
            X->indptr[++out] = X->nnz;
        }
        src_release(&c, owned);
    }
    src_release(&c, owned);
    if (k < 0) {
        rc = (int)k;
        goto fail;
    }
    if ((rc = sdd_csr_sort(X)) < 0) goto fail;
    free(col);
    return SDD_OK;
fail:
    if (owned) sdd_csr_free(&c);
    free(col);
    sdd_csr_free(X);
    return rc;
}

static int prep_json(const sdd_prep_opt_t *opt, const sdd_hvg_t *h, int64_t nnz, char **out)
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
    cJSON_AddStringToObject(o, "flavor", flavor_name(opt->flavor));
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
    cJSON_AddNumberToObject(o, "nnz_selected", (double)nnz);
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!txt) return SDD_ENOMEM;
    *out = sdd_strdup(txt);
    cJSON_free(txt);
    return *out ? SDD_OK : SDD_ENOMEM;
}

/* Pass 3 and everything the training set carries besides X. */
static int build_trainset(source_t *s, const sdd_dataset_t *md, const sdd_hvg_t *h,
                          const sdd_prep_opt_t *opt, sdd_trainset_t **out)
{
    sdd_trainset_t *ts = sdd_calloc(1, sizeof *ts);
    float *div = NULL;
    int rc = SDD_ENOMEM;
    if (!ts) return SDD_ENOMEM;
    if (!(div = sdd_malloc((size_t)h->n_cells * sizeof *div + 1))) goto fail;
    for (int64_t i = 0; i < h->n_cells; i++)
        div[i] = sdd_norm_divisor(h->lib_size[i], (float)h->target_sum);
    if ((rc = pass_select(s, h, div, &ts->X)) < 0) goto fail;
    rc = SDD_ENOMEM;
    ts->n_cells = ts->X.n_rows;
    ts->G = ts->X.n_cols;
    ts->gene_names = sdd_calloc((size_t)ts->G + 1, sizeof(char *));
    ts->library_size = sdd_malloc((size_t)ts->n_cells * sizeof(double) + 1);
    if (!ts->gene_names || !ts->library_size) goto fail;
    if (md && md->gene_ids && !(ts->gene_ids = sdd_calloc((size_t)ts->G + 1, sizeof(char *))))
        goto fail;
    for (int64_t j = 0, g = 0; j < h->n_genes; j++) {
        if (!h->highly_variable[j]) continue;
        char num[32];
        snprintf(num, sizeof num, "gene%lld", (long long)j);
        if (!(ts->gene_names[g] = sdd_strdup(md && md->gene_names ? md->gene_names[j] : num)))
            goto fail;
        if (ts->gene_ids && !(ts->gene_ids[g] = sdd_strdup(md->gene_ids[j]))) goto fail;
        g++;
    }
    for (int64_t i = 0, o = 0; i < h->n_cells; i++)
        if (h->cell_kept[i]) ts->library_size[o++] = h->lib_size[i];
    if (opt->label_key) {
        if (!md) {
            rc =
                sdd_error(SDD_ENOTFOUND, "no obs columns to take labels '%s' from", opt->label_key);
            goto fail;
        }
        if ((rc = take_labels(md, h->cell_kept, opt->label_key, ts)) < 0) goto fail;
    }
    if (opt->auto_labels) {
        sdd_cluster_opt_t co;
        sdd_cluster_opt_init(&co);
        co.resolution = opt->cluster_resolution;
        if ((rc = sdd_trainset_cluster(ts, &co)) < 0) goto fail;
    }
    if ((rc = prep_json(opt, h, ts->X.nnz, &ts->prep_json)) < 0) goto fail;
    free(div);
    *out = ts;
    return SDD_OK;
fail:
    free(div);
    sdd_trainset_destroy(ts);
    return rc;
}

int sdd_prep_dataset(const sdd_dataset_t *ds, const sdd_prep_opt_t *opt, sdd_trainset_t **out)
{
    source_t s = {.mem = &ds->X, .chunk_rows = opt->chunk_rows, .what = "X"};
    sdd_hvg_t *h = NULL;
    int rc;
    *out = NULL;
    int ci;
    if (opt->label_key && (rc = label_column(ds, opt->label_key, &ci)) < 0) return rc;
    if ((rc = hvg_run(&s, ds->X.n_rows, ds->X.n_cols, opt, &h)) < 0) return rc;
    rc = build_trainset(&s, ds, h, opt, out);
    sdd_hvg_destroy(h);
    return rc;
}

int sdd_prep_run(const char *path, const sdd_prep_opt_t *opt, sdd_trainset_t **out)
{
    sdd_xreader_t *xr = NULL;
    sdd_dataset_t *md = NULL;
    sdd_hvg_t *h = NULL;
    int rc;
    *out = NULL;
    sdd_read_opt_t ro = opt->read;
    if ((rc = sdd_prep_opt_check(opt)) < 0) return rc;
    if (opt->label_key) ro.skip_obs = 0; /* the labels live in obs */
    if ((rc = sdd_xreader_open(path, &ro, &xr, &md)) < 0) return rc;
    sdd_xreader_set_threads(xr, opt->threads);
    source_t s = {.xr = xr, .chunk_rows = opt->chunk_rows, .what = path};
    int ci;
    if (opt->label_key && (rc = label_column(md, opt->label_key, &ci)) < 0) {
        sdd_xreader_close(xr);
        sdd_dataset_destroy(md);
        return rc;
    }
    if ((rc = hvg_run(&s, md->n_cells, md->n_genes, opt, &h)) == SDD_OK)
        rc = build_trainset(&s, md, h, opt, out);
    sdd_hvg_destroy(h);
    sdd_xreader_close(xr);
    sdd_dataset_destroy(md);
    return rc;
}
