/*
 * model.c: the denoiser of SPEC section 2, a skip-connected MLP (scDiffusion backbone),
 * with its hand-written backward pass.
 *
 *   emb = t2(SiLU(t1(sinusoid(1000 t)))) [+ label[y]]      sinusoid: cos(a f_k) | sin(a f_k),
 *                                                          f_k = exp(-ln(1e4) k / (E/2))
 *   RB(I,O)(x) = SiLU(LN(W x + b + We SiLU(emb) + be)),   LN eps 1e-5, affine
 *   h0..h3 = RB chain down, u4..u6 = RB chain up plus skips h2, h1, h0,
 *   out = o2(SiLU(LN(o1(u6)))).
 *
 * Layout (llm.c style): one table of {name, rows, cols} fixes every tensor's offset in
 * one contiguous float blob; gradients, Adam moments and EMA weights are blobs of the
 * same size read through the same table, so zero_grad is one memset, the optimiser one
 * loop and the checkpoint one write. Tensor names are those of the PyTorch reference
 * (tests/make_torch_fixture.py) so a dump compares by name. The seven blocks' embedding
 * projections We are stacked into one [Esum][E] matrix so that all of them cost one
 * GEMM forward and one backward. Activations live in one arena sized for max_batch
 * rows at start; a step allocates nothing.
 *
 * Each layer is a <layer>_forward / <layer>_backward pair, outputs first, shapes in
 * comments; backward accumulates parameter gradients and the model's backward calls the
 * layers in exactly the reverse order of the forward. LayerNorm statistics and the
 * backward's row sums are accumulated in double.
 */
#include "nn.h"
#include <math.h>

#define LN_EPS 1e-5
#define ROWS_PER_PIECE 16     /* rows of a batch per parallel piece */

/* ------------------------------------------------------------ the table */

static const char *rb_name(int i, char *buf, size_t n)
{
    snprintf(buf, n, "%s.%d", i < 4 ? "enc" : "dec", i < 4 ? i : i - 4);
    return buf;
}

static void rb_dims(const sdd_netshape_t *s, int i, int *I, int *O)
{
    static const int in_idx[SDD_N_RB] = {-1, 0, 1, 2, 3, 2, 1};
    static const int out_idx[SDD_N_RB] = {0, 1, 2, 3, 2, 1, 0};
    *I = i == 0 ? 2 * s->D : s->H[in_idx[i]];
    *O = s->H[out_idx[i]];
}

/* Widths are ints, so rows * cols fits in int64; the running count saturates at
 * INT64_MAX instead of overflowing (a damaged model header then fails the count check). */
static void table_add(sdd_model_t *m, const char *prefix, const char *name, int64_t rows,
                      int64_t cols)
{
    sdd_tensor_t *t = &m->table[m->n_tensors++];
    int64_t n = rows > 0 && cols > 0 ? rows * cols : 0;
    snprintf(t->name, sizeof t->name, "%s%s%s", prefix, *prefix ? "." : "", name);
    t->rows = rows;
    t->cols = cols;
    t->offset = m->n_params;
    m->n_params = n > INT64_MAX - m->n_params ? INT64_MAX : m->n_params + n;
}

/* The one place that lists the parameters. Order = memory order. */
static void build_table(sdd_model_t *m)
{
    const sdd_netshape_t *s = &m->shape;
    char nm[16];
    int I, O;
    m->n_tensors = 0;
    m->n_params = 0;
    m->Esum = 0;
    table_add(m, "t1", "weight", s->E, s->E);
    table_add(m, "t1", "bias", 1, s->E);
    table_add(m, "t2", "weight", s->E, s->E);
    table_add(m, "t2", "bias", 1, s->E);
    for (int i = 0; i < SDD_N_RB; i++) { /* stacked: [Esum][E] */
        rb_dims(s, i, &I, &O);
        table_add(m, rb_name(i, nm, sizeof nm), "e.weight", O, s->E);
        m->Esum += O;
    }
    for (int i = 0; i < SDD_N_RB; i++) { /* stacked: [Esum] */
        rb_dims(s, i, &I, &O);
        table_add(m, rb_name(i, nm, sizeof nm), "e.bias", 1, O);
    }
    for (int i = 0; i < SDD_N_RB; i++) {
        rb_dims(s, i, &I, &O);
        rb_name(i, nm, sizeof nm);
        table_add(m, nm, "l.weight", O, I);
        table_add(m, nm, "l.bias", 1, O);
        table_add(m, nm, "n.weight", 1, O);
        table_add(m, nm, "n.bias", 1, O);
    }
    table_add(m, "o1", "weight", s->F, s->H[0]);
    table_add(m, "o1", "bias", 1, s->F);
    table_add(m, "on", "weight", 1, s->F);
    table_add(m, "on", "bias", 1, s->F);
    table_add(m, "o2", "weight", s->D, s->F);
    table_add(m, "o2", "bias", 1, s->D);
    if (s->n_labels > 0) table_add(m, "label", "weight", (int64_t)s->n_labels + 1, s->E);
}

