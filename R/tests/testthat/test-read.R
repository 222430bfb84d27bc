test_that("sdd_read gives the genes x cells dgCMatrix anndata sees", {
  ref <- small_reference()
  x <- sdd_read(small_file())
  m <- x$counts
  expect_s4_class(m, "dgCMatrix")
  expect_equal(dim(m), c(as.integer(ref$n_genes), as.integer(ref$n_cells)))
  expect_equal(length(m@x), as.integer(ref$nnz))
  expect_equal(sum(m@x), as.numeric(ref$sum), tolerance = 1e-9)
  expect_equal(colnames(m)[1:3], ref$first_cells)
  expect_equal(rownames(m)[1:3], ref$first_genes)
  expect_equal(unname(Matrix::colSums(m)[1:3]), as.numeric(ref$col_sums_first3))
  tab <- table(x$obs$group)
  expect_equal(as.integer(tab[["A"]]), as.integer(sub("A=", "", grep("^A=", ref$group_counts, value = TRUE))))
  expect_true(is.factor(x$obs$group))
})

test_that("sdd_read reports bad input as an R error, not a crash", {
  expect_error(sdd_read(tempfile(fileext = ".h5ad")), "")
  bad <- tempfile(fileext = ".h5ad")
  writeLines("not an HDF5 file", bad)
  expect_error(sdd_read(bad), "HDF5|format|h5ad", ignore.case = TRUE)
  expect_error(sdd_read(small_file(), layer = "no_such_layer"), "no_such_layer")
})

test_that("the library version matches the package version", {
  expect_equal(sdd_version(), as.character(packageVersion("sddcell")))
})
