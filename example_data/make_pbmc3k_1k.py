#!/usr/bin/python3
"""Make example_data/pbmc3k_1k.h5ad: 1000 cells drawn without replacement (numpy seed 0)
from ../shared/data/train/pbmc3k_counts.h5ad (10x Genomics PBMC 3k, raw UMI counts),
all 32738 genes, cells kept in their original order. obs n_counts / n_genes and var
n_cells are recomputed for the subset. Written by anndata with gzip compression.

Usage: /usr/bin/python3 example_data/make_pbmc3k_1k.py [SOURCE.h5ad] [OUT.h5ad]
"""
import os
import sys

import anndata
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "..", "..", "shared", "data", "train", "pbmc3k_counts.h5ad")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "pbmc3k_1k.h5ad")

full = anndata.read_h5ad(src)
rng = np.random.default_rng(0)
keep = np.sort(rng.choice(full.n_obs, size=1000, replace=False))
a = full[keep].copy()
X = a.X.tocsr()
X.sort_indices()
a.X = X.astype(np.float32)
a.obs["n_counts"] = np.asarray(X.sum(axis=1)).ravel().astype(np.float32)
a.obs["n_genes"] = np.diff(X.indptr).astype(np.int64)
a.var["n_cells"] = np.bincount(X.indices, minlength=a.n_vars).astype(np.int64)
a.uns = {"source": "10x Genomics PBMC 3k (Cell Ranger 1.1.0, hg19), 1000 random cells (seed 0) "
                   "of pbmc3k_counts.h5ad, raw UMI counts"}
a.write_h5ad(out, compression="gzip")
print(f"{out}: {a.n_obs} cells x {a.n_vars} genes, {X.nnz} non-zeros, "
      f"{int(X.sum())} UMIs, {os.path.getsize(out)} bytes")
