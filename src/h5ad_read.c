/*
 * h5ad_read.c: AnnData .h5ad files of every generation, into the dataset's names and
 * columns plus a row reader over the chosen matrix (X, layers/NAME or raw/X).
 *
 * Generations (see FORMATS.md):
 *  - legacy, anndata <= 0.6: obs / var are compound datasets whose first field is the
 *    index; sparse matrices are groups tagged h5sparse_format / h5sparse_shape; raw is
 *    stored as top-level `raw.X` / `raw.var`; categories live in uns/<col>_categories
 *    (applied, as anndata does, only when every code fits);
 *  - anndata 0.7 (dataframe 0.1.0): obs / var are groups with `_index` and
 *    `column-order`; a categorical column is a code dataset whose `categories` attribute
 *    is an object reference into __categories/<col>;
 *  - anndata >= 0.8 (root encoding-type "anndata"): categorical groups (codes,
 *    categories, ordered), nullable-integer / nullable-boolean / nullable-string-array
 *    groups (values + mask; masked entries become NaN, or "" for strings).
 * Matrices: a 2-d dataset (dense, any numeric type), or a csr_matrix / csc_matrix group
 * with a `shape` attribute. csr and dense rows stream from the file; csc is read whole
 * and transposed. Shapes must agree with the obs / var index lengths.
 */
#include "read_internal.h"
#include <math.h>
#include <stdio.h>

enum { GEN_LEGACY = 0, GEN_07 = 1, GEN_08 = 2 };

/* A dataframe as read: its index and (optionally) its columns. */
typedef struct {
    char **index;
    int64_t n;
    sdd_column_t *cols;
    int n_cols;
} frame_t;

static void frame_free(frame_t *f)
{
    sdd_strv_free(f->index, f->n);
    for (int i = 0; i < f->n_cols; i++) sdd_column_free(&f->cols[i]);
    free(f->cols);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------- columns */

static int check_len(hid_t loc, const char *name, int64_t got, int64_t n)
{
    char w[600];
    if (got != n)
        return sdd_error(SDD_EFORMAT, "%s: has %lld entries but the index has %lld",
                         sdd_h5_where(loc, name, w, sizeof w), (long long)got, (long long)n);
    return SDD_OK;
}

/* Codes (any integer width) checked against [-1, n_cat) into c->codes. */
static int set_codes(hid_t loc, const char *name, const int64_t *codes, int64_t n, sdd_column_t *c)
{
    char w[600];
    if (!(c->codes = sdd_malloc((size_t)(n + 1) * sizeof *c->codes))) return SDD_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        if (codes[i] < -1 || codes[i] >= c->n_categories)
            return sdd_error(SDD_EFORMAT, "%s: code %lld at row %lld is outside [-1, %d)",
                             sdd_h5_where(loc, name, w, sizeof w), (long long)codes[i], (long long)i,
                             c->n_categories);
        c->codes[i] = (int32_t)codes[i];
    }
    return SDD_OK;
}

/* pandas refuses duplicate categories, so anndata cannot read such a column; say so
 * here, naming the input, rather than when the column is written out. */
static int distinct_categories(hid_t cats, char **v, int64_t n)
{
    char w[600];
    int64_t k = sdd_strv_find_dup(v, n);
    if (k >= 0)
        return sdd_error(SDD_EFORMAT, "%s: the category '%s' appears twice (pandas and anndata refuse duplicate "
                         "categories)", sdd_h5_where(cats, NULL, w, sizeof w), v[k]);
    return SDD_OK;
}

/* A categorical from a codes dataset and an open categories dataset. */
static int categorical(hid_t loc, const char *codes_path, hid_t cats, int64_t n, sdd_column_t *c)
{
    int64_t *codes = NULL, nc = 0, ncat = 0;
    int rc;
    c->kind = SDD_COL_CATEGORICAL;
    if ((rc = sdd_h5_read_strings(cats, -1, &c->categories, &ncat)) < 0) return rc;
    c->n_categories = (int32_t)(ncat > INT32_MAX ? INT32_MAX : ncat); /* so that they are freed */
    if ((rc = distinct_categories(cats, c->categories, ncat)) < 0) return rc;
    /* anndata 0.7 keeps the ordered flag on the categories array */
    if (sdd_h5_attr_exists(cats, "ordered") && (rc = sdd_h5_attr_bool(cats, "ordered", &c->ordered)) < 0) return rc;
    if (ncat > INT32_MAX) return sdd_error(SDD_EUNSUPPORTED, "more than 2^31 categories");
    c->n_categories = (int32_t)ncat;
    if ((rc = sdd_h5_load_i64(loc, codes_path, -1, &codes, &nc)) < 0) return rc;
    if ((rc = check_len(loc, codes_path, nc, n)) == 0) rc = set_codes(loc, codes_path, codes, n, c);
    free(codes);
    return rc;
}

