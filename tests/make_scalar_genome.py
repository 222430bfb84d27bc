#!/usr/bin/python3
"""A 10x (Cell Ranger >= 3) .h5 whose matrix/features/genome is one scalar string.

Some Cell Ranger 3 style files written through PyTables store features/genome as a single
scalar string for every feature instead of one string per feature; scanpy.read_10x_h5
reads them (the scalar broadcasts). This rewrites a real 10x v3 file that way: every
dataset is copied unchanged except features/genome, which becomes a scalar fixed-length
string holding the (single) genome of the original, with the CLASS / VERSION / TITLE
attributes PyTables gives a scalar array.

usage: make_scalar_genome.py IN.h5 OUT.h5
(tests/data/derived/scalar_genome.h5 was made from
 tests/data/real/10x/scanpy/3.0.0/filtered_feature_bc_matrix.h5 with python3-h5py 3.7.0)
"""
import sys

import h5py
import numpy as np


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with h5py.File(src, "r") as fi, h5py.File(dst, "w") as fo:
        for k, v in fi.attrs.items():
            fo.attrs[k] = v
        fi.copy("matrix", fo)
        genomes = sorted(set(fo["matrix/features/genome"][()]))
        assert len(genomes) == 1, genomes
        g = genomes[0]
        del fo["matrix/features/genome"]
        d = fo["matrix/features"].create_dataset("genome", data=np.array(g, dtype="S%d" % len(g)))
        d.attrs["CLASS"] = np.bytes_("ARRAY")
        d.attrs["VERSION"] = np.bytes_("2.4")
        d.attrs["TITLE"] = np.bytes_("")
        assert fo["matrix/features/genome"].shape == ()
    print("%s: features/genome is the scalar %r" % (dst, g))


if __name__ == "__main__":
    main()
