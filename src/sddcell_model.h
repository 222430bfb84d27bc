/*
 * sddcell_model.h: the public interface of libsddcell, part 3 of 5: the network, its
 * training and sampling (model, train, sample).
 * Included by sddcell.h, whose opening comment holds the conventions of every part.
 */
#ifndef SDDCELL_MODEL_H
#define SDDCELL_MODEL_H

#include "sddcell_data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== model */
/* The network of doc/method.md §3-§4 and everything a trained model carries (weights, EMA
 * weights, Adam state, RNG state, scaling constants, genes, labels). sdd_train_opt_t
 * fixes both the network's shape and the training recipe. sdd_model_t is opaque and the
 * caller's (sdd_model_destroy); it copies the options and the training set's genes, so
 * neither need outlive it. */

/* Training options. Fill with sdd_train_opt_init, then set fields. */
typedef struct {
    int64_t steps;            /* optimiser steps; 0 = the default rule of sdd_train_default_steps */
    int64_t batch;            /* minibatch size B (256) */
    double lr;                /* Adam learning rate (1e-3) */
    double ema;               /* EMA decay (0.9999), with warm-up min(ema, (1+k)/(10+k)) */
    double bit_scale;         /* magnitude of the sparsity bits (1.0) */
    int scale_gene;           /* 0: v = 2x/M - 1 with the global max M; 1: per-gene max M_g */
    double clip;              /* gradient clipping at this global norm (1.0); 0 = off */
    uint64_t seed;            /* the one RNG's seed (0) */
    int hidden[4];            /* hidden widths H0..H3 (512, 512, 256, 128) */
    int head;                 /* head width F (1024) */
    int emb;                  /* time-embedding width E (512; even) */
    int sparsity_bits;        /* 1: x0 = [values | bits]; 0: values only (plain baseline) */
    double label_dropout;     /* probability of the null label during training (0.1) */
    double bit_weight;        /* loss weight of the bit half (1.0) */
    int value_mask;           /* 1: value loss only where the cell's value is non-zero (1) */
    int precond;              /* doc/method.md §3.4. 0: the network's output is x0-hat; 1: the
                                 residual F of x0-hat = c_skip(t) x_t + c_out(t) F + c_mean(t) mu
                                 (diffusion.c, sdd_precond); 2 (bit logits): values as 0,
                                 bits x0-hat = bs tanh((L + F)/2) with L the log-odds of the
                                 bit's own noised value, so that near t = 0 the bits pass
                                 through the 512-wide network unchanged (model.c) */
    double precond_mu[2];     /* with precond: the training data's mean of the value half
                                 and of the bit half of x0 (set by sdd_model_create) */
    double self_cond;         /* fraction of each batch that gets self-conditioning (0.5) */
    int64_t checkpoint_every; /* save to checkpoint_path every N steps (0 = never) */
    const char *checkpoint_path; /* where periodic and interrupt checkpoints go (or NULL) */
    int lr_decay;             /* 0: constant lr; 1: cosine decay lr (1 + cos(pi k / steps))/2 */
    int precision;            /* SDD_PRECISION_*: the network's matrix products (AUTO) */
    double validation;        /* share of the training cells set aside to end training when
                                 the loss on them rises (0.05; 0 = none; at most 250 cells,
                                 none when fewer than 50 would be): doc/method.md §6.9 */
    int64_t val_every;        /* steps between validation checks (250) */
    int patience;             /* checks in a row above the band that end training (2) */
    double val_tol;           /* the band: within this share of the lowest loss (0.01) */
    int grad_slices;          /* the batch's gradient is computed over this many equal
                                 slices and summed pairwise in a fixed order (1: whole;
                                 a power of two dividing batch): R processes that each
                                 take S/R of the slices (sdd_model_set_parallel) then
                                 give the model one process gives */
} sdd_train_opt_t;

/* Precision of the network's matrix products in training and sampling. FP32: OpenBLAS
 * sgemm. BF16: operands rounded to bfloat16, fp32 accumulation, fp32 master weights and
 * everything else fp32; needs AVX512_BF16, and runs fp32 (with a warning) on a CPU
 * without it. INT8 (training): the forward's products in int8 (weights and inputs
 * quantised per row, sums exact: doc/method.md §6.10), the backward and everything else
 * fp32; the same model on any CPU, slower without AVX512_VNNI. AUTO: sdd_model_create
 * resolves it to INT8 where the CPU has AVX512_VNNI and no product sums more than 65536
 * inputs, else FP32, and stores that (a model saved by an earlier version with AUTO
 * runs BF16 where the CPU has it, else FP32). Results do not depend on the thread count
 * in any of them. */
