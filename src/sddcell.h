/*
 * sddcell.h: the public interface of libsddcell, the Sparse Data Diffusion library.
 *
 * The library learns a generator of synthetic cells from a single-cell count matrix. The
 * sections of this header are its stages, in the order a program calls them:
 *
 *   core      errors, logging, threads, the RNG, the CSR matrix and the dataset type
 *   read      an .h5ad, a 10x .h5 or a 10x MTX directory into an sdd_dataset_t
 *   prepare   QC, normalize_total, log1p and highly variable genes: an sdd_trainset_t
 *   model     the network, its options, and its file (save, load)
 *   train     fitting a model to a training set
 *   sample    synthetic cells from a model, as an sdd_dataset_t
 *   evaluate  real against synthetic cells: sparsity, gene means, MMD, LISI, kNN AUC,
 *             the held-out protocol, integer counts
 *   embed     real and synthetic cells in one PCA / kNN / UMAP space, and its plots
 *   write     .h5ad output, joining sampled shards, the HTML report, MultiQC files
 *
 * README.md ("Library") shows a whole program that reads a file, trains, samples and
 * evaluates with this header alone. Equations and section numbers (§N) refer to
 * doc/method.md.
 *
 * Every front end (the sddcell CLI, the R shim) includes this header and nothing else from
 * src/. The library never prints, exits, aborts or calls rand(): functions return 0
 * (SDD_OK) or a negative SDD_E* code, or NULL, and leave a one-line description in a
 * thread-local detail string (sdd_errdetail()). Diagnostics and progress go through the
 * replaceable log sink (sdd_log_*).
 *
 * Memory: an object handed back through `**out` (or a struct filled through `*out`) is
 * allocated by the library and belongs to the caller, who frees it with the destroy or
 * free function named beside it; destroy and free functions accept NULL and half-built
 * objects. Pointers passed in are borrowed for the call only, unless a comment says the
 * object keeps them. Output arrays called caller-owned are allocated by the caller at the
 * size given.
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

/* SDD_VERSION, the version string "X.Y.Z" (sddcell_version.h, written by configure) */
#include "sddcell_version.h"

/* ========================================================================= core */
/* What every stage shares. Errors: codes, the thread's detail string, the interrupt hook.
 * Temporary files: every output is built under a temporary name and renamed into place.
 * Logging and progress callbacks. The compute threads (one setting for the whole
 * library). The seeded RNG that every stage that draws takes. The CSR matrix and the
 * dataset (a matrix with its annotations), which the caller owns and frees. */

/* ---- errors */

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

/* An interrupt hook for work that cannot wait for its next progress call: a training
 * step polls it between its phases and stops with SDD_EINTR, abandoning the step. NULL
 * (the default) = never. The CLI installs one that reads its signal flag. */
void sdd_set_interrupt_hook(int (*poll)(void *user), void *user);

/* Temporary files. Every writer creates its output under a temporary name beside it and
 * renames it when complete. sdd_tmp_path gives that name for `path`: ".NAME.tmp.PID" in
 * path's directory (a hidden file; allocated, free with free(); NULL on out-of-memory).
 * sdd_tmp_track / sdd_tmp_untrack record the names in flight
 * (up to 8 at a time; more are not recorded); sdd_tmp_remove_all unlinks them and is
 * async-signal-safe, for a front end that must end at once on a signal. */
char *sdd_tmp_path(const char *path);
void sdd_tmp_track(const char *path);
void sdd_tmp_untrack(const char *path);
void sdd_tmp_remove_all(void);
/* Put a finished temporary file in place: fsync tmp, rename it onto path, fsync the
 * directory. Returns 0, or -1 with errno set (tmp is then left for the caller). */
int sdd_tmp_commit(const char *tmp, const char *path);

/* One-time library set-up: turns off HDF5's automatic error printing and GSL's abort
 * handler, registers the LZF filter. Safe to call more than once. Returns 0 or code. */
int sdd_init(void);

/* ---- logging and progress */

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

/* ---- strict parsing */

/* Parse a whole string as a number; reject empty strings, trailing junk, overflow and
 * values outside [min, max]. Return 0 or SDD_EINVAL (detail names `what`). */
int sdd_parse_int64(const char *s, int64_t min, int64_t max, const char *what, int64_t *out);
int sdd_parse_double(const char *s, double min, double max, const char *what, double *out);

/* ---- option tables
 *
 * The numeric options of the options structs (preprocessing, training, sampling,
 * evaluation, embedding, pairs of files), one table per struct: each entry names the
 * option as the command line spells it, the field it sets and the values it takes. The
 * *_opt_check functions validate against these tables, and front ends take option
 * names, ranges and messages from them, so a range is written in one place. */

