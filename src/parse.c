/*
 * parse.c: strict number parsing for options and text formats. A value is accepted
 * only if the whole string is a number in range: no junk, no overflow, no empty string.
 */
#include "sdd_internal.h"
#include <errno.h>
#include <math.h>
#include <ctype.h>

int sdd_parse_int64(const char *s, int64_t min, int64_t max, const char *what, int64_t *out)
{
    char *end;
    long long v;
    if (!s || !*s || isspace((unsigned char)*s))
        return sdd_error(SDD_EINVAL, "%s: expected an integer, got '%s'", what, s ? s : "");
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end) return sdd_error(SDD_EINVAL, "%s: expected an integer, got '%s'", what, s);
    if (errno == ERANGE || v < min || v > max)
        return sdd_error(SDD_EINVAL, "%s: %s is out of range [%lld, %lld]", what, s,
                         (long long)min, (long long)max);
    *out = v;
    return SDD_OK;
}

int sdd_parse_double(const char *s, double min, double max, const char *what, double *out)
{
    char *end;
    double v;
    if (!s || !*s || isspace((unsigned char)*s))
        return sdd_error(SDD_EINVAL, "%s: expected a number, got '%s'", what, s ? s : "");
    errno = 0;
    v = strtod(s, &end);
    if (*end) return sdd_error(SDD_EINVAL, "%s: expected a number, got '%s'", what, s);
    if (errno == ERANGE || !isfinite(v) || v < min || v > max)
        return sdd_error(SDD_EINVAL, "%s: %s is out of range [%g, %g]", what, s, min, max);
    *out = v;
    return SDD_OK;
}
