/* bench_train: sddcell's training step rate on random data (G genes, n cells), and the
 * rate OpenBLAS's sgemm reaches on the very matrix products of one step.
 *
 * usage: bench_train G BATCH STEPS THREADS [REPEATS [PRECISION]]
 *        bench_train sgemm THREADS      (the machine's sgemm rate: 1024^3, best of 5)
 * Prints: "sddcell train: G=.. batch=.. params=.. X steps/s (median of R) Y GFLOP/s",
 *         "sddcell whole step: F GFLOP/s", "sddcell flops per step: N GFLOP",
 *         "openblas sgemm on the same shapes: Z GFLOP/s". BENCH_TRAIN_ONLY=1 skips the
 *         sgemm rounds. PRECISION: fp32 (default), bf16, int8 or auto, as --precision
 *         (int8: no product rate, as only the float products are timed). */
#include "nn.h"
#include "vec.h"
#include <cblas.h>
#undef I /* <complex.h>, through cblas.h */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct { int ta, tb, M, N, K; double count; } shape_t;

static int n_shapes;
static shape_t shapes[64];

static void add(int ta, int tb, int M, int N, int K, double count)
{
    shapes[n_shapes++] = (shape_t){ta, tb, M, N, K, count};
}

/* The products of one training step as model.c issues them: the shared part (embedding,
 * x_t half of the first product), the rest of the forward on the self-conditioning rows,
 * the forward and the backward on the batch. */
static double step_shapes(const sdd_model_t *m, int B, int n_sc)
{
    const sdd_netshape_t *s = &m->shape;
    double flops = 0;
    int D = s->D, E = s->E;
    int rows[2] = {n_sc, B};
    n_shapes = 0;
    /* shared by both passes, once per step: embedding, x_t half of the first product */
    add(0, 1, B, E, E, 2); /* t1, t2 */
    add(0, 1, B, m->Esum, E, 1);
    add(0, 1, B, s->H[0], D, 1);
    for (int pass = 0; pass < 2; pass++) {
        int R = rows[pass];
        if (pass == 1) add(0, 1, n_sc, s->H[0], D, 1);
        for (int i = 1; i < SDD_N_RB; i++) add(0, 1, R, m->p.rb[i].O, m->p.rb[i].I, 1);
        add(0, 1, R, s->F, s->H[0], 1);
        add(0, 1, R, D, s->F, 1);
    }
    /* backward: dX (NN) and dW (TN) */
    add(0, 0, B, s->F, D, 1); add(1, 0, D, s->F, B, 1);
    add(0, 0, B, s->H[0], s->F, 1); add(1, 0, s->F, s->H[0], B, 1);
    for (int i = 1; i < SDD_N_RB; i++) {
        add(0, 0, B, m->p.rb[i].I, m->p.rb[i].O, 1);
        add(1, 0, m->p.rb[i].O, m->p.rb[i].I, B, 1);
    }
    add(1, 0, s->H[0], D, B, 1); add(1, 0, s->H[0], D, n_sc, 1);
    add(0, 0, B, E, m->Esum, 1); add(1, 0, m->Esum, E, B, 1);
    add(0, 0, B, E, E, 1); add(1, 0, E, E, B, 2);
    for (int i = 0; i < n_shapes; i++)
        flops += 2.0 * shapes[i].M * shapes[i].N * shapes[i].K * shapes[i].count;
    return flops;
}

/* Best rate over reps rounds of the step's products: native OpenBLAS threading
 * (native = 1) or sdd_gemm's shape-fixed pieces on our threads (native = 0). */
