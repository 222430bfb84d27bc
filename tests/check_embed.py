#!/usr/bin/python3
"""check_embed.py OUT.h5ad N_REAL N_SYNTH N_PCS N_NEIGHBORS [TSV]: checks an `sddcell embed`
output with anndata, independently of the C code:
  - layout: X_pca (n x k float32), varm PCs (genes x k), uns pca / neighbors with scanpy's
    keys, obsp distances / connectivities as csr, obs source categorical, unique names;
  - the PCA: X_pca equals scikit-learn's PCA of X up to the sign of each component;
  - the kNN graph: each row's neighbours are scikit-learn's exact nearest neighbours on
    X_pca (the k - 1 others), and the distances agree;
  - the fuzzy weights: recomputed from those kNN lists with a numpy port of umap-learn's
    smooth_knn_dist / compute_membership_strengths / fuzzy union, and with umap-learn's own
    fuzzy_simplicial_set when it is installed; connectivities symmetric;
  - sc.tl.umap runs on the file when scanpy is installed.
Exit 0 pass, 1 fail, 77 skip (anndata or scikit-learn missing)."""
import os
import sys

try:
    import anndata
    import numpy as np
    import scipy.sparse as sp
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors
except ImportError as e:
    print("skip:", e)
    sys.exit(77)

path, nr, ns, k, K = sys.argv[1], *map(int, sys.argv[2:6])
tsv = sys.argv[6] if len(sys.argv) > 6 else None
a = anndata.read_h5ad(path)
n = nr + ns
bad = []
def check(c, msg):
    if not c:
        bad.append(msg)

check(a.shape[0] == n, f"n_obs {a.shape[0]} != {n}")
check(a.obsm["X_pca"].shape == (n, k) and a.obsm["X_pca"].dtype == np.float32, "X_pca shape/dtype")
check(a.varm["PCs"].shape == (a.shape[1], k), "varm PCs shape")
check(set(a.uns["pca"]) >= {"variance", "variance_ratio"}, "uns pca keys")
nb = a.uns["neighbors"]
check(nb["connectivities_key"] == "connectivities" and nb["distances_key"] == "distances", "neighbors keys")
p = nb["params"]
check(int(p["n_neighbors"]) == K and p["method"] == "umap" and p["metric"] == "euclidean"
      and int(p["n_pcs"]) == k, f"neighbors params {dict(p)}")
check(list(a.obs["source"].cat.categories) == ["real", "synthetic"], "source categories")
check((a.obs["source"].values[:nr] == "real").all() and (a.obs["source"].values[nr:] == "synthetic").all(), "source values")
check(a.obs_names.is_unique, "obs names not unique")
C, D = a.obsp["connectivities"], a.obsp["distances"]
check(sp.isspmatrix_csr(C) and sp.isspmatrix_csr(D), "obsp not csr")
check(abs(C - C.T).max() < 1e-6, "connectivities not symmetric")
check(C.diagonal().max() == 0 and C.data.min() > 0 and C.data.max() <= 1 + 1e-6, "connectivities range / diagonal")

# PCA against scikit-learn (full SVD) on X
X = a.X.toarray().astype(np.float64)
Z = PCA(n_components=k, svd_solver="full").fit(X)
S = Z.transform(X)
sign = np.sign((S * a.obsm["X_pca"]).sum(0))
check(np.allclose(S * sign, a.obsm["X_pca"], atol=1e-3 * np.abs(S).max()), "X_pca differs from sklearn PCA")
check(np.allclose(Z.explained_variance_, a.uns["pca"]["variance"], rtol=1e-6), "pca variance")
check(np.allclose(Z.explained_variance_ratio_, a.uns["pca"]["variance_ratio"], rtol=1e-6), "pca variance_ratio")
check(np.allclose(np.abs(Z.components_.T), np.abs(a.varm["PCs"]), atol=1e-4), "varm PCs")

# kNN against scikit-learn on the stored (float32) scores
P = a.obsm["X_pca"].astype(np.float64)
dist, idx = NearestNeighbors(n_neighbors=K).fit(P).kneighbors(P)
same = 0
for i in range(n):
    cols = D.indices[D.indptr[i]:D.indptr[i + 1]]
    ref = set(idx[i]) - {i}
    same += set(cols) == ref
    if set(cols) == ref:
        o = np.argsort(cols)
        r = {j: d for j, d in zip(idx[i], dist[i])}
        if not np.allclose(D.data[D.indptr[i]:D.indptr[i + 1]], [r[j] for j in cols], rtol=1e-4, atol=1e-4):
            bad.append(f"distances of row {i}")
            break
