/*
 * sddcell.h: the public interface of libsddcell, the Sparse Data Diffusion library.
 *
 * Every front end (the sddcell CLI, the R shim, the tests) includes this header and
 * nothing else from src/. The library never prints, exits, aborts or calls rand():
 * functions return 0 (SDD_OK) or a negative SDD_E* code, or NULL, and leave a
 * one-line description in a thread-local detail string (sdd_errdetail()).
 * Diagnostics and progress go through the replaceable log sink (sdd_log_*).
 *
 * Dimension names used everywhere: B batch, G genes, H hidden width, E embedding width,
 * N cells. Matrices are row-major; a cells x genes count matrix is CSR.
 */
#ifndef SDDCELL_H
#define SDDCELL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SDD_VERSION "0.1.0"

/* ------------------------------------------------------------------ errors */

enum {
    SDD_OK = 0,
    SDD_EIO = -1,          /* a file could not be opened, read or written */
    SDD_EFORMAT = -2,      /* a file is not in a format sddcell reads, or is malformed */
    SDD_ENOMEM = -3,       /* out of memory */
    SDD_EINVAL = -4,       /* an argument or option is out of range */
    SDD_EUNSUPPORTED = -5, /* a valid input using a feature sddcell does not handle */
    SDD_EINTR = -6,        /* interrupted by the caller's interrupt hook */
    SDD_ENOTFOUND = -7,    /* a named element (layer, column, genome) is absent */
    SDD_EDATA = -8         /* the values are not what the stage needs (e.g. not counts) */
};

/* Short fixed text for a code ("I/O error", ...). Never NULL. */
const char *sdd_strerror(int code);

/* The detail of the last error raised on this thread, e.g.
 * "pbmc.h5ad: X/indptr is not monotone at row 12". Empty string if none. */
const char *sdd_errdetail(void);

/* Record an error detail (printf-style) and return `code`, so that library code
 * can write `return sdd_error(SDD_EFORMAT, "...", ...)`. */
int sdd_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clear the thread's error detail. */
void sdd_error_clear(void);

/* One-time library set-up: turns off HDF5's automatic error printing and GSL's abort
 * handler, registers the LZF filter. Safe to call more than once. Returns 0 or code. */
int sdd_init(void);

/* ----------------------------------------------------------------- logging */

enum { SDD_LOG_ERROR = 1, SDD_LOG_WARNING = 2, SDD_LOG_INFO = 3, SDD_LOG_DEBUG = 4 };

/* A sink receives one complete line without the trailing newline. `func` is the
 * reporting function's name. The default sink discards everything. */
typedef void (*sdd_log_sink_f)(int level, const char *func, const char *msg, void *user);

