/*
 * sample.c: generation and decoding of doc/method.md §7.
 *
 * Reverse diffusion in x0 form (Analog Bits), cells in batches:
 *   x_1 ~ N(0, I_D), estimate e = 0; for k = 0..S-1:
 *     t_now = 1 - k/S, t_next = max(1 - (k + 1 + td)/S, 0), g = gamma(.)
 *     x0 = clip(net([x_t | e], t_now))       (values to [-1, 1], bits to +-bit_scale)
 *     conditional, guidance w: x0 = clip(x0_null + w (x0_label - x0_null)); w = 1 is the
 *       plain conditional prediction, w = 0 the unconditional one (the null class)
 *     eps = (x_t - sqrt(g_now) x0) / sqrt(1 - g_now)
 *     DDIM: x_next = sqrt(g_next) x0 + sqrt(1 - g_next - sigma^2) eps + sigma z,
 *           sigma = eta sqrt((1 - g_next)/(1 - g_now)) sqrt(1 - g_now/g_next) (eta = 0:
 *           deterministic; eta = 1: the variance of the DDPM posterior)
 *     DDPM: a = clip(g_now/g_next, 0, 1);
 *           x_next = (x_t - (1 - a)/sqrt(1 - g_now) eps)/sqrt(a) + sqrt(1 - a) z
 *     renoise: x_next = sqrt(g_next) x0 + sqrt(1 - g_next) z, z fresh noise: every x_t is
 *           a forward-noised copy of the last x0 (with drawn bits, of one possible cell)
 *     e = x0
 * The last x0-hat is decoded: mask = [bit > 0] (threshold) or drawn with p = (b/bs + 1)/2
 * (bernoulli: an MSE-trained x0 net estimates E[bit] = bs (2p - 1)); value = (v + 1)/2 M
 * (M_g per gene) clamped to [m_g, M] where the mask is on, exactly 0 elsewhere. Without
 * sparsity bits (the plain baseline) the value itself is the output, max(value, 0).
 * The DDIM-T baseline (`threshold`) then zeroes the smallest values of the whole
 * synthetic matrix until its fraction of zeros reaches the training data's.
 *
 * A model trained with the value loss masked to non-zero entries predicts E[v | x != 0]
 * and leaves the values of zero entries free; its update uses E[v] = p v + (1 - p)(-1)
 * (p from the bit) so that x_t stays on the distribution it was trained on, while the
 * decoded value is v itself.
 *
 * All cells of a batch share t, so the sampling forward (sdd_fwd_run) computes the time
 * embedding and the seven blocks' projections of it once per label rather than once
 * per cell, which saves about a quarter of the work of a forward at G = 1000.
 *
 * Determinism: cell g (its global position among the n_cells of a run, 0-based) draws
 * its starting noise, its DDPM or DDIM noise, its drawn bits and its Bernoulli masks from
 * its own stream sdd_rng_split(seed stream, g), in that order, and its label is a
 * function of g and n_cells alone (blocks by label). The network treats rows
 * independently, but OpenBLAS does not round a row the same way in products of
 * different row counts (measured: rows of 16- and 32-row products differ from the same
 * rows of a 64-row product). So every product of the sampling forward has exactly
 * SAMPLE_TILE rows, batches hold whole tiles and start at multiples of SAMPLE_TILE
 * (rows outside the wanted range are computed and dropped), and a cell always sits at
 * the same row of a product of the same shape. A cell's values therefore depend on the seed, the model, the
 * options and g only: not on the thread count, the batch size, nor on which range of
 * the run (sdd_sample_opt_t first/count: a shard) is being made, so shards of a run,
 * put together, are the run.
 */
#include "nn.h"
#include "sample_internal.h"
#include "vec.h"
#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <unistd.h>

#define SAMPLE_MEM_BYTES (256.0 * 1024 * 1024) /* activation budget of one batch */
#define SAMPLE_MAX_BATCH 1024

void sdd_sample_opt_init(sdd_sample_opt_t *o)
{
    memset(o, 0, sizeof *o);
    o->n_cells = 1000;
    o->sampler = SDD_SAMPLER_DDIM;
    o->steps = 100;
    o->td = 0;
    o->bit_decode = SDD_BITS_BERNOULLI;
    o->use_ema = 1;
    o->guidance = 1.0;
    o->seed = 0;
    o->precision = SDD_PRECISION_AUTO;
}

int64_t sdd_sample_default_steps(int64_t n_cells)
{
    int64_t s = n_cells > 0 ? SDD_SAMPLE_BUDGET / n_cells : 100;
    return s > 100 ? 100 : s < 20 ? 20 : s;
}