enum { SDD_OPTS_PREP, SDD_OPTS_TRAIN, SDD_OPTS_SAMPLE, SDD_OPTS_EVAL, SDD_OPTS_EMBED, SDD_OPTS_PAIR, SDD_OPTS_N };
enum { SDD_OPT_INT, SDD_OPT_INT64, SDD_OPT_DOUBLE };
enum {
    SDD_OPT_MIN_OPEN = 1,  /* min itself is excluded */
    SDD_OPT_MAX_OPEN = 2,  /* max itself is excluded */
    SDD_OPT_ZERO_AUTO = 4, /* 0 is accepted too: the library chooses the value */
    SDD_OPT_EVEN = 8,      /* even values only */
    SDD_OPT_POW2 = 16      /* powers of two only */
};
#define SDD_OPT_MAX_COUNT 8

typedef struct {
    const char *name;  /* the long option without "--" ("lr"); R's argument is the same
                          with '_' for '-' */
    const char *what;  /* the option in the messages of the *_opt_check functions */
    size_t offset;     /* of the field in its options struct */
    int type;          /* SDD_OPT_INT (int), SDD_OPT_INT64 (int64_t), SDD_OPT_DOUBLE */
    int count;         /* values the field holds (an array of count; <= SDD_OPT_MAX_COUNT) */
    double min, max;   /* the range; an INT64 max of 2^63 means no upper limit */
    int flags;         /* SDD_OPT_* */
} sdd_opt_t;

/* The table of options struct `which` (SDD_OPTS_*), ended by an entry whose name is NULL;
 * NULL for an unknown table. The tables are static: nothing to free. */
const sdd_opt_t *sdd_opt_table(int which);
/* The entry of table `which` called name, or NULL. */
const sdd_opt_t *sdd_opt_find(int which, const char *name);
/* Parse text as o's value (count values separated by commas when count > 1): the whole
 * string a number (an integer for integer types), within o's range and flags; store it in
 * the field of the struct at opts. Returns 0, or SDD_EINVAL with a detail that names the
 * option: "--lr: 1 is out of range (0, 1)"; the struct is unchanged on failure. */
int sdd_opt_set(const sdd_opt_t *o, void *opts, const char *text);
/* o's values as text into buf, which is returned: "(0, 1)", "[1, 100000] or 0". */
const char *sdd_opt_range_text(const sdd_opt_t *o, char *buf, size_t size);

/* ---- JSON fields
 *
 * A struct's fields written into a JSON object from a table of {key, kind, offset}, so
 * that each JSON layout (the model's options, evaluation figures, a run's recipe) is
 * written once, as data. */

enum {
    SDD_JF_DBL, /* double; NaN or infinite is written as null */
    SDD_JF_I64, /* int64_t */
    SDD_JF_U64, /* uint64_t */
    SDD_JF_INT, /* int */
    SDD_JF_BOOL /* int, written as true / false */
};

typedef struct {
    const char *key;
    int kind;      /* SDD_JF_* */
    size_t offset; /* of the field in its struct */
} sdd_json_field_t;

/* A table entry: key, kind (DBL, I64, U64, INT, BOOL) and field of struct type T. */
#define SDD_JF(key, kind, T, field) {key, SDD_JF_##kind, offsetof(T, field)}

/* Add the n fields of table f, read from the struct at s, to `json`, a `cJSON *` object
 * (void * so this header needs no cJSON include), in table order. Returns 0, or -1 when
 * json is NULL or an allocation fails (json then holds the fields added before). */
int sdd_json_add_fields(void *json, const void *s, const sdd_json_field_t *f, size_t n);

/* ---- compute threads */

/* Size of the library's one pool of compute threads (>= 1, the caller's thread included):
 * the network's products (training, sampling), the PCA and neighbour products of the
 * metrics, and the decoding of compressed chunks. Products are cut by shape only, so
 * results do not depend on the count. Between jobs a worker spins (yielding) for up to
 * 5 ms before it sleeps, so the next job of a training or sampling run finds it awake;
 * an idle library costs no CPU after that.
 * Threads: the pool is process-wide and serves one job (one product or parallel loop)
 * at a time; a caller on another thread that finds it busy runs its own job's pieces on
 * its own thread, with the same results. So two threads may train, sample or evaluate
 * different models at once and get what each would get alone; the library starts at
 * most threads - 1 workers whatever the number of callers. Lowering the count ends and
 * joins the workers beyond it before returning (it waits for the job in flight); the
 * workers are joined when the library is unloaded, and a fork()ed child starts without
 * any. Not shared safely between threads: one sdd_model_t (train, sample, save one model
 * from one thread at a time), the interrupt hook, the log sink and this setting itself
 * (process-wide: the last call wins). Reading and writing files goes through libhdf5,
 * which is serialised only in a thread-safe HDF5 build: read or write HDF5 files from
 * one thread at a time unless H5is_library_threadsafe says otherwise. */
