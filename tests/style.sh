#!/bin/sh
# style: no function in src/ or R/src/ is longer than 120 lines, and no import circle
# between the library's files (two files calling into each other, read from the object
# files' symbols by scripts/check-style.py); either fails the test. Only objects whose
# source is still in src/ count, so a stale object left in the build tree by a file
# that has since gone does not show a circle that is no longer there.
set -u
SRC="${SDD_SRCDIR:-..}"
BUILD="${SDD_BUILDDIR:-.}"
PY="${SDD_PYTHON:-python3}"
command -v "$PY" > /dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
command -v nm > /dev/null 2>&1 || { echo "skip: no nm"; exit 77; }
set --
for o in "$BUILD"/src/*.o; do
    base=$(basename "$o" .o)
    [ -f "$SRC/src/${base#sddcell-}.c" ] && set -- "$@" "$o"
done
[ $# -gt 0 ] || { echo "skip: no object files in $BUILD/src"; exit 77; }
"$PY" "$SRC/scripts/check-style.py" --srcdir "$SRC" --fail-on-circles --objects "$@"
