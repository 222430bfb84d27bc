/*
 * h5_raw.c: an HDF5 file read as raw bytes for the guards of h5_guard.c (declared in
 * h5_util.h): the file's own descriptor, bounded reads, little-endian fields, and the
 * structures libhdf5 walks without bounds checks that are reached here before it:
 * version-1 B-trees (the members of old-style groups, the chunks of chunked datasets)
 * and the local heaps of old-style groups.
 * Invariant: every read is bounded by the file size, and a B-tree walk visits at most
 * BTREE_MAX_NODES nodes at strictly decreasing levels.
 */
#include "h5_util.h"
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* ----------------------------------------------------------------- raw bytes */

uint64_t sdd_h5_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int sdd_h5_gfile_open(hid_t loc, gfile_t *g)
{
    hid_t fid = H5Iget_file_id(loc), fcpl = -1;
    void *h = NULL;
    hsize_t ub = 0;
    size_t sa = 8, ss = 8;
    struct stat st;
    int ok = 0;
    memset(g, 0, sizeof *g);
    g->fd = -1;
    if (fid < 0) return -1;
    if (H5Fget_vfd_handle(fid, H5P_DEFAULT, &h) >= 0 && h && (fcpl = H5Fget_create_plist(fid)) >= 0 &&
        H5Pget_sizes(fcpl, &sa, &ss) >= 0 && H5Pget_userblock(fcpl, &ub) >= 0 && fstat(*(int *)h, &st) == 0) {
        g->fd = *(int *)h;
        g->base = ub;
        g->eof = (uint64_t)st.st_size;
        g->sa = (unsigned)sa;
        g->ss = (unsigned)ss;
        ok = (sa == 4 || sa == 8) && (ss == 4 || ss == 8);
    }
    if (fcpl >= 0) H5Pclose(fcpl);
    H5Fclose(fid);
    H5Eclear2(H5E_DEFAULT);
    return ok ? 0 : -1;
}

/* Bytes [addr, addr + n) of the file (addresses are relative to the base). */
int sdd_h5_rd(const gfile_t *g, uint64_t addr, void *buf, uint64_t n)
{
    uint64_t at = g->base + addr, got = 0;
    if (addr > g->eof || n > g->eof || at > g->eof - n) return -1;
    while (got < n) {
        ssize_t r = pread(g->fd, (char *)buf + got, (size_t)(n - got), (off_t)(at + got));
        if (r <= 0) return -1;
        got += (uint64_t)r;
    }
    return 0;
}

int sdd_h5_corrupt(const gfile_t *g, const char *what)
{
    return sdd_error(SDD_EFORMAT, "%s: corrupt HDF5 metadata (%s)", g->where, what);
}

/* The superblock at `at` (versions 0 to 3): fills g's sizes of offsets and lengths, the
 * root group's object header address and the other block it names (the driver
 * information block for versions 0 and 1, the superblock extension's header for 2 and
 * 3; sdd_h5_undef when none). Returns the version, or -1 when there is none sddcell reads. */
int sdd_h5_superblock(gfile_t *g, uint64_t at, uint64_t *root, uint64_t *other)
{
    uint8_t p[128];
    unsigned v, off, sa, ss;
    if (g->eof < at + 16 || pread(g->fd, p, 16, (off_t)at) != 16 || memcmp(p, "\211HDF\r\n\032\n", 8) != 0) return -1;
    v = p[8];
    if (v > 3) return -1;
    sa = v < 2 ? p[13] : p[9];
    ss = v < 2 ? p[14] : p[10];
    if ((sa != 4 && sa != 8) || (ss != 4 && ss != 8)) return -1;
    /* v0/v1: four addresses after 24 (28) bytes (base, free space, end, driver block), then
     * the root's symbol table entry (link name offset, header address); v2/v3: base,
     * extension and end addresses, then the root's */
    off = v == 0 ? 24 + 5 * sa : v == 1 ? 28 + 5 * sa : 12 + 3 * sa;
    if (g->eof < at + off + sa || pread(g->fd, p, off + sa, (off_t)at) != (ssize_t)(off + sa)) return -1;
    g->sa = sa;
    g->ss = ss;
    *root = sdd_h5_le(p + off, sa);
    *other = sdd_h5_le(p + off - 2 * sa, sa);
    return (int)v;
}

