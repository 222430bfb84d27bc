#!/bin/sh
# bench_concat.sh: the memory of `sddcell concat` on many large parts. A small model is
# trained for a few steps (narrow layers: sampling time, not the model, is the cost here); PARTS shards of CELLS cells each are sampled from it as one run
# (`sample -n PARTS*CELLS --shard I/PARTS --steps 2`: the cells' values do not matter
# here, only the size of the files); `concat` joins them under /usr/bin/time -v, which
# gives its peak RSS and wall time; anndata then reads the joined file and its shape, cell
# names and the number of stored values are checked against the parts.
#
# usage: bench/bench_concat.sh [PARTS] [CELLS] [RAW]   (from the build directory; defaults
#        10 parts of 100,000 cells; input DATA, default ../shared/data/train/
#        pbmc3k_counts.h5ad, else example_data/pbmc3k_1k.h5ad; scratch files in WORK,
#        default a directory under TMPDIR, removed at the end; THREADS for sampling;
#        MODEL_ARGS, default --hidden 64,64,32,16 --head 64 --emb 16)
set -eu
PARTS=${1:-10}
CELLS=${2:-100000}
RAW=${3:-bench_concat.runs.txt}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$HERE/..
SDD=${SDDCELL:-./sddcell}
PY=${SDD_PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-2}
MODEL_ARGS=${MODEL_ARGS:---hidden 64,64,32,16 --head 64 --emb 16}
if [ -z "${DATA:-}" ]; then
    DATA=$SRC/../shared/data/train/pbmc3k_counts.h5ad
    [ -f "$DATA" ] || DATA=$SRC/example_data/pbmc3k_1k.h5ad
fi
[ -x /usr/bin/time ] || { echo "bench_concat.sh: needs GNU time (/usr/bin/time)" >&2; exit 1; }
if [ -n "${WORK:-}" ]; then mkdir -p "$WORK"; tmp=$WORK; else tmp=$(mktemp -d); fi
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
N=$((PARTS * CELLS))

"$SDD" --quiet --seed 1 --threads "$THREADS" train "$DATA" -o "$tmp/m.sdd" --steps 20 $MODEL_ARGS
parts=""
i=1
while [ "$i" -le "$PARTS" ]; do
    "$SDD" --quiet --seed 1 --threads "$THREADS" sample "$tmp/m.sdd" -n "$N" --steps 2 \
        --shard "$i/$PARTS" -o "$tmp/part$i.h5ad"
    parts="$parts $tmp/part$i.h5ad"
    i=$((i + 1))
done
bytes=$(cat $parts | wc -c)
/usr/bin/time -v "$SDD" --quiet concat "$tmp/joined.h5ad" $parts 2> "$tmp/time.txt"
rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tmp/time.txt")
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$tmp/time.txt")
# anndata reads the result; it has every cell, in order, and every stored value of the parts
check=$("$PY" - "$tmp/joined.h5ad" $parts <<'EOF'
import sys, h5py, anndata
a = anndata.read_h5ad(sys.argv[1])
nnz = sum(h5py.File(p, "r")["X/data"].shape[0] for p in sys.argv[2:])
n = a.n_obs
assert a.obs_names.is_unique and a.obs_names[0] == "syn_000001" and a.obs_names[-1] == "syn_%06d" % n
assert a.X.nnz == nnz, (a.X.nnz, nnz)
print("anndata reads %d x %d, %d stored values" % (a.n_obs, a.n_vars, a.X.nnz))
EOF
)
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) concat of $PARTS parts x $CELLS cells ($bytes bytes of parts):" \
     "peak RSS $((rss / 1024)) MB, wall $wall; $check" | tee -a "$RAW"
