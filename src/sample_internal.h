/*
 * sample_internal.h: the sampling forward pass (sample.c), exposed for its test against
 * the training forward of model.c. Not part of the public interface.
 */
#ifndef SDD_SAMPLE_INTERNAL_H
#define SDD_SAMPLE_INTERNAL_H

#include "nn.h"

/* Forward-only evaluation of the network for rows that share one time t: the time
 * embedding and its projections into the seven blocks are computed once per distinct
 * label instead of once per row (a quarter of the work of a forward at G = 1000), and
 * no activation is kept for a backward. Same result as sdd_net_forward up to rounding. */
typedef struct sdd_fwd sdd_fwd_t;

/* Buffers for up to max_batch rows of model m with weights w ([n_params], e.g. m->ema;
 * read, not copied: w must outlive the object). */
int sdd_fwd_init(sdd_fwd_t **out, const sdd_model_t *m, const float *w, int max_batch);
void sdd_fwd_free(sdd_fwd_t *f);
/* out [B][D] = net([xt | sc], t) with xt [B][D], sc [n_sc][D] for rows 0..n_sc-1 (zero
 * estimate for the others), labels [B] in [0, n_labels] (n_labels = null class) or NULL
 * for an unconditional model. Rows with equal labels next to each other share work. The
 * returned buffer belongs to f and is overwritten by the next call. */
const float *sdd_fwd_run(sdd_fwd_t *f, int B, const float *xt, const float *sc, int n_sc, float t,
                         const int32_t *labels);

#endif
