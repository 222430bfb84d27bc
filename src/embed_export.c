/*
 * embed_export.c: the joint embedding written for scanpy / cellxgene (FORMATS.md,
 * "UMAP-ready export") and as a flat table.
 *
 * .h5ad layout (what sc.pp.pca + sc.pp.neighbors leave behind, so sc.tl.umap runs on it
 * directly):
 *   X                    the joint log1p matrix (real cells first)
 *   obs                  index: cell names made unique as anndata's obs_names_make_unique
 *                        (second and later copies get "-1", "-2", ...); columns `source`
 *                        (categorical real / synthetic) and the label column
 *   obsm X_pca           cells x k float32 (and X_umap cells x 2 with --umap)
 *   varm PCs             genes x k float32 loadings
 *   uns pca              {variance, variance_ratio, params {zero_center}}
 *   uns neighbors        {connectivities_key, distances_key, params {n_neighbors,
 *                        method "umap", metric "euclidean", n_pcs}}
 *   obsp distances, connectivities   csr_matrix
 * All of it is written in one pass by sdd_h5ad_write_elems, under a temporary name
 * renamed onto the requested one.
 */
#include "sdd_internal.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
    const char *s;
    int64_t i;
} name_t;

static int cmp_name(const void *a, const void *b)
{
    const name_t *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* All cell names, real then synthetic, unique. Missing names become real_N / syn_N. */
static char **unique_names(const sdd_pair_t *p, int64_t n)
{
    char **v = sdd_calloc((size_t)n + 1, sizeof *v), buf[64];
    name_t *t = sdd_malloc((size_t)n * sizeof *t + 1);
    int64_t nr = p->real.n_rows;
    if (!v || !t) goto fail;
    for (int64_t i = 0; i < n; i++) {
        const char *s = i < nr ? (p->real_cells ? p->real_cells[i] : NULL)
                               : (p->synth_cells ? p->synth_cells[i - nr] : NULL);
        if (!s) snprintf(buf, sizeof buf, i < nr ? "real_%lld" : "syn_%lld", (long long)(i < nr ? i : i - nr));
        if (!(v[i] = sdd_strdup(s ? s : buf))) goto fail;
        t[i].s = v[i], t[i].i = i;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_name);
    for (int64_t a = 0, b; a < n; a = b) {
        for (b = a + 1; b < n && strcmp(t[b].s, t[a].s) == 0; b++) {
            size_t len = strlen(t[a].s) + 24;
            char *u = sdd_malloc(len);
            if (!u) goto fail;
            snprintf(u, len, "%s-%lld", t[a].s, (long long)(b - a));
            free(v[t[b].i]);
            v[t[b].i] = u;
            t[b].s = t[a].s; /* keep comparing against the original name */
        }
    }
    free(t);
    return v;
fail:
    free(t);
    sdd_strv_free(v, n);
    return NULL;
}

/* uns: pca, neighbors, and the caller's extra entries. */
static cJSON *make_uns(const sdd_embed_t *e, const cJSON *extra)
{
    cJSON *u = cJSON_CreateObject(), *pca, *nb, *par, *it;
    if (!u) return NULL;
    pca = cJSON_AddObjectToObject(u, "pca");
    nb = cJSON_AddObjectToObject(u, "neighbors");
    if (!pca || !nb) goto fail;
    cJSON_AddItemToObject(pca, "variance", cJSON_CreateDoubleArray(e->pca.variance, (int)e->pca.k));
    cJSON_AddItemToObject(pca, "variance_ratio", cJSON_CreateDoubleArray(e->pca.variance_ratio, (int)e->pca.k));
    if ((par = cJSON_AddObjectToObject(pca, "params"))) cJSON_AddTrueToObject(par, "zero_center");
    cJSON_AddStringToObject(nb, "connectivities_key", "connectivities");
    cJSON_AddStringToObject(nb, "distances_key", "distances");
    if (!(par = cJSON_AddObjectToObject(nb, "params"))) goto fail;
    cJSON_AddNumberToObject(par, "n_neighbors", e->n_neighbors);
    cJSON_AddStringToObject(par, "method", "umap");
    cJSON_AddStringToObject(par, "metric", "euclidean");
    cJSON_AddNumberToObject(par, "n_pcs", (double)e->pca.k);
    if (extra)
        cJSON_ArrayForEach(it, extra) {
            if (cJSON_GetObjectItemCaseSensitive(u, it->string)) continue;
            cJSON_AddItemToObject(u, it->string, cJSON_Duplicate(it, 1));
        }
    return u;
fail:
    cJSON_Delete(u);
    return NULL;
}

/* obs columns source and (with labels) label_key; codes / categories borrowed or built. */
static int make_obs(const sdd_pair_t *p, const sdd_embed_t *e, const char *label_key, sdd_column_t *obs,
                    int *n_obs)
{
    static char *src_names[] = {"real", "synthetic"};
    int64_t n = e->n, nr = e->n_real;
    memset(obs, 0, 2 * sizeof *obs);
    obs[0].name = "source", obs[0].kind = SDD_COL_CATEGORICAL, obs[0].n = n;
    obs[0].categories = src_names, obs[0].n_categories = 2;
    if (!(obs[0].codes = sdd_malloc((size_t)n * sizeof(int32_t)))) return SDD_ENOMEM;
    for (int64_t i = 0; i < n; i++) obs[0].codes[i] = i >= nr;
    *n_obs = 1;
    if (!p->real_labels || !label_key) return SDD_OK;
    obs[1].name = (char *)label_key, obs[1].kind = SDD_COL_CATEGORICAL, obs[1].n = n;
    obs[1].categories = p->label_names, obs[1].n_categories = p->n_labels;
    if (!(obs[1].codes = sdd_malloc((size_t)n * sizeof(int32_t)))) return SDD_ENOMEM;
    memcpy(obs[1].codes, p->real_labels, (size_t)nr * sizeof(int32_t));
    memcpy(obs[1].codes + nr, p->synth_labels, (size_t)(n - nr) * sizeof(int32_t));
    *n_obs = 2;
    return SDD_OK;
}

static float *to_float(const double *x, int64_t n)
{
    float *f = sdd_malloc((size_t)n * sizeof *f + 1);
    if (f)
        for (int64_t i = 0; i < n; i++) f[i] = (float)x[i];
    return f;
}

/* The loadings transposed: genes x k. */
static float *loadings(const sdd_pca_t *pca)
{
    float *f = sdd_malloc((size_t)(pca->G * pca->k) * sizeof *f + 1);
    if (f)
        for (int64_t g = 0; g < pca->G; g++)
            for (int64_t j = 0; j < pca->k; j++) f[g * pca->k + j] = (float)pca->components[j * pca->G + g];
    return f;
}

int sdd_embed_write_h5ad(const char *path, const sdd_pair_t *pair, const sdd_embed_t *e,
                         const char *label_key, const void *uns_extra)
{
    sdd_dataset_t ds;
    sdd_column_t obs[2];
    sdd_dense_t obsm[2], varm;
    sdd_h5ad_csr_t obsp[2] = {{"distances", &e->distances}, {"connectivities", &e->connectivities}};
    sdd_h5ad_elems_t el = {.obsp = obsp, .n_obsp = 2, .varm = &varm, .n_varm = 1};
    cJSON *uns = NULL;
    float *pcs = NULL;
    int rc = SDD_ENOMEM, n_obs = 0;

    memset(&ds, 0, sizeof ds);
    memset(obs, 0, sizeof obs);
    ds.n_cells = e->n, ds.n_genes = pair->G, ds.X = e->X, ds.gene_names = pair->gene_names;
    obsm[0].name = "X_pca", obsm[0].rows = e->n, obsm[0].cols = e->pca.k;
    obsm[1].name = "X_umap", obsm[1].rows = e->n, obsm[1].cols = 2, obsm[1].data = e->umap;
    ds.obsm = obsm, ds.n_obsm = e->umap ? 2 : 1;
    if (!(ds.cell_names = unique_names(pair, e->n)) ||
        !(obsm[0].data = to_float(e->pca.scores, e->n * e->pca.k)) || !(pcs = loadings(&e->pca)) ||
        !(uns = make_uns(e, uns_extra)) || (rc = make_obs(pair, e, label_key, obs, &n_obs)) < 0)
        goto fail;
    ds.obs = obs, ds.n_obs = n_obs;
    varm.name = "PCs", varm.rows = pair->G, varm.cols = e->pca.k, varm.data = pcs;
    el.uns = uns;
    rc = sdd_h5ad_write_elems(path, &ds, &el);
fail:
    free(obs[0].codes);
    free(obs[1].codes);
    sdd_strv_free(ds.cell_names, e->n);
    free(obsm[0].data);
    free(pcs);
    cJSON_Delete(uns);
    return rc;
}

int sdd_embed_write_tsv(const char *path, const sdd_pair_t *pair, const sdd_embed_t *e)
{
    char **names = unique_names(pair, e->n), *tmp = NULL;
    FILE *f = NULL;
    int ok = 0;
    if (!names || !(tmp = sdd_tmp_path(path))) goto done;
    sdd_tmp_track(tmp);
    if (!(f = fopen(tmp, "w"))) goto done;
    fputs("cell_id\tsource\tlabel", f);
    for (int64_t j = 0; j < e->pca.k; j++) fprintf(f, "\tPC%lld", (long long)(j + 1));
    fputs(e->umap ? "\tUMAP1\tUMAP2\n" : "\n", f);
    for (int64_t i = 0; i < e->n; i++) {
        int32_t l = !pair->real_labels ? -1 : i < e->n_real ? pair->real_labels[i] : pair->synth_labels[i - e->n_real];
        fprintf(f, "%s\t%s\t%s", names[i], i < e->n_real ? "real" : "synthetic", l >= 0 ? pair->label_names[l] : "");
        for (int64_t j = 0; j < e->pca.k; j++) fprintf(f, "\t%.7g", e->pca.scores[i * e->pca.k + j]);
        if (e->umap) fprintf(f, "\t%.7g\t%.7g", e->umap[2 * i], e->umap[2 * i + 1]);
        fputc('\n', f);
    }
    ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    ok = ok && sdd_tmp_commit(tmp, path) == 0;
    if (!ok) remove(tmp);
done:
    sdd_strv_free(names, e->n);
    if (tmp) sdd_tmp_untrack(tmp);
    free(tmp);
    if (!names || !tmp) return SDD_ENOMEM;
    return ok ? SDD_OK : sdd_error(SDD_EIO, "%s: cannot write the table", path);
}
