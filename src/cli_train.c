/*
 * cli_train.c: `sddcell train FILE -o MODEL.sdd`: preprocessing (QC, normalize_total,
 * log1p, HVG) then training of the SDD denoiser, with a progress display; SIGINT/SIGTERM
 * writes a checkpoint to the output and exits 130; `--resume MODEL` continues a run.
 * Also the model part of `sddcell info` (cli_info_model).
 */
#include "cli.h"
#include <stdio.h>
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *flavors[] = {"seurat", "cell_ranger", "seurat_v3"};

static int parse_hidden(cli_ctx_t *ctx, const char *s, int *h)
{
    char buf[128], *tok, *save = NULL;
    int n = 0;
    int64_t v;
    snprintf(buf, sizeof buf, "%s", s);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == 4 || sdd_parse_int64(tok, 1, 16384, "--hidden width", &v) < 0)
            return cli_usage_error(ctx, "--hidden takes four widths in [1, 16384], e.g. 512,512,256,128");
        h[n++] = (int)v;
    }
    if (n != 4) return cli_usage_error(ctx, "--hidden takes four widths, e.g. 512,512,256,128");
    return 0;
}

typedef struct {
    sdd_prep_opt_t prep;
    sdd_train_opt_t train;
    const char *out, *resume, *input;
    int steps_set;
} train_args_t;

enum { O_FLAVOR = 256, O_MINC, O_MING, O_TSUM, O_CHUNK, O_LAYER, O_RAW, O_GENOME, O_FTYPE, O_LABEL,
       O_STEPS, O_BATCH, O_LR, O_EMA, O_BITS, O_SCALE, O_CLIP, O_HIDDEN, O_HEAD, O_EMB, O_NOBITS,
       O_LDROP, O_BITW, O_VMASK, O_SELF, O_CKPT, O_RESUME, O_LRDECAY };

static int parse_prep(cli_ctx_t *ctx, int c, train_args_t *a)
{
    sdd_prep_opt_t *p = &a->prep;
    int f;
    switch (c) {
    case 'n': return cli_opt_int(ctx, "--n-top-genes", optarg, 1, INT32_MAX, &p->n_top_genes);
    case O_FLAVOR:
        for (f = 0; f < 3 && strcmp(optarg, flavors[f]); f++) {}
        if (f == 3) return cli_usage_error(ctx, "unknown --flavor '%s' (seurat, cell_ranger, seurat_v3)", optarg);
        p->flavor = f;
        return 0;
    case O_MINC: return cli_opt_int(ctx, "--min-cells", optarg, 0, 1000, &p->min_cells);
    case O_MING: return cli_opt_int(ctx, "--min-genes", optarg, 0, INT32_MAX, &p->min_genes);
    case O_TSUM:
        if (!strcmp(optarg, "median")) p->target_sum = 0;
        else return cli_opt_double(ctx, "--target-sum", optarg, 1e-300, 1e300, &p->target_sum);
        return 0;
    case O_CHUNK: return cli_opt_int(ctx, "--chunk-rows", optarg, 1, INT32_MAX, &p->chunk_rows);
    case O_LAYER: p->read.layer = optarg; return 0;
    case O_RAW: p->read.raw = 1; return 0;
    case O_GENOME: p->read.genome = optarg; return 0;
    case O_FTYPE: p->read.feature_type = optarg; return 0;
    case O_LABEL: p->label_key = optarg; return 0;
    default: return -2;
    }
}

