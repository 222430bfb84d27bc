/*
 * checkpoint.c: the model file (.sdd). One file, written to a temporary name beside the
 * target, flushed to disk and renamed into place (sdd_tmp_commit), so a crash or a
 * kill -9 never leaves a half-written model at the target name.
 *
 * Layout (host byte order, little-endian on every supported platform):
 *   "SDDCELL\0"  u32 format version  u32 header bytes
 *   i64 G  i32 bits D H0 H1 H2 H3 F E n_labels  i64 n_params  i64 step
 *   u64 rng[4]  i32 rng_has_spare  f64 rng_spare  u64 json_bytes  i64 n_lib
 *   json (metadata written with cJSON: genes, scaling, labels, options, preprocessing)
 *   f32 params[n]  f32 ema[n]  f32 adam_m[n]  f32 adam_v[n]  f32 M_g[G]  f32 m_g[G]
 *   f64 library_sizes[n_lib]  [f32 kept[n] when sections & 1]
 *   u64 checksum (FNV-1a over the sections after the header)
 * `sections` flags optional sections: bit 0, the EMA weights the validation rule keeps
 * while a run is in progress (train.c, validation.c). Files without them read as before.
 * The sizes in the header are checked against the file size before anything is read,
 * so a truncated or padded file is reported as such rather than misread.
 */
#include "nn.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define SDD_MODEL_MAGIC "SDDCELL"   /* with its terminating zero: 8 bytes */
#define SDD_MODEL_FORMAT 1

