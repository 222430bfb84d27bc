#!/bin/sh
# report_browser: the page of `simulate --report` as a browser renders it. A small held-out
# run writes the page; headless Chromium loads it from disk with the network cut off
# (--dump-dom: the DOM after the page is laid out) and tests/check_report.py checks that
# DOM as it checks the file: every section, the UMAP PNG, the SVG charts, the metrics and
# the floor beside the JSON's figures, one point per gene, the cluster shares, the recipe.
# Chromium's network log must hold no request made by the page: it fetches nothing.
# Skipped (77) when chromium (Debian's `chromium`) or python3 is not installed.
set -u
. "$(dirname "$0")/common.sh"
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome) ||
  { echo "skip: chromium is not installed (apt-get install chromium)"; exit 77; }
need_py json html.parser xml.etree.ElementTree
sdd_tmpdir browser
SMALL="--n-top-genes 200 --hidden 64,64,32,16 --head 64 --emb 32 --batch-size 64 --steps 30 --sample-steps 5"

"$SDD" --seed 5 --quiet simulate "$DATA" --prefix "$tmp/a" --holdout 0.2 $SMALL -n 150 \
  --report "$tmp/a.html" 2> "$tmp/a.err" || { echo "FAIL: simulate --report"; cat "$tmp/a.err"; exit 1; }

# A fresh profile, no GPU, no network: the proxy points nowhere and every host name
# resolves to nothing, so a fetch could not succeed; the net log shows whether one was tried.
timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
  --disable-background-networking --disable-component-update --disable-sync \
  --proxy-server=127.0.0.1:9 --host-resolver-rules='MAP * ~NOTFOUND' \
  --user-data-dir="$tmp/profile" --log-net-log="$tmp/net.json" --window-size=1400,4000 \
  --dump-dom "file://$tmp/a.html" > "$tmp/dom.html" 2> "$tmp/chrome.err"
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$tmp/dom.html" ]; then
  echo "FAIL: chromium exited $rc with $(wc -c < "$tmp/dom.html") bytes of DOM"
  tail -20 "$tmp/chrome.err"
  exit 1
fi
"$PY" "$SRC/tests/check_report.py" dom "$tmp/dom.html" "$tmp/a.metrics.json" heldout || exit 1
"$PY" - "$tmp/net.json" <<'PYEOF' || exit 1
import json, sys
# The net log: a line of constants, then one event a line. Requests the page makes start
# a job whose initiator is the page's origin (a file: page's is "null"); the browser's own
# (component updates, the clock) are "not an origin" and are not the page's doing.
lines = open(sys.argv[1]).read().splitlines()
types = json.loads(lines[0].rstrip(",") + "}")["constants"]["logEventTypes"]
start = types["URL_REQUEST_START_JOB"]
page, browser = [], 0
for ln in lines[2:]:
    ln = ln.rstrip().rstrip(",")
    if not ln.startswith("{"):
        continue
    try:
        e = json.loads(ln)
    except ValueError:  # the last line of a log cut short
        continue
    p = e.get("params", {})
    if e.get("type") != start or "url" not in p:
        continue
    if p.get("initiator") == "not an origin":
        browser += 1
    elif not p["url"].startswith(("file:", "data:")):
        page.append(p["url"])
if page:
    print("FAIL: the page fetched %s" % page[:5])
    sys.exit(1)
print("ok: the page made no network request (the browser's own: %d)" % browser)
PYEOF
echo "ok: chromium rendered the report with every part"
