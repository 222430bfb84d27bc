/*
 * test_threads: the library called from two threads of one process. Two trainings, and
 * then two samplings, run at the same time on the shared compute pool and give the
 * bits the same work gives run one after the other; the pool never runs more workers
 * than the thread setting allows, lowering the setting ends and joins the workers
 * beyond it (the process's thread count drops by as many), and results do not depend on
 * the setting.
 */
#include "blas.h"
#include "sample_internal.h"
#include "tap.h"
#include "trainset_fixture.h"
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STEPS 12

typedef struct {
    const sdd_trainset_t *ts;
    uint64_t seed;
    char path[256];           /* where the trained model is saved */
    sdd_model_t *model;       /* sampling: the model; training: the trained one */
    sdd_csr_t X;              /* sampling: the cells */
    int rc;
} work_t;

static void train_opts(sdd_train_opt_t *o, uint64_t seed)
{
    fixture_small_net(o, 256, 256, 128, 64, 512, 64, 64, STEPS);
    o->seed = seed;
}

static void *train_one(void *arg)
{
    work_t *w = arg;
    sdd_train_opt_t o;
    train_opts(&o, w->seed);
    w->rc = sdd_model_create(w->ts, &o, &w->model);
    if (w->rc == 0) w->rc = sdd_model_train(w->model, w->ts, NULL, NULL);
    if (w->rc == 0) w->rc = sdd_model_save(w->model, w->path);
    return NULL;
}

static void *sample_one(void *arg)
{
    work_t *w = arg;
    sdd_sample_opt_t so;
    sdd_sample_opt_init(&so);
    so.n_cells = 300;
    so.steps = 6;
    so.batch = 100;
    so.seed = w->seed;
    w->rc = sdd_model_sample(w->model, &so, &w->X, NULL, NULL, NULL);
    return NULL;
}

static int same_csr(const sdd_csr_t *a, const sdd_csr_t *b)
{
    return a->n_rows == b->n_rows && a->n_cols == b->n_cols && a->nnz == b->nnz &&
           !memcmp(a->indptr, b->indptr, (size_t)(a->n_rows + 1) * sizeof *a->indptr) &&
           !memcmp(a->indices, b->indices, (size_t)a->nnz * sizeof *a->indices) &&
           !memcmp(a->data, b->data, (size_t)a->nnz * sizeof *a->data);
}

/* Threads of this process (Linux: /proc/self/task), -1 where unknown. */
static int process_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Run fn on a and b in two threads while this thread watches the pool's size. */
static void run_two(void *(*fn)(void *), work_t *a, work_t *b, int *max_workers)
{
    pthread_t ta, tb;
    *max_workers = 0;
    CHECK(pthread_create(&ta, NULL, fn, a) == 0);
    CHECK(pthread_create(&tb, NULL, fn, b) == 0);
    for (int i = 0; i < 200; i++) {
        int n = sdd_blas_running_workers();
        if (n > *max_workers) *max_workers = n;
        usleep(1000);
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
}

int main(void)
{
    static const trainset_fixture_t fx = {0, 3, 1000, 10, NULL};
    char dir[] = "/tmp/sdd_threads.XXXXXX";
    sdd_trainset_t *ts;
    work_t seq[2], par[2], s_seq[2], s_par[2];
    int maxw, before, after;
    if (!mkdtemp(dir)) return 1;
    sdd_init();
    ts = make_fixture_trainset(300, 60, 2, 11, &fx);

    /* two trainings one after the other, then the same two at once, on 2 threads */
    sdd_set_threads(2);
    memset(seq, 0, sizeof seq);
    memset(par, 0, sizeof par);
    for (int k = 0; k < 2; k++) {
        seq[k].ts = par[k].ts = ts;
        seq[k].seed = par[k].seed = (uint64_t)(7 + k);
        snprintf(seq[k].path, sizeof seq[k].path, "%s/seq%d.sdd", dir, k);
        snprintf(par[k].path, sizeof par[k].path, "%s/par%d.sdd", dir, k);
        train_one(&seq[k]);
        CHECK_MSG(seq[k].rc == 0, "sequential training %d: %s", k, sdd_errdetail());
    }
    run_two(train_one, &par[0], &par[1], &maxw);
    for (int k = 0; k < 2; k++) {
        CHECK_MSG(par[k].rc == 0, "concurrent training %d: %d", k, par[k].rc);
        CHECK_MSG(same_file(seq[k].path, par[k].path), "training %d alone and beside another differ", k);
    }
    CHECK_MSG(maxw <= 1, "%d workers ran with the setting 2", maxw);
    CHECK(!same_file(seq[0].path, seq[1].path)); /* two seeds: two different models */

    /* two samplings at once from the two models, against the same one after the other */
    memset(s_seq, 0, sizeof s_seq);
    memset(s_par, 0, sizeof s_par);
    for (int k = 0; k < 2; k++) {
        s_seq[k].model = s_par[k].model = seq[k].model;
        s_seq[k].seed = s_par[k].seed = (uint64_t)(3 + k);
    }
    sdd_set_threads(3);
    for (int k = 0; k < 2; k++) {
        sample_one(&s_seq[k]);
        CHECK(s_seq[k].rc == 0);
    }
    /* one sampling per model, both at once */
    run_two(sample_one, &s_par[0], &s_par[1], &maxw);
    for (int k = 0; k < 2; k++) {
        CHECK(s_par[k].rc == 0);
        CHECK_MSG(same_csr(&s_seq[k].X, &s_par[k].X), "sampling %d alone and beside another differ", k);
    }
    CHECK_MSG(maxw <= 2, "%d workers ran with the setting 3", maxw);

    /* the setting: 4 threads start 3 workers; 1 ends them all (joined: the process has
     * 3 threads fewer); the cells are the same bits with 1 and 4 threads */
    {
        work_t w4, w1;
        memset(&w4, 0, sizeof w4);
        memset(&w1, 0, sizeof w1);
        w4.model = w1.model = seq[0].model;
        w4.seed = w1.seed = 3;
        sdd_set_threads(4);
        sample_one(&w4);
        before = process_threads();
        CHECK_MSG(sdd_blas_running_workers() == 3, "%d workers with the setting 4", sdd_blas_running_workers());
        sdd_set_threads(1);
        after = process_threads();
        CHECK_MSG(sdd_blas_running_workers() == 0, "%d workers with the setting 1", sdd_blas_running_workers());
        if (before > 0) CHECK_MSG(before - after == 3, "threads %d with 4, %d with 1", before, after);
        sample_one(&w1);
        CHECK(w4.rc == 0 && w1.rc == 0);
        CHECK(same_csr(&w4.X, &s_seq[0].X));
        CHECK(same_csr(&w1.X, &s_seq[0].X));
        sdd_csr_free(&w4.X);
        sdd_csr_free(&w1.X);
    }

    for (int k = 0; k < 2; k++) {
        sdd_csr_free(&s_seq[k].X);
        sdd_csr_free(&s_par[k].X);
        sdd_model_destroy(seq[k].model);
        sdd_model_destroy(par[k].model);
        unlink(seq[k].path);
        unlink(par[k].path);
    }
    rmdir(dir);
    sdd_trainset_destroy(ts);
    return tap_done();
}
