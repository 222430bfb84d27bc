/*
 * h5ad_extra.c: adds varm and obsp elements to an .h5ad the writer (h5ad_write.c) has
 * produced, in anndata >= 0.8's encoding: a dense array is a dataset tagged `array`
 * 0.2.0; a sparse matrix a group tagged `csr_matrix` 0.1.0 with an int64[2] `shape`
 * attribute and datasets data / indices / indptr. Every tag is a variable-length UTF-8
 * string attribute, as h5py writes them. Datasets are chunked and deflated.
 *
 * The caller owns atomicity: add to a temporary file, then rename it (sdd_embed_write_h5ad).
 */
#include "h5ad_extra.h"
#include "h5_util.h"

#define EXTRA_CHUNK ((hsize_t)1 << 18)

static int str_attr(hid_t obj, const char *name, const char *val)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    int ok = 0;
    if (t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        (a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
        ok = H5Awrite(a, t, &val) >= 0;
    sdd_h5_close(a);
    sdd_h5_close(sp);
    sdd_h5_close(t);
    return ok ? SDD_OK : SDD_EIO;
}

static int tag(hid_t obj, const char *type, const char *version)
{
    int rc = str_attr(obj, "encoding-type", type);
    return rc < 0 ? rc : str_attr(obj, "encoding-version", version);
}

/* Open /group, creating it as an anndata dict when absent. */
static hid_t open_dict(hid_t f, const char *group)
{
    hid_t g;
    if (H5Lexists(f, group, H5P_DEFAULT) > 0) return H5Gopen2(f, group, H5P_DEFAULT);
    g = H5Gcreate2(f, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0 && tag(g, "dict", "0.1.0") < 0) {
        H5Gclose(g);
        return H5I_INVALID_HID;
    }
    return g;
}

/* A chunked, deflated dataset of rank 1 or 2 written whole from buf. */
static int write_ds(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                    const void *buf, const char *enc)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), d = H5I_INVALID_HID;
    hsize_t total = rank == 2 ? dims[0] * dims[1] : dims[0], chunk[2];
    int rc = SDD_EIO;
    if (sp < 0 || dcpl < 0) goto done;
    if (total >= 64) {
        chunk[1] = rank == 2 ? (dims[1] < EXTRA_CHUNK ? dims[1] : EXTRA_CHUNK) : 1;
        chunk[0] = EXTRA_CHUNK / chunk[1];
        if (chunk[0] > dims[0]) chunk[0] = dims[0];
        if (chunk[0] < 1) chunk[0] = 1;
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_deflate(dcpl, 4) < 0) goto done;
    }
    if ((d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) goto done;
    if (total > 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) goto done;
    rc = enc ? tag(d, enc, "0.2.0") : SDD_OK;
done:
    sdd_h5_close(d);
    sdd_h5_close(dcpl);
    sdd_h5_close(sp);
    return rc;
}

static int fail_detail(const char *path, const char *group, const char *name)
{
    const char *why = sdd_h5_last_error();
    return sdd_error(SDD_EIO, "%s: cannot write %s/%s%s%s%s", path, group, name, why && *why ? " (HDF5: " : "",
                     why && *why ? why : "", why && *why ? ")" : "");
}

int sdd_h5ad_add_dense(const char *path, const char *group, const char *name, const float *x,
                       int64_t rows, int64_t cols)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), g = H5I_INVALID_HID;
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    int rc = SDD_EIO;
    if (f >= 0 && (g = open_dict(f, group)) >= 0)
        rc = write_ds(g, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, x, "array");
    sdd_h5_close(g);
    if (f >= 0 && H5Fclose(f) < 0) rc = SDD_EIO;
    return rc < 0 ? fail_detail(path, group, name) : SDD_OK;
}

int sdd_h5ad_add_csr(const char *path, const char *group, const char *name, const sdd_csr_t *m)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), g = H5I_INVALID_HID, s = H5I_INVALID_HID;
    hid_t sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    hsize_t dn[1] = {(hsize_t)m->nnz}, dp[1] = {(hsize_t)m->n_rows + 1}, two[1] = {2};
    int64_t shape[2] = {m->n_rows, m->n_cols};
    int32_t *ip32 = NULL;
    int rc = SDD_EIO, small = m->nnz < INT32_MAX;
    if (f < 0 || (g = open_dict(f, group)) < 0) goto done;
    if ((s = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 || tag(s, "csr_matrix", "0.1.0") < 0)
        goto done;
    if ((sp = H5Screate_simple(1, two, NULL)) < 0 ||
        (a = H5Acreate2(s, "shape", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, H5T_NATIVE_INT64, shape) < 0)
        goto done;
    if (write_ds(s, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, dn, m->data, NULL) < 0 ||
        write_ds(s, "indices", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dn, m->indices, NULL) < 0)
        goto done;
    if (small) { /* scipy keeps int32 index arrays while they fit */
        if (!(ip32 = sdd_malloc((size_t)(m->n_rows + 1) * sizeof *ip32))) {
            rc = SDD_ENOMEM;
            goto done;
        }
        for (int64_t i = 0; i <= m->n_rows; i++) ip32[i] = (int32_t)m->indptr[i];
        if (write_ds(s, "indptr", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dp, ip32, NULL) < 0) goto done;
    } else if (write_ds(s, "indptr", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, dp, m->indptr, NULL) < 0) {
        goto done;
    }
    rc = SDD_OK;
done:
    free(ip32);
    sdd_h5_close(a);
    sdd_h5_close(sp);
    sdd_h5_close(s);
    sdd_h5_close(g);
    if (f >= 0 && H5Fclose(f) < 0) rc = SDD_EIO;
    if (rc == SDD_ENOMEM) return rc;
    return rc < 0 ? fail_detail(path, group, name) : SDD_OK;
}
