/*
 * h5_guard.c: cheap checks of an HDF5 file's metadata before the libhdf5 calls that
 * would trust it (declared in h5_util.h).
 *
 * libhdf5 1.10.8 decodes some metadata without bounds checks. An attribute message whose
 * datatype claims more bytes than the message holds makes H5Aexists copy gigabytes past
 * a buffer; a variable-length string whose global-heap object runs past its collection,
 * or whose length is damaged, makes H5Dread copy past the heap or allocate gigabytes; a
 * compact dataset without data makes H5Dread copy from NULL. Before such calls the
 * readers let this file look at the raw bytes (pread on the file's own descriptor) and
 * say what is wrong:
 *  - object headers (versions 1 and 2, with continuation blocks): attribute messages
 *    (name, datatype, dataspace and nelem x element-size bytes of data inside the
 *    message), datatype messages (enum values, compound members, array and
 *    variable-length bases inside their length, sane element sizes), dataspace,
 *    fill-value, filter-pipeline and compact-layout messages inside theirs;
 *  - variable-length strings of datasets and attributes: each descriptor's global-heap
 *    collection is a "GCOL" block inside the file whose objects tile it, and holds the
 *    object it names, of exactly the descriptor's length;
 *  - datasets: filters only on chunked storage, compact data as long as the extent,
 *    contiguous data inside the file, and no more elements (or larger chunks) than the
 *    file could hold at deflate's largest compression ratio.
 * Invariant: every read is bounded by the file size and by the caller's buffer, and a
 * header walk visits at most MAX_BLOCKS blocks. The raw reading itself, the version-1
 * B-trees of groups and chunks and the local heaps of groups are h5_raw.c's. What is not
 * examined (new-style groups, dense attribute storage, shared messages, version-4 chunk
 * indexes) is listed in the README as limits of HDF5 1.10.8.
 * Objects that passed are remembered by (file number, address) so that the many
 * attribute calls on one object walk its header once.
 */
#include "h5_util.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_BLOCKS 256              /* object header blocks per walk */
#define MAX_DEPTH 16                /* nesting of datatypes */
#define MAX_RATIO 1100              /* deflate expands at most 1032-fold; lzf less */
#define SLACK ((uint64_t)16 << 20)  /* room for fill values of small unwritten datasets */
#define N_SEEN 128                  /* objects remembered as checked, per thread */


/* Variable-length strings found at the top level of a datatype: their byte offsets in
 * an element (the element itself, or compound fields). */
typedef struct {
    uint64_t off[32];
    int n, nested;             /* nested: a vlen string elsewhere (not checked) */
} vlens_t;

/* What a header walk learns about a dataset. */
typedef struct {
    uint64_t esize, nelem;     /* element size on disk, elements of the extent */
    int have_dt, have_ds;
    vlens_t vl;
    int layout;                /* -1 unknown, 0 compact, 1 contiguous, 2 chunked */
    const uint8_t *compact;    /* compact data inside the walk's buffer */
    uint64_t compact_size, contig_addr, contig_size;
    uint64_t chunk_btree;      /* chunked, layout version 3: the chunk index's B-tree */
    unsigned chunk_dims;       /* ... and the dimensionality of its keys (0: not known) */
    uint8_t *keep;             /* the block holding `compact` (owned) */
} dsinfo_t;

typedef struct {
    uint64_t addr, size;       /* collection address and size */
    uint64_t *obj;             /* [nobj] object sizes by index, UINT64_MAX where absent */
    unsigned nobj;
} gcol_t;

typedef struct {
    gcol_t *c;
    int n, cap, last;
} heaps_t;

static _Thread_local struct {
    unsigned long fileno[N_SEEN];
    haddr_t addr[N_SEEN];
    int next;
} seen;

/* ------------------------------------------------------------------ datatypes */

/* Length of a NUL-terminated name at p within n bytes (-1 without a NUL). */
static int64_t name_len(const uint8_t *p, uint64_t n)
{
    const uint8_t *z = memchr(p, 0, (size_t)n);
    return z ? z - p : -1;
}

static int dt_walk(const gfile_t *g, const uint8_t *p, uint64_t n, int depth, uint64_t at, vlens_t *vl,
                   uint64_t *used, uint64_t *size);

/* Compound members: each inside the message and inside the element. */
static int dt_compound(const gfile_t *g, const uint8_t *p, uint64_t n, unsigned ver, unsigned nm, uint64_t size,
                       int depth, uint64_t at, vlens_t *vl, uint64_t *pos)
{
    unsigned offw = 1;
    while (offw < 4 && (size >> (8 * offw))) offw++;
    for (unsigned m = 0; m < nm; m++) {
        int64_t len = *pos < n ? name_len(p + *pos, n - *pos) : -1;
        uint64_t off, u = 0, msz = 0, count = 1;
        if (len < 0) return -1;
        *pos += ver < 3 ? ((uint64_t)len + 8) / 8 * 8 : (uint64_t)len + 1;
        if (ver < 3) {
            if (*pos + (ver == 1 ? 32 : 4) > n) return -1;
            off = sdd_h5_le(p + *pos, 4);
            if (ver == 1) {
                unsigned nd = p[*pos + 4];
                if (nd > 4) return -1;
                for (unsigned d = 0; d < nd; d++) count *= sdd_h5_le(p + *pos + 16 + 4 * d, 4) ? sdd_h5_le(p + *pos + 16 + 4 * d, 4) : 1;
            }
            *pos += ver == 1 ? 32 : 4;
        } else {
            if (*pos + offw > n) return -1;
            off = sdd_h5_le(p + *pos, offw);
            *pos += offw;
        }
        if (*pos > n || dt_walk(g, p + *pos, n - *pos, depth + 1, at + off, count == 1 ? vl : NULL, &u, &msz) < 0)
            return -1;
        *pos += u;
        if (off > size || msz > (size - off) / count) return -1;
    }
    return 0;
}

