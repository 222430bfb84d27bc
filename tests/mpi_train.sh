#!/bin/sh
# mpi_train: data-parallel training under mpirun (configure --with-mpi). With the same
# seed, global batch and --grad-slices 4, `mpirun --oversubscribe -np R sddcell train`
# writes the model that one process writes, byte for byte, for R = 1, 2 and 4 (that
# slicing computes the whole batch's gradient is test_train's); a run whose processes
# cannot share the slices, or whose input is missing, exits non-zero with one line of
# sddcell's on stderr and no model.
# Built without MPI: `mpirun -np 2 sddcell train` is refused (exit 1, one line from rank
# 0, no model) when an mpirun is installed; skipped (77) when none is.
set -u
. "$(dirname "$0")/common.sh"
MPIRUN="${SDD_MPIRUN:-mpirun}"
[ "${SDD_MPI:-no}" = yes ] || MPIRUN=$(command -v mpirun || echo no)
case $MPIRUN in no|"") echo "SKIP: mpirun not found (openmpi-bin; and ./configure --with-mpi, libopenmpi-dev)"; exit 77 ;; esac
# Open MPI refuses root unless told; the ranks must not spread over the tests' cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
sdd_tmpdir mpi
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
expect_fail() { # name cmd...: non-zero, exactly one line from sddcell, no model
  name=$1; shift
  rm -f "$tmp/bad.sdd"
  "$@" > /dev/null 2> "$tmp/err"; rc=$?
  n=$(grep -c '^sddcell' "$tmp/err")
  if [ $rc -ne 0 ] && [ "$n" -eq 1 ] && [ ! -e "$tmp/bad.sdd" ]; then ok "$name: $(grep '^sddcell' "$tmp/err")"
  else bad "$name (exit $rc, $n lines)"; cat "$tmp/err"; fi
}

if [ "${SDD_MPI:-no}" != yes ]; then
  expect_fail "built without MPI, 2 processes" "$MPIRUN" --oversubscribe -np 2 "$SDD" train "$DATA" \
    -o "$tmp/bad.sdd" --n-top-genes 100 --steps 2 --grad-slices 2
  grep -q 'built without MPI' "$tmp/err" || bad "the refusal says the build has no MPI"
  exit $fail
fi
SMALL="--n-top-genes 100 --hidden 32,32,16,8 --head 32 --emb 16 --batch-size 32 --steps 8 --grad-slices 4"

if "$SDD" --quiet --seed 3 train "$DATA" -o "$tmp/one.sdd" $SMALL 2> "$tmp/err"; then ok "one process, 4 slices"
else bad "one process, 4 slices"; cat "$tmp/err"; exit 1; fi
for R in 1 2 4; do
  if "$MPIRUN" --oversubscribe -np $R "$SDD" --quiet --seed 3 train "$DATA" -o "$tmp/r$R.sdd" $SMALL \
       > "$tmp/out" 2> "$tmp/err"; then
    if cmp -s "$tmp/one.sdd" "$tmp/r$R.sdd"; then ok "mpirun -np $R: the same model, byte for byte"
    else bad "mpirun -np $R: the model differs from one process's"; fi
  else
    bad "mpirun -np $R"; tail -5 "$tmp/err"
  fi
done
"$SDD" info --json "$tmp/one.sdd" > "$tmp/one.json" 2>/dev/null
grep -q '"grad_slices":[[:space:]]*4' "$tmp/one.json" && ok "the model records its slices" || bad "the model records its slices"

expect_fail "2 processes, 1 slice" "$MPIRUN" --oversubscribe -np 2 "$SDD" train "$DATA" -o "$tmp/bad.sdd" \
  --n-top-genes 100 --steps 2
expect_fail "missing input" "$MPIRUN" --oversubscribe -np 2 "$SDD" train "$tmp/none.h5ad" -o "$tmp/bad.sdd" \
  --grad-slices 2
exit $fail
