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
#include <signal.h>
#include <unistd.h>

typedef struct {
    sdd_prep_opt_t prep;
    sdd_train_opt_t train;
    const char *out, *resume, *input;
    int steps_set;
} train_args_t;

enum { O_RESUME = 512 };

static int parse_args(int argc, char **argv, cli_ctx_t *ctx, train_args_t *a)
{
    static struct option lo[CLI_MAX_LONGOPTS];
    static const struct option own[] = {
        {"resume", required_argument, NULL, O_RESUME}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const int steps = cli_num_code(SDD_OPTS_TRAIN, "steps");
    int c, n = 0;
    cli_add_longopts(lo, &n, own);
    cli_prep_longopts(lo, &n, 0);
    cli_train_longopts(lo, &n);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hn:o:", lo, NULL)) != -1) {
        switch (c) {
        case 'h': return cli_print_usage(ctx, stdout), -1;
        case ':': return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        case '?': return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        case 'o': a->out = optarg; break;
        case O_RESUME: a->resume = optarg; break;
        case 'n': c = cli_num_code(SDD_OPTS_PREP, "n-top-genes"); /* -n is --n-top-genes here */ /* fall through */
        default:
            if (c == steps) a->steps_set = 1;
            if (cli_train_option(ctx, c, optarg, &a->prep, &a->train) != 0) return CLI_FAIL;
        }
    }
    if (argc - optind != 1) return cli_usage_error(ctx, "expected one input file, got %d arguments", argc - optind);
    if (!a->out) return cli_usage_error(ctx, "missing -o MODEL.sdd");
    if (a->steps_set && a->train.steps == 0) return cli_usage_error(ctx, "--steps must be at least 1");
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
    if (sdd_model_stopped(*m, NULL) > 0)
        fprintf(stderr, "sddcell train: warning: the validation rule ended the training of %s at step %lld; it trains "
                "no further (train a new model with --validation 0 to run all the steps)\n", a->resume,
                (long long)sdd_model_stopped(*m, NULL));
    else if (sdd_model_step(*m) >= sdd_model_total_steps(*m))
        fprintf(stderr, "sddcell train: warning: %s has done all its %lld steps; give --steps N to train further\n",
                a->resume, (long long)sdd_model_total_steps(*m));
    sdd_model_set_checkpoint(*m, a->train.checkpoint_every, a->out);
    return 0;
}

/* Under mpirun: has any rank failed since the last check? All ranks call this at the same
 * points; *show is set on the lowest failing rank, the one whose message is shown. */
static int any_failed(int size, int rank, int failed, int *show)
{
    int first;
    if (size < 2) {
        *show = failed;
        return failed;
    }
    first = cli_mpi_agree(failed);
    *show = first == rank;
    return first >= 0;
}

