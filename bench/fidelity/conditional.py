#!/usr/bin/python3
"""Per-label fidelity of a conditional model against an unconditional one.
For each label L of the real data (normalize_total 1e4 + log1p, on the synthetic genes):
  cond   Pearson / Spearman of the conditional model's cells of label L (mean per gene)
         with the real cells of label L;
  uncond the unconditional model's cells, all of them (it cannot be asked for a label);
  uncond_nn the unconditional cells assigned to L by the nearest real label centroid in
         the joint 20-PC space (the best an unconditional model offers after the fact).
usage: conditional.py REAL_LABELED.h5ad KEY COND.h5ad UNCOND.h5ad  -> markdown table"""
import sys
import anndata, numpy as np, scipy.sparse as sp
from scipy.stats import pearsonr, spearmanr

real_path, key, cond_path, unc_path = sys.argv[1:5]
real = anndata.read_h5ad(real_path)
cond = anndata.read_h5ad(cond_path)
unc = anndata.read_h5ad(unc_path)
genes = list(cond.var_names)
assert genes == list(unc.var_names)
X = sp.csr_matrix(real.X, dtype=np.float64)
tot = np.asarray(X.sum(1)).ravel(); tot[tot == 0] = 1
X = sp.diags(1e4 / tot) @ X
X.data = np.log1p(X.data)
idx = real.var_names.get_indexer(genes)
R = X[:, idx].toarray()
rl = np.asarray(real.obs[key].astype(str))
C = cond.X.toarray(); cl = np.asarray(cond.obs[key].astype(str))
U = unc.X.toarray()
# nearest real-label centroid for the unconditional cells, in 20 PCs of the real cells
mu = R.mean(0)
_, _, Vt = np.linalg.svd(R - mu, full_matrices=False)
P = Vt[:20].T
labels = sorted(set(rl))
cent = np.stack([((R[rl == l] - mu) @ P).mean(0) for l in labels])
d = (((U - mu) @ P)[:, None, :] - cent[None]) ** 2
ul = np.array(labels)[d.sum(2).argmin(1)]
print("| label | real cells | cond cells | PCC cond | PCC uncond (all) | PCC uncond (nearest) | SCC cond | SCC uncond (all) | SCC uncond (nearest) |")
print("|---|---|---|---|---|---|---|---|---|")
agg = []
for l in labels:
    r = R[rl == l].mean(0)
    c = C[cl == l].mean(0)
    u = U.mean(0)
    un = U[ul == l].mean(0) if (ul == l).any() else np.zeros_like(u)
    row = [pearsonr(r, c)[0], pearsonr(r, u)[0], pearsonr(r, un)[0],
           spearmanr(r, c)[0], spearmanr(r, u)[0], spearmanr(r, un)[0]]
    agg.append(row)
    print("| %s | %d | %d | " % (l, (rl == l).sum(), (cl == l).sum()) + " | ".join("%.4f" % v for v in row) + " |")
print("| mean | | | " + " | ".join("%.4f" % v for v in np.mean(agg, 0)) + " |")