uint64_t sdd_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i = 0;
    /* 8 bytes per round: the model's 100+ MB would take a noticeable time byte by byte */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    for (; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static cJSON *json_strv(char **v, int64_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *json_floats(const float *v, int64_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

#define TO(key, kind, field) SDD_JF(key, kind, sdd_train_opt_t, field)
/* The training options as the model file records them (read back by options_from_json). */
static const sdd_json_field_t train_fields[] = {
    TO("steps", I64, steps), TO("batch_size", I64, batch), TO("lr", DBL, lr), TO("ema", DBL, ema),
    TO("bit_scale", DBL, bit_scale), TO("clip", DBL, clip), TO("seed", U64, seed), TO("head", INT, head),
    TO("emb", INT, emb), TO("sparsity_bits", BOOL, sparsity_bits), TO("label_dropout", DBL, label_dropout),
    TO("bit_weight", DBL, bit_weight), TO("value_mask", BOOL, value_mask), TO("precond", INT, precond),
    TO("precond_mu_value", DBL, precond_mu[0]), TO("precond_mu_bit", DBL, precond_mu[1]),
    TO("lr_decay", BOOL, lr_decay), TO("self_cond", DBL, self_cond), TO("checkpoint_every", I64, checkpoint_every),
    TO("validation", DBL, validation), TO("val_every", I64, val_every), TO("patience", INT, patience),
    TO("val_tol", DBL, val_tol)};
#undef TO

static cJSON *json_options(const sdd_train_opt_t *o)
{
    cJSON *t = cJSON_CreateObject();
    sdd_json_add_fields(t, o, train_fields, sizeof train_fields / sizeof *train_fields);
    cJSON_AddStringToObject(t, "scale", o->scale_gene ? "gene" : "global");
    cJSON_AddItemToObject(t, "hidden", cJSON_CreateIntArray(o->hidden, 4));
    cJSON_AddStringToObject(t, "precision", sdd_precision_name(o->precision));
    if (o->grad_slices > 1) cJSON_AddNumberToObject(t, "grad_slices", o->grad_slices);
    return t;
}

char *sdd_model_json(const sdd_model_t *m)
{
    cJSON *root = cJSON_CreateObject(), *genes, *sc, *lab, *prep;
    char *txt;
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "format", "sddcell-model");
    cJSON_AddNumberToObject(root, "format_version", SDD_MODEL_FORMAT);
    cJSON_AddStringToObject(root, "tool_version", SDD_VERSION);
    cJSON_AddNumberToObject(root, "n_params", (double)m->n_params);
    cJSON_AddNumberToObject(root, "step", (double)m->step);
    cJSON_AddNumberToObject(root, "seed", (double)m->opt.seed);
    cJSON_AddNumberToObject(root, "n_genes", (double)m->shape.G);
    genes = cJSON_AddObjectToObject(root, "genes");
    cJSON_AddItemToObject(genes, "names", json_strv(m->gene_names, m->shape.G));
    cJSON_AddItemToObject(genes, "ids", m->gene_ids ? json_strv(m->gene_ids, m->shape.G) : cJSON_CreateNull());
    sc = cJSON_AddObjectToObject(root, "scaling");
    cJSON_AddStringToObject(sc, "mode", m->scale_gene ? "gene" : "global");
    cJSON_AddNumberToObject(sc, "M", m->M);
    cJSON_AddItemToObject(sc, "M_g", json_floats(m->Mg, m->shape.G));
    cJSON_AddItemToObject(sc, "m_g", json_floats(m->mg, m->shape.G));
    cJSON_AddNumberToObject(sc, "bit_scale", m->bit_scale);
    if (m->shape.n_labels > 0) {
        lab = cJSON_AddObjectToObject(root, "labels");
        cJSON_AddStringToObject(lab, "key", m->label_key ? m->label_key : "");
        cJSON_AddItemToObject(lab, "categories", json_strv(m->label_names, m->shape.n_labels));
        cJSON_AddItemToObject(lab, "frequencies", cJSON_CreateDoubleArray(m->label_freq, m->shape.n_labels));
    } else {
        cJSON_AddNullToObject(root, "labels");
    }
    cJSON_AddItemToObject(root, "train", json_options(&m->opt));
    if (m->val.checks > 0) {
        cJSON *v = cJSON_AddObjectToObject(root, "validation");
        cJSON_AddNumberToObject(v, "checks", (double)m->val.checks);
        cJSON_AddNumberToObject(v, "best_loss", m->val.best_loss);
        cJSON_AddNumberToObject(v, "best_step", (double)m->val.best_step);
        cJSON_AddNumberToObject(v, "kept_loss", m->val.kept_loss);
        cJSON_AddNumberToObject(v, "kept_step", (double)m->val.kept_step);
        cJSON_AddNumberToObject(v, "bad", m->val.bad);
        cJSON_AddNumberToObject(v, "stopped", (double)m->val.stopped);
    }
    prep = m->prep_json ? cJSON_Parse(m->prep_json) : NULL;
    cJSON_AddItemToObject(root, "preprocessing", prep ? prep : cJSON_CreateObject());
    txt = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return txt;
}

static int write_section(FILE *f, const void *p, size_t n, uint64_t *h)
{
    *h = sdd_fnv1a(*h, p, n);
    return n == 0 || fwrite(p, 1, n, f) == n ? 0 : -1;
}

int sdd_model_save(const sdd_model_t *m, const char *path)
{
    sdd_ckpt_header_t hd;
    char *tmp = NULL, *json = NULL;
    FILE *f = NULL;
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t n = (size_t)m->n_params * sizeof(float), g = (size_t)m->shape.G * sizeof(float);
    int rc = SDD_EIO, bad = 0;
    memset(&hd, 0, sizeof hd);
    memcpy(hd.magic, SDD_MODEL_MAGIC, 8);
    hd.version = SDD_MODEL_FORMAT;
    hd.header_bytes = sizeof hd;
    hd.G = m->shape.G;
    hd.bits = m->shape.bits;
    hd.D = m->shape.D;
    memcpy(hd.H, m->shape.H, sizeof hd.H);
    hd.F = m->shape.F;
    hd.E = m->shape.E;
    hd.n_labels = m->shape.n_labels;
    hd.n_params = m->n_params;
    hd.step = m->step;
    memcpy(hd.rng, m->rng.s, sizeof hd.rng);
    hd.rng_has_spare = m->rng.has_spare;
    hd.rng_spare = m->rng.spare;
    hd.n_lib = m->n_lib;
    hd.sections = m->kept ? 1 : 0;
    if (!(json = sdd_model_json(m))) return sdd_error(SDD_ENOMEM, "out of memory writing model metadata");
    hd.json_bytes = strlen(json);
    if (!(tmp = sdd_tmp_path(path))) {
        free(json);
        return SDD_ENOMEM;
    }
    sdd_tmp_track(tmp);
    if (!(f = fopen(tmp, "wb"))) {
        rc = sdd_error(SDD_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto fail;
    }
    bad |= fwrite(&hd, sizeof hd, 1, f) != 1;
    bad |= write_section(f, json, hd.json_bytes, &h);
    bad |= write_section(f, m->params, n, &h);
    bad |= write_section(f, m->ema, n, &h);
    bad |= write_section(f, m->adam_m, n, &h);
    bad |= write_section(f, m->adam_v, n, &h);
    bad |= write_section(f, m->Mg, g, &h);
    bad |= write_section(f, m->mg, g, &h);
    bad |= write_section(f, m->lib_sizes, (size_t)m->n_lib * sizeof(double), &h);
    if (m->kept) bad |= write_section(f, m->kept, n, &h);
    bad |= fwrite(&h, sizeof h, 1, f) != 1;
    bad |= fclose(f) != 0;
    f = NULL;
    if (bad || sdd_tmp_commit(tmp, path) != 0) {
        rc = sdd_error(SDD_EIO, "%s: cannot write the model: %s", path, strerror(errno));
        remove(tmp);
        goto fail;
    }
    rc = SDD_OK;
fail:
    if (f) {
        fclose(f);
        remove(tmp);
    }
    sdd_tmp_untrack(tmp);
    free(tmp);
    free(json);
    return rc;
}

static double jnum(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* An integer option from a damaged file may be NaN or far out of range; converting such
 * a double is undefined, so it is clamped first (the option check then refuses it). */
static int64_t jint(const cJSON *o, const char *k, int64_t dflt, int64_t lo, int64_t hi)
{
    double v = jnum(o, k, (double)dflt);
    if (!(v == v)) return lo;
    return v <= (double)lo ? lo : v >= (double)hi ? hi : (int64_t)v;
}

static void options_from_json(const cJSON *t, sdd_train_opt_t *o)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "scale");
    const int64_t big = INT64_C(1) << 62;
    double seed;
    o->steps = jint(t, "steps", 0, -1, big);
    o->batch = jint(t, "batch_size", o->batch, 0, big);
    o->lr = jnum(t, "lr", o->lr);
    o->ema = jnum(t, "ema", o->ema);
    o->bit_scale = jnum(t, "bit_scale", o->bit_scale);
    o->scale_gene = cJSON_IsString(s) && !strcmp(s->valuestring, "gene");
    o->clip = jnum(t, "clip", o->clip);
    seed = jnum(t, "seed", 0);
    o->seed = seed >= 0 && seed < 18446744073709551616.0 ? (uint64_t)seed : 0;
    o->head = (int)jint(t, "head", o->head, 0, INT32_MAX);
    o->emb = (int)jint(t, "emb", o->emb, 0, INT32_MAX);
    o->sparsity_bits = jint(t, "sparsity_bits", 1, 0, 1) != 0;
    o->label_dropout = jnum(t, "label_dropout", o->label_dropout);
    o->bit_weight = jnum(t, "bit_weight", o->bit_weight);
    o->value_mask = jint(t, "value_mask", 0, 0, 1) != 0;
    o->precond = (int)jint(t, "precond", 0, 0, 2);
    o->precond_mu[0] = jnum(t, "precond_mu_value", 0);
    o->precond_mu[1] = jnum(t, "precond_mu_bit", 0);
    o->lr_decay = jint(t, "lr_decay", 0, 0, 1) != 0;
    o->self_cond = jnum(t, "self_cond", o->self_cond);
    o->checkpoint_every = jint(t, "checkpoint_every", 0, -1, big);
    s = cJSON_GetObjectItemCaseSensitive(t, "precision"); /* absent in older models: fp32 */
    o->precision = cJSON_IsString(s) && sdd_precision_parse(s->valuestring) >= 0 ? sdd_precision_parse(s->valuestring)
                                                                                : SDD_PRECISION_FP32;
    o->grad_slices = (int)jint(t, "grad_slices", 1, 1, 1024); /* absent: the whole batch at once */
    /* absent in models trained before the validation rule: none */
    o->validation = jnum(t, "validation", 0);
    o->val_every = jint(t, "val_every", o->val_every, 0, big);
    o->patience = (int)jint(t, "patience", o->patience, 0, 1001);
    o->val_tol = jnum(t, "val_tol", o->val_tol);
}

static char **strv_from_json(const cJSON *a, int64_t n)
{
    char **v;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) return NULL;
    if (!(v = sdd_calloc((size_t)(n > 0 ? n : 1), sizeof *v))) return NULL;
    for (int64_t i = 0; i < n; i++) {
        const cJSON *s = cJSON_GetArrayItem(a, (int)i);
        if (!cJSON_IsString(s) || !(v[i] = sdd_strdup(s->valuestring))) {
            sdd_strv_free(v, n);
            return NULL;
        }
    }
    return v;
}

/* Labels of a conditional model: a key that can name an obs column, distinct categories,
 * and training proportions in [0, 1] that add up to 1 (sampling divides the cells by
 * them, so a damaged value would make it write past its buffer or never finish). */
static int labels_from_json(sdd_model_t *m, const cJSON *lab, const char *path)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(lab, "key");
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(lab, "frequencies");
    int nl = m->shape.n_labels, dup;
    double sum = 0;
    m->label_names = strv_from_json(cJSON_GetObjectItemCaseSensitive(lab, "categories"), nl);
    m->label_freq = sdd_calloc((size_t)nl, sizeof(double));
    if (!m->label_names || !m->label_freq || !cJSON_IsString(k) || !cJSON_IsArray(fr) ||
        cJSON_GetArraySize(fr) != nl)
        return sdd_error(SDD_EFORMAT, "%s: damaged metadata: label categories", path);
    if (!k->valuestring[0] || strchr(k->valuestring, '/') || !strcmp(k->valuestring, "."))
        return sdd_error(SDD_EFORMAT, "%s: damaged metadata: the label key '%s' cannot name an obs column",
                         path, k->valuestring);
    if ((dup = sdd_strv_find_dup(m->label_names, nl)) >= 0)
        return sdd_error(SDD_EFORMAT, "%s: damaged metadata: the label '%s' appears twice", path,
                         m->label_names[dup]);
    for (int i = 0; i < nl; i++) {
        const cJSON *f = cJSON_GetArrayItem(fr, i);
        double v = cJSON_IsNumber(f) ? f->valuedouble : NAN;
        if (!(v >= 0 && v <= 1))
            return sdd_error(SDD_EFORMAT, "%s: damaged metadata: the training frequency of label '%s' is %g, "
                             "not a proportion in [0, 1]", path, m->label_names[i], v);
        m->label_freq[i] = v;
        sum += v;
    }
    if (fabs(sum - 1) > 1e-6)
        return sdd_error(SDD_EFORMAT, "%s: damaged metadata: the label frequencies add up to %.9g, not 1", path, sum);
    if (!(m->label_key = sdd_strdup(k->valuestring))) return SDD_ENOMEM;
    return SDD_OK;
}

