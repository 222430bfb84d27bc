/*
 * fuzz_mtx.c: the 10x MTX folder parser. Input layout: one flag byte, then the texts of
 * matrix.mtx, the features file and barcodes.tsv separated by NUL bytes. Flag bit 0
 * names the features file genes.tsv (Cell Ranger <= 2) instead of features.tsv; bit 1
 * leaves barcodes.tsv out, bit 2 features; bit 3 gzips matrix.mtx (as matrix.mtx.gz).
 */
#include "fuzz_util.h"
#include <zlib.h>

static void write_gz(const char *path, const uint8_t *p, size_t n)
{
    gzFile g = gzopen(path, "wb1");
    if (!g) abort();
    if (n && gzwrite(g, p, (unsigned)n) != (int)n) abort();
    if (gzclose(g) != Z_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[600], path[700];
    const uint8_t *part[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0}, at = 1;
    unsigned flags;
    if (size < 1) return 0;
    flags = data[0];
    for (int k = 0; k < 3; k++) {
        const uint8_t *end;
        if (at > size) break;
        part[k] = data + at;
        end = k < 2 ? memchr(data + at, 0, size - at) : NULL;
        len[k] = end ? (size_t)(end - (data + at)) : size - at;
        at += len[k] + 1;
    }
    snprintf(dir, sizeof dir, "%s/mtx", fuzz_tmpdir());
    mkdir(dir, 0700);
    static const char *const names[] = {"matrix.mtx", "matrix.mtx.gz", "features.tsv", "genes.tsv", "barcodes.tsv"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/%s", dir, flags & 8 ? "matrix.mtx.gz" : "matrix.mtx");
    if (flags & 8) write_gz(path, part[0], len[0]);
    else fuzz_write(path, part[0], len[0]);
    if (!(flags & 4) && part[1]) {
        snprintf(path, sizeof path, "%s/%s", dir, flags & 1 ? "genes.tsv" : "features.tsv");
        fuzz_write(path, part[1], len[1]);
    }
    if (!(flags & 2) && part[2]) {
        snprintf(path, sizeof path, "%s/barcodes.tsv", dir);
        fuzz_write(path, part[2], len[2]);
    }
    fuzz_read_both(dir);
    sdd_error_clear();
    return 0;
}
