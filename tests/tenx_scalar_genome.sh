#!/bin/sh
# tenx_scalar_genome: a Cell Ranger 3 style .h5 whose matrix/features/genome is one
# scalar string (as PyTables writes it; tests/data/derived/scalar_genome.h5, made by
# tests/make_scalar_genome.py from the real file beside the original) reads as that
# genome for every feature: `info`, `--genome`, `convert` and `hvg` (the training path's
# reader) give exactly what they give on the original, and `train` runs on it.
set -u
. "$(dirname "$0")/common.sh"
ORIG="$SRC/tests/data/real/10x/scanpy/3.0.0/filtered_feature_bc_matrix.h5"
SCAL="$SRC/tests/data/derived/scalar_genome.h5"
for f in "$ORIG" "$SCAL"; do [ -f "$f" ] || { echo "FAIL: $f is missing"; exit 1; }; done
sdd_tmpdir scalar
same() { # what command... : the command's stdout on both files must agree (file names aside)
  what=$1; shift
  "$SDD" "$@" "$ORIG" 2>"$tmp/e1" | sed "s|$ORIG|FILE|g" >"$tmp/o1"; r1=$?
  "$SDD" "$@" "$SCAL" 2>"$tmp/e2" | sed "s|$SCAL|FILE|g" >"$tmp/o2"; r2=$?
  if [ $r1 = 0 ] && [ $r2 = 0 ] && [ -s "$tmp/o1" ] && cmp -s "$tmp/o1" "$tmp/o2"; then echo "ok: $what"
  else echo "FAIL: $what differs or fails:"; cat "$tmp/e2"; diff "$tmp/o1" "$tmp/o2" | head -5; fail=1; fi
}
same "info" info --json
same "info --genome GRCh38_chr21" info --json --genome GRCh38_chr21
same "hvg (the training path's reader)" --quiet hvg -n 50
if "$SDD" info --genome mm10 "$SCAL" 2>"$tmp/err" >/dev/null || ! grep -q "no feature of genome 'mm10' (genomes: 'GRCh38_chr21')" "$tmp/err"; then
  echo "FAIL: --genome mm10:"; cat "$tmp/err"; fail=1
else echo "ok: --genome mm10 refused: $(cat "$tmp/err")"; fi
"$SDD" --quiet convert "$ORIG" "$tmp/a.h5ad" && "$SDD" --quiet convert "$SCAL" "$tmp/b.h5ad" &&
  "$SDD" info --json "$tmp/a.h5ad" | sed "s|$tmp/a.h5ad|F|" >"$tmp/ca" &&
  "$SDD" info --json "$tmp/b.h5ad" | sed "s|$tmp/b.h5ad|F|" >"$tmp/cb" && cmp -s "$tmp/ca" "$tmp/cb" &&
  echo "ok: convert" || { echo "FAIL: convert"; fail=1; }
if "$SDD" --quiet train "$SCAL" -o "$tmp/m.sdd" --n-top-genes 50 --hidden 16,16,8,8 --head 16 --emb 8 \
     --batch-size 32 --steps 3 2>"$tmp/err"; then echo "ok: train"
else echo "FAIL: train: $(cat "$tmp/err")"; fail=1; fi
exit $fail
