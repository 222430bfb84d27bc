# Training, sampling, simulation and evaluation over the sddcell C library. Inputs given
# as matrices, Seurat or SingleCellExperiment objects are written to a temporary .h5ad and
# read back by the library, so every route shares the file readers' checks.

.as_counts_file <- function(x, label = NULL, labels = NULL) {
  # "auto" (clusters of the training cells) and "none" name no column
  if (is.null(labels) && is.character(label) && length(label) == 1L && label %in% c("auto", "none")) {
    f <- .as_counts_file(x)
    f$label <- label
    return(f)
  }
  if (is.character(x) && length(x) == 1L) return(list(path = path.expand(x), label = label, tmp = FALSE))
  if (.object_kind(x) != "matrix") {
    o <- .object_counts(x, label)
    if (!is.null(o$labels)) labels <- o$labels
    x <- o$counts
  }
  .write_matrix(x, label, labels)
}

# A genes x cells matrix (and labels) as a temporary .h5ad.
.write_matrix <- function(x, label = NULL, labels = NULL) {
  if (!methods::is(x, "dgCMatrix")) x <- methods::as(methods::as(x, "CsparseMatrix"), "generalMatrix")
  if (is.null(rownames(x)) || is.null(colnames(x))) stop("the count matrix needs gene (row) and cell (column) names")
  x <- methods::as(x, "dgCMatrix")
  path <- tempfile("sddcell_", fileext = ".h5ad")
  key <- NULL; codes <- integer(0); levels <- character(0)
  if (!is.null(labels)) {
    if (length(labels) != ncol(x)) stop("labels must have one entry per cell (column)")
    f <- factor(labels)
    key <- if (is.null(label)) "label" else label
    codes <- as.integer(f); levels <- levels(f)
  }
  .Call(C_sdd_r_write_h5ad, path, x@i, x@p, as.numeric(x@x), x@Dim, rownames(x), colnames(x),
        key, codes, levels)
  list(path = path, label = key, tmp = TRUE)
}

.opts <- function(...) {
  o <- list(...)
  o[!vapply(o, is.null, TRUE)]
}

#' Train a Sparse Data Diffusion model on raw counts
sdd_train <- function(x, n_top_genes = 1000, flavor = "seurat", steps = NULL, batch_size = 256,
                      lr = NULL, label = NULL, labels = NULL, sparsity_bits = TRUE, seed = 42,
                      threads = 1, layer = NULL, raw = FALSE, verbose = FALSE, ...) {
  input <- .as_counts_file(x, label, labels)
  if (input$tmp) on.exit(unlink(input$path), add = TRUE)
  opts <- .opts(n_top_genes = n_top_genes, flavor = flavor, steps = steps, batch_size = batch_size,
                lr = lr, label = input$label, sparsity_bits = sparsity_bits, seed = seed,
                threads = threads, layer = layer, raw = raw, verbose = verbose, ...)
  .Call(C_sdd_r_train, input$path, opts)
}

#' Save a model to a file readable by `sddcell sample` and sdd_load()
sdd_save <- function(model, path) {
  invisible(.Call(C_sdd_r_save, model, path.expand(path)))
}

#' Load a model written by sdd_save() or `sddcell train`
sdd_load <- function(path) .Call(C_sdd_r_load, path.expand(path))

#' Metadata of a model (genes, scaling, options, steps, parameter count) as JSON text
sdd_model_info <- function(model) .Call(C_sdd_r_model_json, model)

#' A model's genes, parameter count, training steps, training cells and labels
sdd_model_summary <- function(model) .Call(C_sdd_r_model_summary, model)

#' The genes of a model, in its order
sdd_model_genes <- function(model) sdd_model_summary(model)$genes

print.sdd_model <- function(x, ...) {
  s <- sdd_model_summary(x)
  cat("sddcell model:", format(s$n_params, big.mark = ","), "parameters,", length(s$genes),
      "genes,", s$step, "training steps on", s$n_cells, "cells")
  if (!is.null(s$label_key)) cat(", conditional on", s$label_key, "(", length(s$labels), "labels )")
  cat("\n")
  invisible(x)
}

.to_dgc <- function(r) {
  new("dgCMatrix", i = r$i, p = r$p, x = r$x, Dim = r$dim, Dimnames = list(r$genes, r$cells))
}

