/*
 * sample_fwd.c: the forward pass of sampling (declared in sample_internal.h). All rows
 * of a call share one time t, so the time embedding and its projections into the seven
 * blocks are computed once per label; every float product has SAMPLE_TILE rows (see
 * sample.c on why a cell must always sit at the same row of a product of the same shape;
 * int8 products, gemm_q8.c, are exact and take all rows at once), and the element-wise
 * passes run on the compute threads in pieces of SAMPLE_ROWS rows.
 */
#include "sample_internal.h"
#include "vec.h"

/* ------------------------------------------------------- sampling forward */

struct sdd_fwd {
    const sdd_model_t *m;
    const float *w;           /* the sampling weights (laid out as the parameters) */
    sdd_views_t v;            /* views into them */
    int max_batch;
    float *erow;              /* [n_labels + 1][Esum] block projections per label */
    float *tsin, *tz, *ta, *te, *ts; /* [1][E] time-embedding chain */
    float *h[SDD_N_RB];       /* [B][O_i] block outputs */
    float *y, *xhat, *rstd;   /* [B][wmax], [B][wmax], [B] scratch */
    float *u;                 /* [B][H0] skip sums */
    float *oa;                /* [B][F] head */
    float *out;               /* [B][D] */
    int elab;                 /* label rows in erow */
    int prec;                 /* SDD_GEMM_* of the float products */
    int q8;                   /* 1: the products below run in int8 */
    sdd_q8net_t q8w;          /* int8 weights (all but the embedding's) once quantised */
};

void sdd_fwd_free(sdd_fwd_t *f)
{
    if (!f) return;
    free(f->erow);
    free(f->tsin);
    for (int i = 0; i < SDD_N_RB; i++) free(f->h[i]);
    free(f->y);
    free(f->xhat);
    free(f->rstd);
    free(f->u);
    free(f->oa);
    free(f->out);
    sdd_q8net_free(&f->q8w);
    free(f);
}

int sdd_fwd_init(sdd_fwd_t **out, const sdd_model_t *m, const float *w, int max_batch)
{
    const sdd_netshape_t *s = &m->shape;
    sdd_fwd_t *f = sdd_calloc(1, sizeof *f);
    size_t B = (size_t)max_batch, E = (size_t)s->E;
    int wmax = s->F, ok = 1;
    *out = NULL;
    if (!f) return SDD_ENOMEM;
    f->m = m;
    f->w = w;
    f->max_batch = max_batch;
    f->prec = sdd_gemm_resolve(m->opt.precision);
    sdd_net_views(m, (float *)w, &f->v);
    f->elab = s->n_labels + 1;
    for (int i = 0; i < 4; i++) wmax = s->H[i] > wmax ? s->H[i] : wmax;
    ok &= !!(f->erow = sdd_malloc((size_t)f->elab * m->Esum * sizeof(float)));
    ok &= !!(f->tsin = sdd_malloc(5 * E * sizeof(float)));
    for (int i = 0; ok && i < SDD_N_RB; i++)
        ok &= !!(f->h[i] = sdd_malloc(B * f->v.rb[i].O * sizeof(float)));
    ok = ok && (f->y = sdd_malloc(B * wmax * sizeof(float))) && (f->xhat = sdd_malloc(B * wmax * sizeof(float))) &&
         (f->rstd = sdd_malloc(B * sizeof(float))) && (f->u = sdd_malloc(B * wmax * sizeof(float))) &&
         (f->oa = sdd_malloc(B * s->F * sizeof(float))) && (f->out = sdd_malloc(B * s->D * sizeof(float)));
    if (!ok) {
        sdd_fwd_free(f);
        return SDD_ENOMEM;
    }
    f->tz = f->tsin + E;
    f->ta = f->tz + E;
    f->te = f->ta + E;
    f->ts = f->te + E;
    *out = f;
    return SDD_OK;
}

