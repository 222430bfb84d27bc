/* test_metrics: PCA, kNN and the metrics of doc/method.md §8 against brute force, hand-computed
 * values and the independent numpy / scipy / scikit-learn reference of
 * tests/make_metrics_reference.py (fixtures in tests/data), plus sanity checks on real
 * data: two halves of one dataset mix, gene-shuffled cells do not. */
#include "sddcell.h"
#include "sdd_internal.h"
#include "tap.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "fixture.h"

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    cJSON *j;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) n = 0;
    buf[n] = 0;
    fclose(f);
    j = cJSON_Parse(buf);
    free(buf);
    return j;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_small(void)
{
    double x[] = {1, 2, 2, 3, 5}, y[] = {2, 1, 4, 4, 9}, s[] = {0.1, 0.4, 0.35, 0.8, 0.4};
    int32_t c[] = {0, 0, 1, 1, 1};
    /* scipy.stats.spearmanr([1,2,2,3,5],[2,1,4,4,9]) = 0.7631578947368421 */
    CHECK_CLOSE(sdd_spearman(x, y, 5), 0.7631578947368421, 0, 1e-12);
    /* pearsonr = 0.9092079184111861 */
    CHECK_CLOSE(sdd_pearson(x, y, 5), 0.9092079184111861, 0, 1e-12);
    /* roc_auc_score([0,0,1,1,1],[.1,.4,.35,.8,.4]) = 4.5/6 */
    CHECK_CLOSE(sdd_roc_auc(s, c, 5), 0.75, 0, 1e-12);
}

/* kNN against brute force on random points, with self exclusion and block edges. */
static void test_knn(void)
{
    int64_t n = 2600, d = 7;
    int k = 9, bad = 0;
    sdd_rng_t r;
    double *X = malloc((size_t)(n * d) * sizeof *X), *D = malloc((size_t)(n * k) * sizeof *D);
    int64_t *I = malloc((size_t)(n * k) * sizeof *I), *self = malloc((size_t)n * sizeof *self);
    sdd_rng_seed(&r, 5);
    for (int64_t i = 0; i < n * d; i++) X[i] = sdd_rng_normal(&r) * 10;
    for (int64_t i = 0; i < n; i++) self[i] = i;
    CHECK(sdd_knn(X, n, X, n, d, k, self, I, D) == 0);
    for (int64_t q = 0; q < n; q += 37) {
        /* brute force: the k-th smallest distance must equal ours and none smaller missed */
        int64_t better = 0;
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            if (j == q) continue;
            for (int64_t t = 0; t < d; t++) s += (X[q * d + t] - X[j * d + t]) * (X[q * d + t] - X[j * d + t]);
            if (s < D[q * k + k - 1] - 1e-9) better++;
        }
        bad += better != k - 1;
        for (int j = 0; j < k; j++) bad += I[q * k + j] == q || (j && D[q * k + j] < D[q * k + j - 1]);
    }
    CHECK(bad == 0);
    CHECK(sdd_knn(X, 10, X, 5, d, 5, self, I, D) == SDD_EINVAL);
    free(X), free(D), free(I), free(self);
}

/* Blockwise MMD against the O(N^2) formula on points spanning several blocks. */
static void test_mmd_naive(void)
{
    int64_t na = 700, nb = 450, N = na + nb, d = 5;
    double *X = malloc((size_t)(N * d) * sizeof *X), m, b, s[3] = {0, 0, 0}, tot = 0;
    sdd_rng_t r;
    sdd_rng_seed(&r, 9);
    for (int64_t i = 0; i < N * d; i++) X[i] = sdd_rng_normal(&r) + (i / d >= na ? 0.3 : 0);
    CHECK(sdd_mmd(X, na, nb, d, &m, &b) == 0);
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < N; j++) {
            double D = 0;
            for (int64_t t = 0; t < d; t++) D += (X[i * d + t] - X[j * d + t]) * (X[i * d + t] - X[j * d + t]);
            tot += D;
        }
    CHECK_CLOSE(b, tot / (double)(N * (N - 1)), 1e-10, 0);
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < N; j++) {
            double D = 0, K = 0;
            for (int64_t t = 0; t < d; t++) D += (X[i * d + t] - X[j * d + t]) * (X[i * d + t] - X[j * d + t]);
            for (int q = -2; q <= 2; q++) K += exp(-D / (b * pow(2, q)));
            s[(i < na) == (j < na) ? (i < na ? 0 : 1) : 2] += K;
        }
    CHECK_CLOSE(m, s[0] / (na * na) + s[1] / (nb * nb) - s[2] / (na * nb), 1e-9, 1e-12);
    free(X);
}

