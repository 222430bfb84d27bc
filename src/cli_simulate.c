/*
 * cli_simulate.c: `sddcell simulate FILE -o OUT.h5ad`, the whole job in one command:
 * QC, normalisation and HVG (sdd_prep_run) with a held-out share of the cells kept out of
 * all of it (--holdout, default SDD_HOLDOUT_DEFAULT), training (sdd_model_train),
 * sampling as many cells as trained (or -n) (sdd_sample), the synthetic cells written as
 * .h5ad, and the metrics of doc/method.md §8 written to OUT.metrics.json beside the output,
 * with the timings of each stage and the recipe: against the held-out cells beside the
 * floor, with the memorisation share (sdd_evaluate_heldout), or, when nothing is held
 * out, against the training cells (sdd_evaluate). --prefix P names P.h5ad,
 * P.metrics.json and P.sdd instead. Presets: `fast` (default: conditional on clusters of
 * the training cells, as --label auto) and `paper` (unconditional); any flag given
 * overrides the preset (--label KEY, --label none).
 */
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char *h5ad, *json, *model;  /* output paths (model may be NULL) */
} outputs_t;

static char *with_suffix(const char *stem, size_t n, const char *suffix)
{
    char *s = malloc(n + strlen(suffix) + 1);
    if (s) {
        memcpy(s, stem, n);
        strcpy(s + n, suffix);
    }
    return s;
}

static int make_outputs(const char *out, const char *prefix, const char *model_out, outputs_t *o)
{
    if (prefix) {
        size_t n = strlen(prefix);
        o->h5ad = with_suffix(prefix, n, ".h5ad");
        o->json = with_suffix(prefix, n, ".metrics.json");
        o->model = model_out ? strdup(model_out) : with_suffix(prefix, n, ".sdd");
    } else {
        size_t n = strlen(out);
        if (n > 5 && strcmp(out + n - 5, ".h5ad") == 0) n -= 5;
        o->h5ad = strdup(out);
        o->json = with_suffix(out, n, ".metrics.json");
        o->model = model_out ? strdup(model_out) : NULL;
    }
    return o->h5ad && o->json && (o->model || !(prefix || model_out)) ? 0 : -1;
}

static void free_outputs(outputs_t *o)
{
    free(o->h5ad);
    free(o->json);
    free(o->model);
}

#define TO(key, kind, field) SDD_JF(key, kind, sdd_train_opt_t, field)
static const sdd_json_field_t recipe_train_fields[] = {
    TO("train_steps", I64, steps), TO("validation", DBL, validation), TO("batch", I64, batch), TO("lr", DBL, lr),
    TO("value_mask", INT, value_mask), TO("bit_weight", DBL, bit_weight), TO("sparsity_bits", INT, sparsity_bits)};
#undef TO

/* The training and sampling options of the run, as the metrics JSON records them. */
static cJSON *recipe_json(const sdd_train_opt_t *to, const sdd_sample_opt_t *so, double holdout)
{
    cJSON *r = cJSON_CreateObject();
    if (sdd_json_add_fields(r, to, recipe_train_fields, sizeof recipe_train_fields / sizeof *recipe_train_fields) < 0)
        return cJSON_Delete(r), NULL;
    cJSON_AddStringToObject(r, "scale", to->scale_gene ? "gene" : "global");
    cli_sampler_json(r, so);
    cJSON_AddNumberToObject(r, "sample_steps", (double)so->steps);
    cJSON_AddNumberToObject(r, "holdout", holdout);
    return r;
}

/* The steps the run took into the recipe (the validation rule may end training early)
 * and the products training and sampling ran (they depend on the CPU under auto). */
