# The R package against the command-line tool, on the example data: an R session reads
# example_data, simulates 200 cells and gets a 1000 x 200 dgCMatrix named by the model's
# genes; sdd_evaluate() gives the same figures as `sddcell evaluate` on the same files.
# usage: Rscript r_acceptance.R SDDCELL_BINARY EXAMPLE.h5ad WORKDIR
args <- commandArgs(trailingOnly = TRUE)
sdd <- args[1]; data <- args[2]; work <- args[3]
suppressPackageStartupMessages({ library(sddcell); library(Matrix) })
fail <- function(...) { cat("FAIL:", ..., "\n"); quit(status = 1) }

x <- sdd_read(data)
if (!is(x$counts, "dgCMatrix")) fail("sdd_read did not return a dgCMatrix")
r <- sdd_simulate(x$counts, n = 200, steps = 40, seed = 11, sample_args = list(steps = 20, seed = 12))
syn <- r$synthetic
if (!identical(dim(syn), c(1000L, 200L))) fail("synthetic matrix is", dim(syn), "not 1000 x 200")
if (!identical(rownames(syn), sdd_model_genes(r$model))) fail("rownames are not the model's genes")
cat("sdd_simulate: ", nrow(syn), "x", ncol(syn), "dgCMatrix,", round(100 * (1 - length(syn@x) / length(syn)), 1),
    "% zeros\n")

# the same synthetic cells through the CLI: save the model, sample with the CLI, evaluate both ways
model <- file.path(work, "r.sdd"); synth <- file.path(work, "synth.h5ad"); json <- file.path(work, "eval.json")
sdd_save(r$model, model)
st <- system2(sdd, c("sample", model, "-n", "200", "--steps", "20", "--seed", "12", "-o", synth, "--quiet"))
if (st != 0) fail("sddcell sample failed")
cli_syn <- sdd_read(synth)$counts
if (!isTRUE(all.equal(cli_syn@x, syn@x, tolerance = 0)) || !identical(cli_syn@i, syn@i))
  fail("the CLI's sample differs from sdd_sample's with the same model and seed")
st <- system2(sdd, c("evaluate", data, synth, "--json", json, "--seed", "5"), stdout = FALSE)
if (st != 0) fail("sddcell evaluate failed")
cli <- readLines(json)
num <- function(key) as.numeric(sub(paste0('.*"', key, '":\\s*([-0-9.eE+]+).*'), "\\1",
                                    grep(paste0('"', key, '":'), cli, value = TRUE)[1]))
e <- sdd_evaluate(data, synth, seed = 5)
for (k in c("sparsity_real", "sparsity_synth", "scc", "pcc", "mmd", "lisi", "lisi_scaled", "knn_auc")) {
  d <- abs(e[[k]] - num(k))
  cat(sprintf("%-15s R %.8f  CLI %.8f\n", k, e[[k]], num(k)))
  if (!(d <= 1e-6 * max(1, abs(num(k))))) fail(k, "differs:", e[[k]], "vs", num(k))
}
cat("ok\n")
