/* test_bitlogit: the bit-logit parametrisation (model.c): x0-hat bits = bs tanh((L + F)/2)
 * with L = 2 alpha bs y / sigma^2 the log-odds of a bit's own noised value y, and its loss
 * (value half MSE, bit half binary cross-entropy). Checked: the loss against a value
 * computed by hand, d loss / d F against central finite differences in double, and the
 * limits (near t = 0 the bits are read from x_t whatever F says; at t = 1 only F counts),
 * and the float bit kernels (both versions) against tanh and the cross-entropy in double. */
#include "nn.h"
#include "tap.h"
#include "vec.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define B 3
#define G 4
#define D (2 * G)

static void fill(float *F, float *x0, float *xt, float *t, uint64_t seed)
{
    sdd_rng_t r;
    sdd_rng_seed(&r, seed);
    for (int i = 0; i < B; i++) {
        t[i] = (float)(0.15 + 0.7 * sdd_rng_uniform(&r));
        double g = sdd_gamma(t[i]);
        for (int j = 0; j < G; j++) {
            int on = sdd_rng_uniform(&r) < 0.4;
            x0[i * D + j] = on ? (float)(-0.8 + 0.5 * sdd_rng_uniform(&r)) : -1.0f;
            x0[i * D + G + j] = on ? 1.0f : -1.0f;
        }
        for (int j = 0; j < D; j++) {
            xt[i * D + j] = (float)(sqrt(g) * x0[i * D + j] + sqrt(1 - g) * sdd_rng_normal(&r));
            F[i * D + j] = (float)(sdd_rng_normal(&r));
        }
    }
}

static void test_hand_value(void)
{
    /* one row, G = 1: value entry on (x0 v = -0.5, F v = -0.4), bit on */
    float F[2] = {-0.4f, 0.3f}, x0[2] = {-0.5f, 1.0f}, xt[2] = {-0.45f, 0.2f}, t[1] = {0.5f}, d[2];
    double g = sdd_gamma(0.5), L = 2 * sqrt(g) * 0.2f / (1 - g) + 0.3f;
    double want = (0.01 + log1p(exp(-L))) / 2; /* (MSE + BCE) / (B D) */
    double got = sdd_loss_bitlogit(F, x0, xt, t, 1, 2, 1.0, 1.0, 0.0, d);
    CHECK_CLOSE(got, want, 1e-6, 1e-9);
    CHECK_CLOSE(d[0], 2 * (-0.4 + 0.5) / 2, 1e-5, 1e-7);
    CHECK_CLOSE(d[1], (1 / (1 + exp(-L)) - 1) / 2, 1e-5, 1e-7);
    /* value loss masked at a zero entry, bit weight scales the bit half */
    x0[0] = -1.0f, x0[1] = -1.0f;
    got = sdd_loss_bitlogit(F, x0, xt, t, 1, 2, 1.0, 2.0, 0.0, d);
    CHECK_CLOSE(got, 2.0 * (L + log1p(exp(-L))) / 2, 1e-6, 1e-9);
    CHECK(d[0] == 0.0f);
}

static void test_gradient(void)
{
    float F[B * D], x0[B * D], xt[B * D], t[B], d[B * D];
    double worst = 0;
    fill(F, x0, xt, t, 11);
    sdd_loss_bitlogit(F, x0, xt, t, B, D, 1.0, 1.5, 0.25, d);
    for (int k = 0; k < B * D; k++) {
        float keep = F[k], h = 1e-2f;
        double lp, lm, fd;
        F[k] = keep + h;
        lp = sdd_loss_bitlogit(F, x0, xt, t, B, D, 1.0, 1.5, 0.25, NULL);
        F[k] = keep - h;
        lm = sdd_loss_bitlogit(F, x0, xt, t, B, D, 1.0, 1.5, 0.25, NULL);
        F[k] = keep;
        fd = (lp - lm) / (2.0 * (double)h);
        double err = fabs(fd - d[k]) / (fabs(fd) + 1e-4);
        if (err > worst) worst = err;
    }
    CHECK_MSG(worst < 1e-3, "worst relative error of d loss / d F: %g", worst);
}

