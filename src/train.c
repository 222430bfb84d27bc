/*
 * train.c: the training loop of doc/method.md §6.
 *
 * A step: draw B cells uniformly with replacement from the one seeded RNG, encode them
 * to x0 = [v | s], draw t ~ U(0,1) and eps ~ N(0, I) per example, x_t = sqrt(gamma) x0 +
 * sqrt(1 - gamma) eps. Self-conditioning: the first round(self_cond B) rows of the batch
 * (a random subset, since rows are independent draws) first go through the network on
 * [x_t | 0] without gradient; the estimate, clipped to [-1, 1] (bits to +-bit_scale), is
 * their second input; the other rows get zeros, and their zero half of the first
 * product is skipped. The two passes share the time embedding and the x_t half of the
 * first product, computed once for the whole batch. Loss: mean over batch and outputs of (x0-hat - x0)^2 (bit half
 * weighted by bit_weight; optionally no value loss where the cell's value is zero).
 * Then global-norm clipping, Adam and the EMA update.
 *
 * Invariant: everything a step depends on is in the model (weights, Adam moments, EMA,
 * step counter, RNG state), so a run saved after step k and resumed equals the
 * uninterrupted run bit for bit.
 */
#include "nn.h"
#include "vec.h"
#include <math.h>

int64_t sdd_train_default_steps(int64_t n_cells, int64_t batch)
{
    int64_t s = (150 * n_cells + batch - 1) / (batch > 0 ? batch : 1);
    return s < 500 ? 500 : s > 1200 ? 1200 : s;
}

int sdd_preset_apply(const char *name, sdd_train_opt_t *t, sdd_sample_opt_t *s)
{
    sdd_train_opt_t td;
    sdd_sample_opt_t sd;
    int paper = strcmp(name, "paper") == 0;
    if (!paper && strcmp(name, "fast") != 0)
        return sdd_error(SDD_EINVAL, "unknown preset '%s' (fast, paper)", name);
    sdd_train_opt_init(&td);
    sdd_sample_opt_init(&sd);
    if (t) {
        t->steps = paper ? 300000 : td.steps;
        t->lr = paper ? 2e-4 : td.lr;
        t->value_mask = paper ? 0 : td.value_mask;
        t->precond = paper ? 0 : td.precond;
        t->lr_decay = td.lr_decay;
        t->validation = paper ? 0 : td.validation;
    }
    if (s) {
        s->sampler = SDD_SAMPLER_DDIM;
        s->steps = paper ? 1000 : 0; /* fast: sdd_sample_default_steps */
        s->bit_decode = paper ? SDD_BITS_THRESHOLD : sd.bit_decode;
    }
    return SDD_OK;
}

int64_t sdd_train_scratch_floats(const sdd_model_t *m, int B)
{
    return (int64_t)B * (3 * m->shape.D + 1);
}

/* Forward, loss and backward of rows [0, B) of a batch whose first n_sc rows get the
 * self-conditioning pass; gradients accumulate into m->grads. t [B], xt [B][D], sc and
 * dout [B][D] are the rows' scratch. Returns the mean loss over the B rows. */
static int grad_rows(sdd_model_t *m, const float *x0, const int32_t *labels, int B, int n_sc, const float *t,
                     const float *xt, float *sc, float *dout, double *loss)
{
    const sdd_train_opt_t *o = &m->opt;
    int D = m->shape.D, G = (int)m->shape.G;
    float bs = (float)m->bit_scale;
    /* both passes share the embedding and the x_t half of the first product */
    sdd_net_prepare(m, m->params, B, xt, t, labels);
    if (sdd_interrupt_requested()) return SDD_EINTR;
    if (n_sc > 0) {
        sdd_net_forward_prepared(m, m->params, n_sc, NULL, 0);
        if (o->precond == 1) sdd_precond_apply(m->a.out, xt, t, n_sc, D, m->shape.bits, o->precond_mu);
        if (o->precond == 2) sdd_bitlogit_apply(m->a.out, xt, t, n_sc, D, m->bit_scale);
        for (int r = 0; r < n_sc; r++)
            for (int j = 0; j < D; j++) {
                float lim = (m->shape.bits && j >= G) ? bs : 1.0f, v = m->a.out[(size_t)r * D + j];
                sc[(size_t)r * D + j] = v > lim ? lim : v < -lim ? -lim : v;
            }
    }
    if (sdd_interrupt_requested()) return SDD_EINTR;
    sdd_net_forward_prepared(m, m->params, B, sc, n_sc);
    if (sdd_interrupt_requested()) return SDD_EINTR;
    *loss = sdd_model_loss(m, m->a.out, x0, xt, t, B, dout);
    sdd_net_backward(m, B, xt, sc, n_sc, labels, dout);
    return sdd_interrupt_requested() ? SDD_EINTR : SDD_OK;
}

