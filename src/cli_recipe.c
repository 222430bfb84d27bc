/*
 * cli_recipe.c: the preprocessing and training options shared by `sddcell train` and
 * `sddcell simulate` (one table, one handler), and training with an interrupt checkpoint.
 */
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *flavors[] = {"seurat", "cell_ranger", "seurat_v3"};

const struct option cli_train_longopts[] = {
    {"n-top-genes", required_argument, NULL, CLI_O_NTOP},
    {"flavor", required_argument, NULL, CLI_O_FLAVOR},
    {"min-cells", required_argument, NULL, CLI_O_MINCELLS},
    {"min-genes", required_argument, NULL, CLI_O_MINGENES},
    {"target-sum", required_argument, NULL, CLI_O_TARGET},
    {"layer", required_argument, NULL, CLI_O_LAYER},
    {"raw", no_argument, NULL, CLI_O_RAW},
    {"genome", required_argument, NULL, CLI_O_GENOME},
    {"feature-type", required_argument, NULL, CLI_O_FTYPE},
    {"label", required_argument, NULL, CLI_O_LABEL},
    {"steps", required_argument, NULL, CLI_O_STEPS},
    {"batch-size", required_argument, NULL, CLI_O_BATCH},
    {"lr", required_argument, NULL, CLI_O_LR},
    {"ema", required_argument, NULL, CLI_O_EMA},
    {"bit-scale", required_argument, NULL, CLI_O_BITSCALE},
    {"bit-weight", required_argument, NULL, CLI_O_BITWEIGHT},
    {"value-mask", no_argument, NULL, CLI_O_VALUEMASK},
    {"no-value-mask", no_argument, NULL, CLI_O_NOVALUEMASK},
    {"precond", no_argument, NULL, CLI_O_PRECOND},
    {"no-precond", no_argument, NULL, CLI_O_NOPRECOND},
    {"bit-logits", no_argument, NULL, CLI_O_BITLOGITS},
    {"scale", required_argument, NULL, CLI_O_SCALE},
    {"clip", required_argument, NULL, CLI_O_CLIP},
    {"no-sparsity-bits", no_argument, NULL, CLI_O_NOBITS},
    {"checkpoint-every", required_argument, NULL, CLI_O_CKPT},
    {"hidden", required_argument, NULL, CLI_O_HIDDEN},
    {"head", required_argument, NULL, CLI_O_HEAD},
    {"emb", required_argument, NULL, CLI_O_EMB},
    {"label-dropout", required_argument, NULL, CLI_O_LDROP},
    {"chunk-rows", required_argument, NULL, CLI_O_CHUNK},
    {"self-cond", required_argument, NULL, CLI_O_SELFCOND},
    {"lr-decay", required_argument, NULL, CLI_O_LRDECAY},
    {"precision", required_argument, NULL, CLI_O_PRECISION},
    {"grad-slices", required_argument, NULL, CLI_O_GSLICES},
    {"validation", required_argument, NULL, CLI_O_VALIDATION},
    {"patience", required_argument, NULL, CLI_O_PATIENCE},
    {"val-every", required_argument, NULL, CLI_O_VALEVERY},
    {"val-tol", required_argument, NULL, CLI_O_VALTOL},
    {NULL, 0, NULL, 0}};

static int parse_hidden(const cli_ctx_t *ctx, const char *arg, int *h)
{
    char buf[128], *p, *save = NULL;
    int n = 0;
    int64_t v;
    snprintf(buf, sizeof buf, "%s", arg);
    for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (n == 4 || cli_opt_int(ctx, "--hidden", p, 1, 16384, &v)) {
            if (n == 4) cli_usage_error(ctx, "--hidden takes four widths, e.g. 512,512,256,128");
            return -1;
        }
        h[n++] = (int)v;
    }
    if (n != 4) {
        cli_usage_error(ctx, "--hidden takes four widths, e.g. 512,512,256,128");
        return -1;
    }
    return 0;
}

