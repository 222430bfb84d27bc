# The objects R users hold: Seurat (SeuratObject) and SingleCellExperiment. Counts come
# out of them for training; synthetic cells go back into the same kind of object. Both
# packages are optional (Suggests): they are loaded only when such an object is given or
# asked for.

.need <- function(pkg, why) {
  if (!requireNamespace(pkg, quietly = TRUE))
    stop(why, " needs the ", pkg, " package (install it, e.g. apt-get install ",
         switch(pkg, SeuratObject = , Seurat = "r-cran-seurat",
                SingleCellExperiment = , SummarizedExperiment = "r-bioc-singlecellexperiment",
                paste0("r-cran-", tolower(pkg))), ")", call. = FALSE)
}

# "Seurat", "SingleCellExperiment" or "matrix" (anything else: a file name or a matrix).
.object_kind <- function(x) {
  if (methods::is(x, "Seurat")) "Seurat"
  else if (methods::is(x, "SingleCellExperiment")) "SingleCellExperiment"
  else "matrix"
}

.seurat_v5 <- function() utils::packageVersion("SeuratObject") >= "5.0.0"

# One layer ("counts" or "data") of a Seurat object's default assay, genes x cells.
.seurat_layer <- function(x, layer) {
  .need("SeuratObject", "a Seurat object")
  args <- list(x, assay = SeuratObject::DefaultAssay(x))
  args[[if (.seurat_v5()) "layer" else "slot"]] <- layer
  m <- do.call(SeuratObject::GetAssayData, args)
  if (!length(m)) stop("the Seurat object has no '", layer, "' in its assay ", args$assay, call. = FALSE)
  m
}

# A column of cell annotations (Seurat meta.data or SingleCellExperiment colData).
.cell_column <- function(x, key) {
  md <- if (methods::is(x, "Seurat")) x[[]] else as.data.frame(SummarizedExperiment::colData(x))
  if (!key %in% colnames(md))
    stop("no column '", key, "' in the cell annotations (", if (methods::is(x, "Seurat")) "meta.data" else "colData",
         "); there are: ", paste(colnames(md), collapse = ", "), call. = FALSE)
  md[[key]]
}

# Counts (genes x cells) and the labels of a Seurat / SingleCellExperiment object.
.object_counts <- function(x, label = NULL) {
  kind <- .object_kind(x)
  labels <- if (!is.null(label) && kind != "matrix") .cell_column(x, label) else NULL
  counts <- switch(kind,
    Seurat = .seurat_layer(x, "counts"),
    SingleCellExperiment = {
      .need("SummarizedExperiment", "a SingleCellExperiment")
      if (!"counts" %in% SummarizedExperiment::assayNames(x))
        stop("the SingleCellExperiment has no 'counts' assay (assays: ",
             paste(SummarizedExperiment::assayNames(x), collapse = ", "), ")", call. = FALSE)
      SummarizedExperiment::assay(x, "counts")
    },
    x)
  list(counts = counts, labels = labels)
}

# The log-normalised values of an object holding synthetic (or normalised) cells: the
# Seurat "data" layer, the SingleCellExperiment "logcounts" assay, else the matrix itself.
.object_logdata <- function(x) {
  switch(.object_kind(x),
    Seurat = .seurat_layer(x, "data"),
    SingleCellExperiment = {
      if (!"logcounts" %in% SummarizedExperiment::assayNames(x))
        stop("the SingleCellExperiment has no 'logcounts' assay", call. = FALSE)
      SummarizedExperiment::assay(x, "logcounts")
    },
    x)
}

# Synthetic cells as an object: `data` the log1p-normalised genes x cells dgCMatrix,
# `counts` integer counts (or NULL), `obs` the cell annotations (source, label column).
.as_object <- function(data, counts, obs, as) {
  obs <- as.data.frame(obs, stringsAsFactors = FALSE, optional = TRUE)
  rownames(obs) <- colnames(data)
  if (as == "SingleCellExperiment") {
    .need("SingleCellExperiment", "as = 'SingleCellExperiment'")
    assays <- if (is.null(counts)) list(logcounts = data) else list(counts = counts, logcounts = data)
    return(SingleCellExperiment::SingleCellExperiment(assays = assays, colData = obs))
  }
  .need("SeuratObject", "as = 'Seurat'")
  if (is.null(counts)) {
    assay <- SeuratObject::CreateAssayObject(data = data)
    SeuratObject::Key(assay) <- "rna_"
    so <- SeuratObject::CreateSeuratObject(assay, meta.data = obs)
  } else {
    so <- SeuratObject::CreateSeuratObject(counts = counts, meta.data = obs, min.cells = 0, min.features = 0)
    rownames(data) <- rownames(so) # Seurat's feature names ('_' becomes '-')
    args <- list(so, new.data = data)
    args[[if (.seurat_v5()) "layer" else "slot"]] <- "data"
    so <- do.call(SeuratObject::SetAssayData, args)
  }
  so
}
