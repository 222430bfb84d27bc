/*
 * SHARDED_SIMULATE: train one model per count file, sample its cells as n_shards
 * parallel tasks (shard I of K: a contiguous slice of the run), join the shards in
 * order into one .h5ad (the same file a single `sddcell sample` run of n_cells writes)
 * and evaluate it against the real cells.
 */
include { SDDCELL_TRAIN    } from '../../../modules/sddcell/train/main'
include { SDDCELL_SAMPLE   } from '../../../modules/sddcell/sample/main'
include { SDDCELL_CONCAT   } from '../../../modules/sddcell/concat/main'
include { SDDCELL_EVALUATE } from '../../../modules/sddcell/evaluate/main'

workflow SHARDED_SIMULATE {
    take:
    ch_counts   // channel: [ val(meta), path(counts) ]
    n_cells     // value: cells to sample per count file
    n_shards    // value: sampling tasks per count file

    main:
    ch_versions = Channel.empty()

    SDDCELL_TRAIN(ch_counts)
    ch_versions = ch_versions.mix(SDDCELL_TRAIN.out.versions.first())

    // one sampling task per shard: [ meta, model, n_cells, shard, n_shards ]
    ch_shards = SDDCELL_TRAIN.out.model
        .combine(Channel.of(1..n_shards))
        .map { meta, model, shard -> [ meta, model, n_cells, shard, n_shards ] }
    SDDCELL_SAMPLE(ch_shards)
    ch_versions = ch_versions.mix(SDDCELL_SAMPLE.out.versions.first())

    // the shards of each file, in shard order (concat refuses any other order)
    ch_parts = SDDCELL_SAMPLE.out.h5ad
        .map { meta, shard, h5ad -> [ meta.id, meta, shard, h5ad ] }
        .groupTuple(size: n_shards)
        .map { id, metas, shards, files ->
            def ordered = [ shards, files ].transpose().sort { it[0] }.collect { it[1] }
            [ metas[0], ordered ]
        }
    SDDCELL_CONCAT(ch_parts)
    ch_versions = ch_versions.mix(SDDCELL_CONCAT.out.versions.first())

    ch_eval = ch_counts.join(SDDCELL_CONCAT.out.h5ad)  // [ meta, counts, synth ]
    SDDCELL_EVALUATE(ch_eval)
    ch_versions = ch_versions.mix(SDDCELL_EVALUATE.out.versions.first())

    emit:
    model    = SDDCELL_TRAIN.out.model        // channel: [ val(meta), path(sdd) ]
    h5ad     = SDDCELL_CONCAT.out.h5ad        // channel: [ val(meta), path(h5ad) ]
    metrics  = SDDCELL_EVALUATE.out.metrics   // channel: [ val(meta), path(json) ]
    versions = ch_versions                    // channel: [ path(versions.yml) ]
}
