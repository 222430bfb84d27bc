/*
 * error.c: error codes, the thread-local detail string, allocation helpers, the
 * interrupt hook, the record of temporary files in flight, and library start-up (HDF5 and GSL error handlers off,
 * filters registered).
 */
#include "sdd_internal.h"
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <hdf5.h>
#include <gsl/gsl_errno.h>

static _Thread_local char err_detail[1024];

const char *sdd_strerror(int code)
{
    switch (code) {
    case SDD_OK: return "success";
    case SDD_EIO: return "I/O error";
    case SDD_EFORMAT: return "malformed or unrecognised input";
    case SDD_ENOMEM: return "out of memory";
    case SDD_EINVAL: return "invalid argument";
    case SDD_EUNSUPPORTED: return "unsupported input";
    case SDD_EINTR: return "interrupted";
    case SDD_ENOTFOUND: return "not found";
    case SDD_EDATA: return "unsuitable data";
    default: return "unknown error";
    }
}

const char *sdd_errdetail(void) { return err_detail; }

void sdd_error_clear(void) { err_detail[0] = 0; }

int sdd_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_detail, sizeof err_detail, fmt, ap);
    va_end(ap);
    return code;
}

void *sdd_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) sdd_error(SDD_ENOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

void *sdd_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) sdd_error(SDD_ENOMEM, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *sdd_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) sdd_error(SDD_ENOMEM, "out of memory allocating %zu bytes", n);
    return q;
}

char *sdd_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = sdd_malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

void sdd_strv_free(char **v, int64_t n)
{
    if (!v) return;
    for (int64_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static int strp_cmp(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

int64_t sdd_strv_find_dup(char *const *v, int64_t n)
{
    char *const **p;
    int64_t dup = -1;
    if (n < 2 || !(p = sdd_malloc((size_t)n * sizeof *p))) return -1;
    for (int64_t i = 0; i < n; i++) p[i] = &v[i];
    qsort(p, (size_t)n, sizeof *p, strp_cmp);
    for (int64_t i = 1; i < n && dup < 0; i++)
        if (strcmp(*p[i - 1], *p[i]) == 0) dup = p[i] > p[i - 1] ? p[i] - v : p[i - 1] - v;
    free(p);
    return dup;
}

static int (*interrupt_poll)(void *);
static void *interrupt_user;

void sdd_set_interrupt_hook(int (*poll)(void *user), void *user)
{
    interrupt_poll = poll;
    interrupt_user = user;
}

int sdd_interrupt_requested(void) { return interrupt_poll && interrupt_poll(interrupt_user) != 0; }

/* Temporary files in flight, for sdd_tmp_remove_all in a signal handler: a slot is
 * marked used only after its name is complete, and the remover only reads. */
#define N_TMP 8
static char tmp_path[N_TMP][4096];
static volatile sig_atomic_t tmp_used[N_TMP];

void sdd_tmp_track(const char *path)
{
    size_t n = strlen(path);
    for (int i = 0; i < N_TMP && n < sizeof tmp_path[i]; i++)
        if (!tmp_used[i]) {
            memcpy(tmp_path[i], path, n + 1);
            tmp_used[i] = 1;
            return;
        }
}

void sdd_tmp_untrack(const char *path)
{
    for (int i = 0; i < N_TMP; i++)
        if (tmp_used[i] && strcmp(tmp_path[i], path) == 0) tmp_used[i] = 0;
}

void sdd_tmp_remove_all(void)
{
    for (int i = 0; i < N_TMP; i++)
        if (tmp_used[i]) unlink(tmp_path[i]);
}

/* Registered by the reading stage (lzf.c); weak so the core links without it. */
int sdd_lzf_register(void) __attribute__((weak));

int sdd_init(void)
{
    static int done;
    if (done) return SDD_OK;
    if (H5open() < 0) return sdd_error(SDD_EIO, "HDF5 library failed to initialise");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    gsl_set_error_handler_off();
    if (sdd_lzf_register) {
        int rc = sdd_lzf_register();
        if (rc < 0) return rc;
    }
    done = 1;
    return SDD_OK;
}
