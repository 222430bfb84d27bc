#!/usr/bin/python3
"""Labelled copy of a count file for the conditional-generation check: cell labels from
k-means (scikit-learn, seeded) on 20 principal components of the log1p-normalised
matrix of the 1000 highly variable genes (scanpy-style dispersion ranking), written as
obs 'cluster' (categorical c0..c{k-1}).
usage: make_labels.py IN.h5ad OUT.h5ad [K]"""
import sys
import anndata, numpy as np, scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

src, dst = sys.argv[1], sys.argv[2]
k = int(sys.argv[3]) if len(sys.argv) > 3 else 4
a = anndata.read_h5ad(src)
X = sp.csr_matrix(a.X, dtype=np.float64)
tot = np.asarray(X.sum(1)).ravel()
tot[tot == 0] = 1
L = sp.diags(1e4 / tot) @ X
L.data = np.log1p(L.data)
mean = np.asarray(L.mean(0)).ravel()
var = np.asarray(L.multiply(L).mean(0)).ravel() - mean ** 2
disp = np.where(mean > 0, var / np.maximum(mean, 1e-12), 0)
top = np.argsort(-disp)[:1000]
Y = L[:, top].toarray()
pcs = PCA(n_components=20, random_state=0).fit_transform(Y - Y.mean(0))
lab = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(pcs)
a.obs["cluster"] = np.array(["c%d" % c for c in lab])
a.obs["cluster"] = a.obs["cluster"].astype("category")
a.write_h5ad(dst)
print(a.obs["cluster"].value_counts().sort_index().to_dict())
