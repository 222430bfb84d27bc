#!/bin/sh
# Install what sddcell needs to build and test on Debian / Ubuntu (run as root or with sudo).
# Build: autotools, HDF5, OpenBLAS, GSL, cJSON, zlib (libdeflate optional: it doubles the
# speed of reading gzip-compressed files; configure falls back to zlib), Open MPI (for
# ./configure --with-mpi: data-parallel training under mpirun). Tests: python3 with anndata, h5py,
# numpy, scipy, pandas, scikit-learn (reference values); R with Matrix and testthat (the R
# package is built and checked by make check), Seurat and SingleCellExperiment (the objects
# the package takes and returns), hdf5r (R reads every file sddcell writes), knitr,
# rmarkdown and pandoc (the vignette); qpdf and checkbashisms (devscripts), which `R CMD
# check --as-cran` needs for a complete check; chromium (the report rendered headless) and
# multiqc (reads the --multiqc files with --lint).
set -e
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential autoconf automake libtool pkg-config \
  libhdf5-dev libopenblas-dev libgsl-dev libcjson-dev zlib1g-dev libdeflate-dev \
  libopenmpi-dev openmpi-bin \
  python3 python3-anndata python3-h5py python3-numpy python3-scipy python3-pandas \
  python3-sklearn \
  r-base-dev r-cran-matrix r-cran-testthat \
  r-cran-seurat r-bioc-singlecellexperiment r-cran-hdf5r r-cran-knitr r-cran-rmarkdown pandoc \
  qpdf devscripts chromium multiqc \
  ${SDD_EXTRA_PACKAGES:-}
