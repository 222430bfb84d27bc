/* test_model: the network's hand-written backward pass against central finite differences
 * of an independent double-precision forward (per layer and for the whole network), the
 * GEMM against its reference, the parameter count of doc/method.md §4.6, and the
 * optimiser formulas against hand-computed values. */
#include "nn.h"
#include "tap.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static sdd_rng_t R;

static void fill(float *x, size_t n, double a)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)((2 * sdd_rng_uniform(&R) - 1) * a);
}

static double maxabs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static double dsilu(double x) { return x / (1 + exp(-x)); }

/* ---------------------------------------------------------------- GEMM */

static void gemm_case(int ta, int tb, int M, int N, int K)
{
    float *A = malloc(sizeof(float) * K * M), *B = malloc(sizeof(float) * K * N);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    float *C3 = malloc(sizeof(float) * M * N);
    fill(A, (size_t)K * M, 1);
    fill(B, (size_t)K * N, 1);
    fill(C1, (size_t)M * N, 1);
    memcpy(C2, C1, sizeof(float) * M * N);
    memcpy(C3, C1, sizeof(float) * M * N);
    sdd_set_threads(1);
    sdd_gemm(ta, tb, M, N, K, 0.5f, A, ta ? M : K, B, tb ? K : N, 0.25f, C1, N);
    sdd_set_threads(2);
    sdd_gemm(ta, tb, M, N, K, 0.5f, A, ta ? M : K, B, tb ? K : N, 0.25f, C3, N);
    sdd_set_threads(1);
    sdd_gemm_ref(ta, tb, M, N, K, 0.5f, A, ta ? M : K, B, tb ? K : N, 0.25f, C2, N);
    for (int i = 0; i < M * N; i++) CHECK_CLOSE(C1[i], C2[i], 1e-5, 1e-5);
    CHECK_MSG(!memcmp(C1, C3, sizeof(float) * M * N), "%dx%dx%d differs with 2 threads", M, N, K);
    /* beta = 0 ignores what C held */
    for (int i = 0; i < M * N; i++) C3[i] = NAN;
    sdd_gemm(ta, tb, M, N, K, 0.5f, A, ta ? M : K, B, tb ? K : N, 0.0f, C3, N);
    sdd_gemm_ref(ta, tb, M, N, K, 0.5f, A, ta ? M : K, B, tb ? K : N, 0.0f, C2, N);
    for (int i = 0; i < M * N; i++) CHECK_CLOSE(C3[i], C2[i], 1e-5, 1e-5);
    free(A); free(B); free(C1); free(C2); free(C3);
}

static void test_gemm(void)
{
    /* whole products, and products cut into column or row pieces */
    int shapes[][3] = {{37, 29, 53}, {17, 300, 41}, {64, 300, 200}, {300, 64, 200}, {256, 130, 96}};
    for (int s = 0; s < 5; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) gemm_case(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2]);
}

/* A product's pieces beside other work in one job (sdd_gemm_sumsq_also): C and the sum of
 * squares bit for bit those of the product alone, and every piece of the other work run
 * once, with 1 and 2 threads, for split and whole products and an empty sum. */
static void also_piece(void *ctx, int p) { ((int *)ctx)[p]++; }

static void test_gemm_also(void)
{
    int shapes[][3] = {{300, 256, 200}, {17, 30, 41}, {64, 96, 0}};
    for (int s = 0; s < 3; s++)
        for (int th = 1; th <= 2; th++) {
            int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], n_also = 37;
            float *A = malloc(sizeof(float) * M * (K + 1)), *B = malloc(sizeof(float) * (K + 1) * N);
            float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
            int done[37] = {0};
            fill(A, (size_t)M * (K + 1), 1.0);
            fill(B, (size_t)(K + 1) * N, 1.0);
            fill(C1, (size_t)M * N, 1.0);
            memcpy(C2, C1, sizeof(float) * M * N);
            sdd_set_threads(th);
            double s1 = sdd_gemm_sumsq(1, 0, M, N, K, 1.0f, A, M, B, N, 1.0f, C1, N);
            double s2 = sdd_gemm_sumsq_also(1, 0, M, N, K, 1.0f, A, M, B, N, 1.0f, C2, N, also_piece, done, n_also);
            int once = 1;
            for (int p = 0; p < n_also; p++) once &= done[p] == 1;
            CHECK_MSG(!memcmp(C1, C2, sizeof(float) * M * N) && s1 == s2 && once,
                      "product %dx%dx%d beside other work (%d threads): C %s, sum of squares %s, other work %s", M,
                      N, K, th, memcmp(C1, C2, sizeof(float) * M * N) ? "differs" : "same", s1 == s2 ? "same" :
                      "differs", once ? "once each" : "not once each");
            free(A); free(B); free(C1); free(C2);
        }
    sdd_set_threads(1);
}