int sdd_sample_products(const sdd_model_t *m, int precision)
{
    int fits = sdd_net_longest_sum(&m->shape) <= SDD_Q8_KMAX;
    if (precision == SDD_PRECISION_INT8 || (precision == SDD_PRECISION_AUTO && sdd_cpu_vnni() && fits))
        return SDD_PRECISION_INT8;
    int g = sdd_gemm_resolve(precision == SDD_PRECISION_FP32 || precision == SDD_PRECISION_BF16 ? precision
                                                                                             : m->opt.precision);
    return g == SDD_GEMM_FP32 ? SDD_PRECISION_FP32 : SDD_PRECISION_BF16;
}

int sdd_fwd_set_precision(sdd_fwd_t *f, int precision)
{
    const sdd_model_t *m = f->m;
    int rc, run = sdd_sample_products(m, precision), want = run == SDD_PRECISION_INT8;
    f->prec = sdd_gemm_resolve(want ? m->opt.precision : run); /* the embedding's products */
    f->q8 = want && f->q8w.xq; /* weights quantised by an earlier call are kept */
    if (!want || f->q8) return SDD_OK;
    if ((rc = sdd_q8net_alloc(&f->q8w, m, f->max_batch, 0)) < 0) return rc;
    sdd_q8net_quantise(&f->q8w, m, f->w);
    f->q8 = 1;
    return SDD_OK;
}

int sdd_fwd_int8(const sdd_fwd_t *f) { return f->q8; }

/* erow[y] = We SiLU(t2(SiLU(t1(sinusoid(1000 t)))) + label[y]) + be for every label row. */
static void fwd_embed(sdd_fwd_t *f, float t, int n_lab)
{
    const sdd_views_t *v = &f->v;
    int E = f->m->shape.E, Esum = f->m->Esum;
    sdd_timestep_forward(f->tsin, &t, 1, E);
    sdd_linear_forward(f->tz, E, f->tsin, E, v->t1.w, E, v->t1.b, 1, E, E);
    sdd_silu_forward(f->ta, f->tz, (size_t)E);
    sdd_linear_forward(f->te, E, f->ta, E, v->t2.w, E, v->t2.b, 1, E, E);
    for (int y = 0; y < n_lab; y++) {
        for (int j = 0; j < E; j++) f->ts[j] = f->te[j] + (v->label ? v->label[(size_t)y * E + j] : 0.0f);
        sdd_silu_forward(f->ts, f->ts, (size_t)E);
        sdd_linear_forward(f->erow + (size_t)y * Esum, Esum, f->ts, E, v->ew_all, E, v->eb_all, 1, E, Esum);
    }
}

/* LayerNorm + SiLU of block i over y [B][O] into h, adding each row's label projection. */
static void fwd_norm(sdd_fwd_t *f, int i, int B, const int32_t *labels)
{
    const sdd_rb_t *r = &f->v.rb[i];
    int Esum = f->m->Esum;
    for (int r0 = 0, r1; r0 < B; r0 = r1) {
        int y = labels ? labels[r0] : 0;
        for (r1 = r0 + 1; r1 < B && (labels ? labels[r1] : 0) == y; r1++) {}
        size_t o = (size_t)r0 * r->O;
        sdd_lnsilu_forward(f->h[i] + o, f->y + o, f->xhat + o, f->rstd + r0, f->y + o, r->l.b,
                           f->erow + (size_t)y * Esum + r->eoff, 0, r->g, r->beta, r1 - r0, r->O);
    }
}

/* y [B][N] = (beta y +) x [B][K] W^T, W [N][K] (row stride ldw), in products of
 * SAMPLE_TILE rows (the last one shorter when B is not a multiple of it). */
static void tile_gemm(int B, int N, int K, const float *x, int ldx, const float *w, int ldw, float beta, float *y,
                      int ldy)
{
    for (int r = 0; r < B; r += SAMPLE_TILE) {
        int n = B - r < SAMPLE_TILE ? B - r : SAMPLE_TILE;
        sdd_gemm(0, 1, n, N, K, 1.0f, x + (size_t)r * ldx, ldx, w, ldw, beta, y + (size_t)r * ldy, ldy);
    }
}

