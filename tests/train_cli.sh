#!/bin/sh
# train_cli.sh: `sddcell train` end to end on example_data: the same seed gives the same
# model file with --threads 1 and 2; a run trained in two legs with --resume equals the
# run trained in one; --precision int8 and fp32 train and are recorded, int8 the same with
# 1 and 2 threads; SIGINT during training writes a checkpoint and exits 130, and resuming it ends
# bit-identical to an uninterrupted run; misuse exits 1.
set -u
SRC=${SDD_SRCDIR:-..}
BIN=${SDD_BUILDDIR:-.}/sddcell
DATA=$SRC/example_data/pbmc3k_1k.h5ad
[ -f "$DATA" ] || { echo "FAIL: $DATA is missing"; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
ck() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }
SMALL="-n 60 --hidden 32,32,16,8 --head 64 --emb 32 --batch-size 32 --quiet"

"$BIN" train $SMALL --steps 40 --threads 1 --seed 5 -o "$T/a.sdd" "$DATA"; ck '[ $? -eq 0 ]' "train 1 thread"
"$BIN" train $SMALL --steps 40 --threads 2 --seed 5 -o "$T/b.sdd" "$DATA"; ck '[ $? -eq 0 ]' "train 2 threads"
ck 'cmp -s "$T/a.sdd" "$T/b.sdd"' "1 and 2 threads give different models"
"$BIN" train $SMALL --steps 40 --threads 1 --seed 6 -o "$T/s.sdd" "$DATA"
ck '! cmp -s "$T/a.sdd" "$T/s.sdd"' "another seed gives the same model"

# products: --precision int8 and fp32 both train; int8 gives the same model with 1 and 2
# threads, another than fp32's; the start line and info name them; auto is stored as
# what it resolved to; an unknown precision is refused with no output
P="-n 60 --hidden 32,32,16,8 --head 64 --emb 32 --batch-size 32 --steps 12 --seed 5"
for p in int8 fp32; do
    "$BIN" train $P --threads 2 --precision $p -o "$T/p2_$p.sdd" "$DATA" 2>"$T/p_$p.err"
    ck '[ $? -eq 0 ]' "train --precision $p"
    ck 'grep -q "parameters, $p products" "$T/p_$p.err"' "the start line does not name $p products"
    ck '"$BIN" info "$T/p2_$p.sdd" | grep -q "^products	training $p"' "info does not name $p"
done
"$BIN" train $P --quiet --threads 1 --precision int8 -o "$T/p1_int8.sdd" "$DATA"
ck 'cmp -s "$T/p1_int8.sdd" "$T/p2_int8.sdd"' "int8: 1 and 2 threads give different models"
ck '! cmp -s "$T/p2_fp32.sdd" "$T/p2_int8.sdd"' "int8 and fp32 give the same model"
# in two legs (the resumed leg quantises the loaded weights before its first step; the
# others take them from the fused optimiser pass)
"$BIN" train $P --quiet --precision int8 --steps 5 -o "$T/pr.sdd" "$DATA"
"$BIN" train $P --quiet --precision int8 --resume "$T/pr.sdd" -o "$T/pr2.sdd" "$DATA"
ck 'cmp -s "$T/p1_int8.sdd" "$T/pr2.sdd"' "int8: the resumed run differs from the uninterrupted one"
"$BIN" train $P --quiet --precision auto -o "$T/pa.sdd" "$DATA"
ck '"$BIN" info "$T/pa.sdd" | grep -Eq "^products	training (int8|fp32)"' "auto is not stored resolved"
"$BIN" train $P --precision int4 -o "$T/pb.sdd" "$DATA" >/dev/null 2>"$T/pb.err"; rc=$?
ck '[ $rc -eq 1 ] && head -1 "$T/pb.err" | grep -q "unknown --precision .int4." && [ ! -e "$T/pb.sdd" ]' \
    "unknown --precision: exit $rc, $(head -1 "$T/pb.err")"

# two legs: 15 steps, then --resume to 40
"$BIN" train $SMALL --steps 15 --seed 5 -o "$T/c.sdd" "$DATA"
"$BIN" train $SMALL --steps 40 --seed 5 --resume "$T/c.sdd" -o "$T/c2.sdd" "$DATA"; ck '[ $? -eq 0 ]' "resume"
ck 'cmp -s "$T/a.sdd" "$T/c2.sdd"' "resumed run differs from the uninterrupted one"

