#!/bin/sh
# bench_info: `sddcell info` against python3-anndata's read_h5ad on the same large h5ad,
# side by side: wall seconds and peak RSS (median of RUNS runs each), and the ratios.
#
# The file (N_CELLS x N_GENES, default 200,000 x 20,000, ~280 M stored counts) is made
# once with ../shared/tools/make_big_h5ad.py (through bench/make_big.sh) and cached at
# $SDD_BENCH_FILE (default /tmp/sdd_bench/big_<cells>x<genes>.h5ad). Making it takes
# several minutes and ~5 GB of memory; reading it with anndata needs ~4 GB.
#
# usage: bench/bench_info.sh [N_CELLS [N_GENES]]
#   env: SDD_BUILDDIR (where sddcell is, default ./build), SDD_BENCH_THREADS (default 2),
#        SDD_BENCH_RUNS (default 3), SDD_BENCH_FILE, SDD_SHARED (default ../shared)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-200000} g=${2:-20000}
SDD="${SDD_BUILDDIR:-$here/../build}/sddcell"
PY=/usr/bin/python3
threads=${SDD_BENCH_THREADS:-2}
runs=${SDD_BENCH_RUNS:-3}
file=${SDD_BENCH_FILE:-/tmp/sdd_bench/big_${n}x${g}.h5ad}
[ -x "$SDD" ] || { echo "bench_info: $SDD not built" >&2; exit 1; }
$PY -c 'import anndata' 2>/dev/null || { echo "bench_info: python3-anndata missing" >&2; exit 77; }
if [ ! -f "$file" ]; then
  echo "making $file ($n x $g) ..."
  SDD_SHARED="${SDD_SHARED:-$here/../../shared}" sh "$here/make_big.sh" "$file" "$n" "$g"
fi
ls -l "$file"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdd_bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# one timed run: appends "seconds peak_kb" to $1
timed() {
  out=$1; shift
  /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" >"$tmp/stdout" 2>"$tmp/stderr" || { cat "$tmp/stderr" >&2; exit 1; }
  cat "$tmp/t" >>"$out"
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

for i in $(seq "$runs"); do
  timed "$tmp/sdd" "$SDD" --threads "$threads" info --json "$file"
  timed "$tmp/ad" $PY -c 'import sys, anndata; a = anndata.read_h5ad(sys.argv[1]); print(a.shape, a.X.nnz)' "$file"
done
"$SDD" --threads "$threads" info "$file"
s_t=$(cut -d' ' -f1 "$tmp/sdd" | median); s_m=$(cut -d' ' -f2 "$tmp/sdd" | median)
a_t=$(cut -d' ' -f1 "$tmp/ad" | median); a_m=$(cut -d' ' -f2 "$tmp/ad" | median)
echo "runs (seconds peak_KB): sddcell: $(tr '\n' ';' <"$tmp/sdd") anndata: $(tr '\n' ';' <"$tmp/ad")"
awk -v st="$s_t" -v sm="$s_m" -v at="$a_t" -v am="$a_m" -v th="$threads" -v r="$runs" 'BEGIN {
  printf "%-34s %10s %12s\n", "median of " r " runs", "wall s", "peak RSS MB"
  printf "%-34s %10.2f %12.0f\n", "sddcell info (--threads " th ")", st, sm / 1024
  printf "%-34s %10.2f %12.0f\n", "anndata.read_h5ad", at, am / 1024
  printf "speed-up %.2fx, peak RSS %.1fx lower\n", at / st, am / sm }'
