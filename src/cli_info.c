/*
 * cli_info.c: `sddcell info FILE` describes a file. Each kind of file sddcell knows
 * has one describer in the table below, tried in order: a describer that recognises
 * the file (by magic bytes or by structure) prints it; count matrices (h5ad, 10x h5,
 * 10x MTX) come last because their reader reports why a file is not readable.
 *
 * For a count matrix: format and generation, cells, genes, stored entries (nnz as
 * anndata counts it: stored entries of a sparse matrix, non-zero values of a dense
 * one), sum of X in double, fraction of zeros = 1 - (non-zero values) / (cells x genes),
 * on-disk data type and storage, and obs columns with their kinds. X is streamed in
 * row chunks, so memory stays at one chunk plus the names whatever the file size.
 */
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int json;
    sdd_read_opt_t read;
} info_opt_t;

/* What a pass over X finds. */
typedef struct {
    int64_t nnz;      /* stored entries (sparse) or non-zero values (dense) */
    int64_t nonzero;  /* values != 0 (NaN counts as non-zero, as numpy does) */
    double sum;
} x_stats_t;

static const char *col_kind(int kind)
{
    switch (kind) {
    case SDD_COL_STRING: return "string";
    case SDD_COL_CATEGORICAL: return "categorical";
    case SDD_COL_NUMERIC: return "numeric";
    case SDD_COL_BOOL: return "bool";
    default: return "other";
    }
}

static int scan_x(sdd_xreader_t *r, x_stats_t *st)
{
    sdd_csr_t c;
    int64_t got;
    memset(st, 0, sizeof *st);
    while ((got = sdd_xreader_next(r, INT64_MAX, &c)) > 0) {
        double s = 0;
        int64_t nz = 0;
        for (int64_t k = 0; k < c.nnz; k++) {
            s += c.data[k];
            nz += c.data[k] != 0;
        }
        st->sum += s;
        st->nonzero += nz;
        st->nnz += c.nnz;
        sdd_csr_free(&c);
        if (cli_interrupted()) return SDD_EINTR;
    }
    return got < 0 ? (int)got : SDD_OK;
}

static double zero_fraction(const sdd_dataset_t *ds, const x_stats_t *st)
{
    double cells = (double)ds->n_cells * (double)ds->n_genes;
    return cells > 0 ? 1.0 - (double)st->nonzero / cells : 0.0;
}

static const char *matrix_name(const sdd_read_opt_t *o)
{
    static char buf[300];
    if (o->layer) snprintf(buf, sizeof buf, "layers/%s", o->layer);
    else snprintf(buf, sizeof buf, "%s", o->raw ? "raw/X" : "X");
    return buf;
}

static void print_text(const char *path, const info_opt_t *o, const sdd_dataset_t *ds, const x_stats_t *st)
{
    printf("file\t%s\n", path);
    printf("format\t%s (%s)\n", ds->format, ds->generation);
    printf("cells\t%lld\n", (long long)ds->n_cells);
    printf("genes\t%lld\n", (long long)ds->n_genes);
    printf("matrix\t%s: %s, %s\n", strcmp(ds->format, "h5ad") == 0 ? matrix_name(&o->read) : "counts",
           ds->x_storage, ds->dtype);
    printf("nnz\t%lld\n", (long long)st->nnz);
    printf("sum\t%.17g\n", st->sum);
    printf("zero_fraction\t%.6f\n", zero_fraction(ds, st));
    printf("gene_ids\t%s\n", ds->gene_ids ? "yes" : "no");
    printf("obs_columns\t%d\n", ds->n_obs);
    for (int i = 0; i < ds->n_obs; i++) {
        const sdd_column_t *c = &ds->obs[i];
        if (c->kind == SDD_COL_CATEGORICAL)
            printf("  %s\tcategorical, %d categories%s\n", c->name, c->n_categories, c->ordered ? ", ordered" : "");
        else
            printf("  %s\t%s\n", c->name, col_kind(c->kind));
    }
}

