#!/bin/sh
# holdout_cli: the held-out protocol end to end (doc/method.md §10).
#   simulate --holdout: the metrics JSON carries synthetic_vs_heldout, training_vs_heldout
#     and memorisation; the held-out cells are named, the model's recorded training cells
#     are the others, and its genes are exactly what `sddcell hvg` selects on a file of
#     the training cells alone (and not what it selects on all cells); labels stratify;
#     too small a share gives one warning and the comparison with the training cells.
#   evaluate --train: on files built here from the example data, synthetic cells that are
#     the training cells reproduce the floor and score memorisation 1, copies of the
#     held-out cells score 0, and other real cells score what numpy computes.
set -u
. "$(dirname "$0")/common.sh"
need_py anndata numpy scipy
sdd_tmpdir holdout
SMALL="--n-top-genes 200 --hidden 64,64,32,16 --head 64 --emb 32 --batch-size 64 --steps 30 --sample-steps 5"

# ---- simulate --holdout 0.2 on the 1000 cells
if "$SDD" --seed 3 simulate "$DATA" --prefix "$tmp/a" --holdout 0.2 $SMALL -n 150 2> "$tmp/a.err"; then
  ok "simulate --holdout 0.2"
else
  bad "simulate --holdout 0.2"; cat "$tmp/a.err"
fi
grep -q 'kNN AUC [0-9.]* (floor [0-9.]*)' "$tmp/a.err" && ok "summary line shows the floor" ||
  bad "summary line shows the floor"
grep -q 'a side (--n-sub)' "$tmp/a.err" && bad "no subsample named when every cell is compared" ||
  ok "no subsample named when every cell is compared"
if "$SDD" --seed 3 simulate "$DATA" --prefix "$tmp/ns" --holdout 0.2 $SMALL -n 150 --n-sub 100 2> "$tmp/ns.err" &&
   grep -q 'MMD, LISI and kNN AUC on a random 100 cells a side (--n-sub)' "$tmp/ns.err" &&
   "$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["n_sub"] == 100, m["n_sub"]' "$tmp/ns.metrics.json"; then
  ok "simulate --n-sub 100: the summary line and the metrics JSON say so"
else
  bad "simulate --n-sub 100"; cat "$tmp/ns.err"
fi
"$SDD" simulate "$DATA" --prefix "$tmp/ns9" --n-sub 9 2> "$tmp/ns9.err"; rc=$?
[ $rc -eq 1 ] && head -1 "$tmp/ns9.err" | grep -q '^sddcell simulate: --n-sub: 9 is out of range' &&
  [ ! -e "$tmp/ns9.h5ad" ] && [ ! -e "$tmp/ns9.sdd" ] &&
  ok "simulate --n-sub 9: usage error, no output" || { bad "simulate --n-sub 9 (rc $rc)"; head -3 "$tmp/ns9.err"; }
"$SDD" info --json "$tmp/a.sdd" > "$tmp/a.model.json" 2>/dev/null
"$SDD" --quiet hvg -n 200 "$DATA" > "$tmp/hvg_all.tsv" 2>/dev/null
"$PY" - "$DATA" "$tmp/a.metrics.json" "$tmp/a.model.json" "$tmp/a.h5ad" "$tmp/train.h5ad" <<'EOF' &&
import json, sys
import anndata
data, mj, modelj, synth, train_out = sys.argv[1:6]
a = anndata.read_h5ad(data)
m = json.load(open(mj))
model = json.load(open(modelj))
for k in ("synthetic_vs_heldout", "training_vs_heldout", "memorisation"):
    assert isinstance(m[k], dict), k
assert m["evaluated_against"] == "heldout"
s, f = m["synthetic_vs_heldout"], m["training_vs_heldout"]
for k in ("sparsity_real", "sparsity_synth", "scc", "pcc", "mmd", "lisi_scaled", "knn_auc", "n_real", "n_synth"):
    assert m[k] == s[k], k            # top level = the synthetic-vs-held-out figures
    assert isinstance(f[k], (int, float)), k
