/*
 * options.c: the numeric options of the options structs as tables of {name, field,
 * range}. The *_opt_check functions validate against these tables (so R's values are
 * checked by them too), and the command line takes its option names, ranges and
 * refusals from them, so a range is written once. A range is [min, max] with either end excluded on request;
 * integer bounds are exact in a double, and an int64 max of 2^63 or more means no upper
 * limit. SDD_OPT_ZERO_AUTO adds 0 ("chosen by the library") to a range that starts at 1.
 */
#include "sdd_internal.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#define NOMAX 0x1p63
#define FIELD(s, f) offsetof(s, f)

static const sdd_opt_t prep_opts[] = {
    {"n-top-genes", "n_top_genes", FIELD(sdd_prep_opt_t, n_top_genes), SDD_OPT_INT64, 1, 1, INT32_MAX, 0},
    {"min-cells", "min_cells", FIELD(sdd_prep_opt_t, min_cells), SDD_OPT_INT64, 1, 0, 1000, 0},
    {"min-genes", "min_genes", FIELD(sdd_prep_opt_t, min_genes), SDD_OPT_INT64, 1, 0, INT32_MAX, 0},
    {"target-sum", "target_sum", FIELD(sdd_prep_opt_t, target_sum), SDD_OPT_DOUBLE, 1, 0, 1e300, 0},
    {"chunk-rows", "chunk_rows", FIELD(sdd_prep_opt_t, chunk_rows), SDD_OPT_INT64, 1, 1, INT32_MAX, 0},
    {"holdout", "holdout", FIELD(sdd_prep_opt_t, holdout), SDD_OPT_DOUBLE, 1, 0, 1, SDD_OPT_MAX_OPEN},
    {NULL, NULL, 0, 0, 0, 0, 0, 0}};

static const sdd_opt_t train_opts[] = {
    {"steps", "steps", FIELD(sdd_train_opt_t, steps), SDD_OPT_INT64, 1, 1, 1e9, SDD_OPT_ZERO_AUTO},
    {"batch-size", "batch size", FIELD(sdd_train_opt_t, batch), SDD_OPT_INT64, 1, 1, 65536, 0},
    {"lr", "learning rate", FIELD(sdd_train_opt_t, lr), SDD_OPT_DOUBLE, 1, 0, 1, SDD_OPT_MIN_OPEN | SDD_OPT_MAX_OPEN},
    {"ema", "EMA decay", FIELD(sdd_train_opt_t, ema), SDD_OPT_DOUBLE, 1, 0, 1, SDD_OPT_MAX_OPEN},
    {"bit-scale", "bit scale", FIELD(sdd_train_opt_t, bit_scale), SDD_OPT_DOUBLE, 1, 0, 100, SDD_OPT_MIN_OPEN},
    {"bit-weight", "bit weight", FIELD(sdd_train_opt_t, bit_weight), SDD_OPT_DOUBLE, 1, 0, 1e6, 0},
    {"clip", "gradient clipping norm", FIELD(sdd_train_opt_t, clip), SDD_OPT_DOUBLE, 1, 0, 1e6, 0},
    {"checkpoint-every", "checkpoint interval", FIELD(sdd_train_opt_t, checkpoint_every), SDD_OPT_INT64, 1, 0,
     NOMAX, 0},
    {"hidden", "hidden width", FIELD(sdd_train_opt_t, hidden), SDD_OPT_INT, 4, 1, 16384, 0},
    {"head", "head width", FIELD(sdd_train_opt_t, head), SDD_OPT_INT, 1, 1, 65536, 0},
    {"emb", "embedding width", FIELD(sdd_train_opt_t, emb), SDD_OPT_INT, 1, 2, 16384, SDD_OPT_EVEN},
    {"label-dropout", "label dropout", FIELD(sdd_train_opt_t, label_dropout), SDD_OPT_DOUBLE, 1, 0, 1, 0},
    {"self-cond", "self-conditioning fraction", FIELD(sdd_train_opt_t, self_cond), SDD_OPT_DOUBLE, 1, 0, 1, 0},
    {"grad-slices", "gradient slices", FIELD(sdd_train_opt_t, grad_slices), SDD_OPT_INT, 1, 1, 1024, SDD_OPT_POW2},
    {"validation", "validation share", FIELD(sdd_train_opt_t, validation), SDD_OPT_DOUBLE, 1, 0, 0.5, 0},
    {"val-every", "validation interval", FIELD(sdd_train_opt_t, val_every), SDD_OPT_INT64, 1, 1, 1e9, 0},
    {"patience", "patience", FIELD(sdd_train_opt_t, patience), SDD_OPT_INT, 1, 1, 1000, 0},
    {"val-tol", "validation tolerance", FIELD(sdd_train_opt_t, val_tol), SDD_OPT_DOUBLE, 1, 0, 1, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, 0}};

