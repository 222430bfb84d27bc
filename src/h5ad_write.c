/*
 * h5ad_write.c: the .h5ad writer. Lays a dataset out exactly as anndata >= 0.8 writes
 * one (its "IO spec"), so anndata reads it without guessing: every group and dataset
 * carries the string attributes encoding-type / encoding-version.
 *
 *   /              anndata 0.1.0
 *   X              csr_matrix 0.1.0, attribute shape = int64[2] {cells, genes};
 *                  data float32, indices int32, indptr int32 while nnz <= INT32_MAX
 *                  (as scipy stores it), int64 beyond
 *   obs, var       dataframe 0.2.0: attribute _index names the index dataset (a
 *                  string-array), column-order lists the columns (an empty float64 array
 *                  when there are none, as h5py writes an empty list)
 *   obsm, varm     dict 0.1.0 of dense float32 arrays (array 0.2.0), cells resp. genes
 *                  rows
 *   layers, obsp   dict 0.1.0 of csr_matrix groups laid out as X, cells x genes resp.
 *                  cells x cells; their stored zeros are kept (a distance of 0 between
 *                  two identical cells is an edge)
 *   uns            dict 0.1.0 built from a JSON object; varp is written as an empty dict
 *
 * Column kinds: string -> string-array 0.2.0 (vlen UTF-8); categorical -> categorical
 * 0.2.0 with codes as narrow as pandas makes them (int8 below 127 categories, then
 * int16, int32), categories a string-array and `ordered` a numpy bool; numeric ->
 * array 0.2.0 float64 (int64 when the column is integer-valued); bool -> HDF5 enum over
 * int8 {FALSE = 0, TRUE = 1}, which is how h5py stores numpy bools (a plain int8 would
 * come back as integers).
 *
 * Invariants of the output: X stores no exact zeros (entries equal to 0 are dropped and
 * indptr recomputed, so nnz counts true non-zeros); datasets of more than a few elements
 * are chunked (at most CHUNK_ELEMS elements per chunk) and deflate-compressed after
 * HDF5's byte shuffle (both built into every HDF5 library, so any reader decodes them).
 * On a 50,000 x 20,000 matrix with 104 M non-zeros, shuffle + deflate 1 wrote the file
 * in about 6 s and 162 MB where plain deflate 4 (h5py's gzip default) took 13 s and 244 MB.
 *
 * Atomicity: the file is built as ".NAME.tmp.PID" in the target's directory and renamed
 * onto NAME only after HDF5 has flushed and closed it. Every failure removes the
 * temporary file, so no half-written file ever carries the requested name; an existing
 * NAME stays as it was.
 */
#include "h5_util.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#define CHUNK_ELEMS ((hsize_t)1 << 18) /* 1 MiB of float32 per chunk */
#define SMALL_ELEMS 32                 /* below this a dataset is stored contiguous, raw */
#define DEFLATE_LEVEL 1                /* with shuffle: smaller and faster than h5py's gzip 4 */
#define X_BLOCK ((int64_t)1 << 20)     /* X entries filtered and written per step */
#define UNS_MAX_DEPTH 64

typedef struct {
    const char *path; /* the name the caller asked for, used in messages */
    hid_t str_t;      /* variable-length UTF-8 string */
    hid_t bool_t;     /* enum int8 {FALSE = 0, TRUE = 1} */
} wr_t;

/* Name of `name` under `loc` for messages ("obs/cell_type"). */
static void elem_name(hid_t loc, const char *name, char *buf, size_t n)
{
    char parent[256] = "";
    if (H5Iget_name(loc, parent, sizeof parent) < 0) parent[0] = 0;
    snprintf(buf, n, "%s/%s", strcmp(parent, "/") == 0 ? "" : parent, name);
}

static int h5fail(const wr_t *w, hid_t loc, const char *name)
{
    int e = errno; /* before anything below can change it */
    char what[320];
    const char *why;
    elem_name(loc, name, what, sizeof what);
    why = sdd_h5_last_error();
    /* HDF5's stack often says only "write failed"; the system's reason is clearer */
    if (e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS)
        return sdd_error(SDD_EIO, "%s: cannot write %s: %s", w->path, what + 1, strerror(e));
    if (why && *why) return sdd_error(SDD_EIO, "%s: cannot write %s (HDF5: %s)", w->path, what + 1, why);
    return sdd_error(SDD_EIO, "%s: cannot write %s", w->path, what + 1);
}

/* ------------------------------------------------------------ attributes */

static int attr_write(const wr_t *w, hid_t obj, const char *name, hid_t type, int rank,
                      const hsize_t *dims, const void *buf)
{
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t a = sp < 0 ? H5I_INVALID_HID : H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, buf) >= 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return ok ? SDD_OK : h5fail(w, obj, name);
}