const sdd_tensor_t *sdd_net_tensor(const sdd_model_t *m, const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->table[i].name, name)) return &m->table[i];
    return NULL;
}

int64_t sdd_net_count(const sdd_netshape_t *shape)
{
    sdd_model_t *m = calloc(1, sizeof *m);
    int64_t n;
    if (!m) return -1;
    m->shape = *shape;
    build_table(m);
    n = m->n_params;
    free(m);
    return n;
}

int sdd_net_check_finite(const sdd_model_t *m, const float *w, const char *what)
{
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < m->n_params; i++)
        if (!isfinite(w[i]) && bad++ == 0) first = i;
    if (!bad) return SDD_OK;
    for (int i = 0; i < m->n_tensors; i++) {
        const sdd_tensor_t *t = &m->table[i];
        if (first >= t->offset && first < t->offset + t->rows * t->cols)
            return sdd_error(SDD_EDATA, "the model's %s are not finite: %lld of %lld are NaN or infinite "
                             "(the first in tensor '%s'); the training diverged or the file is damaged: "
                             "train the model again", what, (long long)bad, (long long)m->n_params, t->name);
    }
    return sdd_error(SDD_EDATA, "the model's %s are not finite", what);
}

static float *view(const sdd_model_t *m, float *blob, const char *name)
{
    const sdd_tensor_t *t = sdd_net_tensor(m, name);
    return t ? blob + t->offset : NULL;
}

void sdd_net_views(const sdd_model_t *m, float *blob, sdd_views_t *v)
{
    char nm[16], full[40];
    int eoff = 0;
#define V(field, name) (v->field = view(m, blob, name))
    V(t1.w, "t1.weight"); V(t1.b, "t1.bias"); V(t2.w, "t2.weight"); V(t2.b, "t2.bias");
    V(o1.w, "o1.weight"); V(o1.b, "o1.bias"); V(og, "on.weight"); V(obeta, "on.bias");
    V(o2.w, "o2.weight"); V(o2.b, "o2.bias"); V(label, "label.weight");
    V(ew_all, "enc.0.e.weight"); V(eb_all, "enc.0.e.bias");
#undef V
    for (int i = 0; i < SDD_N_RB; i++) {
        sdd_rb_t *r = &v->rb[i];
        rb_dims(&m->shape, i, &r->I, &r->O);
        rb_name(i, nm, sizeof nm);
#define RV(field, suffix) (snprintf(full, sizeof full, "%s.%s", nm, suffix), r->field = view(m, blob, full))
        RV(l.w, "l.weight"); RV(l.b, "l.bias"); RV(ew, "e.weight"); RV(eb, "e.bias");
        RV(g, "n.weight"); RV(beta, "n.bias");
#undef RV
        r->eoff = eoff;
        eoff += r->O;
    }
}

/* ------------------------------------------------------------ allocation */

