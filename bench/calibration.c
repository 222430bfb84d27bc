/*
 * bench/calibration.c: how well a model reads the sparsity bits of real cells back from
 * their noised copies. For 512 training cells (seeded), noised at each t of a grid, the
 * network's x0-hat bits (EMA weights, no self-conditioning) give p = (b + 1)/2; printed
 * per t: the true fraction of on bits, the mean p, and the mean p over on and over off
 * entries. A calibrated model has mean p = the on fraction at every t, and p|on -> 1,
 * p|off -> 0 as t -> 0 (the bits are plain to see there).
 *   make bench/calibration && bench/calibration MODEL.sdd TRAINING_FILE
 * TRAINING_FILE is the file the model was trained on (its genes are selected again).
 */
#include "nn.h"
#include "sample_internal.h"
#include <stdio.h>
#include <math.h>
int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: calibration MODEL.sdd TRAINING_FILE\n");
        return 2;
    }
    sdd_model_t *m; sdd_trainset_t *ts; sdd_prep_opt_t po; sdd_fwd_t *f;
    sdd_prep_opt_init(&po);
    if (sdd_model_load(argv[1], &m) < 0 || sdd_prep_run(argv[2], &po, &ts) < 0) { fprintf(stderr, "load: %s\n", sdd_errdetail()); return 1; }
    int B = 512, D = m->shape.D, G = (int)m->shape.G;
    sdd_fwd_init(&f, m, m->ema, B);
    int64_t idx[512]; float *x0 = malloc(sizeof(float)*B*D), *xt = malloc(sizeof(float)*B*D), tt[512];
    sdd_rng_t r; sdd_rng_seed(&r, 1);
    for (int i = 0; i < B; i++) idx[i] = (int64_t)sdd_rng_below(&r, ts->n_cells);
    sdd_encode_rows(m, &ts->X, idx, B, x0);
    double ts_[] = {0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    for (int q = 0; q < 12; q++) {
        for (int i = 0; i < B; i++) tt[i] = (float)ts_[q];
        sdd_noise_rows(&r, x0, tt, B, D, xt);
        const float *o0 = sdd_fwd_run(f, B, xt, NULL, 0, (float)ts_[q], NULL);
        float *o = malloc(sizeof(float)*B*D); memcpy(o, o0, sizeof(float)*B*D);
        if (m->opt.precond == 1) sdd_precond_apply(o, xt, tt, B, D, m->shape.bits, m->opt.precond_mu);
        if (m->opt.precond == 2) sdd_bitlogit_apply(o, xt, tt, B, D, m->bit_scale);
        double pon = 0, non = 0, poff = 0, noff = 0, ptot = 0;
        for (int i = 0; i < B; i++) for (int j = 0; j < G; j++) {
            double b = o[(size_t)i*D+G+j]; b = b > 1 ? 1 : b < -1 ? -1 : b; double p = (b+1)/2;
            ptot += p;
            if (x0[(size_t)i*D+G+j] > 0) pon += p, non++; else poff += p, noff++;
        }
        free(o);
        printf("t %.2f  true on-frac %.4f  mean p %.4f   p|on %.3f  p|off %.4f\n", ts_[q], non/(non+noff), ptot/(non+noff), pon/non, poff/noff);
    }
    sdd_fwd_free(f);
    free(x0);
    free(xt);
    sdd_trainset_destroy(ts);
    sdd_model_destroy(m);
    return 0;
}
