#!/bin/sh
# bench_hvg: `sddcell hvg` against the numpy/pandas reference (tests/make_hvg_reference.py
# --bench, the same QC, normalize_total, log1p and seurat HVG on the whole matrix in memory)
# on a 200,000 x 20,000 count file from ../shared/tools/make_big_h5ad.py. Prints wall time
# and peak RSS of both, the speed-up, and sddcell's peak RSS as a share of the matrix's
# in-memory CSR size (nnz x 8 bytes). Targets: speed-up >= 5, share < 40%.
#   usage: bench/bench_hvg.sh [BUILD_DIR]    (env: BIG=path CELLS=N GENES=N FLAVOR=F THREADS=N)
# Measured on the 2-core development machine while it was shared (load average ~7), two
# runs: 417 M stored counts (CSR 3184 MiB); sddcell hvg (--threads 2) 15.1 s and 17.4 s,
# peak RSS 116 MiB (3.7%); reference 119.2 s and 87.7 s, peak RSS 11.7 GiB; speed-up 7.9x
# and 5.0x; the same 1000 genes (Jaccard 1.0). The reference needs ~3.7x the CSR size.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
SDD=$build/sddcell
PY=/usr/bin/python3
CELLS=${CELLS:-200000}
GENES=${GENES:-20000}
FLAVOR=${FLAVOR:-seurat}
THREADS=${THREADS:-2}   # as bench_info.sh; the reference is single-threaded numpy
# the same file (same generator and seed) may already exist under the name another
# benchmark (bench/bench_info.sh) gave it: use it rather than make a second copy
if [ -z "${BIG:-}" ]; then
  BIG=/tmp/sdd_big_$((CELLS / 1000))k.h5ad
  alt=/tmp/sdd_bench/big_${CELLS}x${GENES}.h5ad
  [ ! -f "$BIG" ] && [ -f "$alt" ] && BIG=$alt
fi
if [ ! -f "$BIG" ]; then
  echo "creating $BIG ($CELLS x $GENES)"
  $PY "$here/../shared/tools/make_big_h5ad.py" "$BIG.part" "$CELLS" "$GENES" && mv "$BIG.part" "$BIG"
fi
nnz=$("$SDD" info "$BIG" | awk '$1 == "nnz" {print $2}')
t=$(mktemp -d "${TMPDIR:-/tmp}/sdd_bench.XXXXXX")
trap 'rm -rf "$t"' EXIT
/usr/bin/time -f '%e %M' -o "$t/sdd" "$SDD" --threads "$THREADS" hvg "$BIG" -n 1000 --flavor "$FLAVOR" -o "$t/genes.tsv"
/usr/bin/time -f '%e %M' -o "$t/ref" $PY "$here/tests/make_hvg_reference.py" --bench "$BIG" 1000 "$FLAVOR" "$t/ref_genes"
awk -F'\t' 'NR > 1 && $NF == "True" {print $1}' "$t/genes.tsv" | sort > "$t/sdd_genes"
sort -o "$t/ref_genes" "$t/ref_genes"
both=$(comm -12 "$t/sdd_genes" "$t/ref_genes" | wc -l)
any=$(sort -u "$t/sdd_genes" "$t/ref_genes" | wc -l)
echo "selected genes: sddcell $(wc -l < "$t/sdd_genes"), reference $(wc -l < "$t/ref_genes"), Jaccard $(awk -v b="$both" -v a="$any" 'BEGIN {printf "%.4f", b / a}')"
read st sk < "$t/sdd"
read rt rk < "$t/ref"
awk -v n="$nnz" -v st="$st" -v sk="$sk" -v rt="$rt" -v rk="$rk" -v f="$BIG" -v fl="$FLAVOR" 'BEGIN {
  csr = n * 8 / 1024;  # KiB, as /usr/bin/time reports RSS
  printf "file %s, nnz %d, CSR in memory %.0f MiB, flavor %s\n", f, n, csr / 1024, fl
  printf "sddcell hvg:        %8.1f s  peak RSS %8.0f MiB (%.1f%% of nnz x 8)\n", st, sk / 1024, 100 * sk / csr
  printf "numpy reference:    %8.1f s  peak RSS %8.0f MiB\n", rt, rk / 1024
  printf "speed-up %.1fx (target >= 5x); sddcell RSS share %.1f%% (target < 40%%)\n", rt / st, 100 * sk / csr
}'
