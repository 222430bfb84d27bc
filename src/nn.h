/*
 * nn.h: internals shared by the network, diffusion, optimiser, training, checkpoint and
 * sampling stages. Not part of the public interface (sddcell.h has the opaque
 * sdd_model_t and the functions front ends call).
 *
 * Layout of the network (doc/method.md §4), B batch, G genes, D = 2G output width (G with
 * --no-sparsity-bits), E embedding width, H0..H3 hidden widths, F head width:
 *   emb  = t2(SiLU(t1(sinusoid(1000 t)))) [+ label[y]]               [B][E]
 *   h0 = RB(2D, H0)(x) h1 = RB(H0,H1)(h0) h2 = RB(H1,H2)(h1) h3 = RB(H2,H3)(h2)
 *   u4 = RB(H3,H2)(h3) + h2  u5 = RB(H2,H1)(u4) + h1  u6 = RB(H1,H0)(u5) + h0
 *   out = o2(SiLU(LN(o1(u6))))                                        [B][D]
 * RB(I,O)(x) = SiLU(LN_O(W x + b + We SiLU(emb) + be)).
 * Linear weights are stored as PyTorch does, [out][in] row-major, so y = x W^T.
 */
#ifndef SDD_NN_H
#define SDD_NN_H

#include "sdd_internal.h"
#include <stdio.h>

#include "blas.h"

/* --------------------------------------------------------------- network */

#define SDD_N_RB 7         /* residual blocks: 4 down, 3 up */
#define SDD_MAX_TENSORS 64

typedef struct {
    char name[32];
    int64_t rows, cols;    /* a vector has rows = 1 */
    int64_t offset;        /* into the parameter blob, in floats */
} sdd_tensor_t;

/* Network shape: everything that fixes the parameter table. */
typedef struct {
    int64_t G;             /* genes */
    int bits;              /* 1: x0 = [values | sparsity bits] (D = 2G); 0: values only (D = G) */
    int D;                 /* output width; input width is 2D */
    int H[4];              /* hidden widths (512, 512, 256, 128) */
    int F;                 /* head width (1024) */
    int E;                 /* embedding width (512) */
    int n_labels;          /* label categories; 0 = unconditional (the null class adds a row) */
} sdd_netshape_t;

/* Views into one parameter-sized blob (the parameters, their gradients, Adam moments). */
typedef struct {
    float *w, *b;          /* Linear: w [out][in], b [out] */
} sdd_linear_t;

typedef struct {
    sdd_linear_t l;        /* [O][I], [O] */
    float *ew, *eb;        /* embedding projection: rows of the stacked [Esum][E] matrix */
    float *g, *beta;       /* LayerNorm affine [O] */
    int I, O;
    int eoff;              /* column offset of this block in the stacked projection */
} sdd_rb_t;

typedef struct {
    sdd_linear_t t1, t2;   /* time MLP [E][E] */
    sdd_rb_t rb[SDD_N_RB];
    sdd_linear_t o1;       /* [F][H0] */
    float *og, *obeta;     /* head LayerNorm [F] */
    sdd_linear_t o2;       /* [D][F] */
    float *ew_all, *eb_all;/* the 7 blocks' projections stacked: [Esum][E], [Esum] */
    float *label;          /* [n_labels + 1][E] or NULL */
} sdd_views_t;

/* Activations of one forward pass for up to max_batch rows, kept for backward. */
typedef struct {
    float *sin;            /* [B][E] sinusoidal embedding */
    float *z1, *a1;        /* [B][E] t1 output, SiLU of it */
    float *emb, *semb;     /* [B][E] embedding, SiLU(emb) */
    float *eproj;          /* [B][Esum] We SiLU(emb) + be for all blocks */
    float *xhat[SDD_N_RB], *y[SDD_N_RB]; /* [B][O] */
    float *h[SDD_N_RB];    /* [B][O] block outputs of the down blocks 0..3 (NULL for 4..6) */
    float *u[SDD_N_RB];    /* [B][O] u = h + skip of the up blocks 4..6 (NULL for 0..3) */
    float *rstd[SDD_N_RB]; /* [B] */
    float *oxhat, *oy, *oa;/* [B][F] head */
    float *orstd;          /* [B] */
    float *out;            /* [B][D] */
    float *pre0;           /* [B][H0] x_t half of block 0's product (sdd_net_prepare) */
    /* backward scratch */
    float *deproj;         /* [B][Esum] */
    float *dh[4];          /* [B][H_i] gradients of h0..h3 (skip accumulators) */
    float *dt1;            /* [B][max width] */
    float *dF;             /* [B][F] */
    float *dE;             /* [B][E] */
    float *part;           /* [B/ROWS_PER_PIECE][3][max width] per-piece LayerNorm sums */
} sdd_acts_t;

