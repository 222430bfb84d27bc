#!/bin/sh
# nextflow_contract: the command-line contract the Nextflow module SDDCELL_SIMULATE relies on.
#  - `sddcell --version` prints exactly "sddcell X.Y.Z" and exits 0;
#  - `--threads N` is never exceeded, OpenBLAS's pool included (threads counted in /proc);
#    without --threads no more threads run than the CPUs the process may use (nproc), and
#    on a machine with two or more of them and no CPU quota, more than one does;
#  - `--multiqc .`, as the module passes it, writes the prefix-named *_mqc.json files;
#  - outputs are named by --prefix in the working directory, and nothing else is written
#    outside it and TMPDIR (HOME is not touched);
#  - a failure exits non-zero with a message on stderr and leaves no output behind.
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

# 3b. the module's stub creates every output the process declares
NF="$SDD_SRCDIR/nextflow/modules/sddcell/simulate/main.nf"
declared=$(sed -n '/^ *output:/,/^ *when:/p' "$NF" | grep -Eo 'path[( ]+"[^"]*"' | sed 's/^path[( ]*"//; s/"$//' | sort)
stubbed=$(sed -n '/^ *stub:/,$p' "$NF" | grep -Eo 'touch [^ ]+|> versions.yml' | sed 's/^touch //; s/^> //' | sort)
[ -n "$declared" ] && [ "$declared" = "$stubbed" ] || {
  echo "FAIL: stub outputs ($stubbed) differ from declared outputs ($declared)" >&2; fail=1; }

# 4. failure: non-zero exit, a message on stderr, no outputs left
mkdir -p "$work/bad" && cd "$work/bad" || exit 1
printf 'not a count file' > bad.h5ad
"$SDD" simulate --prefix out --steps 10 bad.h5ad 2>err.txt; rc=$?
t test "$rc" -ne 0
t test -s err.txt
t test "$(ls -A | grep -v -x -e bad.h5ad -e err.txt)" = ""
exit $fail
