/*
 * prep_internal.h: what the preprocessing stages (qc.c, normalize.c, hvg.c, loess.c,
 * rowsrc.c, prep.c, trainset.c) share and nothing else needs. Not installed.
 */
#ifndef SDD_PREP_INTERNAL_H
#define SDD_PREP_INTERNAL_H

#include "sdd_internal.h"

/* ---- qc.c: the first pass over the counts */

/* Counts seen so far by the QC pass. A gene removed by QC has fewer than min_cells
 * positive entries, so keeping the first min_cells - 1 positive entries of every gene is
 * enough to take removed genes back out of the per-cell totals afterwards. */
typedef struct {
    int64_t n_cells, n_genes;
    int64_t rows_seen;
    int slots;           /* entries kept per gene: max(1, min_cells - 1) */
    int64_t *gene_npos;  /* [G] cells with x > 0 */
    int64_t *first_cell; /* [slots * G] cells of a gene's first positive entries */
    double *first_val;   /* [slots * G] their values */
    double *cell_total;  /* [N] sum of the row over all genes, then over kept genes */
    int64_t *cell_npos;  /* [N] genes with x > 0, then kept genes with x > 0 */
    const uint8_t *skip; /* [N] or NULL: rows validated but left out (held-out cells) */
} sdd_qc_acc_t;

int sdd_qc_init(sdd_qc_acc_t *q, int64_t n_cells, int64_t n_genes, int64_t min_cells);
void sdd_qc_free(sdd_qc_acc_t *q);
/* Validate a chunk (rows rows_seen .. rows_seen + chunk->n_rows - 1 of the matrix) as
 * counts and accumulate it. `what` names the matrix in messages. */
int sdd_qc_add(sdd_qc_acc_t *q, const sdd_csr_t *chunk, const char *what);
/* Decide genes (>= min_cells positive cells), then cells (>= min_genes positive kept
 * genes; skipped rows are never kept); cell_total / cell_npos then count kept genes only. Fills gene_kept [G] and
 * cell_kept [N] and the kept counts. SDD_EDATA when nothing is left. */
int sdd_qc_finish(sdd_qc_acc_t *q, int64_t min_cells, int64_t min_genes, uint8_t *gene_kept,
                  uint8_t *cell_kept, int64_t *n_genes_kept, int64_t *n_cells_kept);

/* ---- normalize.c: scanpy's float32 arithmetic, one value at a time */

/* The divisor scanpy's normalize_total applies to a row: float32(float32(total) / T32). */
float sdd_norm_divisor(double total, float target);
/* The target T as scanpy computes it: float32(target_sum), or the float32 median of the
 * non-zero float32 totals when target_sum <= 0 (0 when every total is 0). */
int sdd_norm_target(const double *totals, const uint8_t *keep, int64_t n, double target_sum,
                    float *out);
/* float32(x / d), log1p of it, and expm1 back, each rounded to float32 as numpy does. */
static inline float sdd_norm_value(float x, float d)
{
    return d > 0 ? (float)((double)x / d) : 0.0f;
}
float sdd_log1pf(float x);
float sdd_expm1f(float x);

/* ---- loess.c: the trend of seurat_v3's variances */

/* R's loess(y ~ x, span, degree = 2) for one predictor with R's defaults (gaussian
 * family, surface = "interpolate": local quadratic fits with tricube weights at the
 * vertices of a k-d tree with cells of at most floor(n * span * 0.2) points, cubic
 * Hermite interpolation between them). fitted[n] receives the fitted values at x. */
int sdd_loess(const double *x, const double *y, int64_t n, double span, double *fitted);

/* ---- rowsrc.c: the passes' input */

/* Rows of a count matrix, in chunks: an in-memory matrix (mem) or a file (xr). */
typedef struct {
    const sdd_csr_t *mem;
    int64_t pos;
    sdd_xreader_t *xr;
    int64_t chunk_rows;
    const char *what;  /* names the matrix in messages */
    sdd_progress_f progress; /* file sources: stage "read" after every chunk (or NULL) */
    void *progress_user;
    int64_t total, done;     /* rows of the file, rows read in this pass */
    int pass;                /* passes started over the file (1 = the first) */
} sdd_src_t;

/* Next chunk into *c (c->indices / data borrowed from memory when `*owned` is 0; give it
 * back with sdd_src_release). Returns rows read, 0 at the end, or a negative code. */
int64_t sdd_src_next(sdd_src_t *s, sdd_csr_t *c, int *owned);
void sdd_src_release(sdd_csr_t *c, int owned);
int sdd_src_rewind(sdd_src_t *s);


/* Labels of every input cell from one obs column. */
typedef struct {
    int32_t *codes; /* [n_cells]: categorical codes as they are (-1 missing), strings coded
                       by their sorted distinct values */
    char **names;   /* [n] */
    int32_t n;
} sdd_labels_t;

void sdd_labels_free(sdd_labels_t *l);

/* ---- trainset.c: pass 3 */

/* Read s once more and build the training set of the cells h kept and the genes it
 * selected, and its held-out cells (held [n_cells] or NULL) that pass the same cell QC
 * over h's kept genes. Label names move out of lab. *out is new. */
int sdd_trainset_build(sdd_src_t *s, const sdd_dataset_t *md, const sdd_hvg_t *h,
                       const sdd_prep_opt_t *opt, const uint8_t *held, sdd_labels_t *lab,
                       sdd_trainset_t **out);

/* Memory (bytes) the one-pass QC + statistics may spend on rows whose QC fate is still
 * open; past it the statistics take a second pass over the data. Default 256 MiB. */
extern int64_t sdd_prep_pending_budget;

/* ---- hvg.c: from per-gene sums to the selection */


/* Per-gene accumulators over the kept cells (n of them). */
typedef struct {
    int64_t n;             /* kept cells */
    int64_t G;             /* genes (all of the input) */
    double *sum, *sumsq;   /* [G] */
    double *csum, *csumsq; /* [G] seurat_v3: sums of the clipped counts */
} sdd_hvg_acc_t;

/* Dispersion flavors: fill h->means, dispersions, dispersions_norm, highly_variable
 * for the kept genes (others NaN / 0). */
int sdd_hvg_dispersion(const sdd_hvg_acc_t *a, const uint8_t *gene_kept, int flavor, int64_t n_top,
                       sdd_hvg_t *h);
/* seurat_v3, step 1: means, variances, and the clip value of each gene from the loess fit
 * of log10 variance on log10 mean (clip [G], +inf for genes not fitted). */
int sdd_hvg_v3_fit(const sdd_hvg_acc_t *a, const uint8_t *gene_kept, sdd_hvg_t *h, double *clip);
/* seurat_v3, step 2: normalised variances from the clipped sums, ranks and selection. */
int sdd_hvg_v3_select(const sdd_hvg_acc_t *a, const uint8_t *gene_kept,
                      int64_t n_top, sdd_hvg_t *h);

#endif
