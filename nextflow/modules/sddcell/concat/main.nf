process SDDCELL_CONCAT {
    tag "$meta.id"
    label 'process_single'

    conda "${moduleDir}/environment.yml"

    input:
    // parts in the order their cells are to be joined (shards 1..K)
    tuple val(meta), path(parts, stageAs: 'parts/*')

    output:
    tuple val(meta), path("${prefix}.h5ad") , emit: h5ad
    path "versions.yml"                     , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def files = (parts instanceof List ? parts : [parts]).join(' ')
    """
    sddcell concat \\
        ${args} \\
        ${prefix}.h5ad \\
        ${files}

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

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        sddcell: \$(sddcell --version | sed 's/^sddcell //')
    END_VERSIONS
    """
}
