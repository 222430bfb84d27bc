/*
 * cli_train.c: `sddcell train FILE -o MODEL.sdd`: preprocessing (QC, normalize_total,
 * log1p, HVG: sdd_prep_run), then training (sdd_model_create / sdd_model_train) and the
 * model written with sdd_model_save. SIGINT / SIGTERM stop training at a step boundary;
 * the model is then saved (resumable with --resume) and the exit status is 130.
 *
 * Also the option tables that `sddcell simulate` shares with train (preprocessing and
 * training flags), the presets, and the model describer of `sddcell info`.
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
    {"scale", required_argument, NULL, CLI_O_SCALE},
    {"clip", required_argument, NULL, CLI_O_CLIP},
    {"no-sparsity-bits", no_argument, NULL, CLI_O_NOBITS},
    {"checkpoint-every", required_argument, NULL, CLI_O_CKPT},
    {"hidden", required_argument, NULL, CLI_O_HIDDEN},
    {"head", required_argument, NULL, CLI_O_HEAD},
    {"emb", required_argument, NULL, CLI_O_EMB},
    {"label-dropout", required_argument, NULL, CLI_O_LDROP},
    {NULL, 0, NULL, 0}};

/* Presets: the training and sampling recipe of `fast` (the measured best within minutes,
 * bench/fidelity/RESULTS.md) and `paper` (Ostheimer et al.: 300K steps, 1000 DDIM steps,
 * threshold decoding, the SPEC defaults otherwise). */
int cli_preset_apply(const char *name, sdd_train_opt_t *t, sdd_sample_opt_t *s)
{
    if (strcmp(name, "fast") == 0) {
        if (t) {
            t->steps = 0; /* the data-size rule of sdd_train_default_steps */
            t->lr = 1e-3;
            t->value_mask = 1;
        }
        if (s) {
            s->sampler = SDD_SAMPLER_DDIM;
            s->steps = 100;
            s->bit_decode = SDD_DECODE_BERNOULLI;
        }
        return 0;
    }
    if (strcmp(name, "paper") == 0) {
        if (t) {
            t->steps = 300000;
            t->lr = 2e-4;
            t->value_mask = 0;
        }
        if (s) {
            s->sampler = SDD_SAMPLER_DDIM;
            s->steps = 1000;
            s->bit_decode = SDD_DECODE_THRESHOLD;
        }
        return 0;
    }
    return -1;
}

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
    case CLI_O_LABEL: p->label_key = arg; break;
    case CLI_O_STEPS: if (cli_opt_int(ctx, "--steps", arg, 0, 1000000000, &t->steps)) return -1; break;
    case CLI_O_BATCH: if (cli_opt_int(ctx, "--batch-size", arg, 1, 65536, &t->batch)) return -1; break;
    case CLI_O_LR: if (cli_opt_double(ctx, "--lr", arg, 1e-12, 0.999, &t->lr)) return -1; break;
    case CLI_O_EMA: if (cli_opt_double(ctx, "--ema", arg, 0, 0.999999999, &t->ema)) return -1; break;
    case CLI_O_BITSCALE: if (cli_opt_double(ctx, "--bit-scale", arg, 1e-6, 100, &t->bit_scale)) return -1; break;
    case CLI_O_BITWEIGHT: if (cli_opt_double(ctx, "--bit-weight", arg, 0, 1e6, &t->bit_weight)) return -1; break;
    case CLI_O_VALUEMASK: t->value_mask = 1; break;
    case CLI_O_NOVALUEMASK: t->value_mask = 0; break;
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
        t->emb = (int)v;
        break;
    case CLI_O_LDROP: if (cli_opt_double(ctx, "--label-dropout", arg, 0, 1, &t->label_dropout)) return -1; break;
    default: return 1;
    }
    return 0;
}

/* Train m (new or resumed) on ts; on an interrupt the model is saved to out first. */
int cli_train_run(cli_ctx_t *ctx, sdd_model_t *m, const sdd_trainset_t *ts, const char *out)
{
    int rc = sdd_model_train(m, ts, cli_progress, ctx);
    if (rc == SDD_EINTR && out) {
        int src = sdd_model_save(m, out);
        if (src < 0) return cli_lib_error(ctx, src);
        fprintf(stderr, "sddcell %s: interrupted at step %lld; model saved to %s (continue with --resume)\n",
                ctx->cmd, (long long)sdd_model_step(m), out);
        return CLI_INTERRUPTED;
    }
    return rc < 0 ? cli_lib_error(ctx, rc) : CLI_OK;
}

