/*
 * validation.c: the validation rule that ends training before the model fits its
 * training cells at the cost of cells it has not seen (doc/method.md §6.9).
 *
 * A share of the training set (opt.validation, at most SDD_VAL_MAX_CELLS cells, chosen
 * by sdd_holdout_split with a seed derived from the training seed and stratified by the
 * labels) takes no part in the optimiser's batches. Every opt.val_every steps the EMA
 * network's loss (the training loss without self-conditioning, each cell with its own
 * label) is measured on those cells at SDD_VAL_TIMES fixed times with noise drawn
 * afresh from one fixed seed, so two checks differ only by the weights. The rule keeps
 * the EMA weights of the latest check whose loss is within opt.val_tol (relative) of
 * the lowest so far; after opt.patience checks in a row above that band, training ends
 * and the kept weights become the model's EMA weights. The state (kept weights, lowest
 * loss, checks above the band, the step training ended) is saved with the model, so a
 * run resumed from a checkpoint checks and ends exactly as the uninterrupted run.
 */
#include "nn.h"
#include <math.h>

#define VAL_SEED UINT64_C(0x76616c6964617465) /* "validate" */

int sdd_valset_make(const sdd_model_t *m, const sdd_trainset_t *ts, sdd_valset_t *v)
{
    int64_t n = ts->n_cells, want, k = 0, j = 0;
    uint8_t *held = NULL;
    double frac;
    memset(v, 0, sizeof *v);
    if (m->opt.validation <= 0) return SDD_OK;
    want = (int64_t)floor(m->opt.validation * (double)n + 0.5);
    if (want > SDD_VAL_MAX_CELLS) want = SDD_VAL_MAX_CELLS;
    if (want < SDD_VAL_MIN_CELLS || n - want < SDD_VAL_MIN_CELLS) {
        sdd_log(SDD_LOG_INFO, "train", "%lld training cells are too few to set %lld aside for validation "
                "(%d needed): training runs its %lld steps", (long long)n, (long long)want, SDD_VAL_MIN_CELLS,
                (long long)m->opt.steps);
        return SDD_OK;
    }
    frac = (double)want / (double)n;
    held = sdd_malloc((size_t)n);
    v->val = sdd_malloc((size_t)want * sizeof *v->val);
    v->fit = sdd_malloc((size_t)(n - want) * sizeof *v->fit);
    if (!held || !v->val || !v->fit) {
        free(held);
        sdd_valset_free(v);
        return SDD_ENOMEM;
    }
    v->n_val = sdd_holdout_split(NULL, m->shape.n_labels > 0 ? ts->labels : NULL, n, frac,
                                 m->opt.seed ^ VAL_SEED, held);
    if (v->n_val != want) { /* the split rounds the same count; anything else is a bug */
        free(held);
        sdd_valset_free(v);
        return sdd_error(SDD_EINVAL, "validation split gave %lld cells, not %lld", (long long)v->n_val,
                         (long long)want);
    }
    for (int64_t i = 0; i < n; i++) {
        if (held[i]) v->val[k++] = i;
        else v->fit[j++] = i;
    }
    v->n_fit = j;
    free(held);
    return SDD_OK;
}

void sdd_valset_free(sdd_valset_t *v)
{
    free(v->val);
    free(v->fit);
    memset(v, 0, sizeof *v);
}

int sdd_val_loss(sdd_model_t *m, const sdd_trainset_t *ts, const sdd_valset_t *v, double *loss)
{
    int B = (int)m->opt.batch, D = m->shape.D;
    float *x0 = sdd_malloc((size_t)B * D * sizeof *x0), *xt = sdd_malloc((size_t)B * D * sizeof *xt);
    float *t = sdd_malloc((size_t)B * sizeof *t);
    int32_t *lab = sdd_malloc((size_t)B * sizeof *lab);
    sdd_rng_t rng;
    double sum = 0;
    if (!x0 || !xt || !t || !lab) {
        free(x0);
        free(xt);
        free(t);
        free(lab);
        return SDD_ENOMEM;
    }
    sdd_rng_seed(&rng, m->opt.seed ^ VAL_SEED);
    for (int64_t r0 = 0; r0 < v->n_val; r0 += B) {
        int b = (int)(v->n_val - r0 < B ? v->n_val - r0 : B);
        sdd_encode_rows(m, &ts->X, v->val + r0, b, x0);
        for (int i = 0; i < b; i++) lab[i] = m->shape.n_labels > 0 ? ts->labels[v->val[r0 + i]] : 0;
        for (int i = 0; i < b && m->shape.n_labels > 0; i++)
            if (lab[i] < 0 || lab[i] >= m->shape.n_labels) lab[i] = m->shape.n_labels;
        for (int q = 0; q < SDD_VAL_TIMES; q++) {
            for (int i = 0; i < b; i++) t[i] = (float)(q + 1) / (SDD_VAL_TIMES + 1);
            sdd_noise_rows(&rng, x0, t, b, D, xt);
            sdd_net_forward(m, m->ema, b, xt, NULL, 0, t, m->shape.n_labels > 0 ? lab : NULL);
            sum += sdd_model_loss(m, m->a.out, x0, xt, t, b, NULL) * b;
        }
    }
    free(x0);
    free(xt);
    free(t);
    free(lab);
    *loss = sum / ((double)v->n_val * SDD_VAL_TIMES);
    return isfinite(*loss) ? SDD_OK : sdd_error(SDD_EDATA, "validation loss is %g at step %lld", *loss,
                                                (long long)m->step);
}

int sdd_val_check(sdd_model_t *m, double loss)
{
    sdd_valstate_t *s = &m->val;
    size_t bytes = (size_t)m->n_params * sizeof(float);
    if (!m->kept && !(m->kept = sdd_malloc(bytes))) return SDD_ENOMEM;
    s->checks++;
    sdd_log(SDD_LOG_DEBUG, "train", "validation loss %.6f at step %lld", loss, (long long)m->step);
    if (s->checks == 1 || loss < s->best_loss) {
        s->best_loss = loss;
        s->best_step = m->step;
    }
    if (loss <= s->best_loss * (1 + m->opt.val_tol)) {
        memcpy(m->kept, m->ema, bytes);
        s->kept_step = m->step;
        s->kept_loss = loss;
        s->bad = 0;
        return 0;
    }
    if (++s->bad < m->opt.patience) return 0;
    memcpy(m->ema, m->kept, bytes);
    free(m->kept);
    m->kept = NULL;
    s->stopped = m->step;
    sdd_log(SDD_LOG_INFO, "train", "validation loss rose for %d checks: training ends at step %lld of %lld with the "
            "weights of step %lld (validation loss %.5f; lowest %.5f at step %lld)", s->bad, (long long)m->step,
            (long long)m->opt.steps, (long long)s->kept_step, s->kept_loss, s->best_loss, (long long)s->best_step);
    return 1;
}
