/*
 * sddcell_data.h: the public interface of libsddcell, part 2 of 5: reading count files and
 * preparing a training set (read, prepare).
 * Included by sddcell.h, whose opening comment holds the conventions of every part.
 */
#ifndef SDDCELL_DATA_H
#define SDDCELL_DATA_H

#include "sddcell_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================= read */
/* An input file into a dataset. sdd_dataset_read detects the format and reads everything
 * into a new sdd_dataset_t (the caller's, freed with sdd_dataset_destroy); the row reader
 * (sdd_xreader_*) gives X in chunks for statistics in bounded memory, each chunk the
 * caller's to free. Every structure is validated before use: a malformed file gives
 * SDD_EFORMAT naming the file and the element. */

typedef struct {
    const char *layer;        /* h5ad: read layers/<layer> instead of X (NULL = X) */
    int raw;                  /* h5ad: read raw/X (with raw/var names) instead of X */
    const char *genome;       /* 10x: genome group or genome value to keep (NULL = only one) */
    const char *feature_type; /* 10x v3: feature type to keep; default "Gene Expression";
                                 "all" keeps every feature */
    int skip_obs;             /* do not read obs columns (cell names are still read) */
} sdd_read_opt_t;

void sdd_read_opt_init(sdd_read_opt_t *opt);

/* Detect the format of `path` (an .h5ad, a 10x .h5 or a 10x MTX directory) and read it
 * whole into a new dataset (*out, free with sdd_dataset_destroy). Validates structure
 * before use. On error *out is NULL. */
int sdd_dataset_read(const char *path, const sdd_read_opt_t *opt, sdd_dataset_t **out);

/* Streaming access to X in row chunks, for statistics in bounded memory.
 * open: reads the annotations (names, obs) into *meta (X left empty) and prepares
 * row access. next: fills `chunk` (allocated by the reader, freed by the caller with
 * sdd_csr_free) with up to max_rows rows starting at the reader's position; returns
 * the number of rows read (0 at the end) or a negative code. */
typedef struct sdd_xreader sdd_xreader_t;
int sdd_xreader_open(const char *path, const sdd_read_opt_t *opt, sdd_xreader_t **out,
                     sdd_dataset_t **meta);
int64_t sdd_xreader_next(sdd_xreader_t *r, int64_t max_rows, sdd_csr_t *chunk);
/* Rewind to the first row. */
int sdd_xreader_rewind(sdd_xreader_t *r);
void sdd_xreader_close(sdd_xreader_t *r);

/* Decode the compressed chunks of X on `threads` threads (default 1) in the following
 * sdd_xreader_next calls; results do not depend on the count. */
void sdd_xreader_set_threads(sdd_xreader_t *r, int threads);

/* ====================================================================== prepare */
/* Counts into a training set (doc/method.md §2), with scanpy's numbers:
 * filter_genes(min_cells) then filter_cells(min_genes), normalize_total and log1p in
 * float32, highly_variable_genes(n_top_genes, flavor); optionally a held-out split made
 * first and cell clusters as labels. sdd_prep_run streams a file in bounded memory;
 * sdd_prep_dataset does the same for a dataset in memory. The sdd_trainset_t returned is
 * the caller's (sdd_trainset_destroy); the model copies what it needs from it. */

/* ---- normalisation */

/* scanpy's normalize_total: each row i is scaled by target_sum / sum_j x_ij (sum in
 * double). target_sum <= 0 means scanpy's default, the median of the non-zero row totals.
 * Rows with total 0 stay 0. If lib_size is not NULL it receives the row totals
 * before scaling [n_rows]. */
int sdd_normalize_total(sdd_csr_t *X, double target_sum, double *lib_size);
/* x <- log(1 + x) (natural log), elementwise on the stored values. */
void sdd_log1p(sdd_csr_t *X);

/* ---- training set */

/* What preprocessing hands to training (doc/method.md §2): the log1p-normalised
 * values of the G selected genes, with what the model must remember about them. */
typedef struct {
    int64_t n_cells, G;
    sdd_csr_t X;              /* n_cells x G, log1p(normalize_total(counts)), sorted rows */
    char **gene_names;        /* [G] */
    char **gene_ids;          /* [G] or NULL */
    double *library_size;     /* [n_cells] raw counts per cell before normalisation */
    int32_t *labels;          /* [n_cells] category codes of the label column, or NULL */
    char **label_names;       /* [n_labels] */
    int32_t n_labels;
    char *label_key;          /* obs column the labels came from, or NULL */
    char *prep_json;          /* preprocessing options and counts, as a JSON object text */
    /* Held-out cells (sdd_prep_opt_t.holdout): kept out of everything fitted (the gene
     * filter, HVG selection, normalize_total's median target, library sizes, label
     * frequencies, training) and brought to the same space afterwards: normalize_total
     * over the genes kept by QC, log1p, the G selected genes. n_heldout = 0 without. */
    int64_t n_heldout;
    sdd_csr_t heldout_X;      /* n_heldout x G, like X, cells in file order */
    char **heldout_names;     /* [n_heldout] obs names */
    int32_t *heldout_labels;  /* [n_heldout] codes into label_names, or NULL */
    double *heldout_library_size; /* [n_heldout] their raw totals over the genes QC kept */
    double target_sum;        /* normalize_total's target T used for both */
} sdd_trainset_t;