static int attr_str(const wr_t *w, hid_t obj, const char *name, const char *val)
{
    return attr_write(w, obj, name, w->str_t, 0, NULL, &val);
}

static int tag(const wr_t *w, hid_t obj, const char *type, const char *version)
{
    int rc = attr_str(w, obj, "encoding-type", type);
    return rc < 0 ? rc : attr_str(w, obj, "encoding-version", version);
}

/* ------------------------------------------------------------- datasets */

hid_t sdd_h5_indptr_type(int64_t nnz)
{
    return nnz <= INT32_MAX ? H5T_STD_I32LE : H5T_STD_I64LE;
}

hid_t sdd_h5_create_dataset(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims)
{
    hid_t sp, dcpl = H5Pcreate(H5P_DATASET_CREATE), d = H5I_INVALID_HID;
    hsize_t total = 1, chunk[2];
    for (int i = 0; i < rank; i++) total *= dims[i];
    sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    if (sp < 0 || dcpl < 0) goto done;
    if (rank > 0 && total >= SMALL_ELEMS) {
        hsize_t inner = rank == 2 ? dims[1] : 1;
        if (rank == 2) chunk[1] = inner < CHUNK_ELEMS ? inner : CHUNK_ELEMS;
        chunk[0] = rank == 2 ? CHUNK_ELEMS / chunk[1] : CHUNK_ELEMS;
        if (chunk[0] > dims[0]) chunk[0] = dims[0];
        if (chunk[0] < 1) chunk[0] = 1;
        /* byte shuffle groups the high bytes of counts and indices, which deflate then
         * squeezes far better; pointless for the heap ids of variable-length strings */
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 ||
            (H5Tget_class(ftype) != H5T_STRING && H5Pset_shuffle(dcpl) < 0) ||
            H5Pset_deflate(dcpl, DEFLATE_LEVEL) < 0)
            goto done;
    }
    d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
done:
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
    return d;
}

/* Write a whole dataset from buf (memory type mtype) and tag it `enc` 0.2.0. */
static int ds_write(const wr_t *w, hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                    int rank, const hsize_t *dims, const void *buf, const char *enc)
{
    hid_t d = sdd_h5_create_dataset(loc, name, ftype, rank, dims);
    hsize_t total = 1;
    int rc;
    for (int i = 0; i < rank; i++) total *= dims[i];
    if (d < 0 || (total > 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0))
        rc = h5fail(w, loc, name);
    else
        rc = tag(w, d, enc, "0.2.0");
    if (d >= 0) H5Dclose(d);
    return rc;
}

/* A string-array 0.2.0 of n strings; NULL entries are written as "". */
static int write_strings(const wr_t *w, hid_t loc, const char *name, char *const *v, int64_t n)
{
    const char **p = sdd_malloc(((size_t)n + 1) * sizeof *p);
    hsize_t dims[1] = {(hsize_t)n};
    int rc;
    if (!p) return SDD_ENOMEM;
    for (int64_t i = 0; i < n; i++) p[i] = v && v[i] ? v[i] : "";
    rc = ds_write(w, loc, name, w->str_t, w->str_t, 1, dims, p, "string-array");
    free(p);
    return rc;
}

/* "0", "1", ... : anndata's default index when a dataset has no names. */
static char **default_names(int64_t n)
{
    char **v = sdd_calloc((size_t)n + 1, sizeof *v);
    char buf[24];
    if (!v) return NULL;
    for (int64_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%lld", (long long)i);
        if (!(v[i] = sdd_strdup(buf))) {
            sdd_strv_free(v, i);
            return NULL;
        }
    }
    return v;
}

static int strptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static hid_t group_dict(const wr_t *w, hid_t loc, const char *name)
{
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        h5fail(w, loc, name);
        return H5I_INVALID_HID;
    }
    if (tag(w, g, "dict", "0.1.0") < 0) {
        H5Gclose(g);
        return H5I_INVALID_HID;
    }
    return g;
}

/* HDF5 treats '/' as a path separator and "." as the group itself. */
static int check_key(const wr_t *w, const char *where, const char *key)
{
    if (!key || !*key || strchr(key, '/') || strcmp(key, ".") == 0)
        return sdd_error(SDD_EINVAL, "%s: %s name '%s' cannot be stored in HDF5 (empty, '.' or "
                         "containing '/')", w->path, where, key ? key : "");
    return SDD_OK;
}

/* ----------------------------------------------------------------- columns */