int sdd_sample_opt_check(const sdd_sample_opt_t *o)
{
    int rc;
    if ((rc = sdd_opt_check_table(SDD_OPTS_SAMPLE, o)) < 0) return rc;
    if (o->self_cond < SDD_SC_PREVIOUS || o->self_cond > SDD_SC_NONE)
        return sdd_error(SDD_EINVAL, "unknown self-conditioning mode %d", o->self_cond);
    if (o->sampler != SDD_SAMPLER_DDIM && o->sampler != SDD_SAMPLER_DDPM && o->sampler != SDD_SAMPLER_RENOISE)
        return sdd_error(SDD_EINVAL, "unknown sampler %d", o->sampler);
    if (!(o->td >= 0 && o->td < (double)(o->steps ? o->steps : sdd_sample_default_steps(o->n_cells))))
        return sdd_error(SDD_EINVAL, "time difference td must be in [0, steps)");
    if (o->bit_decode != SDD_BITS_THRESHOLD && o->bit_decode != SDD_BITS_BERNOULLI)
        return sdd_error(SDD_EINVAL, "unknown bit decoding %d", o->bit_decode);
    if (o->precision < SDD_PRECISION_FP32 || o->precision > SDD_PRECISION_INT8)
        return sdd_error(SDD_EINVAL, "unknown sampling precision %d", o->precision);
    if (o->label && o->n_label_counts > 0)
        return sdd_error(SDD_EINVAL, "give either one label or per-label counts, not both");
    if (o->n_label_counts < 0 || (o->n_label_counts > 0 && (!o->count_labels || !o->label_counts)))
        return sdd_error(SDD_EINVAL, "per-label counts are incomplete");
    if (o->first < 0 || o->count < 0 || o->first >= o->n_cells || o->count > o->n_cells - o->first)
        return sdd_error(SDD_EINVAL, "cells %lld to %lld are not a range of the %lld cells", (long long)o->first + 1,
                         (long long)(o->first + (o->count ? o->count : o->n_cells - o->first)), (long long)o->n_cells);
    if (o->threshold && (o->first > 0 || (o->count > 0 && o->count < o->n_cells)))
        return sdd_error(SDD_EINVAL, "the DDIM-T baseline (threshold) zeroes values over the whole matrix: "
                                     "it cannot make a part of a run");
    return SDD_OK;
}

int sdd_sample_shard(int64_t n_cells, int64_t i, int64_t k, int64_t *first, int64_t *count)
{
    if (n_cells < 1 || n_cells > INT64_C(3000000000) || k < 1 || k > n_cells || i < 1 || i > k)
        return sdd_error(SDD_EINVAL, "shard %lld/%lld: need 1 <= I <= K <= %lld cells", (long long)i, (long long)k,
                         (long long)n_cells);
    /* i n <= n^2 < 2^63 for n <= 3e9 */
    *first = (i - 1) * n_cells / k;
    *count = i * n_cells / k - *first;
    return SDD_OK;
}

/* ------------------------------------------------------------------ decoding */

int sdd_decode_rows(const sdd_decode_t *d, const float *x0, int64_t B, sdd_rng_t *rng, float *out)
{
    int64_t G = d->G, D = d->bits ? 2 * G : G;
    if (G < 1 || B < 0 || !(d->M > 0) || !d->mg || (d->bits && !(d->bit_scale > 0)))
        return sdd_error(SDD_EINVAL, "decode: inconsistent scaling constants");
    if (d->bits && d->mode == SDD_BITS_BERNOULLI && !rng)
        return sdd_error(SDD_EINVAL, "decode: Bernoulli decoding needs an RNG");
    for (int64_t r = 0; r < B; r++) {
        const float *v = x0 + r * D, *b = v + G;
        float *o = out + r * G;
        for (int64_t j = 0; j < G; j++) {
            double M = d->Mg ? (d->Mg[j] > 0 ? d->Mg[j] : 1.0) : d->M;
            double x = (v[j] + 1.0) / 2.0 * M, hi = d->Mg ? M : d->M;
            int on;
            if (!d->bits) {
                o[j] = x > 0 ? (float)(x < hi ? x : hi) : 0.0f;
                continue;
            }
            if (d->mode == SDD_BITS_THRESHOLD) {
                on = b[j] > 0;
            } else {
                double p = (b[j] / d->bit_scale + 1.0) / 2.0;
                p = p < 0 ? 0 : p > 1 ? 1 : p;
                on = sdd_rng_uniform(rng) < p;
            }
            if (on) {
                double lo = d->mg[j] > 0 ? d->mg[j] : (double)FLT_MIN;
                x = x < lo ? lo : x > hi ? hi : x;
            }
            o[j] = on ? (float)x : 0.0f;
        }
    }
    return SDD_OK;
}

static void decode_params(const sdd_model_t *m, int mode, sdd_decode_t *d)
{
    d->G = m->shape.G;
    d->bits = m->shape.bits;
    d->bit_scale = m->bit_scale;
    d->M = m->M;
    d->Mg = m->scale_gene ? m->Mg : NULL;
    d->mg = m->mg;
    d->mode = mode;
}

/* ------------------------------------------------------------- the sampler */

typedef struct {
    const sdd_model_t *m;
    const sdd_sample_opt_t *o;
    sdd_fwd_t *fwd;          /* forward pass over the sampling weights */
    int batch, D, G;
    float *x, *sc, *x0, *cond, *dense; /* [batch][D] x4, [batch][G] */
    int32_t *lab, *null_lab; /* [batch] */
    sdd_rng_t *rng;          /* [batch] each row's cell's own stream */
} sampler_t;

