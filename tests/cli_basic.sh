#!/bin/sh
# cli_basic: the command-line contract shared by every subcommand: --version format,
# help for every command, misuse exits 1 with usage on stderr, unknown commands fail.
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
exit $fail
