#!/bin/sh
# cli_basic: the command-line contract shared by every subcommand: --version format,
# help for every command, misuse exits 1 with usage on stderr, unknown commands fail,
# -v names the BLAS kernels.
set -u
. "$(dirname "$0")/common.sh"

out=$("$SDD" --version); t test "$?" = 0
t test "$out" = "sddcell $(sed -n 's/^AC_INIT(\[sddcell\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")"
t "$SDD" --help >/dev/null
"$SDD" >/dev/null 2>&1; t test "$?" = 1
"$SDD" no-such-command 2>/dev/null; t test "$?" = 1
cmds=$("$SDD" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && NF && $1 != "help" {print $1}')
t test -n "$cmds"
for c in $cmds; do
  o1=$("$SDD" help "$c"); t test "$?" = 0
  o2=$("$SDD" "$c" --help); t test "$?" = 0
  echo "$o1" | grep -q "^Usage: sddcell $c" || { echo "FAIL: help $c has no Usage line" >&2; fail=1; }
  t test "$o1" = "$o2"
  # an unknown option is misuse: exit 1, usage on stderr, nothing on stdout
  err=$("$SDD" "$c" --no-such-option 2>&1 >/dev/null); rc=$?
  t test "$rc" = 1
  echo "$err" | grep -q "Usage: sddcell $c" || { echo "FAIL: $c misuse shows no usage" >&2; fail=1; }
done
# global options are parsed strictly
"$SDD" --threads 0 info x 2>/dev/null; t test "$?" = 1
"$SDD" --threads abc info x 2>/dev/null; t test "$?" = 1
"$SDD" --seed -1 info x 2>/dev/null; t test "$?" = 1
# -v names OpenBLAS's kernels; a choice made with OPENBLAS_CORETYPE is kept (x86-64)
if [ "$(uname -m)" = x86_64 ]; then
  OPENBLAS_CORETYPE=Haswell "$SDD" -v info "$SRC/example_data/pbmc3k_1k.h5ad" 2>&1 >/dev/null |
    grep -q '^\[M::main\] BLAS kernels: Haswell (OpenBLAS.s choice, from OPENBLAS_CORETYPE)$' ||
    { echo "FAIL: -v does not keep OPENBLAS_CORETYPE=Haswell" >&2; fail=1; }
fi
exit $fail
