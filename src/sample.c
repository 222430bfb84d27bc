/*
 * sample.c: generation and decoding (SPEC section 4).
 *
 * x_1 ~ N(0, I); the self-conditioning estimate starts at 0. For k = 0..S-1, with
 * t_now = 1 - k/S and t_next = max(1 - (k + 1 + td)/S, 0):
 *   x0^ = clip(net([x_t | previous x0^], t_now))      values to [-1, 1], bits to +-bit_scale
 *   (conditional, guidance w: x0^ = u + w (c - u), u with the null label, c with the label)
 *   eps^ = (x_t - sqrt(g_now) x0^) / sqrt(1 - g_now)
 *   DDIM: x_next = sqrt(g_next) x0^ + sqrt(1 - g_next) eps^
 *   DDPM: a = clip(g_now / g_next, 0, 1);
 *         x_next = (x_t - (1 - a)/sqrt(1 - g_now) eps^)/sqrt(a) + sqrt(1 - a) z
 * The output is the last x0^ = [v | b]: mask = b > 0 (threshold) or a draw with
 * probability (b/bit_scale + 1)/2 (Bernoulli); value = (v + 1)/2 M clamped to [m_g, M];
 * out = value where the mask is on, an exact zero elsewhere. So every zero is exact and
 * every non-zero is a valid log1p value of its gene.
 */
#include "nn.h"
#include <math.h>

void sdd_sample_opt_init(sdd_sample_opt_t *o)
{
    memset(o, 0, sizeof *o);
    o->n_cells = 1000;
    o->steps = 100;
    o->sampler = SDD_SAMPLER_DDIM;
    o->bit_decode = SDD_BITS_THRESHOLD;
    o->use_ema = 1;
    o->guidance = 1.0;
}

int sdd_sample_opt_check(const sdd_sample_opt_t *o)
{
    if (o->n_cells < 1 || o->n_cells > INT64_C(1) << 40) return sdd_error(SDD_EINVAL, "number of cells must be >= 1");
    if (o->steps < 1 || o->steps > 100000) return sdd_error(SDD_EINVAL, "sampling steps must be in [1, 100000]");
    if (o->sampler != SDD_SAMPLER_DDIM && o->sampler != SDD_SAMPLER_DDPM) return sdd_error(SDD_EINVAL, "unknown sampler");
    if (o->bit_decode != SDD_BITS_THRESHOLD && o->bit_decode != SDD_BITS_BERNOULLI)
        return sdd_error(SDD_EINVAL, "unknown bit decoding");
    if (!(o->td >= 0 && o->td < o->steps)) return sdd_error(SDD_EINVAL, "time delay must be in [0, steps)");
    if (!(o->guidance >= 0 && o->guidance <= 100)) return sdd_error(SDD_EINVAL, "guidance must be in [0, 100]");
    return SDD_OK;
}

/* Scratch of one batch of B rows: x, x0 (the estimate), tmp (unconditional output). */
typedef struct {
    float *x, *x0, *uc, *t;
    int32_t *lab, *null;
} batch_t;

static void clip_rows(const sdd_model_t *m, float *x0, int B)
{
    int D = m->shape.D, G = (int)m->shape.G;
    float bs = (float)m->bit_scale;
    for (int r = 0; r < B; r++)
        for (int j = 0; j < D; j++) {
            float lim = (m->shape.bits && j >= G) ? bs : 1.0f, *v = &x0[(size_t)r * D + j];
            *v = *v > lim ? lim : *v < -lim ? -lim : *v;
        }
}

/* x0^ for the batch at time t, with guidance for conditional models. */
static void estimate(sdd_model_t *m, const float *w, const sdd_sample_opt_t *o, batch_t *b, int B)
{
    size_t n = (size_t)B * m->shape.D;
    int cond = m->shape.n_labels > 0;
    if (cond && o->guidance != 1.0) {
        sdd_net_forward(m, w, B, b->x, b->x0, B, b->t, b->null);
        memcpy(b->uc, m->a.out, n * sizeof(float));
    }
    sdd_net_forward(m, w, B, b->x, b->x0, B, b->t, cond ? b->lab : NULL);
    if (cond && o->guidance != 1.0) {
        float g = (float)o->guidance;
        for (size_t i = 0; i < n; i++) b->x0[i] = b->uc[i] + g * (m->a.out[i] - b->uc[i]);
    } else {
        memcpy(b->x0, m->a.out, n * sizeof(float));
    }
    clip_rows(m, b->x0, B);
}

static void denoise(sdd_model_t *m, const float *w, const sdd_sample_opt_t *o, sdd_rng_t *rng,
                    batch_t *b, int B)
{
    size_t n = (size_t)B * m->shape.D;
    int S = o->steps;
    for (size_t i = 0; i < n; i++) {
        b->x[i] = (float)sdd_rng_normal(rng);
        b->x0[i] = 0;
    }
    for (int k = 0; k < S; k++) {
        double tn = 1.0 - (double)k / S, tx = fmax(1.0 - (k + 1 + o->td) / S, 0.0);
        double gn, gx;
        for (int r = 0; r < B; r++) b->t[r] = (float)tn;
        gn = sdd_gamma((float)tn);
        gx = sdd_gamma((float)tx);
        estimate(m, w, o, b, B);
        float sgn = (float)sqrt(gn), s1n = (float)sqrt(1 - gn), sgx = (float)sqrt(gx), s1x = (float)sqrt(1 - gx);
        double a = fmin(fmax(gn / gx, 0.0), 1.0);
        float c1 = (float)((1 - a) / sqrt(1 - gn)), ia = (float)(1 / sqrt(a)), sz = (float)sqrt(1 - a);
        for (size_t i = 0; i < n; i++) {
            float eps = (b->x[i] - sgn * b->x0[i]) / s1n;
            if (o->sampler == SDD_SAMPLER_DDIM)
                b->x[i] = sgx * b->x0[i] + s1x * eps;
            else
                b->x[i] = (b->x[i] - c1 * eps) * ia + sz * (float)sdd_rng_normal(rng);
        }
    }
}