static size_t arena_layout(sdd_model_t *m, float *base)
{
    const sdd_netshape_t *s = &m->shape;
    size_t B = (size_t)m->max_batch, off = 0;
    int wmax = s->E > s->F ? s->E : s->F;
    sdd_acts_t *a = &m->a;
#define TAKE(ptr, n) (ptr = base ? base + off : NULL, off += ((size_t)(n) + 15) & ~(size_t)15)
    for (int i = 0; i < 4; i++) if (s->H[i] > wmax) wmax = s->H[i];
    TAKE(a->sin, B * s->E); TAKE(a->z1, B * s->E); TAKE(a->a1, B * s->E);
    TAKE(a->emb, B * s->E); TAKE(a->semb, B * s->E); TAKE(a->eproj, B * m->Esum);
    for (int i = 0; i < SDD_N_RB; i++) {
        int I, O;
        rb_dims(s, i, &I, &O);
        TAKE(a->xhat[i], B * O); TAKE(a->y[i], B * O); TAKE(a->h[i], B * O);
        TAKE(a->u[i], i >= 4 ? B * O : 0); TAKE(a->rstd[i], B);
    }
    TAKE(a->oxhat, B * s->F); TAKE(a->oy, B * s->F); TAKE(a->oa, B * s->F);
    TAKE(a->orstd, B); TAKE(a->out, B * s->D); TAKE(a->pre0, B * s->H[0]);
    TAKE(a->deproj, B * m->Esum);
    for (int i = 0; i < 4; i++) TAKE(a->dh[i], B * s->H[i]);
    TAKE(a->dt1, B * wmax); TAKE(a->dt2, B * wmax); TAKE(a->dF, B * s->F);
    TAKE(a->dE, B * s->E);
    TAKE(a->part, (B + ROWS_PER_PIECE - 1) / ROWS_PER_PIECE * 2 * (size_t)wmax); /* per-piece LN sums */
#undef TAKE
    return off;
}

int sdd_net_alloc(sdd_model_t *m, const sdd_netshape_t *shape, int max_batch)
{
    size_t n, na;
    m->shape = *shape;
    m->max_batch = max_batch;
    build_table(m);
    n = (size_t)m->n_params;
    m->params = sdd_calloc(n, sizeof(float));
    m->grads = sdd_calloc(n, sizeof(float));
    m->adam_m = sdd_calloc(n, sizeof(float));
    m->adam_v = sdd_calloc(n, sizeof(float));
    m->ema = sdd_calloc(n, sizeof(float));
    na = arena_layout(m, NULL);
    m->arena = sdd_calloc(na, sizeof(float));
    if (!m->params || !m->grads || !m->adam_m || !m->adam_v || !m->ema || !m->arena) {
        sdd_net_free(m);
        return SDD_ENOMEM;
    }
    arena_layout(m, m->arena);
    sdd_net_views(m, m->params, &m->p);
    sdd_net_views(m, m->grads, &m->g);
    return SDD_OK;
}

void sdd_net_free(sdd_model_t *m)
{
    if (!m) return;
    free(m->params);
    free(m->grads);
    free(m->adam_m);
    free(m->adam_v);
    free(m->ema);
    free(m->arena);
    m->params = m->grads = m->adam_m = m->adam_v = m->ema = m->arena = NULL;
}

static void init_uniform(float *w, int64_t n, double bound, sdd_rng_t *rng)
{
    for (int64_t i = 0; i < n; i++) w[i] = (float)((2.0 * sdd_rng_uniform(rng) - 1.0) * bound);
}

void sdd_net_init(sdd_model_t *m, sdd_rng_t *rng)
{
    for (int i = 0; i < m->n_tensors; i++) {
        const sdd_tensor_t *t = &m->table[i];
        float *w = m->params + t->offset;
        int64_t n = t->rows * t->cols;
        const char *dot = strrchr(t->name, '.');
        int is_ln = strstr(t->name, ".n.") || !strncmp(t->name, "on.", 3);
        if (!strcmp(t->name, "label.weight")) {
            for (int64_t k = 0; k < n; k++) w[k] = (float)sdd_rng_normal(rng);
        } else if (is_ln) {
            for (int64_t k = 0; k < n; k++) w[k] = !strcmp(dot, ".weight") ? 1.0f : 0.0f;
        } else {
            /* a bias's fan-in is that of its weight, the tensor just before it */
            const sdd_tensor_t *wt = !strcmp(dot, ".bias") ? &m->table[i - 1] : t;
            if (!strcmp(dot, ".bias") && strstr(t->name, "e.bias"))
                wt = &m->table[i - SDD_N_RB]; /* stacked projections: weights 7 tensors back */
            init_uniform(w, n, 1.0 / sqrt((double)wt->cols), rng);
        }
    }
    memcpy(m->ema, m->params, (size_t)m->n_params * sizeof(float));
    memset(m->adam_m, 0, (size_t)m->n_params * sizeof(float));
    memset(m->adam_v, 0, (size_t)m->n_params * sizeof(float));
}

/* ------------------------------------------------------------ layers */

