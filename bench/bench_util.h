/*
 * bench_util.h: what the training benches (loss_curve, val_curve) share: the options
 * at the library's defaults, then FILE read and preprocessed and the model created on a
 * given number of compute threads, and the cleanup.
 */
#ifndef SDD_BENCH_UTIL_H
#define SDD_BENCH_UTIL_H
#include "sddcell.h"
#include <stdio.h>
#include <string.h>

typedef struct {
    sdd_prep_opt_t po;  /* the library's defaults after bench_init; the bench adjusts them */
    sdd_train_opt_t to;
    sdd_trainset_t *ts; /* set by bench_setup */
    sdd_model_t *m;
} bench_run_t;

static void bench_init(bench_run_t *r)
{
    memset(r, 0, sizeof *r);
    sdd_init();
    sdd_prep_opt_init(&r->po);
    sdd_train_opt_init(&r->to);
}

/* sdd_prep_run then sdd_model_create with r's options, on `threads` compute threads; on
 * failure the library's message goes to stderr after `prog` and 1 is returned (else 0). */
static int bench_setup(const char *prog, const char *file, bench_run_t *r, int threads)
{
    sdd_set_threads(threads);
    if (sdd_prep_run(file, &r->po, &r->ts) < 0 || sdd_model_create(r->ts, &r->to, &r->m) < 0) {
        fprintf(stderr, "%s: %s\n", prog, sdd_errdetail());
        return 1;
    }
    return 0;
}

static void bench_free(bench_run_t *r)
{
    sdd_model_destroy(r->m);
    sdd_trainset_destroy(r->ts);
}

#endif