static void compare(const sdd_eval_t *e, const cJSON *ref, char *const *names)
{
    const cJSON *sub = cJSON_GetObjectItem(ref, "sub_real"), *pl = cJSON_GetObjectItem(ref, "per_label");
    int same = cJSON_GetArraySize(sub) == e->n_sub;
    for (int64_t i = 0; same && i < e->n_sub; i++) same = cJSON_GetArrayItem(sub, (int)i)->valueint == e->sub_real[i];
    CHECK_MSG(same, "subsample of the real cells differs from the reference");
    CHECK_CLOSE(e->sparsity_real, num(ref, "sparsity_real"), 0, 1e-12);
    CHECK_CLOSE(e->sparsity_synth, num(ref, "sparsity_synth"), 0, 1e-12);
    CHECK_CLOSE(e->zero_frac_w1, num(ref, "zero_frac_w1"), 0, 1e-9);
    for (int b = 0; b < e->hist_bins; b++)
        CHECK_CLOSE(e->zero_hist_synth[b], cJSON_GetArrayItem(cJSON_GetObjectItem(ref, "zero_hist_synth"), b)->valuedouble, 0, 1e-12);
    fprintf(stderr, "vs reference: |dscc| %.2g |dpcc| %.2g mmd rel %.2g |dlisi| %.2g |dauc| %.2g\n",
            fabs(e->scc - num(ref, "scc")), fabs(e->pcc - num(ref, "pcc")),
            fabs(e->mmd / num(ref, "mmd") - 1), fabs(e->lisi - num(ref, "lisi")),
            fabs(e->knn_auc - num(ref, "knn_auc")));
    CHECK_CLOSE(e->scc, num(ref, "scc"), 0, 1e-6);
    CHECK_CLOSE(e->pcc, num(ref, "pcc"), 0, 1e-6);
    CHECK_CLOSE(e->mmd_bandwidth, num(ref, "mmd_bandwidth"), 1e-6, 0);
    CHECK_CLOSE(e->mmd, num(ref, "mmd"), 1e-3, 0);
    CHECK_CLOSE(e->lisi, num(ref, "lisi"), 0, 1e-3);
    CHECK_CLOSE(e->lisi_scaled, num(ref, "lisi_scaled"), 0, 1e-3);
    CHECK_CLOSE(e->knn_auc, num(ref, "knn_auc"), 0, 0.02);
    CHECK(e->n_labels == cJSON_GetArraySize(pl));
    for (int l = 0; l < e->n_labels && l < cJSON_GetArraySize(pl); l++) {
        const cJSON *r = cJSON_GetArrayItem(pl, l);
        const sdd_eval_label_t *L = &e->per_label[l];
        CHECK(strcmp(L->name, cJSON_GetObjectItem(r, "label")->valuestring) == 0);
        CHECK(L->n_real == (int64_t)num(r, "n_real") && L->n_synth == (int64_t)num(r, "n_synth"));
        CHECK_CLOSE(L->sparsity_synth, num(r, "sparsity_synth"), 0, 1e-12);
        CHECK_CLOSE(L->scc, num(r, "scc"), 0, 1e-6);
        CHECK_CLOSE(L->pcc, num(r, "pcc"), 0, 1e-6);
        CHECK(L->n_tested == (int64_t)num(r, "lfc_genes_tested"));
        CHECK_CLOSE(L->lfc_pcc, num(r, "lfc_pcc"), 0, 1e-6);
        CHECK_CLOSE(L->lfc_pcc_markers, num(r, "lfc_pcc_markers"), 0, 1e-6);
        CHECK_CLOSE(L->mmd, num(r, "mmd"), 1e-3, 0);
    }
    (void)names;
}

