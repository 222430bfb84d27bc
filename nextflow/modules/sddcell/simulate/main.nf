process SDDCELL_SIMULATE {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"

    input:
    tuple val(meta), path(counts)

    output:
    tuple val(meta), path("${prefix}.h5ad")         , emit: h5ad
    tuple val(meta), path("${prefix}.metrics.json") , emit: metrics
    tuple val(meta), path("${prefix}.sdd")          , emit: model
    path "versions.yml"                             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    sddcell simulate \\
        --threads ${task.cpus} \\
        --prefix ${prefix} \\
        ${args} \\
        ${counts}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        sddcell: \$(sddcell --version | sed 's/^sddcell //')
    END_VERSIONS
    """

    stub:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.h5ad
    touch ${prefix}.metrics.json
    touch ${prefix}.sdd

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        sddcell: \$(sddcell --version | sed 's/^sddcell //')
    END_VERSIONS
    """
}
