/*
 * cli_evaluate.c: `sddcell evaluate REAL SYNTH [--train TRAIN]`. Loads both sides into
 * SYNTH's gene space (sdd_pair_load), runs the metrics of doc/method.md §8 (sdd_evaluate) or,
 * with the training cells, the held-out protocol (sdd_pair_load_train,
 * sdd_evaluate_heldout: REAL is then the held-out cells), prints a table on stdout and,
 * with --json, writes every figure to a JSON file (temporary name, then rename, so a
 * failed run leaves no file). The JSON builders are shared with `simulate`.
 */
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* NaN (undefined metric) becomes JSON null. */
static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

int cli_pair_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_pair_opt_t *po)
{
    switch (c) {
    case 'l': po->label_key = arg; return 0;
    case 'r': po->real_normalized = 1; return 0;
    default: return cli_num_option(ctx, c, arg, SDD_OPTS_PAIR, po);
    }
}

cJSON *cli_eval_json(const sdd_eval_t *e, const char *label_key)
{
    cJSON *o = cJSON_CreateObject(), *pl;
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "n_real", (double)e->n_real);
    cJSON_AddNumberToObject(o, "n_synth", (double)e->n_synth);
    cJSON_AddNumberToObject(o, "n_genes", (double)e->n_genes);
    cJSON_AddNumberToObject(o, "n_sub", (double)e->n_sub);
    cJSON_AddNumberToObject(o, "n_pcs", e->n_pcs);
    add_num(o, "sparsity_real", e->sparsity_real);
    add_num(o, "sparsity_synth", e->sparsity_synth);
    add_num(o, "zero_frac_w1", e->zero_frac_w1);
    cJSON_AddItemToObject(o, "zero_hist_real", cJSON_CreateDoubleArray(e->zero_hist_real, e->hist_bins));
    cJSON_AddItemToObject(o, "zero_hist_synth", cJSON_CreateDoubleArray(e->zero_hist_synth, e->hist_bins));
    add_num(o, "scc", e->scc);
    add_num(o, "pcc", e->pcc);
    add_num(o, "mmd", e->mmd);
    add_num(o, "mmd_bandwidth", e->mmd_bandwidth);
    add_num(o, "lisi", e->lisi);
    add_num(o, "lisi_scaled", e->lisi_scaled);
    add_num(o, "knn_auc", e->knn_auc);
    if (label_key) cJSON_AddStringToObject(o, "label_key", label_key);
    pl = cJSON_AddObjectToObject(o, "per_label");
    for (int l = 0; pl && l < e->n_labels; l++) {
        const sdd_eval_label_t *L = &e->per_label[l];
        cJSON *x = cJSON_AddObjectToObject(pl, L->name);
        if (!x) continue;
        cJSON_AddNumberToObject(x, "n_real", (double)L->n_real);
        cJSON_AddNumberToObject(x, "n_synth", (double)L->n_synth);
        add_num(x, "sparsity_real", L->sparsity_real);
        add_num(x, "sparsity_synth", L->sparsity_synth);
        add_num(x, "scc", L->scc);
        add_num(x, "pcc", L->pcc);
        add_num(x, "lfc_pcc", L->lfc_pcc);
        cJSON_AddNumberToObject(x, "lfc_genes_tested", (double)L->n_tested);
        add_num(x, "lfc_pcc_markers", L->lfc_pcc_markers);
        add_num(x, "mmd", L->mmd);
        cJSON_AddNumberToObject(x, "n_sub_real", (double)L->n_sub_real);
        cJSON_AddNumberToObject(x, "n_sub_synth", (double)L->n_sub_synth);
    }
    return o;
}

