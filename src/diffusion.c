/*
 * diffusion.c: the data side of doc/method.md §3 and §5.
 *
 *   scaling:  v = 2 x / M - 1, M the global maximum of the log1p matrix (or M_g per gene),
 *             so a zero maps to -1 and the largest value to +1;
 *   bits:     s = +bit_scale where x != 0, -bit_scale where x == 0;  x0 = [v | s] (2G),
 *             or x0 = v (G) for the plain baseline without sparsity bits;
 *   schedule: gamma(t) = cos^2(((t + 2e-4) / (1 + 2.5e-4)) pi / 2), in double;
 *   forward:  x_t = sqrt(gamma) x0 + sqrt(1 - gamma) eps, eps ~ N(0, I).
 * Also the per-gene smallest non-zero value m_g, the lower clamp of decoded values.
 */
#include "nn.h"
#include <math.h>

/* Preconditioning (Karras et al. 2022, "EDM", in variance-preserving form): with
 * alpha = sqrt(gamma), sigma = sqrt(1 - gamma) and the data scale s_d = SDD_PRECOND_SD,
 *   c_skip = alpha s_d^2 / (alpha^2 s_d^2 + sigma^2),  c_out = sigma s_d / sqrt(alpha^2 s_d^2 + sigma^2),
 * x0-hat = mu + c_skip (x_t - alpha mu) + c_out F = c_skip x_t + c_out F + c_mean mu,
 * c_mean = 1 - c_skip alpha, mu the training data's mean of each half of x0 (values,
 * bits). mu + c_skip (x_t - alpha mu) is the best linear guess of x0 from x_t for data
 * of mean mu and scale s_d; F is trained towards (x0 - c_skip x_t - c_mean mu) / c_out, a target of unit
 * scale at every t. Near t = 0 the network has only a small correction to make; without
 * it, it has to carry all 2G inputs through its 512-wide hidden layers to the output. */
void sdd_precond(double t, float *c_skip, float *c_out, float *c_mean)
{
    double g = sdd_gamma(t), a = sqrt(g), s2 = 1.0 - g, sd = SDD_PRECOND_SD, den = g * sd * sd + s2;
    double cs = a * sd * sd / den;
    *c_skip = (float)cs;
    *c_out = (float)(sqrt(s2) * sd / sqrt(den));
    *c_mean = (float)(1.0 - cs * a);
}

void sdd_precond_means(const sdd_model_t *m, const sdd_csr_t *X, double mu[2])
{
    int64_t G = X->n_cols, n = X->n_rows, nz = 0;
    double sv = 0;
    for (int64_t k = 0; k < X->nnz; k++) {
        double M = m->scale_gene ? (m->Mg[X->indices[k]] > 0 ? m->Mg[X->indices[k]] : 1.0) : m->M;
        if (X->data[k] == 0) continue;
        sv += 2.0 * X->data[k] / M; /* v + 1 */
        nz++;
    }
    mu[0] = n > 0 && G > 0 ? sv / ((double)n * G) - 1.0 : -1.0;
    mu[1] = n > 0 && G > 0 ? m->bit_scale * (2.0 * (double)nz / ((double)n * G) - 1.0) : -m->bit_scale;
}

double sdd_gamma(double t)
{
    double c = cos(((t + 2e-4) / (1.0 + 2.5e-4)) * M_PI / 2.0);
    return c * c;
}

int sdd_data_scales(const sdd_csr_t *X, double *M, float *Mg, float *mg)
{
    int64_t G = X->n_cols;
    double mx = 0;
    for (int64_t j = 0; j < G; j++) Mg[j] = mg[j] = 0;
    for (int64_t k = 0; k < X->nnz; k++) {
        float x = X->data[k];
        int32_t j = X->indices[k];
        if (!(x >= 0) || isinf(x))
            return sdd_error(SDD_EDATA, "training matrix holds %g; log1p values must be >= 0 and finite",
                             (double)x);
        if (x == 0) continue;
        if (x > Mg[j]) Mg[j] = x;
        if (mg[j] == 0 || x < mg[j]) mg[j] = x;
        if (x > mx) mx = x;
    }
    if (!(mx > 0)) return sdd_error(SDD_EDATA, "training matrix has no non-zero value");
    *M = mx;
    return SDD_OK;
}

static void encode_rows(const sdd_model_t *m, const sdd_csr_t *X, const int64_t *idx, int B, float *x0)
{
    int64_t G = m->shape.G;
    int D = m->shape.D, bits = m->shape.bits;
    float bs = (float)m->bit_scale;
    for (int r = 0; r < B; r++) {
        float *row = x0 + (size_t)r * D;
        int64_t i = idx[r];
        for (int64_t j = 0; j < G; j++) row[j] = -1.0f;
        if (bits)
            for (int64_t j = 0; j < G; j++) row[G + j] = -bs;
        for (int64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++) {
            int32_t j = X->indices[k];
            float x = X->data[k];
            double M = m->scale_gene ? (m->Mg[j] > 0 ? m->Mg[j] : 1.0) : m->M;
            if (x == 0) continue;
            row[j] = (float)(2.0 * x / M - 1.0);
            if (bits) row[G + j] = bs;
        }
    }
}

#define ENCODE_ROWS 16 /* rows of a parallel piece of the encoding */

typedef struct {
    const sdd_model_t *m;
    const sdd_csr_t *X;
    const int64_t *idx;
    float *x0;
} encode_ctx_t;

static void encode_piece(void *ctx, int r0, int r1)
{
    const encode_ctx_t *c = ctx;
    encode_rows(c->m, c->X, c->idx + r0, r1 - r0, c->x0 + (size_t)r0 * c->m->shape.D);
}

void sdd_encode_rows(const sdd_model_t *m, const sdd_csr_t *X, const int64_t *idx, int B, float *x0)
{
    encode_ctx_t c = {m, X, idx, x0};
    sdd_parallel_range(B, ENCODE_ROWS, encode_piece, &c);
}

#define NOISE_ROWS 8 /* rows per parallel piece */

typedef struct {
    sdd_rng_t base;
    const float *x0, *t;
    float *xt;
    int D;
} noise_job_t;

static void noise_piece(void *ctx, int r0, int r1)
{
    const noise_job_t *c = ctx;
    for (int r = r0; r < r1; r++) {
        double g = sdd_gamma(c->t[r]);
        float a = (float)sqrt(g), s = (float)sqrt(1.0 - g);
        const float *x = c->x0 + (size_t)r * c->D;
        float *o = c->xt + (size_t)r * c->D;
        sdd_rng_t rng;
        sdd_rng_split(&c->base, (uint64_t)r, &rng);
        sdd_rng_normals(&rng, o, c->D);
        for (int j = 0; j < c->D; j++) o[j] = a * x[j] + s * o[j];
    }
}

void sdd_noise_rows(sdd_rng_t *rng, const float *x0, const float *t, int B, int D, float *xt)
{
    noise_job_t c = {{{0}, 0, 0}, x0, t, xt, D};
    sdd_rng_seed(&c.base, sdd_rng_u64(rng));
    sdd_parallel_range(B, NOISE_ROWS, noise_piece, &c);
}