enum { SDD_PRECISION_FP32 = 0, SDD_PRECISION_BF16 = 1, SDD_PRECISION_AUTO = 2, SDD_PRECISION_INT8 = 3 };
/* "fp32", "bf16", "auto", "int8" <-> SDD_PRECISION_*; parse returns -1 for an unknown
 * name. */
const char *sdd_precision_name(int precision);
int sdd_precision_parse(const char *name);

void sdd_train_opt_init(sdd_train_opt_t *opt);
/* Validate ranges; returns 0 or SDD_EINVAL with a detail naming the option. */
int sdd_train_opt_check(const sdd_train_opt_t *opt);

/* A trained (or training) SDD model: network weights, EMA weights, Adam state, RNG state,
 * data scaling constants, gene names, label categories and metadata. Opaque. */
typedef struct sdd_model sdd_model_t;

/* Create a freshly initialised model for training set ts with options opt (copied;
 * steps = 0 is resolved to the default rule). Free with sdd_model_destroy. */
int sdd_model_create(const sdd_trainset_t *ts, const sdd_train_opt_t *opt, sdd_model_t **out);
void sdd_model_destroy(sdd_model_t *m);
/* Parameter count of the network for G genes and options opt (conditional with n_labels
 * categories when n_labels > 0), without building it. */
int64_t sdd_model_count_params(int64_t G, const sdd_train_opt_t *opt, int n_labels);
/* Steps done so far, total steps, parameter count, genes. */
int64_t sdd_model_step(const sdd_model_t *m);
/* The step at which the validation rule ended training (0: it has not; the model then
 * trains no further, whatever its step count), and the step whose EMA weights it kept. */
int64_t sdd_model_stopped(const sdd_model_t *m, int64_t *kept_step);
int64_t sdd_model_total_steps(const sdd_model_t *m);
int64_t sdd_model_n_params(const sdd_model_t *m);
int64_t sdd_model_n_genes(const sdd_model_t *m);

/* Write the model to `path` (binary: magic "SDDCELL\0", format version, sizes, JSON
 * metadata, parameters, EMA, Adam moments, step and RNG state, checksum), via a
 * temporary file renamed into place. */
int sdd_model_save(const sdd_model_t *m, const char *path);
/* Read a model written by sdd_model_save. Wrong magic, another format version, a
 * truncated or damaged file give SDD_EFORMAT with a detail saying what is wrong. */
int sdd_model_load(const char *path, sdd_model_t **out);
/* The model's metadata as a JSON text (genes, scaling, options, step, parameter count,
 * ...). The caller frees the string with free(). NULL on out-of-memory. */
char *sdd_model_json(const sdd_model_t *m);

/* A 64-bit fingerprint of model m (FNV-1a over its weights, EMA weights and gene names):
 * equal for the same model wherever its file lies, recorded by `sample` so that parts
 * of one run can be told from parts of another. */
uint64_t sdd_model_digest(const sdd_model_t *m);

/* ======================================================================== train */
/* Fitting a model (doc/method.md §5-§6): Adam on the diffusion loss over minibatches of
 * the training set, with an EMA of the weights, periodic checkpoints and optional
 * data-parallel processes. Training runs in place on the model; the training set is
 * borrowed for the call. */

/* The default number of steps for n_cells training cells and batch B:
 * 150 epochs, i.e. ceil(150 n_cells / B), clamped to [500, 1200] (bench/fidelity/HELDOUT.md:
 * the held-out figures over the training budget, and the 10-minute budget of simulate). */
int64_t sdd_train_default_steps(int64_t n_cells, int64_t batch);
/* Train from the model's current step up to its options' step count (set a new total with
 * sdd_model_set_steps to extend a resumed run). progress (may be NULL) is called after
 * every step with stage "train" and status "loss X"; a non-zero return stops training
 * at a step boundary with SDD_EINTR, and so does the interrupt hook (core section) between the
 * phases of a step, the step in progress then abandoned: either way the model is that of
 * the last whole step, which sdd_model_save can write and a later call can resume
 * bit-identically. With opt.checkpoint_every and
 * checkpoint_path, the model is saved every that many steps. ts must be the training
 * set the model was created from (same genes). */
int sdd_model_train(sdd_model_t *m, const sdd_trainset_t *ts, sdd_progress_f progress,
                    void *user);
int sdd_model_set_steps(sdd_model_t *m, int64_t steps);

/* Reduction of data-parallel training: replace buf [n] on every process by the pairwise
 * sum of the processes' buffers in rank order (sdd_pairwise_sum over b_0 .. b_{R-1}),
 * the same bits everywhere; non-zero when the exchange failed. */
