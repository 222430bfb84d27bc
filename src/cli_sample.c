/*
 * cli_sample.c: `sddcell sample MODEL.sdd -n N -o OUT.h5ad`: load a model, generate N
 * cells (sdd_sample), write them as .h5ad with uns['sddcell'] recording how (model file,
 * sampler, steps, td, decoding, seed, guidance, EMA, tool version) and, with --counts,
 * layers/counts (sdd_sample_counts). `--shard I/K` makes only the I-th of K contiguous
 * slices of the N cells, each cell exactly the one the whole run makes at its position
 * (named after it), and records "shard" = "I/K" in uns['sddcell'] for `sddcell concat`.
 * The output goes through a temporary name; a failure or an interrupt leaves no file.
 *
 * Also the sampling option table shared with `sddcell simulate`.
 */
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_sample_longopts(struct option *lo, int *n)
{
    struct option steps[2] = {{"sample-steps", required_argument, NULL, cli_num_code(SDD_OPTS_SAMPLE, "steps")},
                              {NULL, 0, NULL, 0}};
    cli_num_longopts(lo, n, SDD_OPTS_SAMPLE, NULL);
    cli_add_longopts(lo, n, steps);
    cli_text_longopts(lo, n, CLI_TEXT_SAMPLE);
}

/* The most cells one run makes, from the library's range of --cells. */
static int64_t max_cells(void)
{
    return (int64_t)sdd_opt_find(SDD_OPTS_SAMPLE, "cells")->max;
}

/* A=500,B=500 into parallel arrays held in *lc (freed with cli_label_counts_free). */
static int parse_label_counts(const cli_ctx_t *ctx, const char *arg, cli_label_counts_t *lc)
{
    char *s = strdup(arg), *p, *save = NULL;
    int n = 1;
    for (const char *q = arg; *q; q++) n += *q == ',';
    lc->names = calloc((size_t)n, sizeof *lc->names);
    lc->counts = calloc((size_t)n, sizeof *lc->counts);
    lc->buf = s;
    if (!s || !lc->names || !lc->counts) return cli_error(ctx, "out of memory"), -1;
    for (p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *eq = strrchr(p, '=');
        if (!eq || eq == p) {
            cli_usage_error(ctx, "--label-counts takes LABEL=N[,LABEL=N...], not '%s'", p);
            return -1;
        }
        *eq = 0;
        if (cli_opt_int(ctx, "--label-counts", eq + 1, 0, max_cells(), &lc->counts[lc->n])) return -1;
        lc->names[lc->n++] = p;
    }
    return 0;
}

void cli_label_counts_free(cli_label_counts_t *lc)
{
    free(lc->names);
    free(lc->counts);
    free(lc->buf);
    memset(lc, 0, sizeof *lc);
}

