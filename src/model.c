/*
 * model.c: the denoiser of doc/method.md §4, a skip-connected MLP (scDiffusion backbone),
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
#include "vec.h"
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
        TAKE(a->xhat[i], B * O); TAKE(a->y[i], B * O); TAKE(a->h[i], i < 4 ? B * O : 0);
        TAKE(a->u[i], i >= 4 ? B * O : 0); TAKE(a->rstd[i], B);
        if (i >= 4) a->h[i] = NULL; /* the up blocks write u = h + skip directly */
        else a->u[i] = NULL;
    }
    TAKE(a->oxhat, B * s->F); TAKE(a->oy, B * s->F); TAKE(a->oa, B * s->F);
    TAKE(a->orstd, B); TAKE(a->out, B * s->D); TAKE(a->pre0, B * s->H[0]);
    TAKE(a->deproj, B * m->Esum);
    for (int i = 0; i < 4; i++) TAKE(a->dh[i], B * s->H[i]);
    TAKE(a->dt1, B * wmax); TAKE(a->dF, B * s->F);
    TAKE(a->dE, B * s->E);
    TAKE(a->part, (B + ROWS_PER_PIECE - 1) / ROWS_PER_PIECE * 3 * (size_t)wmax); /* per-piece LN sums */
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

int sdd_train_products(const sdd_model_t *m)
{
    if (m->opt.precision == SDD_PRECISION_INT8) return SDD_PRECISION_INT8;
    return sdd_gemm_resolve(m->opt.precision) == SDD_GEMM_FP32 ? SDD_PRECISION_FP32 : SDD_PRECISION_BF16;
}

