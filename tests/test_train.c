/* test_train: training on a synthetic training set. Loss goes down; data encoding and
 * stored scaling constants against direct computation; checkpoints round-trip; damaged,
 * truncated and other-version files are refused with a clear message; the same seed gives
 * a bit-identical model with 1 and 2 BLAS threads; an interrupted and resumed run equals
 * the uninterrupted one bit for bit. */
#include "nn.h"
#include "sample_internal.h"
#include "tap.h"
#include "trainset_fixture.h"
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[4096];

static sdd_trainset_t *make_trainset(int64_t n, int64_t G, int n_labels, uint64_t seed)
{
    static const trainset_fixture_t f = {0, 3, 1000, 1, "{\"n_top_genes\": 40, \"flavor\": \"seurat\"}"};
    return make_fixture_trainset(n, G, n_labels, seed, &f);
}

static void small_opt(sdd_train_opt_t *o)
{
    fixture_small_net(o, 32, 32, 16, 8, 64, 32, 16, 0);
    o->lr = 1e-3;
    o->value_mask = 0; /* the plain x0 loss: these tests measure it, whatever the default */
    o->precond = 0;
    o->seed = 7;
}

typedef struct {
    double first, last;
    int64_t stop_at;
    int n;
} prog_t;

static int progress(const char *stage, int64_t done, int64_t total, const char *status, void *user)
{
    prog_t *p = user;
    double loss = atof(status + 5);
    if (done <= 20) p->first += loss / 20;
    if (done > total - 20) p->last += loss / 20;
    p->n++;
    return p->stop_at > 0 && done == p->stop_at;
}

/* Every stored value is a valid log1p value of its gene ([m_g, M]); zeros are exact (not
 * stored); the sparsity is near the data's; same seed, same cells. */
static void test_sampling(sdd_model_t *m, const sdd_trainset_t *ts)
{
    sdd_sample_opt_t so;
    sdd_csr_t X, Y;
    int32_t lab[200];
    double real_zero = 1.0 - (double)ts->X.nnz / (double)(ts->n_cells * ts->G);
    sdd_sample_opt_init(&so);
    so.n_cells = 200;
    so.steps = 20;
    so.seed = 3;
    for (int mode = 0; mode < 4; mode++) {
        so.sampler = mode & 1 ? SDD_SAMPLER_DDPM : SDD_SAMPLER_DDIM;
        so.bit_decode = mode & 2 ? SDD_BITS_BERNOULLI : SDD_BITS_THRESHOLD;
        CHECK(sdd_model_sample(m, &so, &X, lab, NULL, NULL) == 0);
        CHECK(X.n_rows == 200 && X.n_cols == ts->G && sdd_csr_validate(&X, "sample") == 0);
        int bad = 0;
        for (int64_t i = 0; i < X.n_rows; i++)
            for (int64_t k = X.indptr[i]; k < X.indptr[i + 1]; k++) {
                int j = X.indices[k];
                bad += !(X.data[k] >= m->mg[j] && X.data[k] <= (float)m->M && X.data[k] > 0);
            }
        CHECK_MSG(bad == 0, "%d values outside [m_g, M]", bad);
        double zero = 1.0 - (double)X.nnz / (double)(X.n_rows * X.n_cols);
        CHECK_MSG(fabs(zero - real_zero) < 0.15, "mode %d: synthetic zeros %.3f, real %.3f", mode, zero, real_zero);
        int counts[3] = {0};
        for (int i = 0; i < 200; i++) {
            CHECK(lab[i] >= 0 && lab[i] < 3);
            counts[(lab[i] % 3 + 3) % 3]++;
        }
        CHECK(counts[0] > 40 && counts[1] > 40 && counts[2] > 40); /* training proportions 1/3 each */
        if (mode == 0) {
            CHECK(sdd_model_sample(m, &so, &Y, NULL, NULL, NULL) == 0);
            CHECK(Y.nnz == X.nnz && !memcmp(Y.data, X.data, sizeof(float) * (size_t)X.nnz));
            sdd_csr_free(&Y);
        }
        sdd_csr_free(&X);
    }
    /* conditional: cells of label 0 express genes 0, 3, 6, ... more often, as in training */
    int32_t want[200];
    for (int i = 0; i < 200; i++) want[i] = 0;
    so.labels = want;
    so.bit_decode = SDD_BITS_THRESHOLD;
    so.guidance = 2.0;
    CHECK(sdd_model_sample(m, &so, &X, NULL, NULL, NULL) == 0);
    int64_t on[3] = {0};
    for (int64_t k = 0; k < X.nnz; k++) on[X.indices[k] % 3]++;
    CHECK_MSG(on[0] > 2 * on[1] && on[0] > 2 * on[2], "label 0: %lld %lld %lld", (long long)on[0],
              (long long)on[1], (long long)on[2]);
    sdd_csr_free(&X);
    want[7] = 9;
    CHECK(sdd_model_sample(m, &so, &X, NULL, NULL, NULL) == SDD_EINVAL);
}

