#!/usr/bin/python3
"""check_convert: compare `sddcell convert` outputs with independent readings of their
inputs. Reads a manifest, one conversion per line: IN <TAB> OUT <TAB> OPTIONS, where
OPTIONS are the convert options used (--layer NAME, --raw, --genome G, --feature-type T).

Reference readings:
- .h5ad inputs: python3-anndata's read_h5ad (X, a layer or raw.X; obs/var names; obs).
- 10x HDF5: h5py on the raw arrays (features x barcodes CSC), features of the requested
  type, gene names made unique with anndata.utils.make_index_unique (what scanpy's
  var_names_make_unique calls), ids kept.
- 10x MTX directories: scipy.io.mmread of matrix.mtx[.gz] and the tsv files.
The output must be read by anndata, X float32 CSR with no stored zeros, equal values,
shape, obs names, var names (and gene ids) and obs columns (kind and values).
Exit 0 pass, 1 fail, 77 skip (python modules missing)."""
import gzip
import os
import sys
import warnings

try:
    import anndata
    import h5py
    import numpy as np
    import pandas as pd
    import scipy.io
    import scipy.sparse as sp
    from anndata.utils import make_index_unique
except ImportError as e:
    print(f"skip: {e}", file=sys.stderr)
    sys.exit(77)

warnings.filterwarnings("ignore")


def dec(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def read_10x_h5(path, genome, ftype):
    """(X cells x genes csr, barcodes, gene names, gene ids) from the raw arrays."""
    with h5py.File(path, "r") as f:
        if "matrix" in f:
            g = f["matrix"]
            feat = g["features"]
            ids = [dec(x) for x in feat["id"][:]]
            names = [dec(x) for x in feat["name"][:]]
            keep = np.ones(len(ids), bool)
            if ftype != "all":
                keep &= np.array([dec(x) == ftype for x in feat["feature_type"][:]])
            if genome is not None and "genome" in feat:
                keep &= np.array([dec(x) == genome for x in feat["genome"][:]])
        else:
            groups = [k for k in f if isinstance(f[k], h5py.Group)]
            g = f[genome if genome is not None else groups[0]]
            ids = [dec(x) for x in g["genes"][:]]
            names = [dec(x) for x in g["gene_names"][:]]
            keep = np.ones(len(ids), bool)
        shape = tuple(int(x) for x in g["shape"][:])
        M = sp.csc_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=shape)
        barcodes = [dec(x) for x in g["barcodes"][:]]
    X = M.T.tocsr()[:, np.flatnonzero(keep)]
    names = [n for n, k in zip(names, keep) if k]
    ids = [i for i, k in zip(ids, keep) if k]
    return X, barcodes, list(make_index_unique(pd.Index(names))), ids


def read_tsv(d, *names):
    for n in names:
        for p in (os.path.join(d, n), os.path.join(d, n + ".gz")):
            if os.path.exists(p):
                op = gzip.open if p.endswith(".gz") else open
                with op(p, "rt") as fh:
                    return [line.rstrip("\n").split("\t") for line in fh if line.strip()]
    raise FileNotFoundError(f"{d}: none of {names}")


def read_mtx(d):
    p = os.path.join(d, "matrix.mtx")
    M = scipy.io.mmread(p if os.path.exists(p) else p + ".gz")
    feat = read_tsv(d, "features.tsv", "genes.tsv")
    bc = [r[0] for r in read_tsv(d, "barcodes.tsv")]
    names = [r[1] if len(r) > 1 else r[0] for r in feat]
    ids = [r[0] for r in feat]
    keep = np.array([len(r) < 3 or r[2] == "Gene Expression" for r in feat])
    X = sp.csr_matrix(M).T.tocsr()[:, np.flatnonzero(keep)]
    names = [n for n, k in zip(names, keep) if k]
    ids = [i for i, k in zip(ids, keep) if k]
    return X, bc, list(make_index_unique(pd.Index(names))), ids


