/*
 * r_model.c: .Call entries for training, saving, loading and sampling SDD models, and for
 * evaluation. A model lives in an external pointer whose finalizer frees it. Options
 * arrive as a named list and fill the library's own option structs (sdd_*_opt_init,
 * then _check), so R and the CLI share defaults and validation. Every library error is
 * turned into an R error only after the C objects it concerns are freed.
 */
#include "r_shim.h"
#include <limits.h>
#include <string.h>


/* ---- options from a named list */

static SEXP opt_get(SEXP opts, const char *name)
{
    SEXP nm = Rf_getAttrib(opts, R_NamesSymbol);
    for (R_xlen_t i = 0; i < XLENGTH(opts); i++)
        if (strcmp(CHAR(STRING_ELT(nm, i)), name) == 0) return VECTOR_ELT(opts, i);
    return R_NilValue;
}

static void opt_int(SEXP opts, const char *name, int64_t *out)
{
    SEXP v = opt_get(opts, name);
    if (!Rf_isNull(v)) *out = (int64_t)sdd_r_number(v, name);
}

static void opt_dbl(SEXP opts, const char *name, double *out)
{
    SEXP v = opt_get(opts, name);
    if (!Rf_isNull(v)) *out = sdd_r_number(v, name);
}

/* The numeric options of one of the library's tables (SDD_OPTS_*), each under its R name
 * (the long option with '_' for '-'); absent ones keep their value. Values beyond the
 * field's type are clamped, so that the *_opt_check functions name the option and its
 * range. */
static void opt_table(SEXP opts, int which, void *s)
{
    for (const sdd_opt_t *o = sdd_opt_table(which); o && o->name; o++) {
        char name[64];
        size_t k;
        SEXP v;
        for (k = 0; o->name[k] && k < sizeof name - 1; k++) name[k] = o->name[k] == '-' ? '_' : o->name[k];
        name[k] = 0;
        if (Rf_isNull(v = opt_get(opts, name))) continue;
        if (!Rf_isNumeric(v) || XLENGTH(v) != o->count) Rf_error("%s must be %d number(s)", name, o->count);
        for (int i = 0; i < o->count; i++) {
            double x = TYPEOF(v) == REALSXP ? REAL(v)[i] : INTEGER(v)[i] == NA_INTEGER ? NA_REAL : INTEGER(v)[i];
            char *f = (char *)s + o->offset;
            if (ISNAN(x)) Rf_error("%s must not be NA", name);
            if (o->type == SDD_OPT_DOUBLE) ((double *)f)[i] = x;
            else if (o->type == SDD_OPT_INT64) ((int64_t *)f)[i] = x < -0x1p62 ? -(INT64_C(1) << 62) : x > 0x1p62 ? INT64_C(1) << 62 : (int64_t)x;
            else ((int *)f)[i] = x < INT_MIN ? INT_MIN : x > INT_MAX ? INT_MAX : (int)x;
        }
    }
}

static int opt_flag(SEXP opts, const char *name, int dflt)
{
    SEXP v = opt_get(opts, name);
    return Rf_isNull(v) ? dflt : Rf_asLogical(v) == TRUE;
}

static const char *opt_str(SEXP opts, const char *name)
{
    return sdd_r_string(opt_get(opts, name), name);
}

static void fail_with(int rc)
{
    char msg[1024];
    sdd_r_errmsg(rc, msg, sizeof msg);
    Rf_error("%s", msg);
}

/* ---- the model pointer */

static void model_finalizer(SEXP p)
{
    sdd_model_destroy(R_ExternalPtrAddr(p));
    R_ClearExternalPtr(p);
}

static SEXP wrap_model(sdd_model_t *m)
{
    SEXP p = PROTECT(R_MakeExternalPtr(m, Rf_install("sdd_model"), R_NilValue));
    R_RegisterCFinalizerEx(p, model_finalizer, TRUE);
    Rf_setAttrib(p, R_ClassSymbol, Rf_mkString("sdd_model"));
    UNPROTECT(1);
    return p;
}