/* td must also stay below the steps in use, which sdd_sample_opt_check checks. */
static const sdd_opt_t sample_opts[] = {
    {"cells", "number of cells", FIELD(sdd_sample_opt_t, n_cells), SDD_OPT_INT64, 1, 1, 1e8, 0},
    {"steps", "sampling steps", FIELD(sdd_sample_opt_t, steps), SDD_OPT_INT64, 1, 1, 100000, SDD_OPT_ZERO_AUTO},
    {"td", "time difference td", FIELD(sdd_sample_opt_t, td), SDD_OPT_DOUBLE, 1, 0, 100000, SDD_OPT_MAX_OPEN},
    {"eta", "DDIM eta", FIELD(sdd_sample_opt_t, eta), SDD_OPT_DOUBLE, 1, 0, 1, 0},
    {"guidance", "guidance weight", FIELD(sdd_sample_opt_t, guidance), SDD_OPT_DOUBLE, 1, 0, 100, 0},
    {"sample-batch", "sampling batch", FIELD(sdd_sample_opt_t, batch), SDD_OPT_INT64, 1, 1, 65536,
     SDD_OPT_ZERO_AUTO},
    {NULL, NULL, 0, 0, 0, 0, 0, 0}};

static const sdd_opt_t eval_opts[] = {
    {"n-sub", "n_sub", FIELD(sdd_eval_opt_t, n_sub), SDD_OPT_INT64, 1, 10, NOMAX, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, 0}};

static const sdd_opt_t embed_opts[] = {
    {"n-pcs", "n_pcs", FIELD(sdd_embed_opt_t, n_pcs), SDD_OPT_INT, 1, 2, 1000, 0},
    {"n-neighbors", "n_neighbors", FIELD(sdd_embed_opt_t, n_neighbors), SDD_OPT_INT, 1, 2, 1000, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, 0}};

static const sdd_opt_t pair_opts[] = {
    {"target-sum", "target_sum", FIELD(sdd_pair_opt_t, target_sum), SDD_OPT_DOUBLE, 1, 0, 1e12, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, 0}};

const sdd_opt_t *sdd_opt_table(int which)
{
    static const sdd_opt_t *const tables[SDD_OPTS_N] = {prep_opts, train_opts, sample_opts,
                                                        eval_opts, embed_opts, pair_opts};
    return which >= 0 && which < SDD_OPTS_N ? tables[which] : NULL;
}

const sdd_opt_t *sdd_opt_find(int which, const char *name)
{
    const sdd_opt_t *o = sdd_opt_table(which);
    for (; o && o->name; o++)
        if (strcmp(o->name, name) == 0) return o;
    return NULL;
}

static int is_int(const sdd_opt_t *o) { return o->type != SDD_OPT_DOUBLE; }

/* A bound as text: integers in full, reals with %g. */
static void put_bound(char *buf, size_t size, const sdd_opt_t *o, double v)
{
    if (is_int(o)) snprintf(buf, size, "%lld", v >= NOMAX ? (long long)INT64_MAX : (long long)v);
    else snprintf(buf, size, "%g", v);
}

const char *sdd_opt_range_text(const sdd_opt_t *o, char *buf, size_t size)
{
    char lo[32], hi[32];
    put_bound(lo, sizeof lo, o, o->min);
    put_bound(hi, sizeof hi, o, o->max);
    snprintf(buf, size, "%c%s, %s%c%s", o->flags & SDD_OPT_MIN_OPEN ? '(' : '[', lo, hi,
             o->flags & SDD_OPT_MAX_OPEN ? ')' : ']', o->flags & SDD_OPT_ZERO_AUTO ? " or 0" : "");
    return buf;
}

/* Whether v is one of o's values; *why is the rule it breaks otherwise. */
static int accepts(const sdd_opt_t *o, double v, const char **why)
{
    *why = "range";
    if (v == 0 && (o->flags & SDD_OPT_ZERO_AUTO)) return 1;
    if (!(v >= o->min && v <= o->max) || (v == o->min && (o->flags & SDD_OPT_MIN_OPEN)) ||
        (v == o->max && (o->flags & SDD_OPT_MAX_OPEN)))
        return 0;
    if ((o->flags & SDD_OPT_EVEN) && fmod(v, 2) != 0) return *why = "even", 0;
    if ((o->flags & SDD_OPT_POW2) && (v < 1 || ((int64_t)v & ((int64_t)v - 1)))) return *why = "pow2", 0;
    return 1;
}

