/*
 * report.c: one self-contained HTML page about a synthetic data set, for a person to
 * look at (`simulate --report`, `evaluate --report`). Nothing outside the page is
 * referenced: the UMAP picture is a PNG in a data: URI, the other figures inline SVG,
 * the style an inline <style>; no scripts.
 *
 * Sections (each a <section id=...> that tests look for):
 *   summary       the verdict line: each figure beside its floor
 *   metrics       the metrics of doc/method.md §8; under the held-out protocol beside the floor
 *                 (m training cells against the same m held-out cells) and the
 *                 memorisation share; every value also in data-value for machines
 *   umap          real and synthetic cells in one UMAP (embed.c), drawn by plot.c: coloured
 *                 by source, and by label (or the synthetic cells over the real ones)
 *   clusters      Louvain clusters of the pooled cells (cluster.c): per cluster the share
 *                 of the real and of the synthetic cells it holds, each side's sparsity and
 *                 the Pearson correlation of its gene means; a generator that drops or
 *                 invents a population shows a share near 0 on one side
 *   labels        per-label figures of the evaluation, when there are labels
 *   gene-means    mean log1p value of each gene, real (x) against synthetic (y)
 *   zero-fraction histogram of the per-cell zero fraction of every real and synthetic
 *                 cell (and training cell of the floor), over the range the cells occupy
 *   recipe        the options of the run (a JSON object given by the caller) and its command
 *
 * The picture and the clusters use at most max_cells cells a side, drawn with the seed;
 * the metrics and gene means are those of the whole evaluation, the histogram is of all
 * the cells given. Charts have round ticks and their legends above the plot area.
 */
#include "sdd_internal.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

void sdd_report_init(sdd_report_t *r)
{
    memset(r, 0, sizeof *r);
    r->max_cells = 2000;
    r->seed = 42;
}

/* ------------------------------------------------------------ text helpers */

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void base64(FILE *f, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        fputc(t[v >> 18 & 63], f);
        fputc(t[v >> 12 & 63], f);
        fputc(i + 1 < n ? t[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? t[v & 63] : '=', f);
    }
}

/* A number for a person (fmt) and for a machine (%.17g) in one table cell. */
static void cell(FILE *f, const char *key, const char *side, const char *fmt, double scale, double v)
{
    fprintf(f, "<td data-metric=\"%s\" data-side=\"%s\"", key, side);
    if (isfinite(v)) {
        fprintf(f, " data-value=\"%.17g\">", v);
        fprintf(f, fmt, scale * v);
    } else {
        fputs(" data-value=\"nan\">n/a", f);
    }
    fputs("</td>", f);
}

/* --------------------------------------------------------------- metrics */

typedef struct {
    const char *key, *name, *fmt, *meaning;
    double scale;
    size_t off;
} metric_t;

#define M(k, n, f, s, mean) {#k, n, f, mean, s, offsetof(sdd_eval_t, k)}
static const metric_t metrics[] = {
    M(sparsity_real, "sparsity, real cells", "%.2f%%", 100, "fraction of exact zeros"),
    M(sparsity_synth, "sparsity, synthetic cells", "%.2f%%", 100, "close to the real cells' is good"),
    M(zero_frac_w1, "zero-fraction W1 distance", "%.4f", 1, "per-cell zero fractions; 0 = same distribution"),
    M(scc, "SCC of gene means", "%.4f", 1, "Spearman; 1 = same ranking of genes"),
    M(pcc, "PCC of gene means", "%.4f", 1, "Pearson; 1 = same means"),
    M(mmd, "MMD (50 joint PCs)", "%.4f", 1, "0 = same distribution"),
    M(lisi_scaled, "LISI, scaled", "%.4f", 1, "1 = real and synthetic fully mixed"),
    M(knn_auc, "5-NN classifier AUC", "%.4f", 1, "0.5 = indistinguishable"),
};
#undef M
#define N_METRICS ((int)(sizeof metrics / sizeof metrics[0]))

static double field(const sdd_eval_t *e, const metric_t *m) { return *(const double *)((const char *)e + m->off); }

