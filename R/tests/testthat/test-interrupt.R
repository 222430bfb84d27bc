# Interrupting the C library from R: a timed interrupt during sdd_train() arrives as an R
# error condition, the session goes on, and no file is left behind.

tmp_files <- function() sort(list.files(tempdir(), all.files = TRUE, no.. = TRUE, recursive = TRUE))

test_that("a time limit interrupts sdd_train() with an error and leaves no file", {
  x <- sdd_read(small_file())$counts
  before <- tmp_files()
  t0 <- proc.time()[["elapsed"]]
  setTimeLimit(elapsed = 1.5, transient = TRUE)
  cond <- tryCatch(sdd_train(x, n_top_genes = 200, steps = 1e6, seed = 1),
                   error = function(e) e, interrupt = function(i) i)
  setTimeLimit(elapsed = Inf)
  took <- proc.time()[["elapsed"]] - t0
  expect_true(inherits(cond, "condition"))
  expect_false(inherits(cond, "sdd_model"))
  expect_match(conditionMessage(cond), "interrupt|time limit", ignore.case = TRUE)
  expect_lt(took, 60)
  expect_identical(tmp_files(), before)
  # the session goes on: the library trains again and its results are as before
  a <- sdd_train(x, n_top_genes = 200, steps = 3, seed = 5)
  expect_equal(sdd_model_summary(a)$step, 3)
})

test_that("SIGINT sent to R during sdd_train() is an error condition; the session survives", {
  skip_on_os("windows")
  x <- sdd_read(small_file())$counts
  before <- tmp_files()
  # A helper process sends SIGINT to this R process once training runs. The subshell is
  # backgrounded as a whole: system(wait = FALSE) appends "&" to the command, and a bare
  # "sleep; kill" would sleep inside system(), which ignores SIGINT while it waits, so the
  # signal could arrive before R's handler is back. A time limit well above the signal's
  # moment keeps a lost signal from training for ever.
  system(sprintf("(sleep 1.5; kill -INT %d)", Sys.getpid()), wait = FALSE)
  setTimeLimit(elapsed = 120, transient = TRUE)
  cond <- tryCatch(sdd_train(x, n_top_genes = 200, steps = 1e6, seed = 1),
                   error = function(e) e, interrupt = function(i) i)
  setTimeLimit(elapsed = Inf)
  Sys.sleep(0.2)
  expect_true(inherits(cond, "error") || inherits(cond, "interrupt"))
  expect_false(grepl("time limit", conditionMessage(cond)))
  expect_identical(tmp_files(), before)
  m <- sdd_train(x, n_top_genes = 200, steps = 2, seed = 5)
  expect_equal(sdd_model_summary(m)$step, 2)
})
