/*
 * hdf5_util.c: the thin layer between libsddcell and the HDF5 C API, shared by the
 * h5ad and 10x readers and the h5ad writer (declared in h5_util.h).
 *
 * What it settles once so that format code does not have to:
 *  - opening: an empty file, a file without the HDF5 signature and a truncated file each
 *    get their own one-line message; files are opened with a 64 MiB chunk cache so that
 *    streaming row ranges of gzip-chunked arrays decompresses each chunk once;
 *  - type widths: integer datasets of any width and signedness are read into int64 (or
 *    int32, saturating) and numeric datasets into float / double, with HDF5 converting
 *    on the fly; h5py's booleans (an enum over int8) are read through their base type,
 *    since HDF5 does not convert enums to integers;
 *  - strings: fixed-length (NUL- or space-padded) and variable-length, ASCII or UTF-8,
 *    scalar or 1-element attributes, and legacy compound tables' fields;
 *  - messages: every error names the file and the element ("a.h5ad: X/indptr: ..."),
 *    through h5_msg.c.
 */
#include "h5_util.h"
#include <gsl/gsl_errno.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#define CHUNK_CACHE_BYTES ((size_t)64 << 20)
#define CHUNK_CACHE_SLOTS 100003 /* prime, well above the chunks the cache can hold */

int sdd_h5_open(const char *path, hid_t *fid)
{
    struct stat st;
    hid_t fapl = -1;
    htri_t is;
    *fid = -1;
    if (stat(path, &st) != 0) return sdd_error(SDD_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return sdd_error(SDD_EFORMAT, "%s: is a directory, not an HDF5 file", path);
    if (!S_ISREG(st.st_mode)) /* HDF5 seeks: a pipe or device cannot be read */
        return sdd_error(SDD_EFORMAT, "%s: not a regular file (HDF5 files are read from disk)", path);
    if (st.st_size == 0) return sdd_error(SDD_EFORMAT, "%s: empty file (0 bytes), not an HDF5 file", path);
    if (sdd_lzf_register() < 0) return SDD_EIO;
    is = H5Fis_hdf5(path);
    if (is < 0) return sdd_error(SDD_EIO, "%s: cannot be read (%s)", path, sdd_h5_last_error());
    if (is == 0) return sdd_error(SDD_EFORMAT, "%s: not an HDF5 file (no HDF5 signature)", path);
    if (sdd_h5_guard_file(path) < 0) return SDD_EFORMAT;
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0) H5Pset_cache(fapl, 0, CHUNK_CACHE_SLOTS, CHUNK_CACHE_BYTES, 1.0);
    *fid = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    if (*fid < 0) /* read HDF5's reason before H5Pclose clears the error stack */
        sdd_error(SDD_EFORMAT, "%s: truncated or corrupt HDF5 file (%lld bytes; HDF5: %s)", path,
                  (long long)st.st_size, sdd_h5_last_error());
    if (fapl >= 0) H5Pclose(fapl);
    return *fid < 0 ? SDD_EFORMAT : SDD_OK;
}

void sdd_h5_close(hid_t id)
{
    if (id < 0) return;
    switch (H5Iget_type(id)) {
    case H5I_FILE: H5Fclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: break;
    }
}

/* ------------------------------------------------------------- objects */

int sdd_h5_exists(hid_t loc, const char *path)
{
    char buf[1024];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, path, len + 1);
    /* H5Lexists fails (rather than returning 0) when an intermediate link is missing,
     * so every prefix is checked in turn. */
    for (char *p = buf + (buf[0] == '/'); ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (strcmp(buf, "/") != 0 && H5Lexists(loc, buf, H5P_DEFAULT) <= 0) return 0;
            /* a group the path passes through is checked before libhdf5 reads its links; a
             * damaged one answers yes, so that the caller's open reports the damage */
            if (c != 0 && sdd_h5_guard_object(loc, buf) < 0) return 1;
            *p = c;
            if (c == 0) break;
        }
    }
    return H5Oexists_by_name(loc, path, H5P_DEFAULT) > 0;
}