int cli_sample_option(const cli_ctx_t *ctx, int c, const char *arg, sdd_sample_opt_t *s,
                      cli_label_counts_t *lc, int *counts)
{
    int rc = cli_num_option(ctx, c, arg, SDD_OPTS_SAMPLE, s);
    if (rc <= 0) return rc;
    switch (c) {
    case CLI_O_SAMPLER:
        if (strcmp(arg, "ddim") == 0) s->sampler = SDD_SAMPLER_DDIM;
        else if (strcmp(arg, "ddpm") == 0) s->sampler = SDD_SAMPLER_DDPM;
        else if (strcmp(arg, "renoise") == 0) s->sampler = SDD_SAMPLER_RENOISE;
        else return cli_usage_error(ctx, "unknown --sampler '%s' (ddim, ddpm, renoise)", arg), -1;
        break;
    case CLI_O_DECODE:
        if (strcmp(arg, "threshold") == 0) s->bit_decode = SDD_BITS_THRESHOLD;
        else if (strcmp(arg, "bernoulli") == 0) s->bit_decode = SDD_BITS_BERNOULLI;
        else return cli_usage_error(ctx, "unknown --bit-decode '%s' (threshold, bernoulli)", arg), -1;
        break;
    case CLI_O_SCSAMPLE:
        if (strcmp(arg, "previous") == 0) s->self_cond = SDD_SC_PREVIOUS;
        else if (strcmp(arg, "same") == 0) s->self_cond = SDD_SC_SAME;
        else if (strcmp(arg, "none") == 0) s->self_cond = SDD_SC_NONE;
        else return cli_usage_error(ctx, "unknown --sample-self-cond '%s' (previous, same, none)", arg), -1;
        break;
    case CLI_O_UPDATE:
        if (strcmp(arg, "mean") == 0) s->update = SDD_UPDATE_MEAN;
        else if (strcmp(arg, "draw") == 0) s->update = SDD_UPDATE_DRAW;
        else return cli_usage_error(ctx, "unknown --bit-update '%s' (mean, draw)", arg), -1;
        break;
    case CLI_O_LCOUNTS:
        if (lc->n) return cli_usage_error(ctx, "--label-counts given twice"), -1;
        if (parse_label_counts(ctx, arg, lc)) return -1;
        s->count_labels = (const char *const *)lc->names;
        s->label_counts = lc->counts;
        s->n_label_counts = lc->n;
        break;
    case CLI_O_COUNTS: *counts = 1; break;
    case CLI_O_NOEMA: s->use_ema = 0; break;
    case CLI_O_THRESHOLD: s->threshold = 1; break;
    case CLI_O_SPRECISION:
        if ((s->precision = sdd_precision_parse(arg)) < 0)
            return cli_usage_error(ctx, "unknown --sample-precision '%s' (auto, int8, fp32, bf16)", arg), -1;
        break;
    default: return 1;
    }
    return 0;
}

#define SO(key, kind, field) SDD_JF(key, kind, sdd_sample_opt_t, field)
/* The sampling settings both the output's uns['sddcell'] and simulate's recipe record. */
static const sdd_json_field_t sampler_fields[] = {
    SO("td", DBL, td), SO("guidance", DBL, guidance), SO("seed", U64, seed), SO("threshold_baseline", INT, threshold)};
#undef SO

void cli_sampler_json(struct cJSON *o, const sdd_sample_opt_t *s)
{
    cJSON_AddStringToObject(o, "sampler", s->sampler == SDD_SAMPLER_DDPM      ? "ddpm"
                                          : s->sampler == SDD_SAMPLER_RENOISE ? "renoise"
                                                                              : "ddim");
    cJSON_AddStringToObject(o, "bit_decode", s->bit_decode == SDD_BITS_THRESHOLD ? "threshold" : "bernoulli");
    cJSON_AddStringToObject(o, "bit_update", s->update == SDD_UPDATE_DRAW ? "draw" : "mean");
    sdd_json_add_fields(o, s, sampler_fields, sizeof sampler_fields / sizeof *sampler_fields);
}

cJSON *cli_sample_uns(const char *model_path, const sdd_model_t *m, const sdd_sample_opt_t *s, const cli_ctx_t *ctx)
{
    char digest[24];
    cJSON *uns = cJSON_CreateObject(), *o = uns ? cJSON_AddObjectToObject(uns, "sddcell") : NULL;
    if (!o) {
        cJSON_Delete(uns);
        return NULL;
    }
    cJSON_AddStringToObject(o, "version", SDD_VERSION);
    cJSON_AddStringToObject(o, "model", model_path ? model_path : "");
    snprintf(digest, sizeof digest, "%016llx", (unsigned long long)sdd_model_digest(m));
    cJSON_AddStringToObject(o, "model_digest", digest);
    cli_sampler_json(o, s);
    cJSON_AddNumberToObject(o, "steps", (double)s->steps);
    cJSON_AddNumberToObject(o, "eta", s->eta);
    cJSON_AddStringToObject(o, "self_cond", s->self_cond == SDD_SC_SAME ? "same" : s->self_cond == SDD_SC_NONE ? "none" : "previous");
    cJSON_AddNumberToObject(o, "ema", s->use_ema);
    cJSON_AddStringToObject(o, "products", sdd_precision_name(sdd_sample_products(m, s->precision)));
    cJSON_AddNumberToObject(o, "n_cells", (double)s->n_cells);
    if (s->label) cJSON_AddStringToObject(o, "label", s->label);
    if (s->n_label_counts > 0) { /* as given: LABEL=N,... (label names may hold '/') */
        size_t len = 1;
        char *lc;
        for (int i = 0; i < s->n_label_counts; i++) len += strlen(s->count_labels[i]) + 24;
        if ((lc = malloc(len))) {
            size_t at = 0;
            for (int i = 0; i < s->n_label_counts; i++)
                at += (size_t)snprintf(lc + at, len - at, "%s%s=%lld", i ? "," : "", s->count_labels[i],
                                       (long long)s->label_counts[i]);
            cJSON_AddStringToObject(o, "label_counts", lc);
            free(lc);
        }
    }
    return uns;
}