/* Bytes one cell of a batch needs: forward buffers and the sampler's own rows. */
static double row_bytes(const sdd_netshape_t *s)
{
    double wmax = s->F, f;
    for (int i = 0; i < 4; i++) wmax = s->H[i] > wmax ? s->H[i] : wmax;
    f = 2.0 * (s->H[0] + s->H[1] + s->H[2]) + s->H[3] + 3 * wmax + 1 + s->F + s->D;
    return 4.0 * (f + 4.0 * s->D + (double)s->G);
}

static int sampler_init(sampler_t *S, const sdd_model_t *m, const sdd_sample_opt_t *o)
{
    int64_t bmax = (int64_t)(SAMPLE_MEM_BYTES / row_bytes(&m->shape));
    int rc;
    memset(S, 0, sizeof *S);
    S->m = m;
    S->o = o;
    S->D = m->shape.D;
    S->G = (int)m->shape.G;
    if (bmax > SAMPLE_MAX_BATCH) bmax = SAMPLE_MAX_BATCH;
    if (bmax < SAMPLE_TILE) bmax = SAMPLE_TILE;
    S->batch = (int)(o->batch > 0 ? o->batch : bmax);
    S->batch = (S->batch + SAMPLE_TILE - 1) / SAMPLE_TILE * SAMPLE_TILE;
    if ((rc = sdd_fwd_init(&S->fwd, m, o->use_ema ? m->ema : m->params, S->batch)) < 0) return rc;
    if ((rc = sdd_fwd_set_precision(S->fwd, o->precision)) < 0) return rc;
    if (o->precision == SDD_PRECISION_INT8 && !sdd_cpu_vnni())
        SDD_LOG_W("int8 products without AVX512_VNNI run on portable loops: the same cells, more slowly");
    size_t bd = (size_t)S->batch * S->D;
    S->x = sdd_malloc(bd * sizeof(float));
    S->sc = sdd_malloc(bd * sizeof(float));
    S->x0 = sdd_malloc(bd * sizeof(float));
    S->cond = sdd_malloc(bd * sizeof(float));
    S->dense = sdd_malloc((size_t)S->batch * S->G * sizeof(float));
    S->lab = sdd_malloc((size_t)S->batch * sizeof(int32_t));
    S->null_lab = sdd_malloc((size_t)S->batch * sizeof(int32_t));
    S->rng = sdd_malloc((size_t)S->batch * sizeof *S->rng);
    if (!S->x || !S->sc || !S->x0 || !S->cond || !S->dense || !S->lab || !S->null_lab || !S->rng)
        return SDD_ENOMEM;
    for (int r = 0; r < S->batch; r++) S->null_lab[r] = m->shape.n_labels;
    return SDD_OK;
}

static void sampler_free(sampler_t *S)
{
    sdd_fwd_free(S->fwd);
    free(S->x);
    free(S->sc);
    free(S->x0);
    free(S->cond);
    free(S->dense);
    free(S->lab);
    free(S->null_lab);
    free(S->rng);
}

/* x0-hat rows from the network's outputs: x0 = cs x + co out + cm mu (the
 * preconditioning), bit logits turned into bits, then either kept in S->x0 (pass 0:
 * unguided, clipped) or, for guidance, pass 1 keeps the labelled estimate in S->x0 and
 * pass 2 computes the null-label one into S->cond and mixes: x0 = u + w (x0 - u),
 * clipped. */
typedef struct {
    sampler_t *S;
    const float *out;
    float t, cs, co, cm, w;
    int pass;
} x0_ctx_t;

static void x0_rows(void *ctx, int r0, int r1)
{
    const x0_ctx_t *c = ctx;
    sampler_t *S = c->S;
    int D = S->D, G = S->G, bits = S->m->shape.bits, pc = S->m->opt.precond;
    float bs = (float)S->m->bit_scale, mu[2] = {(float)S->m->opt.precond_mu[0], (float)S->m->opt.precond_mu[1]};
    for (int r = r0; r < r1; r++) {
        size_t o = (size_t)r * D;
        float *dst = (c->pass == 2 ? S->cond : S->x0) + o, *x0 = S->x0 + o;
        const float *x = S->x + o, *out = c->out + o;
        sdd_vec_affine2(dst, x, out, (size_t)G, c->cs, c->co, c->cm * mu[0]);
        sdd_vec_affine2(dst + G, x + G, out + G, (size_t)(D - G), c->cs, c->co, c->cm * mu[1]);
        if (pc == 2) sdd_bitlogit_apply(dst, x, &c->t, 1, D, S->m->bit_scale);
        if (c->pass == 1) continue;
        if (c->pass == 2)
            for (int j = 0; j < D; j++) x0[j] = dst[j] + c->w * (x0[j] - dst[j]);
        sdd_vec_clamp(x0, (size_t)G, 1.0f);
        sdd_vec_clamp(x0 + G, (size_t)(D - G), bits ? bs : 1.0f);
    }
}

