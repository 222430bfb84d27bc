/*
 * r_read.c: .Call entry for sdd_read(): a count file becomes the parts of a genes x cells
 * dgCMatrix (a cells x genes CSR is exactly that CSC) plus the obs columns.
 */
#include "r_shim.h"
#include <string.h>

static SEXP strings_to_r(char **v, int64_t n)
{
    SEXP s = PROTECT(Rf_allocVector(STRSXP, n));
    for (int64_t i = 0; i < n; i++) SET_STRING_ELT(s, i, Rf_mkCharCE(v && v[i] ? v[i] : "", CE_UTF8));
    UNPROTECT(1);
    return s;
}

static SEXP column_to_r(const sdd_column_t *c)
{
    SEXP v;
    switch (c->kind) {
    case SDD_COL_CATEGORICAL:
        v = PROTECT(Rf_allocVector(INTSXP, c->n));
        for (int64_t i = 0; i < c->n; i++) INTEGER(v)[i] = c->codes[i] < 0 ? NA_INTEGER : c->codes[i] + 1;
        Rf_setAttrib(v, R_LevelsSymbol, strings_to_r(c->categories, c->n_categories));
        Rf_setAttrib(v, R_ClassSymbol, Rf_mkString("factor"));
        break;
    case SDD_COL_STRING:
        v = PROTECT(strings_to_r(c->strings, c->n));
        break;
    case SDD_COL_BOOL:
        v = PROTECT(Rf_allocVector(LGLSXP, c->n));
        for (int64_t i = 0; i < c->n; i++) LOGICAL(v)[i] = ISNAN(c->numeric[i]) ? NA_LOGICAL : c->numeric[i] != 0;
        break;
    default:
        v = PROTECT(Rf_allocVector(REALSXP, c->n));
        memcpy(REAL(v), c->numeric, (size_t)c->n * sizeof(double));
    }
    UNPROTECT(1);
    return v;
}

/* Parts of a dgCMatrix and the obs columns from a loaded dataset. */
SEXP sdd_r_dataset_to_list(const sdd_dataset_t *ds)
{
    static const char *names[] = {"i", "p", "x", "dim", "genes", "cells", "gene_ids", "obs"};
    const sdd_csr_t *X = &ds->X;
    SEXP out = PROTECT(sdd_r_named_list(8, names)), v, obs, onames;
    if (X->nnz > INT32_MAX) Rf_error("too many non-zeros for a dgCMatrix");
    v = Rf_allocVector(INTSXP, X->nnz);
    SET_VECTOR_ELT(out, 0, v);
    memcpy(INTEGER(v), X->indices, (size_t)X->nnz * sizeof(int));
    v = Rf_allocVector(INTSXP, X->n_rows + 1);
    SET_VECTOR_ELT(out, 1, v);
    for (int64_t i = 0; i <= X->n_rows; i++) INTEGER(v)[i] = (int)X->indptr[i];
    v = Rf_allocVector(REALSXP, X->nnz);
    SET_VECTOR_ELT(out, 2, v);
    for (int64_t k = 0; k < X->nnz; k++) REAL(v)[k] = X->data[k];
    v = Rf_allocVector(INTSXP, 2);
    SET_VECTOR_ELT(out, 3, v);
    INTEGER(v)[0] = (int)X->n_cols;
    INTEGER(v)[1] = (int)X->n_rows;
    SET_VECTOR_ELT(out, 4, strings_to_r(ds->gene_names, ds->n_genes));
    SET_VECTOR_ELT(out, 5, strings_to_r(ds->cell_names, ds->n_cells));
    if (ds->gene_ids) SET_VECTOR_ELT(out, 6, strings_to_r(ds->gene_ids, ds->n_genes));
    obs = Rf_allocVector(VECSXP, ds->n_obs);
    SET_VECTOR_ELT(out, 7, obs);
    onames = Rf_allocVector(STRSXP, ds->n_obs);
    Rf_setAttrib(obs, R_NamesSymbol, onames);
    for (int c = 0; c < ds->n_obs; c++) {
        SET_STRING_ELT(onames, c, Rf_mkCharCE(ds->obs[c].name, CE_UTF8));
        SET_VECTOR_ELT(obs, c, column_to_r(&ds->obs[c]));
    }
    UNPROTECT(1);
    return out;
}

static void dataset_finalizer(SEXP p)
{
    sdd_dataset_destroy(R_ExternalPtrAddr(p));
    R_ClearExternalPtr(p);
}

SEXP sdd_r_dataset_take(sdd_dataset_t *ds)
{
    /* owned by a finalized pointer, so an R error during conversion frees it too */
    SEXP guard = PROTECT(R_MakeExternalPtr(ds, R_NilValue, R_NilValue)), res;
    R_RegisterCFinalizerEx(guard, dataset_finalizer, TRUE);
    res = PROTECT(sdd_r_dataset_to_list(ds));
    dataset_finalizer(guard);
    UNPROTECT(2);
    return res;
}

SEXP sdd_r_read(SEXP path, SEXP layer, SEXP raw, SEXP genome)
{
    char msg[1024];
    sdd_read_opt_t opt;
    sdd_dataset_t *ds = NULL;
    int rc;
    sdd_r_setup(0);
    sdd_read_opt_init(&opt);
    opt.layer = sdd_r_string(layer, "layer");
    opt.raw = Rf_asLogical(raw) == TRUE;
    opt.genome = sdd_r_string(genome, "genome");
    rc = sdd_dataset_read(sdd_r_string(path, "path"), &opt, &ds);
    if (rc < 0) {
        sdd_r_errmsg(rc, msg, sizeof msg);
        Rf_error("%s", msg);
    }
    return sdd_r_dataset_take(ds);
}
