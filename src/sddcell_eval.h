/*
 * sddcell_eval.h: the public interface of libsddcell, part 4 of 5: real against synthetic
 * cells, and their joint embedding (evaluate, embed).
 * Included by sddcell.h, whose opening comment holds the conventions of every part.
 */
#ifndef SDDCELL_EVAL_H
#define SDDCELL_EVAL_H

#include "sddcell_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===================================================================== evaluate */
/* Real against synthetic cells (doc/method.md §8, §10): sdd_pair_load reads both files
 * and matches their genes; sdd_evaluate computes the metrics from two log1p matrices
 * over the same genes; sdd_evaluate_heldout adds the held-out protocol's floor and the
 * memorisation test; sdd_counts_evaluate compares integer counts. Inputs are borrowed;
 * every result struct is the caller's, freed with its destroy function. */

/* Real and synthetic cells over the same genes, ready for sdd_evaluate and sdd_embed. */
typedef struct {
    int real_normalized;      /* REAL is already log1p-normalised (0: raw counts) */
    double target_sum;        /* normalize_total target for raw REAL (1e4); 0 = median */
    const char *label_key;    /* obs column of both files holding cell labels, or NULL */
} sdd_pair_opt_t;

void sdd_pair_opt_init(sdd_pair_opt_t *opt);

typedef struct {
    int64_t G;                /* matched genes */
    char **gene_names;        /* [G] in SYNTH's order */
    sdd_csr_t real, synth;    /* n_real x G, n_synth x G, log1p space, sorted rows */
    char **real_cells, **synth_cells; /* obs names [n_real], [n_synth] */
    int32_t *real_labels, *synth_labels; /* codes into label_names, -1 missing; NULL
                                 without label_key */
    char **label_names;       /* [n_labels]: REAL's categories first, then SYNTH's others */
    int n_labels;
    int64_t n_synth_genes;    /* SYNTH's genes before matching (G <= this) */
    /* The training cells of the held-out protocol (sdd_pair_load_train), else empty. */
    sdd_csr_t train;          /* n_train x G, normalised as REAL */
    char **train_cells;       /* [n_train] obs names */
    int32_t *train_labels;    /* [n_train] codes into label_names, or NULL */
    /* Raw counts over the pair's genes (sdd_pair_load_counts), else empty. */
    sdd_csr_t real_counts;    /* n_real x G: REAL's X as read */
    sdd_csr_t synth_counts;   /* n_synth x G: SYNTH's layers/counts */
    sdd_csr_t train_counts;   /* n_train x G: TRAIN's X as read, when given */
} sdd_pair_t;

/* Read REAL (raw counts, normalised with normalize_total(target_sum) over all its genes
 * and log1p'd, unless opt->real_normalized) and SYNTH (log1p-normalised, e.g. the
 * output of `sddcell simulate`), and keep SYNTH's genes that REAL also has, matched by
 * name, in SYNTH's order (SDD_EDATA if fewer than 2 match). With a label key both files
 * need that obs column (categorical, string or numeric). *out is allocated; free with
 * sdd_pair_destroy. */
int sdd_pair_load(const char *real_path, const char *synth_path, const sdd_pair_opt_t *opt,
                  sdd_pair_t **out);
void sdd_pair_destroy(sdd_pair_t *p);
/* Add TRAIN, the real cells a model was trained on, to a loaded pair for
 * sdd_evaluate_heldout: read as REAL is (normalised unless opt->real_normalized), its
 * columns matched by name to p's genes (SDD_EDATA naming the first missing gene when
 * TRAIN lacks any), its labels (same opt->label_key) coded into p->label_names, names
 * new to p appended. */
int sdd_pair_load_train(sdd_pair_t *p, const char *train_path, const sdd_pair_opt_t *opt);
/* Add the raw counts for sdd_counts_evaluate: REAL's X and TRAIN's (when not NULL; integer
 * counts, SDD_EDATA otherwise, SDD_EINVAL when opt->real_normalized) and SYNTH's
 * layers/counts (SDD_ENOTFOUND when it has none), all matched by name to p's genes. */