/* The slices of this process, one after the other: slice s holds rows [s B/S, (s+1) B/S)
 * (the first n_sc rows of the batch keep their self-conditioning). Each slice's mean
 * gradient and loss, times 1/S (a power of two: exact), go into a slot of n_params + 1
 * floats; the slots are summed pairwise, then over the processes; m->grads gets the sum.
 * Every process then holds the same gradient and takes the same optimiser step. */
static int grad_slices(sdd_model_t *m, const float *x0, const int32_t *labels, int B, int n_sc, const float *t,
                       const float *xt, float *sc, float *dout, double *loss)
{
    int S = m->opt.grad_slices, per = S / m->n_ranks, Bs = B / S, D = m->shape.D, rc;
    int64_t n = m->n_params, w = n + 1;
    float *parts[1024], inv = 1.0f / (float)S;
    for (int j = 0; j < per; j++) {
        int s0 = (m->rank * per + j) * Bs, nsc = n_sc - s0 < 0 ? 0 : n_sc - s0 > Bs ? Bs : n_sc - s0;
        float *slot = m->slots + (size_t)j * w;
        double l = 0;
        memset(m->grads, 0, (size_t)n * sizeof *m->grads);
        if ((rc = grad_rows(m, x0 + (size_t)s0 * D, labels ? labels + s0 : NULL, Bs, nsc, t + s0,
                            xt + (size_t)s0 * D, sc + (size_t)s0 * D, dout + (size_t)s0 * D, &l)) < 0)
            return rc;
        for (int64_t i = 0; i < n; i++) slot[i] = m->grads[i] * inv;
        slot[n] = (float)l * inv;
        parts[j] = slot;
    }
    sdd_pairwise_sum(parts, per, w, m->slots);
    if (m->n_ranks > 1 && m->reduce && m->reduce(m->slots, w, m->reduce_user) != 0)
        return sdd_error(SDD_EIO, "data-parallel training: the exchange of gradients failed at step %lld",
                         (long long)m->step + 1);
    memcpy(m->grads, m->slots, (size_t)n * sizeof *m->grads);
    *loss = m->slots[n];
    return SDD_OK;
}

void sdd_pairwise_sum(float *const *parts, int n, int64_t len, float *out)
{
    for (int step = 1; step < n; step *= 2)
        for (int i = 0; i + step < n; i += 2 * step) {
            float *a = parts[i];
            const float *b = parts[i + step];
            for (int64_t k = 0; k < len; k++) a[k] += b[k];
        }
    if (n > 0 && out != parts[0]) memcpy(out, parts[0], (size_t)len * sizeof *out);
}

int sdd_model_set_parallel(sdd_model_t *m, int rank, int n_ranks, sdd_reduce_f reduce, void *user)
{
    int S = m->opt.grad_slices;
    if (n_ranks < 1 || (n_ranks & (n_ranks - 1)) || S % n_ranks || rank < 0 || rank >= n_ranks ||
        (n_ranks > 1 && !reduce))
        return sdd_error(SDD_EINVAL, "%d processes cannot share %d gradient slices: the number of processes must be "
                         "a power of two that divides the slices (--grad-slices)", n_ranks, S);
    m->rank = rank;
    m->n_ranks = n_ranks;
    m->reduce = reduce;
    m->reduce_user = user;
    return SDD_OK;
}

/* Slot memory of the sliced step, allocated before a run rather than inside a step. */
static int ensure_slots(sdd_model_t *m)
{
    int per;
    if (m->n_ranks < 1) m->n_ranks = 1;
    per = m->opt.grad_slices / m->n_ranks;
    if ((m->opt.grad_slices > 1 || m->n_ranks > 1) && !m->slots &&
        !(m->slots = sdd_malloc((size_t)(per > 0 ? per : 1) * (size_t)(m->n_params + 1) * sizeof *m->slots)))
        return SDD_ENOMEM;
    return SDD_OK;
}

