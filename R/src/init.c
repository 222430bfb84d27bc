/*
 * init.c: registration of the package's native routines (no dynamic symbol lookup).
 */
#include "r_shim.h"
#include <R_ext/Rdynload.h>

SEXP sdd_r_read(SEXP path, SEXP layer, SEXP raw, SEXP genome);
SEXP sdd_r_train(SEXP path, SEXP opts);
SEXP sdd_r_save(SEXP model, SEXP path);
SEXP sdd_r_load(SEXP path);
SEXP sdd_r_model_json(SEXP model);
SEXP sdd_r_sample(SEXP model, SEXP n, SEXP opts);
SEXP sdd_r_sample_counts(SEXP model, SEXP i, SEXP p, SEXP x, SEXP dim, SEXP seed);
SEXP sdd_r_write_h5ad(SEXP path, SEXP i, SEXP p, SEXP x, SEXP dim, SEXP genes, SEXP cells,
                      SEXP label_key, SEXP label_codes, SEXP label_levels);
SEXP sdd_r_evaluate(SEXP real, SEXP synth, SEXP opts);
SEXP sdd_r_model_summary(SEXP model);
SEXP sdd_r_version(void);

static const R_CallMethodDef call_methods[] = {
    {"sdd_r_read", (DL_FUNC)&sdd_r_read, 4},
    {"sdd_r_train", (DL_FUNC)&sdd_r_train, 2},
    {"sdd_r_save", (DL_FUNC)&sdd_r_save, 2},
    {"sdd_r_load", (DL_FUNC)&sdd_r_load, 1},
    {"sdd_r_model_json", (DL_FUNC)&sdd_r_model_json, 1},
    {"sdd_r_sample", (DL_FUNC)&sdd_r_sample, 3},
    {"sdd_r_sample_counts", (DL_FUNC)&sdd_r_sample_counts, 6},
    {"sdd_r_write_h5ad", (DL_FUNC)&sdd_r_write_h5ad, 10},
    {"sdd_r_evaluate", (DL_FUNC)&sdd_r_evaluate, 3},
    {"sdd_r_model_summary", (DL_FUNC)&sdd_r_model_summary, 1},
    {"sdd_r_version", (DL_FUNC)&sdd_r_version, 0},
    {NULL, NULL, 0}};

void R_init_sddcell(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}

SEXP sdd_r_version(void) { return Rf_mkString(SDD_VERSION); }
