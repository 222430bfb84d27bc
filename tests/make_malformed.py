#!/usr/bin/python3
"""Write malformed inputs for the reader's error paths, one per case, into OUT_DIR.

Each case is a small h5ad, 10x .h5 or 10x MTX folder that is valid except for one
defect. Prints one line per case: PATH<TAB>description[<TAB>phrase]. Every case must make
`sddcell info` (and any command that reads) exit 1 with a one-line message, which
contains the phrase where one is given.
To add a case: write a function taking the output path that builds the input, and
append it to CASES.

usage: make_malformed.py OUT_DIR        (needs h5py and numpy)
"""
import gzip
import os
import sys

import h5py
import numpy as np

STR = h5py.string_dtype("utf-8")
N_CELLS, N_GENES = 6, 5
# a fixed small cells x genes count matrix in CSR form
DENSE = np.array([[1, 0, 0, 2, 0], [0, 0, 3, 0, 0], [0, 0, 0, 0, 0],
                  [4, 5, 0, 0, 1], [0, 0, 0, 0, 7], [1, 1, 1, 1, 1]], dtype=np.float32)
ROWS, COLS = np.nonzero(DENSE)
INDPTR = np.concatenate([[0], np.cumsum(np.bincount(ROWS, minlength=N_CELLS))]).astype(np.int32)
INDICES = COLS.astype(np.int32)
DATA = DENSE[ROWS, COLS]


def enc(obj, kind, version):
    obj.attrs["encoding-type"] = kind
    obj.attrs["encoding-version"] = version


def frame(f, name, index, cols=None):
    g = f.create_group(name)
    enc(g, "dataframe", "0.2.0")
    g.attrs["_index"] = "_index"
    g.attrs.create("column-order", np.array(list(cols or {}), dtype=object), dtype=STR)
    d = g.create_dataset("_index", data=np.array(index, dtype=object), dtype=STR)
    enc(d, "string-array", "0.2.0")
    for k, v in (cols or {}).items():
        v(g, k)
    return g


def categorical(codes, cats):
    def make(g, k):
        c = g.create_group(k)
        enc(c, "categorical", "0.2.0")
        c.attrs["ordered"] = False
        c.create_dataset("codes", data=np.array(codes, dtype=np.int8))
        d = c.create_dataset("categories", data=np.array(cats, dtype=object), dtype=STR)
        enc(d, "string-array", "0.2.0")
    return make


def h5ad(path, indptr=INDPTR, indices=INDICES, data=DATA, shape=(N_CELLS, N_GENES), x_enc="csr_matrix",
         n_obs=N_CELLS, codes=None, drop=(), obs=True, chunk_filter=None):
    """A valid anndata>=0.8 h5ad unless one of the arguments says otherwise."""
    with h5py.File(path, "w") as f:
        enc(f, "anndata", "0.1.0")
        if obs:
            frame(f, "obs", ["cell%d" % i for i in range(n_obs)],
                  {"cluster": categorical(codes if codes is not None else [0, 1, 0, 1, 0, 1], ["a", "b"])})
        frame(f, "var", ["gene%d" % j for j in range(N_GENES)])
        x = f.create_group("X")
        if x_enc is not None:
            enc(x, x_enc, "0.1.0")
        if shape is not None:
            x.attrs["shape"] = np.array(shape, dtype=np.int64)
        for name, arr in (("indptr", indptr), ("indices", indices), ("data", data)):
            if name in drop:
                continue
            if chunk_filter and name == "data":
                d = x.create_dataset(name, shape=arr.shape, dtype=arr.dtype, chunks=arr.shape, **chunk_filter)
                d.id.write_direct_chunk((0,), b"\x1f\xff\xff\xff garbage that is not a valid stream")
            else:
                x.create_dataset(name, data=arr)
    return path


