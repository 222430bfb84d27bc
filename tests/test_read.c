/* test_read: the row reader against whole reads on real files: every row chunk, taken in
 * small odd-sized steps with several decoding threads (so ranges start and end inside
 * compressed chunks), equals the same rows of the matrix read whole on one thread; and
 * names are made unique exactly as anndata's make_index_unique does. */
#include "read_internal.h"
#include "tap.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void compare_stream(const char *path, int64_t step, int threads)
{
    sdd_dataset_t *whole = NULL, *meta = NULL;
    sdd_xreader_t *r = NULL;
    sdd_csr_t c;
    int64_t row = 0, got, bad = 0;
    int rc = sdd_dataset_read(path, NULL, &whole);
    CHECK_MSG(rc == 0, "%s: %s", path, sdd_errdetail());
    if (rc) return;
    CHECK(sdd_csr_validate(&whole->X, "whole") == 0);
    rc = sdd_xreader_open(path, NULL, &r, &meta);
    CHECK_MSG(rc == 0, "%s: %s", path, sdd_errdetail());
    if (rc) goto done;
    sdd_xreader_set_threads(r, threads);
    sdd_set_threads(threads); /* the compute pool the decoder runs on */
    for (int pass = 0; pass < 2; pass++) { /* the second pass checks rewind */
        row = 0;
        while ((got = sdd_xreader_next(r, step, &c)) > 0) {
            CHECK(got <= step && c.n_rows == got && c.n_cols == whole->X.n_cols);
            for (int64_t i = 0; i < got; i++) {
                int64_t a = whole->X.indptr[row + i], n = whole->X.indptr[row + i + 1] - a;
                if (c.indptr[i + 1] - c.indptr[i] != n ||
                    memcmp(c.indices + c.indptr[i], whole->X.indices + a, (size_t)n * sizeof *c.indices) ||
                    memcmp(c.data + c.indptr[i], whole->X.data + a, (size_t)n * sizeof *c.data))
                    bad++;
            }
            row += got;
            sdd_csr_free(&c);
        }
        CHECK_MSG(got == 0, "%s: %s", path, sdd_errdetail());
        CHECK(row == whole->n_cells);
        sdd_xreader_rewind(r);
    }
    CHECK_MSG(bad == 0, "%s: %lld rows differ (step %lld, %d threads)", path, (long long)bad, (long long)step, threads);
done:
    sdd_xreader_close(r);
    sdd_dataset_destroy(meta);
    sdd_dataset_destroy(whole);
}

static void test_make_unique(void)
{
    /* anndata: ['a','a','b','a-1','a'] -> ['a','a-2','b','a-1','a-3'] (a-1 is taken) */
    const char *in[] = {"a", "a", "b", "a-1", "a"}, *want[] = {"a", "a-2", "b", "a-1", "a-3"};
    char *v[5];
    for (int i = 0; i < 5; i++) v[i] = sdd_strdup(in[i]);
    CHECK(sdd_names_make_unique(v, 5) == 0);
    for (int i = 0; i < 5; i++) CHECK_MSG(strcmp(v[i], want[i]) == 0, "%d: %s != %s", i, v[i], want[i]);
    for (int i = 0; i < 5; i++) free(v[i]);
}

/* The LZF filter only decodes: creating an LZF-compressed dataset must fail cleanly. */
static void test_lzf_no_encoder(void)
{
    const char *dir = getenv("TMPDIR");
    char path[1024];
    hid_t f, sp, dcpl, d = -1;
    hsize_t n = 64, chunk = 16;
    float x[64] = {0};
    herr_t w = -1;
    snprintf(path, sizeof path, "%s/sdd_lzf_%ld.h5", dir ? dir : "/tmp", (long)getpid());
    CHECK(H5Zfilter_avail(32000) > 0);
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sp = H5Screate_simple(1, &n, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_filter(dcpl, 32000, H5Z_FLAG_MANDATORY, 0, NULL);
    d = H5Dcreate2(f, "x", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0) w = H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    CHECK(d < 0 || w < 0);
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Fclose(f);
    unlink(path);
}

int main(void)
{
    const char *src = getenv("SDD_SRCDIR");
    /* dense and csr, gzip and lzf, float64 10x data, several anndata generations */
    static const char *files[] = {"example_data/pbmc3k_1k.h5ad",
                                  "tests/data/real/10x/dropletutils/pbmc3k_300cells_dropletutils_v3.h5",
                                  "tests/data/real/h5ad/scvi-tools/pbmc_10k_protein_v3.h5ad",
                                  "tests/data/real/h5ad/anndata/v0.7.8/adata.h5ad",
                                  "tests/data/real/h5ad/scanpy/2018-08/10x_pbmc68k_reduced.h5ad",
                                  "tests/data/real/h5ad/squidpy/test_data.h5ad"};
    char path[1024];
    sdd_init();
    sdd_lzf_register();
    test_make_unique();
    test_lzf_no_encoder();
    if (!src) src = "..";
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        snprintf(path, sizeof path, "%s/%s", src, files[k]);
        CHECK_MSG(access(path, R_OK) == 0, "%s is missing", path);
        compare_stream(path, 37, 3);
        compare_stream(path, 1000, 2);
    }
    return tap_done();
}