/* The refusal of value text (the option's own spelling when cli, else its words). */
static int refuse(const sdd_opt_t *o, int cli, const char *text, const char *why)
{
    char r[96];
    if (strcmp(why, "even") == 0)
        return cli ? sdd_error(SDD_EINVAL, "--%s: %s must be even", o->name, text)
                   : sdd_error(SDD_EINVAL, "%s must be even, not %s", o->what, text);
    if (strcmp(why, "pow2") == 0)
        return cli ? sdd_error(SDD_EINVAL, "--%s: %s must be a power of two", o->name, text)
                   : sdd_error(SDD_EINVAL, "%s must be a power of two, not %s", o->what, text);
    sdd_opt_range_text(o, r, sizeof r);
    return cli ? sdd_error(SDD_EINVAL, "--%s: %s is out of range %s", o->name, text, r)
               : sdd_error(SDD_EINVAL, "%s must be in %s, not %s", o->what, r, text);
}

/* One value of o from text, strictly (the whole string, no overflow): *v, and *iv for
 * an integer option. */
static int parse_one(const sdd_opt_t *o, const char *text, double *v, int64_t *iv)
{
    const char *why = "range";
    char *end;
    int ok;
    errno = 0;
    if (is_int(o)) {
        long long i = *text && !isspace((unsigned char)*text) ? strtoll(text, &end, 10) : 0;
        if (!*text || isspace((unsigned char)*text) || *end)
            return sdd_error(SDD_EINVAL, "--%s: expected an integer, got '%s'", o->name, text);
        *iv = i;
        *v = (double)i;
    } else {
        *v = *text && !isspace((unsigned char)*text) ? strtod(text, &end) : 0;
        if (!*text || isspace((unsigned char)*text) || *end)
            return sdd_error(SDD_EINVAL, "--%s: expected a number, got '%s'", o->name, text);
    }
    ok = errno != ERANGE && isfinite(*v) && accepts(o, *v, &why);
    return ok ? SDD_OK : refuse(o, 1, text, why);
}

/* Store element k of o's field in opts: v, or iv for an integer option. */
static void store(const sdd_opt_t *o, void *opts, int k, double v, int64_t iv)
{
    char *f = (char *)opts + o->offset;
    if (o->type == SDD_OPT_INT) ((int *)f)[k] = (int)iv;
    else if (o->type == SDD_OPT_INT64) ((int64_t *)f)[k] = iv;
    else ((double *)f)[k] = v;
}

int sdd_opt_set(const sdd_opt_t *o, void *opts, const char *text)
{
    double v[SDD_OPT_MAX_COUNT];
    int64_t iv[SDD_OPT_MAX_COUNT];
    char buf[256], *p, *save = NULL;
    int n = 0, rc;
    if (!text) text = "";
    if (o->count == 1) {
        if ((rc = parse_one(o, text, &v[0], &iv[0])) < 0) return rc;
        store(o, opts, 0, v[0], iv[0]);
        return SDD_OK;
    }
    if (strlen(text) >= sizeof buf) return sdd_error(SDD_EINVAL, "--%s: '%s' is too long", o->name, text);
    strcpy(buf, text);
    for (p = strtok_r(buf, ",", &save); p && n < o->count; p = strtok_r(NULL, ",", &save))
    {
        if ((rc = parse_one(o, p, &v[n], &iv[n])) < 0) return rc;
        n++;
    }
    if (n != o->count || p)
        return sdd_error(SDD_EINVAL, "--%s takes %d values separated by commas, not '%s'", o->name, o->count, text);
    for (int k = 0; k < n; k++) store(o, opts, k, v[k], iv[k]);
    return SDD_OK;
}

/* Element k of o's field in opts. */
static double load(const sdd_opt_t *o, const void *opts, int k)
{
    const char *f = (const char *)opts + o->offset;
    if (o->type == SDD_OPT_INT) return ((const int *)f)[k];
    if (o->type == SDD_OPT_INT64) return (double)((const int64_t *)f)[k];
    return ((const double *)f)[k];
}

int sdd_opt_check_table(int which, const void *opts)
{
    for (const sdd_opt_t *o = sdd_opt_table(which); o && o->name; o++)
        for (int k = 0; k < o->count; k++) {
            const char *f = (const char *)opts + o->offset, *why;
            char text[32];
            if (accepts(o, load(o, opts, k), &why)) continue;
            if (o->type == SDD_OPT_INT) snprintf(text, sizeof text, "%d", ((const int *)f)[k]);
            else if (o->type == SDD_OPT_INT64) snprintf(text, sizeof text, "%lld", (long long)((const int64_t *)f)[k]);
            else snprintf(text, sizeof text, "%g", ((const double *)f)[k]);
            return refuse(o, 0, text, why);
        }
    return SDD_OK;
}