/* ------------------------------------------------------------ layers */

/* Central difference of f at p[i] (double), step h. */
#define FD(f, p, i, h) ({ double o_ = (p)[i], fp_, fm_; (p)[i] = o_ + (h); fp_ = (f); \
    (p)[i] = o_ - (h); fm_ = (f); (p)[i] = o_; (fp_ - fm_) / (2 * (h)); })

static double *to_d(const float *x, size_t n)
{
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

/* loss = sum c (x W^T + b) */
static double lin_loss(const double *x, const double *w, const double *b, const double *c, int B,
                       int I, int O)
{
    double L = 0;
    for (int r = 0; r < B; r++)
        for (int o = 0; o < O; o++) {
            double y = b[o];
            for (int k = 0; k < I; k++) y += x[r * I + k] * w[o * I + k];
            L += c[r * O + o] * y;
        }
    return L;
}

static void test_linear(void)
{
    int B = 5, I = 7, O = 4;
    float x[35], w[28], b[4], c[20], y[20], dx[35], dw[28] = {0}, db[4] = {0};
    fill(x, 35, 1); fill(w, 28, 1); fill(b, 4, 1); fill(c, 20, 1); fill(dx, 35, 1);
    sdd_linear_forward(y, O, x, I, w, I, b, B, I, O);
    sdd_linear_backward(dx, 0.0f, dw, I, db, c, O, x, I, w, I, B, I, O);
    double *xd = to_d(x, 35), *wd = to_d(w, 28), *bd = to_d(b, 4), *cd = to_d(c, 20);
    for (int i = 0; i < 35; i++) CHECK_CLOSE(dx[i], FD(lin_loss(xd, wd, bd, cd, B, I, O), xd, i, 1e-6), 1e-4, 1e-5);
    for (int i = 0; i < 28; i++) CHECK_CLOSE(dw[i], FD(lin_loss(xd, wd, bd, cd, B, I, O), wd, i, 1e-6), 1e-4, 1e-5);
    for (int i = 0; i < 4; i++) CHECK_CLOSE(db[i], FD(lin_loss(xd, wd, bd, cd, B, I, O), bd, i, 1e-6), 1e-4, 1e-5);
    CHECK_CLOSE(y[7], lin_loss(xd, wd, bd, (double[20]){[7] = 1}, B, I, O), 1e-5, 1e-6);
    free(xd); free(wd); free(bd); free(cd);
}

static double silu_loss(const double *x, const double *c, int n)
{
    double L = 0;
    for (int i = 0; i < n; i++) L += c[i] * dsilu(x[i]);
    return L;
}

static void test_silu(void)
{
    float x[16], c[16], y[16], dx[16];
    fill(x, 16, 4); fill(c, 16, 1);
    sdd_silu_forward(y, x, 16);
    sdd_silu_backward(dx, c, x, 16);
    double *xd = to_d(x, 16), *cd = to_d(c, 16);
    for (int i = 0; i < 16; i++) {
        CHECK_CLOSE(y[i], dsilu(xd[i]), 1e-6, 1e-7);
        CHECK_CLOSE(dx[i], FD(silu_loss(xd, cd, 16), xd, i, 1e-6), 1e-5, 1e-6);
    }
    free(xd); free(cd);
}

/* loss = sum c SiLU(g LN(pre) + beta), LN in double */
static double ln_loss(const double *pre, const double *g, const double *be, const double *c, int B,
                      int O)
{
    double L = 0;
    for (int r = 0; r < B; r++) {
        double mu = 0, var = 0;
        for (int j = 0; j < O; j++) mu += pre[r * O + j] / O;
        for (int j = 0; j < O; j++) var += (pre[r * O + j] - mu) * (pre[r * O + j] - mu) / O;
        for (int j = 0; j < O; j++)
            L += c[r * O + j] * dsilu(g[j] * (pre[r * O + j] - mu) / sqrt(var + 1e-5) + be[j]);
    }
    return L;
}

static void test_lnsilu(void)
{
    enum { B = 4, O = 9 };
    float pre[B * O], p0[B * O], zb[O] = {0}, g[O], be[O], c[B * O], h[B * O], y[B * O], xh[B * O];
    float rs[B], dpre[B * O], dg[O] = {0}, dbe[O] = {0};
    fill(pre, B * O, 2); fill(g, O, 1.5); fill(be, O, 0.5); fill(c, B * O, 1);
    memcpy(p0, pre, sizeof pre);
    sdd_lnsilu_forward(h, y, xh, rs, pre, zb, NULL, 0, g, be, B, O);
    sdd_lnsilu_backward(dpre, O, dg, dbe, c, y, xh, rs, g, B, O);
    double *pd = to_d(p0, B * O), *gd = to_d(g, O), *bd = to_d(be, O), *cd = to_d(c, B * O);
    for (int i = 0; i < B * O; i++) {
        double e[B * O] = {0};
        e[i] = 1;
        CHECK_CLOSE(h[i], ln_loss(pd, gd, bd, e, B, O), 1e-5, 1e-6);
        CHECK_CLOSE(dpre[i], FD(ln_loss(pd, gd, bd, cd, B, O), pd, i, 1e-6), 1e-3, 1e-5);
    }
    for (int j = 0; j < O; j++) {
        CHECK_CLOSE(dg[j], FD(ln_loss(pd, gd, bd, cd, B, O), gd, j, 1e-6), 1e-4, 1e-5);
        CHECK_CLOSE(dbe[j], FD(ln_loss(pd, gd, bd, cd, B, O), bd, j, 1e-6), 1e-4, 1e-5);
    }
    free(pd); free(gd); free(bd); free(cd);
}

static void test_timestep(void)
{
    float t[3] = {0.0f, 0.37f, 1.0f}, out[3 * 16];
    sdd_timestep_forward(out, t, 3, 16);
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 8; k++) {
            double a = 1000.0 * t[r] * exp(-log(10000.0) * k / 8);
            CHECK_CLOSE(out[r * 16 + k], cos(a), 0, 2e-4);
            CHECK_CLOSE(out[r * 16 + 8 + k], sin(a), 0, 2e-4);
        }
}

