#!/bin/sh
# bench_sample.sh: sddcell's sampling speed beside the PyTorch reference of the same
# network (../shared/bench/sdd_torch.py bench-sample), G = 1000 genes, N cells, S reverse
# steps. In every round, interleaved so all see the same machine load: sddcell with 1 and
# 2 threads in fp32 products, in int8 products where the CPU has AVX512_VNNI (the default
# there, `--sample-precision auto`) and in bf16 where it has AVX512_BF16; torch with (torch threads,
# OPENBLAS_NUM_THREADS) = (1,1), (1,2), (2,1). sddcell's figure is the time `sample`
# reports: the model already loaded, up to the output .h5ad decoded and written; torch's
# is its sample() call alone. Medians over the rounds; ratios against torch's best
# two-core setting and torch on one core, also taken within each round (median over
# rounds); GFLOP/s of the forward passes against the machine's sgemm rate. Raw runs are
# appended to RAW (default bench_sample.runs.txt).
# usage: bench/bench_sample.sh [N] [S] [REPEATS] [RAW]   (from the build directory, after
#        `make bench/bench_train`, whose driver measures the sgemm rate)
set -eu
N=${1:-1000}; S=${2:-50}; REPEATS=${3:-3}; RAW=${4:-bench_sample.runs.txt}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$HERE/..
SHARED=${SDD_SHARED:-$SRC/../shared}
PY=${SDD_PYTHON:-/usr/bin/python3}
SDD=${SDDCELL:-./sddcell}
DRIVER=${BENCH_DRIVER:-./bench/bench_train}
[ "$REPEATS" -ge 3 ] || { echo "bench_sample.sh: at least 3 rounds for a median" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/bench_common.sh"
# models of the reference network for G = 1000 (weights do not matter for speed)
"$SDD" --quiet train "$SRC/example_data/pbmc3k_1k.h5ad" -o "$tmp/m.sdd" --steps 1
BF16=0
if [ -x "$DRIVER" ] && BENCH_TRAIN_ONLY=1 OPENBLAS_NUM_THREADS=1 "$DRIVER" 64 16 1 1 1 bf16 | grep -q 'products run bf16'; then
    BF16=1
    "$SDD" --quiet train "$SRC/example_data/pbmc3k_1k.h5ad" -o "$tmp/b.sdd" --steps 1 --precision bf16
fi
G=1000 # the default 1000 highly variable genes of the example data
INT8=0
if "$SDD" sample "$tmp/m.sdd" -n 2 --steps 1 -o "$tmp/s.h5ad" 2>&1 | grep -q ' int8 products '; then
    INT8=1
fi

sdd() { # label threads model [precision]
    v=$("$SDD" --threads "$2" sample "$3" -n "$N" --steps "$S" --sample-precision "${4:-fp32}" -o "$tmp/s.h5ad" 2>&1 |
        sed -n 's/.* \([0-9.]*\) cells\/s.*/\1/p')
    echo "round $i $1 $v cells/s" | tee -a "$RAW" >>"$tmp/runs"
}
tor() { # label torch-threads openblas-threads
    v=$(env $TORCH_CORE OPENBLAS_NUM_THREADS=$3 OMP_NUM_THREADS=$2 "$PY" "$SHARED/bench/sdd_torch.py" bench-sample 1000 "$N" "$S" "$2" |
        sed -n 's/.* \([0-9.]*\) cells\/s.*/\1/p')
    echo "round $i $1 $v cells/s" | tee -a "$RAW" >>"$tmp/runs"
}

echo "# bench_sample.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) cells=$N steps=$S rounds=$REPEATS bf16=$BF16 int8=$INT8" >>"$RAW"
i=1
while [ "$i" -le "$REPEATS" ]; do
    sdd sdd_fp32_t1 1 "$tmp/m.sdd"
    sdd sdd_fp32_t2 2 "$tmp/m.sdd"
    if [ $INT8 = 1 ]; then
        sdd sdd_int8_t1 1 "$tmp/m.sdd" int8
        sdd sdd_int8_t2 2 "$tmp/m.sdd" int8
    fi
    if [ $BF16 = 1 ]; then
        sdd sdd_bf16_t1 1 "$tmp/b.sdd" bf16
        sdd sdd_bf16_t2 2 "$tmp/b.sdd" bf16
    fi
    torch_and_sgemm_round
    i=$((i + 1))
done
cat "$tmp/runs"

# forward FLOPs per cell and step (the time embedding is shared by a batch): the skip-MLP's
# products at G genes, 2 multiply-adds each
fl=$(awk -v g="$G" 'BEGIN { printf "%.4f", 2 * (4*g*512 + 512*512 + 512*256 + 256*128 + 128*256 + 256*512 + 512*512 + 512*1024 + 1024*2*g) / 1e6 }')
gf() { awk -v c="$1" -v f="$fl" -v s="$S" 'BEGIN { printf "%.1f", c * s * f / 1e3 }'; }

speed_summary "G=$G, $N cells, $S steps" "cells/s" fp32 int8 bf16
q1=$(med sdd_int8_t1); q2=$(med sdd_int8_t2)
echo "  forward passes ($fl MFLOP per cell and step): sddcell fp32 $(gf "$s1") GFLOP/s on 1 thread, $(gf "$s2") on 2;" \
     "${q1:+int8 $(gf "$q1") G-ops/s on 1 thread, $(gf "$q2") on 2; }torch best $(gf "$tb");" \
     "machine sgemm (OpenBLAS 1024^3) $(sgemm_med 1) GFLOP/s on 1 thread, $(sgemm_med 2) on 2"
echo "raw runs appended to $RAW"