/* Enum: base type, nm names, nm values of the base size, all inside the message. */
static int dt_enum(const gfile_t *g, const uint8_t *p, uint64_t n, unsigned ver, unsigned nm, int depth,
                   uint64_t size, uint64_t *pos)
{
    uint64_t u = 0, bsz = 0;
    if (dt_walk(g, p + *pos, n - *pos, depth + 1, 0, NULL, &u, &bsz) < 0 || bsz != size) return -1;
    *pos += u;
    for (unsigned m = 0; m < nm; m++) {
        int64_t len = *pos < n ? name_len(p + *pos, n - *pos) : -1;
        if (len < 0) return -1;
        *pos += ver < 3 ? ((uint64_t)len + 8) / 8 * 8 : (uint64_t)len + 1;
    }
    if (*pos > n || bsz * nm > n - *pos) return -1;
    *pos += bsz * nm;
    return 0;
}

/* Array: dimensions, then the base; the element is their product. */
static int dt_array(const gfile_t *g, const uint8_t *p, uint64_t n, unsigned ver, int depth, uint64_t size,
                    uint64_t *pos)
{
    unsigned nd;
    uint64_t count = 1, u = 0, bsz = 0;
    if (*pos + 4 > n || (nd = p[*pos]) == 0 || nd > 32) return -1;
    *pos += ver < 3 ? 4 : 1;
    if (*pos + (uint64_t)(ver < 3 ? 8 : 4) * nd > n) return -1;
    for (unsigned d = 0; d < nd; d++) {
        uint64_t k = sdd_h5_le(p + *pos + 4 * d, 4);
        if (k && count > UINT32_MAX / k) return -1;
        count *= k;
    }
    *pos += (uint64_t)(ver < 3 ? 8 : 4) * nd;
    if (dt_walk(g, p + *pos, n - *pos, depth + 1, 0, NULL, &u, &bsz) < 0) return -1;
    *pos += u;
    return bsz * count == size ? 0 : -1;
}

/* Walk the datatype encoded in p[0..n): *used bytes, *size its element size on disk
 * (a variable-length type is its descriptor). Variable-length strings met at the top
 * level (at byte `at` of the element) are recorded in vl. -1 when it does not fit. */
static int dt_walk(const gfile_t *g, const uint8_t *p, uint64_t n, int depth, uint64_t at, vlens_t *vl,
                   uint64_t *used, uint64_t *size)
{
    static const int props[] = {4, 12, 2, 0, 4};
    unsigned ver, cls, bits;
    uint64_t pos = 8, u = 0, bsz = 0;
    if (depth > MAX_DEPTH || n < 8) return -1;
    ver = p[0] >> 4;
    cls = p[0] & 15;
    bits = (unsigned)sdd_h5_le(p + 1, 3);
    *size = sdd_h5_le(p + 4, 4);
    if (ver < 1 || ver > 4) return -1;
    switch (cls) {
    case 0: case 1: case 2: case 3: case 4: /* integer, float, time, string, bitfield */
        pos += (uint64_t)props[cls];
        if (*size == 0 || (cls != 3 && *size > 64)) return -1;
        break;
    case 5: pos += bits & 0xff; break; /* opaque: its tag */
    case 6:
        if (dt_compound(g, p, n, ver, bits & 0xffff, *size, depth, at, vl, &pos) < 0) return -1;
        break;
    case 7: break; /* reference */
    case 8:
        if (dt_enum(g, p, n, ver, bits & 0xffff, depth, *size, &pos) < 0) return -1;
        break;
    case 9: /* variable length: a descriptor of length, heap address and index */
        if (dt_walk(g, p + pos, n - pos, depth + 1, 0, NULL, &u, &bsz) < 0) return -1;
        pos += u;
        /* the declared size is the descriptor's on-disk size: libhdf5 sizes attribute
         * data by the one and reads descriptors of the other */
        if (*size != 4 + g->sa + 4) return -1;
        *size = 4 + g->sa + 4;
        if ((bits & 15) == 1 && vl && vl->n < (int)(sizeof vl->off / sizeof *vl->off)) vl->off[vl->n++] = at;
        else if (vl && (bits & 15) == 1) vl->nested = 1;
        break;
    case 10:
        if (dt_array(g, p, n, ver, depth, *size, &pos) < 0) return -1;
        if (vl) vl->nested = 1;
        break;
    default: return -1;
    }
    if (pos > n) return -1;
    *used = pos;
    return 0;
}

/* A dataspace message: the number of elements (0 for a null space). */
static int ds_parse(const gfile_t *g, const uint8_t *p, uint64_t n, uint64_t *nelem)
{
    unsigned ver, nd, flags, type;
    uint64_t pos, count = 1;
    if (n < 4) return -1;
    ver = p[0];
    nd = p[1];
    flags = p[2];
    if (ver < 1 || ver > 2 || nd > 32) return -1;
    type = ver >= 2 ? p[3] : nd > 0 ? 1 : 0;
    pos = ver == 1 ? 8 : 4;
    if (pos + (uint64_t)nd * g->ss * ((flags & 1) ? 2 : 1) > n) return -1;
    for (unsigned d = 0; d < nd; d++) {
        uint64_t k = sdd_h5_le(p + pos + (uint64_t)d * g->ss, g->ss);
        if (k && count > (UINT64_C(1) << 62) / k) return -1;
        count *= k;
    }
    *nelem = type == 2 ? 0 : type == 0 ? 1 : count;
    return 0;
}

