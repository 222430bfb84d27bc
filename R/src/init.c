/*
 * init.c: registration of the package's native routines (no dynamic symbol lookup).
 */
#include "r_shim.h"
#include <R_ext/Rdynload.h>

SEXP sdd_r_read(SEXP path, SEXP layer, SEXP raw, SEXP genome);
SEXP sdd_r_version(void);

static const R_CallMethodDef call_methods[] = {
    {"sdd_r_read", (DL_FUNC)&sdd_r_read, 4},
    {"sdd_r_version", (DL_FUNC)&sdd_r_version, 0},
    {NULL, NULL, 0}};

void R_init_sddcell(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}

SEXP sdd_r_version(void) { return Rf_mkString(SDD_VERSION); }
