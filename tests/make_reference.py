#!/usr/bin/python3
"""Reference counts for the reader tests, computed independently of sddcell.

For every file under tests/data/real/h5ad and tests/data/real/10x (copies of the team's
real test files, see tests/data/real/README.md), example_data/pbmc3k_1k.h5ad and
tests/data/derived/*.h5, and for a few extra option sets (--layer, --raw, --genome), record
what python3-anndata 0.8 (h5ad)
or h5py (10x .h5, read the way scanpy.read_10x_h5 does) sees: cells, genes, stored
entries (nnz as anndata counts it: stored entries for sparse, non-zero values for dense)
and the sum of the matrix in float64. h5py decodes LZF itself. Files that anndata /
scanpy cannot turn into a matrix get an `error` row with a word the error must contain.

usage: make_reference.py [REPO_DIR [OUT.tsv]]     (writes tests/data/reference_counts.tsv)
Paths in the table are relative to the repository root.
"""
import os
import sys

import anndata
import h5py
import numpy as np
import scipy.sparse as sp

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "tests", "data", "reference_counts.tsv")
REAL = "tests/data/real/"
OBS = "-"  # obs columns of the file last read without options

# extra option sets per file (relative path -> list of argument strings)
EXTRA = {
    REAL + "h5ad/anndataR/2023-05/example.h5ad": ["--layer counts", "--layer csc_counts", "--layer dense_counts",
                                           "--layer dense_X", "--layer no_such_layer"],
    REAL + "h5ad/anndata/v0.7.0/adata.h5ad": ["--raw", "--layer array", "--layer sparse"],
    REAL + "h5ad/anndata/v0.7.8/adata.h5ad": ["--raw"],
    REAL + "h5ad/anndata/v0.5.0/adata.h5ad": ["--raw"],
    REAL + "h5ad/scanpy/2018-08/10x_pbmc68k_reduced.h5ad": ["--raw"],
    REAL + "h5ad/scanpy/t-cells.h5ad": ["--layer raw_counts", "--raw"],
    REAL + "h5ad/zellkonverter/example_anndata.h5ad": ["--layer counts"],
    REAL + "10x/scanpy/1.2.0/multiple_genomes.h5": ["--genome hg19_chr21", "--genome another_genome",
                                             "--genome no_such_genome"],
    REAL + "10x/scanpy/3.0.0/filtered_feature_bc_matrix.h5": ["--feature-type all", "--feature-type Antibody"],
}


def stats(X):
    if sp.issparse(X):
        return X.shape[0], X.shape[1], int(X.nnz), float(np.asarray(X.data, dtype=np.float64).sum())
    X = np.asarray(X)
    return X.shape[0], X.shape[1], int(np.count_nonzero(X)), float(X.astype(np.float64).sum())


def obs_kinds(obs):
    """obs columns as name:kind:n_categories, the kinds sddcell reports."""
    out = []
    for name in obs.columns:
        col = obs[name]
        if hasattr(col, "cat"):
            out.append("%s:categorical:%d" % (name, len(col.cat.categories)))
            continue
        kind = str(col.dtype).lower()
        if kind in ("bool", "boolean"):
            kind = "bool"
        elif kind == "object" or kind.startswith("string"):
            kind = "string"
        else:
            kind = "numeric"
        out.append("%s:%s:null" % (name, kind))
    return ";".join(out) or "none"


def h5ad_row(path, args):
    a = anndata.read_h5ad(path)
    if not args:
        global OBS
        OBS = obs_kinds(a.obs)
    parts = args.split()
    if "--raw" in parts:
        if a.raw is None:
            return ("error", "raw")
        return ("ok",) + stats(a.raw.X)
    if "--layer" in parts:
        name = parts[parts.index("--layer") + 1]
        if name not in a.layers:
            return ("error", "no layer")
        return ("ok",) + stats(a.layers[name])
    if a.X is None:
        return ("error", "--layer")
    return ("ok",) + stats(a.X)


def tenx_group(g, v3, feature_type):
    """Cells, kept genes, nnz, sum of one 10x matrix group, as scanpy reads it."""
    n_genes, n_cells = (int(v) for v in g["shape"][()])
    names = g["features/name"] if v3 else g["gene_names"]
    if len(g["barcodes"]) != n_cells:
        return ("error", "barcodes")
    if len(names) != n_genes:
        return ("error", "features/name" if v3 else "gene_names")
    X = sp.csc_matrix((g["data"][()], g["indices"][()], g["indptr"][()]), shape=(n_genes, n_cells))
    if v3 and feature_type != "all" and "feature_type" in g["features"]:
        keep = np.array([t.decode() == feature_type for t in g["features/feature_type"][()]])
        if not keep.any():
            return ("error", "no feature of type")
        X = X[keep, :]
    return ("ok",) + stats(X.T.tocsr())


def tenx_row(path, args):
    parts = args.split()
    genome = parts[parts.index("--genome") + 1] if "--genome" in parts else None
    ftype = parts[parts.index("--feature-type") + 1] if "--feature-type" in parts else "Gene Expression"
    with h5py.File(path, "r") as f:
        if "matrix" in f:
            return tenx_group(f["matrix"], True, ftype)
        groups = sorted(k for k in f if isinstance(f[k], h5py.Group) and "indptr" in f[k])
        if genome is not None:
            if genome not in groups:
                return ("error", "no genome")
            return tenx_group(f[genome], False, ftype)
        if len(groups) > 1:
            return ("error", "--genome")
        return tenx_group(f[groups[0]], False, ftype)


def inputs():
    """Repository-relative paths of the files the table covers."""
    rels = ["example_data/pbmc3k_1k.h5ad"]
    for sub in (REAL + "h5ad", REAL + "10x", "tests/data/derived"):
        for root, _, files in os.walk(os.path.join(ROOT, sub)):
            rels += [os.path.relpath(os.path.join(root, fn), ROOT) for fn in files if fn.endswith((".h5ad", ".h5"))]
    return rels


def main():
    rows = []
    for rel in inputs():
        for args in [""] + EXTRA.get(rel, []):
            global OBS
            OBS = "-"
            full = os.path.join(ROOT, rel)
            r = tenx_row(full, args) if rel.endswith(".h5") else h5ad_row(full, args)
            if r[0] == "ok":
                r = tuple(r) + (OBS if not args else "-",)
            rows.append((rel, args or "-") + tuple(r))
    rows.sort()
    with open(OUT, "w") as out:
        out.write("# file\targs\tstatus\tn_cells|expect\tn_genes\tnnz\tsum\tobs columns (name:kind:n_categories)\n")
        out.write("# made by tests/make_reference.py with anndata %s, h5py %s, numpy %s\n"
                  % (anndata.__version__, h5py.__version__, np.__version__))
        for r in rows:
            if r[2] == "ok":
                out.write("%s\t%s\tok\t%d\t%d\t%d\t%.17g\t%s\n" % (r[:2] + r[3:]))
            else:
                out.write("%s\t%s\terror\t%s\n" % (r[:2] + r[3:]))
    print("%s: %d rows" % (OUT, len(rows)))


if __name__ == "__main__":
    main()
