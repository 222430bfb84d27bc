/*
 * concat.c: join .h5ad files with the same genes into one, cells in the order of the
 * parts (sdd_h5ad_concat; `sddcell concat`). Made for the shards of one sampling run
 * (`sample --shard I/K`), which it joins into the file the whole run writes, but any
 * parts whose layout agrees can be joined.
 *
 * What is joined along the cells: X and every layer (csr_matrix: data and indices
 * appended, indptr shifted by the non-zeros before it; or dense arrays), obs (index,
 * plain columns, categorical codes, nullable values and masks) and obsm arrays. What is
 * taken from the first part: var, varm, varp, uns and every attribute, with the shard
 * record uns['sddcell']['shard'] left out and the X / layer shapes set to the total.
 *
 * Checks before anything is written: every part has the first part's genes (var index),
 * obs columns (categoricals with the same categories), layers and obsm; parts carrying
 * uns['sddcell'] all carry the same settings and model (everything but the model's file
 * name and the shard); parts that are shards are shards 1..K of one run, in order. A
 * refusal names the first part that differs and leaves no output.
 *
 * Memory: data move through one buffer of BLOCK_ELEMS elements per dataset at a time,
 * and one part is open at a time, so the peak does not grow with the parts or their
 * cells (beyond the var index and category strings, which are compared whole).
 * The output is written under a temporary name, flushed to disk and renamed into place
 * when complete (sdd_tmp_commit).
 */
#include "h5_util.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#define BLOCK_ELEMS ((int64_t)1 << 20) /* elements per read / write */
#define UNS_MAX_DEPTH 16

typedef struct {
    const char *out;         /* the requested output name, for messages */
    const char *const *parts;
    int n;
    int64_t *rows;           /* [n] cells per part */
    int64_t total;           /* their sum */
    hid_t fout;
} cat_t;

/* ------------------------------------------------------------ reading uns */

static cJSON *read_uns(hid_t loc, const char *name, int depth);

/* A 0-d or 1-d dataset as a JSON value (numbers, strings, bools). */
static cJSON *read_uns_dataset(hid_t d)
{
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    H5T_class_t cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    cJSON *v = NULL;
    if (rank < 0 || rank > 1 || n < 0 || n > 100000) goto done;
    if (cls == H5T_STRING) {
        hid_t mt = sdd_h5_mem_string_type(ft);
        size_t esz = H5Tget_size(mt);
        char **s = sdd_calloc((size_t)n + 1, sizeof *s);
        void *buf = sdd_calloc((size_t)n + 1, esz);
        if (s && buf && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 &&
            sdd_h5_unpack_strings(mt, buf, n, s) == SDD_OK) {
            if (rank == 0) v = cJSON_CreateString(s[0] ? s[0] : "");
            else if ((v = cJSON_CreateArray()))
                for (hssize_t i = 0; i < n; i++) cJSON_AddItemToArray(v, cJSON_CreateString(s[i] ? s[i] : ""));
        }
        if (s) sdd_strv_free(s, n);
        free(buf);
        sdd_h5_close(mt);
    } else if (cls == H5T_INTEGER || cls == H5T_FLOAT || cls == H5T_ENUM) {
        double *x = sdd_malloc(((size_t)n + 1) * sizeof *x);
        int ok = 0;
        if (!x) goto done;
        if (cls == H5T_ENUM) { /* h5py's bools: an enum over int8 */
            size_t sz = 0;
            int sg = 0;
            hid_t mt = sdd_h5_enum_mem_type(ft, &sz, &sg);
            int64_t *iv = sdd_malloc(((size_t)n + 1) * sizeof *iv);
            void *raw = sdd_malloc(((size_t)n + 1) * (sz ? sz : 1));
            if (mt >= 0 && iv && raw && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
                sdd_h5_ints_to_i64(raw, sz, sg, n, iv);
                for (hssize_t i = 0; i < n; i++) x[i] = (double)iv[i];
                ok = 1;
            }
            free(iv);
            free(raw);
            sdd_h5_close(mt);
        } else {
            ok = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0;
        }
        if (ok) {
            if (rank == 0) v = cls == H5T_ENUM ? cJSON_CreateBool(x[0] != 0) : cJSON_CreateNumber(x[0]);
            else if ((v = cJSON_CreateArray()))
                for (hssize_t i = 0; i < n; i++)
                    cJSON_AddItemToArray(v, cls == H5T_ENUM ? cJSON_CreateBool(x[i] != 0) : cJSON_CreateNumber(x[i]));
        }
        free(x);
    }
done:
    sdd_h5_close(ft);
    sdd_h5_close(sp);
    return v;
}

/* The dict group loc/name as a JSON object; members that are neither dicts nor simple
 * datasets become null, so that they still take part in comparisons. */