/* The validation rule's state: absent before the first check. Steps beyond the model's. */
static int validation_from_json(sdd_model_t *m, const cJSON *v, const char *path)
{
    sdd_valstate_t *s = &m->val;
    const int64_t big = INT64_C(1) << 62;
    if (!v) return m->kept ? sdd_error(SDD_EFORMAT, "%s: damaged model: kept weights without a validation state",
                                       path) : SDD_OK;
    s->checks = jint(v, "checks", 0, 0, big);
    s->best_loss = jnum(v, "best_loss", NAN);
    s->best_step = jint(v, "best_step", 0, 0, big);
    s->kept_loss = jnum(v, "kept_loss", NAN);
    s->kept_step = jint(v, "kept_step", 0, 0, big);
    s->bad = (int)jint(v, "bad", 0, 0, 1001);
    s->stopped = jint(v, "stopped", 0, 0, big);
    if (s->checks < 1 || !isfinite(s->best_loss) || !isfinite(s->kept_loss) || s->best_step > s->kept_step ||
        s->kept_step > m->step || s->stopped > m->step || (!s->stopped && !m->kept) ||
        (s->stopped && m->kept))
        return sdd_error(SDD_EFORMAT, "%s: damaged metadata: validation state", path);
    return SDD_OK;
}

/* Metadata that is not in the binary sections: names, labels, options, preprocessing. */
static int metadata_from_json(sdd_model_t *m, const cJSON *root, const char *path)
{
    const cJSON *genes = cJSON_GetObjectItemCaseSensitive(root, "genes");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "scaling");
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(root, "labels");
    const cJSON *prep = cJSON_GetObjectItemCaseSensitive(root, "preprocessing");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(genes, "ids");
    int64_t G = m->shape.G;
    int rc;
    if (!(m->gene_names = strv_from_json(cJSON_GetObjectItemCaseSensitive(genes, "names"), G)))
        return sdd_error(SDD_EFORMAT, "%s: damaged metadata: gene names missing", path);
    if (ids && !cJSON_IsNull(ids) && !(m->gene_ids = strv_from_json(ids, G)))
        return sdd_error(SDD_EFORMAT, "%s: damaged metadata: gene ids", path);
    m->M = jnum(sc, "M", 0);
    if (!(m->M > 0 && isfinite(m->M))) return sdd_error(SDD_EFORMAT, "%s: damaged metadata: scaling M", path);
    if (m->shape.n_labels > 0 && (rc = labels_from_json(m, lab, path)) < 0) return rc;
    if ((rc = validation_from_json(m, cJSON_GetObjectItemCaseSensitive(root, "validation"), path)) < 0) return rc;
    m->prep_json = prep ? cJSON_PrintUnformatted(prep) : sdd_strdup("{}");
    return m->prep_json ? SDD_OK : SDD_ENOMEM;
}

