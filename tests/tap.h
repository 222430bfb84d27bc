/*
 * tap.h: minimal test assertions for the C unit tests. A test program calls CHECK*
 * as often as it likes and returns tap_done(), which is non-zero if any check failed.
 * Exit status 77 means "skipped" to the automake test driver.
 */
#ifndef SDD_TAP_H
#define SDD_TAP_H
#include <math.h>
#include <stdio.h>

static int tap_failed, tap_count;

#define CHECK(cond) do { tap_count++; if (!(cond)) { tap_failed++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_MSG(cond, ...) do { tap_count++; if (!(cond)) { tap_failed++; \
    fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, rtol, atol) do { double a_ = (a), b_ = (b); tap_count++; \
    if (!(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_))) { tap_failed++; \
    fprintf(stderr, "%s:%d: %s = %.10g, expected %s = %.10g\n", __FILE__, __LINE__, #a, a_, #b, b_); } \
    } while (0)

static int tap_done(void)
{
    fprintf(stderr, "%d checks, %d failed\n", tap_count, tap_failed);
    return tap_failed ? 1 : 0;
}
#endif