int cli_sample_write(cli_ctx_t *ctx, const char *out, const sdd_model_t *m, const sdd_dataset_t *ds,
                     const cJSON *uns, int counts, uint64_t seed, sdd_csr_t *keep)
{
    sdd_csr_t cnt = {0};
    int rc;
    if (counts && (rc = sdd_sample_counts(m, &ds->X, seed, &cnt)) < 0) return cli_lib_error(ctx, rc);
    rc = sdd_sample_write_h5ad(out, ds, uns, counts ? &cnt : NULL);
    if (keep && rc >= 0) *keep = cnt;
    else sdd_csr_free(&cnt);
    return rc < 0 ? cli_lib_error(ctx, rc) : CLI_OK;
}

void cli_kept_free(cli_kept_t *k)
{
    sdd_csr_free(&k->X);
    sdd_csr_free(&k->counts);
    free(k->labels);
    memset(k, 0, sizeof *k);
}

/* Rows of ds (and cnt) at positions keep[*at..] below first + ds->n_cells, appended to kept. */
static int keep_rows(const sdd_dataset_t *ds, const sdd_csr_t *cnt, int64_t first, const int64_t *keep,
                     int64_t n_keep, int64_t *at, cli_kept_t *kept)
{
    int64_t a = *at, nk = 0, *loc;
    sdd_csr_t sub = {0};
    const int32_t *codes = ds->n_obs > 1 ? ds->obs[1].codes : NULL;
    int rc = SDD_OK;
    while (a + nk < n_keep && keep[a + nk] < first + ds->n_cells) nk++;
    if (!(loc = malloc((size_t)(nk > 0 ? nk : 1) * sizeof *loc))) return SDD_ENOMEM;
    for (int64_t j = 0; j < nk; j++) loc[j] = keep[a + j] - first;
    if (codes) {
        int32_t *l = realloc(kept->labels, (size_t)(a + nk > 0 ? a + nk : 1) * sizeof *l);
        if (!l) rc = SDD_ENOMEM;
        else {
            kept->labels = l;
            for (int64_t j = 0; j < nk; j++) l[a + j] = codes[loc[j]];
        }
    }
    if (rc >= 0 && (rc = sdd_csr_select_rows(&ds->X, loc, nk, &sub)) >= 0) {
        rc = sdd_csr_append_rows(&kept->X, &sub);
        sdd_csr_free(&sub);
    }
    if (rc >= 0 && cnt && (rc = sdd_csr_select_rows(cnt, loc, nk, &sub)) >= 0) {
        rc = sdd_csr_append_rows(&kept->counts, &sub);
        sdd_csr_free(&sub);
    }
    free(loc);
    *at = a + nk;
    return rc;
}