/* ------------------------------------------------------------- global heaps */

static void heaps_free(heaps_t *h)
{
    for (int i = 0; i < h->n; i++) free(h->c[i].obj);
    free(h->c);
    memset(h, 0, sizeof *h);
}

/* Walk a collection's objects the way libhdf5 does; with obj set, record their sizes.
 * Returns the largest object index, or -1 when the objects do not tile the collection
 * (libhdf5 would later read past it). */
static int64_t gcol_walk(const gfile_t *g, const uint8_t *buf, uint64_t size, uint64_t *obj)
{
    uint64_t oh = 8 + g->ss, p;
    int64_t max = 0;
    for (p = 8 + g->ss; p + oh <= size;) {
        unsigned idx = (unsigned)sdd_h5_le(buf + p, 2);
        uint64_t osz = sdd_h5_le(buf + p + 8, g->ss), need;
        if (osz > size) return -1;
        need = idx > 0 ? oh + (osz + 7) / 8 * 8 : osz;
        if (need < oh || need > size - p) return -1;
        if (idx > max) max = idx;
        if (obj && idx > 0) obj[idx] = osz;
        p += need;
    }
    return max;
}

/* Load and check the collection at addr ("GCOL", version 1, its size, then objects). */
static int gcol_load(const gfile_t *g, uint64_t addr, gcol_t *c)
{
    uint8_t hdr[16], *buf = NULL;
    uint64_t size, hl = 8 + g->ss;
    int64_t max;
    int rc = -1;
    c->obj = NULL;
    if (sdd_h5_rd(g, addr, hdr, hl) < 0 || memcmp(hdr, "GCOL", 4) != 0 || hdr[4] != 1) return -1;
    size = sdd_h5_le(hdr + 8, g->ss);
    if (size < hl || size > g->eof || !(buf = malloc((size_t)size)) || sdd_h5_rd(g, addr, buf, size) < 0 ||
        (max = gcol_walk(g, buf, size, NULL)) < 0 || !(c->obj = malloc((size_t)(max + 1) * sizeof *c->obj)))
        goto done;
    memset(c->obj, 0xff, (size_t)(max + 1) * sizeof *c->obj);
    gcol_walk(g, buf, size, c->obj);
    c->addr = addr;
    c->size = size;
    c->nobj = (unsigned)max + 1;
    rc = 0;
done:
    free(buf);
    return rc;
}

/* Check one variable-length string descriptor (length, heap address, object index). */
static int vlen_check(const gfile_t *g, heaps_t *h, const uint8_t *d)
{
    uint64_t len = sdd_h5_le(d, 4), addr = sdd_h5_le(d + 4, g->sa);
    unsigned idx = (unsigned)sdd_h5_le(d + 4 + g->sa, 4);
    gcol_t *c = NULL;
    char why[200];
    if (addr == 0) return 0; /* a null string: libhdf5 reads nothing */
    if (h->n > 0 && h->c[h->last].addr == addr) c = &h->c[h->last];
    for (int i = 0; !c && i < h->n; i++)
        if (h->c[i].addr == addr) c = &h->c[h->last = i];
    if (!c) {
        if (h->n == h->cap) {
            int cap = h->cap ? 2 * h->cap : 16;
            gcol_t *v = realloc(h->c, (size_t)cap * sizeof *v);
            if (!v) return sdd_error(SDD_ENOMEM, "out of memory checking global heaps");
            h->c = v;
            h->cap = cap;
        }
        if (gcol_load(g, addr, &h->c[h->n]) < 0) {
            snprintf(why, sizeof why, "a string refers to a damaged global heap collection at address %llu",
                     (unsigned long long)addr);
            return sdd_h5_corrupt(g, why);
        }
        c = &h->c[h->last = h->n++];
    }
    if (idx == 0 || idx >= c->nobj || c->obj[idx] == UINT64_MAX || c->obj[idx] != len) {
        snprintf(why, sizeof why, "a string of %llu bytes refers to heap object %u of the collection at %llu, "
                 "which %s", (unsigned long long)len, idx, (unsigned long long)addr,
                 idx == 0 || idx >= c->nobj || c->obj[idx] == UINT64_MAX ? "does not exist" : "has another size");
        return sdd_h5_corrupt(g, why);
    }
    return 0;
}

/* Every vlen string of n elements of esize bytes at buf (offsets in vl). */
static int vlens_check(const gfile_t *g, heaps_t *h, const vlens_t *vl, const uint8_t *buf, uint64_t n,
                       uint64_t esize)
{
    uint64_t dsz = 4 + g->sa + 4;
    for (uint64_t i = 0; i < n; i++)
        for (int k = 0; k < vl->n; k++) {
            int rc;
            if (vl->off[k] + dsz > esize) return sdd_h5_corrupt(g, "a string field lies outside its record");
            if ((rc = vlen_check(g, h, buf + i * esize + vl->off[k])) < 0) return rc;
        }
    return 0;
}

/* ----------------------------------------------------------------- messages */