/* The validation rule (validation.c, doc/method.md §6.9). */
#define SDD_VAL_MAX_CELLS 250 /* cells set aside at most */
#define SDD_VAL_MIN_CELLS 50  /* fewer (or fewer left to fit): no validation */
#define SDD_VAL_TIMES 4       /* times t = k / (SDD_VAL_TIMES + 1) of each check */
/* Which training cells are set aside (val) and which the batches are drawn from (fit),
 * in file order; n_val = 0 and both NULL without validation. */
typedef struct {
    int64_t n_val, n_fit;
    int64_t *val, *fit;
} sdd_valset_t;
/* The rule's state, saved with the model. */
typedef struct {
    int64_t checks;          /* checks made */
    double best_loss;        /* lowest validation loss so far, at best_step */
    int64_t best_step;
    double kept_loss;        /* loss of the kept weights (m->kept), at kept_step */
    int64_t kept_step;
    int bad;                 /* checks in a row above the band since kept_step */
    int64_t stopped;         /* step at which the rule ended training (0: it has not) */
} sdd_valstate_t;

/* The network's weight matrices as int8 products take them (model_q8.c): time MLP,
 * stacked projections, block 0's x_t and estimate halves, blocks 1-6, head; and the
 * buffer of a product's quantised input rows. */
enum { SDD_Q8_T1, SDD_Q8_T2, SDD_Q8_EW, SDD_Q8_RB0X, SDD_Q8_RB0S, SDD_Q8_O1 = SDD_Q8_RB0S + SDD_N_RB,
       SDD_Q8_O2, SDD_Q8_NET };
typedef struct {
    sdd_q8w_t w[SDD_Q8_NET];           /* a matrix not allocated has panels NULL */
    sdd_q8w_t wt[SDD_Q8_NET];          /* transposes for training's input gradients:
                                          all but t1 and block 0 */
    uint8_t *xq;                       /* [rows][ldq] */
    float *xs;                         /* [rows] */
    int ldq;
} sdd_q8net_t;

struct sdd_model {
    sdd_netshape_t shape;
    int Esum;                          /* sum of block output widths */
    sdd_tensor_t table[SDD_MAX_TENSORS];
    int n_tensors;
    int64_t n_params;
    float *params, *grads, *adam_m, *adam_v, *ema;  /* [n_params] each */
    sdd_views_t p, g;                  /* views into params and grads */
    int max_batch;
    float *arena;
    sdd_acts_t a;
    /* training state */
    int64_t step;
    sdd_rng_t rng;
    double wsq;                        /* sum of squares of the weight matrices' gradients,
                                          as the last backward left them */
    /* data constants and metadata (doc/method.md §3.3) */
    int scale_gene;                    /* 0: global M; 1: per-gene M_g */
    double M;                          /* global maximum of the log1p values */
    float *Mg;                         /* [G] per-gene maxima (used when scale_gene) */
    float *mg;                         /* [G] per-gene smallest non-zero log1p value */
    double bit_scale;
    char **gene_names, **gene_ids;     /* [G]; gene_ids may be NULL */
    char *label_key;
    char **label_names;                /* [n_labels] */
    double *label_freq;                /* [n_labels] training proportions */
    char *prep_json;
    double *lib_sizes;                 /* [n_lib] training library sizes (for --counts) */
    int64_t n_lib;
    sdd_train_opt_t opt;               /* options of the run (steps resolved) */
    sdd_valstate_t val;                /* the validation rule's state */
    float *kept;                       /* [n_params] EMA weights the rule keeps, or NULL */
    /* data-parallel training (sdd_model_set_parallel; not saved) */
    int rank, n_ranks;
    sdd_reduce_f reduce;
    void *reduce_user;
    float *slots;                      /* [S/R][n_params + 1] slice gradients and loss */
    char opt_ckpt_path[4096];
    /* int8 products of training (opt.precision SDD_PRECISION_INT8, doc/method.md §6.10):
     * the forward's and the input gradients'; the weight matrices quantised (and the
     * transposes), and the rows of a product */
    sdd_q8net_t *q8;                   /* NULL until the model trains in int8 */
    int64_t q8_step;                   /* m->step whose parameters q8 holds; -1: none */
    int64_t *q8_bounds;                /* [q8_spans + 1] spans of the fused update (model.c) */
    int32_t *q8_span;                  /* [q8_spans] its matrix (index into the list) or -1 */
    int q8_spans;
    int q8_on;                         /* the pass under way runs its products in int8 */
};