static void add_trained_steps(cJSON *mj, const sdd_model_t *m, const sdd_sample_opt_t *so)
{
    cJSON *r = mj ? cJSON_GetObjectItem(mj, "recipe") : NULL;
    int64_t kept = 0, stopped = sdd_model_stopped(m, &kept);
    if (!r) return;
    cJSON_AddNumberToObject(r, "trained_steps", (double)sdd_model_step(m));
    cJSON_AddNumberToObject(r, "kept_step", (double)(stopped ? kept : sdd_model_step(m)));
    cJSON_AddStringToObject(r, "train_products", sdd_precision_name(sdd_train_products(m)));
    cJSON_AddStringToObject(r, "sample_products", sdd_precision_name(sdd_sample_products(m, so->precision)));
}

/* The figures (held-out protocol or against the training cells), then the run's own keys. */
static cJSON *metrics_json(const sdd_eval_t *e, const sdd_heldout_eval_t *h, const char *input,
                           const outputs_t *out, const sdd_train_opt_t *to, const sdd_sample_opt_t *so,
                           const char *preset, const double *secs, const sdd_trainset_t *ts,
                           double holdout)
{
    cJSON *o, *t, *r;
    if (h) o = cli_heldout_json(h, ts->label_key, ts->heldout_names, ts->n_heldout);
    else if ((o = cli_eval_json(e, ts->label_key))) cJSON_AddStringToObject(o, "evaluated_against", "training");
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "version", SDD_VERSION);
    cJSON_AddStringToObject(o, "input", input);
    cJSON_AddStringToObject(o, "synth", out->h5ad);
    if (out->model) cJSON_AddStringToObject(o, "model", out->model);
    cJSON_AddStringToObject(o, "preset", preset);
    if ((r = recipe_json(to, so, holdout))) cJSON_AddItemToObject(o, "recipe", r);
    t = cJSON_AddObjectToObject(o, "seconds");
    if (t) {
        cJSON_AddNumberToObject(t, "prep", secs[0]);
        cJSON_AddNumberToObject(t, "train", secs[1]);
        cJSON_AddNumberToObject(t, "sample", secs[2]);
        cJSON_AddNumberToObject(t, "evaluate", secs[3]);
        cJSON_AddNumberToObject(t, "total", secs[0] + secs[1] + secs[2] + secs[3]);
        cJSON_AddNumberToObject(t, "cpu", sdd_cputime());
    }
    return o;
}

/* The preset named on the command line (the last --preset), applied before other flags. */
static const char *find_preset(int argc, char **argv)
{
    const char *p = "fast";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc) p = argv[++i];
        else if (strncmp(argv[i], "--preset=", 9) == 0) p = argv[i] + 9;
    }
    return p;
}

typedef struct {
    sdd_prep_opt_t po;
    sdd_train_opt_t to;
    sdd_sample_opt_t so;
    sdd_eval_opt_t eo;
    cli_label_counts_t lc;
    const char *out, *prefix, *model_out, *preset;
    int counts, n_set;
    int64_t piece;
    cli_report_opt_t ro;
} sim_opt_t;

