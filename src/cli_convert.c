/*
 * cli_convert.c: `sddcell convert IN OUT.h5ad`. Reads any input the readers know (h5ad
 * of every anndata generation, 10x HDF5, 10x MTX directory) and writes it back as a
 * clean .h5ad for anndata >= 0.8: X as csr_matrix float32 without stored zeros, obs
 * names, var names (gene ids as var column `gene_ids` when the input has them) and the
 * obs columns. uns records where the file came from. The writer builds the output under
 * a temporary name, so a failed conversion leaves no OUT behind.
 */
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* uns["sddcell"]: version, command line and the input's format, for provenance. */
static cJSON *provenance(const cli_ctx_t *ctx, const char *in, const sdd_dataset_t *ds)
{
    cJSON *s, *uns = cli_provenance(ctx, &s);
    if (!uns) return NULL;
    cJSON_AddStringToObject(s, "input", in);
    cJSON_AddStringToObject(s, "input_format", ds->format);
    cJSON_AddStringToObject(s, "input_generation", ds->generation);
    cJSON_AddStringToObject(s, "input_dtype", ds->dtype);
    return uns;
}

int cli_convert_main(int argc, char **argv, cli_ctx_t *ctx)
{
    static const struct option longopts[] = {
        {"layer", required_argument, NULL, 'l'}, {"raw", no_argument, NULL, 'r'},
        {"genome", required_argument, NULL, 'g'}, {"feature-type", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    sdd_read_opt_t opt;
    sdd_dataset_t *ds = NULL;
    cJSON *uns = NULL;
    int c, rc;

    sdd_read_opt_init(&opt);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': opt.layer = optarg; break;
        case 'r': opt.raw = 1; break;
        case 'g': opt.genome = optarg; break;
        case 't': opt.feature_type = optarg; break;
        case 'h': return cli_print_usage(ctx, stdout);
        case ':': return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(ctx, "expected an input and an output file, got %d argument%s",
                               argc - optind, argc - optind == 1 ? "" : "s");
    if (opt.layer && opt.raw) return cli_usage_error(ctx, "--layer and --raw exclude each other");

    if ((rc = sdd_dataset_read(argv[optind], &opt, &ds)) < 0) return cli_lib_error(ctx, rc);
    if (!(uns = provenance(ctx, argv[optind], ds))) {
        sdd_dataset_destroy(ds);
        return cli_error(ctx, "out of memory");
    }
    rc = sdd_h5ad_write(argv[optind + 1], ds, uns);
    if (rc == 0)
        sdd_log(SDD_LOG_INFO, "convert", "%s: %lld cells x %lld genes, %s %s -> %s",
                argv[optind], (long long)ds->n_cells, (long long)ds->n_genes, ds->format,
                ds->generation, argv[optind + 1]);
    cJSON_Delete(uns);
    sdd_dataset_destroy(ds);
    return rc < 0 ? cli_lib_error(ctx, rc) : CLI_OK;
}
