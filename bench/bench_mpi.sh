#!/bin/sh
# bench_mpi.sh: data-parallel training on one machine: steps/s of `mpirun -np R sddcell
# train` for R = 1, 2, 4 (and one process without mpirun) at the same global batch and
# --grad-slices, and the bytes each process receives a step: the exchange is one
# MPI_Allgather of (parameters + 1) floats per rank, so (R - 1) x 4 x (parameters + 1).
# The steps/s come from the "steps N to M" line and the wall time minus the time before
# the first step (read with -v); the models are compared byte for byte as well.
#
# usage: bench/bench_mpi.sh [STEPS] [GENES] [RAW]  (from a build configured --with-mpi;
#        input example_data/pbmc3k_1k.h5ad, default widths, batch 256, --grad-slices 4)
set -eu
STEPS=${1:-40}
GENES=${2:-1000}
RAW=${3:-bench_mpi.runs.txt}
HERE=$(cd "$(dirname "$0")" && pwd)
SDD=${SDD:-./sddcell}
DATA=${DATA:-$HERE/../example_data/pbmc3k_1k.h5ad}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ARGS="--seed 1 train $DATA -n $GENES --batch-size 256 --grad-slices 4"

run() { # label launcher... ; prints steps/s
    label=$1; shift
    t0=$(date +%s.%N)
    "$@" $SDD $ARGS --steps 1 -o "$tmp/warm.sdd" 2>/dev/null  # reading, HVG, set-up only
    t1=$(date +%s.%N)
    "$@" $SDD $ARGS --steps "$STEPS" -o "$tmp/$label.sdd" 2>/dev/null
    t2=$(date +%s.%N)
    echo "$t0 $t1 $t2" | awk -v s="$STEPS" '{ printf "%.2f", (s - 1) / (($3 - $2) - ($2 - $1)) }'
}
one=$(run single env)
echo "single process: $one steps/s" | tee -a "$RAW"
for R in 1 2 4; do
    v=$(run np$R mpirun --oversubscribe -np $R)
    same=$(cmp -s "$tmp/single.sdd" "$tmp/np$R.sdd" && echo "same model" || echo "MODEL DIFFERS")
    echo "mpirun -np $R: $v steps/s, $same" | tee -a "$RAW"
done
n=$($SDD info --json "$tmp/single.sdd" | sed -n 's/.*"n_params":[[:space:]]*\([0-9]*\).*/\1/p' | head -1)
for R in 2 4; do
    echo "bytes received per process per step at R = $R: $(( (R - 1) * 4 * (n + 1) )) ($n parameters)" | tee -a "$RAW"
done
