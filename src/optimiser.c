/*
 * optimiser.c: Adam, global-norm gradient clipping and the EMA of the weights
 * (doc/method.md §6.4-§6.6), each one loop over a parameter-sized blob.
 *
 *   clip:  c = max_norm / (||g|| + 1e-6); g <- c g when c < 1   (torch clip_grad_norm_)
 *   Adam:  m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
 *          p <- p - (lr / (1 - b1^k)) m / (sqrt(v) / sqrt(1 - b2^k) + eps)  (torch.optim.Adam)
 *   EMA:   e <- d e + (1 - d) p,  d = min(decay, (1 + k) / (10 + k))
 * Norms are accumulated in double so the result does not depend on blob order tricks.
 * The loops themselves are vec.c's (AVX2 where the CPU has it, the same bits either way):
 * the step is two passes over the blobs, the norm (reads g) and the update (reads g, p,
 * m, v, EMA and writes them all, g as zeros). A training step with the gradient's norm
 * already in hand (sdd_net_grad_norm) skips the first.
 */
#include "nn.h"
#include "vec.h"
#include <math.h>

#define CHUNK 65536 /* elements per parallel piece (a multiple of 16, the norm's lanes) */

static double sumsq_piece(void *ctx, int64_t lo, int64_t hi)
{
    return sdd_vec_sumsq((const float *)ctx + lo, hi - lo);
}

/* Sums of pieces fixed by n alone, added in order: the same bits with any thread count. */
double sdd_grad_norm(const float *g, int64_t n)
{
    return sqrt(sdd_parallel_sum(n, CHUNK, 16, sumsq_piece, (void *)g));
}

/* the clipping coefficient: 1 when no clipping applies */
static float clip_coef(double norm, double max_norm)
{
    double c = max_norm / (norm + 1e-6);
    return max_norm > 0 && c < 1.0 ? (float)c : 1.0f;
}

double sdd_grad_clip(float *g, int64_t n, double max_norm)
{
    double norm = sdd_grad_norm(g, n);
    float cf = clip_coef(norm, max_norm);
    if (cf != 1.0f)
        for (int64_t i = 0; i < n; i++) g[i] *= cf;
    return norm;
}

static sdd_adam_c_t upd_consts(double lr, double b1, double b2, double eps, int64_t step, double decay,
                               int64_t k)
{
    sdd_adam_c_t u;
    double bc1 = 1.0 - pow(b1, (double)step), bc2 = 1.0 - pow(b2, (double)step);
    double warm = (1.0 + (double)k) / (10.0 + (double)k);
    u.step_size = (float)(lr / bc1);
    u.sbc2 = (float)sqrt(bc2);
    u.b1 = (float)b1;
    u.b2 = (float)b2;
    u.c1 = 1.0f - u.b1;
    u.c2 = 1.0f - u.b2;
    u.eps = (float)eps;
    u.d = (float)(warm < decay ? warm : decay);
    u.cd = 1.0f - u.d;
    return u;
}

/* The update over pieces: [bounds[k], bounds[k+1]) when bounds are given, else pieces of
 * CHUNK; after(ctx, k), when given, runs on the thread right after piece k. */
typedef struct {
    float *p, *g, *mo, *ve, *ema;
    int64_t n;
    float gs;
    const sdd_adam_c_t *u;
    int zero_g;
    const int64_t *bounds;
    void (*after)(void *ctx, int span);
    void *ctx;
} upd_ctx_t;

static void update_piece(void *ctx, int k)
{
    upd_ctx_t *c = ctx;
    int64_t lo = c->bounds ? c->bounds[k] : (int64_t)k * CHUNK;
    int64_t len = c->bounds ? c->bounds[k + 1] - lo : c->n - lo < CHUNK ? c->n - lo : CHUNK;
    sdd_vec_adam(c->p + lo, c->g + lo, c->mo + lo, c->ve + lo, c->ema ? c->ema + lo : NULL, len, c->gs, c->u,
                 c->zero_g);
    if (c->after) c->after(c->ctx, k);
}

/* Element-wise, so pieces on any threads give the same result as one loop. */
static void update_all(float *p, float *g, float *mo, float *ve, float *ema, int64_t n,
                       float gs, const sdd_adam_c_t *u, int zero_g)
{
    upd_ctx_t c = {p, g, mo, ve, ema, n, gs, u, zero_g, NULL, NULL, NULL};
    sdd_parallel_for((int)((n + CHUNK - 1) / CHUNK), update_piece, &c);
}

void sdd_adam_step(float *p, const float *g, float *mo, float *ve, int64_t n, double lr,
                   double b1, double b2, double eps, int64_t step)
{
    sdd_adam_c_t u = upd_consts(lr, b1, b2, eps, step, 0, 0);
    update_all(p, (float *)g, mo, ve, NULL, n, 1.0f, &u, 0);
}

void sdd_ema_update(float *ema, const float *p, int64_t n, double decay, int64_t k)
{
    double warm = (1.0 + (double)k) / (10.0 + (double)k);
    float d = (float)(warm < decay ? warm : decay), c = 1.0f - d;
    for (int64_t i = 0; i < n; i++) ema[i] = d * ema[i] + c * p[i];
}

void sdd_optim_step_norm(float *p, float *g, float *mo, float *ve, float *ema, int64_t n, double norm,
                         double max_norm, double lr, int64_t step, double decay)
{
    sdd_adam_c_t u = upd_consts(lr, 0.9, 0.999, 1e-8, step, decay, step - 1);
    update_all(p, g, mo, ve, ema, n, clip_coef(norm, max_norm), &u, 1);
}

void sdd_optim_step_spans(float *p, float *g, float *mo, float *ve, float *ema, const int64_t *bounds,
                          int n_spans, double norm, double max_norm, double lr, int64_t step, double decay,
                          void (*after)(void *ctx, int span), void *ctx)
{
    sdd_adam_c_t u = upd_consts(lr, 0.9, 0.999, 1e-8, step, decay, step - 1);
    upd_ctx_t c = {p, g, mo, ve, ema, bounds[n_spans], clip_coef(norm, max_norm), &u, 1, bounds, after, ctx};
    sdd_parallel_for(n_spans, update_piece, &c);
}

double sdd_optim_step(float *p, float *g, float *mo, float *ve, float *ema, int64_t n,
                      double max_norm, double lr, int64_t step, double decay)
{
    double norm = max_norm > 0 ? sdd_grad_norm(g, n) : 0;
    sdd_optim_step_norm(p, g, mo, ve, ema, n, norm, max_norm, lr, step, decay);
    return norm;
}
