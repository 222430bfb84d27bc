/*
 * blas.c: the one module that talks to BLAS. Every matrix product of the network goes
 * through sdd_gemm (row-major single precision, OpenBLAS's cblas_sgemm), so a change of
 * BLAS or a product-level trace touches this file only. sdd_gemm_ref computes the same
 * product by plain loops with double accumulation; the tests hold sdd_gemm against it.
 *
 * Determinism: OpenBLAS's own threading splits C at thread-count-dependent places, and
 * its kernels round edge tiles differently from interior ones, so its results change
 * with the thread count. Here a product is instead cut into pieces that depend on the
 * shape only (an even number of slabs of at most PIECE_MAX columns, or rows, of C, as few
 * as that allows, since each piece repacks the operand it shares with the others), each
 * piece is one single-threaded cblas_sgemm, and our own threads share out the pieces. A seed then gives the same
 * bits with any thread count. sdd_parallel_for shares the same threads out for the
 * element-wise loops of the network and the optimiser, again in shape-fixed pieces.
 */
#include "blas.h"
#include "vec.h"
#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PIECE 128            /* columns (or rows) of C per piece (double precision) */
#define PIECE_MAX 512        /* at most this many columns (or rows) of C per piece (single) */
#define MIN_SPLIT_FLOPS 4e6  /* smaller products stay whole */
#define MAX_THREADS 64

typedef struct {
    int ta, tb, M, N, K, lda, ldb, ldc, by_cols, n_pieces, piece;
    int prec;                /* SDD_GEMM_*: sgemm or the bf16 kernels of gemm_bf16.c */
    float alpha, beta;
    const float *A, *B;
    float *C;
    void (*fn)(void *ctx, int piece); /* a parallel loop instead of a product */
    void *ctx;
    double *sq;              /* not NULL: sq[piece] = sum of squares of its block of C */
    const float *bias;       /* not NULL: the piece's block of C is set to it (by column) first */
    int n_own;               /* a product's own pieces; pieces n_own.. run also(also_ctx, p - n_own) */
    void (*also)(void *ctx, int piece);
    void *also_ctx;
} job_t;

static struct {
    int threads;             /* the setting: compute threads, the caller's included */
    int started;             /* workers running: tid[0 .. started) */
    int want;                /* workers that should run; a worker with index >= want ends */
    int busy;                /* a caller is running a job on the workers */
    pthread_t tid[MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t go, idle;
    /* The job hand-off, by atomics (sequentially consistent): the caller fills next and
     * finished, publishes job, then bumps generation; a worker counts itself in `active`
     * before it looks at job, so the caller, which clears job and then waits for
     * active == 0, never returns (and frees its job) while a worker still reads it. */
    const job_t *job;
    int next, finished, active;
    unsigned generation;     /* counts jobs handed to the workers */
    int sleepers;            /* workers asleep on `go` (they spun for SPIN_NS first) */
} pool = {1, 0, 0, 0, {0}, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
          NULL, 0, 0, 0, 0, 0};

/* A worker between jobs spins this long before it sleeps. A training or sampling run
 * hands out jobs every few hundred microseconds, so its workers never sleep and a job
 * starts on all threads at once; a sleeping thread can take milliseconds to wake (a
 * virtual CPU left idle is descheduled by its host). */
#define SPIN_NS 5000000.0
#define LD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)
#define ADD(x, v) __atomic_fetch_add(&(x), (v), __ATOMIC_SEQ_CST)

static _Thread_local double gemm_seconds; /* wall time this thread spent in sdd_gemm */
static _Thread_local int in_job; /* this thread is running a piece: nested jobs run inline */
static _Thread_local int tl_prec; /* SDD_GEMM_* of this thread's coming products */
static int bf16_emulate;          /* tests: bf16 without the CPU feature runs the emulation */

/* C = alpha op(A) op(B) + beta C for one block, in the job's precision (bf16 falls back
 * to sgemm only if its packing buffers cannot be had). */
static void product(const job_t *j, int M, int N, const float *A, const float *B, float *C)
{
    if (j->prec != SDD_GEMM_FP32 &&
        sdd_gemm_bf16_piece(j->prec == SDD_GEMM_BF16, j->ta, j->tb, M, N, j->K, A, j->lda, B, j->ldb,
                            j->beta, C, j->ldc) == 0)
        return;
    cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans, j->tb ? CblasTrans : CblasNoTrans, M, N,
                j->K, j->alpha, A, j->lda, B, j->ldb, j->beta, C, j->ldc);
}

