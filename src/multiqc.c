/*
 * multiqc.c: the figures of an evaluation as MultiQC custom content, so that a
 * pipeline's MultiQC report shows them without a plugin. MultiQC reads files named
 * *_mqc.json holding one section each:
 *
 *   general statistics  {"id", "plot_type": "generalstats", "pconfig": [{COL: {title,
 *                        description, namespace, min, max, scale, format, suffix}}, ...],
 *                        "data": {SAMPLE: {COL: value}}}
 *   table section       {"id", "section_name", "section_anchor", "description",
 *                        "plot_type": "table", "pconfig": {"id", "title", "col1_header"},
 *                        "headers": {COL: {...}}, "data": {SAMPLE: {COL: value}}}
 *
 * (MultiQC's custom_content module: general statistics take their columns from pconfig,
 * tables from headers. The module's anchor is section_anchor, else the id, and its one
 * section's anchor the id: without a section_anchor of its own the two anchors clash and
 * `multiqc --lint` fails.) Sections with the same id from several runs merge into one table
 * with a row per sample. Under the held-out protocol the table puts the floor beside each
 * figure; undefined figures (NaN) are left out of a row.
 */
#include "sdd_internal.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

enum { SIDE_SYNTH, SIDE_FLOOR, SIDE_MEM, SIDE_CELLS };

typedef struct {
    const char *col, *title, *description;
    int side;                 /* where the value comes from */
    size_t off;               /* field of sdd_eval_t (SIDE_SYNTH, SIDE_FLOOR) */
    double scale, min, max;   /* value * scale; max < min: no fixed range */
    const char *colours, *format, *suffix;
    int general;              /* also a general-statistics column */
} column_t;

#define F(k) offsetof(sdd_eval_t, k)
static const column_t columns[] = {
    {"cells", "Cells", "cells a side in the comparison", SIDE_CELLS, 0, 1, 0, -1, "Blues", "{:,.0f}", "", 0},
    {"sparsity_real", "Real zeros", "fraction of exact zeros in the real (held-out) cells", SIDE_SYNTH,
     F(sparsity_real), 100, 0, 100, "Greys", "{:,.2f}", "%", 0},
    {"sparsity_synth", "Synthetic zeros", "fraction of exact zeros in the synthetic cells", SIDE_SYNTH,
     F(sparsity_synth), 100, 0, 100, "Greys", "{:,.2f}", "%", 1},
    {"zero_frac_w1", "Zero-fraction W1", "W1 distance of the per-cell zero fractions (0 = same)", SIDE_SYNTH,
     F(zero_frac_w1), 1, 0, -1, "RdYlGn-rev", "{:,.4f}", "", 0},
    {"scc", "SCC", "Spearman correlation of the gene means, synthetic vs real (1 = same ranking)", SIDE_SYNTH,
     F(scc), 1, 0, 1, "RdYlGn", "{:,.4f}", "", 1},
    {"scc_floor", "SCC floor", "the same for training cells vs the held-out cells", SIDE_FLOOR, F(scc), 1, 0, 1,
     "RdYlGn", "{:,.4f}", "", 0},
    {"pcc", "PCC", "Pearson correlation of the gene means (1 = same means)", SIDE_SYNTH, F(pcc), 1, 0, 1, "RdYlGn",
     "{:,.4f}", "", 0},
    {"pcc_floor", "PCC floor", "the same for training cells vs the held-out cells", SIDE_FLOOR, F(pcc), 1, 0, 1,
     "RdYlGn", "{:,.4f}", "", 0},
    {"mmd", "MMD", "maximum mean discrepancy on 50 joint PCs (0 = same distribution)", SIDE_SYNTH, F(mmd), 1, 0, -1,
     "RdYlGn-rev", "{:,.4f}", "", 1},
    {"mmd_floor", "MMD floor", "the same for training cells vs the held-out cells", SIDE_FLOOR, F(mmd), 1, 0, -1,
     "RdYlGn-rev", "{:,.4f}", "", 0},
    {"lisi_scaled", "LISI", "scaled median LISI of real/synthetic (1 = fully mixed)", SIDE_SYNTH, F(lisi_scaled), 1, 0,
     1, "RdYlGn", "{:,.4f}", "", 0},
    {"lisi_scaled_floor", "LISI floor", "the same for training cells vs the held-out cells", SIDE_FLOOR,
     F(lisi_scaled), 1, 0, 1, "RdYlGn", "{:,.4f}", "", 0},
    {"knn_auc", "kNN AUC", "ROC AUC of a 5-NN classifier telling synthetic from real (0.5 = indistinguishable)",
     SIDE_SYNTH, F(knn_auc), 1, 0.5, 1, "RdYlGn-rev", "{:,.3f}", "", 1},
    {"knn_auc_floor", "kNN AUC floor", "the same for training cells vs the held-out cells", SIDE_FLOOR, F(knn_auc),
     1, 0.5, 1, "RdYlGn-rev", "{:,.3f}", "", 0},
    {"memorisation", "Memorisation", "share of synthetic cells nearest to a training cell (0.5 = no copying, "
     "1 = copies)", SIDE_MEM, 0, 1, 0.5, 1, "RdYlGn-rev", "{:,.3f}", "", 1},
};
#undef F
#define N_COLUMNS ((int)(sizeof columns / sizeof columns[0]))

