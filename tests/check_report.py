#!/usr/bin/python3
"""Checks of the files `--report` and `--multiqc` write (used by tests/report_cli.sh).

  check_report.py html PAGE.html METRICS.json heldout|plain [labels]
      The page parses as HTML; it holds every section (summary, metrics, umap, clusters,
      gene-means, zero-fraction, recipe; labels when asked); it references nothing outside
      itself (no http(s) URL in src/href, no <script src>, no <link>); the UMAP image is a
      PNG data URI that decodes with the PNG signature, IHDR size and a good CRC; the inline
      SVGs parse as XML, with every legend above its plot area and the zero-fraction
      histogram's series (the floor's training cells under the held-out protocol); the
      metric cells carry the figures of the metrics JSON (and the
      floor and memorisation under the held-out protocol); one gene point per gene; the
      cluster shares add up to 100% a side.
  check_report.py dom DOM.html METRICS.json heldout|plain [labels]
      The same checks on the DOM a browser built from the page (headless Chromium's
      --dump-dom, tests/report_browser.sh), where the DOCTYPE may be left out; the rest is
      as above.
  check_report.py multiqc GENERAL_mqc.json TABLE_mqc.json METRICS.json SAMPLE heldout|plain
      Both files hold MultiQC custom content as its custom_content module reads it:
      general statistics with plot_type "generalstats", columns in pconfig (a list of
      {column: header}) and data {SAMPLE: {column: value}}; a table with id, section_name,
      section_anchor (not the id), plot_type "table", pconfig.id, headers {column: header}
      and data; every header has a title, and every value equals the metrics JSON's figure.
"""
import base64, binascii, json, math, struct, sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections, self.imgs, self.cells, self.external = [], [], [], []
        self.svg_depth, self.svgs, self.cur_svg = 0, [], None
        self.gene_points = 0
        self.hist_lines = 0
        self.frames, self.legend_bottoms, self.in_legend = [], [], 0
        self.stack = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag == "img":
            self.imgs.append(a)
        if tag == "td" and "data-metric" in a:
            self.cells.append(a)
        if tag in ("script", "link", "iframe", "object", "embed"):
            self.external.append((tag, a))
        for k in ("src", "href"):
            v = a.get(k, "") or ""
            if v.startswith(("http:", "https:", "//", "file:")):
                self.external.append((tag, a))
        if tag == "svg":
            if self.svg_depth == 0:
                self.cur_svg = []
            self.svg_depth += 1
        if self.svg_depth:
            attr = "".join(' %s="%s"' % (k, (v or "").replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;"))
                           for k, v in attrs)
            self.cur_svg.append("<%s%s>" % (tag, attr))
            if tag == "circle" and a.get("class") == "gene":
                self.gene_points += 1
            if tag == "polyline" and a.get("class") == "hist":
                self.hist_lines += 1
            if tag == "g" and a.get("class") == "legend":
                self.in_legend += 1
            if tag == "rect" and a.get("fill") == "none" and len(self.frames) < len(self.svgs) + 1:
                self.frames.append(float(a["y"]))  # the plot area's frame, the chart's first such rect
            if tag == "rect" and (self.in_legend or (a.get("width"), a.get("height")) == ("10", "10")):  # a swatch
                self.legend_bottoms.append((len(self.svgs), float(a["y"]) + float(a["height"])))

    def handle_endtag(self, tag):
        if tag == "g" and self.in_legend:
            self.in_legend -= 1
        if self.svg_depth:
            self.cur_svg.append("</%s>" % tag)
            if tag == "svg":
                self.svg_depth -= 1
                if self.svg_depth == 0:
                    self.svgs.append("".join(self.cur_svg))

    def handle_data(self, data):
        if self.svg_depth:
            self.cur_svg.append(data.replace("&", "&amp;").replace("<", "&lt;"))


def check_png(uri):
    head = "data:image/png;base64,"
    if not uri.startswith(head):
        fail("the UMAP image is not a PNG data URI")
    png = base64.b64decode(uri[len(head):], validate=True)
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        fail("the UMAP data is not a PNG")
    n, typ = struct.unpack(">I4s", png[8:16])
    if typ != b"IHDR" or n != 13:
        fail("PNG without IHDR")
    w, h = struct.unpack(">II", png[16:24])
    crc = struct.unpack(">I", png[8 + 8 + n:8 + 8 + n + 4])[0]
    if binascii.crc32(png[12:16 + n]) & 0xffffffff != crc:
        fail("PNG IHDR CRC")
    if not (w > 500 and h > 300):
        fail("PNG size %dx%d" % (w, h))
    return w, h


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def check_html(path, metrics_path, mode, want_labels, dom=False):
    text = open(path, encoding="utf-8").read()
    m = json.load(open(metrics_path))
    p = Page()
    p.feed(text)
    p.close()
    start = ("<!DOCTYPE html>", "<html") if dom else ("<!DOCTYPE html>",)
    if not text.lstrip().startswith(start) or "</html>" not in text:
        fail("not a complete HTML document")
    need = ["summary", "metrics", "umap", "clusters", "gene-means", "zero-fraction", "recipe"]
    if want_labels:
        need.append("labels")
    for s in need:
        if s not in p.sections:
            fail("section %s missing (have %s)" % (s, p.sections))
    if p.external:
        fail("external references: %s" % p.external[:3])
    umap = [i for i in p.imgs if i.get("class") == "umap"]
    if len(umap) != 1:
        fail("one UMAP image expected, found %d" % len(umap))
    w, h = check_png(umap[0]["src"])
    if len(p.svgs) < 3:
        fail("expected the inline SVG charts, found %d" % len(p.svgs))
    for s in p.svgs:
        ET.fromstring(s)
    # the figures of the metrics JSON, synthetic side and floor
    side = {}
    for c in p.cells:
        side.setdefault((c["data-metric"], c["data-side"]), []).append(c["data-value"])
    syn = m["synthetic_vs_heldout"] if mode == "heldout" else m
    keys = ["sparsity_real", "sparsity_synth", "zero_frac_w1", "scc", "pcc", "mmd", "lisi_scaled", "knn_auc"]
    for k in keys:
        v = side.get((k, "synthetic"))
        if not v or not close(float(v[0]), syn[k]):
            fail("metric %s: page %s, JSON %s" % (k, v, syn[k]))
        if mode == "heldout":
            f = side.get((k, "floor"))
            if not f or not close(float(f[0]), m["training_vs_heldout"][k]):
                fail("floor %s: page %s, JSON %s" % (k, f, m["training_vs_heldout"][k]))
    if mode == "heldout":
        v = side.get(("memorisation", "synthetic"))
        if not v or not close(float(v[0]), m["memorisation"]["share_nearest_training"]):
            fail("memorisation: page %s" % v)
    elif ("scc", "floor") in side:
        fail("a floor column without held-out cells")
    # every legend above its chart's plot area, covering none of it
    for k, bottom in p.legend_bottoms:
        if k >= len(p.frames) or bottom > p.frames[k]:
            fail("a legend of chart %d reaches into the plot area" % k)
    # the zero-fraction histogram: real and synthetic, and the floor's training cells
    want_hist = 3 if mode == "heldout" else 2
    if p.hist_lines != want_hist:
        fail("zero-fraction histogram has %d series, expected %d" % (p.hist_lines, want_hist))
    # one point per gene in the gene-mean scatter
    if p.gene_points != min(m["n_genes"], 5000):
        fail("gene-mean scatter has %d points for %d genes" % (p.gene_points, m["n_genes"]))
    # cluster shares: each side adds up to 1
    for s in ("share_real", "share_synth"):
        vals = [float(v) for v in side.get((s, "cluster"), [])]
        if not vals or abs(sum(vals) - 1) > 1e-9:
            fail("cluster %s sums to %s" % (s, sum(vals)))
    if want_labels:
        n = len(side.get(("scc", "label"), []))
        if n != len(syn["per_label"]):
            fail("%d label rows for %d labels" % (n, len(syn["per_label"])))
    if "recipe" in text and "<pre class=\"command\">" not in text:
        fail("the command line is missing from the recipe")
    print("ok: %s: %d sections, UMAP PNG %dx%d, %d SVG charts, %d gene points, %d clusters" %
          (path, len(p.sections), w, h, len(p.svgs), p.gene_points, len(side[("share_real", "cluster")])))


def check_multiqc(general, table, metrics_path, sample, mode):
    m = json.load(open(metrics_path))
    syn = m["synthetic_vs_heldout"] if mode == "heldout" else m
    want = {"sparsity_synth": 100 * syn["sparsity_synth"], "scc": syn["scc"], "mmd": syn["mmd"],
            "knn_auc": syn["knn_auc"]}
    if mode == "heldout":
        fl = m["training_vs_heldout"]
        want.update({"memorisation": m["memorisation"]["share_nearest_training"], "scc_floor": fl["scc"],
                     "mmd_floor": fl["mmd"], "knn_auc_floor": fl["knn_auc"], "cells": m["cells"]["m"]})
    g = json.load(open(general))
    t = json.load(open(table))
    if g.get("plot_type") != "generalstats" or not isinstance(g.get("pconfig"), list) or not g.get("id"):
        fail("general statistics: plot_type/pconfig/id")
    cols = {}
    for item in g["pconfig"]:
        if not isinstance(item, dict) or len(item) != 1:
            fail("general statistics pconfig items are {column: header}")
        (k, h), = item.items()
        if not isinstance(h, dict) or "title" not in h:
            fail("general statistics header %s has no title" % k)
        cols[k] = h
    for f, name in ((g, "general"), (t, "table")):
        d = f.get("data")
        if not isinstance(d, dict) or list(d) != [sample]:
            fail("%s: data rows %s, expected [%s]" % (name, list(d or {}), sample))
    grow, trow = g["data"][sample], t["data"][sample]
    if set(grow) != set(cols):
        fail("general statistics: data columns %s vs pconfig %s" % (set(grow), set(cols)))
    if t.get("plot_type") != "table" or not t.get("id") or not t.get("section_name"):
        fail("table: plot_type/id/section_name")
    if not t.get("section_anchor") or t["section_anchor"] == t["id"]:
        fail("table: section_anchor must be set and differ from the id (else two anchors clash)")
    if not isinstance(t.get("pconfig"), dict) or not t["pconfig"].get("id"):
        fail("table: pconfig.id")
    heads = t.get("headers")
    if not isinstance(heads, dict) or set(heads) != set(trow):
        fail("table: headers %s vs data %s" % (set(heads or {}), set(trow)))
    for k, h in heads.items():
        if "title" not in h or "description" not in h:
            fail("table header %s lacks title/description" % k)
    for k, v in want.items():
        row = grow if k in grow else trow
        if k not in trow or not close(trow[k], v):
            fail("table %s = %s, expected %s" % (k, trow.get(k), v))
        if k in grow and not close(grow[k], v):
            fail("general statistics %s = %s, expected %s" % (k, grow[k], v))
    for k in ("scc", "mmd", "knn_auc"):
        if k not in grow:
            fail("general statistics lacks %s" % k)
    if mode != "heldout" and any(k.endswith("_floor") for k in trow):
        fail("floor columns without held-out cells")
    print("ok: MultiQC %s (%d columns) and %s (%d columns)" % (general, len(grow), table, len(trow)))


if __name__ == "__main__":
    if sys.argv[1] in ("html", "dom"):
        check_html(sys.argv[2], sys.argv[3], sys.argv[4], len(sys.argv) > 5 and sys.argv[5] == "labels",
                   dom=sys.argv[1] == "dom")
    elif sys.argv[1] == "multiqc":
        check_multiqc(*sys.argv[2:7])
    else:
        fail("usage")
