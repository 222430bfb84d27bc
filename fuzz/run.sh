#!/bin/sh
# fuzz/run.sh HARNESS SECONDS [libFuzzer options...]: build the harnesses if needed
# (fuzz/build.sh) and run one of them for SECONDS on one core. HARNESS is h5ad, tenx,
# mtx, model or model_json. The committed seeds (fuzz/corpus/HARNESS, plus the inputs of
# tests/data/fuzz for the readers they fed) are read; the corpus that grows and any
# findings (crash-*, timeout-*, oom-*, leak-*) go under $FUZZ_BUILD (build-fuzz/):
# corpus/HARNESS and findings/HARNESS. libFuzzer runs in fork mode with one job, so a
# finding is recorded and the run goes on; its last status line (executions, coverage,
# crashes) is repeated at the end. Options after SECONDS override the defaults (the last
# one given wins): -timeout=10 counts wall-clock seconds, so on a machine busy with other
# work give more (-timeout=60) or a valid seed may be reported as a timeout.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${FUZZ_BUILD:-$SRC/build-fuzz}
[ $# -ge 2 ] || { echo "usage: fuzz/run.sh h5ad|tenx|mtx|model|model_json SECONDS [libFuzzer options]" >&2; exit 2; }
name=$1 secs=$2; shift 2
case $name in h5ad|tenx|mtx|model|model_json) ;; *) echo "fuzz/run.sh: unknown harness '$name'" >&2; exit 2 ;; esac
case $secs in ''|*[!0-9]*) echo "fuzz/run.sh: SECONDS must be a whole number" >&2; exit 2 ;; esac
sh "$SRC/fuzz/build.sh" "$B" >/dev/null
mkdir -p "$B/corpus/$name" "$B/findings/$name"
seeds="$SRC/fuzz/corpus/$name"
case $name in
  h5ad) extra=$(ls -d "$SRC"/tests/data/fuzz/h5ad-* 2>/dev/null || true) ;;
  tenx) extra=$(ls -d "$SRC"/tests/data/fuzz/tenx-* 2>/dev/null || true) ;;
  model) extra=$(ls -d "$SRC"/tests/data/fuzz/model-* 2>/dev/null || true) ;;
  *) extra="" ;;
esac
dict=""
[ -f "$SRC/fuzz/$name.dict" ] && dict="-dict=$SRC/fuzz/$name.dict"
log="$B/findings/$name/run-$(date +%Y%m%d-%H%M%S).log"
export HDF5_USE_FILE_LOCKING=FALSE OPENBLAS_NUM_THREADS=1
# -malloc_limit_mb: no input of these sizes (seeds up to ~200 KB) may make the library
# ask for more; -timeout: a hang is a finding (the CLI must answer within seconds).
set +e
"$B/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -print_final_stats=1 \
  -artifact_prefix="$B/findings/$name/" $dict "$@" "$B/corpus/$name" "$seeds" $extra >"$log" 2>&1
rc=$?
set -e
echo "fuzz_$name: $secs s, exit $rc, log $log"
grep -E '^#[0-9]+' "$log" | tail -1
n=$(ls "$B/findings/$name" | grep -cE '^(crash|timeout|oom|leak)-' || true)
echo "findings in $B/findings/$name: $n"
exit $rc