static void metrics_section(FILE *f, const sdd_report_t *r)
{
    const sdd_heldout_eval_t *h = r->heldout;
    const sdd_eval_t *e = h ? h->synth : r->eval, *fl = h ? h->floor : NULL;
    fputs("<section id=\"metrics\"><h2>Metrics", f);
    fputs(h ? " beside the held-out floor</h2>\n" : "</h2>\n", f);
    if (h)
        fprintf(f, "<p>%lld synthetic cells against %lld held-out cells the model never saw; the floor is "
                "%lld training cells against the same held-out cells: what a perfect generator reaches "
                "with this many cells.</p>\n", (long long)h->m, (long long)h->m, (long long)h->m);
    else
        fprintf(f, "<p>%lld real against %lld synthetic cells (%lld a side in MMD, LISI and the "
                "classifier).</p>\n", (long long)e->n_real, (long long)e->n_synth, (long long)e->n_sub);
    fprintf(f, "<table class=\"metrics\"><thead><tr><th>metric</th><th>%s</th>%s<th class=\"note\">reading</th></tr></thead><tbody>\n",
            h ? "synthetic vs held-out" : "synthetic vs real", h ? "<th>floor: training vs held-out</th>" : "");
    for (int k = 0; k < N_METRICS; k++) {
        const metric_t *m = &metrics[k];
        fprintf(f, "<tr><th>%s</th>", m->name);
        cell(f, m->key, "synthetic", m->fmt, m->scale, field(e, m));
        if (fl) cell(f, m->key, "floor", m->fmt, m->scale, field(fl, m));
        fprintf(f, "<td class=\"note\">%s</td></tr>\n", m->meaning);
    }
    if (h) {
        fputs("<tr><th>memorisation</th>", f);
        cell(f, "memorisation", "synthetic", "%.4f", 1, h->memorisation);
        fprintf(f, "<td>0.5</td><td class=\"note\">share of synthetic cells whose nearest of %lld training + "
                "%lld held-out cells is a training cell; 0.5 = no copying, 1 = copies</td></tr>\n",
                (long long)h->mem_n, (long long)h->mem_n);
    }
    fputs("</tbody></table></section>\n", f);
}

static void summary_section(FILE *f, const sdd_report_t *r)
{
    const sdd_heldout_eval_t *h = r->heldout;
    const sdd_eval_t *e = h ? h->synth : r->eval;
    fputs("<section id=\"summary\"><p class=\"verdict\">", f);
    if (h)
        fprintf(f, "Against %lld held-out cells: kNN AUC %.3f (floor %.3f), MMD %.4f (floor %.4f), SCC %.3f "
                "(floor %.3f), sparsity %.2f%% (held-out %.2f%%), memorisation %.3f (0.5 = no copying).",
                (long long)h->m, e->knn_auc, h->floor->knn_auc, e->mmd, h->floor->mmd, e->scc, h->floor->scc,
                100 * e->sparsity_synth, 100 * e->sparsity_real, h->memorisation);
    else
        fprintf(f, "Against %lld real cells: kNN AUC %.3f (0.5 = indistinguishable), MMD %.4f, SCC %.3f, "
                "sparsity %.2f%% (real %.2f%%).", (long long)e->n_real, e->knn_auc, e->mmd, e->scc,
                100 * e->sparsity_synth, 100 * e->sparsity_real);
    fputs("</p></section>\n", f);
}