typedef int (*sdd_reduce_f)(float *buf, int64_t n, void *user);
/* Data-parallel training: this process is rank `rank` of n_ranks (a power of two that
 * divides opt.grad_slices) and computes the gradients of slices rank S/R .. (rank+1) S/R
 * - 1 of every batch; reduce sums them over the processes. Every process draws the same
 * batches from the same RNG, so all hold the same model after every step; only rank 0
 * writes checkpoints. n_ranks = 1 (reduce NULL) is one process. SDD_EINVAL when R does
 * not fit the slices. */
int sdd_model_set_parallel(sdd_model_t *m, int rank, int n_ranks, sdd_reduce_f reduce, void *user);
/* out [len] = pairwise sum of parts[0..n-1] (n a power of two): ((p0 + p1) + (p2 + p3))
 * + ..., the one order in which sliced and data-parallel training add gradients. out may
 * be parts[0]; the other parts are overwritten. */
void sdd_pairwise_sum(float *const *parts, int n, int64_t len, float *out);
/* Periodic checkpoints of the coming sdd_model_train: every `every` steps to `path`
 * (copied; every = 0 or path NULL: none). */
int sdd_model_set_checkpoint(sdd_model_t *m, int64_t every, const char *path);

/* ======================================================================= sample */
/* Synthetic cells from a model (doc/method.md §7): the reverse diffusion from noise,
 * then the sparsity bits decoded into exact zeros. sdd_sample is the one entry point: it
 * returns a new dataset (the caller's, sdd_dataset_destroy) with the model's genes, cell
 * names and labels. The options say how many cells, with which sampler and labels, and
 * which range of a run (shards); sdd_sample_counts turns the values into integer counts. */

enum { SDD_SAMPLER_DDIM = 0, SDD_SAMPLER_DDPM = 1, SDD_SAMPLER_RENOISE = 2 };
enum { SDD_BITS_THRESHOLD = 0, SDD_BITS_BERNOULLI = 1 };
enum { SDD_UPDATE_MEAN = 0, SDD_UPDATE_DRAW = 1 };
enum { SDD_SC_PREVIOUS = 0, SDD_SC_SAME = 1, SDD_SC_NONE = 2 };

typedef struct {
    int64_t n_cells;          /* cells to generate (1000) */
    int64_t steps;            /* sampling steps S (100); 0 = sdd_sample_default_steps(n_cells) */
    int sampler;              /* SDD_SAMPLER_DDIM (default) or SDD_SAMPLER_DDPM */
    double eta;               /* DDIM noise: 0 deterministic (default), 1 the DDPM
                                 posterior's variance */
    double td;                /* time delay of t_next = max(1 - (k + 1 + td)/S, 0) (0) */
    int bit_decode;           /* SDD_BITS_THRESHOLD (mask = bit > 0) or SDD_BITS_BERNOULLI
                                 (default: mask drawn with p = (b/bit_scale + 1)/2) */
    int update;               /* x0 that each reverse step moves towards: SDD_UPDATE_MEAN
                                 (the expected x0: bits 2p - 1, values p v - (1 - p)) or
                                 SDD_UPDATE_DRAW (each gene's bit drawn with probability p,
                                 x0 = (v, +1) where on and (-1, -1) where off) */
    int self_cond;            /* the self-conditioning input of each step: SDD_SC_PREVIOUS
                                 (the previous step's x0-hat, zeros at the first step),
                                 SDD_SC_SAME (a first pass on [x_t | 0] at this step, as in
                                 training: two passes a step) or SDD_SC_NONE (zeros) */
    int use_ema;              /* 1: EMA weights (default); 0: the raw weights */
    uint64_t seed;            /* seed of the sampler's own RNG (0) */
    double guidance;          /* classifier-free guidance weight w (1 = plain conditional) */
    const int32_t *labels;    /* [n_cells] label codes to generate, or NULL: drawn from the
                                 training proportions (conditional models only) */
    int threshold;            /* DDIM-T baseline: zero the smallest values of the synthetic
                                 matrix until its sparsity reaches the training data's */
    const char *label;        /* conditional: every cell gets this label (or NULL) */
    const char *const *count_labels; /* conditional: cells per label, label names ... */
    const int64_t *label_counts;     /* ... and counts adding up to n_cells */
    int n_label_counts;       /* 0 = cells per label follow the training proportions */
    int64_t batch;            /* cells per batch, rounded up to a multiple of 512; 0 = sized
                                 to a 256 MB activation budget (at most 1024); the cells do
                                 not depend on it */
    int64_t first;            /* make only cells first .. first + count - 1 (0-based) of the
                                 run of n_cells (0): each is the cell the whole run makes
                                 at that position */
    int64_t count;            /* cells of that range (0 = through the last cell) */
    int precision;            /* products of sampling (doc/method.md §7.11): SDD_PRECISION_AUTO
                                 (default) int8 where the CPU has AVX512_VNNI and no
                                 product sums more than 65536 inputs, else the model's
                                 training precision; INT8 int8 on any CPU (the same
                                 cells, slower without VNNI; SDD_EINVAL past 65536
                                 inputs); FP32 or BF16 float products. Weights and inputs of each product are
                                 quantised per row to 8-bit integers whose sums are
                                 exact, so int8 cells do not depend on the CPU */
} sdd_sample_opt_t;

