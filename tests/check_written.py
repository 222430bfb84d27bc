#!/usr/bin/python3
"""check_written: read the file written by tests/test_h5ad_write with anndata and h5py
and compare every value, dtype and encoding with the dataset that test builds (the
literals below are the same as in test_h5ad_write.c). Exit 0 pass, 1 fail, 77 skip."""
import sys

try:
    import anndata
    import h5py
    import numpy as np
except ImportError as e:
    print(f"skip: {e}", file=sys.stderr)
    sys.exit(77)

fails = []


def check(cond, what):
    if not cond:
        fails.append(what)


def encodings(f):
    """Every group and dataset must carry encoding-type and encoding-version."""
    missing = []

    def visit(name, obj):
        if "encoding-type" not in obj.attrs or "encoding-version" not in obj.attrs:
            missing.append(name)
    f.visititems(visit)
    if "encoding-type" not in f.attrs:
        missing.append("/")
    return missing


def bool_enum(ds):
    """h5py's numpy-bool type: an HDF5 enum over a 1-byte int, FALSE = 0, TRUE = 1."""
    t = ds.id.get_type()
    if t.get_class() != h5py.h5t.ENUM or t.get_nmembers() != 2 or t.get_super().get_size() != 1:
        return False
    return {t.get_member_name(i): t.get_member_value(i) for i in range(2)} == \
        {b"FALSE": 0, b"TRUE": 1}


def layout(path):
    with h5py.File(path, "r") as f:
        check(f.attrs["encoding-type"] == "anndata" and f.attrs["encoding-version"] == "0.1.0",
              "root encoding")
        check(encodings(f) == [], f"elements without encoding attributes: {encodings(f)}")
        X = f["X"]
        check(X.attrs["encoding-type"] == "csr_matrix", "X encoding")
        check(list(X.attrs["shape"]) == [5, 4], "X shape attribute")
        check(X["data"].dtype == np.float32, "X/data float32")
        check(X["indices"].dtype == np.int32, "X/indices int32")
        check(X["indptr"].dtype in (np.int32, np.int64), "X/indptr integer")
        check(X["data"].shape == (6,), f"X stores 6 non-zeros, not {X['data'].shape}")
        for frame, cols in (("obs", ["donor", "cell_type", "stage", "cluster", "score",
                                     "n_counts", "is_doublet"]), ("var", ["gene_ids", "mean"])):
            g = f[frame]
            check(g.attrs["encoding-type"] == "dataframe" and
                  g.attrs["encoding-version"] == "0.2.0", f"{frame} encoding")
            check(list(g.attrs["column-order"]) == cols, f"{frame} column-order")
            idx = g[g.attrs["_index"]]
            check(h5py.check_string_dtype(idx.dtype).encoding == "utf-8", f"{frame} index utf-8")
            check(idx.attrs["encoding-type"] == "string-array", f"{frame} index string-array")
        obs = f["obs"]
        check(obs["cell_type/codes"].dtype == np.int8, "int8 codes below 127 categories")
        check(obs["cluster/codes"].dtype == np.int16, "int16 codes for 200 categories")
        check(bool_enum(obs["is_doublet"]), "bool column is h5py's enum over int8")
        check(bool_enum(f["uns/params/conditional"]), "uns bool is h5py's enum over int8")
        check(obs["is_doublet"].dtype == np.bool_, "bool column reads as numpy bool")
        check(obs["stage"].attrs["ordered"].dtype == np.bool_, "ordered is a numpy bool")
        check(bool(obs["stage"].attrs["ordered"]) is True, "stage is ordered")
        check(bool(obs["cell_type"].attrs["ordered"]) is False, "cell_type is not ordered")
        check(obs["n_counts"].dtype == np.int64, "integer column int64")
        check(obs["score"].dtype == np.float64, "float column float64")
        check(f["obsm/X_pca"].dtype == np.float32, "obsm float32")
        cats = f["obs/cluster/categories"]
        check(cats.compression == "gzip" and cats.chunks is not None, "larger datasets gzip")
        for g in ("layers", "obsm", "obsp", "varm", "varp", "uns", "uns/params"):
            check(f[g].attrs["encoding-type"] == "dict", f"{g} is a dict")
        u = f["uns"]
        check(u["seed"].shape == () and u["seed"].dtype == np.int64, "uns/seed int64 scalar")
        check(u["seed"].attrs["encoding-type"] == "numeric-scalar", "uns/seed numeric-scalar")
        check(u["tool"].attrs["encoding-type"] == "string", "uns/tool string")
        check(u["params/conditional"].dtype == np.bool_, "uns bool scalar")
        check(u["params/lr"].dtype == np.float64, "uns float scalar")
        check(u["params/genes"].attrs["encoding-type"] == "string-array", "uns string array")
        check("nothing" not in u, "uns null is not written")


