#!/bin/sh
# io_convert: `sddcell convert` on every h5ad and 10x HDF5 file in tests/data/real, on
# their --layer / --raw / --genome variants, and on 10x MTX directories made from a 10x
# file. tests/check_convert.py then compares each output, read by python3-anndata, with
# anndata's or h5py's own reading of the input: X values and shape, obs names, var names,
# gene ids and obs columns. Inputs that hold no default count matrix (no X, several
# genomes) must be refused: exit 1, one line on stderr, no output file.
set -u
SDD="${SDD_BUILDDIR:-.}/sddcell"
PY="${SDD_PYTHON:-/usr/bin/python3}"
CHECK="${SDD_SRCDIR:-..}/tests/check_convert.py"
DATA="${SDD_SRCDIR:-.}/tests/data/real"

[ -d "$DATA/h5ad" ] && [ -d "$DATA/10x" ] || { echo "FAIL: $DATA is missing"; exit 1; }
[ -x "$PY" ] && "$PY" -c "import anndata, h5py, scipy, pandas" 2>/dev/null ||
  { echo "skip: $PY lacks anndata / h5py / scipy / pandas"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdd_convert.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
manifest="$tmp/manifest"
: > "$manifest"
fail=0
i=0

# convert IN [OPTIONS...]: must succeed; queue the output for check_convert.py.
convert() {
  in=$1; shift
  i=$((i + 1))
  out="$tmp/out$i.h5ad"
  if "$SDD" --quiet convert "$@" "$in" "$out" 2>"$tmp/err"; then
    printf '%s\t%s\t%s\n' "$in" "$out" "$*" >> "$manifest"
  else
    echo "FAIL: convert $* $in: $(cat "$tmp/err")"
    fail=1
  fi
}

# refuse IN [OPTIONS...]: exit 1, exactly one stderr line, no output, no temporary file.
refuse() {
  in=$1; shift
  i=$((i + 1))
  out="$tmp/refused$i.h5ad"
  "$SDD" convert "$@" "$in" "$out" 2>"$tmp/err"
  rc=$?
  lines=$(wc -l < "$tmp/err")
  if [ "$rc" != 1 ] || [ "$lines" != 1 ] || [ -e "$out" ] || ls -A "$tmp" | grep -q '^\.'; then
    echo "FAIL: convert $* $in: rc $rc, $lines stderr lines, output left: $(ls -A "$tmp" | grep refused)"
    sed 's/^/  | /' "$tmp/err"
    fail=1
  else
    echo "refused as expected: $in: $(cat "$tmp/err")"
  fi
}

files=$(find "$DATA/h5ad" "$DATA/10x" -type f \( -name '*.h5ad' -o -name '*.h5' \) | sort)
"$PY" "$CHECK" --expect $files > "$tmp/expect" || { echo "FAIL: cannot inspect the inputs"; exit 1; }
while IFS="$(printf '\t')" read -r what f; do
  if [ "$what" = convert ]; then convert "$f"; else refuse "$f"; fi
done < "$tmp/expect"

# the options that pick another matrix
H=$DATA/h5ad
[ -f "$H/anndata/v0.7.8/adata.h5ad" ] && convert "$H/anndata/v0.7.8/adata.h5ad" --raw
[ -f "$H/anndata/v0.7.8/adata.h5ad" ] && convert "$H/anndata/v0.7.8/adata.h5ad" --layer sparse
[ -f "$H/anndata/v0.7.0/adata.h5ad" ] && convert "$H/anndata/v0.7.0/adata.h5ad" --layer array
[ -f "$H/anndataR/2023-05/example.h5ad" ] && convert "$H/anndataR/2023-05/example.h5ad" --layer csc_counts
[ -f "$H/scanpy/t-cells.h5ad" ] && convert "$H/scanpy/t-cells.h5ad" --layer raw_counts
[ -f "$H/scanpy/2018-08/10x_pbmc68k_reduced.h5ad" ] && convert "$H/scanpy/2018-08/10x_pbmc68k_reduced.h5ad" --raw
[ -f "$H/muon/test_rna.h5ad" ] && refuse "$H/muon/test_rna.h5ad" --layer no_such_layer
MG=$DATA/10x/scanpy/1.2.0/multiple_genomes.h5
if [ -f "$MG" ]; then
  convert "$MG" --genome hg19_chr21
  convert "$MG" --genome another_genome
  refuse "$MG" --genome no_such_genome
fi

# 10x MTX directories (v3 gzipped with features.tsv.gz, v2 plain with genes.tsv)
V3=$DATA/10x/scanpy/3.0.0/filtered_feature_bc_matrix.h5
if [ -f "$V3" ]; then
  for v in 3 2; do
    if "$PY" "$CHECK" --make-mtx "$V3" "$tmp/mtx_v$v" "$v"; then
      convert "$tmp/mtx_v$v"
    else
      echo "FAIL: could not write the MTX fixture v$v"; fail=1
    fi
  done
fi

n=$(wc -l < "$manifest")
echo "$n conversions to check"
"$PY" "$CHECK" "$manifest" || fail=1
exit $fail
