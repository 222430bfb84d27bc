/*
 * cli.h: the sddcell command-line front end. main.c dispatches from one table of
 * subcommands; each cli_<cmd>.c turns options into library calls and library error
 * codes into one stderr line and an exit status. Only the front end prints or exits.
 */
#ifndef SDD_CLI_H
#define SDD_CLI_H

#include "sddcell.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>

/* Global options, accepted before or after the subcommand name. */
typedef struct {
    int threads;        /* --threads N: compute threads, OpenBLAS included (>= 1) */
    uint64_t seed;      /* --seed N */
    int seed_set;       /* --seed was given */
    int verbose;        /* -v: debug log and a closing resource line */
    int quiet;          /* --quiet: errors and warnings only, no progress */
    const char *cmd;    /* subcommand name, for messages */
    const char *usage;  /* its usage text, for --help and misuse */
    int argc;           /* the original command line, for the closing line and uns */
    char **argv;
} cli_ctx_t;

typedef int (*cli_main_f)(int argc, char **argv, cli_ctx_t *ctx);

typedef struct {
    const char *name;
    cli_main_f main;
    const char *summary;   /* one line for `sddcell --help` */
    const char *usage;     /* full usage text for `help CMD` and `CMD --help` */
} cli_cmd_t;

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_INTERRUPTED = 130 };

