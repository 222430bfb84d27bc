/*
 * trainset_fixture.h: a small synthetic training set for the model, training and sampling
 * tests: n cells x G genes of log1p values, drawn from a seeded sdd_rng_t. A gene is
 * expressed with probability 0.6 in cells whose label favours it (j % gene_period ==
 * label) and 0.15 elsewhere, with Poisson(3 + j % 5) + 1 counts.
 */
#ifndef SDD_TRAINSET_FIXTURE_H
#define SDD_TRAINSET_FIXTURE_H
#include "sddcell.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    int rare_label;     /* labels: 1 for every 4th cell, else 0 (3:1); 0: label i % n_labels */
    int gene_period;    /* a label favours the genes j with j % gene_period == label */
    double lib0, lib_step; /* library size of cell i: lib0 + lib_step i */
    const char *prep_json; /* NULL: a JSON of the counts (target sum, cells, non-zeros) */
} trainset_fixture_t;

static sdd_trainset_t *make_fixture_trainset(int64_t n, int64_t G, int n_labels, uint64_t seed,
                                             const trainset_fixture_t *f)
{
    sdd_trainset_t *ts = calloc(1, sizeof *ts);
    float *dense = calloc((size_t)(n * G), sizeof(float));
    sdd_rng_t r;
    char js[256];
    sdd_rng_seed(&r, seed);
    ts->n_cells = n;
    ts->G = G;
    ts->gene_names = calloc((size_t)G, sizeof(char *));
    for (int64_t j = 0; j < G; j++) {
        char b[32];
        snprintf(b, sizeof b, "gene%lld", (long long)j);
        ts->gene_names[j] = strdup(b);
    }
    if (n_labels) {
        ts->n_labels = n_labels;
        ts->labels = calloc((size_t)n, sizeof(int32_t));
        ts->label_names = calloc((size_t)n_labels, sizeof(char *));
        for (int k = 0; k < n_labels; k++) {
            char b[32];
            snprintf(b, sizeof b, "type%d", k);
            ts->label_names[k] = strdup(b);
        }
        ts->label_key = strdup("cell_type");
    }
    ts->library_size = calloc((size_t)n, sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        int y = !n_labels ? 0 : f->rare_label ? (i % 4 == 0 ? 1 : 0) : (int)(i % n_labels);
        if (n_labels) ts->labels[i] = y;
        for (int64_t j = 0; j < G; j++) {
            double p = ((j % f->gene_period) == y) ? 0.6 : 0.15;
            if (sdd_rng_uniform(&r) < p)
                dense[i * G + j] = (float)log1p(1.0 + (double)sdd_rng_poisson(&r, 3.0 + (double)(j % 5)));
        }
        ts->library_size[i] = f->lib0 + f->lib_step * (double)i;
    }
    sdd_csr_from_dense(dense, n, G, &ts->X);
    if (f->prep_json) {
        ts->prep_json = strdup(f->prep_json);
    } else {
        snprintf(js, sizeof js, "{\"target_sum_used\": 10000, \"cells_kept\": %lld, \"nnz_selected\": %lld}",
                 (long long)n, (long long)ts->X.nnz);
        ts->prep_json = strdup(js);
    }
    free(dense);
    return ts;
}
/* A new scratch directory NAME.PID under $SDD_BUILDDIR (default .) into dir [n]: 0, or
 * -1 when it cannot be made. */
static inline int scratch_dir(char *dir, size_t n, const char *name)
{
    const char *bd = getenv("SDD_BUILDDIR");
    snprintf(dir, n, "%s/%s.%ld", bd ? bd : ".", name, (long)getpid());
    return mkdir(dir, 0755) ? -1 : 0;
}

/* 1 when the files at a and b hold the same bytes. */
static inline int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int ca, cb, same = fa && fb;
    while (same && (ca = getc(fa)) != EOF) same = (cb = getc(fb)) == ca;
    if (same) same = getc(fb) == EOF;
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* The library's default training options with a small network: the four hidden widths
 * h0..h3, the head and embedding widths, the batch size and the steps. */
static void fixture_small_net(sdd_train_opt_t *o, int h0, int h1, int h2, int h3, int head, int emb, int64_t batch,
                              int64_t steps)
{
    sdd_train_opt_init(o);
    o->hidden[0] = h0;
    o->hidden[1] = h1;
    o->hidden[2] = h2;
    o->hidden[3] = h3;
    o->head = head;
    o->emb = emb;
    o->batch = batch;
    o->steps = steps;
}

#endif
