/*
 * fuzz_util.h: what the libFuzzer harnesses share. Each input is written to files in a
 * private temporary folder (under $TMPDIR, /dev/shm when it exists) and read back
 * through the public reading and loading functions, exactly as the CLI reads its
 * arguments. The library logs nothing (its default sink discards) and must return a
 * code for every input; a crash, a hang (libFuzzer -timeout) or an allocation beyond
 * libFuzzer's -malloc_limit_mb is a finding.
 * To turn a finding into a regression case for the CLI, run the harness on it with
 * SDD_FUZZ_KEEP=DIR: the files it writes (input.h5, input.sdd, or the folder mtx/) are
 * written into DIR and kept, ready for `sddcell info` and the other commands.
 */
#ifndef SDD_FUZZ_UTIL_H
#define SDD_FUZZ_UTIL_H

#include "sddcell.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir[512];

/* The temporary folder of this process, made on first use and removed at exit. */
static void fuzz_rmdir(void)
{
    char cmd[600];
    if (!fuzz_dir[0]) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (system(cmd) != 0) return;
}

static const char *fuzz_tmpdir(void)
{
    if (!fuzz_dir[0]) {
        const char *base = getenv("TMPDIR"), *keep = getenv("SDD_FUZZ_KEEP");
        struct stat st;
        if (keep && *keep) {
            snprintf(fuzz_dir, sizeof fuzz_dir, "%s", keep);
            mkdir(fuzz_dir, 0700);
            if (sdd_init() < 0) abort();
            return fuzz_dir;
        }
        if (!base || !*base) base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/sdd_fuzz.XXXXXX", base);
        if (!mkdtemp(fuzz_dir)) abort();
        atexit(fuzz_rmdir);
        if (sdd_init() < 0) abort();
    }
    return fuzz_dir;
}

/* Write n bytes to path. */
static void fuzz_write(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(data, 1, n, f) != n) abort();
    if (fclose(f) != 0) abort();
}

/* Every reading path of the CLI on one input: the whole read, then the streaming reader
 * in odd-sized chunks (as hvg and train read). */
static void fuzz_read_both(const char *path)
{
    sdd_dataset_t *ds = NULL, *meta = NULL;
    sdd_xreader_t *r = NULL;
    sdd_read_opt_t opt;
    sdd_read_opt_init(&opt);
    if (sdd_dataset_read(path, &opt, &ds) == 0) sdd_dataset_destroy(ds);
    if (sdd_xreader_open(path, &opt, &r, &meta) == 0) {
        sdd_csr_t chunk;
        int64_t got;
        memset(&chunk, 0, sizeof chunk);
        while ((got = sdd_xreader_next(r, 7, &chunk)) > 0) sdd_csr_free(&chunk);
        sdd_csr_free(&chunk);
        sdd_xreader_close(r);
        sdd_dataset_destroy(meta);
    }
}

#endif