/* values + mask groups (nullable-integer, nullable-boolean, nullable-string-array). */
static int nullable(hid_t g, const char *enc, int64_t n, sdd_column_t *c)
{
    double *mask = NULL;
    int64_t nm = 0, nv = 0;
    int rc, is_str = strcmp(enc, "nullable-string-array") == 0;
    if ((rc = sdd_h5_load_f64(g, "mask", -1, &mask, &nm)) < 0) return rc;
    if ((rc = check_len(g, "mask", nm, n)) < 0) goto done;
    if (is_str) {
        c->kind = SDD_COL_STRING;
        if ((rc = sdd_h5_load_strings(g, "values", -1, &c->strings, &nv)) < 0) goto done;
        c->n = nv;
        if ((rc = check_len(g, "values", nv, n)) < 0) goto done;
        for (int64_t i = 0; i < n; i++)
            if (mask[i] != 0) c->strings[i][0] = 0;
    } else {
        c->kind = strcmp(enc, "nullable-boolean") == 0 ? SDD_COL_BOOL : SDD_COL_NUMERIC;
        c->is_integer = c->kind == SDD_COL_NUMERIC;
        if ((rc = sdd_h5_load_f64(g, "values", -1, &c->numeric, &nv)) < 0) goto done;
        if ((rc = check_len(g, "values", nv, n)) < 0) goto done;
        for (int64_t i = 0; i < n; i++)
            if (mask[i] != 0) c->numeric[i] = NAN;
    }
done:
    free(mask);
    return rc;
}

/* A column stored as a group (anndata >= 0.8). Returns 1 when the encoding is not a
 * per-row column sddcell keeps. */
static int column_group(hid_t parent, const char *name, int64_t n, sdd_column_t *c)
{
    hid_t g = -1, cats = -1;
    char *enc = NULL;
    int rc;
    if ((rc = sdd_h5_open_group(parent, name, &g)) < 0) return rc;
    if (sdd_h5_attr_string(g, "encoding-type", &enc) < 0) {
        rc = 1;
    } else if (strcmp(enc, "categorical") == 0) {
        if ((rc = sdd_h5_open_dataset(g, "categories", &cats)) == 0) rc = categorical(g, "codes", cats, n, c);
        if (rc == 0 && sdd_h5_attr_exists(g, "ordered")) rc = sdd_h5_attr_bool(g, "ordered", &c->ordered);
    } else if (strncmp(enc, "nullable-", 9) == 0) {
        rc = nullable(g, enc, n, c);
    } else {
        SDD_LOG_D("skipping column '%s' with encoding '%s'", name, enc);
        rc = 1;
    }
    free(enc);
    sdd_h5_close(cats);
    sdd_h5_close(g);
    return rc;
}

/* A column stored as a dataset: strings, numbers, booleans, or anndata 0.7 codes with
 * their categories by reference (or under __categories). */
static int column_dataset(hid_t parent, const char *name, int64_t n, sdd_column_t *c)
{
    hid_t d = -1, cats = -1;
    int64_t got = 0, dims[H5S_MAX_RANK];
    int rank = 0, rc;
    char path[600], tn[32];
    if ((rc = sdd_h5_open_dataset(parent, name, &d)) < 0) return rc;
    if ((rc = sdd_h5_dims(d, &rank, dims, H5S_MAX_RANK)) < 0) goto done;
    if (rank != 1) {
        rc = 1;
        goto done;
    }
    if ((rc = check_len(parent, name, dims[0], n)) < 0) goto done;
    snprintf(path, sizeof path, "__categories/%s", name);
    if (sdd_h5_attr_exists(d, "categories")) {
        if ((rc = sdd_h5_attr_ref(d, "categories", &cats)) == 0) rc = categorical(parent, name, cats, n, c);
        if (rc == 0 && sdd_h5_attr_exists(d, "ordered")) rc = sdd_h5_attr_bool(d, "ordered", &c->ordered);
    } else if (sdd_h5_is_dataset(parent, path)) {
        if ((rc = sdd_h5_open_dataset(parent, path, &cats)) == 0) rc = categorical(parent, name, cats, n, c);
    } else if (sdd_h5_is_string(d)) {
        c->kind = SDD_COL_STRING;
        c->n = n;
        rc = sdd_h5_read_strings(d, n, &c->strings, &got);
    } else if (sdd_h5_is_numeric(d)) {
        sdd_h5_dtype_name(d, tn, sizeof tn);
        c->kind = strcmp(tn, "bool") == 0 ? SDD_COL_BOOL : SDD_COL_NUMERIC;
        c->is_integer = strstr(tn, "int") != NULL;
        if ((c->numeric = sdd_malloc((size_t)(n + 1) * sizeof *c->numeric)))
            rc = sdd_h5_read_f64(d, 0, n, c->numeric);
        else
            rc = SDD_ENOMEM;
    } else {
        rc = 1;
    }
done:
    sdd_h5_close(cats);
    sdd_h5_close(d);
    return rc;
}

