/* net_fixture.h: what the tests of the network's reduced-precision paths share: one
 * forward + loss + backward, a few gradient entries against central differences of the
 * fp32 loss, and training a model to a file. Needs nn.h and tap.h first. */
#ifndef NET_FIXTURE_H
#define NET_FIXTURE_H
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

#endif
