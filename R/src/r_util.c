/*
 * r_util.c: the R side of the library's contracts: messages through R's console,
 * interrupts through R_CheckUserInterrupt under R_ToplevelExec (so no longjmp crosses
 * library frames), and error codes that become Rf_error only after C memory is freed.
 */
#include "r_shim.h"
#include <R_ext/Print.h>
#include <R_ext/Utils.h>
#include <stdio.h>
#include <string.h>

static int r_verbose;

static void r_sink(int level, const char *func, const char *msg, void *user)
{
    (void)user;
    if (level <= SDD_LOG_WARNING) REprintf("sddcell: %s\n", msg);
    else if (r_verbose || level <= SDD_LOG_INFO) Rprintf("[%s] %s\n", func, msg);
}

static void check_interrupt(void *unused)
{
    (void)unused;
    R_CheckUserInterrupt();
}

/* The library's interrupt hook, polled between the phases of a training step on the
 * calling thread (R's): an interrupt or a time limit pending in R stops the step within
 * a twentieth of a second. R_CheckUserInterrupt's longjmp stays inside R_ToplevelExec. */
static int r_interrupt_hook(void *user)
{
    static double last;
    double now = sdd_realtime();
    (void)user;
    if (now - last < 0.05) return 0;
    last = now;
    return R_ToplevelExec(check_interrupt, NULL) == FALSE;
}

void sdd_r_setup(int verbose)
{
    r_verbose = verbose;
    sdd_init();
    sdd_log_set_sink(r_sink, NULL);
    sdd_log_set_level(verbose ? SDD_LOG_DEBUG : SDD_LOG_WARNING);
    sdd_set_interrupt_hook(r_interrupt_hook, NULL);
}

int sdd_r_progress(const char *stage, int64_t done, int64_t total, const char *status, void *user)
{
    static double last;
    double now = sdd_realtime();
    int verbose = user ? *(int *)user : 0;
    if (R_ToplevelExec(check_interrupt, NULL) == FALSE) return 1;
    if (verbose && (now - last > 5 || done == total)) {
        last = now;
        Rprintf("%s %lld/%lld %s\n", stage, (long long)done, (long long)total, status ? status : "");
    }
    return 0;
}

void sdd_r_errmsg(int rc, char *buf, size_t n)
{
    const char *d = sdd_errdetail();
    snprintf(buf, n, "%s", d && *d ? d : sdd_strerror(rc));
}

const char *sdd_r_string(SEXP x, const char *what)
{
    if (Rf_isNull(x)) return NULL;
    if (!Rf_isString(x) || XLENGTH(x) != 1 || STRING_ELT(x, 0) == NA_STRING)
        Rf_error("%s must be a single string", what);
    return CHAR(STRING_ELT(x, 0));
}

double sdd_r_number(SEXP x, const char *what)
{
    double v;
    if (!Rf_isNumeric(x) || XLENGTH(x) != 1) Rf_error("%s must be a single number", what);
    v = Rf_asReal(x);
    if (ISNAN(v)) Rf_error("%s must not be NA", what);
    return v;
}

SEXP sdd_r_named_list(int n, const char **names)
{
    SEXP out = PROTECT(Rf_allocVector(VECSXP, n));
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, n));
    for (int i = 0; i < n; i++) SET_STRING_ELT(nm, i, Rf_mkCharCE(names[i], CE_UTF8));
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(2);
    return out;
}
