#!/bin/sh
# fuzz_cases: the inputs of tests/data/fuzz (found by mutating small valid files; each
# once crashed, hung or over-allocated sddcell 0.1.0, see its README) end with exit 1
# and exactly one line on stderr naming the cause, within 10 s and 1 GB: an address
# space limit in a normal build; in a sanitizer build (where ASan needs its large
# shadow mappings) ASan's RSS and single-allocation limits instead, with leak checks.
set -u
. "$(dirname "$0")/common.sh"
F="$SRC/tests/data/fuzz"
[ -d "$F" ] || { echo "FAIL: $F is missing"; exit 1; }
sdd_tmpdir fuzz
if [ -n "${SDD_SANITIZE:-}" ]; then
  ASAN_OPTIONS="hard_rss_limit_mb=1024:max_allocation_size_mb=1024:allocator_may_return_null=0:${ASAN_OPTIONS:-}"
  export ASAN_OPTIONS
  LIMIT=""
else
  LIMIT="ulimit -v 1048576;"
fi
fail=0 n=0
# case <name> <phrase the message must contain> <sddcell arguments...> (INPUT: the case's input)
run() {
  name=$1 want=$2; shift 2
  n=$((n + 1))
  in=$(ls -d "$F/$name"/input* | head -1)
  args=$(printf '%s\n' "$@" | sed "s|INPUT|$in|" | tr '\n' ' ')
  # a case marked HDF5_LEAKS: libhdf5 leaks inside its own failed call (not sddcell's)
  opts=${ASAN_OPTIONS:-}
  [ -n "${HDF5_LEAKS:-}" ] && [ -n "${SDD_SANITIZE:-}" ] && opts="$opts:detect_leaks=0" # the last one wins
  t0=$(date +%s)
  ( cd "$tmp" && eval "$LIMIT" && ASAN_OPTIONS=$opts exec timeout -k 3 10 "$SDD" $args >"$tmp/out" 2>"$tmp/err" ); rc=$?
  t1=$(date +%s)
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" != 1 ] || [ "$lines" != 1 ]; then
    echo "FAIL: $name: exit $rc, $lines stderr lines, $((t1 - t0)) s"; head -c 2000 "$tmp/err"; fail=1
  elif ! grep -qF -- "$want" "$tmp/err"; then
    echo "FAIL: $name: the message does not say '$want':"; cat "$tmp/err"; fail=1
  else
    printf '%-40s %s\n' "$name" "$(sed "s|$F/||" "$tmp/err")"
  fi
  rm -f "$tmp/out" "$tmp/err" "$tmp"/*.h5ad
}
run model-label-frequency-overflow "training frequency of label 'a' is -0.342857" sample INPUT -n 5 -o out.h5ad
run model-label-frequency-huge-hang "training frequency of label 'b'" sample INPUT -n 5 -o out.h5ad
run model-header-n-params-overflow "9223372036854775807 parameters" info INPUT
run model-header-hidden-width-overflow "embedding widths 32, 2147483647" info INPUT
run mtx-size-line-huge "announces 2147483647" info INPUT
run h5ad-string-count-from-corrupt-header "549755813887 elements" info --json INPUT
run h5ad-corrupt-attribute-h5aexists "attribute datatype does not fit" info --json INPUT
run h5ad-corrupt-global-heap "damaged global heap collection" info INPUT
run h5ad-hang-7gb "a string of 4278190091 bytes" info INPUT
run tenx-corrupt-dataset-read "filters on storage that is not chunked" info --json INPUT
run h5ad-object-header-4gb "corrupt HDF5 metadata (continuation message)" info INPUT
run h5ad-group-strdup-overflow "the root group: corrupt HDF5 metadata (a group's local heap free list)" info INPUT
run h5ad-local-heap-140gb "local heap is larger than the file" info INPUT
run h5ad-local-heap-outside-file "the root group: corrupt HDF5 metadata (a group's local heap)" info INPUT
run tenx-root-header-block-huge "the root group: corrupt HDF5 metadata (object header block larger" info INPUT
run tenx-root-symbol-table-node "symbol-table node" info INPUT
run h5ad-group-strdup-overflow "the root group: corrupt HDF5 metadata (a group's local heap free list)" convert INPUT out.h5ad
run h5ad-attribute-vlen-size "obs/IR_VDJ_1_duplicate_count: corrupt HDF5 metadata (attribute datatype" convert INPUT out.h5ad
run h5ad-root-attribute-vlen-size "the root group: corrupt HDF5 metadata (attribute datatype" info INPUT
run tenx-chunk-4gb "matrix/indptr: corrupt HDF5 metadata (a chunk outside the file)" info INPUT
run tenx-driver-block-3gb "the superblock: corrupt HDF5 metadata (driver information block)" info INPUT
run tenx-chunk-layout-sigfpe "matrix/data: corrupt HDF5 metadata (layout message)" info INPUT
run tenx-local-heap-free-list-loop "the root group: corrupt HDF5 metadata (a group's local heap free list)" info INPUT
HDF5_LEAKS=1
run h5ad-header-does-not-decode "X/indices: corrupt HDF5 metadata (the object cannot be opened; HDF5: bad version number for layout message)" info INPUT
HDF5_LEAKS=
# the same inputs through the other commands that read them
run h5ad-hang-7gb "a string of 4278190091 bytes" convert INPUT out.h5ad
run tenx-corrupt-dataset-read "filters on storage that is not chunked" hvg INPUT
run model-header-n-params-overflow "9223372036854775807 parameters" sample INPUT -n 5 -o out.h5ad
echo "fuzz_cases: $n runs"
exit $fail
