/*
 * sddcell_write.h: the public interface of libsddcell, part 5 of 5: .h5ad output, joining
 * shards, the HTML report and MultiQC files (write).
 * Included by sddcell.h, whose opening comment holds the conventions of every part.
 */
#ifndef SDDCELL_WRITE_H
#define SDDCELL_WRITE_H

#include "sddcell_eval.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== write */
/* Output files. Every writer builds its file under sdd_tmp_path's name and renames it into
 * place when it is complete, so a failure or a kill never leaves a partial file at the
 * output's name. The datasets and results written are borrowed. */

/* Write `ds` as an .h5ad readable by anndata >= 0.8: X csr_matrix float32 (exact zeros
 * not stored), obs / var dataframes, obsm dense, uns from a cJSON object (may be NULL;
 * objects become dicts, numbers numeric-scalars, strings string scalars, arrays of
 * numbers 1-d arrays, arrays of strings string-arrays), gzip compressed. Written to a
 * temporary name beside `path` and renamed: a failure never leaves `path` behind.
 * `uns_json` is a `cJSON *` passed as void * so this header needs no cJSON include.
 * ds->gene_ids, when set, become var column "gene_ids" (first) unless var has one.
 * NULL cell / gene names mean anndata's default index "0", "1", ...; NULL strings are
 * written as ""; a bool column holding NaN is written as float64; JSON nulls in uns are
 * skipped. Returns SDD_EINVAL for inconsistent input (lengths, codes out of range,
 * duplicate categories or names, names with '/'), SDD_EIO when writing fails. */
int sdd_h5ad_write(const char *path, const sdd_dataset_t *ds, const void *uns_json);

/* A named sparse matrix written beside X: a layer (cells x genes) or an obsp pair matrix
 * (cells x cells). Borrowed. */
typedef struct {
    const char *name;
    const sdd_csr_t *m;
} sdd_h5ad_csr_t;

/* The optional elements of an .h5ad besides X, obs, var and obsm (which the dataset
 * carries). Every list may be NULL with its count 0; everything is borrowed. */
typedef struct {
    const void *uns;              /* a cJSON object or NULL, as sdd_h5ad_write's uns_json */
    const sdd_h5ad_csr_t *layers; /* [n_layers], each cells x genes */
    int n_layers;
    const sdd_h5ad_csr_t *obsp;   /* [n_obsp], each cells x cells */
    int n_obsp;
    const sdd_dense_t *varm;      /* [n_varm], each genes x cols float32 */
    int n_varm;
} sdd_h5ad_elems_t;

/* sdd_h5ad_write with the elements in `el` (NULL: none) written in the same pass, before
 * the one rename: layers and obsp as csr_matrix groups laid out like X but with their
 * stored zeros kept, varm as dense arrays. A missing, misshapen or malformed matrix, a
 * duplicate name or a name with '/' gives SDD_EINVAL and no file. sdd_h5ad_write(path,
 * ds, uns) is sdd_h5ad_write_elems with only uns set. */
int sdd_h5ad_write_elems(const char *path, const sdd_dataset_t *ds, const sdd_h5ad_elems_t *el);

/* Write a sampled dataset as sdd_h5ad_write does, with `counts` (may be NULL) as
 * layers/counts (csr_matrix, float32 integer values), through a temporary file renamed
 * into place: a failure leaves no `path`. */
int sdd_sample_write_h5ad(const char *path, const sdd_dataset_t *ds, const void *uns_json,
                          const sdd_csr_t *counts);

/* Join the .h5ad files parts[0..n_parts-1] into `out` (concat.c), cells in the order
 * given: X and every layer (csr_matrix or dense), obs (index and columns; categorical
 * columns must have the same categories in every part) and obsm are joined along the
 * cells; var, varm, varp, uns and the attributes come from the first part, without
 * uns['sddcell']['shard']. Refused with SDD_EINVAL, naming the first part that
 * differs: other genes (var index, in order), other obs columns, layers or obsm, other
 * uns['sddcell'] settings or model (all but the model's file name and the shard), or
 * shards (`sample --shard I/K`) that are not 1..K of one split in order. Elements that
 * cannot be joined (raw, obsp pairs, dense X) give SDD_EUNSUPPORTED. Streams through
 * fixed-size buffers, one part open at a time; builds the file under a temporary name
 * renamed into place, so a failure leaves no `out`. */
int sdd_h5ad_concat(const char *out, const char *const *parts, int n_parts);

/* ---- report */
/* What a person and a pipeline read about a synthetic data set: one self-contained HTML
 * page (report.c) and MultiQC custom-content files (multiqc.c). */

typedef struct {
    const char *title;        /* shown under the heading (e.g. the input and output), or NULL */
    const char *command;      /* the command line, shown with the recipe, or NULL */
    const sdd_eval_t *eval;   /* real against synthetic cells (used when heldout is NULL) */
    const sdd_heldout_eval_t *heldout; /* the held-out protocol's figures, or NULL */
    const sdd_csr_t *real;    /* the real cells evaluated (the held-out cells under the
                                 protocol), log1p, cells x G */
    const sdd_csr_t *synth;   /* the synthetic cells, the same G genes */
    const sdd_csr_t *train;   /* the training cells (the floor's side under the held-out
                                 protocol: a series of the zero-fraction histogram), or NULL */
    char *const *gene_names;  /* [G], or NULL */
    const int32_t *real_labels, *synth_labels; /* codes into label_names, or both NULL */
    char *const *label_names; /* [n_labels] */
    int n_labels;
    const char *label_key;    /* the labels' obs column, or NULL */
    const void *recipe;       /* a cJSON object: the run's options, shown as a table (or NULL) */
    int64_t max_cells;        /* cells a side in the UMAP and the clusters (2000) */
    int umap_epochs;          /* UMAP epochs; 0 = the embed default */
    uint64_t seed;            /* the drawn cells, UMAP and clusters (42) */
} sdd_report_t;

void sdd_report_init(sdd_report_t *r);
/* The HTML page (*html, *len bytes, allocated; free with free()): summary, metrics (beside
 * the floor and with the memorisation share under the held-out protocol), the UMAP of real
 * and synthetic cells as an inline PNG, per-cluster figures of the pooled cells, per-label
 * figures, the gene-mean scatter and the zero-fraction histogram as inline SVG, and the
 * recipe. References nothing outside itself. progress (may be NULL) gets stage "report". */
int sdd_report_html(const sdd_report_t *r, sdd_progress_f progress, void *user, char **html, size_t *len);

/* MultiQC custom content for the figures of r (its eval / heldout fields only): *general
 * a general-statistics file (plot_type "generalstats", columns in pconfig) and *table a
 * table section (plot_type "table", columns in headers), both JSON texts with one row
 * named `sample`, for files named *_mqc.json. Free both with free(). */
int sdd_multiqc_json(const sdd_report_t *r, const char *sample, char **general, char **table);

#ifdef __cplusplus
}
#endif
#endif /* SDDCELL_WRITE_H */