/* One optimiser step on x0 [B][D]. Scratch: t [B], xt [B][D], sc [B][D], dout [B][D]. */
int sdd_train_step(sdd_model_t *m, const float *x0, const int32_t *labels, int B,
                   float *scratch, double *loss)
{
    const sdd_train_opt_t *o = &m->opt;
    int D = m->shape.D, n_sc = (int)floor(o->self_cond * B + 0.5), rc;
    float *t = scratch, *xt = t + B, *sc = xt + (size_t)B * D, *dout = sc + (size_t)B * D;
    double lr;
    if ((rc = ensure_slots(m)) < 0) return rc;
    if (o->precision == SDD_PRECISION_INT8 && (rc = sdd_net_q8_alloc(m)) < 0) return rc; /* a loaded model */
    for (int r = 0; r < B; r++) t[r] = (float)sdd_rng_uniform(&m->rng);
    sdd_noise_rows(&m->rng, x0, t, B, D, xt);
    if (o->grad_slices > 1 || m->n_ranks > 1) {
        if (B % o->grad_slices)
            return sdd_error(SDD_EINVAL, "a batch of %d rows cannot be cut into %d slices", B, o->grad_slices);
        rc = grad_slices(m, x0, labels, B, n_sc, t, xt, sc, dout, loss);
    } else {
        rc = grad_rows(m, x0, labels, B, n_sc, t, xt, sc, dout, loss);
    }
    if (rc < 0) return rc;
    lr = o->lr_decay && o->steps > 0 ? o->lr * 0.5 * (1.0 + cos(M_PI * (double)m->step / (double)o->steps)) : o->lr;
    if (o->grad_slices > 1 || m->n_ranks > 1) /* the gradients were summed after the backward */
        sdd_optim_step(m->params, m->grads, m->adam_m, m->adam_v, m->ema, m->n_params, o->clip, lr,
                       m->step + 1, o->ema);
    else if (m->q8 && o->precision == SDD_PRECISION_INT8) /* the int8 weights of the next step with it */
        sdd_net_optim_q8(m, o->clip > 0 ? sdd_net_grad_norm(m) : 0, lr);
    else
        sdd_optim_step_norm(m->params, m->grads, m->adam_m, m->adam_v, m->ema, m->n_params,
                            o->clip > 0 ? sdd_net_grad_norm(m) : 0, o->clip, lr, m->step + 1, o->ema);
    m->step++;
    return isfinite(*loss) ? SDD_OK : sdd_error(SDD_EDATA, "training diverged: loss is %g at step %lld",
                                               *loss, (long long)m->step);
}

static char **strv_copy(char **v, int64_t n)
{
    char **o = sdd_calloc((size_t)(n > 0 ? n : 1), sizeof *o);
    if (!o) return NULL;
    for (int64_t i = 0; i < n; i++)
        if (!(o[i] = sdd_strdup(v[i] ? v[i] : ""))) {
            sdd_strv_free(o, n);
            return NULL;
        }
    return o;
}

static int copy_metadata(sdd_model_t *m, const sdd_trainset_t *ts)
{
    int64_t G = ts->G;
    if (!(m->gene_names = strv_copy(ts->gene_names, G))) return SDD_ENOMEM;
    if (ts->gene_ids && !(m->gene_ids = strv_copy(ts->gene_ids, G))) return SDD_ENOMEM;
    if (m->shape.n_labels > 0) {
        if (!(m->label_names = strv_copy(ts->label_names, ts->n_labels))) return SDD_ENOMEM;
        if (!(m->label_freq = sdd_calloc((size_t)ts->n_labels, sizeof(double)))) return SDD_ENOMEM;
        for (int64_t i = 0; i < ts->n_cells; i++)
            if (ts->labels[i] >= 0 && ts->labels[i] < ts->n_labels) m->label_freq[ts->labels[i]] += 1;
        for (int k = 0; k < ts->n_labels; k++) m->label_freq[k] /= (double)ts->n_cells;
        if (ts->label_key && !(m->label_key = sdd_strdup(ts->label_key))) return SDD_ENOMEM;
    }
    if (!(m->prep_json = sdd_strdup(ts->prep_json ? ts->prep_json : "{}"))) return SDD_ENOMEM;
    if (ts->library_size) {
        m->n_lib = ts->n_cells;
        if (!(m->lib_sizes = sdd_malloc((size_t)ts->n_cells * sizeof(double)))) return SDD_ENOMEM;
        memcpy(m->lib_sizes, ts->library_size, (size_t)ts->n_cells * sizeof(double));
    }
    return SDD_OK;
}

int64_t sdd_model_count_params(int64_t G, const sdd_train_opt_t *o, int n_labels)
{
    sdd_netshape_t s = {0};
    s.G = G;
    s.bits = o->sparsity_bits != 0;
    s.D = (int)(s.bits ? 2 * G : G);
    memcpy(s.H, o->hidden, sizeof s.H);
    s.F = o->head;
    s.E = o->emb;
    s.n_labels = n_labels;
    return sdd_net_count(&s);
}

