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
    tuple val(meta), path("${prefix}_sddcell_general_stats_mqc.json"), path("${prefix}_sddcell_mqc.json"), emit: multiqc
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
        --multiqc . \\
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
    touch ${prefix}_sddcell_general_stats_mqc.json
    touch ${prefix}_sddcell_mqc.json

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        sddcell: \$(sddcell --version | sed 's/^sddcell //')
    END_VERSIONS
    """
}