static void test_reference(const sdd_csr_t *R, const int32_t *rl, const sdd_csr_t *S, const int32_t *sl,
                           const cJSON *exp)
{
    char *names[] = {"c0", "c1", "c2", "c3"};
    sdd_eval_opt_t opt;
    sdd_eval_t *e = NULL;
    double t = sdd_realtime();
    sdd_eval_opt_init(&opt);
    CHECK(sdd_evaluate(R, S, rl, sl, names, 4, &opt, NULL, NULL, &e) == 0);
    fprintf(stderr, "default: %.3f s, mmd %.5f lisi_scaled %.4f knn_auc %.4f scc %.5f\n", sdd_realtime() - t,
            e ? e->mmd : NAN, e ? e->lisi_scaled : NAN, e ? e->knn_auc : NAN, e ? e->scc : NAN);
    if (e) compare(e, cJSON_GetObjectItem(exp, "default"), names);
    sdd_eval_destroy(e);
    opt.n_sub = 250;
    opt.seed = 7;
    CHECK(sdd_evaluate(R, S, rl, sl, names, 4, &opt, NULL, NULL, &e) == 0);
    if (e) {
        const cJSON *ref = cJSON_GetObjectItem(exp, "n_sub250_seed7"), *ss = cJSON_GetObjectItem(ref, "sub_synth");
        int same = 1;
        for (int i = 0; i < 250; i++) same &= cJSON_GetArrayItem(ss, i)->valueint == e->sub_synth[i];
        CHECK_MSG(same, "subsample of the synthetic cells differs from the reference");
        compare(e, ref, names);
    }
    sdd_eval_destroy(e);
}

/* Halves of the real fixture mix; gene-shuffled cells (each cell's values permuted over
 * the genes) do not. */
static void test_sanity(const sdd_csr_t *R)
{
    int64_t h = R->n_rows / 2, *a = malloc((size_t)h * sizeof *a), *b = malloc((size_t)h * sizeof *b);
    sdd_csr_t A = {0}, B = {0}, Sh = {0};
    sdd_eval_opt_t opt;
    sdd_eval_t *e = NULL, *f = NULL;
    sdd_rng_t r;
    int64_t *perm = malloc((size_t)R->n_rows * sizeof *perm), *g = malloc((size_t)R->n_cols * sizeof *g);
    sdd_rng_seed(&r, 11);
    for (int64_t i = 0; i < R->n_rows; i++) perm[i] = i;
    sdd_rng_shuffle(&r, perm, R->n_rows);
    memcpy(a, perm, (size_t)h * sizeof *a);
    memcpy(b, perm + h, (size_t)h * sizeof *b);
    CHECK(sdd_csr_select_rows(R, a, h, &A) == 0 && sdd_csr_select_rows(R, b, h, &B) == 0);
    sdd_eval_opt_init(&opt);
    CHECK(sdd_evaluate(&A, &B, NULL, NULL, NULL, 0, &opt, NULL, NULL, &e) == 0);
    /* gene-shuffled: a copy of R whose every row has its genes permuted */
    CHECK(sdd_csr_select_rows(R, perm, R->n_rows, &Sh) == 0);
    for (int64_t i = 0; i < Sh.n_rows; i++) {
        for (int64_t j = 0; j < Sh.n_cols; j++) g[j] = j;
        sdd_rng_shuffle(&r, g, Sh.n_cols);
        for (int64_t p = Sh.indptr[i]; p < Sh.indptr[i + 1]; p++) Sh.indices[p] = (int32_t)g[Sh.indices[p]];
    }
    CHECK(sdd_csr_sort(&Sh) == 0);
    CHECK(sdd_evaluate(R, &Sh, NULL, NULL, NULL, 0, &opt, NULL, NULL, &f) == 0);
    if (e && f) {
        fprintf(stderr, "halves: mmd %.4f lisi_scaled %.3f auc %.3f scc %.4f | shuffled: mmd %.4f lisi_scaled %.3f auc %.3f\n",
                e->mmd, e->lisi_scaled, e->knn_auc, e->scc, f->mmd, f->lisi_scaled, f->knn_auc);
        CHECK(e->mmd < 0.05);
        CHECK(e->lisi_scaled > 0.9);
        CHECK_CLOSE(e->knn_auc, 0.5, 0, 0.07);
        CHECK(e->scc > 0.95);
        CHECK(f->mmd > 20 * e->mmd && f->mmd > 0.5);
        CHECK(f->knn_auc > 0.97);
        CHECK(f->lisi_scaled < 0.2);
        CHECK_CLOSE(f->sparsity_synth, f->sparsity_real, 0, 1e-12); /* shuffling keeps zeros */
    }
    sdd_eval_destroy(e);
    sdd_eval_destroy(f);
    sdd_csr_free(&A), sdd_csr_free(&B), sdd_csr_free(&Sh);
    free(a), free(b), free(perm), free(g);
}

/* Randomized PCA against the exact one on the fixture cells: variances, scores up to
 * sign, and the MMD that the scores feed. */
