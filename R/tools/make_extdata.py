#!/usr/bin/python3
"""Write the R package's example file: 120 cells of example_data/pbmc3k_1k.h5ad (a fixed
seeded choice) keeping the genes with a count in them, and a table of reference figures computed by anndata, so the
package's tests compare the C reader against another tool's reading.
usage: make_extdata.py  (run from the repository root)"""
import numpy as np, anndata as ad
a = ad.read_h5ad("example_data/pbmc3k_1k.h5ad")
rng = np.random.default_rng(7)
idx = np.sort(rng.choice(a.n_obs, 120, replace=False))
b = a[idx].copy()
b = b[:, np.asarray((b.X > 0).sum(axis=0)).ravel() > 0].copy()  # genes seen in these cells
b.obs["group"] = np.where(np.arange(b.n_obs) % 3 == 0, "A", "B")
b.obs["group"] = b.obs["group"].astype("category")
b.write_h5ad("R/inst/extdata/pbmc_small.h5ad", compression="gzip")
X = b.X.tocsr()
ref = {"n_cells": int(b.n_obs), "n_genes": int(b.n_vars), "nnz": int(X.nnz),
       "sum": float(X.sum(dtype=np.float64)), "first_cells": list(b.obs_names[:3]),
       "first_genes": list(b.var_names[:3]),
       "col_sums_first3": [float(v) for v in np.asarray(X[:3].sum(axis=1)).ravel()],
       "group_counts": {k: int(v) for k, v in b.obs["group"].value_counts().items()}}
with open("R/inst/extdata/pbmc_small_reference.tsv", "w") as f:  # key<TAB>values (comma-separated)
    for k, v in ref.items():
        if isinstance(v, dict): v = ",".join(f"{a}={b}" for a, b in sorted(v.items()))
        elif isinstance(v, list): v = ",".join(str(x) for x in v)
        f.write(f"{k}\t{v}\n")
print(ref)
