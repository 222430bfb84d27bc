process SDDCELL_SAMPLE {
    tag "$meta.id shard ${shard}/${n_shards}"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"

    input:
    tuple val(meta), path(model), val(n_cells), val(shard), val(n_shards)

    output:
    tuple val(meta), val(shard), path("${prefix}.h5ad") , emit: h5ad
    path "versions.yml"                                 , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    // every shard of a run must be sampled with the same flags (the seed included):
    // shard I of K then holds exactly the cells a single run writes at those positions
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.shard${shard}of${n_shards}"
    """
    sddcell sample \\
        --threads ${task.cpus} \\
        -n ${n_cells} \\
        --shard ${shard}/${n_shards} \\
        -o ${prefix}.h5ad \\
        ${args} \\
        ${model}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        sddcell: \$(sddcell --version | sed 's/^sddcell //')
    END_VERSIONS
    """

    stub:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.shard${shard}of${n_shards}"
    """
    touch ${prefix}.h5ad

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        sddcell: \$(sddcell --version | sed 's/^sddcell //')
    END_VERSIONS
    """
}
