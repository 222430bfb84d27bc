/*
 * cli_common.c: what every subcommand shares: the stderr log sink, error and usage
 * messages, strict option values, the progress display, signal handling, and the
 * closing resource line of -v.
 */
#include "cli.h"
#include <signal.h>
#include <stdarg.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Signals: the first SIGINT / SIGTERM sets a flag that the library's loops read
 * through cli_progress (and the CLI's own loops through cli_interrupted), so that a
 * command can stop cleanly, and starts a 0.75-second alarm for the places that never read
 * it (libhdf5 calls, blocking reads, preprocessing); when the alarm fires, or at a
 * second signal, the process ends at once with 128 + the signal number and one line on
 * stderr. Only async-signal-safe calls are made in the handlers; the lines are built
 * when the handlers are installed. */
static volatile sig_atomic_t got_signal, in_grace;
static char quit_line[2][96];
static size_t quit_len[2];

static void quit_now(int sig)
{
    int k = sig == SIGTERM;
    ssize_t w;
    sdd_tmp_remove_all(); /* no half-written output stays behind */
    w = write(STDERR_FILENO, quit_line[k], quit_len[k]);
    (void)w;
    _exit(128 + sig);
}

static void on_alarm(int sig)
{
    (void)sig;
    if (!in_grace) quit_now(got_signal ? got_signal : SIGINT);
}

/* The clean stop gets 0.75 s, so that with the exit itself the command is gone within
 * a second of the signal. (setitimer is a plain system call on Linux; POSIX lists only
 * alarm, whose whole seconds are too coarse here.) */
static void arm_deadline(long usec)
{
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_value.tv_usec = usec;
    setitimer(ITIMER_REAL, &t, NULL);
}

static void on_signal(int sig)
{
    if (got_signal) quit_now(sig);
    got_signal = sig;
    if (!in_grace) arm_deadline(750000);
}

static int interrupt_hook(void *user)
{
    (void)user;
    return got_signal != 0;
}

void cli_catch_signals(const cli_ctx_t *ctx)
{
    static const char *names[2] = {"SIGINT", "SIGTERM"};
    struct sigaction sa;
    for (int k = 0; k < 2; k++) {
        snprintf(quit_line[k], sizeof quit_line[k], "sddcell%s%s: interrupted (%s)\n", ctx && ctx->cmd ? " " : "",
                 ctx && ctx->cmd ? ctx->cmd : "", names[k]);
        quit_len[k] = strlen(quit_line[k]);
    }
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* an interrupted read is resumed, not reported as an I/O error */
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sdd_set_interrupt_hook(interrupt_hook, NULL);
}

void cli_signal_grace(void)
{
    in_grace = 1;
    arm_deadline(0);
}

int cli_interrupted(void) { return got_signal != 0; }

static void stderr_sink(int level, const char *func, const char *msg, void *user)
{
    static const char tag[] = "?EWMD";
    (void)user;
    fprintf(stderr, "[%c::%s] %s\n", tag[level >= 1 && level <= 4 ? level : 0], func, msg);
}

int cli_setup(cli_ctx_t *ctx)
{
    if (sdd_init() < 0) {
        fprintf(stderr, "sddcell: %s\n", sdd_errdetail());
        return 1;
    }
    cli_catch_signals(ctx);
    sdd_log_set_sink(stderr_sink, NULL);
    sdd_log_set_level(ctx->verbose ? SDD_LOG_DEBUG : ctx->quiet ? SDD_LOG_WARNING : SDD_LOG_INFO);
    sdd_set_threads(ctx->threads);
    return 0;
}

/* "sddcell CMD: " and the message, without an end of line. */
static void vmessage(const cli_ctx_t *ctx, const char *fmt, va_list ap)
{
    fprintf(stderr, "sddcell %s: ", ctx->cmd ? ctx->cmd : "");
    vfprintf(stderr, fmt, ap);
}

int cli_error(const cli_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(ctx, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_lib_error(const cli_ctx_t *ctx, int rc)
{
    const char *d = sdd_errdetail();
    cli_error(ctx, "%s", d && *d ? d : sdd_strerror(rc));
    return rc == SDD_EINTR ? CLI_INTERRUPTED : CLI_FAIL;
}

/* The usage text with {flavors} written as the library's list of HVG flavours. */
int cli_print_usage(const cli_ctx_t *ctx, FILE *fp)
{
    static const char token[] = "{flavors}";
    const char *u = ctx->usage, *k;
    char list[96];
    if (!u) return CLI_OK;
    while ((k = strstr(u, token))) {
        fwrite(u, 1, (size_t)(k - u), fp);
        fputs(cli_name_list(sdd_hvg_flavor_name, list, sizeof list), fp);
        u = k + sizeof token - 1;
    }
    fputs(u, fp);
    return CLI_OK;
}

int cli_usage_error(const cli_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(ctx, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    cli_print_usage(ctx, stderr);
    return CLI_FAIL;
}

int cli_opt_int(const cli_ctx_t *ctx, const char *opt, const char *val, int64_t min, int64_t max,
                int64_t *out)
{
    if (sdd_parse_int64(val, min, max, opt, out) < 0) return cli_usage_error(ctx, "%s", sdd_errdetail());
    return 0;
}


void cli_add_longopts(struct option *lo, int *n, const struct option *add)
{
    for (; add->name && *n < CLI_MAX_LONGOPTS - 1; add++) {
        int k = 0;
        while (k < *n && strcmp(lo[k].name, add->name) != 0) k++;
        if (k == *n) lo[(*n)++] = *add;
    }
    memset(&lo[*n], 0, sizeof lo[*n]);
}

void cli_num_longopts(struct option *lo, int *n, int which, const char *except)
{
    const sdd_opt_t *t = sdd_opt_table(which);
    for (int i = 0; t && t[i].name && i < CLI_O_NUM_STRIDE; i++) {
        struct option one[2] = {{t[i].name, required_argument, NULL, CLI_O_NUM + CLI_O_NUM_STRIDE * which + i},
                                {NULL, 0, NULL, 0}};
        if (!except || strcmp(except, t[i].name) != 0) cli_add_longopts(lo, n, one);
    }
}

int cli_num_code(int which, const char *name)
{
    const sdd_opt_t *t = sdd_opt_table(which), *o = sdd_opt_find(which, name);
    return o ? CLI_O_NUM + CLI_O_NUM_STRIDE * which + (int)(o - t) : -1;
}

int cli_num_option(const cli_ctx_t *ctx, int c, const char *arg, int which, void *opts)
{
    const sdd_opt_t *t = sdd_opt_table(which);
    int i = c - CLI_O_NUM - CLI_O_NUM_STRIDE * which;
    if (!t || i < 0 || i >= CLI_O_NUM_STRIDE) return 1;
    for (int k = 0; k < i; k++)
        if (!t[k].name) return 1;
    if (!t[i].name) return 1;
    if (sdd_opt_set(&t[i], opts, arg) < 0) return cli_usage_error(ctx, "%s", sdd_errdetail()), -1;
    return 0;
}

const char *cli_name_list(const char *(*name)(int), char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; name(i) && len < size; i++) len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", name(i));
    return buf;
}

/* Progress: on a terminal one redrawn line with a bar, the rate and the time left;
 * otherwise a plain log line at most every 10 s (and at the end). */
int cli_progress(const char *stage, int64_t done, int64_t total, const char *status, void *user)
{
    static double t_start, t_last, c_start;
    static const char *last_stage;
    static int64_t last_done;
    const cli_ctx_t *ctx = user;
    double now = sdd_realtime();
    int tty = isatty(STDERR_FILENO);

    /* a new stage, or the same stage starting over (the next piece of a sampling run) */
    if (stage != last_stage || done <= 0 || done < last_done) {
        last_stage = stage;
        t_start = now;
        c_start = sdd_cputime();
        t_last = 0;
    }
    last_done = done;
    if ((ctx && ctx->quiet) || done <= 0) return cli_interrupted();
    if (done > 0 && done < total && now - t_last < (tty ? 0.2 : 10.0)) return cli_interrupted();
    t_last = now;
    {
        double el = now - t_start, rate = el > 0 ? done / el : 0;
        double left = rate > 0 ? (total - done) / rate : 0;
        if (tty) {
            char bar[31];
            int w = total > 0 ? (int)(30.0 * done / total) : 0;
            for (int i = 0; i < 30; i++) bar[i] = i < w ? '#' : '.';
            bar[30] = 0;
            fprintf(stderr, "\r%s [%s] %lld/%lld %s %.1f/s %.0fs left \033[K", stage, bar,
                    (long long)done, (long long)total, status ? status : "", rate, left);
            if (done >= total) fputc('\n', stderr);
        } else {
            /* minimap2's [M::stage::real*cpu-ratio] */
            fprintf(stderr, "[M::%s::%.1f*%.2f] %lld/%lld %s %.1f/s\n", stage, el,
                    el > 0 ? (sdd_cputime() - c_start) / el : 0.0, (long long)done,
                    (long long)total, status ? status : "", rate);
        }
        fflush(stderr);
    }
    return cli_interrupted();
}

void cli_run_footer(const cli_ctx_t *ctx, double t0, double c0)
{
    fprintf(stderr, "[M::main] Version: sddcell %s\n[M::main] BLAS kernels: %s\n[M::main] CMD:", SDD_VERSION,
            sdd_blas_kernels());
    for (int i = 0; i < ctx->argc; i++) fprintf(stderr, " %s", ctx->argv[i]);
    fprintf(stderr, "\n[M::main] Real time: %.3f sec; CPU: %.3f sec; Peak RSS: %.3f GB\n",
            sdd_realtime() - t0, sdd_cputime() - c0, sdd_peak_rss() / 1073741824.0);
}

cJSON *cli_provenance(const cli_ctx_t *ctx, cJSON **section)
{
    cJSON *uns = cJSON_CreateObject(), *s = uns ? cJSON_AddObjectToObject(uns, "sddcell") : NULL;
    size_t len = 1;
    char *cmd = NULL;
    for (int i = 0; i < ctx->argc; i++) len += strlen(ctx->argv[i]) + 1;
    if (!s || !(cmd = calloc(1, len))) {
        cJSON_Delete(uns);
        return NULL;
    }
    for (int i = 0; i < ctx->argc; i++) {
        if (i) strcat(cmd, " ");
        strcat(cmd, ctx->argv[i]);
    }
    cJSON_AddStringToObject(s, "version", SDD_VERSION);
    cJSON_AddStringToObject(s, "command", cmd);
    cJSON_AddNumberToObject(s, "seed", (double)ctx->seed);
    free(cmd);
    if (section) *section = s;
    return uns;
}

int cli_write_json(const cli_ctx_t *ctx, const char *path, const cJSON *json)
{
    char *tmp = sdd_tmp_path(path), *text = cJSON_Print(json);
    FILE *f = NULL;
    int ok = 0;
    if (tmp && text) {
        sdd_tmp_track(tmp);
        if ((f = fopen(tmp, "w"))) {
            ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
            ok = (fclose(f) == 0) && ok;
            if (ok) ok = sdd_tmp_commit(tmp, path) == 0;
            if (!ok) remove(tmp);
        }
        sdd_tmp_untrack(tmp);
    }
    free(tmp);
    free(text);
    return ok ? CLI_OK : cli_error(ctx, "%s: cannot write the JSON file", path);
}