held = m["heldout_cells"]
assert len(held) == 200 and len(set(held)) == 200
names = set(a.obs_names)
assert set(held) <= names
assert m["cells"] == {"heldout": 200, "synthetic": 150, "training": 800, "m": 150}, m["cells"]
assert s["n_real"] == s["n_synth"] == f["n_real"] == f["n_synth"] == 150
# both blocks compare against the same 150 held-out cells
assert s["sparsity_real"] == f["sparsity_real"] and s["zero_hist_real"] == f["zero_hist_real"]
mem = m["memorisation"]
assert 0 <= mem["share_nearest_training"] <= 1 and mem["n_per_side"] == 150 and mem["n_pcs"] == 50
for v in (s["knn_auc"], f["knn_auc"]):
    assert 0 <= v <= 1
# the model recorded the training cells only
prep = model["preprocessing"]
assert prep["cells_in"] == 1000 and prep["cells_heldout"] == 200 and prep["cells_kept"] == 800, prep
assert m["recipe"]["holdout"] == 0.2
# the products training and sampling ran, as the model stores them
assert m["recipe"]["train_products"] == model["train"]["precision"] and m["recipe"]["train_products"] in ("int8", "fp32", "bf16")
assert m["recipe"]["sample_products"] in ("int8", "fp32", "bf16")
# the training cells alone, for `sddcell hvg`
t = a[[n not in set(held) for n in a.obs_names]].copy()
assert t.n_obs == 800
t.write_h5ad(train_out)
EOF
  ok "three blocks, names, counts" || bad "three blocks, names, counts"
"$SDD" --quiet hvg -n 200 "$tmp/train.h5ad" > "$tmp/hvg_train.tsv" 2>/dev/null
"$PY" - "$tmp/a.h5ad" "$tmp/hvg_train.tsv" "$tmp/hvg_all.tsv" <<'EOF' && ok "genes = HVG of the training cells alone" ||
import sys, anndata
def selected(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path)]
    i = rows[0].index("highly_variable")
    return [r[0] for r in rows[1:] if r[i] in ("True", "true", "1")]
genes = list(anndata.read_h5ad(sys.argv[1]).var_names)
train, every = selected(sys.argv[2]), selected(sys.argv[3])
assert len(genes) == 200 and genes == train, "the model's genes are not the training cells' HVG"
assert set(genes) != set(every), "held-out cells made no difference to the HVG: the check is void"
print(f"HVG: {len(set(genes) - set(every))} of 200 genes differ from the selection on all cells")
EOF
  bad "genes = HVG of the training cells alone"

# ---- labels stratify the split
"$PY" - "$DATA" "$tmp/lab.h5ad" <<'EOF'
import sys, anndata, numpy as np
a = anndata.read_h5ad(sys.argv[1])
g = a.obs["n_genes"].to_numpy()
a.obs["kind"] = np.where(g > np.quantile(g, 0.7), "high", np.where(g > np.quantile(g, 0.2), "mid", "low"))
a.obs["kind"] = a.obs["kind"].astype("category")
a.write_h5ad(sys.argv[2])
EOF
if "$SDD" --quiet simulate "$tmp/lab.h5ad" --prefix "$tmp/l" --label kind --holdout 0.25 $SMALL -n 120 2> "$tmp/l.err"; then
  "$PY" - "$tmp/lab.h5ad" "$tmp/l.metrics.json" <<'EOF' && ok "stratified by label" || bad "stratified by label"
import json, sys, anndata
a = anndata.read_h5ad(sys.argv[1])
m = json.load(open(sys.argv[2]))
held = set(m["heldout_cells"])
assert len(held) == 250
kinds = a.obs["kind"]
for k in kinds.cat.categories:
    n = int((kinds == k).sum())
    h = sum(1 for c, v in zip(a.obs_names, kinds) if v == k and c in held)
    assert abs(h - 0.25 * n) < 1, (k, h, n)
assert m["label_key"] == "kind" and m["training_vs_heldout"]["label_key"] == "kind"
assert isinstance(m["training_vs_heldout"]["per_label"], dict)
EOF
else bad "simulate --label --holdout"; cat "$tmp/l.err"; fi

