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

/* The options that are not numbers (those come from the library's tables SDD_OPTS_*),
 * each with its group: CLI_TEXT_PREP (hvg, train, simulate), CLI_TEXT_TRAIN (train,
 * simulate), CLI_TEXT_SAMPLE (sample, simulate). */
static const struct {
    int group;
    struct option o;
} text_opts[] = {
    {CLI_TEXT_PREP, {"flavor", required_argument, NULL, CLI_O_FLAVOR}},
    {CLI_TEXT_PREP, {"layer", required_argument, NULL, CLI_O_LAYER}},
    {CLI_TEXT_PREP, {"raw", no_argument, NULL, CLI_O_RAW}},
    {CLI_TEXT_PREP, {"genome", required_argument, NULL, CLI_O_GENOME}},
    {CLI_TEXT_PREP, {"feature-type", required_argument, NULL, CLI_O_FTYPE}},
    {CLI_TEXT_TRAIN, {"label", required_argument, NULL, CLI_O_LABEL}},
    {CLI_TEXT_TRAIN, {"value-mask", no_argument, NULL, CLI_O_VALUEMASK}},
    {CLI_TEXT_TRAIN, {"no-value-mask", no_argument, NULL, CLI_O_NOVALUEMASK}},
    {CLI_TEXT_TRAIN, {"precond", no_argument, NULL, CLI_O_PRECOND}},
    {CLI_TEXT_TRAIN, {"no-precond", no_argument, NULL, CLI_O_NOPRECOND}},
    {CLI_TEXT_TRAIN, {"bit-logits", no_argument, NULL, CLI_O_BITLOGITS}},
    {CLI_TEXT_TRAIN, {"scale", required_argument, NULL, CLI_O_SCALE}},
    {CLI_TEXT_TRAIN, {"no-sparsity-bits", no_argument, NULL, CLI_O_NOBITS}},
    {CLI_TEXT_TRAIN, {"lr-decay", required_argument, NULL, CLI_O_LRDECAY}},
    {CLI_TEXT_TRAIN, {"precision", required_argument, NULL, CLI_O_PRECISION}},
    {CLI_TEXT_SAMPLE, {"sampler", required_argument, NULL, CLI_O_SAMPLER}},
    {CLI_TEXT_SAMPLE, {"bit-decode", required_argument, NULL, CLI_O_DECODE}},
    {CLI_TEXT_SAMPLE, {"bit-update", required_argument, NULL, CLI_O_UPDATE}},
    {CLI_TEXT_SAMPLE, {"sample-self-cond", required_argument, NULL, CLI_O_SCSAMPLE}},
    {CLI_TEXT_SAMPLE, {"label-counts", required_argument, NULL, CLI_O_LCOUNTS}},
    {CLI_TEXT_SAMPLE, {"counts", no_argument, NULL, CLI_O_COUNTS}},
    {CLI_TEXT_SAMPLE, {"no-ema", no_argument, NULL, CLI_O_NOEMA}},
    {CLI_TEXT_SAMPLE, {"threshold", no_argument, NULL, CLI_O_THRESHOLD}},
    {CLI_TEXT_SAMPLE, {"sample-precision", required_argument, NULL, CLI_O_SPRECISION}}};

void cli_text_longopts(struct option *lo, int *n, int group)
{
    for (size_t i = 0; i < sizeof text_opts / sizeof *text_opts; i++) {
        struct option one[2] = {text_opts[i].o, {NULL, 0, NULL, 0}};
        if (text_opts[i].group == group) cli_add_longopts(lo, n, one);
    }
}

void cli_prep_longopts(struct option *lo, int *n, int holdout)
{
    cli_num_longopts(lo, n, SDD_OPTS_PREP, holdout ? NULL : "holdout");
    cli_text_longopts(lo, n, CLI_TEXT_PREP);
}

void cli_train_longopts(struct option *lo, int *n)
{
    cli_num_longopts(lo, n, SDD_OPTS_TRAIN, NULL);
    cli_text_longopts(lo, n, CLI_TEXT_TRAIN);
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
            return cli_usage_error(ctx, "unknown --precision '%s' (fp32, bf16, auto, int8)", arg), -1;
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
