/*
 * main.c: sddcell's entry point. Reads the global options, keeps OpenBLAS to one thread
 * (the library runs --threads threads of its own), and dispatches to a subcommand from
 * one table.
 */
#include "cli.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE_HEAD "Usage: sddcell [--threads N] [--seed N] [-v|--quiet] <command> [options]\n"

const cli_cmd_t cli_commands[] = {
    {"info", cli_info_main, "describe a count file (h5ad, 10x h5, 10x MTX) or a model",
     "Usage: sddcell info [--json] [--layer NAME | --raw] [--genome G] [--feature-type T] FILE\n"
     "\n"
     "Describe FILE: format and generation, cells, genes, stored non-zeros, sum of X,\n"
     "fraction of zeros, data type and obs columns. X is streamed in row chunks; its\n"
     "compressed chunks are decoded on --threads N threads.\n"
     "\n"
     "Options:\n"
     "  --json            print one JSON object instead of text\n"
     "  --layer NAME      h5ad: describe layers/NAME instead of X\n"
     "  --raw             h5ad: describe raw/X instead of X\n"
     "  --genome G        10x: genome to read when the file holds several\n"
     "  --feature-type T  10x: feature type to keep (default 'Gene Expression'; 'all')\n"
     "  -h, --help        show this help\n"},
    {"convert", cli_convert_main, "rewrite any readable input as a clean .h5ad",
     "Usage: sddcell convert [--layer NAME | --raw] [--genome G] IN OUT.h5ad\n"
     "\n"
     "Read IN (h5ad of any anndata generation, 10x h5, 10x MTX directory) and write\n"
     "OUT.h5ad for anndata >= 0.8: X as csr_matrix float32, obs and var names, obs columns.\n"
     "\n"
     "Options:\n"
     "  --layer NAME      h5ad: convert layers/NAME instead of X\n"
     "  --raw             h5ad: convert raw/X instead of X\n"
     "  --genome G        10x: genome to read when the file holds several\n"
     "  --feature-type T  10x: feature type to keep (default 'Gene Expression'; 'all')\n"
     "  -h, --help        show this help\n"},
    {"concat", cli_concat_main, "join .h5ad files with the same genes (e.g. sample shards)",
     "Usage: sddcell concat OUT.h5ad PART.h5ad...\n"
     "\n"
     "Join the PARTs into OUT.h5ad, cells in the order given: X and the layers (sparse or\n"
     "dense), obs (names and columns) and obsm are joined along the cells; var, uns and\n"
     "the rest come from the first part. The shards 1..K of one 'sddcell sample --shard'\n"
     "run join into the file the whole run writes. Data stream through fixed-size\n"
     "buffers, so memory does not grow with the parts.\n"
     "\n"
     "Refused, with one line naming the first part that differs and no output: parts\n"
     "with other genes (var names, in order), obs columns (or categories), layers or\n"
     "obsm; uns['sddcell'] of another model or other settings; shards that are not\n"
     "1..K of one split in order; raw, obsp and dense X, which are not joined.\n"
     "\n"
     "Options:\n"
     "  -h, --help        show this help\n"},
    {"hvg", cli_hvg_main, "QC, normalisation and highly variable genes (scanpy / Seurat)",
     "Usage: sddcell hvg [options] FILE\n"
     "\n"
     "Run scanpy's preprocessing on the counts in FILE (h5ad, 10x h5, 10x MTX), streaming X\n"
     "in row chunks: filter_genes(min_cells), filter_cells(min_genes), normalize_total,\n"
     "log1p, then highly_variable_genes. Prints a TSV with one row per gene of FILE:\n"
     "gene, gene_id, means, dispersions, dispersions_norm (seurat, cell_ranger) or\n"
     "variances, variances_norm, highly_variable_rank (seurat_v3), highly_variable.\n"
     "Genes removed by QC have 'nan' statistics and are never selected.\n"
     "\n"
     "Options:\n"
     "  -n, --n-top-genes N  number of highly variable genes (default 1000); more than FILE\n"
     "                       has is an error, more than pass QC selects all that pass\n"
     "  --flavor F           one of {flavors} (default seurat);\n"
     "                       seurat_v3 works on the counts, as Seurat's\n"
     "                       FindVariableFeatures(selection.method = \"vst\")\n"
     "  -o, --output FILE    write the table to FILE instead of standard output\n"
     "  --h5ad OUT.h5ad      also write FILE back with these var columns and\n"
     "                       uns['hvg'] = {'flavor': F} (reads the whole matrix)\n"
     "  --min-cells N        QC: keep genes with counts in >= N cells (default 3)\n"
     "  --min-genes N        QC: then keep cells with >= N of those genes (default 10)\n"
     "  --target-sum X       normalize_total target (default 10000); 'median' or 0 for\n"
     "                       the median of the cells' totals (scanpy's default)\n"
     "  --chunk-rows N       cells read per chunk (default 10000)\n"
     "  --layer NAME         h5ad: use layers/NAME as the counts\n"
     "  --raw                h5ad: use raw/X as the counts\n"
     "  --genome G           10x: genome to read when the file holds several\n"
     "  --feature-type T     10x: feature type to keep (default 'Gene Expression'; 'all')\n"
     "  -h, --help           show this help\n"},
    {"evaluate", cli_evaluate_main, "compare synthetic cells with real ones (SCC, PCC, MMD, LISI, kNN AUC)",
     "Usage: sddcell evaluate [options] REAL SYNTH\n"
     "\n"
     "Compare the synthetic cells of SYNTH (log1p-normalised, e.g. from 'sddcell simulate')\n"
     "with the real cells of REAL (raw counts, normalised and log1p'd as at training) on\n"
     "SYNTH's genes, matched by name: sparsity (both sides, per-cell zero-fraction\n"
     "histograms), SCC and PCC of the gene means, MMD on 50 joint PCs, LISI (median and\n"
     "scaled) and a 5-NN classifier's cross-validated AUC on 20 joint PCs; per label with\n"
     "--label. A table on stdout; every figure in the JSON file.\n"
     "\n"
     "With --train TRAIN (the real cells the model was trained on; REAL then holds cells it\n"
     "never saw) the held-out protocol: m = min(REAL, SYNTH, TRAIN cells) a side, the\n"
     "figures of SYNTH vs REAL beside the floor (TRAIN vs the same REAL cells), and the\n"
     "memorisation share (nearest of m TRAIN + m REAL cells is a TRAIN cell: 0.5 = no\n"
     "copying, 1 = copies); JSON blocks synthetic_vs_heldout, training_vs_heldout and\n"
     "memorisation.\n"
     "\n"
     "With --counts, SYNTH's layers/counts (from sampling with --counts) are judged against\n"
     "REAL's raw counts on the same genes: library sizes (Kolmogorov-Smirnov distance and\n"
     "medians), the mean-variance relation (Pearson of the mean log10 variance over 20\n"
     "bins of log10 mean, and its offset) and the per-gene zero fractions (Pearson, mean\n"
     "absolute difference); with --train also TRAIN's counts against REAL's as the floor.\n"
     "JSON block counts.\n"
     "\n"
     "Options:\n"
     "  --json FILE          write all metrics as JSON to FILE\n"
     "  --report FILE.html   write a self-contained HTML report: metrics (beside the floor\n"
     "                       with --train), UMAP of real and synthetic cells, per-cluster\n"
     "                       and per-label figures, gene means, zero fractions, options\n"
     "  --multiqc DIR        write MultiQC custom content (SYNTH_sddcell_general_stats_mqc.json,\n"
     "                       SYNTH_sddcell_mqc.json) into DIR (created when missing)\n"
     "  --train TRAIN        the training cells (raw counts, normalised as REAL)\n"
     "  --counts             also compare SYNTH's layers/counts with REAL's raw counts\n"
     "  --label KEY          obs column of both files with cell labels: per-label metrics\n"
     "  --n-sub N            cells per side for MMD, LISI and kNN AUC (default 10000)\n"
     "  --real-normalized    REAL (and TRAIN) already log1p-normalised: use as they are\n"
     "  --target-sum X       normalize_total target for REAL and TRAIN (default 10000;\n"
     "                       0 = median)\n"
     "  -h, --help           show this help\n"
     "\n"
     "The subsample and the folds follow the global --seed.\n"},
    {"embed", cli_embed_main, "joint PCA, neighbour graph and UMAP of real and synthetic cells",
     "Usage: sddcell embed [options] REAL SYNTH -o OUT.h5ad\n"
     "\n"
     "Put the real cells of REAL (raw counts, normalised as at training) and the synthetic\n"
     "cells of SYNTH (log1p-normalised) on SYNTH's genes into one .h5ad ready for scanpy:\n"
     "obsm X_pca, varm PCs, uns pca, obsp distances and connectivities (UMAP fuzzy weights),\n"
     "uns neighbors, obs source {real, synthetic} and the label column.\n"
     "\n"
     "Options:\n"
     "  -o, --output FILE    the .h5ad to write (required)\n"
     "  --tsv FILE           also write cell_id, source, label, PCs (and UMAP) as TSV\n"
     "  --umap               compute a 2-D UMAP layout into obsm X_umap\n"
     "  --plot FILE          draw the UMAP (or PC1/PC2) coloured by source and by label,\n"
     "                       as PNG or SVG by the file's extension\n"
     "  --n-pcs N            principal components (default 50)\n"
     "  --n-neighbors K      neighbours of the graph, self included as scanpy (default 15)\n"
     "  --label KEY          obs column of both files with cell labels\n"
     "  --real-normalized    REAL is already log1p-normalised: use it as it is\n"
     "  --target-sum X       normalize_total target for REAL (default 10000; 0 = median)\n"
     "  -h, --help           show this help\n"
     "\n"
     "The UMAP layout follows the global --seed.\n"},
    {"train", cli_train_main, "preprocess a count file and train an SDD model",
     "Usage: sddcell train [options] FILE -o MODEL.sdd\n"
     "\n"
     "QC, normalize_total, log1p and highly variable genes on the counts in FILE (as\n"
     "`sddcell hvg`), then training of the Sparse Data Diffusion denoiser on the selected\n"
     "genes. Progress on standard error; Ctrl-C (SIGINT/SIGTERM) writes a checkpoint to\n"
     "MODEL.sdd and exits 130. The global --seed (default 42) seeds everything; a seed\n"
     "gives the same model with any --threads.\n"
     "\n"
     "Preprocessing options:\n"
     "  -n, --n-top-genes N  highly variable genes to model (default 1000)\n"
     "  --flavor F           {flavors} (default seurat)\n"
     "  --min-cells N        QC: keep genes with counts in >= N cells (default 3)\n"
     "  --min-genes N        QC: keep cells with >= N of those genes (default 10)\n"
     "  --target-sum X       normalize_total target (default 10000); 'median' or 0\n"
     "  --chunk-rows N       cells read per chunk (default 10000)\n"
     "  --layer NAME, --raw, --genome G, --feature-type T   which counts to read\n"
     "  --label KEY          train a conditional model on obs column KEY; --label auto:\n"
     "                       on Louvain clusters of the training cells (kNN graph, 50 PCs);\n"
     "                       --label none: unconditional (the default)\n"
     "\n"
     "Training options:\n"
     "  -o, --output MODEL   the model file to write (required)\n"
     "  --steps N            optimiser steps at most (default: 150 epochs = ceil(150 cells /\n"
     "                       batch), at least 500 and at most 1200)\n"
     "  --validation F       set this share of the cells aside (at most 250 cells; 0 = off;\n"
     "                       default 0.05) and end training once the EMA model's loss on\n"
     "                       them has risen --patience checks in a row (default 2, one\n"
     "                       check every --val-every 250 steps) more than 1% above its\n"
     "                       lowest (--val-tol 0.01), keeping the weights of the last\n"
     "                       check within that band\n"
     "  --batch-size N       minibatch size (default 256)\n"
     "  --lr X               Adam learning rate (default 0.001)\n"
     "  --lr-decay S         constant (default) or cosine (decay to 0 over the steps)\n"
     "  --ema X              EMA decay of the weights (default 0.9999, with warm-up)\n"
     "  --bit-scale X        magnitude of the sparsity bits (default 1)\n"
     "  --scale global|gene  value scaling by the global or per-gene maximum (default global)\n"
     "  --clip X             gradient clipping at global norm X; 0 = off (default 1)\n"
     "  --precision P        matrix products: auto (default: int8 where the CPU has\n"
     "                       AVX512_VNNI, else fp32), int8 (the forward's and the\n"
     "                       input gradients' products in int8, weight gradients and\n"
     "                       weights fp32; any CPU), fp32, or bf16\n"
     "                       (bf16 operands, fp32 accumulation; needs AVX512_BF16)\n"
     "  --hidden A,B,C,D     hidden widths (default 512,512,256,128)\n"
     "  --head N             output head width (default 1024)\n"
     "  --emb N              time embedding width, even (default 512)\n"
     "  --no-sparsity-bits   train the plain diffusion baseline on values only\n"
     "  --label-dropout X    fraction of labels dropped to the null class (default 0.1)\n"
     "  --bit-weight X       loss weight of the bit half (default 1)\n"
     "  --value-mask         value loss only where the cell's value is non-zero (default;\n"
     "                       --no-value-mask: over every entry, as the paper)\n"
     "  --bit-logits         the network corrects the log-odds each bit's own noised value\n"
     "                       gives, trained with cross-entropy (default): near t = 0 the\n"
     "                       bits pass through; --no-precond: the network's output is\n"
     "                       x0-hat itself (the paper); --precond: x0-hat = c_skip x_t +\n"
     "                       c_out F + c_mean mu (EDM form; measured worse)\n"
     "  --self-cond X        fraction of each batch trained with self-conditioning (0.5)\n"
     "  --grad-slices S      compute each batch's gradient in S slices added pairwise in\n"
     "                       a fixed order (a power of two dividing the batch; default 1)\n"
     "  --checkpoint-every N also write MODEL.sdd every N steps\n"
     "  --resume MODEL       continue the run saved in MODEL (same FILE and preprocessing);\n"
     "                       --steps then sets the new total\n"
     "  -h, --help           show this help\n"
     "\n"
     "Data-parallel (built with --with-mpi): mpirun -np R sddcell train ... --grad-slices S\n"
     "shares each batch between R processes (R a power of two dividing S); the model is\n"
     "byte-identical to one process's with the same seed, batch size and S. Rank 0 writes\n"
     "it; any failure ends the job with one line and no model.\n"},
    {"sample", cli_sample_main, "generate synthetic cells from a trained model",
     "Usage: sddcell sample [options] MODEL.sdd -n N [--shard I/K] -o OUT.h5ad\n"
     "\n"
     "Generate N cells by reverse diffusion with the model's EMA weights, decode the\n"
     "sparsity bits into exact zeros, and write OUT.h5ad: X csr float32 of log1p-normalised\n"
     "values over the model's genes, obs 'source' = synthetic (and the label column of a\n"
     "conditional model), uns['sddcell'] with the settings. The method: doc/method.md,\n"
     "section 7.\n"
     "\n"
     "Options:\n"
     "  -n, --cells N          cells to generate (required)\n"
     "  -o, --output FILE      the .h5ad to write (required)\n"
     "  --sampler S            reverse update: ddim (default), ddpm, or renoise (x_next =\n"
     "                         sqrt(g) x0 + sqrt(1 - g) z, fresh noise)\n"
     "  --steps S              reverse steps (100; 0: by the number of cells, as\n"
     "                         simulate's fast preset)\n"
     "  --eta X                DDIM noise: 0 deterministic (default) to 1 (the DDPM\n"
     "                         posterior's variance)\n"
     "  --bit-update U         the x0 each step moves towards: mean (default: bits 2p - 1,\n"
     "                         values p v - (1 - p)) or draw (bits drawn, x0 one possible cell)\n"
     "  --sample-self-cond M   previous (default: the last step's x0-hat), same (a first\n"
     "                         pass at this step, as in training) or none\n"
     "  --td X                 time difference of the update (0)\n"
     "  --bit-decode M         bernoulli (default: mask drawn with p = (b + 1)/2) or\n"
     "                         threshold (mask = b > 0, the paper's)\n"
     "  --label VALUE          conditional model: every cell gets this label\n"
     "  --label-counts A=N,... conditional model: cells per label (they must add up to N);\n"
     "                         default: the training proportions\n"
     "  --guidance W           classifier-free guidance x0 = x0_null + W (x0_label - x0_null);\n"
     "                         1 (default) = plain conditional, 0 = unconditional\n"
     "  --counts               add layers/counts: integer counts, each cell's smallest\n"
     "                         expressed value read as one count\n"
     "  --no-ema               use the raw training weights instead of the EMA\n"
     "  --threshold            baseline: zero the smallest values until the training\n"
     "                         sparsity is reached\n"
     "  --sample-precision P   products in auto (default: int8 where the CPU has\n"
     "                         AVX512_VNNI, else the model's precision), int8 (any CPU,\n"
     "                         the same cells), fp32 or bf16\n"
     "  --sample-batch B       cells per batch, a multiple of 512 (default, or 0: sized to\n"
     "                         memory, at most 1024); the cells do not depend on it\n"
     "  --shard I/K            make only the I-th of K contiguous slices of the N cells\n"
     "                         (1 <= I <= K <= N), each cell as the whole run makes it at\n"
     "                         its position; 'sddcell concat' joins shards 1..K into the run\n"
     "  --piece-cells N        above 2N cells (a run, not a shard), make and write N cells\n"
     "                         at a time into part files joined at the end, so that memory\n"
     "                         holds N cells (default 100000); the file does not depend on it\n"
     "  -h, --help             show this help\n"
     "\n"
     "The global --seed fixes the output: cell i is drawn from its own stream of the seed,\n"
     "so --threads, --sample-batch and --shard do not change it.\n"},
    {"simulate", cli_simulate_main, "QC, HVG, train, sample and evaluate in one go",
     "Usage: sddcell simulate [options] FILE (-o OUT.h5ad | --prefix P)\n"
     "\n"
     "Hold out a share of the cells that pass QC, preprocess the counts of the others in\n"
     "FILE, train a model, sample as many cells as it trained on (or -n), write them as\n"
     "OUT.h5ad and evaluate them against the held-out cells (sparsity, SCC, PCC, MMD,\n"
     "LISI, kNN AUC), beside the floor (as many training cells against the same held-out\n"
     "cells) and the memorisation share, written to OUT.metrics.json beside the output.\n"
     "With --prefix P the outputs are P.h5ad, P.metrics.json and the model P.sdd.\n"
     "\n"
     "Options:\n"
     "  -o, --output FILE      synthetic cells to write\n"
     "  --prefix P             write P.h5ad, P.metrics.json and P.sdd\n"
     "  --holdout F            fraction of the cells held out from QC's gene filter, HVG,\n"
     "                         scaling and training (default 0.1; seeded by --seed,\n"
     "                         stratified by --label); 0, or fewer than 100 cells (a\n"
     "                         warning), compares with the training cells instead\n"
     "  -n, --cells N          cells to generate (default: as many as train)\n"
     "  --model-out M.sdd      keep the trained model\n"
     "  --report FILE.html     write a self-contained HTML report: the metrics beside the\n"
     "                         held-out floor, UMAP of real and synthetic cells side by\n"
     "                         side, per-cluster figures, gene means, zero fractions, recipe\n"
     "  --multiqc DIR          write MultiQC custom content into DIR (created when missing):\n"
     "                         NAME_sddcell_general_stats_mqc.json and NAME_sddcell_mqc.json\n"
     "  --preset fast|paper    fast (default): a conditional model on clusters of the\n"
     "                         training cells (--label auto), bit logits, lr 1e-3, value\n"
     "                         loss on non-zeros, 150 epochs (500-1200 steps), 100 DDIM\n"
     "                         steps (fewer above 4500 cells, >= 20), Bernoulli decoding:\n"
     "                         the measured best against held-out cells; paper:\n"
     "                         unconditional, x0 output, 300000 steps, 1000 DDIM steps,\n"
     "                         threshold decoding. Flags given override the preset.\n"
     "  --label auto|KEY|none  auto (fast's default): train on clusters of the training\n"
     "                         cells (Louvain on the kNN graph) and sample them in the\n"
     "                         training proportions; KEY: on obs column KEY; none: an\n"
     "                         unconditional model\n"
     "  --sample-steps S       reverse steps of sampling (fast: min(100, max(20, 450000 /\n"
     "                         cells)), so that sampling time stays bounded)\n"
     "  --lr-decay cosine|constant  learning-rate schedule\n"
     "  the training options of 'sddcell train' (--steps is the training steps) and of\n"
     "  'sddcell sample' (--sampler, --td, --eta, --bit-update, --sample-self-cond,\n"
     "  --bit-decode, --guidance, --label-counts, --counts, --no-ema, --threshold,\n"
     "  --sample-precision, --sample-batch, --piece-cells); above 2 x --piece-cells\n"
     "  synthetic cells the evaluation uses a seeded random --piece-cells (at least\n"
     "  10000) of them\n"
     "  --n-sub N              cells a side for MMD, LISI and kNN AUC (default 10000)\n"
     "  -h, --help             show this help\n"},
    {NULL, NULL, NULL, NULL}};