/* x0-hat of n rows at time t: the (guided) network output, clipped. */
static void predict(sampler_t *S, int n, int n_sc, float t, const int32_t *lab)
{
    int nl = S->m->shape.n_labels, guided = nl > 0 && S->o->guidance != 1.0;
    x0_ctx_t c = {S, NULL, t, 0, 1, 0, (float)S->o->guidance, guided ? 1 : 0};
    if (S->m->opt.precond == 1) sdd_precond(t, &c.cs, &c.co, &c.cm);
    c.out = sdd_fwd_run(S->fwd, n, S->x, S->sc, n_sc, t, nl > 0 ? lab : NULL);
    sdd_parallel_range(n, SAMPLE_ROWS, x0_rows, &c);
    if (guided) {
        c.out = sdd_fwd_run(S->fwd, n, S->x, S->sc, n_sc, t, S->null_lab);
        c.pass = 2;
        sdd_parallel_range(n, SAMPLE_ROWS, x0_rows, &c);
    }
}

/* The x0 a reverse step moves towards, written into S->cond when it is not the
 * prediction itself. p = (b/bs + 1)/2 is the bit's probability.
 * SDD_UPDATE_MEAN: a net trained with the value loss masked to non-zero entries
 * predicts E[v | x != 0] and leaves the value of zero entries free, so the update needs
 * E[v] = p E[v | x != 0] + (1 - p)(-1), or x_t drifts off the training distribution
 * (zero entries of x0 are -1 there).
 * SDD_UPDATE_DRAW: each bit is drawn (on with probability p) and x0 is the point of the
 * data it stands for: (v, +bs) where on, (-1, -bs) where off. The mean of the two
 * cases lies between them, where no training x_t at low noise ever is; a drawn x0 keeps
 * every x_t a noised copy of one possible cell. */
static const float *target_row(sampler_t *S, int r)
{
    int G = S->G, D = S->D, draw = S->o->update == SDD_UPDATE_DRAW;
    float bs = (float)S->m->bit_scale, ibs = 1.0f / bs;
    const float *v = S->x0 + (size_t)r * D;
    float *o = S->cond + (size_t)r * D;
    if (!S->m->shape.bits || (!draw && !S->m->opt.value_mask)) return v;
    for (int j = 0; j < G; j++) {
        float p = (v[G + j] * ibs + 1.0f) * 0.5f;
        p = p < 0 ? 0 : p > 1 ? 1 : p;
        if (draw) {
            int on = sdd_rng_uniform(&S->rng[r]) < p;
            o[j] = on ? v[j] : -1.0f;
            o[G + j] = on ? bs : -bs;
        } else {
            o[j] = S->m->opt.value_mask ? p * v[j] - (1.0f - p) : v[j];
            o[G + j] = v[G + j];
        }
    }
    return o;
}

/* One update from x_t (time tn) to x at time tx given x0-hat (update_ctx sets the
 * constants once; rows are shared out): row r draws from S->rng[r]. */
typedef struct {
    sampler_t *S;
    double sn, s1n;
    float a, b, sg, c, ia;
} update_ctx_t;

static void update_rows(void *ctx, int r0, int r1)
{
    const update_ctx_t *u = ctx;
    sampler_t *S = u->S;
    int D = S->D;
    for (int r = r0; r < r1; r++) {
        const float *x0 = target_row(S, r);
        float *x = S->x + (size_t)r * D;
        sdd_rng_t *rng = &S->rng[r];
        if (S->o->sampler == SDD_SAMPLER_DDIM && !(u->sg > 0))
            sdd_vec_ddim(x, x0, (size_t)D, u->sn, u->s1n, u->a, u->b);
        else if (S->o->sampler == SDD_SAMPLER_DDIM)
            for (int j = 0; j < D; j++) {
                float eps = (float)((x[j] - u->sn * x0[j]) / u->s1n);
                x[j] = u->a * x0[j] + u->b * eps + (u->sg > 0 ? u->sg * (float)sdd_rng_normal(rng) : 0.0f);
            }
        else if (S->o->sampler == SDD_SAMPLER_RENOISE)
            for (int j = 0; j < D; j++) x[j] = u->a * x0[j] + u->b * (float)sdd_rng_normal(rng);
        else
            for (int j = 0; j < D; j++) {
                float eps = (float)((x[j] - u->sn * x0[j]) / u->s1n);
                x[j] = (x[j] - u->c * eps) * u->ia + u->sg * (float)sdd_rng_normal(rng);
            }
    }
}

static void update(sampler_t *S, int n, double tn, double tx)
{
    double gn = sdd_gamma(tn), gx = sdd_gamma(tx);
    update_ctx_t u = {S, sqrt(gn), sqrt(1.0 - gn), 0, 0, 0, 0, 0};
    if (S->o->sampler == SDD_SAMPLER_DDIM) {
        /* sigma = eta sqrt((1 - g_next)/(1 - g_now)) sqrt(1 - g_now/g_next) */
        double sg2 = S->o->eta > 0 ? S->o->eta * S->o->eta * (1.0 - gx) / (1.0 - gn) * (1.0 - gn / gx) : 0;
        sg2 = sg2 < 0 ? 0 : sg2 > 1.0 - gx ? 1.0 - gx : sg2;
        u.a = (float)sqrt(gx);
        u.b = (float)sqrt(1.0 - gx - sg2);
        u.sg = (float)sqrt(sg2);
    } else if (S->o->sampler == SDD_SAMPLER_RENOISE) {
        u.a = (float)sqrt(gx);
        u.b = (float)sqrt(1.0 - gx);
    } else {
        double al = gn / gx;
        al = al < 0 ? 0 : al > 1 ? 1 : al;
        u.c = (float)((1.0 - al) / u.s1n);
        u.ia = (float)(1.0 / sqrt(al));
        u.sg = (float)sqrt(1.0 - al);
    }
    sdd_parallel_range(n, SAMPLE_ROWS, update_rows, &u);
}

