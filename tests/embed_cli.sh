#!/bin/sh
# embed_cli: `sddcell embed` end to end on the committed fixtures: the .h5ad read back by
# anndata and checked against scikit-learn and a numpy port of UMAP's fuzzy weights
# (tests/check_embed.py), the TSV, and both plot formats decoded (PNG chunks, CRCs and
# zlib stream; SVG parsed) with both populations' colours present. Then misuse.
set -u
. "$(dirname "$0")/common.sh"
D="$SRC/tests/data"
need_py anndata sklearn
sdd_tmpdir embed

"$SDD" --quiet embed "$D/eval_real_counts.h5ad" "$D/eval_synth.h5ad" --label cell_type --umap \
  -o "$tmp/e.h5ad" --tsv "$tmp/e.tsv" --plot "$tmp/e.png"
t test $? = 0
"$PY" "$SRC/tests/check_embed.py" "$tmp/e.h5ad" 320 260 50 15 "$tmp/e.tsv" || fail=1
"$PY" - "$tmp/e.h5ad" "$tmp/e.png" <<'PYEOF' || fail=1
import sys, struct, zlib
import anndata, numpy as np
a = anndata.read_h5ad(sys.argv[1])
ok = list(a.obs["cell_type"].cat.categories) == ["T", "B", "Mono"] and a.obs["cell_type"].notna().all()
ok &= a.uns["sddcell"]["version"] != "" and "X_umap" in a.obsm
b = open(sys.argv[2], "rb").read()
ok &= b[:8] == b"\x89PNG\r\n\x1a\n"
pos, chunks, idat = 8, [], b""
while pos < len(b):
    n, typ = struct.unpack(">I4s", b[pos:pos + 8])
    data, crc = b[pos + 8:pos + 8 + n], struct.unpack(">I", b[pos + 8 + n:pos + 12 + n])[0]
    ok &= zlib.crc32(typ + data) == crc
    chunks.append(typ)
    if typ == b"IHDR":
        w, h = struct.unpack(">II", data[:8])
    if typ == b"IDAT":
        idat += data
    pos += 12 + n
ok &= chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
raw = zlib.decompress(idat)
ok &= len(raw) == h * (3 * w + 1)
px = np.frombuffer(raw, np.uint8).reshape(h, 3 * w + 1)[:, 1:].reshape(h, w, 3)
blue = (px == [31, 119, 180]).all(2).sum()
orange = (px == [255, 127, 14]).all(2).sum()
print(f"png {w}x{h}: {blue} real-coloured and {orange} synthetic-coloured pixels")
ok &= blue > 1000 and orange > 1000
sys.exit(0 if ok else 1)
PYEOF
# PC layout (no --umap), SVG, no labels: two panels of circles and a legend
"$SDD" --quiet embed "$D/eval_real_counts.h5ad" "$D/eval_synth.h5ad" -o "$tmp/p.h5ad" --n-pcs 10 \
  --n-neighbors 8 --plot "$tmp/p.svg"
t test $? = 0
SDD_NO_UMAP_LEARN=1 "$PY" "$SRC/tests/check_embed.py" "$tmp/p.h5ad" 320 260 10 8 >/dev/null || { echo "FAIL: check_embed 10 PCs" >&2; fail=1; }
"$PY" -c "
import sys, xml.etree.ElementTree as ET
r = ET.parse('$tmp/p.svg').getroot(); ns = '{http://www.w3.org/2000/svg}'
c = r.findall(ns + 'circle'); txt = [e.text for e in r.findall(ns + 'text')]
fills = {e.get('fill') for e in c}
sys.exit(0 if len(c) == 2 * 580 and 'real' in txt and 'synthetic' in txt and 'PC1' in txt
         and {'#1f77b4', '#ff7f0e'} <= fills else 1)" || { echo "FAIL: SVG content" >&2; fail=1; }

# misuse and failures leave nothing behind
"$SDD" embed "$D/eval_real_counts.h5ad" "$D/eval_synth.h5ad" 2>/dev/null; t test $? = 1
"$SDD" embed -o "$tmp/x.h5ad" --plot "$tmp/x.jpg" "$D/eval_real_counts.h5ad" "$D/eval_synth.h5ad" 2>/dev/null
t test $? = 1
"$SDD" embed -o "$tmp/x.h5ad" --n-pcs 1 "$D/eval_real_counts.h5ad" "$D/eval_synth.h5ad" 2>/dev/null
t test $? = 1
"$SDD" embed -o "$tmp/x.h5ad" "$D/eval_real_counts.h5ad" "$D/no_such.h5ad" 2>/dev/null; t test $? = 1
t test ! -e "$tmp/x.h5ad"
t test -z "$(ls -A "$tmp" | grep '\.tmp\.')"
exit $fail