void sdd_sample_opt_init(sdd_sample_opt_t *opt);
int sdd_sample_opt_check(const sdd_sample_opt_t *opt);
/* The products m's training steps run on this CPU: SDD_PRECISION_INT8 (the forward's),
 * FP32 or BF16. */
int sdd_train_products(const sdd_model_t *m);
/* The products sampling runs on this CPU for a requested precision (opt.precision):
 * SDD_PRECISION_INT8, FP32 or BF16. */
int sdd_sample_products(const sdd_model_t *m, int precision);
/* The sampling steps `simulate` uses for n_cells cells (steps 0): 100, fewer when
 * n_cells x steps would pass SDD_SAMPLE_BUDGET cell-steps (sampling time grows with
 * both), never below 20: min(100, max(20, SDD_SAMPLE_BUDGET / n_cells)). Measured in
 * bench/fidelity/HELDOUT.md: more training steps are worth more than sampling steps
 * beyond 50. */
#define SDD_SAMPLE_BUDGET INT64_C(450000)
int64_t sdd_sample_default_steps(int64_t n_cells);

/* Shard i of k (1 <= i <= k <= n_cells) of a run of n_cells: the contiguous range
 * [floor((i - 1) n / k), floor(i n / k)) as first and count; shards 1..k tile the run
 * in order and differ in size by at most one cell. SDD_EINVAL otherwise. */
int sdd_sample_shard(int64_t n_cells, int64_t i, int64_t k, int64_t *first, int64_t *count);

/* Recipes: "fast" (the defaults: the measured best within minutes, bench/fidelity/
 * RESULTS.md) or "paper" (Ostheimer et al.: 300K steps at lr 2e-4, plain x0 loss, 1000
 * DDIM steps, threshold decoding). Sets the recipe fields of t and s (either may be NULL),
 * leaving the others. SDD_EINVAL for an unknown name. */
int sdd_preset_apply(const char *name, sdd_train_opt_t *t, sdd_sample_opt_t *s);

/* Generate opt->n_cells cells from model m (doc/method.md §7) and return them as a new
 * dataset (*out, free with sdd_dataset_destroy): X is CSR float32 of log1p-normalised
 * values over the model's genes, every zero exact and every non-zero in [m_g, M]; var
 * names and ids are the model's genes; obs names syn_000001, ... (the cell's 1-based
 * position in the run); obs `source` is the categorical "synthetic"; a conditional model
 * adds the label column (named after the training label key, categories in the model's
 * order, cells in blocks by label). With opt->first/count only that range is made.
 * Cell g (0-based position) draws from its own stream sdd_rng_split(seed, g), so a seed
 * gives the same cell at a position with any thread count, batch size or range: the
 * ranges of a run put together in order are the run. progress (may be NULL) gets stage "sample" after
 * every reverse step; a non-zero return stops with SDD_EINTR. An unknown label gives
 * SDD_ENOTFOUND, labels for an unconditional model SDD_EINVAL. */
int sdd_sample(const sdd_model_t *m, const sdd_sample_opt_t *opt, sdd_progress_f progress,
               void *user, sdd_dataset_t **out);

/* Integer counts for log1p-normalised synthetic cells X (cells x the model's G genes).
 * expm1(x) is a gene's normalised expression (a cell's values sum to T, the normalize_total
 * target of the training data, over all its genes), so a cell of library size L has
 * counts expm1(x) L / T; in real cells the smallest expressed value is nearly always one
 * count. So each cell's L is read from its own values, L = T / expm1(min x) over its
 * non-zero entries (clamped to the training cells' range of library sizes when the model
 * records them), and every non-zero entry becomes max(1, round(expm1(x) L / T)): the
 * zeros are exactly the values' zeros. Deterministic; seed is not used. out is allocated
 * (float values). */
int sdd_sample_counts(const sdd_model_t *m, const sdd_csr_t *X, uint64_t seed, sdd_csr_t *out);

#ifdef __cplusplus
}
#endif
#endif /* SDDCELL_MODEL_H */