/* Generate n <= batch cells with labels lab (or NULL) into S->dense [n][G], row r
 * drawing from S->rng[r]. */
static int run_batch(sampler_t *S, int n, const int32_t *lab, int64_t bi, int64_t n_batches,
                     sdd_progress_f progress, void *user)
{
    const sdd_sample_opt_t *o = S->o;
    int64_t steps = o->steps;
    size_t nd = (size_t)n * S->D;
    sdd_decode_t d;
    char status[64];
    for (int r = 0; r < n; r++)
        for (size_t i = (size_t)r * S->D; i < (size_t)(r + 1) * S->D; i++) S->x[i] = (float)sdd_rng_normal(&S->rng[r]);
    for (int64_t k = 0; k < steps; k++) {
        double tn = 1.0 - (double)k / steps, tx = 1.0 - (k + 1 + o->td) / steps;
        if (tx < 0) tx = 0;
        if (o->self_cond == SDD_SC_SAME) { /* as in training: the estimate of this x_t */
            predict(S, n, 0, (float)tn, lab);
            memcpy(S->sc, S->x0, nd * sizeof(float));
        }
        predict(S, n, (k == 0 && o->self_cond == SDD_SC_PREVIOUS) || o->self_cond == SDD_SC_NONE ? 0 : n,
                (float)tn, lab);
        if (k + 1 < steps) update(S, n, tn, tx);
        memcpy(S->sc, S->x0, nd * sizeof(float));
        snprintf(status, sizeof status, "batch %lld/%lld", (long long)bi + 1, (long long)n_batches);
        if (progress && progress("sample", bi * steps + k + 1, n_batches * steps, status, user))
            return sdd_error(SDD_EINTR, "sampling interrupted in batch %lld of %lld", (long long)bi + 1,
                             (long long)n_batches);
    }
    decode_params(S->m, o->bit_decode, &d);
    for (int r = 0; r < n; r++) {
        int rc = sdd_decode_rows(&d, S->x0 + (size_t)r * S->D, 1, &S->rng[r], S->dense + (size_t)r * S->G);
        if (rc < 0) return rc;
    }
    return SDD_OK;
}

/* ------------------------------------------------------------------- labels */

/* Cells per label code cnt [nl] of a run of n cells, which gets them in blocks by
 * code: one label, the given counts, or the training proportions by largest remainders. */
static int assign_labels(const sdd_model_t *m, const sdd_sample_opt_t *o, int64_t n, int64_t *cnt)
{
    int nl = m->shape.n_labels;
    int rc = SDD_OK;
    if (o->label) {
        int k = 0;
        while (k < nl && strcmp(m->label_names[k], o->label)) k++;
        if (k == nl) {
            rc = sdd_error(SDD_ENOTFOUND, "label '%s' is not one of the model's %d labels", o->label, nl);
            goto done;
        }
        cnt[k] = n;
    } else if (o->n_label_counts > 0) {
        int64_t tot = 0;
        for (int i = 0; i < o->n_label_counts; i++) {
            int k = 0;
            while (k < nl && strcmp(m->label_names[k], o->count_labels[i])) k++;
            if (k == nl) {
                rc = sdd_error(SDD_ENOTFOUND, "label '%s' is not one of the model's %d labels",
                               o->count_labels[i], nl);
                goto done;
            }
            if (o->label_counts[i] < 0) {
                rc = sdd_error(SDD_EINVAL, "label '%s': negative count", o->count_labels[i]);
                goto done;
            }
            cnt[k] += o->label_counts[i];
            tot += o->label_counts[i];
        }
        if (tot != n) {
            rc = sdd_error(SDD_EINVAL, "per-label counts add up to %lld, not %lld cells", (long long)tot,
                           (long long)n);
            goto done;
        }
    } else {
        int64_t given = 0;
        for (int k = 0; k < nl; k++) /* sdd_model_load checks them; a model built in memory may not */
            if (!(m->label_freq[k] >= 0 && m->label_freq[k] <= 1)) {
                rc = sdd_error(SDD_EINVAL, "the training frequency of label '%s' is %g, not a proportion in [0, 1]",
                               m->label_names[k], m->label_freq[k]);
                goto done;
            }
        for (int k = 0; k < nl; k++) given += cnt[k] = (int64_t)floor(m->label_freq[k] * (double)n);
        if (given > n) {
            rc = sdd_error(SDD_EINVAL, "the model's label frequencies add up to more than 1");
            goto done;
        }
        while (given < n) { /* largest remainder first, ties to the lower code */
            int best = 0;
            double br = -1;
            for (int k = 0; k < nl; k++) {
                double r = m->label_freq[k] * (double)n - (double)cnt[k];
                if (r > br) br = r, best = k;
            }
            cnt[best]++;
            given++;
        }
    }
done:
    return rc;
}