def tenx(path, drop=(), shape=(N_GENES, N_CELLS), n_names=N_GENES, indices=INDICES, v2=False):
    """A Cell Ranger style .h5 (features x barcodes CSC = our CSR over cells)."""
    with h5py.File(path, "w") as f:
        g = f.create_group("hg19" if v2 else "matrix")
        items = {"data": DATA.astype(np.int32), "indices": indices, "indptr": INDPTR,
                 "shape": np.array(shape, dtype=np.int32),
                 "barcodes": np.array([b"AAAC-%d" % i for i in range(N_CELLS)])}
        names = np.array([b"G%d" % j for j in range(n_names)])
        if v2:
            items.update(genes=names, gene_names=names)
        for k, v in items.items():
            if k not in drop:
                g.create_dataset(k, data=v)
        if not v2:
            ft = g.create_group("features")
            ft.create_dataset("id", data=names)
            ft.create_dataset("name", data=names)
            ft.create_dataset("feature_type", data=np.array([b"Gene Expression"] * n_names))
    return path


def mtx(path, header="%%MatrixMarket matrix coordinate integer general", size=None, entries=None,
        n_barcodes=N_CELLS, features=True, gz=False, truncate=False):
    """A 10x MTX folder (genes x cells, 1-based)."""
    os.makedirs(path, exist_ok=True)
    lines = entries if entries is not None else ["%d %d %d" % (c + 1, r + 1, int(v))
                                                 for r, c, v in zip(ROWS, COLS, DATA)]
    size = size or "%d %d %d" % (N_GENES, N_CELLS, len(lines))
    text = "\n".join([header, "% written for a malformed-input test", size] + lines) + "\n"
    if gz:
        blob = gzip.compress(text.encode())
        with open(os.path.join(path, "matrix.mtx.gz"), "wb") as fh:
            fh.write(blob[: len(blob) // 2] if truncate else blob)
    else:
        with open(os.path.join(path, "matrix.mtx"), "w") as fh:
            fh.write(text)
    if features:
        with open(os.path.join(path, "features.tsv"), "w") as fh:
            fh.writelines("ENSG%d\tG%d\tGene Expression\n" % (j, j) for j in range(N_GENES))
    with open(os.path.join(path, "barcodes.tsv"), "w") as fh:
        fh.writelines("AAAC-%d\n" % i for i in range(n_barcodes))
    return path


def raw_bytes(path, blob):
    with open(path, "wb") as fh:
        fh.write(blob)
    return path


def truncated(path, keep):
    h5ad(path + ".full")
    with open(path + ".full", "rb") as fh:
        blob = fh.read()
    os.unlink(path + ".full")
    return raw_bytes(path, blob[: int(len(blob) * keep)] if keep < 1 else blob[:keep])


def edit(path, fn):
    """A valid h5ad changed by fn(h5py.File)."""
    h5ad(path)
    with h5py.File(path, "r+") as f:
        fn(f)
    return path


def patch_filter_id(path, new_id):
    """A valid h5ad whose X/data is gzip-chunked, with the deflate filter's id in the
    file's filter pipeline message replaced by new_id (an id no build knows)."""
    h5ad(path + ".tmp")
    with h5py.File(path + ".tmp", "r+") as f:
        del f["X/data"]
        f["X"].create_dataset("data", data=DATA, chunks=DATA.shape, compression="gzip")
    with open(path + ".tmp", "rb") as fh:
        blob = bytearray(fh.read())
    os.unlink(path + ".tmp")
    at = blob.find(b"deflate\x00")  # version-1 pipeline: id, name length, flags, n values, name
    assert at > 8 and blob[at - 8:at - 6] == b"\x01\x00", "filter pipeline message not found"
    blob[at - 8:at - 6] = new_id.to_bytes(2, "little")
    return raw_bytes(path, bytes(blob))


def dangling_matrix(path):
    """A 10x file whose /matrix link points nowhere (a damaged 10x file, no obs)."""
    tenx(path)
    with h5py.File(path, "r+") as f:
        f.move("matrix", "matrix_gone")
        f["matrix"] = h5py.SoftLink("/nowhere")
    return path


def replace(f, name, data):
    del f[name]
    f.create_dataset(name, data=data)


CASES = [
    ("empty.h5ad", "empty file", lambda p: raw_bytes(p, b"")),
    ("text.h5ad", "not HDF5 (text)", lambda p: raw_bytes(p, b"cell,gene,count\nA,B,1\n" * 50)),
    ("trunc_half.h5ad", "truncated to half", lambda p: truncated(p, 0.5)),
    ("trunc_head.h5ad", "truncated inside the superblock", lambda p: truncated(p, 60)),
    ("indptr_decreasing.h5ad", "indptr decreases",
     lambda p: h5ad(p, indptr=np.array([0, 2, 1, 3, 6, 7, 12], dtype=np.int32))),
    ("indptr_end.h5ad", "indptr ends past nnz",
     lambda p: h5ad(p, indptr=np.array([0, 2, 3, 3, 6, 7, 13], dtype=np.int32))),
    ("indptr_length.h5ad", "indptr too short", lambda p: h5ad(p, indptr=INDPTR[:-1])),
    ("indptr_start.h5ad", "indptr starts at 1", lambda p: h5ad(p, indptr=INDPTR + 1)),
    ("indices_range.h5ad", "index >= n_genes",
     lambda p: h5ad(p, indices=np.where(np.arange(len(INDICES)) == 5, 99, INDICES).astype(np.int32))),
    ("indices_negative.h5ad", "negative index",
     lambda p: h5ad(p, indices=np.where(np.arange(len(INDICES)) == 2, -3, INDICES).astype(np.int64))),
    ("indices_float.h5ad", "indices stored as float", lambda p: h5ad(p, indices=INDICES.astype(np.float32))),
    ("data_length.h5ad", "data shorter than indices", lambda p: h5ad(p, data=DATA[:-1])),
    ("shape_rows.h5ad", "shape attr disagrees with obs", lambda p: h5ad(p, shape=(N_CELLS + 1, N_GENES))),
    ("shape_3.h5ad", "shape attr with 3 entries", lambda p: h5ad(p, shape=(N_CELLS, N_GENES, 1))),
    ("shape_none.h5ad", "sparse X without shape", lambda p: h5ad(p, shape=None)),
    ("no_data.h5ad", "X/data missing", lambda p: h5ad(p, drop=("data",))),
    ("no_indices.h5ad", "X/indices missing", lambda p: h5ad(p, drop=("indices",))),
    ("no_indptr.h5ad", "X/indptr missing", lambda p: h5ad(p, drop=("indptr",))),
    ("x_encoding.h5ad", "X group with unknown encoding", lambda p: h5ad(p, x_enc="coo_matrix")),
    ("x_no_encoding.h5ad", "X group without encoding", lambda p: h5ad(p, x_enc=None)),
    ("obs_short.h5ad", "obs index shorter than X", lambda p: h5ad(p, n_obs=N_CELLS - 1, codes=[0] * 5)),
    ("no_obs.h5ad", "obs missing", lambda p: h5ad(p, obs=False)),
    ("codes_range.h5ad", "categorical code out of range", lambda p: h5ad(p, codes=[0, 1, 2, 0, 1, 0])),
    ("codes_negative.h5ad", "categorical code below -1", lambda p: h5ad(p, codes=[0, 1, -2, 0, 1, 0])),
    ("lzf_corrupt.h5ad", "corrupt LZF chunk in X/data",
     lambda p: h5ad(p, chunk_filter={"compression": "lzf"})),
    ("gzip_corrupt.h5ad", "corrupt gzip chunk in X/data",
     lambda p: h5ad(p, chunk_filter={"compression": "gzip"})),
    ("x_string.h5ad", "dense X of strings",
     lambda p: edit(p, lambda f: (f.__delitem__("X"),
                                  f.create_dataset("X", data=np.array([["a"] * N_GENES] * N_CELLS, dtype="S1"))))),
    ("x_1d.h5ad", "dense X with one dimension",
     lambda p: edit(p, lambda f: (f.__delitem__("X"), f.create_dataset("X", data=np.zeros(N_CELLS * N_GENES))))),
    ("var_index_missing.h5ad", "var _index names a missing dataset",
     lambda p: edit(p, lambda f: f["var"].attrs.__setitem__("_index", "gene_ids"))),
    ("column_missing.h5ad", "column-order names a missing column",
     lambda p: edit(p, lambda f: f["obs"].attrs.create("column-order", np.array(["cluster", "ghost"], dtype=object), dtype=STR))),
    ("neither.h5", "HDF5 that is neither h5ad nor 10x",
     lambda p: (h5py.File(p, "w").create_dataset("something", data=[1, 2, 3]).file.close(), p)[1]),
    ("tenx_no_barcodes.h5", "10x without barcodes", lambda p: tenx(p, drop=("barcodes",))),
    ("tenx_shape.h5", "10x shape disagrees with indptr", lambda p: tenx(p, shape=(N_GENES, N_CELLS + 2))),
    ("tenx_names.h5", "10x features shorter than shape", lambda p: tenx(p, n_names=N_GENES - 1)),
    ("tenx_indices.h5", "10x feature index out of range",
     lambda p: tenx(p, indices=np.where(np.arange(len(INDICES)) == 0, N_GENES, INDICES).astype(np.int32))),
    ("tenx_v2_no_genes.h5", "10x v2 without gene_names", lambda p: tenx(p, v2=True, drop=("gene_names",))),
    ("mtx_header", "MTX bad header", lambda p: mtx(p, header="%%MatrixMarket matrix array real general")),
    ("mtx_no_header", "MTX without header", lambda p: mtx(p, header="5 6 12")),
    ("mtx_range", "MTX index out of range", lambda p: mtx(p, entries=["1 1 1", "6 1 2"], size="5 6 2")),
    ("mtx_zero_index", "MTX index 0", lambda p: mtx(p, entries=["0 1 1"], size="5 6 1")),
    ("mtx_count", "MTX fewer entries than announced", lambda p: mtx(p, size="5 6 20")),
    ("mtx_extra", "MTX more entries than announced", lambda p: mtx(p, size="5 6 3")),
    ("mtx_value", "MTX non-numeric value", lambda p: mtx(p, entries=["1 1 1", "2 2 x3"], size="5 6 2")),
    ("mtx_fields", "MTX entry with 4 fields", lambda p: mtx(p, entries=["1 1 1 1"], size="5 6 1")),
    ("mtx_size", "MTX size line not numeric", lambda p: mtx(p, size="5 six 12")),
    ("mtx_barcodes", "MTX barcode count mismatch", lambda p: mtx(p, n_barcodes=N_CELLS - 2)),
    ("mtx_no_features", "MTX without features.tsv", lambda p: mtx(p, features=False)),
    ("mtx_gz_truncated", "MTX truncated gzip", lambda p: mtx(p, gz=True, truncate=True)),
    ("does_not_exist.h5ad", "path does not exist", lambda p: p),
    # the message must name the real cause (third column: a phrase it must contain)
    ("filter_unknown.h5ad", "X/data with an unknown filter id", lambda p: patch_filter_id(p, 31999),
     "filter 31999"),
    ("category_twice.h5ad", "categorical with a duplicate category",
     lambda p: edit(p, lambda f: replace(f, "obs/cluster/categories", np.array(["", ""], dtype=object))),
     "the category '' appears twice"),
    ("tenx_dangling.h5", "10x whose matrix link is dangling", dangling_matrix, "matrix"),
    ("mtx_size_big", "MTX size line beyond 32-bit indices", lambda p: mtx(p, size="2147483648 6 12"),
     "2147483648 genes: more than 2147483647"),
    ("mtx_size_huge", "MTX size line announcing 2^31-1 genes", lambda p: mtx(p, size="2147483647 6 12"),
     "announces 2147483647"),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, what, make, *expect in CASES:
        path = make(os.path.join(out, name))
        print("\t".join([path, what] + expect))


if __name__ == "__main__":
    main()