/* Attribute message: name, datatype, dataspace and nelem x size bytes of data inside. */
static int msg_attr(const gfile_t *g, heaps_t *h, const uint8_t *p, uint64_t n)
{
    unsigned ver, flags;
    uint64_t nl, tl, sl, pos, u = 0, esize = 0, nelem = 0;
    vlens_t vl;
    if (n < 8) return sdd_h5_corrupt(g, "attribute message too short");
    ver = p[0];
    flags = ver >= 2 ? p[1] : 0;
    nl = sdd_h5_le(p + 2, 2);
    tl = sdd_h5_le(p + 4, 2);
    sl = sdd_h5_le(p + 6, 2);
    if (ver < 1 || ver > 3) return sdd_h5_corrupt(g, "attribute message of unknown version");
    pos = ver == 3 ? 9 : 8;
#define SKIP(k) (pos += ver == 1 ? ((k) + 7) / 8 * 8 : (k))
    if (nl == 0 || pos + nl > n || !memchr(p + pos, 0, (size_t)nl)) return sdd_h5_corrupt(g, "attribute name");
    SKIP(nl);
    if (pos + tl > n) return sdd_h5_corrupt(g, "attribute datatype runs past its message");
    memset(&vl, 0, sizeof vl);
    if (!(flags & 1) && (dt_walk(g, p + pos, tl, 0, 0, &vl, &u, &esize) < 0 || u > tl))
        return sdd_h5_corrupt(g, "attribute datatype does not fit its message");
    SKIP(tl);
    if (pos + sl > n) return sdd_h5_corrupt(g, "attribute dataspace runs past its message");
    if (!(flags & 2) && ds_parse(g, p + pos, sl, &nelem) < 0) return sdd_h5_corrupt(g, "attribute dataspace");
    SKIP(sl);
#undef SKIP
    if (flags & 3) return 0; /* shared type or space: described elsewhere */
    if (pos > n || (esize && nelem > (n - pos) / esize))
        return sdd_h5_corrupt(g, "attribute data runs past its message");
    return vl.n ? vlens_check(g, h, &vl, p + pos, nelem, esize) : 0;
}

/* Fill value (new and old messages): the value's size inside the message. */
static int msg_fill(const gfile_t *g, int type, const uint8_t *p, uint64_t n)
{
    uint64_t pos = 0;
    int have = 1;
    if (type == 0x05) {
        if (n < 2) return sdd_h5_corrupt(g, "fill value message");
        if (p[0] == 3) {
            have = (p[1] & 0x20) != 0;
            pos = 2;
        } else {
            if (n < 4) return sdd_h5_corrupt(g, "fill value message");
            have = p[3] != 0;
            pos = 4;
        }
    }
    if (!have) return 0;
    /* a size with the sign bit set reads as "none" in libhdf5 (a signed decode) */
    if (pos + 4 > n || (sdd_h5_le(p + pos, 4) < 0x80000000u && sdd_h5_le(p + pos, 4) > n - pos - 4))
        return sdd_h5_corrupt(g, "fill value runs past its message");
    return 0;
}

/* Filter pipeline: every filter's name and client values inside the message. */
static int msg_pline(const gfile_t *g, const uint8_t *p, uint64_t n)
{
    unsigned ver, nf;
    uint64_t pos;
    if (n < 2) return sdd_h5_corrupt(g, "filter pipeline message");
    ver = p[0];
    nf = p[1];
    if (ver < 1 || ver > 2 || nf > 32) return sdd_h5_corrupt(g, "filter pipeline message");
    pos = ver == 1 ? 8 : 2;
    for (unsigned i = 0; i < nf; i++) {
        uint64_t id, nlen = 0, ncd;
        if (pos + 2 > n) return sdd_h5_corrupt(g, "filter pipeline message");
        id = sdd_h5_le(p + pos, 2);
        pos += 2;
        if (ver == 1 || id >= 256) {
            if (pos + 2 > n) return sdd_h5_corrupt(g, "filter pipeline message");
            nlen = sdd_h5_le(p + pos, 2);
            pos += 2;
        }
        if (pos + 4 > n) return sdd_h5_corrupt(g, "filter pipeline message");
        ncd = sdd_h5_le(p + pos + 2, 2);
        pos += 4;
        if (nlen && (pos + nlen > n || !memchr(p + pos, 0, (size_t)nlen))) return sdd_h5_corrupt(g, "filter name");
        pos += nlen + 4 * ncd + (ver == 1 && (ncd & 1) ? 4 : 0);
        if (pos > n) return sdd_h5_corrupt(g, "filter parameters run past their message");
    }
    return 0;
}

/* Layout (versions 3 and 4): compact data inside the message; where the data lies. */
static int msg_layout(const gfile_t *g, const uint8_t *p, uint64_t n, dsinfo_t *di)
{
    if (n < 2 || p[0] < 3) return 0; /* versions 1 and 2 (before HDF5 1.6.3): not examined */
    if (p[0] > 4) return sdd_h5_corrupt(g, "layout message of unknown version");
    switch (p[1]) {
    case 0:
        if (n < 4 || sdd_h5_le(p + 2, 2) > n - 4) return sdd_h5_corrupt(g, "compact data runs past its message");
        if (di) di->layout = 0, di->compact = p + 4, di->compact_size = sdd_h5_le(p + 2, 2);
        break;
    case 1:
        if (n < 2 + (uint64_t)g->sa + g->ss) return sdd_h5_corrupt(g, "layout message");
        if (di) di->layout = 1, di->contig_addr = sdd_h5_le(p + 2, g->sa), di->contig_size = sdd_h5_le(p + 2 + g->sa, g->ss);
        break;
    case 2:
        if (di) di->layout = 2;
        if (p[0] == 3) { /* dimensionality, the B-tree's address, the chunk's sizes */
            if (n < 3 + (uint64_t)g->sa + 4 * (uint64_t)p[2] || p[2] < 2 || p[2] > H5S_MAX_RANK + 1)
                return sdd_h5_corrupt(g, "layout message");
            for (unsigned i = 0; i < p[2]; i++) /* libhdf5 divides by them */
                if (sdd_h5_le(p + 3 + g->sa + 4 * i, 4) == 0) return sdd_h5_corrupt(g, "a chunk dimension of 0");
            if (di) di->chunk_dims = p[2], di->chunk_btree = sdd_h5_le(p + 3, g->sa);
        } else if (n >= 4) { /* version 4: flags, dimensionality, bytes per size, the sizes */
            unsigned nd = p[3], w = n >= 5 ? p[4] : 0;
            if (nd < 2 || nd > H5S_MAX_RANK + 1 || w < 1 || w > 8 || n < 5 + (uint64_t)nd * w)
                return sdd_h5_corrupt(g, "layout message");
            for (unsigned i = 0; i < nd; i++)
                if (sdd_h5_le(p + 5 + (size_t)i * w, w) == 0) return sdd_h5_corrupt(g, "a chunk dimension of 0");
        }
        break;
    default: break;
    }
    return 0;
}

