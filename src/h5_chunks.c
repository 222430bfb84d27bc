/*
 * h5_chunks.c: fast reads of ranges of 1-d, gzip-chunked HDF5 datasets (the data and
 * indices arrays of sparse matrices), decompressing chunks on several threads.
 *
 * HDF5 decompresses chunk after chunk on the calling thread. For a range
 * [start, start + count) this reader instead fetches the compressed chunks with
 * H5Dread_chunk (serially: the HDF5 library is not thread-safe), then inflates,
 * un-shuffles and converts them to the wanted type on up to `threads` of the library's
 * compute threads (sdd_parallel_for), each
 * chunk straight into its part of the output. Inflate uses libdeflate when configure
 * found it (whole-buffer decoding, about twice zlib's speed), else zlib.
 *
 * It applies only where it can be exact: chunked storage, a filter pipeline of at most
 * [shuffle,] deflate, a little-endian integer (1-8 bytes) or float (4, 8 bytes) type,
 * and every chunk of the range allocated. Otherwise sdd_h5_chunked_open returns no
 * reader (and callers use H5Dread), or a read returns SDD_EUNSUPPORTED before writing,
 * and the caller falls back for that range.
 * Chunks that straddle the ends of consecutive ranges are decompressed once: the last,
 * partially used chunk of a read is kept for the next read.
 */
#ifdef HAVE_CONFIG_H
#include "config.h" /* HAVE_LIBDEFLATE; builds without configure (the R package) use zlib */
#endif
#include "h5_util.h"
#include "blas.h" /* sdd_parallel_for: the library's one pool of compute threads */
#include <stdio.h>
#include <zlib.h>
#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

struct sdd_h5_chunked {
    hid_t dset;
    int64_t n;          /* dataset length */
    int64_t celems;     /* elements per chunk */
    size_t esize;       /* bytes per element on disk */
    int is_float, is_signed;
    int shuffle_at, deflate_at; /* pipeline positions, -1 if absent */
    int threads;
    int64_t keep_idx;   /* chunk held decompressed in keep, or -1 */
    unsigned char *keep, *keep_next; /* the kept chunk; the one a read is keeping */
};

/* One chunk's job in a read. */
typedef struct {
    int64_t idx;           /* chunk number */
    unsigned char *raw;    /* compressed bytes (NULL: use the kept chunk) */
    size_t raw_size;
    uint32_t mask;         /* filters skipped for this chunk */
    int64_t lo, hi;        /* element range of the chunk used, chunk-relative */
    int64_t out_at;        /* where lo lands in the output */
    int to_keep;           /* decode into c->keep_next instead of a scratch buffer */
} job_t;

typedef struct {
    sdd_h5_chunked_t *c;
    job_t *jobs;
    int64_t n_jobs;
    int64_t next;          /* atomic work counter */
    int want_float;
    void *out;
    int64_t bound;         /* int32 output: values must lie in [0, bound) (0 = no check) */
    int64_t bad;           /* atomic: first output position violating bound, or INT64_MAX */
    int failed;            /* atomic */
} batch_t;

void sdd_h5_chunked_close(sdd_h5_chunked_t *c)
{
    if (!c) return;
    free(c->keep);
    free(c->keep_next);
    free(c);
}

