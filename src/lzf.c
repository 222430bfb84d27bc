/*
 * lzf.c: decoding of h5py's LZF filter (HDF5 filter id 32000), so that h5ad files
 * written with `compression="lzf"` (anndata 0.7 wrote every dataset that way) read like
 * any other. Only decompression: the filter is registered without an encoder, so a
 * request to write LZF fails in HDF5 with "filter not available for encoding".
 *
 * Stream format (liblzf 3.x, as used by h5py): a sequence of items, each starting with
 * a control byte c.
 *   c < 32         literal run: the next c + 1 bytes are copied to the output.
 *   c >= 32        back reference: len = c >> 5 (if 7, add the next byte), then
 *                  off = ((c & 31) << 8) + next byte; copy len + 2 bytes from
 *                  out - off - 1 (byte by byte, the source may overlap the target).
 * Invariants checked on every item: input never read past its end, output never
 * written past its buffer, references never point before the output start.
 *
 * h5py stores cd_values = {filter revision, LZF version, chunk size in bytes}; the
 * chunk size sizes the output buffer. Chunks that did not shrink are stored raw with
 * the filter bit masked off by HDF5 itself (the filter is optional), so they never
 * reach this function.
 */
#include "sdd_internal.h"
#include <hdf5.h>

#define LZF_FILTER_ID 32000
#define LZF_MAX_OUT ((size_t)1 << 31) /* refuse absurd chunk sizes from a corrupt header */

enum { LZF_OK = 0, LZF_ECORRUPT = -1, LZF_EFULL = -2 };

/* Decode in[0..n_in) into out[0..cap); *n_out receives the decoded length. */
static int lzf_decode(const unsigned char *in, size_t n_in, unsigned char *out, size_t cap, size_t *n_out)
{
    const unsigned char *ip = in, *ie = in + n_in;
    unsigned char *op = out, *oe = out + cap;
    while (ip < ie) {
        unsigned c = *ip++;
        if (c < 32) {
            size_t len = (size_t)c + 1;
            if ((size_t)(oe - op) < len) return LZF_EFULL;
            if ((size_t)(ie - ip) < len) return LZF_ECORRUPT;
            memcpy(op, ip, len);
            op += len;
            ip += len;
        } else {
            size_t len = c >> 5, back;
            const unsigned char *ref;
            if (len == 7) {
                if (ip >= ie) return LZF_ECORRUPT;
                len += *ip++;
            }
            if (ip >= ie) return LZF_ECORRUPT;
            back = ((size_t)(c & 31) << 8) + *ip++ + 1;
            len += 2;
            if ((size_t)(op - out) < back) return LZF_ECORRUPT;
            if ((size_t)(oe - op) < len) return LZF_EFULL;
            ref = op - back;
            while (len--) *op++ = *ref++;
        }
    }
    *n_out = (size_t)(op - out);
    return LZF_OK;
}

int sdd_lzf_decode(const void *in, size_t n_in, void *out, size_t cap, size_t *n_out)
{
    return lzf_decode(in, n_in, out, cap, n_out) == LZF_OK ? 0 : -1;
}

/* The HDF5 filter callback: 0 signals failure to HDF5, which then reports a read
 * error naming the dataset. */
static size_t lzf_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                         size_t *buf_size, void **buf)
{
    size_t cap, got = 0;
    unsigned char *out = NULL;
    if (!(flags & H5Z_FLAG_REVERSE)) return 0; /* no encoder */
    cap = cd_nelmts >= 3 && cd_values[2] > 0 ? cd_values[2] : (*buf_size > nbytes ? *buf_size : 2 * nbytes);
    for (;;) {
        int rc;
        if (cap > LZF_MAX_OUT) break;
        free(out);
        if (!(out = malloc(cap))) break;
        rc = lzf_decode(*buf, nbytes, out, cap, &got);
        if (rc == LZF_OK) {
            free(*buf);
            *buf = out;
            *buf_size = cap;
            return got;
        }
        if (rc != LZF_EFULL) break;
        cap *= 2; /* no size in cd_values (very old files): grow and retry */
    }
    free(out);
    return 0;
}

int sdd_lzf_register(void)
{
    static const H5Z_class2_t cls = {
        H5Z_CLASS_T_VERS, (H5Z_filter_t)LZF_FILTER_ID, 0 /* encoder */, 1 /* decoder */,
        "lzf (sddcell decoder)", NULL, NULL, (H5Z_func_t)lzf_filter};
    if (H5Zfilter_avail(LZF_FILTER_ID) > 0) return SDD_OK;
    if (H5Zregister(&cls) < 0) return sdd_error(SDD_EIO, "cannot register the LZF filter with HDF5");
    return SDD_OK;
}
