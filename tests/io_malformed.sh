#!/bin/sh
# io_malformed: every malformed input from tests/make_malformed.py (truncated, not HDF5,
# bad indptr / indices / shape, missing datasets, bad MTX lines, ...) makes `sddcell info`
# exit 1 with exactly one line on stderr and nothing on stdout (no crash, no partial
# report), naming the cause where the case gives a phrase. Run it under the
# --enable-asan --enable-ubsan build too.
set -u
. "$(dirname "$0")/common.sh"
need_py h5py numpy
sdd_tmpdir malformed
"$PY" "$SRC/tests/make_malformed.py" "$tmp/in" >"$tmp/cases" || { echo "FAIL: generator" >&2; exit 1; }
n=0
while IFS='	' read -r path what expect; do
  n=$((n + 1))
  "$SDD" info "$path" >"$tmp/out" 2>"$tmp/err"; rc=$?
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" != 1 ] || [ "$lines" != 1 ] || [ -s "$tmp/out" ]; then
    echo "FAIL: $what ($path): rc=$rc, $lines stderr lines, stdout $(wc -c <"$tmp/out") bytes" >&2
    cat "$tmp/err" >&2; fail=1
  elif [ -n "$expect" ] && ! grep -qF -- "$expect" "$tmp/err"; then
    echo "FAIL: $what ($path): the message does not say '$expect'" >&2
    cat "$tmp/err" >&2; fail=1
  else
    printf '%-40s %s\n' "$what" "$(cat "$tmp/err")"
  fi
done <"$tmp/cases"
[ "$n" -ge 20 ] || { echo "FAIL: only $n malformed cases" >&2; fail=1; }
echo "io_malformed: $n cases"
exit $fail