/* Read one named column of a dataframe group and append it to f (skipped kinds are
 * logged and left out). */
static int frame_column(hid_t g, const char *name, frame_t *f)
{
    sdd_column_t c;
    int rc;
    memset(&c, 0, sizeof c);
    c.n = f->n;
    if (!sdd_h5_exists(g, name)) {
        char w[600];
        return sdd_error(SDD_EFORMAT, "%s: listed in column-order but missing", sdd_h5_where(g, name, w, sizeof w));
    }
    rc = sdd_h5_is_group(g, name) ? column_group(g, name, f->n, &c) : column_dataset(g, name, f->n, &c);
    if (rc == 0 && !(c.name = sdd_strdup(name))) rc = SDD_ENOMEM;
    if (rc != 0) {
        sdd_column_free(&c);
        if (rc == 1) SDD_LOG_D("column '%s' skipped (not a per-row column)", name);
        return rc < 0 ? rc : SDD_OK;
    }
    c.n = f->n;
    return sdd_cols_append(&f->cols, &f->n_cols, &c);
}

/* ------------------------------------------------------------ frames */

/* A dataframe group (anndata >= 0.7). */
static int frame_group(hid_t fid, const char *path, int want_cols, frame_t *f)
{
    hid_t g = -1;
    char *index_name = NULL, **order = NULL;
    int64_t n_order = 0;
    int rc;
    if ((rc = sdd_h5_open_group(fid, path, &g)) < 0) return rc;
    rc = sdd_h5_attr_string(g, "_index", &index_name);
    if (rc == SDD_ENOTFOUND) rc = (index_name = sdd_strdup("_index")) ? SDD_OK : SDD_ENOMEM;
    if (rc < 0) goto done;
    if ((rc = sdd_h5_load_strings(g, index_name, -1, &f->index, &f->n)) < 0) goto done;
    if (!want_cols) goto done;
    rc = sdd_h5_attr_strings(g, "column-order", &order, &n_order);
    if (rc == SDD_ENOTFOUND) rc = SDD_OK; /* no columns listed: none read */
    if (rc < 0) goto done;
    for (int64_t i = 0; i < n_order && rc == 0; i++)
        if (strcmp(order[i], index_name) != 0) rc = frame_column(g, order[i], f);
done:
    sdd_strv_free(order, n_order);
    free(index_name);
    sdd_h5_close(g);
    return rc;
}

/* uns/<col>_categories of a legacy table turns the integer column c into a categorical
 * when every code fits (as anndata does); duplicate categories are refused. */
static int legacy_categories(hid_t fid, const char *upath, int64_t n, sdd_column_t *c)
{
    int64_t ncat = 0, fits = 1, dup;
    char **cv = NULL, w[600];
    int rc = sdd_h5_load_strings(fid, upath, -1, &cv, &ncat);
    if (rc < 0) return rc;
    if ((dup = sdd_strv_find_dup(cv, ncat)) >= 0) {
        rc = sdd_error(SDD_EFORMAT, "%s: the category '%s' appears twice (pandas and anndata refuse duplicate "
                       "categories)", sdd_h5_where(fid, upath, w, sizeof w), cv[dup]);
        sdd_strv_free(cv, ncat);
        return rc;
    }
    for (int64_t k = 0; k < n && fits; k++) fits = c->numeric[k] >= -1 && c->numeric[k] < ncat;
    if (fits && ncat <= INT32_MAX && (c->codes = sdd_malloc((size_t)(n + 1) * sizeof *c->codes))) {
        for (int64_t k = 0; k < n; k++) c->codes[k] = (int32_t)c->numeric[k];
        free(c->numeric);
        c->numeric = NULL;
        c->kind = SDD_COL_CATEGORICAL;
        c->categories = cv;
        c->n_categories = (int32_t)ncat;
        cv = NULL;
    }
    sdd_strv_free(cv, ncat);
    return SDD_OK;
}