int sdd_model_create(const sdd_trainset_t *ts, const sdd_train_opt_t *opt, sdd_model_t **out)
{
    sdd_model_t *m = NULL;
    sdd_netshape_t s = {0};
    sdd_train_opt_t o = *opt;
    int rc;
    *out = NULL;
    if ((rc = sdd_train_opt_check(opt)) < 0) return rc;
    if (ts->G < 1 || ts->n_cells < 1 || ts->X.n_cols != ts->G || ts->X.n_rows != ts->n_cells)
        return sdd_error(SDD_EINVAL, "training set is empty or inconsistent (%lld cells, %lld genes)",
                         (long long)ts->n_cells, (long long)ts->G);
    if (!ts->gene_names) return sdd_error(SDD_EINVAL, "training set has no gene names");
    if (o.steps == 0) o.steps = sdd_train_default_steps(ts->n_cells, o.batch);
    s.G = ts->G;
    s.bits = o.sparsity_bits != 0;
    s.D = (int)(s.bits ? 2 * ts->G : ts->G);
    memcpy(s.H, o.hidden, sizeof s.H);
    s.F = o.head;
    s.E = o.emb;
    s.n_labels = ts->labels ? ts->n_labels : 0;
    if (o.precision == SDD_PRECISION_AUTO) /* resolved once: a resumed run keeps it on any CPU */
        o.precision = sdd_cpu_vnni() && sdd_net_longest_sum(&s) <= SDD_Q8_KMAX ? SDD_PRECISION_INT8
                                                                                : SDD_PRECISION_FP32;
    if ((rc = sdd_model_alloc(&m, &s, &o)) < 0) return rc;
    if (o.precision == SDD_PRECISION_INT8 && (rc = sdd_net_q8_alloc(m)) < 0) goto fail;
    if ((rc = sdd_data_scales(&ts->X, &m->M, m->Mg, m->mg)) < 0) goto fail;
    if (!m->shape.bits && m->opt.precond == 2) m->opt.precond = 0; /* no bits: nothing to parametrise */
    if (m->opt.precond == 1) sdd_precond_means(m, &ts->X, m->opt.precond_mu);
    if ((rc = copy_metadata(m, ts)) < 0) goto fail;
    sdd_rng_seed(&m->rng, o.seed);
    sdd_net_init(m, &m->rng);
    *out = m;
    return SDD_OK;
fail:
    sdd_model_destroy(m);
    return rc;
}

/* Draw the minibatch: cell indices with replacement (from the cells the validation rule
 * did not set aside), labels with dropout to the null class. */
static void draw_batch(sdd_model_t *m, const sdd_trainset_t *ts, const sdd_valset_t *vs, int B, int64_t *idx,
                       int32_t *lab)
{
    int nl = m->shape.n_labels;
    if (vs->n_val > 0)
        for (int r = 0; r < B; r++) idx[r] = vs->fit[sdd_rng_below(&m->rng, (uint64_t)vs->n_fit)];
    else
        for (int r = 0; r < B; r++) idx[r] = (int64_t)sdd_rng_below(&m->rng, (uint64_t)ts->n_cells);
    if (nl > 0)
        for (int r = 0; r < B; r++) {
            int32_t y = ts->labels[idx[r]];
            if (y < 0 || y >= nl || sdd_rng_uniform(&m->rng) < m->opt.label_dropout) y = nl;
            lab[r] = y;
        }
}

static int check_trainset(const sdd_model_t *m, const sdd_trainset_t *ts)
{
    if (ts->G != m->shape.G || ts->X.n_cols != m->shape.G || ts->n_cells < 1)
        return sdd_error(SDD_EINVAL, "training set has %lld genes but the model has %lld",
                         (long long)ts->G, (long long)m->shape.G);
    for (int64_t j = 0; j < ts->G; j++)
        if (ts->gene_names && m->gene_names && strcmp(ts->gene_names[j], m->gene_names[j]))
            return sdd_error(SDD_EINVAL, "training set gene %lld is %s but the model's is %s",
                             (long long)j, ts->gene_names[j], m->gene_names[j]);
    if (m->shape.n_labels > 0 && (!ts->labels || ts->n_labels != m->shape.n_labels))
        return sdd_error(SDD_EINVAL, "the model is conditional on %d labels; the training set has %d",
                         m->shape.n_labels, ts->labels ? ts->n_labels : 0);
    return SDD_OK;
}