static void test_pca_randomized(const sdd_csr_t *R, const sdd_csr_t *S)
{
    sdd_csr_t J = {0};
    sdd_pca_t a = {0}, b = {0};
    double ma, mb, worst_var = 0, worst_score = 0, scale = 0;
    CHECK(sdd_csr_select_rows(R, NULL, 0, &J) == 0 && sdd_csr_append_rows(&J, R) == 0 &&
          sdd_csr_append_rows(&J, S) == 0);
    CHECK(sdd_pca_fit(&J, 50, &a) == 0);
    CHECK(sdd_pca_fit_randomized(&J, 50, 7, 1, &b) == 0);
    if (a.k == 50 && b.k == 50) {
        for (int j = 0; j < 10; j++) {
            double dot = 0;
            worst_var = fmax(worst_var, fabs(b.variance[j] / a.variance[j] - 1));
            for (int64_t g = 0; g < a.G; g++) dot += a.components[j * a.G + g] * b.components[j * a.G + g];
            for (int64_t i = 0; i < a.n; i++) {
                worst_score = fmax(worst_score, fabs(a.scores[i * 50 + j] - (dot < 0 ? -1 : 1) * b.scores[i * 50 + j]));
                scale = fmax(scale, fabs(a.scores[i * 50 + j]));
            }
        }
        CHECK_CLOSE(a.total_variance, b.total_variance, 1e-9, 0);
        CHECK(sdd_mmd(a.scores, R->n_rows, S->n_rows, 50, &ma, NULL) == 0);
        CHECK(sdd_mmd(b.scores, R->n_rows, S->n_rows, 50, &mb, NULL) == 0);
        fprintf(stderr, "randomized PCA: top-10 variance rel err %.2g, score err %.2g of %.3g; MMD %.6f vs exact %.6f\n",
                worst_var, worst_score, scale, mb, ma);
        CHECK(worst_var < 1e-4);
        CHECK(worst_score < 2e-3 * scale);
        CHECK_CLOSE(mb, ma, 1e-3, 0);
    }
    sdd_pca_free(&a);
    sdd_pca_free(&b);
    sdd_csr_free(&J);
}

/* Tiny inputs (4 cells a side, fewer than the folds and the classifier's k allow) still
 * give finite figures; mismatched gene counts are refused. */
static void test_tiny(const sdd_csr_t *R, const sdd_csr_t *S)
{
    int64_t rows[] = {0, 1, 2, 3};
    sdd_csr_t a = {0}, b = {0};
    sdd_eval_opt_t opt;
    sdd_eval_t *e = NULL;
    sdd_eval_opt_init(&opt);
    CHECK(sdd_csr_select_rows(R, rows, 4, &a) == 0 && sdd_csr_select_rows(S, rows, 4, &b) == 0);
    CHECK(sdd_evaluate(&a, &b, NULL, NULL, NULL, 0, &opt, NULL, NULL, &e) == 0);
    if (e) {
        CHECK(e->n_sub == 4 && e->n_pcs == 7);
        CHECK(isfinite(e->mmd) && isfinite(e->lisi) && isfinite(e->knn_auc) && isfinite(e->scc));
    }
    sdd_eval_destroy(e);
    e = NULL;
    a.n_cols--;
    CHECK(sdd_evaluate(&a, &b, NULL, NULL, NULL, 0, &opt, NULL, NULL, &e) == SDD_EINVAL && e == NULL);
    a.n_cols++;
    sdd_csr_free(&a), sdd_csr_free(&b);
}

int main(void)
{
    const char *src = getenv("SDD_SRCDIR");
    char p1[4096], p2[4096], p3[4096];
    sdd_csr_t R = {0}, S = {0};
    int32_t *rl = NULL, *sl = NULL;
    cJSON *exp;
    if (!src) src = ".";
    snprintf(p1, sizeof p1, "%s/tests/data/metrics_real.bin.gz", src);
    snprintf(p2, sizeof p2, "%s/tests/data/metrics_synth.bin.gz", src);
    snprintf(p3, sizeof p3, "%s/tests/data/metrics_expected.json", src);
    test_small();
    test_knn();
    test_mmd_naive();
    CHECK(read_fixture(p1, &R, &rl) == 0 && read_fixture(p2, &S, &sl) == 0);
    CHECK((exp = read_json(p3)) != NULL);
    if (R.n_rows && S.n_rows && exp) {
        test_reference(&R, rl, &S, sl, exp);
        test_pca_randomized(&R, &S);
        test_tiny(&R, &S);
        test_sanity(&R);
    }
    cJSON_Delete(exp);
    sdd_csr_free(&R), sdd_csr_free(&S);
    free(rl), free(sl);
    return tap_done();
}
