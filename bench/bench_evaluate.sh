#!/bin/sh
# bench_evaluate: `sddcell evaluate` on 10,000 real vs 10,000 synthetic cells x 1000 genes,
# side by side with the independent numpy / scipy / scikit-learn reference
# (tests/make_metrics_reference.py --bench) on the same files and the same 2 threads.
#   bench/bench_evaluate.sh [BUILD_DIR]    (from the source tree; needs /usr/bin/python3
#   with anndata, scikit-learn; inputs are made from ../shared's mouse brain 10k x 1000)
# REAL = the counts normalised (1e4) and log1p'd; SYNTH = the same cells in another
# order, non-zeros times exp(N(0, 0.15)) and 10% of them set to 0.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
PY=/usr/bin/python3
DATA=${SDD_SHARED:-$SRC/../shared}/data/train/mouse_brain_10k_cells_1000genes.h5ad
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdd_bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$PY" - "$DATA" "$tmp" <<'PYEOF'
import sys, numpy as np, scipy.sparse as sp, anndata as ad, pandas as pd
a = ad.read_h5ad(sys.argv[1]); X = sp.csr_matrix(a.X, dtype=np.float64)
tot = np.asarray(X.sum(1)).ravel(); X = sp.diags(1e4 / np.where(tot > 0, tot, 1)) @ X
X.data = np.log1p(X.data); X = X.astype(np.float32)
ad.AnnData(X, obs=pd.DataFrame(index=a.obs_names), var=pd.DataFrame(index=a.var_names)).write_h5ad(sys.argv[2] + "/real_log.h5ad")
rs = np.random.RandomState(1); S = X[rs.permutation(X.shape[0])].tocsr().astype(np.float64)
S.data *= np.exp(rs.normal(0, 0.15, S.nnz)); S.data[rs.uniform(size=S.nnz) < 0.1] = 0; S.eliminate_zeros()
ad.AnnData(S.astype(np.float32), obs=pd.DataFrame(index=[f"syn_{i:06d}" for i in range(S.shape[0])]),
           var=pd.DataFrame(index=a.var_names)).write_h5ad(sys.argv[2] + "/synth.h5ad")
PYEOF
echo "== sddcell evaluate (--threads 2)"
/usr/bin/time -f "sddcell: %e s wall, %U s user, %M KB max RSS" \
  "$BUILD/sddcell" --threads 2 --quiet evaluate --real-normalized --json "$tmp/c.json" "$tmp/real_log.h5ad" "$tmp/synth.h5ad"
echo "== reference (numpy / scipy / scikit-learn, 2 threads)"
OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 /usr/bin/time -f "reference: %e s wall, %U s user, %M KB max RSS" \
  "$PY" "$SRC/tests/make_metrics_reference.py" --bench "$tmp/real_log.h5ad" "$tmp/synth.h5ad" | tee "$tmp/ref.txt"
"$PY" - "$tmp/c.json" "$tmp/ref.txt" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
ref = dict(l.split("\t") for l in open(sys.argv[2]) if "\t" in l)
for k, v in ref.items():
    print(f"{k:15s} sddcell {c[k]:.6f}  reference {float(v):.6f}  |diff| {abs(c[k] - float(v)):.2e}")
PYEOF