int sdd_pair_load_counts(sdd_pair_t *p, const char *real_path, const char *synth_path, const char *train_path,
                         const sdd_pair_opt_t *opt);

/* Principal components of the rows of a cells x genes matrix, mean-centred: for up to
 * SDD_PCA_EXACT_GENES genes from the exact eigendecomposition of the G x G covariance
 * (ddof 1), above that by randomized SVD (sdd_pca_fit_randomized). */
typedef struct {
    int64_t n, G, k;          /* cells, genes, components kept */
    double *mean;             /* [G] column means */
    double *components;       /* [k x G] unit loadings, descending variance; each
                                 component's largest-|.| entry is positive */
    double *variance;         /* [k] explained variance (covariance eigenvalues) */
    double *variance_ratio;   /* [k] variance / total variance */
    double total_variance;    /* trace of the covariance */
    double *scores;           /* [n x k] projections of the centred rows */
} sdd_pca_t;

/* Fit k components (k is lowered to min(k, G, n - 1)) to X and project X's rows; the
 * method depends on G only, so a given input always gives the same result. *out's
 * arrays are allocated; free with sdd_pca_free. */
#define SDD_PCA_EXACT_GENES 4000
int sdd_pca_fit(const sdd_csr_t *X, int k, sdd_pca_t *out);
/* Randomized SVD of the centred X (Halko, Martinsson, Tropp 2011, algorithm 4.4, as
 * scikit-learn's randomized_svd): k + max(10, k) Gaussian test vectors drawn from an
 * sdd_rng_t seeded with `seed`, n_iter power iterations with QR re-orthonormalisation,
 * never densifying X. Same output layout as sdd_pca_fit. */
int sdd_pca_fit_randomized(const sdd_csr_t *X, int k, int n_iter, uint64_t seed, sdd_pca_t *out);
void sdd_pca_free(sdd_pca_t *p);
/* Project the rows of X (p->G genes) on a fitted PCA: scores [X->n_rows x p->k]
 * (caller-owned) = (X - p->mean) p->components^T. */
int sdd_pca_transform(const sdd_pca_t *p, const sdd_csr_t *X, double *scores);

/* Spearman (average ranks for ties) and Pearson correlation of x[n] and y[n]. NaN when
 * a side is constant. */
double sdd_spearman(const double *x, const double *y, int64_t n);
double sdd_pearson(const double *x, const double *y, int64_t n);

/* Options of `sddcell evaluate`. Fill with sdd_eval_opt_init, then set fields. */
typedef struct {
    int64_t n_sub;            /* cells per side for MMD / LISI / kNN AUC (10000) */
    int n_pcs;                /* joint PCs for MMD (50) */
    int lisi_pcs;             /* PCs for LISI (20) */
    double perplexity;        /* LISI perplexity (30) */
    int knn_pcs;              /* PCs for the kNN classifier (20) */
    int knn_k;                /* neighbours of the classifier (5) */
    int cv_folds;             /* cross-validation folds (5) */
    int hist_bins;            /* bins of the per-cell zero-fraction histograms (20) */
    int64_t min_label_cells;  /* per-label metrics need this many cells on each side (10) */
    uint64_t seed;            /* subsample and folds (42) */
} sdd_eval_opt_t;

#define SDD_EVAL_MARKERS 50
#define SDD_EVAL_MIN_PCT 0.1
void sdd_eval_opt_init(sdd_eval_opt_t *opt);
/* Validate ranges; returns 0 or SDD_EINVAL with a detail naming the option. */
int sdd_eval_opt_check(const sdd_eval_opt_t *opt);

