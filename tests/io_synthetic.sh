#!/bin/sh
# io_synthetic: one matrix written by tests/make_synthetic.py in 32 storage variants
# (index types int8..uint64, data types int8..float64 and float16, csr / csc / dense,
# uncompressed / gzip / gzip+shuffle / lzf, anndata 0.7 __categories, nullable strings):
# `sddcell info --json` must report the counts and obs columns numpy computed, with
# one and with three decoding threads.
set -u
. "$(dirname "$0")/common.sh"
need_py h5py numpy
sdd_tmpdir synth
"$PY" "$SRC/tests/make_synthetic.py" "$tmp/in" >"$tmp/cases" || { echo "FAIL: generator" >&2; exit 1; }
jget() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2"; }
n=0
while IFS='	' read -r path cells genes nnz sum obs; do
  for t in 1 3; do
    n=$((n + 1))
    if ! "$SDD" --threads $t info --json "$path" >"$tmp/out" 2>"$tmp/err"; then
      echo "FAIL: $path: $(cat "$tmp/err")" >&2; fail=1; continue
    fi
    got="$(jget n_cells "$tmp/out") $(jget n_genes "$tmp/out") $(jget nnz "$tmp/out") $(jget sum "$tmp/out")"
    [ "$got" = "$cells $genes $nnz $sum" ] || { echo "FAIL: $path (threads $t): $got, expected $cells $genes $nnz $sum" >&2; fail=1; }
    got_o=$(sed -n 's/.*"obs_columns":\[\(.*\)\]}$/\1/p' "$tmp/out" | sed 's/},{/}\n{/g' |
      sed 's/^{"name":"\(.*\)","kind":"\([a-z]*\)","n_categories":\([0-9a-z]*\)}$/\1:\2:\3/' | paste -sd';' -)
    [ "$got_o" = "$obs" ] || { echo "FAIL: $path: obs $got_o, expected $obs" >&2; fail=1; }
  done
done <"$tmp/cases"
[ "$n" -ge 60 ] || { echo "FAIL: only $n synthetic cases" >&2; fail=1; }
echo "io_synthetic: $n runs"
exit $fail