void sdd_set_threads(int threads);
/* OpenBLAS's kernels in use and who chose them, e.g. "SkylakeX (OpenBLAS took this CPU
 * for Prescott; chosen by its instruction sets)". OpenBLAS picks kernels by CPU model;
 * on a CPU it does not know it may fall back to its SSE3 kernels. Then, unless
 * OPENBLAS_CORETYPE is set, the library picks the kernels of the instruction sets the
 * CPU reports (AVX-512: SkylakeX, AVX2: Haswell, AVX: Sandybridge) when it is loaded.
 * Static storage; never NULL. */
const char *sdd_blas_kernels(void);
/* The CPUs this process may use: the CPUs of its affinity mask (sched_getaffinity),
 * capped by the CPU bandwidth limit of its cgroup or an ancestor's (cgroup v2 cpu.max,
 * v1 cpu.cfs_quota_us / cpu.cfs_period_us), rounded up; at least 1, at most 1024. The
 * default thread count of the CLI. */
int sdd_cpus_available(void);

/* ---- RNG */

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
/* out [n] = standard normals as floats, by the ziggurat (a faster stream than
 * sdd_rng_normal's, with values of 32-bit resolution). */
void sdd_rng_normals(sdd_rng_t *r, float *out, int64_t n);
uint64_t sdd_rng_below(sdd_rng_t *r, uint64_t n); /* uniform integer in [0, n), unbiased */
/* Poisson draw with mean lambda >= 0. */
int64_t sdd_rng_poisson(sdd_rng_t *r, double lambda);
/* Fisher-Yates shuffle of idx[0..n). */
void sdd_rng_shuffle(sdd_rng_t *r, int64_t *idx, int64_t n);
/* n of `size` rows drawn without replacement by a partial Fisher-Yates shuffle from r
 * (all rows, in order, and no draw when size == n) into out [n], ascending. */
int sdd_subsample_rows(sdd_rng_t *r, int64_t size, int64_t n, int64_t *out);

/* ---- CSR matrix */

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

/* ---- annotations and datasets */

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
    int precision;            /* SDD_PRECISION_*: the network's matrix products (FP32) */
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
 * without it. AUTO: BF16 where the CPU has it, else FP32. Results do not depend on the
 * thread count in any of them. */
enum { SDD_PRECISION_FP32 = 0, SDD_PRECISION_BF16 = 1, SDD_PRECISION_AUTO = 2, SDD_PRECISION_INT8 = 3 };
/* "fp32", "bf16", "auto", "int8" <-> SDD_PRECISION_*; parse returns -1 for an unknown
 * name. INT8 is for sampling only (sdd_sample_opt_t.precision). */
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
    int precision;            /* products of sampling (doc/method.md §7.6): SDD_PRECISION_AUTO
                                 (default) int8 where the CPU has AVX512_VNNI, else the
                                 model's training precision; INT8 int8 on any CPU (the
                                 same cells, slower without VNNI); FP32 or BF16 float
                                 products. Weights and inputs of each product are
                                 quantised per row to 8-bit integers whose sums are
                                 exact, so int8 cells do not depend on the CPU */
} sdd_sample_opt_t;

void sdd_sample_opt_init(sdd_sample_opt_t *opt);
int sdd_sample_opt_check(const sdd_sample_opt_t *opt);
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

/* ======================================================================== write */
/* Output files. Every writer builds its file under sdd_tmp_path's name and renames it into
 * place when it is complete, so a failure or a kill never leaves a partial file at the
 * output's name. The datasets and results written are borrowed. */

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

/* A named sparse matrix written beside X: a layer (cells x genes) or an obsp pair matrix
 * (cells x cells). Borrowed. */
typedef struct {
    const char *name;
    const sdd_csr_t *m;
} sdd_h5ad_csr_t;

/* The optional elements of an .h5ad besides X, obs, var and obsm (which the dataset
 * carries). Every list may be NULL with its count 0; everything is borrowed. */
typedef struct {
    const void *uns;              /* a cJSON object or NULL, as sdd_h5ad_write's uns_json */
    const sdd_h5ad_csr_t *layers; /* [n_layers], each cells x genes */
    int n_layers;
    const sdd_h5ad_csr_t *obsp;   /* [n_obsp], each cells x cells */
    int n_obsp;
    const sdd_dense_t *varm;      /* [n_varm], each genes x cols float32 */
    int n_varm;
} sdd_h5ad_elems_t;