static void test_learning_and_metadata(void)
{
    sdd_trainset_t *ts = make_trainset(96, 30, 3, 1);
    sdd_train_opt_t o;
    sdd_model_t *m = NULL, *l = NULL;
    prog_t p = {0};
    char path[4200];
    small_opt(&o);
    o.steps = 300;
    CHECK(sdd_model_create(ts, &o, &m) == 0);
    CHECK(sdd_model_train(m, ts, progress, &p) == 0);
    CHECK(p.n == 300 && sdd_model_step(m) == 300);
    CHECK_MSG(p.last < 0.5 * p.first, "loss %g -> %g", p.first, p.last);
    /* scaling constants against a direct pass over the matrix */
    double M = 0;
    for (int64_t j = 0; j < ts->G; j++) {
        double mx = 0, mn = INFINITY;
        for (int64_t i = 0; i < ts->n_cells; i++)
            for (int64_t k = ts->X.indptr[i]; k < ts->X.indptr[i + 1]; k++)
                if (ts->X.indices[k] == j) mx = fmax(mx, ts->X.data[k]), mn = fmin(mn, ts->X.data[k]);
        CHECK(m->Mg[j] == (float)mx && m->mg[j] == (float)mn);
        M = fmax(M, mx);
    }
    CHECK(m->M == M);
    /* encoding of cell 0: v = 2x/M - 1, bits +-1 */
    float *x0 = malloc(sizeof(float) * 60);
    int64_t i0 = 0;
    sdd_encode_rows(m, &ts->X, &i0, 1, x0);
    for (int64_t k = ts->X.indptr[0]; k < ts->X.indptr[1]; k++) {
        int j = ts->X.indices[k];
        CHECK_CLOSE(x0[j], 2 * ts->X.data[k] / M - 1, 1e-6, 1e-7);
        CHECK(x0[30 + j] == 1.0f);
    }
    int zeros = 0;
    for (int j = 0; j < 30; j++) zeros += x0[30 + j] == -1.0f && x0[j] == -1.0f;
    CHECK(zeros == 30 - (int)(ts->X.indptr[1] - ts->X.indptr[0]));
    free(x0);
    test_sampling(m, ts);
    /* save, load: identical state and metadata */
    snprintf(path, sizeof path, "%s/m.sdd", tmpdir);
    CHECK(sdd_model_save(m, path) == 0);
    CHECK(sdd_model_load(path, &l) == 0);
    if (l) {
        char *ja = sdd_model_json(m), *jb = sdd_model_json(l);
        CHECK(!strcmp(ja, jb));
        CHECK(strstr(ja, "\"gene29\"") && strstr(ja, "\"type2\"") && strstr(ja, "\"flavor\":\"seurat\""));
        CHECK(!memcmp(m->params, l->params, sizeof(float) * m->n_params));
        CHECK(!memcmp(m->ema, l->ema, sizeof(float) * m->n_params));
        CHECK(!memcmp(m->adam_v, l->adam_v, sizeof(float) * m->n_params));
        CHECK(l->step == 300 && !memcmp(&l->rng, &m->rng, sizeof l->rng));
        CHECK(l->n_lib == 96 && l->lib_sizes[5] == 1005);
        free(ja);
        free(jb);
    }
    sdd_model_destroy(l);
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
}

static void corrupt(const char *src, const char *dst, long at, int byte, long truncate_to, int append)
{
    FILE *f = fopen(src, "rb"), *g = fopen(dst, "wb");
    long i = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        if (truncate_to >= 0 && i >= truncate_to) break;
        putc(i == at ? byte : c, g);
        i++;
    }
    if (append) putc(0, g);
    fclose(f);
    fclose(g);
}

static void expect_refused(const char *path, const char *words)
{
    sdd_model_t *m = NULL;
    int rc = sdd_model_load(path, &m);
    CHECK_MSG(rc == SDD_EFORMAT && strstr(sdd_errdetail(), words), "rc %d, detail '%s', wanted '%s'",
              rc, sdd_errdetail(), words);
    CHECK(m == NULL);
}