def parse_opts(opts):
    o = {"layer": None, "raw": False, "genome": None, "ftype": "Gene Expression"}
    i = 0
    while i < len(opts):
        a = opts[i]
        if a == "--raw":
            o["raw"] = True
        elif a in ("--layer", "--genome", "--feature-type"):
            o[{"--layer": "layer", "--genome": "genome", "--feature-type": "ftype"}[a]] = opts[i + 1]
            i += 1
        i += 1
    return o


def column_values(s):
    """A column as comparable values: strings/None for text, float (NaN) for numbers."""
    if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or \
            pd.api.types.is_string_dtype(s.dtype):
        return [None if (v is None or (not isinstance(v, str) and pd.isna(v))) else str(v)
                for v in s.astype(object)]
    return pd.to_numeric(s.astype(object).where(s.notna(), np.nan), errors="coerce") \
        .astype(float).to_numpy()


def kind(s):
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(s.dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "numeric"
    return "string"


def compare_obs(fails, tag, want, got):
    for c in want.columns:
        if c not in got.columns:
            fails.append(f"{tag}: obs column {c!r} ({want[c].dtype}) missing")
            continue
        kw, kg = kind(want[c]), kind(got[c])
        # a bool column with missing values (pandas 'boolean' with NA) is kept as float
        if kw != kg and not (kw == "bool" and kg == "numeric" and want[c].isna().any()):
            fails.append(f"{tag}: obs column {c!r} is {kg}, input has {kw}")
            continue
        a, b = column_values(want[c]), column_values(got[c])
        if isinstance(a, list):
            if a != b:
                fails.append(f"{tag}: obs column {c!r} values differ")
            elif kw == "categorical" and \
                    list(want[c].cat.categories.astype(str)) != list(got[c].cat.categories):
                fails.append(f"{tag}: obs column {c!r} categories differ")
            elif kw == "categorical" and want[c].cat.ordered != got[c].cat.ordered:
                fails.append(f"{tag}: obs column {c!r} ordered flag differs")
        elif not np.allclose(a, b, rtol=1e-6, atol=0, equal_nan=True):
            fails.append(f"{tag}: obs column {c!r} values differ")


def check_one(fails, inp, out, opts):
    tag = f"{inp} -> {os.path.basename(out)} {' '.join(opts)}".strip()
    o = parse_opts(opts)
    obs = None
    ids = None
    if os.path.isdir(inp):
        X, cells, genes, ids = read_mtx(inp)
    elif inp.endswith(".h5ad"):
        a = anndata.read_h5ad(inp)
        if o["raw"]:
            X, genes = a.raw.X, list(a.raw.var_names)
        elif o["layer"]:
            X, genes = a.layers[o["layer"]], list(a.var_names)
        else:
            X, genes = a.X, list(a.var_names)
        cells, obs = list(a.obs_names), a.obs
    else:
        X, cells, genes, ids = read_10x_h5(inp, o["genome"], o["ftype"])
    want = sp.csr_matrix(X, dtype=np.float32)
    want.eliminate_zeros()
    want.sort_indices()

    b = anndata.read_h5ad(out)
    if not sp.isspmatrix_csr(b.X) or b.X.dtype != np.float32:
        fails.append(f"{tag}: X is {type(b.X).__name__} {b.X.dtype}, not csr float32")
        return
    got = b.X.copy()
    if np.any(got.data == 0):
        fails.append(f"{tag}: X stores zeros")
    got.sort_indices()
    if got.shape != want.shape:
        fails.append(f"{tag}: shape {got.shape}, expected {want.shape}")
        return
    if got.nnz != want.nnz or not np.array_equal(got.indptr, want.indptr) or \
            not np.array_equal(got.indices, want.indices) or \
            not np.allclose(got.data, want.data, rtol=1e-6, atol=0, equal_nan=True):
        fails.append(f"{tag}: X differs (nnz {got.nnz} vs {want.nnz}, "
                     f"max |diff| {abs(got - want).max() if got.shape[0] else 0})")
    if list(b.obs_names) != cells:
        fails.append(f"{tag}: obs names differ")
    if list(b.var_names) != genes:
        bad = [(x, y) for x, y in zip(b.var_names, genes) if x != y][:3]
        fails.append(f"{tag}: var names differ, e.g. {bad}")
    if ids is not None and list(b.var.get("gene_ids", [])) != ids:
        fails.append(f"{tag}: var gene_ids differ")
    if obs is not None:
        compare_obs(fails, tag, obs, b.obs)
    print(f"ok {tag}: {got.shape[0]} x {got.shape[1]}, nnz {got.nnz}, "
          f"{0 if obs is None else len(obs.columns)} obs columns", file=sys.stderr)


def make_mtx(src, d, version):
    """Write a 10x MTX directory from a 10x HDF5 file: version 3 gzipped with
    features.tsv.gz (id, name, type), version 2 plain with genes.tsv (id, name)."""
    X, bc, _, _ = read_10x_h5(src, None, "all")
    with h5py.File(src, "r") as f:
        g = f["matrix"]
        ids = [dec(x) for x in g["features/id"][:]]
        names = [dec(x) for x in g["features/name"][:]]
        types = [dec(x) for x in g["features/feature_type"][:]]
    os.makedirs(d, exist_ok=True)
    gz = version == 3
    op = (lambda n: gzip.open(os.path.join(d, n + ".gz"), "wt")) if gz else \
        (lambda n: open(os.path.join(d, n), "w"))
    M = sp.coo_matrix(X.T.astype(np.int64))
    with (gzip.open(os.path.join(d, "matrix.mtx.gz"), "wb") if gz
          else open(os.path.join(d, "matrix.mtx"), "wb")) as fh:
        scipy.io.mmwrite(fh, M, field="integer")
    with op("features.tsv" if gz else "genes.tsv") as fh:
        for i, n, t in zip(ids, names, types):
            fh.write(f"{i}\t{n}\t{t}\n" if gz else f"{i}\t{n}\n")
    with op("barcodes.tsv") as fh:
        fh.write("".join(b + "\n" for b in bc))


def consistent_10x(g):
    """A 10x group scanpy can read: as many barcodes and genes as the shape says."""
    genes = g["features/id"] if "features" in g else g["genes"]
    shape = g["shape"][:]
    return len(g["barcodes"]) == shape[1] and len(genes) == shape[0]


def expectations(paths):
    """For each input: 'convert' when it holds a count matrix sddcell must read by
    default, 'refuse' when it cannot be converted without options (no X; several 10x
    genomes) or is inconsistent (fewer barcodes than cells)."""
    for p in paths:
        with h5py.File(p, "r") as f:
            if p.endswith(".h5ad"):
                ok = "X" in f
            else:
                groups = [k for k in f if isinstance(f[k], h5py.Group)]
                ok = "matrix" in f or len(groups) == 1
                if ok:
                    ok = consistent_10x(f["matrix"] if "matrix" in f else f[groups[0]])
        print(f"{'convert' if ok else 'refuse'}\t{p}")


def main():
    if sys.argv[1] == "--make-mtx":
        make_mtx(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    if sys.argv[1] == "--expect":
        expectations(sys.argv[2:])
        return 0
    fails = []
    n = 0
    with open(sys.argv[1]) as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            n += 1
            before = len(fails)
            try:
                check_one(fails, parts[0], parts[1], parts[2].split() if len(parts) > 2 else [])
            except Exception as e:  # a crash while reading is a failure of that case
                fails.append(f"{parts[0]}: {type(e).__name__}: {e}")
            for f in fails[before:]:
                print(f"FAIL: {f}", file=sys.stderr)
    print(f"{n} conversions checked, {len(fails)} failures", file=sys.stderr)
    return 1 if fails or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