# ---- too small a share: one warning line, then the comparison with the training cells
if "$SDD" --quiet simulate "$DATA" --prefix "$tmp/s" --holdout 0.05 $SMALL -n 60 2> "$tmp/s.err"; then
  [ "$(wc -l < "$tmp/s.err")" -eq 1 ] && grep -q '^\[W::' "$tmp/s.err" && grep -q 'fewer than 100' "$tmp/s.err" &&
    ok "one warning when fewer than 100 cells would be held out" ||
    { bad "one warning when fewer than 100 cells would be held out"; cat "$tmp/s.err"; }
  "$PY" -c "
import json, sys; m = json.load(open('$tmp/s.metrics.json'))
assert m['evaluated_against'] == 'training' and m['n_real'] == 1000 and 'synthetic_vs_heldout' not in m
assert 'heldout_cells' not in m" && ok "evaluated against the training cells" || bad "evaluated against the training cells"
else bad "simulate --holdout 0.05"; cat "$tmp/s.err"; fi
if "$SDD" --quiet simulate "$DATA" --prefix "$tmp/z" --holdout 0 $SMALL -n 60 2> "$tmp/z.err"; then
  [ ! -s "$tmp/z.err" ] && "$PY" -c "
import json; m = json.load(open('$tmp/z.metrics.json')); assert m['evaluated_against'] == 'training'" &&
    ok "--holdout 0" || bad "--holdout 0"
else bad "simulate --holdout 0"; cat "$tmp/z.err"; fi
for v in 1 -0.1 x; do
  "$SDD" simulate "$DATA" -o "$tmp/bad.h5ad" --holdout "$v" > /dev/null 2>&1
  [ $? -eq 1 ] && [ ! -e "$tmp/bad.h5ad" ] && ok "--holdout $v rejected" || bad "--holdout $v rejected"
done

# ---- evaluate --train on files built here
"$PY" - "$DATA" "$tmp" <<'EOF' || bad "building the evaluate fixtures"
import sys, anndata, numpy as np, scipy.sparse as sp
a = anndata.read_h5ad(sys.argv[1]); out = sys.argv[2]
rng = np.random.default_rng(4)
idx = rng.permutation(a.n_obs)
X = sp.csr_matrix(a.X, dtype=np.float32)
genes = np.argsort(-np.asarray((X > 0).sum(0)).ravel())[:300]   # 300 well-expressed genes
kind = np.array(["even", "odd"])[np.arange(a.n_obs) % 2]
def counts(rows, name):
    b = anndata.AnnData(X[rows], obs={"kind": kind[rows]}, var={"n": np.arange(a.n_vars)})
    b.obs_names, b.var_names = a.obs_names[rows], a.var_names
    b.obs["kind"] = b.obs["kind"].astype("category")
    b.write_h5ad(f"{out}/{name}.h5ad")
def lognorm(rows, name):   # normalize_total(1e4) over all genes, log1p, 300 genes (float32)
    C = X[rows].astype(np.float64)
    tot = np.asarray(C.sum(1)).ravel()
    L = sp.diags(1e4 / tot) @ C
    L.data = np.log1p(L.data)
    L = sp.csr_matrix(L[:, genes], dtype=np.float32)
    b = anndata.AnnData(L, obs={"kind": kind[rows]})
    b.obs_names, b.var_names = [f"s{name}_{i}" for i in range(len(rows))], a.var_names[genes]
    b.obs["kind"] = b.obs["kind"].astype("category")
    b.write_h5ad(f"{out}/{name}.h5ad")
held, train, other = idx[:150], idx[150:300], idx[300:450]
counts(held, "real"); counts(train, "train")
lognorm(train, "synth_train"); lognorm(held, "synth_held"); lognorm(other, "synth_other")
b = anndata.read_h5ad(f"{out}/train.h5ad")
b[:, [g for g in b.var_names if g != a.var_names[genes[7]]]].copy().write_h5ad(f"{out}/train_lacking.h5ad")
EOF
E() { "$SDD" evaluate "$tmp/real.h5ad" "$tmp/$1.h5ad" --train "$tmp/train.h5ad" --label kind --json "$tmp/$1.json" \
        > "$tmp/$1.txt" 2> "$tmp/$1.err"; }