/* Bound the header's sizes before any of them is multiplied (2^40 parameters is far
 * beyond any model, and keeps every product below in range), then require the file to
 * be exactly as long as they say. */
static int read_header(FILE *f, const char *path, sdd_ckpt_header_t *hd, int64_t *expect)
{
    size_t got = fread(hd, 1, sizeof *hd, f);
    struct stat st;
    int64_t size;
    if (got < 8 || memcmp(hd->magic, SDD_MODEL_MAGIC, 8))
        return sdd_error(SDD_EFORMAT, "%s: not an sddcell model (wrong magic)", path);
    if (got < 16 || hd->version != SDD_MODEL_FORMAT)
        return sdd_error(SDD_EFORMAT, "%s: model format version %u, but this sddcell %s reads version %d: "
                         "use the sddcell version that wrote it, or train the model again", path,
                         got < 16 ? 0u : hd->version, SDD_VERSION, SDD_MODEL_FORMAT);
    if (got < sizeof *hd || hd->header_bytes != sizeof *hd)
        return sdd_error(SDD_EFORMAT, "%s: truncated or damaged model header", path);
    if (hd->sections & ~1)
        return sdd_error(SDD_EFORMAT, "%s: damaged model header (unknown sections %d)", path, hd->sections);
    if (fstat(fileno(f), &st) != 0) return sdd_error(SDD_EIO, "%s: %s", path, strerror(errno));
    size = (int64_t)st.st_size;
    if (hd->G < 1 || hd->G > INT32_MAX / 4 || hd->n_params < 1 || hd->n_lib < 0 || hd->E < 2 ||
        hd->F < 1 || hd->n_labels < 0 || hd->json_bytes > (uint64_t)1 << 40)
        return sdd_error(SDD_EFORMAT, "%s: damaged model header (sizes out of range)", path);
    if (hd->n_params > (int64_t)1 << 40 || hd->n_lib > (int64_t)1 << 40)
        return sdd_error(SDD_EFORMAT, "%s: damaged model header: %lld parameters, %lld library sizes (out of range)",
                         path, (long long)hd->n_params, (long long)hd->n_lib);
    *expect = (int64_t)sizeof *hd + (int64_t)hd->json_bytes + 4 * 4 * hd->n_params + 2 * 4 * hd->G +
              8 * hd->n_lib + 8 + (hd->sections & 1 ? 4 * hd->n_params : 0);
    if (size < *expect)
        return sdd_error(SDD_EFORMAT, "%s: truncated model file: %lld bytes, its header says %lld",
                         path, (long long)size, (long long)*expect);
    if (size > *expect)
        return sdd_error(SDD_EFORMAT, "%s: damaged model file: %lld bytes, its header says %lld",
                         path, (long long)size, (long long)*expect);
    return SDD_OK;
}

