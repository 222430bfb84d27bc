#!/usr/bin/python3
"""make_metrics_reference.py: fixtures and independent reference values for test_metrics.

Builds a small real-vs-synthetic pair from pbmc3k and computes every metric of
doc/method.md §8 with numpy / scipy / scikit-learn, independently of the C code:

  real   700 cells x 200 genes: log1p(normalize_total(counts, 1e4)) of pbmc3k cells,
         the 200 genes of highest variance;
  synth  600 other pbmc3k cells over the same genes, perturbed: non-zeros multiplied
         by exp(N(0, 0.2)), 15% of them set to 0 (a plausible but imperfect generator);
  labels 4 KMeans clusters of all 1300 cells (names c0..c3).

Only the subsample and the cross-validation folds are shared with the C side by
definition (doc/method.md §8.4, §8.7: seeded draws): they are drawn here with a
re-implementation of the library's RNG (xoshiro256** seeded by splitmix64, sdd_rng_below, Fisher-Yates).

Writes tests/data/metrics_real.bin.gz, metrics_synth.bin.gz (CSR, see write_csr) and
tests/data/metrics_expected.json. Also usable on any two h5ad files for timing:
    make_metrics_reference.py --bench REAL.h5ad SYNTH.h5ad
which prints the metrics (REAL already log-normalised) and the time they took.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist
from scipy.stats import pearsonr, spearmanr, wasserstein_distance
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

M64 = (1 << 64) - 1


class Rng:
    """The library's sdd_rng_t: xoshiro256** seeded through splitmix64."""

    def __init__(self, seed):
        self.x = seed & M64
        self.s = [self._splitmix() for _ in range(4)]

    def _splitmix(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & M64
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def u64(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def below(self, n):
        if n <= 1:
            return 0
        lim = M64 - M64 % n
        while True:
            x = self.u64()
            if x < lim:
                return x % n

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]


def subsample(rng, size, n):
    idx = list(range(size))
    if size > n:
        for i in range(n):
            j = i + rng.below(size - i)
            idx[i], idx[j] = idx[j], idx[i]
        return np.sort(np.array(idx[:n]))
    return np.arange(size)


def folds(rng, n, F):
    out = np.zeros(2 * n, dtype=int)
    for side in range(2):
        perm = list(range(n))
        rng.shuffle(perm)
        for r, p in enumerate(perm):
            out[side * n + p] = r % F
    return out


def mmd(X, na, block=2048):
    """The MMD of doc/method.md §8.5, straight from the definition with scipy's cdist, over row
    blocks of the distance matrix so that 2 x 10000 cells fit in memory."""
    N = len(X)
    nb = N - na
    tot = sum(cdist(X[i:i + block], X, "sqeuclidean").sum() for i in range(0, N, block))
    b = tot / (N * (N - 1))  # the diagonal is 0
    saa = sbb = sab = 0.0
    for i in range(0, N, block):
        D = cdist(X[i:i + block], X, "sqeuclidean")
        K = sum(np.exp(-D / (b * 2.0**q)) for q in range(-2, 3))
        r = np.arange(i, min(i + block, N)) < na
        saa += K[r][:, :na].sum()
        sab += K[r][:, na:].sum()
        sbb += K[~r][:, na:].sum()
    return saa / na**2 + sbb / nb**2 - 2 * sab / (na * nb), b


def lisi(X, labels, perplexity=30):
    """lisi::compute_lisi: nn2 with k = 3 * perplexity, self dropped, then
    compute_simpson_index (bisection on beta for entropy ln(perplexity))."""
    k = 3 * perplexity
    dist, idx = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)
    out = np.empty(len(X))
    logU = np.log(perplexity)
    nl = labels.max() + 1
    for i in range(len(X)):
        keep = idx[i] != i
        d, nb = dist[i][keep][: k - 1], idx[i][keep][: k - 1]

        def hbeta(beta):
            P = np.exp(-d * beta)
            s = P.sum()
            if s == 0:
                return 0.0, np.zeros_like(P)
            return np.log(s) + beta * (d * P).sum() / s, P / s

        beta, bmin, bmax = 1.0, -np.inf, np.inf
        H, P = hbeta(beta)
        tries = 0
        while abs(H - logU) > 1e-5 and tries < 50:
            if H - logU > 0:
                bmin = beta
                beta = beta * 2 if not np.isfinite(bmax) else (beta + bmax) / 2
            else:
                bmax = beta
                beta = beta / 2 if not np.isfinite(bmin) else (beta + bmin) / 2
            H, P = hbeta(beta)
            tries += 1
        if H == 0:
            out[i] = -1
            continue
        out[i] = 1.0 / sum(P[labels[nb] == l].sum() ** 2 for l in range(nl))
    return out


