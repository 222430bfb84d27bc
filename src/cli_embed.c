/*
 * cli_embed.c: `sddcell embed REAL SYNTH -o OUT.h5ad`. Loads both sides into SYNTH's
 * gene space (sdd_pair_load), builds the joint PCA, neighbour graph and optional UMAP
 * (sdd_embed_run), and writes the scanpy-ready .h5ad, and on request a TSV and a plot.
 */
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static cJSON *provenance(const cli_ctx_t *ctx, const char *real, const char *synth)
{
    cJSON *s, *uns = cli_provenance(ctx, &s);
    if (!uns) return NULL;
    cJSON_AddStringToObject(s, "real", real);
    cJSON_AddStringToObject(s, "synth", synth);
    return uns;
}

/* The plot: UMAP when computed, else PC1 / PC2. */
static int plot(const char *path, const sdd_pair_t *p, const sdd_embed_t *e)
{
    int64_t n = e->n, k = e->pca.k;
    float *xy = malloc((size_t)n * 2 * sizeof *xy);
    int32_t *src = malloc((size_t)n * sizeof *src), *lab = NULL;
    int rc = SDD_ENOMEM;
    if (!xy || !src) goto done;
    for (int64_t i = 0; i < n; i++) {
        src[i] = i >= e->n_real;
        xy[2 * i] = e->umap ? e->umap[2 * i] : (float)e->pca.scores[i * k];
        xy[2 * i + 1] = e->umap ? e->umap[2 * i + 1] : (float)e->pca.scores[i * k + 1];
    }
    if (p->real_labels) {
        if (!(lab = malloc((size_t)n * sizeof *lab))) goto done;
        memcpy(lab, p->real_labels, (size_t)e->n_real * sizeof *lab);
        memcpy(lab + e->n_real, p->synth_labels, (size_t)(n - e->n_real) * sizeof *lab);
    }
    rc = sdd_plot_write(path, xy, n, src, lab, p->label_names, p->n_labels, e->umap ? "UMAP" : "PC");
done:
    free(xy);
    free(src);
    free(lab);
    return rc;
}

int cli_embed_main(int argc, char **argv, cli_ctx_t *ctx)
{
    static struct option longopts[CLI_MAX_LONGOPTS];
    static const struct option own[] = {
        {"output", required_argument, NULL, 'o'}, {"tsv", required_argument, NULL, 'T'},
        {"umap", no_argument, NULL, 'u'}, {"plot", required_argument, NULL, 'p'},
        {"label", required_argument, NULL, 'l'}, {"real-normalized", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    sdd_pair_opt_t po;
    sdd_embed_opt_t eo;
    sdd_pair_t *p = NULL;
    sdd_embed_t *e = NULL;
    const char *out = NULL, *tsv = NULL, *png = NULL;
    cJSON *uns = NULL;
    int c, rc, n = 0;

    cli_add_longopts(longopts, &n, own);
    cli_num_longopts(longopts, &n, SDD_OPTS_EMBED, NULL); /* --n-pcs, --n-neighbors */
    cli_num_longopts(longopts, &n, SDD_OPTS_PAIR, NULL);  /* --target-sum */
    sdd_pair_opt_init(&po);
    sdd_embed_opt_init(&eo);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'T': tsv = optarg; break;
        case 'u': eo.umap = 1; break;
        case 'p': png = optarg; break;
        case 'h': return cli_print_usage(ctx, stdout);
        case ':': return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
        default:
            if ((rc = cli_pair_option(ctx, c, optarg, &po)) > 0) rc = cli_num_option(ctx, c, optarg, SDD_OPTS_EMBED, &eo);
            if (rc < 0) return CLI_FAIL;
            if (rc > 0) return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(ctx, "expected REAL and SYNTH, got %d argument%s", argc - optind,
                               argc - optind == 1 ? "" : "s");
    if (!out) return cli_usage_error(ctx, "-o OUT.h5ad is required");
    if (png) {
        size_t n = strlen(png);
        if (n < 4 || (strcasecmp(png + n - 4, ".png") && strcasecmp(png + n - 4, ".svg")))
            return cli_usage_error(ctx, "--plot %s: the file name must end in .png or .svg", png);
    }
    eo.seed = ctx->seed;
    if ((rc = sdd_pair_load(argv[optind], argv[optind + 1], &po, &p)) < 0) return cli_lib_error(ctx, rc);
    if ((rc = sdd_embed_run(p, &eo, cli_progress, ctx, &e)) < 0) goto done;
    if (!(uns = provenance(ctx, argv[optind], argv[optind + 1]))) {
        rc = sdd_error(SDD_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = sdd_embed_write_h5ad(out, p, e, po.label_key, uns)) < 0) goto done;
    if (tsv && (rc = sdd_embed_write_tsv(tsv, p, e)) < 0) goto done;
    if (png && (rc = plot(png, p, e)) < 0) goto done;
    sdd_log(SDD_LOG_INFO, "embed", "%lld real + %lld synthetic cells x %lld genes, %lld PCs, %d neighbours -> %s",
            (long long)e->n_real, (long long)(e->n - e->n_real), (long long)p->G, (long long)e->pca.k,
            e->n_neighbors, out);
done:
    cJSON_Delete(uns);
    sdd_embed_destroy(e);
    sdd_pair_destroy(p);
    return rc < 0 ? cli_lib_error(ctx, rc) : CLI_OK;
}
