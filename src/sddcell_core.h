/*
 * sddcell_core.h: the public interface of libsddcell, part 1 of 5: errors, logging, threads,
 * the RNG, the CSR matrix and the dataset type.
 * Included by sddcell.h, whose opening comment holds the conventions of every part.
 */
#ifndef SDDCELL_CORE_H
#define SDDCELL_CORE_H

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

#ifdef __cplusplus
}
#endif
#endif /* SDDCELL_CORE_H */