static int parse_train(cli_ctx_t *ctx, int c, train_args_t *a)
{
    sdd_train_opt_t *t = &a->train;
    int64_t v;
    switch (c) {
    case O_STEPS: a->steps_set = 1; return cli_opt_int(ctx, "--steps", optarg, 1, 1000000000, &t->steps);
    case O_BATCH: return cli_opt_int(ctx, "--batch-size", optarg, 1, 65536, &t->batch);
    case O_LR: return cli_opt_double(ctx, "--lr", optarg, 1e-12, 0.999, &t->lr);
    case O_EMA: return cli_opt_double(ctx, "--ema", optarg, 0, 0.999999999, &t->ema);
    case O_BITS: return cli_opt_double(ctx, "--bit-scale", optarg, 1e-6, 100, &t->bit_scale);
    case O_SCALE:
        if (strcmp(optarg, "global") && strcmp(optarg, "gene"))
            return cli_usage_error(ctx, "--scale is global or gene, not '%s'", optarg);
        t->scale_gene = !strcmp(optarg, "gene");
        return 0;
    case O_CLIP: return cli_opt_double(ctx, "--clip", optarg, 0, 1e30, &t->clip);
    case O_HIDDEN: return parse_hidden(ctx, optarg, t->hidden);
    case O_HEAD: if (cli_opt_int(ctx, "--head", optarg, 1, 65536, &v)) return 1; t->head = (int)v; return 0;
    case O_EMB:
        if (cli_opt_int(ctx, "--emb", optarg, 2, 16384, &v)) return 1;
        if (v % 2) return cli_usage_error(ctx, "--emb must be even");
        t->emb = (int)v;
        return 0;
    case O_NOBITS: t->sparsity_bits = 0; return 0;
    case O_LDROP: return cli_opt_double(ctx, "--label-dropout", optarg, 0, 1, &t->label_dropout);
    case O_BITW: return cli_opt_double(ctx, "--bit-weight", optarg, 0, 1e6, &t->bit_weight);
    case O_VMASK: t->value_mask = 1; return 0;
    case O_SELF: return cli_opt_double(ctx, "--self-cond", optarg, 0, 1, &t->self_cond);
    case O_CKPT: return cli_opt_int(ctx, "--checkpoint-every", optarg, 0, INT64_MAX, &t->checkpoint_every);
    case O_RESUME: a->resume = optarg; return 0;
    case O_LRDECAY:
        if (strcmp(optarg, "cosine") && strcmp(optarg, "constant"))
            return cli_usage_error(ctx, "--lr-decay is cosine or constant, not '%s'", optarg);
        t->lr_decay = !strcmp(optarg, "cosine");
        return 0;
    case 'o': a->out = optarg; return 0;
    default: return -2;
    }
}

static int parse_args(int argc, char **argv, cli_ctx_t *ctx, train_args_t *a)
{
    static const struct option lo[] = {
        {"n-top-genes", required_argument, NULL, 'n'}, {"flavor", required_argument, NULL, O_FLAVOR},
        {"min-cells", required_argument, NULL, O_MINC}, {"min-genes", required_argument, NULL, O_MING},
        {"target-sum", required_argument, NULL, O_TSUM}, {"chunk-rows", required_argument, NULL, O_CHUNK},
        {"layer", required_argument, NULL, O_LAYER}, {"raw", no_argument, NULL, O_RAW},
        {"genome", required_argument, NULL, O_GENOME}, {"feature-type", required_argument, NULL, O_FTYPE},
        {"label", required_argument, NULL, O_LABEL}, {"steps", required_argument, NULL, O_STEPS},
        {"batch-size", required_argument, NULL, O_BATCH}, {"lr", required_argument, NULL, O_LR},
        {"ema", required_argument, NULL, O_EMA}, {"bit-scale", required_argument, NULL, O_BITS},
        {"scale", required_argument, NULL, O_SCALE}, {"clip", required_argument, NULL, O_CLIP},
        {"hidden", required_argument, NULL, O_HIDDEN}, {"head", required_argument, NULL, O_HEAD},
        {"emb", required_argument, NULL, O_EMB}, {"no-sparsity-bits", no_argument, NULL, O_NOBITS},
        {"label-dropout", required_argument, NULL, O_LDROP}, {"bit-weight", required_argument, NULL, O_BITW},
        {"value-mask", no_argument, NULL, O_VMASK}, {"self-cond", required_argument, NULL, O_SELF},
        {"checkpoint-every", required_argument, NULL, O_CKPT}, {"resume", required_argument, NULL, O_RESUME},
        {"lr-decay", required_argument, NULL, O_LRDECAY},
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c, r;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hn:o:", lo, NULL)) != -1) {
        if (c == 'h') return cli_print_usage(ctx, stdout), -1;
        if (c == ':') return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        if (c == '?') return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        if ((r = parse_prep(ctx, c, a)) == -2) r = parse_train(ctx, c, a);
        if (r) return CLI_FAIL;
    }
    if (argc - optind != 1) return cli_usage_error(ctx, "expected one input file, got %d arguments", argc - optind);
    if (!a->out) return cli_usage_error(ctx, "missing -o MODEL.sdd");
    if (a->prep.read.layer && a->prep.read.raw) return cli_usage_error(ctx, "--layer and --raw exclude each other");
    a->input = argv[optind];
    return 0;
}