/* sdd_linear_forward in products of SAMPLE_TILE rows. */
static void tile_linear(float *y, int ldy, const float *x, int ldx, const float *w, int ldw, const float *b, int B,
                        int I, int O)
{
    for (int r = 0; r < B; r += SAMPLE_TILE) {
        int n = B - r < SAMPLE_TILE ? B - r : SAMPLE_TILE;
        sdd_linear_forward(y + (size_t)r * ldy, ldy, x + (size_t)r * ldx, ldx, w, ldw, b, n, I, O);
    }
}

/* y [B][N] = x [B][K] W^T (+ bias, or + y when accumulate) for the product's weights
 * (SDD_Q8_*): in int8 when f->q8 (all rows at once: each row has its own scale, so a
 * cell's result does not depend on the rows beside it), else in float tiles. */
static void product(sdd_fwd_t *f, int idx, const float *w, int ldw, int B, const float *x, int ldx,
                    const float *bias, int accumulate, float *y, int ldy, int N, int K)
{
    if (f->q8) sdd_q8net_product(&f->q8w, idx, B, x, ldx, bias, accumulate, y, ldy);
    else if (bias) tile_linear(y, ldy, x, ldx, w, ldw, bias, B, K, N);
    else tile_gemm(B, N, K, x, ldx, w, ldw, accumulate ? 1.0f : 0.0f, y, ldy);
}

typedef struct {
    float *u;
    const float *a, *b;
    int w;
} add_ctx_t;

static void add_piece(void *ctx, int r0, int r1)
{
    const add_ctx_t *c = ctx;
    size_t o = (size_t)r0 * c->w;
    sdd_vec_add(c->u + o, c->a + o, c->b + o, (size_t)(r1 - r0) * c->w);
}

/* u = a + b over [B][w], rows shared out */
static void add_rows(float *u, const float *a, const float *b, int B, int w)
{
    add_ctx_t c = {u, a, b, w};
    sdd_parallel_range(B, SAMPLE_ROWS, add_piece, &c);
}

const float *sdd_fwd_run(sdd_fwd_t *f, int B, const float *xt, const float *sc, int n_sc, float t,
                         const int32_t *labels)
{
    const sdd_netshape_t *s = &f->m->shape;
    const sdd_views_t *v = &f->v;
    static const int src[SDD_N_RB] = {-1, 0, 1, 2, 3, 4, 5}, skip[SDD_N_RB] = {-1, -1, -1, -1, 2, 1, 0};
    int D = s->D, n_lab = 1;
    if (labels)
        for (int r = 0; r < B; r++) n_lab = labels[r] + 1 > n_lab ? labels[r] + 1 : n_lab;
    sdd_gemm_set_precision(f->prec);
    fwd_embed(f, t, n_lab);
    product(f, SDD_Q8_RB0X, v->rb[0].l.w, 2 * D, B, xt, D, NULL, 0, f->y, s->H[0], s->H[0], D);
    if (n_sc > 0) product(f, SDD_Q8_RB0S, v->rb[0].l.w + D, 2 * D, n_sc, sc, D, NULL, 1, f->y, s->H[0], s->H[0], D);
    fwd_norm(f, 0, B, labels);
    for (int i = 1; i < SDD_N_RB; i++) {
        const sdd_rb_t *r = &v->rb[i];
        const float *x = f->h[src[i]];
        if (skip[i - 1] >= 0) { /* the input of block i is h[i-1] + h[skip] */
            add_rows(f->u, f->h[i - 1], f->h[skip[i - 1]], B, r->I);
            x = f->u;
        }
        product(f, SDD_Q8_RB0S + i, r->l.w, r->I, B, x, r->I, NULL, 0, f->y, r->O, r->O, r->I);
        fwd_norm(f, i, B, labels);
    }
    add_rows(f->u, f->h[6], f->h[0], B, s->H[0]);
    product(f, SDD_Q8_O1, v->o1.w, s->H[0], B, f->u, s->H[0], NULL, 0, f->y, s->F, s->F, s->H[0]);
    sdd_lnsilu_forward(f->oa, f->y, f->xhat, f->rstd, f->y, v->o1.b, NULL, 0, v->og, v->obeta, B, s->F);
    product(f, SDD_Q8_O2, v->o2.w, s->F, B, f->oa, s->F, v->o2.b, 0, f->out, D, D, s->F);
    return f->out;
}