/* y [B][O] = x [B][I] W^T (+ b [O]); W [O][I]; x row stride ldx, y row stride ldy. */
void sdd_linear_forward(float *y, int ldy, const float *x, int ldx, const float *w,
                           int ldw, const float *b, int B, int I, int O)
{
    sdd_gemm(0, 1, B, O, I, 1.0f, x, ldx, w, ldw, 0.0f, y, ldy);
    if (b)
        for (int r = 0; r < B; r++) {
            float *yr = y + (size_t)r * ldy;
            for (int j = 0; j < O; j++) yr[j] += b[j];
        }
}

/* dW [O][I] += dy^T x; db [O] += colsum dy; dx [B][I] = beta dx + dy W (dx NULL: skip). */
void sdd_linear_backward(float *dx, float beta, float *dw, int lddw, float *db,
                            const float *dy, int lddy, const float *x, int ldx,
                            const float *w, int ldw, int B, int I, int O)
{
    if (dx) sdd_gemm(0, 0, B, I, O, 1.0f, dy, lddy, w, ldw, beta, dx, I);
    sdd_gemm(1, 0, O, I, B, 1.0f, dy, lddy, x, ldx, 1.0f, dw, lddw);
    if (db)
        for (int r = 0; r < B; r++) {
            const float *d = dy + (size_t)r * lddy;
            for (int j = 0; j < O; j++) db[j] += d[j];
        }
}

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* y [n] = x sigmoid(x) */
void sdd_silu_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] * sigmoidf(x[i]);
}