/* sum of squares of C [M][N] (row stride ldc) in double, rows in order */
static double block_sumsq(const float *C, int M, int N, int ldc)
{
    double s = 0;
    for (int i = 0; i < M; i++) s += sdd_vec_sumsq(C + (size_t)i * ldc, N);
    return s;
}

/* rows [0, M) of C [.][N] (row stride ldc) = bias [N] */
static void fill_bias(float *C, int M, int N, int ldc, const float *bias)
{
    for (int i = 0; i < M; i++) memcpy(C + (size_t)i * ldc, bias, (size_t)N * sizeof *C);
}

static void run_piece(const job_t *j, int p)
{
    int lo = p * j->piece, n;
    if (j->also && p >= j->n_own) {
        j->also(j->also_ctx, p - j->n_own);
        return;
    }
    if (j->bias && !j->fn) {
        if (j->n_own == 1) fill_bias(j->C, j->M, j->N, j->ldc, j->bias);
        else if (j->by_cols) fill_bias(j->C + lo, j->M, j->N - lo < j->piece ? j->N - lo : j->piece, j->ldc, j->bias + lo);
        else fill_bias(j->C + (size_t)lo * j->ldc, j->M - lo < j->piece ? j->M - lo : j->piece, j->N, j->ldc, j->bias);
    }
    if (j->fn) {
        j->fn(j->ctx, p);
    } else if (j->n_own == 1) {
        product(j, j->M, j->N, j->A, j->B, j->C);
        if (j->sq) j->sq[p] = block_sumsq(j->C, j->M, j->N, j->ldc);
    } else if (j->by_cols) {
        n = j->N - lo < j->piece ? j->N - lo : j->piece;
        product(j, j->M, n, j->A, j->tb ? j->B + (size_t)lo * j->ldb : j->B + lo, j->C + lo);
        if (j->sq) j->sq[p] = block_sumsq(j->C + lo, j->M, n, j->ldc);
    } else {
        n = j->M - lo < j->piece ? j->M - lo : j->piece;
        product(j, n, j->N, j->ta ? j->A + lo : j->A + (size_t)lo * j->lda, j->B, j->C + (size_t)lo * j->ldc);
        if (j->sq) j->sq[p] = block_sumsq(j->C + (size_t)lo * j->ldc, n, j->N, j->ldc);
    }
}

/* Take pieces of j until none is left. */
static void take_pieces(const job_t *j)
{
    int p;
    while ((p = ADD(pool.next, 1)) < j->n_pieces) {
        in_job = 1;
        run_piece(j, p);
        in_job = 0;
        ADD(pool.finished, 1);
    }
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    unsigned seen = 0u - 1; /* a new worker looks for a job at once: it may join the one
                               that started it */
    for (;;) {
        double t0 = 0;
        for (int spins = 0; LD(pool.generation) == seen && me < LD(pool.want); spins++) {
            cpu_relax();
            if ((spins & 1023) != 1023) continue;
            sched_yield(); /* more threads than cores: let the others run */
            if (t0 == 0) t0 = sdd_realtime();
            else if (sdd_realtime() - t0 > SPIN_NS * 1e-9) {
                pthread_mutex_lock(&pool.mu);
                ADD(pool.sleepers, 1);
                while (LD(pool.generation) == seen && me < LD(pool.want)) pthread_cond_wait(&pool.go, &pool.mu);
                ADD(pool.sleepers, -1);
                pthread_mutex_unlock(&pool.mu);
                break;
            }
        }
        if (me >= LD(pool.want)) break;
        ADD(pool.active, 1);
        seen = LD(pool.generation);
        const job_t *j = LD(pool.job);
        if (j) take_pieces(j);
        ADD(pool.active, -1);
    }
    sdd_gemm_bf16_release();
    return NULL;
}