if E synth_train && E synth_held && E synth_other; then
  ok "evaluate --train"
  grep -q '^memorisation ' "$tmp/synth_other.txt" && grep -q '^metric  *value  *floor' "$tmp/synth_other.txt" &&
    grep -q '(floor ' "$tmp/synth_other.err" && ok "table with the floor column" || bad "table with the floor column"
  "$PY" - "$tmp" <<'EOF' && ok "evaluate --train figures" || bad "evaluate --train figures"
import json, sys
import anndata, numpy as np
d = sys.argv[1]
J = {k: json.load(open(f"{d}/{k}.json")) for k in ("synth_train", "synth_held", "synth_other")}
for j in J.values():
    assert j["evaluated_against"] == "heldout" and j["train"].endswith("train.h5ad")
    assert j["cells"] == {"heldout": 150, "synthetic": 150, "training": 150, "m": 150}
    assert j["n_genes"] == 300 and "heldout_cells" not in j
# the training cells as "synthetic": the floor exactly, and all copies
t = J["synth_train"]
s, f = t["synthetic_vs_heldout"], t["training_vs_heldout"]
for k in ("sparsity_synth", "scc", "pcc", "mmd", "lisi", "knn_auc"):
    assert abs(s[k] - f[k]) <= 1e-6 * max(1, abs(f[k])), (k, s[k], f[k])
assert abs(t["memorisation"]["share_nearest_training"] - 1) < 1e-12
assert set(f["per_label"]) == {"even", "odd"}
assert J["synth_held"]["memorisation"]["share_nearest_training"] < 1e-12
# other real cells: numpy's PCA and nearest neighbours give the same share
def lognorm(path):
    a = anndata.read_h5ad(path)
    X = a.X.toarray().astype(np.float64)
    return X, list(a.var_names)
Xs, genes = lognorm(f"{d}/synth_other.h5ad")
def real(path):
    a = anndata.read_h5ad(path)
    X = a.X.toarray().astype(np.float32)
    X = X / X.sum(1, keepdims=True).astype(np.float32) * np.float32(1e4)
    X = np.log1p(X.astype(np.float32)).astype(np.float64)
    return X[:, [list(a.var_names).index(g) for g in genes]]
T, H = real(f"{d}/train.h5ad"), real(f"{d}/real.h5ad")
P = np.vstack([T, H])
mu = P.mean(0)
_, _, Vt = np.linalg.svd(P - mu, full_matrices=False)
V = Vt[:50].T
R, Q = (P - mu) @ V, (Xs - mu) @ V
D = ((Q[:, None, :] - R[None, :, :]) ** 2).sum(-1)
share = float(np.mean(D.argmin(1) < len(T)))
got = J["synth_other"]["memorisation"]["share_nearest_training"]
print(f"memorisation of other real cells: sddcell {got:.4f}, numpy {share:.4f}")
assert abs(got - share) <= 1.5 / 150, (got, share)   # a near tie may flip one cell
EOF
else
  bad "evaluate --train"; cat "$tmp"/synth_*.err
fi
"$SDD" evaluate "$tmp/real.h5ad" "$tmp/synth_other.h5ad" --train "$tmp/train_lacking.h5ad" > /dev/null 2> "$tmp/lack.err"
[ $? -eq 1 ] && [ "$(wc -l < "$tmp/lack.err")" -eq 1 ] && grep -q "lacks gene" "$tmp/lack.err" &&
  ok "a TRAIN without a compared gene is an error" || { bad "a TRAIN without a compared gene is an error"; cat "$tmp/lack.err"; }
"$SDD" evaluate "$tmp/real.h5ad" "$tmp/synth_other.h5ad" --train "$tmp/none.h5ad" > /dev/null 2>&1
[ $? -eq 1 ] && ok "missing TRAIN" || bad "missing TRAIN"

# ---- --counts: simulate's held-out counts are recovered exactly, so `evaluate --counts`
# on the real held-out and training cells read from the file gives the same counts block
if "$SDD" --seed 5 --quiet simulate "$DATA" --prefix "$tmp/c" --holdout 0.2 $SMALL -n 150 --counts 2> "$tmp/c.err" &&
   "$PY" - "$DATA" "$tmp/c.metrics.json" "$tmp/c_held.h5ad" "$tmp/c_train.h5ad" <<'EOF'
