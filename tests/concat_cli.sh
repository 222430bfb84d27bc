#!/bin/sh
# concat_cli: `sample --shard I/K` and `concat` end to end. For an unconditional model
# (with layers/counts) and a conditional one, shards 1..K for K in 1, 2, 3 and 7, each
# made with another --threads and --sample-batch than the single run, joined by
# `concat`, equal the single run's file: X, layers/counts, obs names and columns, var
# and uns, compared with h5py against the single run (which is written independently
# of concat). anndata reads the joined file. Refusals: parts with other genes, another
# seed, model or products (int8 / float), shards out of order or missing, a part that is
# not h5ad; each exits 1 with one line on stderr and leaves no output.
set -u
. "$(dirname "$0")/common.sh"
need_py h5py numpy
sdd_tmpdir concat
SMALL="--n-top-genes 120 --hidden 48,48,24,12 --head 48 --emb 16 --batch-size 32 --steps 15"
N=61

same() { # a.h5ad b.h5ad: equal element for element
  "$PY" - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
def walk(x, y, path):
    assert set(x.keys()) == set(y.keys()), (path, sorted(x.keys()), sorted(y.keys()))
    assert set(x.attrs.keys()) == set(y.attrs.keys()), path
    for k in x.attrs:
        assert np.array_equal(np.asarray(x.attrs[k]), np.asarray(y.attrs[k])), (path, k)
    for k in x:
        if isinstance(x[k], h5py.Group):
            walk(x[k], y[k], path + "/" + k)
        else:
            u, v = x[k][()], y[k][()]
            assert np.asarray(u).dtype == np.asarray(v).dtype or k == "indptr", (path, k, u.dtype, v.dtype)
            assert np.array_equal(np.asarray(u), np.asarray(v)), (path, k)
walk(a, b, "")
EOF
}

if "$SDD" --quiet --seed 1 train "$DATA" -o "$tmp/m.sdd" $SMALL 2> "$tmp/err"; then ok train
else bad train; cat "$tmp/err"; exit 1; fi
"$PY" - "$DATA" "$tmp/lab.h5ad" <<'EOF' || { bad "labelled copy"; exit 1; }
import sys, h5py, shutil, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:  # a 3-way label from the genes per cell
    n = f["obs/n_genes"][()]
    g = f["obs"].create_group("kind")
    g.attrs["encoding-type"], g.attrs["encoding-version"], g.attrs["ordered"] = "categorical", "0.2.0", False
    g["codes"] = np.digitize(n, np.quantile(n, [0.3, 0.7])).astype(np.int8)
    g["categories"] = np.array(["few", "mid", "many"], dtype=object).astype(h5py.string_dtype())
    g["codes"].attrs["encoding-type"], g["codes"].attrs["encoding-version"] = "array", "0.2.0"
    g["categories"].attrs["encoding-type"], g["categories"].attrs["encoding-version"] = "string-array", "0.2.0"
    order = list(f["obs"].attrs["column-order"]) + ["kind"]
    f["obs"].attrs["column-order"] = np.array(order, dtype=object).astype(h5py.string_dtype())
EOF
if "$SDD" --quiet --seed 1 train "$tmp/lab.h5ad" -o "$tmp/c.sdd" $SMALL --label kind 2> "$tmp/err"; then ok "train conditional"
else bad "train conditional"; cat "$tmp/err"; exit 1; fi

