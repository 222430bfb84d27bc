#!/bin/sh
# hvg_cli: `sddcell hvg` end to end. Inputs that are not counts (negative, NaN, infinite),
# nothing left after QC and more genes than the file has must exit 1 with one line on
# stderr and leave no output (neither -o nor --h5ad, nor temporaries). A good run's table
# selects the reference genes (tests/data, numpy) and its --h5ad reads back in anndata
# with scanpy's var columns and uns['hvg'].
set -u
. "$(dirname "$0")/common.sh"
TRAIN="${SDD_TRAIN_DATA:-}"
need_py anndata scipy
sdd_tmpdir hvg

"$PY" - "$tmp" <<'PYEOF' || exit 1
import sys, numpy as np, scipy.sparse as sp, anndata as ad, pandas as pd
d = sys.argv[1]
rng = np.random.default_rng(1)
X = rng.poisson(1.0, (60, 40)).astype(np.float32)
def w(name, M):
    a = ad.AnnData(sp.csr_matrix(M), obs=pd.DataFrame(index=[f"c{i}" for i in range(M.shape[0])]),
                   var=pd.DataFrame(index=[f"g{j}" for j in range(M.shape[1])]))
    a.write_h5ad(f"{d}/{name}.h5ad")
w("good", X)
for name, v in (("negative", -1.0), ("nan", np.nan), ("inf", np.inf)):
    M = X.copy(); M[7, 3] = v; w(name, M)
M = np.zeros((60, 40), np.float32); M[0, :5] = 1; w("empty", M)   # no gene in >= 3 cells
PYEOF

bad() { # name expected-words... : exit 1, one stderr line naming the problem, no outputs
  name=$1; shift
  rm -f "$tmp/out.tsv" "$tmp/out.h5ad"
  "$SDD" hvg "$tmp/$name.h5ad" -n "${N:-10}" -o "$tmp/out.tsv" --h5ad "$tmp/out.h5ad" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  [ $rc = 1 ] || { echo "FAIL: $name: exit $rc, expected 1"; fail=1; }
  [ "$(grep -vc '^\[M::' "$tmp/stderr")" = 1 ] || { echo "FAIL: $name: stderr is not one line:"; cat "$tmp/stderr"; fail=1; }
  for w in "$@"; do grep -q -- "$w" "$tmp/stderr" || { echo "FAIL: $name: no '$w' in: $(cat "$tmp/stderr")"; fail=1; }; done
  left=$(ls "$tmp" | grep -c '^out')
  [ "$left" = 0 ] || { echo "FAIL: $name: left output behind: $(ls "$tmp" | grep '^out')"; fail=1; }
  [ -s "$tmp/stdout" ] && { echo "FAIL: $name: wrote to stdout"; fail=1; }
  echo "ok: $name: $(grep -v '^\[M::' "$tmp/stderr")"
}
bad negative "negative" "raw counts" "--layer counts or --raw"
bad nan "NaN" "raw counts"
bad inf "infinite" "raw counts"
bad empty "nothing left after QC"
N=41 bad good "41 highly variable genes asked for" "only 40 genes"

# a good run: table and h5ad agree with each other and with the reference selection
"$SDD" hvg "$tmp/good.h5ad" -n 10 -o "$tmp/good.tsv" --h5ad "$tmp/good_hvg.h5ad" 2>/dev/null || { echo "FAIL: good run"; fail=1; }
"$PY" - "$tmp" <<'PYEOF' || fail=1
import sys, anndata as ad, pandas as pd
d = sys.argv[1]
t = pd.read_csv(f"{d}/good.tsv", sep="\t", keep_default_na=False, na_values=["nan"])
a = ad.read_h5ad(f"{d}/good_hvg.h5ad")
assert list(t.columns) == ["gene", "gene_id", "means", "dispersions", "dispersions_norm", "highly_variable"], t.columns
assert a.uns["hvg"]["flavor"] == "seurat", a.uns
assert a.var["highly_variable"].dtype == bool
assert (a.var["highly_variable"].values == t["highly_variable"].values).all()
assert abs(a.var["means"].values - t["means"].values).max() < 1e-8
assert t["highly_variable"].sum() >= 10 and a.shape == (60, 40)
print("ok: good run: table and h5ad agree,", t["highly_variable"].sum(), "genes")
PYEOF

# the selection on real counts equals the reference's (numpy, tests/make_hvg_reference.py):
# the example data always; the team's 10k-cell mouse brain file when SDD_TRAIN_DATA names
# its folder (opt-in: it is too large for the repository)
same_selection() { # file stem n flavor
  "$SDD" hvg "$1" -n "$3" --flavor "$4" --chunk-rows 300 2>/dev/null | awk -F'\t' 'NR > 1 && $NF == "True" {print $1}' | sort > "$tmp/sel"
  awk -F'\t' -v col=$([ "$3" = 500 ] && echo 5 || echo 6) '!/^#/ && NR > 2 && $col == 1 {print $1}' \
    "$SRC/tests/data/hvg_ref_$2_$4.tsv" | sort > "$tmp/ref"
  if cmp -s "$tmp/sel" "$tmp/ref" && [ "$(wc -l < "$tmp/ref")" = "$3" ]; then echo "ok: $2 $4 $3 genes = reference"
  else echo "FAIL: $2 $4 selection differs from the reference"; fail=1; fi
}
for fl in seurat cell_ranger; do same_selection "$SRC/example_data/pbmc3k_1k.h5ad" pbmc3k_1k 500 $fl; done
mb="$TRAIN/mouse_brain_10k_cells_1000genes.h5ad"
if [ -n "$TRAIN" ]; then
  for fl in seurat cell_ranger; do same_selection "$mb" mouse_brain_10k_cells_1000genes 500 $fl; done
else
  echo "opt-in (not run): the mouse brain training file, with SDD_TRAIN_DATA=../shared/data/train"
fi
exit $fail