/* ------------------------------------------------- whole network in double */

typedef struct {
    const sdd_model_t *m;
    double *p;                 /* parameters in double [n_params] */
    int B, n_sc, D;
    const float *xt, *sc, *x0, *t;
    const int32_t *lab;
    double bit_weight, wzero;
    double *out;               /* [B][D] */
} dnet_t;

static const double *P(const dnet_t *n, const char *name)
{
    const sdd_tensor_t *t = sdd_net_tensor(n->m, name);
    return n->p + t->offset;
}

/* y [B][O] = x W^T + b */
static void dlin(double *y, const double *x, const double *w, const double *b, int B, int I, int O)
{
    for (int r = 0; r < B; r++)
        for (int o = 0; o < O; o++) {
            double s = b ? b[o] : 0;
            for (int k = 0; k < I; k++) s += x[(size_t)r * I + k] * w[(size_t)o * I + k];
            y[(size_t)r * O + o] = s;
        }
}

/* in place: x <- SiLU(g LN(x) + beta) */
static void dlnsilu(double *x, const double *g, const double *be, int B, int O)
{
    for (int r = 0; r < B; r++) {
        double *p = x + (size_t)r * O, mu = 0, var = 0;
        for (int j = 0; j < O; j++) mu += p[j] / O;
        for (int j = 0; j < O; j++) var += (p[j] - mu) * (p[j] - mu) / O;
        for (int j = 0; j < O; j++) p[j] = dsilu(g[j] * (p[j] - mu) / sqrt(var + 1e-5) + be[j]);
    }
}

