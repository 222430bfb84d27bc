process SDDCELL_TRAIN {
    tag "$meta.id"
    label 'process_high'

    conda "${moduleDir}/environment.yml"

    input:
    tuple val(meta), path(counts)

    output:
    tuple val(meta), path("${prefix}.sdd") , emit: model
    path "versions.yml"                    , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    sddcell train \\
        --threads ${task.cpus} \\
        -o ${prefix}.sdd \\
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
    touch ${prefix}.sdd

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        sddcell: \$(sddcell --version | sed 's/^sddcell //')
    END_VERSIONS
    """
}