/* ------------------------------------------------------------ header walk */

typedef struct {
    uint64_t addr, len;
    int v2;                    /* messages in version-2 format */
} block_t;

/* Check one message; fills di (may be NULL) with what a dataset's reader needs. */
static int check_msg(const gfile_t *g, heaps_t *h, int type, unsigned flags, const uint8_t *p, uint64_t n,
                     dsinfo_t *di)
{
    uint64_t u = 0, sz = 0;
    if (flags & 2) return 0; /* shared message: a reference to another object's */
    switch (type) {
    case 0x01:
        if (ds_parse(g, p, n, di ? &di->nelem : &sz) < 0) return sdd_h5_corrupt(g, "dataspace message");
        if (di) di->have_ds = 1;
        return 0;
    case 0x03:
        if (dt_walk(g, p, n, 0, 0, di ? &di->vl : NULL, &u, di ? &di->esize : &sz) < 0)
            return sdd_h5_corrupt(g, "datatype message");
        if (di) di->have_dt = 1;
        return 0;
    case 0x04: case 0x05: return msg_fill(g, type, p, n);
    case 0x08: return msg_layout(g, p, n, di);
    case 0x0b: return msg_pline(g, p, n);
    case 0x0c: return msg_attr(g, h, p, n);
    default: return 0;
    }
}

/* The messages of one block; continuation blocks are appended to blocks[]. */
static int walk_block(const gfile_t *g, heaps_t *h, const uint8_t *b, const block_t *bk, int crt_order,
                      block_t *blocks, int *nb, dsinfo_t *di)
{
    uint64_t pos = bk->v2 ? 4 : 0, end = bk->v2 ? bk->len - 4 : bk->len, mh = bk->v2 ? 4 + 2 * !!crt_order : 8;
    int rc;
    while (pos + mh <= end) {
        int type = bk->v2 ? b[pos] : (int)sdd_h5_le(b + pos, 2);
        uint64_t size = bk->v2 ? sdd_h5_le(b + pos + 1, 2) : sdd_h5_le(b + pos + 2, 2);
        unsigned flags = bk->v2 ? b[pos + 3] : b[pos + 4];
        pos += mh;
        if (size > end - pos) return sdd_h5_corrupt(g, "object header message runs past its block");
        if (type == 0x10) { /* continuation */
            if (size < (uint64_t)g->sa + g->ss) return sdd_h5_corrupt(g, "continuation message");
            if (*nb == MAX_BLOCKS) return sdd_h5_corrupt(g, "too many object header blocks");
            blocks[*nb].addr = sdd_h5_le(b + pos, g->sa);
            blocks[*nb].len = sdd_h5_le(b + pos + g->sa, g->ss);
            blocks[(*nb)++].v2 = bk->v2;
        } else if (type == 0x11) { /* symbol table */
            if ((rc = sdd_h5_check_stab(g, b + pos, size)) < 0) return rc;
        } else if ((rc = check_msg(g, h, type, flags, b + pos, size, di)) < 0) {
            return rc;
        }
        pos += size;
    }
    return 0;
}

/* First block of the header at addr: version 1 (16-byte prefix) or 2 ("OHDR"). */
static int first_block(const gfile_t *g, uint64_t addr, block_t *bk, int *crt_order)
{
    uint8_t p[32];
    uint64_t pos;
    if (sdd_h5_rd(g, addr, p, 16) < 0) return sdd_h5_corrupt(g, "object header outside the file");
    if (memcmp(p, "OHDR", 4) != 0) {
        if (p[0] != 1) return sdd_h5_corrupt(g, "object header of unknown version");
        bk->addr = addr + 16;
        bk->len = sdd_h5_le(p + 8, 4);
        bk->v2 = 0;
        return 0;
    }
    if (p[4] != 2) return sdd_h5_corrupt(g, "object header of unknown version");
    *crt_order = (p[5] & 4) != 0;
    pos = 6 + ((p[5] & 0x20) ? 16 : 0) + ((p[5] & 0x10) ? 4 : 0);
    if (sdd_h5_rd(g, addr, p, pos + 8) < 0) return sdd_h5_corrupt(g, "object header outside the file");
    bk->len = sdd_h5_le(p + pos, 1u << (p[5] & 3));
    /* the chunk's messages follow the size; walk_block skips 4 bytes and the checksum */
    bk->addr = addr + pos + (1u << (p[5] & 3)) - 4;
    bk->len += 8;
    bk->v2 = 1;
    return 0;
}

