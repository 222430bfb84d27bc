/*
 * log.c: levelled logging through one replaceable sink, plus clocks and peak RSS
 * for the progress lines. The library formats; the front end decides where lines go.
 */
#include "sdd_internal.h"
#include <stdio.h>
#include <time.h>
#include <sys/resource.h>

static sdd_log_sink_f log_sink;
static void *log_user;
static int log_level = SDD_LOG_INFO;

void sdd_log_set_sink(sdd_log_sink_f sink, void *user)
{
    log_sink = sink;
    log_user = user;
}

void sdd_log_set_level(int level) { log_level = level; }
int sdd_log_get_level(void) { return log_level; }

void sdd_log(int level, const char *func, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    if (level > log_level || !log_sink) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_sink(level, func, buf, log_user);
}

double sdd_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double sdd_cputime(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + 1e-6 * (r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

int64_t sdd_peak_rss(void)
{
    struct rusage r;
    if (getrusage(RUSAGE_SELF, &r) != 0) return 0;
    return (int64_t)r.ru_maxrss * 1024; /* Linux reports KiB */
}
