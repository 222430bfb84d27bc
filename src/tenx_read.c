/*
 * tenx_read.c: 10x Genomics HDF5 count matrices (Cell Ranger / Space Ranger .h5).
 *
 * The file stores features x barcodes as CSC: indptr runs over barcodes (cells) and
 * indices are feature numbers. That is exactly CSR over cells x features, so rows of
 * cells stream from the file with no transpose.
 *  - Cell Ranger >= 3: group /matrix with data, indices, indptr, shape, barcodes and
 *    features/{id, name, feature_type, genome}; genome (or feature_type) may be one
 *    scalar string for every feature, as PyTables writes it. Features whose feature_type differs
 *    from the requested one ("Gene Expression" by default, "all" keeps everything), or
 *    whose genome differs from --genome, are dropped through a column map.
 *  - Cell Ranger <= 2: one root group per genome with genes, gene_names and the same
 *    matrix datasets; with several, --genome picks one.
 * Gene names are made unique as scanpy does (name, name-1, name-2, ...); ids are kept.
 * Checks: shape is 2 integers; barcodes has shape[1] entries, every feature array
 * shape[0]; the sparse arrays as in read.c.
 */
#include "read_internal.h"
#include <stdio.h>

int sdd_tenx_detect(hid_t fid)
{
    hid_t root = -1;
    char **names = NULL, p[600];
    int64_t n = 0;
    int found = 0;
    if (sdd_h5_exists(fid, "obs")) return 0;
    /* a link named matrix is enough: if its object is damaged, the 10x reader says so */
    if (H5Lexists(fid, "matrix", H5P_DEFAULT) > 0) return 1;
    if ((root = H5Gopen2(fid, "/", H5P_DEFAULT)) < 0) return 0;
    if (sdd_h5_list(root, &names, &n) == 0)
        for (int64_t i = 0; i < n && !found; i++) {
            snprintf(p, sizeof p, "%s/indptr", names[i]);
            found = sdd_h5_is_group(fid, names[i]) && sdd_h5_is_dataset(fid, p);
            /* a genome group names its genes or barcodes; an h5ad's X group does not */
            snprintf(p, sizeof p, "%s/genes", names[i]);
            if (found && !sdd_h5_is_dataset(fid, p)) {
                snprintf(p, sizeof p, "%s/barcodes", names[i]);
                found = sdd_h5_is_dataset(fid, p);
            }
        }
    sdd_strv_free(names, n);
    H5Gclose(root);
    sdd_error_clear();
    return found;
}

/* The genome groups of a Cell Ranger <= 2 file (root groups holding indptr). */
static int genome_groups(hid_t fid, char ***out, int64_t *n_out, char *list, size_t n_list)
{
    hid_t root = H5Gopen2(fid, "/", H5P_DEFAULT);
    char **names = NULL, p[600];
    int64_t n = 0, k = 0;
    size_t used = 0;
    int rc = sdd_h5_list(root, &names, &n);
    H5Gclose(root);
    if (rc < 0) return rc;
    list[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/indptr", names[i]);
        if (sdd_h5_is_group(fid, names[i]) && sdd_h5_is_dataset(fid, p)) {
            if (used + 1 < n_list) used += (size_t)snprintf(list + used, n_list - used, "%s%s", k ? ", " : "", names[i]);
            names[k++] = names[i];
        } else {
            free(names[i]);
        }
    }
    *out = names;
    *n_out = k;
    return SDD_OK;
}

/* Distinct values of v[n] as "a, b, c" (at most a few), for messages. */
static void distinct(char **v, int64_t n, char *buf, size_t cap)
{
    size_t used = 0;
    int shown = 0;
    buf[0] = 0;
    for (int64_t i = 0; i < n && shown < 8; i++) {
        int seen = 0;
        for (int64_t j = 0; j < i && !seen; j++) seen = strcmp(v[i], v[j]) == 0;
        if (seen || used + 1 >= cap) continue;
        used += (size_t)snprintf(buf + used, cap - used, "%s'%s'", shown++ ? ", " : "", v[i]);
    }
    if (!shown) snprintf(buf, cap, "none");
}

/* Keep the features that pass the filters: builds r->colmap (or none if all pass) and
 * compacts names and ids. */
static int filter_features(const char *path, const sdd_read_opt_t *opt, char **ftype, char **genome,
                           char **names, char **ids, int64_t n, sdd_xreader_t *r, int64_t *kept)
{
    const char *want = opt->feature_type;
    int64_t k = 0;
    char msg[400];
    if (want && strcmp(want, "all") == 0) want = NULL;
    if (!(r->colmap = sdd_malloc((size_t)(n + 1) * sizeof *r->colmap))) return SDD_ENOMEM;
    for (int64_t j = 0; j < n; j++) {
        int ok = (!want || !ftype || strcmp(ftype[j], want) == 0) &&
                 (!opt->genome || !genome || strcmp(genome[j], opt->genome) == 0);
        r->colmap[j] = ok ? (int32_t)k : -1;
        if (ok) {
            char *a = names[j], *b = ids[j];
            names[j] = names[k];
            ids[j] = ids[k];
            names[k] = a;
            ids[k] = b;
            k++;
        }
    }
    if (k == 0 && n > 0) {
        if (opt->genome && genome) {
            distinct(genome, n, msg, sizeof msg);
            return sdd_error(SDD_ENOTFOUND, "%s: no feature of genome '%s' (genomes: %s)", path, opt->genome, msg);
        }
        distinct(ftype, n, msg, sizeof msg);
        return sdd_error(SDD_ENOTFOUND, "%s: no feature of type '%s' (types: %s); see --feature-type", path,
                         want ? want : "all", msg);
    }
    if (k == n) {
        free(r->colmap);
        r->colmap = NULL;
    }
    *kept = k;
    return SDD_OK;
}