/* ------------------------------------------------------- DDIM-T baseline */

/* Fraction of zeros of the training matrix, from the preprocessing record. */
static int training_sparsity(const sdd_model_t *m, double *sp)
{
    cJSON *j = cJSON_Parse(m->prep_json ? m->prep_json : "{}");
    const cJSON *nnz = cJSON_GetObjectItem(j, "nnz_selected"), *c = cJSON_GetObjectItem(j, "cells_kept");
    int rc = SDD_OK;
    if (cJSON_IsNumber(nnz) && cJSON_IsNumber(c) && c->valuedouble > 0)
        *sp = 1.0 - nnz->valuedouble / (c->valuedouble * (double)m->shape.G);
    else
        rc = sdd_error(SDD_EUNSUPPORTED, "the model does not record its training sparsity");
    cJSON_Delete(j);
    return rc;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Zero the smallest stored values of X until its fraction of zeros is at least sp;
 * values equal to the cut are zeroed in row order until the count is reached. The zeroed
 * entries are dropped from the CSR structure. */
static int threshold_matrix(sdd_csr_t *X, double sp)
{
    int64_t total = X->n_rows * X->n_cols, want = (int64_t)ceil((1.0 - sp) * (double)total - 1e-9);
    int64_t drop, k = 0, below = 0, ties;
    float *v, cut;
    if (want < 0) want = 0;
    if (X->nnz <= want) return SDD_OK;
    drop = X->nnz - want;
    if (!(v = sdd_malloc((size_t)X->nnz * sizeof *v))) return SDD_ENOMEM;
    memcpy(v, X->data, (size_t)X->nnz * sizeof *v);
    qsort(v, (size_t)X->nnz, sizeof *v, cmp_float);
    cut = v[drop - 1];
    free(v);
    for (int64_t i = 0; i < X->nnz; i++) below += X->data[i] < cut;
    ties = drop - below;
    for (int64_t i = 0; i < X->n_rows; i++) {
        int64_t lo = X->indptr[i], hi = X->indptr[i + 1];
        X->indptr[i] = k;
        for (int64_t q = lo; q < hi; q++) {
            float x = X->data[q];
            if (x < cut || (x == cut && ties > 0 && ties--)) continue;
            X->data[k] = x;
            X->indices[k++] = X->indices[q];
        }
    }
    X->indptr[X->n_rows] = k;
    X->nnz = k;
    return SDD_OK;
}

/* ------------------------------------------------------------- the dataset */

/* Cells first .. first + n - 1 of a run, named after their position in it. */
static int make_dataset(const sdd_model_t *m, int64_t first, int64_t n, const int32_t *lab, sdd_dataset_t *ds)
{
    int64_t G = m->shape.G;
    char buf[32];
    ds->n_cells = n;
    ds->n_genes = G;
    if (!(ds->cell_names = sdd_calloc((size_t)(n > 0 ? n : 1), sizeof(char *)))) return SDD_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "syn_%06lld", (long long)(first + i) + 1);
        if (!(ds->cell_names[i] = sdd_strdup(buf))) return SDD_ENOMEM;
    }
    if (!(ds->gene_names = sdd_calloc((size_t)G, sizeof(char *)))) return SDD_ENOMEM;
    for (int64_t j = 0; j < G; j++)
        if (!(ds->gene_names[j] = sdd_strdup(m->gene_names[j]))) return SDD_ENOMEM;
    if (m->gene_ids) {
        if (!(ds->gene_ids = sdd_calloc((size_t)G, sizeof(char *)))) return SDD_ENOMEM;
        for (int64_t j = 0; j < G; j++)
            if (!(ds->gene_ids[j] = sdd_strdup(m->gene_ids[j] ? m->gene_ids[j] : ""))) return SDD_ENOMEM;
    }
    int nobs = lab ? 2 : 1;
    if (!(ds->obs = sdd_calloc((size_t)nobs, sizeof(sdd_column_t)))) return SDD_ENOMEM;
    ds->n_obs = nobs;
    for (int c = 0; c < nobs; c++) {
        sdd_column_t *col = &ds->obs[c];
        int nc = c == 0 ? 1 : m->shape.n_labels;
        col->kind = SDD_COL_CATEGORICAL;
        col->n = n;
        col->n_categories = nc;
        if (!(col->name = sdd_strdup(c == 0 ? "source" : m->label_key ? m->label_key : "label")) ||
            !(col->codes = sdd_calloc((size_t)(n > 0 ? n : 1), sizeof(int32_t))) ||
            !(col->categories = sdd_calloc((size_t)nc, sizeof(char *))))
            return SDD_ENOMEM;
        for (int k = 0; k < nc; k++)
            if (!(col->categories[k] = sdd_strdup(c == 0 ? "synthetic" : m->label_names[k]))) return SDD_ENOMEM;
        if (c == 1) memcpy(col->codes, lab, (size_t)n * sizeof(int32_t));
    }
    return SDD_OK;
}