static int print_json(const char *path, const info_opt_t *o, const sdd_dataset_t *ds, const x_stats_t *st)
{
    cJSON *j = cJSON_CreateObject(), *cols;
    char *txt;
    if (!j) return SDD_ENOMEM;
    cJSON_AddStringToObject(j, "file", path);
    cJSON_AddStringToObject(j, "format", ds->format);
    cJSON_AddStringToObject(j, "generation", ds->generation);
    cJSON_AddStringToObject(j, "matrix", strcmp(ds->format, "h5ad") == 0 ? matrix_name(&o->read) : "counts");
    cJSON_AddNumberToObject(j, "n_cells", (double)ds->n_cells);
    cJSON_AddNumberToObject(j, "n_genes", (double)ds->n_genes);
    cJSON_AddNumberToObject(j, "nnz", (double)st->nnz);
    cJSON_AddNumberToObject(j, "nonzero_values", (double)st->nonzero);
    /* cJSON writes NaN as null: a sum over NaN values (cellxgene/nan.h5ad) reads back as null */
    cJSON_AddNumberToObject(j, "sum", st->sum);
    cJSON_AddNumberToObject(j, "zero_fraction", zero_fraction(ds, st));
    cJSON_AddStringToObject(j, "dtype", ds->dtype);
    cJSON_AddStringToObject(j, "x_storage", ds->x_storage);
    cJSON_AddBoolToObject(j, "gene_ids", ds->gene_ids != NULL);
    cols = cJSON_AddArrayToObject(j, "obs_columns");
    for (int i = 0; cols && i < ds->n_obs; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", ds->obs[i].name);
        cJSON_AddStringToObject(c, "kind", col_kind(ds->obs[i].kind));
        if (ds->obs[i].kind == SDD_COL_CATEGORICAL) cJSON_AddNumberToObject(c, "n_categories", ds->obs[i].n_categories);
        else cJSON_AddNullToObject(c, "n_categories");
        cJSON_AddItemToArray(cols, c);
    }
    txt = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!txt) return SDD_ENOMEM;
    printf("%s\n", txt);
    cJSON_free(txt);
    return SDD_OK;
}

/* Describer of count matrices: every format sdd_xreader_open reads. */
static int describe_matrix(const char *path, const info_opt_t *o, cli_ctx_t *ctx)
{
    sdd_xreader_t *r = NULL;
    sdd_dataset_t *ds = NULL;
    x_stats_t st;
    int rc = sdd_xreader_open(path, &o->read, &r, &ds);
    if (rc == 0) {
        sdd_xreader_set_threads(r, ctx->threads);
        rc = scan_x(r, &st);
    }
    if (rc == 0) rc = o->json ? print_json(path, o, ds, &st) : (print_text(path, o, ds, &st), 0);
    sdd_xreader_close(r);
    sdd_dataset_destroy(ds);
    return rc < 0 ? cli_lib_error(ctx, rc) : CLI_OK;
}

/* The describers, most specific first. `probe` returns 1 if the file is of its kind
 * (NULL = accepts anything, for the last entry). */
typedef struct {
    const char *kind;
    int (*probe)(const char *path);
    int (*describe)(const char *path, const info_opt_t *o, cli_ctx_t *ctx);
} describer_t;

static const describer_t describers[] = {
    {"count matrix", NULL, describe_matrix},
};

int cli_info_main(int argc, char **argv, cli_ctx_t *ctx)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},        {"layer", required_argument, NULL, 'l'},
        {"raw", no_argument, NULL, 'r'},         {"genome", required_argument, NULL, 'g'},
        {"feature-type", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    info_opt_t o;
    int c;
#ifdef M_MMAP_THRESHOLD
    /* chunk buffers (tens of MB) come and go once per chunk: keep them in the heap
     * instead of fresh mmaps whose first touch costs a page fault per 4 KiB */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    memset(&o, 0, sizeof o);
    sdd_read_opt_init(&o.read);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': o.json = 1; break;
        case 'l': o.read.layer = optarg; break;
        case 'r': o.read.raw = 1; break;
        case 'g': o.read.genome = optarg; break;
        case 't': o.read.feature_type = optarg; break;
        case 'h': return cli_print_usage(ctx, stdout);
        case ':': return cli_usage_error(ctx, "option %s needs a value", argv[optind - 1]);
        default: return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (o.read.layer && o.read.raw) return cli_usage_error(ctx, "--layer and --raw exclude each other");
    if (argc - optind != 1)
        return cli_usage_error(ctx, argc - optind < 1 ? "missing FILE" : "expected one FILE, got %d", argc - optind);
    for (size_t i = 0; i < sizeof describers / sizeof *describers; i++)
        if (!describers[i].probe || describers[i].probe(argv[optind]))
            return describers[i].describe(argv[optind], &o, ctx);
    return cli_error(ctx, "%s: not a file sddcell can describe", argv[optind]);
}