static double *drb(const dnet_t *n, const char *nm, const double *x, const double *semb, int I,
                   int O)
{
    char k[64];
    int B = n->B, E = n->m->shape.E;
    double *y = malloc(sizeof(double) * B * O), *e = malloc(sizeof(double) * B * O);
#define PN(s) (snprintf(k, sizeof k, "%s.%s", nm, s), P(n, k))
    dlin(y, x, PN("l.weight"), PN("l.bias"), B, I, O);
    dlin(e, semb, PN("e.weight"), PN("e.bias"), B, E, O);
    for (int i = 0; i < B * O; i++) y[i] += e[i];
    dlnsilu(y, PN("n.weight"), PN("n.bias"), B, O);
#undef PN
    free(e);
    return y;
}

/* Forward in double; returns the loss (same definition as sdd_mse_loss). */
static double dnet_loss(dnet_t *n)
{
    const sdd_netshape_t *s = &n->m->shape;
    int B = n->B, E = s->E, D = s->D, G = s->bits ? D / 2 : D;
    const int *H = s->H;
    float *sinf_ = malloc(sizeof(float) * B * E);
    double *sin_ = calloc((size_t)B * E, sizeof(double)), *z = malloc(sizeof(double) * B * E);
    double *emb = malloc(sizeof(double) * B * E), *x = calloc((size_t)B * 2 * D, sizeof(double));
    double *h[7], *o1 = malloc(sizeof(double) * B * s->F), L = 0;
    sdd_timestep_forward(sinf_, n->t, B, E);
    for (int i = 0; i < B * E; i++) sin_[i] = sinf_[i];
    dlin(z, sin_, P(n, "t1.weight"), P(n, "t1.bias"), B, E, E);
    for (int i = 0; i < B * E; i++) z[i] = dsilu(z[i]);
    dlin(emb, z, P(n, "t2.weight"), P(n, "t2.bias"), B, E, E);
    if (n->lab)
        for (int r = 0; r < B; r++)
            for (int j = 0; j < E; j++) emb[r * E + j] += P(n, "label.weight")[n->lab[r] * E + j];
    for (int i = 0; i < B * E; i++) emb[i] = dsilu(emb[i]);
    for (int r = 0; r < B; r++)
        for (int j = 0; j < D; j++) {
            x[(size_t)r * 2 * D + j] = n->xt[(size_t)r * D + j];
            x[(size_t)r * 2 * D + D + j] = r < n->n_sc ? n->sc[(size_t)r * D + j] : 0;
        }
    h[0] = drb(n, "enc.0", x, emb, 2 * D, H[0]);
    h[1] = drb(n, "enc.1", h[0], emb, H[0], H[1]);
    h[2] = drb(n, "enc.2", h[1], emb, H[1], H[2]);
    h[3] = drb(n, "enc.3", h[2], emb, H[2], H[3]);
    h[4] = drb(n, "dec.0", h[3], emb, H[3], H[2]);
    for (int i = 0; i < B * H[2]; i++) h[4][i] += h[2][i];
    h[5] = drb(n, "dec.1", h[4], emb, H[2], H[1]);
    for (int i = 0; i < B * H[1]; i++) h[5][i] += h[1][i];
    h[6] = drb(n, "dec.2", h[5], emb, H[1], H[0]);
    for (int i = 0; i < B * H[0]; i++) h[6][i] += h[0][i];
    dlin(o1, h[6], P(n, "o1.weight"), P(n, "o1.bias"), B, H[0], s->F);
    dlnsilu(o1, P(n, "on.weight"), P(n, "on.bias"), B, s->F);
    dlin(n->out, o1, P(n, "o2.weight"), P(n, "o2.bias"), B, s->F, D);
    for (int r = 0; r < B; r++)
        for (int j = 0; j < D; j++) {
            double e = n->out[r * D + j] - n->x0[r * D + j], w = 1;
            if (s->bits && j >= G) w = n->bit_weight;
            else if (s->bits && n->x0[r * D + G + j] < 0) w = n->wzero;
            L += w * e * e / ((double)B * D);
        }
    for (int i = 0; i < 7; i++) free(h[i]);
    free(sinf_); free(sin_); free(z); free(emb); free(x); free(o1);
    return L;
}