/* Walk every block of the object header at addr and check its messages. */
static int walk_header(const gfile_t *g, heaps_t *h, uint64_t addr, dsinfo_t *di)
{
    block_t blocks[MAX_BLOCKS];
    int nb = 1, crt = 0, rc = 0;
    uint8_t *b = NULL;
    if ((rc = first_block(g, addr, &blocks[0], &crt)) < 0) return rc;
    for (int i = 0; i < nb && rc == 0; i++) {
        block_t *bk = &blocks[i];
        if (bk->len > g->eof || (bk->v2 && bk->len < 8)) {
            rc = sdd_h5_corrupt(g, "object header block larger than the file");
        } else if (!(b = malloc((size_t)bk->len + 1))) {
            rc = sdd_error(SDD_ENOMEM, "out of memory");
        } else if (sdd_h5_rd(g, bk->addr, b, bk->len) < 0) {
            rc = sdd_h5_corrupt(g, "object header block outside the file");
        } else if (bk->v2 && i > 0 && memcmp(b, "OCHK", 4) != 0) {
            rc = sdd_h5_corrupt(g, "object header continuation block without its signature");
        } else {
            rc = walk_block(g, h, b, bk, crt, blocks, &nb, di);
        }
        if (di && di->compact && !di->keep) di->keep = b; /* compact data points into b */
        else free(b);
        b = NULL;
    }
    return rc;
}

/* -------------------------------------------------------------- public side */

static int seen_has(unsigned long fileno, haddr_t addr)
{
    for (int i = 0; i < N_SEEN; i++)
        if (seen.addr[i] == addr && seen.fileno[i] == fileno && addr != 0) return 1;
    return 0;
}

static void seen_add(unsigned long fileno, haddr_t addr)
{
    seen.fileno[seen.next] = fileno;
    seen.addr[seen.next] = addr;
    seen.next = (seen.next + 1) % N_SEEN;
}

/* Walk the header at addr of loc's file (no-op when the file cannot be read raw); ref
 * names the attribute whose reference led there, if any. */
static int guard_at(hid_t loc, const char *name, const char *ref, unsigned long fileno, haddr_t addr)
{
    gfile_t g;
    heaps_t h = {0};
    int rc;
    if (seen_has(fileno, addr) || sdd_h5_gfile_open(loc, &g) < 0) return SDD_OK;
    sdd_h5_where(loc, name, g.where, sizeof g.where);
    if (ref) {
        size_t l = strlen(g.where);
        snprintf(g.where + l, sizeof g.where - l, ": the object its attribute '%s' refers to", ref);
    }
    rc = walk_header(&g, &h, addr, NULL);
    heaps_free(&h);
    if (rc == 0) seen_add(fileno, addr);
    return rc;
}

int sdd_h5_guard_file(const char *path)
{
    gfile_t g;
    heaps_t h = {0};
    struct stat st;
    uint64_t root = 0, other = 0;
    int rc = SDD_OK, v = -1;
    memset(&g, 0, sizeof g);
    if ((g.fd = open(path, O_RDONLY)) < 0) return SDD_OK; /* the caller's open says why */
    if (fstat(g.fd, &st) == 0) {
        g.eof = (uint64_t)st.st_size;
        /* HDF5 looks for the superblock at 0, then at 512, 1024, 2048, ... */
        for (uint64_t at = 0; at < g.eof && v < 0; at = at ? 2 * at : 512)
            if ((v = sdd_h5_superblock(&g, at, &root, &other)) >= 0) g.base = at;
    }
    if (v >= 0) {
        uint8_t b[16];
        snprintf(g.where, sizeof g.where, "%s: the superblock", path);
        if (other != sdd_h5_undef(&g) && v < 2) { /* the driver information block: its size inside the file */
            if (sdd_h5_rd(&g, other, b, 16) < 0 || sdd_h5_le(b + 4, 4) > g.eof) rc = sdd_h5_corrupt(&g, "driver information block");
        } else if (other != sdd_h5_undef(&g)) {
            snprintf(g.where, sizeof g.where, "%s: the superblock extension", path);
            rc = walk_header(&g, &h, other, NULL);
        }
        snprintf(g.where, sizeof g.where, "%s: the root group", path);
        if (rc == SDD_OK) rc = walk_header(&g, &h, root, NULL);
        heaps_free(&h);
    }
    close(g.fd);
    return rc;
}

static int guard_one(hid_t loc, const char *path);

int sdd_h5_guard_object(hid_t loc, const char *path)
{
    char buf[1024];
    size_t len = path ? strlen(path) : 0;
    /* the groups the path passes through first: libhdf5 reads their links on the way */
    if (len > 1 && len < sizeof buf && strchr(path + 1, '/')) {
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1; *p; p++) {
            int rc;
            if (*p != '/') continue;
            *p = 0;
            rc = guard_one(loc, buf);
            *p = '/';
            if (rc < 0) return rc;
        }
    }
    return guard_one(loc, path);
}

/* 1 for a file this process opened for writing: its own, whose metadata may still sit in
 * libhdf5's cache rather than on disk, so it is not walked. */
static int written_here(hid_t loc)
{
    hid_t f = H5Iget_file_id(loc);
    unsigned intent = 0;
    int w = f >= 0 && H5Fget_intent(f, &intent) >= 0 && (intent & H5F_ACC_RDWR);
    if (f >= 0) H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return w;
}

