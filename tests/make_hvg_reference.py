#!/usr/bin/python3
"""Reference highly-variable-gene tables for sddcell's preprocessing tests.

An independent numpy/pandas implementation of scanpy's published pipeline
(scanpy.pp.filter_genes(min_cells=3), filter_cells(min_genes=10), normalize_total,
log1p, highly_variable_genes with flavor 'seurat' or 'cell_ranger' and n_top_genes),
written from scanpy's algorithm description and source, without scanpy itself:

  QC       genes with X > 0 in >= 3 cells, then cells with X > 0 in >= 10 kept genes
  norm     c_i = float32(sum_j x_ij) (sum in float64); f_i = float32(c_i / T);
           x_ij <- float32(x_ij / f_i)                              (T = 1e4)
  log1p    float32 log1p
  seurat   y = expm1(x) (float32); m, v = mean, unbiased variance (float64)
           m[m == 0] = 1e-12; d = v / m; d[d == 0] = nan; d = ln d; m = ln(1 + m)
           20 equal-width bins of m (pandas.cut); per bin z = (d - mean) / std (ddof 1);
           a bin whose std is NaN (one gene) gets z = 1 for that gene
  cell_ranger  on x itself: d = v / m, no logs; bins at the 10,15,...,100th percentiles of
           m (with -inf, inf ends); z = (d - median) / MAD, MAD = median(|d - median| / 0.6745)
  select   cut = n-th largest non-NaN z; selected = z >= cut (NaN never)

usage: make_hvg_reference.py OUTDIR FILE.h5ad [FILE.h5ad ...]
writes OUTDIR/hvg_ref_<stem>_<flavor>.tsv with one row per QC-kept gene (and, for the last
file, hvg_ref_<stem>_seurat_median.tsv with normalize_total's median target):
  gene  means  dispersions  dispersions_norm  hv500  hv1000
and a first comment line '# cells_kept N genes_kept G'.
Also usable as the benchmark's reference: make_hvg_reference.py --bench FILE.h5ad N FLAVOR [GENES_OUT]
and to hand counts to R (tests/make_seurat_v3_reference.R):
  make_hvg_reference.py --export-mtx FILE.h5ad PREFIX   (PREFIX.mtx cells x genes, PREFIX.genes)
"""
import os
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import anndata as ad


def gene_mask(X, min_cells=3):
    return np.bincount(X.indices[X.data > 0], minlength=X.shape[1]) >= min_cells


def cell_mask(X, min_genes=10):
    return np.asarray((X > 0).sum(axis=1)).ravel() >= min_genes


