#!/bin/sh
# evaluate_cli: `sddcell evaluate` end to end on committed h5ad fixtures (raw-count REAL,
# log1p SYNTH with genes in another order and two genes REAL lacks, labels in obs):
# every JSON figure against tests/data/eval_expected.json, computed independently by
# tests/make_metrics_reference.py (numpy / scipy / scikit-learn); then the error paths.
set -u
. "$(dirname "$0")/common.sh"
D="$SRC/tests/data"
[ -x "$PY" ] || { echo "skip: no python3"; exit 77; }
sdd_tmpdir eval

"$SDD" --quiet evaluate "$D/eval_real_counts.h5ad" "$D/eval_synth.h5ad" --label cell_type \
  --json "$tmp/ev.json" > "$tmp/table.txt"
t test $? = 0
grep -q '^MMD ' "$tmp/table.txt" || { echo "FAIL: no MMD row in the table" >&2; fail=1; }
grep -q '^Mono ' "$tmp/table.txt" || { echo "FAIL: no per-label row in the table" >&2; fail=1; }
"$PY" - "$tmp/ev.json" "$D/eval_expected.json" <<'PYEOF' || fail=1
import json, sys
got, exp = (json.load(open(p)) for p in sys.argv[1:3])
tol = {"scc": 1e-6, "pcc": 1e-6, "lisi": 1e-3, "lisi_scaled": 1e-3, "knn_auc": 0.02,
       "sparsity_real": 1e-9, "sparsity_synth": 1e-9, "zero_frac_w1": 1e-9}
bad = []
for k in ("sparsity_real", "sparsity_synth", "scc", "pcc", "mmd", "lisi", "lisi_scaled",
          "knn_auc", "per_label", "n_real", "n_synth", "n_genes"):
    if k not in got: bad.append("missing key " + k)
if (got["n_real"], got["n_synth"], got["n_genes"]) != (320, 260, 150): bad.append("sizes")
def close(k, a, b):
    # MMD and its bandwidth are relative figures: float32 rounding of the normalised input
    # moves them by ~1e-9 relative
    t = tol.get(k, 1e-3 * abs(b) if k == "mmd" else 1e-6 * max(1.0, abs(b)))
    if not abs(a - b) <= t: bad.append(f"{k}: {a} vs {b}")
for k, v in exp.items():
    if isinstance(v, float): close(k, got[k], v)
for l, e in exp["per_label"].items():
    for k, v in e.items():
        close(l + "." + k, got["per_label"][l][k], v) if isinstance(v, float) else \
            (got["per_label"][l][k] == v or bad.append(f"{l}.{k}"))
print("\n".join(bad) or "evaluate JSON matches the reference")
sys.exit(1 if bad else 0)
PYEOF

# the same data as already-normalised REAL against itself: identical sides
"$SDD" --quiet evaluate --real-normalized --json "$tmp/self.json" "$D/eval_synth.h5ad" "$D/eval_synth.h5ad" >/dev/null
t test $? = 0
"$PY" -c "
import json, sys; j = json.load(open('$tmp/self.json'))
ok = abs(j['mmd']) < 1e-9 and abs(j['scc'] - 1) < 1e-12 and j['sparsity_real'] == j['sparsity_synth']
sys.exit(0 if ok else 1)" || { echo "FAIL: self comparison" >&2; fail=1; }

# errors: exit 1, a message, no JSON left behind
"$SDD" --quiet evaluate --json "$tmp/no.json" "$D/no_such.h5ad" "$D/eval_synth.h5ad" 2>"$tmp/err" >/dev/null
t test $? = 1
t test -s "$tmp/err"
t test ! -e "$tmp/no.json"
"$SDD" evaluate --label no_such_column "$D/eval_real_counts.h5ad" "$D/eval_synth.h5ad" 2>"$tmp/err" >/dev/null
t test $? = 1
grep -q no_such_column "$tmp/err" || { echo "FAIL: missing label column not named" >&2; fail=1; }
# log1p values given as counts: a warning that names --real-normalized
"$SDD" evaluate "$D/eval_synth.h5ad" "$D/eval_synth.h5ad" 2>"$tmp/err" >/dev/null
t test $? = 0
grep -q -- --real-normalized "$tmp/err" || { echo "FAIL: no warning for non-integer counts" >&2; fail=1; }
"$SDD" evaluate --n-sub 5 a b 2>/dev/null; t test $? = 1
"$SDD" evaluate --target-sum x a b 2>/dev/null; t test $? = 1
"$SDD" evaluate onlyone 2>/dev/null; t test $? = 1
exit $fail