static int guard_one(hid_t loc, const char *path)
{
    H5O_info_t oi;
    H5L_info_t li;
    herr_t st;
    if (written_here(loc)) return SDD_OK;
    /* A hard link gives the object's address without loading its header (H5Oget_info
     * would, and a damaged header can make libhdf5 allocate gigabytes): walk it first. */
    if (path && H5Lget_info(loc, path, &li, H5P_DEFAULT) >= 0 && li.type == H5L_TYPE_HARD &&
        H5Oget_info2(loc, &oi, H5O_INFO_BASIC) >= 0)
        return guard_at(loc, path, NULL, oi.fileno, li.u.address);
    H5Eclear2(H5E_DEFAULT);
    st = path ? H5Oget_info_by_name2(loc, path, &oi, H5O_INFO_BASIC, H5P_DEFAULT) : H5Oget_info2(loc, &oi, H5O_INFO_BASIC);
    if (st < 0) {
        H5Eclear2(H5E_DEFAULT);
        return SDD_OK; /* the caller's own call reports a missing object */
    }
    return guard_at(loc, path, NULL, oi.fileno, oi.addr);
}

int sdd_h5_guard_ref(hid_t loc, const char *name, haddr_t addr)
{
    H5O_info_t oi;
    if (written_here(loc)) return SDD_OK;
    if (H5Oget_info2(loc, &oi, H5O_INFO_BASIC) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return SDD_OK;
    }
    return guard_at(loc, NULL, name, oi.fileno, addr);
}

/* Raw descriptors of a chunked dataset's vlen strings, chunk by chunk. */
static int chunks_vlens(const gfile_t *g, heaps_t *h, hid_t dset, hid_t dcpl, const dsinfo_t *di);

/* API-level checks of an open dataset and its storage. */
static int dataset_storage(const gfile_t *g, hid_t dset, hid_t dcpl, const dsinfo_t *di)
{
    int nf = H5Pget_nfilters(dcpl), layout = H5Pget_layout(dcpl);
    uint64_t bytes = di->nelem > 0 && di->esize > UINT64_MAX / di->nelem ? UINT64_MAX : di->nelem * di->esize;
    uint64_t room = (nf > 0 ? MAX_RATIO : 1) * g->eof + SLACK;
    char why[300];
    if (nf > 0 && layout != H5D_CHUNKED) return sdd_h5_corrupt(g, "filters on storage that is not chunked");
    if (bytes > room) {
        snprintf(why, sizeof why, "%llu elements of %llu bytes, more than the %llu-byte file can hold",
                 (unsigned long long)di->nelem, (unsigned long long)di->esize, (unsigned long long)g->eof);
        return sdd_h5_corrupt(g, why);
    }
    if (di->layout == 0 && di->compact_size < bytes) return sdd_h5_corrupt(g, "compact data shorter than the dataset");
    if (di->layout == 1 && di->contig_addr != sdd_h5_undef(g) &&
        (di->contig_size < bytes || di->contig_addr > g->eof || bytes > g->eof - di->contig_addr))
        return sdd_h5_corrupt(g, "contiguous data outside the file");
    if (di->layout == 2 && di->chunk_dims && di->chunk_btree != sdd_h5_undef(g)) {
        /* the chunks the index names lie inside the file (libhdf5 allocates a chunk's
         * stored size before reading it) */
        int rc = sdd_h5_check_chunk_index(g, di->chunk_btree, di->chunk_dims);
        if (rc < 0) return rc;
    }
    if (layout == H5D_CHUNKED) {
        hsize_t cd[H5S_MAX_RANK];
        int r = H5Pget_chunk(dcpl, H5S_MAX_RANK, cd);
        uint64_t cb = di->esize;
        for (int i = 0; i < r && i < H5S_MAX_RANK; i++) cb = cd[i] && cb > UINT64_MAX / cd[i] ? UINT64_MAX : cb * cd[i];
        if (r < 1 || cb > ((uint64_t)1 << 32) || cb > MAX_RATIO * g->eof + SLACK) return sdd_h5_corrupt(g, "chunk size");
    }
    if (sdd_h5_filter_missing(dset, 0, why, sizeof why))
        return sdd_error(SDD_EUNSUPPORTED, "%s: %s", g->where, why);
    return SDD_OK;
}

int sdd_h5_filter_missing(hid_t dset, int optional_too, char *buf, size_t n)
{
    hid_t dcpl = H5Dget_create_plist(dset);
    int nf = dcpl >= 0 ? H5Pget_nfilters(dcpl) : 0, found = 0;
    for (int i = 0; i < nf && !found; i++) {
        unsigned flags = 0, cdv[8];
        size_t ncd = 8;
        char name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cdv, sizeof name, name, NULL);
        if (id < 0 || ((flags & H5Z_FLAG_OPTIONAL) && !optional_too) || H5Zfilter_avail(id) > 0) continue;
        snprintf(buf, n, "compressed with HDF5 filter %d%s%s%s, which this build cannot decode (a plugin "
                 "filter, or a damaged file)", (int)id, name[0] ? " ('" : "", name, name[0] ? "')" : "");
        found = 1;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Eclear2(H5E_DEFAULT);
    return found;
}

