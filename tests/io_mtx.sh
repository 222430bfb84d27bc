#!/bin/sh
# io_mtx: 10x MTX folders written by tests/make_mtx.py from a real 10x .h5 (gzipped and
# plain, features.tsv and genes.tsv, integer and real, extra antibody features) read with
# the counts h5py computed (cells, genes, nnz exact; sum to 1e-9 relative), and the
# same counts as `sddcell info` on the source .h5.
set -u
. "$(dirname "$0")/common.sh"
H5="$SRC/tests/data/real/10x/scanpy/3.0.0/filtered_feature_bc_matrix.h5"
[ -f "$H5" ] || { echo "FAIL: $H5 is missing"; exit 1; }
need_py h5py numpy
sdd_tmpdir mtx
"$PY" "$SRC/tests/make_mtx.py" "$H5" "$tmp" >"$tmp/cases" || { echo "FAIL: generator" >&2; exit 1; }
jget() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2"; }
n=0
"$SDD" info --json "$H5" >"$tmp/h5.json" || fail=1
while IFS='	' read -r dir args cells genes nnz sum; do
  n=$((n + 1))
  [ "$args" = "-" ] && args=""
  # shellcheck disable=SC2086
  if ! "$SDD" info --json $args "$dir" >"$tmp/out" 2>"$tmp/err"; then
    echo "FAIL: $dir $args: $(cat "$tmp/err")" >&2; fail=1; continue
  fi
  got="$(jget n_cells "$tmp/out") $(jget n_genes "$tmp/out") $(jget nnz "$tmp/out")"
  [ "$got" = "$cells $genes $nnz" ] || { echo "FAIL: $dir $args: $got, expected $cells $genes $nnz" >&2; fail=1; }
  awk -v g="$(jget sum "$tmp/out")" -v e="$sum" 'BEGIN { d = g - e; if (d < 0) d = -d; exit !(d <= 1e-9 * e) }' ||
    { echo "FAIL: $dir $args: sum $(jget sum "$tmp/out"), expected $sum" >&2; fail=1; }
  grep -q '"format":"10x-mtx"' "$tmp/out" || { echo "FAIL: $dir: format not 10x-mtx" >&2; fail=1; }
done <"$tmp/cases"
# the gzipped v3 folder and the .h5 it came from describe the same matrix
"$SDD" info --json "$tmp/v3_gz" >"$tmp/v3_gz.json"
for k in n_cells n_genes nnz sum; do
  [ "$(jget $k "$tmp/h5.json")" = "$(jget $k "$tmp/v3_gz.json")" ] ||
    { echo "FAIL: $k differs between the .h5 and its MTX copy" >&2; fail=1; }
done
[ "$n" -ge 6 ] || { echo "FAIL: only $n MTX cases" >&2; fail=1; }
echo "io_mtx: $n cases"
exit $fail