/* Print "sddcell CMD: message" on stderr (one line). Returns CLI_FAIL. */
int cli_error(const cli_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a library error code: the thread's detail if any, else sdd_strerror(rc).
 * Returns CLI_INTERRUPTED for SDD_EINTR, else CLI_FAIL. */
int cli_lib_error(const cli_ctx_t *ctx, int rc);
/* Misuse: print "sddcell CMD: message" and the command's usage on stderr; returns CLI_FAIL. */
int cli_usage_error(const cli_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the usage of the current command on fp (stdout for --help; {flavors} in it becomes
 * the library's list of HVG flavours); returns CLI_OK. */
int cli_print_usage(const cli_ctx_t *ctx, FILE *fp);

/* Progress callback for library stages: a redrawn bar on a terminal, a log line every
 * few seconds otherwise, nothing with --quiet. `user` is the cli_ctx_t. Returns non-zero
 * once SIGINT/SIGTERM has been received (the library then stops with SDD_EINTR). */
int cli_progress(const char *stage, int64_t done, int64_t total, const char *status, void *user);
/* SIGINT/SIGTERM handlers for every command (cli_setup installs them): the first signal
 * sets the interrupt flag read by cli_progress and cli_interrupted and gives the command
 * one second to stop cleanly; after that second, or at a second signal, the process ends
 * at once with status 128 + signal and the line "sddcell CMD: interrupted (SIGINT)". */
void cli_catch_signals(const cli_ctx_t *ctx);
int cli_interrupted(void);
/* After an interrupt, lift the one-second limit while the command finishes a bounded
 * last step (train writing its checkpoint); a second signal still ends it at once. */
void cli_signal_grace(void);

/* Start-up for every command: library init, log sink and level, OpenBLAS thread cap.
 * Returns 0 or 1 after printing an error. */
int cli_setup(cli_ctx_t *ctx);
/* The -v closing line: version, command line, real and CPU time, peak RSS. */
void cli_run_footer(const cli_ctx_t *ctx, double t0, double c0);

/* getopt_long helper: parse a strictly integer option value or fail with usage. */
int cli_opt_int(const cli_ctx_t *ctx, const char *opt, const char *val, int64_t min, int64_t max,
                int64_t *out);

/* Numeric options come from the library's tables (sdd_opt_table): the getopt code of
 * entry i of table t is CLI_O_NUM + CLI_O_NUM_STRIDE * t + i. */
enum { CLI_O_NUM = 1024, CLI_O_NUM_STRIDE = 64, CLI_MAX_LONGOPTS = 128 };
/* Append the long options of table `which` to lo[*n] (the array has CLI_MAX_LONGOPTS
 * entries and is kept zero-terminated), leaving out `except` (may be NULL) and names lo
 * already has. */
void cli_num_longopts(struct option *lo, int *n, int which, const char *except);
/* Append the zero-terminated table add to lo[*n] as cli_num_longopts does. */
void cli_add_longopts(struct option *lo, int *n, const struct option *add);
/* The getopt code of the option called name in table which (-1 when there is none). */
int cli_num_code(int which, const char *name);
/* When c is an option of table which, parse arg into the struct at opts (usage error on
 * failure): 0 when set, -1 after the error; 1 when c is not one of that table's. */
int cli_num_option(const cli_ctx_t *ctx, int c, const char *arg, int which, void *opts);
/* "a, b, c": the names name(0), name(1), ... up to the first NULL, into buf. */
const char *cli_name_list(const char *(*name)(int), char *buf, size_t size);

/* Provenance for an output's uns: {"sddcell": {"version", "command", "seed"}}; *section
 * (may be NULL) receives the inner object for the caller's own keys. NULL on out-of-memory. */
cJSON *cli_provenance(const cli_ctx_t *ctx, cJSON **section);
/* Write a JSON document to path through a temporary file renamed into place. Prints the
 * error and returns CLI_FAIL when it cannot. */
int cli_write_json(const cli_ctx_t *ctx, const char *path, const cJSON *json);

/* The options of REAL and SYNTH shared by evaluate and embed (--label 'l',
 * --real-normalized 'r', and SDD_OPTS_PAIR's --target-sum): 0 handled, 1 not one of them, -1 after a
 * usage error. */
int cli_pair_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_pair_opt_t *po);
/* Every figure of an evaluation as a JSON object (NaN as null), as `evaluate --json` and
 * `simulate` write them; the caller adds its own keys and deletes it. */
cJSON *cli_eval_json(const sdd_eval_t *e, const char *label_key);
/* The held-out protocol's figures: the synthetic-vs-held-out figures at the top level (as
 * cli_eval_json, for the scripts that read them there) and again as the block
 * synthetic_vs_heldout, the floor as training_vs_heldout, the memorisation block, the cell
 * counts, "evaluated_against": "heldout" and, when given, the held-out cells' names. */
cJSON *cli_heldout_json(const sdd_heldout_eval_t *h, const char *label_key, char *const *heldout_names,
                        int64_t n_names);
/* One stderr line (none with --quiet): each synthetic figure beside its floor, and the
 * memorisation share; seconds >= 0 is appended. */
void cli_heldout_summary(const cli_ctx_t *ctx, const sdd_heldout_eval_t *h, double seconds);

/* The counts block of a metrics JSON ("synthetic" and, when floor is given, "floor"),
 * and its stderr line (none with --quiet). */
cJSON *cli_counts_json(const sdd_counts_eval_t *c, const sdd_counts_eval_t *floor);
void cli_counts_summary(const cli_ctx_t *ctx, const sdd_counts_eval_t *c, const sdd_counts_eval_t *floor);
/* --report OUT.html and --multiqc DIR (cli_report.c). sample names the MultiQC row
 * (its base name without .h5ad is used). */
typedef struct {
    const char *html;         /* --report, or NULL */
    const char *multiqc_dir;  /* --multiqc, or NULL */
    const char *sample;       /* the run's name: the output or SYNTH file */
    int created_dir;          /* cli_report_check created multiqc_dir */
} cli_report_opt_t;
/* What will be written: the page, the two MultiQC texts and their paths. */
typedef struct {
    char *html;
    size_t html_len;
    char *general, *table;    /* MultiQC general statistics and table section */
    char *paths[2];           /* DIR/SAMPLE_sddcell_general_stats_mqc.json, DIR/SAMPLE_sddcell_mqc.json */
} cli_report_built_t;
/* Before the work: the report's directory exists and is writable, the MultiQC directory
 * exists (it is created when missing) and is writable. CLI_OK or CLI_FAIL after a message. */
int cli_report_check(const cli_ctx_t *ctx, cli_report_opt_t *o);
/* After a failed run: remove the MultiQC directory if cli_report_check created it (and
 * it is still empty). */
void cli_report_abandon(const cli_report_opt_t *o);
/* Build the texts the options ask for (nothing is written) from r, with this run's command
 * line and recipe (taken over and freed here; NULL when it could not be made, which is an
 * out-of-memory failure); CLI_OK or an exit status. */
int cli_report_build(cli_ctx_t *ctx, const cli_report_opt_t *o, sdd_report_t *r, cJSON *recipe,
                     cli_report_built_t *b);
/* Write them, each through a temporary name; on a failure remove those written. */
int cli_report_write(const cli_ctx_t *ctx, const cli_report_opt_t *o, const cli_report_built_t *b);
void cli_report_built_free(cli_report_built_t *b);
/* The command line as typed (allocated; NULL on out-of-memory). */
char *cli_command_line(const cli_ctx_t *ctx);

/* The commands. */
int cli_info_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_convert_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_concat_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_hvg_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_evaluate_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_embed_main(int argc, char **argv, cli_ctx_t *ctx);

int cli_sample_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_simulate_main(int argc, char **argv, cli_ctx_t *ctx);

/* ---- train / sample / simulate: shared option tables (cli_recipe.c, cli_sample.c) */

/* getopt_long codes of the shared long options that are not numbers (above any short
 * option character, below CLI_O_NUM). */
enum {
    CLI_O_FLAVOR = 256, CLI_O_LAYER, CLI_O_RAW, CLI_O_GENOME, CLI_O_FTYPE, CLI_O_LABEL,
    CLI_O_VALUEMASK, CLI_O_NOVALUEMASK, CLI_O_SCALE, CLI_O_NOBITS, CLI_O_SAMPLER, CLI_O_DECODE,
    CLI_O_LCOUNTS, CLI_O_COUNTS, CLI_O_NOEMA, CLI_O_THRESHOLD, CLI_O_LRDECAY, CLI_O_UPDATE,
    CLI_O_SCSAMPLE, CLI_O_PRECOND, CLI_O_NOPRECOND, CLI_O_BITLOGITS, CLI_O_PRECISION, CLI_O_SPRECISION
};

/* Append to lo[*n] (as cli_add_longopts) the preprocessing options (--n-top-genes,
 * --flavor, QC, --target-sum, --chunk-rows, which counts to read; --holdout when holdout
 * is set), the training options (--steps ... --val-every, --label) or the sampling
 * options (--sampler ... --sample-batch; the sampling steps also as --sample-steps). */
void cli_prep_longopts(struct option *lo, int *n, int holdout);
void cli_train_longopts(struct option *lo, int *n);
void cli_sample_longopts(struct option *lo, int *n);
/* Append the options of a group that are not numbers (the three above use it). */
enum { CLI_TEXT_PREP, CLI_TEXT_TRAIN, CLI_TEXT_SAMPLE };
void cli_text_longopts(struct option *lo, int *n, int group);
/* --label-counts A=500,B=500 parsed: names point into buf. */
typedef struct {
    char **names;
    int64_t *counts;
    int n;
    char *buf;
} cli_label_counts_t;
void cli_label_counts_free(cli_label_counts_t *lc);
/* Apply option code c with argument arg. Return 0 when handled, 1 when c is not one of
 * the table's, -1 after printing a usage error. cli_train_option takes the preprocessing
 * options too. */
int cli_prep_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_prep_opt_t *p);
int cli_train_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_prep_opt_t *p, sdd_train_opt_t *t);
int cli_sample_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_sample_opt_t *s,
                      cli_label_counts_t *lc, int *counts);