uint64_t sdd_h5_undef(const gfile_t *g)
{
    return UINT64_MAX >> (64 - 8 * g->sa);
}

/* ------------------------------------------ version-1 B-trees (groups, chunks) */

#define BTREE_MAX_NODES 100000 /* nodes walked per tree */

/* A walk of a version-1 B-tree ("TREE"): node type, bytes of a key, and what is checked
 * of each key and of each child at level 0 (the key before it given too). */
typedef struct btree {
    const gfile_t *g;
    int type;     /* 0: a group's members, 1: a chunked dataset's chunks */
    unsigned key;
    long nodes;
    int (*on_key)(struct btree *t, const uint8_t *key);
    int (*on_leaf)(struct btree *t, const uint8_t *key, uint64_t child);
    const uint8_t *heap; /* groups: the local heap's data segment */
    uint64_t heap_size;
} btree_t;

static int btree_node(btree_t *t, uint64_t addr, int want_level)
{
    const gfile_t *g = t->g;
    unsigned sa = g->sa, n, level;
    uint64_t len;
    uint8_t p[8], *b;
    int rc = 0;
    if (++t->nodes > BTREE_MAX_NODES) return sdd_h5_corrupt(g, "a B-tree with too many nodes");
    if (sdd_h5_rd(g, addr, p, 8) < 0 || memcmp(p, "TREE", 4) != 0 || p[4] != t->type) return sdd_h5_corrupt(g, "a B-tree node");
    level = p[5];
    n = (unsigned)sdd_h5_le(p + 6, 2);
    if (level > 32 || (want_level >= 0 && (int)level != want_level)) return sdd_h5_corrupt(g, "a B-tree node at the wrong level");
    len = 2 * (uint64_t)sa + (uint64_t)n * (t->key + sa) + t->key;
    if (len > g->eof) return sdd_h5_corrupt(g, "a B-tree node");
    if (!(b = malloc((size_t)len + 1))) return sdd_error(SDD_ENOMEM, "out of memory");
    if (sdd_h5_rd(g, addr + 8, b, len) < 0) rc = sdd_h5_corrupt(g, "a B-tree node");
    for (unsigned i = 0; i <= n && rc == 0; i++) { /* key i, then child i */
        const uint8_t *k = b + 2 * sa + (size_t)i * (t->key + sa);
        if (t->on_key) rc = t->on_key(t, k);
        if (rc == 0 && i < n) rc = level ? btree_node(t, sdd_h5_le(k + t->key, sa), (int)level - 1) : t->on_leaf(t, k, sdd_h5_le(k + t->key, sa));
    }
    free(b);
    return rc;
}

/* Groups: a name in the local heap is inside the data segment and NUL-terminated there
 * (libhdf5 copies it with strdup and compares it with strcmp). */
static int heap_name(const btree_t *t, uint64_t off)
{
    if (off >= t->heap_size || !memchr(t->heap + off, 0, (size_t)(t->heap_size - off)))
        return sdd_h5_corrupt(t->g, "a group member's name is outside the group's local heap");
    return 0;
}

static int group_key(btree_t *t, const uint8_t *key) { return heap_name(t, sdd_h5_le(key, t->key)); }

