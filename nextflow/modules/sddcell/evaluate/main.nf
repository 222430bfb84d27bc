process SDDCELL_EVALUATE {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"

    input:
    tuple val(meta), path(real), path(synth)

    output:
    tuple val(meta), path("${prefix}.metrics.json") , emit: metrics
    tuple val(meta), path("${prefix}.metrics.tsv")  , emit: table
    path "versions.yml"                             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    sddcell evaluate \\
        --threads ${task.cpus} \\
        --json ${prefix}.metrics.json \\
        ${args} \\
        ${real} \\
        ${synth} \\
        > ${prefix}.metrics.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        sddcell: \$(sddcell --version | sed 's/^sddcell //')
    END_VERSIONS
    """

    stub:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.metrics.json
    touch ${prefix}.metrics.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        sddcell: \$(sddcell --version | sed 's/^sddcell //')
    END_VERSIONS
    """
}