static int train_run(int argc, char **argv, cli_ctx_t *ctx, int rank, int size, int *show)
{
    train_args_t a;
    sdd_trainset_t *ts = NULL;
    sdd_model_t *m = NULL;
    int rc, st = CLI_OK;
    memset(&a, 0, sizeof a);
    sdd_prep_opt_init(&a.prep);
    sdd_train_opt_init(&a.train);
    st = parse_args(argc, argv, ctx, &a);
    if (any_failed(size, rank, st > 0, show)) return st > 0 ? st : CLI_FAIL;
    if (st < 0) return CLI_OK; /* --help */
    a.train.seed = ctx->seed;
    a.train.checkpoint_path = a.out;
    a.prep.threads = ctx->threads;
    a.prep.progress = cli_progress;
    a.prep.progress_user = ctx;
    if ((rc = sdd_train_opt_check(&a.train)) < 0) st = cli_usage_error(ctx, "%s", sdd_errdetail());
    else if (size > 1 && (a.train.grad_slices < size || a.train.grad_slices % size || (size & (size - 1))))
        st = cli_usage_error(ctx, "%d MPI processes need --grad-slices S, a power of two that is a multiple of %d "
                             "(%d processes), e.g. --grad-slices %d; one process with the same S gives the same model",
                             size, size, size, size > 4 ? size : 4);
    if (any_failed(size, rank, st != CLI_OK, show)) return st != CLI_OK ? st : CLI_FAIL;
    sdd_set_threads(ctx->threads);
    if ((rc = sdd_prep_run(a.input, &a.prep, &ts)) < 0) st = cli_lib_error(ctx, rc);
    else if ((st = get_model(ctx, &a, ts, &m)) == 0 && size > 1 &&
             (rc = sdd_model_set_parallel(m, rank, size, cli_mpi_reduce, NULL)) < 0)
        st = cli_lib_error(ctx, rc);
    if (any_failed(size, rank, st != CLI_OK, show)) {
        if (st == CLI_OK) st = CLI_FAIL;
        goto done;
    }
    if (!ctx->quiet)
        fprintf(stderr, "[M::train] %lld cells, %lld genes, %lld parameters, %s products, steps %lld to %lld%s\n",
                (long long)ts->n_cells, (long long)ts->G, (long long)sdd_model_n_params(m),
                sdd_precision_name(sdd_train_products(m)),
                (long long)sdd_model_step(m), (long long)sdd_model_total_steps(m),
                size > 1 ? ", data-parallel over MPI" : "");
    rc = sdd_model_train(m, ts, cli_progress, ctx);
    if (rc < 0 && rc != SDD_EINTR) st = cli_lib_error(ctx, rc);
    if (any_failed(size, rank, rc < 0 && rc != SDD_EINTR, show)) {
        if (st == CLI_OK) st = CLI_FAIL;
        goto done;
    }
    if (rank > 0) goto done; /* rank 0 writes the model */
    if (rc == SDD_EINTR) cli_signal_grace(); /* the checkpoint is written in full; a second signal skips it */
    if (sdd_model_save(m, a.out) < 0) {
        st = cli_lib_error(ctx, SDD_EIO);
        *show = 1;
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

int cli_train_main(int argc, char **argv, cli_ctx_t *ctx)
{
    int rank = 0, size = 1, show = 0, saved = -1, st;
    FILE *held = NULL;
    if ((st = cli_mpi_start(&argc, &argv, &rank, &size)) == -2) {
        /* rank 0 says why and fails the job; the others end quietly with 0, since a
         * non-zero exit would have mpirun kill rank 0 before it has said it */
        if (rank > 0) return CLI_OK;
        return cli_error(ctx, "mpirun started %d processes, but this sddcell was built without MPI "
                         "(./configure --with-mpi); run it as one process", size);
    }
    if (st < 0) return cli_error(ctx, "MPI failed to start");
    if (size > 1) {
        /* an interrupt ends every rank (mpirun passes it on) without a checkpoint: the
         * ranks could not agree on the step to save */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sdd_set_interrupt_hook(NULL, NULL);
    }
    if (rank > 0) { /* the other ranks hold their messages until it is known who speaks */
        fflush(stderr);
        ctx->quiet = 1;
        if ((held = tmpfile()) && (saved = dup(2)) >= 0) dup2(fileno(held), 2);
    }
    st = train_run(argc, argv, ctx, rank, size, &show);
    if (saved >= 0) {
        char buf[4096];
        size_t k;
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        rewind(held);
        while (show && (k = fread(buf, 1, sizeof buf, held)) > 0) fwrite(buf, 1, k, stderr);
    }
    if (held) fclose(held);
    cli_mpi_end();
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
    const cJSON *v = cJSON_GetObjectItem(j, "validation");
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
    const cJSON *pr = cJSON_GetObjectItem(t, "precision"); /* absent in older models: fp32 */
    fprintf(fp, "products\ttraining %s%s\n", cJSON_IsString(pr) ? pr->valuestring : "fp32",
            cJSON_IsString(pr) && !strcmp(pr->valuestring, "int8") ? " (forward and input gradients; weight gradients fp32)" : "");
    fprintf(fp, "scaling\t%s, M %g, bit scale %g\n", cJSON_GetObjectItem(sc, "mode")->valuestring,
            cJSON_GetObjectItem(sc, "M")->valuedouble, cJSON_GetObjectItem(sc, "bit_scale")->valuedouble);
    if (cJSON_IsObject(v) && cJSON_GetObjectItem(v, "stopped")->valuedouble > 0)
        fprintf(fp, "validation\tended training at step %.0f: the loss on %g of the cells rose; weights of step %.0f "
                "(loss %.5f, lowest %.5f at step %.0f)\n", cJSON_GetObjectItem(v, "stopped")->valuedouble,
                cJSON_GetObjectItem(t, "validation")->valuedouble, cJSON_GetObjectItem(v, "kept_step")->valuedouble,
                cJSON_GetObjectItem(v, "kept_loss")->valuedouble, cJSON_GetObjectItem(v, "best_loss")->valuedouble,
                cJSON_GetObjectItem(v, "best_step")->valuedouble);
    else if (cJSON_IsObject(v))
        fprintf(fp, "validation\t%.0f checks on %g of the cells; lowest loss %.5f at step %.0f\n",
                cJSON_GetObjectItem(v, "checks")->valuedouble, cJSON_GetObjectItem(t, "validation")->valuedouble,
                cJSON_GetObjectItem(v, "best_loss")->valuedouble, cJSON_GetObjectItem(v, "best_step")->valuedouble);
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
