/*
 * fuzz_model.c: the model file loader (sdd_model_load). The input is a whole model file;
 * when its header's sizes match its length the harness rewrites the checksum (the last
 * 8 bytes), so that mutated values and metadata are read rather than refused as damaged.
 * A model that loads is sampled from (5 cells, 2 steps).
 */
#include "fuzz_model_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    fuzz_model_run(buf, size);
    return 0;
}
