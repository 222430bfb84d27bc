/*
 * test_cli_options: every numeric option of the library's option tables (sdd_opt_table),
 * given to the command that takes it, is accepted at the ends of its range and refused
 * just outside them, with one message line that names the option and exit 1. The input
 * files do not exist, so an accepted value runs on until that file is opened and the
 * command fails there instead; nothing is read or trained. The bounds come from the
 * library, so a range changed there is checked here without an edit.
 */
#include "sddcell.h"
#include "tap.h"
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char sdd[4096], dir[64];

/* Run `sddcell CMD` with the option and value and the command's other arguments; the
 * first stderr line into line. Returns the exit status. */
static int run(int which, const char *name, const char *value, char *line, size_t size)
{
    char cmd[8192], args[2048], extra[256] = "";
    FILE *p;
    int st;
    const char *fmt = NULL;
    if (which == SDD_OPTS_TRAIN && strcmp(name, "grad-slices") == 0) strcpy(extra, "--batch-size 65536");
    if (which == SDD_OPTS_SAMPLE && strcmp(name, "td") == 0) strcpy(extra, "--steps 100000");
    if (which == SDD_OPTS_SAMPLE && strcmp(name, "cells") != 0) strcat(extra, " -n 5");
    switch (which) {
    case SDD_OPTS_PREP:
        fmt = strcmp(name, "holdout") == 0 ? "simulate --%s %s %s -o %s/out.h5ad %s/absent.h5ad"
                                           : "hvg --%s %s %s -o %s/out.tsv %s/absent.h5ad";
        break;
    case SDD_OPTS_TRAIN: fmt = "train --%s %s %s -o %s/out.sdd %s/absent.h5ad"; break;
    case SDD_OPTS_SAMPLE: fmt = "sample --%s %s %s -o %s/out.h5ad %s/absent.sdd"; break;
    case SDD_OPTS_EVAL:
    case SDD_OPTS_PAIR: fmt = "evaluate --%s %s %s --json %s/out.json %s/absent.h5ad absent2.h5ad"; break;
    default: fmt = "embed --%s %s %s -o %s/out.h5ad %s/absent.h5ad absent2.h5ad"; break;
    }
    snprintf(args, sizeof args, fmt, name, value, extra, dir, dir);
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1 >/dev/null", sdd, args);
    line[0] = 0;
    if (!(p = popen(cmd, "r"))) return -1;
    if (!fgets(line, (int)size, p)) line[0] = 0;
    while (fgetc(p) != EOF) {}
    st = pclose(p);
    line[strcspn(line, "\n")] = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* value must be taken: the command gets as far as opening its missing input. */
static void accepted(int which, const sdd_opt_t *o, const char *value)
{
    char line[1024];
    int rc = run(which, o->name, value, line, sizeof line);
    CHECK_MSG(rc == 1 && strstr(line, "absent") != NULL, "--%s %s: exit %d, '%s'", o->name, value, rc, line);
}

/* value must be refused: exit 1, the first line names the option. */
static void refused(int which, const sdd_opt_t *o, const char *value)
{
    char line[1024], opt[64];
    int rc = run(which, o->name, value, line, sizeof line);
    snprintf(opt, sizeof opt, "--%s", o->name);
    CHECK_MSG(rc == 1 && strstr(line, opt) != NULL && !strstr(line, "absent"), "--%s %s: exit %d, '%s'", o->name,
              value, rc, line);
}

/* An end of a real range moved by one representable step (towards dir), kept normal so
 * that the text parses without underflow. */
static double step(double v, double dir)
{
    double s = nextafter(v, dir);
    if (s != 0 && fabs(s) < DBL_MIN) s = copysign(DBL_MIN, s);
    return s;
}

/* The values of one option: an inner and an outer value at each end. */
static void check_option(int which, const sdd_opt_t *o)
{
    char in[2][64], out[2][64], v[256];
    int lo_open = o->flags & SDD_OPT_MIN_OPEN, hi_open = o->flags & SDD_OPT_MAX_OPEN;
    if (o->type == SDD_OPT_DOUBLE) {
        snprintf(in[0], sizeof in[0], "%.17g", lo_open ? step(o->min, INFINITY) : o->min);
        snprintf(out[0], sizeof out[0], "%.17g", lo_open ? o->min : step(o->min, -INFINITY));
        snprintf(in[1], sizeof in[1], "%.17g", hi_open ? step(o->max, -INFINITY) : o->max);
        snprintf(out[1], sizeof out[1], "%.17g", hi_open ? o->max : step(o->max, INFINITY));
    } else {
        int64_t lo = (int64_t)o->min;
        snprintf(in[0], sizeof in[0], "%lld", (long long)lo);
        /* 0 is taken too when the library chooses the value; -1 is then the first outside */
        snprintf(out[0], sizeof out[0], "%lld", (long long)(lo == 1 && (o->flags & SDD_OPT_ZERO_AUTO) ? -1 : lo - 1));
        if (o->max >= 0x1p63) {
            snprintf(in[1], sizeof in[1], "%lld", (long long)INT64_MAX);
            snprintf(out[1], sizeof out[1], "9223372036854775808");
        } else {
            snprintf(in[1], sizeof in[1], "%lld", (long long)o->max);
            snprintf(out[1], sizeof out[1], "%lld", (long long)o->max + 1);
        }
    }
    for (int e = 0; e < 2; e++) { /* arrays (--hidden W,W,W,W) take the value in every place */
        char *p = v;
        for (int k = 0; k < o->count; k++) p += sprintf(p, "%s%s", k ? "," : "", in[e]);
        accepted(which, o, v);
        p = v;
        for (int k = 0; k < o->count; k++) p += sprintf(p, "%s%s", k ? "," : "", k == o->count - 1 ? out[e] : in[e]);
        refused(which, o, v);
    }
    /* train asks for at least one step when --steps is given (0 is the library's default) */
    if ((o->flags & SDD_OPT_ZERO_AUTO) && which != SDD_OPTS_TRAIN) accepted(which, o, "0");
}

int main(void)
{
    const char *b = getenv("SDD_BUILDDIR");
    int n = 0;
    snprintf(sdd, sizeof sdd, "%s/sddcell", b ? b : ".");
    snprintf(dir, sizeof dir, "%s/sdd_cliopt.XXXXXX", "/tmp");
    if (access(sdd, X_OK) != 0 || !mkdtemp(dir)) {
        fprintf(stderr, "no %s or no temporary directory\n", sdd);
        return 1;
    }
    for (int which = 0; which < SDD_OPTS_N; which++)
        for (const sdd_opt_t *o = sdd_opt_table(which); o->name; o++, n++) check_option(which, o);
    CHECK_MSG(n >= 30, "only %d options in the tables", n);
    rmdir(dir);
    return tap_done();
}
