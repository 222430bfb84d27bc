#!/usr/bin/python3
"""Write one small count matrix as h5ad files in many storage variants, for the reader's
type-width and layout test: index types int8..uint64, data types int8..float64 and
float16, csr / csc / dense X, storage uncompressed / gzip / gzip+shuffle / lzf with
chunks smaller than the rows, anndata 0.7-style categories under __categories without a
reference, and a nullable-string-array obs column (anndata >= 0.10).

Prints one line per file: PATH<TAB>n_cells<TAB>n_genes<TAB>nnz<TAB>sum<TAB>obs columns
(name:kind:n_categories;...), all computed here with numpy from the matrix written.

usage: make_synthetic.py OUT_DIR      (needs h5py and numpy)
"""
import os
import sys

import h5py
import numpy as np

STR = h5py.string_dtype("utf-8")
rng = np.random.default_rng(7)
N, G = 97, 41
DENSE = (rng.random((N, G)) < 0.2) * rng.integers(1, 100, (N, G))
DENSE[5] = 0  # an empty row
OBS_COLS = "label:categorical:3;note:string:null;count:numeric:null"


def enc(o, t, v):
    o.attrs["encoding-type"] = t
    o.attrs["encoding-version"] = v


def write(path, layout, idx_t, dat_t, store, v07=False):
    X = DENSE.astype(dat_t)
    with h5py.File(path, "w") as f:
        if not v07:
            enc(f, "anndata", "0.1.0")
        for name, n in (("obs", N), ("var", G)):
            g = f.create_group(name)
            enc(g, "dataframe", "0.1.0" if v07 else "0.2.0")
            g.attrs["_index"] = "_index"
            g.create_dataset("_index", data=np.array(["%s%d" % (name, i) for i in range(n)], dtype=object), dtype=STR)
            cols = ["label", "note", "count"] if name == "obs" else []
            g.attrs.create("column-order", np.array(cols, dtype=object), dtype=STR)
        obs = f["obs"]
        codes = (np.arange(N) % 4 - 1).astype(np.int8)  # -1 = missing
        if v07:  # codes dataset + __categories/<col>, no reference attribute
            obs.create_dataset("label", data=codes)
            obs.create_dataset("__categories/label", data=np.array(["a", "b", "c"], dtype=object), dtype=STR)
            obs.create_dataset("note", data=np.array(["n%d" % i for i in range(N)], dtype=object), dtype=STR)
        else:
            c = obs.create_group("label")
            enc(c, "categorical", "0.2.0")
            c.attrs["ordered"] = True
            c.create_dataset("codes", data=codes)
            c.create_dataset("categories", data=np.array(["a", "b", "c"], dtype=object), dtype=STR)
            s = obs.create_group("note")
            enc(s, "nullable-string-array", "0.1.0")
            s.create_dataset("values", data=np.array(["n%d" % i for i in range(N)], dtype=object), dtype=STR)
            s.create_dataset("mask", data=np.arange(N) % 5 == 0)
        obs.create_dataset("count", data=np.arange(N, dtype=np.uint16))
        kw = {"none": {}, "gzip": {"compression": "gzip", "chunks": (64,)},
              "shuffle": {"compression": "gzip", "shuffle": True, "chunks": (64,)},
              "lzf": {"compression": "lzf", "chunks": (64,)}}[store]
        if layout == "dense":
            f.create_dataset("X", data=X, **({k: v for k, v in kw.items() if k != "chunks"}))
            return X
        M = X if layout == "csr" else X.T
        rows, cols = np.nonzero(M)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=M.shape[0]))])
        g = f.create_group("X")
        enc(g, layout + "_matrix", "0.1.0")
        g.attrs["shape"] = np.array([N, G])
        ip_t = idx_t if np.iinfo(idx_t).max >= indptr[-1] else np.int64
        for name, arr in (("data", M[rows, cols]), ("indices", cols.astype(idx_t)), ("indptr", indptr.astype(ip_t))):
            if "chunks" in kw:
                kw["chunks"] = (min(64, len(arr)),)
            g.create_dataset(name, data=arr, **kw)
    return X


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = []
    for idx_t in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64):
        cases.append(("csr", idx_t, np.float32, "gzip", False))
    for dat_t in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
                  np.float16, np.float32, np.float64):
        cases.append(("csr", np.int32, dat_t, "shuffle", False))
    for store in ("none", "gzip", "shuffle", "lzf"):
        for layout in ("csr", "csc", "dense"):
            cases.append((layout, np.int64, np.float64, store, False))
    cases.append(("csr", np.uint32, np.int32, "lzf", True))
    for k, (layout, idx_t, dat_t, store, v07) in enumerate(cases):
        path = os.path.join(out, "s%02d_%s_%s_%s_%s%s.h5ad" % (k, layout, np.dtype(idx_t).name,
                                                              np.dtype(dat_t).name, store, "_v07" if v07 else ""))
        X = write(path, layout, idx_t, dat_t, store, v07)
        print("%s\t%d\t%d\t%d\t%.17g\t%s" % (path, N, G, np.count_nonzero(X), X.astype(np.float64).sum(), OBS_COLS))


if __name__ == "__main__":
    main()