static double sgemm_rate(double flops, int reps, int native, int threads)
{
    int64_t mx = 0;
    for (int i = 0; i < n_shapes; i++) {
        int64_t a = (int64_t)shapes[i].M * shapes[i].K, b = (int64_t)shapes[i].N * shapes[i].K;
        int64_t c = (int64_t)shapes[i].M * shapes[i].N;
        if (a > mx) mx = a;
        if (b > mx) mx = b;
        if (c > mx) mx = c;
    }
    float *A = calloc((size_t)mx, 4), *Bm = calloc((size_t)mx, 4), *C = calloc((size_t)mx, 4);
    for (int64_t i = 0; i < mx; i++) A[i] = Bm[i] = (float)((i % 17) - 8) * 0.01f;
    double best = 0;
    if (native) openblas_set_num_threads(threads);
    for (int r = 0; r < reps + 1; r++) {
        double t0 = sdd_realtime();
        sdd_gemm_seconds(1);
        for (int i = 0; i < n_shapes; i++) {
            shape_t *s = &shapes[i];
            for (int c = 0; c < (int)s->count; c++)
                if (!native)
                    sdd_gemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, s->ta ? s->M : s->K, Bm,
                             s->tb ? s->K : s->N, 0.0f, C, s->N);
                else
                cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                            s->tb ? CblasTrans : CblasNoTrans, s->M, s->N, s->K, 1.0f, A,
                            s->ta ? s->M : s->K, Bm, s->tb ? s->K : s->N, 0.0f, C, s->N);
        }
        double rate = flops / (sdd_realtime() - t0) / 1e9;
        if (r > 0 && rate > best) best = rate; /* first round warms up */
    }
    free(A); free(Bm); free(C);
    sdd_set_threads(threads);
    return best;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* OpenBLAS's own sgemm (its threading) on one 1024^3 product: the machine's rate */
static double square_rate(int threads)
{
    int n = 1024;
    float *A = calloc((size_t)n * n, 4), *Bm = calloc((size_t)n * n, 4), *C = calloc((size_t)n * n, 4);
    double best = 0;
    for (int64_t i = 0; i < (int64_t)n * n; i++) A[i] = Bm[i] = (float)((i % 17) - 8) * 0.01f;
    openblas_set_num_threads(threads);
    for (int r = 0; r < 6; r++) {
        double t0 = sdd_realtime();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, Bm, n, 0.0f, C, n);
        double rate = 2.0 * n * n * n / (sdd_realtime() - t0) / 1e9;
        if (r > 0 && rate > best) best = rate;
    }
    openblas_set_num_threads(1);
    free(A); free(Bm); free(C);
    return best;
}