cJSON *cli_heldout_json(const sdd_heldout_eval_t *h, const char *label_key, char *const *heldout_names,
                        int64_t n_names)
{
    cJSON *o = cli_eval_json(h->synth, label_key), *c, *m, *names;
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "evaluated_against", "heldout");
    c = cJSON_AddObjectToObject(o, "cells");
    if (c) {
        cJSON_AddNumberToObject(c, "heldout", (double)h->n_heldout);
        cJSON_AddNumberToObject(c, "synthetic", (double)h->n_synth);
        cJSON_AddNumberToObject(c, "training", (double)h->n_train);
        cJSON_AddNumberToObject(c, "m", (double)h->m);
    }
    cJSON_AddItemToObject(o, "synthetic_vs_heldout", cli_eval_json(h->synth, label_key));
    cJSON_AddItemToObject(o, "training_vs_heldout", cli_eval_json(h->floor, label_key));
    m = cJSON_AddObjectToObject(o, "memorisation");
    if (m) {
        add_num(m, "share_nearest_training", h->memorisation);
        cJSON_AddNumberToObject(m, "no_copying", 0.5);
        cJSON_AddNumberToObject(m, "n_per_side", (double)h->mem_n);
        cJSON_AddNumberToObject(m, "n_pcs", h->mem_pcs);
    }
    if (h->n_clusters > 0 && (m = cJSON_AddObjectToObject(o, "clusters"))) {
        cJSON *pc = cJSON_AddArrayToObject(m, "per_cluster");
        cJSON_AddNumberToObject(m, "n_clusters", h->n_clusters);
        cJSON_AddNumberToObject(m, "n_per_side", (double)h->cluster_cells);
        add_num(m, "share_tvd", h->cluster_tvd);
        add_num(m, "share_tvd_floor", h->cluster_tvd_floor);
        add_num(m, "purity_heldout", h->purity_heldout);
        add_num(m, "purity_synthetic", h->purity_synth);
        add_num(m, "purity_training", h->purity_train);
        for (int c = 0; pc && c < h->n_clusters; c++) {
            cJSON *x = cJSON_CreateObject();
            if (!x) break;
            cJSON_AddNumberToObject(x, "heldout", h->cluster_share[c]);
            cJSON_AddNumberToObject(x, "synthetic", h->cluster_share[h->n_clusters + c]);
            cJSON_AddNumberToObject(x, "training", h->cluster_share[2 * h->n_clusters + c]);
            cJSON_AddItemToArray(pc, x);
        }
    }
    if (heldout_names && (names = cJSON_AddArrayToObject(o, "heldout_cells")))
        for (int64_t i = 0; i < n_names; i++)
            cJSON_AddItemToArray(names, cJSON_CreateString(heldout_names[i] ? heldout_names[i] : ""));
    return o;
}

static cJSON *counts_side(const sdd_counts_eval_t *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "n_real", (double)c->n_real);
    cJSON_AddNumberToObject(o, "n_synth", (double)c->n_synth);
    add_num(o, "library_size_ks", c->lib_ks);
    add_num(o, "library_size_median_real", c->lib_median_real);
    add_num(o, "library_size_median_synth", c->lib_median_synth);
    add_num(o, "mean_var_pcc", c->mean_var_pcc);
    add_num(o, "mean_var_offset_log10", c->mean_var_offset);
    cJSON_AddNumberToObject(o, "mean_var_bins", c->mean_var_bins);
    add_num(o, "gene_log_var_pcc", c->gene_log_var_pcc);
    add_num(o, "zero_frac_pcc", c->zero_frac_pcc);
    add_num(o, "zero_frac_mae", c->zero_frac_mae);
    return o;
}

cJSON *cli_counts_json(const sdd_counts_eval_t *c, const sdd_counts_eval_t *floor)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddItemToObject(o, "synthetic", counts_side(c));
    if (floor) cJSON_AddItemToObject(o, "floor", counts_side(floor));
    return o;
}

void cli_counts_summary(const cli_ctx_t *ctx, const sdd_counts_eval_t *c, const sdd_counts_eval_t *f)
{
    if (ctx->quiet) return;
    if (f)
        fprintf(stderr,
                "[M::%s] counts: library size KS %.4f (floor %.4f), median %.0f vs real %.0f; mean-variance "
                "PCC %.4f (floor %.4f), offset %+.3f log10; per-gene zero fraction PCC %.4f (floor %.4f) "
                "MAE %.4f (floor %.4f)\n",
                ctx->cmd, c->lib_ks, f->lib_ks, c->lib_median_synth, c->lib_median_real, c->mean_var_pcc,
                f->mean_var_pcc, c->mean_var_offset, c->zero_frac_pcc, f->zero_frac_pcc, c->zero_frac_mae,
                f->zero_frac_mae);
    else
        fprintf(stderr,
                "[M::%s] counts: library size KS %.4f, median %.0f vs real %.0f; mean-variance PCC %.4f, "
                "offset %+.3f log10; per-gene zero fraction PCC %.4f MAE %.4f\n",
                ctx->cmd, c->lib_ks, c->lib_median_synth, c->lib_median_real, c->mean_var_pcc,
                c->mean_var_offset, c->zero_frac_pcc, c->zero_frac_mae);
}

