# Every .h5ad file sddcell writes, read with hdf5r (the HDF5 binding R users reach for, and
# what Seurat's and zellkonverter's readers sit on): `sample --counts` (X, obs, var,
# layers/counts, uns), `simulate`, `convert`, `embed` (obsm, obsp) and `hvg --h5ad`. For each
# file the AnnData encoding attributes are there, X's CSR arrays (shape, data, indices,
# indptr) and layers/counts are what the package's own reader returns, obs and var indexes
# name the cells and genes, and categorical columns decode to their values.
# usage: Rscript r_hdf5r.R SDDCELL_BINARY EXAMPLE.h5ad WORKDIR   (skips, exit 77, without hdf5r)
args <- commandArgs(trailingOnly = TRUE)
if (!requireNamespace("hdf5r", quietly = TRUE)) {
  cat("skip: the hdf5r package is not installed (r-cran-hdf5r)\n")
  quit(status = 77)
}
sdd <- args[1]; data <- args[2]; work <- args[3]
suppressPackageStartupMessages({ library(sddcell); library(Matrix) })
fail <- function(...) { cat("FAIL:", ..., "\n"); quit(status = 1) }
run <- function(...) {
  st <- system2(sdd, c("--quiet", ...), stdout = FALSE, stderr = FALSE)
  if (st != 0) fail("sddcell", paste(c(...), collapse = " "), "failed")
}
small <- c("--n-top-genes", "150", "--hidden", "64,64,32,16", "--head", "64", "--emb", "32",
           "--batch-size", "64", "--steps", "20")
f <- function(name) file.path(work, name)
run("train", data, "-o", f("m.sdd"), small)
run("sample", f("m.sdd"), "-n", "60", "--steps", "5", "--counts", "-o", f("sample.h5ad"))
run("simulate", data, "--prefix", f("sim"), small, "--sample-steps", "5", "-n", "80")
run("convert", data, f("convert.h5ad"))
run("embed", data, f("sample.h5ad"), "-o", f("embed.h5ad"), "--umap")
run("hvg", "-n", "100", data, "--h5ad", f("hvg.h5ad"), "-o", f("hvg.tsv"))

enc <- function(obj) hdf5r::h5attr(obj, "encoding-type")

# X (or a layer) as a genes x cells dgCMatrix, through hdf5r only
csr <- function(h, key) {
  g <- h[[key]]
  if (enc(g) != "csr_matrix") fail(key, "encoding-type is", enc(g))
  shape <- as.integer(hdf5r::h5attr(g, "shape"))
  x <- g[["data"]][]; i <- as.integer(g[["indices"]][]); p <- as.integer(g[["indptr"]][])
  if (length(p) != shape[1] + 1 || p[length(p)] != length(x) || length(i) != length(x))
    fail(key, "CSR arrays inconsistent with shape", shape)
  new("dgCMatrix", i = i, p = p, x = as.numeric(x), Dim = rev(shape))
}

index <- function(h, frame) {
  g <- h[[frame]]
  if (enc(g) != "dataframe") fail(frame, "encoding-type is", enc(g))
  g[[hdf5r::h5attr(g, "_index")]][]
}

categorical <- function(h, path) {
  g <- h[[path]]
  if (enc(g) != "categorical") fail(path, "is not categorical")
  g[["categories"]][][g[["codes"]][] + 1L]
}

check <- function(name, layers = character(0), obsm = character(0), obsp = character(0)) {
  path <- f(name)
  h <- hdf5r::H5File$new(path, mode = "r")
  on.exit(h$close_all())
  if (enc(h) != "anndata") fail(name, "root encoding-type is", enc(h))
  ref <- sdd_read(path)
  X <- csr(h, "X")
  if (!identical(dim(X), dim(ref$counts))) fail(name, "X shape differs from sdd_read's")
  if (!isTRUE(all.equal(unname(X), unname(ref$counts), tolerance = 0))) fail(name, "X values differ")
  cells <- index(h, "obs"); genes <- index(h, "var")
  if (!identical(cells, colnames(ref$counts))) fail(name, "obs index differs")
  if (!identical(genes, rownames(ref$counts))) fail(name, "var index differs")
  if (anyDuplicated(cells)) fail(name, "obs names are not unique")
  for (col in names(ref$obs)) {
    if (is.factor(ref$obs[[col]])) {
      v <- categorical(h, file.path("obs", col))
      if (!identical(v, as.character(ref$obs[[col]]))) fail(name, "obs column", col, "differs")
    }
  }
  for (l in layers) {
    L <- csr(h, file.path("layers", l))
    r <- sdd_read(path, layer = l)$counts
    if (!isTRUE(all.equal(unname(L), unname(r), tolerance = 0))) fail(name, "layer", l, "differs")
    if (!all(L@x == round(L@x))) fail(name, "layer", l, "holds non-integer counts")
  }
  for (k in obsm) {
    d <- h[[file.path("obsm", k)]]$dims
    if (d[length(d)] != ncol(X)) fail(name, "obsm", k, "has", d, "not one row per cell")
  }
  for (k in obsp) {
    P <- csr(h, file.path("obsp", k))
    if (!all(dim(P) == ncol(X))) fail(name, "obsp", k, "is not cells x cells")
  }
  cat(sprintf("ok: %-14s %d cells x %d genes, %d stored values%s\n", name, ncol(X), nrow(X), length(X@x),
              if (length(c(layers, obsm, obsp))) paste0("; ", paste(c(layers, obsm, obsp), collapse = ", ")) else ""))
  invisible(list(h = h, X = X))
}

check("sample.h5ad", layers = "counts")
h <- hdf5r::H5File$new(f("sample.h5ad"), mode = "r")
if (!all(categorical(h, "obs/source") == "synthetic")) fail("sample.h5ad: obs source is not 'synthetic'")
if (!h$exists("uns/sddcell")) fail("sample.h5ad: uns/sddcell missing")
h$close_all()
check("sim.h5ad")
check("convert.h5ad")
check("embed.h5ad", obsm = c("X_pca", "X_umap"), obsp = c("distances", "connectivities"))
check("hvg.h5ad")
cat("ok\n")
