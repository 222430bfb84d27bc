/*
 * bench/val_curve.c: does training past a point fit the training cells at the cost of
 * cells the model never saw? FILE is split as `simulate --holdout FRAC --seed SEED`
 * splits it (the held-out cells are brought into the model's genes by preprocessing);
 * the `fast` recipe trains on the training cells, and every EVERY steps the EMA network's
 * loss (bit cross-entropy and masked value error, no self-conditioning, the null label)
 * is measured on fixed noise at t = 0.1, 0.3, ..., 0.9 for the held-out cells and for as
 * many training cells. At each multiple of EVAL steps, n_heldout cells are sampled with
 * the default sampler (SAMPLE_STEPS steps) and judged against the held-out cells
 * (sdd_evaluate_heldout: sparsity, MMD, LISI, 5-NN AUC, memorisation).
 *   make bench/val_curve
 *   bench/val_curve FILE FRAC SEED STEPS EVERY EVAL SAMPLE_STEPS THREADS auto|none
 * Prints one tab-separated line per measurement (kind "loss" or "eval"). Training runs
 * without the validation rule, to show the curve the rule cuts
 * (bench/fidelity/val_curve_pbmc3k_s1.tsv: PBMC 3k, 25 % held out, seed 1, --label auto).
 */
#include "bench_util.h"
#include "nn.h"
#include "sample_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define NT 5

typedef struct {
    int64_t n;
    float *x0, *xt[NT];
} evalset_t;

static int evalset_make(const sdd_model_t *m, const sdd_csr_t *X, int64_t n, uint64_t seed, evalset_t *e)
{
    int D = m->shape.D;
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    float *tt = malloc((size_t)n * sizeof *tt);
    sdd_rng_t r;
    e->n = n;
    e->x0 = malloc((size_t)n * D * sizeof(float));
    if (!idx || !tt || !e->x0) return -1;
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    sdd_encode_rows(m, X, idx, (int)n, e->x0);
    sdd_rng_seed(&r, seed);
    for (int q = 0; q < NT; q++) {
        for (int64_t i = 0; i < n; i++) tt[i] = (float)(0.1 + 0.2 * q);
        if (!(e->xt[q] = malloc((size_t)n * D * sizeof(float)))) return -1;
        sdd_noise_rows(&r, e->x0, tt, (int)n, D, e->xt[q]);
    }
    free(idx);
    free(tt);
    return 0;
}

/* mean bit cross-entropy and value error over the set, per t and overall */
static void evalset_loss(sdd_model_t *m, const evalset_t *e, double bits[NT], double vals[NT])
{
    int D = m->shape.D;
    int n = (int)e->n;
    int32_t *lab = NULL;
    float *tt = malloc((size_t)n * sizeof *tt);
    sdd_fwd_t *f;
    sdd_fwd_init(&f, m, m->ema, n);
    if (m->shape.n_labels > 0) {
        lab = malloc((size_t)n * sizeof *lab);
        for (int i = 0; i < n; i++) lab[i] = m->shape.n_labels;
    }
    for (int q = 0; q < NT; q++) {
        for (int i = 0; i < n; i++) tt[i] = (float)(0.1 + 0.2 * q);
        const float *o = sdd_fwd_run(f, n, e->xt[q], NULL, 0, tt[0], lab);
        double all = sdd_loss_bitlogit(o, e->x0, e->xt[q], tt, n, D, m->bit_scale, 1.0, 0.0, NULL);
        double v = sdd_loss_bitlogit(o, e->x0, e->xt[q], tt, n, D, m->bit_scale, 0.0, 0.0, NULL);
        vals[q] = v;
        bits[q] = all - v;
    }
    sdd_fwd_free(f);
    free(lab);
    free(tt);
}

static void print_loss(int64_t step, const char *side, const double b[NT], const double v[NT])
{
    double sb = 0, sv = 0;
    printf("loss\t%lld\t%s", (long long)step, side);
    for (int q = 0; q < NT; q++) sb += b[q], sv += v[q];
    printf("\tbits %.5f\tvalues %.5f", sb / NT, sv / NT);
    for (int q = 0; q < NT; q++) printf("\tb%.1f %.5f", 0.1 + 0.2 * q, b[q]);
    printf("\n");
    fflush(stdout);
}