/* -1 missing, -2 a corrupt object header (detail set; not opened), else the H5I type. */
static int obj_kind(hid_t loc, const char *path)
{
    hid_t o;
    H5I_type_t t;
    if (!sdd_h5_exists(loc, path)) return -1;
    if (sdd_h5_guard_object(loc, path) < 0) return -2;
    if ((o = H5Oopen(loc, path, H5P_DEFAULT)) < 0) { /* linked, yet its header does not decode */
        char w[600];
        sdd_error(SDD_EFORMAT, "%s: corrupt HDF5 metadata (the object cannot be opened; HDF5: %s)",
                  sdd_h5_where(loc, path, w, sizeof w), sdd_h5_last_error());
        return -2;
    }
    t = H5Iget_type(o);
    H5Oclose(o);
    return (int)t;
}

/* A corrupt object answers yes, so that the caller's open reports the corruption
 * instead of the object being taken for missing. */
int sdd_h5_is_group(hid_t loc, const char *path)
{
    int k = obj_kind(loc, path);
    return k == H5I_GROUP || k == -2;
}

int sdd_h5_is_dataset(hid_t loc, const char *path)
{
    int k = obj_kind(loc, path);
    return k == H5I_DATASET || k == -2;
}

static int open_kind(hid_t loc, const char *path, hid_t *out, int want)
{
    char w[600];
    int k = obj_kind(loc, path), rc;
    *out = -1;
    if (k == -2) return SDD_EFORMAT;
    if (k < 0) return sdd_error(SDD_EFORMAT, "%s is missing", sdd_h5_where(loc, path, w, sizeof w));
    if (k != want)
        return sdd_error(SDD_EFORMAT, "%s is not a %s", sdd_h5_where(loc, path, w, sizeof w),
                         want == H5I_GROUP ? "group" : "dataset");
    *out = want == H5I_GROUP ? H5Gopen2(loc, path, H5P_DEFAULT) : H5Dopen2(loc, path, H5P_DEFAULT);
    if (*out < 0)
        return sdd_error(SDD_EFORMAT, "%s cannot be opened (HDF5: %s)",
                         sdd_h5_where(loc, path, w, sizeof w), sdd_h5_last_error());
    if (want == H5I_DATASET && (rc = sdd_h5_guard_dataset(*out)) < 0) {
        H5Dclose(*out);
        *out = -1;
        return rc;
    }
    return SDD_OK;
}

int sdd_h5_open_group(hid_t loc, const char *path, hid_t *out) { return open_kind(loc, path, out, H5I_GROUP); }
int sdd_h5_open_dataset(hid_t loc, const char *path, hid_t *out) { return open_kind(loc, path, out, H5I_DATASET); }

typedef struct {
    char **v;
    int64_t n, cap;
    int failed;
} name_list_t;

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    name_list_t *l = data;
    (void)g;
    (void)info;
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 16;
        char **v = sdd_realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return (l->failed = 1), -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = sdd_strdup(name))) return (l->failed = 1), -1;
    l->n++;
    return 0;
}

int sdd_h5_list(hid_t group, char ***out, int64_t *n)
{
    name_list_t l = {0};
    hsize_t idx = 0;
    char w[600];
    *out = NULL;
    *n = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, list_cb, &l) < 0) {
        sdd_strv_free(l.v, l.n);
        if (l.failed) return SDD_ENOMEM;
        return sdd_error(SDD_EFORMAT, "%s: cannot list members (HDF5: %s)",
                         sdd_h5_where(group, NULL, w, sizeof w), sdd_h5_last_error());
    }
    *out = l.v;
    *n = l.n;
    return SDD_OK;
}

/* ------------------------------------------------------------- strings */

