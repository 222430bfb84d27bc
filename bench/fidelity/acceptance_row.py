"""One TSV row of bench/fidelity/acceptance.tsv from a `sddcell simulate` metrics JSON
(held-out protocol): the synthetic figures, the floor beside each, memorisation, the
smallest per-label Pearson of log fold changes (conditional runs), the budget and the
seconds of each stage.
   acceptance_row.py JSON RUN DATA SEED"""
import json
import sys

path, run, data, seed = sys.argv[1:5]
j = json.load(open(path))
s, f = j["synthetic_vs_heldout"], j["training_vs_heldout"]
g = lambda m, k: "%.4f" % m[k] if m.get(k) is not None else "nan"
lfc = [v["lfc_pcc"] for v in s.get("per_label", {}).values() if v.get("lfc_pcc") is not None]
r, t = j["recipe"], j["seconds"]
print("\t".join([run, data, seed, str(j["cells"]["training"]), str(j["cells"]["heldout"]), str(j["cells"]["m"]),
                 "%d" % r["train_steps"], "%d" % r["sample_steps"],
                 g(s, "sparsity_real"), g(s, "sparsity_synth"), g(f, "sparsity_synth"),
                 g(s, "scc"), g(f, "scc"), g(s, "pcc"), g(f, "pcc"), g(s, "mmd"), g(f, "mmd"),
                 g(s, "lisi_scaled"), g(f, "lisi_scaled"), g(s, "knn_auc"), g(f, "knn_auc"),
                 "%.4f" % j["memorisation"]["share_nearest_training"],
                 "%.4f" % min(lfc) if lfc else "nan",
                 "%.0f" % t["train"], "%.0f" % t["sample"], "%.0f" % t["total"]]))
