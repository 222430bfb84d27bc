# Calls with different `threads` settings: the same bits, and the compute threads of a
# larger setting are ended (joined) when a later call asks for fewer.

process_threads <- function() {
  if (!dir.exists("/proc/self/task")) return(NA_integer_)
  length(list.files("/proc/self/task"))
}

test_that("alternating thread settings give the same model and cells and no stray threads", {
  base <- process_threads()
  a <- sdd_train(small_file(), n_top_genes = 200, steps = 4, seed = 3, threads = 3)
  with3 <- process_threads()
  b <- sdd_train(small_file(), n_top_genes = 200, steps = 4, seed = 3, threads = 1)
  with1 <- process_threads()
  x3 <- sdd_sample(a, 40, steps = 4, seed = 1, threads = 3)
  x1 <- sdd_sample(b, 40, steps = 4, seed = 1, threads = 1)
  expect_identical(x3, x1)
  expect_identical(sdd_model_info(a), sdd_model_info(b))
  if (!is.na(base)) {
    expect_lte(with3 - base, 2)
    expect_equal(with1, base)
    expect_equal(process_threads(), base)
  }
})
