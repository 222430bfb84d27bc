#!/bin/sh
# kill9: SIGKILL at random moments never leaves a partial file at an output's name.
#  - train with --checkpoint-every 7 is killed at five moments drawn from a seeded
#    generator (SDD_KILL_SEED, default 13) as fractions of the training steps, in
#    ascending order (each kill follows the checkpoint that reaches its drawn step);
#    after each kill the output holds a checkpoint that loads, at a step that is a
#    multiple of 7 and never behind the one before; `--resume` from it is killed again,
#    and the last leg, left to finish, ends on a model file identical to the
#    uninterrupted run's.
#  - sample and convert are killed at five moments each while a complete older file sits
#    at the output name: afterwards that name holds the older file or a complete new one
#    (the command exited 0 before the kill), never a partial one.
set -u
SRC=${SDD_SRCDIR:-..}
BIN=${SDD_BUILDDIR:-.}/sddcell
case $BIN in /*) ;; *) BIN="$(pwd)/$BIN" ;; esac
DATA=$SRC/example_data/pbmc3k_1k.h5ad
[ -f "$DATA" ] || { echo "FAIL: $DATA is missing"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sdd_kill9.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
SEED=${SDD_KILL_SEED:-13}
fail=0
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# five fractions in [0.05, 0.95) from the seeded generator, one per line, for stream $1
moments() { awk -v s="$SEED" -v k="$1" 'BEGIN { srand(s * 7 + k); for (i = 0; i < 5; i++) printf "%.3f\n", 0.05 + 0.9 * rand() }'; }
step_of() { od -An -t d8 -j 72 -N 8 "$1" | tr -d ' '; } # the model header's step field

W="-n 60 --hidden 32,32,16,8 --head 64 --emb 32 --batch-size 32 --seed 5 --checkpoint-every 7"
STEPS=${SDD_KILL_STEPS:-1000}
# wait_training PID ERRFILE: until the run prints its "[M::train]" line (training has
# begun: preprocessing is over) or ends
wait_training() {
  i=0
  while ! grep -q '^\[M::train\]' "$2" 2>/dev/null && kill -0 "$1" 2>/dev/null && [ $i -lt 6000 ]; do
    sleep 0.01; i=$((i + 1))
  done
}

# ---- train: the uninterrupted reference; the kill moments are spread over its training
"$BIN" train $W --steps $STEPS -o "$T/ref.sdd" "$DATA" 2>"$T/ref.err" & pid=$!
wait_training $pid "$T/ref.err"
t0=$(now_ms)
wait $pid || { echo "FAIL: reference training"; cat "$T/ref.err"; exit 1; }
train_ms=$(( $(now_ms) - t0 ))
echo "reference: $STEPS steps trained in $train_ms ms"

# ---- train: five kills, each at a drawn fraction of the training time the leg has left
# after its training begins, each leg resuming the checkpoint the one before left
out="$T/run.sdd"
last=0 k=0 resumed="" killed=0
for f in $(moments 1 | sort -n); do
  k=$((k + 1))
  "$BIN" train $W --steps $STEPS $resumed -o "$out" "$DATA" 2>"$T/train.err" & pid=$!
  wait_training $pid "$T/train.err"
  # a moment within what is left of the training (the leg resumes at step $last): the
  # drawn fraction of the remaining steps, read from the checkpoints as they appear, so
  # that the moment does not depend on how fast this machine is at the time
  target=$(awk -v f="$f" -v done="$last" -v n=$STEPS 'BEGIN { t = int(f * n); printf "%d", (t > done) ? t : done + 1 }')
  t1=$(now_ms)
  while kill -0 $pid 2>/dev/null; do
    s=$(step_of "$out" 2>/dev/null)
    [ -n "$s" ] && [ "$s" -ge "$target" ] && break
    sleep 0.005
  done
  delay=$(awk -v a="$t1" -v b="$(now_ms)" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
  kill -KILL $pid 2>/dev/null
  wait $pid; rc=$?
  if [ ! -f "$out" ]; then
    # killed before the first checkpoint of the first leg: nothing to resume yet
    [ -z "$resumed" ] && [ "$rc" != 0 ] && { echo "kill $k after ${delay} s: before the first checkpoint"; continue; }
    echo "FAIL: kill $k (after ${delay} s, exit $rc): no checkpoint at $out"; fail=1; break
  fi
  if ! "$BIN" info "$out" >/dev/null 2>"$T/info.err"; then
    echo "FAIL: kill $k: the checkpoint does not load: $(cat "$T/info.err")"; fail=1; break
  fi
  step=$(step_of "$out")
  if [ "$rc" = 0 ]; then
    [ "$step" = $STEPS ] || { echo "FAIL: kill $k: finished at step $step"; fail=1; }
  else
    killed=$((killed + 1))
    # a multiple of 7, or the finished model when the kill came after the final save
    if { [ $((step % 7)) != 0 ] && [ "$step" != $STEPS ]; } || [ "$step" -lt "$last" ]; then
      echo "FAIL: kill $k: checkpoint at step $step (previous $last; expected multiples of 7)"; fail=1
    fi
  fi
  echo "kill $k after ${delay} s of training: exit $rc, checkpoint at step $step"
  last=$step
  resumed="--resume $out"
done
# most kills must land inside training for the test to mean anything
[ $killed -ge 3 ] || { echo "FAIL: only $killed of the 5 kills found a run still training"; fail=1; }
if [ $fail = 0 ]; then
  "$BIN" train $W --quiet --steps $STEPS $resumed -o "$out" "$DATA" 2>"$T/train.err"
  rc=$?
  [ $rc = 0 ] || { echo "FAIL: last resume exit $rc: $(cat "$T/train.err")"; fail=1; }
  if cmp -s "$T/ref.sdd" "$out"; then
    echo "resumed after 5 kills: identical to the uninterrupted model (step $(step_of "$out"))"
  else
    echo "FAIL: the model resumed after 5 kills differs from the uninterrupted one"; fail=1
  fi
fi

# ---- sample and convert: kill while writing; the output name holds a whole file only
"$BIN" sample "$T/ref.sdd" -n 20 --steps 2 -o "$T/old.h5ad" 2>/dev/null || { echo "FAIL: sample"; exit 1; }
check_output() { # what k delay rc
  # a kill after the rename (before the exit) leaves the complete new file: that is fine
  if [ "$4" = 0 ] || ! cmp -s "$T/old.h5ad" "$T/new.h5ad"; then
    "$BIN" info "$T/new.h5ad" >/dev/null 2>&1 ||
      { echo "FAIL: $1 $2 (killed after $3 s, exit $4): the output name holds neither the older file nor a complete new one"; fail=1; }
  fi
  left=$(ls -a "$T" | grep -c '^\.\{0,1\}new\.h5ad\..')
  echo "$1 kill $2 after $3 s: exit $4 (temporary files left by the kill: $left)"
}
# cmd_ms: the length of one uninterrupted run of the command
for what in sample convert; do
  case $what in
    sample) set -- sample "$T/ref.sdd" -n 3000 --steps 3 --seed 2 -o "$T/new.h5ad" ;;
    convert) set -- convert "$DATA" "$T/new.h5ad" ;;
  esac
  rm -f "$T/new.h5ad"
  t0=$(now_ms)
  "$BIN" "$@" 2>/dev/null || { echo "FAIL: $what"; fail=1; continue; }
  cmd_ms=$(( $(now_ms) - t0 ))
  k=0
  for f in $(moments 2); do
    k=$((k + 1))
    cp "$T/old.h5ad" "$T/new.h5ad"
    "$BIN" "$@" 2>/dev/null & pid=$!
    delay=$(awk -v f="$f" -v ms="$cmd_ms" 'BEGIN { printf "%.3f", f * ms / 1000 }')
    sleep "$delay"
    kill -KILL $pid 2>/dev/null
    wait $pid; rc=$?
    check_output $what $k "$delay" $rc
    rm -f "$T"/.new.h5ad.* "$T"/new.h5ad.*
  done
done
exit $fail