/* The cells of ts that the rule sets aside for model m (m->opt.validation, seeded by
 * m->opt.seed, stratified by the labels of a conditional model); none when too few. */
int sdd_valset_make(const sdd_model_t *m, const sdd_trainset_t *ts, sdd_valset_t *v);
void sdd_valset_free(sdd_valset_t *v);
/* The EMA network's mean loss on the set-aside cells (fixed times and noise). Uses the
 * model's activation arena, like a training step. */
int sdd_val_loss(sdd_model_t *m, const sdd_trainset_t *ts, const sdd_valset_t *v, double *loss);
/* Record a check of loss at the current step: returns 1 when training is to end (the
 * kept weights are then the EMA weights and m->val.stopped is set), 0 to go on, or a
 * negative code. */
int sdd_val_check(sdd_model_t *m, double loss);

/* q sized for m's shape and products of up to `rows` rows; for training (train) also
 * the embedding's matrices and the transposes for the input gradients: SDD_OK,
 * SDD_ENOMEM, or SDD_EINVAL when a product sums more than SDD_Q8_KMAX inputs (then
 * nothing is left allocated). */
int sdd_q8net_alloc(sdd_q8net_t *q, const sdd_model_t *m, int rows, int train);
void sdd_q8net_free(sdd_q8net_t *q);
/* The allocated matrices of q quantised from blob (laid out as m->params), on the
 * compute threads. */
void sdd_q8net_quantise(sdd_q8net_t *q, const sdd_model_t *m, const float *blob);
/* y [B][N] = x [B][K] W^T (+ bias, or + y when accumulate) with W = q->w[idx] in int8. */
void sdd_q8net_product(sdd_q8net_t *q, int idx, int B, const float *x, int ldx, const float *bias, int accumulate,
                       float *y, int ldy);
/* Whether q holds the transpose of matrix idx (q may be NULL). */
int sdd_q8net_has_dx(const sdd_q8net_t *q, int idx);
/* The backward of matrix idx (W [N][K]) with its input gradient in int8: dW += dy^T x in
 * float and dx [B][K] = dy W (+ dx when accumulate) in int8, W ~ diag(scale) q (the rows
 * of dy scaled by the weights' row scales are quantised, their product with the
 * transpose's integers is exact: gemm_q8.c), the two products' pieces shared out in one
 * job; returns the sum of squares of dW as sdd_gemm_sumsq. dx must not overlap dy or x. */
double sdd_q8net_backward(sdd_q8net_t *q, int idx, int B, const float *dy, int lddy, const float *x, int ldx,
                          float *dw, int lddw, int accumulate, float *dx, int lddx);
/* Allocate m's int8 training forward (m->q8 with the embedding, the spans of the fused
 * update) for max_batch rows, once (training creates it; a loaded model at its first
 * step); returns as sdd_q8net_alloc. */
int sdd_net_q8_alloc(sdd_model_t *m);
void sdd_net_q8_free(sdd_model_t *m);
/* The training parameters quantised into m->q8 on the compute threads; m->q8_step =
 * m->step. */
void sdd_net_q8_quantise(sdd_model_t *m);
/* The optimiser step (sdd_optim_step_norm, step number m->step + 1) of a model training
 * in int8, fused with the quantisation of its weight matrices: each group of 32 rows is
 * quantised right after it is updated. m->q8 then holds the weights of step m->step + 1. */
void sdd_net_optim_q8(sdd_model_t *m, double norm, double lr);
/* The most inputs any product of the network sums (the widest of block 0's halves,
 * the hidden and head widths and the embedding): what int8 products must keep within
 * SDD_Q8_KMAX. */
int sdd_net_longest_sum(const sdd_netshape_t *s);
/* Build the parameter table and views for `shape`; allocate parameters, gradients, Adam
 * state and EMA (zeroed) and an activation arena for max_batch rows. */