void cli_heldout_summary(const cli_ctx_t *ctx, const sdd_heldout_eval_t *h, double seconds)
{
    const sdd_eval_t *e = h->synth, *f = h->floor;
    if (ctx->quiet) return;
    fprintf(stderr,
            "[M::%s] against %lld held-out cells (floor: as many training cells): sparsity real "
            "%.2f%% synthetic %.2f%% (floor %.2f%%); SCC %.4f (floor %.4f) PCC %.4f (floor %.4f) "
            "MMD %.4f (floor %.4f) LISI scaled %.4f (floor %.4f) kNN AUC %.4f (floor %.4f); "
            "memorisation %.3f (0.5 = no copying); %d held-out clusters: share distance %.3f (floor %.3f), "
            "purity %.3f (floor %.3f, held-out %.3f)",
            ctx->cmd, (long long)h->m, 100 * e->sparsity_real, 100 * e->sparsity_synth,
            100 * f->sparsity_synth, e->scc, f->scc, e->pcc, f->pcc, e->mmd, f->mmd, e->lisi_scaled,
            f->lisi_scaled, e->knn_auc, f->knn_auc, h->memorisation, h->n_clusters, h->cluster_tvd,
            h->cluster_tvd_floor, h->purity_synth, h->purity_train, h->purity_heldout);
    if (seconds >= 0) fprintf(stderr, "; %.1f s", seconds);
    fputc('\n', stderr);
}

static cJSON *result_json(const sdd_eval_t *e, const sdd_pair_t *p, const char *real, const char *synth,
                          const char *label_key, uint64_t seed)
{
    cJSON *o = cli_eval_json(e, label_key);
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "real", real);
    cJSON_AddStringToObject(o, "synth", synth);
    cJSON_AddNumberToObject(o, "n_synth_genes", (double)p->n_synth_genes);
    cJSON_AddNumberToObject(o, "seed", (double)seed);
    return o;
}

/* One row of the table: the value, and the floor's beside it when there is one. */
static void row(const char *name, const char *fmt, double v, const sdd_eval_t *f, double fv)
{
    printf("%-28s ", name);
    printf(fmt, v);
    if (f) printf(" "), printf(fmt, fv);
    putchar('\n');
}

/* The figures (e: REAL vs SYNTH), with the floor f (REAL vs TRAIN, may be NULL) beside. */
static void print_table(const sdd_eval_t *e, const sdd_eval_t *f)
{
    printf("%-28s %12s%s\n", "metric", "value", f ? "        floor" : "");
    row("cells real", "%12.0f", (double)e->n_real, f, f ? (double)f->n_real : 0);
    row(f ? "cells synthetic (training)" : "cells synthetic", "%12.0f", (double)e->n_synth, f,
        f ? (double)f->n_synth : 0);
    row("genes", "%12.0f", (double)e->n_genes, f, f ? (double)f->n_genes : 0);
    row("subsample per side", "%12.0f", (double)e->n_sub, f, f ? (double)f->n_sub : 0);
    printf("%-28s %11.2f%%%s", "sparsity real", 100 * e->sparsity_real, f ? "" : "\n");
    if (f) printf(" %11.2f%%\n", 100 * f->sparsity_real);
    printf("%-28s %11.2f%%%s", "sparsity synthetic", 100 * e->sparsity_synth, f ? "" : "\n");
    if (f) printf(" %11.2f%%\n", 100 * f->sparsity_synth);
    row("zero-fraction W1 distance", "%12.4f", e->zero_frac_w1, f, f ? f->zero_frac_w1 : 0);
    row("SCC (gene means)", "%12.4f", e->scc, f, f ? f->scc : 0);
    row("PCC (gene means)", "%12.4f", e->pcc, f, f ? f->pcc : 0);
    row("MMD", "%12.4f", e->mmd, f, f ? f->mmd : 0);
    row("LISI (median)", "%12.4f", e->lisi, f, f ? f->lisi : 0);
    row("LISI scaled", "%12.4f", e->lisi_scaled, f, f ? f->lisi_scaled : 0);
    row("kNN AUC", "%12.4f", e->knn_auc, f, f ? f->knn_auc : 0);
    if (e->n_labels > 0) {
        printf("\n%-20s %7s %7s %8s %8s %7s %7s %7s %7s %7s\n", "label", "n_real", "n_synth", "sp_real",
               "sp_synth", "SCC", "PCC", "LFC_PCC", "LFC_MRK", "MMD");
        for (int l = 0; l < e->n_labels; l++) {
            const sdd_eval_label_t *L = &e->per_label[l];
            printf("%-20.20s %7lld %7lld %7.2f%% %7.2f%% %7.4f %7.4f %7.4f %7.4f %7.4f\n", L->name,
                   (long long)L->n_real, (long long)L->n_synth, 100 * L->sparsity_real,
                   100 * L->sparsity_synth, L->scc, L->pcc, L->lfc_pcc, L->lfc_pcc_markers, L->mmd);
        }
    }
}

