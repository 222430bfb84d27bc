/*
 * mtx_read.c: 10x MTX folders (Cell Ranger's filtered_feature_bc_matrix/ directory):
 * matrix.mtx[.gz], features.tsv[.gz] (Cell Ranger >= 3: id, name, feature_type) or
 * genes.tsv[.gz] (<= 2: id, name), barcodes.tsv[.gz]. zlib's gzopen/gzgets read both
 * gzipped and plain files.
 *
 * matrix.mtx is MatrixMarket "coordinate" (integer, real or pattern; general) over
 * genes x cells with 1-based indices: a header line, % comments, a size line
 * "G N L", then exactly L entry lines "i j v". Parsing is strict: every number must
 * parse whole and lie in range, the entry count must equal L, feature and barcode
 * counts must equal G and N; any violation names the file and the line.
 * The entries become CSR over cells x genes (the transpose), rows sorted, duplicate
 * coordinates summed (as scipy's conversion does). Features are filtered by type like
 * the 10x .h5 reader, and gene names made unique.
 */
#include "read_internal.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

typedef struct {
    gzFile f;
    char path[1024];
    char *buf;
    size_t cap;
    int64_t line;
} lines_t;

/* Open the first of the candidate names that exists in dir. */
static int lines_open(lines_t *L, const char *dir, const char *const *cands, const char *what)
{
    memset(L, 0, sizeof *L);
    for (int i = 0; cands[i]; i++) {
        snprintf(L->path, sizeof L->path, "%s/%s", dir, cands[i]);
        if (access(L->path, R_OK) == 0) {
            if (!(L->f = gzopen(L->path, "rb"))) return sdd_error(SDD_EIO, "%s: %s", L->path, strerror(errno));
            return SDD_OK;
        }
    }
    return sdd_error(SDD_EFORMAT, "%s: no %s file (looked for %s%s%s...)", dir, what, cands[0],
                     cands[1] ? ", " : "", cands[1] ? cands[1] : "");
}

static void lines_close(lines_t *L)
{
    if (L->f) gzclose(L->f);
    free(L->buf);
    memset(L, 0, sizeof *L);
}

/* Next line without its end-of-line: 1 = a line in L->buf, 0 = end, < 0 = error. */
static int lines_next(lines_t *L)
{
    size_t len = 0;
    int errnum;
    if (!L->buf) {
        L->cap = 4096;
        if (!(L->buf = sdd_malloc(L->cap))) return SDD_ENOMEM;
    }
    L->buf[0] = 0;
    for (;;) {
        if (!gzgets(L->f, L->buf + len, (int)(L->cap - len))) break;
        len += strlen(L->buf + len);
        if (len > 0 && L->buf[len - 1] == '\n') break;
        if (len + 1 < L->cap) break; /* last line without newline */
        {
            char *nb = sdd_realloc(L->buf, L->cap * 2);
            if (!nb) return SDD_ENOMEM;
            L->buf = nb;
            L->cap *= 2;
        }
    }
    gzerror(L->f, &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END)
        return sdd_error(SDD_EFORMAT, "%s: line %lld: read error (truncated or corrupt gzip data)", L->path,
                         (long long)L->line + 1);
    if (len == 0) return 0;
    while (len > 0 && (L->buf[len - 1] == '\n' || L->buf[len - 1] == '\r')) L->buf[--len] = 0;
    L->line++;
    return 1;
}

/* Split s in place at runs of blanks; returns the number of tokens (at most max). */
static int tokens(char *s, char **tok, int max)
{
    int n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t') *s++ = 0;
        if (!*s) break;
        if (n == max) return max + 1;
        tok[n++] = s;
        while (*s && *s != ' ' && *s != '\t') s++;
    }
    return n;
}

static int bad_line(const lines_t *L, const char *why)
{
    return sdd_error(SDD_EFORMAT, "%s: line %lld: %s", L->path, (long long)L->line, why);
}

/* ------------------------------------------------------------ matrix.mtx */

typedef struct {
    int64_t n_genes, n_cells, n_entries;
    int32_t *gene, *cell;
    float *val;
    int pattern;
    char field[16];
} coo_t;