int sdd_h5_chunked_open(hid_t dset, int threads, sdd_h5_chunked_t **out)
{
    hid_t dcpl = -1, ft = -1;
    hsize_t cdim[1];
    sdd_h5_chunked_t *c = NULL;
    int nf, ok = 0;
    *out = NULL;
    if ((dcpl = H5Dget_create_plist(dset)) < 0 || (ft = H5Dget_type(dset)) < 0) goto done;
    if (H5Pget_layout(dcpl) != H5D_CHUNKED || H5Pget_chunk(dcpl, 1, cdim) != 1) goto done;
    if (!(c = sdd_calloc(1, sizeof *c))) goto done;
    c->dset = dset;
    c->celems = (int64_t)cdim[0];
    c->esize = H5Tget_size(ft);
    c->shuffle_at = c->deflate_at = -1;
    c->keep_idx = -1;
    c->threads = threads < 1 ? 1 : threads;
    if (sdd_h5_len1(dset, &c->n) < 0) goto done;
    switch (H5Tget_class(ft)) {
    case H5T_INTEGER: ok = c->esize == 1 || c->esize == 2 || c->esize == 4 || c->esize == 8; break;
    case H5T_FLOAT: ok = c->esize == 4 || c->esize == 8; c->is_float = 1; break;
    default: ok = 0;
    }
    c->is_signed = !c->is_float && H5Tget_sign(ft) == H5T_SGN_2;
    if (ok && c->esize > 1 && H5Tget_order(ft) != H5T_ORDER_LE) ok = 0;
    nf = H5Pget_nfilters(dcpl);
    for (int i = 0; ok && i < nf; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, 0, NULL, NULL);
        if (id == H5Z_FILTER_SHUFFLE && c->shuffle_at < 0 && c->deflate_at < 0) c->shuffle_at = i;
        else if (id == H5Z_FILTER_DEFLATE && c->deflate_at < 0) c->deflate_at = i;
        else ok = 0;
    }
    ok = ok && c->deflate_at >= 0 && c->celems > 0;
    ok = ok && (c->keep = sdd_malloc((size_t)c->celems * c->esize)) &&
         (c->keep_next = sdd_malloc((size_t)c->celems * c->esize));
done:
    if (dcpl >= 0) H5Pclose(dcpl);
    if (ft >= 0) H5Tclose(ft);
    sdd_error_clear();
    if (ok) *out = c;
    else sdd_h5_chunked_close(c);
    return SDD_OK;
}

/* ------------------------------------------------------------ decoding */

static int inflate_buf(const unsigned char *in, size_t n_in, unsigned char *out, size_t n_out, void *dec)
{
#ifdef HAVE_LIBDEFLATE
    size_t got = 0;
    if (libdeflate_zlib_decompress(dec, in, n_in, out, n_out, &got) != LIBDEFLATE_SUCCESS) return -1;
    return got == n_out ? 0 : -1;
#else
    uLongf got = (uLongf)n_out;
    (void)dec;
    if (uncompress(out, &got, in, (uLong)n_in) != Z_OK) return -1;
    return got == n_out ? 0 : -1;
#endif
}

/* HDF5's byte shuffle stores byte b of every element together; undo it. */
static void unshuffle(const unsigned char *in, unsigned char *out, size_t nbytes, size_t es)
{
    size_t n = nbytes / es;
    for (size_t b = 0; b < es; b++) {
        const unsigned char *src = in + b * n;
        for (size_t i = 0; i < n; i++) out[i * es + b] = src[i];
    }
    memcpy(out + n * es, in + n * es, nbytes - n * es);
}

/* Convert elements [lo, hi) of a decoded chunk to float or (saturated) int32. */
static void convert(const sdd_h5_chunked_t *c, const unsigned char *p, int64_t lo, int64_t hi, int want_float,
                    void *dst)
{
    float *f = dst;
    int32_t *k = dst;
    /* the common layouts (float32 data, int32 indices) are plain copies */
    if (c->esize == 4 && (want_float ? c->is_float : !c->is_float && c->is_signed)) {
        memcpy(dst, p + (size_t)lo * 4, (size_t)(hi - lo) * 4);
        return;
    }
    for (int64_t i = lo; i < hi; i++) {
        const unsigned char *e = p + (size_t)i * c->esize;
        double v;
        int64_t iv = 0;
        if (c->is_float) {
            if (c->esize == 4) { float x; memcpy(&x, e, 4); v = x; }
            else { double x; memcpy(&x, e, 8); v = x; }
            if (want_float) { f[i - lo] = (float)v; continue; }
            iv = (int64_t)v; /* not reached: integer reads of float data are refused earlier */
        } else {
            switch (c->esize) {
            case 1: iv = c->is_signed ? (int64_t)(int8_t)e[0] : (int64_t)e[0]; break;
            case 2: { int16_t s; uint16_t u; memcpy(&s, e, 2); memcpy(&u, e, 2); iv = c->is_signed ? s : u; } break;
            case 4: { int32_t s; uint32_t u; memcpy(&s, e, 4); memcpy(&u, e, 4); iv = c->is_signed ? s : (int64_t)u; } break;
            default: {
                uint64_t u;
                memcpy(&u, e, 8);
                iv = c->is_signed ? (int64_t)u : u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
            }
            }
            if (want_float) { f[i - lo] = (float)iv; continue; }
        }
        k[i - lo] = iv > INT32_MAX ? INT32_MAX : iv < INT32_MIN ? INT32_MIN : (int32_t)iv;
    }
}