static void labels_section(FILE *f, const sdd_report_t *r)
{
    const sdd_eval_t *e = r->heldout ? r->heldout->synth : r->eval;
    if (e->n_labels <= 0) return;
    fputs("<section id=\"labels\"><h2>Per label", f);
    if (r->label_key) fputs(" (", f), esc(f, r->label_key), fputc(')', f);
    fputs("</h2>\n<table class=\"metrics\"><thead><tr><th>label</th><th>cells real</th><th>cells synthetic</th>"
          "<th>sparsity real</th><th>sparsity synthetic</th><th>SCC</th><th>PCC</th><th>marker LFC PCC</th>"
          "<th>MMD</th></tr></thead><tbody>\n", f);
    for (int l = 0; l < e->n_labels; l++) {
        const sdd_eval_label_t *L = &e->per_label[l];
        fputs("<tr><th>", f);
        esc(f, L->name);
        fprintf(f, "</th><td>%lld</td><td>%lld</td>", (long long)L->n_real, (long long)L->n_synth);
        cell(f, "sparsity_real", "label", "%.2f%%", 100, L->sparsity_real);
        cell(f, "sparsity_synth", "label", "%.2f%%", 100, L->sparsity_synth);
        cell(f, "scc", "label", "%.4f", 1, L->scc);
        cell(f, "pcc", "label", "%.4f", 1, L->pcc);
        cell(f, "lfc_pcc_markers", "label", "%.4f", 1, L->lfc_pcc_markers);
        cell(f, "mmd", "label", "%.4f", 1, L->mmd);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></section>\n", f);
}

/* ------------------------------------------------------------ SVG charts */

#define CW 440 /* chart width and height, pixels */
#define CH 380
#define CL 60  /* left margin */
#define CB 44  /* bottom margin */
#define CR 16  /* right margin */
#define LEG_ROW 16 /* height of a legend row, above the plot area */

static const char *series_colour[] = {"#1f77b4", "#ff7f0e", "#7f7f7f"};

/* A chart: the data ranges and the top margin (room for the legend rows). */
typedef struct {
    double x0, x1, y0, y1;
    int top;
} chart_t;

static double px_x(const chart_t *c, double v) { return CL + (v - c->x0) / (c->x1 - c->x0) * (CW - CL - CR); }
static double px_y(const chart_t *c, double v) { return CH - CB - (v - c->y0) / (c->y1 - c->y0) * (CH - c->top - CB); }

/* A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about `target` steps
 * over span. */
static double nice_step(double span, int target)
{
    double raw = span / target, p, m;
    if (!(raw > 0) || !isfinite(raw)) return 1;
    p = pow(10, floor(log10(raw)));
    m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}

/* An axis range [*lo, *hi] widened to whole steps of a round step over [lo, hi]. */
static double nice_range(double *lo, double *hi, int target)
{
    double s;
    if (!(*hi > *lo)) *hi = *lo + 1;
    s = nice_step(*hi - *lo, target);
    *lo = floor(*lo / s + 1e-9) * s;
    *hi = ceil(*hi / s - 1e-9) * s;
    return s;
}

/* A tick label: v with as many decimals as the step needs (as a percentage: pct). */
static void tick_label(char *buf, size_t n, double v, double step, int pct)
{
    int d;
    if (pct) v *= 100, step *= 100;
    d = (int)ceil(-log10(step) - 1e-9);
    if (fabs(step * pow(10, d > 0 ? d : 0) - round(step * pow(10, d > 0 ? d : 0))) > 1e-6) d++; /* 2.5, 0.25 */
    if (d < 0) d = 0;
    snprintf(buf, n, "%.*f%s", d, fabs(v) < 0.5 * step ? 0.0 : v, pct ? "%" : "");
}

/* Legend rows needed for these names in the width of the plot area. */
static int legend_rows(char *const *names, int n)
{
    int rows = n > 0, x = 0;
    for (int k = 0; k < n; k++) {
        int w = 18 + (int)(6.5 * strlen(names[k])) + 14;
        if (x > 0 && x + w > CW - CL - CR) rows++, x = 0;
        x += w;
    }
    return rows;
}

/* Open a chart: the SVG element, the frame, round ticks on both axes (x ticks unless
 * xticks is 0; y tick labels as percentages when ypct), the axis names, and the legend
 * in rows above the plot area, where it covers nothing. */
static void chart_open(FILE *f, chart_t *c, const char *label, const char *xname, const char *yname, int xticks,
                       int ypct, char *const *names, int n)
{
    double xs = nice_step(c->x1 - c->x0, 4), ys = nice_step(c->y1 - c->y0, 4);
    char buf[32];
    int x = 0, row = 0;
    c->top = 10 + LEG_ROW * legend_rows(names, n);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"", CW, CH, CW, CH);
    esc(f, label);
    fprintf(f, "\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#000\"/>\n", CL,
            c->top, CW - CL - CR, CH - c->top - CB);
    for (double v = ceil(c->x0 / xs - 1e-9) * xs; xticks && v <= c->x1 + 1e-9 * xs; v += xs) {
        double fx = px_x(c, v);
        tick_label(buf, sizeof buf, v, xs, 0);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\"/>"
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", fx, CH - CB, fx, CH - CB + 4, fx,
                CH - CB + 16, buf);
    }
    for (double v = ceil(c->y0 / ys - 1e-9) * ys; v <= c->y1 + 1e-9 * ys; v += ys) {
        double fy = px_y(c, v);
        tick_label(buf, sizeof buf, v, ys, ypct);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#000\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", CL - 4, fy, CL, fy, CL - 6, fy + 4, buf);
    }
    fprintf(f, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (CW + CL - CR) / 2, CH - 8);
    esc(f, xname);
    fprintf(f, "</text>\n<text class=\"axis\" x=\"14\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">",
            (CH - CB + c->top) / 2, (CH - CB + c->top) / 2);
    esc(f, yname);
    fputs("</text>\n", f);
    for (int k = 0; k < n; k++) {
        int w = 18 + (int)(6.5 * strlen(names[k])) + 14;
        if (x > 0 && x + w > CW - CL - CR) row++, x = 0;
        fprintf(f, "<g class=\"legend\"><rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"%d\">", CL + x, 4 + LEG_ROW * row, series_colour[k], CL + x + 16, 13 + LEG_ROW * row);
        esc(f, names[k]);
        fputs("</text></g>\n", f);
        x += w;
    }
}