static void test_network(int bits, int n_labels, int value_mask)
{
    sdd_netshape_t s = {.G = 6, .bits = bits, .H = {12, 10, 8, 6}, .F = 14, .E = 8, .n_labels = n_labels};
    sdd_train_opt_t o;
    sdd_model_t *m = NULL;
    enum { B = 5 };
    int n_sc = 2, D;
    s.D = bits ? 12 : 6;
    D = s.D;
    sdd_train_opt_init(&o);
    o.batch = B;
    CHECK(sdd_model_alloc(&m, &s, &o) == 0);
    sdd_net_init(m, &R);
    /* non-trivial LayerNorm affine parameters: weight 1 +- 0.5, bias +- 0.5 */
    for (int i = 0; i < m->n_tensors; i++) {
        const sdd_tensor_t *tt = &m->table[i];
        if (!strstr(tt->name, ".n.") && strncmp(tt->name, "on.", 3)) continue;
        fill(m->params + tt->offset, (size_t)tt->cols, 0.5);
        if (strstr(tt->name, "weight"))
            for (int k = 0; k < tt->cols; k++) m->params[tt->offset + k] += 1.0f;
    }
    float xt[B * 12], sc[B * 12], x0[B * 12], t[B] = {0.05f, 0.3f, 0.5f, 0.77f, 0.99f}, dout[B * 12];
    int32_t lab[B] = {0, 1, n_labels, 1, 0};
    fill(xt, sizeof xt / 4, 1.5); fill(sc, sizeof sc / 4, 1);
    for (int i = 0; i < B * D; i++) x0[i] = sdd_rng_uniform(&R) < 0.5 ? -1.0f : 0.6f;
    sdd_net_forward(m, m->params, B, xt, sc, n_sc, t, n_labels ? lab : NULL);
    double Lf = sdd_mse_loss(m->a.out, x0, B, D, bits, 0.7, value_mask ? 0 : 1, dout);
    memset(m->grads, 0, sizeof(float) * m->n_params);
    sdd_net_backward(m, B, xt, sc, n_sc, n_labels ? lab : NULL, dout);
    /* the norm the training step clips by, summed during the backward, against a pass
     * over the whole gradient blob */
    {
        double fused = sdd_net_grad_norm(m), full = sdd_grad_norm(m->grads, m->n_params);
        CHECK_MSG(fabs(fused - full) <= 1e-12 * full && full > 0, "gradient norm from the backward %.17g, "
                  "from the blob %.17g", fused, full);
    }
    dnet_t n = {m, NULL, B, n_sc, D, xt, sc, x0, t, n_labels ? lab : NULL, 0.7, value_mask ? 0 : 1, NULL};
    n.p = to_d(m->params, (size_t)m->n_params);
    n.out = malloc(sizeof(double) * B * D);
    CHECK_CLOSE(Lf, dnet_loss(&n), 1e-5, 1e-7);
    for (int i = 0; i < B * D; i++) CHECK_CLOSE(m->a.out[i], n.out[i], 1e-4, 1e-5);
    /* every tensor: a few entries by central differences */
    for (int ti = 0; ti < m->n_tensors; ti++) {
        const sdd_tensor_t *tt = &m->table[ti];
        int64_t cnt = tt->rows * tt->cols;
        double sc_ = maxabs(m->grads + tt->offset, (size_t)cnt);
        for (int rep = 0; rep < 6; rep++) {
            int64_t i = tt->offset + (int64_t)sdd_rng_below(&R, (uint64_t)cnt);
            if (!strcmp(tt->name, "label.weight")) /* a row that is used */
                i = tt->offset + lab[rep % B] * tt->cols + (int64_t)sdd_rng_below(&R, (uint64_t)tt->cols);
            double fd = FD(dnet_loss(&n), n.p, i, 1e-6);
            CHECK_MSG(fabs(m->grads[i] - fd) <= 2e-3 * fabs(fd) + 2e-4 * sc_ + 1e-8,
                      "%s[%lld]: backward %.8g, finite difference %.8g", tt->name,
                      (long long)(i - tt->offset), m->grads[i], fd);
        }
    }
    /* the training step's shared pass: prepared for all B rows, run on the first 3 */
    float ref[3 * 12];
    sdd_net_forward(m, m->params, 3, xt, sc, 2, t, n_labels ? lab : NULL);
    memcpy(ref, m->a.out, sizeof(float) * 3 * D);
    sdd_net_prepare(m, m->params, B, xt, t, n_labels ? lab : NULL);
    sdd_net_forward_prepared(m, m->params, 3, sc, 2);
    for (int i = 0; i < 3 * D; i++) CHECK_CLOSE(m->a.out[i], ref[i], 1e-5, 1e-6);
    free(n.p);
    free(n.out);
    sdd_model_destroy(m);
}

