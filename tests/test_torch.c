/* test_torch: the C network against a PyTorch dump of the identical network
 * (tests/data/torch_fixture.txt, written by tests/make_torch_fixture.py): weights and
 * inputs come from a hash formula both sides compute, and the outputs, the loss, every
 * parameter tensor's gradient (sampled entries) and the weights and EMA weights after 10
 * steps of clipping + Adam + EMA must agree. Tolerances: outputs and gradients 1e-4
 * relative (entries below 5% of their tensor's largest compared at that floor); the
 * 10-step weight updates 5e-3 relative to the update (Adam divides by the running gradient
 * scale, so a gradient's float32 rounding carries over to its update one to one; 1e-6
 * relative to the weights). Fails when the fixture is missing. */
#include "nn.h"
#include "tap.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>

static uint32_t name_hash(const char *s)
{
    uint32_t h = 0;
    for (; *s; s++) h = h * 31u + (unsigned char)*s;
    return h;
}

static void hash_fill(float *x, int64_t n, const char *name, double lo, double hi)
{
    uint64_t h = name_hash(name);
    for (int64_t i = 0; i < n; i++) {
        uint64_t z = (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL + h;
        z ^= z >> 31;
        z *= 0xBF58476D1CE4E5B9ULL;
        z ^= z >> 29;
        x[i] = (float)(lo + (hi - lo) * ((double)(z >> 11) * 0x1.0p-53));
    }
}

static void set_weights(sdd_model_t *m)
{
    for (int i = 0; i < m->n_tensors; i++) {
        const sdd_tensor_t *t = &m->table[i];
        float *w = m->params + t->offset;
        int64_t n = t->rows * t->cols;
        size_t L = strlen(t->name);
        int ln = strstr(t->name, ".n.") || !strncmp(t->name, "on.", 3);
        if (ln && strstr(t->name, "weight")) hash_fill(w, n, t->name, 0.5, 1.5);
        else if (ln) hash_fill(w, n, t->name, -0.5, 0.5);
        else if (!strcmp(t->name, "label.weight")) hash_fill(w, n, t->name, -1, 1);
        else {
            char wn[40];
            const sdd_tensor_t *wt = t;
            if (L > 5 && !strcmp(t->name + L - 5, ".bias")) {
                snprintf(wn, sizeof wn, "%.*sweight", (int)(L - 4), t->name);
                wt = sdd_net_tensor(m, wn);
            }
            double b = 1.0 / sqrt((double)wt->cols);
            hash_fill(w, n, t->name, -b, b);
        }
    }
    memcpy(m->ema, m->params, sizeof(float) * m->n_params);
}

/* Compare "name n k i:v ..." entries of `blob` (offset by base, if given) with the file. */
static double compare_line(FILE *f, const sdd_model_t *m, const float *blob, const float *base,
                           const char *tag, double rtol, double stol)
{
    char name[64];
    long long n, k, idx;
    double v, worst = 0;
    if (fscanf(f, "%63s %lld %lld", name, &n, &k) != 3) return -1;
    const sdd_tensor_t *t = sdd_net_tensor(m, name);
    CHECK_MSG(t && t->rows * t->cols == n, "%s: tensor %s missing or of another size", tag, name);
    if (!t) return -1;
    double *ref = malloc(sizeof(double) * k), *got = malloc(sizeof(double) * k), scale = 0;
    long long *idx_of = malloc(sizeof(long long) * k);
    for (long long j = 0; j < k; j++) {
        if (fscanf(f, "%lld:%lf", &idx, &v) != 2) return -1;
        ref[j] = v;
        idx_of[j] = idx;
        got[j] = blob[t->offset + idx] - (base ? base[t->offset + idx] : 0.0f);
        scale = fmax(scale, fabs(v));
    }
    for (long long j = 0; j < k; j++) {
        /* relative to the entry, floored at stol of the tensor's largest entry; a weight
         * update also allows 8 float32 roundings of the weight itself (10 steps on a
         * weight near 1 move it by ~1e-4 in steps of 6e-8) */
        double fl = base ? 8 * FLT_EPSILON * fabs(base[t->offset + idx_of[j]]) : 0;
        double err = fabs(got[j] - ref[j]) / (fmax(fabs(ref[j]), stol * scale) + 1e-30);
        if (fabs(got[j] - ref[j]) <= fl) err = 0;
        worst = fmax(worst, err);
        CHECK_MSG(err <= rtol, "%s %s[%lld]: C %.9g, torch %.9g", tag, name, j, got[j], ref[j]);
    }
    free(ref);
    free(got);
    free(idx_of);
    return worst;
}

static int run_config(FILE *f)
{
    char name[32], tag[32];
    sdd_netshape_t s = {0};
    sdd_train_opt_t o;
    sdd_model_t *m = NULL;
    int B, n_sc;
    double bw, wz, loss_ref, worst_g = 0, worst_p = 0, worst_e = 0, worst_o = 0;
    if (fscanf(f, " config %31s %lld %d %d %d %d %d %d %d %d %d %d %lf %lf", name, (long long *)&s.G,
               &s.bits, &s.H[0], &s.H[1], &s.H[2], &s.H[3], &s.F, &s.E, &s.n_labels, &B, &n_sc, &bw,
               &wz) != 14)
        return 0;
    s.D = (int)(s.bits ? 2 * s.G : s.G);
    int D = s.D;
    sdd_train_opt_init(&o);
    o.batch = B;
    CHECK(sdd_model_alloc(&m, &s, &o) == 0);
    set_weights(m);
    float *p0 = malloc(sizeof(float) * m->n_params), *xt = malloc(sizeof(float) * B * D);
    float *sc = malloc(sizeof(float) * B * D), *x0 = malloc(sizeof(float) * B * D), *t = malloc(sizeof(float) * B);
    float *dout = malloc(sizeof(float) * B * D);
    int32_t *lab = malloc(sizeof(int32_t) * B);
    char nm[64];
    memcpy(p0, m->params, sizeof(float) * m->n_params);
    snprintf(nm, sizeof nm, "%s.xt", name); hash_fill(xt, (int64_t)B * D, nm, -2, 2);
    snprintf(nm, sizeof nm, "%s.sc", name); hash_fill(sc, (int64_t)B * D, nm, -1, 1);
    snprintf(nm, sizeof nm, "%s.t", name); hash_fill(t, B, nm, 0, 1);
    snprintf(nm, sizeof nm, "%s.x0", name); hash_fill(x0, (int64_t)B * D, nm, 0, 1);
    for (int i = 0; i < B * D; i++) x0[i] = x0[i] < 0.4f ? -1.0f : 0.7f;
    for (int r = 0; r < B; r++) lab[r] = s.n_labels ? r % (s.n_labels + 1) : 0;
    for (int k = 0; k < 10; k++) {
        sdd_net_forward(m, m->params, B, xt, sc, n_sc, t, s.n_labels ? lab : NULL);
        double loss = sdd_mse_loss(m->a.out, x0, B, D, s.bits, bw, wz, dout);
        memset(m->grads, 0, sizeof(float) * m->n_params);
        sdd_net_backward(m, B, xt, sc, n_sc, s.n_labels ? lab : NULL, dout);
        if (k == 0) {
            double v;
            CHECK(fscanf(f, " array out") == 0);
            for (int i = 0; i < B * D; i++) {
                CHECK(fscanf(f, "%lf", &v) == 1);
                worst_o = fmax(worst_o, fabs(m->a.out[i] - v) / (fabs(v) + 1e-2));
                CHECK_CLOSE(m->a.out[i], v, 1e-4, 1e-6);
            }
            CHECK(fscanf(f, " loss %lf", &loss_ref) == 1);
            CHECK_CLOSE(loss, loss_ref, 1e-5, 0);
            for (int ti = 0; ti < m->n_tensors; ti++) {
                CHECK(fscanf(f, " %31s", tag) == 1 && !strcmp(tag, "grad"));
                worst_g = fmax(worst_g, compare_line(f, m, m->grads, NULL, "grad", 1e-4, 5e-2));
            }
        }
        sdd_optim_step(m->params, m->grads, m->adam_m, m->adam_v, m->ema, m->n_params, 1.0, 1e-3, k + 1,
                       0.9999);
    }
    for (int ti = 0; ti < m->n_tensors; ti++) {
        CHECK(fscanf(f, " %31s", tag) == 1 && !strcmp(tag, "param10"));
        worst_p = fmax(worst_p, compare_line(f, m, m->params, p0, "param10", 5e-3, 5e-2));
    }
    for (int ti = 0; ti < m->n_tensors; ti++) {
        CHECK(fscanf(f, " %31s", tag) == 1 && !strcmp(tag, "ema10"));
        worst_e = fmax(worst_e, compare_line(f, m, m->ema, p0, "ema10", 5e-3, 5e-2));
    }
    CHECK(fscanf(f, " %31s", tag) == 1 && !strcmp(tag, "end"));
    fprintf(stderr, "%s: %lld parameters; worst relative difference: output %.2g, gradient %.2g, "
            "10-step update %.2g, EMA update %.2g\n", name, (long long)m->n_params, worst_o, worst_g,
            worst_p, worst_e);
    free(p0); free(xt); free(sc); free(x0); free(t); free(dout); free(lab);
    sdd_model_destroy(m);
    return 1;
}

int main(void)
{
    const char *src = getenv("SDD_SRCDIR");
    char path[4096];
    FILE *f;
    int n = 0;
    snprintf(path, sizeof path, "%s/tests/data/torch_fixture.txt", src ? src : "..");
    if (!(f = fopen(path, "r"))) {
        fprintf(stderr, "%s is missing\n", path);
        return 1;
    }
    sdd_set_threads(1);
    if (fscanf(f, "#%*[^\n]") != 0) return 1;
    while (run_config(f)) n++;
    fclose(f);
    CHECK(n == 3);
    return tap_done();
}