/* Column means of X [n x G] (log1p values), in double. */
static int col_means(const sdd_csr_t *X, double *mean)
{
    memset(mean, 0, (size_t)X->n_cols * sizeof *mean);
    for (int64_t p = 0; p < X->nnz; p++) mean[X->indices[p]] += X->data[p];
    for (int64_t g = 0; g < X->n_cols; g++) mean[g] /= X->n_rows > 0 ? (double)X->n_rows : 1.0;
    return SDD_OK;
}

#define MAX_GENE_POINTS 5000

static int by_index(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static const double *sort_key; /* by_key_desc's key (the report is built on one thread) */
static int by_key_desc(const void *x, const void *y)
{
    double a = sort_key[*(const int64_t *)x], b = sort_key[*(const int64_t *)y];
    return a < b ? 1 : a > b ? -1 : (*(const int64_t *)x > *(const int64_t *)y) - (*(const int64_t *)x < *(const int64_t *)y);
}

/* Mean of every gene, real (x) against synthetic (y); above MAX_GENE_POINTS genes the
 * points drawn are the genes of highest mean on either side. */
static int gene_means_section(FILE *f, const sdd_report_t *r)
{
    const sdd_eval_t *e = r->heldout ? r->heldout->synth : r->eval;
    int64_t G = r->real->n_cols, shown = G < MAX_GENE_POINTS ? G : MAX_GENE_POINTS;
    double *a = sdd_malloc((size_t)G * sizeof *a + 1), *b = sdd_malloc((size_t)G * sizeof *b + 1);
    double *top = sdd_malloc((size_t)G * sizeof *top + 1), hi = 0;
    int64_t *idx = sdd_malloc((size_t)G * sizeof *idx + 1);
    chart_t c;
    if (!a || !b || !top || !idx) {
        free(a), free(b), free(top), free(idx);
        return SDD_ENOMEM;
    }
    col_means(r->real, a);
    col_means(r->synth, b);
    for (int64_t g = 0; g < G; g++) hi = fmax(hi, fmax(a[g], b[g])), top[g] = fmax(a[g], b[g]), idx[g] = g;
    if (shown < G) { /* the most expressed genes, then back in gene order */
        sort_key = top;
        qsort(idx, (size_t)G, sizeof *idx, by_key_desc);
        qsort(idx, (size_t)shown, sizeof *idx, by_index);
    }
    c.x0 = c.y0 = 0, c.x1 = hi > 0 ? hi : 1;
    nice_range(&c.x0, &c.x1, 4);
    c.y1 = c.x1;
    fprintf(f, "<section id=\"gene-means\"><h2>Gene means</h2>\n<p>Mean log1p-normalised value of each of the "
            "%lld genes in the real (x) and synthetic (y) cells", (long long)G);
    if (shown < G) fprintf(f, " (the %lld most expressed drawn)", (long long)shown);
    fprintf(f, "; on the dashed diagonal a gene is as expressed in both. SCC %.4f, PCC %.4f.</p>\n", e->scc, e->pcc);
    chart_open(f, &c, "gene means", "mean, real cells", "mean, synthetic cells", 1, 0, NULL, 0);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n",
            px_x(&c, 0), px_y(&c, 0), px_x(&c, c.x1), px_y(&c, c.y1));
    fputs("<g fill=\"#1f77b4\" fill-opacity=\"0.55\">\n", f);
    for (int64_t k = 0; k < shown; k++) {
        int64_t g = idx[k];
        fprintf(f, "<circle class=\"gene\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\"><title>", px_x(&c, a[g]), px_y(&c, b[g]));
        esc(f, r->gene_names ? r->gene_names[g] : "");
        fprintf(f, " %.3g / %.3g</title></circle>\n", a[g], b[g]);
    }
    fputs("</g></svg></section>\n", f);
    free(a);
    free(b);
    free(top);
    free(idx);
    return SDD_OK;
}

/* Per-cell zero fractions of X [n x G] (a stored 0 counts as a zero) into zf [n]. */
static void cell_zero_fractions(const sdd_csr_t *X, double *zf)
{
    for (int64_t i = 0; i < X->n_rows; i++) {
        int64_t c = 0;
        for (int64_t p = X->indptr[i]; p < X->indptr[i + 1]; p++) c += X->data[p] != 0;
        zf[i] = X->n_cols > 0 ? 1.0 - (double)c / (double)X->n_cols : 1.0;
    }
}

#define ZF_BINS 40

/* Histogram of the per-cell zero fraction of every cell on each side (the real cells,
 * the synthetic cells and, under the held-out protocol, the training cells of the
 * floor), in ZF_BINS bins over the round range the cells occupy: the evaluation's
 * figures are over [0, 1], where the cells of a sparse data set fill a bin or two. */