int main(int argc, char **argv)
{
    int64_t G, B, S, T, R = 3;
    int prec = SDD_PRECISION_FP32;
    if (argc == 3 && !strcmp(argv[1], "sgemm") && !sdd_parse_int64(argv[2], 1, 256, "threads", &T)) {
        printf("openblas sgemm 1024x1024x1024, %lld threads: %.1f GFLOP/s\n", (long long)T, square_rate((int)T));
        return 0;
    }
    if (argc > 6 && (prec = sdd_precision_parse(argv[6])) < 0) {
        fprintf(stderr, "bench_train: precision is fp32, bf16, auto or int8\n");
        return 1;
    }
    if (argc < 5 || sdd_parse_int64(argv[1], 1, 100000, "G", &G) || sdd_parse_int64(argv[2], 1, 65536, "batch", &B) ||
        sdd_parse_int64(argv[3], 1, 1000000, "steps", &S) || sdd_parse_int64(argv[4], 1, 256, "threads", &T) ||
        (argc > 5 && sdd_parse_int64(argv[5], 1, 100, "repeats", &R))) {
        fprintf(stderr, "usage: bench_train G BATCH STEPS THREADS [REPEATS]\n");
        return 1;
    }
    sdd_trainset_t ts = {0};
    float *dense = calloc((size_t)(1000 * G), sizeof(float));
    sdd_rng_t rng;
    sdd_rng_seed(&rng, 1);
    for (int64_t i = 0; i < 1000 * G; i++)
        if (sdd_rng_uniform(&rng) < 0.1) dense[i] = (float)(1 + sdd_rng_uniform(&rng) * 3);
    ts.n_cells = 1000;
    ts.G = G;
    sdd_csr_from_dense(dense, 1000, G, &ts.X);
    ts.gene_names = calloc((size_t)G, sizeof(char *));
    for (int64_t j = 0; j < G; j++) ts.gene_names[j] = "g";
    free(dense);
    sdd_set_threads((int)T);
    sdd_train_opt_t o;
    sdd_train_opt_init(&o);
    o.batch = B;
    o.precision = prec;
    double rates[100], inprod[100], cpu[100];
    sdd_model_t *m = NULL;
    for (int r = 0; r < R; r++) {
        if (sdd_model_create(&ts, &o, &m) < 0) {
            fprintf(stderr, "bench_train: %s\n", sdd_errdetail());
            return 1;
        }
        sdd_model_set_steps(m, 3); /* warm-up, as the torch benchmark */
        sdd_model_train(m, &ts, NULL, NULL);
        sdd_model_set_steps(m, 3 + S);
        double t0 = sdd_realtime(), c0 = cpu_seconds();
        sdd_gemm_seconds(1);
        if (sdd_model_train(m, &ts, NULL, NULL) < 0) {
            fprintf(stderr, "bench_train: %s\n", sdd_errdetail());
            return 1;
        }
        rates[r] = (double)S / (sdd_realtime() - t0);
        cpu[r] = (cpu_seconds() - c0) / (double)S;
        inprod[r] = (double)S / sdd_gemm_seconds(1);
        if (r < R - 1) sdd_model_destroy(m);
    }
    qsort(rates, (size_t)R, sizeof *rates, cmp);
    qsort(inprod, (size_t)R, sizeof *inprod, cmp);
    qsort(cpu, (size_t)R, sizeof *cpu, cmp);
    double med = rates[R / 2], flops = step_shapes(m, (int)B, (int)floor(o.self_cond * B + 0.5));
    int run = sdd_train_products(m);
    /* the product time is sdd_gemm's: float products only, so no rate for int8 */
    if (run == SDD_PRECISION_INT8)
        printf("sddcell train: G=%lld batch=%lld params=%lld %.2f steps/s (median of %lld)\n", (long long)G,
               (long long)B, (long long)m->n_params, med, (long long)R);
    else
        printf("sddcell train: G=%lld batch=%lld params=%lld %.2f steps/s (median of %lld) %.1f GFLOP/s in products\n",
               (long long)G, (long long)B, (long long)m->n_params, med, (long long)R, inprod[R / 2] * flops / 1e9);
    printf("sddcell precision: %s, products run %s%s\n", sdd_precision_name(prec), sdd_precision_name(run),
           run != SDD_PRECISION_INT8 ? "" : sdd_cpu_vnni() ? " (AVX512_VNNI)" : " (portable loops)");
    printf("sddcell flops per step: %.3f GFLOP\n", flops / 1e9);
    if (run == SDD_PRECISION_INT8)
        printf("sddcell whole step: %.1f G-ops/s\n", med * flops / 1e9);
    else
        printf("sddcell whole step: %.1f GFLOP/s (%.0f%% of the step in products)\n", med * flops / 1e9,
               100.0 * med / inprod[R / 2]);
    printf("sddcell CPU time: %.1f ms per step (all threads)\n", 1e3 * cpu[R / 2]);
    if (getenv("BENCH_TRAIN_ONLY")) return 0;
    printf("sdd_gemm alone on the step's shapes: %.1f GFLOP/s\n", sgemm_rate(flops, 3, 0, (int)T));
    printf("openblas sgemm on the same shapes (%d products, %.2f GFLOP per step, %lld threads): %.1f GFLOP/s\n",
           n_shapes, flops / 1e9, (long long)T, sgemm_rate(flops, 3, 1, (int)T));
    sdd_model_destroy(m);
    sdd_csr_free(&ts.X);
    return 0;
}