void sdd_net_free(sdd_model_t *m)
{
    if (!m) return;
    sdd_net_q8_free(m);
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

/* y [B][O] = x [B][I] W^T (+ b [O]); W [O][I]; x row stride ldx, y row stride ldy.
 * The bias is written first and the product added onto it (beta = 1), piece by piece by
 * the thread that computes the piece, which spares both a separate pass and BLAS's zeroing
 * of C. */
void sdd_linear_forward(float *y, int ldy, const float *x, int ldx, const float *w,
                        int ldw, const float *b, int B, int I, int O)
{
    if (b) sdd_gemm_bias(0, 1, B, O, I, x, ldx, w, ldw, b, y, ldy);
    else sdd_gemm(0, 1, B, O, I, 1.0f, x, ldx, w, ldw, 0.0f, y, ldy);
}

/* The forward's products, y [B][N] = x [B][K] W^T (+ b, or + y when accumulate): in int8
 * with the weights q8->w[idx] when the pass runs int8 (m->q8_on), else in float. */
static void fwd_product(sdd_model_t *m, int idx, float *y, int ldy, const float *x, int ldx, const float *w,
                        int ldw, const float *b, int accumulate, int B, int K, int N)
{
    if (m->q8_on) {
        sdd_q8net_product(m->q8, idx, B, x, ldx, b, accumulate, y, ldy);
    } else if (accumulate) {
        sdd_gemm(0, 1, B, N, K, 1.0f, x, ldx, w, ldw, 1.0f, y, ldy);
    } else {
        sdd_linear_forward(y, ldy, x, ldx, w, ldw, b, B, K, N);
    }
}

#define COLSUM_COLS 256 /* columns of a parallel piece of colsum */

typedef struct {
    float *db;
    const float *dy;
    int lddy, B;
} colsum_ctx_t;

static void colsum_piece(void *ctx, int j0, int j1)
{
    const colsum_ctx_t *c = ctx;
    for (int r = 0; r < c->B; r++) {
        const float *d = c->dy + (size_t)r * c->lddy;
        for (int j = j0; j < j1; j++) c->db[j] += d[j];
    }
}

/* db [O] += colsum dy [B][O] (row stride lddy); each column adds its rows in order, on
 * column pieces shared out over the threads */
static void colsum(float *db, const float *dy, int lddy, int B, int O)
{
    colsum_ctx_t c = {db, dy, lddy, B};
    sdd_parallel_range(O, COLSUM_COLS, colsum_piece, &c);
}

/* dW [O][I] += dy^T x; db [O] += colsum dy (NULL: skipped); dx [B][I] = beta dx + dy W
 * (dx NULL: skipped). dW accumulates with beta = 1, which costs nothing in the product
 * (beta 0 would cost BLAS a pass to zero C); the optimiser step leaves the gradients
 * zeroed for the next backward. */
double sdd_linear_backward(float *dx, float beta, float *dw, int lddw, float *db, const float *dy,
                           int lddy, const float *x, int ldx, const float *w, int ldw, int B, int I,
                           int O)
{
    double sq;
    if (dx) sdd_gemm(0, 0, B, I, O, 1.0f, dy, lddy, w, ldw, beta, dx, I);
    sq = sdd_gemm_sumsq(1, 0, O, I, B, 1.0f, dy, lddy, x, ldx, 1.0f, dw, lddw);
    if (db) colsum(db, dy, lddy, B, O);
    return sq;
}

/* The backward of a weight matrix of the network (int8 index idx): as
 * sdd_linear_backward, with dx in int8 on the transposed weights when the pass runs int8
 * and keeps them (m->q8_on; doc/method.md §6.10). */
static double net_linear_backward(sdd_model_t *m, int idx, float *dx, float beta, float *dw, int lddw, float *db,
                                  const float *dy, int lddy, const float *x, int ldx, const float *w, int ldw, int B,
                                  int I, int O)
{
    if (dx && m->q8_on && sdd_q8net_has_dx(m->q8, idx) && (beta == 0.0f || beta == 1.0f)) {
        double sq = sdd_q8net_backward(m->q8, idx, B, dy, lddy, x, ldx, dw, lddw, beta == 1.0f, dx, I);
        if (db) colsum(db, dy, lddy, B, O);
        return sq;
    }
    return sdd_linear_backward(dx, beta, dw, lddw, db, dy, lddy, x, ldx, w, ldw, B, I, O);
}

/* y [n] = x sigmoid(x) */
void sdd_silu_forward(float *y, const float *x, size_t n) { sdd_vec_silu(y, x, n); }

/* dx [n] = dy * silu'(x), in place allowed (dx == dy). */
void sdd_silu_backward(float *dx, const float *dy, const float *x, size_t n)
{
    sdd_vec_silu_bwd(dx, dy, x, n);
}

#define TIME_ROWS 16 /* rows of a parallel piece of the sinusoidal embedding */

typedef struct {
    float *out;
    const float *t;
    int E;
} timestep_ctx_t;

static void timestep_piece(void *ctx, int r0, int r1)
{
    const timestep_ctx_t *c = ctx;
    int half = c->E / 2;
    float lnmax = (float)-log(10000.0);
    for (int k = 0; k < half; k++) {
        float f = expf(lnmax * (float)k / (float)half);
        for (int r = r0; r < r1; r++) {
            float a = 1000.0f * c->t[r];
            c->out[(size_t)r * c->E + k] = cosf(a * f);
            c->out[(size_t)r * c->E + half + k] = sinf(a * f);
        }
    }
}

/* out [B][E] = cos(1000 t f_k) | sin(1000 t f_k), computed in float as the reference;
 * row pieces on the threads (each entry is computed alone: the same bits). */
void sdd_timestep_forward(float *out, const float *t, int B, int E)
{
    timestep_ctx_t c = {out, t, E};
    sdd_parallel_range(B, TIME_ROWS, timestep_piece, &c);
}

/* ------------------------------------------------- threaded element-wise passes */

#define ELEMS_PER_PIECE 16384 /* elements of a flat array per parallel piece */

typedef struct {
    float *h, *y, *xhat, *rstd;
    const float *pre, *b, *e, *g, *beta, *skip;
    int lde, O;
} lnf_ctx_t;

static void lnf_piece(void *ctx, int r0, int r1)
{
    lnf_ctx_t *c = ctx;
    for (int r = r0; r < r1; r++) {
        size_t o = (size_t)r * c->O;
        c->rstd[r] = sdd_vec_lnsilu_row(c->h + o, c->y + o, c->xhat + o, c->pre + o, c->b,
                                        c->e ? c->e + (size_t)r * c->lde : NULL, c->g, c->beta,
                                        c->skip ? c->skip + o : NULL, c->O);
    }
}

/* Rows [B][O] of LayerNorm + SiLU shared out among the compute threads (rows are
 * independent): y = g LN(pre + b + e) + beta, h = SiLU(y) + skip (skip may be NULL). */
static void lnsilu_mt(float *h, float *y, float *xhat, float *rstd, const float *pre, const float *b,
                      const float *e, int lde, const float *g, const float *beta, const float *skip,
                      int B, int O)
{
    lnf_ctx_t c = {h, y, xhat, rstd, pre, b, e, g, beta, skip, lde, O};
    sdd_parallel_range(B, ROWS_PER_PIECE, lnf_piece, &c);
}

/* pre [B][O] (row stride O) + b + e (e [B][O], row stride lde) -> xhat = LN, y = g xhat
 * + beta, h = SiLU(y). Writes xhat, y, h [B][O], rstd [B]; y may alias pre. */
void sdd_lnsilu_forward(float *h, float *y, float *xhat, float *rstd, float *pre, const float *b,
                        const float *e, int lde, const float *g, const float *beta, int B, int O)
{
    lnsilu_mt(h, y, xhat, rstd, pre, b, e, lde, g, beta, NULL, B, O);
}

typedef struct {
    float *dpre, *part;
    const float *dh, *y, *xhat, *rstd, *g;
    int ldp, B, O, want_bias;
} lnb_ctx_t;

static void lnb_piece(void *ctx, int p)
{
    lnb_ctx_t *c = ctx;
    int r0 = p * ROWS_PER_PIECE, r1 = r0 + ROWS_PER_PIECE < c->B ? r0 + ROWS_PER_PIECE : c->B;
    float *dg = c->part + (size_t)p * 3 * c->O, *db = dg + c->O, *dbias = db + c->O;
    memset(dg, 0, 3 * (size_t)c->O * sizeof(float));
    for (int r = r0; r < r1; r++) {
        size_t o = (size_t)r * c->O;
        sdd_vec_lnsilu_bwd_row(c->dpre + (size_t)r * c->ldp, dg, db, c->want_bias ? dbias : NULL,
                               c->dh + o, c->y + o, c->xhat + o, c->rstd[r], c->g, c->O);
    }
}

/* LayerNorm + SiLU backward with rows shared out: each piece sums its own dg, dbeta and
 * colsum dpre, and the pieces' sums are added in piece order, so the result does not
 * depend on the threads. dg, dbeta and dbias, dbias2 (may be NULL) accumulate; colsum
 * dpre is the gradient of every bias added before the norm. */
static void lnsilu_bwd_mt(float *part, float *dpre, int ldp, float *dg, float *dbeta, float *dbias,
                          float *dbias2, const float *dh, const float *y, const float *xhat,
                          const float *rstd, const float *g, int B, int O)
{
    lnb_ctx_t c = {dpre, part, dh, y, xhat, rstd, g, ldp, B, O, dbias != NULL};
    int np = (B + ROWS_PER_PIECE - 1) / ROWS_PER_PIECE;
    sdd_parallel_for(np, lnb_piece, &c);
    for (int p = 0; p < np; p++) {
        const float *pg = part + (size_t)p * 3 * O, *pb = pg + O, *pc = pb + O;
        for (int j = 0; j < O; j++) {
            dg[j] += pg[j];
            dbeta[j] += pb[j];
        }
        if (dbias)
            for (int j = 0; j < O; j++) dbias[j] += pc[j];
        if (dbias2)
            for (int j = 0; j < O; j++) dbias2[j] += pc[j];
    }
}

/* dpre [B][O] (row stride ldp) = d loss / d pre, from dh [B][O] = d loss / d h;
 * dg, dbeta [O] accumulate. Uses its own piece sums (allocated: tests and tools only). */
void sdd_lnsilu_backward(float *dpre, int ldp, float *dg, float *dbeta, const float *dh,
                         const float *y, const float *xhat, const float *rstd, const float *g,
                         int B, int O)
{
    float *part = malloc((size_t)((B + ROWS_PER_PIECE - 1) / ROWS_PER_PIECE) * 3 * O * sizeof(float));
    if (!part) { /* no memory for piece sums: one piece at a time */
        for (int r = 0; r < B; r++)
            sdd_vec_lnsilu_bwd_row(dpre + (size_t)r * ldp, dg, dbeta, NULL, dh + (size_t)r * O,
                                   y + (size_t)r * O, xhat + (size_t)r * O, rstd[r], g, O);
        return;
    }
    lnsilu_bwd_mt(part, dpre, ldp, dg, dbeta, NULL, NULL, dh, y, xhat, rstd, g, B, O);
    free(part);
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
    if (c->backward) sdd_vec_silu_bwd(c->out + lo, c->a + lo, c->x + lo, n);
    else sdd_vec_silu(c->out + lo, c->a + lo, n);
}

/* SiLU forward (x NULL: out = SiLU(a)) or backward (out = a SiLU'(x)) on n elements, threaded. */
static void silu_mt(float *out, const float *a, const float *x, size_t n)
{
    silu_ctx_t c = {out, a, x, n, x != NULL};
    sdd_parallel_for((int)((n + ELEMS_PER_PIECE - 1) / ELEMS_PER_PIECE), silu_piece, &c);
}

/* ------------------------------------------------------------ the model */

static const int skip_of[SDD_N_RB] = {-1, -1, -1, -1, 2, 1, 0}; /* u_i = h_i + h_skip */

typedef struct {
    float *y;
    const float *b, *e;
    int lde, B, O;
} prefill_ctx_t;

static void prefill_piece(void *ctx, int p)
{
    prefill_ctx_t *c = ctx;
    int r1 = (p + 1) * ROWS_PER_PIECE < c->B ? (p + 1) * ROWS_PER_PIECE : c->B;
    for (int r = p * ROWS_PER_PIECE; r < r1; r++)
        sdd_vec_add(c->y + (size_t)r * c->O, c->b, c->e + (size_t)r * c->lde, (size_t)c->O);
}

/* Block i on input x [B][I] (row stride ldx): h[i] [B][O], or for the up blocks
 * u[i] = h[i] + skip directly (h[i] itself is never needed). The product is added onto
 * y = b + e written first (no BLAS pass zeroing y, no bias pass in the norm). */
static void rb_forward(sdd_model_t *m, const sdd_views_t *v, int i, int B, const float *x,
                       int ldx)
{
    const sdd_rb_t *r = &v->rb[i];
    sdd_acts_t *a = &m->a;
    prefill_ctx_t c = {a->y[i], r->l.b, a->eproj + r->eoff, m->Esum, B, r->O};
    sdd_parallel_for((B + ROWS_PER_PIECE - 1) / ROWS_PER_PIECE, prefill_piece, &c);
    fwd_product(m, SDD_Q8_RB0S + i, a->y[i], r->O, x, ldx, r->l.w, r->I, NULL, 1, B, r->I, r->O);
    lnsilu_mt(i >= 4 ? a->u[i] : a->h[i], a->y[i], a->xhat[i], a->rstd[i], a->y[i], NULL, NULL, 0, r->g,
              r->beta, i >= 4 ? a->h[skip_of[i]] : NULL, B, r->O);
}

/* Block 0's norm on rows [r0, r1) whose pre-activation is pre [r1 - r0][H0]. */
static void rb0_norm(sdd_model_t *m, const sdd_views_t *v, int r0, int r1, const float *pre)
{
    const sdd_rb_t *r = &v->rb[0];
    sdd_acts_t *a = &m->a;
    size_t o = (size_t)r0 * r->O;
    lnsilu_mt(a->h[0] + o, a->y[0] + o, a->xhat[0] + o, a->rstd[0] + r0, pre, r->l.b,
              a->eproj + (size_t)r0 * m->Esum + r->eoff, m->Esum, r->g, r->beta, NULL, r1 - r0, r->O);
}

static void embed_forward(sdd_model_t *m, const sdd_views_t *v, int B, const float *t,
                          const int32_t *labels)
{
    sdd_acts_t *a = &m->a;
    int E = m->shape.E;
    sdd_timestep_forward(a->sin, t, B, E);
    fwd_product(m, SDD_Q8_T1, a->z1, E, a->sin, E, v->t1.w, E, v->t1.b, 0, B, E, E);
    silu_mt(a->a1, a->z1, NULL, (size_t)B * E);
    fwd_product(m, SDD_Q8_T2, a->emb, E, a->a1, E, v->t2.w, E, v->t2.b, 0, B, E, E);
    if (labels && v->label)
        for (int r = 0; r < B; r++)
            for (int j = 0; j < E; j++)
                a->emb[(size_t)r * E + j] += v->label[(size_t)labels[r] * E + j];
    silu_mt(a->semb, a->emb, NULL, (size_t)B * E);
    fwd_product(m, SDD_Q8_EW, a->eproj, m->Esum, a->semb, E, v->ew_all, E, v->eb_all, 0, B, E, m->Esum);
}

static const sdd_views_t *weights(sdd_model_t *m, const float *w, sdd_views_t *vw)
{
    if (w == m->params) return &m->p;
    sdd_net_views(m, (float *)w, vw);
    return vw;
}

const char *sdd_precision_name(int precision)
{
    return precision == SDD_PRECISION_BF16 ? "bf16" : precision == SDD_PRECISION_AUTO ? "auto"
         : precision == SDD_PRECISION_INT8 ? "int8" : "fp32";
}

int sdd_precision_parse(const char *name)
{
    return !strcmp(name, "fp32") ? SDD_PRECISION_FP32 : !strcmp(name, "bf16") ? SDD_PRECISION_BF16
         : !strcmp(name, "auto") ? SDD_PRECISION_AUTO : !strcmp(name, "int8") ? SDD_PRECISION_INT8 : -1;
}

int sdd_net_use_precision(const sdd_model_t *m)
{
    int prec = sdd_gemm_resolve(m->opt.precision);
    sdd_gemm_set_precision(prec);
    return prec;
}

void sdd_net_prepare(sdd_model_t *m, const float *w, int B, const float *xt, const float *t,
                     const int32_t *labels)
{
    const sdd_netshape_t *s = &m->shape;
    sdd_views_t vw;
    const sdd_views_t *v = weights(m, w, &vw);
    sdd_net_use_precision(m);
    m->q8_on = m->q8 && m->opt.precision == SDD_PRECISION_INT8 && w == m->params;
    if (m->q8_on && m->q8_step != m->step) sdd_net_q8_quantise(m);
    embed_forward(m, v, B, t, labels);
    /* block 0: W = [Wx | Wsc]; the x_t half for every row */
    fwd_product(m, SDD_Q8_RB0X, m->a.pre0, s->H[0], xt, s->D, v->rb[0].l.w, 2 * s->D, NULL, 0, B, s->D,
                s->H[0]);
}

void sdd_net_forward_prepared(sdd_model_t *m, const float *w, int B, const float *sc, int n_sc)
{
    const sdd_netshape_t *s = &m->shape;
    sdd_views_t vw;
    const sdd_views_t *v = weights(m, w, &vw);
    sdd_acts_t *a = &m->a;
    int D = s->D, H0 = s->H[0];
    sdd_net_use_precision(m);
    m->q8_on = m->q8 && m->opt.precision == SDD_PRECISION_INT8 && w == m->params && m->q8_step == m->step;
    /* the estimate half only for the rows that have one; the others normalise pre0 as it is */
    if (n_sc > 0) {
        memcpy(a->y[0], a->pre0, (size_t)n_sc * H0 * sizeof(float));
        fwd_product(m, SDD_Q8_RB0S, a->y[0], H0, sc, D, v->rb[0].l.w + D, 2 * D, NULL, 1, n_sc, D, H0);
        rb0_norm(m, v, 0, n_sc, a->y[0]);
    }
    if (B > n_sc) rb0_norm(m, v, n_sc, B, a->pre0 + (size_t)n_sc * H0);
    for (int i = 1; i < 4; i++) rb_forward(m, v, i, B, a->h[i - 1], s->H[i - 1]);
    rb_forward(m, v, 4, B, a->h[3], s->H[3]);
    rb_forward(m, v, 5, B, a->u[4], s->H[2]);
    rb_forward(m, v, 6, B, a->u[5], s->H[1]);
    /* head; oy holds the pre-activation (bias first) until the norm overwrites it */
    fwd_product(m, SDD_Q8_O1, a->oy, s->F, a->u[6], H0, v->o1.w, H0, v->o1.b, 0, B, H0, s->F);
    lnsilu_mt(a->oa, a->oy, a->oxhat, a->orstd, a->oy, NULL, NULL, 0, v->og, v->obeta, NULL, B, s->F);
    fwd_product(m, SDD_Q8_O2, a->out, D, a->oa, s->F, v->o2.w, s->F, v->o2.b, 0, B, s->F, D);
    m->q8_on = 0;
}

void sdd_net_forward(sdd_model_t *m, const float *w, int B, const float *xt, const float *sc,
                     int n_sc, const float *t, const int32_t *labels)
{
    sdd_net_prepare(m, w, B, xt, t, labels);
    sdd_net_forward_prepared(m, w, B, sc, n_sc);
}

/* Backward of block i: dh [B][O] in; dpre goes to the block's columns of deproj, and
 * its column sums to both biases (linear and embedding projection); dx [B][I] = beta dx
 * + dpre W (NULL: not needed). Gradients accumulate. */
static void rb_backward(sdd_model_t *m, int i, int B, float *dx, float beta, const float *dh,
                        const float *x, int ldx)
{
    const sdd_rb_t *r = &m->p.rb[i], *gr = &m->g.rb[i];
    sdd_acts_t *a = &m->a;
    float *dpre = a->deproj + r->eoff;
    lnsilu_bwd_mt(a->part, dpre, m->Esum, gr->g, gr->beta, gr->l.b, gr->eb, dh, a->y[i],
                  a->xhat[i], a->rstd[i], r->g, B, r->O);
    if (x)
        m->wsq += net_linear_backward(m, SDD_Q8_RB0S + i, dx, beta, gr->l.w, r->I, NULL, dpre, m->Esum, x, ldx,
                                      r->l.w, r->I, B, r->I, r->O);
}

static void embed_backward(sdd_model_t *m, int B, const int32_t *labels)
{
    sdd_acts_t *a = &m->a;
    int E = m->shape.E;
    /* stacked projections of all blocks at once; their biases came with the blocks */
    m->wsq += net_linear_backward(m, SDD_Q8_EW, a->dE, 0.0f, m->g.ew_all, E, NULL, a->deproj, m->Esum, a->semb, E,
                                  m->p.ew_all, E, B, E, m->Esum);
    silu_mt(a->dE, a->dE, a->emb, (size_t)B * E);
    if (labels && m->g.label)
        for (int r = 0; r < B; r++)
            for (int j = 0; j < E; j++)
                m->g.label[(size_t)labels[r] * E + j] += a->dE[(size_t)r * E + j];
    m->wsq += net_linear_backward(m, SDD_Q8_T2, a->dt1, 0.0f, m->g.t2.w, E, m->g.t2.b, a->dE, E, a->a1, E, m->p.t2.w,
                                  E, B, E, E);
    silu_mt(a->dt1, a->dt1, a->z1, (size_t)B * E);
    m->wsq += sdd_linear_backward(NULL, 0.0f, m->g.t1.w, E, m->g.t1.b, a->dt1, E, a->sin, E, m->p.t1.w, E, B, E,
                                  E);
}

/* The skip gradients need no copies: the gradient of u6 is written straight into dh[0]
 * (the skip from h0), u5's into dh[1], u4's into dh[2]; the down blocks then add their
 * input gradients onto them (beta = 1). */
void sdd_net_backward(sdd_model_t *m, int B, const float *xt, const float *sc, int n_sc,
                      const int32_t *labels, const float *dout)
{
    const sdd_netshape_t *s = &m->shape;
    sdd_acts_t *a = &m->a;
    const int *H = s->H;
    int D = s->D;
    sdd_net_use_precision(m);
    /* the input gradients in int8 where the forward of this step ran int8 */
    m->q8_on = m->q8 && m->opt.precision == SDD_PRECISION_INT8 && m->q8_step == m->step;
    /* head */
    m->wsq = net_linear_backward(m, SDD_Q8_O2, a->dF, 0.0f, m->g.o2.w, s->F, m->g.o2.b, dout, D, a->oa, s->F,
                                 m->p.o2.w, s->F, B, s->F, D);
    lnsilu_bwd_mt(a->part, a->dF, s->F, m->g.og, m->g.obeta, m->g.o1.b, NULL, a->dF, a->oy, a->oxhat,
                  a->orstd, m->p.og, B, s->F);
    m->wsq += net_linear_backward(m, SDD_Q8_O1, a->dh[0], 0.0f, m->g.o1.w, H[0], NULL, a->dF, s->F, a->u[6], H[0],
                                  m->p.o1.w, H[0], B, H[0], s->F);
    /* up blocks */
    rb_backward(m, 6, B, a->dh[1], 0.0f, a->dh[0], a->u[5], H[1]);
    rb_backward(m, 5, B, a->dh[2], 0.0f, a->dh[1], a->u[4], H[2]);
    rb_backward(m, 4, B, a->dh[3], 0.0f, a->dh[2], a->h[3], H[3]);
    /* down blocks, adding onto the skip gradients */
    rb_backward(m, 3, B, a->dh[2], 1.0f, a->dh[3], a->h[2], H[2]);
    rb_backward(m, 2, B, a->dh[1], 1.0f, a->dh[2], a->h[1], H[1]);
    rb_backward(m, 1, B, a->dh[0], 1.0f, a->dh[1], a->h[0], H[0]);
    /* block 0: no input gradient; the estimate half of W only from the rows that had one */
    rb_backward(m, 0, B, NULL, 0.0f, a->dh[0], NULL, 0);
    m->wsq += sdd_gemm_sumsq(1, 0, H[0], D, B, 1.0f, a->deproj, m->Esum, xt, D, 1.0f, m->g.rb[0].l.w, 2 * D);
    if (n_sc > 0) /* (else that half stays zero) */
        m->wsq += sdd_gemm_sumsq(1, 0, H[0], D, n_sc, 1.0f, a->deproj, m->Esum, sc, D, 1.0f, m->g.rb[0].l.w + D,
                                 2 * D);
    embed_backward(m, B, labels);
    m->q8_on = 0;
}

double sdd_net_grad_norm(const sdd_model_t *m)
{
    double s = m->wsq;
    for (int i = 0; i < m->n_tensors; i++) {
        const sdd_tensor_t *t = &m->table[i];
        if (t->rows > 1 && strcmp(t->name, "label.weight") != 0) continue; /* a weight matrix: in wsq */
        s += sdd_vec_sumsq(m->grads + t->offset, t->rows * t->cols);
    }
    return sqrt(s);
}

/* ---- the model object: its options, allocation and destruction (training, loading a
 * checkpoint and sampling all build on these) */

void sdd_train_opt_init(sdd_train_opt_t *o)
{
    memset(o, 0, sizeof *o);
    o->steps = 0;
    o->batch = 256;
    o->lr = 1e-3;
    o->ema = 0.9999;
    o->bit_scale = 1.0;
    o->scale_gene = 0;
    o->clip = 1.0;
    o->seed = 0;
    o->hidden[0] = 512;
    o->hidden[1] = 512;
    o->hidden[2] = 256;
    o->hidden[3] = 128;
    o->head = 1024;
    o->emb = 512;
    o->sparsity_bits = 1;
    o->label_dropout = 0.1;
    o->bit_weight = 1.0;
    o->value_mask = 1;
    o->precond = 2;
    o->self_cond = 0.5;
    o->checkpoint_every = 0;
    o->checkpoint_path = NULL;
    o->grad_slices = 1;
    o->validation = 0.05;
    o->val_every = 250;
    o->patience = 2;
    o->val_tol = 0.01;
    o->precision = SDD_PRECISION_AUTO; /* int8 where the CPU has AVX512_VNNI (sdd_model_create) */
}

int sdd_train_opt_check(const sdd_train_opt_t *o)
{
    int rc;
    if ((rc = sdd_opt_check_table(SDD_OPTS_TRAIN, o)) < 0) return rc;
    if (o->precond < 0 || o->precond > 2) return sdd_error(SDD_EINVAL, "unknown output parametrisation %d", o->precond);
    if (o->batch % o->grad_slices)
        return sdd_error(SDD_EINVAL, "gradient slices must divide the batch size (%lld), not %d", (long long)o->batch,
                         o->grad_slices);
    if (o->precision < SDD_PRECISION_FP32 || o->precision > SDD_PRECISION_INT8)
        return sdd_error(SDD_EINVAL, "precision must be fp32, bf16, auto or int8, not %d", o->precision);
    return SDD_OK;
}

/* The parts of a model every path (create, load) needs: shape, buffers, scale arrays. */
int sdd_model_alloc(sdd_model_t **out, const sdd_netshape_t *s, const sdd_train_opt_t *o)
{
    sdd_model_t *m = sdd_calloc(1, sizeof *m);
    int rc;
    *out = NULL;
    if (!m) return SDD_ENOMEM;
    m->opt = *o;
    m->n_ranks = 1;
    if (o->checkpoint_path) snprintf(m->opt_ckpt_path, sizeof m->opt_ckpt_path, "%s", o->checkpoint_path);
    m->opt.checkpoint_path = o->checkpoint_path ? m->opt_ckpt_path : NULL;
    m->bit_scale = o->bit_scale;
    m->scale_gene = o->scale_gene;
    if ((rc = sdd_net_alloc(m, s, (int)o->batch)) < 0) goto fail;
    m->Mg = sdd_calloc((size_t)s->G, sizeof(float));
    m->mg = sdd_calloc((size_t)s->G, sizeof(float));
    if (!m->Mg || !m->mg) {
        rc = SDD_ENOMEM;
        goto fail;
    }
    *out = m;
    return SDD_OK;
fail:
    sdd_model_destroy(m);
    return rc;
}

void sdd_model_destroy(sdd_model_t *m)
{
    if (!m) return;
    sdd_net_free(m);
    free(m->Mg);
    free(m->mg);
    sdd_strv_free(m->gene_names, m->shape.G);
    sdd_strv_free(m->gene_ids, m->shape.G);
    sdd_strv_free(m->label_names, m->shape.n_labels);
    free(m->label_freq);
    free(m->label_key);
    free(m->prep_json);
    free(m->lib_sizes);
    free(m->slots);
    free(m->kept);
    free(m);
}