/* Grow the workers to the setting (mutex held, pool busy with this caller). */
static void start_workers(void)
{
    int want = pool.threads - 1;
    ST(pool.want, want);
    while (pool.started < want) {
        if (pthread_create(&pool.tid[pool.started], NULL, worker, (void *)(intptr_t)pool.started) != 0) {
            ST(pool.want, pool.started);
            break;
        }
        pool.started++;
    }
}

/* End and join the workers from index n on (mutex held, pool busy with this caller, so
 * no job is in flight); the mutex is released while joining. */
static void stop_workers(int n)
{
    int from = n, to = pool.started;
    if (from >= to) return;
    ST(pool.want, n);
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    for (int i = from; i < to; i++) pthread_join(pool.tid[i], NULL);
    pthread_mutex_lock(&pool.mu);
    pool.started = from;
}

/* The workers serve one job at a time. A caller that finds them busy with another
 * caller's job (a second thread of the process) runs its own pieces on its own thread:
 * the pieces are the same, so are the results, and no caller waits on another. The
 * caller takes pieces too, then spins (yielding now and then) until the last is done. */
static void run_job(const job_t *j)
{
    if (__atomic_load_n(&pool.threads, __ATOMIC_RELAXED) <= 1 || j->n_pieces == 1 || in_job) {
        for (int p = 0; p < j->n_pieces; p++) run_piece(j, p);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    if (pool.busy) {
        pthread_mutex_unlock(&pool.mu);
        for (int p = 0; p < j->n_pieces; p++) run_piece(j, p);
        return;
    }
    pool.busy = 1;
    start_workers();
    pthread_mutex_unlock(&pool.mu);
    ST(pool.next, 0);
    ST(pool.finished, 0);
    ST(pool.job, j);
    ADD(pool.generation, 1);
    if (LD(pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.go);
        pthread_mutex_unlock(&pool.mu);
    }
    take_pieces(j);
    for (int spins = 1; LD(pool.finished) < j->n_pieces; spins++) {
        cpu_relax();
        if ((spins & 1023) == 0) sched_yield();
    }
    ST(pool.job, (const job_t *)NULL);
    while (LD(pool.active) > 0) cpu_relax();
    pthread_mutex_lock(&pool.mu);
    pool.busy = 0;
    pthread_cond_broadcast(&pool.idle);
    pthread_mutex_unlock(&pool.mu);
}

/* The job of a product: its pieces (see the top of the file) and precision. */
static job_t gemm_job(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc)
{
    job_t j = {ta, tb, M, N, K, lda, ldb, ldc, N >= M, 1, 0, SDD_GEMM_FP32, alpha, beta, A, B, C, NULL, NULL, NULL, NULL, 1, NULL, NULL};
    if (2.0 * M * N * K >= MIN_SPLIT_FLOPS) {
        /* an even number of pieces (two threads share them evenly), each at most
         * piece_max wide and a multiple of 16 (whole kernel tiles) */
        int dim = j.by_cols ? N : M, np = 2 * ((dim + 2 * PIECE_MAX - 1) / (2 * PIECE_MAX));
        j.piece = ((dim + np - 1) / np + 15) / 16 * 16;
        j.n_pieces = (dim + j.piece - 1) / j.piece;
    }
    j.n_own = j.n_pieces;
    /* bf16 kernels: alpha 1 and beta 0 or 1 (accumulation starts from C), all the network uses */
    if (alpha == 1.0f && (beta == 0.0f || beta == 1.0f)) j.prec = tl_prec;
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    return j;
}

/* a product's job, its wall time counted in sdd_gemm_seconds */
static void run_gemm(const job_t *j)
{
    double t0 = sdd_realtime();
    run_job(j);
    gemm_seconds += sdd_realtime() - t0;
}

/* C = beta C for an empty sum (K = 0), as BLAS defines it */
static void scale_c(int M, int N, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0 ? 0 : beta * C[(size_t)i * ldc + j];
}

void sdd_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    job_t j = gemm_job(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    run_gemm(&j);
}

void sdd_gemm_bias(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   const float *bias, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        fill_bias(C, M, N, ldc, bias);
        return;
    }
    job_t j = gemm_job(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, C, ldc);
    j.bias = bias;
    run_gemm(&j);
}

#define SQ_PIECES 1024 /* pieces of a product whose sums of squares are kept (more: a pass) */

