#!/bin/sh
# nextflow_contract: the command-line contract the Nextflow modules rely on.
#  - `sddcell --version` prints exactly "sddcell X.Y.Z" and exits 0;
#  - `--threads N` is never exceeded, OpenBLAS's pool included (threads counted in /proc);
#    without --threads no more threads run than the CPUs the process may use (nproc), and
#    on a machine with two or more of them and no CPU quota, more than one does;
#  - `--multiqc .`, as the module passes it, writes the prefix-named *_mqc.json files;
#  - outputs are named by --prefix in the working directory, and nothing else is written
#    outside it and TMPDIR (HOME is not touched);
#  - a failure exits non-zero with a message on stderr and leaves no output behind;
#  - each module (simulate, train, sample, concat, evaluate): its stub creates exactly the
#    outputs it declares; and the command lines of train, sample (three shards), concat
#    and evaluate, rendered from main.nf (tests/nf_render.py) with small settings and run
#    as Nextflow would (inputs staged as links, sddcell on PATH), exit 0 and leave exactly
#    the declared outputs and versions.yml; the joined shards equal one sample run.
# Fails without example_data; skipped (77) without /proc.
set -u
SDD="$SDD_BUILDDIR/sddcell"
DATA="$SDD_SRCDIR/example_data/pbmc3k_1k.h5ad"
[ -f "$DATA" ] || { echo "FAIL: $DATA is missing"; exit 1; }
[ -d /proc/self/task ] || { echo "SKIP: no /proc (thread counts are read there)"; exit 77; }
fail=0
t() { if "$@"; then :; else echo "FAIL: $*" >&2; fail=1; fi; }
work=$(mktemp -d "${TMPDIR:-/tmp}/sdd_nf.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# 1. version
v=$("$SDD" --version); t test "$?" = 0
echo "$v" | grep -Eq '^sddcell [0-9]+\.[0-9]+\.[0-9]+$' || { echo "FAIL: version line '$v'" >&2; fail=1; }

# 2. threads: poll the thread count of a running simulate
max_threads() { # pid -> max number of threads seen while it runs
  m=0
  # a finished child stays a zombie until waited for: stop at state Z
  while [ -r /proc/"$1"/stat ] && [ "$(cut -d' ' -f3 /proc/"$1"/stat 2>/dev/null)" != Z ]; do
    n=$(ls /proc/"$1"/task 2>/dev/null | wc -l)
    [ "$n" -gt "$m" ] && m=$n
    sleep 0.05
  done
  echo "$m"
}
for n in 1 2 default; do
  mkdir -p "$work/t$n/tmp" && cd "$work/t$n" || exit 1
  th="--threads $n"; [ "$n" = default ] && th=""
  HOME="$work/t$n/home-not-there" TMPDIR="$work/t$n/tmp" \
    "$SDD" simulate $th --quiet --prefix run --steps 60 -n 200 --multiqc . "$DATA" 2>err.txt &
  pid=$!
  m=$(max_threads $pid)
  wait $pid; rc=$?
  t test "$rc" = 0
  if [ "$n" = default ]; then
    cpus=$(nproc)
    [ "$m" -le "$cpus" ] || { echo "FAIL: no --threads, $cpus CPUs usable, but $m threads seen" >&2; fail=1; }
    quota=$(cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us 2>/dev/null | grep -v -e '^max' -e '^-1' | head -1)
    if [ "$cpus" -ge 2 ] && [ -z "$quota" ]; then
      [ "$m" -ge 2 ] || { echo "FAIL: no --threads on $cpus usable CPUs, but $m thread(s) seen" >&2; fail=1; }
    fi
    echo "no --threads ($cpus CPUs usable): at most $m threads seen"
  else
    [ "$m" -le "$n" ] || { echo "FAIL: --threads $n but $m threads seen" >&2; fail=1; }
    echo "threads $n: at most $m seen"
  fi
  # 3. outputs named by the prefix, in the working directory; nothing else but TMPDIR
  for f in run.h5ad run.metrics.json run.sdd run_sddcell_general_stats_mqc.json run_sddcell_mqc.json; do
    t test -s "$f"
  done
  extra=$(ls -A | grep -v -x -e run.h5ad -e run.metrics.json -e run.sdd -e err.txt -e tmp \
    -e run_sddcell_general_stats_mqc.json -e run_sddcell_mqc.json)
  [ -z "$extra" ] || { echo "FAIL: unexpected files: $extra" >&2; fail=1; }
  t test ! -e "$work/t$n/home-not-there"
done

# 3b. every module's stub creates every output the process declares
for mod in simulate train sample concat evaluate; do
  NF="$SDD_SRCDIR/nextflow/modules/sddcell/$mod/main.nf"
  [ -f "$NF" ] || { echo "FAIL: $NF is missing" >&2; fail=1; continue; }
  for f in meta.yml environment.yml; do
    [ -s "$SDD_SRCDIR/nextflow/modules/sddcell/$mod/$f" ] || { echo "FAIL: $mod/$f is missing" >&2; fail=1; }
  done
  declared=$(sed -n '/^ *output:/,/^ *when:/p' "$NF" | grep -Eo 'path[( ]+"[^"]*"' | sed 's/^path[( ]*"//; s/"$//' | sort)
  stubbed=$(sed -n '/^ *stub:/,$p' "$NF" | grep -Eo 'touch [^ ]+|> versions.yml' | sed 's/^touch //; s/^> //' | sort)
  [ -n "$declared" ] && [ "$declared" = "$stubbed" ] || {
    echo "FAIL: $mod: stub outputs ($stubbed) differ from declared outputs ($declared)" >&2; fail=1; }
done

# 4. failure: non-zero exit, a message on stderr, no outputs left
mkdir -p "$work/bad" && cd "$work/bad" || exit 1
printf 'not a count file' > bad.h5ad
"$SDD" simulate --prefix out --steps 10 bad.h5ad 2>err.txt; rc=$?
t test "$rc" -ne 0
t test -s err.txt
t test "$(ls -A | grep -v -x -e bad.h5ad -e err.txt)" = ""
# 5. the modules' command lines, rendered from main.nf and run as a task would run them
PY="${SDD_PYTHON:-python3}"
MODS="$SDD_SRCDIR/nextflow/modules/sddcell"
mkdir -p "$work/bin" && ln -s "$SDD" "$work/bin/sddcell"
# task MODULE DIR NAME=VALUE...: stage nothing itself; renders the script and the stub,
# runs the script in DIR (HOME absent, TMPDIR inside), checks the declared outputs
task() {
  mod=$1; dir=$2; shift 2
  NF="$MODS/$mod/main.nf"
  m="$dir.nf"; mkdir -p "$m/tmp"
  (cd "$dir" && ls -A) > "$m/before"
  "$PY" "$SDD_SRCDIR/tests/nf_render.py" "$NF" script task.process="SDDCELL_$mod" "$@" > "$m/script" &&
    "$PY" "$SDD_SRCDIR/tests/nf_render.py" "$NF" outputs "$@" > "$m/outputs" || {
      echo "FAIL: $mod: cannot render main.nf" >&2; fail=1; return; }
  (cd "$dir" && PATH="$work/bin:$PATH" HOME="$m/home-not-there" TMPDIR="$m/tmp" bash "$m/script" > "$m/out" 2> "$m/err")
  rc=$?
  [ "$rc" = 0 ] || { echo "FAIL: $mod: the task's script exits $rc:" >&2; tail -3 "$m/err" >&2; fail=1; return; }
  while read -r f; do
    [ -s "$dir/$f" ] || { echo "FAIL: $mod: declared output $f is missing or empty" >&2; fail=1; }
  done < "$m/outputs"
  grep -Eq "^ +sddcell: [0-9]+\.[0-9]+\.[0-9]+$" "$dir/versions.yml" ||
    { echo "FAIL: $mod: versions.yml has no sddcell version" >&2; fail=1; }
  cat "$m/outputs" "$m/before" > "$m/allowed"
  extra=$(cd "$dir" && ls -A | grep -v -x -F -f "$m/allowed")
  [ -z "$extra" ] || { echo "FAIL: $mod: files other than the declared outputs: $extra" >&2; fail=1; }
  t test ! -e "$m/home-not-there"
  echo "ok: module $mod runs its command line ($(tr '\n' ' ' < "$m/outputs"))"
}
stage() { mkdir -p "$1" && ln -sf "$2" "$1/${3:-$(basename "$2")}"; }
SMALL="--steps 10 --n-top-genes 100 --hidden 32,32,16,8 --head 32 --emb 16 --batch-size 32"
stage "$work/train" "$DATA" counts.h5ad
task train "$work/train" task.cpus=2 args="$SMALL" meta.id=pbmc counts=counts.h5ad
for i in 1 2 3; do
  stage "$work/sample$i" "$work/train/pbmc.sdd"
  task sample "$work/sample$i" task.cpus=1 args="--steps 4 --seed 7" meta.id=pbmc model=pbmc.sdd \
    n_cells=70 shard=$i n_shards=3
done
mkdir -p "$work/concat/parts"
for i in 1 2 3; do stage "$work/concat/parts" "$work/sample$i/pbmc.shard${i}of3.h5ad"; done
task concat "$work/concat" args= meta.id=pbmc \
  files="parts/pbmc.shard1of3.h5ad parts/pbmc.shard2of3.h5ad parts/pbmc.shard3of3.h5ad"
stage "$work/evaluate" "$DATA" real.h5ad
stage "$work/evaluate" "$work/concat/pbmc.h5ad" synth.h5ad
task evaluate "$work/evaluate" task.cpus=1 args="--n-sub 60" meta.id=pbmc real=real.h5ad synth=synth.h5ad
grep -q '"mmd"' "$work/evaluate/pbmc.metrics.json" 2>/dev/null || { echo "FAIL: evaluate: no MMD in the JSON" >&2; fail=1; }
# the joined shards are the single run
"$SDD" --quiet --seed 7 sample "$work/train/pbmc.sdd" -n 70 --steps 4 -o "$work/single.h5ad" 2>/dev/null
if "$PY" -c "import h5py" 2>/dev/null; then
  "$PY" - "$work/concat/pbmc.h5ad" "$work/single.h5ad" <<'PYEOF' || { echo "FAIL: joined shards differ from one run" >&2; fail=1; }
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for k in ("X/data", "X/indices", "X/indptr", "obs/_index"):
    assert np.array_equal(a[k][()], b[k][()]), k
PYEOF
else
  echo "skip: h5py not available to compare the joined shards"
fi

exit $fail
