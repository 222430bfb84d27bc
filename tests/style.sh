#!/bin/sh
# style: no function in src/ or R/src/ is longer than 120 lines, and the library's files
# call each other in one direction only (scripts/check-style.py: the import circles of
# the object files' symbols are listed; none is allowed).
set -u
SRC="${SDD_SRCDIR:-..}"
BUILD="${SDD_BUILDDIR:-.}"
PY="${SDD_PYTHON:-python3}"
command -v "$PY" > /dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
command -v nm > /dev/null 2>&1 || { echo "skip: no nm"; exit 77; }
"$PY" "$SRC/scripts/check-style.py" --srcdir "$SRC" --objects "$BUILD"/src/*.o