/* Decode the batch's final estimate into rows of X (appended at row0). */
static void decode(const sdd_model_t *m, const sdd_sample_opt_t *o, sdd_rng_t *rng, const float *x0,
                   int B, int64_t row0, sdd_csr_t *X)
{
    int64_t G = m->shape.G;
    int D = m->shape.D;
    for (int r = 0; r < B; r++) {
        const float *v = x0 + (size_t)r * D;
        for (int64_t j = 0; j < G; j++) {
            double M = m->scale_gene ? (m->Mg[j] > 0 ? m->Mg[j] : 1.0) : m->M, val = (v[j] + 1.0) / 2.0 * M;
            int on;
            if (m->shape.bits) {
                double bj = v[G + j] / m->bit_scale;
                on = o->bit_decode == SDD_BITS_THRESHOLD ? bj > 0 : sdd_rng_uniform(rng) < (bj + 1) / 2;
                val = fmin(fmax(val, m->mg[j]), M);
            } else {
                on = val > 0;
            }
            if (on && val > 0) {
                X->indices[X->nnz] = (int32_t)j;
                X->data[X->nnz++] = (float)val;
            }
        }
        X->indptr[row0 + r + 1] = X->nnz;
    }
}

static void draw_labels(const sdd_model_t *m, const sdd_sample_opt_t *o, sdd_rng_t *rng, int32_t *lab)
{
    for (int64_t i = 0; i < o->n_cells; i++) {
        if (o->labels) {
            lab[i] = o->labels[i];
            continue;
        }
        double u = sdd_rng_uniform(rng), c = 0;
        int k = 0;
        for (; k < m->shape.n_labels - 1; k++) {
            c += m->label_freq[k];
            if (u < c) break;
        }
        lab[i] = k;
    }
}

int sdd_model_sample(sdd_model_t *m, const sdd_sample_opt_t *o, sdd_csr_t *X, int32_t *labels_out,
                     sdd_progress_f progress, void *user)
{
    int B = m->max_batch, D = m->shape.D, rc, nl = m->shape.n_labels;
    batch_t b = {0};
    int32_t *all = NULL;
    int64_t cap;
    sdd_rng_t rng;
    const float *w = o->use_ema ? m->ema : m->params;
    memset(X, 0, sizeof *X);
    if ((rc = sdd_sample_opt_check(o)) < 0) return rc;
    if (o->labels)
        for (int64_t i = 0; i < o->n_cells; i++)
            if (!nl || o->labels[i] < 0 || o->labels[i] > nl)
                return sdd_error(SDD_EINVAL, "label code %d is not one of the model's %d labels", o->labels[i], nl);
    cap = (int64_t)B * m->shape.G;
    if ((rc = sdd_csr_alloc(X, o->n_cells, m->shape.G, cap)) < 0) return rc;
    X->nnz = 0;
    b.x = sdd_malloc((size_t)B * D * sizeof(float));
    b.x0 = sdd_malloc((size_t)B * D * sizeof(float));
    b.uc = sdd_malloc((size_t)B * D * sizeof(float));
    b.t = sdd_malloc((size_t)B * sizeof(float));
    b.null = sdd_malloc((size_t)B * sizeof(int32_t));
    all = sdd_malloc((size_t)o->n_cells * sizeof(int32_t));
    if (!b.x || !b.x0 || !b.uc || !b.t || !b.null || !all) {
        rc = SDD_ENOMEM;
        goto fail;
    }
    sdd_rng_seed(&rng, o->seed);
    for (int r = 0; r < B; r++) b.null[r] = nl;
    if (nl) draw_labels(m, o, &rng, all);
    for (int64_t i0 = 0; i0 < o->n_cells; i0 += B) {
        int n = (int)(o->n_cells - i0 < B ? o->n_cells - i0 : B);
        if (X->nnz + (int64_t)n * m->shape.G > cap) { /* room for a fully dense batch */
            int32_t *ix;
            float *dx;
            cap = 2 * cap > X->nnz + (int64_t)n * m->shape.G ? 2 * cap : X->nnz + (int64_t)n * m->shape.G;
            if (!(ix = sdd_realloc(X->indices, (size_t)cap * sizeof *ix))) { rc = SDD_ENOMEM; goto fail; }
            X->indices = ix;
            if (!(dx = sdd_realloc(X->data, (size_t)cap * sizeof *dx))) { rc = SDD_ENOMEM; goto fail; }
            X->data = dx;
        }
        b.lab = all + i0;
        denoise(m, w, o, &rng, &b, n);
        decode(m, o, &rng, b.x0, n, i0, X);
        if (progress && progress("sample", i0 + n, o->n_cells, "", user)) {
            rc = sdd_error(SDD_EINTR, "sampling interrupted after %lld cells", (long long)(i0 + n));
            goto fail;
        }
    }
    if (labels_out && nl) memcpy(labels_out, all, (size_t)o->n_cells * sizeof(int32_t));
    rc = SDD_OK;
fail:
    free(b.x); free(b.x0); free(b.uc); free(b.t); free(b.null); free(all);
    if (rc < 0) sdd_csr_free(X);
    return rc;
}