void sdd_log_set_sink(sdd_log_sink_f sink, void *user);
void sdd_log_set_level(int level); /* messages above this level are dropped; default INFO */
int sdd_log_get_level(void);
void sdd_log(int level, const char *func, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Progress reporting for long work (training, sampling). The callback receives the
 * stage name, units done and total, and a free-form status ("loss 0.031"); it returns
 * non-zero to ask the library to stop (interrupt), which then returns SDD_EINTR.
 * NULL callback = no progress. */
typedef int (*sdd_progress_f)(const char *stage, int64_t done, int64_t total,
                              const char *status, void *user);

/* Wall-clock seconds since an arbitrary origin (monotonic), and process CPU seconds. */
double sdd_realtime(void);
double sdd_cputime(void);
/* Peak resident set size of this process in bytes (0 if unknown). */
int64_t sdd_peak_rss(void);

/* ----------------------------------------------------------- strict parsing */

/* Parse a whole string as a number; reject empty strings, trailing junk, overflow and
 * values outside [min, max]. Return 0 or SDD_EINVAL (detail names `what`). */
int sdd_parse_int64(const char *s, int64_t min, int64_t max, const char *what, int64_t *out);
int sdd_parse_double(const char *s, double min, double max, const char *what, double *out);

/* ------------------------------------------------------------------- RNG */

/* Counter-free xoshiro256** generator seeded by splitmix64. Deterministic across
 * platforms; one object is passed to every stage that draws. */
typedef struct {
    uint64_t s[4];
    int has_spare;   /* Box-Muller spare normal is valid */
    double spare;
} sdd_rng_t;

void sdd_rng_seed(sdd_rng_t *r, uint64_t seed);
/* An independent stream derived from r's seed and `stream` (for per-thread or per-batch
 * streams whose output does not depend on the thread count). */
void sdd_rng_split(const sdd_rng_t *r, uint64_t stream, sdd_rng_t *out);
uint64_t sdd_rng_u64(sdd_rng_t *r);
double sdd_rng_uniform(sdd_rng_t *r);          /* [0, 1) with 53 random bits */
double sdd_rng_normal(sdd_rng_t *r);           /* standard normal */
uint64_t sdd_rng_below(sdd_rng_t *r, uint64_t n); /* uniform integer in [0, n), unbiased */
/* Poisson draw with mean lambda >= 0. */
int64_t sdd_rng_poisson(sdd_rng_t *r, double lambda);
/* Fisher-Yates shuffle of idx[0..n). */
void sdd_rng_shuffle(sdd_rng_t *r, int64_t *idx, int64_t n);

/* ------------------------------------------------------------ CSR matrix */

/* Compressed sparse rows: rows = cells, cols = genes. indptr has n_rows + 1 entries,
 * indptr[0] = 0, indptr[n_rows] = nnz; indices are column numbers in [0, n_cols),
 * ascending within a row once sdd_csr_sort() has run. Explicit zeros may be stored
 * by readers (they count in nnz, as in anndata). */
typedef struct {
    int64_t n_rows, n_cols, nnz;
    int64_t *indptr;   /* [n_rows + 1] */
    int32_t *indices;  /* [nnz] */
    float *data;       /* [nnz] */
} sdd_csr_t;

/* Allocate an n_rows x n_cols matrix with room for nnz entries (indptr zeroed). */
int sdd_csr_alloc(sdd_csr_t *m, int64_t n_rows, int64_t n_cols, int64_t nnz);
/* Free arrays and zero the struct. Accepts a zeroed or half-built struct. */
void sdd_csr_free(sdd_csr_t *m);
/* Check structure: indptr monotone from 0 to nnz, indices in range. `what` names the
 * matrix in the error detail. Returns 0 or SDD_EFORMAT. */
int sdd_csr_validate(const sdd_csr_t *m, const char *what);
/* Sort indices within each row (and data with them). */
int sdd_csr_sort(sdd_csr_t *m);
/* Transpose (CSR of A -> CSR of A^T, i.e. CSC of A). out is allocated. */
int sdd_csr_transpose(const sdd_csr_t *m, sdd_csr_t *out);
/* Append the rows of b below a (same n_cols). a grows in place. */
int sdd_csr_append_rows(sdd_csr_t *a, const sdd_csr_t *b);
/* Sum of all stored values, accumulated in double. */
double sdd_csr_sum(const sdd_csr_t *m);
/* Build from a dense row-major n_rows x n_cols float array, storing non-zeros only. */
int sdd_csr_from_dense(const float *x, int64_t n_rows, int64_t n_cols, sdd_csr_t *out);
/* Keep the listed columns (in the given order, which becomes the new column order).
 * cols[k] in [0, n_cols); out is allocated with n_cols = n_keep. */
int sdd_csr_select_cols(const sdd_csr_t *m, const int64_t *cols, int64_t n_keep, sdd_csr_t *out);
/* Keep the listed rows in the given order. */
int sdd_csr_select_rows(const sdd_csr_t *m, const int64_t *rows, int64_t n_keep, sdd_csr_t *out);

/* ------------------------------------------------- annotations and datasets */

enum {
    SDD_COL_STRING = 1,      /* strings[n] */
    SDD_COL_CATEGORICAL = 2, /* codes[n] (-1 = missing) into categories[n_categories] */
    SDD_COL_NUMERIC = 3,     /* numeric[n] (NaN = missing) */
    SDD_COL_BOOL = 4         /* numeric[n] holding 0 / 1 (NaN = missing) */
};

/* One obs or var column. Owned strings; free with sdd_column_free. */
typedef struct {
    char *name;
    int kind;                /* SDD_COL_* */
    int64_t n;               /* rows */
    char **strings;          /* STRING: [n] */
    int32_t *codes;          /* CATEGORICAL: [n] */
    char **categories;       /* CATEGORICAL: [n_categories] */
    int32_t n_categories;
    int ordered;             /* CATEGORICAL: pandas "ordered" flag */
    double *numeric;         /* NUMERIC / BOOL: [n] */
    int is_integer;          /* NUMERIC: values came from (and are written as) int64 */
} sdd_column_t;

void sdd_column_free(sdd_column_t *c);
/* Deep copy of src into dst. */
int sdd_column_copy(sdd_column_t *dst, const sdd_column_t *src);
/* Find a column by name in cols[n]; returns index or -1. */
int sdd_column_find(const sdd_column_t *cols, int n, const char *name);

/* A named dense float matrix (obsm entries), rows x cols row-major. */
typedef struct {
    char *name;
    int64_t rows, cols;
    float *data;
} sdd_dense_t;

/* A count matrix with its annotations: what every reader returns and the writer takes. */
typedef struct {
    int64_t n_cells, n_genes; /* shape; equals X's shape once X is loaded */
    sdd_csr_t X;             /* cells x genes (empty in streaming metadata) */
    char **cell_names;       /* [n_cells] */
    char **gene_names;       /* [n_genes] unique (made unique as scanpy does for 10x) */
    char **gene_ids;         /* [n_genes] or NULL when the input has none */
    sdd_column_t *obs;       /* obs columns (index excluded) */
    int n_obs;
    sdd_column_t *var;       /* var columns (index excluded) */
    int n_var;
    sdd_dense_t *obsm;       /* obsm entries (writer); readers may leave empty */
    int n_obsm;
    /* What the reader saw, for `sddcell info`. */
    char format[32];         /* "h5ad", "10x-h5", "10x-mtx" */
    char generation[48];     /* "anndata>=0.8", "anndata-0.7", "legacy", "cellranger>=3", ... */
    char dtype[16];          /* on-disk data type of X: "float32", "int32", ... */
    char x_storage[16];      /* "csr", "csc", "dense" */
} sdd_dataset_t;

/* Allocate an empty dataset (all zero). NULL on out-of-memory. */
sdd_dataset_t *sdd_dataset_init(void);
/* Free everything; accepts NULL and half-built datasets. */
void sdd_dataset_destroy(sdd_dataset_t *ds);

/* ------------------------------------------------------------------ reading */

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

/* ------------------------------------------------------------------ writing */

/* Write `ds` as an .h5ad readable by anndata >= 0.8: X csr_matrix float32 (exact zeros
 * not stored), obs / var dataframes, obsm dense, uns from a cJSON object (may be NULL;
 * objects become dicts, numbers numeric-scalars, strings string scalars, arrays of
 * numbers 1-d arrays, arrays of strings string-arrays), gzip compressed. Written to a
 * temporary name beside `path` and renamed: a failure never leaves `path` behind.
 * `uns_json` is a `cJSON *` passed as void * so this header needs no cJSON include.
 * ds->gene_ids, when set, become var column "gene_ids" (first) unless var has one.
 * NULL cell / gene names mean anndata's default index "0", "1", ...; NULL strings are
 * written as ""; a bool column holding NaN is written as float64; JSON nulls in uns are
 * skipped. Returns SDD_EINVAL for inconsistent input (lengths, codes out of range,
 * duplicate categories or names, names with '/'), SDD_EIO when writing fails. */
int sdd_h5ad_write(const char *path, const sdd_dataset_t *ds, const void *uns_json);

/* ------------------------------------------------------------ normalisation */

/* scanpy's normalize_total: each row i is scaled by target_sum / sum_j x_ij (sum in
 * double). target_sum <= 0 means scanpy's default, the median of the non-zero row totals.
 * Rows with total 0 stay 0. If lib_size is not NULL it receives the row totals
 * before scaling [n_rows]. */
int sdd_normalize_total(sdd_csr_t *X, double target_sum, double *lib_size);
/* x <- log(1 + x) (natural log), elementwise on the stored values. */
void sdd_log1p(sdd_csr_t *X);

/* ------------------------------------------------------------ training set */

/* What preprocessing hands to training (SPEC section 1, steps 1-4): the log1p-normalised
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
} sdd_trainset_t;

void sdd_trainset_destroy(sdd_trainset_t *ts);

/* ------------------------------------------------------------ preprocessing */

enum { SDD_HVG_SEURAT = 0, SDD_HVG_CELL_RANGER = 1, SDD_HVG_SEURAT_V3 = 2 };

/* Options of SPEC section 1, steps 1-4. Fill with sdd_prep_opt_init, then set fields. */
typedef struct {
    int64_t min_cells;        /* QC: keep genes with count > 0 in >= min_cells cells (3) */
    int64_t min_genes;        /* QC: keep cells with >= min_genes expressed genes (10) */
    double target_sum;        /* normalize_total target (1e4); <= 0 = median of totals */
    int64_t n_top_genes;      /* number of highly variable genes (1000) */
    int flavor;               /* SDD_HVG_* (SDD_HVG_SEURAT) */
    int64_t chunk_rows;       /* rows of X read per chunk when streaming statistics */
    const char *label_key;    /* obs column giving cell labels, or NULL */
    sdd_read_opt_t read;      /* which matrix of the file to read */
    int threads;              /* threads decoding X when streaming from a file (1) */
} sdd_prep_opt_t;

void sdd_prep_opt_init(sdd_prep_opt_t *opt);
/* Validate ranges; returns 0 or SDD_EINVAL with a detail naming the option. */
int sdd_prep_opt_check(const sdd_prep_opt_t *opt);

/* Read `path`, run QC, normalize_total, log1p and HVG selection in bounded memory, and
 * return the training set of the selected genes (*out, free with sdd_trainset_destroy).
 * Counts are required: negative, NaN or infinite values give SDD_EDATA. */
int sdd_prep_run(const char *path, const sdd_prep_opt_t *opt, sdd_trainset_t **out);

/* ---- reading: decoding threads */

/* Decode the compressed chunks of X on `threads` threads (default 1) in the following
 * sdd_xreader_next calls; results do not depend on the count. */
void sdd_xreader_set_threads(sdd_xreader_t *r, int threads);

/* ---- preprocessing: QC, normalisation and highly variable genes (qc.c, hvg.c, loess.c,
 * prep.c). The numbers follow scanpy: filter_genes(min_cells) then filter_cells(min_genes),
 * normalize_total and log1p in float32, highly_variable_genes(n_top_genes, flavor). */

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

/* R's loess(y ~ x, span, degree = 2) for one predictor with R's defaults (gaussian
 * family, surface = "interpolate": local quadratic fits with tricube weights at the
 * vertices of a k-d tree with cells of at most floor(n * span * 0.2) points, cubic
 * Hermite interpolation between them). fitted[n] receives the fitted values at x. */
int sdd_loess(const double *x, const double *y, int64_t n, double span, double *fitted);

#ifdef __cplusplus
}
#endif
#endif /* SDDCELL_H */