static int eval_samples(sdd_model_t *m, const sdd_trainset_t *ts, int64_t S, uint64_t seed)
{
    sdd_sample_opt_t so;
    sdd_eval_opt_t eo;
    sdd_csr_t X;
    sdd_heldout_eval_t *h;
    sdd_sample_opt_init(&so);
    sdd_preset_apply("fast", NULL, &so);
    so.n_cells = ts->n_heldout;
    so.steps = S;
    so.seed = seed;
    sdd_eval_opt_init(&eo);
    eo.seed = seed;
    if (sdd_model_sample(m, &so, &X, NULL, NULL, NULL) < 0) return -1;
    if (sdd_evaluate_heldout(&ts->heldout_X, &X, &ts->X, NULL, NULL, NULL, NULL, 0, &eo, NULL, NULL, &h) < 0)
        return -1;
    printf("eval\t%lld\tS%lld\tsparsity_diff_pp %+.3f\tscc %.4f\tpcc %.4f\tmmd %.4f\tlisi %.3f\tauc %.3f\tmem %.3f"
           "\tfloor_mmd %.4f\tfloor_auc %.3f\n",
           (long long)sdd_model_step(m), (long long)S, 100 * (h->synth->sparsity_synth - h->synth->sparsity_real),
           h->synth->scc, h->synth->pcc, h->synth->mmd, h->synth->lisi_scaled, h->synth->knn_auc, h->memorisation,
           h->floor->mmd, h->floor->knn_auc);
    fflush(stdout);
    sdd_heldout_eval_destroy(h);
    sdd_csr_free(&X);
    return 0;
}

int main(int argc, char **argv)
{
    bench_run_t r;
    sdd_trainset_t *ts;
    sdd_model_t *m;
    int64_t seed, steps, every, eval, S, th;
    double frac;
    evalset_t ho, tr;
    double b[NT], v[NT];
    if (argc != 10 || sdd_parse_double(argv[2], 0.01, 0.9, "fraction", &frac) ||
        sdd_parse_int64(argv[3], 0, 1000000, "seed", &seed) || sdd_parse_int64(argv[4], 1, 1000000, "steps", &steps) ||
        sdd_parse_int64(argv[5], 1, 1000000, "every", &every) || sdd_parse_int64(argv[6], 1, 1000000, "eval", &eval) ||
        sdd_parse_int64(argv[7], 1, 10000, "sample steps", &S) || sdd_parse_int64(argv[8], 1, 64, "threads", &th)) {
        fprintf(stderr, "usage: val_curve FILE FRAC SEED STEPS EVERY EVAL SAMPLE_STEPS THREADS auto|none\n");
        return 2;
    }
    bench_init(&r);
    r.po.holdout = frac;
    r.po.holdout_seed = (uint64_t)seed;
    r.po.auto_labels = strcmp(argv[9], "auto") == 0;
    r.po.threads = (int)th;
    sdd_preset_apply("fast", &r.to, NULL);
    r.to.seed = (uint64_t)seed;
    r.to.steps = every;
    r.to.validation = 0; /* the whole curve: the validation rule would end it */
    if (bench_setup("val_curve", argv[1], &r, (int)th)) return 1;
    ts = r.ts;
    m = r.m;
    fprintf(stderr, "%lld training cells, %lld held out, %lld genes, %d labels\n", (long long)ts->n_cells,
            (long long)ts->n_heldout, (long long)ts->G, m->shape.n_labels);
    if (evalset_make(m, &ts->heldout_X, ts->n_heldout, 99, &ho) < 0 ||
        evalset_make(m, &ts->X, ts->n_heldout < ts->n_cells ? ts->n_heldout : ts->n_cells, 98, &tr) < 0)
        return 1;
    double t0 = sdd_realtime();
    for (int64_t k = every; k <= steps; k += every) {
        if (sdd_model_set_steps(m, k) < 0 || sdd_model_train(m, ts, NULL, NULL) < 0) {
            fprintf(stderr, "val_curve: %s\n", sdd_errdetail());
            return 1;
        }
        evalset_loss(m, &tr, b, v);
        print_loss(k, "train", b, v);
        evalset_loss(m, &ho, b, v);
        print_loss(k, "heldout", b, v);
        if (k % eval == 0 && eval_samples(m, ts, S, (uint64_t)seed) < 0) {
            fprintf(stderr, "val_curve: %s\n", sdd_errdetail());
            return 1;
        }
        fprintf(stderr, "%lld steps, %.0f s\n", (long long)k, sdd_realtime() - t0);
    }
    bench_free(&r);
    return 0;
}
