#!/bin/sh
# Fidelity of the recipe on real data.
#   bench/fidelity.sh acceptance    the held-out figures of the README and
#                                   bench/fidelity/HELDOUT.md: the default `sddcell
#                                   simulate --threads 2` (clusters of the training
#                                   cells, as --label auto; rows *_auto) on pbmc3k (25%
#                                   held out: 2025 training, 675 held-out cells) and on
#                                   mouse brain 10k (10% held out), seeds 1 2 3, and the
#                                   conditional model on four k-means clusters of pbmc3k;
#                                   one row each in bench/fidelity/acceptance.tsv
#   bench/fidelity.sh acceptance_int8   the default trained with --precision int8 on both
#                                   sets (rows *_train_int8), and in fp32 on mouse brain
#                                   (rows mouse_brain_train_fp32)
#   bench/fidelity.sh acceptance_int8_bwd | acceptance_int8_emb   int8 training with int8
#                                   input gradients on the three sets above (rows
#                                   *_train_int8_bwd: blocks 1-6 and the head;
#                                   *_train_int8_emb: the embedding's too)
#   bench/fidelity.sh acceptance_int8_cond   the conditional pbmc3k model of `acceptance`
#                                   trained in int8 and in fp32 (rows pbmc3k_cond_train_*)
#   bench/fidelity.sh acceptance_none   the same unconditional (--label none; rows
#                                   pbmc3k, mouse_brain)
#   bench/fidelity.sh grid          the budget table (bench/fidelity_heldout.sh: training
#                                   steps x sampling steps x 3 seeds, held out) of the
#                                   default recipe (--label auto, the validation rule;
#                                   rows auto_rule; the recipe before the rule, unconditional:
#                                   TAG=default EXTRA_TRAIN="--validation 0")
#   bench/fidelity.sh val_curve     held-out and training loss over 5000 steps without
#                                   the rule, with held-out figures every 1000 steps
#                                   (bench/fidelity/val_curve_pbmc3k_s1.tsv)
#   bench/fidelity.sh val_curves    the validation loss of the grid's splits over 3500
#                                   steps, 10% of the training cells set aside
#   bench/fidelity.sh [RUN...]      the earlier ablation (RESULTS.md), judged against the
#                                   training cells (default: every run below)
# Each run appends one row to bench/fidelity/results.tsv: run name, settings, metrics
# and seconds. Training runs go through `sddcell simulate --model-out`; sampling
# variants reuse a trained model with `sddcell sample` + `sddcell evaluate`.
# Environment: SDDCELL (binary, default build/sddcell), DATA (input counts),
# OUTDIR (scratch, default /tmp/sdd_fidelity), THREADS (2), SEEDS (the acceptance runs'
# seeds, "1 2 3").
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
SDDCELL=${SDDCELL:-$here/sddcell}
DATA=${DATA:-$here/../shared/data/train/pbmc3k_counts.h5ad}
OUTDIR=${OUTDIR:-/tmp/sdd_fidelity}
THREADS=${THREADS:-2}
SEEDS=${SEEDS:-1 2 3}
TSV=$here/bench/fidelity/results.tsv
mkdir -p "$OUTDIR"
[ -f "$TSV" ] || printf 'run\tsettings\tsparsity_real\tsparsity_synth\tscc\tpcc\tmmd\tlisi_scaled\tknn_auc\tseconds\n' > "$TSV"

row() { # name settings json seconds
    /usr/bin/python3 - "$1" "$2" "$3" "$4" >> "$TSV" <<'PY'
import json, sys
name, settings, path, secs = sys.argv[1:5]
m = json.load(open(path))
f = lambda k: "%.4f" % m[k] if m.get(k) is not None else "nan"
print("\t".join([name, settings, f("sparsity_real"), f("sparsity_synth"), f("scc"), f("pcc"), f("mmd"),
                 f("lisi_scaled"), f("knn_auc"), "%.0f" % float(secs)]))
PY
}

