# common.sh: the start that the end-to-end CLI tests share, sourced by them. Sets SDD (the
# sddcell binary) and SRC (the source tree: SDD_SRCDIR, else the folder above this one) as
# absolute paths, PY (python3), DATA (the example data), ok/bad, which print a result line
# and note a failure in fail, and t CMD..., which runs a check and notes its failure.
# sdd_tmpdir NAME makes the scratch folder $tmp, removed when the test exits.
# need_py MODULE... skips the test (77) with a line naming the modules when python3 lacks one.
SDD="${SDD_BUILDDIR:-.}/sddcell"
SRC="${SDD_SRCDIR:-$(dirname "$0")/..}"
PY="${SDD_PYTHON:-/usr/bin/python3}"
case $SDD in /*) ;; *) SDD="$(pwd)/$SDD" ;; esac
case $SRC in /*) ;; *) SRC="$(pwd)/$SRC" ;; esac
DATA="$SRC/example_data/pbmc3k_1k.h5ad"
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
t() { if "$@"; then :; else echo "FAIL: $*" >&2; fail=1; fi; }
sdd_tmpdir() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdd_$1.XXXXXX") || exit 1
  trap 'rm -rf "$tmp"' EXIT
}
need_py() {
  "$PY" -c "import $(echo "$*" | sed 's/ /, /g')" 2>/dev/null ||
    { echo "skip: $PY lacks one of the Python modules $* (the test needs them)"; exit 77; }
}