double sdd_gemm_sumsq_also(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                           const float *B, int ldb, float beta, float *C, int ldc,
                           void (*also)(void *ctx, int piece), void *also_ctx, int n_also)
{
    double sq[SQ_PIECES], s = 0;
    if (M <= 0 || N <= 0 || K <= 0) {
        if (n_also > 0) sdd_parallel_for(n_also, also, also_ctx);
        if (M <= 0 || N <= 0) return 0;
        scale_c(M, N, beta, C, ldc);
        return block_sumsq(C, M, N, ldc);
    }
    job_t j = gemm_job(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (j.n_pieces <= SQ_PIECES) j.sq = sq;
    if (n_also > 0) {
        j.also = also;
        j.also_ctx = also_ctx;
        j.n_pieces += n_also;
    }
    run_gemm(&j);
    if (!j.sq) return block_sumsq(C, M, N, ldc);
    for (int p = 0; p < j.n_own; p++) s += sq[p];
    return s;
}

double sdd_gemm_sumsq(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc)
{
    return sdd_gemm_sumsq_also(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL, NULL, 0);
}

int sdd_gemm_set_precision(int prec)
{
    int old = tl_prec;
    tl_prec = prec;
    return old;
}

void sdd_gemm_bf16_emulate(int on) { bf16_emulate = on; }

int sdd_gemm_resolve(int requested)
{
    static int warned;
    if (requested == SDD_PRECISION_FP32 || requested == SDD_PRECISION_INT8) return SDD_GEMM_FP32;
    if (sdd_cpu_bf16() && bf16_emulate != 2) return SDD_GEMM_BF16;
    if (bf16_emulate) return SDD_GEMM_BF16_EMU;
    if (requested == SDD_PRECISION_BF16 && !warned) {
        warned = 1;
        SDD_LOG_W("bf16 products need AVX512_BF16, which this CPU lacks: fp32 products instead");
    }
    return SDD_GEMM_FP32;
}

double sdd_gemm_seconds(int reset)
{
    double s = gemm_seconds;
    if (reset) gemm_seconds = 0;
    return s;
}

void sdd_gemm_ref(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * s + (beta == 0 ? 0.0 : (double)beta * *c));
        }
}

void sdd_set_threads(int n)
{
    n = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
    pthread_mutex_lock(&pool.mu);
    while (pool.busy) pthread_cond_wait(&pool.idle, &pool.mu);
    pool.busy = 1;
    __atomic_store_n(&pool.threads, n, __ATOMIC_RELAXED);
    stop_workers(n - 1 < pool.started ? n - 1 : pool.started); /* fewer threads: end the others now */
    pool.busy = 0;
    pthread_cond_broadcast(&pool.idle);
    pthread_mutex_unlock(&pool.mu);
    openblas_set_num_threads(1);
}

int sdd_blas_running_workers(void)
{
    int n;
    pthread_mutex_lock(&pool.mu);
    n = pool.started;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

/* At unload (dlclose of the R package, or exit) the workers are ended and joined, so no
 * thread runs code that is about to be unmapped. A job still running on another thread
 * at exit keeps its workers (the process is ending anyway). */
__attribute__((destructor)) static void pool_shutdown(void)
{
    if (pthread_mutex_trylock(&pool.mu) != 0) return;
    if (!pool.busy) {
        pool.busy = 1;
        stop_workers(0);
        pool.busy = 0;
    }
    pthread_mutex_unlock(&pool.mu);
}

/* A child of fork() has only the forking thread: it starts with no workers (they are
 * started again on its first job) and a fresh lock. */
static void pool_after_fork(void)
{
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.go, NULL);
    pthread_cond_init(&pool.idle, NULL);
    pool.started = pool.want = pool.busy = 0;
    pool.job = NULL;
    pool.next = pool.finished = pool.active = pool.sleepers = 0;
}

/* ---- OpenBLAS's kernels
 * An OpenBLAS built for many CPUs (DYNAMIC_ARCH, as Debian's) picks its kernels at load by
 * the CPU's model number. A model newer than the library (Intel Emerald Rapids, model
 * 0xCF, under Debian 12's 0.3.21) gets its plainest x86-64 kernels, Prescott's SSE3 ones,
 * at about 40% of the speed of the AVX-512 kernels the CPU can run. When that happened
 * and the user has not chosen (OPENBLAS_CORETYPE unset), the kernels are chosen again
 * by the instruction sets the CPU reports, through OpenBLAS's own OPENBLAS_CORETYPE path
 * (its exported gotoblas_dynamic_quit / gotoblas_dynamic_init, looked up at run time:
 * an OpenBLAS without them is left as it is). This runs at load, before any product. */
