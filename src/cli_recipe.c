/*
 * cli_recipe.c: the preprocessing options shared by `sddcell hvg`, `train` and `simulate`,
 * the training options shared by `train` and `simulate` (the numeric ones from the
 * library's option tables, the rest here), and training with an interrupt checkpoint.
 */
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* The preprocessing options of hvg, train and simulate that are not numbers (those come
 * from the library's table SDD_OPTS_PREP). */
static const struct option prep_longopts[] = {
    {"flavor", required_argument, NULL, CLI_O_FLAVOR},
    {"layer", required_argument, NULL, CLI_O_LAYER},
    {"raw", no_argument, NULL, CLI_O_RAW},
    {"genome", required_argument, NULL, CLI_O_GENOME},
    {"feature-type", required_argument, NULL, CLI_O_FTYPE},
    {NULL, 0, NULL, 0}};

/* The training options that are not numbers (those: SDD_OPTS_TRAIN). */
static const struct option train_longopts[] = {
    {"label", required_argument, NULL, CLI_O_LABEL},
    {"value-mask", no_argument, NULL, CLI_O_VALUEMASK},
    {"no-value-mask", no_argument, NULL, CLI_O_NOVALUEMASK},
    {"precond", no_argument, NULL, CLI_O_PRECOND},
    {"no-precond", no_argument, NULL, CLI_O_NOPRECOND},
    {"bit-logits", no_argument, NULL, CLI_O_BITLOGITS},
    {"scale", required_argument, NULL, CLI_O_SCALE},
    {"no-sparsity-bits", no_argument, NULL, CLI_O_NOBITS},
    {"lr-decay", required_argument, NULL, CLI_O_LRDECAY},
    {"precision", required_argument, NULL, CLI_O_PRECISION},
    {NULL, 0, NULL, 0}};

void cli_prep_longopts(struct option *lo, int *n, int holdout)
{
    cli_num_longopts(lo, n, SDD_OPTS_PREP, holdout ? NULL : "holdout");
    cli_add_longopts(lo, n, prep_longopts);
}

void cli_train_longopts(struct option *lo, int *n)
{
    cli_num_longopts(lo, n, SDD_OPTS_TRAIN, NULL);
    cli_add_longopts(lo, n, train_longopts);
}

int cli_prep_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_prep_opt_t *p)
{
    char list[96];
    int rc;
    if (c == cli_num_code(SDD_OPTS_PREP, "target-sum") && strcmp(arg, "median") == 0) return p->target_sum = 0, 0;
    switch (c) {
    case CLI_O_FLAVOR:
        if ((rc = sdd_hvg_flavor_parse(arg)) < 0)
            return cli_usage_error(ctx, "unknown --flavor '%s' (%s)", arg,
                                   cli_name_list(sdd_hvg_flavor_name, list, sizeof list)), -1;
        p->flavor = rc;
        return 0;
    case CLI_O_LAYER: p->read.layer = arg; return 0;
    case CLI_O_RAW: p->read.raw = 1; return 0;
    case CLI_O_GENOME: p->read.genome = arg; return 0;
    case CLI_O_FTYPE: p->read.feature_type = arg; return 0;
    default: return cli_num_option(ctx, c, arg, SDD_OPTS_PREP, p);
    }
}

/* The training options that are not numbers. */
static int train_word_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_prep_opt_t *p, sdd_train_opt_t *t)
{
    int f;
    switch (c) {
    case CLI_O_LABEL:
        if (strcmp(arg, "auto") == 0) p->auto_labels = 1, p->label_key = NULL;
        else if (strcmp(arg, "none") == 0) p->auto_labels = 0, p->label_key = NULL;
        else p->auto_labels = 0, p->label_key = arg;
        break;
    case CLI_O_VALUEMASK: t->value_mask = 1; break;
    case CLI_O_NOVALUEMASK: t->value_mask = 0; break;
    case CLI_O_PRECOND: t->precond = 1; break;
    case CLI_O_NOPRECOND: t->precond = 0; break;
    case CLI_O_BITLOGITS: t->precond = 2; break;
    case CLI_O_SCALE:
        if (strcmp(arg, "global") && strcmp(arg, "gene")) return cli_usage_error(ctx, "unknown --scale '%s' (global, gene)", arg), -1;
        t->scale_gene = strcmp(arg, "gene") == 0;
        break;
    case CLI_O_NOBITS: t->sparsity_bits = 0; break;
    case CLI_O_LRDECAY:
        if (strcmp(arg, "cosine") && strcmp(arg, "constant"))
            return cli_usage_error(ctx, "unknown --lr-decay '%s' (cosine, constant)", arg), -1;
        t->lr_decay = strcmp(arg, "cosine") == 0;
        break;
    case CLI_O_PRECISION:
        if ((f = sdd_precision_parse(arg)) < 0)
            return cli_usage_error(ctx, "unknown --precision '%s' (fp32, bf16, auto)", arg), -1;
        t->precision = f;
        break;
    default: return 1;
    }
    return 0;
}

int cli_train_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_prep_opt_t *p, sdd_train_opt_t *t)
{
    int rc = cli_prep_option(ctx, c, arg, p);
    if (rc > 0) rc = cli_num_option(ctx, c, arg, SDD_OPTS_TRAIN, t);
    return rc > 0 ? train_word_option(ctx, c, arg, p, t) : rc;
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
