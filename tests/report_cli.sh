#!/bin/sh
# report_cli: `--report OUT.html` and `--multiqc DIR` of simulate and evaluate, end to end
# on the example data with a small network:
#   - simulate under the held-out protocol writes the page (every section, nothing
#     external, the UMAP PNG, the figures of the metrics JSON beside the floor) and the two
#     MultiQC custom-content files (their documented keys, the same figures), which
#     MultiQC itself reads with --lint when it is installed (Debian's multiqc);
#   - evaluate with labels and without TRAIN writes the same kinds of files (per-label rows,
#     no floor);
#   - bad destinations end with one line on stderr, a non-zero status, before any work,
#     and leave no output; a report that cannot be written leaves no h5ad or JSON behind.
# The checks of the files are in tests/check_report.py.
set -u
. "$(dirname "$0")/common.sh"
CHECK="$SRC/tests/check_report.py"
need_py json html.parser xml.etree.ElementTree anndata
sdd_tmpdir report
SMALL="--n-top-genes 200 --hidden 64,64,32,16 --head 64 --emb 32 --batch-size 64 --steps 30 --sample-steps 5"

# ---- simulate, held-out protocol
if "$SDD" --seed 3 --quiet simulate "$DATA" --prefix "$tmp/a" --holdout 0.2 $SMALL -n 150 \
     --report "$tmp/a.html" --multiqc "$tmp/mqc" 2> "$tmp/a.err"; then
  ok "simulate --report --multiqc"
else
  bad "simulate --report --multiqc"; cat "$tmp/a.err"
fi
"$PY" "$CHECK" html "$tmp/a.html" "$tmp/a.metrics.json" heldout || bad "simulate report"
"$PY" "$CHECK" multiqc "$tmp/mqc/a_sddcell_general_stats_mqc.json" "$tmp/mqc/a_sddcell_mqc.json" \
  "$tmp/a.metrics.json" a heldout || bad "simulate MultiQC files"
[ -z "$(ls -A "$tmp" | grep '\.tmp\.')" ] && [ -z "$(ls -A "$tmp/mqc" | grep '\.tmp\.')" ] &&
  ok "no temporary files left" || bad "temporary files left: $(ls "$tmp" "$tmp/mqc")"

# ---- evaluate with labels, no TRAIN
"$PY" - "$DATA" "$tmp/lab.h5ad" "$tmp/a.h5ad" "$tmp/synlab.h5ad" <<'PYEOF'
import sys, anndata, numpy as np
a = anndata.read_h5ad(sys.argv[1])
g = a.obs["n_genes"].to_numpy()
a.obs["kind"] = np.where(g > np.median(g), "high", "low")
a.obs["kind"] = a.obs["kind"].astype("category")
a.write_h5ad(sys.argv[2])
s = anndata.read_h5ad(sys.argv[3])
n = np.asarray((s.X > 0).sum(axis=1)).ravel()
s.obs["kind"] = np.where(n > np.median(n), "high", "low")
s.obs["kind"] = s.obs["kind"].astype("category")
s.write_h5ad(sys.argv[4])
PYEOF
if "$SDD" --quiet evaluate "$tmp/lab.h5ad" "$tmp/synlab.h5ad" --label kind --json "$tmp/e.json" \
     --report "$tmp/e.html" --multiqc "$tmp/mqc" > "$tmp/e.out" 2> "$tmp/e.err"; then
  ok "evaluate --report --multiqc"
else
  bad "evaluate --report --multiqc"; cat "$tmp/e.err"
fi
"$PY" "$CHECK" html "$tmp/e.html" "$tmp/e.json" plain labels || bad "evaluate report"
"$PY" "$CHECK" multiqc "$tmp/mqc/synlab_sddcell_general_stats_mqc.json" "$tmp/mqc/synlab_sddcell_mqc.json" \
  "$tmp/e.json" synlab plain || bad "evaluate MultiQC files"

# ---- MultiQC itself reads both runs' files, strictly (--lint), when it is installed
if command -v multiqc > /dev/null 2>&1; then
  printf 'no_version_check: true\n' > "$tmp/mq.yaml"
  if multiqc --lint -c "$tmp/mq.yaml" -f -q -o "$tmp/mq" "$tmp/mqc" > "$tmp/mq.log" 2>&1; then
    "$PY" - "$tmp/mq/multiqc_data" <<'PYEOF' && ok "multiqc --lint reads the files" || bad "multiqc output"
import csv, glob, sys
d = sys.argv[1]
def rows(pattern):
    names = sorted(glob.glob("%s/%s" % (d, pattern)))
    if not names:
        sys.exit("no %s in %s" % (pattern, d))
    with open(names[0]) as f:
        return {r["Sample"]: r for r in csv.DictReader(f, delimiter="\t")}
gs = rows("multiqc_general_stats.txt")
tab = rows("multiqc_*sddcell_metrics*.txt")
for s in ("a", "synlab"):
    cols = [k for k, v in gs.get(s, {}).items() if "sddcell" in k and v not in ("", None)]
    if not any(c.endswith("-scc") for c in cols) or not any(c.endswith("-knn_auc") for c in cols):
        sys.exit("general statistics of %s: %s" % (s, cols))
    if s not in tab or not tab[s].get("scc"):
        sys.exit("table row of %s missing" % s)
if not tab["a"].get("scc_floor") or tab["synlab"].get("scc_floor"):
    sys.exit("the floor belongs to the held-out run only")
print("multiqc: general statistics %s, table %d rows" % (sorted(gs), len(tab)))
PYEOF
  else
    bad "multiqc --lint"; cat "$tmp/mq.log"
  fi
else
  echo "skip: multiqc is not installed (apt-get install multiqc); its own reading of the files is not run"
fi

# ---- bad destinations: one line, non-zero, nothing written, no work done
expect_fail() { # name, then the command
  name=$1; shift
  rm -rf "$tmp/x"; mkdir "$tmp/x"
  if "$@" > "$tmp/x.out" 2> "$tmp/x.err"; then bad "$name: succeeded"; return; fi
  n=$(wc -l < "$tmp/x.err")
  [ "$n" -eq 1 ] && ok "$name: $(cat "$tmp/x.err")" || { bad "$name: $n lines on stderr"; cat "$tmp/x.err"; }
  [ -z "$(ls "$tmp/x")" ] || bad "$name: left $(ls "$tmp/x")"
}
expect_fail "report in a missing directory" "$SDD" --quiet simulate "$DATA" --prefix "$tmp/x/b" $SMALL \
  --report "$tmp/nodir/b.html"
expect_fail "multiqc onto a file" "$SDD" --quiet simulate "$DATA" --prefix "$tmp/x/b" $SMALL --multiqc "$DATA"
expect_fail "report is a directory" "$SDD" --quiet evaluate "$DATA" "$tmp/a.h5ad" --json "$tmp/x/e.json" --report "$tmp"
expect_fail "report where no file can be created (/proc)" "$SDD" --quiet evaluate "$DATA" "$tmp/a.h5ad" --json "$tmp/x/e.json" \
  --report /proc/sdd_report.html

exit $fail