static cJSON *read_uns(hid_t loc, const char *name, int depth)
{
    hid_t g = H5I_INVALID_HID;
    char **names = NULL;
    int64_t n = 0;
    cJSON *o = NULL;
    if (depth > UNS_MAX_DEPTH || sdd_h5_open_group(loc, name, &g) < 0 || sdd_h5_list(g, &names, &n) < 0) goto done;
    if (!(o = cJSON_CreateObject())) goto done;
    for (int64_t i = 0; i < n; i++) {
        cJSON *v = NULL;
        if (sdd_h5_is_group(g, names[i])) {
            v = read_uns(g, names[i], depth + 1);
        } else {
            hid_t d = H5Dopen2(g, names[i], H5P_DEFAULT);
            if (d >= 0) v = read_uns_dataset(d);
            sdd_h5_close(d);
        }
        cJSON_AddItemToObject(o, names[i], v ? v : cJSON_CreateNull());
    }
done:
    sdd_strv_free(names, n);
    sdd_h5_close(g);
    return o;
}

/* --------------------------------------------------------------- checks */

/* uns['sddcell'] of an open part without the keys that may differ between parts of one
 * run (NULL when absent); *shard_i, *shard_k from its "I/K" record (0 when none). */
static cJSON *run_record(hid_t f, int64_t *shard_i, int64_t *shard_k)
{
    cJSON *u, *sh;
    long long i = 0, k = 0;
    char tail;
    *shard_i = *shard_k = 0;
    if (!sdd_h5_is_group(f, "uns/sddcell")) return NULL;
    if (!(u = read_uns(f, "uns/sddcell", 0))) return NULL;
    sh = cJSON_GetObjectItem(u, "shard");
    if (cJSON_IsString(sh) && sscanf(sh->valuestring, "%lld/%lld%c", &i, &k, &tail) == 2 && i >= 1 && i <= k) {
        *shard_i = i;
        *shard_k = k;
    }
    cJSON_DeleteItemFromObject(u, "shard");
    cJSON_DeleteItemFromObject(u, "model"); /* the file name; model_digest says which model */
    return u;
}

/* The first key whose value differs between a and b, or NULL when equal. */
static const char *first_difference(const cJSON *a, const cJSON *b)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        const cJSON *y = cJSON_GetObjectItem(b, x->string);
        if (!y || !cJSON_Compare(x, y, 1)) return x->string;
    }
    cJSON_ArrayForEach(x, b)
        if (!cJSON_GetObjectItem(a, x->string)) return x->string;
    return NULL;
}

/* Cells of an open part (X's shape) and its gene names (var index). */
static int part_shape(const char *path, hid_t f, int64_t *rows, char ***genes, int64_t *G)
{
    hid_t x = H5I_INVALID_HID, var = H5I_INVALID_HID;
    char *enc = NULL, *idx = NULL;
    int64_t shape[2], ns = 0;
    int rc;
    *genes = NULL;
    if ((rc = sdd_h5_open_group(f, "X", &x)) < 0) {
        if (sdd_h5_is_dataset(f, "X")) rc = sdd_error(SDD_EUNSUPPORTED, "%s: X is dense; only sparse (csr_matrix) X is joined", path);
        goto done;
    }
    if (sdd_h5_attr_string(x, "encoding-type", &enc) < 0 || strcmp(enc, "csr_matrix") != 0) {
        rc = sdd_error(SDD_EUNSUPPORTED, "%s: X is %s, not a csr_matrix (cells x genes) that concat joins", path,
                       enc ? enc : "not an anndata matrix");
        goto done;
    }
    if ((rc = sdd_h5_attr_int64s(x, "shape", shape, 2, &ns)) < 0) goto done;
    if (ns != 2 || shape[0] < 0 || shape[1] < 1) {
        rc = sdd_error(SDD_EFORMAT, "%s: X has no valid shape", path);
        goto done;
    }
    *rows = shape[0];
    if ((rc = sdd_h5_open_group(f, "var", &var)) < 0) goto done;
    if (sdd_h5_attr_string(var, "_index", &idx) < 0) {
        rc = sdd_error(SDD_EFORMAT, "%s: var has no _index attribute (an old anndata file: convert it first)", path);
        goto done;
    }
    if ((rc = sdd_h5_load_strings(var, idx, shape[1], genes, G)) < 0) goto done;
done:
    free(enc);
    free(idx);
    sdd_h5_close(x);
    sdd_h5_close(var);
    return rc;
}

