/*
 * cli_evaluate.c: `sddcell evaluate REAL SYNTH`. Loads both sides into SYNTH's gene
 * space (sdd_pair_load), runs the SPEC section 5 metrics (sdd_evaluate), prints a table
 * on stdout and, with --json, writes every figure to a JSON file (temporary name, then
 * rename, so a failed run leaves no file).
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
    case 't': return cli_opt_double(ctx, "--target-sum", arg, 0, 1e12, &po->target_sum) ? -1 : 0;
    default: return 1;
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
        add_num(x, "lfc_pcc_markers", L->lfc_pcc_markers);
        add_num(x, "mmd", L->mmd);
        cJSON_AddNumberToObject(x, "n_sub_real", (double)L->n_sub_real);
        cJSON_AddNumberToObject(x, "n_sub_synth", (double)L->n_sub_synth);
    }
    return o;
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

static void print_table(const sdd_eval_t *e)
{
    printf("%-28s %12s\n", "metric", "value");
    printf("%-28s %12lld\n", "cells real", (long long)e->n_real);
    printf("%-28s %12lld\n", "cells synthetic", (long long)e->n_synth);
    printf("%-28s %12lld\n", "genes", (long long)e->n_genes);
    printf("%-28s %12lld\n", "subsample per side", (long long)e->n_sub);
    printf("%-28s %11.2f%%\n", "sparsity real", 100 * e->sparsity_real);
    printf("%-28s %11.2f%%\n", "sparsity synthetic", 100 * e->sparsity_synth);
    printf("%-28s %12.4f\n", "zero-fraction W1 distance", e->zero_frac_w1);
    printf("%-28s %12.4f\n", "SCC (gene means)", e->scc);
    printf("%-28s %12.4f\n", "PCC (gene means)", e->pcc);
    printf("%-28s %12.4f\n", "MMD", e->mmd);
    printf("%-28s %12.4f\n", "LISI (median)", e->lisi);
    printf("%-28s %12.4f\n", "LISI scaled", e->lisi_scaled);
    printf("%-28s %12.4f\n", "kNN AUC", e->knn_auc);
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

int cli_evaluate_main(int argc, char **argv, cli_ctx_t *ctx)
{
    static const struct option longopts[] = {
        {"json", required_argument, NULL, 'j'}, {"label", required_argument, NULL, 'l'},
        {"n-sub", required_argument, NULL, 'n'}, {"real-normalized", no_argument, NULL, 'r'},
        {"target-sum", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    sdd_pair_opt_t po;
    sdd_eval_opt_t eo;
    sdd_pair_t *p = NULL;
    sdd_eval_t *e = NULL;
    const char *json = NULL;
    cJSON *o = NULL;
    int64_t v;
    int c, rc;

    sdd_pair_opt_init(&po);
    sdd_eval_opt_init(&eo);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = optarg; break;
        case 'n':
            if (cli_opt_int(ctx, "--n-sub", optarg, 10, INT64_MAX, &v)) return CLI_FAIL;
            eo.n_sub = v;
            break;
        case 'h': return cli_print_usage(ctx, stdout);
        case ':': return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        default:
            if ((rc = cli_pair_option(ctx, c, optarg, &po)) < 0) return CLI_FAIL;
            if (rc > 0) return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(ctx, "expected REAL and SYNTH, got %d argument%s", argc - optind,
                               argc - optind == 1 ? "" : "s");
    eo.seed = ctx->seed;
    if ((rc = sdd_eval_opt_check(&eo)) < 0) return cli_lib_error(ctx, rc);
    if ((rc = sdd_pair_load(argv[optind], argv[optind + 1], &po, &p)) < 0) return cli_lib_error(ctx, rc);
    rc = sdd_evaluate(&p->real, &p->synth, p->real_labels, p->synth_labels, p->label_names, p->n_labels,
                      &eo, cli_progress, ctx, &e);
    if (rc < 0) {
        sdd_pair_destroy(p);
        return cli_lib_error(ctx, rc);
    }
    print_table(e);
    fflush(stdout);
    rc = CLI_OK;
    if (json) {
        o = result_json(e, p, argv[optind], argv[optind + 1], po.label_key, ctx->seed);
        rc = o ? cli_write_json(ctx, json, o) : cli_error(ctx, "out of memory");
    }
    cJSON_Delete(o);
    sdd_eval_destroy(e);
    sdd_pair_destroy(p);
    return rc;
}
