"""Does the recipe get no worse with budget? For one tag of bench/fidelity/heldout.tsv:
for every cell of the grid (training steps T, sampling steps S) and its doubling in
either direction (2T, S) or (T, 2S), compare the medians over the seeds of each metric;
a metric is worse when it moves the wrong way by more than the seed spread (the larger
of the two cells' ranges, max - min over the seeds). Doublings in training count only
while the memorisation median stays <= 0.55. Prints every comparison that is worse and
a final count.    monotone.py [TSV] TAG"""
import csv
import statistics
import sys
from collections import defaultdict

path, tag = (sys.argv[1], sys.argv[2]) if len(sys.argv) > 2 else ("bench/fidelity/heldout.tsv", sys.argv[1])
cells = defaultdict(list)
for r in csv.DictReader(open(path), delimiter="\t"):
    if r["tag"] == tag and r["side"] == "synthetic":
        cells[(int(r["train_steps"]), int(r["sample_steps"]))].append(r)


def values(rows, k):
    if k == "sparsity":  # distance from the held-out sparsity, in percentage points
        return [abs(float(r["sparsity_synth"]) - float(r["sparsity_real"])) * 100 for r in rows]
    return [float(r[k]) for r in rows if r[k] != "nan"]


# metric: +1 when higher is better, -1 when lower is better
metrics = {"sparsity": -1, "scc": 1, "pcc": 1, "mmd": -1, "lisi_scaled": 1, "knn_auc": -1, "memorisation": -1}
worse = checked = 0
for (T, S), rows in sorted(cells.items()):
    for nxt, kind in (((2 * T, S), "training"), ((T, 2 * S), "sampling")):
        if nxt not in cells:
            continue
        if kind == "training" and statistics.median(values(cells[nxt], "memorisation")) > 0.55:
            continue
        for k, sign in metrics.items():
            a, b = values(rows, k), values(cells[nxt], k)
            if not a or not b:
                continue
            spread = max(max(a) - min(a), max(b) - min(b))
            change = (statistics.median(b) - statistics.median(a)) * sign
            checked += 1
            if change < -spread:
                worse += 1
                print("worse: %s doubled %s -> %s: %s %.4f -> %.4f (spread %.4f, %d/%d seeds)"
                      % (kind, (T, S), nxt, k, statistics.median(a), statistics.median(b), spread, len(a), len(b)))
print("%d comparisons, %d worse by more than the seed spread" % (checked, worse))