/* A symbol-table node ("SNOD"): each entry's name in the heap. */
static int group_leaf(btree_t *t, const uint8_t *key, uint64_t addr)
{
    const gfile_t *g = t->g;
    unsigned es = 2 * g->sa + 24, n;
    uint8_t p[8], *e;
    int rc = 0;
    (void)key;
    if (sdd_h5_rd(g, addr, p, 8) < 0 || memcmp(p, "SNOD", 4) != 0 || p[4] != 1) return sdd_h5_corrupt(g, "a group's symbol-table node");
    n = (unsigned)sdd_h5_le(p + 6, 2);
    if ((uint64_t)n * es > g->eof) return sdd_h5_corrupt(g, "a group's symbol-table node");
    if (!(e = malloc((size_t)n * es + 1))) return sdd_error(SDD_ENOMEM, "out of memory");
    if (sdd_h5_rd(g, addr + 8, e, (uint64_t)n * es) < 0) rc = sdd_h5_corrupt(g, "a group's symbol-table node");
    for (unsigned i = 0; i < n && rc == 0; i++) rc = heap_name(t, sdd_h5_le(e + (size_t)i * es, g->sa));
    free(e);
    return rc;
}

/* The local heap's free list, from offset `at` (1 ends it): each block inside the data
 * segment and the chain no longer than the segment could hold (libhdf5 follows it
 * without end when it loops). */
static int heap_free_list(const btree_t *t, uint64_t at)
{
    unsigned ss = t->g->ss;
    uint64_t left = t->heap_size / (2 * ss) + 1;
    while (at != 1) {
        uint64_t size;
        if (at >= t->heap_size || t->heap_size - at < 2 * (uint64_t)ss || left-- == 0)
            return sdd_h5_corrupt(t->g, "a group's local heap free list");
        size = sdd_h5_le(t->heap + at + ss, ss);
        if (size > t->heap_size - at) return sdd_h5_corrupt(t->g, "a group's local heap free list");
        at = sdd_h5_le(t->heap + at, ss);
    }
    return 0;
}

/* A symbol-table message (old-style group): its local heap ("HEAP") inside the file, and
 * every name its B-tree and symbol-table nodes point at inside that heap. */
int sdd_h5_check_stab(const gfile_t *g, const uint8_t *m, uint64_t size)
{
    btree_t t = {g, 0, g->ss, 0, group_key, group_leaf, NULL, 0};
    uint8_t p[64];
    uint64_t data;
    int rc;
    if (size < 2 * (uint64_t)g->sa) return sdd_h5_corrupt(g, "symbol-table message");
    if (sdd_h5_rd(g, sdd_h5_le(m + g->sa, g->sa), p, 8 + 2 * g->ss + g->sa) < 0 || memcmp(p, "HEAP", 4) != 0 || p[4] != 0)
        return sdd_h5_corrupt(g, "a group's local heap");
    t.heap_size = sdd_h5_le(p + 8, g->ss);
    data = sdd_h5_le(p + 8 + 2 * g->ss, g->sa);
    if (t.heap_size > g->eof) return sdd_h5_corrupt(g, "a group's local heap is larger than the file");
    if (!(t.heap = malloc((size_t)t.heap_size + 1))) return sdd_error(SDD_ENOMEM, "out of memory");
    if (sdd_h5_rd(g, data, (uint8_t *)t.heap, t.heap_size) < 0) rc = sdd_h5_corrupt(g, "a group's local heap outside the file");
    else if ((rc = heap_free_list(&t, sdd_h5_le(p + 8 + g->ss, g->ss))) == 0) rc = btree_node(&t, sdd_h5_le(m, g->sa), -1);
    free((uint8_t *)t.heap);
    return rc;
}

/* Chunked datasets: a chunk (its stored size in the key) lies inside the file. */
static int chunk_leaf(btree_t *t, const uint8_t *key, uint64_t addr)
{
    uint64_t size = sdd_h5_le(key, 4);
    if (addr > t->g->eof || size > t->g->eof - addr) return sdd_h5_corrupt(t->g, "a chunk outside the file");
    return 0;
}

int sdd_h5_check_chunk_index(const gfile_t *g, uint64_t btree, unsigned dims)
{
    btree_t t = {g, 1, 8 + 8 * dims, 0, NULL, chunk_leaf, NULL, 0};
    return btree_node(&t, btree, -1);
}
