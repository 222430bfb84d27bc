#!/usr/bin/env nextflow
/*
 * Example workflow, for every count file given by --input (a glob):
 *   default:        train a model, sample --n_cells cells as --shards parallel tasks,
 *                   join the shards and evaluate them (subworkflow SHARDED_SIMULATE), e.g.
 *                   nextflow run nextflow/main.nf --input 'data/*.h5ad' --shards 4 --n_cells 20000
 *   --simulate:     the one-task `sddcell simulate` (hold-out, train, sample, evaluate)
 */
nextflow.enable.dsl = 2

include { SDDCELL_SIMULATE } from './modules/sddcell/simulate/main'
include { SHARDED_SIMULATE } from './subworkflows/sddcell/sharded_simulate/main'

params.input    = null
params.outdir   = 'results'
params.n_cells  = 1000
params.shards   = 4
params.simulate = false

workflow {
    if (!params.input) {
        error "Please give --input, e.g. --input 'example_data/*.h5ad'"
    }
    ch_counts = Channel
        .fromPath(params.input, checkIfExists: true)
        .map { f -> [ [ id: f.baseName ], f ] }

    if (params.simulate) {
        SDDCELL_SIMULATE(ch_counts)
        // every run's *_mqc.json, ready for a MultiQC process:
        //   MULTIQC(SDDCELL_SIMULATE.out.multiqc.map { meta, g, t -> [ g, t ] }.flatten().collect(), ...)
    } else {
        SHARDED_SIMULATE(ch_counts, params.n_cells as int, params.shards as int)
    }
}