static int read_section(FILE *f, void *p, size_t n, uint64_t *h)
{
    if (n && fread(p, 1, n, f) != n) return -1;
    *h = sdd_fnv1a(*h, p, n);
    return 0;
}

static int model_from_header(const sdd_ckpt_header_t *hd, const cJSON *root, const char *path,
                             sdd_model_t **out)
{
    sdd_netshape_t s = {0};
    sdd_train_opt_t o;
    int rc;
    sdd_train_opt_init(&o);
    options_from_json(cJSON_GetObjectItemCaseSensitive(root, "train"), &o);
    s.G = hd->G;
    s.bits = hd->bits;
    s.D = hd->D;
    memcpy(s.H, hd->H, sizeof s.H);
    s.F = hd->F;
    s.E = hd->E;
    s.n_labels = hd->n_labels;
    memcpy(o.hidden, hd->H, sizeof o.hidden);
    /* the widths are bounded (by the option check and by the parameter count, which the
     * file size bounds) before the parameter table multiplies them */
    if ((rc = sdd_train_opt_check(&o)) < 0) {
        char why[300];
        snprintf(why, sizeof why, "%s", sdd_errdetail()); /* the detail is rewritten below */
        return sdd_error(SDD_EFORMAT, "%s: damaged model: %s", path, why);
    }
    if ((s.bits != 0 && s.bits != 1) || s.D != (s.bits ? 2 : 1) * s.G)
        return sdd_error(SDD_EFORMAT, "%s: damaged model header: output width %d for %lld genes", path, s.D,
                         (long long)s.G);
    if (s.F != o.head || s.E != o.emb)
        return sdd_error(SDD_EFORMAT, "%s: damaged model header: head and embedding widths %d, %d, but the "
                         "training options say %d, %d", path, s.F, s.E, o.head, o.emb);
    if (s.n_labels >= hd->n_params || sdd_net_count(&s) != hd->n_params)
        return sdd_error(SDD_EFORMAT, "%s: damaged model header: %lld parameters, but its widths give %lld",
                         path, (long long)hd->n_params, (long long)sdd_net_count(&s));
    if ((rc = sdd_model_alloc(out, &s, &o)) < 0) return rc;
    return SDD_OK;
}

