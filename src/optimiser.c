/*
 * optimiser.c: Adam, global-norm gradient clipping and the EMA of the weights
 * (SPEC section 3), each one loop over a parameter-sized blob.
 *
 *   clip:  c = max_norm / (||g|| + 1e-6); g <- c g when c < 1   (torch clip_grad_norm_)
 *   Adam:  m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
 *          p <- p - (lr / (1 - b1^k)) m / (sqrt(v) / sqrt(1 - b2^k) + eps)  (torch.optim.Adam)
 *   EMA:   e <- d e + (1 - d) p,  d = min(decay, (1 + k) / (10 + k))
 * Norms are accumulated in double so the result does not depend on blob order tricks.
 */
#include "nn.h"
#include <math.h>

double sdd_grad_norm(const float *g, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);
}

double sdd_grad_clip(float *g, int64_t n, double max_norm)
{
    double norm = sdd_grad_norm(g, n);
    double c = max_norm / (norm + 1e-6);
    if (max_norm > 0 && c < 1.0) {
        float cf = (float)c;
        for (int64_t i = 0; i < n; i++) g[i] *= cf;
    }
    return norm;
}

void sdd_adam_step(float *p, const float *g, float *mo, float *ve, int64_t n, double lr,
                   double b1, double b2, double eps, int64_t step)
{
    double bc1 = 1.0 - pow(b1, (double)step), bc2 = 1.0 - pow(b2, (double)step);
    float step_size = (float)(lr / bc1), sbc2 = (float)sqrt(bc2);
    float fb1 = (float)b1, fb2 = (float)b2, feps = (float)eps;
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        mo[i] = fb1 * mo[i] + (1.0f - fb1) * gi;
        ve[i] = fb2 * ve[i] + (1.0f - fb2) * gi * gi;
        p[i] -= step_size * mo[i] / (sqrtf(ve[i]) / sbc2 + feps);
    }
}

void sdd_ema_update(float *ema, const float *p, int64_t n, double decay, int64_t k)
{
    double warm = (1.0 + (double)k) / (10.0 + (double)k);
    float d = (float)(warm < decay ? warm : decay), c = 1.0f - d;
    for (int64_t i = 0; i < n; i++) ema[i] = d * ema[i] + c * p[i];
}
