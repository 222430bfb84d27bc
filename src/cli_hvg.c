/*
 * cli_hvg.c: `sddcell hvg FILE`: QC, normalize_total, log1p and highly variable genes as
 * scanpy computes them (doc/method.md §2), streamed over FILE in row chunks. Writes a TSV
 * with one row per gene of the input (scanpy's var columns; genes removed by QC have
 * 'nan' statistics and are never selected) to -o FILE or stdout, and with --h5ad the input
 * written back with those var columns and uns['hvg'] = {'flavor': ...}. Every output goes
 * through a temporary name and a rename, so a failure leaves none behind. --threads
 * decodes X's compressed chunks in parallel.
 */
#include "cli.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_num(FILE *fp, double v)
{
    if (isnan(v))
        fputs("\tnan", fp);
    else
        fprintf(fp, "\t%.10g", v);
}

static int write_tsv(FILE *fp, const sdd_hvg_t *h, const sdd_dataset_t *md)
{
    int v3 = h->flavor == SDD_HVG_SEURAT_V3;
    fprintf(fp, "gene\tgene_id\tmeans\t%s\thighly_variable\n",
            v3 ? "variances\tvariances_norm\thighly_variable_rank"
               : "dispersions\tdispersions_norm");
    for (int64_t j = 0; j < h->n_genes; j++) {
        fprintf(fp, "%s\t%s", md->gene_names ? md->gene_names[j] : "",
                md->gene_ids && md->gene_ids[j] ? md->gene_ids[j] : "");
        put_num(fp, h->means[j]);
        if (v3) {
            put_num(fp, h->variances[j]);
            put_num(fp, h->variances_norm[j]);
            put_num(fp, h->rank[j]);
        } else {
            put_num(fp, h->dispersions[j]);
            put_num(fp, h->dispersions_norm[j]);
        }
        fputs(h->highly_variable[j] ? "\tTrue\n" : "\tFalse\n", fp);
    }
    return ferror(fp) ? -1 : 0;
}

/* Write the table to `path` via a temporary file in the same directory. */
static int write_tsv_file(const cli_ctx_t *ctx, const char *path, const sdd_hvg_t *h,
                          const sdd_dataset_t *md)
{
    char *tmp = sdd_tmp_path(path);
    FILE *fp;
    int bad;
    if (!tmp) return cli_error(ctx, "out of memory");
    sdd_tmp_track(tmp);
    if (!(fp = fopen(tmp, "w"))) {
        cli_error(ctx, "%s: cannot write: %s", tmp, strerror(errno));
        sdd_tmp_untrack(tmp);
        free(tmp);
        return CLI_FAIL;
    }
    bad = write_tsv(fp, h, md) < 0;
    bad |= fclose(fp) != 0;
    if (bad || sdd_tmp_commit(tmp, path) != 0) {
        cli_error(ctx, "%s: write failed: %s", path, strerror(errno));
        unlink(tmp);
        sdd_tmp_untrack(tmp);
        free(tmp);
        return CLI_FAIL;
    }
    sdd_tmp_untrack(tmp);
    free(tmp);
    return CLI_OK;
}

/* Replace or append var column `name` of ds (numeric or bool) with v[n_genes]. */
static int set_var(sdd_dataset_t *ds, const char *name, int kind, const double *v)
{
    int i = sdd_column_find(ds->var, ds->n_var, name);
    sdd_column_t *c;
    if (i < 0) {
        sdd_column_t *nv = realloc(ds->var, (size_t)(ds->n_var + 1) * sizeof *nv);
        if (!nv) return -1;
        ds->var = nv;
        i = ds->n_var++;
        memset(&ds->var[i], 0, sizeof ds->var[i]);
    } else {
        sdd_column_free(&ds->var[i]);
    }
    c = &ds->var[i];
    c->kind = kind;
    c->n = ds->n_genes;
    if (!(c->name = strdup(name)) ||
        !(c->numeric = malloc((size_t)ds->n_genes * sizeof(double) + 1)))
        return -1;
    memcpy(c->numeric, v, (size_t)ds->n_genes * sizeof(double));
    return 0;
}