int sdd_h5_guard_dataset(hid_t dset)
{
    H5O_info_t oi;
    gfile_t g;
    heaps_t h = {0};
    dsinfo_t di;
    hid_t dcpl = -1;
    uint8_t *raw = NULL;
    int rc;
    memset(&di, 0, sizeof di);
    di.layout = -1;
    if (H5Oget_info2(dset, &oi, H5O_INFO_BASIC) < 0 || sdd_h5_gfile_open(dset, &g) < 0 ||
        (dcpl = H5Dget_create_plist(dset)) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return SDD_OK;
    }
    sdd_h5_where(dset, NULL, g.where, sizeof g.where);
    if ((rc = walk_header(&g, &h, oi.addr, &di)) < 0) goto done;
    if (!di.have_dt || !di.have_ds) goto done;
    if ((rc = dataset_storage(&g, dset, dcpl, &di)) < 0 || di.vl.n == 0 || di.nelem == 0) goto done;
    if (di.layout == 0) {
        rc = vlens_check(&g, &h, &di.vl, di.compact, di.nelem, di.esize);
    } else if (di.layout == 1 && di.contig_addr != sdd_h5_undef(&g)) {
        if (!(raw = malloc((size_t)(di.nelem * di.esize)))) rc = sdd_error(SDD_ENOMEM, "out of memory");
        else if (sdd_h5_rd(&g, di.contig_addr, raw, di.nelem * di.esize) < 0) rc = sdd_h5_corrupt(&g, "data outside the file");
        else rc = vlens_check(&g, &h, &di.vl, raw, di.nelem, di.esize);
    } else if (di.layout == 2) {
        rc = chunks_vlens(&g, &h, dset, dcpl, &di);
    }
done:
    free(raw);
    free(di.keep);
    heaps_free(&h);
    if (dcpl >= 0) H5Pclose(dcpl);
    return rc;
}

/* ------------------------------------------------------ chunks of vlen strings */

/* Undo the pipeline of one raw chunk into out (cap bytes): deflate, shuffle, fletcher32
 * and lzf; *n receives the decoded size. 1 when a filter is one this check cannot undo. */
static int unfilter(hid_t dcpl, uint32_t mask, uint8_t *buf, uint64_t nraw, uint8_t *out, uint64_t cap,
                    uint64_t esize, uint64_t *n)
{
    int nf = H5Pget_nfilters(dcpl);
    uint8_t *cur = buf, *oth = out;
    uint64_t len = nraw;
    for (int i = nf - 1; i >= 0; i--) {
        unsigned flags, cdv[8];
        size_t ncd = 8;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cdv, 0, NULL, NULL);
        size_t got = 0;
        uint8_t *t;
        if (mask & (1u << i)) continue;
        if (id == H5Z_FILTER_FLETCHER32) {
            if (len < 4) return -1;
            len -= 4;
            continue;
        }
        if (id == H5Z_FILTER_DEFLATE) {
            uLongf dl = (uLongf)cap;
            if (uncompress(oth, &dl, cur, (uLong)len) != Z_OK) return -1;
            got = (size_t)dl;
        } else if (id == 32000) {
            if (sdd_lzf_decode(cur, len, oth, cap, &got) < 0) return -1;
        } else if (id == H5Z_FILTER_SHUFFLE) {
            uint64_t ne = len / esize;
            if (len > cap) return -1;
            for (uint64_t b = 0; b < esize; b++)
                for (uint64_t e = 0; e < ne; e++) oth[e * esize + b] = cur[b * ne + e];
            memcpy(oth + ne * esize, cur + ne * esize, (size_t)(len - ne * esize));
            got = len;
        } else {
            return 1;
        }
        t = cur, cur = oth, oth = t;
        len = got;
    }
    if (cur != out) memcpy(out, cur, (size_t)(len < cap ? len : cap));
    *n = len;
    return 0;
}

static int chunks_vlens(const gfile_t *g, heaps_t *h, hid_t dset, hid_t dcpl, const dsinfo_t *di)
{
    hsize_t cd[1], off[1], sz = 0;
    uint64_t cbytes, got = 0;
    uint8_t *raw = NULL, *dec = NULL;
    uint32_t mask = 0;
    int rc = 0;
    if (H5Pget_chunk(dcpl, 1, cd) != 1 || cd[0] == 0) return 0; /* only 1-d string arrays */
    cbytes = cd[0] * di->esize;
    if (!(dec = malloc((size_t)cbytes))) return sdd_error(SDD_ENOMEM, "out of memory");
    for (uint64_t c0 = 0; c0 < di->nelem && rc == 0; c0 += cd[0]) {
        uint64_t ne = di->nelem - c0 < cd[0] ? di->nelem - c0 : cd[0];
        off[0] = c0;
        if (H5Dget_chunk_storage_size(dset, off, &sz) < 0 || sz == 0) { /* unwritten: fill values */
            H5Eclear2(H5E_DEFAULT);
            continue;
        }
        if (sz > g->eof) {
            rc = sdd_h5_corrupt(g, "chunk larger than the file");
            break;
        }
        free(raw);
        if (!(raw = malloc((size_t)(sz > cbytes ? sz : cbytes)))) {
            rc = sdd_error(SDD_ENOMEM, "out of memory");
            break;
        }
        if (H5Dread_chunk(dset, H5P_DEFAULT, off, &mask, raw) < 0) {
            H5Eclear2(H5E_DEFAULT);
            break; /* libhdf5's own read reports it */
        }
        rc = unfilter(dcpl, mask, raw, sz, dec, cbytes, di->esize, &got);
        if (rc == 1) { /* a filter this check cannot undo: libhdf5 decodes, unchecked */
            rc = 0;
            break;
        }
        if (rc < 0 || got < ne * di->esize) rc = sdd_h5_corrupt(g, "a chunk of strings does not decode");
        else rc = vlens_check(g, h, &di->vl, dec, ne, di->esize);
    }
    free(raw);
    free(dec);
    return rc;
}
