/*
 * loss.c: the training loss of doc/method.md §6.3 and the output parametrisations of
 * §3.4 it is measured through (declared in nn.h). With w_rg = 1 where cell r expresses
 * gene g and w_0 where it does not, lambda the bit weight and the mean over all B D
 * entries:
 *
 *   x0              L = 1/(BD) sum_r [ sum_g w_rg (v^_rg - v_rg)^2 + lambda sum_g (s^_rg - s_rg)^2 ]
 *   preconditioned  the same with each error in units of c_out:
 *                   (f - (x0 - c_skip x_t - c_mean mu) / c_out)^2
 *   bit logits      the value half as for x0; each bit the binary cross-entropy of
 *                   sigmoid(L_j + f_{G+j}), L_j = 2 alpha b_s y_j / sigma^2 clamped to [-60, 60]
 *
 * Each loss also writes d loss / d output when asked. Sums are in double; the x0 and the
 * bit-logit losses run over row pieces fixed by the batch shape on the compute threads
 * and add the pieces' sums in order, so their values do not depend on the thread count.
 */
#include "nn.h"
#include "vec.h"

#define LOSS_ROWS 16 /* rows per parallel piece of the loss */
#include <math.h>

/* Log-odds that bit j is on from its own noised value y alone: y ~ N(+-alpha bs, sigma^2),
 * equal prior odds, L = 2 alpha bs y / sigma^2 (clamped; it saturates near t = 0). The
 * row's factors (c = 2 alpha bs and sigma^2 = 1 - gamma) are computed once per row. */
typedef struct {
    double c, var;
} logodds_t;

static logodds_t logodds_row(double t, double bs)
{
    double g = sdd_gamma(t);
    logodds_t k = {2.0 * sqrt(g) * bs, 1.0 - g};
    return k;
}

void sdd_bitlogit_apply(float *out, const float *xt, const float *t, int B, int D, double bs)
{
    int G = D / 2;
    for (int r = 0; r < B; r++) {
        float *o = out + (size_t)r * D;
        const float *x = xt + (size_t)r * D;
        logodds_t k = logodds_row(t[r], bs);
        sdd_vec_bitlogit(o + G, x + G, (size_t)(D - G), (float)(k.c / k.var), (float)bs);
    }
}

typedef struct {
    const float *F, *x0, *xt, *t;
    float *dout;
    int B, D;
    double bs, bit_weight, w_zero_value;
} bitlogit_ctx_t;

static double bitlogit_rows(void *ctx, int64_t r0, int64_t r1)
{
    const bitlogit_ctx_t *c = ctx;
    int D = c->D, G = D / 2;
    double sum = 0, scale = 1.0 / ((double)c->B * D);
    for (int64_t r = r0; r < r1; r++) {
        const float *o = c->F + (size_t)r * D, *x = c->x0 + (size_t)r * D, *xr = c->xt + (size_t)r * D;
        float *d = c->dout ? c->dout + (size_t)r * D : NULL;
        for (int j = 0; j < G; j++) {
            double w = x[G + j] < 0 ? c->w_zero_value : 1.0, e = (double)o[j] - x[j];
            sum += w * e * e;
            if (d) d[j] = (float)(2.0 * w * e * scale);
        }
        logodds_t k = logodds_row(c->t[r], c->bs);
        sum += c->bit_weight * sdd_vec_bitbce(d ? d + G : NULL, o + G, xr + G, x + G, (size_t)(D - G),
                                              (float)(k.c / k.var), (float)(c->bit_weight * scale));
    }
    return sum;
}

double sdd_loss_bitlogit(const float *F, const float *x0, const float *xt, const float *t, int B, int D, double bs,
                         double bit_weight, double w_zero_value, float *dout)
{
    bitlogit_ctx_t c = {F, x0, xt, t, dout, B, D, bs, bit_weight, w_zero_value};
    return sdd_parallel_sum(B, LOSS_ROWS, 1, bitlogit_rows, &c) * (1.0 / ((double)B * D));
}