for model in m c; do
  extra=""
  [ $model = m ] && extra="--counts --eta 0.5"
  [ $model = c ] && extra="--guidance 2"
  # the single run: one thread, the default batch
  "$SDD" --quiet --seed 9 sample "$tmp/$model.sdd" -n $N --steps 4 $extra -o "$tmp/$model.single.h5ad" 2> "$tmp/err" ||
    { bad "$model: single run"; cat "$tmp/err"; continue; }
  for K in 1 2 3 7; do
    parts=""
    i=1
    while [ $i -le $K ]; do
      "$SDD" --quiet --seed 9 --threads $((1 + i % 2)) sample "$tmp/$model.sdd" -n $N --steps 4 $extra \
        --sample-batch $((16 * i)) --shard $i/$K -o "$tmp/$model.p$i.h5ad" 2> "$tmp/err" || { bad "$model: shard $i/$K"; cat "$tmp/err"; }
      parts="$parts $tmp/$model.p$i.h5ad"
      i=$((i + 1))
    done
    if "$SDD" --quiet concat "$tmp/$model.joined$K.h5ad" $parts 2> "$tmp/err" &&
       same "$tmp/$model.joined$K.h5ad" "$tmp/$model.single.h5ad" 2> "$tmp/err"
    then ok "$model: shards 1..$K joined equal the single run"
    else bad "$model: shards 1..$K joined equal the single run"; tail -3 "$tmp/err"; fi
  done
  # a run made and written 9 cells at a time, through part files joined at the end, is
  # the single run, and leaves no part behind
  mkdir -p "$tmp/pieces"
  if "$SDD" --quiet --seed 9 --threads 2 sample "$tmp/$model.sdd" -n $N --steps 4 $extra --piece-cells 9 \
       -o "$tmp/pieces/$model.h5ad" 2> "$tmp/err" && same "$tmp/pieces/$model.h5ad" "$tmp/$model.single.h5ad" 2> "$tmp/err" &&
     [ "$(ls "$tmp/pieces")" = "$model.h5ad" ]
  then ok "$model: written 9 cells at a time equals the single run"
  else bad "$model: written 9 cells at a time equals the single run"; tail -3 "$tmp/err"; ls "$tmp/pieces"; fi
  rm -f "$tmp/pieces/$model.h5ad"
done
# a shard holds its slice, named by position; the uns records the shard
"$PY" - "$tmp/m.p2.h5ad" <<'EOF' && ok "shard 2/7 names and record" || bad "shard 2/7 names and record"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
names = [x.decode() for x in f["obs/_index"][()]]
# 61 cells in 7: shard 2 holds cells floor(61/7)+1 = 9 .. floor(122/7) = 17
assert names == ["syn_%06d" % i for i in range(9, 18)], names
assert f["uns/sddcell/shard"][()].decode() == "2/7"
assert f["uns/sddcell/n_cells"][()] == 61
EOF

# anndata reads the joined file, layers and labels included
if "$PY" -c 'import anndata' 2>/dev/null; then
  "$PY" - "$tmp/m.joined3.h5ad" "$tmp/c.joined7.h5ad" <<'EOF' && ok "anndata reads the joined files" || bad "anndata reads the joined files"
import sys, anndata, numpy as np, scipy.sparse as sp
a = anndata.read_h5ad(sys.argv[1])
assert a.shape == (61, 120) and a.obs_names.is_unique and a.obs_names[-1] == "syn_000061"
assert sp.issparse(a.X) and a.X.dtype == np.float32 and "counts" in a.layers
assert a.layers["counts"].shape == (61, 120)
assert "shard" not in a.uns["sddcell"] and a.uns["sddcell"]["n_cells"] == 61
c = anndata.read_h5ad(sys.argv[2])
assert list(c.obs["kind"].cat.categories) == ["few", "mid", "many"]
k = c.obs["kind"].astype(str).tolist()
assert k == sorted(k, key=["few", "mid", "many"].index)  # blocks by label, in code order
EOF
else
  echo "skip: anndata not available (python3-anndata)"
fi