# simulate NAME ARGS...: train + sample + evaluate; the model is kept as OUTDIR/NAME.sdd
simulate() {
    name=$1; shift
    t0=$(date +%s.%N)
    "$SDDCELL" --threads "$THREADS" --quiet simulate "$DATA" --prefix "$OUTDIR/$name" "$@"
    t1=$(date +%s.%N)
    row "$name" "simulate $*" "$OUTDIR/$name.metrics.json" "$(echo "$t1 - $t0" | bc)"
}

# variant NAME MODEL ARGS...: sample as many cells as the real data has from a kept model
variant() {
    name=$1; model=$2; shift 2
    n=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUTDIR/$model.metrics.json'))['n_real'])")
    t0=$(date +%s.%N)
    "$SDDCELL" --threads "$THREADS" --quiet sample "$OUTDIR/$model.sdd" -n "$n" -o "$OUTDIR/$name.h5ad" "$@"
    t1=$(date +%s.%N)
    "$SDDCELL" --threads "$THREADS" --quiet evaluate "$DATA" "$OUTDIR/$name.h5ad" --json "$OUTDIR/$name.metrics.json" > /dev/null
    row "$name" "sample $model $*" "$OUTDIR/$name.metrics.json" "$(echo "$t1 - $t0" | bc)"
}

# accept NAME DATA SEED ARGS...: default simulate with the held-out protocol, one row of
# bench/fidelity/acceptance.tsv
ATSV=$here/bench/fidelity/acceptance.tsv
accept() {
    name=$1; data=$2; seed=$3; shift 3
    [ -f "$ATSV" ] || printf 'run\tdata\tseed\ttraining\theldout\tm\ttrain_steps\tsample_steps\tsparsity_real\tsparsity_synth\tsparsity_floor\tscc\tscc_floor\tpcc\tpcc_floor\tmmd\tmmd_floor\tlisi_scaled\tlisi_floor\tknn_auc\tknn_auc_floor\tmemorisation\tmin_label_lfc_pcc\ttrain_s\tsample_s\ttotal_s\n' > "$ATSV"
    "$SDDCELL" --threads "$THREADS" --seed "$seed" --quiet simulate "$data" --prefix "$OUTDIR/${name}_s$seed" "$@"
    /usr/bin/python3 "$here/bench/fidelity/acceptance_row.py" "$OUTDIR/${name}_s$seed.metrics.json" "$name" \
        "$(basename "$data" .h5ad)" "$seed" >> "$ATSV"
}
TRAIN_DIR=$here/../shared/data/train

