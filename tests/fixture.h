/* fixture.h: reader of the test fixtures written by make_metrics_reference.py. */
#ifndef SDD_TEST_FIXTURE_H
#define SDD_TEST_FIXTURE_H
#include "sddcell.h"
#include <stdlib.h>
#include <zlib.h>

/* Read the fixture CSR written by make_metrics_reference.py's write_csr. */
static inline int read_fixture(const char *path, sdd_csr_t *m, int32_t **labels)
{
    gzFile f = gzopen(path, "rb");
    int64_t hdr[3];
    int ok = 0;
    if (!f) return -1;
    if (gzread(f, hdr, sizeof hdr) != (int)sizeof hdr) goto done;
    if (sdd_csr_alloc(m, hdr[0], hdr[1], hdr[2]) < 0) goto done;
    *labels = malloc((size_t)hdr[0] * sizeof **labels);
    ok = gzread(f, m->indptr, (unsigned)((hdr[0] + 1) * 8)) == (int)((hdr[0] + 1) * 8) &&
         gzread(f, m->indices, (unsigned)(hdr[2] * 4)) == (int)(hdr[2] * 4) &&
         gzread(f, m->data, (unsigned)(hdr[2] * 4)) == (int)(hdr[2] * 4) &&
         gzread(f, *labels, (unsigned)(hdr[0] * 4)) == (int)(hdr[0] * 4);
done:
    gzclose(f);
    return ok ? 0 : -1;
}

#endif