static void test_param_count(void)
{
    sdd_train_opt_t o;
    sdd_train_opt_init(&o);
    CHECK(sdd_model_count_params(1000, &o, 0) == 7389648);
    for (int64_t G = 1; G < 5000; G += 777)
        CHECK(sdd_model_count_params(G, &o, 0) == 3291648 + 512 * 4 * G + 1025 * 2 * G);
    /* values only: input 2G, output G */
    o.sparsity_bits = 0;
    CHECK(sdd_model_count_params(1000, &o, 0) == 3291648 + 512 * 2 * 1000 + 1025 * 1000);
    o.sparsity_bits = 1;
    /* a label embedding of 4 categories plus the null class */
    CHECK(sdd_model_count_params(1000, &o, 4) == 7389648 + 5 * 512);
}

/* ---------------------------------------------------------------- optimiser */

static void test_optimiser(void)
{
    float p[3] = {1, -2, 0.5f}, g[3] = {0.3f, -0.4f, 0}, mo[3] = {0}, ve[3] = {0}, e[3];
    /* clip: norm 0.5 -> scaled to 0.25 */
    CHECK_CLOSE(sdd_grad_clip(g, 3, 0.25), 0.5, 1e-7, 0);
    CHECK_CLOSE(g[0], 0.3 * 0.25 / (0.5 + 1e-6), 1e-6, 0);
    CHECK_CLOSE(sdd_grad_clip(g, 3, 1.0), 0.25 * 0.5 / (0.5 + 1e-6), 1e-6, 0);
    CHECK_CLOSE(g[0], 0.3 * 0.25 / (0.5 + 1e-6), 1e-6, 0);
    /* Adam's first step moves each weight by lr sign(g) (bias correction) */
    sdd_adam_step(p, g, mo, ve, 3, 0.01, 0.9, 0.999, 1e-8, 1);
    CHECK_CLOSE(p[0], 1 - 0.01, 1e-6, 0);
    CHECK_CLOSE(p[1], -2 + 0.01, 1e-6, 0);
    CHECK(p[2] == 0.5f);
    /* second step with the same gradient: m_hat = g, v_hat = g^2 -> again lr sign(g) */
    sdd_adam_step(p, g, mo, ve, 3, 0.01, 0.9, 0.999, 1e-8, 2);
    CHECK_CLOSE(p[0], 1 - 0.02, 1e-5, 0);
    /* EMA warm-up: k = 0 gives decay 1/10 */
    e[0] = 0; p[0] = 1;
    sdd_ema_update(e, p, 1, 0.9999, 0);
    CHECK_CLOSE(e[0], 0.9, 1e-6, 0);
    sdd_ema_update(e, p, 1, 0.5, 100);
    CHECK_CLOSE(e[0], 0.95, 1e-6, 0);
    /* the fused update equals clip + Adam + EMA one after the other, bit for bit */
    {
        enum { N = 1000 };
        float *b[2][5];
        for (int c = 0; c < 2; c++)
            for (int a = 0; a < 5; a++) b[c][a] = malloc(sizeof(float) * N);
        fill(b[0][0], N, 1); fill(b[0][2], N, 0.1); fill(b[0][3], N, 0.01); fill(b[0][4], N, 1);
        for (int a = 0; a < 5; a++) fill(b[0][1], N, 0.2), (void)a;
        for (int a = 0; a < 5; a++) memcpy(b[1][a], b[0][a], sizeof(float) * N);
        for (int a = 0; a < N; a++) b[0][3][a] = b[1][3][a] = fabsf(b[0][3][a]);
        for (int rep = 0; rep < 2; rep++) {
            double cl = rep ? 1e9 : 0.5; /* clipping active, then not */
            sdd_grad_clip(b[0][1], N, cl);
            sdd_adam_step(b[0][0], b[0][1], b[0][2], b[0][3], N, 1e-3, 0.9, 0.999, 1e-8, 3 + rep);
            sdd_ema_update(b[0][4], b[0][0], N, 0.999, 2 + rep);
            sdd_optim_step(b[1][0], b[1][1], b[1][2], b[1][3], b[1][4], N, cl, 1e-3, 3 + rep, 0.999);
            for (int a = 0; a < 5; a++)
                if (a != 1) CHECK(!memcmp(b[0][a], b[1][a], sizeof(float) * N));
            memcpy(b[1][1], b[0][1], sizeof(float) * N);
        }
        for (int c = 0; c < 2; c++)
            for (int a = 0; a < 5; a++) free(b[c][a]);
    }
    /* schedule */
    CHECK_CLOSE(sdd_gamma(0), pow(cos(2e-4 / (1 + 2.5e-4) * M_PI / 2), 2), 1e-15, 0);
    CHECK_CLOSE(sdd_gamma(1), pow(cos((1 + 2e-4) / (1 + 2.5e-4) * M_PI / 2), 2), 1e-12, 0);
    CHECK(sdd_gamma(0.5) > sdd_gamma(0.6));
}

