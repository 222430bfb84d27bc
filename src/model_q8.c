/*
 * model_q8.c: the network's weight matrices as int8 products (gemm_q8.c) take them, for
 * the sampling forward (sample_fwd.c, doc/method.md §7.11) and the training forward
 * (`--precision int8`, §6.10): one list of the matrices (time MLP, stacked embedding
 * projections, block 0's two halves, blocks 1-6, head) read from any blob laid out as
 * the parameters (the parameters, the EMA weights), and their products.
 *
 * Training quantises its parameters once a step: in the optimiser's pass, each group of
 * 32 rows right after it is updated (sdd_net_optim_q8), or at the first forward of a step
 * whose weights came from elsewhere (a loaded model, a sliced or data-parallel step:
 * sdd_net_q8_quantise). model.c's forward then runs its products on them (m->q8_on), and
 * its backward the input gradients of every matrix but block 0's (which passes none
 * on), on the same integers transposed (wt, copied from the forward's panels as they are quantised).
 */
#include "nn.h"
#include "vec.h"
#include <string.h>

int sdd_net_longest_sum(const sdd_netshape_t *s)
{
    int k = s->D > s->F ? s->D : s->F;
    k = k > s->E ? k : s->E;
    for (int i = 0; i < 4; i++) k = k > s->H[i] ? k : s->H[i];
    return k;
}

/* The weight matrices of the int8 forward as they lie in a parameter blob: rows x ld
 * floats at off, quantised as w[q[0]] from columns [0, K) and, for block 0's [H0][2D],
 * as w[q[1]] from columns [K, 2K) too; t: training also keeps the transpose (wt[q[0]])
 * for its input gradients. */
typedef struct {
    int64_t off;
    int rows, ld, K, q[2], t;
} q8_mat_t;

static int q8_mats(const sdd_model_t *m, q8_mat_t *mat)
{
    const sdd_views_t *v = &m->p;
    const sdd_netshape_t *s = &m->shape;
    int n = 0;
#define MAT(w, r, l, k, q0, q1, t) mat[n++] = (q8_mat_t){(w) - m->params, r, l, k, {q0, q1}, t}
    MAT(v->t1.w, s->E, s->E, s->E, SDD_Q8_T1, -1, 0);
    MAT(v->t2.w, s->E, s->E, s->E, SDD_Q8_T2, -1, 1);
    MAT(v->ew_all, m->Esum, s->E, s->E, SDD_Q8_EW, -1, 1);
    MAT(v->rb[0].l.w, s->H[0], 2 * s->D, s->D, SDD_Q8_RB0X, SDD_Q8_RB0S, 0);
    for (int i = 1; i < SDD_N_RB; i++)
        MAT(v->rb[i].l.w, v->rb[i].O, v->rb[i].I, v->rb[i].I, SDD_Q8_RB0S + i, -1, 1);
    MAT(v->o1.w, s->F, s->H[0], s->H[0], SDD_Q8_O1, -1, 1);
    MAT(v->o2.w, s->D, s->F, s->F, SDD_Q8_O2, -1, 1);
#undef MAT
    for (int i = 1; i < n; i++) /* blob order (insertion sort) */
        for (int j = i; j > 0 && mat[j].off < mat[j - 1].off; j--) {
            q8_mat_t t = mat[j];
            mat[j] = mat[j - 1];
            mat[j - 1] = t;
        }
    return n;
}

#define Q8_SPAN_ROWS 32        /* rows of a matrix per span of the fused update (a panel) */
#define Q8_SPAN_FLOATS 65536   /* floats per span elsewhere */

/* The spans of the fused update: each matrix in groups of Q8_SPAN_ROWS rows, the rest of
 * the blob in pieces of Q8_SPAN_FLOATS. Counted in a first pass, filled in a second. */
