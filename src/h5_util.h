/*
 * h5_util.h: private helpers over the HDF5 C API shared by the readers and the writer
 * (h5ad, 10x). Not installed. Every helper returns 0 or a negative SDD_E* code and leaves
 * a one-line detail naming the file and the element ("pbmc.h5ad: X/indptr: ..."), so
 * callers can pass the code straight up. Nothing here prints; HDF5's own error printing
 * is switched off by sdd_init().
 *
 * Ownership: strings and arrays returned through `**out` are allocated with sdd_malloc
 * and freed by the caller (free(), or sdd_strv_free(v, n) for string vectors).
 * hid_t values returned through `*out` are closed by the caller with sdd_h5_close().
 */
#ifndef SDD_H5_UTIL_H
#define SDD_H5_UTIL_H

#include "sdd_internal.h"
#include <hdf5.h>

/* ---- files and objects */

/* Open an existing HDF5 file read-only with a large chunk cache. Clear errors for a
 * missing file (SDD_EIO), an empty file, a file without the HDF5 signature and a
 * truncated or corrupt file (SDD_EFORMAT). *fid < 0 on error. */
int sdd_h5_open(const char *path, hid_t *fid);
/* Register the LZF decoder (filter 32000) with HDF5 (lzf.c); idempotent. sdd_h5_open
 * calls it, which also links lzf.c into every program that reads HDF5. */
int sdd_lzf_register(void);
/* Decode one LZF-compressed buffer into out[cap] (lzf.c); 0 and *n_out, or -1. */
int sdd_lzf_decode(const void *in, size_t n_in, void *out, size_t cap, size_t *n_out);
/* Close any HDF5 id (file, group, dataset, type, space, attribute); ignores ids < 0. */
void sdd_h5_close(hid_t id);
/* Message prefix for an element: "<file>: <object path>/<name>" without the leading
 * '/', written into buf (name may be NULL). Returns buf. */
const char *sdd_h5_where(hid_t loc, const char *name, char *buf, size_t n);
/* The innermost message of HDF5's current error stack ("" if none), for details. */
const char *sdd_h5_last_error(void);

/* 1 if every component of the relative or absolute link path `path` exists under loc
 * (and the final one resolves to an object), else 0. Never raises an error. */
int sdd_h5_exists(hid_t loc, const char *path);
/* 1 if path exists and is a group (resp. dataset), else 0. Also 1 when the object's
 * header is corrupt (sdd_h5_guard_object), so that the caller's open reports that. */
int sdd_h5_is_group(hid_t loc, const char *path);
int sdd_h5_is_dataset(hid_t loc, const char *path);
/* Open a group / dataset that must exist: SDD_EFORMAT "<file>: <path> is missing" or
 * "... is not a group/dataset" otherwise. */
int sdd_h5_open_group(hid_t loc, const char *path, hid_t *out);
int sdd_h5_open_dataset(hid_t loc, const char *path, hid_t *out);
/* Names of the links directly under a group, in name order (*out owned, n entries). */
int sdd_h5_list(hid_t group, char ***out, int64_t *n);

/* Create dataset loc/name of file type ftype, rank 0-2, as the .h5ad writer lays them
 * out: chunked (at most 2^18 elements a chunk), byte-shuffled (not strings) and deflated
 * once it holds 32 elements or more; contiguous below. Returns the dataset or < 0. */
hid_t sdd_h5_create_dataset(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims);
/* The file type of a csr_matrix's indptr with nnz stored entries, as scipy keeps it:
 * int32 while nnz <= INT32_MAX (the largest value indptr holds is nnz), int64 beyond. */
hid_t sdd_h5_indptr_type(int64_t nnz);

/* ---- attributes (on an open object) */

/* 1 if the attribute exists, else 0 (1 when the object's header is corrupt, so that
 * the caller's read reports it). */
int sdd_h5_attr_exists(hid_t obj, const char *name);
/* A string attribute: scalar or 1-element array, fixed-length or variable-length.
 * SDD_ENOTFOUND (no detail set) when absent; SDD_EFORMAT when not a string. */
int sdd_h5_attr_string(hid_t obj, const char *name, char **out);
/* A string-array attribute (fixed or vlen). A scalar string gives one entry; an empty
 * array of any type (anndata 0.11 writes `column-order` as an empty float64 array)
 * gives n = 0. SDD_ENOTFOUND when absent. */
int sdd_h5_attr_strings(hid_t obj, const char *name, char ***out, int64_t *n);
/* Up to `max` integers of an integer (or integral float) attribute, scalar or array;
 * *n receives the count. SDD_ENOTFOUND when absent. */
int sdd_h5_attr_int64s(hid_t obj, const char *name, int64_t *out, int64_t max, int64_t *n);
/* A boolean-ish attribute (h5py bool enum, integer, or numpy bool): 0/1 into *out. */
int sdd_h5_attr_bool(hid_t obj, const char *name, int *out);

/* An object-reference attribute (anndata 0.7 `categories`), opened: *out is the
 * referenced object. SDD_ENOTFOUND when absent, SDD_EFORMAT when not a reference. */