/* A model that passed the checksum can still hold NaN or infinite numbers (written by a
 * run that diverged, or damaged before the checksum was taken); sampling from it would
 * give NaN cells, so it is refused here with what went wrong. */
static int values_finite(const sdd_model_t *m, const char *path)
{
    int rc;
    char why[600];
    if ((rc = sdd_net_check_finite(m, m->params, "training weights")) < 0 ||
        (rc = sdd_net_check_finite(m, m->ema, "EMA weights")) < 0 ||
        (m->kept && (rc = sdd_net_check_finite(m, m->kept, "kept weights")) < 0)) {
        snprintf(why, sizeof why, "%s", sdd_errdetail()); /* the detail is rewritten below */
        return sdd_error(rc, "%s: %s", path, why);
    }
    for (int64_t j = 0; j < m->shape.G; j++)
        if (!isfinite(m->Mg[j]) || !isfinite(m->mg[j]))
            return sdd_error(SDD_EFORMAT, "%s: damaged model: the scaling of gene %lld is not a finite number",
                             path, (long long)j + 1);
    for (int64_t i = 0; i < m->n_lib; i++)
        if (!(m->lib_sizes[i] >= 0 && isfinite(m->lib_sizes[i])))
            return sdd_error(SDD_EFORMAT, "%s: damaged model: training library size %lld is %g", path,
                             (long long)i + 1, m->lib_sizes[i]);
    return SDD_OK;
}