/* Copy a fixed-length string field of `size` bytes, dropping its padding. */
static char *fixed_dup(const char *p, size_t size, H5T_str_t pad)
{
    size_t len = 0;
    char *s;
    while (len < size && p[len]) len++;
    if (pad == H5T_STR_SPACEPAD)
        while (len > 0 && p[len - 1] == ' ') len--;
    if (!(s = sdd_malloc(len + 1))) return NULL;
    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

/* A memory string type matching the file type `ft` (vlen or fixed), same charset. */
hid_t sdd_h5_mem_string_type(hid_t ft)
{
    hid_t mt;
    if (H5Tis_variable_str(ft) > 0) {
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
    } else {
        mt = H5Tcopy(ft);
    }
    H5Tset_cset(mt, H5Tget_cset(ft));
    return mt;
}

/* Turn a buffer read with sdd_h5_mem_string_type(ft) into owned strings; frees vlen items. */
int sdd_h5_unpack_strings(hid_t mt, void *buf, int64_t n, char **out)
{
    int vlen = H5Tis_variable_str(mt) > 0, rc = SDD_OK;
    size_t size = H5Tget_size(mt);
    H5T_str_t pad = H5Tget_strpad(mt);
    for (int64_t i = 0; i < n; i++) {
        if (vlen) {
            char *p = ((char **)buf)[i];
            if (rc == SDD_OK && !(out[i] = sdd_strdup(p ? p : ""))) rc = SDD_ENOMEM;
            if (p) H5free_memory(p);
        } else if (rc == SDD_OK && !(out[i] = fixed_dup((char *)buf + (size_t)i * size, size, pad))) {
            rc = SDD_ENOMEM;
        }
    }
    return rc;
}

/* Read every element of an attribute or dataset with a string type. */
static int read_all_strings(hid_t obj, int is_attr, hid_t ft, int64_t n, char ***out)
{
    hid_t mt = sdd_h5_mem_string_type(ft);
    size_t esz = H5Tget_size(mt);
    char **v = sdd_calloc((size_t)n + 1, sizeof *v);
    void *buf = sdd_calloc((size_t)n + 1, esz);
    char w[600];
    herr_t st;
    int rc = SDD_ENOMEM;
    if (!v || !buf) goto fail;
    st = is_attr ? H5Aread(obj, mt, buf) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (st < 0) {
        char why[300];
        snprintf(why, sizeof why, "HDF5: %s", sdd_h5_last_error());
        if (!is_attr) sdd_h5_filter_missing(obj, 1, why, sizeof why);
        rc = sdd_error(SDD_EFORMAT, "%s: cannot read strings (%s)", sdd_h5_where(obj, NULL, w, sizeof w), why);
        goto fail;
    }
    if ((rc = sdd_h5_unpack_strings(mt, buf, n, v)) < 0) goto fail;
    free(buf);
    H5Tclose(mt);
    *out = v;
    return SDD_OK;
fail:
    sdd_strv_free(v, n);
    free(buf);
    H5Tclose(mt);
    return rc;
}

/* --------------------------------------------------------------- enums */

/* Widen n integers of `size` bytes (signed or not) from buf into int64. */
void sdd_h5_ints_to_i64(const void *buf, size_t size, int is_signed, int64_t n, int64_t *out)
{
    const unsigned char *p = buf;
    for (int64_t i = 0; i < n; i++, p += size) {
        switch (size) {
        case 1: out[i] = is_signed ? (int64_t) * (const int8_t *)p : (int64_t) * (const uint8_t *)p; break;
        case 2: { int16_t s; uint16_t u; memcpy(&s, p, 2); memcpy(&u, p, 2); out[i] = is_signed ? s : u; } break;
        case 4: { int32_t s; uint32_t u; memcpy(&s, p, 4); memcpy(&u, p, 4); out[i] = is_signed ? s : (int64_t)u; } break;
        default: { int64_t s; memcpy(&s, p, 8); out[i] = s; } break;
        }
    }
}

/* Native memory type for reading an enum's raw values, and the base's size/sign. */
hid_t sdd_h5_enum_mem_type(hid_t ft, size_t *size, int *is_signed)
{
    hid_t mt = H5Tget_native_type(ft, H5T_DIR_ASCEND), base = H5Tget_super(ft);
    *size = H5Tget_size(mt);
    *is_signed = base >= 0 && H5Tget_sign(base) == H5T_SGN_2;
    if (base >= 0) H5Tclose(base);
    return mt;
}

/* ---------------------------------------------------------- attributes */

/* A corrupt header answers yes, so that the caller's read reports it. */
int sdd_h5_attr_exists(hid_t obj, const char *name)
{
    if (sdd_h5_guard_object(obj, NULL) < 0) return 1;
    return H5Aexists(obj, name) > 0;
}

static int attr_open(hid_t obj, const char *name, hid_t *a, hid_t *ft, int64_t *n)
{
    hid_t sp;
    int rc;
    *a = *ft = -1;
    if ((rc = sdd_h5_guard_object(obj, NULL)) < 0) return rc;
    if (H5Aexists(obj, name) <= 0) return SDD_ENOTFOUND;
    if ((*a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) return SDD_ENOTFOUND;
    *ft = H5Aget_type(*a);
    sp = H5Aget_space(*a);
    *n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    return SDD_OK;
}

int sdd_h5_attr_strings(hid_t obj, const char *name, char ***out, int64_t *n)
{
    hid_t a, ft;
    char w[600];
    int rc = attr_open(obj, name, &a, &ft, n);
    *out = NULL;
    if (rc < 0) return rc;
    if (H5Tget_class(ft) != H5T_STRING) {
        if (*n == 0) { /* an empty array of any type is an empty list */
            rc = (*out = sdd_calloc(1, sizeof **out)) ? SDD_OK : SDD_ENOMEM;
        } else {
            rc = sdd_error(SDD_EFORMAT, "%s: attribute '%s' is not a string",
                           sdd_h5_where(obj, NULL, w, sizeof w), name);
        }
    } else {
        rc = read_all_strings(a, 1, ft, *n, out);
    }
    H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

int sdd_h5_attr_string(hid_t obj, const char *name, char **out)
{
    char **v = NULL, w[600];
    int64_t n = 0;
    int rc = sdd_h5_attr_strings(obj, name, &v, &n);
    *out = NULL;
    if (rc < 0) return rc;
    if (n != 1) {
        sdd_strv_free(v, n);
        return sdd_error(SDD_EFORMAT, "%s: attribute '%s' holds %lld strings, expected one",
                         sdd_h5_where(obj, NULL, w, sizeof w), name, (long long)n);
    }
    *out = v[0];
    free(v);
    return SDD_OK;
}

int sdd_h5_attr_int64s(hid_t obj, const char *name, int64_t *out, int64_t max, int64_t *n)
{
    hid_t a, ft, mt = -1;
    char w[600];
    void *buf = NULL;
    int64_t cnt = 0, *tmp = NULL;
    int rc = attr_open(obj, name, &a, &ft, &cnt), cls;
    *n = 0;
    if (rc < 0) return rc;
    cls = H5Tget_class(ft);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_ENUM) {
        rc = sdd_error(SDD_EFORMAT, "%s: attribute '%s' is not numeric",
                       sdd_h5_where(obj, NULL, w, sizeof w), name);
        goto done;
    }
    if (!(tmp = sdd_calloc((size_t)cnt + 1, sizeof *tmp)) || !(buf = sdd_calloc((size_t)cnt + 1, 8))) {
        rc = SDD_ENOMEM;
        goto done;
    }
    if (cls == H5T_ENUM) {
        size_t sz;
        int sgn;
        mt = sdd_h5_enum_mem_type(ft, &sz, &sgn);
        if (H5Aread(a, mt, buf) < 0) goto rfail;
        sdd_h5_ints_to_i64(buf, sz, sgn, cnt, tmp);
    } else if (cls == H5T_INTEGER) {
        if (H5Aread(a, H5T_NATIVE_INT64, tmp) < 0) goto rfail;
    } else {
        double *d = buf;
        if (H5Aread(a, H5T_NATIVE_DOUBLE, d) < 0) goto rfail;
        for (int64_t i = 0; i < cnt; i++) {
            if (d[i] != (double)(int64_t)d[i]) {
                rc = sdd_error(SDD_EFORMAT, "%s: attribute '%s' holds a non-integer value %g",
                               sdd_h5_where(obj, NULL, w, sizeof w), name, d[i]);
                goto done;
            }
            tmp[i] = (int64_t)d[i];
        }
    }
    *n = cnt;
    for (int64_t i = 0; i < cnt && i < max; i++) out[i] = tmp[i];
    goto done;
rfail:
    rc = sdd_error(SDD_EFORMAT, "%s: cannot read attribute '%s' (HDF5: %s)",
                   sdd_h5_where(obj, NULL, w, sizeof w), name, sdd_h5_last_error());
done:
    if (mt >= 0) H5Tclose(mt);
    free(buf);
    free(tmp);
    H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

int sdd_h5_attr_bool(hid_t obj, const char *name, int *out)
{
    int64_t v = 0, n = 0;
    char w[600];
    int rc = sdd_h5_attr_int64s(obj, name, &v, 1, &n);
    if (rc < 0) return rc;
    if (n != 1)
        return sdd_error(SDD_EFORMAT, "%s: attribute '%s' holds %lld values, expected one",
                         sdd_h5_where(obj, NULL, w, sizeof w), name, (long long)n);
    *out = v != 0;
    return SDD_OK;
}

int sdd_h5_attr_ref(hid_t obj, const char *name, hid_t *out)
{
    hid_t a, ft;
    hobj_ref_t ref;
    int64_t n = 0;
    char w[600];
    int rc = attr_open(obj, name, &a, &ft, &n);
    *out = -1;
    if (rc < 0) return rc;
    if (H5Tget_class(ft) != H5T_REFERENCE || n != 1)
        rc = sdd_error(SDD_EFORMAT, "%s: attribute '%s' is not an object reference",
                       sdd_h5_where(obj, NULL, w, sizeof w), name);
    else if (H5Aread(a, H5T_STD_REF_OBJ, &ref) < 0)
        rc = sdd_error(SDD_EFORMAT, "%s: attribute '%s' cannot be read (HDF5: %s)",
                       sdd_h5_where(obj, NULL, w, sizeof w), name, sdd_h5_last_error());
    else if ((rc = sdd_h5_guard_ref(obj, name, (haddr_t)ref)) < 0)
        ;
    else if ((*out = H5Rdereference2(obj, H5P_DEFAULT, H5R_OBJECT, &ref)) < 0)
        rc = sdd_error(SDD_EFORMAT, "%s: attribute '%s' holds a dangling reference (HDF5: %s)",
                       sdd_h5_where(obj, NULL, w, sizeof w), name, sdd_h5_last_error());
    H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

/* ------------------------------------------------------- dataset types */

int sdd_h5_dims(hid_t dset, int *rank, int64_t *dims, int maxrank)
{
    hid_t sp = H5Dget_space(dset);
    hsize_t d[H5S_MAX_RANK];
    int r;
    char w[600];
    if (sp < 0 || (r = H5Sget_simple_extent_dims(sp, d, NULL)) < 0) {
        if (sp >= 0) H5Sclose(sp);
        return sdd_error(SDD_EFORMAT, "%s: cannot read the dataspace (HDF5: %s)",
                         sdd_h5_where(dset, NULL, w, sizeof w), sdd_h5_last_error());
    }
    H5Sclose(sp);
    *rank = r;
    for (int i = 0; i < r && i < maxrank; i++) dims[i] = (int64_t)d[i];
    return SDD_OK;
}

int sdd_h5_len1(hid_t dset, int64_t *n)
{
    int rank = 0, rc;
    int64_t d[H5S_MAX_RANK];
    char w[600];
    if ((rc = sdd_h5_dims(dset, &rank, d, H5S_MAX_RANK)) < 0) return rc;
    if (rank != 1)
        return sdd_error(SDD_EFORMAT, "%s: expected a 1-d array, found %d dimensions",
                         sdd_h5_where(dset, NULL, w, sizeof w), rank);
    *n = d[0];
    return SDD_OK;
}

static int dset_class(hid_t dset)
{
    hid_t ft = H5Dget_type(dset);
    int c = ft >= 0 ? (int)H5Tget_class(ft) : -1;
    if (ft >= 0) H5Tclose(ft);
    return c;
}

int sdd_h5_is_string(hid_t dset) { return dset_class(dset) == H5T_STRING; }

int sdd_h5_is_numeric(hid_t dset)
{
    int c = dset_class(dset);
    return c == H5T_INTEGER || c == H5T_FLOAT || c == H5T_ENUM;
}

static const char *type_name(hid_t ft, char *buf, size_t n)
{
    size_t sz = H5Tget_size(ft);
    switch (H5Tget_class(ft)) {
    case H5T_INTEGER:
        snprintf(buf, n, "%sint%zu", H5Tget_sign(ft) == H5T_SGN_NONE ? "u" : "", 8 * sz);
        break;
    case H5T_FLOAT: snprintf(buf, n, "float%zu", 8 * sz); break;
    case H5T_ENUM: snprintf(buf, n, "%s", H5Tget_nmembers(ft) == 2 && sz == 1 ? "bool" : "enum"); break;
    case H5T_STRING: snprintf(buf, n, "string"); break;
    case H5T_COMPOUND: snprintf(buf, n, "compound"); break;
    case H5T_REFERENCE: snprintf(buf, n, "reference"); break;
    default: snprintf(buf, n, "other"); break;
    }
    return buf;
}

const char *sdd_h5_dtype_name(hid_t dset, char *buf, size_t n)
{
    hid_t ft = H5Dget_type(dset);
    if (ft < 0) {
        snprintf(buf, n, "unknown");
        return buf;
    }
    type_name(ft, buf, n);
    H5Tclose(ft);
    return buf;
}

/* -------------------------------------------------------- numeric reads */

/* The message for a failed H5Dread: a filter this build lacks rather than HDF5's
 * innermost complaint (which for a missing filter is about its plugin directory). */
static int read_failed(hid_t dset)
{
    char w[600], why[300];
    const char *h5 = sdd_h5_last_error();
    snprintf(why, sizeof why, "HDF5: %s", h5);
    sdd_h5_filter_missing(dset, 1, why, sizeof why);
    return sdd_error(SDD_EFORMAT, "%s: read failed (%s)", sdd_h5_where(dset, NULL, w, sizeof w), why);
}

enum { WANT_I64, WANT_I32, WANT_F32, WANT_F64 };

/* Read a hyperslab (rank 1: start[0]/count[0]; rank 2: rows with ncols) into `out`
 * converted to `want`. */
static int read_numeric(hid_t dset, int rank, const hsize_t *start, const hsize_t *count,
                        int want, void *out)
{
    hid_t ft = H5Dget_type(dset), fs = -1, ms = -1, mt = -1;
    hsize_t total = rank == 1 ? count[0] : count[0] * count[1];
    int cls = ft >= 0 ? (int)H5Tget_class(ft) : -1, rc = SDD_OK;
    char w[600], tn[32];
    void *raw = NULL;
    if (total == 0) goto done;
    if (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_ENUM) {
        rc = sdd_error(SDD_EFORMAT, "%s: has type %s, expected numbers",
                       sdd_h5_where(dset, NULL, w, sizeof w), ft >= 0 ? type_name(ft, tn, sizeof tn) : "?");
        goto done;
    }
    if (cls == H5T_FLOAT && (want == WANT_I64 || want == WANT_I32)) {
        rc = sdd_error(SDD_EFORMAT, "%s: has type %s, expected integers",
                       sdd_h5_where(dset, NULL, w, sizeof w), type_name(ft, tn, sizeof tn));
        goto done;
    }
    fs = H5Dget_space(dset);
    ms = H5Screate_simple(rank, count, NULL);
    if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
        goto rfail;
    if (cls == H5T_ENUM) {
        size_t sz;
        int sgn;
        int64_t *wide;
        mt = sdd_h5_enum_mem_type(ft, &sz, &sgn);
        if (!(raw = sdd_malloc((size_t)total * (sz + 8)))) {
            rc = SDD_ENOMEM;
            goto done;
        }
        /* wide values first (8-aligned), raw enum bytes after them */
        wide = raw;
        if (H5Dread(dset, mt, ms, fs, H5P_DEFAULT, wide + total) < 0) goto rfail;
        sdd_h5_ints_to_i64(wide + total, sz, sgn, (int64_t)total, wide);
        for (hsize_t i = 0; i < total; i++) {
            switch (want) {
            case WANT_I64: ((int64_t *)out)[i] = wide[i]; break;
            case WANT_I32: ((int32_t *)out)[i] = (int32_t)wide[i]; break;
            case WANT_F32: ((float *)out)[i] = (float)wide[i]; break;
            default: ((double *)out)[i] = (double)wide[i]; break;
            }
        }
        goto done;
    }
    {
        hid_t t = want == WANT_I64 ? H5T_NATIVE_INT64 : want == WANT_I32 ? H5T_NATIVE_INT32
                : want == WANT_F32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
        if (H5Dread(dset, t, ms, fs, H5P_DEFAULT, out) < 0) goto rfail;
    }
    goto done;
rfail:
    rc = read_failed(dset);
done:
    free(raw);
    if (mt >= 0) H5Tclose(mt);
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (ft >= 0) H5Tclose(ft);
    return rc;
}

static int read_range(hid_t dset, int64_t start, int64_t count, int want, void *out)
{
    hsize_t s = (hsize_t)start, c = (hsize_t)count;
    int64_t n = 0;
    char w[600];
    int rc = sdd_h5_len1(dset, &n);
    if (rc < 0) return rc;
    if (start < 0 || count < 0 || start > n || count > n - start)
        return sdd_error(SDD_EFORMAT, "%s: elements [%lld, %lld) requested but it holds %lld",
                         sdd_h5_where(dset, NULL, w, sizeof w), (long long)start,
                         (long long)(start + count), (long long)n);
    return read_numeric(dset, 1, &s, &c, want, out);
}

int sdd_h5_read_i64(hid_t d, int64_t s, int64_t c, int64_t *o) { return read_range(d, s, c, WANT_I64, o); }
int sdd_h5_read_i32(hid_t d, int64_t s, int64_t c, int32_t *o) { return read_range(d, s, c, WANT_I32, o); }
int sdd_h5_read_f32(hid_t d, int64_t s, int64_t c, float *o) { return read_range(d, s, c, WANT_F32, o); }
int sdd_h5_read_f64(hid_t d, int64_t s, int64_t c, double *o) { return read_range(d, s, c, WANT_F64, o); }

int sdd_h5_read_rows_f32(hid_t dset, int64_t r0, int64_t nr, int64_t ncols, float *out)
{
    hsize_t s[2] = {(hsize_t)r0, 0}, c[2] = {(hsize_t)nr, (hsize_t)ncols};
    int64_t d[2] = {0, 0};
    int rank = 0, rc = sdd_h5_dims(dset, &rank, d, 2);
    char w[600];
    if (rc < 0) return rc;
    if (rank != 2 || d[1] != ncols || r0 < 0 || nr < 0 || r0 + nr > d[0])
        return sdd_error(SDD_EFORMAT, "%s: rows [%lld, %lld) x %lld columns requested from a %d-d array",
                         sdd_h5_where(dset, NULL, w, sizeof w), (long long)r0, (long long)(r0 + nr),
                         (long long)ncols, rank);
    return read_numeric(dset, 2, s, c, WANT_F32, out);
}

static int load_1d(hid_t loc, const char *path, int64_t expect, int want, void **out, int64_t *n)
{
    hid_t d = -1;
    char w[600];
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = sdd_h5_open_dataset(loc, path, &d)) < 0) return rc;
    if ((rc = sdd_h5_len1(d, n)) < 0) goto done;
    if (expect >= 0 && *n != expect) {
        rc = sdd_error(SDD_EFORMAT, "%s: has %lld entries, expected %lld",
                       sdd_h5_where(loc, path, w, sizeof w), (long long)*n, (long long)expect);
        goto done;
    }
    if (!(*out = sdd_malloc((size_t)(*n + 1) * 8))) {
        rc = SDD_ENOMEM;
        goto done;
    }
    rc = read_range(d, 0, *n, want, *out);
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
done:
    sdd_h5_close(d);
    return rc;
}

int sdd_h5_load_i64(hid_t loc, const char *path, int64_t expect, int64_t **out, int64_t *n)
{
    return load_1d(loc, path, expect, WANT_I64, (void **)out, n);
}

int sdd_h5_load_f64(hid_t loc, const char *path, int64_t expect, double **out, int64_t *n)
{
    return load_1d(loc, path, expect, WANT_F64, (void **)out, n);
}

/* --------------------------------------------------------- string reads */

/* Integer arrays used as an index (legacy kbet-sim) become decimal strings. */
int sdd_h5_ints_as_strings(const int64_t *v, int64_t n, char ***out)
{
    char **s = sdd_calloc((size_t)n + 1, sizeof *s), buf[32];
    if (!s) return SDD_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%" PRId64, v[i]);
        if (!(s[i] = sdd_strdup(buf))) {
            sdd_strv_free(s, i);
            return SDD_ENOMEM;
        }
    }
    *out = s;
    return SDD_OK;
}

int sdd_h5_read_strings(hid_t dset, int64_t expect, char ***out, int64_t *n)
{
    hid_t ft = -1;
    char w[600], tn[32];
    int rc, cls;
    *out = NULL;
    if ((rc = sdd_h5_len1(dset, n)) < 0) return rc;
    if (expect >= 0 && *n != expect)
        return sdd_error(SDD_EFORMAT, "%s: has %lld entries, expected %lld",
                         sdd_h5_where(dset, NULL, w, sizeof w), (long long)*n, (long long)expect);
    ft = H5Dget_type(dset);
    cls = H5Tget_class(ft);
    if (cls == H5T_STRING) {
        rc = read_all_strings(dset, 0, ft, *n, out);
    } else if (cls == H5T_INTEGER) {
        int64_t *v = sdd_malloc((size_t)(*n + 1) * sizeof *v);
        if (!v) rc = SDD_ENOMEM;
        else if ((rc = read_range(dset, 0, *n, WANT_I64, v)) == 0) rc = sdd_h5_ints_as_strings(v, *n, out);
        free(v);
    } else {
        rc = sdd_error(SDD_EFORMAT, "%s: has type %s, expected strings",
                       sdd_h5_where(dset, NULL, w, sizeof w), type_name(ft, tn, sizeof tn));
    }
    H5Tclose(ft);
    return rc;
}

int sdd_h5_load_strings_or_scalar(hid_t loc, const char *path, int64_t n, char ***out, int64_t *got)
{
    hid_t d;
    int64_t dims[H5S_MAX_RANK];
    char **one = NULL;
    int rank = 0, rc = sdd_h5_open_dataset(loc, path, &d);
    *out = NULL;
    *got = 0;
    if (rc < 0) return rc;
    if ((rc = sdd_h5_dims(d, &rank, dims, H5S_MAX_RANK)) == 0 && rank == 0 && sdd_h5_is_string(d)) {
        hid_t ft = H5Dget_type(d);
        if ((rc = read_all_strings(d, 0, ft, 1, &one)) == 0 && !(*out = sdd_calloc((size_t)n + 1, sizeof **out)))
            rc = SDD_ENOMEM;
        for (int64_t i = 0; rc == 0 && i < n; i++, (*got)++)
            if (!((*out)[i] = sdd_strdup(one[0]))) rc = SDD_ENOMEM;
        sdd_strv_free(one, 1);
        H5Tclose(ft);
    } else if (rc == 0) {
        rc = sdd_h5_read_strings(d, n, out, got);
    }
    sdd_h5_close(d);
    return rc;
}

int sdd_h5_load_strings(hid_t loc, const char *path, int64_t expect, char ***out, int64_t *n)
{
    hid_t d;
    int rc = sdd_h5_open_dataset(loc, path, &d);
    *out = NULL;
    *n = 0;
    if (rc < 0) return rc;
    rc = sdd_h5_read_strings(d, expect, out, n);
    sdd_h5_close(d);
    return rc;
}

/* The libraries under libsddcell, set up once: HDF5 quiet (its errors come back as codes
 * and the detail string), GSL's abort handler off, the LZF filter registered. */
int sdd_init(void)
{
    static int done;
    int rc;
    if (done) return SDD_OK;
    if (H5open() < 0) return sdd_error(SDD_EIO, "HDF5 library failed to initialise");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    gsl_set_error_handler_off();
    if ((rc = sdd_lzf_register()) < 0) return rc;
    done = 1;
    return SDD_OK;
}