/* The options of this run, shown as the report's recipe. */
static cJSON *eval_recipe(const char *const *paths, const sdd_pair_opt_t *po, const sdd_eval_opt_t *eo)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "real", paths[0]);
    cJSON_AddStringToObject(o, "synthetic", paths[1]);
    if (paths[2]) cJSON_AddStringToObject(o, "train", paths[2]);
    if (po->label_key) cJSON_AddStringToObject(o, "label", po->label_key);
    cJSON_AddStringToObject(o, "real_values", po->real_normalized ? "log1p-normalised as given" : "raw counts, normalised");
    if (!po->real_normalized) cJSON_AddNumberToObject(o, "target_sum", po->target_sum);
    cJSON_AddNumberToObject(o, "n_sub", (double)eo->n_sub);
    cJSON_AddNumberToObject(o, "n_pcs", eo->n_pcs);
    cJSON_AddNumberToObject(o, "seed", (double)eo->seed);
    return o;
}

/* The report and MultiQC texts of the evaluation (nothing is written yet). */
static int build_report(cli_ctx_t *ctx, const cli_report_opt_t *ro, const char *const *paths, const sdd_pair_t *p,
                        const sdd_pair_opt_t *po, const sdd_eval_opt_t *eo, const sdd_eval_t *e,
                        const sdd_heldout_eval_t *h, cli_report_built_t *b)
{
    sdd_report_t r;
    char title[1024];
    sdd_report_init(&r);
    snprintf(title, sizeof title, "%s against %s%s%s", paths[1], paths[0], paths[2] ? ", trained on " : "",
             paths[2] ? paths[2] : "");
    r.title = title;
    r.eval = e, r.heldout = h;
    r.real = &p->real, r.synth = &p->synth, r.gene_names = p->gene_names;
    r.train = h ? &p->train : NULL;
    r.real_labels = p->real_labels, r.synth_labels = p->synth_labels;
    r.label_names = p->label_names, r.n_labels = p->n_labels, r.label_key = po->label_key;
    r.seed = eo->seed;
    return cli_report_build(ctx, ro, &r, eval_recipe(paths, po, eo), b);
}

/* REAL vs SYNTH, or with TRAIN the held-out protocol; the table, then the JSON file, the
 * report and the MultiQC files. */