/* Look up a command by name (NULL if unknown). */
static const cli_cmd_t *cli_find(const char *name)
{
    for (const cli_cmd_t *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static void print_main_usage(FILE *fp)
{
    fputs(USAGE_HEAD "\nSparse Data Diffusion: realistic synthetic single-cell RNA-seq with exact zeros.\n"
          "\nCommands:\n", fp);
    for (const cli_cmd_t *c = cli_commands; c->name; c++) fprintf(fp, "  %-10s %s\n", c->name, c->summary);
    fputs("  help CMD   show the usage of CMD\n"
          "\nGlobal options:\n"
          "  --threads N   compute threads, OpenBLAS included (default: the CPUs this\n"
          "                process may use: its affinity mask, capped by a cgroup CPU quota;\n"
          "                results are the same with any N)\n"
          "  --seed N      random seed (default 42)\n"
          "  -v            verbose: debug messages and a closing line with time and memory\n"
          "  --quiet       errors and warnings only, no progress\n"
          "  --version     print 'sddcell " SDD_VERSION "' and exit\n"
          "  -h, --help    show this help\n", fp);
}

/* Pull the global options out of argv (anywhere before "--"), compacting the rest.
 * Returns 0, or 1 after printing an error. */
static int take_globals(int *argc, char **argv, cli_ctx_t *ctx)
{
    int o = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        int64_t v;
        if (strcmp(a, "--") == 0) {
            while (i < *argc) argv[o++] = argv[i++];
            break;
        }
        if (strcmp(a, "--threads") == 0 || strncmp(a, "--threads=", 10) == 0 ||
            strcmp(a, "--seed") == 0 || strncmp(a, "--seed=", 7) == 0) {
            int is_threads = a[2] == 't';
            const char *val = strchr(a, '=');
            if (val) val++;
            else if (i + 1 < *argc) val = argv[++i];
            else {
                fprintf(stderr, "sddcell: %s needs a value\n", a);
                return 1;
            }
            if (sdd_parse_int64(val, is_threads ? 1 : 0, is_threads ? 1024 : INT64_MAX,
                                is_threads ? "--threads" : "--seed", &v) < 0) {
                fprintf(stderr, "sddcell: %s\n", sdd_errdetail());
                return 1;
            }
            if (is_threads) ctx->threads = (int)v;
            else ctx->seed = (uint64_t)v, ctx->seed_set = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            ctx->verbose = 1;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            ctx->quiet = 1;
        } else {
            argv[o++] = argv[i];
        }
    }
    *argc = o;
    argv[o] = NULL;
    return 0;
}

/* The library runs its own compute threads (--threads) and calls OpenBLAS single-threaded
 * (blas.c). OpenBLAS starts its own thread pool when it loads, sized by
 * OPENBLAS_NUM_THREADS: re-execute once with the variable at 1 so that no idle pool
 * threads exist beside the library's, and at most --threads threads ever run. */
static void pin_blas_threads(char **argv_orig)
{
    const char *have = getenv("OPENBLAS_NUM_THREADS");
    if (have && strcmp(have, "1") == 0) return;
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    setenv("OMP_NUM_THREADS", "1", 1);
    if (!getenv("SDD_NO_REEXEC")) {
        setenv("SDD_NO_REEXEC", "1", 1);
        execv("/proc/self/exe", argv_orig);
        /* not Linux or no /proc: carry on; blas.c keeps OpenBLAS at one thread */
    }
}

int main(int argc, char **argv)
{
    cli_ctx_t ctx = {.threads = 0, .seed = 42};
    char **argv_orig = argv;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    const cli_cmd_t *cmd;
    double t0 = sdd_realtime(), c0 = sdd_cputime();
    int rc;

    if (!args) return CLI_FAIL;
    memcpy(args, argv, (size_t)argc * sizeof *args);
    ctx.argc = argc;
    ctx.argv = argv;
    if (take_globals(&argc, args, &ctx)) return CLI_FAIL;
    pin_blas_threads(argv_orig);
    unsetenv("SDD_NO_REEXEC");
    if (ctx.threads == 0) ctx.threads = sdd_cpus_available(); /* no --threads: what we may use */

    if (argc < 2) {
        print_main_usage(stderr);
        free(args);
        return CLI_FAIL;
    }
    if (strcmp(args[1], "--version") == 0 || strcmp(args[1], "version") == 0) {
        printf("sddcell %s\n", SDD_VERSION);
        free(args);
        return CLI_OK;
    }
    if (strcmp(args[1], "-h") == 0 || strcmp(args[1], "--help") == 0) {
        print_main_usage(stdout);
        free(args);
        return CLI_OK;
    }
    if (strcmp(args[1], "help") == 0) {
        if (argc < 3) {
            print_main_usage(stdout);
            rc = CLI_OK;
        } else if ((cmd = cli_find(args[2]))) {
            cli_ctx_t hc = {.cmd = cmd->name, .usage = cmd->usage};
            rc = cli_print_usage(&hc, stdout);
        } else {
            fprintf(stderr, "sddcell: unknown command '%s' (see 'sddcell --help')\n", args[2]);
            rc = CLI_FAIL;
        }
        free(args);
        return rc;
    }
    if (!(cmd = cli_find(args[1]))) {
        fprintf(stderr, "sddcell: unknown command '%s' (see 'sddcell --help')\n", args[1]);
        free(args);
        return CLI_FAIL;
    }
    ctx.cmd = cmd->name;
    ctx.usage = cmd->usage;
    if (cli_setup(&ctx) != 0) {
        free(args);
        return CLI_FAIL;
    }
    rc = cmd->main(argc - 1, args + 1, &ctx);
    if (ctx.verbose) cli_run_footer(&ctx, t0, c0);
    free(args);
    return rc;
}