static char blas_kernels[160] = "not examined";

/* 0: SSE-era kernels, 1: AVX, 2: AVX2 + FMA, 3: AVX-512 (F, BW, DQ, VL) */
static int core_level(const char *name)
{
    static const char *const avx[] = {"Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator", NULL};
    static const char *const avx2[] = {"Haswell", "Zen", NULL};
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    for (int i = 0; avx512[i]; i++)
        if (strcasecmp(name, avx512[i]) == 0) return 3;
    for (int i = 0; avx2[i]; i++)
        if (strcasecmp(name, avx2[i]) == 0) return 2;
    for (int i = 0; avx[i]; i++)
        if (strcasecmp(name, avx[i]) == 0) return 1;
    return 0;
}

static int cpu_level(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return 3;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
    if (__builtin_cpu_supports("avx")) return 1;
#endif
    return 0;
}

static void choose_kernels(void)
{
    static const char *const name[] = {NULL, "Sandybridge", "Haswell", "SkylakeX"};
    const char *had = openblas_get_corename(), *now;
    void (*quit)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void (*init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    int want = cpu_level();
    char keep[32];
    snprintf(keep, sizeof keep, "%s", had ? had : "unknown");
    if (getenv("OPENBLAS_CORETYPE") || !had || core_level(had) > 0 || want == 0 || !quit || !init) {
        snprintf(blas_kernels, sizeof blas_kernels, "%s (OpenBLAS's choice%s)", keep,
                 getenv("OPENBLAS_CORETYPE") ? ", from OPENBLAS_CORETYPE" : "");
        return;
    }
    setenv("OPENBLAS_CORETYPE", name[want], 1);
    quit();
    init();
    unsetenv("OPENBLAS_CORETYPE");
    now = openblas_get_corename();
    snprintf(blas_kernels, sizeof blas_kernels, "%s (OpenBLAS took this CPU for %s; chosen by its instruction sets)",
             now ? now : "unknown", keep);
}

const char *sdd_blas_kernels(void) { return blas_kernels; }

__attribute__((constructor)) static void pool_init(void)
{
    pthread_atfork(NULL, NULL, pool_after_fork);
    choose_kernels();
}

void sdd_parallel_for(int n_pieces, void (*fn)(void *ctx, int piece), void *ctx)
{
    job_t j;
    if (n_pieces <= 0) return;
    memset(&j, 0, sizeof j);
    j.fn = fn;
    j.ctx = ctx;
    j.n_pieces = n_pieces;
    run_job(&j);
}

typedef struct {
    void (*fn)(void *ctx, int lo, int hi);
    void *ctx;
    int n, piece;
} range_job_t;

static void range_piece(void *ctx, int p)
{
    const range_job_t *r = ctx;
    int lo = p * r->piece, hi = r->n - lo < r->piece ? r->n : lo + r->piece;
    r->fn(r->ctx, lo, hi);
}

void sdd_parallel_range(int n, int piece, void (*fn)(void *ctx, int lo, int hi), void *ctx)
{
    range_job_t r = {fn, ctx, n, piece};
    if (n > 0) sdd_parallel_for((n + piece - 1) / piece, range_piece, &r);
}

typedef struct {
    double (*f)(void *ctx, int64_t lo, int64_t hi);
    void *ctx;
    int64_t n, piece;
    double part[SDD_SUM_MAX_PIECES];
} sum_job_t;

static void sum_piece(void *ctx, int p)
{
    sum_job_t *s = ctx;
    int64_t lo = (int64_t)p * s->piece, hi = lo + s->piece < s->n ? lo + s->piece : s->n;
    s->part[p] = s->f(s->ctx, lo, hi);
}

double sdd_parallel_sum(int64_t n, int64_t piece, int64_t align,
                        double (*f)(void *ctx, int64_t lo, int64_t hi), void *ctx)
{
    sum_job_t s;
    double sum = 0;
    int np;
    if (n <= 0) return 0;
    s.f = f;
    s.ctx = ctx;
    s.n = n;
    s.piece = piece;
    if ((n + piece - 1) / piece > SDD_SUM_MAX_PIECES)
        s.piece = ((n + SDD_SUM_MAX_PIECES - 1) / SDD_SUM_MAX_PIECES + align - 1) / align * align;
    np = (int)((n + s.piece - 1) / s.piece);
    sdd_parallel_for(np, sum_piece, &s);
    for (int p = 0; p < np; p++) sum += s.part[p];
    return sum;
}

int sdd_blas_get_threads(void)
{
    int n;
    pthread_mutex_lock(&pool.mu);
    n = pool.threads;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

/* ---- double precision */

typedef struct {
    int ta, tb, M, N, K, lda, ldb, ldc, by_cols;
    double alpha, beta;
    const double *A, *B;
    double *C;
} djob_t;

static void dgemm_piece(void *ctx, int p)
{
    const djob_t *j = ctx;
    int lo = p * PIECE;
    enum CBLAS_TRANSPOSE ta = j->ta ? CblasTrans : CblasNoTrans, tb = j->tb ? CblasTrans : CblasNoTrans;
    if (j->by_cols) {
        int n = j->N - lo < PIECE ? j->N - lo : PIECE;
        cblas_dgemm(CblasRowMajor, ta, tb, j->M, n, j->K, j->alpha, j->A, j->lda,
                    j->tb ? j->B + (size_t)lo * j->ldb : j->B + lo, j->ldb, j->beta, j->C + lo, j->ldc);
    } else {
        int m = j->M - lo < PIECE ? j->M - lo : PIECE;
        cblas_dgemm(CblasRowMajor, ta, tb, m, j->N, j->K, j->alpha,
                    j->ta ? j->A + lo : j->A + (size_t)lo * j->lda, j->lda, j->B, j->ldb, j->beta,
                    j->C + (size_t)lo * j->ldc, j->ldc);
    }
}

void sdd_dgemm(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
               const double *B, int ldb, double beta, double *C, int ldc)
{
    djob_t j = {ta, tb, M, N, K, lda, ldb, ldc, N >= M, alpha, beta, A, B, C};
    if (M <= 0 || N <= 0) return;
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    if (K <= 0 || 2.0 * M * N * K < MIN_SPLIT_FLOPS) {
        cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
                    K > 0 ? K : 0, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    sdd_parallel_for(((j.by_cols ? N : M) + PIECE - 1) / PIECE, dgemm_piece, &j);
}

void sdd_dsyrk_t(int N, int K, double alpha, const double *A, int lda, double beta, double *C, int ldc)
{
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, N, K, alpha, A, lda, beta, C, ldc);
}

/* LAPACK from OpenBLAS (Fortran calling convention, hidden string lengths last). */
extern void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work,
                    const int *lwork, int *info);
extern void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau,
                    double *work, const int *lwork, int *info);
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a,
                    const int *lda, const double *vl, const double *vu, const int *il, const int *iu,
                    const double *abstol, int *m, double *w, double *z, const int *ldz, int *isuppz,
                    double *work, const int *lwork, int *iwork, const int *liwork, int *info,
                    size_t l_jobz, size_t l_range, size_t l_uplo);

int sdd_dgeqrf(int m, int n, double *a, int lda, double *tau, double *work, int lwork)
{
    int info = 0;
    dgeqrf_(&m, &n, a, &lda, tau, work, &lwork, &info);
    return info;
}

int sdd_dorgqr(int m, int n, int k, double *a, int lda, const double *tau, double *work, int lwork)
{
    int info = 0;
    dorgqr_(&m, &n, &k, a, &lda, tau, work, &lwork, &info);
    return info;
}

int sdd_dsyevr(int n, double *a, int lda, int il, int iu, int *m, double *w, double *z, int ldz,
               int *isuppz, double *work, int lwork, int *iwork, int liwork)
{
    double vl = 0, vu = 0, abstol = 0;
    int info = 0;
    dsyevr_("V", "I", "L", &n, a, &lda, &vl, &vu, &il, &iu, &abstol, m, w, z, &ldz, isuppz, work, &lwork,
            iwork, &liwork, &info, 1, 1, 1);
    return info;
}