/* The model to train: a fresh one, or the --resume file with an optional new step count. */
static int get_model(cli_ctx_t *ctx, const train_args_t *a, const sdd_trainset_t *ts, sdd_model_t **m)
{
    int rc;
    if (!a->resume) {
        rc = sdd_model_create(ts, &a->train, m);
        return rc < 0 ? cli_lib_error(ctx, rc) : 0;
    }
    if ((rc = sdd_model_load(a->resume, m)) < 0) return cli_lib_error(ctx, rc);
    if (a->steps_set && (rc = sdd_model_set_steps(*m, a->train.steps)) < 0) return cli_lib_error(ctx, rc);
    if (sdd_model_step(*m) >= sdd_model_total_steps(*m))
        fprintf(stderr, "sddcell train: warning: %s has done all its %lld steps; give --steps N to train further\n",
                a->resume, (long long)sdd_model_total_steps(*m));
    sdd_model_set_checkpoint(*m, a->train.checkpoint_every, a->out);
    return 0;
}

int cli_train_main(int argc, char **argv, cli_ctx_t *ctx)
{
    train_args_t a;
    sdd_trainset_t *ts = NULL;
    sdd_model_t *m = NULL;
    int rc, st;
    memset(&a, 0, sizeof a);
    sdd_prep_opt_init(&a.prep);
    sdd_train_opt_init(&a.train);
    if ((st = parse_args(argc, argv, ctx, &a)) != 0) return st < 0 ? CLI_OK : st;
    a.train.seed = ctx->seed;
    a.train.checkpoint_path = a.out;
    a.prep.threads = ctx->threads;
    if ((rc = sdd_train_opt_check(&a.train)) < 0) return cli_usage_error(ctx, "%s", sdd_errdetail());
    sdd_model_set_threads(ctx->threads);
    cli_catch_signals();
    if ((rc = sdd_prep_run(a.input, &a.prep, &ts)) < 0) return cli_lib_error(ctx, rc);
    if ((st = get_model(ctx, &a, ts, &m)) != 0) goto done;
    if (!ctx->quiet)
        fprintf(stderr, "[M::train] %lld cells, %lld genes, %lld parameters, steps %lld to %lld\n",
                (long long)ts->n_cells, (long long)ts->G, (long long)sdd_model_n_params(m),
                (long long)sdd_model_step(m), (long long)sdd_model_total_steps(m));
    rc = sdd_model_train(m, ts, cli_progress, ctx);
    if (rc < 0 && rc != SDD_EINTR) {
        st = cli_lib_error(ctx, rc);
        goto done;
    }
    if (sdd_model_save(m, a.out) < 0) {
        st = cli_lib_error(ctx, SDD_EIO);
        goto done;
    }
    if (rc == SDD_EINTR) {
        fprintf(stderr, "sddcell train: interrupted at step %lld of %lld; checkpoint written to %s "
                "(continue with --resume %s)\n", (long long)sdd_model_step(m),
                (long long)sdd_model_total_steps(m), a.out, a.out);
        st = CLI_INTERRUPTED;
    } else {
        st = CLI_OK;
    }
done:
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
    return st;
}