/* Check the label request of o and, for a conditional model without the caller's codes,
 * return the cells per code of the whole run in *cnt ([n_labels], caller frees; NULL
 * otherwise). */
static int label_plan(const sdd_model_t *m, const sdd_sample_opt_t *o, int64_t **cnt)
{
    int nl = m->shape.n_labels, rc;
    *cnt = NULL;
    if (o->labels) {
        if (o->label || o->n_label_counts > 0)
            return sdd_error(SDD_EINVAL, "give label codes, one label or per-label counts, not several");
        for (int64_t i = 0; i < o->n_cells; i++)
            if (nl == 0 || o->labels[i] < 0 || o->labels[i] > nl)
                return sdd_error(SDD_EINVAL, "label code %d is not one of the model's %d labels", o->labels[i], nl);
        return SDD_OK;
    }
    if (nl == 0) {
        if (o->label || o->n_label_counts > 0)
            return sdd_error(SDD_EINVAL, "the model is not conditional: it was trained without --label");
        return SDD_OK;
    }
    if (!(*cnt = sdd_calloc((size_t)nl, sizeof **cnt))) return SDD_ENOMEM;
    if ((rc = assign_labels(m, o, o->n_cells, *cnt)) < 0) {
        free(*cnt);
        *cnt = NULL;
    }
    return rc;
}

/* Codes of cells first .. first + count - 1 into lab [count]: the caller's, or the
 * blocks of cnt. A cell's code depends on its position and the run alone; positions
 * past the run (rows that only fill a tile) repeat the last cell's. */
static void fill_labels(const sdd_model_t *m, const sdd_sample_opt_t *o, const int64_t *cnt, int64_t first,
                        int64_t count, int32_t *lab)
{
    int nl = m->shape.n_labels, k = 0;
    int64_t end = 0;
    for (int64_t i = 0; i < count; i++) {
        int64_t g = first + i < o->n_cells ? first + i : o->n_cells - 1;
        if (o->labels) {
            lab[i] = o->labels[g];
            continue;
        }
        while (k < nl - 1 && end + cnt[k] <= g) end += cnt[k++];
        lab[i] = k;
    }
}

/* Rows [lo, hi) of the run (0, n_cells when o makes no range). */
static void run_range(const sdd_sample_opt_t *o, int64_t *lo, int64_t *hi)
{
    *lo = o->first;
    *hi = o->count > 0 ? o->first + o->count : o->n_cells;
}

int sdd_model_sample(sdd_model_t *m, const sdd_sample_opt_t *o, sdd_csr_t *X, int32_t *labels_out,
                     sdd_progress_f progress, void *user)
{
    sampler_t S;
    sdd_rng_t base;
    sdd_sample_opt_t resolved = *o;
    int64_t *cnt = NULL, lo, hi, a0, a1, nb;
    double sp = 0;
    int rc, nl = m->shape.n_labels;
    memset(X, 0, sizeof *X);
    memset(&S, 0, sizeof S);
    if ((rc = sdd_sample_opt_check(o)) < 0) return rc;
    /* steps 0: by the number of cells of the whole run, so every shard takes the same */
    if (!resolved.steps) resolved.steps = sdd_sample_default_steps(o->n_cells);
    o = &resolved;
    if ((rc = sdd_net_check_finite(m, o->use_ema ? m->ema : m->params, o->use_ema ? "EMA weights" : "training weights")) < 0)
        return rc;
    if (o->threshold && (rc = training_sparsity(m, &sp)) < 0) return rc;
    if ((rc = label_plan(m, o, &cnt)) < 0) return rc;
    if ((rc = sampler_init(&S, m, o)) < 0) goto fail;
    if ((rc = sdd_csr_alloc(X, 0, m->shape.G, 0)) < 0) goto fail;
    sdd_rng_seed(&base, o->seed);
    run_range(o, &lo, &hi);
    a0 = lo / SAMPLE_TILE * SAMPLE_TILE;
    a1 = (hi + SAMPLE_TILE - 1) / SAMPLE_TILE * SAMPLE_TILE;
    nb = (a1 - a0 + S.batch - 1) / S.batch;
    for (int64_t b = 0; b < nb; b++) {
        int64_t p = a0 + b * S.batch, q = p + S.batch < a1 ? p + S.batch : a1;
        int64_t k0 = (lo > p ? lo : p) - p, k1 = (hi < q ? hi : q) - p;
        int nr = (int)(q - p);
        sdd_csr_t part = {0};
        for (int r = 0; r < nr; r++) sdd_rng_split(&base, (uint64_t)(p + r), &S.rng[r]);
        if (nl > 0) fill_labels(m, o, cnt, p, nr, S.lab);
        if ((rc = run_batch(&S, nr, nl > 0 ? S.lab : NULL, b, nb, progress, user)) < 0) goto fail;
        if ((rc = sdd_csr_from_dense(S.dense + (size_t)k0 * S.G, k1 - k0, m->shape.G, &part)) < 0) goto fail;
        rc = sdd_csr_append_rows(X, &part);
        sdd_csr_free(&part);
        if (rc < 0) goto fail;
        if (labels_out && nl > 0) memcpy(labels_out + (p + k0 - lo), S.lab + k0, (size_t)(k1 - k0) * sizeof *S.lab);
    }
    if (o->threshold && (rc = threshold_matrix(X, sp)) < 0) goto fail;
    rc = SDD_OK;
fail:
    sampler_free(&S);
    free(cnt);
    if (rc < 0) sdd_csr_free(X);
    return rc;
}