int sdd_h5_attr_ref(hid_t obj, const char *name, hid_t *out);

/* ---- datasets: shape and type */

/* Rank and dimensions (up to maxrank) of an open dataset. */
int sdd_h5_dims(hid_t dset, int *rank, int64_t *dims, int maxrank);
/* Length of a 1-d dataset; SDD_EFORMAT if it is not 1-d. */
int sdd_h5_len1(hid_t dset, int64_t *n);
/* Type class helpers on an open dataset. */
int sdd_h5_is_string(hid_t dset);   /* fixed or vlen string */
int sdd_h5_is_numeric(hid_t dset);  /* integer, float, or enum over an integer (bool) */
/* numpy-style name of the dataset's type: "float32", "int64", "uint8", "bool",
 * "string", "compound", ... into buf. */
const char *sdd_h5_dtype_name(hid_t dset, char *buf, size_t n);

/* ---- datasets: reading (HDF5 converts widths and signedness on the fly) */

/* Elements [start, start+count) of a 1-d dataset of any integer type (or bool enum)
 * into int64 / int32 (int32: values beyond its range saturate, so range checks still
 * catch them). Float data is refused with SDD_EFORMAT. */
int sdd_h5_read_i64(hid_t dset, int64_t start, int64_t count, int64_t *out);
int sdd_h5_read_i32(hid_t dset, int64_t start, int64_t count, int32_t *out);
/* Elements [start, start+count) of a 1-d numeric dataset (any int, float or bool
 * enum) into float / double. */
int sdd_h5_read_f32(hid_t dset, int64_t start, int64_t count, float *out);
int sdd_h5_read_f64(hid_t dset, int64_t start, int64_t count, double *out);
/* Rows [r0, r0+nr) of a 2-d numeric dataset with `ncols` columns into row-major float. */
int sdd_h5_read_rows_f32(hid_t dset, int64_t r0, int64_t nr, int64_t ncols, float *out);
/* Whole 1-d datasets by path, allocated: *n receives the length. If expect >= 0 the
 * length must equal it (SDD_EFORMAT naming both lengths otherwise). */
int sdd_h5_load_i64(hid_t loc, const char *path, int64_t expect, int64_t **out, int64_t *n);
int sdd_h5_load_f64(hid_t loc, const char *path, int64_t expect, double **out, int64_t *n);
/* A whole 1-d string dataset (fixed or vlen, ASCII or UTF-8; integer datasets are
 * formatted as decimal, as pandas does with an integer index) by path. */
int sdd_h5_load_strings(hid_t loc, const char *path, int64_t expect, char ***out, int64_t *n);
/* The same on an open dataset. */
int sdd_h5_read_strings(hid_t dset, int64_t expect, char ***out, int64_t *n);
/* n strings by path: a 1-d string dataset of n entries, or one scalar string repeated
 * n times (PyTables writes a 10x file's features/genome as one scalar for all features,
 * and scanpy reads it so). *got receives the number of strings owned by *out. */
int sdd_h5_load_strings_or_scalar(hid_t loc, const char *path, int64_t n, char ***out, int64_t *got);

/* ---- building blocks shared by hdf5_util.c and hdf5_compound.c */

/* A memory string type matching the file string type ft (vlen or fixed, same charset);
 * the caller closes it. */
hid_t sdd_h5_mem_string_type(hid_t ft);
/* Owned copies of n strings read with memory type mt into buf (vlen items are freed,
 * fixed ones lose their padding) into out[n]. */
int sdd_h5_unpack_strings(hid_t mt, void *buf, int64_t n, char **out);
/* v[n] as decimal strings (*out owned). */
int sdd_h5_ints_as_strings(const int64_t *v, int64_t n, char ***out);
/* The native memory type (caller closes) for an enum file type, with its base integer's
 * size and signedness; and the widening of such raw integers into int64. */
hid_t sdd_h5_enum_mem_type(hid_t ft, size_t *size, int *is_signed);
void sdd_h5_ints_to_i64(const void *buf, size_t size, int is_signed, int64_t n, int64_t *out);

/* ---- guards against metadata that libhdf5 1.10.8 would trust (h5_guard.c) */

/* Check the object header of `path` under loc (or of loc itself when path is NULL)
 * before libhdf5 opens it or touches its attributes: attribute, datatype, dataspace,
 * fill-value, filter and layout messages must fit their messages, and the strings of
 * attributes must point at well-formed global-heap objects of their length.
 * SDD_EFORMAT "<file>: <object>: corrupt HDF5 metadata (...)" otherwise. SDD_OK when
 * the object does not exist (the caller's own call reports that) or the file cannot be
 * read raw. Objects that passed are remembered, so repeated calls are cheap. */
int sdd_h5_guard_object(hid_t loc, const char *path);
/* The same for the root group of the file at path, found from the superblock, before
 * H5Fopen loads it. SDD_OK when the file has no superblock sddcell reads. */
