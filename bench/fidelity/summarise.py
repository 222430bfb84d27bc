"""Medians and spreads (min-max) over seeds of bench/fidelity/heldout.tsv, as a
markdown table per tag and data set.   summarise.py [TSV] [TAG]"""
import csv
import statistics
import sys
from collections import defaultdict

path = sys.argv[1] if len(sys.argv) > 1 else "bench/fidelity/heldout.tsv"
only = sys.argv[2] if len(sys.argv) > 2 else None
rows = list(csv.DictReader(open(path), delimiter="\t"))
groups = defaultdict(list)
for r in rows:
    if only and r["tag"] != only:
        continue
    groups[(r["tag"], r["data"], int(r["train_steps"]), int(r["sample_steps"]), r["side"])].append(r)
keys = ["sparsity_synth", "scc", "pcc", "mmd", "lisi_scaled", "knn_auc", "memorisation"]


def cell(vals, k):
    v = [float(x[k]) for x in vals if x[k] != "nan"]
    if not v:
        return "-"
    scale = 100 if k == "sparsity_synth" else 1
    med = statistics.median(v) * scale
    spread = (max(v) - min(v)) * scale
    return "%.3f ± %.3f" % (med, spread / 2) if len(v) > 1 else "%.3f" % med


last = None
for key in sorted(groups):
    tag, data = key[0], key[1]
    if (tag, data) != last:
        print("\n### %s, %s (median over seeds ± half the range)\n" % (data, tag))
        print("| train steps | sample steps | side | seeds | sparsity % (real) | SCC | PCC | MMD | LISI | 5-NN AUC | memorisation |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        last = (tag, data)
    v = groups[key]
    real = statistics.median(float(x["sparsity_real"]) for x in v) * 100
    print("| %d | %d | %s | %d | %s (%.2f) | %s |" % (key[2], key[3], key[4], len(v), cell(v, "sparsity_synth"), real,
                                                   " | ".join(cell(v, k) for k in keys[1:])))