/* Read the group `gpath` of either layout into r and ds. */
static int read_group(const char *path, hid_t fid, const char *gpath, int v3, const sdd_read_opt_t *opt,
                      sdd_xreader_t *r, sdd_dataset_t *ds)
{
    hid_t g = -1, d = -1;
    int64_t *shape = NULL, n_shape = 0, n_genes, n_cells, nb = 0, n1 = 0, n2 = 0, n3 = 0, n4 = 0, kept = 0;
    char **barcodes = NULL, **names = NULL, **ids = NULL, **ftype = NULL, **genome = NULL;
    int rc;
    if ((rc = sdd_h5_open_group(fid, gpath, &g)) < 0) return rc;
    if ((rc = sdd_h5_load_i64(g, "shape", 2, &shape, &n_shape)) < 0) goto done;
    n_genes = shape[0];
    n_cells = shape[1];
    if (n_genes < 0 || n_cells < 0 || n_genes > INT32_MAX) {
        char w[600];
        rc = sdd_error(SDD_EFORMAT, "%s: invalid shape [%lld, %lld]", sdd_h5_where(g, "shape", w, sizeof w),
                       (long long)n_genes, (long long)n_cells);
        goto done;
    }
    if ((rc = sdd_h5_load_strings(g, "barcodes", n_cells, &barcodes, &nb)) < 0) goto done;
    if (v3) {
        if ((rc = sdd_h5_load_strings(g, "features/id", n_genes, &ids, &n1)) < 0 ||
            (rc = sdd_h5_load_strings(g, "features/name", n_genes, &names, &n2)) < 0)
            goto done;
        if (sdd_h5_exists(g, "features/feature_type") &&
            (rc = sdd_h5_load_strings_or_scalar(g, "features/feature_type", n_genes, &ftype, &n3)) < 0)
            goto done;
        if (sdd_h5_exists(g, "features/genome") &&
            (rc = sdd_h5_load_strings_or_scalar(g, "features/genome", n_genes, &genome, &n4)) < 0)
            goto done;
    } else if ((rc = sdd_h5_load_strings(g, "genes", n_genes, &ids, &n1)) < 0 ||
               (rc = sdd_h5_load_strings(g, "gene_names", n_genes, &names, &n2)) < 0) {
        goto done;
    }
    if ((rc = filter_features(path, opt, ftype, v3 ? genome : NULL, names, ids, n_genes, r, &kept)) < 0) goto done;
    sdd_h5_where(fid, gpath, r->what, sizeof r->what);
    if ((rc = sdd_xr_init_sparse(r, g, n_cells, n_genes)) < 0) goto done;
    r->n_cols = kept;
    if ((rc = sdd_names_make_unique(names, kept)) < 0) goto done;
    if ((rc = sdd_h5_open_dataset(g, "data", &d)) < 0) goto done;
    sdd_h5_dtype_name(d, ds->dtype, sizeof ds->dtype);
    snprintf(ds->x_storage, sizeof ds->x_storage, "csc");
    /* ownership: kept names / ids move into ds; the dropped tail is freed below */
    ds->n_cells = n_cells;
    ds->n_genes = kept;
    ds->cell_names = barcodes;
    barcodes = NULL;
    for (int64_t j = kept; j < n_genes; j++) {
        free(names[j]);
        free(ids[j]);
        names[j] = ids[j] = NULL;
    }
    ds->gene_names = names;
    ds->gene_ids = ids;
    names = ids = NULL;
done:
    sdd_strv_free(barcodes, nb);
    sdd_strv_free(names, n2);
    sdd_strv_free(ids, n1);
    sdd_strv_free(ftype, n3);
    sdd_strv_free(genome, n4);
    free(shape);
    sdd_h5_close(d);
    sdd_h5_close(g);
    return rc;
}

int sdd_tenx_open(const char *path, hid_t fid, const sdd_read_opt_t *opt, sdd_xreader_t *r, sdd_dataset_t *ds)
{
    char **groups = NULL, list[400];
    int64_t n = 0, pick = -1;
    int rc;
    snprintf(ds->format, sizeof ds->format, "10x-h5");
    if (H5Lexists(fid, "matrix", H5P_DEFAULT) > 0) {
        snprintf(ds->generation, sizeof ds->generation, "cellranger>=3");
        return read_group(path, fid, "matrix", 1, opt, r, ds);
    }
    snprintf(ds->generation, sizeof ds->generation, "cellranger<=2");
    if ((rc = genome_groups(fid, &groups, &n, list, sizeof list)) < 0) return rc;
    if (n == 0) {
        rc = sdd_error(SDD_EFORMAT, "%s: no /matrix group and no genome group (not a 10x file)", path);
    } else if (opt->genome) {
        for (int64_t i = 0; i < n; i++)
            if (strcmp(groups[i], opt->genome) == 0) pick = i;
        if (pick < 0) rc = sdd_error(SDD_ENOTFOUND, "%s: no genome '%s' (genomes: %s)", path, opt->genome, list);
    } else if (n > 1) {
        rc = sdd_error(SDD_EINVAL, "%s: holds several genomes (%s); choose one with --genome", path, list);
    } else {
        pick = 0;
    }
    if (rc == 0) rc = read_group(path, fid, groups[pick], 0, opt, r, ds);
    sdd_strv_free(groups, n);
    return rc;
}
