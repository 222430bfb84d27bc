#!/usr/bin/env nextflow
/*
 * Example workflow: simulate synthetic cells for every count file given by --input
 * (a glob), e.g.  nextflow run nextflow/main.nf --input 'data/*.h5ad' --outdir results
 */
nextflow.enable.dsl = 2

include { SDDCELL_SIMULATE } from './modules/sddcell/simulate/main'

params.input  = null
params.outdir = 'results'

workflow {
    if (!params.input) {
        error "Please give --input, e.g. --input 'example_data/*.h5ad'"
    }
    ch_counts = Channel
        .fromPath(params.input, checkIfExists: true)
        .map { f -> [ [ id: f.baseName ], f ] }

    SDDCELL_SIMULATE(ch_counts)
    // every run's *_mqc.json, ready for a MultiQC process:
    //   MULTIQC(SDDCELL_SIMULATE.out.multiqc.map { meta, g, t -> [ g, t ] }.flatten().collect(), ...)
}
