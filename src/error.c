/*
 * error.c: error codes, the thread-local detail string, allocation helpers, the
 * interrupt hook, the record of temporary files in flight, and library start-up (HDF5 and GSL error handlers off,
 * filters registered).
 */
#include "sdd_internal.h"
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>

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

char *sdd_tmp_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0, n = strlen(path) + 32;
    char *t = sdd_malloc(n);
    if (t) snprintf(t, n, "%.*s.%s.tmp.%ld", (int)dirlen, path, path + dirlen, (long)getpid());
    return t;
}

/* Temporary files in flight, for sdd_tmp_remove_all in a signal handler: a slot is
 * claimed atomically (threads may write files at the same time), marked in use only
 * after its name is complete, and the remover only reads. */
#define N_TMP 8
static char tmp_path[N_TMP][4096];
static volatile sig_atomic_t tmp_used[N_TMP]; /* 0 free, 2 being filled, 1 in use */

void sdd_tmp_track(const char *path)
{
    size_t n = strlen(path);
    for (int i = 0; i < N_TMP && n < sizeof tmp_path[i]; i++) {
        sig_atomic_t expect = 0;
        if (__atomic_compare_exchange_n(&tmp_used[i], &expect, 2, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            memcpy(tmp_path[i], path, n + 1);
            __atomic_store_n(&tmp_used[i], 1, __ATOMIC_RELEASE);
            return;
        }
    }
}

void sdd_tmp_untrack(const char *path)
{
    for (int i = 0; i < N_TMP; i++)
        if (__atomic_load_n(&tmp_used[i], __ATOMIC_ACQUIRE) == 1 && strcmp(tmp_path[i], path) == 0) {
            __atomic_store_n(&tmp_used[i], 0, __ATOMIC_RELEASE);
            return;
        }
}

void sdd_tmp_remove_all(void)
{
    for (int i = 0; i < N_TMP; i++)
        if (tmp_used[i] == 1) unlink(tmp_path[i]);
}

/* Durable replacement: the data of tmp reach the disk before the rename, and the
 * directory entry after it, so a crash or power loss leaves either the old file at path
 * or the whole new one, never a name pointing at missing blocks. */
int sdd_tmp_commit(const char *tmp, const char *path)
{
    int fd = open(tmp, O_RDONLY), rc, e;
    char dir[4096];
    const char *slash;
    if (fd < 0) return -1;
    rc = fsync(fd);
    e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL && e != EROFS) { /* EINVAL: a file system without fsync */
        errno = e;
        return -1;
    }
    if (rename(tmp, path) != 0) return -1;
    slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) { /* best effort: the file is in place */
        (void)fsync(fd);
        close(fd);
    }
    return 0;
}