def values(path):
    a = anndata.read_h5ad(path)
    check(a.shape == (5, 4), f"shape {a.shape}")
    X = a.X.toarray()
    want = np.zeros((5, 4), np.float32)
    want[0, 0], want[0, 3] = 1, 2.5
    want[2, 0], want[2, 2] = 4, 1
    want[3, 1], want[4, 3] = 7, 1e-7
    check(np.array_equal(X, want), f"X values\n{X}")
    check(a.X.nnz == 6, "no stored zeros")
    check(list(a.obs_names) == ["AAAC-1", "AAAG-1", "CCTA-1", "GGTT-1", "TTAC-1"], "obs names")
    check(list(a.var_names) == ["CD3E", "MS4A1", "LYZ", "LYZ-1"], "var names")
    check(list(a.var["gene_ids"]) == ["ENSG1", "ENSG2", "ENSG3", "ENSG4"], "gene ids")
    check(np.allclose(a.var["mean"], [0, 0.25, 0.5, 0.75]), "var mean")
    o = a.obs
    check(list(o["donor"]) == ["d1", "d2", "Z\u00fcrich", "d1", ""], "donor strings")
    ct = o["cell_type"]
    check(str(ct.dtype) == "category", "cell_type categorical")
    check(list(ct.cat.categories) == ["B cell", "T cell", "monocyte"], "cell_type categories")
    check(list(ct.cat.codes) == [1, 0, 2, -1, 1], "cell_type codes (-1 missing)")
    check(not ct.cat.ordered, "cell_type unordered")
    st = o["stage"]
    check(st.cat.ordered and list(st.cat.categories) == ["early", "late"], "stage ordered")
    check(list(st.astype(str)) == ["late", "late", "early", "early", "late"], "stage values")
    cl = o["cluster"]
    check(len(cl.cat.categories) == 200 and cl.cat.categories[0] == "c000", "cluster categories")
    check(list(cl.cat.codes) == [199, 159, 119, 79, 39], "cluster codes")
    sc = o["score"].to_numpy()
    check(np.allclose(sc[:4], [0.5, -1.25, 1e-3, 3.0]) and np.isnan(sc[4]), f"score {sc}")
    check(o["n_counts"].dtype == np.int64 and
          list(o["n_counts"]) == [3, 0, 12, 7, 123456789012], "n_counts")
    check(o["is_doublet"].dtype == bool and
          list(o["is_doublet"]) == [True, False, False, True, True], "is_doublet")
    check(list(o.columns) == ["donor", "cell_type", "stage", "cluster", "score", "n_counts",
                              "is_doublet"], "obs column order")
    pca = a.obsm["X_pca"]
    check(pca.shape == (5, 3) and pca.dtype == np.float32, "obsm shape/dtype")
    check(np.allclose(pca, np.arange(15, dtype=np.float32).reshape(5, 3) / 4 - 1), "obsm values")
    u = a.uns
    check(u["tool"] == "sddcell" and u["version"] == "0.1.0", "uns strings")
    check(u["seed"] == 42 and isinstance(u["seed"], (int, np.integer)), "uns int")
    p = u["params"]
    check(abs(p["lr"] - 0.001) < 1e-15 and p["steps"] == 1000, "uns numbers")
    check(p["conditional"] is True or p["conditional"] == np.bool_(True), "uns bool")
    check(p["label"] == "cell_type", "uns nested string")
    check(list(p["hidden"]) == [512, 256] and p["hidden"].dtype == np.int64, "uns int array")
    check(np.allclose(p["betas"], [0.9, 0.999]) and p["betas"].dtype == np.float64, "uns floats")
    check(list(p["genes"]) == ["CD3E", "LYZ"], "uns string array")
    check(list(p["flags"]) == [True, False] and p["flags"].dtype == bool, "uns bool array")
    check(len(p["none"]) == 0, "uns empty array")
    check(p["sched"]["kind"] == "cosine" and p["sched"]["T"] == 1000, "uns nested dict")
    check("nothing" not in u, "uns null dropped")


def empty(path):
    """0 cells x 3 genes, no names and no columns."""
    with h5py.File(path, "r") as f:
        for frame in ("obs", "var"):
            check(len(f[frame].attrs["column-order"]) == 0, f"{frame} column-order is empty")
        check(f["X/indptr"].shape == (1,), "indptr of 0 rows has one entry")
    a = anndata.read_h5ad(path)
    check(a.shape == (0, 3), f"empty: shape {a.shape}")
    check(list(a.var_names) == ["0", "1", "2"], "empty: default var names")
    check(len(a.obs.columns) == 0 and len(a.var.columns) == 0, "empty: no columns")


path = sys.argv[1]
layout(path)
values(path)
if len(sys.argv) > 2:
    empty(sys.argv[2])
for f in fails:
    print(f"FAIL: {f}", file=sys.stderr)
sys.exit(1 if fails else 0)