static int zero_fraction_section(FILE *f, const sdd_report_t *r)
{
    const sdd_eval_t *e = r->heldout ? r->heldout->synth : r->eval;
    static char *names_heldout[] = {"real (held-out) cells", "synthetic cells", "training cells (floor)"};
    static char *names_plain[] = {"real cells", "synthetic cells"};
    const sdd_csr_t *side[3] = {r->real, r->synth, r->heldout ? r->train : NULL};
    int ns = side[2] ? 3 : 2;
    double *zf[3] = {NULL, NULL, NULL}, hist[3][ZF_BINS], lo = 1, hi = 0, top = 0, w;
    chart_t c;
    int rc = SDD_ENOMEM;
    for (int s = 0; s < ns; s++) {
        if (!(zf[s] = sdd_malloc((size_t)side[s]->n_rows * sizeof *zf[s] + 1))) goto done;
        cell_zero_fractions(side[s], zf[s]);
        for (int64_t i = 0; i < side[s]->n_rows; i++) lo = fmin(lo, zf[s][i]), hi = fmax(hi, zf[s][i]);
    }
    if (hi < lo) lo = 0, hi = 1;
    if (hi - lo < 0.02) lo -= 0.01, hi += 0.01;
    c.x0 = lo, c.x1 = hi;
    nice_range(&c.x0, &c.x1, 5);
    c.x0 = fmax(c.x0, 0), c.x1 = fmin(c.x1, 1);
    w = (c.x1 - c.x0) / ZF_BINS;
    for (int s = 0; s < ns; s++) {
        int64_t n = side[s]->n_rows;
        for (int b = 0; b < ZF_BINS; b++) hist[s][b] = 0;
        for (int64_t i = 0; i < n; i++) {
            int b = (int)floor((zf[s][i] - c.x0) / w);
            hist[s][b < 0 ? 0 : b >= ZF_BINS ? ZF_BINS - 1 : b] += 1.0 / (double)(n > 0 ? n : 1);
        }
        for (int b = 0; b < ZF_BINS; b++) top = fmax(top, hist[s][b]);
    }
    c.y0 = 0, c.y1 = top > 0 ? top : 1;
    nice_range(&c.y0, &c.y1, 4);
    fprintf(f, "<section id=\"zero-fraction\"><h2>Zero fraction per cell</h2>\n<p>Histogram of the fraction of "
            "the %lld genes that are exactly zero in a cell: %lld real%s and %lld synthetic cells", (long long)e->n_genes,
            (long long)side[0]->n_rows, r->heldout ? " (held-out)" : "", (long long)side[1]->n_rows);
    if (ns == 3) fprintf(f, ", and the %lld training cells of the floor", (long long)side[2]->n_rows);
    fprintf(f, "; %d bins between %.2f and %.2f, the share of each side's cells in each. Sparsity: real %.2f%%, "
            "synthetic %.2f%%; W1 distance %.4f.</p>\n", ZF_BINS, c.x0, c.x1, 100 * e->sparsity_real,
            100 * e->sparsity_synth, e->zero_frac_w1);
    chart_open(f, &c, "zero fraction", "zero fraction of the cell", "share of cells", 1, 1, r->heldout ? names_heldout : names_plain, ns);
    for (int s = 0; s < ns; s++) {
        fprintf(f, "<polyline class=\"hist\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", series_colour[s]);
        for (int b = 0; b < ZF_BINS; b++) {
            double y = px_y(&c, hist[s][b]);
            fprintf(f, "%.1f,%.1f %.1f,%.1f ", px_x(&c, c.x0 + b * w), y, px_x(&c, c.x0 + (b + 1) * w), y);
        }
        fputs("\"/>\n", f);
    }
    fputs("</svg></section>\n", f);
    rc = SDD_OK;
done:
    for (int s = 0; s < 3; s++) free(zf[s]);
    return rc;
}

/* ---------------------------------------------- embedding and clusters */

typedef struct {
    sdd_csr_t real, synth;           /* the drawn cells */
    int32_t *real_lab, *synth_lab;   /* their labels, or NULL */
    sdd_embed_t *emb;
    int32_t *cluster;                /* [n] cluster of each pooled cell */
    int n_clusters;
} picture_t;

static void picture_free(picture_t *p)
{
    sdd_csr_free(&p->real);
    sdd_csr_free(&p->synth);
    free(p->real_lab);
    free(p->synth_lab);
    sdd_embed_destroy(p->emb);
    free(p->cluster);
}