/* Genes, settings and shard order of every part against the first. */
static int check_parts(cat_t *c)
{
    char **g0 = NULL, **g = NULL;
    int64_t G0 = 0, G = 0, k0 = 0, i = 0, k = 0;
    cJSON *r0 = NULL, *r = NULL;
    int rc = SDD_OK;
    c->total = 0;
    for (int p = 0; p < c->n && rc == SDD_OK; p++) {
        const char *path = c->parts[p];
        hid_t f;
        if ((rc = sdd_h5_open(path, &f)) < 0) break;
        rc = part_shape(path, f, &c->rows[p], p ? &g : &g0, p ? &G : &G0);
        if (rc == SDD_OK) r = run_record(f, &i, &k);
        sdd_h5_close(f);
        if (rc < 0) break;
        c->total += c->rows[p];
        if (p == 0) {
            r0 = r;
            r = NULL;
            k0 = k;
            if (k0 > 0 && i != 1) rc = sdd_error(SDD_EINVAL, "%s: shard %lld/%lld comes first; give shards 1..%lld in order",
                                                 path, (long long)i, (long long)k, (long long)k);
            continue;
        }
        if (G != G0) {
            rc = sdd_error(SDD_EINVAL, "%s: %lld genes, but %s has %lld", path, (long long)G, c->parts[0], (long long)G0);
        } else {
            for (int64_t j = 0; j < G && rc == SDD_OK; j++)
                if (strcmp(g[j], g0[j]))
                    rc = sdd_error(SDD_EINVAL, "%s: gene %lld is '%s', but '%s' in %s", path, (long long)j + 1, g[j],
                                   g0[j], c->parts[0]);
        }
        if (rc == SDD_OK && (!r) != (!r0)) {
            rc = sdd_error(SDD_EINVAL, "%s: %s uns['sddcell'] (sampling settings), unlike %s", path,
                           r ? "has" : "has no", c->parts[0]);
        } else if (rc == SDD_OK && r) {
            const char *key = first_difference(r0, r);
            if (key)
                rc = sdd_error(SDD_EINVAL, "%s: uns['sddcell']['%s'] differs from %s: not a part of the same run", path,
                               key, c->parts[0]);
        }
        if (rc == SDD_OK && (k != k0 || (k0 > 0 && i != p + 1))) {
            if (k0 == 0)
                rc = sdd_error(SDD_EINVAL, "%s: shard %lld/%lld, but %s is not a shard", path, (long long)i,
                               (long long)k, c->parts[0]);
            else if (p + 1 > k0)
                rc = sdd_error(SDD_EINVAL, "%s: part %d, but the run was split into %lld shards", path, p + 1,
                               (long long)k0);
            else if (k == k0)
                rc = sdd_error(SDD_EINVAL, "%s: shard %lld/%lld, but part %d should be shard %d/%lld; give shards "
                               "1..%lld in order", path, (long long)i, (long long)k, p + 1, p + 1, (long long)k0,
                               (long long)k0);
            else
                rc = sdd_error(SDD_EINVAL, "%s: %s, but part %d should be shard %d/%lld", path,
                               k ? "a shard of another split" : "not a shard", p + 1, p + 1, (long long)k0);
        }
        sdd_strv_free(g, G);
        g = NULL;
        cJSON_Delete(r);
        r = NULL;
    }
    if (rc == SDD_OK && k0 > 0 && k0 != c->n)
        rc = sdd_error(SDD_EINVAL, "%s: %d part%s given, but the run was split into %lld shards",
                       c->parts[c->n - 1], c->n, c->n == 1 ? "" : "s", (long long)k0);
    sdd_strv_free(g0, G0);
    cJSON_Delete(r0);
    return rc;
}

/* ------------------------------------------------------------- writing */

static int h5err(const char *out, const char *what)
{
    return sdd_error(SDD_EIO, "%s: cannot write %s (HDF5: %s)", out, what, sdd_h5_last_error());
}

