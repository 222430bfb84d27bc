/*
 * cli.h: the sddcell command-line front end. main.c dispatches from one table of
 * subcommands; each cli_<cmd>.c turns options into library calls and library error
 * codes into one stderr line and an exit status. Only the front end prints or exits.
 */
#ifndef SDD_CLI_H
#define SDD_CLI_H

#include "sddcell.h"
#include <stdio.h>

/* Global options, accepted before or after the subcommand name. */
typedef struct {
    int threads;        /* --threads N: compute threads, OpenBLAS included (>= 1) */
    uint64_t seed;      /* --seed N */
    int seed_set;       /* --seed was given */
    int verbose;        /* -v: debug log and a closing resource line */
    int quiet;          /* --quiet: errors and warnings only, no progress */
    const char *cmd;    /* subcommand name, for messages */
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
/* Print the usage of the current command on stdout (for --help); returns CLI_OK. */
int cli_print_usage(const cli_ctx_t *ctx, FILE *fp);
/* Look up a command by name (NULL if unknown). */
const cli_cmd_t *cli_find(const char *name);

/* Progress callback for library stages: a redrawn bar on a terminal, a log line every
 * few seconds otherwise, nothing with --quiet. `user` is the cli_ctx_t. Returns non-zero
 * once SIGINT/SIGTERM has been received (the library then stops with SDD_EINTR). */
int cli_progress(const char *stage, int64_t done, int64_t total, const char *status, void *user);
/* Install SIGINT/SIGTERM handlers that set the interrupt flag read by cli_progress. */
void cli_catch_signals(void);
int cli_interrupted(void);

/* Start-up for every command: library init, log sink and level, OpenBLAS thread cap.
 * Returns 0 or 1 after printing an error. */
int cli_setup(cli_ctx_t *ctx);
/* The -v closing line: version, command line, real and CPU time, peak RSS. */
void cli_run_footer(const cli_ctx_t *ctx, double t0, double c0);

/* getopt_long helpers: parse a strictly numeric option value or fail with usage. */
int cli_opt_int(const cli_ctx_t *ctx, const char *opt, const char *val, int64_t min, int64_t max,
                int64_t *out);
int cli_opt_double(const cli_ctx_t *ctx, const char *opt, const char *val, double min, double max,
                   double *out);

/* The commands. */
int cli_info_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_convert_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_hvg_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_evaluate_main(int argc, char **argv, cli_ctx_t *ctx);
int cli_embed_main(int argc, char **argv, cli_ctx_t *ctx);

extern const cli_cmd_t cli_commands[];

#endif