int cli_sample_to_file(cli_ctx_t *ctx, const char *out, const sdd_model_t *m, const sdd_sample_opt_t *so,
                       const cJSON *uns, int counts, int64_t piece, const int64_t *keep, int64_t n_keep,
                       cli_kept_t *kept)
{
    int64_t n = so->n_cells, np = piece > 0 ? (n + piece - 1) / piece : 1, at = 0, *all = NULL;
    char **parts = NULL;
    int rc = CLI_FAIL, lrc = SDD_OK;
    if (kept) memset(kept, 0, sizeof *kept);
    if (so->first > 0 || so->count > 0 || so->threshold || np <= 2) { /* one pass */
        sdd_dataset_t *ds = NULL;
        sdd_csr_t cnt = {0};
        if ((lrc = sdd_sample(m, so, cli_progress, ctx, &ds)) < 0) return cli_lib_error(ctx, lrc);
        rc = cli_sample_write(ctx, out, m, ds, uns, counts, so->seed, kept ? &cnt : NULL);
        if (rc == CLI_OK && kept && !keep) { /* every cell: handed over, not copied */
            const int32_t *codes = ds->n_obs > 1 ? ds->obs[1].codes : NULL;
            kept->X = ds->X, memset(&ds->X, 0, sizeof ds->X);
            kept->counts = cnt, memset(&cnt, 0, sizeof cnt);
            if (codes && !(kept->labels = malloc((size_t)kept->X.n_rows * sizeof *kept->labels))) lrc = SDD_ENOMEM;
            else if (codes) memcpy(kept->labels, codes, (size_t)kept->X.n_rows * sizeof *kept->labels);
        } else if (rc == CLI_OK && kept)
            lrc = keep_rows(ds, counts ? &cnt : NULL, 0, keep, n_keep, &at, kept);
        sdd_csr_free(&cnt);
        sdd_dataset_destroy(ds);
        if (lrc < 0) {
            unlink(out);
            cli_kept_free(kept);
            return cli_lib_error(ctx, lrc);
        }
        return rc;
    }
    if (kept && !keep) { /* every position */
        if (!(all = malloc((size_t)n * sizeof *all))) return cli_error(ctx, "out of memory");
        for (int64_t i = 0; i < n; i++) all[i] = i;
        keep = all, n_keep = n;
    }
    if (!(parts = calloc((size_t)np, sizeof *parts))) {
        free(all);
        return cli_error(ctx, "out of memory");
    }
    for (int64_t p = 0; p < np; p++) {
        sdd_sample_opt_t o = *so;
        sdd_dataset_t *ds = NULL;
        sdd_csr_t cnt = {0};
        size_t len = strlen(out) + 24;
        o.first = p * piece;
        o.count = n - o.first < piece ? n - o.first : piece;
        if (!(parts[p] = malloc(len))) {
            rc = cli_error(ctx, "out of memory");
            goto done;
        }
        snprintf(parts[p], len, "%s.part%04lld.tmp", out, (long long)p + 1);
        if ((lrc = sdd_sample(m, &o, cli_progress, ctx, &ds)) < 0) {
            rc = cli_lib_error(ctx, lrc);
            goto done;
        }
        rc = cli_sample_write(ctx, parts[p], m, ds, uns, counts, so->seed, kept ? &cnt : NULL);
        if (rc == CLI_OK && kept && (lrc = keep_rows(ds, counts ? &cnt : NULL, o.first, keep, n_keep, &at, kept)) < 0)
            rc = cli_lib_error(ctx, lrc);
        sdd_csr_free(&cnt);
        sdd_dataset_destroy(ds);
        if (rc != CLI_OK) goto done;
        if (!ctx->quiet)
            fprintf(stderr, "[M::sample] cells %lld-%lld of %lld written (part %lld of %lld)\n", (long long)o.first + 1,
                    (long long)(o.first + o.count), (long long)n, (long long)p + 1, (long long)np);
    }
    if ((lrc = sdd_h5ad_concat(out, (const char *const *)parts, (int)np)) < 0) rc = cli_lib_error(ctx, lrc);
done:
    for (int64_t p = 0; p < np; p++)
        if (parts[p]) {
            unlink(parts[p]);
            free(parts[p]);
        }
    free(parts);
    free(all);
    if (rc != CLI_OK && kept) cli_kept_free(kept);
    return rc;
}

/* --shard I/K: two integers, 1 <= I <= K. */
static int parse_shard(const cli_ctx_t *ctx, const char *arg, int64_t *i, int64_t *k)
{
    const char *slash = strchr(arg, '/');
    char num[32];
    size_t len = slash ? (size_t)(slash - arg) : 0;
    if (!slash || len == 0 || len >= sizeof num) {
        cli_usage_error(ctx, "--shard takes I/K (shard I of K, from 1), not '%s'", arg);
        return -1;
    }
    memcpy(num, arg, len);
    num[len] = 0;
    if (cli_opt_int(ctx, "--shard (K)", slash + 1, 1, max_cells(), k)) return -1;
    if (cli_opt_int(ctx, "--shard (I)", num, 1, *k, i)) return -1;
    return 0;
}

