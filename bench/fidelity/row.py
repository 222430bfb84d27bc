"""One TSV row per side (synthetic, floor) from `sddcell evaluate --train --json`.
   row.py JSON TAG DATA SEED TRAIN_STEPS SAMPLE_STEPS TRAIN_SECONDS"""
import json
import sys

path, tag, data, seed, T, S, secs = sys.argv[1:8]
j = json.load(open(path))
mem = j["memorisation"]["share_nearest_training"]
for side, key in (("synthetic", "synthetic_vs_heldout"), ("floor", "training_vs_heldout")):
    m = j[key]
    f = lambda k: "%.4f" % m[k] if m.get(k) is not None else "nan"
    print("\t".join([tag, data, seed, T, S, side, f("sparsity_real"), f("sparsity_synth"), f("scc"), f("pcc"),
                     f("mmd"), f("lisi_scaled"), f("knn_auc"), "%.4f" % mem if side == "synthetic" else "nan",
                     secs]))
