/* library.c: read a count matrix, train a small model, sample cells, evaluate them, with
 * the public header alone. `make check` builds it as examples/library (linked with
 * libsddcell.a and the libraries it uses: HDF5, GSL, BLAS, cJSON) and runs it. */
#include <stdio.h>
#include "sddcell.h"

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, sdd_strerror(rc), sdd_errdetail());
    return 1;
}

int main(int argc, char **argv)
{
    sdd_read_opt_t ropt;
    sdd_prep_opt_t popt;
    sdd_train_opt_t topt;
    sdd_sample_opt_t sopt;
    sdd_eval_opt_t eopt;
    sdd_dataset_t *counts = NULL, *synth = NULL;
    sdd_trainset_t *ts = NULL;
    sdd_model_t *m = NULL;
    sdd_eval_t *ev = NULL;
    int64_t steps = 300;
    int rc, status = 1;

    if (argc < 2 || (argc > 2 && sdd_parse_int64(argv[2], 1, 1000000, "steps", &steps) < 0)) {
        fprintf(stderr, "usage: %s COUNTS.h5ad [STEPS]\n", argv[0]);
        return 2;
    }
    if ((rc = sdd_init()) < 0) return fail("init", rc);
    sdd_set_threads(2);

    /* read: the whole file, cells x genes counts with their annotations */
    sdd_read_opt_init(&ropt);
    if ((rc = sdd_dataset_read(argv[1], &ropt, &counts)) < 0) { fail(argv[1], rc); goto done; }

    /* prepare: QC, normalize_total, log1p and the 200 most variable genes */
    sdd_prep_opt_init(&popt);
    popt.n_top_genes = 200;
    if ((rc = sdd_prep_dataset(counts, &popt, &ts)) < 0) { fail("prepare", rc); goto done; }

    /* model and train: a small network for a few steps */
    sdd_train_opt_init(&topt);
    topt.steps = steps;
    topt.batch = 64;
    topt.hidden[0] = topt.hidden[1] = 64, topt.hidden[2] = 32, topt.hidden[3] = 16;
    topt.head = 64, topt.emb = 32;
    if ((rc = sdd_model_create(ts, &topt, &m)) < 0) { fail("model", rc); goto done; }
    if ((rc = sdd_model_train(m, ts, NULL, NULL)) < 0) { fail("train", rc); goto done; }

    /* sample: 300 synthetic cells over the model's genes (log1p values) */
    sdd_sample_opt_init(&sopt);
    sopt.n_cells = 300;
    sopt.steps = 20;
    if ((rc = sdd_sample(m, &sopt, NULL, NULL, &synth)) < 0) { fail("sample", rc); goto done; }

    /* evaluate: the training cells against the synthetic ones, same genes */
    sdd_eval_opt_init(&eopt);
    eopt.n_pcs = 20;
    if ((rc = sdd_evaluate(&ts->X, &synth->X, NULL, NULL, NULL, 0, &eopt, NULL, NULL, &ev)) < 0) {
        fail("evaluate", rc);
        goto done;
    }
    printf("genes %lld, parameters %lld, steps %lld\n", (long long)ts->G,
           (long long)sdd_model_n_params(m), (long long)sdd_model_step(m));
    printf("sparsity real %.3f synthetic %.3f\n", ev->sparsity_real, ev->sparsity_synth);
    printf("gene means SCC %.3f, MMD %.4f, LISI %.3f, kNN AUC %.3f\n", ev->scc, ev->mmd,
           ev->lisi_scaled, ev->knn_auc);
    status = 0;
done:
    sdd_eval_destroy(ev);
    sdd_dataset_destroy(synth);
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
    sdd_dataset_destroy(counts);
    return status;
}
