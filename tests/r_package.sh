#!/bin/sh
# r_package: build the R package from R/ with the library sources beside it and its
# vignette, `R CMD check --no-manual` it (its testthat tests and the vignette included;
# fails on any ERROR or WARNING), then install it and run tests/r_acceptance.R and
# tests/r_hdf5r.R against the built CLI. The Seurat, SingleCellExperiment and hdf5r parts
# run when SeuratObject, SingleCellExperiment and hdf5r are installed (install-deps.sh
# installs them) and say what they skip otherwise; without knitr, rmarkdown and pandoc the
# vignette is not built (a message says so).
# Skipped (77) when R, Matrix or testthat is not installed.
set -u
R_BIN=$(command -v R) || exit 77
Rscript -e 'quit(status = !(requireNamespace("Matrix", quietly = TRUE) && requireNamespace("testthat", quietly = TRUE)))' || exit 77
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdd_rpkg.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cp -R "$SDD_SRCDIR/R" "$tmp/sddcell"
# only the package's own C files from R/src (an in-place install leaves library copies there)
for f in "$tmp"/sddcell/src/*; do
  case "$(basename "$f")" in init.c|r_*.c|r_shim.h|Makevars.in) ;; *) rm -f "$f" ;; esac
done
for f in "$SDD_SRCDIR"/src/*.c "$SDD_SRCDIR"/src/*.h; do
  case "$(basename "$f")" in main.c|cli*) continue ;; esac
  cp "$f" "$tmp/sddcell/src/"
done
cp "$SDD_BUILDDIR/src/sddcell_version.h" "$tmp/sddcell/src/" || exit 1
cd "$tmp" || exit 1
for p in SeuratObject SingleCellExperiment hdf5r; do
  Rscript -e "quit(status = !requireNamespace('$p', quietly = TRUE))" 2>/dev/null ||
    echo "skip: the R package $p is not installed; its tests are skipped"
done
vig=""
if Rscript -e 'quit(status = !(requireNamespace("knitr", quietly = TRUE) && requireNamespace("rmarkdown", quietly = TRUE) && rmarkdown::pandoc_available()))' 2>/dev/null; then
  echo "building the vignette"
else
  echo "skip: knitr, rmarkdown or pandoc is missing: the vignette is not built or checked"
  vig="--no-build-vignettes"
fi
"$R_BIN" CMD build $vig sddcell > build.log 2>&1 || { cat build.log; exit 1; }
_R_CHECK_FORCE_SUGGESTS_=false _R_CHECK_CRAN_INCOMING_REMOTE_=false OMP_NUM_THREADS=1 \
  "$R_BIN" CMD check --no-manual ${vig:+--ignore-vignettes} sddcell_*.tar.gz > check.log 2>&1
rc=$?
status=$(grep '^Status:' check.log)
echo "R CMD check: ${status:-no status line}"
grep -E '^\[ FAIL|SKIP|Skip|skip' sddcell.Rcheck/tests/testthat.Rout 2>/dev/null | head -20
if [ $rc -ne 0 ] || grep -qE '^Status:.*(ERROR|WARNING)' check.log; then
  cat check.log
  cat sddcell.Rcheck/00install.out sddcell.Rcheck/tests/testthat.Rout.fail 2>/dev/null
  exit 1
fi
mkdir lib && "$R_BIN" CMD INSTALL -l lib sddcell_*.tar.gz > install.log 2>&1 || { cat install.log; exit 1; }
R_LIBS="$tmp/lib" Rscript "$SDD_SRCDIR/tests/r_acceptance.R" "$SDD_BUILDDIR/sddcell" \
  "$SDD_SRCDIR/example_data/pbmc3k_1k.h5ad" "$tmp" || exit 1
mkdir "$tmp/h5" && R_LIBS="$tmp/lib" Rscript "$SDD_SRCDIR/tests/r_hdf5r.R" "$SDD_BUILDDIR/sddcell" \
  "$SDD_SRCDIR/example_data/pbmc3k_1k.h5ad" "$tmp/h5"
rc=$?
[ $rc -eq 77 ] && rc=0 # the message says what was skipped; the rest of the test ran
exit $rc