/* At most max rows of X (seeded, ascending), with their labels. */
static int draw_rows(const sdd_csr_t *X, const int32_t *lab, int64_t max, sdd_rng_t *rng, sdd_csr_t *out,
                     int32_t **out_lab)
{
    int64_t n = X->n_rows < max ? X->n_rows : max, *rows = sdd_malloc((size_t)n * sizeof *rows + 1);
    int rc;
    if (!rows) return SDD_ENOMEM;
    if ((rc = sdd_subsample_rows(rng, X->n_rows, n, rows)) == 0 && (rc = sdd_csr_select_rows(X, rows, n, out)) == 0 &&
        lab) {
        if (!(*out_lab = sdd_malloc((size_t)n * sizeof **out_lab + 1))) rc = SDD_ENOMEM;
        else
            for (int64_t i = 0; i < n; i++) (*out_lab)[i] = lab[rows[i]];
    }
    free(rows);
    return rc;
}

static int build_picture(const sdd_report_t *r, picture_t *p)
{
    sdd_rng_t rng;
    sdd_pair_t pair;
    sdd_embed_opt_t eo;
    sdd_cluster_opt_t co;
    int rc;
    sdd_rng_seed(&rng, r->seed);
    if ((rc = draw_rows(r->real, r->real_labels, r->max_cells, &rng, &p->real, &p->real_lab)) < 0 ||
        (rc = draw_rows(r->synth, r->synth_labels, r->max_cells, &rng, &p->synth, &p->synth_lab)) < 0)
        return rc;
    memset(&pair, 0, sizeof pair);
    pair.G = r->real->n_cols;
    pair.gene_names = (char **)r->gene_names;
    pair.real = p->real, pair.synth = p->synth; /* shallow: p keeps ownership */
    sdd_embed_opt_init(&eo);
    eo.umap = 1;
    eo.seed = r->seed;
    eo.n_epochs = r->umap_epochs;
    if ((rc = sdd_embed_run(&pair, &eo, NULL, NULL, &p->emb)) < 0) return rc;
    if (!(p->cluster = sdd_malloc((size_t)p->emb->n * sizeof *p->cluster + 1))) return SDD_ENOMEM;
    sdd_cluster_opt_init(&co);
    co.seed = r->seed;
    if (p->emb->n < 2 * co.min_size) co.min_size = 1;
    return sdd_cluster_cells(&p->emb->X, &co, p->cluster, &p->n_clusters);
}

static int umap_section(FILE *f, const sdd_report_t *r, const picture_t *p)
{
    int64_t n = p->emb->n;
    int32_t *source = sdd_malloc((size_t)n * sizeof *source + 1), *lab = NULL;
    char *png = NULL;
    size_t len = 0;
    int rc = SDD_ENOMEM;
    if (!source) return rc;
    for (int64_t i = 0; i < n; i++) source[i] = i >= p->emb->n_real;
    if (p->real_lab && p->synth_lab) {
        if (!(lab = sdd_malloc((size_t)n * sizeof *lab + 1))) goto done;
        memcpy(lab, p->real_lab, (size_t)p->real.n_rows * sizeof *lab);
        memcpy(lab + p->real.n_rows, p->synth_lab, (size_t)p->synth.n_rows * sizeof *lab);
    }
    if ((rc = sdd_plot_render(0, p->emb->umap, n, source, lab, r->label_names, lab ? r->n_labels : 0, "UMAP",
                              &png, &len)) < 0)
        goto done;
    fprintf(f, "<section id=\"umap\"><h2>UMAP of real and synthetic cells</h2>\n<p>%lld real and %lld synthetic "
            "cells in one joint PCA, kNN graph and UMAP layout. Left: coloured by source; right: %s.</p>\n"
            "<img class=\"umap\" alt=\"UMAP of real and synthetic cells\" src=\"data:image/png;base64,",
            (long long)p->real.n_rows, (long long)p->synth.n_rows,
            lab ? "coloured by label" : "the synthetic cells over the real ones (grey)");
    base64(f, (const unsigned char *)png, len);
    fputs("\"></section>\n", f);
    rc = SDD_OK;
done:
    free(source);
    free(lab);
    free(png);
    return rc;
}

