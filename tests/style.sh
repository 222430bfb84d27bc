#!/bin/sh
# style: no function in src/ or R/src/ is longer than 120 lines (fails otherwise). The
# import circles between the library's files (two files calling into each other, read
# from the object files' symbols by scripts/check-style.py) are listed in the log; they
# do not fail the test while some remain.
set -u
SRC="${SDD_SRCDIR:-..}"
BUILD="${SDD_BUILDDIR:-.}"
PY="${SDD_PYTHON:-python3}"
command -v "$PY" > /dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
command -v nm > /dev/null 2>&1 || { echo "skip: no nm"; exit 77; }
"$PY" "$SRC/scripts/check-style.py" --srcdir "$SRC" --objects "$BUILD"/src/*.o