static int q8_spans(sdd_model_t *m)
{
    q8_mat_t mat[SDD_Q8_NET];
    int nm = q8_mats(m, mat);
    for (int pass = 0; pass < 2; pass++) {
        int k = 0;
        int64_t at = 0;
#define SPAN(end, who) do { if (pass) { m->q8_bounds[k] = at; m->q8_span[k] = (who); } k++; at = (end); } while (0)
        for (int i = 0; i <= nm; i++) {
            int64_t to = i < nm ? mat[i].off : m->n_params;
            while (at < to) SPAN(to - at > Q8_SPAN_FLOATS ? at + Q8_SPAN_FLOATS : to, -1);
            if (i == nm) break;
            for (int r = 0; r < mat[i].rows; r += Q8_SPAN_ROWS) {
                int r1 = r + Q8_SPAN_ROWS < mat[i].rows ? r + Q8_SPAN_ROWS : mat[i].rows;
                SPAN(mat[i].off + (int64_t)r1 * mat[i].ld, i);
            }
        }
#undef SPAN
        if (pass) {
            m->q8_bounds[k] = at;
            break;
        }
        m->q8_spans = k;
        if (!(m->q8_bounds = sdd_malloc((size_t)(k + 1) * sizeof(int64_t))) ||
            !(m->q8_span = sdd_malloc((size_t)(k > 0 ? k : 1) * sizeof(int32_t))))
            return SDD_ENOMEM;
    }
    return SDD_OK;
}

/* ---- the int8 weights of any blob with the model's layout */

/* The compensations of the transposes, once all their rows are copied */
static void q8_sums(sdd_q8net_t *q)
{
    for (int i = 0; i < SDD_Q8_NET; i++)
        if (q->wt[i].panels) sdd_q8w_sums(&q->wt[i]);
}

int sdd_q8net_alloc(sdd_q8net_t *q, const sdd_model_t *m, int rows, int train)
{
    q8_mat_t mat[SDD_Q8_NET];
    int nm = q8_mats(m, mat), rc = SDD_OK;
    memset(q, 0, sizeof *q);
    if (sdd_net_longest_sum(&m->shape) > SDD_Q8_KMAX)
        return sdd_error(SDD_EINVAL, "int8 products sum at most %d inputs, and this network's longest sums %d: use "
                         "fp32 products", SDD_Q8_KMAX, sdd_net_longest_sum(&m->shape));
    for (int i = 0; i < nm && rc == SDD_OK; i++)
        for (int j = 0; j < 2 && mat[i].q[j] >= 0 && rc == SDD_OK; j++) {
            sdd_q8w_t *w = &q->w[mat[i].q[j]];
            if (!train && mat[i].q[j] <= SDD_Q8_EW) continue;
            rc = sdd_q8w_alloc(w, mat[i].rows, mat[i].K);
            if (rc == SDD_OK && w->Kp > q->ldq) q->ldq = w->Kp;
            if (rc == SDD_OK && train && mat[i].t) {
                rc = sdd_q8w_alloc_t(&q->wt[mat[i].q[j]], w);
                if (rc == SDD_OK && q->wt[mat[i].q[j]].Kp > q->ldq) q->ldq = q->wt[mat[i].q[j]].Kp;
            }
        }
    if (rc == SDD_OK && (!(q->xq = sdd_malloc((size_t)rows * q->ldq)) || !(q->xs = sdd_malloc((size_t)rows * sizeof(float)))))
        rc = SDD_ENOMEM;
    if (rc < 0) sdd_q8net_free(q);
    return rc;
}

void sdd_q8net_free(sdd_q8net_t *q)
{
    for (int i = 0; i < SDD_Q8_NET; i++) {
        sdd_q8w_free(&q->w[i]);
        sdd_q8w_free(&q->wt[i]);
    }
    free(q->xq);
    free(q->xs);
    memset(q, 0, sizeof *q);
}

void sdd_q8net_quantise(sdd_q8net_t *q, const sdd_model_t *m, const float *blob)
{
    q8_mat_t mat[SDD_Q8_NET];
    int nm = q8_mats(m, mat);
    for (int i = 0; i < nm; i++)
        for (int j = 0; j < 2 && mat[i].q[j] >= 0; j++) {
            sdd_q8w_t *w = &q->w[mat[i].q[j]], *t = &q->wt[mat[i].q[j]];
            if (!w->panels) continue;
            sdd_q8w_quantise(w, blob + mat[i].off + (size_t)j * mat[i].K, mat[i].ld);
            if (t->panels) sdd_q8w_transpose_rows(t, w, 0, w->N);
        }
    q8_sums(q);
}