int cli_sample_main(int argc, char **argv, cli_ctx_t *ctx)
{
    static struct option longopts[CLI_MAX_LONGOPTS];
    static const struct option own[] = {
        {"output", required_argument, NULL, 'o'}, {"label", required_argument, NULL, 'L'},
        {"shard", required_argument, NULL, 'S'}, {"piece-cells", required_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    sdd_sample_opt_t so;
    int64_t shard_i = 0, shard_k = 0, piece = CLI_SAMPLE_PIECE;
    const char *shard = NULL;
    cli_label_counts_t lc = {0};
    sdd_model_t *m = NULL;
    cJSON *uns = NULL;
    const char *out = NULL;
    int c, rc, n = 0, counts = 0;
    double t0;

    cli_add_longopts(longopts, &n, own);
    cli_sample_longopts(longopts, &n);
    sdd_sample_opt_init(&so);
    so.n_cells = 0; /* -n is required */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:n:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': cli_label_counts_free(&lc); return cli_print_usage(ctx, stdout);
        case ':': cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]); goto fail;
        case '?': cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]); goto fail;
        case 'o': out = optarg; break;
        case 'L': so.label = optarg; break;
        case 'S': shard = optarg; break;
        case 'W':
            if (cli_opt_int(ctx, "--piece-cells", optarg, 1, max_cells(), &piece)) goto fail;
            break;
        case 'n': c = cli_num_code(SDD_OPTS_SAMPLE, "cells"); /* -n is --cells */ /* fall through */
        default:
            if ((rc = cli_sample_option(ctx, c, optarg, &so, &lc, &counts)) < 0) goto fail;
            if (rc > 0) {
                cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
                goto fail;
            }
        }
    }
    if (argc - optind != 1) {
        cli_usage_error(ctx, "expected one MODEL.sdd, got %d arguments", argc - optind);
        goto fail;
    }
    if (!out || so.n_cells == 0) {
        cli_usage_error(ctx, "%s is required", out ? "-n N" : "-o OUT.h5ad");
        goto fail;
    }
    if (shard) {
        if (parse_shard(ctx, shard, &shard_i, &shard_k)) goto fail;
        if (sdd_sample_shard(so.n_cells, shard_i, shard_k, &so.first, &so.count) < 0) {
            cli_usage_error(ctx, "--shard %s: I/K needs 1 <= I <= K <= N (%lld cells)", shard, (long long)so.n_cells);
            goto fail;
        }
    }
    so.seed = ctx->seed;
    if ((rc = sdd_sample_opt_check(&so)) < 0) goto lib_fail;
    if ((rc = sdd_model_load(argv[optind], &m)) < 0) goto lib_fail;
    if (!(uns = cli_sample_uns(argv[optind], m, &so, ctx))) {
        cli_error(ctx, "out of memory");
        goto fail;
    }
    if (shard_k > 0) {
        char sh[48];
        snprintf(sh, sizeof sh, "%lld/%lld", (long long)shard_i, (long long)shard_k);
        cJSON_AddStringToObject(cJSON_GetObjectItem(uns, "sddcell"), "shard", sh);
    }
    t0 = sdd_realtime();
    rc = cli_sample_to_file(ctx, out, m, &so, uns, counts, piece, NULL, 0, NULL);
    t0 = sdd_realtime() - t0;
    if (rc == CLI_OK && !ctx->quiet) {
        int64_t made = so.count > 0 ? so.count : so.n_cells - so.first;
        fprintf(stderr, "[M::sample] %lld cells, %lld steps, %s products in %.3f s: %.1f cells/s\n", (long long)made,
                (long long)so.steps, sdd_precision_name(sdd_sample_products(m, so.precision)), t0,
                (double)made / (t0 > 0 ? t0 : 1e-9));
    }
    cJSON_Delete(uns);
    sdd_model_destroy(m);
    cli_label_counts_free(&lc);
    return rc;
lib_fail:
    rc = cli_lib_error(ctx, rc);
    sdd_model_destroy(m);
    cli_label_counts_free(&lc);
    return rc;
fail:
    sdd_model_destroy(m);
    cli_label_counts_free(&lc);
    return CLI_FAIL;
}
