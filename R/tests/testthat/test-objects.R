# Seurat and SingleCellExperiment objects in and out. Training here is a few steps: these
# tests check what goes in and what comes back, not the model's fidelity.

small_counts <- function() {
  r <- sdd_read(small_file())
  list(counts = r$counts, group = as.character(r$obs$group))
}

test_that("a Seurat object trains like its counts and gets Seurat objects back", {
  skip_if_not_installed("SeuratObject")
  x <- small_counts()
  seu <- SeuratObject::CreateSeuratObject(counts = x$counts, min.cells = 0, min.features = 0)
  seu$group <- x$group
  a <- sdd_train(seu, label = "group", n_top_genes = 150, steps = 3, seed = 5)
  b <- sdd_train(x$counts, labels = x$group, label = "group", n_top_genes = 150, steps = 3, seed = 5)
  expect_equal(sdd_model_genes(a), sdd_model_genes(b))
  expect_equal(sdd_model_summary(a)$labels, c("A", "B"))
  expect_identical(sdd_sample(a, 10, steps = 3), sdd_sample(b, 10, steps = 3))
  expect_error(sdd_train(seu, label = "no_such_column", steps = 1), "no_such_column")

  r <- sdd_simulate(seu, n = 40, holdout = 0, label = "group", n_top_genes = 150, steps = 3, seed = 6,
                    counts = TRUE, sample_args = list(steps = 3, seed = 8))
  s <- r$synthetic
  expect_s4_class(s, "Seurat")
  expect_equal(ncol(s), 40)
  genes <- sdd_model_genes(r$model)
  expect_equal(rownames(s), gsub("_", "-", genes))  # Seurat's own renaming of '_'
  data <- .seurat_layer(s, "data")
  cnt <- .seurat_layer(s, "counts")
  m <- sdd_sample(r$model, 40, steps = 3, seed = 8, counts = TRUE)
  expect_equal(unname(as.matrix(data)), unname(as.matrix(m)))
  expect_equal(unname(as.matrix(cnt)), unname(as.matrix(attr(m, "counts"))))
  expect_true(all(cnt@x == round(cnt@x)) && all(cnt@x > 0))
  # a count only where the log value is non-zero
  expect_true(all((as.matrix(cnt) > 0) <= (as.matrix(data) > 0)))
  expect_true(all(s[[]]$group %in% c("A", "B")))
  expect_true(all(s[[]]$source == "synthetic"))
  # without counts the object holds the log-normalised values only
  s2 <- sdd_sample(r$model, 12, steps = 2, as = "Seurat")
  expect_s4_class(s2, "Seurat")
  expect_equal(ncol(.seurat_layer(s2, "data")), 12)
  # evaluation takes the objects as they are: counts of the real one, data of the synthetic one
  e <- sdd_evaluate(seu, s)
  e2 <- sdd_evaluate(x$counts, m)
  for (k in c("sparsity_real", "sparsity_synth", "scc", "pcc", "mmd", "knn_auc")) expect_equal(e[[k]], e2[[k]])
})

test_that("a SingleCellExperiment trains on its counts and comes back as one", {
  skip_if_not_installed("SingleCellExperiment")
  x <- small_counts()
  sce <- SingleCellExperiment::SingleCellExperiment(assays = list(counts = x$counts),
                                                    colData = data.frame(group = x$group))
  a <- sdd_train(sce, label = "group", n_top_genes = 150, steps = 3, seed = 5)
  b <- sdd_train(x$counts, labels = x$group, label = "group", n_top_genes = 150, steps = 3, seed = 5)
  expect_equal(sdd_model_genes(a), sdd_model_genes(b))
  expect_identical(sdd_sample(a, 10, steps = 3), sdd_sample(b, 10, steps = 3))
  expect_error(sdd_train(sce, label = "nope", steps = 1), "nope")
  no_counts <- SingleCellExperiment::SingleCellExperiment(assays = list(logcounts = x$counts))
  expect_error(sdd_train(no_counts, steps = 1), "counts")

  r <- sdd_simulate(sce, n = 30, holdout = 0, label = "group", n_top_genes = 150, steps = 3, seed = 6,
                    counts = TRUE, sample_args = list(steps = 3, seed = 9))
  s <- r$synthetic
  expect_s4_class(s, "SingleCellExperiment")
  expect_equal(dim(s), c(150L, 30L))
  expect_equal(rownames(s), sdd_model_genes(r$model))
  expect_equal(SummarizedExperiment::assayNames(s), c("counts", "logcounts"))
  m <- sdd_sample(r$model, 30, steps = 3, seed = 9, counts = TRUE)
  expect_equal(unname(as.matrix(SummarizedExperiment::assay(s, "logcounts"))), unname(as.matrix(m)))
  expect_equal(unname(as.matrix(SummarizedExperiment::assay(s, "counts"))), unname(as.matrix(attr(m, "counts"))))
  expect_true(all(SummarizedExperiment::colData(s)$group %in% c("A", "B")))
  e <- sdd_evaluate(sce, s, label = "group")
  expect_equal(e$n_synth, 30)
  expect_true(is.finite(e$scc))
})

test_that("asking for an object kind whose package is missing names the package", {
  m <- sdd_train(small_file(), n_top_genes = 100, steps = 1)
  if (!requireNamespace("SeuratObject", quietly = TRUE))
    expect_error(sdd_sample(m, 5, steps = 1, as = "Seurat"), "SeuratObject")
  if (!requireNamespace("SingleCellExperiment", quietly = TRUE))
    expect_error(sdd_sample(m, 5, steps = 1, as = "SingleCellExperiment"), "SingleCellExperiment")
  expect_error(sdd_sample(m, 5, steps = 1, as = "AnnData"), "should be one of")
})
