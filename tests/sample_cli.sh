#!/bin/sh
# sample_cli: the train / sample / simulate commands end to end on example data with a
# small network and few steps. The sampled .h5ad is read by anndata 0.8 (X csr float32,
# var names = the model's genes, unique obs names, obs source, uns['sddcell'] keys,
# layers/counts integers), and by R's hdf5r when installed; simulate writes OUT.h5ad and
# OUT.metrics.json; `info` describes a model; bad inputs exit 1 with one line on stderr
# and leave no output; a conditional model samples the requested labels; int8 and fp32
# products (--sample-precision) both run, are recorded, and int8's cells do not depend on
# the thread count.
set -u
. "$(dirname "$0")/common.sh"
sdd_tmpdir sample
SMALL="--n-top-genes 200 --hidden 64,64,32,16 --head 64 --emb 32 --batch-size 64"

# train, info
if "$SDD" --quiet train "$DATA" -o "$tmp/m.sdd" $SMALL --steps 20 2> "$tmp/err"; then ok train
else bad train; cat "$tmp/err"; fi
"$SDD" info "$tmp/m.sdd" > "$tmp/info" 2>&1 && grep -q '^format	sddcell model' "$tmp/info" &&
  grep -q '^genes	200' "$tmp/info" && grep -q '^steps	20 of 20' "$tmp/info" && ok "info on a model" || bad "info on a model"

# sample: anndata reads it back with the model's genes
if "$SDD" --quiet --seed 5 sample "$tmp/m.sdd" -n 120 -o "$tmp/s.h5ad" --steps 10 --counts 2> "$tmp/err"; then ok sample
else bad sample; cat "$tmp/err"; fi
"$SDD" info --json "$tmp/m.sdd" > "$tmp/m.json" 2>/dev/null
if "$PY" -c 'import anndata' 2>/dev/null; then
  if "$PY" - "$tmp/s.h5ad" "$tmp/m.json" <<'EOF'
import json, sys
import anndata, numpy as np, scipy.sparse as sp
a = anndata.read_h5ad(sys.argv[1])
m = json.load(open(sys.argv[2]))
assert a.shape == (120, 200), a.shape
assert sp.isspmatrix_csr(a.X) and a.X.dtype == np.float32
assert list(a.var_names) == m["genes"]["names"]
assert a.obs_names.is_unique and a.obs_names[0] == "syn_000001"
assert list(a.obs["source"].cat.categories) == ["synthetic"]
u = a.uns["sddcell"]
for k in ("model", "sampler", "steps", "seed", "guidance", "version", "bit_decode"):
    assert k in u, k
assert u["seed"] == 5 and u["steps"] == 10 and u["sampler"] == "ddim"
X = a.X.toarray()
assert (a.X.data != 0).all()
mg = np.array(m["scaling"]["m_g"]); M = m["scaling"]["M"]
r, c = np.nonzero(X)
assert (X[r, c] >= mg[c] - 1e-6).all() and (X[r, c] <= M + 1e-6).all()
C = a.layers["counts"]
C = C.toarray() if sp.issparse(C) else np.asarray(C)
assert (C == np.round(C)).all() and (C >= 0).all() and ((C > 0) <= (X > 0)).all()
EOF
  then ok "anndata reads the sample"; else bad "anndata reads the sample"; fi
else
  echo "skip: anndata not available"
fi
if [ -n "${SDD_RSCRIPT:-}" ] && "$SDD_RSCRIPT" -e 'library(hdf5r)' >/dev/null 2>&1; then
  if "$SDD_RSCRIPT" -e 'library(hdf5r); f <- H5File$new(commandArgs(TRUE)[1], mode = "r");
      stopifnot(length(f[["X/data"]][]) > 0, f[["X"]]$attr_open("encoding-type")$read() == "csr_matrix",
                length(f[["obs/_index"]][]) == 120)' "$tmp/s.h5ad" >/dev/null 2>&1
  then ok "hdf5r reads the sample"; else bad "hdf5r reads the sample"; fi
else
  echo "skip: R hdf5r not installed"
fi