/* Metrics restricted to the cells of one label. NaN where undefined. */
typedef struct {
    char *name;
    int64_t n_real, n_synth;  /* cells of this label on each side (all cells) */
    double sparsity_real, sparsity_synth;
    double scc, pcc;          /* between the label's per-gene mean vectors */
    double lfc_pcc;           /* Pearson of the log2 fold changes (label vs the other
                                 labelled cells; Seurat's avg_log2FC, pseudocount 1 on
                                 expm1 of the values), real vs synth, over the n_tested
                                 genes Seurat's FindMarkers tests: detected in >=
                                 SDD_EVAL_MIN_PCT of the label's real cells or of the others */
    double lfc_pcc_markers;   /* the same over the label's markers: the SDD_EVAL_MARKERS (50)
                                 tested genes of highest real fold change */
    int64_t n_tested;
    double mmd;               /* MMD on the joint PCs of the label's subsampled cells */
    int64_t n_sub_real, n_sub_synth; /* subsampled cells of this label */
} sdd_eval_label_t;

/* Everything `sddcell evaluate` reports. */
typedef struct {
    int64_t n_real, n_synth, n_genes;
    int64_t n_sub;            /* cells per side in the joint subsample */
    int64_t *sub_real, *sub_synth; /* [n_sub] row numbers of the subsample, ascending */
    int n_pcs;                /* joint PCs actually used for MMD */
    double sparsity_real, sparsity_synth; /* fraction of exact zeros */
    int hist_bins;
    double *zero_hist_real, *zero_hist_synth; /* [hist_bins] fraction of cells per bin of
                                 the per-cell zero fraction, bins [b/B, (b+1)/B), last closed */
    double zero_frac_w1;      /* Wasserstein-1 distance of the per-cell zero fractions */
    double scc, pcc;          /* per-gene mean vectors, real vs synth */
    double mmd, mmd_bandwidth;
    double lisi, lisi_scaled; /* median LISI of the source labels, (median - 1) / (2 - 1) */
    double knn_auc;
    sdd_eval_label_t *per_label; /* [n_labels], labels present on both sides */
    int n_labels;
} sdd_eval_t;

/* Compare `real` and `synth` (cells x G each, same genes and order, log1p space).
 * Labels are optional (both NULL or both given): codes into label_names[n_label_names],
 * -1 = missing. The subsample takes n = min(n_real, n_synth, n_sub) cells of each side
 * (a side larger than n draws n rows without replacement from an sdd_rng_t seeded with
 * opt->seed, real first, rows kept in ascending order); the cross-validation folds are
 * then drawn from the same stream (a Fisher-Yates shuffle of each side, fold = rank % F,
 * F = min(cv_folds, n)).
 * *out is allocated; free with sdd_eval_destroy. progress may be NULL. */
int sdd_evaluate(const sdd_csr_t *real, const sdd_csr_t *synth, const int32_t *real_labels,
                 const int32_t *synth_labels, char *const *label_names, int n_label_names,
                 const sdd_eval_opt_t *opt, sdd_progress_f progress, void *user,
                 sdd_eval_t **out);
void sdd_eval_destroy(sdd_eval_t *e);

/* Memorisation test of the held-out protocol (doc/method.md §10.3): a PCA of n_pcs components
 * is fitted on the rows of train and heldout pooled (give equal numbers), the rows of
 * synth are projected on it, and each synthetic cell's nearest pooled cell (Euclidean
 * distance in PC space) is looked up. *share = the fraction of synthetic cells whose
 * nearest cell is a training cell: 0.5 when the generator does not copy, 1 when it
 * copies training cells. A synthetic cell whose nearest distance is shared by several
 * pooled cells counts the training fraction of those cells. Same genes on all sides. */
int sdd_memorisation(const sdd_csr_t *train, const sdd_csr_t *heldout, const sdd_csr_t *synth,
                     int n_pcs, double *share);

