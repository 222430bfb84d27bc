#!/bin/sh
# bench_sample.sh: sddcell's sampling speed beside the PyTorch reference of the same
# network (../shared/bench/sdd_torch.py bench-sample), G = 1000 genes, N cells, S reverse
# steps, THREADS threads, in one run; medians of REPEATS runs each, interleaved so both see
# the same machine load. sddcell's figure is the sampling time it reports (model loaded,
# output not yet written), as torch's is its sample() call alone.
# usage: bench/bench_sample.sh [N] [S] [REPEATS] [THREADS]   (from the build directory)
set -eu
N=${1:-1000}; S=${2:-50}; REPEATS=${3:-3}; T=${4:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$HERE/..
SHARED=${SDD_SHARED:-$SRC/../shared}
PY=${SDD_PYTHON:-/usr/bin/python3}
SDD=${SDDCELL:-./sddcell}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# a model of the reference network for G = 1000 (weights do not matter for speed)
"$SDD" --quiet train "$SRC/example_data/pbmc3k_1k.h5ad" -o "$tmp/m.sdd" --steps 1
i=0
while [ $i -lt "$REPEATS" ]; do
    "$SDD" --threads "$T" sample "$tmp/m.sdd" -n "$N" --steps "$S" -o "$tmp/s.h5ad" 2>&1 | grep 'cells/s' >>"$tmp/c"
    "$PY" "$SHARED/bench/sdd_torch.py" bench-sample 1000 "$N" "$S" "$T" >>"$tmp/t"
    i=$((i + 1))
done
cat "$tmp/c" "$tmp/t"
med() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
c=$(sed 's/.* \([0-9.]*\) cells\/s.*/\1/' "$tmp/c" | med)
t=$(sed 's/.* \([0-9.]*\) cells\/s.*/\1/' "$tmp/t" | med)
echo "median of $REPEATS (G=1000, $N cells, $S steps, $T threads): sddcell $c cells/s, torch $t cells/s, ratio $(awk -v a="$c" -v b="$t" 'BEGIN{printf "%.2f", a/b}')x"