/* A legacy compound table: first field is the index; uns/<col>_categories turns an
 * integer field into a categorical when every code fits (as anndata does). */
static int frame_compound(hid_t fid, const char *path, int want_cols, frame_t *f)
{
    hid_t d = -1;
    char **fields = NULL, upath[600];
    int n_fields = 0, rc;
    if ((rc = sdd_h5_open_dataset(fid, path, &d)) < 0) return rc;
    if ((rc = sdd_h5_fields(d, &fields, &n_fields)) < 0) goto done;
    if (n_fields < 1) {
        char w[600];
        rc = sdd_error(SDD_EFORMAT, "%s: compound table without fields", sdd_h5_where(fid, path, w, sizeof w));
        goto done;
    }
    if ((rc = sdd_h5_field_strings(d, fields[0], &f->index, &f->n)) < 0 || !want_cols) goto done;
    for (int i = 1; i < n_fields && rc == 0; i++) {
        sdd_column_t c;
        int cls = sdd_h5_field_class(d, fields[i]);
        int64_t n = 0;
        memset(&c, 0, sizeof c);
        if (!(c.name = sdd_strdup(fields[i]))) {
            rc = SDD_ENOMEM;
            break;
        }
        c.n = f->n;
        snprintf(upath, sizeof upath, "uns/%s_categories", fields[i]);
        if (cls == H5T_STRING) {
            c.kind = SDD_COL_STRING;
            rc = sdd_h5_field_strings(d, fields[i], &c.strings, &n);
        } else if (cls == H5T_INTEGER || cls == H5T_FLOAT || cls == H5T_ENUM) {
            c.kind = cls == H5T_ENUM ? SDD_COL_BOOL : SDD_COL_NUMERIC;
            c.is_integer = cls == H5T_INTEGER;
            rc = sdd_h5_field_f64(d, fields[i], &c.numeric, &n);
            if (rc == 0 && cls == H5T_INTEGER && sdd_h5_is_dataset(fid, upath))
                rc = legacy_categories(fid, upath, n, &c);
        } else {
            sdd_column_free(&c);
            continue;
        }
        if (rc == 0) rc = sdd_cols_append(&f->cols, &f->n_cols, &c);
        else sdd_column_free(&c);
    }
done:
    sdd_strv_free(fields, n_fields);
    sdd_h5_close(d);
    return rc;
}

static int read_frame(hid_t fid, const char *path, int want_cols, frame_t *f)
{
    char w[600];
    if (sdd_h5_is_group(fid, path)) return frame_group(fid, path, want_cols, f);
    if (sdd_h5_is_dataset(fid, path)) return frame_compound(fid, path, want_cols, f);
    if (!sdd_h5_exists(fid, "X") && !sdd_h5_exists(fid, "var"))
        return sdd_error(SDD_EFORMAT, "%s: neither an h5ad file (no obs, var or X) nor a 10x file (no matrix "
                         "or genome group)", sdd_h5_where(fid, NULL, w, sizeof w));
    return sdd_error(SDD_EFORMAT, "%s is missing (not an h5ad file?)", sdd_h5_where(fid, path, w, sizeof w));
}

/* ------------------------------------------------------------ matrices */