/* Per cluster: cells and share of each side, sparsity of each side, PCC of the means. */
static int clusters_section(FILE *f, const picture_t *p)
{
    int K = p->n_clusters;
    int64_t n = p->emb->n, nr = p->emb->n_real, G = p->emb->X.n_cols;
    const sdd_csr_t *X = &p->emb->X;
    int64_t *cnt = sdd_calloc((size_t)K * 2, sizeof *cnt), *nnz = sdd_calloc((size_t)K * 2, sizeof *nnz);
    double *mean = sdd_calloc((size_t)K * 2 * (size_t)G + 1, sizeof *mean), hi = 0;
    if (!cnt || !nnz || !mean) {
        free(cnt), free(nnz), free(mean);
        return SDD_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        int s = i >= nr, c = p->cluster[i];
        double *m = mean + ((size_t)c * 2 + s) * G;
        cnt[2 * c + s]++;
        nnz[2 * c + s] += X->indptr[i + 1] - X->indptr[i];
        for (int64_t q = X->indptr[i]; q < X->indptr[i + 1]; q++) m[X->indices[q]] += X->data[q];
    }
    fprintf(f, "<section id=\"clusters\"><h2>Per cluster</h2>\n<p>Louvain clusters of the %lld real and %lld "
            "synthetic cells pooled (50 PCs, 15 neighbours). A cluster holding a share of the real cells but "
            "almost none of the synthetic ones is a population the generator missed; the reverse, one it "
            "invented.</p>\n<table class=\"metrics\"><thead><tr><th>cluster</th><th>real cells</th>"
            "<th>synthetic cells</th><th>share of real</th><th>share of synthetic</th><th>sparsity real</th>"
            "<th>sparsity synthetic</th><th>PCC of gene means</th></tr></thead><tbody>\n",
            (long long)nr, (long long)(n - nr));
    for (int c = 0; c < K; c++) {
        double sh[2], sp[2], pcc = NAN;
        for (int s = 0; s < 2; s++) {
            int64_t side = s ? n - nr : nr, k = cnt[2 * c + s];
            sh[s] = side > 0 ? (double)k / side : NAN;
            sp[s] = k > 0 ? 1 - (double)nnz[2 * c + s] / ((double)k * G) : NAN;
            for (int64_t g = 0; g < G && k > 0; g++) mean[((size_t)c * 2 + s) * G + g] /= (double)k;
            hi = fmax(hi, isfinite(sh[s]) ? sh[s] : 0);
        }
        if (cnt[2 * c] >= 5 && cnt[2 * c + 1] >= 5)
            pcc = sdd_pearson(mean + (size_t)c * 2 * G, mean + ((size_t)c * 2 + 1) * G, G);
        fprintf(f, "<tr class=\"cluster\"><th>%d</th><td>%lld</td><td>%lld</td>", c, (long long)cnt[2 * c],
                (long long)cnt[2 * c + 1]);
        cell(f, "share_real", "cluster", "%.1f%%", 100, sh[0]);
        cell(f, "share_synth", "cluster", "%.1f%%", 100, sh[1]);
        cell(f, "sparsity_real", "cluster", "%.2f%%", 100, sp[0]);
        cell(f, "sparsity_synth", "cluster", "%.2f%%", 100, sp[1]);
        cell(f, "pcc", "cluster", "%.4f", 1, pcc);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    /* the shares as paired bars, every cluster named under its pair (every k-th when many) */
    {
        static char *names[] = {"share of the real cells", "share of the synthetic cells"};
        double w = (double)(CW - CL - CR) / (K > 0 ? K : 1);
        int every = K > 25 ? (K + 24) / 25 : 1;
        chart_t ch = {0, K > 0 ? K : 1, 0, hi > 0 ? hi : 1, 0};
        nice_range(&ch.y0, &ch.y1, 4);
        chart_open(f, &ch, "cluster shares", "cluster", "share of the side's cells", 0, 1, names, 2);
        for (int c = 0; c < K; c++) {
            if (c % every == 0)
                fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", CL + (c + 0.5) * w,
                        CH - CB + 16, c);
            for (int s = 0; s < 2; s++) {
                int64_t side = s ? n - nr : nr;
                double v = side > 0 ? (double)cnt[2 * c + s] / side : 0, y = px_y(&ch, v);
                fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                        CL + c * w + w * (0.1 + 0.4 * s), y, 0.4 * w, CH - CB - y, series_colour[s]);
            }
        }
        fputs("</svg>", f);
    }
    fputs("</section>\n", f);
    free(cnt);
    free(nnz);
    free(mean);
    return SDD_OK;
}

/* ----------------------------------------------------------------- recipe */

static void json_value(FILE *f, const cJSON *v)
{
    if (cJSON_IsString(v)) esc(f, v->valuestring);
    else if (cJSON_IsBool(v)) fputs(cJSON_IsTrue(v) ? "true" : "false", f);
    else if (cJSON_IsNumber(v)) fprintf(f, "%.10g", v->valuedouble);
    else if (cJSON_IsNull(v)) fputs("n/a", f);
    else if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        const cJSON *c;
        int first = 1;
        cJSON_ArrayForEach(c, v) {
            if (!first) fputs("; ", f);
            first = 0;
            if (c->string) esc(f, c->string), fputs(": ", f);
            json_value(f, c);
        }
    }
}