def normalize_log1p(X, target_sum=1e4):
    """target_sum None: scanpy's default, the (float32) median of the non-zero totals."""
    if X.data.dtype != np.float32:
        X.data = X.data.astype(np.float32)
    n = np.diff(X.indptr)
    tot = np.zeros(X.shape[0])
    tot[n > 0] = np.add.reduceat(X.data, X.indptr[:-1][n > 0], dtype=np.float64)
    tot = tot.astype(np.float32)
    if target_sum is None:
        target_sum = np.median(tot[tot > 0])
    f = (tot / np.float32(target_sum)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(X.data, np.repeat(f, n), out=X.data)
    np.log1p(X.data, out=X.data)
    return X


def mean_var(X, step=1 << 25):
    n = X.shape[0]
    s = np.zeros(X.shape[1])
    ss = np.zeros(X.shape[1])
    for a in range(0, X.nnz, step):  # in slices, to bound the float64 temporaries
        d = X.data[a:a + step].astype(np.float64)
        s += np.bincount(X.indices[a:a + step], weights=d, minlength=X.shape[1])
        ss += np.bincount(X.indices[a:a + step], weights=d * d, minlength=X.shape[1])
    m = s / n
    v = (ss / n - m * m) * (n / (n - 1))
    return m, v


def hvg(X, flavor, n_bins=20, inplace=False):
    if flavor == "seurat":
        if not inplace:
            X = X.copy()
        np.expm1(X.data, out=X.data)
    m, v = mean_var(X)
    m[m == 0] = 1e-12
    d = v / m
    if flavor == "seurat":
        d[d == 0] = np.nan
        d = np.log(d)
        m = np.log1p(m)
    df = pd.DataFrame({"means": m, "dispersions": d})
    if flavor == "seurat":
        df["mean_bin"] = pd.cut(df["means"], bins=n_bins)
        g = df.groupby("mean_bin", observed=True)["dispersions"]
        st = g.agg(avg="mean", dev="std")
        one = st["dev"].isna()
        st.loc[one, "dev"] = st.loc[one, "avg"]
        st.loc[one, "avg"] = 0
    else:
        edges = np.r_[-np.inf, np.percentile(df["means"], np.arange(10, 105, 5)), np.inf]
        df["mean_bin"] = pd.cut(df["means"], edges)
        g = df.groupby("mean_bin", observed=True)["dispersions"]

        def mad(a):
            a = np.asarray(a)
            return np.median(np.abs(a - np.median(a)) / 0.6744897501960817) if a.size else np.nan
        st = g.agg(avg="median", dev=mad)
    st = st.loc[df["mean_bin"]].set_index(df.index)
    df["dispersions_norm"] = (df["dispersions"] - st["avg"]) / st["dev"]
    return df


def select(z, n):
    z = np.asarray(z, dtype=np.float64)
    ok = z[~np.isnan(z)]
    n = min(n, ok.size)
    cut = np.sort(ok)[::-1][n - 1]
    return np.nan_to_num(z, nan=-np.inf) >= cut


def run(path, target_sum=1e4):
    a = ad.read_h5ad(path)
    X, names = sp.csr_matrix(a.X), np.asarray(a.var_names)
    del a
    genes = gene_mask(X)       # QC, rebinding X so that each copy replaces the last
    X = X[:, genes]
    X = X[cell_mask(X)]
    return normalize_log1p(X, target_sum), names[genes]


def main():
    if sys.argv[1] == "--export-mtx":
        import scipy.io
        a = ad.read_h5ad(sys.argv[2])
        scipy.io.mmwrite(sys.argv[3] + ".mtx", sp.csr_matrix(a.X), field="integer")
        with open(sys.argv[3] + ".genes", "w") as fp:
            fp.write("\n".join(a.var_names) + "\n")
        return
    if sys.argv[1] == "--bench":
        path, n, flavor = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        t0 = time.time()
        X, names = run(path)
        df = hvg(X, flavor, inplace=True)
        sel = select(df["dispersions_norm"], n)
        print(f"reference: {sel.sum()} genes selected in {time.time() - t0:.1f} s", file=sys.stderr)
        if len(sys.argv) > 5:  # the selected genes' names, one a line
            with open(sys.argv[5], "w") as fp:
                fp.write("".join(f"{g}\n" for g in names[np.asarray(sel)]))
        return
    out = sys.argv[1]
    for path, target, flavors, tag in [(p, 1e4, ("seurat", "cell_ranger"), "") for p in sys.argv[2:]] + \
            [(sys.argv[-1], None, ("seurat",), "_median")]:
        X, names = run(path, target)
        stem = os.path.splitext(os.path.basename(path))[0]
        for flavor in flavors:
            df = hvg(X, flavor)
            fn = os.path.join(out, f"hvg_ref_{stem}_{flavor}{tag}.tsv")
            with open(fn, "w") as fp:
                fp.write(f"# cells_kept {X.shape[0]} genes_kept {X.shape[1]}\n")
                fp.write("gene\tmeans\tdispersions\tdispersions_norm\thv500\thv1000\n")
                s5, s10 = select(df["dispersions_norm"], 500), select(df["dispersions_norm"], 1000)
                for i in range(len(df)):
                    fp.write("%s\t%.10g\t%.10g\t%.10g\t%d\t%d\n" % (
                        names[i], df["means"].iat[i], df["dispersions"].iat[i],
                        df["dispersions_norm"].iat[i], s5[i], s10[i]))
            print(f"{fn}: {X.shape[0]} cells, {X.shape[1]} genes, "
                  f"{s5.sum()} / {s10.sum()} selected", file=sys.stderr)


if __name__ == "__main__":
    main()
