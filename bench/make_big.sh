#!/bin/sh
# Make (once) the benchmark file with ../shared/tools/make_big_h5ad.py. The generator draws
# 20,000 rows at a time (~13 GB of float64 temporaries at 20,000 genes); SDD_BENCH_CHUNK
# (default 4000) lowers that block size to keep its peak memory near 4 GB on a shared
# machine. The counts follow the same model; the exact draws differ from a 20,000 block.
# usage: make_big.sh OUT.h5ad N_CELLS N_GENES
set -eu
out=$1 n=$2 g=$3
tool="${SDD_SHARED:-$(dirname "$0")/../../shared}/tools/make_big_h5ad.py"
[ -f "$tool" ] || { echo "make_big.sh: $tool not found" >&2; exit 77; }
mkdir -p "$(dirname "$out")"
/usr/bin/python3 - "$tool" "$out.tmp" "$n" "$g" <<PY
import sys
tool = sys.argv[1]
src = open(tool).read().replace("chunk = 20000", "chunk = ${SDD_BENCH_CHUNK:-4000}")
sys.argv = [tool] + sys.argv[2:]
exec(compile(src, tool, "exec"))
PY
mv "$out.tmp" "$out"
