"""Seeded split of a raw-count .h5ad into training and held-out cells (the cells that
pass QC's min_genes 10 only, as sddcell splits them).
   split.py DATA FRACTION SEED TRAIN_OUT HELDOUT_OUT"""
import sys
import anndata as ad
import numpy as np

src, frac, seed, tr_out, ho_out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
a = ad.read_h5ad(src)
X = a.X
expressed = np.asarray((X > 0).sum(axis=1)).ravel()
a = a[expressed >= 10].copy()
rng = np.random.default_rng(seed)
perm = rng.permutation(a.n_obs)
k = int(round(frac * a.n_obs))
a[np.sort(perm[k:])].copy().write_h5ad(tr_out)
a[np.sort(perm[:k])].copy().write_h5ad(ho_out)