import json, sys, anndata
data, mj, held_out, train_out = sys.argv[1:5]
a = anndata.read_h5ad(data)
held = set(json.load(open(mj))["heldout_cells"])
a[[n in held for n in a.obs_names]].copy().write_h5ad(held_out)
a[[n not in held for n in a.obs_names]].copy().write_h5ad(train_out)
EOF
then
  "$SDD" --quiet evaluate "$tmp/c_held.h5ad" "$tmp/c.h5ad" --train "$tmp/c_train.h5ad" --counts --json "$tmp/c.eval.json" > /dev/null 2> "$tmp/c.err2"
  "$PY" - "$tmp/c.metrics.json" "$tmp/c.eval.json" "$tmp/c.h5ad" "$tmp/c_held.h5ad" <<'EOF' && ok "counts block: held-out counts recovered exactly" || { bad "counts block"; cat "$tmp/c.err" "$tmp/c.err2"; }
import json, sys, anndata, numpy as np
from scipy.stats import ks_2samp
sim, ev = json.load(open(sys.argv[1]))["counts"], json.load(open(sys.argv[2]))["counts"]
for blk in ("synthetic", "floor"):
    for k, v in sim[blk].items():
        assert (v is None and ev[blk][k] is None) or abs(v - ev[blk][k]) <= 1e-9 * max(1, abs(v)), (blk, k, v, ev[blk][k])
# the library-size KS distance as scipy computes it, on the files themselves
s = anndata.read_h5ad(sys.argv[3])
h = anndata.read_h5ad(sys.argv[4])
C = s.layers["counts"]
R = h[:, list(s.var_names)].X
ks = ks_2samp(np.asarray(R.sum(1)).ravel(), np.asarray(C.sum(1)).ravel()).statistic
assert abs(ks - sim["synthetic"]["library_size_ks"]) < 1e-12, (ks, sim["synthetic"]["library_size_ks"])
EOF
else
  bad "simulate --counts"; cat "$tmp/c.err"
fi
"$SDD" --quiet evaluate "$tmp/real.h5ad" "$tmp/synth_other.h5ad" --counts > /dev/null 2> "$tmp/nocounts.err"
[ $? -eq 1 ] && [ "$(wc -l < "$tmp/nocounts.err")" -eq 1 ] && grep -q "layers/counts" "$tmp/nocounts.err" &&
  ok "evaluate --counts without a counts layer is an error" || { bad "evaluate --counts without a counts layer"; cat "$tmp/nocounts.err"; }
# ---- more synthetic cells than two pieces: written a piece at a time, evaluated on a random share
mkdir -p "$tmp/big"
if "$SDD" --seed 4 simulate "$DATA" -o "$tmp/big/s.h5ad" $SMALL -n 12000 --sample-steps 2 --piece-cells 4000 --counts \
     2> "$tmp/big.err"; then ok "simulate -n 12000 --piece-cells 4000"
else bad "simulate -n 12000 --piece-cells 4000"; cat "$tmp/big.err"; fi
grep -q "12000 synthetic cells are written 4000 at a time; the evaluation uses a random 10000 of them" "$tmp/big.err" &&
  ok "simulate says the evaluation subsamples" || bad "simulate says the evaluation subsamples"
"$PY" - "$tmp/big" <<'EOF' && ok "pieces joined, 10000 evaluated, no part left" || bad "pieces joined, 10000 evaluated, no part left"
import json, os, sys
import anndata, numpy as np
d = sys.argv[1]
assert sorted(os.listdir(d)) == ["s.h5ad", "s.metrics.json"], os.listdir(d)
a = anndata.read_h5ad(os.path.join(d, "s.h5ad"))
assert a.shape[0] == 12000 and list(a.obs_names[[0, 3999, 4000, 11999]]) == [
    "syn_000001", "syn_004000", "syn_004001", "syn_012000"], a.obs_names[:3]
assert a.layers["counts"].shape == a.X.shape and np.array_equal((a.layers["counts"] != 0).toarray(), (a.X != 0).toarray())
m = json.load(open(os.path.join(d, "s.metrics.json")))
assert m["synthetic_cells"] == 12000 and m["synthetic_cells_evaluated"] == 10000, m
assert m["n_synth"] == m["n_real"] and "counts" in m
EOF
exit $fail