int sdd_net_alloc(sdd_model_t *m, const sdd_netshape_t *shape, int max_batch);
/* Free what sdd_net_alloc allocated (the struct itself is not freed). */
void sdd_net_free(sdd_model_t *m);
/* PyTorch's default initialisation drawn from rng (Linear U(+-1/sqrt(fan_in)), LN 1/0,
 * label embedding N(0,1) like nn.Embedding). EMA = parameters; Adam state zero. */
void sdd_net_init(sdd_model_t *m, sdd_rng_t *rng);
/* Find a tensor by name (NULL if absent). */
const sdd_tensor_t *sdd_net_tensor(const sdd_model_t *m, const char *name);
/* Number of parameters for a shape (without allocating); INT64_MAX when it would not
 * fit in 64 bits. */
int64_t sdd_net_count(const sdd_netshape_t *shape);
/* SDD_OK when every number of the parameter-sized blob w is finite; otherwise SDD_EDATA
 * with a detail naming `what` ("EMA weights"), how many are bad and the first tensor. */
int sdd_net_check_finite(const sdd_model_t *m, const float *w, const char *what);

/* Forward pass with parameters `w` (m->params or m->ema) on B <= max_batch rows.
 * xt [B][D] noisy input; sc [n_sc][D] self-conditioning estimates of rows 0..n_sc-1
 * (rows n_sc..B-1 have a zero estimate; sc may be NULL when n_sc = 0); t [B] times in
 * [0,1]; labels [B] in [0, n_labels] (n_labels = null class) or NULL. The output is
 * m->a.out [B][D]. Activations for backward are kept in the arena. */
void sdd_net_forward(sdd_model_t *m, const float *w, int B, const float *xt, const float *sc,
                     int n_sc, const float *t, const int32_t *labels);
/* The forward in two parts, so that a training step computes once what its two passes
 * share: prepare computes, for B rows, the time (and label) embedding with every block's
 * projection of it and the x_t half of block 0's product; forward_prepared then runs
 * the network on the first B' <= B of those rows with estimates for rows 0..n_sc-1.
 * sdd_net_forward = prepare + forward_prepared on the same rows. */
void sdd_net_prepare(sdd_model_t *m, const float *w, int B, const float *xt, const float *t,
                     const int32_t *labels);
void sdd_net_forward_prepared(sdd_model_t *m, const float *w, int B, const float *sc, int n_sc);
/* Backward of the last forward (which must have used m->params): dout [B][D] is the
 * gradient of the loss with respect to m->a.out; gradients accumulate into m->grads
 * (sdd_optim_step leaves them zeroed, so a training step needs no separate zeroing). */
void sdd_net_backward(sdd_model_t *m, int B, const float *xt, const float *sc, int n_sc,
                      const int32_t *labels, const float *dout);
/* The L2 norm of m->grads after one sdd_net_backward onto zeroed gradients: the weight
 * matrices' part comes from the backward's products (m->wsq), the rest (biases, norms,
 * labels) is summed here, tensor by tensor in table order. */
double sdd_net_grad_norm(const sdd_model_t *m);
/* Set the calling thread's product precision to the model's option as this CPU runs it
 * (sdd_gemm_resolve); every network pass calls it first. Returns the SDD_GEMM_* used. */
int sdd_net_use_precision(const sdd_model_t *m);
/* Views of a parameter-sized blob (weights, gradients, EMA) by the table. */
void sdd_net_views(const sdd_model_t *m, float *blob, sdd_views_t *v);

/* The layers (model.c), exposed for the per-layer tests. Shapes: B rows, I in, O out.
 * linear: y [B][O] = x [B][I] W^T + b; backward: dW [O][I] += dy^T x, db += colsum dy,
 * dx = beta dx + dy W (dx NULL: skipped). Row strides ld*. The backward returns the sum
 * of squares of dW as it leaves it (sdd_gemm_sumsq). */
void sdd_linear_forward(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                        const float *b, int B, int I, int O);
double sdd_linear_backward(float *dx, float beta, float *dw, int lddw, float *db, const float *dy,
                           int lddy, const float *x, int ldx, const float *w, int ldw, int B, int I,
                           int O);
