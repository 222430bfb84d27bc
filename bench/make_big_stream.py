#!/usr/bin/python3
"""Write a large raw-count h5ad chunk by chunk, for files whose CSR matrix does not fit in memory.

The counts follow the model of ../shared/tools/make_big_h5ad.py (gene means spread over four
orders of magnitude, log-normal library sizes, 8 clusters with 2% marker genes each, negative
binomial with r = 2, about 90% zeros); gene means, markers and cluster labels are drawn exactly as
that tool draws them for the same seed, the counts themselves differently:

  each entry takes one uniform u and becomes the smallest k with F(k) >= u, F the NB(r, p) CDF
  (inversion), so the ~90% of entries with u < F(0) = p^r cost one comparison, and the pmf
  recursion P(k+1) = P(k) (k + r) / (k + 1) (1 - p) runs only over the non-zero entries.

Memory stays near that of one block of rows (default 4000 cells: ~1.3 GB of float64 temporaries
at 20,000 genes). X is CSR float32 with int64 indptr, gzip level 1 (chunks of 2^20 values);
obs (cluster categorical, cell names), var and the empty groups are written by anndata itself,
and the result is checked by reading it back with anndata (backed) before the rename.

usage: make_big_stream.py OUT.h5ad N_CELLS N_GENES [SEED [BLOCK]]
"""
import os
import sys
import time

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp


def counts_block(rng, mu, r=2.0):
    """NB(r, p = r / (r + mu)) draws by inversion: (indptr, indices, data) of the CSR block."""
    p = r / (r + mu)
    cdf = p * p if r == 2.0 else p ** r   # F(0)
    u = rng.random(mu.shape, dtype=np.float32)
    rows, cols = np.nonzero(u >= cdf)     # row-major: already in CSR order
    u, q = u[rows, cols], 1.0 - p[rows, cols]
    pk = cdf[rows, cols]                  # P(0)
    F = pk.copy()
    k = np.zeros(rows.size, dtype=np.float64)
    live = np.arange(rows.size)
    while live.size:
        kk = k[live]
        pk[live] *= (kk + r) / (kk + 1.0) * q[live]
        F[live] += pk[live]
        k[live] = kk + 1.0
        live = live[F[live] < u[live]]
    indptr = np.zeros(mu.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=mu.shape[0]), out=indptr[1:])
    return indptr, cols.astype(np.int32), k.astype(np.float32)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    out, n, g = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    block = int(sys.argv[5]) if len(sys.argv) > 5 else 4000
    rng = np.random.default_rng(seed)
    base = np.exp(rng.normal(-3.2, 1.6, g))
    k = 8
    lab = rng.integers(0, k, n)
    marker = np.ones((k, g))
    for c in range(k):
        marker[c, rng.choice(g, g // 50, replace=False)] = rng.uniform(3, 12, g // 50)

    tmp = out + ".tmp"
    obs = pd.DataFrame({"cluster": pd.Categorical([f"c{i}" for i in lab])},
                       index=[f"cell{i}" for i in range(n)])
    var = pd.DataFrame(index=[f"gene{j}" for j in range(g)])
    # anndata writes obs, var, uns and the matrix's group with its attributes; the matrix's
    # arrays are then replaced by resizable ones filled block by block
    ad.AnnData(sp.csr_matrix((n, g), dtype=np.float32), obs=obs, var=var).write_h5ad(tmp)
    t0, nnz = time.time(), 0
    with h5py.File(tmp, "r+") as f:
        X = f["X"]
        for name in ("data", "indices", "indptr"):
            del X[name]
        opts = dict(chunks=(1 << 20,), compression="gzip", compression_opts=1, maxshape=(None,))
        data = X.create_dataset("data", shape=(0,), dtype="float32", **opts)
        indices = X.create_dataset("indices", shape=(0,), dtype="int32", **opts)
        indptr = np.zeros(n + 1, dtype=np.int64)
        for s in range(0, n, block):
            e = min(n, s + block)
            lib = np.exp(rng.normal(0, 0.5, e - s))[:, None]
            bp, bi, bd = counts_block(rng, lib * base[None, :] * marker[lab[s:e]])
            m = bi.size
            data.resize((nnz + m,))
            indices.resize((nnz + m,))
            data[nnz:] = bd
            indices[nnz:] = bi
            indptr[s + 1:e + 1] = nnz + bp[1:]
            nnz += m
            if (s // block) % 25 == 0:
                el = time.time() - t0
                print(f"{e} / {n} cells, {nnz} non-zeros, {el:.0f} s", file=sys.stderr, flush=True)
        X.create_dataset("indptr", data=indptr, chunks=(min(n + 1, 1 << 18),), compression="gzip", compression_opts=1)
    a = ad.read_h5ad(tmp, backed="r")
    assert a.shape == (n, g) and list(a.obs["cluster"].cat.categories) == [f"c{i}" for i in range(k)]
    a.file.close()
    os.replace(tmp, out)
    print(f"{out}: {n} cells x {g} genes, nnz {nnz} ({1 - nnz / (n * g):.1%} zeros), {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
