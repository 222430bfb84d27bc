/*
 * sample_internal.h: the parts of sampling below sdd_sample: the forward pass
 * (sample_fwd.c, tested against the training forward of model.c), the decoding of x0-hat and the
 * generation of a CSR matrix. Used by sample.c, the tests and bench/. Not part of the
 * public interface.
 */
#ifndef SDD_SAMPLE_INTERNAL_H
#define SDD_SAMPLE_INTERNAL_H

#include "nn.h"

#define SAMPLE_TILE 512 /* rows of every product of sampling; batches start at multiples of it */
#define SAMPLE_ROWS 16  /* rows per piece of sampling's element-wise passes */


/* Forward-only evaluation of the network for rows that share one time t: the time
 * embedding and its projections into the seven blocks are computed once per distinct
 * label instead of once per row (a quarter of the work of a forward at G = 1000), and
 * no activation is kept for a backward. Same result as sdd_net_forward up to rounding. */
typedef struct sdd_fwd sdd_fwd_t;

/* Buffers for up to max_batch rows of model m with weights w ([n_params], e.g. m->ema;
 * read, not copied: w must outlive the object). */
int sdd_fwd_init(sdd_fwd_t **out, const sdd_model_t *m, const float *w, int max_batch);
void sdd_fwd_free(sdd_fwd_t *f);
/* Precision of the forward's products (SDD_PRECISION_*, sdd_sample_opt_t.precision):
 * INT8, or AUTO on a CPU with AVX512_VNNI, quantises the weights once (gemm_q8.c) and runs
 * every product of the rows in int8; FP32 and BF16 run them in that float precision; the
 * time embedding's products, and every product under AUTO without VNNI, keep the model's
 * training precision. Without a call: the model's precision. Returns SDD_OK or
 * SDD_ENOMEM (then the float products stay). */
int sdd_fwd_set_precision(sdd_fwd_t *f, int precision);
/* 1 when the products run in int8. */
int sdd_fwd_int8(const sdd_fwd_t *f);
/* out [B][D] = net([xt | sc], t) with xt [B][D], sc [n_sc][D] for rows 0..n_sc-1 (zero
 * estimate for the others), labels [B] in [0, n_labels] (n_labels = null class) or NULL
 * for an unconditional model. Rows with equal labels next to each other share work. The
 * returned buffer belongs to f and is overwritten by the next call. */
const float *sdd_fwd_run(sdd_fwd_t *f, int B, const float *xt, const float *sc, int n_sc, float t,
                         const int32_t *labels);

/* Decoding of a final x0-hat. G genes; bits = 0 for a model without
 * sparsity bits (rows of G values, output max(value, 0)), else rows [v (G) | b (G)]. */
typedef struct {
    int64_t G;
    int bits;                 /* 1: rows carry sparsity bits */
    double bit_scale;         /* magnitude of the bits (> 0) */
    double M;                 /* global maximum of the training log1p values */
    const float *Mg;          /* [G] per-gene maxima (per-gene scaling) or NULL (global) */
    const float *mg;          /* [G] smallest non-zero training value per gene */
    int mode;                 /* SDD_BITS_THRESHOLD or SDD_BITS_BERNOULLI */
} sdd_decode_t;

/* out [B][G] from x0 [B][D]: value = (v + 1)/2 * M (M_g), mask = [b > 0] or a draw with
 * probability clamp((b/bit_scale + 1)/2, 0, 1) from rng (one uniform per entry, row by
 * row); where the mask is on the value is clamped to [m_g, M] (M_g), elsewhere exactly 0. */
int sdd_decode_rows(const sdd_decode_t *d, const float *x0, int64_t B, sdd_rng_t *rng, float *out);

/* The matrix behind sdd_sample, without names or labels as a dataset: generate
 * opt->n_cells cells with model m (doc/method.md §7), or the range opt->first,
 * opt->count of them, into *X (allocated CSR, cells of the range x G, log1p values; free
 * with sdd_csr_free): where the decoded mask is on, the value (v + 1)/2 M clamped to
 * [m_g, M] (M_g with per-gene scaling); elsewhere an exact zero that is not stored.
 * Models without sparsity bits give max(value, 0). labels_out (may be NULL) receives
 * the range's label codes of conditional models. Cells are made in batches
 * (opt->batch); progress (may be NULL) gets stage "sample". Invalid label codes give
 * SDD_EINVAL. */
int sdd_model_sample(sdd_model_t *m, const sdd_sample_opt_t *opt, sdd_csr_t *X,
                     int32_t *labels_out, sdd_progress_f progress, void *user);

#endif