/* The held-out protocol's three comparisons. */
typedef struct {
    int64_t n_heldout, n_synth, n_train; /* cells given on each side */
    int64_t m;                /* cells a side: min(n_heldout, n_synth, n_train) */
    int64_t *sub_heldout, *sub_synth, *sub_train; /* [m] rows drawn, ascending */
    sdd_eval_t *synth;        /* the m synthetic cells (synth side) vs the m held-out cells
                                 (real side) */
    sdd_eval_t *floor;        /* the m training cells (synth side) vs the same m held-out
                                 cells: what a perfect generator reaches with m cells */
    int64_t mem_n;            /* cells a side in the memorisation test: min(m, n_sub) */
    int mem_pcs;              /* its principal components (opt->n_pcs, lowered to fit) */
    double memorisation;      /* sdd_memorisation share: 0.5 no copying, 1 copies */
    /* Cell types: on the same mem_n cells a side, the held-out cells are clustered
     * (sdd_cluster_cells, default options, seed opt->seed) and every synthetic and
     * training cell takes the most common cluster of its 15 nearest held-out cells on the
     * held-out cells' principal components (ties: the nearer cluster). */
    int n_clusters;
    int64_t cluster_cells;    /* cells a side that were clustered / assigned (mem_n) */
    double *cluster_share;    /* [3 x n_clusters]: share of the held-out, synthetic and
                                 training cells in each cluster */
    double cluster_tvd;       /* total variation distance, synthetic vs held-out shares */
    double cluster_tvd_floor; /* the same for the training cells */
    double purity_heldout;    /* mean share of a cell's 15 nearest held-out cells (itself
                                 excluded) in their most common cluster: low between clusters */
    double purity_synth, purity_train; /* the same for synthetic and training cells */
} sdd_heldout_eval_t;

/* Compare synthetic cells with held-out real cells and put the floor beside them:
 * m rows of each side are drawn without replacement (all rows of a side that has m) from
 * an sdd_rng_t seeded with opt->seed, held-out first, then synthetic, then training;
 * then synth = sdd_evaluate(held-out m, synthetic m) and floor = sdd_evaluate(held-out m,
 * training m) with the same options (so both draw the same held-out cells for MMD, LISI
 * and kNN AUC when m > n_sub), and the memorisation share on mem_n = min(m, n_sub) cells
 * of each side (the first mem_n of a further draw from the m when m > n_sub) with
 * opt->n_pcs components. Labels are all NULL or all given (codes into label_names).
 * *out is allocated; free with sdd_heldout_eval_destroy. progress may be NULL. */
int sdd_evaluate_heldout(const sdd_csr_t *heldout, const sdd_csr_t *synth, const sdd_csr_t *train,
                         const int32_t *heldout_labels, const int32_t *synth_labels,
                         const int32_t *train_labels, char *const *label_names, int n_label_names,
                         const sdd_eval_opt_t *opt, sdd_progress_f progress, void *user,
                         sdd_heldout_eval_t **out);
void sdd_heldout_eval_destroy(sdd_heldout_eval_t *h);

/* Integer counts judged against real counts (counts_eval.c): both matrices raw counts
 * over the same G genes in the same order. Library size = a cell's total over the G
 * genes; mean-variance: per-gene mean and sample variance, curves of mean log10 variance
 * over 20 equal-width bins of log10 mean (the real genes' range), compared over the bins
 * with >= 3 genes on both sides; zero fraction: per gene, the share of cells at 0. */
typedef struct {
    int64_t n_real, n_synth, G;
    double lib_ks;            /* Kolmogorov-Smirnov distance of the library sizes */
    double lib_median_real, lib_median_synth;
    double mean_var_pcc;      /* Pearson of the binned log10 variance curves (matched means) */
    double mean_var_offset;   /* mean over those bins of synth - real log10 variance */
    int mean_var_bins;        /* bins compared */
    double gene_log_var_pcc;  /* Pearson over genes of log10 variance, real vs synth */
    double zero_frac_pcc;     /* Pearson over genes of the zero fractions */
    double zero_frac_mae;     /* mean absolute difference of the per-gene zero fractions */
} sdd_counts_eval_t;

