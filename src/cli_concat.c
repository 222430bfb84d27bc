/*
 * cli_concat.c: `sddcell concat OUT.h5ad PART...`: join .h5ad files with the same genes
 * into one, cells in the order given (sdd_h5ad_concat), e.g. the shards 1..K written by
 * `sample --shard I/K`, which join into the file one `sample` run writes.
 */
#include "cli.h"
#include <getopt.h>

int cli_concat_main(int argc, char **argv, cli_ctx_t *ctx)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c, rc, n;
    double t0;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': return cli_print_usage(ctx, stdout);
        case ':': return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        }
    }
    n = argc - optind - 1;
    if (n < 1) return cli_usage_error(ctx, "expected OUT.h5ad and at least one PART.h5ad");
    t0 = sdd_realtime();
    if ((rc = sdd_h5ad_concat(argv[optind], (const char *const *)argv + optind + 1, n)) < 0)
        return cli_lib_error(ctx, rc);
    sdd_log(SDD_LOG_INFO, "concat", "%d part%s -> %s in %.2f s", n, n == 1 ? "" : "s", argv[optind],
            sdd_realtime() - t0);
    return CLI_OK;
}
