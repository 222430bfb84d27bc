/*
 * sddcell.h: the public interface of libsddcell, the Sparse Data Diffusion library.
 *
 * The library learns a generator of synthetic cells from a single-cell count matrix. The
 * sections of the interface are its stages, in the order a program calls them, kept in
 * five parts that this header includes (sddcell_core.h: core; sddcell_data.h: read,
 * prepare; sddcell_model.h: model, train, sample; sddcell_eval.h: evaluate, embed;
 * sddcell_write.h: write):
 *
 *   core      errors, logging, threads, the RNG, the CSR matrix and the dataset type
 *   read      an .h5ad, a 10x .h5 or a 10x MTX directory into an sdd_dataset_t
 *   prepare   QC, normalize_total, log1p and highly variable genes: an sdd_trainset_t
 *   model     the network, its options, and its file (save, load)
 *   train     fitting a model to a training set
 *   sample    synthetic cells from a model, as an sdd_dataset_t
 *   evaluate  real against synthetic cells: sparsity, gene means, MMD, LISI, kNN AUC,
 *             the held-out protocol, integer counts
 *   embed     real and synthetic cells in one PCA / kNN / UMAP space, and its plots
 *   write     .h5ad output, joining sampled shards, the HTML report, MultiQC files
 *
 * README.md ("Library") shows a whole program that reads a file, trains, samples and
 * evaluates with this header alone. Equations and section numbers (§N) refer to
 * doc/method.md.
 *
 * Every front end (the sddcell CLI, the R shim) includes this header and nothing else from
 * src/. The library never prints, exits, aborts or calls rand(): functions return 0
 * (SDD_OK) or a negative SDD_E* code, or NULL, and leave a one-line description in a
 * thread-local detail string (sdd_errdetail()). Diagnostics and progress go through the
 * replaceable log sink (sdd_log_*).
 *
 * Memory: an object handed back through `**out` (or a struct filled through `*out`) is
 * allocated by the library and belongs to the caller, who frees it with the destroy or
 * free function named beside it; destroy and free functions accept NULL and half-built
 * objects. Pointers passed in are borrowed for the call only, unless a comment says the
 * object keeps them. Output arrays called caller-owned are allocated by the caller at the
 * size given.
 *
 * Dimension names used everywhere: B batch, G genes, H hidden width, E embedding width,
 * N cells. Matrices are row-major; a cells x genes count matrix is CSR.
 */
#ifndef SDDCELL_H
#define SDDCELL_H

/* The parts, each including the one before: */
#include "sddcell_core.h"  /* core */
#include "sddcell_data.h"  /* read, prepare */
#include "sddcell_model.h" /* model, train, sample */
#include "sddcell_eval.h"  /* evaluate, embed */
#include "sddcell_write.h" /* write */

#endif /* SDDCELL_H */