/* sdd_h5ad_write with the elements in `el` (NULL: none) written in the same pass, before
 * the one rename: layers and obsp as csr_matrix groups laid out like X but with their
 * stored zeros kept, varm as dense arrays. A missing, misshapen or malformed matrix, a
 * duplicate name or a name with '/' gives SDD_EINVAL and no file. sdd_h5ad_write(path,
 * ds, uns) is sdd_h5ad_write_elems with only uns set. */
int sdd_h5ad_write_elems(const char *path, const sdd_dataset_t *ds, const sdd_h5ad_elems_t *el);

/* Write a sampled dataset as sdd_h5ad_write does, with `counts` (may be NULL) as
 * layers/counts (csr_matrix, float32 integer values), through a temporary file renamed
 * into place: a failure leaves no `path`. */
int sdd_sample_write_h5ad(const char *path, const sdd_dataset_t *ds, const void *uns_json,
                          const sdd_csr_t *counts);

/* Join the .h5ad files parts[0..n_parts-1] into `out` (concat.c), cells in the order
 * given: X and every layer (csr_matrix or dense), obs (index and columns; categorical
 * columns must have the same categories in every part) and obsm are joined along the
 * cells; var, varm, varp, uns and the attributes come from the first part, without
 * uns['sddcell']['shard']. Refused with SDD_EINVAL, naming the first part that
 * differs: other genes (var index, in order), other obs columns, layers or obsm, other
 * uns['sddcell'] settings or model (all but the model's file name and the shard), or
 * shards (`sample --shard I/K`) that are not 1..K of one split in order. Elements that
 * cannot be joined (raw, obsp pairs, dense X) give SDD_EUNSUPPORTED. Streams through
 * fixed-size buffers, one part open at a time; builds the file under a temporary name
 * renamed into place, so a failure leaves no `out`. */
int sdd_h5ad_concat(const char *out, const char *const *parts, int n_parts);

/* ---- report */
/* What a person and a pipeline read about a synthetic data set: one self-contained HTML
 * page (report.c) and MultiQC custom-content files (multiqc.c). */

typedef struct {
    const char *title;        /* shown under the heading (e.g. the input and output), or NULL */
    const char *command;      /* the command line, shown with the recipe, or NULL */
    const sdd_eval_t *eval;   /* real against synthetic cells (used when heldout is NULL) */
    const sdd_heldout_eval_t *heldout; /* the held-out protocol's figures, or NULL */
    const sdd_csr_t *real;    /* the real cells evaluated (the held-out cells under the
                                 protocol), log1p, cells x G */
    const sdd_csr_t *synth;   /* the synthetic cells, the same G genes */
    const sdd_csr_t *train;   /* the training cells (the floor's side under the held-out
                                 protocol: a series of the zero-fraction histogram), or NULL */
    char *const *gene_names;  /* [G], or NULL */
    const int32_t *real_labels, *synth_labels; /* codes into label_names, or both NULL */
    char *const *label_names; /* [n_labels] */
    int n_labels;
    const char *label_key;    /* the labels' obs column, or NULL */
    const void *recipe;       /* a cJSON object: the run's options, shown as a table (or NULL) */
    int64_t max_cells;        /* cells a side in the UMAP and the clusters (2000) */
    int umap_epochs;          /* UMAP epochs; 0 = the embed default */
    uint64_t seed;            /* the drawn cells, UMAP and clusters (42) */
} sdd_report_t;

void sdd_report_init(sdd_report_t *r);
/* The HTML page (*html, *len bytes, allocated; free with free()): summary, metrics (beside
 * the floor and with the memorisation share under the held-out protocol), the UMAP of real
 * and synthetic cells as an inline PNG, per-cluster figures of the pooled cells, per-label
 * figures, the gene-mean scatter and the zero-fraction histogram as inline SVG, and the
 * recipe. References nothing outside itself. progress (may be NULL) gets stage "report". */
int sdd_report_html(const sdd_report_t *r, sdd_progress_f progress, void *user, char **html, size_t *len);

/* MultiQC custom content for the figures of r (its eval / heldout fields only): *general
 * a general-statistics file (plot_type "generalstats", columns in pconfig) and *table a
 * table section (plot_type "table", columns in headers), both JSON texts with one row
 * named `sample`, for files named *_mqc.json. Free both with free(). */
int sdd_multiqc_json(const sdd_report_t *r, const char *sample, char **general, char **table);

#ifdef __cplusplus
}
#endif
#endif /* SDDCELL_H */