static int mtx_header(lines_t *L, coo_t *m)
{
    char *tok[6];
    int rc = lines_next(L);
    if (rc < 0) return rc;
    if (rc == 0) return bad_line(L, "empty file, expected a %%MatrixMarket header");
    if (tokens(L->buf, tok, 5) != 5 || strcasecmp(tok[0], "%%MatrixMarket") != 0 || strcasecmp(tok[1], "matrix") != 0)
        return bad_line(L, "not a MatrixMarket header ('%%MatrixMarket matrix coordinate <field> general')");
    if (strcasecmp(tok[2], "coordinate") != 0) return bad_line(L, "only the coordinate (sparse) MatrixMarket format is read");
    if (strcasecmp(tok[4], "general") != 0) return bad_line(L, "only 'general' (non-symmetric) matrices are read");
    if (strcasecmp(tok[3], "integer") != 0 && strcasecmp(tok[3], "real") != 0 && strcasecmp(tok[3], "pattern") != 0)
        return bad_line(L, "field must be integer, real or pattern");
    m->pattern = strcasecmp(tok[3], "pattern") == 0;
    snprintf(m->field, sizeof m->field, "%s", strcasecmp(tok[3], "real") == 0 ? "float64"
                                               : m->pattern ? "pattern" : "int64");
    while ((rc = lines_next(L)) > 0 && L->buf[0] == '%') {}
    if (rc < 0) return rc;
    if (rc == 0) return bad_line(L, "missing size line");
    if (tokens(L->buf, tok, 3) != 3) return bad_line(L, "size line must be 'genes cells entries'");
    if (sdd_parse_int64(tok[0], 0, INT64_MAX, "genes", &m->n_genes) < 0 ||
        sdd_parse_int64(tok[1], 0, INT64_MAX, "cells", &m->n_cells) < 0 ||
        sdd_parse_int64(tok[2], 0, INT64_MAX, "entries", &m->n_entries) < 0) {
        char why[200];
        snprintf(why, sizeof why, "size line: %s", sdd_errdetail());
        return bad_line(L, why);
    }
    if (m->n_genes > INT32_MAX || m->n_cells > INT32_MAX) {
        char why[200];
        snprintf(why, sizeof why, "%lld %s: more than 2147483647 (2^31 - 1), the most 32-bit indices hold",
                 (long long)(m->n_genes > INT32_MAX ? m->n_genes : m->n_cells),
                 m->n_genes > INT32_MAX ? "genes" : "cells");
        return bad_line(L, why);
    }
    if (m->n_genes > 0 && m->n_entries / m->n_genes > m->n_cells)
        return bad_line(L, "more entries than genes x cells");
    return SDD_OK;
}

static int coo_grow(coo_t *m, int64_t cap)
{
    int32_t *g = sdd_realloc(m->gene, (size_t)cap * sizeof *g), *c;
    float *v;
    if (!g) return SDD_ENOMEM;
    m->gene = g;
    if (!(c = sdd_realloc(m->cell, (size_t)cap * sizeof *c))) return SDD_ENOMEM;
    m->cell = c;
    if (!(v = sdd_realloc(m->val, (size_t)cap * sizeof *v))) return SDD_ENOMEM;
    m->val = v;
    return SDD_OK;
}

static int mtx_entries(lines_t *L, coo_t *m)
{
    int64_t cap = m->n_entries < (1 << 20) ? m->n_entries : (1 << 20), k = 0, gi, ci;
    double v = 1;
    char *tok[4];
    int rc, want = m->pattern ? 2 : 3;
    m->gene = sdd_malloc((size_t)(cap + 1) * sizeof *m->gene);
    m->cell = sdd_malloc((size_t)(cap + 1) * sizeof *m->cell);
    m->val = sdd_malloc((size_t)(cap + 1) * sizeof *m->val);
    if (!m->gene || !m->cell || !m->val) return SDD_ENOMEM;
    while ((rc = lines_next(L)) > 0) {
        if (L->buf[0] == 0) continue; /* blank lines carry nothing */
        if (k == m->n_entries) return bad_line(L, "more entries than the size line announces");
        if (tokens(L->buf, tok, want) != want) return bad_line(L, m->pattern ? "expected 'gene cell'" : "expected 'gene cell value'");
        if (sdd_parse_int64(tok[0], 1, m->n_genes, "gene", &gi) < 0 ||
            sdd_parse_int64(tok[1], 1, m->n_cells, "cell", &ci) < 0) {
            char why[160];
            snprintf(why, sizeof why, "index out of range or not an integer (genes 1..%lld, cells 1..%lld)",
                     (long long)m->n_genes, (long long)m->n_cells);
            return bad_line(L, why);
        }
        if (!m->pattern && (sdd_parse_double(tok[2], -HUGE_VAL, HUGE_VAL, "value", &v) < 0 || !isfinite(v)))
            return bad_line(L, "value is not a finite number");
        if (k == cap && (rc = coo_grow(m, cap *= 2)) < 0) return rc;
        m->gene[k] = (int32_t)(gi - 1);
        m->cell[k] = (int32_t)(ci - 1);
        m->val[k++] = (float)v;
    }
    if (rc < 0) return rc;
    if (k != m->n_entries)
        return sdd_error(SDD_EFORMAT, "%s: %lld entries, but the size line announces %lld", L->path, (long long)k,
                         (long long)m->n_entries);
    return SDD_OK;
}