static int write_h5ad(const cli_ctx_t *ctx, const char *in, const char *out,
                      const sdd_read_opt_t *ro, const sdd_hvg_t *h)
{
    sdd_dataset_t *ds = NULL;
    cJSON *uns = NULL, *hvg;
    double *hv = malloc((size_t)h->n_genes * sizeof *hv + 1);
    int rc, v3 = h->flavor == SDD_HVG_SEURAT_V3, bad = 0;
    if (!hv) return cli_error(ctx, "out of memory");
    if ((rc = sdd_dataset_read(in, ro, &ds)) < 0) {
        free(hv);
        return cli_lib_error(ctx, rc);
    }
    for (int64_t j = 0; j < h->n_genes; j++) hv[j] = h->highly_variable[j];
    bad |= set_var(ds, "highly_variable", SDD_COL_BOOL, hv);
    bad |= set_var(ds, "means", SDD_COL_NUMERIC, h->means);
    if (v3) {
        bad |= set_var(ds, "variances", SDD_COL_NUMERIC, h->variances);
        bad |= set_var(ds, "variances_norm", SDD_COL_NUMERIC, h->variances_norm);
        bad |= set_var(ds, "highly_variable_rank", SDD_COL_NUMERIC, h->rank);
    } else {
        bad |= set_var(ds, "dispersions", SDD_COL_NUMERIC, h->dispersions);
        bad |= set_var(ds, "dispersions_norm", SDD_COL_NUMERIC, h->dispersions_norm);
    }
    if (!bad && (uns = cJSON_CreateObject()) && (hvg = cJSON_AddObjectToObject(uns, "hvg")))
        bad = !cJSON_AddStringToObject(hvg, "flavor", sdd_hvg_flavor_name(h->flavor));
    else
        bad = 1;
    rc = bad ? SDD_ENOMEM : sdd_h5ad_write(out, ds, uns);
    cJSON_Delete(uns);
    sdd_dataset_destroy(ds);
    free(hv);
    if (rc == SDD_ENOMEM && bad) return cli_error(ctx, "out of memory");
    return rc < 0 ? cli_lib_error(ctx, rc) : CLI_OK;
}

int cli_hvg_main(int argc, char **argv, cli_ctx_t *ctx)
{
    static struct option longopts[CLI_MAX_LONGOPTS];
    static const struct option own[] = {{"output", required_argument, NULL, 'o'},
                                        {"h5ad", required_argument, NULL, 'H'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
    sdd_prep_opt_t opt;
    sdd_hvg_t *h = NULL;
    sdd_dataset_t *md = NULL;
    const char *out = NULL, *h5out = NULL;
    int c, rc, n = 0;

    cli_add_longopts(longopts, &n, own);
    cli_prep_longopts(longopts, &n, 0);
    sdd_prep_opt_init(&opt);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hn:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'H': h5out = optarg; break;
        case 'h': return cli_print_usage(ctx, stdout);
        case ':': return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        case '?': return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        case 'n': c = cli_num_code(SDD_OPTS_PREP, "n-top-genes"); /* -n is --n-top-genes */ /* fall through */
        default:
            if ((rc = cli_prep_option(ctx, c, optarg, &opt)) < 0) return CLI_FAIL;
            if (rc > 0) return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error(ctx, "expected one input file, got %d arguments", argc - optind);
    if (opt.read.layer && opt.read.raw)
        return cli_usage_error(ctx, "--layer and --raw exclude each other");
    opt.read.skip_obs = 1;
    opt.threads = ctx->threads;
    opt.progress = cli_progress;
    opt.progress_user = ctx;
    if ((rc = sdd_hvg_file(argv[optind], &opt, &h, &md)) < 0) return cli_lib_error(ctx, rc);
    if (out)
        rc = write_tsv_file(ctx, out, h, md);
    else
        rc = (write_tsv(stdout, h, md) < 0 || fflush(stdout) != 0)
                 ? cli_error(ctx, "cannot write to stdout")
                 : CLI_OK;
    if (rc == CLI_OK && h5out) {
        opt.read.skip_obs = 0;
        rc = write_h5ad(ctx, argv[optind], h5out, &opt.read, h);
        if (rc != CLI_OK && out) unlink(out); /* no partial set of outputs */
    }
    sdd_hvg_destroy(h);
    sdd_dataset_destroy(md);
    return rc;
}
