#!/bin/sh
# bench_train.sh: sddcell's training steps per second beside the PyTorch reference of the
# same network (../shared/bench/sdd_torch.py), G = 1000, batch 256.
#
# In every round, interleaved so all see the same machine load:
#   sddcell with 1 and 2 threads in fp32, in int8 (the forward's and the input gradients'
#   products; the default `--precision auto` there) where the CPU has AVX512_VNNI, and in
#   bf16 where it has AVX512_BF16 (a precision the CPU cannot run fast is skipped and
#   said so);
#   torch with (torch threads, OPENBLAS_NUM_THREADS) = (1,1), (1,2), (2,1): every way to
#   use at most two cores. Torch's best two-core figure is the fastest of the three
#   medians; its one-core figure is (1,1).
# Then medians over the rounds, the ratios of the issue (sddcell 2 threads / torch's best
# two-core setting, sddcell 1 thread / torch on one core, sddcell 2 threads / 1 thread),
# the same ratios taken within each round (median over rounds: a slow drift of the
# machine's speed between rounds does not move them), and GFLOP/s of the whole step against the machine's sgemm rate (OpenBLAS, 1024^3).
# Raw runs go to RAW (default bench_train.runs.txt, appended, one line per run).
#
# usage: bench/bench_train.sh [STEPS] [REPEATS] [RAW]   (from the build directory, after
#        `make bench/bench_train`; SDD_SHARED or ../shared locates sdd_torch.py)
set -eu
STEPS=${1:-20}
REPEATS=${2:-3}
RAW=${3:-bench_train.runs.txt}
G=1000; B=256
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SDD_SHARED:-$HERE/../../shared}
PY=${SDD_PYTHON:-/usr/bin/python3}
DRIVER=${BENCH_DRIVER:-./bench/bench_train}
[ -x "$DRIVER" ] || { echo "bench_train.sh: build $DRIVER first (make bench/bench_train)" >&2; exit 1; }
[ "$REPEATS" -ge 3 ] || { echo "bench_train.sh: at least 3 rounds for a median" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/bench_common.sh"

# does this CPU run bf16 products, and int8 ones on AVX512_VNNI?
BF16=0; INT8=0
if BENCH_TRAIN_ONLY=1 OPENBLAS_NUM_THREADS=1 "$DRIVER" 64 16 1 1 1 bf16 | grep -q 'products run bf16'; then
    BF16=1
fi
if BENCH_TRAIN_ONLY=1 OPENBLAS_NUM_THREADS=1 "$DRIVER" 64 16 1 1 1 int8 | grep -q 'products run int8 (AVX512_VNNI)'; then
    INT8=1
fi

sdd() { # label threads precision
    out=$(BENCH_TRAIN_ONLY=1 OPENBLAS_NUM_THREADS=1 "$DRIVER" $G $B "$STEPS" "$2" 1 "$3")
    v=$(echo "$out" | sed -n 's/.* \([0-9.]*\) steps\/s.*/\1/p')
    f=$(echo "$out" | sed -n 's/sddcell flops per step: \([0-9.]*\) GFLOP/\1/p')
    echo "$f" >"$tmp/flops"
    echo "round $i $1 $v steps/s" | tee -a "$RAW" >>"$tmp/runs"
}
tor() { # label torch-threads openblas-threads
    v=$(env $TORCH_CORE OPENBLAS_NUM_THREADS=$3 OMP_NUM_THREADS=$2 "$PY" "$SHARED/bench/sdd_torch.py" bench-train $G $B "$STEPS" "$2" |
        sed -n 's/.* \([0-9.]*\) steps\/s.*/\1/p')
    echo "round $i $1 $v steps/s" | tee -a "$RAW" >>"$tmp/runs"
}

echo "# bench_train.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) G=$G batch=$B steps=$STEPS rounds=$REPEATS bf16=$BF16 int8=$INT8" >>"$RAW"
i=1
while [ "$i" -le "$REPEATS" ]; do
    sdd sdd_fp32_t1 1 fp32
    sdd sdd_fp32_t2 2 fp32
    if [ $INT8 = 1 ]; then
        sdd sdd_int8_t1 1 int8
        sdd sdd_int8_t2 2 int8
    fi
    if [ $BF16 = 1 ]; then
        sdd sdd_bf16_t1 1 bf16
        sdd sdd_bf16_t2 2 bf16
    fi
    torch_and_sgemm_round
    i=$((i + 1))
done
cat "$tmp/runs"

gf() { awk -v s="$1" -v f="$(cat "$tmp/flops")" 'BEGIN { printf "%.1f", s * f }'; }

speed_summary "G=$G, batch $B, $STEPS steps each" "steps/s" fp32 int8 bf16
q1=$(med sdd_int8_t1); q2=$(med sdd_int8_t2)
m1=$(sgemm_med 1); m2=$(sgemm_med 2)
echo "  whole step, $(cat "$tmp/flops") GFLOP: sddcell fp32 $(gf "$s1") GFLOP/s on 1 thread, $(gf "$s2") on 2;" \
     "${q1:+int8 $(gf "$q1") G-ops/s on 1 thread, $(gf "$q2") on 2; }torch best $(gf "$tb"); machine sgemm (OpenBLAS 1024^3) $m1 GFLOP/s on 1 thread, $m2 on 2"
echo "  share of the machine's sgemm rate: sddcell $(awk -v a="$(gf "$s1")" -v b="$m1" 'BEGIN{printf "%.0f", 100*a/b}')% (1 thread)," \
     "$(awk -v a="$(gf "$s2")" -v b="$m2" 'BEGIN{printf "%.0f", 100*a/b}')% (2 threads)"
echo "raw runs appended to $RAW"