# same seed, same cells, with 1 and 2 threads
"$SDD" --quiet --seed 5 --threads 2 sample "$tmp/m.sdd" -n 120 -o "$tmp/s2.h5ad" --steps 10 --counts 2>/dev/null
"$PY" - "$tmp/s.h5ad" "$tmp/s2.h5ad" <<'EOF' && ok "threads 1 and 2 agree" || bad "threads 1 and 2 agree"
import sys, anndata
a, b = anndata.read_h5ad(sys.argv[1]), anndata.read_h5ad(sys.argv[2])
assert (a.X != b.X).nnz == 0
EOF

# products: int8 and fp32 both run and say so (summary line, uns); int8 cells are the same
# with 1 and 2 threads and differ from fp32's; an unknown precision is refused
for p in int8 fp32; do
  "$SDD" --seed 5 --threads 2 sample "$tmp/m.sdd" -n 120 -o "$tmp/p_$p.h5ad" --steps 10 --sample-precision $p \
    2> "$tmp/err_$p" && grep -q "^\[M::sample\] 120 cells, 10 steps, $p products in" "$tmp/err_$p" &&
    ok "sample --sample-precision $p" || { bad "sample --sample-precision $p"; cat "$tmp/err_$p"; }
done
"$SDD" --quiet --seed 5 --threads 1 sample "$tmp/m.sdd" -n 120 -o "$tmp/p_int8_1.h5ad" --steps 10 --sample-precision int8
"$PY" - "$tmp/p_int8.h5ad" "$tmp/p_int8_1.h5ad" "$tmp/p_fp32.h5ad" <<'EOF2' && ok "int8 products: recorded, thread-independent, not fp32's cells" || bad "int8 products"
import sys, anndata
a, b, c = (anndata.read_h5ad(f) for f in sys.argv[1:4])
assert a.uns["sddcell"]["products"] == "int8" and c.uns["sddcell"]["products"] == "fp32"
assert (a.X != b.X).nnz == 0
assert a.shape == c.shape and (a.X != c.X).nnz > 0
EOF2
rm -f "$tmp/bad.h5ad"
"$SDD" sample "$tmp/m.sdd" -n 5 -o "$tmp/bad.h5ad" --sample-precision int4 > /dev/null 2> "$tmp/err"; rc=$?
if [ $rc -eq 1 ] && head -1 "$tmp/err" | grep -q "unknown --sample-precision 'int4'" && [ ! -e "$tmp/bad.h5ad" ]; then
  ok "unknown --sample-precision refused"
else bad "unknown --sample-precision refused (exit $rc)"; head -2 "$tmp/err"; fi

