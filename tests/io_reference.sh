#!/bin/sh
# io_reference: `sddcell info --json` on every real h5ad / 10x file in tests/data/real, the
# example data and tests/data/derived (and the extra option sets) against
# tests/data/reference_counts.tsv (paths from the repository root), computed by tests/make_reference.py with
# anndata 0.8 / h5py: cells, genes and nnz exact, sum within 1e-6 relative (NaN = null).
# obs columns (name, kind, category count) must match anndata's obs.
# Rows marked `error` must fail with exit 1 and one stderr line containing the expected word.
set -u
SDD="${SDD_BUILDDIR:-.}/sddcell"
DATA="${SDD_SRCDIR:-.}"
REF="$DATA/tests/data/reference_counts.tsv"
[ -f "$REF" ] && [ -d "$DATA/tests/data/real" ] || { echo "FAIL: $REF or $DATA/tests/data/real is missing"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdd_ioref.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

# value of a scalar key in cJSON's compact output
jget() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2"; }

while IFS='	' read -r file args status a b c d obs; do
  case "$file" in '#'*|'') continue ;; esac
  [ -f "$DATA/$file" ] || { echo "FAIL: $file listed but missing from $DATA" >&2; fail=1; continue; }
  [ "$args" = "-" ] && args=""
  n=$((n + 1))
  # shellcheck disable=SC2086
  "$SDD" info --json $args "$DATA/$file" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ "$status" = error ]; then
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" != 1 ] || [ "$lines" != 1 ] || ! grep -q -- "$a" "$tmp/err"; then
      echo "FAIL: $file $args: expected exit 1 with one line containing '$a'; got rc=$rc, $lines lines:" >&2
      cat "$tmp/err" >&2; fail=1
    fi
    continue
  fi
  if [ "$rc" != 0 ]; then
    echo "FAIL: $file $args: exit $rc: $(cat "$tmp/err")" >&2; fail=1; continue
  fi
  got_c=$(jget n_cells "$tmp/out"); got_g=$(jget n_genes "$tmp/out")
  got_n=$(jget nnz "$tmp/out"); got_s=$(jget sum "$tmp/out")
  if [ "$got_c" != "$a" ] || [ "$got_g" != "$b" ] || [ "$got_n" != "$c" ]; then
    echo "FAIL: $file $args: cells/genes/nnz $got_c/$got_g/$got_n, expected $a/$b/$c" >&2; fail=1
  fi
  if ! awk -v g="$got_s" -v e="$d" 'BEGIN {
        if (e == "nan") exit !(g == "null");
        if (g == "null") exit 1;
        diff = g - e; if (diff < 0) diff = -diff; m = e < 0 ? -e : e;
        exit !(diff <= 1e-6 * m + 1e-9) }'; then
    echo "FAIL: $file $args: sum $got_s, expected $d" >&2; fail=1
  fi
  # obs columns as name:kind:n_categories, in order (rows read without options)
  if [ -n "${obs:-}" ] && [ "$obs" != "-" ]; then
    got_o=$(sed -n 's/.*"obs_columns":\[\(.*\)\]}$/\1/p' "$tmp/out" | sed 's/},{/}\n{/g' |
      sed 's/^{"name":"\(.*\)","kind":"\([a-z]*\)","n_categories":\([0-9a-z]*\)}$/\1:\2:\3/' | paste -sd';' -)
    [ -n "$got_o" ] || got_o=none
    [ "$got_o" = "$obs" ] || { echo "FAIL: $file: obs columns $got_o, expected $obs" >&2; fail=1; }
  fi
done <"$REF"
[ "$n" -ge 40 ] || { echo "FAIL: only $n reference rows read from $REF" >&2; fail=1; }
echo "io_reference: $n cases checked"
exit $fail