/* Entries -> CSR over cells (rows) x genes, sorted, duplicates summed. */
static int coo_to_csr(const coo_t *m, sdd_csr_t *x)
{
    int64_t *pos, o = 0;
    int rc = sdd_csr_alloc(x, m->n_cells, m->n_genes, m->n_entries);
    if (rc < 0) return rc;
    if (!(pos = sdd_malloc((size_t)(m->n_cells + 1) * sizeof *pos))) {
        sdd_csr_free(x);
        return SDD_ENOMEM;
    }
    for (int64_t k = 0; k < m->n_entries; k++) x->indptr[m->cell[k] + 1]++;
    for (int64_t i = 0; i < m->n_cells; i++) x->indptr[i + 1] += x->indptr[i];
    memcpy(pos, x->indptr, (size_t)m->n_cells * sizeof *pos);
    for (int64_t k = 0; k < m->n_entries; k++) {
        int64_t d = pos[m->cell[k]]++;
        x->indices[d] = m->gene[k];
        x->data[d] = m->val[k];
    }
    free(pos);
    sdd_csr_sort(x);
    for (int64_t i = 0, k = 0; i < x->n_rows; i++) {
        int64_t end = x->indptr[i + 1];
        for (; k < end; k++) {
            if (o > x->indptr[i] && x->indices[o - 1] == x->indices[k]) x->data[o - 1] += x->data[k];
            else x->indices[o] = x->indices[k], x->data[o++] = x->data[k];
        }
        x->indptr[i + 1] = o;
    }
    x->nnz = o;
    return SDD_OK;
}

/* ------------------------------------------------------------ tsv files */

/* Append s (and t) to the growing vectors *v, *t of *k strings with room for *cap. */
static int strv_push(char ***v, char ***t, int64_t *k, int64_t *cap, const char *s, const char *third)
{
    if (*k == *cap) {
        int64_t nc = *cap ? 2 * *cap : 1024;
        char **nv = sdd_realloc(*v, (size_t)nc * sizeof *nv), **nt;
        if (!nv) return SDD_ENOMEM;
        *v = nv;
        if (!(nt = sdd_realloc(*t, (size_t)nc * sizeof *nt))) return SDD_ENOMEM;
        *t = nt;
        *cap = nc;
    }
    (*v)[*k] = (*t)[*k] = NULL;
    (*k)++;
    if (!((*v)[*k - 1] = sdd_strdup(s)) || !((*t)[*k - 1] = sdd_strdup(third))) return SDD_ENOMEM;
    return SDD_OK;
}

/* Read column `col` (and optionally column 2 into *third) of every line; the line count
 * must be `expect`. The vectors grow with the lines read, so a size line that announces
 * more than the file holds costs nothing before the count is found short. */
static int tsv_read(const char *dir, const char *const *cands, const char *what, int64_t expect, int col,
                    char ***out, char ***third, int *v3)
{
    lines_t L;
    char **v = NULL, **t = NULL, *tok[8];
    int64_t k = 0, cap = 0;
    int rc;
    if ((rc = lines_open(&L, dir, cands, what)) < 0) return rc;
    if (v3) *v3 = strstr(L.path, "features.tsv") != NULL;
    while ((rc = lines_next(&L)) > 0) {
        int nt;
        char *s = L.buf, *p;
        if (k == expect) {
            char why[120];
            snprintf(why, sizeof why, "more lines than the %lld the matrix announces", (long long)expect);
            rc = bad_line(&L, why);
            goto done;
        }
        /* tab-separated fields; names may contain spaces */
        for (nt = 0; nt < 8;) {
            tok[nt++] = s;
            if (!(p = strchr(s, '\t'))) break;
            *p = 0;
            s = p + 1;
        }
        if (nt <= col || tok[col][0] == 0) {
            rc = bad_line(&L, col ? "expected tab-separated 'id<TAB>name[<TAB>type]'" : "empty line");
            goto done;
        }
        if ((rc = strv_push(&v, &t, &k, &cap, tok[col], nt > 2 ? tok[2] : "")) < 0) goto done;
    }
    if (rc < 0) goto done;
    if (k != expect) {
        rc = sdd_error(SDD_EFORMAT, "%s: %lld lines, but matrix.mtx announces %lld", L.path, (long long)k,
                       (long long)expect);
        goto done;
    }
    if (!v && (!(v = sdd_calloc(1, sizeof *v)) || !(t = sdd_calloc(1, sizeof *t)))) {
        rc = SDD_ENOMEM;
        goto done;
    }
    *out = v;
    v = NULL;
    if (third) {
        *third = t;
        t = NULL;
    }
done:
    sdd_strv_free(v, k);
    sdd_strv_free(t, k);
    lines_close(&L);
    return rc;
}