int sdd_counts_evaluate(const sdd_csr_t *real, const sdd_csr_t *synth, sdd_counts_eval_t *out);

/* ======================================================================== embed */
/* Real and synthetic cells in one space, laid out as scanpy does (FORMATS.md,
 * "UMAP-ready export"): joint PCA, the kNN graph with UMAP's fuzzy weights, an
 * optional 2-D UMAP layout, written as .h5ad / TSV, and drawn as PNG or SVG.
 * The embedding is the caller's (sdd_embed_destroy); the pair is borrowed. */

typedef struct {
    int n_pcs;                /* principal components (50) */
    int n_neighbors;          /* neighbours per cell counting the cell itself, as scanpy (15) */
    int umap;                 /* compute the UMAP layout (0) */
    int n_epochs;             /* UMAP epochs; 0 = umap-learn's default (500, or 200 above
                                 10000 cells) */
    uint64_t seed;            /* UMAP initial noise and negative sampling (42) */
} sdd_embed_opt_t;

void sdd_embed_opt_init(sdd_embed_opt_t *opt);
int sdd_embed_opt_check(const sdd_embed_opt_t *opt);

typedef struct {
    int64_t n, n_real;        /* cells: rows [0, n_real) real, then synthetic */
    sdd_csr_t X;              /* n x G joint log1p matrix */
    sdd_pca_t pca;            /* joint PCA (scores n x k) */
    sdd_csr_t distances;      /* n x n: Euclidean distances to the n_neighbors - 1 nearest
                                 other cells (scanpy's obsp['distances']) */
    sdd_csr_t connectivities; /* n x n symmetric fuzzy union A + A^T - A o A^T */
    float *umap;              /* [n x 2] layout, or NULL without opt->umap */
    int n_neighbors;          /* as used (lowered for tiny inputs) */
} sdd_embed_t;

/* Build the joint embedding of pair->real (first) and pair->synth. *out is allocated;
 * free with sdd_embed_destroy. progress may be NULL. */
int sdd_embed_run(const sdd_pair_t *pair, const sdd_embed_opt_t *opt, sdd_progress_f progress,
                  void *user, sdd_embed_t **out);
void sdd_embed_destroy(sdd_embed_t *e);

/* Write the embedding as .h5ad: X = joint matrix, obs names (made unique), obs source
 * {real, synthetic} and the label column `label_key` (when pair has labels), var names,
 * obsm X_pca (and X_umap), varm PCs, uns pca and neighbors, obsp distances and
 * connectivities; uns_extra (a cJSON object or NULL) is merged into uns. Written under a
 * temporary name and renamed. */
int sdd_embed_write_h5ad(const char *path, const sdd_pair_t *pair, const sdd_embed_t *e,
                         const char *label_key, const void *uns_extra);
/* Tab-separated: header `cell_id source label PC1..PCk [UMAP1 UMAP2]`, one row per cell. */
int sdd_embed_write_tsv(const char *path, const sdd_pair_t *pair, const sdd_embed_t *e);

/* Scatter plot of xy [n x 2] as PNG (zlib) or SVG, chosen by the extension of path:
 * panel 1 coloured by source[i] (0 real, 1 synthetic), panel 2 by labels[i] (codes into
 * label_names[n_labels], -1 grey) or, without labels, the synthetic cells over the real
 * ones in grey; legends name the colours. `axis` is the axis name stem ("UMAP", "PC"). */
int sdd_plot_write(const char *path, const float *xy, int64_t n, const int32_t *source,
                   const int32_t *labels, char *const *label_names, int n_labels, const char *axis);
/* The same figure in memory: SVG text (svg != 0) or PNG bytes in *out (allocated, free
 * with free()), *len bytes. */
int sdd_plot_render(int svg, const float *xy, int64_t n, const int32_t *source, const int32_t *labels,
                    char *const *label_names, int n_labels, const char *axis, char **out, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* SDDCELL_EVAL_H */
