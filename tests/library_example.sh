#!/bin/sh
# library_example: the C program of README.md's "Library" section is examples/library.c
# word for word, and it runs: reads example_data/pbmc3k_1k.h5ad, trains a small network
# for a few steps, samples and evaluates, printing the figures.
set -u
SRC="${SDD_SRCDIR:-..}"
EX="${SDD_BUILDDIR:-.}/examples/library"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdd_lib.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
# the ```c block after the "## Library" heading
awk '/^## / { lib = ($0 == "## Library") } lib && /^```$/ && on { exit } on { print }
     lib && /^```c$/ { on = 1 }' "$SRC/README.md" > "$tmp/readme.c"
if [ -s "$tmp/readme.c" ] && cmp -s "$tmp/readme.c" "$SRC/examples/library.c"; then
  echo "ok: README.md shows examples/library.c"
else
  echo "FAIL: README.md's Library block differs from examples/library.c"
  diff "$tmp/readme.c" "$SRC/examples/library.c" | head -20
  fail=1
fi
if "$EX" "$SRC/example_data/pbmc3k_1k.h5ad" > "$tmp/out" 2> "$tmp/err" &&
   grep -q '^genes 200, parameters [0-9]*, steps 300$' "$tmp/out" &&
   grep -q '^sparsity real 0\.[0-9]* synthetic [01]\.[0-9]*$' "$tmp/out" &&
   grep -q '^gene means SCC ' "$tmp/out"; then
  echo "ok: examples/library runs"; cat "$tmp/out"
else
  echo "FAIL: examples/library"; cat "$tmp/out" "$tmp/err"
  fail=1
fi
"$EX" 2> /dev/null; [ $? = 2 ] && echo "ok: usage" || { echo "FAIL: usage exit status"; fail=1; }
exit $fail
