/* net_fixture.h: what the tests of the network's reduced-precision paths share: a small
 * network and a random batch for it, one forward + loss + backward, a few gradient
 * entries against central differences of the fp32 loss, and a small training set,
 * training a model to a file and checking the precision a model file stores. Needs nn.h,
 * tap.h and trainset_fixture.h first. */
#ifndef NET_FIXTURE_H
#define NET_FIXTURE_H
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* x[i] uniform in [-a, a] */
static void fill(sdd_rng_t *r, float *x, size_t n, double a)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)((2 * sdd_rng_uniform(r) - 1) * a);
}

/* The small network of the tests (G 40 with bits, so D 80) and its options for batches of
 * NET_B rows, the first NET_SC with a self-conditioning estimate. */
enum { NET_B = 24, NET_SC = 10, NET_D = 80 };
static void net_fixture(sdd_netshape_t *s, sdd_train_opt_t *o, int precision)
{
    *s = (sdd_netshape_t){.G = 40, .bits = 1, .H = {64, 48, 32, 16}, .F = 96, .E = 32, .n_labels = 0, .D = NET_D};
    sdd_train_opt_init(o);
    o->batch = NET_B;
    o->precision = precision;
}

/* A random batch for it: x_t, estimates, targets (-1 or 0.6) and times. */
typedef struct {
    float *xt, *sc, *x0, t[NET_B];
} net_batch_t;

static void net_batch_make(net_batch_t *b, sdd_rng_t *r)
{
    size_t n = (size_t)NET_B * NET_D;
    b->xt = malloc(sizeof(float) * n);
    b->sc = malloc(sizeof(float) * n);
    b->x0 = malloc(sizeof(float) * n);
    fill(r, b->xt, n, 1.5);
    fill(r, b->sc, n, 1);
    for (size_t i = 0; i < n; i++) b->x0[i] = sdd_rng_uniform(r) < 0.5 ? -1.0f : 0.6f;
    for (int i = 0; i < NET_B; i++) b->t[i] = (float)sdd_rng_uniform(r);
}

static void net_batch_free(net_batch_t *b)
{
    free(b->xt);
    free(b->sc);
    free(b->x0);
}

/* forward + loss + backward with the model's precision: output into out, gradients into g */
static double net_grads(sdd_model_t *m, int B, const float *xt, const float *sc, int n_sc, const float *t,
                        const float *x0, float *out, float *g);

/* The fp32 side of a network test: m initialised, a random batch, its fp32 output o32,
 * gradients g32 and loss L32, and buffers o and g for the path under test. */
typedef struct {
    net_batch_t nb;
    float *o32, *g32, *o, *g;
    double L32;
} net_ref_t;

static void net_ref_make(net_ref_t *r, sdd_model_t *m, sdd_rng_t *rng)
{
    size_t no = (size_t)NET_B * NET_D, ng = (size_t)m->n_params;
    sdd_net_init(m, rng);
    net_batch_make(&r->nb, rng);
    r->o32 = malloc(sizeof(float) * no);
    r->o = malloc(sizeof(float) * no);
    r->g32 = malloc(sizeof(float) * ng);
    r->g = malloc(sizeof(float) * ng);
    m->opt.precision = SDD_PRECISION_FP32;
    r->L32 = net_grads(m, NET_B, r->nb.xt, r->nb.sc, NET_SC, r->nb.t, r->nb.x0, r->o32, r->g32);
}

static void net_ref_free(net_ref_t *r)
{
    net_batch_free(&r->nb);
    free(r->o32);
    free(r->o);
    free(r->g32);
    free(r->g);
}

/* forward + loss + backward with the model's precision: output into out, gradients into g */
static double net_grads(sdd_model_t *m, int B, const float *xt, const float *sc, int n_sc, const float *t,
                        const float *x0, float *out, float *g)
{
    float *dout = malloc(sizeof(float) * B * m->shape.D);
    sdd_net_forward(m, m->params, B, xt, sc, n_sc, t, NULL);
    double L = sdd_mse_loss(m->a.out, x0, B, m->shape.D, m->shape.bits, 1.0, 0.0, dout);
    memcpy(out, m->a.out, sizeof(float) * B * m->shape.D);
    memset(m->grads, 0, sizeof(float) * m->n_params);
    sdd_net_backward(m, B, xt, sc, n_sc, NULL, dout);
    memcpy(g, m->grads, sizeof(float) * m->n_params);
    free(dout);
    return L;
}