void sdd_precond_apply(float *out, const float *xt, const float *t, int B, int D, int bits, const double *mu)
{
    int G = bits ? D / 2 : D;
    for (int r = 0; r < B; r++) {
        float cs, co, cm, *o = out + (size_t)r * D;
        const float *x = xt + (size_t)r * D;
        sdd_precond(t[r], &cs, &co, &cm);
        for (int j = 0; j < D; j++) o[j] = cs * x[j] + co * o[j] + cm * (float)mu[j >= G];
    }
}

double sdd_mse_loss_precond(const float *F, const float *x0, const float *xt, const float *t, int B, int D,
                            int bits, double bit_weight, double w_zero_value, const double *mu, float *dout)
{
    int G = bits ? D / 2 : D;
    double sum = 0, scale = 1.0 / ((double)B * D);
    for (int r = 0; r < B; r++) {
        const float *o = F + (size_t)r * D, *x = x0 + (size_t)r * D, *xr = xt + (size_t)r * D;
        float *d = dout ? dout + (size_t)r * D : NULL, cs, co, cm;
        sdd_precond(t[r], &cs, &co, &cm);
        for (int j = 0; j < D; j++) {
            double w = 1.0, e = (double)o[j] - ((double)x[j] - (double)cs * xr[j] - (double)cm * mu[j >= G]) / co;
            if (bits && j >= G) w = bit_weight;
            else if (bits && x[G + j] < 0) w = w_zero_value;
            sum += w * e * e;
            if (d) d[j] = (float)(2.0 * w * e * scale);
        }
    }
    return sum * scale;
}

typedef struct {
    const float *out, *x0;
    float *dout;
    int B, D, bits;
    double bit_weight, w_zero_value;
} loss_ctx_t;

static double loss_rows(void *ctx, int64_t r0, int64_t r1)
{
    loss_ctx_t *c = ctx;
    int D = c->D, G = c->bits ? D / 2 : D;
    double sum = 0, scale = 1.0 / ((double)c->B * D);
    for (int64_t r = r0; r < r1; r++) {
        const float *o = c->out + (size_t)r * D, *x = c->x0 + (size_t)r * D;
        float *d = c->dout ? c->dout + (size_t)r * D : NULL;
        for (int j = 0; j < D; j++) {
            double w = 1.0, e = (double)o[j] - x[j];
            if (c->bits && j >= G) w = c->bit_weight;
            else if (c->bits && x[G + j] < 0) w = c->w_zero_value;
            sum += w * e * e;
            if (d) d[j] = (float)(2.0 * w * e * scale);
        }
    }
    return sum;
}

/* Rows in shape-fixed pieces, the pieces' double sums added in order. */
double sdd_mse_loss(const float *out, const float *x0, int B, int D, int bits,
                    double bit_weight, double w_zero_value, float *dout)
{
    loss_ctx_t c = {out, x0, dout, B, D, bits, bit_weight, w_zero_value};
    return sdd_parallel_sum(B, LOSS_ROWS, 1, loss_rows, &c) * (1.0 / ((double)B * D));
}

double sdd_model_loss(const sdd_model_t *m, const float *out, const float *x0, const float *xt, const float *t, int B,
                      float *dout)
{
    const sdd_train_opt_t *o = &m->opt;
    int D = m->shape.D;
    double w0 = o->value_mask ? 0.0 : 1.0;
    if (o->precond == 2) return sdd_loss_bitlogit(out, x0, xt, t, B, D, m->bit_scale, o->bit_weight, w0, dout);
    if (o->precond == 1)
        return sdd_mse_loss_precond(out, x0, xt, t, B, D, m->shape.bits, o->bit_weight, w0, o->precond_mu, dout);
    return sdd_mse_loss(out, x0, B, D, m->shape.bits, o->bit_weight, w0, dout);
}
