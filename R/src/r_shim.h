/*
 * r_shim.h: helpers shared by the R entry points: the log sink pointed at R's console,
 * the interrupt-checking progress callback, and turning library codes into R errors
 * after C memory is freed.
 */
#ifndef SDD_R_SHIM_H
#define SDD_R_SHIM_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include "sddcell.h"

/* Convert a dataset to the list sdd_read() builds on (dgCMatrix parts, names, obs) and
 * free it, also when R raises an error during the conversion. */
SEXP sdd_r_dataset_take(sdd_dataset_t *ds);
/* Set up the library once per session (log sink to Rprintf / REprintf). */
void sdd_r_setup(int verbose);
/* Progress callback: checks R's interrupt flag without longjmp-ing out of C code. */
int sdd_r_progress(const char *stage, int64_t done, int64_t total, const char *status, void *user);
/* Copy the thread's error detail (or sdd_strerror(rc)) into buf for a later Rf_error. */
void sdd_r_errmsg(int rc, char *buf, size_t n);
/* Scalar helpers with checks: a single non-NA string / number, or NULL for R NULL. */
const char *sdd_r_string(SEXP x, const char *what);
double sdd_r_number(SEXP x, const char *what);
/* A named R list from names[] and values (values PROTECTed by the caller). */
SEXP sdd_r_named_list(int n, const char **names);

#endif
