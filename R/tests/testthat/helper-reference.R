# Reference figures written by anndata (tools/make_extdata.py) for inst/extdata/pbmc_small.h5ad.
small_file <- function() system.file("extdata", "pbmc_small.h5ad", package = "sddcell")
small_reference <- function() {
  f <- system.file("extdata", "pbmc_small_reference.tsv", package = "sddcell")
  l <- strsplit(readLines(f), "\t", fixed = TRUE)
  setNames(lapply(l, function(x) strsplit(x[2], ",", fixed = TRUE)[[1]]), vapply(l, `[`, "", 1))
}
