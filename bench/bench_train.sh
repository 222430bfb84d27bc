#!/bin/sh
# bench_train.sh: sddcell's training steps per second beside the PyTorch reference of the
# same network (../shared/bench/sdd_torch.py), G = 1000, batch 256, 2 threads (or THREADS), in one run;
# medians of REPEATS runs each, interleaved so both see the same machine load. Also the
# GFLOP/s sddcell reaches in its matrix products against OpenBLAS sgemm on the same shapes.
# usage: bench/bench_train.sh [STEPS] [REPEATS] [THREADS]   (from the build directory, after
#        `make bench/bench_train`; SDD_SHARED or ../shared locates sdd_torch.py)
set -eu
STEPS=${1:-20}
REPEATS=${2:-3}
G=1000; B=256; T=${3:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SDD_SHARED:-$HERE/../../shared}
PY=${SDD_PYTHON:-/usr/bin/python3}
DRIVER=${BENCH_DRIVER:-./bench/bench_train}
[ -x "$DRIVER" ] || { echo "bench_train.sh: build $DRIVER first (make bench/bench_train)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt "$REPEATS" ]; do
    OPENBLAS_NUM_THREADS=1 "$DRIVER" $G $B "$STEPS" $T 1 >>"$tmp/c"
    "$PY" "$SHARED/bench/sdd_torch.py" bench-train $G $B "$STEPS" $T >>"$tmp/t"
    i=$((i + 1))
done
cat "$tmp/c" "$tmp/t"
med() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
c=$(grep 'steps/s' "$tmp/c" | sed 's/.* \([0-9.]*\) steps\/s.*/\1/' | med)
t=$(grep 'steps/s' "$tmp/t" | sed 's/.* \([0-9.]*\) steps\/s.*/\1/' | med)
gf=$(grep 'GFLOP/s in products' "$tmp/c" | sed 's/.* \([0-9.]*\) GFLOP\/s in products/\1/' | med)
ob=$(grep 'openblas sgemm' "$tmp/c" | sed 's/.*: \([0-9.]*\) GFLOP\/s/\1/' | med)
sg=$(grep 'sdd_gemm alone' "$tmp/c" | sed 's/.*: \([0-9.]*\) GFLOP\/s/\1/' | med)
ws=$(grep 'whole step' "$tmp/c" | sed 's/.*step: \([0-9.]*\) GFLOP\/s.*/\1/' | med)
echo "median of $REPEATS: sddcell $c steps/s, torch $t steps/s, ratio $(awk -v a="$c" -v b="$t" 'BEGIN{printf "%.2f", a/b}')x"
echo "sddcell in its products $gf GFLOP/s (whole step $ws), OpenBLAS sgemm on the same shapes $ob GFLOP/s: $(awk -v a="$gf" -v b="$ob" 'BEGIN{printf "%.0f", 100*a/b}')%; sdd_gemm alone $sg GFLOP/s"