static int run(cli_ctx_t *ctx, const char *const *paths, const sdd_pair_opt_t *po, const sdd_eval_opt_t *eo,
               const char *json, int counts, const cli_report_opt_t *ro)
{
    sdd_counts_eval_t ce, cf;
    sdd_pair_t *p = NULL;
    sdd_eval_t *e = NULL;
    sdd_heldout_eval_t *h = NULL;
    cli_report_built_t b;
    cJSON *o = NULL;
    int rc;
    memset(&b, 0, sizeof b);
    if ((rc = sdd_pair_load(paths[0], paths[1], po, &p)) < 0 ||
        (paths[2] && (rc = sdd_pair_load_train(p, paths[2], po)) < 0))
        goto fail;
    if (paths[2])
        rc = sdd_evaluate_heldout(&p->real, &p->synth, &p->train, p->real_labels, p->synth_labels,
                                  p->train_labels, p->label_names, p->n_labels, eo, cli_progress, ctx, &h);
    else
        rc = sdd_evaluate(&p->real, &p->synth, p->real_labels, p->synth_labels, p->label_names, p->n_labels,
                          eo, cli_progress, ctx, &e);
    if (rc < 0) goto fail;
    if (counts && ((rc = sdd_pair_load_counts(p, paths[0], paths[1], paths[2], po)) < 0 ||
                   (rc = sdd_counts_evaluate(&p->real_counts, &p->synth_counts, &ce)) < 0 ||
                   (paths[2] && (rc = sdd_counts_evaluate(&p->real_counts, &p->train_counts, &cf)) < 0)))
        goto fail;
    print_table(h ? h->synth : e, h ? h->floor : NULL);
    if (h) printf("%-28s %12.4f   (0.5 = no copying, 1 = copies)\n", "memorisation", h->memorisation);
    fflush(stdout);
    if (h) cli_heldout_summary(ctx, h, -1);
    if (counts) cli_counts_summary(ctx, &ce, paths[2] ? &cf : NULL);
    if ((ro->html || ro->multiqc_dir) && (rc = build_report(ctx, ro, paths, p, po, eo, e, h, &b)) != CLI_OK)
        goto done;
    rc = CLI_OK;
    if (json) {
        o = h ? cli_heldout_json(h, po->label_key, NULL, 0) : result_json(e, p, paths[0], paths[1], po->label_key, eo->seed);
        if (o && h) {
            cJSON_AddStringToObject(o, "real", paths[0]);
            cJSON_AddStringToObject(o, "synth", paths[1]);
            cJSON_AddStringToObject(o, "train", paths[2]);
            cJSON_AddNumberToObject(o, "n_synth_genes", (double)p->n_synth_genes);
            cJSON_AddNumberToObject(o, "seed", (double)eo->seed);
        }
        if (o && counts) cJSON_AddItemToObject(o, "counts", cli_counts_json(&ce, paths[2] ? &cf : NULL));
        rc = o ? cli_write_json(ctx, json, o) : cli_error(ctx, "out of memory");
    }
    if (rc == CLI_OK && (rc = cli_report_write(ctx, ro, &b)) != CLI_OK && json) unlink(json);
done:
    cli_report_built_free(&b);
    cJSON_Delete(o);
    sdd_heldout_eval_destroy(h);
    sdd_eval_destroy(e);
    sdd_pair_destroy(p);
    return rc;
fail:
    sdd_pair_destroy(p);
    sdd_heldout_eval_destroy(h);
    sdd_eval_destroy(e);
    return cli_lib_error(ctx, rc);
}

int cli_evaluate_main(int argc, char **argv, cli_ctx_t *ctx)
{
    static struct option longopts[CLI_MAX_LONGOPTS];
    static const struct option own[] = {
        {"json", required_argument, NULL, 'j'}, {"label", required_argument, NULL, 'l'},
        {"real-normalized", no_argument, NULL, 'r'}, {"train", required_argument, NULL, 'T'},
        {"counts", no_argument, NULL, 'c'},
        {"report", required_argument, NULL, 'R'}, {"multiqc", required_argument, NULL, 'Q'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    sdd_pair_opt_t po;
    sdd_eval_opt_t eo;
    const char *json = NULL, *paths[3] = {NULL, NULL, NULL};
    cli_report_opt_t ro = {NULL, NULL, NULL, 0};
    int c, rc, counts = 0, n = 0;

    cli_add_longopts(longopts, &n, own);
    cli_num_longopts(longopts, &n, SDD_OPTS_EVAL, NULL); /* --n-sub */
    cli_num_longopts(longopts, &n, SDD_OPTS_PAIR, NULL); /* --target-sum */

    sdd_pair_opt_init(&po);
    sdd_eval_opt_init(&eo);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = optarg; break;
        case 'T': paths[2] = optarg; break;
        case 'c': counts = 1; break;
        case 'R': ro.html = optarg; break;
        case 'Q': ro.multiqc_dir = optarg; break;
        case 'h': return cli_print_usage(ctx, stdout);
        case ':': return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        default:
            if ((rc = cli_pair_option(ctx, c, optarg, &po)) > 0) rc = cli_num_option(ctx, c, optarg, SDD_OPTS_EVAL, &eo);
            if (rc < 0) return CLI_FAIL;
            if (rc > 0) return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(ctx, "expected REAL and SYNTH, got %d argument%s", argc - optind,
                               argc - optind == 1 ? "" : "s");
    eo.seed = ctx->seed;
    if ((rc = sdd_eval_opt_check(&eo)) < 0) return cli_lib_error(ctx, rc);
    paths[0] = argv[optind];
    paths[1] = argv[optind + 1];
    if (counts && po.real_normalized) return cli_usage_error(ctx, "--counts compares raw counts: drop --real-normalized");
    ro.sample = paths[1];
    if (cli_report_check(ctx, &ro) != CLI_OK) return CLI_FAIL;
    if ((rc = run(ctx, paths, &po, &eo, json, counts, &ro)) != CLI_OK) cli_report_abandon(&ro);
    return rc;
}