/* Drop features of other types: select the kept columns of x and compact names / ids. */
static int filter_types(const char *dir, const sdd_read_opt_t *opt, char **types, char **names, char **ids,
                        int64_t n, sdd_csr_t *x, int64_t *kept)
{
    const char *want = opt->feature_type;
    int64_t *keep = NULL, k = 0;
    sdd_csr_t y;
    int rc;
    *kept = n;
    if (!want || strcmp(want, "all") == 0 || n == 0) return SDD_OK;
    if (!(keep = sdd_malloc((size_t)n * sizeof *keep))) return SDD_ENOMEM;
    for (int64_t j = 0; j < n; j++)
        if (types[j][0] == 0 || strcmp(types[j], want) == 0) keep[k++] = j;
    if (k == 0) {
        free(keep);
        return sdd_error(SDD_ENOTFOUND, "%s: no feature of type '%s' (e.g. '%s'); see --feature-type", dir, want,
                         types[0]);
    }
    if (k < n) {
        if ((rc = sdd_csr_select_cols(x, keep, k, &y)) < 0) {
            free(keep);
            return rc;
        }
        sdd_csr_free(x);
        *x = y;
        for (int64_t j = 0; j < k; j++) {
            char *a = names[keep[j]], *b = ids[keep[j]];
            names[keep[j]] = names[j], ids[keep[j]] = ids[j];
            names[j] = a, ids[j] = b;
        }
    }
    free(keep);
    *kept = k;
    return SDD_OK;
}

int sdd_mtx_open(const char *dir, const sdd_read_opt_t *opt, sdd_xreader_t *r, sdd_dataset_t *ds)
{
    static const char *const mtx[] = {"matrix.mtx.gz", "matrix.mtx", NULL};
    static const char *const feat[] = {"features.tsv.gz", "features.tsv", "genes.tsv.gz", "genes.tsv", NULL};
    static const char *const bc[] = {"barcodes.tsv.gz", "barcodes.tsv", NULL};
    lines_t L;
    coo_t m;
    char **ids = NULL, **names = NULL, **types = NULL, **barcodes = NULL;
    int64_t kept = 0;
    int rc, v3 = 0;
    memset(&m, 0, sizeof m);
    if ((rc = lines_open(&L, dir, mtx, "matrix")) < 0) return rc;
    if ((rc = mtx_header(&L, &m)) == 0) rc = mtx_entries(&L, &m);
    lines_close(&L);
    if (rc < 0) goto done;
    if ((rc = tsv_read(dir, feat, "features/genes", m.n_genes, 0, &ids, &types, &v3)) < 0) goto done;
    sdd_strv_free(types, m.n_genes);
    types = NULL;
    if ((rc = tsv_read(dir, feat, "features/genes", m.n_genes, 1, &names, &types, NULL)) < 0) goto done;
    if ((rc = tsv_read(dir, bc, "barcodes", m.n_cells, 0, &barcodes, NULL, NULL)) < 0) goto done;
    if ((rc = coo_to_csr(&m, &r->mem)) < 0) goto done;
    if ((rc = filter_types(dir, opt, types, names, ids, m.n_genes, &r->mem, &kept)) < 0) goto done;
    for (int64_t j = kept; j < m.n_genes; j++) {
        free(names[j]);
        free(ids[j]);
        names[j] = ids[j] = NULL;
    }
    if ((rc = sdd_names_make_unique(names, kept)) < 0) goto done;
    r->kind = SDD_XR_MEM;
    r->n_rows = m.n_cells;
    r->n_cols = kept;
    snprintf(r->what, sizeof r->what, "%s", dir);
    snprintf(ds->format, sizeof ds->format, "10x-mtx");
    snprintf(ds->generation, sizeof ds->generation, "%s", v3 ? "cellranger>=3" : "cellranger<=2");
    snprintf(ds->dtype, sizeof ds->dtype, "%s", m.field);
    snprintf(ds->x_storage, sizeof ds->x_storage, "coo");
    ds->n_cells = m.n_cells;
    ds->n_genes = kept;
    ds->cell_names = barcodes;
    ds->gene_names = names;
    ds->gene_ids = ids;
    barcodes = names = ids = NULL;
done:
    sdd_strv_free(ids, m.n_genes);
    sdd_strv_free(names, m.n_genes);
    sdd_strv_free(types, m.n_genes);
    sdd_strv_free(barcodes, m.n_cells);
    free(m.gene);
    free(m.cell);
    free(m.val);
    return rc;
}