/* Train with progress; on an interrupt save the model to out and return CLI_INTERRUPTED. */
int cli_train_run(cli_ctx_t *ctx, sdd_model_t *m, const sdd_trainset_t *ts, const char *out);
struct cJSON;
/* The sampler settings (sampler, bit_decode, bit_update, td, guidance, seed,
 * threshold_baseline) added to the JSON object o. */
void cli_sampler_json(struct cJSON *o, const sdd_sample_opt_t *s);
/* uns of a sampled file (a cJSON object; the caller deletes it), and the writer (with
 * layers/counts when counts is set; when keep is given the counts written are handed to
 * the caller, who frees them). */
struct cJSON *cli_sample_uns(const char *model_path, const sdd_model_t *m, const sdd_sample_opt_t *s,
                             const cli_ctx_t *ctx);
int cli_sample_write(cli_ctx_t *ctx, const char *out, const sdd_model_t *m, const sdd_dataset_t *ds,
                     const struct cJSON *uns, int counts, uint64_t seed, sdd_csr_t *keep);

/* Cells of a sampled run kept in memory for evaluation: rows of X, their label codes (NULL
 * for an unconditional model) and, with --counts, their counts. */
typedef struct {
    sdd_csr_t X, counts;
    int32_t *labels;
} cli_kept_t;
void cli_kept_free(cli_kept_t *k);
/* Sample so's cells and write them to `out` (uns and counts as cli_sample_write). Runs of
 * at most 2 x piece cells, or a range (so->first / so->count), are made at once; longer
 * runs `piece` cells at a time, each written to a part file beside out (out.partNNNN.tmp)
 * and all joined by sdd_h5ad_concat into out and removed, so memory holds one piece and
 * the file is the one a single pass writes. kept (may be NULL) receives the cells at the
 * ascending positions keep[0..n_keep-1], or every cell when keep is NULL. */
int cli_sample_to_file(cli_ctx_t *ctx, const char *out, const sdd_model_t *m, const sdd_sample_opt_t *so,
                       const struct cJSON *uns, int counts, int64_t piece, const int64_t *keep, int64_t n_keep,
                       cli_kept_t *kept);
#define CLI_SAMPLE_PIECE 100000

/* Data-parallel training over MPI (cli_mpi.c; one process when built without MPI or
 * run without a launcher). start: MPI_Init under mpirun, *rank and *size (0 and 1
 * otherwise; -2 with the launcher's rank and size when mpirun started several processes
 * of a build without MPI); reduce: an sdd_reduce_f (allgather, then the pairwise sum in rank order);
 * agree: every rank says whether it failed, all get the lowest failing rank (-1: none);
 * end: MPI_Finalize; built: 1 with MPI compiled in. */
int cli_mpi_start(int *argc, char ***argv, int *rank, int *size);
int cli_mpi_reduce(float *buf, int64_t n, void *user);
int cli_mpi_agree(int failed);
void cli_mpi_end(void);
int cli_mpi_built(void);

int cli_train_main(int argc, char **argv, cli_ctx_t *ctx);
/* The model side of `sddcell info` (cli_train.c): whether `path` starts with the model
 * magic, and the description of a model (or its metadata JSON with json != 0). */
int cli_is_model_file(const char *path);
int cli_info_model(cli_ctx_t *ctx, const char *path, int json);

extern const cli_cmd_t cli_commands[];

#endif