static void recipe_section(FILE *f, const sdd_report_t *r)
{
    const cJSON *c;
    fputs("<section id=\"recipe\"><h2>Recipe</h2>\n<table class=\"recipe\"><tbody>\n", f);
    if (r->recipe)
        cJSON_ArrayForEach(c, (const cJSON *)r->recipe) {
            fputs("<tr><th>", f);
            esc(f, c->string);
            fputs("</th><td>", f);
            json_value(f, c);
            fputs("</td></tr>\n", f);
        }
    fputs("</tbody></table>\n", f);
    if (r->command) fputs("<pre class=\"command\">", f), esc(f, r->command), fputs("</pre>\n", f);
    fputs("</section>\n", f);
}

/* ------------------------------------------------------------------ page */

static const char style[] =
    "body{font-family:sans-serif;margin:1.5em auto;max-width:1640px;padding:0 1em;color:#222}"
    "h1{margin-bottom:0}.sub{color:#555;margin-top:.2em}nav a{margin-right:1em}"
    "section{margin:1.6em 0}table{border-collapse:collapse}th,td{padding:.25em .7em;border-bottom:1px solid #ddd;"
    "text-align:right}th:first-child{text-align:left}td.note,th.note{text-align:left;color:#555}"
    "table.recipe td{text-align:left}.verdict{font-size:1.1em;background:#f3f6fa;padding:.6em 1em;border-left:4px "
    "solid #1f77b4}img.umap{max-width:100%;border:1px solid #ccc}.charts{display:flex;flex-wrap:wrap;gap:2em}"
    ".charts section{flex:0 1 480px;margin-top:0}"
    "pre{background:#f5f5f5;padding:.6em;white-space:pre-wrap}";

static int page(FILE *f, const sdd_report_t *r, const picture_t *p)
{
    int rc;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>sddcell report", f);
    if (r->title) fputs(": ", f), esc(f, r->title);
    fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>sddcell report</h1>\n", style);
    if (r->title) fputs("<p class=\"sub\">", f), esc(f, r->title), fputs("</p>\n", f);
    fputs("<nav><a href=\"#metrics\">metrics</a><a href=\"#umap\">UMAP</a><a href=\"#clusters\">clusters</a>", f);
    fputs("<a href=\"#gene-means\">gene means</a><a href=\"#zero-fraction\">zero fraction</a>"
          "<a href=\"#recipe\">recipe</a></nav>\n", f);
    summary_section(f, r);
    metrics_section(f, r);
    if ((rc = umap_section(f, r, p)) < 0 || (rc = clusters_section(f, p)) < 0) return rc;
    labels_section(f, r);
    fputs("<div class=\"charts\">\n", f);
    if ((rc = gene_means_section(f, r)) < 0 || (rc = zero_fraction_section(f, r)) < 0) return rc;
    fputs("</div>\n", f);
    recipe_section(f, r);
    fprintf(f, "<footer><p class=\"sub\">sddcell %s</p></footer>\n</body></html>\n", SDD_VERSION);
    return SDD_OK;
}

static int step(sdd_progress_f progress, void *user, int done, const char *what)
{
    if (progress && progress("report", done, 3, what, user)) return sdd_error(SDD_EINTR, "report interrupted");
    return SDD_OK;
}

int sdd_report_html(const sdd_report_t *r, sdd_progress_f progress, void *user, char **html, size_t *len)
{
    picture_t p;
    FILE *f = NULL;
    int rc;
    *html = NULL, *len = 0;
    memset(&p, 0, sizeof p);
    if (!r->real || !r->synth || (!r->eval && !r->heldout))
        return sdd_error(SDD_EINVAL, "report: the cells and their evaluation are needed");
    if (r->real->n_cols != r->synth->n_cols) return sdd_error(SDD_EINVAL, "report: real and synthetic genes differ");
    if (r->max_cells < 10) return sdd_error(SDD_EINVAL, "report: max_cells %lld: must be at least 10", (long long)r->max_cells);
    if ((rc = step(progress, user, 0, "umap")) < 0 || (rc = build_picture(r, &p)) < 0) goto done;
    if ((rc = step(progress, user, 2, "page")) < 0) goto done;
    if (!(f = open_memstream(html, len))) {
        rc = sdd_error(SDD_ENOMEM, "out of memory writing the report");
        goto done;
    }
    rc = page(f, r, &p);
    if (ferror(f) && rc == SDD_OK) rc = sdd_error(SDD_ENOMEM, "out of memory writing the report");
    if (fclose(f) != 0 && rc == SDD_OK) rc = sdd_error(SDD_ENOMEM, "out of memory writing the report");
    if (rc == SDD_OK) rc = step(progress, user, 3, "done");
done:
    picture_free(&p);
    if (rc < 0) {
        free(*html);
        *html = NULL, *len = 0;
    }
    return rc;
}