# SIGINT in the middle of a longer run, once training runs (its "[M::train]" line is out:
# a signal during preprocessing ends the command without a checkpoint, as there is no
# model yet). Small widths, so that even a loaded machine reaches a phase boundary of
# the step within the 0.75 s an interrupted command has.
W="-n 60 --hidden 32,32,16,8 --head 64 --emb 32 --batch-size 32"
"$BIN" train $W --steps 100000 --seed 5 -o "$T/i.sdd" "$DATA" 2>"$T/i.err" &
pid=$!
k=0
while ! grep -q '^\[M::train\]' "$T/i.err" && [ $k -lt 600 ]; do sleep 0.1; k=$((k + 1)); done
sleep 1
kill -INT $pid
wait $pid; rc=$?
ck '[ $rc -eq 130 ]' "SIGINT exit status $rc, expected 130"
if [ -f "$T/i.sdd" ]; then
    step=$(od -An -t d8 -j 72 -N 8 "$T/i.sdd" | tr -d ' ')
    # a step the signal cut short is abandoned (its RNG draws undone), so on a loaded
    # machine the checkpoint may hold step 0; resuming must still match a straight run
    ck '[ "$step" -ge 0 ]' "checkpoint at step $step"
    n=$((step + 3))
    "$BIN" train $W --quiet --resume "$T/i.sdd" --steps $n --seed 5 -o "$T/i2.sdd" "$DATA"
    "$BIN" train $W --quiet --steps $n --seed 5 -o "$T/u.sdd" "$DATA"
    # the stored option 'steps' is the same ($n) in both; the files must be identical
    ck 'cmp -s "$T/i2.sdd" "$T/u.sdd"' "interrupted at $step + resumed to $n differs from uninterrupted"
else
    echo "FAIL: no checkpoint after SIGINT"; fail=1
fi

# The validation rule: 200 of the 1000 cells set aside, a check every 50 steps, and no
# band (--val-tol 0): training ends two checks after the lowest validation loss, with
# the weights of that check. A run saved between the kept check and the end (one check
# above the band) and resumed ends as the straight run does: the kept weights come back
# from the file. A stopped model trains no further.
V="-n 200 --hidden 64,64,32,16 --head 64 --emb 32 --batch-size 64 --val-every 50 --seed 3 --validation 0.2 --val-tol 0"
"$BIN" --threads 1 train $V --steps 4000 -o "$T/v.sdd" "$DATA" 2>"$T/v.err"
ck 'grep -q "validation loss rose for 2 checks: training ends at step" "$T/v.err"' "the rule ends training"
vstop=$("$BIN" info "$T/v.sdd" | sed -n 's/^steps\t\([0-9]*\) of 4000.*/\1/p')
vkept=$("$BIN" info --json "$T/v.sdd" | sed -n 's/.*"kept_step":[[:space:]]*\([0-9]*\).*/\1/p' | head -1)
ck '[ -n "$vstop" ] && [ "$vstop" -lt 4000 ] && [ -n "$vkept" ] && [ "$vkept" -eq $((vstop - 100)) ]' \
   "stopped at '$vstop' with the weights of '$vkept' (patience 2, a check every 50 steps)"
ck '"$BIN" info "$T/v.sdd" | grep -q "^validation	ended training at step $vstop"' "info says where training ended"
if [ -n "$vstop" ]; then
    mid=$((vstop - 40))
    "$BIN" --threads 2 --quiet train $V --steps $mid -o "$T/w.sdd" "$DATA"
    "$BIN" --threads 1 --quiet train $V --resume "$T/w.sdd" --steps 4000 -o "$T/w.sdd" "$DATA"
    ck 'cmp -s "$T/v.sdd" "$T/w.sdd"' "saved at $mid (kept weights in the file) and resumed differs from the straight run"
    "$BIN" --quiet train $V --resume "$T/w.sdd" --steps 5000 -o "$T/w2.sdd" "$DATA" 2>"$T/w.err"
    ck 'grep -q "the validation rule ended the training" "$T/w.err"' "resuming a stopped model says so"
    ck '"$BIN" info "$T/w2.sdd" | grep -q "^steps	$vstop of 5000"' "a stopped model trains no further"
fi
"$BIN" train $V --validation 0.7 -o "$T/z.sdd" "$DATA" 2>"$T/err"; ck '[ $? -eq 1 ]' "--validation above 0.5"

# misuse
"$BIN" train "$DATA" >/dev/null 2>&1; ck '[ $? -eq 1 ]' "missing -o"
"$BIN" train --hidden 1,2 -o x "$DATA" >/dev/null 2>&1; ck '[ $? -eq 1 ]' "bad --hidden"
"$BIN" train --scale nope -o x "$DATA" >/dev/null 2>&1; ck '[ $? -eq 1 ]' "bad --scale"
printf 'not a model' >"$T/bad.sdd"
"$BIN" train $SMALL --resume "$T/bad.sdd" -o "$T/z.sdd" "$DATA" 2>"$T/err"; ck '[ $? -eq 1 ]' "bad --resume file"
ck 'grep -q "wrong magic" "$T/err"' "message for a non-model file"
exit $fail