int cli_train_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_prep_opt_t *p, sdd_train_opt_t *t)
{
    int64_t v;
    int f;
    switch (c) {
    case CLI_O_NTOP: if (cli_opt_int(ctx, "--n-top-genes", arg, 1, INT32_MAX, &p->n_top_genes)) return -1; break;
    case CLI_O_FLAVOR:
        for (f = 0; f < 3 && strcmp(arg, flavors[f]) != 0; f++) {}
        if (f == 3) {
            cli_usage_error(ctx, "unknown --flavor '%s' (seurat, cell_ranger, seurat_v3)", arg);
            return -1;
        }
        p->flavor = f;
        break;
    case CLI_O_MINCELLS: if (cli_opt_int(ctx, "--min-cells", arg, 0, 1000, &p->min_cells)) return -1; break;
    case CLI_O_MINGENES: if (cli_opt_int(ctx, "--min-genes", arg, 0, INT32_MAX, &p->min_genes)) return -1; break;
    case CLI_O_TARGET:
        if (strcmp(arg, "median") == 0) p->target_sum = 0;
        else if (cli_opt_double(ctx, "--target-sum", arg, 1e-300, 1e300, &p->target_sum)) return -1;
        break;
    case CLI_O_LAYER: p->read.layer = arg; break;
    case CLI_O_RAW: p->read.raw = 1; break;
    case CLI_O_GENOME: p->read.genome = arg; break;
    case CLI_O_FTYPE: p->read.feature_type = arg; break;
    case CLI_O_LABEL:
        if (strcmp(arg, "auto") == 0) p->auto_labels = 1, p->label_key = NULL;
        else if (strcmp(arg, "none") == 0) p->auto_labels = 0, p->label_key = NULL;
        else p->auto_labels = 0, p->label_key = arg;
        break;
    case CLI_O_STEPS: if (cli_opt_int(ctx, "--steps", arg, 0, 1000000000, &t->steps)) return -1; break;
    case CLI_O_BATCH: if (cli_opt_int(ctx, "--batch-size", arg, 1, 65536, &t->batch)) return -1; break;
    case CLI_O_LR: if (cli_opt_double(ctx, "--lr", arg, 1e-12, 0.999, &t->lr)) return -1; break;
    case CLI_O_EMA: if (cli_opt_double(ctx, "--ema", arg, 0, 0.999999999, &t->ema)) return -1; break;
    case CLI_O_BITSCALE: if (cli_opt_double(ctx, "--bit-scale", arg, 1e-6, 100, &t->bit_scale)) return -1; break;
    case CLI_O_BITWEIGHT: if (cli_opt_double(ctx, "--bit-weight", arg, 0, 1e6, &t->bit_weight)) return -1; break;
    case CLI_O_VALUEMASK: t->value_mask = 1; break;
    case CLI_O_NOVALUEMASK: t->value_mask = 0; break;
    case CLI_O_PRECOND: t->precond = 1; break;
    case CLI_O_NOPRECOND: t->precond = 0; break;
    case CLI_O_BITLOGITS: t->precond = 2; break;
    case CLI_O_SCALE:
        if (strcmp(arg, "global") && strcmp(arg, "gene")) {
            cli_usage_error(ctx, "unknown --scale '%s' (global, gene)", arg);
            return -1;
        }
        t->scale_gene = strcmp(arg, "gene") == 0;
        break;
    case CLI_O_CLIP: if (cli_opt_double(ctx, "--clip", arg, 0, 1e6, &t->clip)) return -1; break;
    case CLI_O_NOBITS: t->sparsity_bits = 0; break;
    case CLI_O_CKPT: if (cli_opt_int(ctx, "--checkpoint-every", arg, 0, INT64_MAX, &t->checkpoint_every)) return -1; break;
    case CLI_O_HIDDEN: if (parse_hidden(ctx, arg, t->hidden)) return -1; break;
    case CLI_O_HEAD: if (cli_opt_int(ctx, "--head", arg, 1, 65536, &v)) return -1; t->head = (int)v; break;
    case CLI_O_EMB:
        if (cli_opt_int(ctx, "--emb", arg, 2, 16384, &v)) return -1;
        if (v % 2) {
            cli_usage_error(ctx, "--emb must be even");
            return -1;
        }
        t->emb = (int)v;
        break;
    case CLI_O_LRDECAY:
        if (strcmp(arg, "cosine") && strcmp(arg, "constant")) {
            cli_usage_error(ctx, "unknown --lr-decay '%s' (cosine, constant)", arg);
            return -1;
        }
        t->lr_decay = strcmp(arg, "cosine") == 0;
        break;
    case CLI_O_LDROP: if (cli_opt_double(ctx, "--label-dropout", arg, 0, 1, &t->label_dropout)) return -1; break;
    case CLI_O_CHUNK: if (cli_opt_int(ctx, "--chunk-rows", arg, 1, INT32_MAX, &p->chunk_rows)) return -1; break;
    case CLI_O_SELFCOND: if (cli_opt_double(ctx, "--self-cond", arg, 0, 1, &t->self_cond)) return -1; break;
    case CLI_O_VALIDATION: if (cli_opt_double(ctx, "--validation", arg, 0, 0.5, &t->validation)) return -1; break;
    case CLI_O_PATIENCE: if (cli_opt_int(ctx, "--patience", arg, 1, 1000, &v)) return -1; t->patience = (int)v; break;
    case CLI_O_VALTOL: if (cli_opt_double(ctx, "--val-tol", arg, 0, 1, &t->val_tol)) return -1; break;
    case CLI_O_VALEVERY: if (cli_opt_int(ctx, "--val-every", arg, 1, 1000000000, &t->val_every)) return -1; break;
    case CLI_O_PRECISION:
        if ((f = sdd_precision_parse(arg)) < 0) {
            cli_usage_error(ctx, "unknown --precision '%s' (fp32, bf16, auto)", arg);
            return -1;
        }
        t->precision = f;
        break;
    case CLI_O_GSLICES: {
        int64_t v;
        if (cli_opt_int(ctx, "--grad-slices", arg, 1, 1024, &v)) return -1;
        if (v & (v - 1)) return cli_usage_error(ctx, "--grad-slices must be a power of two, not %lld", (long long)v), -1;
        t->grad_slices = (int)v;
        break;
    }
    default: return 1;
    }
    return 0;
}

/* Train m (new or resumed) on ts; on an interrupt the model is saved to out first. */
int cli_train_run(cli_ctx_t *ctx, sdd_model_t *m, const sdd_trainset_t *ts, const char *out)
{
    int rc = sdd_model_train(m, ts, cli_progress, ctx);
    if (rc == SDD_EINTR && out) {
        int src;
        cli_signal_grace(); /* the checkpoint is written in full; a second signal skips it */
        src = sdd_model_save(m, out);
        if (src < 0) return cli_lib_error(ctx, src);
        fprintf(stderr, "sddcell %s: interrupted at step %lld; model saved to %s (continue with --resume)\n",
                ctx->cmd, (long long)sdd_model_step(m), out);
        return CLI_INTERRUPTED;
    }
    return rc < 0 ? cli_lib_error(ctx, rc) : CLI_OK;
}