/* A comma-separated list of the members of `path` ("none" if absent or empty). */
static void list_members(hid_t fid, const char *path, char *buf, size_t n)
{
    hid_t g = -1;
    char **names = NULL;
    int64_t k = 0;
    size_t used = 0;
    snprintf(buf, n, "none");
    if (!sdd_h5_is_group(fid, path) || sdd_h5_open_group(fid, path, &g) < 0) return;
    if (sdd_h5_list(g, &names, &k) == 0 && k > 0) {
        buf[0] = 0;
        for (int64_t i = 0; i < k && used + 1 < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", names[i]);
    }
    sdd_strv_free(names, k);
    sdd_h5_close(g);
}

static int missing_matrix(const char *path, hid_t fid, const sdd_read_opt_t *opt, const char *xpath, int legacy)
{
    char layers[400];
    int has_raw = sdd_h5_exists(fid, legacy ? "raw.X" : "raw/X");
    list_members(fid, "layers", layers, sizeof layers);
    if (opt->layer)
        return sdd_error(SDD_ENOTFOUND, "%s: no layer '%s' (layers: %s)", path, opt->layer, layers);
    if (opt->raw) return sdd_error(SDD_ENOTFOUND, "%s: no raw matrix (%s is absent)", path, xpath);
    return sdd_error(SDD_ENOTFOUND, "%s: has no X; read another matrix with --layer NAME (layers: %s)%s",
                     path, layers, has_raw ? " or --raw" : " or --raw (none here)");
}

/* Shape of a sparse group: `shape` (anndata >= 0.7) or `h5sparse_shape` (legacy). */
static int sparse_shape(hid_t g, int64_t shape[2])
{
    int64_t n = 0;
    char w[600];
    int rc = sdd_h5_attr_int64s(g, "shape", shape, 2, &n);
    if (rc == SDD_ENOTFOUND) rc = sdd_h5_attr_int64s(g, "h5sparse_shape", shape, 2, &n);
    if (rc == SDD_ENOTFOUND)
        return sdd_error(SDD_EFORMAT, "%s: sparse matrix without a shape attribute", sdd_h5_where(g, NULL, w, sizeof w));
    if (rc < 0) return rc;
    if (n != 2 || shape[0] < 0 || shape[1] < 0)
        return sdd_error(SDD_EFORMAT, "%s: shape attribute must hold 2 non-negative integers",
                         sdd_h5_where(g, NULL, w, sizeof w));
    return SDD_OK;
}

/* Open the matrix at xpath as rows of r; records storage and dtype in ds. A sparse
 * matrix's shape must be n_obs x n_var before anything is sized by it. */
static int open_matrix(hid_t fid, const char *xpath, int64_t n_obs, int64_t n_var, sdd_xreader_t *r,
                       sdd_dataset_t *ds)
{
    hid_t g = -1, d = -1;
    char *enc = NULL, w[600];
    int64_t shape[2] = {0, 0};
    int rank = 0, rc;
    sdd_h5_where(fid, xpath, r->what, sizeof r->what);
    if (sdd_h5_is_dataset(fid, xpath)) {
        if ((rc = sdd_h5_open_dataset(fid, xpath, &d)) < 0) return rc;
        if ((rc = sdd_h5_dims(d, &rank, shape, 2)) < 0) goto done;
        if (rank != 2 || !sdd_h5_is_numeric(d)) {
            rc = sdd_error(SDD_EFORMAT, "%s: expected a 2-d numeric array (found %d-d %s)", r->what, rank,
                           sdd_h5_dtype_name(d, w, sizeof w));
            goto done;
        }
        snprintf(ds->x_storage, sizeof ds->x_storage, "dense");
        sdd_h5_dtype_name(d, ds->dtype, sizeof ds->dtype);
        rc = sdd_xr_init_dense(r, d, shape[0], shape[1]);
        d = -1;
        goto done;
    }
    if ((rc = sdd_h5_open_group(fid, xpath, &g)) < 0) return rc;
    rc = sdd_h5_attr_string(g, "encoding-type", &enc);
    if (rc == SDD_ENOTFOUND) rc = sdd_h5_attr_string(g, "h5sparse_format", &enc);
    if (rc == SDD_ENOTFOUND) {
        rc = sdd_error(SDD_EFORMAT, "%s: group without encoding-type (not a matrix)", r->what);
        goto done;
    }
    if (rc < 0) goto done;
    if (strcmp(enc, "csr_matrix") != 0 && strcmp(enc, "csr") != 0 && strcmp(enc, "csc_matrix") != 0 &&
        strcmp(enc, "csc") != 0) {
        rc = sdd_error(SDD_EUNSUPPORTED, "%s: unknown matrix encoding '%s' (expected csr_matrix, csc_matrix or a dense array)",
                       r->what, enc);
        goto done;
    }
    if ((rc = sdd_h5_open_dataset(g, "data", &d)) < 0 || (rc = sparse_shape(g, shape)) < 0) goto done;
    if (shape[0] != n_obs || shape[1] != n_var) {
        rc = sdd_error(SDD_EFORMAT, "%s: shape %lld x %lld does not match obs (%lld) x var (%lld)", r->what,
                       (long long)shape[0], (long long)shape[1], (long long)n_obs, (long long)n_var);
        goto done;
    }
    sdd_h5_dtype_name(d, ds->dtype, sizeof ds->dtype);
    if (enc[2] == 'r') {
        snprintf(ds->x_storage, sizeof ds->x_storage, "csr");
        if (shape[1] > INT32_MAX) {
            rc = sdd_error(SDD_EUNSUPPORTED, "%s: %lld columns exceed 32-bit indices", r->what, (long long)shape[1]);
            goto done;
        }
        r->n_cols = shape[1];
        rc = sdd_xr_init_sparse(r, g, shape[0], shape[1]);
    } else {
        sdd_csr_t t;
        snprintf(ds->x_storage, sizeof ds->x_storage, "csc");
        if ((rc = sdd_xr_load_compressed(g, shape[1], shape[0], &t)) < 0) goto done;
        rc = sdd_csr_transpose(&t, &r->mem);
        sdd_csr_free(&t);
        r->kind = SDD_XR_MEM;
        r->n_rows = shape[0];
        r->n_cols = shape[1];
    }
done:
    free(enc);
    sdd_h5_close(d);
    sdd_h5_close(g);
    return rc;
}

/* ------------------------------------------------------------ the file */

static int generation(hid_t fid, int *gen)
{
    char *enc = NULL;
    if (sdd_h5_attr_string(fid, "encoding-type", &enc) == 0 && strcmp(enc, "anndata") == 0) *gen = GEN_08;
    else *gen = sdd_h5_is_dataset(fid, "obs") ? GEN_LEGACY : GEN_07;
    free(enc);
    sdd_error_clear();
    return SDD_OK;
}

/* Move a string var column named gene_ids into ds->gene_ids. */
static void take_gene_ids(sdd_dataset_t *ds)
{
    int k = sdd_column_find(ds->var, ds->n_var, "gene_ids");
    if (k < 0 || ds->var[k].kind != SDD_COL_STRING || ds->var[k].n != ds->n_genes) return;
    ds->gene_ids = ds->var[k].strings;
    ds->var[k].strings = NULL;
    sdd_column_free(&ds->var[k]);
    memmove(ds->var + k, ds->var + k + 1, (size_t)(ds->n_var - k - 1) * sizeof *ds->var);
    ds->n_var--;
}

int sdd_h5ad_open(const char *path, hid_t fid, const sdd_read_opt_t *opt, sdd_xreader_t *r, sdd_dataset_t *ds)
{
    frame_t obs = {0}, var = {0};
    char xpath[400];
    const char *var_path;
    int gen = 0, rc;
    generation(fid, &gen);
    snprintf(ds->format, sizeof ds->format, "h5ad");
    snprintf(ds->generation, sizeof ds->generation, "%s",
             gen == GEN_08 ? "anndata>=0.8" : gen == GEN_07 ? "anndata-0.7" : "legacy (anndata<=0.6)");
    if (opt->layer) snprintf(xpath, sizeof xpath, "layers/%s", opt->layer);
    else snprintf(xpath, sizeof xpath, "%s", opt->raw ? (gen == GEN_LEGACY ? "raw.X" : "raw/X") : "X");
    var_path = opt->raw ? (gen == GEN_LEGACY ? "raw.var" : "raw/var") : "var";
    if ((rc = read_frame(fid, "obs", !opt->skip_obs, &obs)) < 0) goto done;
    if ((rc = read_frame(fid, var_path, 1, &var)) < 0) goto done;
    if (!sdd_h5_exists(fid, xpath)) {
        rc = missing_matrix(path, fid, opt, xpath, gen == GEN_LEGACY);
        goto done;
    }
    if ((rc = open_matrix(fid, xpath, obs.n, var.n, r, ds)) < 0) goto done;
    if (r->n_rows != obs.n || r->n_cols != var.n) {
        rc = sdd_error(SDD_EFORMAT, "%s: shape %lld x %lld does not match obs (%lld) x %s (%lld)", r->what,
                       (long long)r->n_rows, (long long)r->n_cols, (long long)obs.n, var_path, (long long)var.n);
        goto done;
    }
    ds->n_cells = obs.n;
    ds->n_genes = var.n;
    ds->cell_names = obs.index;
    ds->gene_names = var.index;
    ds->obs = obs.cols;
    ds->n_obs = obs.n_cols;
    ds->var = var.cols;
    ds->n_var = var.n_cols;
    memset(&obs, 0, sizeof obs);
    memset(&var, 0, sizeof var);
    take_gene_ids(ds);
done:
    frame_free(&obs);
    frame_free(&var);
    return rc;
}