int sdd_sample(const sdd_model_t *m, const sdd_sample_opt_t *o, sdd_progress_f progress, void *user,
               sdd_dataset_t **out)
{
    sdd_dataset_t *ds = NULL;
    int32_t *lab = NULL;
    int64_t lo, hi;
    int rc, nl = m->shape.n_labels;
    *out = NULL;
    if ((rc = sdd_sample_opt_check(o)) < 0) return rc;
    run_range(o, &lo, &hi);
    if (nl > 0 && !(lab = sdd_malloc((size_t)(hi - lo) * sizeof *lab))) return SDD_ENOMEM;
    if (!(ds = sdd_dataset_init())) {
        free(lab);
        return SDD_ENOMEM;
    }
    /* the sampler only reads the model */
    if ((rc = sdd_model_sample((sdd_model_t *)m, o, &ds->X, lab, progress, user)) < 0) goto fail;
    if ((rc = make_dataset(m, lo, hi - lo, lab, ds)) < 0) goto fail;
    free(lab);
    *out = ds;
    return SDD_OK;
fail:
    free(lab);
    sdd_dataset_destroy(ds);
    return rc;
}

uint64_t sdd_model_digest(const sdd_model_t *m)
{
    /* FNV-1a over both weight sets and the gene names: parts of a run must come from
     * the same model, wherever its file was read from */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    const float *w[2] = {m->params, m->ema};
    for (int k = 0; k < 2; k++) {
        const unsigned char *p = (const unsigned char *)w[k];
        for (size_t i = 0; p && i < (size_t)m->n_params * sizeof(float); i++) h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    }
    for (int64_t j = 0; j < m->shape.G; j++)
        for (const char *c = m->gene_names[j]; c && *c; c++) h = (h ^ (unsigned char)*c) * UINT64_C(0x100000001b3);
    return h;
}

/* ------------------------------------------------------------------ counts */

int sdd_sample_counts(const sdd_model_t *m, const sdd_csr_t *X, uint64_t seed, sdd_csr_t *out)
{
    cJSON *j = NULL;
    const cJSON *ts;
    double T = 1e4, lo = 0, hi = INFINITY;
    int rc;
    (void)seed; /* the counts follow from the values alone */
    memset(out, 0, sizeof *out);
    if (X->n_cols != m->shape.G) return sdd_error(SDD_EINVAL, "counts: matrix has the wrong number of genes");
    j = cJSON_Parse(m->prep_json ? m->prep_json : "{}");
    ts = cJSON_GetObjectItem(j, "target_sum_used");
    if (cJSON_IsNumber(ts) && ts->valuedouble > 0) T = ts->valuedouble;
    cJSON_Delete(j);
    if (m->lib_sizes && m->n_lib > 0) { /* the training cells' range of library sizes */
        lo = hi = m->lib_sizes[0];
        for (int64_t i = 1; i < m->n_lib; i++) {
            lo = m->lib_sizes[i] < lo ? m->lib_sizes[i] : lo;
            hi = m->lib_sizes[i] > hi ? m->lib_sizes[i] : hi;
        }
    }
    if ((rc = sdd_csr_alloc(out, X->n_rows, X->n_cols, X->nnz)) < 0) return rc;
    int64_t k = 0;
    for (int64_t i = 0; i < X->n_rows; i++) {
        float xmin = INFINITY;
        for (int64_t q = X->indptr[i]; q < X->indptr[i + 1]; q++)
            if (X->data[q] > 0 && X->data[q] < xmin) xmin = X->data[q];
        /* the cell's smallest expressed value is one count: L = T / expm1(xmin) */
        double L = isfinite(xmin) ? T / expm1((double)xmin) : lo;
        L = L < lo ? lo : L > hi ? hi : L;
        for (int64_t q = X->indptr[i]; q < X->indptr[i + 1]; q++) {
            if (!(X->data[q] > 0)) continue;
            double c = nearbyint(expm1((double)X->data[q]) * L / T);
            out->data[k] = (float)(c < 1 ? 1 : c);
            out->indices[k++] = X->indices[q];
        }
        out->indptr[i + 1] = k;
    }
    out->nnz = k;
    return SDD_OK;
}


int sdd_sample_write_h5ad(const char *path, const sdd_dataset_t *ds, const void *uns, const sdd_csr_t *counts)
{
    sdd_h5ad_csr_t layer = {"counts", counts};
    sdd_h5ad_elems_t el = {.uns = uns, .layers = &layer, .n_layers = counts != NULL};
    return sdd_h5ad_write_elems(path, ds, &el);
}