/* Four random entries of each of the largest tensors of g (a gradient from some path;
 * g32 the fp32 path's, for the tensor's scale) against central differences of the fp32
 * loss: |g - fd| <= rtol |fd| + stol max|g32 of the tensor|. Leaves m in fp32. */
static void check_fd(sdd_model_t *m, const float *g, const float *g32, int B, const float *xt, const float *sc,
                     int n_sc, const float *t, const float *x0, double rtol, double stol, const char *what,
                     sdd_rng_t *R)
{
    const char *names[] = {"enc.0.l.weight", "o2.weight", "o1.weight", "enc.0.e.weight", "t1.weight"};
    int D = m->shape.D;
    m->opt.precision = SDD_PRECISION_FP32;
    for (int k = 0; k < 5; k++) {
        const sdd_tensor_t *tt = sdd_net_tensor(m, names[k]);
        double gmax = 0;
        for (int64_t i = tt->offset; i < tt->offset + tt->rows * tt->cols; i++) gmax = fmax(gmax, fabs(g32[i]));
        for (int rep = 0; rep < 4; rep++) {
            int64_t i = tt->offset + (int64_t)sdd_rng_below(R, (uint64_t)(tt->rows * tt->cols));
            float w = m->params[i], h = 1e-2f * fmaxf(fabsf(w), 0.1f);
            m->params[i] = w + h;
            sdd_net_forward(m, m->params, B, xt, sc, n_sc, t, NULL);
            double Lp = sdd_mse_loss(m->a.out, x0, B, D, 1, 1.0, 0.0, NULL);
            m->params[i] = w - h;
            sdd_net_forward(m, m->params, B, xt, sc, n_sc, t, NULL);
            double Lm = sdd_mse_loss(m->a.out, x0, B, D, 1, 1.0, 0.0, NULL);
            m->params[i] = w;
            double fd = (Lp - Lm) / (2.0 * (double)h);
            CHECK_MSG(fabs(g[i] - fd) <= rtol * fabs(fd) + stol * gmax + 1e-7,
                      "%s[%lld]: %s backward %.6g, finite difference %.6g", names[k], (long long)(i - tt->offset),
                      what, g[i], fd);
        }
    }
}

static void train_to(const sdd_trainset_t *ts, const sdd_train_opt_t *o, const char *path)
{
    sdd_model_t *m = NULL;
    CHECK(sdd_model_create(ts, o, &m) == 0);
    if (!m) return;
    CHECK(sdd_model_train(m, ts, NULL, NULL) == 0);
    CHECK(sdd_model_save(m, path) == 0);
    sdd_model_destroy(m);
}

/* The training set and small-network options (seed 3, 3 steps, products split in pieces)
 * of the training checks, in the given precision. */
static sdd_trainset_t *train_fixture(sdd_train_opt_t *o, int precision)
{
    static const trainset_fixture_t f = {0, 3, 1000, 1, NULL};
    fixture_small_net(o, 256, 128, 64, 32, 256, 64, 64, 3);
    o->seed = 3;
    o->precision = precision;
    return make_fixture_trainset(200, 100, 0, 5, &f);
}

/* The model file at path stores precision, in the options and in its JSON. */
static void check_stored_precision(const char *path, int precision)
{
    sdd_model_t *m = NULL;
    char want[64];
    snprintf(want, sizeof want, "\"precision\":\"%s\"", sdd_precision_name(precision));
    CHECK(sdd_model_load(path, &m) == 0);
    if (!m) return;
    char *js = sdd_model_json(m);
    CHECK(m->opt.precision == precision);
    CHECK_MSG(js && strstr(js, want) != NULL, "%s does not store %s", path, want);
    free(js);
    sdd_model_destroy(m);
}

#endif