static void test_limits(void)
{
    float F[B * D], x0[B * D], xt[B * D], t[B], o[B * D];
    fill(F, x0, xt, t, 5);
    for (int i = 0; i < B; i++) t[i] = 0.01f; /* nearly clean: x_t bits are +-1 plus a little noise */
    for (int i = 0; i < B * D; i++) {
        xt[i] = x0[i] + 0.01f * (float)((i % 3) - 1);
        o[i] = 5.0f * (float)((i % 2) ? 1 : -1); /* the network disagrees strongly */
    }
    sdd_bitlogit_apply(o, xt, t, B, D, 1.0);
    for (int i = 0; i < B; i++)
        for (int j = G; j < D; j++) CHECK_CLOSE(o[i * D + j], x0[i * D + j], 0, 1e-5);
    for (int i = 0; i < B; i++) t[i] = 1.0f; /* gamma(1) ~ 0: only F counts */
    for (int i = 0; i < B * D; i++) o[i] = 0.7f;
    sdd_bitlogit_apply(o, xt, t, B, D, 1.0);
    for (int i = 0; i < B; i++) {
        CHECK(o[i * D] == 0.7f); /* the value half is left alone */
        CHECK_CLOSE(o[i * D + G], tanh(0.35), 1e-3, 1e-6); /* gamma(1) is 6e-9, not 0 */
    }
}

/* sdd_vec_bitlogit, AVX2 and portable, against bs tanh((clamp(k x) + o) / 2) in double:
 * logits from -80 to 80 (the clamp included), near 0, odd lengths for the vector tails */
static void test_vec_kernel(void)
{
    enum { N = 1003 };
    static float x[N], o[N], got[N];
    const float k = 7.5f, bs = 0.8f;
    sdd_rng_t r;
    sdd_rng_seed(&r, 3);
    for (int portable = 0; portable < 2; portable++) {
        double worst = 0;
        sdd_vec_force_portable(portable);
        for (int i = 0; i < N; i++) {
            x[i] = (float)(i < 20 ? 1e-4 * (i - 10) : 10.0 * (2 * sdd_rng_uniform(&r) - 1));
            o[i] = got[i] = (float)(i < 20 ? 1e-5 * i : 3.0 * sdd_rng_normal(&r));
        }
        sdd_vec_bitlogit(got, x, N, k, bs);
        for (int i = 0; i < N; i++) {
            double l = (double)k * x[i], e;
            l = l > 60 ? 60 : l < -60 ? -60 : l;
            e = fabs(got[i] - bs * tanh(0.5 * (l + o[i])));
            worst = e > worst ? e : worst;
        }
        CHECK_MSG(worst <= 4e-7, "%s: worst error %.3g", portable ? "portable" : "vector", worst);
    }
    sdd_vec_force_portable(0);
}

/* sdd_vec_bitbce, AVX2 and portable, against the cross-entropy and its derivative in
 * double: logits from -80 to 80 (the clamp included), near 0 (where log1p(exp(-|L|)) has
 * all its digits), tiny and huge exp(-|L|), both bit values, odd lengths for the tails */
static void test_bce_kernel(void)
{
    enum { N = 1003 };
    static float y[N], o[N], bit[N], d[N];
    const float k = 7.5f, ds = 0.37f;
    sdd_rng_t r;
    sdd_rng_seed(&r, 9);
    for (int portable = 0; portable < 2; portable++) {
        for (int n = N; n >= N - 7; n -= 7) { /* two lengths: 1003 and 996 (no tail) */
            double want = 0, worst_d = 0, got;
            sdd_vec_force_portable(portable);
            for (int i = 0; i < n; i++) {
                y[i] = (float)(i < 20 ? 1e-4 * (i - 10) : 10.0 * (2 * sdd_rng_uniform(&r) - 1));
                o[i] = (float)(i < 20 ? 1e-5 * i : 3.0 * sdd_rng_normal(&r));
                bit[i] = sdd_rng_uniform(&r) < 0.3 ? 1.0f : -1.0f;
                double l = (double)k * y[i], on = bit[i] > 0;
                l = (l > 60 ? 60 : l < -60 ? -60 : l) + o[i];
                want += log1p(exp(-fabs(l))) + fmax(on ? -l : l, 0);
            }
            got = sdd_vec_bitbce(d, o, y, bit, (size_t)n, k, ds);
            for (int i = 0; i < n; i++) {
                double l = (double)k * y[i], on = bit[i] > 0;
                l = (l > 60 ? 60 : l < -60 ? -60 : l) + o[i];
                double e = fabs(d[i] - ds * (1 / (1 + exp(-l)) - on));
                worst_d = e > worst_d ? e : worst_d;
            }
            CHECK_MSG(fabs(got - want) <= 3e-7 * want, "%s n=%d: loss %.9g, in double %.9g",
                      portable ? "portable" : "vector", n, got, want);
            CHECK_MSG(worst_d <= 1e-7, "%s n=%d: worst derivative error %.3g", portable ? "portable" : "vector", n,
                      worst_d);
            /* d may alias o */
            memcpy(d, o, sizeof o);
            double again = sdd_vec_bitbce(d, d, y, bit, (size_t)n, k, ds);
            CHECK(again == got);
        }
    }
    sdd_vec_force_portable(0);
}

int main(void)
{
    test_vec_kernel();
    test_bce_kernel();
    test_hand_value();
    test_gradient();
    test_limits();
    return tap_done();
}
