# Training here is short (a few dozen steps): these tests check the interface and the
# contracts of the outputs, not the fidelity of the model.

test_that("a model trained from a file has the parameter count of doc/method.md section 4.6 and samples exact zeros", {
  m <- sdd_train(small_file(), n_top_genes = 300, steps = 20, seed = 1)
  s <- sdd_model_summary(m)
  G <- 300
  expect_equal(s$n_params, 3291648 + 512 * (4 * G) + 1025 * (2 * G))
  expect_equal(length(s$genes), G)
  expect_equal(s$step, 20)
  expect_equal(s$n_cells, as.numeric(small_reference()$n_cells))
  x <- sdd_sample(m, 50, steps = 10, seed = 3)
  expect_s4_class(x, "dgCMatrix")
  expect_equal(dim(x), c(G, 50L))
  expect_equal(rownames(x), s$genes)
  expect_equal(length(unique(colnames(x))), 50L)
  expect_true(all(x@x > 0))
  expect_true(length(x@x) < G * 50)
  # the same seed gives the same cells; another seed others
  expect_identical(sdd_sample(m, 50, steps = 10, seed = 3), x)
  expect_false(identical(sdd_sample(m, 50, steps = 10, seed = 4)@x, x@x))
})

test_that("save and load round-trip a model", {
  m <- sdd_train(small_file(), n_top_genes = 200, steps = 5, seed = 2)
  f <- tempfile(fileext = ".sdd")
  on.exit(unlink(f))
  sdd_save(m, f)
  m2 <- sdd_load(f)
  expect_equal(sdd_model_summary(m2), sdd_model_summary(m))
  expect_identical(sdd_sample(m2, 20, steps = 5, seed = 9), sdd_sample(m, 20, steps = 5, seed = 9))
  bad <- tempfile(fileext = ".sdd")
  writeBin(as.raw(1:64), bad)
  expect_error(sdd_load(bad), "model|magic|sddcell", ignore.case = TRUE)
  unlink(bad)
})

test_that("a dgCMatrix of counts trains like the file it came from", {
  x <- sdd_read(small_file())$counts
  a <- sdd_train(x, n_top_genes = 200, steps = 3, seed = 5)
  b <- sdd_train(small_file(), n_top_genes = 200, steps = 3, seed = 5)
  expect_equal(sdd_model_genes(a), sdd_model_genes(b))
  expect_identical(sdd_sample(a, 10, steps = 3), sdd_sample(b, 10, steps = 3))
  expect_error(sdd_train(unname(x)), "names")
  expect_error(sdd_train(x, steps = 3, validation = 0.7), "validation share")
  expect_error(sdd_train(x, steps = 3, patience = 0), "patience")
})

test_that("labels make a conditional model and labelled samples", {
  r <- sdd_read(small_file())
  m <- sdd_train(r$counts, labels = r$obs$group, n_top_genes = 200, steps = 5)
  s <- sdd_model_summary(m)
  expect_equal(s$labels, c("A", "B"))
  x <- sdd_sample(m, 30, steps = 3, label = "A")
  expect_true(all(attr(x, "obs")[[s$label_key]] == "A"))
  expect_error(sdd_sample(m, 5, label = "no-such-label"), "no-such-label")
})

test_that("evaluate gives the metrics of real against synthetic cells", {
  m <- sdd_train(small_file(), n_top_genes = 200, steps = 10)
  x <- sdd_sample(m, 120, steps = 5)
  e <- sdd_evaluate(small_file(), x)
  expect_equal(e$n_real, 120)
  expect_equal(e$n_synth, 120)
  expect_equal(e$n_genes, 200)
  # sparsity of the synthetic side is the fraction of entries not stored
  expect_equal(e$sparsity_synth, 1 - length(x@x) / (200 * 120), tolerance = 1e-12)
  for (k in c("scc", "pcc", "mmd", "lisi", "lisi_scaled", "knn_auc")) expect_true(is.finite(e[[k]]))
  expect_true(e$knn_auc >= 0 && e$knn_auc <= 1)
})

test_that("simulate holds cells out and evaluate compares with them beside the floor", {
  x <- sdd_read(small_file())$counts
  # 120 cells: a share of 0.85 keeps 102 apart (fewer than 100 would keep none)
  r <- sdd_simulate(x, n = 30, holdout = 0.85, n_top_genes = 200, steps = 3, seed = 4,
                    sample_args = list(steps = 3))
  held <- r$heldout_cells
  expect_equal(length(held), 102)
  expect_true(all(held %in% colnames(x)))
  expect_equal(sdd_model_summary(r$model)$n_cells, 18)
  train <- x[, !(colnames(x) %in% held)]
  e <- sdd_evaluate(x[, held], r$synthetic, train = train)
  expect_equal(c(e$m, e$n_heldout, e$n_train, e$n_synth_total), c(18, 102, 18, 30))
  expect_equal(e$n_real, 18)
  expect_equal(e$floor$n_real, 18)
  expect_equal(e$floor$sparsity_real, e$sparsity_real)  # the same held-out cells
  expect_true(e$memorisation >= 0 && e$memorisation <= 1)
  for (k in c("scc", "mmd", "knn_auc")) expect_true(is.finite(e$floor[[k]]))
  expect_equal(length(sdd_simulate(x, n = 5, n_top_genes = 200, steps = 1, sample_args = list(steps = 2))$heldout_cells), 0)
})

test_that("simulate trains on clusters of the training cells unless told otherwise, as the CLI does", {
  x <- sdd_read(small_file())$counts
  r <- sdd_simulate(x, n = 40, holdout = 0, n_top_genes = 200, steps = 2, seed = 3,
                    sample_args = list(steps = 2))
  s <- sdd_model_summary(r$model)
  expect_equal(s$label_key, "cluster")
  expect_true(length(s$labels) >= 1)
  expect_true(all(attr(r$synthetic, "obs")$cluster %in% s$labels))
  r0 <- sdd_simulate(x, n = 10, holdout = 0, label = "none", n_top_genes = 200, steps = 2, seed = 3,
                     sample_args = list(steps = 2))
  expect_null(sdd_model_summary(r0$model)$label_key)
})