#' Sample synthetic cells from a model
sdd_sample <- function(model, n, sampler = "ddim", steps = NULL, bit_decode = NULL, label = NULL,
                       guidance = NULL, seed = 42, threads = 1, ema = TRUE, verbose = FALSE,
                       as = c("dgCMatrix", "SingleCellExperiment", "Seurat"), counts = FALSE,
                       precision = "auto") {
  as <- match.arg(as)
  if (as != "dgCMatrix") .need(if (as == "Seurat") "SeuratObject" else "SingleCellExperiment",
                               paste0("as = '", as, "'"))
  r <- .Call(C_sdd_r_sample, model, n, .opts(sampler = sampler, steps = steps, bit_decode = bit_decode,
             label = label, guidance = guidance, seed = seed, threads = threads, ema = ema,
             verbose = verbose, precision = precision))
  m <- .to_dgc(r)
  cnt <- NULL
  if (isTRUE(counts)) {
    k <- .Call(C_sdd_r_sample_counts, model, m@i, m@p, as.numeric(m@x), m@Dim, seed)
    cnt <- new("dgCMatrix", i = k$i, p = k$p, x = k$x, Dim = m@Dim, Dimnames = m@Dimnames)
  }
  if (as != "dgCMatrix") return(.as_object(m, cnt, r$obs, as))
  attr(m, "obs") <- r$obs
  if (!is.null(cnt)) attr(m, "counts") <- cnt
  m
}

#' Train on x (less a held-out share of its cells) and sample synthetic cells in one call
sdd_simulate <- function(x, n = NULL, holdout = 0.1, ..., sample_args = list(), counts = FALSE,
                         as = NULL) {
  kind <- .object_kind(x)
  if (is.null(as)) as <- if (kind == "matrix") "dgCMatrix" else kind
  args <- list(...)
  # as `sddcell simulate`: a conditional model on clusters of the training cells by default
  if (is.null(args$label) && is.null(args$labels)) args$label <- "auto"
  input <- .as_counts_file(x, args$label, args$labels)
  if (input$tmp) on.exit(unlink(input$path), add = TRUE)
  args$labels <- NULL; args$label <- input$label; args$holdout <- holdout
  model <- do.call(sdd_train, c(list(input$path), args))
  if (is.null(n)) n <- sdd_model_summary(model)$n_cells
  # the sampling steps of `sddcell simulate`: 0 lets the library size them by n
  if (is.null(sample_args$steps)) sample_args$steps <- 0L
  sample_args$as <- as
  sample_args$counts <- counts
  synth <- do.call(sdd_sample, c(list(model, n), sample_args))
  held <- attr(model, "heldout_cells")
  list(synthetic = synth, model = model, heldout_cells = if (is.null(held)) character(0) else held)
}

#' Compare synthetic with real cells (the figures of `sddcell evaluate`)
sdd_evaluate <- function(real, synth, label = NULL, n_sub = NULL, real_normalized = FALSE,
                         target_sum = NULL, seed = 42, threads = 1, train = NULL) {
  files <- character(0)
  on.exit(unlink(files), add = TRUE)
  # real and train cells: counts (or log1p values with real_normalized)
  real_file <- function(m) {
    if (is.character(m) && length(m) == 1L) return(path.expand(m))
    if (.object_kind(m) != "matrix") {
      labs <- if (is.null(label)) NULL else .cell_column(m, label)
      m <- if (real_normalized) .object_logdata(m) else .object_counts(m)$counts
    } else {
      labs <- if (is.null(label)) NULL else attr(m, "obs")[[label]]
    }
    f <- .write_matrix(m, label, labs)
    files <<- c(files, f$path)
    f$path
  }
  # synthetic cells: log1p values
  synth_file <- function(m) {
    if (is.character(m) && length(m) == 1L) return(path.expand(m))
    labs <- if (is.null(label)) NULL
            else if (.object_kind(m) != "matrix") .cell_column(m, label)
            else attr(m, "obs")[[label]]
    f <- .write_matrix(.object_logdata(m), label, labs)
    files <<- c(files, f$path)
    f$path
  }
  .Call(C_sdd_r_evaluate, real_file(real), synth_file(synth),
        .opts(label = label, n_sub = n_sub, real_normalized = real_normalized,
              target_sum = target_sum, seed = seed, threads = threads,
              train = if (is.null(train)) NULL else real_file(train)))
}