/* After a step: the periodic checkpoint and the validation check. 1: training ends. */
static int after_step(sdd_model_t *m, const sdd_trainset_t *ts, const sdd_valset_t *vs)
{
    double vl;
    int rc, stop = 0;
    if (vs->n_val > 0 && m->step % m->opt.val_every == 0) {
        if ((rc = sdd_val_loss(m, ts, vs, &vl)) < 0 || (rc = sdd_val_check(m, vl)) < 0) return rc;
        stop = rc;
    }
    if (m->rank == 0 && m->opt.checkpoint_every > 0 && m->opt.checkpoint_path && !stop &&
        m->step % m->opt.checkpoint_every == 0 && m->step < m->opt.steps &&
        (rc = sdd_model_save(m, m->opt.checkpoint_path)) < 0)
        return rc;
    return stop;
}

int sdd_model_train(sdd_model_t *m, const sdd_trainset_t *ts, sdd_progress_f progress, void *user)
{
    int B = (int)m->opt.batch, D = m->shape.D, rc;
    int64_t *idx = NULL;
    int32_t *lab = NULL;
    float *x0 = NULL, *scratch = NULL;
    char status[64];
    double loss = 0;
    sdd_valset_t vs = {0};
    if ((rc = check_trainset(m, ts)) < 0 || (rc = ensure_slots(m)) < 0) return rc;
    if (m->val.stopped) return SDD_OK; /* the validation rule ended this run */
    if ((rc = sdd_valset_make(m, ts, &vs)) < 0) return rc;
    idx = sdd_malloc((size_t)B * sizeof *idx);
    lab = sdd_malloc((size_t)B * sizeof *lab);
    x0 = sdd_malloc((size_t)B * D * sizeof *x0);
    scratch = sdd_malloc((size_t)sdd_train_scratch_floats(m, B) * sizeof *scratch);
    if (!idx || !lab || !x0 || !scratch) {
        rc = SDD_ENOMEM;
        goto fail;
    }
    while (m->step < m->opt.steps) {
        sdd_rng_t at_start = m->rng; /* an abandoned step leaves the model as it was */
        draw_batch(m, ts, &vs, B, idx, lab);
        sdd_encode_rows(m, &ts->X, idx, B, x0);
        if ((rc = sdd_train_step(m, x0, m->shape.n_labels > 0 ? lab : NULL, B, scratch, &loss)) == SDD_EINTR) {
            m->rng = at_start;
            rc = sdd_error(SDD_EINTR, "training interrupted at step %lld of %lld", (long long)m->step,
                           (long long)m->opt.steps);
            goto fail;
        }
        if (rc < 0 || (rc = after_step(m, ts, &vs)) < 0) goto fail;
        snprintf(status, sizeof status, "loss %.5f", loss);
        if (rc == 1) break;
        if (progress && progress("train", m->step, m->opt.steps, status, user)) {
            rc = sdd_error(SDD_EINTR, "training interrupted at step %lld of %lld",
                           (long long)m->step, (long long)m->opt.steps);
            goto fail;
        }
    }
    if (rc == 1 && progress) progress("train", m->step, m->step, status, user);
    rc = SDD_OK;
fail:
    sdd_valset_free(&vs);
    free(idx);
    free(lab);
    free(x0);
    free(scratch);
    return rc;
}

int sdd_model_set_steps(sdd_model_t *m, int64_t steps)
{
    if (steps < m->step)
        return sdd_error(SDD_EINVAL, "the model has already done %lld steps; cannot set %lld",
                         (long long)m->step, (long long)steps);
    m->opt.steps = steps;
    return SDD_OK;
}

int sdd_model_set_checkpoint(sdd_model_t *m, int64_t every, const char *path)
{
    if (every < 0) return sdd_error(SDD_EINVAL, "checkpoint interval must be >= 0");
    if (path && strlen(path) >= sizeof m->opt_ckpt_path) return sdd_error(SDD_EINVAL, "checkpoint path too long");
    m->opt.checkpoint_every = every;
    if (path) snprintf(m->opt_ckpt_path, sizeof m->opt_ckpt_path, "%s", path);
    m->opt.checkpoint_path = path ? m->opt_ckpt_path : NULL;
    return SDD_OK;
}

int64_t sdd_model_step(const sdd_model_t *m) { return m->step; }
int64_t sdd_model_stopped(const sdd_model_t *m, int64_t *kept_step)
{
    if (kept_step) *kept_step = m->val.kept_step;
    return m->val.stopped;
}
int64_t sdd_model_total_steps(const sdd_model_t *m) { return m->opt.steps; }
int64_t sdd_model_n_params(const sdd_model_t *m) { return m->n_params; }
int64_t sdd_model_n_genes(const sdd_model_t *m) { return m->shape.G; }