static int write_categorical(const wr_t *w, hid_t df, const sdd_column_t *c, int64_t n)
{
    hid_t g = H5I_INVALID_HID, ctype;
    hsize_t dims[1] = {(hsize_t)n};
    const char **sorted = NULL;
    int8_t ordered = c->ordered ? 1 : 0;
    int rc = SDD_OK;

    if (c->n_categories < 0 || (c->n_categories > 0 && !c->categories) || (n > 0 && !c->codes))
        return sdd_error(SDD_EINVAL, "%s: categorical column '%s' has no categories or codes",
                         w->path, c->name);
    for (int64_t i = 0; i < n; i++)
        if (c->codes[i] < -1 || c->codes[i] >= c->n_categories)
            return sdd_error(SDD_EINVAL, "%s: column '%s': code %d at row %lld is outside "
                             "[-1, %d)", w->path, c->name, c->codes[i], (long long)i,
                             c->n_categories);
    /* pandas refuses duplicate categories, so anndata could not read them back */
    if (!(sorted = sdd_malloc(((size_t)c->n_categories + 1) * sizeof *sorted))) return SDD_ENOMEM;
    for (int32_t k = 0; k < c->n_categories; k++)
        sorted[k] = c->categories[k] ? c->categories[k] : "";
    qsort(sorted, (size_t)c->n_categories, sizeof *sorted, strptr_cmp);
    for (int32_t k = 1; k < c->n_categories; k++)
        if (strcmp(sorted[k - 1], sorted[k]) == 0) {
            rc = sdd_error(SDD_EINVAL, "%s: column '%s' has the category '%s' twice", w->path,
                           c->name, sorted[k]);
            goto done;
        }
    /* pandas' coerce_indexer_dtype: the narrowest signed type that holds n_categories */
    ctype = c->n_categories < INT8_MAX ? H5T_STD_I8LE
          : c->n_categories < INT16_MAX ? H5T_STD_I16LE : H5T_STD_I32LE;
    if ((g = H5Gcreate2(df, c->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = h5fail(w, df, c->name);
        goto done;
    }
    if ((rc = tag(w, g, "categorical", "0.2.0")) < 0 ||
        (rc = attr_write(w, g, "ordered", w->bool_t, 0, NULL, &ordered)) < 0 ||
        (rc = ds_write(w, g, "codes", ctype, H5T_NATIVE_INT32, 1, dims, c->codes, "array")) < 0 ||
        (rc = write_strings(w, g, "categories", c->categories, c->n_categories)) < 0)
        goto done;
    rc = SDD_OK;
done:
    if (g >= 0) H5Gclose(g);
    free(sorted);
    return rc;
}

/* Numeric or bool column. Integer columns go out as int64 unless a value does not fit
 * (NaN, fraction, overflow); bools as the h5py enum unless one is missing (NaN), in which
 * case float64 keeps the missing value. */
static int write_numeric(const wr_t *w, hid_t df, const sdd_column_t *c, int64_t n)
{
    hsize_t dims[1] = {(hsize_t)n};
    int as_int = c->kind == SDD_COL_NUMERIC && c->is_integer, as_bool = c->kind == SDD_COL_BOOL;
    void *buf = NULL;
    int rc;

    if (n > 0 && !c->numeric)
        return sdd_error(SDD_EINVAL, "%s: column '%s' has no values", w->path, c->name);
    for (int64_t i = 0; i < n && (as_int || as_bool); i++) {
        double v = c->numeric[i];
        if (!isfinite(v) || (as_int && (v != floor(v) || fabs(v) >= 9.2e18))) as_int = as_bool = 0;
    }
    if (!as_int && !as_bool)
        return ds_write(w, df, c->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, c->numeric,
                        "array");
    if (!(buf = sdd_malloc(((size_t)n + 1) * (as_int ? sizeof(int64_t) : 1)))) return SDD_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        if (as_int) ((int64_t *)buf)[i] = (int64_t)c->numeric[i];
        else ((int8_t *)buf)[i] = c->numeric[i] != 0;
    }
    if (as_int)
        rc = ds_write(w, df, c->name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, dims, buf, "array");
    else
        rc = ds_write(w, df, c->name, w->bool_t, w->bool_t, 1, dims, buf, "array");
    free(buf);
    return rc;
}

static int write_column(const wr_t *w, hid_t df, const char *frame, const sdd_column_t *c,
                        int64_t n)
{
    int rc = check_key(w, frame, c->name);
    if (rc < 0) return rc;
    if (strcmp(c->name, "_index") == 0)
        return sdd_error(SDD_EINVAL, "%s: '_index' is reserved by anndata and cannot name an %s "
                         "column", w->path, frame);
    if (c->n != n)
        return sdd_error(SDD_EINVAL, "%s: %s column '%s' has %lld rows, expected %lld", w->path,
                         frame, c->name, (long long)c->n, (long long)n);
    switch (c->kind) {
    case SDD_COL_STRING: return write_strings(w, df, c->name, c->strings, n);
    case SDD_COL_CATEGORICAL: return write_categorical(w, df, c, n);
    case SDD_COL_NUMERIC:
    case SDD_COL_BOOL: return write_numeric(w, df, c, n);
    default:
        return sdd_error(SDD_EINVAL, "%s: %s column '%s' has unknown kind %d", w->path, frame,
                         c->name, c->kind);
    }
}

/* A dataframe 0.2.0: index `names` (NULL = "0", "1", ...) and the columns in order. */
static int write_dataframe(const wr_t *w, hid_t file, const char *frame, char *const *names,
                           int64_t n, const sdd_column_t *const *cols, int ncols)
{
    hid_t g = H5I_INVALID_HID;
    char **dflt = NULL;
    const char **order = NULL;
    int rc = SDD_OK;

    if ((g = H5Gcreate2(file, frame, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        return h5fail(w, file, frame);
    if (!(order = sdd_calloc((size_t)ncols + 1, sizeof *order))) {
        rc = SDD_ENOMEM;
        goto done;
    }
    for (int i = 0; i < ncols; i++) {
        for (int j = 0; j < i; j++)
            if (cols[j]->name && cols[i]->name && strcmp(cols[j]->name, cols[i]->name) == 0) {
                rc = sdd_error(SDD_EINVAL, "%s: two %s columns are named '%s'", w->path, frame,
                               cols[i]->name);
                goto done;
            }
        if ((rc = write_column(w, g, frame, cols[i], n)) < 0) goto done;
        order[i] = cols[i]->name;
    }
    if ((rc = tag(w, g, "dataframe", "0.2.0")) < 0 || (rc = attr_str(w, g, "_index", "_index")) < 0)
        goto done;
    if (ncols > 0) {
        hsize_t dims[1] = {(hsize_t)ncols};
        rc = attr_write(w, g, "column-order", w->str_t, 1, dims, order);
    } else {
        /* what h5py stores for an empty list: a float64 array of length 0 */
        hsize_t dims[1] = {0};
        double none = 0;
        rc = attr_write(w, g, "column-order", H5T_IEEE_F64LE, 1, dims, &none);
    }
    if (rc < 0) goto done;
    if (!names && !(names = dflt = default_names(n))) {
        rc = SDD_ENOMEM;
        goto done;
    }
    rc = write_strings(w, g, "_index", names, n);
done:
    sdd_strv_free(dflt, n);
    free(order);
    H5Gclose(g);
    return rc;
}

/* ----------------------------------------------------------------------- X */

/* The csr_matrix group loc/name from X, streamed through X_BLOCK-sized buffers so that
 * writing needs no second copy of the matrix. With drop_zeros (the count matrix X) the
 * exact zeros are left out and indptr recomputed; otherwise every stored entry is kept. */
static int write_csr(const wr_t *w, hid_t loc, const char *name, const sdd_csr_t *X, int drop_zeros)
{
    hid_t g = H5I_INVALID_HID, dd = H5I_INVALID_HID, di = H5I_INVALID_HID;
    hid_t fsp = H5I_INVALID_HID, msp = H5I_INVALID_HID;
    int64_t *ip = NULL, shape[2] = {X->n_rows, X->n_cols}, nnz, fill = 0, pos = 0;
    const int64_t *indptr = X->indptr;
    float *bd = NULL;
    int32_t *bi = NULL;
    hsize_t dims[1], two[1] = {2};
    int rc = SDD_OK;

    if (drop_zeros) {
        if (!(ip = sdd_malloc(((size_t)X->n_rows + 1) * sizeof *ip))) return SDD_ENOMEM;
        ip[0] = 0;
        for (int64_t r = 0; r < X->n_rows; r++) {
            int64_t c = 0;
            for (int64_t k = X->indptr[r]; k < X->indptr[r + 1]; k++) c += X->data[k] != 0.0f;
            ip[r + 1] = ip[r] + c;
        }
        indptr = ip;
    }
    nnz = indptr[X->n_rows];
    if (nnz < X->nnz)
        SDD_LOG_D("%s: %lld stored zeros dropped from %s", w->path, (long long)(X->nnz - nnz), name);
    if ((g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = h5fail(w, loc, name);
        goto done;
    }
    if ((rc = tag(w, g, "csr_matrix", "0.1.0")) < 0 ||
        (rc = attr_write(w, g, "shape", H5T_STD_I64LE, 1, two, shape)) < 0)
        goto done;
    dims[0] = (hsize_t)X->n_rows + 1;
    if ((rc = ds_write(w, g, "indptr", sdd_h5_indptr_type(nnz), H5T_NATIVE_INT64, 1, dims, indptr,
                       "array")) < 0)
        goto done;
    dims[0] = (hsize_t)nnz;
    if ((dd = sdd_h5_create_dataset(g, "data", H5T_IEEE_F32LE, 1, dims)) < 0 ||
        (di = sdd_h5_create_dataset(g, "indices", H5T_STD_I32LE, 1, dims)) < 0) {
        rc = h5fail(w, g, dd < 0 ? "data" : "indices");
        goto done;
    }
    if (!(bd = sdd_malloc((size_t)X_BLOCK * sizeof *bd)) ||
        !(bi = sdd_malloc((size_t)X_BLOCK * sizeof *bi))) {
        rc = SDD_ENOMEM;
        goto done;
    }
    for (int64_t k = 0; k <= X->nnz; k++) {
        if (fill == X_BLOCK || (k == X->nnz && fill > 0)) {
            hsize_t off[1] = {(hsize_t)pos}, cnt[1] = {(hsize_t)fill};
            if ((fsp = H5Dget_space(dd)) < 0 || (msp = H5Screate_simple(1, cnt, NULL)) < 0 ||
                H5Sselect_hyperslab(fsp, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
                H5Dwrite(dd, H5T_NATIVE_FLOAT, msp, fsp, H5P_DEFAULT, bd) < 0 ||
                H5Dwrite(di, H5T_NATIVE_INT32, msp, fsp, H5P_DEFAULT, bi) < 0) {
                rc = h5fail(w, g, "data");
                goto done;
            }
            H5Sclose(fsp);
            H5Sclose(msp);
            fsp = msp = H5I_INVALID_HID;
            pos += fill;
            fill = 0;
        }
        if (k < X->nnz && (!drop_zeros || X->data[k] != 0.0f)) {
            bd[fill] = X->data[k];
            bi[fill++] = X->indices[k];
        }
    }
    if ((rc = tag(w, dd, "array", "0.2.0")) < 0 || (rc = tag(w, di, "array", "0.2.0")) < 0)
        goto done;
done:
    if (fsp >= 0) H5Sclose(fsp);
    if (msp >= 0) H5Sclose(msp);
    if (dd >= 0) H5Dclose(dd);
    if (di >= 0) H5Dclose(di);
    if (g >= 0) H5Gclose(g);
    free(bd);
    free(bi);
    free(ip);
    return rc;
}

/* --------------------------------------------------------------------- uns */

static int write_uns_value(const wr_t *w, hid_t g, const cJSON *it, int depth);

static int is_integral(double v) { return isfinite(v) && v == floor(v) && fabs(v) < 9.2e18; }

/* A JSON array of numbers, strings or bools as a 1-d dataset. */
static int write_uns_array(const wr_t *w, hid_t g, const cJSON *arr)
{
    int n = cJSON_GetArraySize(arr), nnum = 0, nstr = 0, nbool = 0, nint = 0, i = 0, rc;
    hsize_t dims[1] = {(hsize_t)n};
    const cJSON *e;
    void *buf;

    cJSON_ArrayForEach(e, arr) {
        nnum += cJSON_IsNumber(e);
        nint += cJSON_IsNumber(e) && is_integral(e->valuedouble);
        nstr += cJSON_IsString(e);
        nbool += cJSON_IsBool(e);
    }
    if (n > 0 && nnum != n && nstr != n && nbool != n)
        return sdd_error(SDD_EINVAL, "%s: uns entry '%s' is an array that mixes types or nests "
                         "containers", w->path, arr->string);
    if (!(buf = sdd_calloc((size_t)n + 1, sizeof(int64_t)))) return SDD_ENOMEM;
    cJSON_ArrayForEach(e, arr) {
        if (nstr == n && n) ((const char **)buf)[i++] = e->valuestring;
        else if (nbool == n && n) ((int8_t *)buf)[i++] = cJSON_IsTrue(e);
        else if (nint == n) ((int64_t *)buf)[i++] = (int64_t)e->valuedouble;
        else ((double *)buf)[i++] = e->valuedouble;
    }
    if (n && nstr == n)
        rc = ds_write(w, g, arr->string, w->str_t, w->str_t, 1, dims, buf, "string-array");
    else if (n && nbool == n)
        rc = ds_write(w, g, arr->string, w->bool_t, w->bool_t, 1, dims, buf, "array");
    else if (n && nint == n)
        rc = ds_write(w, g, arr->string, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, dims, buf, "array");
    else /* as numpy stores an empty list: float64 */
        rc = ds_write(w, g, arr->string, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, buf, "array");
    free(buf);
    return rc;
}

static int write_uns_dict(const wr_t *w, hid_t parent, const char *name, const cJSON *obj,
                          int depth)
{
    hid_t g;
    const cJSON *it;
    int rc = SDD_OK;
    if (depth > UNS_MAX_DEPTH)
        return sdd_error(SDD_EINVAL, "%s: uns is nested more than %d levels deep", w->path,
                         UNS_MAX_DEPTH);
    if ((g = group_dict(w, parent, name)) < 0) return SDD_EIO;
    cJSON_ArrayForEach(it, obj) {
        if ((rc = write_uns_value(w, g, it, depth)) < 0) break;
    }
    H5Gclose(g);
    return rc;
}

static int write_uns_value(const wr_t *w, hid_t g, const cJSON *it, int depth)
{
    const char *key = it->string;
    int rc = check_key(w, "uns", key);
    if (rc < 0) return rc;
    if (H5Lexists(g, key, H5P_DEFAULT) > 0)
        return sdd_error(SDD_EINVAL, "%s: uns key '%s' appears twice", w->path, key);
    if (cJSON_IsObject(it)) return write_uns_dict(w, g, key, it, depth + 1);
    if (cJSON_IsArray(it)) return write_uns_array(w, g, it);
    if (cJSON_IsString(it))
        return ds_write(w, g, key, w->str_t, w->str_t, 0, NULL, &it->valuestring, "string");
    if (cJSON_IsBool(it)) {
        int8_t b = cJSON_IsTrue(it);
        return ds_write(w, g, key, w->bool_t, w->bool_t, 0, NULL, &b, "numeric-scalar");
    }
    if (cJSON_IsNumber(it)) {
        double v = it->valuedouble;
        int64_t iv = (int64_t)v;
        if (is_integral(v))
            return ds_write(w, g, key, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL, &iv,
                            "numeric-scalar");
        return ds_write(w, g, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &v, "numeric-scalar");
    }
    /* anndata has no encoding for None */
    SDD_LOG_D("%s: uns entry '%s' is null and is not written", w->path, key);
    return SDD_OK;
}

/* -------------------------------------------------------------- the file */

/* The dict `group` of n dense float32 arrays, each with `rows` rows (obsm, varm). */
static int write_dense_dict(const wr_t *w, hid_t file, const char *group, const sdd_dense_t *v,
                            int n, int64_t rows)
{
    hid_t g = group_dict(w, file, group);
    int rc = SDD_OK;
    if (g < 0) return SDD_EIO;
    for (int i = 0; i < n && rc == SDD_OK; i++) {
        const sdd_dense_t *m = &v[i];
        hsize_t dims[2] = {(hsize_t)m->rows, (hsize_t)m->cols};
        if ((rc = check_key(w, group, m->name)) < 0) break;
        if (m->rows != rows || m->cols < 0 || (m->rows * m->cols > 0 && !m->data))
            rc = sdd_error(SDD_EINVAL, "%s: %s '%s' is %lld x %lld, expected %lld rows", w->path, group,
                           m->name, (long long)m->rows, (long long)m->cols, (long long)rows);
        else if (H5Lexists(g, m->name, H5P_DEFAULT) > 0)
            rc = sdd_error(SDD_EINVAL, "%s: %s '%s' appears twice", w->path, group, m->name);
        else
            rc = ds_write(w, g, m->name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, m->data, "array");
    }
    H5Gclose(g);
    return rc;
}

/* The dict `group` of n csr_matrix groups, each rows x cols, stored zeros kept (layers,
 * obsp). Shapes and structure were checked by check_input. */
static int write_csr_dict(const wr_t *w, hid_t file, const char *group, const sdd_h5ad_csr_t *v, int n)
{
    hid_t g = group_dict(w, file, group);
    int rc = SDD_OK;
    if (g < 0) return SDD_EIO;
    for (int i = 0; i < n && rc == SDD_OK; i++) {
        if ((rc = check_key(w, group, v[i].name)) < 0) break;
        if (H5Lexists(g, v[i].name, H5P_DEFAULT) > 0)
            rc = sdd_error(SDD_EINVAL, "%s: %s '%s' appears twice", w->path, group, v[i].name);
        else
            rc = write_csr(w, g, v[i].name, v[i].m, 0);
    }
    H5Gclose(g);
    return rc;
}

static int write_var(const wr_t *w, hid_t file, const sdd_dataset_t *ds)
{
    const sdd_column_t **cols = sdd_calloc((size_t)ds->n_var + 2, sizeof *cols);
    sdd_column_t ids = {.name = "gene_ids", .kind = SDD_COL_STRING, .n = ds->n_genes,
                        .strings = ds->gene_ids};
    int n = 0, rc;
    if (!cols) return SDD_ENOMEM;
    /* gene ids first, where scanpy's read_10x_h5 puts them, unless var already has them */
    if (ds->gene_ids && sdd_column_find(ds->var, ds->n_var, "gene_ids") < 0) cols[n++] = &ids;
    for (int i = 0; i < ds->n_var; i++) cols[n++] = &ds->var[i];
    rc = write_dataframe(w, file, "var", ds->gene_names, ds->n_genes, cols, n);
    free(cols);
    return rc;
}

static int write_file(const wr_t *w, hid_t file, const sdd_dataset_t *ds, const sdd_h5ad_elems_t *el)
{
    const cJSON *uns = el->uns;
    const sdd_column_t **cols = NULL;
    int rc;
    hid_t g;

    if ((rc = tag(w, file, "anndata", "0.1.0")) < 0 || (rc = write_csr(w, file, "X", &ds->X, 1)) < 0)
        return rc;
    if (!(cols = sdd_calloc((size_t)ds->n_obs + 1, sizeof *cols))) return SDD_ENOMEM;
    for (int i = 0; i < ds->n_obs; i++) cols[i] = &ds->obs[i];
    rc = write_dataframe(w, file, "obs", ds->cell_names, ds->n_cells, cols, ds->n_obs);
    free(cols);
    if (rc < 0 || (rc = write_var(w, file, ds)) < 0 ||
        (rc = write_dense_dict(w, file, "obsm", ds->obsm, ds->n_obsm, ds->n_cells)) < 0 ||
        (rc = write_csr_dict(w, file, "layers", el->layers, el->n_layers)) < 0 ||
        (rc = write_csr_dict(w, file, "obsp", el->obsp, el->n_obsp)) < 0 ||
        (rc = write_dense_dict(w, file, "varm", el->varm, el->n_varm, ds->n_genes)) < 0)
        return rc;
    if ((g = group_dict(w, file, "varp")) < 0) return SDD_EIO;
    H5Gclose(g);
    if (uns) return write_uns_dict(w, file, "uns", uns, 0);
    if ((g = group_dict(w, file, "uns")) < 0) return SDD_EIO;
    H5Gclose(g);
    return SDD_OK;
}

/* Create the temporary file ourselves first: errno gives a clearer message than HDF5
 * ("No such file or directory", "Permission denied"). */
static int create_temp(const char *path, const char *tmp)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno == EEXIST) { /* left by a killed run that had our pid */
        unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    }
    if (fd < 0) {
        const char *slash = strrchr(path, '/');
        return sdd_error(SDD_EIO, "%s: cannot create a file in %.*s: %s", path,
                         slash ? (int)(slash - path) : 1, slash ? path : ".", strerror(errno));
    }
    close(fd);
    return SDD_OK;
}

/* Each of the n sparse matrices in group is rows x cols and well formed. */
static int check_csrs(const char *path, const char *group, const sdd_h5ad_csr_t *v, int n,
                      int64_t rows, int64_t cols)
{
    char what[512];
    int rc;
    if (n > 0 && !v) return sdd_error(SDD_EINVAL, "%s: %d %s entries but no list", path, n, group);
    for (int i = 0; i < n; i++) {
        const sdd_csr_t *m = v[i].m;
        if (!m || !m->indptr)
            return sdd_error(SDD_EINVAL, "%s: %s '%s' has no matrix", path, group,
                             v[i].name ? v[i].name : "");
        if (m->n_rows != rows || m->n_cols != cols)
            return sdd_error(SDD_EINVAL, "%s: %s '%s' is %lld x %lld, expected %lld x %lld", path,
                             group, v[i].name ? v[i].name : "", (long long)m->n_rows,
                             (long long)m->n_cols, (long long)rows, (long long)cols);
        snprintf(what, sizeof what, "%s: %s '%s'", path, group, v[i].name ? v[i].name : "");
        if ((rc = sdd_csr_validate(m, what)) < 0) return rc;
    }
    return SDD_OK;
}

static int check_input(const char *path, const sdd_dataset_t *ds, const sdd_h5ad_elems_t *el)
{
    const sdd_csr_t *X = &ds->X;
    const cJSON *uns = el->uns;
    int rc;
    if (!X->indptr)
        return sdd_error(SDD_EINVAL, "%s: the dataset has no count matrix to write", path);
    if (X->n_rows != ds->n_cells || X->n_cols != ds->n_genes)
        return sdd_error(SDD_EINVAL, "%s: X is %lld x %lld but the dataset has %lld cells and "
                         "%lld genes", path, (long long)X->n_rows, (long long)X->n_cols,
                         (long long)ds->n_cells, (long long)ds->n_genes);
    if (uns && !cJSON_IsObject(uns))
        return sdd_error(SDD_EINVAL, "%s: uns must be a JSON object", path);
    if ((rc = check_csrs(path, "layers", el->layers, el->n_layers, ds->n_cells, ds->n_genes)) < 0 ||
        (rc = check_csrs(path, "obsp", el->obsp, el->n_obsp, ds->n_cells, ds->n_cells)) < 0)
        return rc;
    if (el->n_varm > 0 && !el->varm) return sdd_error(SDD_EINVAL, "%s: varm entries but no list", path);
    return sdd_csr_validate(X, path);
}

int sdd_h5ad_write(const char *path, const sdd_dataset_t *ds, const void *uns_json)
{
    sdd_h5ad_elems_t el = {.uns = uns_json};
    return sdd_h5ad_write_elems(path, ds, &el);
}

int sdd_h5ad_write_elems(const char *path, const sdd_dataset_t *ds, const sdd_h5ad_elems_t *elems)
{
    static const sdd_h5ad_elems_t none;
    const sdd_h5ad_elems_t *el = elems ? elems : &none;
    wr_t w = {.path = path, .str_t = H5I_INVALID_HID, .bool_t = H5I_INVALID_HID};
    hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID;
    char *tmp = NULL;
    int8_t f = 0, t = 1;
    int rc, created = 0;

    if (!path || !*path || !ds) return sdd_error(SDD_EINVAL, "h5ad writer: no path or dataset");
    if ((rc = check_input(path, ds, el)) < 0 || (rc = sdd_init()) < 0) return rc;
    if (!(tmp = sdd_tmp_path(path))) return SDD_ENOMEM;
    sdd_tmp_track(tmp);
    if ((rc = create_temp(path, tmp)) < 0) goto fail;
    created = 1;
    rc = SDD_EIO;
    if ((w.str_t = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(w.str_t, H5T_VARIABLE) < 0 ||
        H5Tset_cset(w.str_t, H5T_CSET_UTF8) < 0 || (w.bool_t = H5Tenum_create(H5T_STD_I8LE)) < 0 ||
        H5Tenum_insert(w.bool_t, "FALSE", &f) < 0 || H5Tenum_insert(w.bool_t, "TRUE", &t) < 0 ||
        (fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        sdd_error(SDD_EIO, "%s: HDF5 failed to set up the writer", path);
        goto fail;
    }
    if ((file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        sdd_error(SDD_EIO, "%s: HDF5 cannot create %s", path, tmp);
        goto fail;
    }
    if ((rc = write_file(&w, file, ds, el)) < 0) goto fail;
    /* flush first: a failed flush leaves the file open and closable (see fail:), while a
     * failed H5Fclose leaves a half-closed file that must not be touched again */
    errno = 0;
    if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0) {
        rc = sdd_error(SDD_EIO, "%s: HDF5 failed to flush the file: %s", path,
                       errno ? strerror(errno) : "disk full?");
        goto fail;
    }
    rc = H5Fclose(file);
    file = H5I_INVALID_HID;
    if (rc < 0) {
        rc = sdd_error(SDD_EIO, "%s: HDF5 failed to finish the file: %s", path,
                       errno ? strerror(errno) : "disk full?");
        goto fail;
    }
    if (sdd_tmp_commit(tmp, path) != 0) {
        rc = sdd_error(SDD_EIO, "%s: cannot rename the finished file into place: %s", path,
                       strerror(errno));
        goto fail;
    }
    H5Pclose(fapl);
    H5Tclose(w.str_t);
    H5Tclose(w.bool_t);
    sdd_tmp_untrack(tmp);
    free(tmp);
    return SDD_OK;
fail:
    /* HDF5 flushes its metadata on close; when that fails (disk full) the file stays open
     * and HDF5's exit handler crashes on it later. Emptying the doomed file first gives
     * HDF5 room, and a second flush before the close lets the close go through (found by
     * filling small tmpfs mounts at every stage of the write). */
    if (file >= 0) {
        if (created && truncate(tmp, 0) != 0) SDD_LOG_D("%s: cannot truncate %s", path, tmp);
        H5Fflush(file, H5F_SCOPE_LOCAL);
        H5Fclose(file);
    }
    if (fapl >= 0) H5Pclose(fapl);
    if (w.str_t >= 0) H5Tclose(w.str_t);
    if (w.bool_t >= 0) H5Tclose(w.bool_t);
    if (created) unlink(tmp);
    sdd_tmp_untrack(tmp);
    free(tmp);
    return rc;
}