static void test_damaged(void)
{
    char good[4200], bad[4200];
    snprintf(good, sizeof good, "%s/m.sdd", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.sdd", tmpdir);
    corrupt(good, bad, 0, 'X', -1, 0);
    expect_refused(bad, "wrong magic");
    corrupt(good, bad, 8, 7, -1, 0);
    expect_refused(bad, "format version 7");
    corrupt(good, bad, -1, 0, 5000, 0);
    expect_refused(bad, "truncated");
    corrupt(good, bad, -1, 0, -1, 1);
    expect_refused(bad, "damaged");
    corrupt(good, bad, 20000, 0x55, -1, 0);
    expect_refused(bad, "checksum");
    sdd_model_t *m = NULL;
    CHECK(sdd_model_load("/nonexistent/x.sdd", &m) == SDD_EIO);
    remove(bad);
}

static void train_to(const sdd_trainset_t *ts, const sdd_train_opt_t *o, const char *path,
                     int64_t stop_at)
{
    sdd_model_t *m = NULL;
    prog_t p = {0};
    p.stop_at = stop_at;
    CHECK(sdd_model_create(ts, o, &m) == 0);
    int rc = sdd_model_train(m, ts, progress, &p);
    CHECK(rc == (stop_at > 0 ? SDD_EINTR : 0));
    CHECK(sdd_model_save(m, path) == 0);
    sdd_model_destroy(m);
    if (stop_at > 0) { /* resume from the file */
        CHECK(sdd_model_load(path, &m) == 0);
        CHECK(m && sdd_model_step(m) == stop_at);
        if (!m) return;
        CHECK(sdd_model_train(m, ts, NULL, NULL) == 0);
        CHECK(sdd_model_save(m, path) == 0);
        sdd_model_destroy(m);
    }
}

static void test_determinism(void)
{
    char a[4200], b[4200], c[4200];
    sdd_trainset_t *ts = make_trainset(300, 120, 0, 2);
    sdd_train_opt_t o;
    sdd_train_opt_init(&o); /* default widths: products large enough for OpenBLAS to split */
    o.batch = 64;
    o.steps = 4;
    o.seed = 11;
    snprintf(a, sizeof a, "%s/t1.sdd", tmpdir);
    snprintf(b, sizeof b, "%s/t2.sdd", tmpdir);
    snprintf(c, sizeof c, "%s/r.sdd", tmpdir);
    sdd_set_threads(1);
    train_to(ts, &o, a, 0);
    sdd_set_threads(2);
    train_to(ts, &o, b, 0);
    CHECK_MSG(same_file(a, b), "1 and 2 threads give different models");
    train_to(ts, &o, c, 2);
    CHECK_MSG(same_file(a, c), "interrupted + resumed differs from uninterrupted");
    sdd_set_threads(1);
    /* a conditional small model with periodic checkpoints, interrupted and resumed */
    sdd_trainset_destroy(ts);
    ts = make_trainset(80, 20, 2, 3);
    small_opt(&o);
    o.steps = 25;
    train_to(ts, &o, a, 0);
    o.checkpoint_every = 5;
    o.checkpoint_path = b;
    train_to(ts, &o, c, 13);
    o.checkpoint_every = 0;
    o.checkpoint_path = NULL;
    CHECK(!same_file(a, c)); /* the stored options differ (checkpoint_every) ... */
    sdd_model_t *m1 = NULL, *m2 = NULL;
    CHECK(sdd_model_load(a, &m1) == 0 && sdd_model_load(c, &m2) == 0);
    if (m1 && m2) { /* ... but the state is the same */
        CHECK(!memcmp(m1->params, m2->params, sizeof(float) * m1->n_params));
        CHECK(!memcmp(m1->ema, m2->ema, sizeof(float) * m1->n_params));
        CHECK(!memcmp(m1->adam_m, m2->adam_m, sizeof(float) * m1->n_params));
        CHECK(!memcmp(&m1->rng, &m2->rng, sizeof m1->rng));
    }
    sdd_model_destroy(m1);
    sdd_model_destroy(m2);
    CHECK(sdd_model_load(b, &m1) == 0 && m1 && sdd_model_step(m1) == 10); /* last periodic save */
    sdd_model_destroy(m1);
    sdd_trainset_destroy(ts);
    remove(a);
    remove(b);
    remove(c);
}

static void test_options(void)
{
    sdd_train_opt_t o;
    sdd_train_opt_init(&o);
    CHECK(sdd_train_opt_check(&o) == 0);
    o.lr = 0;
    CHECK(sdd_train_opt_check(&o) == SDD_EINVAL && strstr(sdd_errdetail(), "learning rate"));
    sdd_train_opt_init(&o);
    o.emb = 511;
    CHECK(sdd_train_opt_check(&o) == SDD_EINVAL);
    CHECK(sdd_train_default_steps(1000, 256) == 586);     /* 150 epochs: ceil(150000/256) */
    CHECK(sdd_train_default_steps(500, 256) == 500);      /* ceil(75000/256) = 293 -> 500 */
    CHECK(sdd_train_default_steps(2025, 256) == 1187);    /* ceil(303750/256) */
    CHECK(sdd_train_default_steps(2700, 256) == 1200);    /* ceil(405000/256) = 1583 -> 1200 */
    CHECK(sdd_train_default_steps(1000000, 256) == 1200);
    /* simulate's sampling steps: 100 up to 4500 cells, then 450000 / cells, at least 20 */
    CHECK(sdd_sample_default_steps(1) == 100 && sdd_sample_default_steps(4500) == 100);
    CHECK(sdd_sample_default_steps(4501) == 99 && sdd_sample_default_steps(8921) == 50);
    CHECK(sdd_sample_default_steps(22500) == 20 && sdd_sample_default_steps(10000000) == 20);
}

/* A batch's gradient computed in 4 slices (each slice's mean gradient / 4, summed
 * pairwise) is the whole batch's up to rounding: Adam's first moment after one step,
 * (1 - b1) g, agrees between the two; the slice count must divide the batch, and
 * processes must divide the slices. */
static void test_slices(void)
{
    sdd_trainset_t *ts = make_trainset(120, 30, 2, 4);
    sdd_train_opt_t o;
    sdd_model_t *m[2] = {NULL, NULL};
    int64_t idx[32];
    int32_t lab[32];
    float *x0 = NULL, *scratch[2] = {NULL, NULL};
    double loss[2] = {0, 0}, worst = 0, big = 0;
    small_opt(&o);
    o.batch = 32;
    o.steps = 5;
    o.self_cond = 0.4; /* the self-conditioned rows end inside a slice */
    for (int k = 0; k < 2; k++) {
        o.grad_slices = k ? 4 : 1;
        CHECK(sdd_model_create(ts, &o, &m[k]) == 0);
    }
    if (!m[0] || !m[1]) goto done;
    x0 = malloc(sizeof(float) * 32 * m[0]->shape.D);
    for (int k = 0; k < 2; k++) scratch[k] = malloc(sizeof(float) * sdd_train_scratch_floats(m[k], 32));
    for (int r = 0; r < 32; r++) idx[r] = (r * 7) % ts->n_cells, lab[r] = ts->labels[idx[r]];
    sdd_encode_rows(m[0], &ts->X, idx, 32, x0);
    for (int k = 0; k < 2; k++) CHECK(sdd_train_step(m[k], x0, lab, 32, scratch[k], &loss[k]) == 0);
    for (int64_t i = 0; i < m[0]->n_params; i++) {
        double d = fabs((double)m[0]->adam_m[i] - m[1]->adam_m[i]);
        worst = d > worst ? d : worst;
        big = fabs(m[0]->adam_m[i]) > big ? fabs(m[0]->adam_m[i]) : big;
    }
    CHECK_MSG(big > 0 && worst <= 1e-4 * big, "sliced gradient differs by %g (largest %g)", worst, big);
    CHECK_MSG(fabs(loss[0] - loss[1]) <= 1e-5 * fabs(loss[0]), "loss %g whole, %g sliced", loss[0], loss[1]);
    CHECK(sdd_model_set_parallel(m[1], 0, 3, NULL, NULL) == SDD_EINVAL); /* not a power of two */
    CHECK(sdd_model_set_parallel(m[1], 0, 8, NULL, NULL) == SDD_EINVAL); /* more than the slices */
    CHECK(sdd_model_set_parallel(m[1], 0, 1, NULL, NULL) == 0);
    o.grad_slices = 3;
    CHECK(sdd_train_opt_check(&o) == SDD_EINVAL);
    o.grad_slices = 64; /* more than the batch of 32 */
    CHECK(sdd_train_opt_check(&o) == SDD_EINVAL);
done:
    free(x0);
    free(scratch[0]);
    free(scratch[1]);
    sdd_model_destroy(m[0]);
    sdd_model_destroy(m[1]);
    sdd_trainset_destroy(ts);
}

/* The validation rule (validation.c): which cells are set aside, and the rule itself on
 * a hand-made sequence of losses. */
static void test_validation(void)
{
    sdd_trainset_t *ts = make_trainset(600, 12, 2, 5), *big = make_trainset(8000, 4, 0, 6);
    sdd_train_opt_t o;
    sdd_model_t *m = NULL, *mb = NULL;
    sdd_valset_t v = {0}, w = {0};
    int64_t per[2] = {0, 0}, tot[2] = {0, 0};
    small_opt(&o);
    o.validation = 0.1;
    CHECK(sdd_model_create(ts, &o, &m) == 0 && m);
    if (!m) goto done;
    /* 60 of 600 cells, disjoint from the 540 fitted, both in file order, 30 of each label */
    CHECK(sdd_valset_make(m, ts, &v) == 0 && v.n_val == 60 && v.n_fit == 540);
    if (v.n_val == 60 && v.n_fit == 540) {
        int64_t a = 0, b = 0, ok = 1;
        for (int64_t i = 0; i < 600; i++) {
            int in_v = a < 60 && v.val[a] == i, in_f = b < 540 && v.fit[b] == i;
            ok &= in_v + in_f == 1;
            a += in_v;
            b += in_f;
            tot[ts->labels[i]]++;
            if (in_v) per[ts->labels[i]]++;
        }
        CHECK_MSG(ok, "validation and fitted cells must split the cells");
        CHECK_MSG(per[0] == (tot[0] + 5) / 10 && per[1] == (tot[1] + 5) / 10, "stratified: %lld of %lld, %lld of %lld",
                  (long long)per[0], (long long)tot[0], (long long)per[1], (long long)tot[1]);
        CHECK(sdd_valset_make(m, ts, &w) == 0 && w.n_val == 60 && !memcmp(v.val, w.val, 60 * sizeof *v.val));
    }
    sdd_valset_free(&w);
    m->opt.seed = 8; /* another seed, other cells */
    CHECK(sdd_valset_make(m, ts, &w) == 0 && w.n_val == 60 && memcmp(v.val, w.val, 60 * sizeof *v.val));
    sdd_valset_free(&w);
    m->opt.validation = 0.05; /* 30 cells: too few, none */
    CHECK(sdd_valset_make(m, ts, &w) == 0 && w.n_val == 0 && !w.val && !w.fit);
    o.validation = 0.2; /* 1600 of 8000 capped at 250 */
    CHECK(sdd_model_create(big, &o, &mb) == 0 && mb && sdd_valset_make(mb, big, &w) == 0 && w.n_val == 250 &&
          w.n_fit == 7750);
    sdd_valset_free(&w);
    /* the rule, tolerance 1 %, patience 2; the EMA weights carry the step as a marker */
    m->opt.val_tol = 0.01;
    m->opt.patience = 2;
    static const double loss[] = {1.0, 0.9, 0.905, 0.95, 0.8, 0.85, 0.86};
    static const int want[] = {0, 0, 0, 0, 0, 0, 1}, kept[] = {10, 20, 30, 30, 50, 50, 50};
    for (int k = 0; k < 7; k++) {
        m->step = 10 * (k + 1);
        for (int64_t i = 0; i < m->n_params; i++) m->ema[i] = (float)m->step;
        int r = sdd_val_check(m, loss[k]);
        CHECK_MSG(r == want[k] && m->val.kept_step == kept[k], "check %d: %d, kept step %lld", k, r,
                  (long long)m->val.kept_step);
    }
    CHECK(m->val.stopped == 70 && m->val.best_step == 50 && m->val.best_loss == 0.8 && m->val.kept_loss == 0.8);
    CHECK_MSG(m->ema[0] == 50.0f && m->ema[m->n_params - 1] == 50.0f && !m->kept,
              "the kept weights (step 50) become the EMA weights");
    CHECK(sdd_model_train(m, ts, NULL, NULL) == 0 && m->step == 70); /* a stopped run trains no further */
    o.validation = 0.6;
    CHECK(sdd_train_opt_check(&o) == SDD_EINVAL && strstr(sdd_errdetail(), "validation"));
done:
    sdd_valset_free(&v);
    sdd_model_destroy(m);
    sdd_model_destroy(mb);
    sdd_trainset_destroy(ts);
    sdd_trainset_destroy(big);
}

int main(void)
{
    if (scratch_dir(tmpdir, sizeof tmpdir, "test_train")) return 1;
    sdd_set_threads(1);
    test_options();
    test_learning_and_metadata();
    test_damaged();
    test_determinism();
    test_slices();
    test_validation();
    char p[4200];
    snprintf(p, sizeof p, "%s/m.sdd", tmpdir);
    remove(p);
    rmdir(tmpdir);
    return tap_done();
}