def knn_auc(X, y, fold, F, k=5):
    aucs = []
    for f in range(F):
        tr, te = fold != f, fold == f
        clf = KNeighborsClassifier(n_neighbors=k).fit(X[tr], y[tr])
        aucs.append(roc_auc_score(y[te], clf.predict_proba(X[te])[:, 1]))
    return float(np.mean(aucs))


def lfc(M, lab, l):
    # Seurat's FindMarkers avg_log2FC: log2(mean(expm1(x)) + 1) in vs out
    mi = np.expm1(M[lab == l]).mean(0)
    mo = np.expm1(M[(lab != l) & (lab >= 0)]).mean(0)
    return np.log2(mi + 1) - np.log2(mo + 1)


def evaluate(R, S, rl=None, sl=None, names=None, n_sub=10000, seed=42, F=5, bins=20):
    """All metrics on dense float64 copies of float32 log1p matrices R, S."""
    res = {}
    res["sparsity_real"] = float((R == 0).mean())
    res["sparsity_synth"] = float((S == 0).mean())
    zr, zs = (R == 0).mean(1), (S == 0).mean(1)
    # bin of a cell with z zeros of G genes: floor(z * bins / G) in exact integers
    for side, M in (("real", R), ("synth", S)):
        b = np.minimum((M == 0).sum(1) * bins // M.shape[1], bins - 1)
        res["zero_hist_" + side] = (np.bincount(b, minlength=bins) / len(M)).tolist()
    res["zero_frac_w1"] = float(wasserstein_distance(zr, zs))
    mr, ms = R.mean(0), S.mean(0)
    res["scc"] = float(spearmanr(mr, ms).correlation)
    res["pcc"] = float(pearsonr(mr, ms)[0])
    rng = Rng(seed)
    n = min(len(R), len(S), n_sub)
    ir, is_ = subsample(rng, len(R), n), subsample(rng, len(S), n)
    fo = folds(rng, n, F)
    res["sub_real"], res["sub_synth"], res["folds"] = ir.tolist(), is_.tolist(), fo.tolist()
    J = np.vstack([R[ir], S[is_]])
    Z = PCA(n_components=min(50, J.shape[1], len(J) - 1), svd_solver="full").fit_transform(J)
    res["mmd"], res["mmd_bandwidth"] = (float(v) for v in mmd(Z, n))
    y = np.r_[np.zeros(n, int), np.ones(n, int)]
    L = lisi(Z[:, :20], y)
    res["lisi"] = float(np.median(L))
    res["lisi_scaled"] = res["lisi"] - 1
    res["knn_auc"] = knn_auc(Z[:, :20], y, fo, F)
    if rl is not None:
        res["per_label"] = []
        for l, name in enumerate(names):
            e = {"label": name, "n_real": int((rl == l).sum()), "n_synth": int((sl == l).sum())}
            a, b = R[rl == l], S[sl == l]
            e["sparsity_real"], e["sparsity_synth"] = float((a == 0).mean()), float((b == 0).mean())
            e["scc"] = float(spearmanr(a.mean(0), b.mean(0)).correlation)
            e["pcc"] = float(pearsonr(a.mean(0), b.mean(0))[0])
            # the genes Seurat's FindMarkers tests: detected in >= 10% of the label's
            # real cells or of the other labelled real cells (min.pct 0.1)
            det_in = (R[rl == l] > 0).mean(0)
            det_out = (R[(rl != l) & (rl >= 0)] > 0).mean(0)
            tested = (det_in >= 0.1) | (det_out >= 0.1)
            fr, fs = lfc(R, rl, l)[tested], lfc(S, sl, l)[tested]
            e["lfc_genes_tested"] = int(tested.sum())
            e["lfc_pcc"] = float(pearsonr(fr, fs)[0])
            mk = np.argsort(-fr, kind="stable")[:50]
            e["lfc_pcc_markers"] = float(pearsonr(fr[mk], fs[mk])[0])
            jr, js = np.nonzero(rl[ir] == l)[0], n + np.nonzero(sl[is_] == l)[0]
            e["mmd"] = float(mmd(np.vstack([Z[jr], Z[js]]), len(jr))[0])
            res["per_label"].append(e)
    return res


def write_csr(path, X, labels):
    """gzip of little-endian: int64 n_rows, n_cols, nnz; int64 indptr[n+1];
    int32 indices[nnz]; float32 data[nnz]; int32 labels[n_rows]."""
    X = sp.csr_matrix(X.astype(np.float32))
    X.sort_indices()
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(np.array([X.shape[0], X.shape[1], X.nnz], "<i8").tobytes())
        f.write(X.indptr.astype("<i8").tobytes())
        f.write(X.indices.astype("<i4").tobytes())
        f.write(X.data.astype("<f4").tobytes())
        f.write(np.asarray(labels, "<i4").tobytes())


def make_fixtures(shared, outdir):
    import anndata
    from sklearn.cluster import KMeans

    a = anndata.read_h5ad(os.path.join(shared, "data/train/pbmc3k_counts.h5ad"))
    X = sp.csr_matrix(a.X, dtype=np.float64)
    tot = np.asarray(X.sum(1)).ravel()
    X = sp.diags(1e4 / tot) @ X
    X.data = np.log1p(X.data)
    X = X.astype(np.float32).toarray()
    var = X.astype(np.float64).var(0)
    genes = np.sort(np.argsort(-var, kind="stable")[:200])
    rs = np.random.RandomState(3)
    cells = rs.permutation(X.shape[0])
    R = X[cells[:700]][:, genes]
    S = X[cells[700:1300]][:, genes].astype(np.float64)
    nz = S != 0
    S[nz] *= np.exp(rs.normal(0, 0.2, nz.sum()))
    S[nz & (rs.uniform(size=S.shape) < 0.15)] = 0
    S = S.astype(np.float32)
    km = KMeans(4, n_init=10, random_state=0).fit(
        PCA(10, random_state=0).fit_transform(np.vstack([R, S]).astype(np.float64)))
    rl, sl = km.labels_[:700], km.labels_[700:]
    write_csr(os.path.join(outdir, "metrics_real.bin.gz"), R, rl)
    write_csr(os.path.join(outdir, "metrics_synth.bin.gz"), S, sl)
    names = ["c0", "c1", "c2", "c3"]
    R64, S64 = R.astype(np.float64), S.astype(np.float64)
    exp = {"labels": names,
           "default": evaluate(R64, S64, rl, sl, names),
           "n_sub250_seed7": evaluate(R64, S64, rl, sl, names, n_sub=250, seed=7)}
    with open(os.path.join(outdir, "metrics_expected.json"), "w") as f:
        json.dump(exp, f, indent=1)
    for k in ("sparsity_real", "sparsity_synth", "scc", "pcc", "mmd", "lisi_scaled", "knn_auc"):
        print(k, exp["default"][k], exp["n_sub250_seed7"][k])


def make_cli_fixtures(shared, outdir):
    """Files for the `sddcell evaluate` test: raw counts REAL (320 cells x 400 genes of
    pbmc3k, obs cell_type) and log1p SYNTH (260 other cells, 150 of those genes in another
    order plus 2 genes REAL lacks, perturbed, obs cell_type), and the metrics expected on
    them with REAL normalised as the tool does (float32 normalize_total 1e4, log1p)."""
    import anndata
    import pandas as pd

    a = anndata.read_h5ad(os.path.join(shared, "data/train/pbmc3k_counts.h5ad"))
    X = sp.csr_matrix(a.X, dtype=np.float32)
    rs = np.random.RandomState(5)
    expressed = np.nonzero(np.asarray((X > 0).sum(0)).ravel() >= 30)[0]
    genes = np.sort(rs.choice(expressed, 400, replace=False))
    cells = rs.permutation(X.shape[0])
    Rc = X[cells[:320]][:, genes].toarray()
    types = np.array(["T", "B", "Mono"])
    rl = types[rs.randint(0, 3, 320)]
    real = anndata.AnnData(sp.csr_matrix(Rc),
                           obs=pd.DataFrame({"cell_type": pd.Categorical(rl, categories=types)},
                                            index=a.obs_names[cells[:320]]),
                           var=pd.DataFrame(index=a.var_names[genes]))
    real.write_h5ad(os.path.join(outdir, "eval_real_counts.h5ad"), compression="gzip")

    def norm(C):
        tot = C.astype(np.float64).sum(1, keepdims=True)
        Y = (C.astype(np.float64) * (1e4 / np.where(tot > 0, tot, 1))).astype(np.float32)
        return np.log1p(Y.astype(np.float64)).astype(np.float32)

    sg = rs.permutation(400)[:150]
    Sc = X[cells[320:580]][:, genes[sg]].toarray()
    S = norm(X[cells[320:580]][:, genes].toarray())[:, sg].astype(np.float64)
    nz = S != 0
    S[nz] *= np.exp(rs.normal(0, 0.1, nz.sum()))
    S[nz & (rs.uniform(size=S.shape) < 0.1)] = 0
    S = np.hstack([S, np.ones((260, 2))]).astype(np.float32)
    sl = types[rs.randint(0, 3, 260)]
    synth = anndata.AnnData(sp.csr_matrix(S),
                            obs=pd.DataFrame({"cell_type": sl}, index=[f"syn_{i:06d}" for i in range(260)]),
                            var=pd.DataFrame(index=list(a.var_names[genes[sg]]) + ["NOT_A_GENE1", "NOT_A_GENE2"]))
    synth.write_h5ad(os.path.join(outdir, "eval_synth.h5ad"), compression="gzip")
    del Sc
    R = norm(Rc)[:, sg].astype(np.float64)
    rcode = np.searchsorted(types, rl, sorter=np.argsort(types))
    rcode = np.argsort(types)[rcode]
    scode = np.argsort(types)[np.searchsorted(types, sl, sorter=np.argsort(types))]
    res = evaluate(R, S[:, :150].astype(np.float64), rcode, scode, list(types), seed=42)
    for k in ("sub_real", "sub_synth", "folds"):
        del res[k]
    res["per_label"] = {e.pop("label"): e for e in res["per_label"]}
    with open(os.path.join(outdir, "eval_expected.json"), "w") as f:
        json.dump(res, f, indent=1)


def bench(real_path, synth_path, n_sub=10000):
    import anndata
    t0 = time.time()
    a, b = anndata.read_h5ad(real_path), anndata.read_h5ad(synth_path)
    a = a[:, b.var_names]
    R = a.X.toarray() if sp.issparse(a.X) else np.asarray(a.X)
    S = b.X.toarray() if sp.issparse(b.X) else np.asarray(b.X)
    R, S = R.astype(np.float32).astype(np.float64), S.astype(np.float32).astype(np.float64)
    t1 = time.time()
    # the MMD of evaluate() holds the full 2n x 2n matrix: fine for a timing run
    res = evaluate(R, S, n_sub=n_sub)
    t2 = time.time()
    for k in ("sparsity_real", "sparsity_synth", "scc", "pcc", "mmd", "lisi", "lisi_scaled", "knn_auc"):
        print(f"{k}\t{res[k]:.9f}")
    print(f"read {t1 - t0:.1f} s, metrics {t2 - t1:.1f} s, total {t2 - t0:.1f} s")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--bench":
        bench(sys.argv[2], sys.argv[3])
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared")
        make_fixtures(shared, os.path.join(here, "data"))
        make_cli_fixtures(shared, os.path.join(here, "data"))