/* Copy every attribute of src onto dst. */
static herr_t attr_cb(hid_t src, const char *name, const H5A_info_t *info, void *data)
{
    hid_t dst = *(hid_t *)data, a = H5Aopen(src, name, H5P_DEFAULT), t = -1, sp = -1, b = -1;
    void *buf = NULL;
    herr_t rc = -1;
    size_t sz;
    hssize_t n;
    (void)info;
    if (a < 0 || (t = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0) goto done;
    n = H5Sget_simple_extent_npoints(sp);
    sz = H5Tget_size(t);
    if (n < 0 || !(buf = sdd_calloc((size_t)(n > 0 ? n : 1), sz))) goto done;
    if (H5Aread(a, t, buf) < 0) goto done;
    if (H5Aexists(dst, name) > 0) H5Adelete(dst, name);
    if ((b = H5Acreate2(dst, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 && H5Awrite(b, t, buf) >= 0) rc = 0;
    if (H5Tis_variable_str(t) > 0 || H5Tdetect_class(t, H5T_VLEN) > 0) H5Dvlen_reclaim(t, sp, H5P_DEFAULT, buf);
done:
    free(buf);
    sdd_h5_close(b);
    sdd_h5_close(sp);
    sdd_h5_close(t);
    sdd_h5_close(a);
    return rc;
}

static int copy_attrs(const cat_t *c, hid_t src, hid_t dst, const char *what)
{
    hsize_t idx = 0;
    hid_t d = dst;
    if (H5Aiterate2(src, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, &d) < 0) return h5err(c->out, what);
    return SDD_OK;
}

/* Memory type to move a dataset's elements through. */
static hid_t mem_type(hid_t ft)
{
    return H5Tget_class(ft) == H5T_STRING ? H5Tcopy(ft) : H5Tget_native_type(ft, H5T_DIR_ASCEND);
}

/* The rows of part dataset `src` ([rows] or [rows][cols]) into dst from row `at`, through
 * a buffer of about BLOCK_ELEMS elements; `shift` (with mem_type int64) is added to
 * every value (indptr), skipping the first `skip` source rows. */
static int append_rows(const cat_t *c, hid_t src, hid_t dst, int64_t at, int64_t skip, int64_t shift, const char *what)
{
    hid_t ft = H5Dget_type(dst), mt = -1, fs = H5Dget_space(src), ds = H5Dget_space(dst), ms = -1;
    hsize_t dims[2] = {0, 1}, ddims[2] = {0, 1};
    int rank = fs >= 0 ? H5Sget_simple_extent_dims(fs, dims, NULL) : -1;
    int drank = ds >= 0 ? H5Sget_simple_extent_dims(ds, ddims, NULL) : -1;
    int64_t per = rank == 2 ? (int64_t)dims[1] : 1, step, rows;
    size_t esz;
    char *buf = NULL;
    int rc = SDD_OK;
    if (ft < 0 || rank < 1 || rank != drank || (rank == 2 && dims[1] != ddims[1])) {
        rc = sdd_error(SDD_EINVAL, "%s: %s has another shape than in %s", c->parts[0], what, c->out);
        goto done;
    }
    mt = shift ? H5Tcopy(H5T_NATIVE_INT64) : mem_type(ft);
    esz = H5Tget_size(mt);
    rows = (int64_t)dims[0] - skip;
    step = per > 0 && BLOCK_ELEMS / per > 0 ? BLOCK_ELEMS / per : 1;
    if (!(buf = sdd_malloc((size_t)(step * (per > 0 ? per : 1)) * esz))) {
        rc = SDD_ENOMEM;
        goto done;
    }
    for (int64_t r = 0; r < rows && per > 0; r += step) {
        int64_t nr = rows - r < step ? rows - r : step;
        hsize_t off[2] = {(hsize_t)(skip + r), 0}, cnt[2] = {(hsize_t)nr, (hsize_t)per};
        hsize_t doff[2] = {(hsize_t)(at + r), 0};
        if ((ms = H5Screate_simple(rank, cnt, NULL)) < 0 ||
            H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
            H5Dread(src, mt, ms, fs, H5P_DEFAULT, buf) < 0) {
            rc = sdd_error(SDD_EFORMAT, "cannot read %s (HDF5: %s)", what, sdd_h5_last_error());
            goto done;
        }
        if (shift)
            for (int64_t k = 0; k < nr; k++) ((int64_t *)buf)[k] += shift;
        rc = H5Sselect_hyperslab(ds, H5S_SELECT_SET, doff, NULL, cnt, NULL) < 0 ||
             H5Dwrite(dst, mt, ms, ds, H5P_DEFAULT, buf) < 0 ? h5err(c->out, what) : SDD_OK;
        if (H5Tis_variable_str(mt) > 0) H5Dvlen_reclaim(mt, ms, H5P_DEFAULT, buf);
        H5Sclose(ms);
        ms = -1;
        if (rc < 0) goto done;
    }
done:
    free(buf);
    sdd_h5_close(ms);
    sdd_h5_close(ds);
    sdd_h5_close(fs);
    sdd_h5_close(mt);
    sdd_h5_close(ft);
    return rc;
}

/* Open loc/name of part p as a dataset, with a message naming the part when absent. */
static int part_dataset(const cat_t *c, int p, hid_t f, const char *path, hid_t *d)
{
    if (!sdd_h5_is_dataset(f, path)) {
        *d = H5I_INVALID_HID;
        return sdd_error(SDD_EINVAL, "%s: has no %s, unlike %s", c->parts[p], path, c->parts[0]);
    }
    *d = H5Dopen2(f, path, H5P_DEFAULT);
    return *d < 0 ? sdd_error(SDD_EFORMAT, "%s: cannot open %s", c->parts[p], path) : SDD_OK;
}

/* Output dataset `path` shaped like part 0's with `total` rows, its attributes copied. */
static int create_like(const cat_t *c, hid_t src, const char *path, int64_t total, hid_t ftype, hid_t *out)
{
    hid_t sp = H5Dget_space(src), ft = ftype >= 0 ? H5Tcopy(ftype) : H5Dget_type(src);
    hsize_t dims[2] = {0, 0};
    int rank = sp >= 0 ? H5Sget_simple_extent_dims(sp, dims, NULL) : -1, rc = SDD_OK;
    *out = H5I_INVALID_HID;
    if (rank < 1 || rank > 2 || ft < 0) {
        rc = sdd_error(SDD_EUNSUPPORTED, "%s: %s is not a 1-d or 2-d array", c->parts[0], path);
        goto done;
    }
    dims[0] = (hsize_t)total;
    if ((*out = sdd_h5_create_dataset(c->fout, path, ft, rank, dims)) < 0) {
        rc = h5err(c->out, path);
        goto done;
    }
    rc = copy_attrs(c, src, *out, path);
done:
    sdd_h5_close(sp);
    sdd_h5_close(ft);
    return rc;
}

/* A dataset joined along its rows: `path` in every part. */
static int join_dataset(const cat_t *c, const char *path)
{
    hid_t out = H5I_INVALID_HID, f = H5I_INVALID_HID, d = H5I_INVALID_HID;
    int64_t at = 0;
    int rc = SDD_OK;
    for (int p = 0; p < c->n && rc == SDD_OK; p++) {
        int64_t len = 0;
        if ((rc = sdd_h5_open(c->parts[p], &f)) < 0 || (rc = part_dataset(c, p, f, path, &d)) < 0) break;
        if (p == 0 && (rc = create_like(c, d, path, c->total, -1, &out)) < 0) break;
        {
            hid_t sp = H5Dget_space(d);
            hsize_t dims[2] = {0, 0};
            if (sp >= 0 && H5Sget_simple_extent_dims(sp, dims, NULL) >= 1) len = (int64_t)dims[0];
            sdd_h5_close(sp);
        }
        if (len != c->rows[p])
            rc = sdd_error(SDD_EFORMAT, "%s: %s has %lld rows for %lld cells", c->parts[p], path, (long long)len,
                           (long long)c->rows[p]);
        else
            rc = append_rows(c, d, out, at, 0, 0, path);
        at += len;
        sdd_h5_close(d);
        sdd_h5_close(f);
        d = f = H5I_INVALID_HID;
    }
    sdd_h5_close(d);
    sdd_h5_close(f);
    sdd_h5_close(out);
    return rc;
}

/* A dataset that must be equal in every part, copied from the first (categories). */
static int same_strings(const cat_t *c, const char *path)
{
    char **a = NULL, **b = NULL;
    int64_t na = 0, nb = 0;
    hid_t f;
    int rc = SDD_OK;
    for (int p = 0; p < c->n && rc == SDD_OK; p++) {
        if ((rc = sdd_h5_open(c->parts[p], &f)) < 0) break;
        rc = sdd_h5_load_strings(f, path, -1, p ? &b : &a, p ? &nb : &na);
        sdd_h5_close(f);
        if (rc < 0 || p == 0) continue;
        if (na != nb) rc = 1;
        for (int64_t i = 0; i < na && rc == SDD_OK; i++) rc = strcmp(a[i], b[i]) != 0;
        if (rc == 1)
            rc = sdd_error(SDD_EINVAL, "%s: %s differs from %s's (%lld against %lld entries)", c->parts[p], path,
                           c->parts[0], (long long)nb, (long long)na);
        sdd_strv_free(b, nb);
        b = NULL;
    }
    sdd_strv_free(a, na);
    return rc;
}

/* A csr_matrix group (X or a layer) of every part, rows appended. */
static int join_csr(const cat_t *c, const char *path)
{
    char dpath[640], ipath[640], ppath[640];
    hid_t g = H5I_INVALID_HID, og = H5I_INVALID_HID, f = H5I_INVALID_HID, d = -1, dd = -1, di = -1, dp = -1;
    int64_t nnz = 0, at = 0, shift = 0, shape[2];
    int rc = SDD_OK;
    snprintf(dpath, sizeof dpath, "%s/data", path);
    snprintf(ipath, sizeof ipath, "%s/indices", path);
    snprintf(ppath, sizeof ppath, "%s/indptr", path);
    for (int p = 0; p < c->n && rc == SDD_OK; p++) { /* the total of non-zeros sizes indptr's type */
        int64_t len = 0;
        if ((rc = sdd_h5_open(c->parts[p], &f)) < 0 || (rc = part_dataset(c, p, f, dpath, &d)) < 0) break;
        rc = sdd_h5_len1(d, &len);
        nnz += len;
        sdd_h5_close(d);
        sdd_h5_close(f);
        d = f = H5I_INVALID_HID;
    }
    for (int p = 0; p < c->n && rc == SDD_OK; p++) {
        int64_t len = 0, first = 0, last = 0;
        if ((rc = sdd_h5_open(c->parts[p], &f)) < 0) break;
        if ((rc = sdd_h5_open_group(f, path, &g)) < 0) break;
        if ((rc = part_dataset(c, p, f, dpath, &d)) < 0 || (rc = part_dataset(c, p, f, ipath, &di)) < 0 ||
            (rc = part_dataset(c, p, f, ppath, &dp)) < 0)
            break;
        if (p == 0) {
            hsize_t one[1] = {1};
            int64_t zero = 0;
            shape[0] = c->total;
            shape[1] = 0;
            if ((og = H5Gcreate2(c->fout, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
                rc = h5err(c->out, path);
                break;
            }
            if ((rc = copy_attrs(c, g, og, path)) < 0) break;
            {
                int64_t s2[2], ns;
                if (sdd_h5_attr_int64s(g, "shape", s2, 2, &ns) == 0 && ns == 2) shape[1] = s2[1];
            }
            hid_t sp = H5Screate_simple(1, (hsize_t[]){2}, NULL), a = -1;
            if (H5Aexists(og, "shape") > 0) H5Adelete(og, "shape");
            if (sp < 0 || (a = H5Acreate2(og, "shape", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
                H5Awrite(a, H5T_NATIVE_INT64, shape) < 0)
                rc = h5err(c->out, path);
            sdd_h5_close(a);
            sdd_h5_close(sp);
            if (rc < 0) break;
            hid_t o1, o2, o3;
            if ((rc = create_like(c, d, dpath, nnz, -1, &o1)) < 0) break;
            sdd_h5_close(o1);
            if ((rc = create_like(c, di, ipath, nnz, -1, &o2)) < 0) break;
            sdd_h5_close(o2);
            if ((rc = create_like(c, dp, ppath, c->total + 1, sdd_h5_indptr_type(nnz), &o3)) < 0)
                break;
            /* indptr[0] = 0; every part then adds its rows' ends */
            hid_t fs = H5Dget_space(o3), ms = H5Screate_simple(1, one, NULL);
            hsize_t off[1] = {0};
            if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, one, NULL) < 0 ||
                H5Dwrite(o3, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, &zero) < 0)
                rc = h5err(c->out, ppath);
            sdd_h5_close(fs);
            sdd_h5_close(ms);
            sdd_h5_close(o3);
            if (rc < 0) break;
        }
        {
            int64_t s2[2], ns;
            if (sdd_h5_attr_int64s(g, "shape", s2, 2, &ns) < 0 || ns != 2 || s2[0] != c->rows[p] || s2[1] != shape[1]) {
                rc = sdd_error(SDD_EINVAL, "%s: %s is not %lld x %lld", c->parts[p], path, (long long)c->rows[p],
                               (long long)shape[1]);
                break;
            }
        }
        if ((rc = sdd_h5_len1(d, &len)) < 0 || (rc = sdd_h5_read_i64(dp, 0, 1, &first)) < 0 ||
            (rc = sdd_h5_read_i64(dp, c->rows[p], 1, &last)) < 0)
            break;
        if (first != 0 || last != len) {
            rc = sdd_error(SDD_EFORMAT, "%s: %s/indptr runs from %lld to %lld for %lld entries", c->parts[p], path,
                           (long long)first, (long long)last, (long long)len);
            break;
        }
        if ((dd = H5Dopen2(c->fout, dpath, H5P_DEFAULT)) < 0) {
            rc = h5err(c->out, dpath);
            break;
        }
        rc = append_rows(c, d, dd, shift, 0, 0, dpath);
        sdd_h5_close(dd);
        if (rc < 0) break;
        if ((dd = H5Dopen2(c->fout, ipath, H5P_DEFAULT)) < 0) {
            rc = h5err(c->out, ipath);
            break;
        }
        rc = append_rows(c, di, dd, shift, 0, 0, ipath);
        sdd_h5_close(dd);
        if (rc < 0) break;
        if ((dd = H5Dopen2(c->fout, ppath, H5P_DEFAULT)) < 0) {
            rc = h5err(c->out, ppath);
            break;
        }
        rc = append_rows(c, dp, dd, at + 1, 1, shift, ppath);
        sdd_h5_close(dd);
        dd = -1;
        at += c->rows[p];
        shift += len;
        sdd_h5_close(d);
        sdd_h5_close(di);
        sdd_h5_close(dp);
        sdd_h5_close(g);
        sdd_h5_close(f);
        d = di = dp = g = f = H5I_INVALID_HID;
    }
    sdd_h5_close(d);
    sdd_h5_close(di);
    sdd_h5_close(dp);
    sdd_h5_close(g);
    sdd_h5_close(f);
    sdd_h5_close(og);
    return rc;
}

/* The names under loc/path of part p (an absent group has none). */
static int members(const cat_t *c, int p, const char *path, char ***names, int64_t *n)
{
    hid_t f, g = H5I_INVALID_HID;
    int rc;
    *names = NULL;
    *n = 0;
    if ((rc = sdd_h5_open(c->parts[p], &f)) < 0) return rc;
    if (sdd_h5_is_group(f, path) && (rc = sdd_h5_open_group(f, path, &g)) == 0) rc = sdd_h5_list(g, names, n);
    sdd_h5_close(g);
    sdd_h5_close(f);
    return rc;
}

/* The same member names under path in every part. */
static int same_members(const cat_t *c, const char *path, char ***names, int64_t *n)
{
    char **b = NULL;
    int64_t nb = 0;
    int rc = members(c, 0, path, names, n);
    for (int p = 1; p < c->n && rc == SDD_OK; p++) {
        if ((rc = members(c, p, path, &b, &nb)) < 0) break;
        for (int64_t i = 0; i < (nb > *n ? nb : *n) && rc == SDD_OK; i++)
            if (i >= nb || i >= *n || strcmp(b[i], (*names)[i]))
                rc = sdd_error(SDD_EINVAL, "%s: %s holds %s '%s', unlike %s", c->parts[p], path,
                               i < nb ? "the element" : "no", i < nb ? b[i] : (*names)[i], c->parts[0]);
        sdd_strv_free(b, nb);
        b = NULL;
    }
    if (rc < 0) {
        sdd_strv_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return rc;
}

/* encoding-type of part 0's element (malloc'd; NULL when it has none). */
static char *encoding_of(const cat_t *c, const char *path)
{
    hid_t f, o;
    char *enc = NULL;
    if (sdd_h5_open(c->parts[0], &f) < 0) return NULL;
    if ((o = H5Oopen(f, path, H5P_DEFAULT)) >= 0) {
        sdd_h5_attr_string(o, "encoding-type", &enc);
        H5Oclose(o);
    }
    sdd_h5_close(f);
    return enc;
}

/* A group of part 0 created empty in the output with its attributes. */
static int open_like(const cat_t *c, const char *path, hid_t *out)
{
    hid_t f, g = H5I_INVALID_HID;
    int rc;
    *out = H5I_INVALID_HID;
    if ((rc = sdd_h5_open(c->parts[0], &f)) < 0) return rc;
    if ((rc = sdd_h5_open_group(f, path, &g)) == 0) {
        if ((*out = H5Gcreate2(c->fout, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) rc = h5err(c->out, path);
        else rc = copy_attrs(c, g, *out, path);
    }
    sdd_h5_close(g);
    sdd_h5_close(f);
    return rc;
}

/* One element that runs along the cells: a sparse matrix, an array, or a column group
 * (categorical: codes joined, categories equal; nullable: values and mask joined). */
static int join_element(const cat_t *c, const char *path, const char *what)
{
    char *enc = encoding_of(c, path), sub[640];
    hid_t g = H5I_INVALID_HID;
    int rc;
    if (!enc || strcmp(enc, "array") == 0 || strcmp(enc, "string-array") == 0) {
        rc = join_dataset(c, path);
    } else if (strcmp(enc, "csr_matrix") == 0) {
        rc = join_csr(c, path);
    } else if (strcmp(enc, "categorical") == 0) {
        snprintf(sub, sizeof sub, "%s/categories", path);
        if ((rc = same_strings(c, sub)) == 0 && (rc = open_like(c, path, &g)) == 0) {
            hid_t f;
            if ((rc = sdd_h5_open(c->parts[0], &f)) == 0) {
                if (H5Ocopy(f, sub, c->fout, sub, H5P_DEFAULT, H5P_DEFAULT) < 0) rc = h5err(c->out, sub);
                sdd_h5_close(f);
            }
            snprintf(sub, sizeof sub, "%s/codes", path);
            if (rc == 0) rc = join_dataset(c, sub);
        }
    } else if (strncmp(enc, "nullable-", 9) == 0) {
        snprintf(sub, sizeof sub, "%s/values", path);
        if ((rc = open_like(c, path, &g)) == 0 && (rc = join_dataset(c, sub)) == 0) {
            snprintf(sub, sizeof sub, "%s/mask", path);
            rc = join_dataset(c, sub);
        }
    } else {
        rc = sdd_error(SDD_EUNSUPPORTED, "%s: %s '%s' is a %s, which concat cannot join along the cells", c->parts[0],
                       what, path, enc);
    }
    sdd_h5_close(g);
    free(enc);
    return rc;
}

/* Every element under a group (obs columns, layers, obsm), each joined. */
static int join_group(const cat_t *c, const char *path, const char *what)
{
    char **names = NULL, sub[512];
    int64_t n = 0;
    hid_t g = H5I_INVALID_HID;
    int rc = same_members(c, path, &names, &n);
    if (rc == 0) rc = open_like(c, path, &g);
    for (int64_t i = 0; i < n && rc == SDD_OK; i++) {
        int w = snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
        if (w < 0 || (size_t)w >= sizeof sub) {
            rc = sdd_error(SDD_EUNSUPPORTED, "%s: the name of %s '%s' is too long", c->parts[0], what, names[i]);
            break;
        }
        rc = join_element(c, sub, what);
    }
    sdd_h5_close(g);
    sdd_strv_free(names, n);
    return rc;
}

/* Groups copied whole from the first part; uns without its shard record. */
static int copy_first(const cat_t *c)
{
    static const char *const keep[] = {"var", "varm", "varp", "uns"};
    hid_t f;
    int rc = sdd_h5_open(c->parts[0], &f);
    if (rc < 0) return rc;
    for (size_t i = 0; i < sizeof keep / sizeof *keep && rc == SDD_OK; i++)
        if (sdd_h5_exists(f, keep[i]) && H5Ocopy(f, keep[i], c->fout, keep[i], H5P_DEFAULT, H5P_DEFAULT) < 0)
            rc = h5err(c->out, keep[i]);
    if (rc == SDD_OK && sdd_h5_exists(c->fout, "uns/sddcell/shard") && H5Ldelete(c->fout, "uns/sddcell/shard", H5P_DEFAULT) < 0)
        rc = h5err(c->out, "uns");
    if (rc == SDD_OK) rc = copy_attrs(c, f, c->fout, "the root");
    sdd_h5_close(f);
    return rc;
}

/* The top level: what is joined, what copied, what refused. */
static int check_layout(const cat_t *c)
{
    static const char *const known[] = {"X", "obs", "var", "obsm", "varm", "obsp", "varp", "layers", "uns"};
    char **names = NULL, **sub = NULL;
    int64_t n = 0, ns = 0;
    int rc = same_members(c, "/", &names, &n);
    for (int64_t i = 0; i < n && rc == SDD_OK; i++) {
        size_t k = 0;
        while (k < sizeof known / sizeof *known && strcmp(known[k], names[i])) k++;
        if (k == sizeof known / sizeof *known)
            rc = sdd_error(SDD_EUNSUPPORTED, "%s: concat does not join '%s' (%s)", c->parts[0], names[i],
                           strcmp(names[i], "raw") ? "not an anndata element" : "raw matrices are not joined");
    }
    if (rc == SDD_OK && (rc = members(c, 0, "obsp", &sub, &ns)) == 0 && ns > 0)
        rc = sdd_error(SDD_EUNSUPPORTED, "%s: obsp['%s'] pairs cells, and cannot be joined along them", c->parts[0], sub[0]);
    sdd_strv_free(sub, ns);
    sdd_strv_free(names, n);
    return rc;
}

static int write_all(cat_t *c)
{
    int rc;
    hid_t g;
    if ((rc = check_layout(c)) < 0 || (rc = copy_first(c)) < 0 || (rc = join_csr(c, "X")) < 0 ||
        (rc = join_group(c, "obs", "obs column")) < 0)
        return rc;
    {
        hid_t f;
        int has_layers, has_obsm, has_obsp;
        if ((rc = sdd_h5_open(c->parts[0], &f)) < 0) return rc;
        has_layers = sdd_h5_is_group(f, "layers");
        has_obsm = sdd_h5_is_group(f, "obsm");
        has_obsp = sdd_h5_is_group(f, "obsp");
        sdd_h5_close(f);
        if (has_layers && (rc = join_group(c, "layers", "layer")) < 0) return rc;
        if (has_obsm && (rc = join_group(c, "obsm", "obsm element")) < 0) return rc;
        if (has_obsp) {
            if ((rc = open_like(c, "obsp", &g)) < 0) return rc;
            sdd_h5_close(g);
        }
    }
    return SDD_OK;
}

int sdd_h5ad_concat(const char *out, const char *const *parts, int n_parts)
{
    cat_t c = {.out = out, .parts = parts, .n = n_parts, .fout = H5I_INVALID_HID};
    char *tmp = NULL;
    int rc;
    if (!out || !*out || !parts || n_parts < 1) return sdd_error(SDD_EINVAL, "concat: no output or no parts");
    for (int p = 0; p < n_parts; p++)
        if (strcmp(parts[p], out) == 0)
            return sdd_error(SDD_EINVAL, "%s: is both the output and part %d", out, p + 1);
    if ((rc = sdd_init()) < 0) return rc;
    if (!(c.rows = sdd_calloc((size_t)n_parts, sizeof *c.rows)) || !(tmp = sdd_tmp_path(out))) {
        free(c.rows);
        return SDD_ENOMEM;
    }
    if ((rc = check_parts(&c)) < 0) goto done;
    sdd_tmp_track(tmp);
    if ((c.fout = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        const char *slash = strrchr(out, '/');
        rc = sdd_error(SDD_EIO, "%s: cannot create a file in %.*s", out, slash ? (int)(slash - out) : 1,
                       slash ? out : ".");
        goto untrack;
    }
    rc = write_all(&c);
    errno = 0;
    if (rc == SDD_OK && H5Fflush(c.fout, H5F_SCOPE_LOCAL) < 0)
        rc = sdd_error(SDD_EIO, "%s: HDF5 failed to flush the file: %s", out, errno ? strerror(errno) : "disk full?");
    if (rc < 0 && truncate(tmp, 0) != 0) SDD_LOG_D("%s: cannot truncate %s", out, tmp);
    if (H5Fclose(c.fout) < 0 && rc == SDD_OK)
        rc = sdd_error(SDD_EIO, "%s: HDF5 failed to finish the file: %s", out, errno ? strerror(errno) : "disk full?");
    if (rc == SDD_OK && sdd_tmp_commit(tmp, out) != 0)
        rc = sdd_error(SDD_EIO, "%s: cannot rename the finished file into place: %s", out, strerror(errno));
    if (rc < 0) unlink(tmp);
untrack:
    sdd_tmp_untrack(tmp);
done:
    free(tmp);
    free(c.rows);
    return rc;
}
