#!/usr/bin/python3
"""Write 10x MTX folders from a real 10x .h5 for the MTX reader test, with the counts
they must read as.

Variants: Cell Ranger 3 layout gzipped (matrix.mtx.gz, features.tsv.gz, barcodes.tsv.gz),
the same uncompressed, Cell Ranger 2 layout (genes.tsv, 2 columns), and a gzipped one with
extra "Antibody Capture" features that the default feature-type filter drops (and
--feature-type all keeps). Prints one line per case:
DIR<TAB>ARGS<TAB>n_cells<TAB>n_genes<TAB>nnz<TAB>sum

usage: make_mtx.py SOURCE.h5 OUT_DIR      (needs h5py and numpy)
"""
import gzip
import os
import sys

import h5py
import numpy as np


def opener(path, gz):
    return gzip.open(path + ".gz", "wt") if gz else open(path, "w")


def write(out, ids, names, types, barcodes, gene, cell, val, gz, v3, field="integer"):
    os.makedirs(out, exist_ok=True)
    with opener(os.path.join(out, "matrix.mtx"), gz) as f:
        f.write("%%%%MatrixMarket matrix coordinate %s general\n%% from %s\n" % (field, os.path.basename(SRC)))
        f.write("%d %d %d\n" % (len(ids), len(barcodes), len(val)))
        for g, c, v in zip(gene, cell, val):
            f.write("%d %d %s\n" % (g + 1, c + 1, repr(float(v)) if field == "real" else "%d" % v))
    with opener(os.path.join(out, "features.tsv" if v3 else "genes.tsv"), gz) as f:
        for i, n, t in zip(ids, names, types):
            f.write("%s\t%s\t%s\n" % (i, n, t) if v3 else "%s\t%s\n" % (i, n))
    with opener(os.path.join(out, "barcodes.tsv"), gz) as f:
        f.writelines(b + "\n" for b in barcodes)


SRC, OUT = sys.argv[1], sys.argv[2]
with h5py.File(SRC, "r") as h:
    m = h["matrix"]
    n_genes, n_cells = (int(v) for v in m["shape"][()])
    data, indices, indptr = m["data"][()], m["indices"][()], m["indptr"][()]
    ids = [s.decode() for s in m["features/id"][()]]
    names = [s.decode() for s in m["features/name"][()]]
    types = [s.decode() for s in m["features/feature_type"][()]]
    barcodes = [s.decode() for s in m["barcodes"][()]]
cell = np.repeat(np.arange(n_cells), np.diff(indptr))
gene = indices.astype(np.int64)
total = float(data.astype(np.float64).sum())

write(os.path.join(OUT, "v3_gz"), ids, names, types, barcodes, gene, cell, data, True, True)
print("%s\t-\t%d\t%d\t%d\t%.17g" % (os.path.join(OUT, "v3_gz"), n_cells, n_genes, len(data), total))
write(os.path.join(OUT, "v3_plain"), ids, names, types, barcodes, gene, cell, data, False, True)
print("%s\t-\t%d\t%d\t%d\t%.17g" % (os.path.join(OUT, "v3_plain"), n_cells, n_genes, len(data), total))
write(os.path.join(OUT, "v2_plain"), ids, names, types, barcodes, gene, cell, data, False, False)
print("%s\t-\t%d\t%d\t%d\t%.17g" % (os.path.join(OUT, "v2_plain"), n_cells, n_genes, len(data), total))
# real-valued copy with halves, exercising the 'real' field
half = data.astype(np.float64) / 2
write(os.path.join(OUT, "v3_real"), ids, names, types, barcodes, gene, cell, half, True, True, field="real")
print("%s\t-\t%d\t%d\t%d\t%.17g" % (os.path.join(OUT, "v3_real"), n_cells, n_genes, len(data), total / 2))
# three antibody features with one count in every cell, listed after the genes
ab = 3
ids2 = ids + ["AB%d" % k for k in range(ab)]
names2 = names + ["CD%d_TotalSeqB" % k for k in range(ab)]
types2 = types + ["Antibody Capture"] * ab
gene2 = np.concatenate([gene, np.repeat(n_genes + np.arange(ab), n_cells)])
cell2 = np.concatenate([cell, np.tile(np.arange(n_cells), ab)])
val2 = np.concatenate([data, np.full(ab * n_cells, 5, dtype=data.dtype)])
write(os.path.join(OUT, "v3_antibody"), ids2, names2, types2, barcodes, gene2, cell2, val2, True, True)
print("%s\t-\t%d\t%d\t%d\t%.17g" % (os.path.join(OUT, "v3_antibody"), n_cells, n_genes, len(data), total))
print("%s\t--feature-type all\t%d\t%d\t%d\t%.17g" % (os.path.join(OUT, "v3_antibody"), n_cells, n_genes + ab,
                                                    len(val2), total + 5.0 * ab * n_cells))