int cli_train_main(int argc, char **argv, cli_ctx_t *ctx)
{
    static struct option longopts[64];
    static const struct option own[] = {
        {"output", required_argument, NULL, 'o'}, {"resume", required_argument, NULL, 'R'},
        {"preset", required_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    sdd_prep_opt_t po;
    sdd_train_opt_t to;
    sdd_trainset_t *ts = NULL;
    sdd_model_t *m = NULL;
    const char *out = NULL, *resume = NULL;
    int c, rc, n = 0, steps_set = 0;

    for (int i = 0; own[i].name; i++) longopts[n++] = own[i];
    for (int i = 0; cli_train_longopts[i].name; i++) longopts[n++] = cli_train_longopts[i];
    memset(&longopts[n], 0, sizeof longopts[n]);
    sdd_prep_opt_init(&po);
    sdd_train_opt_init(&to);
    cli_preset_apply("fast", &to, NULL);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'R': resume = optarg; break;
        case 'P':
            if (cli_preset_apply(optarg, &to, NULL))
                return cli_usage_error(ctx, "unknown --preset '%s' (fast, paper)", optarg);
            break;
        case 'h': return cli_print_usage(ctx, stdout);
        case ':': return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        case '?': return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        default:
            if (c == CLI_O_STEPS) steps_set = 1;
            if ((rc = cli_train_option(ctx, c, optarg, &po, &to)) < 0) return CLI_FAIL;
            if (rc > 0) return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) return cli_usage_error(ctx, "expected one input FILE, got %d arguments", argc - optind);
    if (!out) return cli_usage_error(ctx, "-o MODEL.sdd is required");
    if (po.read.layer && po.read.raw) return cli_usage_error(ctx, "--layer and --raw exclude each other");
    to.seed = ctx->seed;
    to.checkpoint_path = to.checkpoint_every > 0 ? out : NULL;
    if ((rc = sdd_prep_opt_check(&po)) < 0 || (rc = sdd_train_opt_check(&to)) < 0) return cli_lib_error(ctx, rc);
    cli_catch_signals();
    if (resume && (rc = sdd_model_load(resume, &m)) < 0) return cli_lib_error(ctx, rc);
    if ((rc = sdd_prep_run(argv[optind], &po, &ts)) < 0) goto lib_fail;
    if (!m && (rc = sdd_model_create(ts, &to, &m)) < 0) goto lib_fail;
    if (resume && steps_set && to.steps > 0 && (rc = sdd_model_set_steps(m, to.steps)) < 0) goto lib_fail;
    if (!ctx->quiet)
        fprintf(stderr, "[M::train] %lld cells x %lld genes; %lld parameters; %lld steps\n",
                (long long)ts->n_cells, (long long)ts->G, (long long)sdd_model_n_params(m),
                (long long)sdd_model_total_steps(m));
    rc = cli_train_run(ctx, m, ts, out);
    if (rc == CLI_OK && (rc = sdd_model_save(m, out)) < 0) rc = cli_lib_error(ctx, rc);
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
    return rc;
lib_fail:
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
    return cli_lib_error(ctx, rc);
}

/* ------------------------------------------------------------ sddcell info */

int cli_model_probe(const char *path)
{
    char magic[8] = {0};
    FILE *f = fopen(path, "rb");
    int ok;
    if (!f) return 0;
    ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, "SDDCELL", 8) == 0;
    fclose(f);
    return ok;
}

int cli_model_describe(const char *path, int json, cli_ctx_t *ctx)
{
    sdd_model_t *m = NULL;
    cJSON *j = NULL;
    char *txt;
    int rc = sdd_model_load(path, &m);
    if (rc < 0) return cli_lib_error(ctx, rc);
    txt = sdd_model_json(m);
    if (!txt) {
        sdd_model_destroy(m);
        return cli_error(ctx, "out of memory");
    }
    if (json) {
        printf("%s\n", txt);
    } else if ((j = cJSON_Parse(txt))) {
        const cJSON *it;
        printf("file\t%s\nformat\tsddcell model\n", path);
        printf("parameters\t%lld\ngenes\t%lld\nstep\t%lld of %lld\n", (long long)sdd_model_n_params(m),
               (long long)sdd_model_n_genes(m), (long long)sdd_model_step(m),
               (long long)sdd_model_total_steps(m));
        cJSON_ArrayForEach(it, j) {
            char *v;
            if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
                /* long vectors (gene names, per-gene scales) are summarised */
                const cJSON *sub;
                printf("%s\t", it->string);
                cJSON_ArrayForEach(sub, it) {
                    if (cJSON_IsArray(sub) && cJSON_GetArraySize(sub) > 8)
                        printf("%s=[%d values] ", sub->string ? sub->string : "", cJSON_GetArraySize(sub));
                    else if ((v = cJSON_PrintUnformatted(sub))) {
                        if (sub->string) printf("%s=", sub->string);
                        printf("%s ", v);
                        cJSON_free(v);
                    }
                }
                putchar('\n');
                continue;
            }
            v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
            printf("%s\t%s\n", it->string, v ? v : it->valuestring);
            cJSON_free(v);
        }
    }
    cJSON_Delete(j);
    free(txt);
    sdd_model_destroy(m);
    return CLI_OK;
}