static sdd_model_t *get_model(SEXP p)
{
    sdd_model_t *m;
    if (TYPEOF(p) != EXTPTRSXP || R_ExternalPtrTag(p) != Rf_install("sdd_model"))
        Rf_error("not an sddcell model");
    if (!(m = R_ExternalPtrAddr(p))) Rf_error("the model has been freed (load it again with sdd_load)");
    return m;
}

static void fill_prep(SEXP opts, sdd_prep_opt_t *po)
{
    const char *flavor = opt_str(opts, "flavor");
    sdd_prep_opt_init(po);
    opt_table(opts, SDD_OPTS_PREP, po);
    po->label_key = opt_str(opts, "label");
    if (po->label_key && (!strcmp(po->label_key, "auto") || !strcmp(po->label_key, "none"))) {
        po->auto_labels = po->label_key[0] == 'a';
        po->label_key = NULL;
    }
    po->read.layer = opt_str(opts, "layer");
    po->read.raw = opt_flag(opts, "raw", 0);
    po->read.genome = opt_str(opts, "genome");
    if (flavor && (po->flavor = sdd_hvg_flavor_parse(flavor)) < 0) {
        char list[96] = "";
        for (int f = 0; sdd_hvg_flavor_name(f); f++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", f ? ", " : "", sdd_hvg_flavor_name(f));
        Rf_error("flavor must be one of %s", list);
    }
}

static int opt_threads(SEXP opts)
{
    int64_t threads = 1;
    opt_int(opts, "threads", &threads);
    if (threads < 1 || threads > 1024) Rf_error("threads must be between 1 and 1024");
    return (int)threads;
}

static void fill_train(SEXP opts, sdd_train_opt_t *to)
{
    const char *scale = opt_str(opts, "scale"), *precision = opt_str(opts, "precision");
    sdd_train_opt_init(to);
    opt_table(opts, SDD_OPTS_TRAIN, to);
    to->sparsity_bits = opt_flag(opts, "sparsity_bits", to->sparsity_bits);
    if (scale) {
        if (strcmp(scale, "global") && strcmp(scale, "gene")) Rf_error("scale must be 'global' or 'gene'");
        to->scale_gene = strcmp(scale, "gene") == 0;
    }
    if (precision && (to->precision = sdd_precision_parse(precision)) < 0)
        Rf_error("precision must be 'auto', 'int8', 'fp32' or 'bf16'");
    {
        double seed = 42;
        opt_dbl(opts, "seed", &seed);
        if (seed < 0) Rf_error("seed must be >= 0");
        to->seed = (uint64_t)seed;
    }
}

static void set_threads(SEXP opts)
{
    sdd_set_threads(opt_threads(opts));
}

SEXP sdd_r_train(SEXP path, SEXP opts)
{
    sdd_prep_opt_t po;
    sdd_train_opt_t to;
    sdd_trainset_t *ts = NULL;
    sdd_model_t *m = NULL;
    int verbose = opt_flag(opts, "verbose", 0), rc;
    const char *file = sdd_r_string(path, "path");
    sdd_r_setup(verbose);
    fill_prep(opts, &po);
    fill_train(opts, &to);
    set_threads(opts);
    po.threads = opt_threads(opts);
    po.holdout_seed = to.seed;
    if ((rc = sdd_prep_opt_check(&po)) < 0 || (rc = sdd_train_opt_check(&to)) < 0) fail_with(rc);
    if ((rc = sdd_prep_run(file, &po, &ts)) < 0) fail_with(rc);
    if ((rc = sdd_model_create(ts, &to, &m)) < 0) goto fail;
    if ((rc = sdd_model_train(m, ts, sdd_r_progress, &verbose)) < 0) goto fail;
    {
        /* the cells kept out of training (holdout), for sdd_evaluate(train = ...) */
        SEXP p = PROTECT(wrap_model(m)), held = PROTECT(Rf_allocVector(STRSXP, ts->n_heldout));
        for (int64_t i = 0; i < ts->n_heldout; i++)
            SET_STRING_ELT(held, (R_xlen_t)i, Rf_mkCharCE(ts->heldout_names[i], CE_UTF8));
        if (ts->n_heldout > 0) Rf_setAttrib(p, Rf_install("heldout_cells"), held);
        sdd_trainset_destroy(ts);
        UNPROTECT(2);
        return p;
    }
fail:
    sdd_model_destroy(m);
    sdd_trainset_destroy(ts);
    fail_with(rc);
    return R_NilValue;
}

SEXP sdd_r_save(SEXP model, SEXP path)
{
    int rc = sdd_model_save(get_model(model), sdd_r_string(path, "path"));
    if (rc < 0) fail_with(rc);
    return R_NilValue;
}

SEXP sdd_r_load(SEXP path)
{
    sdd_model_t *m = NULL;
    int rc;
    sdd_r_setup(0);
    if ((rc = sdd_model_load(sdd_r_string(path, "path"), &m)) < 0) fail_with(rc);
    return wrap_model(m);
}

SEXP sdd_r_model_json(SEXP model)
{
    char *j = sdd_model_json(get_model(model));
    SEXP s;
    if (!j) Rf_error("out of memory");
    s = PROTECT(Rf_mkCharCE(j, CE_UTF8));
    free(j);
    s = Rf_ScalarString(s);
    UNPROTECT(1);
    return s;
}

SEXP sdd_r_sample(SEXP model, SEXP n, SEXP opts)
{
    sdd_sample_opt_t so;
    sdd_dataset_t *ds = NULL;
    const char *sampler = opt_str(opts, "sampler"), *decode = opt_str(opts, "bit_decode");
    const char *precision = opt_str(opts, "precision");
    int verbose = opt_flag(opts, "verbose", 0), rc;
    double seed = 42;
    sdd_model_t *m = get_model(model);
    sdd_r_setup(verbose);
    sdd_sample_opt_init(&so);
    so.n_cells = (int64_t)sdd_r_number(n, "n");
    opt_int(opts, "steps", &so.steps);
    opt_dbl(opts, "guidance", &so.guidance);
    opt_dbl(opts, "seed", &seed);
    if (seed < 0) Rf_error("seed must be >= 0");
    so.seed = (uint64_t)seed;
    so.label = opt_str(opts, "label");
    so.use_ema = opt_flag(opts, "ema", 1);
    if (sampler) {
        if (strcmp(sampler, "ddim") && strcmp(sampler, "ddpm")) Rf_error("sampler must be 'ddim' or 'ddpm'");
        so.sampler = strcmp(sampler, "ddpm") == 0 ? SDD_SAMPLER_DDPM : SDD_SAMPLER_DDIM;
    }
    if (decode) {
        if (strcmp(decode, "threshold") && strcmp(decode, "bernoulli"))
            Rf_error("bit_decode must be 'threshold' or 'bernoulli'");
        so.bit_decode = strcmp(decode, "threshold") == 0 ? SDD_BITS_THRESHOLD : SDD_BITS_BERNOULLI;
    }
    if (precision && (so.precision = sdd_precision_parse(precision)) < 0)
        Rf_error("precision must be 'auto', 'int8', 'fp32' or 'bf16'");
    set_threads(opts);
    if ((rc = sdd_sample_opt_check(&so)) < 0) fail_with(rc);
    if ((rc = sdd_sample(m, &so, sdd_r_progress, &verbose, &ds)) < 0) fail_with(rc);
    return sdd_r_dataset_take(ds);
}

/* ---- integer counts for sampled cells (`sddcell sample --counts`) */

static void csr_finalizer(SEXP p)
{
    sdd_csr_t *m = R_ExternalPtrAddr(p);
    if (m) sdd_csr_free(m), free(m);
    R_ClearExternalPtr(p);
}

/* Counts for the log1p cells of a genes x cells dgCMatrix (the CSR of cells x genes) drawn
 * as sdd_sample_counts does with `seed`: list(i, p, x) of a dgCMatrix of the same shape. */
SEXP sdd_r_sample_counts(SEXP model, SEXP i, SEXP p, SEXP x, SEXP dim, SEXP seed)
{
    sdd_model_t *m = get_model(model);
    sdd_csr_t X = {0}, *cnt;
    double s = sdd_r_number(seed, "seed");
    int n_genes = INTEGER(dim)[0], n_cells = INTEGER(dim)[1], rc;
    R_xlen_t nnz = XLENGTH(x);
    SEXP guard, res, ri, rp, rx;
    const char *names[] = {"i", "p", "x"};
    sdd_r_setup(0);
    if (s < 0) Rf_error("seed must be >= 0");
    if (XLENGTH(i) != nnz || XLENGTH(p) != n_cells + 1) Rf_error("inconsistent dgCMatrix slots");
    if (!(cnt = calloc(1, sizeof *cnt))) Rf_error("out of memory");
    guard = PROTECT(R_MakeExternalPtr(cnt, R_NilValue, R_NilValue));
    R_RegisterCFinalizerEx(guard, csr_finalizer, TRUE);
    if ((rc = sdd_csr_alloc(&X, n_cells, n_genes, nnz)) < 0) fail_with(rc);
    for (int c = 0; c <= n_cells; c++) X.indptr[c] = INTEGER(p)[c];
    for (R_xlen_t k = 0; k < nnz; k++) X.indices[k] = INTEGER(i)[k], X.data[k] = (float)REAL(x)[k];
    rc = sdd_csr_validate(&X, "the matrix");
    if (rc == 0) rc = sdd_sample_counts(m, &X, (uint64_t)s, cnt);
    sdd_csr_free(&X);
    if (rc < 0) fail_with(rc);
    res = PROTECT(sdd_r_named_list(3, names));
    ri = Rf_allocVector(INTSXP, cnt->nnz);
    SET_VECTOR_ELT(res, 0, ri);
    rp = Rf_allocVector(INTSXP, cnt->n_rows + 1);
    SET_VECTOR_ELT(res, 1, rp);
    rx = Rf_allocVector(REALSXP, cnt->nnz);
    SET_VECTOR_ELT(res, 2, rx);
    for (int64_t k = 0; k < cnt->nnz; k++) INTEGER(ri)[k] = cnt->indices[k], REAL(rx)[k] = cnt->data[k];
    for (int64_t r = 0; r <= cnt->n_rows; r++) INTEGER(rp)[r] = (int)cnt->indptr[r];
    csr_finalizer(guard);
    UNPROTECT(2);
    return res;
}

/* Write a genes x cells dgCMatrix (i, p, x, dim, names) with an optional label column as
 * an .h5ad (cells x genes CSR = the same arrays), for the path-based stages. */
SEXP sdd_r_write_h5ad(SEXP path, SEXP i, SEXP p, SEXP x, SEXP dim, SEXP genes, SEXP cells,
                      SEXP label_key, SEXP label_codes, SEXP label_levels)
{
    sdd_dataset_t *ds;
    int n_genes = INTEGER(dim)[0], n_cells = INTEGER(dim)[1], rc = SDD_ENOMEM;
    R_xlen_t nnz = XLENGTH(x);
    const char *key = sdd_r_string(label_key, "label"), *out = sdd_r_string(path, "path");
    sdd_r_setup(0);
    if (XLENGTH(i) != nnz || XLENGTH(p) != n_cells + 1) Rf_error("inconsistent dgCMatrix slots");
    if (XLENGTH(genes) != n_genes || XLENGTH(cells) != n_cells) Rf_error("the matrix needs row and column names");
    if (!(ds = sdd_dataset_init())) Rf_error("out of memory");
    ds->n_cells = n_cells;
    ds->n_genes = n_genes;
    if (sdd_csr_alloc(&ds->X, n_cells, n_genes, nnz) < 0) goto fail;
    for (int c = 0; c <= n_cells; c++) ds->X.indptr[c] = INTEGER(p)[c];
    for (R_xlen_t k = 0; k < nnz; k++) {
        ds->X.indices[k] = INTEGER(i)[k];
        ds->X.data[k] = (float)REAL(x)[k];
    }
    ds->cell_names = calloc((size_t)n_cells + 1, sizeof(char *));
    ds->gene_names = calloc((size_t)n_genes + 1, sizeof(char *));
    if (!ds->cell_names || !ds->gene_names) goto fail;
    for (int c = 0; c < n_cells; c++)
        if (!(ds->cell_names[c] = strdup(Rf_translateCharUTF8(STRING_ELT(cells, c))))) goto fail;
    for (int g = 0; g < n_genes; g++)
        if (!(ds->gene_names[g] = strdup(Rf_translateCharUTF8(STRING_ELT(genes, g))))) goto fail;
    if (key) {
        sdd_column_t *col = ds->obs = calloc(1, sizeof *ds->obs);
        int nl = (int)XLENGTH(label_levels);
        if (!col) goto fail;
        ds->n_obs = 1;
        col->kind = SDD_COL_CATEGORICAL;
        col->n = n_cells;
        col->name = strdup(key);
        col->codes = malloc((size_t)n_cells * sizeof *col->codes + 1);
        col->categories = calloc((size_t)nl + 1, sizeof(char *));
        if (!col->name || !col->codes || !col->categories) goto fail;
        col->n_categories = nl;
        for (int l = 0; l < nl; l++)
            if (!(col->categories[l] = strdup(Rf_translateCharUTF8(STRING_ELT(label_levels, l))))) goto fail;
        for (int c = 0; c < n_cells; c++)
            col->codes[c] = INTEGER(label_codes)[c] == NA_INTEGER ? -1 : INTEGER(label_codes)[c] - 1;
    }
    if ((rc = sdd_csr_validate(&ds->X, "matrix")) < 0) goto fail;
    rc = sdd_h5ad_write(out, ds, NULL);
fail:
    sdd_dataset_destroy(ds);
    if (rc < 0) fail_with(rc);
    return R_NilValue;
}

static void eval_finalizer(SEXP p)
{
    sdd_eval_destroy(R_ExternalPtrAddr(p));
    R_ClearExternalPtr(p);
}

/* The per-label figures as a matrix, labels by rows. */
static SEXP per_label_matrix(const sdd_eval_t *e)
{
    static const char *cn[] = {"n_real", "n_synth", "sparsity_real", "sparsity_synth", "scc",
                               "pcc", "lfc_pcc", "mmd"};
    int nl = e->n_labels;
    SEXP m = PROTECT(Rf_allocMatrix(REALSXP, nl, 8)), dn = PROTECT(Rf_allocVector(VECSXP, 2));
    SEXP rows = Rf_allocVector(STRSXP, nl), cols;
    SET_VECTOR_ELT(dn, 0, rows);
    cols = Rf_allocVector(STRSXP, 8);
    SET_VECTOR_ELT(dn, 1, cols);
    for (int c = 0; c < 8; c++) SET_STRING_ELT(cols, c, Rf_mkChar(cn[c]));
    for (int l = 0; l < nl; l++) {
        const sdd_eval_label_t *L = &e->per_label[l];
        double v[8] = {(double)L->n_real, (double)L->n_synth, L->sparsity_real, L->sparsity_synth,
                       L->scc, L->pcc, L->lfc_pcc, L->mmd};
        SET_STRING_ELT(rows, l, Rf_mkCharCE(L->name ? L->name : "", CE_UTF8));
        for (int c = 0; c < 8; c++) REAL(m)[l + (R_xlen_t)nl * c] = v[c];
    }
    Rf_setAttrib(m, R_DimNamesSymbol, dn);
    UNPROTECT(2);
    return m;
}

static void heldout_finalizer(SEXP p)
{
    sdd_heldout_eval_destroy(R_ExternalPtrAddr(p));
    R_ClearExternalPtr(p);
}

/* The figures of one comparison as a named list. */
static SEXP eval_list(const sdd_eval_t *e)
{
    static const char *names[] = {"sparsity_real", "sparsity_synth", "scc", "pcc", "mmd", "lisi",
                                  "lisi_scaled", "knn_auc", "zero_frac_w1", "n_real", "n_synth",
                                  "n_genes", "n_sub", "per_label"};
    SEXP out = PROTECT(sdd_r_named_list(14, names));
    double v[13] = {e->sparsity_real, e->sparsity_synth, e->scc, e->pcc, e->mmd, e->lisi,
                    e->lisi_scaled, e->knn_auc, e->zero_frac_w1, (double)e->n_real,
                    (double)e->n_synth, (double)e->n_genes, (double)e->n_sub};
    for (int k = 0; k < 13; k++) SET_VECTOR_ELT(out, k, Rf_ScalarReal(v[k]));
    SET_VECTOR_ELT(out, 13, per_label_matrix(e));
    UNPROTECT(1);
    return out;
}

/* With a training file: the synthetic figures, then floor (training vs the same held-out
 * cells), memorisation and the cell counts. */
static SEXP heldout_list(const sdd_heldout_eval_t *h)
{
    static const char *names[] = {"floor", "memorisation", "m", "n_heldout", "n_train", "n_synth_total"};
    SEXP syn = PROTECT(eval_list(h->synth)), extra = PROTECT(sdd_r_named_list(6, names));
    SEXP out = PROTECT(Rf_allocVector(VECSXP, 20)), nm = PROTECT(Rf_allocVector(STRSXP, 20));
    SEXP sn = Rf_getAttrib(syn, R_NamesSymbol);
    double v[5] = {h->memorisation, (double)h->m, (double)h->n_heldout, (double)h->n_train, (double)h->n_synth};
    SET_VECTOR_ELT(extra, 0, eval_list(h->floor));
    for (int k = 0; k < 5; k++) SET_VECTOR_ELT(extra, k + 1, Rf_ScalarReal(v[k]));
    for (int k = 0; k < 14; k++) {
        SET_VECTOR_ELT(out, k, VECTOR_ELT(syn, k));
        SET_STRING_ELT(nm, k, STRING_ELT(sn, k));
    }
    for (int k = 0; k < 6; k++) {
        SET_VECTOR_ELT(out, 14 + k, VECTOR_ELT(extra, k));
        SET_STRING_ELT(nm, 14 + k, Rf_mkChar(names[k]));
    }
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(4);
    return out;
}

SEXP sdd_r_evaluate(SEXP real, SEXP synth, SEXP opts)
{
    sdd_pair_opt_t po;
    sdd_eval_opt_t eo;
    sdd_pair_t *p = NULL;
    sdd_eval_t *e = NULL;
    sdd_heldout_eval_t *h = NULL;
    const char *train = opt_str(opts, "train");
    double seed = 42;
    int rc, verbose = opt_flag(opts, "verbose", 0);
    SEXP guard, out;
    sdd_r_setup(verbose);
    sdd_pair_opt_init(&po);
    sdd_eval_opt_init(&eo);
    po.label_key = opt_str(opts, "label");
    po.real_normalized = opt_flag(opts, "real_normalized", 0);
    opt_dbl(opts, "target_sum", &po.target_sum);
    opt_int(opts, "n_sub", &eo.n_sub);
    opt_dbl(opts, "seed", &seed);
    if (seed < 0) Rf_error("seed must be >= 0");
    eo.seed = (uint64_t)seed;
    set_threads(opts);
    if ((rc = sdd_eval_opt_check(&eo)) < 0) fail_with(rc);
    if ((rc = sdd_pair_load(sdd_r_string(real, "real"), sdd_r_string(synth, "synth"), &po, &p)) < 0)
        fail_with(rc);
    if (train && (rc = sdd_pair_load_train(p, train, &po)) < 0) {
        sdd_pair_destroy(p);
        fail_with(rc);
    }
    if (train)
        rc = sdd_evaluate_heldout(&p->real, &p->synth, &p->train, p->real_labels, p->synth_labels,
                                  p->train_labels, p->label_names, p->n_labels, &eo, sdd_r_progress,
                                  &verbose, &h);
    else
        rc = sdd_evaluate(&p->real, &p->synth, p->real_labels, p->synth_labels, p->label_names, p->n_labels,
                          &eo, sdd_r_progress, &verbose, &e);
    sdd_pair_destroy(p);
    if (rc < 0) fail_with(rc);
    if (h) {
        guard = PROTECT(R_MakeExternalPtr(h, R_NilValue, R_NilValue));
        R_RegisterCFinalizerEx(guard, heldout_finalizer, TRUE);
        out = PROTECT(heldout_list(h));
        heldout_finalizer(guard);
    } else {
        guard = PROTECT(R_MakeExternalPtr(e, R_NilValue, R_NilValue));
        R_RegisterCFinalizerEx(guard, eval_finalizer, TRUE);
        out = PROTECT(eval_list(e));
        eval_finalizer(guard);
    }
    UNPROTECT(2);
    return out;
}

/* The model's metadata that R users need, parsed from its JSON with cJSON:
 * list(genes, n_params, step, n_cells, label_key, labels). */
#include <cjson/cJSON.h>

static SEXP json_strings(const cJSON *a)
{
    int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
    SEXP s = PROTECT(Rf_allocVector(STRSXP, n));
    for (int k = 0; k < n; k++) {
        const cJSON *e = cJSON_GetArrayItem(a, k);
        SET_STRING_ELT(s, k, cJSON_IsString(e) ? Rf_mkCharCE(e->valuestring, CE_UTF8) : NA_STRING);
    }
    UNPROTECT(1);
    return s;
}

static void json_guard_free(SEXP p)
{
    cJSON_Delete(R_ExternalPtrAddr(p));
    R_ClearExternalPtr(p);
}

SEXP sdd_r_model_summary(SEXP model)
{
    static const char *names[] = {"genes", "n_params", "step", "n_cells", "label_key", "labels"};
    char *text = sdd_model_json(get_model(model));
    cJSON *j, *genes, *prep, *labels;
    SEXP guard, out;
    if (!text) Rf_error("out of memory");
    j = cJSON_Parse(text);
    free(text);
    if (!j) Rf_error("the model's metadata is not valid JSON");
    guard = PROTECT(R_MakeExternalPtr(j, R_NilValue, R_NilValue));
    R_RegisterCFinalizerEx(guard, json_guard_free, TRUE);
    out = PROTECT(sdd_r_named_list(6, names));
    genes = cJSON_GetObjectItem(j, "genes");
    SET_VECTOR_ELT(out, 0, json_strings(cJSON_GetObjectItem(genes, "names")));
    SET_VECTOR_ELT(out, 1, Rf_ScalarReal(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "n_params"))));
    SET_VECTOR_ELT(out, 2, Rf_ScalarReal(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "step"))));
    prep = cJSON_GetObjectItem(j, "preprocessing");
    SET_VECTOR_ELT(out, 3, Rf_ScalarReal(cJSON_GetNumberValue(cJSON_GetObjectItem(prep, "cells_kept"))));
    labels = cJSON_GetObjectItem(j, "labels");
    if (cJSON_IsObject(labels)) {
        const cJSON *key = cJSON_GetObjectItem(labels, "key");
        if (cJSON_IsString(key)) SET_VECTOR_ELT(out, 4, Rf_mkString(key->valuestring));
        SET_VECTOR_ELT(out, 5, json_strings(cJSON_GetObjectItem(labels, "categories")));
    }
    json_guard_free(guard);
    UNPROTECT(2);
    return out;
}
