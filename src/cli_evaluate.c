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

#define N_OF(t) (sizeof t / sizeof *t)

/* The JSON layouts of the evaluation results (undefined metrics, NaN, become null). */
#define E(key, kind, field) SDD_JF(key, kind, sdd_eval_t, field)
static const sdd_json_field_t eval_fields[] = {
    E("n_real", I64, n_real), E("n_synth", I64, n_synth), E("n_genes", I64, n_genes), E("n_sub", I64, n_sub),
    E("n_pcs", INT, n_pcs), E("sparsity_real", DBL, sparsity_real), E("sparsity_synth", DBL, sparsity_synth),
    E("zero_frac_w1", DBL, zero_frac_w1), E("scc", DBL, scc), E("pcc", DBL, pcc), E("mmd", DBL, mmd),
    E("mmd_bandwidth", DBL, mmd_bandwidth), E("lisi", DBL, lisi), E("lisi_scaled", DBL, lisi_scaled),
    E("knn_auc", DBL, knn_auc)};
#undef E
#define L(key, kind, field) SDD_JF(key, kind, sdd_eval_label_t, field)
static const sdd_json_field_t label_fields[] = {
    L("n_real", I64, n_real), L("n_synth", I64, n_synth), L("sparsity_real", DBL, sparsity_real),
    L("sparsity_synth", DBL, sparsity_synth), L("scc", DBL, scc), L("pcc", DBL, pcc), L("lfc_pcc", DBL, lfc_pcc),
    L("lfc_genes_tested", I64, n_tested), L("lfc_pcc_markers", DBL, lfc_pcc_markers), L("mmd", DBL, mmd),
    L("n_sub_real", I64, n_sub_real), L("n_sub_synth", I64, n_sub_synth)};
#undef L
#define H(key, kind, field) SDD_JF(key, kind, sdd_heldout_eval_t, field)
static const sdd_json_field_t cells_fields[] = {
    H("heldout", I64, n_heldout), H("synthetic", I64, n_synth), H("training", I64, n_train), H("m", I64, m)};
static const sdd_json_field_t mem_fields[] = {
    H("share_nearest_training", DBL, memorisation), H("n_per_side", I64, mem_n), H("n_pcs", INT, mem_pcs)};
static const sdd_json_field_t cluster_fields[] = {
    H("n_clusters", INT, n_clusters), H("n_per_side", I64, cluster_cells), H("share_tvd", DBL, cluster_tvd),
    H("share_tvd_floor", DBL, cluster_tvd_floor), H("purity_heldout", DBL, purity_heldout),
    H("purity_synthetic", DBL, purity_synth), H("purity_training", DBL, purity_train)};
#undef H
#define C(key, kind, field) SDD_JF(key, kind, sdd_counts_eval_t, field)
static const sdd_json_field_t counts_fields[] = {
    C("n_real", I64, n_real), C("n_synth", I64, n_synth), C("library_size_ks", DBL, lib_ks),
    C("library_size_median_real", DBL, lib_median_real), C("library_size_median_synth", DBL, lib_median_synth),
    C("mean_var_pcc", DBL, mean_var_pcc), C("mean_var_offset_log10", DBL, mean_var_offset),
    C("mean_var_bins", INT, mean_var_bins), C("gene_log_var_pcc", DBL, gene_log_var_pcc),
    C("zero_frac_pcc", DBL, zero_frac_pcc), C("zero_frac_mae", DBL, zero_frac_mae)};
#undef C

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
    if (sdd_json_add_fields(o, e, eval_fields, N_OF(eval_fields)) < 0) return cJSON_Delete(o), NULL;
    cJSON_AddItemToObject(o, "zero_hist_real", cJSON_CreateDoubleArray(e->zero_hist_real, e->hist_bins));
    cJSON_AddItemToObject(o, "zero_hist_synth", cJSON_CreateDoubleArray(e->zero_hist_synth, e->hist_bins));
    if (label_key) cJSON_AddStringToObject(o, "label_key", label_key);
    pl = cJSON_AddObjectToObject(o, "per_label");
    for (int l = 0; pl && l < e->n_labels; l++)
        sdd_json_add_fields(cJSON_AddObjectToObject(pl, e->per_label[l].name), &e->per_label[l], label_fields,
                            N_OF(label_fields));
    return o;
}

cJSON *cli_heldout_json(const sdd_heldout_eval_t *h, const char *label_key, char *const *heldout_names,
                        int64_t n_names)
{
    cJSON *o = cli_eval_json(h->synth, label_key), *m, *names;
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "evaluated_against", "heldout");
    sdd_json_add_fields(cJSON_AddObjectToObject(o, "cells"), h, cells_fields, N_OF(cells_fields));
    cJSON_AddItemToObject(o, "synthetic_vs_heldout", cli_eval_json(h->synth, label_key));
    cJSON_AddItemToObject(o, "training_vs_heldout", cli_eval_json(h->floor, label_key));
    if ((m = cJSON_AddObjectToObject(o, "memorisation"))) {
        sdd_json_add_fields(m, h, mem_fields, N_OF(mem_fields));
        cJSON_AddNumberToObject(m, "no_copying", 0.5);
    }
    if (h->n_clusters > 0 && (m = cJSON_AddObjectToObject(o, "clusters"))) {
        cJSON *pc = cJSON_AddArrayToObject(m, "per_cluster");
        sdd_json_add_fields(m, h, cluster_fields, N_OF(cluster_fields));
        for (int c = 0; pc && c < h->n_clusters; c++) {
            cJSON *x = cJSON_CreateObject();
            if (!x) break;
            for (int side = 0; side < 3; side++)
                cJSON_AddNumberToObject(x, side == 0 ? "heldout" : side == 1 ? "synthetic" : "training",
                                        h->cluster_share[side * h->n_clusters + c]);
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
    if (sdd_json_add_fields(o, c, counts_fields, N_OF(counts_fields)) < 0) return cJSON_Delete(o), NULL;
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
    if (e->n_sub < h->m)
        fprintf(stderr, "; MMD, LISI and kNN AUC on a random %lld cells a side (--n-sub)", (long long)e->n_sub);
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
