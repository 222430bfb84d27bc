/*
 * fuzz_h5.c: the HDF5 structure readers (.h5ad and 10x .h5). The input is an HDF5 file
 * image; it is written to a file and read through sdd_dataset_read and sdd_xreader_*,
 * which detect the flavour (a /matrix group or genome groups: 10x, else h5ad) as the CLI
 * does. Built twice, as fuzz_h5ad and fuzz_tenx, to run on the two seed corpora; the
 * code is the same. Every HDF5 object the readers opened must be closed again when they
 * return, whatever the input: a handle left open is reported as a finding (abort).
 */
#include "fuzz_util.h"
#include <hdf5.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/input.h5", fuzz_tmpdir());
    fuzz_write(path, data, size);
    fuzz_read_both(path);
    if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE | H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_ATTR) != 0) {
        fprintf(stderr, "fuzz_h5: the readers left HDF5 objects open\n");
        abort();
    }
    sdd_error_clear();
    return 0;
}