/* The column's value for r, or NaN when it has none (no floor without held-out cells). */
static double value(const column_t *c, const sdd_report_t *r)
{
    const sdd_heldout_eval_t *h = r->heldout;
    const sdd_eval_t *e = h ? h->synth : r->eval;
    switch (c->side) {
    case SIDE_SYNTH: return c->scale * *(const double *)((const char *)e + c->off);
    case SIDE_FLOOR: return h ? c->scale * *(const double *)((const char *)h->floor + c->off) : NAN;
    case SIDE_MEM: return h ? h->memorisation : NAN;
    default: return h ? (double)h->m : (double)e->n_sub;
    }
}

static cJSON *header(const column_t *c, int general)
{
    cJSON *h = cJSON_CreateObject();
    if (!h) return NULL;
    cJSON_AddStringToObject(h, "title", c->title);
    cJSON_AddStringToObject(h, "description", c->description);
    if (general) cJSON_AddStringToObject(h, "namespace", "sddcell");
    cJSON_AddNumberToObject(h, "min", c->min);
    if (c->max >= c->min) cJSON_AddNumberToObject(h, "max", c->max);
    cJSON_AddStringToObject(h, "scale", c->colours);
    cJSON_AddStringToObject(h, "format", c->format);
    if (*c->suffix) cJSON_AddStringToObject(h, "suffix", c->suffix);
    return h;
}

/* One file's JSON: general (1) or table (0). */
static cJSON *section(const sdd_report_t *r, const char *sample, int general)
{
    cJSON *o = cJSON_CreateObject(), *pc, *heads, *data, *row;
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", general ? "sddcell_general_stats" : "sddcell_metrics");
    if (!general) {
        cJSON_AddStringToObject(o, "section_name", "sddcell: synthetic cells");
        cJSON_AddStringToObject(o, "section_anchor", "sddcell");
        cJSON_AddStringToObject(o, "description", r->heldout ?
            "Synthetic cells against real cells the model never saw (held out before training), beside the "
            "floor: as many training cells against the same held-out cells, what a perfect generator reaches." :
            "Synthetic cells against real cells.");
    }
    cJSON_AddStringToObject(o, "plot_type", general ? "generalstats" : "table");
    if (general) {
        pc = cJSON_AddArrayToObject(o, "pconfig");
        heads = NULL;
    } else {
        pc = cJSON_AddObjectToObject(o, "pconfig");
        if (pc) {
            cJSON_AddStringToObject(pc, "id", "sddcell_metrics_table");
            cJSON_AddStringToObject(pc, "title", "sddcell: synthetic cells");
            cJSON_AddStringToObject(pc, "col1_header", "Sample");
        }
        heads = cJSON_AddObjectToObject(o, "headers");
    }
    data = cJSON_AddObjectToObject(o, "data");
    row = data ? cJSON_AddObjectToObject(data, sample) : NULL;
    if (!pc || (!general && !heads) || !row) goto fail;
    for (int k = 0; k < N_COLUMNS; k++) {
        const column_t *c = &columns[k];
        double v = value(c, r);
        cJSON *h;
        if ((general && !c->general) || !isfinite(v)) continue;
        if (!(h = header(c, general))) goto fail;
        if (general) {
            cJSON *item = cJSON_CreateObject();
            if (!item) {
                cJSON_Delete(h);
                goto fail;
            }
            cJSON_AddItemToObject(item, c->col, h);
            cJSON_AddItemToArray(pc, item);
        } else {
            cJSON_AddItemToObject(heads, c->col, h);
        }
        if (!cJSON_AddNumberToObject(row, c->col, v)) goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

int sdd_multiqc_json(const sdd_report_t *r, const char *sample, char **general, char **table)
{
    cJSON *g = NULL, *t = NULL;
    *general = *table = NULL;
    if (!r->eval && !r->heldout) return sdd_error(SDD_EINVAL, "MultiQC: no evaluation given");
    if (!sample || !*sample) return sdd_error(SDD_EINVAL, "MultiQC: the sample name is empty");
    if ((g = section(r, sample, 1)) && (t = section(r, sample, 0))) {
        *general = cJSON_Print(g);
        *table = cJSON_Print(t);
    }
    cJSON_Delete(g);
    cJSON_Delete(t);
    if (*general && *table) return SDD_OK;
    free(*general);
    free(*table);
    *general = *table = NULL;
    return sdd_error(SDD_ENOMEM, "out of memory building the MultiQC files");
}