# bad inputs: exit 1, one line, no output
expect_fail() { # name cmd...
  name=$1; shift
  rm -f "$tmp/bad.h5ad"
  "$@" > /dev/null 2> "$tmp/err"; rc=$?
  if [ $rc -eq 1 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && [ ! -e "$tmp/bad.h5ad" ]; then ok "$name"
  else bad "$name (exit $rc)"; cat "$tmp/err"; fi
}
printf 'not a model' > "$tmp/junk.sdd"
head -c 2000 "$tmp/m.sdd" > "$tmp/trunc.sdd"
expect_fail "missing model" "$SDD" sample "$tmp/none.sdd" -n 5 -o "$tmp/bad.h5ad"
expect_fail "not a model" "$SDD" sample "$tmp/junk.sdd" -n 5 -o "$tmp/bad.h5ad"
expect_fail "truncated model" "$SDD" sample "$tmp/trunc.sdd" -n 5 -o "$tmp/bad.h5ad"
expect_fail "label on an unconditional model" "$SDD" sample "$tmp/m.sdd" -n 5 -o "$tmp/bad.h5ad" --label x
expect_fail "missing input" "$SDD" train "$tmp/none.h5ad" -o "$tmp/bad.h5ad"
expect_fail "simulate missing input" "$SDD" simulate "$tmp/none.h5ad" -o "$tmp/bad.h5ad"
"$SDD" sample "$tmp/m.sdd" -n 0 -o "$tmp/bad.h5ad" > /dev/null 2>&1
[ $? -eq 1 ] && [ ! -e "$tmp/bad.h5ad" ] && ok "-n 0" || bad "-n 0"

# conditional model on a labelled copy (labels from the n_genes column, reproducible)
"$PY" - "$DATA" "$tmp/lab.h5ad" <<'EOF'
import sys, anndata, numpy as np
a = anndata.read_h5ad(sys.argv[1])
a.obs["kind"] = np.where(a.obs["n_genes"] > np.median(a.obs["n_genes"]), "high", "low")
a.obs["kind"] = a.obs["kind"].astype("category")
a.write_h5ad(sys.argv[2])
EOF
if "$SDD" --quiet train "$tmp/lab.h5ad" -o "$tmp/c.sdd" $SMALL --steps 10 --label kind 2> "$tmp/err" &&
   "$SDD" --quiet sample "$tmp/c.sdd" -n 30 -o "$tmp/c.h5ad" --steps 5 --label-counts high=10,low=20 --guidance 2 2>> "$tmp/err"
then
  "$PY" - "$tmp/c.h5ad" <<'EOF' && ok "conditional label counts" || bad "conditional label counts"
import sys, anndata
a = anndata.read_h5ad(sys.argv[1])
v = a.obs["kind"].value_counts()
assert v["high"] == 10 and v["low"] == 20, v
EOF
else bad "conditional train/sample"; cat "$tmp/err"; fi
expect_fail "unknown label" "$SDD" sample "$tmp/c.sdd" -n 5 -o "$tmp/bad.h5ad" --label nosuch

# simulate end to end with --prefix and with -o
if (cd "$tmp" && "$SDD" --quiet simulate "$DATA" --prefix run $SMALL --steps 10 --sample-steps 5 -n 200 2> err); then
  [ -s "$tmp/run.h5ad" ] && [ -s "$tmp/run.metrics.json" ] && [ -s "$tmp/run.sdd" ] && ok "simulate --prefix" ||
    bad "simulate --prefix outputs"
  "$PY" - "$tmp/run.metrics.json" <<'EOF' && ok "metrics.json" || bad "metrics.json"
import json, sys
m = json.load(open(sys.argv[1]))
for k in ("sparsity_real", "sparsity_synth", "scc", "pcc", "mmd", "lisi_scaled", "knn_auc"):
    assert isinstance(m[k], (int, float)), k
# 10% of the 1000 cells held out by default: 100 held-out cells against 100 synthetic
assert m["evaluated_against"] == "heldout", m["evaluated_against"]
assert m["cells"] == {"heldout": 100, "synthetic": 200, "training": 900, "m": 100}, m["cells"]
assert m["n_synth"] == 100 and m["n_real"] == 100 and m["n_genes"] == 200
assert 0.9 < m["sparsity_real"] < 1
EOF
  # the default preset trains on clusters of the training cells (--label auto): the model is
  # conditional on them and every synthetic cell carries one, in the training proportions
  "$SDD" info --json "$tmp/run.sdd" > "$tmp/run.model.json" 2>/dev/null
  "$PY" - "$tmp/run.model.json" "$tmp/run.h5ad" <<'EOF' && ok "simulate: clusters by default" || bad "simulate: clusters by default"
import json, sys
import anndata
lab = json.load(open(sys.argv[1]))["labels"]
assert lab is not None and lab["key"] == "cluster", lab
cats = lab["categories"]
assert len(cats) >= 2 and cats[0] == "c0", cats
a = anndata.read_h5ad(sys.argv[2])
assert set(a.obs["cluster"].astype(str)) <= set(cats)
counts = a.obs["cluster"].astype(str).value_counts()
for c, f in zip(cats, lab["frequencies"]):
    assert abs(counts.get(c, 0) - f * a.n_obs) <= 1, (c, counts.get(c, 0), f * a.n_obs)
EOF
else bad "simulate --prefix"; cat "$tmp/err"; fi
if "$SDD" --quiet simulate "$DATA" -o "$tmp/o.h5ad" $SMALL --steps 5 --sample-steps 3 -n 50 --label none \
    --model-out "$tmp/o_none.sdd" 2> "$tmp/err"; then
  [ -s "$tmp/o.h5ad" ] && [ -s "$tmp/o.metrics.json" ] && [ ! -e "$tmp/o.sdd" ] && ok "simulate -o" || bad "simulate -o outputs"
  "$SDD" info "$tmp/o_none.sdd" 2>/dev/null | grep -q '^labels.none (unconditional)' && ok "simulate --label none" ||
    bad "simulate --label none: an unconditional model"
else bad "simulate -o"; cat "$tmp/err"; fi
exit $fail
