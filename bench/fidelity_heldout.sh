#!/bin/sh
# Held-out fidelity over the training and sampling budget (doc/method.md §10, the held-out
# protocol): for each seed the cells are split (seeded, HOLDOUT of them held out), a
# model is trained on the training cells only and extended run by run with --resume to
# each training budget, and at each budget cells are sampled with each number of
# sampling steps and judged against the held-out cells (`sddcell evaluate --train`):
# the synthetic figures, the floor (training cells vs the same held-out cells) and the
# memorisation share.
#   bench/fidelity_heldout.sh [DATA]
# Environment: SDDCELL (binary, default ./sddcell), TRAIN_STEPS ("500 1000 2000 4000
# 8000"), SAMPLE_STEPS ("10 20 50 100 200"), SEEDS ("1 2 3"), HOLDOUT (0.1), THREADS
# (2), OUTDIR (/tmp/sdd_fidelity_heldout), TAG (a name for the rows), EXTRA_TRAIN /
# EXTRA_SAMPLE (more options for train / sample), and CONTINUE (1: keep a model left in
# OUTDIR by an earlier run and skip the budgets it has already trained past, whose rows
# are in the table).
# Each evaluation appends one row to bench/fidelity/heldout.tsv, and each budget a row to
# bench/fidelity/heldout_steps.tsv with the steps the run trained (the validation rule
# can end it early) and the step whose weights it kept;
# bench/fidelity/summarise.py prints the medians and spreads over the seeds.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
SDDCELL=${SDDCELL:-$here/sddcell}
DATA=${1:-$here/../shared/data/train/pbmc3k_counts.h5ad}
TRAIN_STEPS=${TRAIN_STEPS:-"500 1000 2000 4000 8000"}
SAMPLE_STEPS=${SAMPLE_STEPS:-"10 20 50 100 200"}
SEEDS=${SEEDS:-"1 2 3"}
HOLDOUT=${HOLDOUT:-0.1}
THREADS=${THREADS:-2}
OUTDIR=${OUTDIR:-/tmp/sdd_fidelity_heldout}
TAG=${TAG:-default}
EXTRA_TRAIN=${EXTRA_TRAIN:-}
EXTRA_SAMPLE=${EXTRA_SAMPLE:-}
PY=${PYTHON:-/usr/bin/python3}
TSV=$here/bench/fidelity/heldout.tsv
mkdir -p "$OUTDIR"
name=$(basename "$DATA" .h5ad)
STEPS_TSV=$here/bench/fidelity/heldout_steps.tsv
[ -f "$STEPS_TSV" ] || printf 'tag\tdata\tseed\ttrain_steps\ttrained\tkept_step\n' > "$STEPS_TSV"
[ -f "$TSV" ] || printf 'tag\tdata\tseed\ttrain_steps\tsample_steps\tside\tsparsity_real\tsparsity_synth\tscc\tpcc\tmmd\tlisi_scaled\tknn_auc\tmemorisation\ttrain_seconds\n' > "$TSV"

for seed in $SEEDS; do
    tr=$OUTDIR/${name}_s${seed}_train.h5ad
    ho=$OUTDIR/${name}_s${seed}_heldout.h5ad
    "$PY" "$here/bench/fidelity/split.py" "$DATA" "$HOLDOUT" "$seed" "$tr" "$ho"
    n_ho=$("$PY" -c "import anndata,sys; print(anndata.read_h5ad(sys.argv[1], backed='r').n_obs)" "$ho")
    model=$OUTDIR/${name}_${TAG}_s${seed}.sdd
    done_steps=0
    prev_at=
    prev_T=
    if [ "${CONTINUE:-0}" = 1 ] && [ -f "$model" ]; then
        done_steps=$("$SDDCELL" info "$model" | sed -n 's/^steps\t\([0-9]*\) of.*/\1/p')
    else
        rm -f "$model"
    fi
    for T in $TRAIN_STEPS; do
        [ "$T" -le "$done_steps" ] && continue
        t0=$(date +%s)
        if [ "$done_steps" = 0 ]; then
            # shellcheck disable=SC2086
            "$SDDCELL" --threads "$THREADS" --seed "$seed" --quiet train "$tr" -o "$model" --steps "$T" $EXTRA_TRAIN
        else
            # shellcheck disable=SC2086
            "$SDDCELL" --threads "$THREADS" --seed "$seed" --quiet train "$tr" -o "$model" --resume "$model" --steps "$T" $EXTRA_TRAIN
        fi
        secs=$(( $(date +%s) - t0 ))
        done_steps=$T
        # the validation rule may end a run before its budget: record where, and when a
        # larger budget trained no further (same model), its rows are the previous budget's
        at=$("$SDDCELL" info "$model" | sed -n 's/^steps\t\([0-9]*\) of.*/\1/p')
        kept=$("$SDDCELL" info --json "$model" | "$PY" -c 'import json,sys; v=json.load(sys.stdin).get("validation"); print(v["kept_step"] if v and v["stopped"] else "-")')
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$TAG" "$name" "$seed" "$T" "$at" "$kept" >> "$STEPS_TSV"
        if [ "${prev_at:-}" = "$at" ] && [ "$kept" != "-" ]; then
            awk -F'\t' -v OFS='\t' -v tag="$TAG" -v d="$name" -v s="$seed" -v p="$prev_T" -v t="$T" \
                '$1 == tag && $2 == d && $3 == s && $4 == p { $4 = t; print }' "$TSV" > "$OUTDIR/rows.tmp"
            cat "$OUTDIR/rows.tmp" >> "$TSV"
            prev_T=$T
            continue
        fi
        prev_at=$at
        prev_T=$T
        for S in $SAMPLE_STEPS; do
            syn=$OUTDIR/${name}_${TAG}_s${seed}_T${T}_S${S}.h5ad
            # shellcheck disable=SC2086
            "$SDDCELL" --threads "$THREADS" --seed "$seed" --quiet sample "$model" -n "$n_ho" --steps "$S" -o "$syn" $EXTRA_SAMPLE
            "$SDDCELL" --threads "$THREADS" --seed "$seed" --quiet evaluate "$ho" "$syn" --train "$tr" --json "$syn.json" > /dev/null
            "$PY" "$here/bench/fidelity/row.py" "$syn.json" "$TAG" "$name" "$seed" "$T" "$S" "$secs" >> "$TSV"
            tail -n 2 "$TSV" | cut -f1-13 >&2
        done
    done
done