static int parse(int argc, char **argv, cli_ctx_t *ctx, sim_opt_t *s)
{
    static struct option longopts[CLI_MAX_LONGOPTS];
    static const struct option own[] = {
        {"output", required_argument, NULL, 'o'}, {"prefix", required_argument, NULL, 'p'},
        {"model-out", required_argument, NULL, 'm'}, {"preset", required_argument, NULL, 'P'},
        {"report", required_argument, NULL, 'R'}, {"multiqc", required_argument, NULL, 'Q'},
        {"piece-cells", required_argument, NULL, 'W'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const int cells = cli_num_code(SDD_OPTS_SAMPLE, "cells");
    int c, rc, n = 0;
    cli_add_longopts(longopts, &n, own);
    cli_prep_longopts(longopts, &n, 1); /* --holdout too */
    cli_train_longopts(longopts, &n);
    cli_sample_longopts(longopts, &n); /* --steps is training's: sampling's is --sample-steps */
    cli_num_longopts(longopts, &n, SDD_OPTS_EVAL, NULL); /* --n-sub */
    s->preset = find_preset(argc, argv);
    if (sdd_preset_apply(s->preset, &s->to, &s->so) < 0) return cli_usage_error(ctx, "%s", sdd_errdetail());
    /* fast: a conditional model on clusters of the training cells unless --label says otherwise */
    s->po.auto_labels = strcmp(s->preset, "fast") == 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:n:", longopts, NULL)) != -1) {
        if (c == 'n') c = cells; /* -n is --cells */
        if (c == cells) s->n_set = 1;
        switch (c) {
        case 'o': s->out = optarg; break;
        case 'p': s->prefix = optarg; break;
        case 'm': s->model_out = optarg; break;
        case 'R': s->ro.html = optarg; break;
        case 'Q': s->ro.multiqc_dir = optarg; break;
        case 'P': break;
        case 'W':
            if (cli_opt_int(ctx, "--piece-cells", optarg, 1, INT64_C(1) << 40, &s->piece)) return CLI_FAIL;
            break;
        case 'h': return cli_print_usage(ctx, stdout), -1;
        case ':': return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        case '?': return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        default:
            if ((rc = cli_train_option(ctx, c, optarg, &s->po, &s->to)) < 0) return CLI_FAIL;
            if (rc > 0 && (rc = cli_sample_option(ctx, c, optarg, &s->so, &s->lc, &s->counts)) < 0)
                return CLI_FAIL;
            if (rc > 0 && (rc = cli_num_option(ctx, c, optarg, SDD_OPTS_EVAL, &s->eo)) < 0) return CLI_FAIL;
            if (rc > 0) return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) return cli_usage_error(ctx, "expected one input FILE, got %d arguments", argc - optind);
    if (!s->out == !s->prefix) return cli_usage_error(ctx, "give exactly one of -o OUT.h5ad and --prefix P");
    if (s->po.read.layer && s->po.read.raw) return cli_usage_error(ctx, "--layer and --raw exclude each other");
    return CLI_OK;
}

/* The metrics of the sampled cells sy (their labels sy->labels): against the held-out
 * cells when there are some (*h), else against the training cells (*e). */
static int evaluate(cli_ctx_t *ctx, const sdd_trainset_t *ts, const cli_kept_t *sy, const sdd_eval_opt_t *eo,
                    sdd_eval_t **e, sdd_heldout_eval_t **h)
{
    const int32_t *sl = sy->labels;
    int n_labels = ts->labels ? ts->n_labels : 0;
    if (ts->n_heldout > 0 && !ts->heldout_labels) /* cluster labels exist for training cells only */
        return sdd_evaluate_heldout(&ts->heldout_X, &sy->X, &ts->X, NULL, NULL, NULL, NULL, 0, eo, cli_progress,
                                    ctx, h);
    if (ts->n_heldout > 0)
        return sdd_evaluate_heldout(&ts->heldout_X, &sy->X, &ts->X, ts->heldout_labels, sl, ts->labels,
                                    ts->label_names, n_labels, eo, cli_progress, ctx, h);
    return sdd_evaluate(&ts->X, &sy->X, ts->labels, sl, ts->label_names, n_labels, eo, cli_progress, ctx, e);
}

/* The positions of the synthetic cells kept for evaluation: every one (NULL) up to
 * 2 x piece cells, which are made in one pass; above, a seeded random max(piece, n_sub)
 * of them in ascending order (*n_keep), since the run is written a piece at a time and
 * not held. */
static int eval_positions(const sim_opt_t *s, uint64_t seed, int64_t **keep, int64_t *n_keep)
{
    int64_t n = s->so.n_cells, want = s->eo.n_sub > s->piece ? s->eo.n_sub : s->piece;
    sdd_rng_t r;
    int rc;
    *keep = NULL;
    *n_keep = 0;
    if (n <= 2 * s->piece || want >= n) return SDD_OK;
    if (!(*keep = malloc((size_t)want * sizeof **keep))) return SDD_ENOMEM;
    sdd_rng_seed(&r, seed ^ UINT64_C(0x6576616c63656c6c)); /* "evalcell" */
    if ((rc = sdd_subsample_rows(&r, n, want, *keep)) < 0) {
        free(*keep);
        *keep = NULL;
        return rc;
    }
    *n_keep = want;
    return SDD_OK;
}

/* The report's recipe: preprocessing, the training set, then the recipe of the metrics. */
static cJSON *report_recipe(const sim_opt_t *s, const char *input, const sdd_trainset_t *ts)
{
    cJSON *o = cJSON_CreateObject(), *r;
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "input", input);
    cJSON_AddStringToObject(o, "preset", s->preset);
    cJSON_AddNumberToObject(o, "genes (highly variable)", (double)ts->G);
    cJSON_AddStringToObject(o, "hvg_flavor", sdd_hvg_flavor_name(s->po.flavor));
    cJSON_AddNumberToObject(o, "training cells", (double)ts->n_cells);
    cJSON_AddNumberToObject(o, "held-out cells", (double)ts->n_heldout);
    if (ts->label_key) cJSON_AddStringToObject(o, "label", ts->label_key);
    cJSON_AddStringToObject(o, "precision", sdd_precision_name(s->to.precision));
    if ((r = recipe_json(&s->to, &s->so, s->po.holdout))) {
        cJSON *c = r->child;
        r->child = NULL;
        cJSON_Delete(r);
        while (c) { /* move the recipe's items over */
            cJSON *next = c->next;
            c->prev = c->next = NULL;
            cJSON_AddItemToObject(o, c->string, c);
            c = next;
        }
    }
    return o;
}

/* The report and MultiQC texts: the synthetic cells against the held-out cells (or the
 * training cells when none are held out). */
static int build_report(cli_ctx_t *ctx, const sim_opt_t *s, const char *input, const outputs_t *out,
                        const sdd_trainset_t *ts, const cli_kept_t *sy, const sdd_eval_t *e,
                        const sdd_heldout_eval_t *h, cli_report_built_t *b)
{
    sdd_report_t r;
    char title[1024];
    const int32_t *sl = sy->labels;
    sdd_report_init(&r);
    snprintf(title, sizeof title, "%s, synthetic cells from %s", out->h5ad, input);
    r.title = title;
    r.eval = e, r.heldout = h;
    r.real = h ? &ts->heldout_X : &ts->X;
    r.synth = &sy->X;
    r.train = h ? &ts->X : NULL;
    r.gene_names = ts->gene_names;
    if (ts->labels && sl && (h ? ts->heldout_labels != NULL : 1)) {
        r.real_labels = h ? ts->heldout_labels : ts->labels;
        r.synth_labels = sl;
        r.label_names = ts->label_names, r.n_labels = ts->n_labels, r.label_key = ts->label_key;
    }
    r.seed = ctx->seed;
    return cli_report_build(ctx, &s->ro, &r, report_recipe(s, input, ts), b);
}

/* The integer counts cnt against the real counts: the held-out cells' (with the
 * training cells' as the floor, *cf) when heldout, else the training cells'. */
static int evaluate_counts(const sdd_trainset_t *ts, int heldout, const sdd_csr_t *cnt, sdd_csr_t *real_cnt,
                           sdd_csr_t *floor_cnt, sdd_counts_eval_t *ce, sdd_counts_eval_t *cf)
{
    int rc;
    if ((rc = sdd_trainset_counts(ts, heldout, real_cnt)) < 0 || (rc = sdd_counts_evaluate(real_cnt, cnt, ce)) < 0)
        return rc;
    if (heldout && ((rc = sdd_trainset_counts(ts, 0, floor_cnt)) < 0 ||
                    (rc = sdd_counts_evaluate(real_cnt, floor_cnt, cf)) < 0))
        return rc;
    return SDD_OK;
}

/* The closing lines on stderr: the held-out figures, or those against the training cells,
 * then the counts' (ce NULL: none). */
static void summary(cli_ctx_t *ctx, const sdd_eval_t *e, const sdd_heldout_eval_t *h, const sdd_counts_eval_t *ce,
                    const sdd_counts_eval_t *cf, double secs)
{
    if (h) cli_heldout_summary(ctx, h, secs);
    else if (!ctx->quiet)
        fprintf(stderr,
                "[M::simulate] against the training cells: sparsity real %.2f%% synthetic %.2f%%; SCC %.4f "
                "PCC %.4f MMD %.4f LISI scaled %.4f kNN AUC %.4f%s; %.1f s\n",
                100 * e->sparsity_real, 100 * e->sparsity_synth, e->scc, e->pcc, e->mmd, e->lisi_scaled,
                e->knn_auc, e->n_sub < e->n_real ? " (MMD, LISI and kNN AUC on a subsample, --n-sub)" : "", secs);
    if (ce) cli_counts_summary(ctx, ce, h ? cf : NULL);
}

/* simulate's defaults: each stage's own, a held-out share, pieces of CLI_SAMPLE_PIECE cells */
static void sim_opt_init(sim_opt_t *s)
{
    memset(s, 0, sizeof *s);
    sdd_prep_opt_init(&s->po);
    sdd_train_opt_init(&s->to);
    sdd_sample_opt_init(&s->so);
    sdd_eval_opt_init(&s->eo);
    s->po.holdout = SDD_HOLDOUT_DEFAULT;
    s->piece = CLI_SAMPLE_PIECE;
}

/* every synthetic cell written, and the random share of them the evaluation kept */
static void add_synthetic_cells(cJSON *mj, int64_t n_written, int64_t n_evaluated)
{
    if (!mj) return;
    cJSON_AddNumberToObject(mj, "synthetic_cells", (double)n_written);
    cJSON_AddNumberToObject(mj, "synthetic_cells_evaluated", (double)n_evaluated);
}

int cli_simulate_main(int argc, char **argv, cli_ctx_t *ctx)
{
    sim_opt_t s;
    outputs_t out = {0};
    sdd_trainset_t *ts = NULL;
    sdd_model_t *m = NULL;
    cli_kept_t sy = {0};
    int64_t *keep = NULL, n_keep = 0;
    sdd_eval_t *e = NULL;
    sdd_heldout_eval_t *h = NULL;
    sdd_csr_t real_cnt = {0}, floor_cnt = {0};
    sdd_counts_eval_t ce, cf;
    cJSON *uns = NULL, *mj = NULL;
    cli_report_built_t rb;
    double secs[4] = {0}, t0;
    int rc, crc = CLI_FAIL;

    sim_opt_init(&s);
    memset(&rb, 0, sizeof rb);
    if ((rc = parse(argc, argv, ctx, &s)) != CLI_OK) {
        cli_label_counts_free(&s.lc);
        return rc < 0 ? CLI_OK : rc;
    }
    if (make_outputs(s.out, s.prefix, s.model_out, &out)) {
        crc = cli_error(ctx, "out of memory");
        goto done;
    }
    s.ro.sample = s.prefix ? s.prefix : s.out;
    if (cli_report_check(ctx, &s.ro) != CLI_OK) goto done;
    s.to.seed = s.so.seed = s.eo.seed = s.po.holdout_seed = ctx->seed;
    s.po.threads = ctx->threads;
    s.po.progress = cli_progress;
    s.po.progress_user = ctx;
    if (!s.n_set) s.so.n_cells = 1; /* checked now, set from the data below */
    if ((rc = sdd_prep_opt_check(&s.po)) < 0 || (rc = sdd_train_opt_check(&s.to)) < 0 ||
        (rc = sdd_sample_opt_check(&s.so)) < 0 || (rc = sdd_eval_opt_check(&s.eo)) < 0)
        goto lib_fail;
    t0 = sdd_realtime();
    if ((rc = sdd_prep_run(argv[optind], &s.po, &ts)) < 0) goto lib_fail;
    secs[0] = sdd_realtime() - t0;
    if ((rc = sdd_model_create(ts, &s.to, &m)) < 0) goto lib_fail;
    s.to.steps = sdd_model_total_steps(m);
    if (!s.n_set) s.so.n_cells = ts->n_cells;
    if (!s.so.steps) s.so.steps = sdd_sample_default_steps(s.so.n_cells);
    if (!ctx->quiet)
        fprintf(stderr, "[M::simulate] %lld cells x %lld genes (%lld more held out); preset %s; %lld training steps "
                "(%s products), %lld sampling steps (%s products)\n", (long long)ts->n_cells, (long long)ts->G,
                (long long)ts->n_heldout, s.preset, (long long)s.to.steps, sdd_precision_name(sdd_train_products(m)),
                (long long)s.so.steps, sdd_precision_name(sdd_sample_products(m, s.so.precision)));
    t0 = sdd_realtime();
    if ((crc = cli_train_run(ctx, m, ts, out.model)) != CLI_OK) goto done;
    secs[1] = sdd_realtime() - t0;
    crc = CLI_FAIL;
    if (out.model && (rc = sdd_model_save(m, out.model)) < 0) goto lib_fail;
    if (!(uns = cli_sample_uns(out.model ? out.model : "", m, &s.so, ctx))) {
        crc = cli_error(ctx, "out of memory");
        goto done;
    }
    if ((rc = eval_positions(&s, ctx->seed, &keep, &n_keep)) < 0) goto lib_fail;
    if (keep && !ctx->quiet)
        fprintf(stderr, "[M::simulate] %lld synthetic cells are written %lld at a time; the evaluation uses a "
                "random %lld of them\n", (long long)s.so.n_cells, (long long)s.piece, (long long)n_keep);
    t0 = sdd_realtime();
    if ((crc = cli_sample_to_file(ctx, out.h5ad, m, &s.so, uns, s.counts, s.piece, keep, n_keep, &sy)) != CLI_OK)
        goto done;
    secs[2] = sdd_realtime() - t0;
    crc = CLI_FAIL;
    t0 = sdd_realtime();
    if ((rc = evaluate(ctx, ts, &sy, &s.eo, &e, &h)) < 0) {
        unlink(out.h5ad);
        goto lib_fail;
    }
    if (s.counts && (rc = evaluate_counts(ts, h != NULL, &sy.counts, &real_cnt, &floor_cnt, &ce, &cf)) < 0) {
        unlink(out.h5ad);
        goto lib_fail;
    }
    secs[3] = sdd_realtime() - t0;
    if ((s.ro.html || s.ro.multiqc_dir) &&
        (crc = build_report(ctx, &s, argv[optind], &out, ts, &sy, e, h, &rb)) != CLI_OK) {
        unlink(out.h5ad);
        goto done;
    }
    crc = CLI_FAIL;
    mj = metrics_json(e, h, argv[optind], &out, &s.to, &s.so, s.preset, secs, ts, s.po.holdout);
    add_synthetic_cells(mj, s.so.n_cells, sy.X.n_rows);
    if (mj && s.counts) cJSON_AddItemToObject(mj, "counts", cli_counts_json(&ce, h ? &cf : NULL));
    add_trained_steps(mj, m, &s.so);
    if (!mj || cli_write_json(ctx, out.json, mj) != CLI_OK) {
        unlink(out.h5ad);
        crc = CLI_FAIL;
        goto done;
    }
    if (cli_report_write(ctx, &s.ro, &rb) != CLI_OK) {
        unlink(out.h5ad);
        unlink(out.json);
        goto done;
    }
    summary(ctx, e, h, s.counts ? &ce : NULL, &cf, secs[0] + secs[1] + secs[2] + secs[3]);
    crc = CLI_OK;
    goto done;
lib_fail:
    crc = cli_lib_error(ctx, rc);
done:
    if (crc != CLI_OK) cli_report_abandon(&s.ro);
    cli_report_built_free(&rb);
    cJSON_Delete(mj);
    cJSON_Delete(uns);
    cli_kept_free(&sy);
    free(keep);
    sdd_csr_free(&real_cnt);
    sdd_csr_free(&floor_cnt);
    sdd_eval_destroy(e);
    sdd_heldout_eval_destroy(h);
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
    free_outputs(&out);
    cli_label_counts_free(&s.lc);
    return crc;
}