/* y [n] = SiLU(x); dx [n] = dy SiLU'(x) (in place allowed). */
void sdd_silu_forward(float *y, const float *x, size_t n);
void sdd_silu_backward(float *dx, const float *dy, const float *x, size_t n);
/* out [B][E] = cos(1000 t f_k) | sin(1000 t f_k), k < E/2. No parameters, no backward. */
void sdd_timestep_forward(float *out, const float *t, int B, int E);
/* p = pre [B][O] + b + e (e [B][O] row stride lde, may be NULL); xhat = LN(p) (rstd [B]);
 * y = g xhat + beta; h = SiLU(y); y may alias pre. Backward: dpre [B][O] (stride ldp) from
 * dh; dg, dbeta accumulate. Both share rows out among the compute threads. */
void sdd_lnsilu_forward(float *h, float *y, float *xhat, float *rstd, float *pre, const float *b,
                        const float *e, int lde, const float *g, const float *beta, int B, int O);
void sdd_lnsilu_backward(float *dpre, int ldp, float *dg, float *dbeta, const float *dh,
                         const float *y, const float *xhat, const float *rstd, const float *g,
                         int B, int O);

/* The output parametrisations and the training loss (loss.c; sdd_precond and
 * sdd_precond_means in diffusion.c). */
#define SDD_PRECOND_SD 0.5
/* c_skip, c_out and c_mean of the preconditioned x0-hat at time t (diffusion.c). */
void sdd_precond(double t, float *c_skip, float *c_out, float *c_mean);
/* mu[0], mu[1]: the mean of the value half and of the bit half of x0 over X (diffusion.c). */
void sdd_precond_means(const sdd_model_t *m, const sdd_csr_t *X, double mu[2]);
/* x0-hat = c_skip(t_r) xt + c_out(t_r) F + c_mean(t_r) mu for each row r, in place over
 * out [B][D]; mu[0] for the first G columns, mu[1] for the bits. */
void sdd_precond_apply(float *out, const float *xt, const float *t, int B, int D, int bits, const double *mu);
/* sdd_mse_loss for a preconditioned net: the error of x0-hat = c_skip xt + c_out F is
 * measured in units of c_out, (F - (x0 - c_skip xt)/c_out)^2, so every t weighs alike;
 * weights and masks as sdd_mse_loss (masks read from x0). dout receives d loss / d F. */
double sdd_mse_loss_precond(const float *F, const float *x0, const float *xt, const float *t, int B, int D,
                            int bits, double bit_weight, double w_zero_value, const double *mu, float *dout);
/* Bit logits (precond 2): the network's bit outputs are log-odds corrections F_j and
 * x0-hat bit_j = bs tanh((L_j + F_j) / 2), L_j = 2 alpha bs y_j / sigma^2 the log-odds the
 * bit's own noised value y_j gives. Applied in place over the bit half of out [B][D], in
 * float (sdd_vec_bitlogit). */
void sdd_bitlogit_apply(float *out, const float *xt, const float *t, int B, int D, double bs);
/* Its loss: the value half as sdd_mse_loss, the bit half the binary cross-entropy of
 * sigmoid(L + F) against the bit (times bit_weight); dout receives d loss / d F. */
double sdd_loss_bitlogit(const float *F, const float *x0, const float *xt, const float *t, int B, int D, double bs,
                         double bit_weight, double w_zero_value, float *dout);
/* x0 mean-squared loss over B rows and D outputs, in double. Value entries where the
 * target is a zero (x0 value -1 ... bit < 0) weigh w_zero_value (1 = plain MSE, 0 =
 * value loss masked to non-zero entries); bit entries weigh bit_weight. With
 * bits = 0 there are no bit entries and no masking. dout (may be NULL) receives
 * d loss / d out. The denominator is B * D. */
/* The training loss of model m for the network's output out [B][D] on x_t (times t,
 * clean rows x0), by the model's output parametrisation and loss options; dout (may be
 * NULL) receives d loss / d out. */
double sdd_model_loss(const sdd_model_t *m, const float *out, const float *x0, const float *xt, const float *t, int B,
                      float *dout);
double sdd_mse_loss(const float *out, const float *x0, int B, int D, int bits,
                    double bit_weight, double w_zero_value, float *dout);

/* ------------------------------------------------------------- diffusion */