/* Decode one job: inflate (unless the filter was skipped), unshuffle, convert. */
static int run_job(batch_t *b, job_t *j, unsigned char *scratch, unsigned char *tmp, void *dec)
{
    sdd_h5_chunked_t *c = b->c;
    size_t full = (size_t)c->celems * c->esize;
    unsigned char *dst = j->to_keep ? c->keep_next : scratch;
    size_t esz_out = 4; /* float and int32 outputs are 4 bytes */
    if (j->raw) {
        int deflated = !(j->mask & (1u << c->deflate_at));
        int shuffled = c->shuffle_at >= 0 && !(j->mask & (1u << c->shuffle_at));
        unsigned char *stage = shuffled ? tmp : dst;
        if (deflated) {
            if (inflate_buf(j->raw, j->raw_size, stage, full, dec) < 0) return -1;
        } else {
            if (j->raw_size != full) return -1;
            memcpy(stage, j->raw, full);
        }
        if (shuffled) unshuffle(tmp, dst, full, c->esize);
    } else {
        dst = c->keep; /* reuse of the chunk kept from the previous read */
    }
    convert(c, dst, j->lo, j->hi, b->want_float, (char *)b->out + (size_t)j->out_at * esz_out);
    if (b->bound > 0) { /* range check here, on the decoding threads, while the data is hot */
        const int32_t *v = (const int32_t *)b->out + j->out_at;
        for (int64_t i = 0; i < j->hi - j->lo; i++)
            if (v[i] < 0 || v[i] >= b->bound) {
                int64_t at = j->out_at + i, cur = __atomic_load_n(&b->bad, __ATOMIC_RELAXED);
                while (at < cur && !__atomic_compare_exchange_n(&b->bad, &cur, at, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
                break;
            }
    }
    return 0;
}

/* One piece of the parallel loop: take chunks until none is left. */
static void worker(void *arg, int piece)
{
    batch_t *b = arg;
    (void)piece;
    size_t full = (size_t)b->c->celems * b->c->esize;
    unsigned char *scratch = malloc(full), *tmp = malloc(full);
    void *dec = NULL;
#ifdef HAVE_LIBDEFLATE
    dec = libdeflate_alloc_decompressor();
    if (!dec) __atomic_store_n(&b->failed, 1, __ATOMIC_RELAXED);
#endif
    if (!scratch || !tmp) __atomic_store_n(&b->failed, 1, __ATOMIC_RELAXED);
    while (!__atomic_load_n(&b->failed, __ATOMIC_RELAXED)) {
        int64_t k = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
        if (k >= b->n_jobs) break;
        if (run_job(b, &b->jobs[k], scratch, tmp, dec) < 0) __atomic_store_n(&b->failed, 1, __ATOMIC_RELAXED);
    }
#ifdef HAVE_LIBDEFLATE
    if (dec) libdeflate_free_decompressor(dec);
#endif
    free(scratch);
    free(tmp);
}

/* Fetch the compressed chunks of the jobs (serial HDF5 calls). */
static int fetch_raw(sdd_h5_chunked_t *c, job_t *jobs, int64_t n_jobs, unsigned char **pool)
{
    size_t total = 0, at = 0;
    for (int64_t k = 0; k < n_jobs; k++) {
        hsize_t off = (hsize_t)(jobs[k].idx * c->celems), sz = 0;
        if (jobs[k].idx == c->keep_idx && !jobs[k].to_keep) continue;
        if (H5Dget_chunk_storage_size(c->dset, &off, &sz) < 0 || sz == 0) return SDD_EUNSUPPORTED;
        jobs[k].raw_size = (size_t)sz;
        total += (size_t)sz;
    }
    if (!(*pool = sdd_malloc(total + 1))) return SDD_ENOMEM;
    for (int64_t k = 0; k < n_jobs; k++) {
        hsize_t off = (hsize_t)(jobs[k].idx * c->celems);
        if (!jobs[k].raw_size) continue;
        jobs[k].raw = *pool + at;
        if (H5Dread_chunk(c->dset, H5P_DEFAULT, &off, &jobs[k].mask, jobs[k].raw) < 0) return SDD_EUNSUPPORTED;
        at += jobs[k].raw_size;
    }
    return SDD_OK;
}

int sdd_h5_chunked_read(sdd_h5_chunked_t *c, int64_t start, int64_t count, int want_float, int64_t bound,
                        void *out, int64_t *bad)
{
    int64_t c0, c1, n_jobs;
    job_t *jobs = NULL;
    unsigned char *pool = NULL;
    batch_t b;
    int nt, rc = SDD_OK;
    char w[600];
    if (bad) *bad = -1;
    if (count == 0) return SDD_OK;
    if (start < 0 || count < 0 || start + count > c->n)
        return sdd_error(SDD_EFORMAT, "%s: elements [%lld, %lld) requested but it holds %lld",
                         sdd_h5_where(c->dset, NULL, w, sizeof w), (long long)start, (long long)(start + count),
                         (long long)c->n);
    if (c->is_float && !want_float)
        return sdd_error(SDD_EFORMAT, "%s: has a float type, expected integers", sdd_h5_where(c->dset, NULL, w, sizeof w));
    c0 = start / c->celems;
    c1 = (start + count - 1) / c->celems;
    n_jobs = c1 - c0 + 1;
    if (!(jobs = sdd_calloc((size_t)n_jobs, sizeof *jobs))) return SDD_ENOMEM;
    for (int64_t k = 0; k < n_jobs; k++) {
        job_t *j = &jobs[k];
        int64_t base = (c0 + k) * c->celems;
        j->idx = c0 + k;
        j->lo = start > base ? start - base : 0;
        j->hi = start + count < base + c->celems ? start + count - base : c->celems;
        j->out_at = base + j->lo - start;
        /* a partly used last chunk is kept for the read that continues from it */
        j->to_keep = k == n_jobs - 1 && j->hi < c->celems && j->idx != c->keep_idx;
    }
    if ((rc = fetch_raw(c, jobs, n_jobs, &pool)) < 0) goto done;
    memset(&b, 0, sizeof b);
    b.c = c;
    b.jobs = jobs;
    b.n_jobs = n_jobs;
    b.want_float = want_float;
    b.out = out;
    b.bound = want_float ? 0 : bound;
    b.bad = INT64_MAX;
    nt = c->threads < 64 ? c->threads : 64;
    if (nt > n_jobs) nt = (int)n_jobs;
    sdd_parallel_for(nt, worker, &b);
    if (b.failed) {
        c->keep_idx = -1;
        rc = sdd_error(SDD_EFORMAT, "%s: corrupt compressed chunk in elements [%lld, %lld)",
                       sdd_h5_where(c->dset, NULL, w, sizeof w), (long long)start, (long long)(start + count));
        goto done;
    }
    if (bad && b.bad != INT64_MAX) *bad = b.bad;
    if (jobs[n_jobs - 1].to_keep) {
        unsigned char *t = c->keep;
        c->keep = c->keep_next;
        c->keep_next = t;
        c->keep_idx = jobs[n_jobs - 1].idx;
    }
done:
    free(pool);
    free(jobs);
    return rc;
}