/* OpenBLAS's kernels: sdd_blas_kernels names the ones in use; when the user has not
 * chosen, they are never the SSE-era ones on a CPU with AVX (OpenBLAS's fallback for CPU
 * models it does not know), and the products still agree with the plain loops. */
char *openblas_get_corename(void); /* OpenBLAS's cblas.h (not included: its complex.h defines I) */

static void test_blas_kernels(void)
{
    const char *k = sdd_blas_kernels(), *core = openblas_get_corename();
    static const char *const sse[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Nano",
                                      "Opteron", "Opteron_SSE3", "Barcelona", "Bobcat", "Katmai", "Northwood", NULL};
    int old = 0, avx = 0;
    CHECK_MSG(core && strncmp(k, core, strlen(core)) == 0 && k[strlen(core)] == ' ', "'%s' vs OpenBLAS's %s", k,
              core ? core : "?");
    for (int i = 0; core && sse[i]; i++) old |= strcmp(core, sse[i]) == 0;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    avx = __builtin_cpu_supports("avx");
#endif
    if (!getenv("OPENBLAS_CORETYPE")) CHECK_MSG(!(old && avx), "SSE-era kernels %s on a CPU with AVX", core);
    fprintf(stderr, "BLAS kernels: %s\n", k);
}

int main(void)
{
    sdd_rng_seed(&R, 42);
    test_blas_kernels();
    sdd_set_threads(1);
    test_gemm();
    test_gemm_also();
    test_linear();
    test_silu();
    test_lnsilu();
    test_timestep();
    test_param_count();
    test_optimiser();
    test_network(1, 3, 1);
    test_network(1, 0, 0);
    test_network(0, 0, 0);
    return tap_done();
}