/* dx [n] = dy * silu'(x), in place allowed (dx == dy). */
void sdd_silu_backward(float *dx, const float *dy, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float s = sigmoidf(x[i]);
        dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

/* out [B][E] = cos(1000 t f_k) | sin(1000 t f_k), computed in float as the reference. */
void sdd_timestep_forward(float *out, const float *t, int B, int E)
{
    int half = E / 2;
    float lnmax = (float)-log(10000.0);
    for (int r = 0; r < B; r++) {
        float a = 1000.0f * t[r];
        for (int k = 0; k < half; k++) {
            float f = expf(lnmax * (float)k / (float)half);
            out[(size_t)r * E + k] = cosf(a * f);
            out[(size_t)r * E + half + k] = sinf(a * f);
        }
    }
}

/* In place on pre [B][O] (row stride O): pre += b + e (e [B][O], row stride lde), then
 * xhat = LN(pre), y = g xhat + beta, h = SiLU(y). Writes xhat, y, h [B][O], rstd [B]. */
void sdd_lnsilu_forward(float *h, float *y, float *xhat, float *rstd, float *pre,
                           const float *b, const float *e, int lde, const float *g,
                           const float *beta, int B, int O)
{
    for (int r = 0; r < B; r++) {
        float *p = pre + (size_t)r * O, *xr = xhat + (size_t)r * O;
        float *yr = y + (size_t)r * O, *hr = h + (size_t)r * O;
        double mean = 0, var = 0, rs;
        for (int j = 0; j < O; j++) {
            p[j] += b[j] + (e ? e[(size_t)r * lde + j] : 0.0f);
            mean += p[j];
        }
        mean /= O;
        for (int j = 0; j < O; j++) var += (p[j] - mean) * (p[j] - mean);
        rs = 1.0 / sqrt(var / O + LN_EPS);
        rstd[r] = (float)rs;
        for (int j = 0; j < O; j++) {
            xr[j] = (float)((p[j] - mean) * rs);
            yr[j] = g[j] * xr[j] + beta[j];
            hr[j] = yr[j] * sigmoidf(yr[j]);
        }
    }
}

/* dpre [B][O] (row stride ldp) = d loss / d pre, from dh [B][O] = d loss / d h;
 * dg, dbeta [O] accumulate. */
void sdd_lnsilu_backward(float *dpre, int ldp, float *dg, float *dbeta, const float *dh,
                            const float *y, const float *xhat, const float *rstd,
                            const float *g, int B, int O)
{
    for (int r = 0; r < B; r++) {
        const float *dr = dh + (size_t)r * O, *yr = y + (size_t)r * O;
        const float *xr = xhat + (size_t)r * O;
        float *dp = dpre + (size_t)r * ldp;
        double s1 = 0, s2 = 0;
        float m1, m2;
        for (int j = 0; j < O; j++) {
            float s = sigmoidf(yr[j]);
            float dy = dr[j] * s * (1.0f + yr[j] * (1.0f - s));
            dg[j] += dy * xr[j];
            dbeta[j] += dy;
            dp[j] = dy * g[j];
            s1 += dp[j];
            s2 += (double)dp[j] * xr[j];
        }
        m1 = (float)(s1 / O);
        m2 = (float)(s2 / O);
        for (int j = 0; j < O; j++) dp[j] = rstd[r] * (dp[j] - m1 - xr[j] * m2);
    }
}

/* ------------------------------------------------- threaded element-wise passes */

#define ELEMS_PER_PIECE 16384 /* elements of a flat array per parallel piece */

typedef struct {
    float *h, *y, *xhat, *rstd, *pre;
    const float *b, *e, *g, *beta;
    int lde, B, O;
} lnf_ctx_t;

static void lnf_piece(void *ctx, int p)
{
    lnf_ctx_t *c = ctx;
    size_t r0 = (size_t)p * ROWS_PER_PIECE, o = r0 * c->O;
    int n = c->B - (int)r0 < ROWS_PER_PIECE ? c->B - (int)r0 : ROWS_PER_PIECE;
    sdd_lnsilu_forward(c->h + o, c->y + o, c->xhat + o, c->rstd + r0, c->pre + o, c->b,
                       c->e ? c->e + r0 * c->lde : NULL, c->lde, c->g, c->beta, n, c->O);
}

/* sdd_lnsilu_forward with rows shared out among the compute threads (rows are independent). */
static void lnsilu_forward_mt(float *h, float *y, float *xhat, float *rstd, float *pre, const float *b,
                              const float *e, int lde, const float *g, const float *beta, int B, int O)
{
    lnf_ctx_t c = {h, y, xhat, rstd, pre, b, e, g, beta, lde, B, O};
    sdd_parallel_for((B + ROWS_PER_PIECE - 1) / ROWS_PER_PIECE, lnf_piece, &c);
}

typedef struct {
    float *dpre, *part;
    const float *dh, *y, *xhat, *rstd, *g;
    int ldp, B, O;
} lnb_ctx_t;

static void lnb_piece(void *ctx, int p)
{
    lnb_ctx_t *c = ctx;
    size_t r0 = (size_t)p * ROWS_PER_PIECE, o = r0 * c->O;
    int n = c->B - (int)r0 < ROWS_PER_PIECE ? c->B - (int)r0 : ROWS_PER_PIECE;
    float *dg = c->part + (size_t)p * 2 * c->O, *db = dg + c->O;
    memset(dg, 0, 2 * (size_t)c->O * sizeof(float));
    sdd_lnsilu_backward(c->dpre + r0 * c->ldp, c->ldp, dg, db, c->dh + o, c->y + o, c->xhat + o,
                        c->rstd + r0, c->g, n, c->O);
}

/* sdd_lnsilu_backward with rows shared out: each piece sums its own dg, dbeta, and the
 * pieces' sums are added in piece order, so the result does not depend on the threads. */
static void lnsilu_backward_mt(sdd_model_t *m, float *dpre, int ldp, float *dg, float *dbeta,
                               const float *dh, const float *y, const float *xhat, const float *rstd,
                               const float *g, int B, int O)
{
    lnb_ctx_t c = {dpre, m->a.part, dh, y, xhat, rstd, g, ldp, B, O};
    int np = (B + ROWS_PER_PIECE - 1) / ROWS_PER_PIECE;
    sdd_parallel_for(np, lnb_piece, &c);
    for (int p = 0; p < np; p++) {
        const float *pg = m->a.part + (size_t)p * 2 * O, *pb = pg + O;
        for (int j = 0; j < O; j++) {
            dg[j] += pg[j];
            dbeta[j] += pb[j];
        }
    }
}

typedef struct {
    float *out;
    const float *a, *x;
    size_t n;
    int backward;
} silu_ctx_t;

static void silu_piece(void *ctx, int p)
{
    silu_ctx_t *c = ctx;
    size_t lo = (size_t)p * ELEMS_PER_PIECE, n = c->n - lo < ELEMS_PER_PIECE ? c->n - lo : ELEMS_PER_PIECE;
    if (c->backward) sdd_silu_backward(c->out + lo, c->a + lo, c->x + lo, n);
    else sdd_silu_forward(c->out + lo, c->a + lo, n);
}

/* SiLU forward (x NULL: out = SiLU(a)) or backward (out = a SiLU'(x)) on n elements, threaded. */
static void silu_mt(float *out, const float *a, const float *x, size_t n)
{
    silu_ctx_t c = {out, a, x, n, x != NULL};
    sdd_parallel_for((int)((n + ELEMS_PER_PIECE - 1) / ELEMS_PER_PIECE), silu_piece, &c);
}

/* ------------------------------------------------------------ the model */

/* Block i on input x [B][I] (row stride ldx): h[i] [B][O]. Block 0 is done by the
 * caller's split product; pass x = NULL to skip the product (pre already in y[i]). */
static void rb_forward(sdd_model_t *m, const sdd_views_t *v, int i, int B, const float *x,
                       int ldx)
{
    const sdd_rb_t *r = &v->rb[i];
    sdd_acts_t *a = &m->a;
    if (x) sdd_gemm(0, 1, B, r->O, r->I, 1.0f, x, ldx, r->l.w, r->I, 0.0f, a->y[i], r->O);
    lnsilu_forward_mt(a->h[i], a->y[i], a->xhat[i], a->rstd[i], a->y[i], r->l.b,
                      a->eproj + r->eoff, m->Esum, r->g, r->beta, B, r->O);
}

static void add_rows(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

static void embed_forward(sdd_model_t *m, const sdd_views_t *v, int B, const float *t,
                          const int32_t *labels)
{
    sdd_acts_t *a = &m->a;
    int E = m->shape.E;
    sdd_timestep_forward(a->sin, t, B, E);
    sdd_linear_forward(a->z1, E, a->sin, E, v->t1.w, E, v->t1.b, B, E, E);
    silu_mt(a->a1, a->z1, NULL, (size_t)B * E);
    sdd_linear_forward(a->emb, E, a->a1, E, v->t2.w, E, v->t2.b, B, E, E);
    if (labels && v->label)
        for (int r = 0; r < B; r++)
            for (int j = 0; j < E; j++)
                a->emb[(size_t)r * E + j] += v->label[(size_t)labels[r] * E + j];
    silu_mt(a->semb, a->emb, NULL, (size_t)B * E);
    sdd_linear_forward(a->eproj, m->Esum, a->semb, E, v->ew_all, E, v->eb_all, B, E, m->Esum);
}

static const sdd_views_t *weights(sdd_model_t *m, const float *w, sdd_views_t *vw)
{
    if (w == m->params) return &m->p;
    sdd_net_views(m, (float *)w, vw);
    return vw;
}

void sdd_net_prepare(sdd_model_t *m, const float *w, int B, const float *xt, const float *t,
                     const int32_t *labels)
{
    const sdd_netshape_t *s = &m->shape;
    sdd_views_t vw;
    const sdd_views_t *v = weights(m, w, &vw);
    embed_forward(m, v, B, t, labels);
    /* block 0: W = [Wx | Wsc]; the x_t half for every row */
    sdd_gemm(0, 1, B, s->H[0], s->D, 1.0f, xt, s->D, v->rb[0].l.w, 2 * s->D, 0.0f, m->a.pre0,
             s->H[0]);
}

void sdd_net_forward_prepared(sdd_model_t *m, const float *w, int B, const float *sc, int n_sc)
{
    const sdd_netshape_t *s = &m->shape;
    sdd_views_t vw;
    const sdd_views_t *v = weights(m, w, &vw);
    sdd_acts_t *a = &m->a;
    int D = s->D;
    memcpy(a->y[0], a->pre0, (size_t)B * s->H[0] * sizeof(float));
    /* the estimate half only for the rows that have one */
    if (n_sc > 0)
        sdd_gemm(0, 1, n_sc, s->H[0], D, 1.0f, sc, D, v->rb[0].l.w + D, 2 * D, 1.0f, a->y[0],
                 s->H[0]);
    rb_forward(m, v, 0, B, NULL, 0);
    for (int i = 1; i < 4; i++) rb_forward(m, v, i, B, a->h[i - 1], s->H[i - 1]);
    rb_forward(m, v, 4, B, a->h[3], s->H[3]);
    add_rows(a->u[4], a->h[4], a->h[2], (size_t)B * s->H[2]);
    rb_forward(m, v, 5, B, a->u[4], s->H[2]);
    add_rows(a->u[5], a->h[5], a->h[1], (size_t)B * s->H[1]);
    rb_forward(m, v, 6, B, a->u[5], s->H[1]);
    add_rows(a->u[6], a->h[6], a->h[0], (size_t)B * s->H[0]);
    /* head; oy holds the pre-activation until lnsilu_forward overwrites it */
    sdd_linear_forward(a->oy, s->F, a->u[6], s->H[0], v->o1.w, s->H[0], NULL, B, s->H[0], s->F);
    lnsilu_forward_mt(a->oa, a->oy, a->oxhat, a->orstd, a->oy, v->o1.b, NULL, 0, v->og, v->obeta,
                      B, s->F);
    sdd_linear_forward(a->out, D, a->oa, s->F, v->o2.w, s->F, v->o2.b, B, s->F, D);
}

void sdd_net_forward(sdd_model_t *m, const float *w, int B, const float *xt, const float *sc,
                     int n_sc, const float *t, const int32_t *labels)
{
    sdd_net_prepare(m, w, B, xt, t, labels);
    sdd_net_forward_prepared(m, w, B, sc, n_sc);
}

/* Backward of block i: dh [B][O] in; dpre goes to the block's columns of deproj;
 * dx [B][I] = beta dx + dpre W (NULL: not needed). */
static void rb_backward(sdd_model_t *m, int i, int B, float *dx, float beta, const float *dh,
                        const float *x, int ldx)
{
    const sdd_rb_t *r = &m->p.rb[i], *gr = &m->g.rb[i];
    sdd_acts_t *a = &m->a;
    float *dpre = a->deproj + r->eoff;
    lnsilu_backward_mt(m, dpre, m->Esum, gr->g, gr->beta, dh, a->y[i], a->xhat[i], a->rstd[i], r->g,
                       B, r->O);
    sdd_linear_backward(dx, beta, gr->l.w, r->I, gr->l.b, dpre, m->Esum, x, ldx, r->l.w, r->I, B,
                    r->I, r->O);
}

static void embed_backward(sdd_model_t *m, int B, const int32_t *labels)
{
    sdd_acts_t *a = &m->a;
    int E = m->shape.E;
    /* stacked projections of all blocks at once */
    sdd_linear_backward(a->dE, 0.0f, m->g.ew_all, E, m->g.eb_all, a->deproj, m->Esum, a->semb, E,
                    m->p.ew_all, E, B, E, m->Esum);
    silu_mt(a->dE, a->dE, a->emb, (size_t)B * E);
    if (labels && m->g.label)
        for (int r = 0; r < B; r++)
            for (int j = 0; j < E; j++)
                m->g.label[(size_t)labels[r] * E + j] += a->dE[(size_t)r * E + j];
    sdd_linear_backward(a->dt1, 0.0f, m->g.t2.w, E, m->g.t2.b, a->dE, E, a->a1, E, m->p.t2.w, E, B,
                    E, E);
    silu_mt(a->dt1, a->dt1, a->z1, (size_t)B * E);
    sdd_linear_backward(NULL, 0.0f, m->g.t1.w, E, m->g.t1.b, a->dt1, E, a->sin, E, m->p.t1.w, E, B,
                    E, E);
}

void sdd_net_backward(sdd_model_t *m, int B, const float *xt, const float *sc, int n_sc,
                      const int32_t *labels, const float *dout)
{
    const sdd_netshape_t *s = &m->shape;
    sdd_acts_t *a = &m->a;
    const int *H = s->H;
    int D = s->D;
    size_t bh0 = (size_t)B * H[0] * sizeof(float);
    /* head */
    sdd_linear_backward(a->dF, 0.0f, m->g.o2.w, s->F, m->g.o2.b, dout, D, a->oa, s->F, m->p.o2.w,
                    s->F, B, s->F, D);
    lnsilu_backward_mt(m, a->dF, s->F, m->g.og, m->g.obeta, a->dF, a->oy, a->oxhat, a->orstd, m->p.og,
                       B, s->F);
    sdd_linear_backward(a->dt1, 0.0f, m->g.o1.w, H[0], m->g.o1.b, a->dF, s->F, a->u[6], H[0],
                    m->p.o1.w, H[0], B, H[0], s->F);
    /* up blocks; each skip passes its gradient straight to the matching down block */
    rb_backward(m, 6, B, a->dt2, 0.0f, a->dt1, a->u[5], H[1]);
    memcpy(a->dh[0], a->dt1, bh0);
    rb_backward(m, 5, B, a->dt1, 0.0f, a->dt2, a->u[4], H[2]);
    memcpy(a->dh[1], a->dt2, (size_t)B * H[1] * sizeof(float));
    rb_backward(m, 4, B, a->dh[3], 0.0f, a->dt1, a->h[3], H[3]);
    memcpy(a->dh[2], a->dt1, (size_t)B * H[2] * sizeof(float));
    /* down blocks */
    rb_backward(m, 3, B, a->dh[2], 1.0f, a->dh[3], a->h[2], H[2]);
    rb_backward(m, 2, B, a->dh[1], 1.0f, a->dh[2], a->h[1], H[1]);
    rb_backward(m, 1, B, a->dh[0], 1.0f, a->dh[1], a->h[0], H[0]);
    /* block 0: no input gradient; the estimate half of W only from the rows that had one */
    lnsilu_backward_mt(m, a->deproj, m->Esum, m->g.rb[0].g, m->g.rb[0].beta, a->dh[0], a->y[0],
                       a->xhat[0], a->rstd[0], m->p.rb[0].g, B, H[0]);
    sdd_linear_backward(NULL, 0.0f, m->g.rb[0].l.w, 2 * D, m->g.rb[0].l.b, a->deproj, m->Esum, xt,
                    D, NULL, 0, B, D, H[0]);
    if (n_sc > 0)
        sdd_gemm(1, 0, H[0], D, n_sc, 1.0f, a->deproj, m->Esum, sc, D, 1.0f,
                 m->g.rb[0].l.w + D, 2 * D);
    embed_backward(m, B, labels);
}

/* ------------------------------------------------------------ loss */

/* Log-odds that bit j is on from its own noised value y alone: y ~ N(+-alpha bs, sigma^2),
 * equal prior odds, L = 2 alpha bs y / sigma^2 (clamped; it saturates near t = 0). */
static double own_logodds(double t, double y, double bs)
{
    double g = sdd_gamma(t), L = 2.0 * sqrt(g) * bs * y / (1.0 - g);
    return L > 60 ? 60 : L < -60 ? -60 : L;
}

void sdd_bitlogit_apply(float *out, const float *xt, const float *t, int B, int D, double bs)
{
    int G = D / 2;
    for (int r = 0; r < B; r++) {
        float *o = out + (size_t)r * D;
        const float *x = xt + (size_t)r * D;
        for (int j = G; j < D; j++) {
            double L = own_logodds(t[r], x[j], bs) + o[j];
            o[j] = (float)(bs * tanh(0.5 * L));
        }
    }
}

double sdd_loss_bitlogit(const float *F, const float *x0, const float *xt, const float *t, int B, int D, double bs,
                         double bit_weight, double w_zero_value, float *dout)
{
    int G = D / 2;
    double sum = 0, scale = 1.0 / ((double)B * D);
    for (int r = 0; r < B; r++) {
        const float *o = F + (size_t)r * D, *x = x0 + (size_t)r * D, *xr = xt + (size_t)r * D;
        float *d = dout ? dout + (size_t)r * D : NULL;
        for (int j = 0; j < G; j++) {
            double w = x[G + j] < 0 ? w_zero_value : 1.0, e = (double)o[j] - x[j];
            sum += w * e * e;
            if (d) d[j] = (float)(2.0 * w * e * scale);
        }
        for (int j = G; j < D; j++) {
            double L = own_logodds(t[r], xr[j], bs) + o[j], on = x[j] > 0;
            double lp = L >= 0 ? -log1p(exp(-L)) : L - log1p(exp(L)); /* log sigmoid(L) */
            double lq = lp - L;                                       /* log sigmoid(-L) */
            double p = exp(lp);
            sum += -bit_weight * (on ? lp : lq);
            if (d) d[j] = (float)(bit_weight * (p - on) * scale);
        }
    }
    return sum * scale;
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

double sdd_mse_loss(const float *out, const float *x0, int B, int D, int bits,
                    double bit_weight, double w_zero_value, float *dout)
{
    int G = bits ? D / 2 : D;
    double sum = 0, scale = 1.0 / ((double)B * D);
    for (int r = 0; r < B; r++) {
        const float *o = out + (size_t)r * D, *x = x0 + (size_t)r * D;
        float *d = dout ? dout + (size_t)r * D : NULL;
        for (int j = 0; j < D; j++) {
            double w = 1.0, e = (double)o[j] - x[j];
            if (bits && j >= G) w = bit_weight;
            else if (bits && x[G + j] < 0) w = w_zero_value;
            sum += w * e * e;
            if (d) d[j] = (float)(2.0 * w * e * scale);
        }
    }
    return sum * scale;
}