void sdd_trainset_destroy(sdd_trainset_t *ts);
/* The raw counts over the G genes of the training cells (heldout 0) or of the held-out
 * cells (heldout 1), recovered from X / heldout_X: round(expm1(x) d_i) with d_i
 * normalize_total's divisor of the cell (its library size over T). *out is new. */
int sdd_trainset_counts(const sdd_trainset_t *ts, int heldout, sdd_csr_t *out);

/* ---- preprocessing */

enum { SDD_HVG_SEURAT = 0, SDD_HVG_CELL_RANGER = 1, SDD_HVG_SEURAT_V3 = 2 };
/* "seurat", "cell_ranger", "seurat_v3" <-> SDD_HVG_*: name returns NULL past the last
 * flavour (so a loop from 0 lists them all), parse -1 for an unknown name. */
const char *sdd_hvg_flavor_name(int flavor);
int sdd_hvg_flavor_parse(const char *name);

/* Options of preprocessing (doc/method.md §2). Fill with sdd_prep_opt_init, then set fields. */
typedef struct {
    int64_t min_cells;        /* QC: keep genes with count > 0 in >= min_cells cells (3) */
    int64_t min_genes;        /* QC: keep cells with >= min_genes expressed genes (10) */
    double target_sum;        /* normalize_total target (1e4); 0 = median of totals */
    int64_t n_top_genes;      /* number of highly variable genes (1000) */
    int flavor;               /* SDD_HVG_* (SDD_HVG_SEURAT) */
    int64_t chunk_rows;       /* rows of X read per chunk when streaming statistics */
    const char *label_key;    /* obs column giving cell labels, or NULL */
    int auto_labels;          /* 1: label the training cells by their clusters instead
                                 (sdd_trainset_cluster with the default options and
                                 cluster_resolution); excludes label_key */
    double cluster_resolution; /* resolution of those clusters (1.0) */
    sdd_read_opt_t read;      /* which matrix of the file to read */
    int threads;              /* threads decoding X when streaming from a file (1) */
    double holdout;           /* fraction of the cells held out for evaluation, in [0, 1)
                                 (0: none; `sddcell simulate` uses SDD_HOLDOUT_DEFAULT) */
    uint64_t holdout_seed;    /* seed of the held-out split (0) */
    int64_t holdout_min;      /* fewer held-out cells than this: no split, a warning (100) */
    sdd_progress_f progress;  /* sdd_prep_run, sdd_hvg_file: called after every chunk read from the file
                                 with stage "read", rows read in this pass of the total,
                                 status "pass K" (each pass over the file starts from 0); a
                                 non-zero return stops with SDD_EINTR; files of one chunk
                                 (n_cells <= chunk_rows) report nothing; auto_labels adds
                                 stage "cluster" (sdd_cluster_opt_t). NULL = none */
    void *progress_user;
} sdd_prep_opt_t;

#define SDD_HOLDOUT_DEFAULT 0.1

void sdd_prep_opt_init(sdd_prep_opt_t *opt);
/* Validate ranges; returns 0 or SDD_EINVAL with a detail naming the option. */
int sdd_prep_opt_check(const sdd_prep_opt_t *opt);

/* Read `path`, run QC, normalize_total, log1p and HVG selection in bounded memory, and
 * return the training set of the selected genes (*out, free with sdd_trainset_destroy).
 * Counts are required: negative, NaN or infinite values give SDD_EDATA.
 * With opt->holdout > 0 the cells that pass the per-cell QC on all genes (>= min_genes
 * expressed) are first split by sdd_holdout_split (seed opt->holdout_seed, strata = the
 * labels of opt->label_key); everything after is fitted on the training cells only
 * (QC's gene filter, then its cell filter over the kept genes, the target, HVG) and the
 * held-out cells that still express min_genes of the kept genes come back in
 * ts->heldout_X. When fewer than opt->holdout_min cells would be held out, nothing is:
 * a warning is logged and every cell trains. */
int sdd_prep_run(const char *path, const sdd_prep_opt_t *opt, sdd_trainset_t **out);

/* The held-out split (doc/method.md §10.1): among the n cells with eligible[i] != 0 (NULL =
 * all), round(frac * eligible cells) are held out, stratified by strata[i] (any int32
 * codes, -1 included; NULL = one stratum): stratum s gets floor(frac n_s) cells and the
 * remaining ones go to the strata with the largest remainders frac n_s - floor(frac n_s)
 * (ties to the stratum met first in cell order). Within a stratum the cells are chosen
 * by a Fisher-Yates shuffle of its cells in file order, drawn from an sdd_rng_t seeded
 * with `seed`, strata in order of first appearance. held [n] (caller-owned) receives 1
 * for a held-out cell. Returns the number held out, or a negative code. */