int sdd_model_load(const char *path, sdd_model_t **out)
{
    FILE *f = fopen(path, "rb");
    sdd_ckpt_header_t hd;
    sdd_model_t *m = NULL;
    cJSON *root = NULL;
    char *json = NULL;
    int64_t expect;
    uint64_t h = 0xcbf29ce484222325ULL, stored;
    size_t n, g;
    int rc, bad = 0;
    *out = NULL;
    if (!f) return sdd_error(SDD_EIO, "%s: cannot open: %s", path, strerror(errno));
    if ((rc = read_header(f, path, &hd, &expect)) < 0) goto fail;
    if (!(json = sdd_malloc(hd.json_bytes + 1))) {
        rc = SDD_ENOMEM;
        goto fail;
    }
    bad |= read_section(f, json, hd.json_bytes, &h);
    json[hd.json_bytes] = 0;
    if (bad || !(root = cJSON_Parse(json))) {
        rc = sdd_error(SDD_EFORMAT, "%s: damaged model: metadata is not valid JSON", path);
        goto fail;
    }
    if ((rc = model_from_header(&hd, root, path, &m)) < 0) goto fail;
    n = (size_t)m->n_params * sizeof(float);
    g = (size_t)hd.G * sizeof(float);
    m->n_lib = hd.n_lib;
    if (hd.n_lib > 0 && !(m->lib_sizes = sdd_malloc((size_t)hd.n_lib * sizeof(double)))) {
        rc = SDD_ENOMEM;
        goto fail;
    }
    bad |= read_section(f, m->params, n, &h);
    bad |= read_section(f, m->ema, n, &h);
    bad |= read_section(f, m->adam_m, n, &h);
    bad |= read_section(f, m->adam_v, n, &h);
    bad |= read_section(f, m->Mg, g, &h);
    bad |= read_section(f, m->mg, g, &h);
    bad |= read_section(f, m->lib_sizes, (size_t)hd.n_lib * sizeof(double), &h);
    if (hd.sections & 1) {
        if (!(m->kept = sdd_malloc(n))) {
            rc = SDD_ENOMEM;
            goto fail;
        }
        bad |= read_section(f, m->kept, n, &h);
    }
    bad |= fread(&stored, sizeof stored, 1, f) != 1;
    if (bad || stored != h) {
        rc = sdd_error(SDD_EFORMAT, "%s: damaged model file (checksum mismatch)", path);
        goto fail;
    }
    m->step = hd.step;
    if ((rc = metadata_from_json(m, root, path)) < 0 || (rc = values_finite(m, path)) < 0) goto fail;
    memcpy(m->rng.s, hd.rng, sizeof hd.rng);
    m->rng.has_spare = hd.rng_has_spare;
    m->rng.spare = hd.rng_spare;
    *out = m;
    m = NULL;
    rc = SDD_OK;
fail:
    fclose(f);
    free(json);
    cJSON_Delete(root);
    sdd_model_destroy(m);
    return rc;
}