/* ------------------------------------------------------------ info MODEL */

int cli_is_model_file(const char *path)
{
    char magic[8];
    FILE *f = fopen(path, "rb");
    int yes = f && fread(magic, 1, 8, f) == 8 && !memcmp(magic, "SDDCELL", 8);
    if (f) fclose(f);
    return yes;
}

static void print_model(FILE *fp, const char *path, const cJSON *j, const sdd_model_t *m)
{
    const cJSON *t = cJSON_GetObjectItem(j, "train"), *lab = cJSON_GetObjectItem(j, "labels");
    const cJSON *sc = cJSON_GetObjectItem(j, "scaling"), *h = cJSON_GetObjectItem(t, "hidden");
    fprintf(fp, "file\t%s\nformat\tsddcell model (format %d), written by sddcell %s\n", path,
            cJSON_GetObjectItem(j, "format_version")->valueint, cJSON_GetObjectItem(j, "tool_version")->valuestring);
    fprintf(fp, "parameters\t%lld\ngenes\t%lld\n", (long long)sdd_model_n_params(m), (long long)sdd_model_n_genes(m));
    fprintf(fp, "network\thidden %d,%d,%d,%d head %d emb %d, %s\n", cJSON_GetArrayItem(h, 0)->valueint,
            cJSON_GetArrayItem(h, 1)->valueint, cJSON_GetArrayItem(h, 2)->valueint, cJSON_GetArrayItem(h, 3)->valueint,
            cJSON_GetObjectItem(t, "head")->valueint, cJSON_GetObjectItem(t, "emb")->valueint,
            cJSON_IsTrue(cJSON_GetObjectItem(t, "sparsity_bits")) ? "values and sparsity bits" : "values only");
    fprintf(fp, "steps\t%lld of %lld (batch %d, lr %g, EMA %g, seed %.0f)\n", (long long)sdd_model_step(m),
            (long long)sdd_model_total_steps(m), cJSON_GetObjectItem(t, "batch_size")->valueint,
            cJSON_GetObjectItem(t, "lr")->valuedouble, cJSON_GetObjectItem(t, "ema")->valuedouble,
            cJSON_GetObjectItem(t, "seed")->valuedouble);
    fprintf(fp, "scaling\t%s, M %g, bit scale %g\n", cJSON_GetObjectItem(sc, "mode")->valuestring,
            cJSON_GetObjectItem(sc, "M")->valuedouble, cJSON_GetObjectItem(sc, "bit_scale")->valuedouble);
    if (cJSON_IsObject(lab))
        fprintf(fp, "labels\t%s (%d categories)\n", cJSON_GetObjectItem(lab, "key")->valuestring,
                cJSON_GetArraySize(cJSON_GetObjectItem(lab, "categories")));
    else
        fprintf(fp, "labels\tnone (unconditional)\n");
}

int cli_info_model(cli_ctx_t *ctx, const char *path, int json)
{
    sdd_model_t *m = NULL;
    char *txt = NULL;
    cJSON *j = NULL;
    int rc = sdd_model_load(path, &m);
    if (rc < 0) return cli_lib_error(ctx, rc);
    if (!(txt = sdd_model_json(m)) || !(j = cJSON_Parse(txt))) {
        rc = cli_error(ctx, "out of memory");
        goto done;
    }
    if (json) {
        char *pretty = cJSON_Print(j);
        if (pretty) printf("%s\n", pretty);
        free(pretty);
    } else {
        print_model(stdout, path, j, m);
    }
    rc = fflush(stdout) ? cli_error(ctx, "cannot write to stdout") : CLI_OK;
done:
    cJSON_Delete(j);
    free(txt);
    sdd_model_destroy(m);
    return rc;
}