/* gamma(t) = cos^2(((t + 2e-4) / (1 + 2.5e-4)) pi/2), in double. */
double sdd_gamma(double t);
/* Per-gene statistics of a log1p CSR matrix with G columns: global max M, per-gene
 * max Mg and smallest non-zero mg (0 for all-zero genes). */
int sdd_data_scales(const sdd_csr_t *X, double *M, float *Mg, float *mg);
/* Encode rows idx[0..B) of X into x0 [B][D]: v = 2x/M - 1 (M or Mg per gene), and with
 * bits s = +-bit_scale. */
void sdd_encode_rows(const sdd_model_t *m, const sdd_csr_t *X, const int64_t *idx, int B,
                     float *x0);
/* x_t = sqrt(gamma) x0 + sqrt(1 - gamma) eps, eps ~ N(0, I). One draw from rng keys the
 * call; row r's noise comes from its own stream (sdd_rng_split of that key, r), so rows
 * run on the compute threads and the result does not depend on the thread count. */
void sdd_noise_rows(sdd_rng_t *rng, const float *x0, const float *t, int B, int D, float *xt);

/* -------------------------------------------------------------- optimiser */

/* Global L2 norm of g[n] (accumulated in double). */
double sdd_grad_norm(const float *g, int64_t n);
/* Scale gradients so their global norm is at most max_norm (as torch's
 * clip_grad_norm_: coefficient max_norm / (norm + 1e-6) when below 1). Returns the norm. */
double sdd_grad_clip(float *g, int64_t n, double max_norm);
/* One Adam step number `step` (1-based) as torch.optim.Adam (no weight decay). */
void sdd_adam_step(float *p, const float *g, float *mo, float *ve, int64_t n, double lr,
                   double b1, double b2, double eps, int64_t step);
/* EMA update after optimiser step k (0-based): decay_k = min(decay, (1 + k)/(10 + k)). */
void sdd_ema_update(float *ema, const float *p, int64_t n, double decay, int64_t k);

/* The whole update of a training step in one pass over the blobs: clip (gradients
 * scaled on the fly by min(1, max_norm / (norm + 1e-6)); max_norm 0 = off), Adam step
 * number `step` (1-based, betas 0.9/0.999, eps 1e-8), then the EMA with k = step - 1.
 * Same numbers as sdd_grad_clip + sdd_adam_step + sdd_ema_update. The gradients are
 * consumed: g is left all zeros, ready for the next backward. Returns the norm. */
double sdd_optim_step(float *p, float *g, float *mo, float *ve, float *ema, int64_t n,
                      double max_norm, double lr, int64_t step, double decay);
/* The same update with the gradients' norm given (as sdd_net_grad_norm computes it). */
void sdd_optim_step_norm(float *p, float *g, float *mo, float *ve, float *ema, int64_t n, double norm,
                         double max_norm, double lr, int64_t step, double decay);

/* The same update (EMA included) over the spans [bounds[k], bounds[k+1]) of the blobs,
 * k < n_spans, which must tile them, each span on one compute thread; after(ctx, k), when
 * given, runs on that thread right after span k is updated (the int8 weights of its rows
 * are quantised there while they are in cache). Element by element, so the numbers are
 * those of sdd_optim_step_norm whatever the spans and threads. */
void sdd_optim_step_spans(float *p, float *g, float *mo, float *ve, float *ema, const int64_t *bounds,
                          int n_spans, double norm, double max_norm, double lr, int64_t step, double decay,
                          void (*after)(void *ctx, int span), void *ctx);

/* -------------------------------------------------------------- training */

/* One training step on the encoded minibatch x0 [B][D] with labels (or NULL), drawing
 * t, noise and the self-conditioning half from m->rng. Returns the loss through *loss.
 * Uses the caller's scratch (see sdd_train_scratch_floats). When the interrupt hook
 * (sdd_set_interrupt_hook) fires between the step's phases, returns SDD_EINTR before the
 * update: weights, moments and step are those of the step before (m->rng is not; the
 * caller restores it). */
int sdd_train_step(sdd_model_t *m, const float *x0, const int32_t *labels, int B,
                   float *scratch, double *loss);
int64_t sdd_train_scratch_floats(const sdd_model_t *m, int B);
/* Allocate a model of shape s with options o (copied): buffers zeroed, no metadata. */
int sdd_model_alloc(sdd_model_t **out, const sdd_netshape_t *s, const sdd_train_opt_t *o);

#endif