int sdd_h5_guard_file(const char *path);
/* The same for the object at file address addr (an object reference), before
 * H5Rdereference2; name names the attribute holding it, for messages. */
int sdd_h5_guard_ref(hid_t loc, const char *name, haddr_t addr);
/* Check an open dataset's storage before it is read: filters only on chunked storage,
 * compact and contiguous data as long as the extent and inside the file, no more
 * elements or larger chunks than the file can hold at the largest compression ratio,
 * every filter available (SDD_EUNSUPPORTED naming it otherwise), and every
 * variable-length string's global-heap object present with the string's length. */
int sdd_h5_guard_dataset(hid_t dset);
/* 1 when a filter of dset's pipeline is not available in this build (mandatory ones
 * only, unless optional_too), with "compressed with HDF5 filter N ('name'), which this
 * build cannot decode ..." in buf; else 0. */
int sdd_h5_filter_missing(hid_t dset, int optional_too, char *buf, size_t n);

/* ---- an HDF5 file as raw bytes, for the guards (h5_raw.c) */

typedef struct {
    int fd;
    uint64_t base, eof;        /* file offset of address 0; file size (bytes) */
    unsigned sa, ss;           /* sizes of offsets and of lengths (8, 8) */
    char where[600];           /* "file: object", prefix of messages */
} gfile_t;
/* The raw side of loc's file: its descriptor, userblock, size and address widths.
 * -1 when the file cannot be read raw (another driver). */
int sdd_h5_gfile_open(hid_t loc, gfile_t *g);
/* Bytes [addr, addr + n) of the file (addresses relative to the base); -1 past its end. */
int sdd_h5_rd(const gfile_t *g, uint64_t addr, void *buf, uint64_t n);
/* The little-endian unsigned integer of n bytes at p. */
uint64_t sdd_h5_le(const uint8_t *p, unsigned n);
/* The undefined address of g's file (every bit of an offset set). */
uint64_t sdd_h5_undef(const gfile_t *g);
/* The superblock at file offset `at` (versions 0 to 3): sets g->sa and g->ss, the root
 * group's header address and the other block it names (versions 0, 1: the driver
 * information block; 2, 3: the superblock extension's header; sdd_h5_undef if none).
 * Returns the version, or -1 when there is no superblock sddcell reads at `at`. */
int sdd_h5_superblock(gfile_t *g, uint64_t at, uint64_t *root, uint64_t *other);
/* SDD_EFORMAT "<where>: corrupt HDF5 metadata (<what>)". */
int sdd_h5_corrupt(const gfile_t *g, const char *what);
/* A symbol-table message (m, size bytes) of an old-style group: its local heap and free
 * list inside the file, its B-tree and symbol-table nodes walked, every member name
 * inside the heap and terminated. 0 or SDD_EFORMAT. */
int sdd_h5_check_stab(const gfile_t *g, const uint8_t *m, uint64_t size);
/* The version-1 B-tree at btree indexing a chunked dataset of `dims` dimensions (the
 * layout's dimensionality): every chunk inside the file. 0 or SDD_EFORMAT. */
int sdd_h5_check_chunk_index(const gfile_t *g, uint64_t btree, unsigned dims);

/* ---- compound datasets (legacy anndata <= 0.6 obs / var tables; hdf5_compound.c) */

/* Number and names of the fields of a 1-d compound dataset. */
int sdd_h5_fields(hid_t dset, char ***names, int *n);
/* Class of a field: H5T_STRING, H5T_INTEGER, H5T_FLOAT, H5T_ENUM, ... or -1. */
int sdd_h5_field_class(hid_t dset, const char *field);
/* One field of every record as strings (strings as is, integers as decimal) or as
 * doubles (integers, floats, bool enums). */
int sdd_h5_field_strings(hid_t dset, const char *field, char ***out, int64_t *n);
int sdd_h5_field_f64(hid_t dset, const char *field, double **out, int64_t *n);

/* ---- parallel range reads of gzip-chunked 1-d datasets (h5_chunks.c) */

typedef struct sdd_h5_chunked sdd_h5_chunked_t;
/* A multi-threaded reader for dset if its storage allows it (chunked; [shuffle,]
 * deflate; little-endian int or float); *out = NULL otherwise (use the sdd_h5_read_*
 * calls). Does not take ownership of dset, which must outlive the reader. */
int sdd_h5_chunked_open(hid_t dset, int threads, sdd_h5_chunked_t **out);
/* Elements [start, start+count) into float (want_float) or saturated int32, decoded on
 * the reader's threads. For int32 output with bound > 0, *bad (if not NULL) receives the
 * first position (relative to start) whose value lies outside [0, bound), or -1.
 * SDD_EUNSUPPORTED (nothing written, no detail) when a chunk of the range cannot be
 * fetched raw (e.g. never written): read that range with H5Dread. */
int sdd_h5_chunked_read(sdd_h5_chunked_t *c, int64_t start, int64_t count, int want_float, int64_t bound,
                        void *out, int64_t *bad);
void sdd_h5_chunked_close(sdd_h5_chunked_t *c);

#endif
