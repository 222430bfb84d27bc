/*
 * hdf5_compound.c: fields of 1-d compound datasets, the obs / var tables of legacy
 * anndata (<= 0.6) files. A field is read by declaring a one-member memory compound of
 * the same name, which HDF5 matches by name: strings (fixed or vlen) as strings,
 * integers as decimal strings or doubles, h5py booleans (enums) through their base type.
 */
#include "h5_util.h"

int sdd_h5_fields(hid_t dset, char ***names, int *n)
{
    hid_t ft = H5Dget_type(dset);
    char w[600];
    int rc = SDD_OK, m;
    *names = NULL;
    *n = 0;
    if (ft < 0 || H5Tget_class(ft) != H5T_COMPOUND) {
        rc = sdd_error(SDD_EFORMAT, "%s: is not a compound table", sdd_h5_where(dset, NULL, w, sizeof w));
        goto done;
    }
    m = H5Tget_nmembers(ft);
    if (!(*names = sdd_calloc((size_t)m + 1, sizeof **names))) {
        rc = SDD_ENOMEM;
        goto done;
    }
    for (int i = 0; i < m; i++) {
        char *nm = H5Tget_member_name(ft, (unsigned)i);
        (*names)[i] = sdd_strdup(nm ? nm : "");
        if (nm) H5free_memory(nm);
        if (!(*names)[i]) {
            sdd_strv_free(*names, i);
            *names = NULL;
            rc = SDD_ENOMEM;
            goto done;
        }
    }
    *n = m;
done:
    if (ft >= 0) H5Tclose(ft);
    return rc;
}

/* The file type of a compound member (caller closes), or -1. */
static hid_t field_type(hid_t dset, const char *field)
{
    hid_t ft = H5Dget_type(dset), mt = -1;
    int idx;
    if (ft < 0) return -1;
    if (H5Tget_class(ft) == H5T_COMPOUND && (idx = H5Tget_member_index(ft, field)) >= 0)
        mt = H5Tget_member_type(ft, (unsigned)idx);
    H5Tclose(ft);
    return mt;
}

int sdd_h5_field_class(hid_t dset, const char *field)
{
    hid_t t = field_type(dset, field);
    int c = t >= 0 ? (int)H5Tget_class(t) : -1;
    if (t >= 0) H5Tclose(t);
    return c;
}

/* Read one member of every record with memory member type `mt` into buf. */
static int read_field(hid_t dset, const char *field, hid_t mt, void *buf)
{
    hid_t comp = H5Tcreate(H5T_COMPOUND, H5Tget_size(mt));
    char w[600];
    herr_t st = -1;
    if (comp >= 0 && H5Tinsert(comp, field, 0, mt) >= 0)
        st = H5Dread(dset, comp, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (comp >= 0) H5Tclose(comp);
    if (st < 0)
        return sdd_error(SDD_EFORMAT, "%s: cannot read field '%s' (HDF5: %s)",
                         sdd_h5_where(dset, NULL, w, sizeof w), field, sdd_h5_last_error());
    return SDD_OK;
}

static int field_setup(hid_t dset, const char *field, hid_t *ft, int64_t *n)
{
    char w[600];
    int rc = sdd_h5_len1(dset, n);
    if (rc < 0) return rc;
    if ((*ft = field_type(dset, field)) < 0)
        return sdd_error(SDD_EFORMAT, "%s: has no field '%s'", sdd_h5_where(dset, NULL, w, sizeof w), field);
    return SDD_OK;
}

int sdd_h5_field_strings(hid_t dset, const char *field, char ***out, int64_t *n)
{
    hid_t ft = -1, mt = -1;
    void *buf = NULL;
    char **v = NULL, w[600];
    int rc = field_setup(dset, field, &ft, n), cls;
    *out = NULL;
    if (rc < 0) return rc;
    cls = H5Tget_class(ft);
    if (cls == H5T_INTEGER) {
        if (!(buf = sdd_malloc((size_t)(*n + 1) * 8))) rc = SDD_ENOMEM;
        else if ((rc = read_field(dset, field, H5T_NATIVE_INT64, buf)) == 0) rc = sdd_h5_ints_as_strings(buf, *n, out);
        goto done;
    }
    if (cls != H5T_STRING) {
        rc = sdd_error(SDD_EFORMAT, "%s: field '%s' is not a string", sdd_h5_where(dset, NULL, w, sizeof w), field);
        goto done;
    }
    mt = sdd_h5_mem_string_type(ft);
    v = sdd_calloc((size_t)*n + 1, sizeof *v);
    buf = sdd_calloc((size_t)*n + 1, H5Tget_size(mt));
    if (!v || !buf) {
        rc = SDD_ENOMEM;
        goto done;
    }
    if ((rc = read_field(dset, field, mt, buf)) < 0) goto done;
    if ((rc = sdd_h5_unpack_strings(mt, buf, *n, v)) < 0) goto done;
    *out = v;
    v = NULL;
done:
    sdd_strv_free(v, *n);
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(ft);
    return rc;
}

int sdd_h5_field_f64(hid_t dset, const char *field, double **out, int64_t *n)
{
    hid_t ft = -1, mt = -1;
    void *buf = NULL;
    double *v = NULL;
    char w[600];
    int rc = field_setup(dset, field, &ft, n), cls;
    *out = NULL;
    if (rc < 0) return rc;
    cls = H5Tget_class(ft);
    if (!(v = sdd_malloc((size_t)(*n + 1) * sizeof *v))) {
        rc = SDD_ENOMEM;
        goto done;
    }
    if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
        rc = read_field(dset, field, H5T_NATIVE_DOUBLE, v);
    } else if (cls == H5T_ENUM) {
        size_t sz;
        int sgn;
        int64_t *wide;
        mt = sdd_h5_enum_mem_type(ft, &sz, &sgn);
        if (!(buf = sdd_malloc((size_t)(*n + 1) * (sz + 8)))) {
            rc = SDD_ENOMEM;
            goto done;
        }
        /* wide values first (8-aligned), raw enum bytes after them */
        wide = buf;
        if ((rc = read_field(dset, field, mt, wide + *n + 1)) < 0) goto done;
        sdd_h5_ints_to_i64(wide + *n + 1, sz, sgn, *n, wide);
        for (int64_t i = 0; i < *n; i++) v[i] = (double)wide[i];
    } else {
        rc = sdd_error(SDD_EFORMAT, "%s: field '%s' is not numeric", sdd_h5_where(dset, NULL, w, sizeof w), field);
    }
done:
    if (rc == SDD_OK) *out = v;
    else free(v);
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(ft);
    return rc;
}