check(same >= 0.995 * n, f"kNN rows equal to sklearn: {same} of {n}")

# UMAP fuzzy simplicial set from the written kNN lists (numpy port of umap-learn)
knn_i = np.zeros((n, K), int); knn_d = np.zeros((n, K))
for i in range(n):
    cols, vals = D.indices[D.indptr[i]:D.indptr[i + 1]], D.data[D.indptr[i]:D.indptr[i + 1]]
    o = np.argsort(vals, kind="stable")
    knn_i[i, 0], knn_i[i, 1:] = i, cols[o]
    knn_d[i, 1:] = vals[o]
target, mean_all = np.log2(K), knn_d.mean()
rows, cols_, vals = [], [], []
for i in range(n):
    d = knn_d[i]
    nzd = d[d > 0]
    rho = nzd[0] if len(nzd) else 0.0
    lo, hi, mid = 0.0, np.inf, 1.0
    for _ in range(64):
        x = d[1:] - rho
        psum = np.where(x > 0, np.exp(-x / mid), 1.0).sum()
        if abs(psum - target) < 1e-5:
            break
        if psum > target:
            hi = mid; mid = (lo + hi) / 2
        else:
            lo = mid; mid = mid * 2 if hi == np.inf else (lo + hi) / 2
    sig = max(mid, 1e-3 * (d.mean() if rho > 0 else mean_all))
    for j in range(1, K):
        v = 1.0 if d[j] - rho <= 0 else np.exp(-(d[j] - rho) / sig)
        rows.append(i); cols_.append(knn_i[i, j]); vals.append(v)
A = sp.coo_matrix((vals, (rows, cols_)), shape=(n, n)).tocsr()
W = A + A.T - A.multiply(A.T)
check(abs(W - C).max() < 1e-5, f"connectivities differ from umap's formula by {abs(W - C).max():.3g}")

# umap-learn itself, when installed (Debian package umap-learn), on the same kNN lists
try:
    if os.environ.get("SDD_NO_UMAP_LEARN"):  # the caller checked it on another file
        raise ImportError("skipped")
    from umap.umap_ import fuzzy_simplicial_set
    U = fuzzy_simplicial_set(sp.coo_matrix((n, 1)), K, None, "euclidean", knn_indices=knn_i,
                             knn_dists=knn_d.astype(np.float32))[0].tocsr()
    check(abs(U - C).max() < 1e-5, f"connectivities differ from umap-learn's by {abs(U - C).max():.3g}")
    print(f"umap-learn fuzzy_simplicial_set: max |difference| {abs(U - C).max():.2g}")
except ImportError:
    print("umap-learn not installed: connectivities checked against the numpy port only")

if "X_umap" in a.obsm:
    check(a.obsm["X_umap"].shape == (n, 2) and np.isfinite(a.obsm["X_umap"]).all(), "X_umap")
if tsv:
    import pandas as pd
    t = pd.read_csv(tsv, sep="\t", keep_default_na=False)
    want = ["cell_id", "source", "label"] + [f"PC{j + 1}" for j in range(k)]
    if "X_umap" in a.obsm:
        want += ["UMAP1", "UMAP2"]
    check(list(t.columns) == want, "TSV header")
    check(len(t) == n and (t["cell_id"].values == a.obs_names.values).all(), "TSV rows")
    check(np.allclose(t[[f"PC{j + 1}" for j in range(k)]].values, a.obsm["X_pca"], atol=1e-4), "TSV PCs")
try:
    import scanpy as sc
    sc.tl.umap(a)
    check(a.obsm["X_umap"].shape == (n, 2), "sc.tl.umap")
    print("sc.tl.umap ran")
except ImportError:
    print("scanpy not installed: sc.tl.umap readiness checked by structure")
print("\n".join(bad) or f"embed output OK ({n} cells, {k} PCs, {K} neighbours)")
sys.exit(1 if bad else 0)
