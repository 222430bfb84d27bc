#' Read a single-cell count file
#'
#' @param path an AnnData \code{.h5ad} file (any anndata generation), a 10x Genomics
#'   \code{.h5} file or a 10x MTX directory.
#' @param layer read \code{layers/<layer>} of an h5ad file instead of X.
#' @param raw read \code{raw/X} of an h5ad file instead of X.
#' @param genome for 10x files holding several genomes, the one to read.
#' @return a list with \code{counts}, a genes x cells \code{dgCMatrix} with dimnames,
#'   \code{obs}, a data frame of cell annotations, and \code{gene_ids} (or NULL).
sdd_read <- function(path, layer = NULL, raw = FALSE, genome = NULL) {
  path <- path.expand(path)
  r <- .Call(C_sdd_r_read, path, layer, isTRUE(raw), genome)
  counts <- new("dgCMatrix", i = r$i, p = r$p, x = r$x, Dim = r$dim,
                Dimnames = list(r$genes, r$cells))
  obs <- if (length(r$obs)) as.data.frame(r$obs, stringsAsFactors = FALSE, optional = TRUE)
         else data.frame(row.names = seq_along(r$cells))
  rownames(obs) <- r$cells
  list(counts = counts, obs = obs, gene_ids = r$gene_ids)
}

#' The version of the sddcell library
#' @return the version string, the one `sddcell --version` prints.
sdd_version <- function() .Call(C_sdd_r_version)