void sdd_q8net_product(sdd_q8net_t *q, int idx, int B, const float *x, int ldx, const float *bias, int accumulate,
                       float *y, int ldy)
{
    sdd_q8_rows(q->xq, q->ldq, q->xs, x, ldx, B, q->w[idx].K);
    sdd_q8_gemm(q->xq, q->ldq, q->xs, B, &q->w[idx], bias, accumulate, y, ldy);
}

int sdd_q8net_has_dx(const sdd_q8net_t *q, int idx) { return q && q->wt[idx].panels != NULL; }

double sdd_q8net_backward(sdd_q8net_t *q, int idx, int B, const float *dy, int lddy, const float *x, int ldx,
                          float *dw, int lddw, int accumulate, float *dx, int lddx)
{
    const sdd_q8w_t *w = &q->w[idx];
    sdd_q8job_t j;
    sdd_q8_rows_scaled(q->xq, q->ldq, q->xs, dy, lddy, B, w->N, w->scale);
    int n = sdd_q8_gemm_job(&j, q->xq, q->ldq, q->xs, B, &q->wt[idx], NULL, accumulate, dx, lddx);
    return sdd_gemm_sumsq_also(1, 0, w->N, w->K, B, 1.0f, dy, lddy, x, ldx, 1.0f, dw, lddw, sdd_q8_gemm_piece, &j, n);
}

/* ---- training */

typedef struct {
    sdd_model_t *m;
    q8_mat_t mat[SDD_Q8_NET];
} q8_upd_ctx_t;

/* after span k is updated: its rows of a weight matrix quantised */
static void q8_after(void *ctx, int k)
{
    q8_upd_ctx_t *c = ctx;
    sdd_model_t *m = c->m;
    if (m->q8_span[k] < 0) return;
    const q8_mat_t *a = &c->mat[m->q8_span[k]];
    int r0 = (int)((m->q8_bounds[k] - a->off) / a->ld), r1 = (int)((m->q8_bounds[k + 1] - a->off) / a->ld);
    for (int j = 0; j < 2 && a->q[j] >= 0; j++) {
        sdd_q8w_quantise_rows(&m->q8->w[a->q[j]], m->params + a->off + (size_t)j * a->K, a->ld, r0, r1);
        if (m->q8->wt[a->q[j]].panels) sdd_q8w_transpose_rows(&m->q8->wt[a->q[j]], &m->q8->w[a->q[j]], r0, r1);
    }
}

void sdd_net_optim_q8(sdd_model_t *m, double norm, double lr)
{
    const sdd_train_opt_t *o = &m->opt;
    q8_upd_ctx_t c = {m, {{0}}};
    q8_mats(m, c.mat);
    sdd_optim_step_spans(m->params, m->grads, m->adam_m, m->adam_v, m->ema, m->q8_bounds, m->q8_spans, norm, o->clip,
                         lr, m->step + 1, o->ema, q8_after, &c);
    q8_sums(m->q8);
    m->q8_step = m->step + 1;
}

int sdd_net_q8_alloc(sdd_model_t *m)
{
    int rc;
    if (m->q8) return SDD_OK;
    if (!(m->q8 = sdd_malloc(sizeof *m->q8))) return SDD_ENOMEM;
    if ((rc = sdd_q8net_alloc(m->q8, m, m->max_batch, 1)) == SDD_OK) rc = q8_spans(m);
    m->q8_step = -1;
    if (rc < 0) {
        sdd_net_q8_free(m);
        return rc;
    }
    if (!sdd_cpu_vnni())
        SDD_LOG_W("int8 products without AVX512_VNNI run on portable loops: the same model, more slowly");
    return SDD_OK;
}

void sdd_net_q8_free(sdd_model_t *m)
{
    if (m->q8) sdd_q8net_free(m->q8);
    free(m->q8);
    free(m->q8_bounds);
    free(m->q8_span);
    m->q8 = NULL;
    m->q8_bounds = NULL;
    m->q8_span = NULL;
}

void sdd_net_q8_quantise(sdd_model_t *m)
{
    sdd_q8net_quantise(m->q8, m, m->params);
    m->q8_step = m->step;
}
