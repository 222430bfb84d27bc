#!/usr/bin/Rscript
# Reference for sddcell's seurat_v3 flavor: Seurat's FindVariableFeatures(selection.method =
# "vst") on pbmc3k, and R's loess fit inside it.
#
#   /usr/bin/python3 tests/make_hvg_reference.py --export-mtx ../shared/data/train/pbmc3k_counts.h5ad /tmp/pbmc3k
#   Rscript tests/make_seurat_v3_reference.R /tmp/pbmc3k tests/data/seurat_v3_pbmc3k.tsv \
#       tests/data/loess_ties_R.tsv
#
# Needs Debian's r-cran-seurat (Seurat 4.3.0). For a fair comparison Seurat gets the same
# cells and genes as sddcell: QC is done here in sddcell's (scanpy's) order, genes with counts
# in >= 3 cells first, then cells with >= 10 of those genes, instead of CreateSeuratObject's
# min.features-then-min.cells. Features are named by their index so that Seurat's renaming
# of '_' to '-' cannot disturb the match. Seurat then computes, on the raw counts, the mean,
# the variance, loess(log10 variance ~ log10 mean, span = 0.3), the standardised variance
# clipped at sqrt(cells), and ranks genes by it.
#
# Output: one row per QC-kept gene: index (0-based, in the file), name, Seurat's vst.mean,
# vst.variance, vst.variance.expected, vst.variance.standardized, and hv1000 / hv2000 (1 when
# among VariableFeatures for nfeatures = 1000 / 2000).
suppressPackageStartupMessages({ library(Matrix); library(Seurat) })
args <- commandArgs(trailingOnly = TRUE)
prefix <- args[1]; out <- args[2]
m <- t(as(readMM(paste0(prefix, ".mtx")), "CsparseMatrix"))   # genes x cells
genes <- readLines(paste0(prefix, ".genes"))
rownames(m) <- paste0("g", seq_len(nrow(m)) - 1)
colnames(m) <- paste0("c", seq_len(ncol(m)))
m <- m[Matrix::rowSums(m > 0) >= 3, ]
m <- m[, Matrix::colSums(m > 0) >= 10]
obj <- CreateSeuratObject(counts = m, min.cells = 0, min.features = 0)
sel <- list()
for (n in c(1000, 2000)) {
  obj <- FindVariableFeatures(obj, selection.method = "vst", nfeatures = n, verbose = FALSE)
  sel[[as.character(n)]] <- VariableFeatures(obj)
}
hvf <- obj[["RNA"]]@meta.features[, c("vst.mean", "vst.variance", "vst.variance.expected",
                                      "vst.variance.standardized")]
idx <- as.integer(sub("^g", "", rownames(hvf)))
df <- data.frame(index = idx, gene = genes[idx + 1],
                 mean = hvf[, 1], variance = hvf[, 2],
                 variance_expected = hvf[, 3],
                 variance_standardized = hvf[, 4],
                 hv1000 = as.integer(rownames(hvf) %in% sel[["1000"]]),
                 hv2000 = as.integer(rownames(hvf) %in% sel[["2000"]]))
con <- file(out, "w")
writeLines(sprintf("# Seurat %s, R %s: %d cells x %d genes after QC", packageVersion("Seurat"),
                   getRversion(), ncol(m), nrow(m)), con)
options(digits = 15)
write.table(df, con, sep = "\t", quote = FALSE, row.names = FALSE)
close(con)

# A small loess fixture whose neighbourhoods are degenerate (8 equal x among 33 points:
# R falls back to its pseudo-inverse there): columns x, y, R's fitted value.
if (length(args) >= 3) {
  set.seed(7)
  x <- c(rnorm(25), rep(0.5, 8)); y <- sin(x) + rnorm(33, sd = 0.3)
  f <- suppressWarnings(loess(y ~ x, span = 0.3)$fitted)
  write.table(data.frame(x = sprintf("%.17g", x), y = sprintf("%.17g", y), fit = sprintf("%.17g", f)),
              args[3], sep = "\t", quote = FALSE, row.names = FALSE)
}