# refusals: exit 1, one line, no output
expect_fail() { # name cmd...
  name=$1; shift
  rm -f "$tmp/bad.h5ad"
  "$@" > /dev/null 2> "$tmp/err"; rc=$?
  if [ $rc -eq 1 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && [ ! -e "$tmp/bad.h5ad" ] &&
     [ -z "$(ls -A "$tmp" | grep '\.tmp\.')" ]; then ok "$name: $(cat "$tmp/err")"
  else bad "$name (exit $rc)"; cat "$tmp/err"; fi
}
"$SDD" --quiet --seed 10 sample "$tmp/m.sdd" -n $N --steps 4 --counts --eta 0.5 --shard 2/2 -o "$tmp/seed10.h5ad" 2>/dev/null
"$SDD" --quiet --seed 9 sample "$tmp/c.sdd" -n $N --steps 4 --counts --eta 0.5 --shard 2/2 -o "$tmp/other.h5ad" 2>/dev/null
cp "$tmp/m.sdd" "$tmp/copy.sdd"
"$SDD" --quiet --seed 9 sample "$tmp/copy.sdd" -n $N --steps 4 --counts --eta 0.5 --shard 2/2 -o "$tmp/copy2.h5ad" 2>/dev/null
"$SDD" --quiet convert "$DATA" "$tmp/real.h5ad" 2>/dev/null
printf 'junk' > "$tmp/junk.h5ad"
expect_fail "other seed" "$SDD" concat "$tmp/bad.h5ad" "$tmp/m.p1.h5ad" "$tmp/seed10.h5ad"
# the products the shards ran (int8 or float) must agree: shard 2/7 in the other precision
p1=$("$PY" -c 'import sys, h5py; v = h5py.File(sys.argv[1], "r")["uns/sddcell/products"][()]
print(v.decode() if isinstance(v, bytes) else v)' "$tmp/m.p1.h5ad")
if [ "$p1" = int8 ]; then other=fp32; else other=int8; fi
"$SDD" --quiet --seed 9 sample "$tmp/m.sdd" -n $N --steps 4 --counts --eta 0.5 --shard 2/7 --sample-precision $other \
  -o "$tmp/prec.h5ad" 2>/dev/null
expect_fail "other products ($p1, $other)" "$SDD" concat "$tmp/bad.h5ad" "$tmp/m.p1.h5ad" "$tmp/prec.h5ad"
grep -q "\['products'\] differs" "$tmp/err" && ok "the refusal names the products" || bad "the refusal names the products"
expect_fail "other model" "$SDD" concat "$tmp/bad.h5ad" "$tmp/m.p1.h5ad" "$tmp/other.h5ad"
expect_fail "other genes" "$SDD" concat "$tmp/bad.h5ad" "$tmp/m.single.h5ad" "$tmp/real.h5ad"
expect_fail "shards out of order" "$SDD" concat "$tmp/bad.h5ad" "$tmp/m.p2.h5ad" "$tmp/m.p1.h5ad"
expect_fail "a shard missing" "$SDD" concat "$tmp/bad.h5ad" "$tmp/m.p1.h5ad" "$tmp/m.p2.h5ad"
expect_fail "not h5ad" "$SDD" concat "$tmp/bad.h5ad" "$tmp/m.single.h5ad" "$tmp/junk.h5ad"
expect_fail "missing part" "$SDD" concat "$tmp/bad.h5ad" "$tmp/none.h5ad"
# misuse: exit 1, the message first (then the usage), no output
expect_usage() { # name cmd...
  name=$1; shift
  rm -f "$tmp/bad.h5ad"
  "$@" > /dev/null 2> "$tmp/err"; rc=$?
  if [ $rc -eq 1 ] && head -1 "$tmp/err" | grep -q '^sddcell [a-z]*: ' && [ ! -e "$tmp/bad.h5ad" ]; then
    ok "$name: $(head -1 "$tmp/err")"
  else bad "$name (exit $rc)"; head -3 "$tmp/err"; fi
}
expect_usage "no parts" "$SDD" concat "$tmp/bad.h5ad"
expect_usage "bad shard" "$SDD" sample "$tmp/m.sdd" -n 5 --shard 3/2 -o "$tmp/bad.h5ad"
expect_usage "more shards than cells" "$SDD" sample "$tmp/m.sdd" -n 5 --shard 1/6 -o "$tmp/bad.h5ad"
expect_usage "piece size" "$SDD" sample "$tmp/m.sdd" -n 5 --piece-cells 0 -o "$tmp/bad.h5ad"
expect_usage "shard syntax" "$SDD" sample "$tmp/m.sdd" -n 5 --shard 2 -o "$tmp/bad.h5ad"
expect_fail "shard with threshold" "$SDD" sample "$tmp/m.sdd" -n 5 --shard 1/2 --threshold -o "$tmp/bad.h5ad"
# the same model read from another file name joins (the digest, not the name, counts)
"$SDD" --quiet --seed 9 sample "$tmp/m.sdd" -n $N --steps 4 --counts --eta 0.5 --shard 1/2 -o "$tmp/orig1.h5ad" 2>/dev/null
"$SDD" --quiet concat "$tmp/ok.h5ad" "$tmp/orig1.h5ad" "$tmp/copy2.h5ad" 2> "$tmp/err" &&
  "$PY" - "$tmp/ok.h5ad" "$tmp/m.joined2.h5ad" <<'EOF' && ok "a copy of the model joins" || { bad "a copy of the model joins"; cat "$tmp/err"; }
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for k in ("X/data", "X/indices", "X/indptr", "layers/counts/data", "obs/_index"):
    assert np.array_equal(a[k][()], b[k][()]), k
EOF
exit $fail