int64_t sdd_holdout_split(const uint8_t *eligible, const int32_t *strata, int64_t n, double frac,
                          uint64_t seed, uint8_t *held);

/* Per-gene outcome of QC and HVG selection over ALL genes of the input, in file order
 * (scanpy's var columns). Genes removed by QC have NaN statistics and are not selected;
 * cells removed by QC take no part in the statistics. Free with sdd_hvg_destroy. */
typedef struct {
    int flavor;                /* SDD_HVG_* */
    int64_t n_cells, n_genes;  /* input shape */
    int64_t n_cells_kept, n_genes_kept, n_selected;
    double target_sum;         /* the normalize_total target actually used */
    uint8_t *gene_kept;        /* [n_genes] 1 = passed QC */
    uint8_t *cell_kept;        /* [n_cells] 1 = passed QC */
    double *lib_size;          /* [n_cells] raw counts of the cell over QC-kept genes */
    double *means;             /* [n_genes] 'means' */
    double *dispersions;       /* [n_genes] seurat / cell_ranger, else NULL */
    double *dispersions_norm;  /* [n_genes] seurat / cell_ranger, else NULL */
    double *variances;         /* [n_genes] seurat_v3, else NULL */
    double *variances_norm;    /* [n_genes] seurat_v3, else NULL */
    double *rank;              /* [n_genes] seurat_v3 'highly_variable_rank': 0-based rank
                                  among the selected genes, NaN for the others */
    uint8_t *highly_variable;  /* [n_genes] */
} sdd_hvg_t;

void sdd_hvg_destroy(sdd_hvg_t *h);

/* QC, normalisation and HVG statistics over an in-memory cells x genes count matrix
 * (rows read in chunks of opt->chunk_rows, exactly as from a file). *out is new. */
int sdd_hvg_csr(const sdd_csr_t *X, const sdd_prep_opt_t *opt, sdd_hvg_t **out);

/* The same over a file, streaming X through sdd_xreader: only per-gene and per-cell
 * vectors are held. If meta is not NULL it receives the file's annotations (names, obs;
 * X empty; free with sdd_dataset_destroy). */
int sdd_hvg_file(const char *path, const sdd_prep_opt_t *opt, sdd_hvg_t **out,
                 sdd_dataset_t **meta);

/* Training set of an in-memory dataset (ds->X holds counts), as sdd_prep_run. */
int sdd_prep_dataset(const sdd_dataset_t *ds, const sdd_prep_opt_t *opt, sdd_trainset_t **out);

/* ---- cell clusters (also used by evaluate and the report) */

/* Cell clusters (cluster.c): Louvain communities of the UMAP-weighted kNN graph on the
 * first n_pcs principal components, as scanpy's pp.pca + pp.neighbors + tl.louvain. */
typedef struct {
    int n_pcs;                /* principal components (50) */
    int n_neighbors;          /* neighbours counting the cell itself (15) */
    double resolution;        /* modularity resolution r (1.0): larger gives more clusters */
    int64_t min_size;         /* clusters with fewer cells are dissolved into their
                                 best-connected large neighbour (20) */
    uint64_t seed;            /* order of the local moves and the subsample (0) */
    int64_t max_cells;        /* above this many cells (50000), the graph is built on a
                                 seeded random max_cells of them and every other cell
                                 joins the majority cluster of its n_neighbors nearest
                                 of those on their principal components; 0: all cells */
    sdd_progress_f progress;  /* stage "cluster": at the start (0), after the PCA, the
                                 neighbours and the communities, then after every block
                                 of other cells joined (status says which); non-zero
                                 return: SDD_EINTR. NULL = none */
    void *progress_user;
} sdd_cluster_opt_t;

void sdd_cluster_opt_init(sdd_cluster_opt_t *opt);
int sdd_cluster_opt_check(const sdd_cluster_opt_t *opt);
/* Cluster the rows of X (cells x genes, log1p): labels [n_rows] (caller-owned) receive
 * codes 0..*n_labels-1, code 0 the largest cluster. The same seed gives the same labels
 * with any thread count. */
int sdd_cluster_cells(const sdd_csr_t *X, const sdd_cluster_opt_t *opt, int32_t *labels, int *n_labels);
/* Label a training set by the clusters of its cells (replacing any labels it had):
 * label_key "cluster", label names "c0", "c1", ... with c0 the largest cluster. */
int sdd_trainset_cluster(sdd_trainset_t *ts, const sdd_cluster_opt_t *opt);

#ifdef __cplusplus
}
#endif
#endif /* SDDCELL_DATA_H */