run() {
    case $1 in
    acceptance)
        for seed in $SEEDS; do accept pbmc3k_auto "$TRAIN_DIR/pbmc3k_counts.h5ad" "$seed" --holdout 0.25; done
        for seed in $SEEDS; do accept mouse_brain_auto "$TRAIN_DIR/mouse_brain_10k_cells_1000genes.h5ad" "$seed"; done
        [ -f "$OUTDIR/pbmc3k_labeled.h5ad" ] || /usr/bin/python3 "$here/bench/fidelity/make_labels.py" \
            "$TRAIN_DIR/pbmc3k_counts.h5ad" "$OUTDIR/pbmc3k_labeled.h5ad" 4
        for seed in $SEEDS; do accept pbmc3k_cond "$OUTDIR/pbmc3k_labeled.h5ad" "$seed" --holdout 0.25 --label cluster; done
        ;;
    acceptance_int8)
        # the default recipe trained with int8 forward products (--precision int8) beside
        # the same recipe trained in fp32, both sampled as the default does
        for seed in $SEEDS; do accept pbmc3k_train_int8 "$TRAIN_DIR/pbmc3k_counts.h5ad" "$seed" --holdout 0.25 --precision int8; done
        for seed in $SEEDS; do accept mouse_brain_train_int8 "$TRAIN_DIR/mouse_brain_10k_cells_1000genes.h5ad" "$seed" --precision int8; done
        for seed in $SEEDS; do accept mouse_brain_train_fp32 "$TRAIN_DIR/mouse_brain_10k_cells_1000genes.h5ad" "$seed" --precision fp32; done
        ;;
    acceptance_int8_bwd | acceptance_int8_emb)
        # int8 training with input gradients in int8 too (doc/method.md §6.10), on the
        # three sets of acceptance_int8 and acceptance_int8_cond (fp32 rows there): rows
        # *_train_int8_bwd (blocks 1-6 and the head) and *_train_int8_emb (the embedding's
        # projections and the time MLP too), each measured on the build that ran it
        tag=${1#acceptance_int8_}
        for seed in $SEEDS; do accept pbmc3k_train_int8_$tag "$TRAIN_DIR/pbmc3k_counts.h5ad" "$seed" --holdout 0.25 --precision int8; done
        for seed in $SEEDS; do accept mouse_brain_train_int8_$tag "$TRAIN_DIR/mouse_brain_10k_cells_1000genes.h5ad" "$seed" --precision int8; done
        [ -f "$OUTDIR/pbmc3k_labeled.h5ad" ] || /usr/bin/python3 "$here/bench/fidelity/make_labels.py" \
            "$TRAIN_DIR/pbmc3k_counts.h5ad" "$OUTDIR/pbmc3k_labeled.h5ad" 4
        for seed in $SEEDS; do accept pbmc3k_cond_train_int8_$tag "$OUTDIR/pbmc3k_labeled.h5ad" "$seed" --holdout 0.25 --label cluster --precision int8; done
        ;;
    acceptance_int8_cond)
        # the conditional model on four k-means clusters of pbmc3k, trained in int8 and in fp32
        [ -f "$OUTDIR/pbmc3k_labeled.h5ad" ] || /usr/bin/python3 "$here/bench/fidelity/make_labels.py" \
            "$TRAIN_DIR/pbmc3k_counts.h5ad" "$OUTDIR/pbmc3k_labeled.h5ad" 4
        for seed in $SEEDS; do accept pbmc3k_cond_train_int8 "$OUTDIR/pbmc3k_labeled.h5ad" "$seed" --holdout 0.25 --label cluster --precision int8; done
        for seed in $SEEDS; do accept pbmc3k_cond_train_fp32 "$OUTDIR/pbmc3k_labeled.h5ad" "$seed" --holdout 0.25 --label cluster --precision fp32; done
        ;;
    acceptance_none)
        for seed in $SEEDS; do accept pbmc3k "$TRAIN_DIR/pbmc3k_counts.h5ad" "$seed" --holdout 0.25 --label none; done
        for seed in $SEEDS; do accept mouse_brain "$TRAIN_DIR/mouse_brain_10k_cells_1000genes.h5ad" "$seed" --label none; done
        ;;
    grid) HOLDOUT=0.25 TAG=${TAG:-auto_rule} EXTRA_TRAIN=${EXTRA_TRAIN---label auto} SDDCELL=$SDDCELL THREADS=$THREADS \
              sh "$here/bench/fidelity_heldout.sh" "$TRAIN_DIR/pbmc3k_counts.h5ad" ;;
    # the held-out loss and figures over training without the rule (HELDOUT.md)
    val_curve)
        (cd "$here" && make -s bench/val_curve) &&
            "$here/bench/val_curve" "$TRAIN_DIR/pbmc3k_counts.h5ad" 0.25 1 5000 250 1000 100 "$THREADS" auto \
            > "$here/bench/fidelity/val_curve_pbmc3k_s1.tsv" ;;
    # the validation loss of the grid's three splits, 10% set aside, without stopping
    val_curves)
        for seed in $SEEDS; do
            /usr/bin/python3 "$here/bench/fidelity/split.py" "$TRAIN_DIR/pbmc3k_counts.h5ad" 0.25 "$seed" \
                "$OUTDIR/split_s$seed.h5ad" "$OUTDIR/split_s${seed}_heldout.h5ad"
            "$SDDCELL" -v --threads "$THREADS" --seed "$seed" train "$OUTDIR/split_s$seed.h5ad" --label auto \
                --steps 3500 --validation 0.1 --patience 1000 -o "$OUTDIR/vcurve_s$seed.sdd" 2>&1 |
                sed -n 's/.*validation loss \([0-9.]*\) at step \([0-9]*\).*/\2\t\1/p' > "$OUTDIR/vcurve_s$seed.tsv"
            echo "split $seed: $OUTDIR/vcurve_s$seed.tsv"
        done ;;
    # screening: 800 training steps
    s_fast) simulate s_fast --steps 800 ;;
    s_fast_b) variant s_fast_b s_fast ;;
    s_fast_thr) variant s_fast_thr s_fast --bit-decode threshold ;;
    s_fast_ddpm) variant s_fast_ddpm s_fast --sampler ddpm ;;
    s_fast_s50) variant s_fast_s50 s_fast --steps 50 ;;
    s_fast_s200) variant s_fast_s200 s_fast --steps 200 ;;
    s_nomask) simulate s_nomask --steps 800 --no-value-mask ;;
    s_lr2e4) simulate s_lr2e4 --steps 800 --lr 2e-4 ;;
    s_gene) simulate s_gene --steps 800 --scale gene ;;
    s_bw) simulate s_bw --steps 800 --bit-weight 2 ;;
    # full length (the default step rule)
    fast) simulate fast ;;
    fast_thr) variant fast_thr fast --bit-decode threshold ;;
    fast_noema) variant fast_noema fast --no-ema ;;
    fast_cos) simulate fast_cos --lr-decay cosine ;;
    s_cos) simulate s_cos --steps 800 --lr-decay cosine ;;
    fast_cos_s50) variant fast_cos_s50 fast_cos --steps 50 ;;
    fast_cos_s20) variant fast_cos_s20 fast_cos --steps 20 ;;
    fast_cos_ddpm) variant fast_cos_ddpm fast_cos --steps 50 --sampler ddpm ;;
    fast_cos_thr) variant fast_cos_thr fast_cos --steps 50 --bit-decode threshold ;;
    s_fast_s20) variant s_fast_s20 s_fast --steps 20 ;;
    nobits) simulate nobits --no-sparsity-bits ;;
    s_nobits) simulate s_nobits --steps 800 --no-sparsity-bits ;;
    s_nobits_T) variant s_nobits_T s_nobits --threshold ;;
    nobits_T) variant nobits_T nobits --threshold ;;
    paper_recipe) simulate paper_recipe --preset paper --steps 0 --sample-steps 100 ;;
    # the default on the example data (acceptance: <= 5 minutes)
    example) DATA=$here/example_data/pbmc3k_1k.h5ad simulate example ;;
    # the default on pbmc3k, as shipped
    default) simulate default ;;
    default_final) simulate default_final ;;
    example_final) DATA=$here/example_data/pbmc3k_1k.h5ad simulate example_final ;;
    default_nobits) simulate default_nobits --no-sparsity-bits ;;
    default_nobits_T) variant default_nobits_T default_nobits --threshold ;;
    default_thr) variant default_thr default --bit-decode threshold ;;
    default_ddpm) variant default_ddpm default --sampler ddpm ;;
    default_s100) variant default_s100 default --steps 100 ;;
    # conditional (labels from bench/fidelity/make_labels.py): a model on obs 'cluster'
    cond) DATA=${LABELED:-/tmp/pbmc3k_labeled.h5ad} simulate cond --steps 800 --label cluster ;;
    *) echo "unknown run $1" >&2; return 1 ;;
    esac
}

if [ $# -eq 0 ]; then
    # the runs of RESULTS.md, in the order they were made
    set -- s_fast s_fast_b s_fast_thr fast s_fast_ddpm s_nobits s_nobits_T cond s_fast_s50 fast_noema \
        fast_cos fast_cos_s50 fast_cos_s20 s_fast_s20 fast_cos_thr fast_cos_ddpm default example \
        default_nobits default_nobits_T default_thr default_ddpm default_s100 default_final example_final
fi
for r in "$@"; do run "$r"; done
