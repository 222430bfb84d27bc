#!/bin/sh
# convert_errors: every way `sddcell convert` can fail ends the same way: exit status 1,
# exactly one line on stderr, no output file and no temporary file left in the output's
# directory; an existing output is left untouched. Cases: outputs that cannot be written
# (missing directory, a path through a regular file, an existing directory, a read-only
# directory), inputs that cannot be read (missing, empty, not HDF5, truncated), misuse,
# and, when tests/make_malformed.py is present, each of its malformed inputs.
# SDD_DISKFULL_TEST=1 (root) adds writes onto small tmpfs mounts that run out of space.
set -u
. "$(dirname "$0")/common.sh"
IN="$DATA"
[ -f "$IN" ] || { echo "FAIL: $IN is missing"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdd_converr.XXXXXX") || exit 1
trap 'umount "$tmp/full" 2>/dev/null; chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
n=0

# no_output NAME OUT [ARGS...]: convert ARGS must fail cleanly and OUT must not exist.
no_output() {
  name=$1; out=$2; shift 2
  n=$((n + 1))
  "$SDD" convert "$@" 2>"$tmp/err" >"$tmp/stdout"
  rc=$?
  lines=$(wc -l < "$tmp/err")
  left=$(find "$tmp" -name '.*.tmp.*' 2>/dev/null)
  if [ "$rc" != 1 ] || [ "$lines" != 1 ] || [ -e "$out" ] || [ -n "$left" ] || [ -s "$tmp/stdout" ]; then
    echo "FAIL: $name: rc $rc, $lines stderr lines, output $( [ -e "$out" ] && echo present || echo absent), temporary files: ${left:-none}"
    sed 's/^/  | /' "$tmp/err"
    fail=1
  else
    echo "ok: $name: $(cat "$tmp/err")"
  fi
}

# outputs that cannot be written
no_output "missing output directory" "$tmp/nodir/out.h5ad" "$IN" "$tmp/nodir/out.h5ad"
: > "$tmp/plainfile"
no_output "output below a regular file" "$tmp/plainfile/out.h5ad" "$IN" "$tmp/plainfile/out.h5ad"
mkdir "$tmp/isdir"
"$SDD" convert "$IN" "$tmp/isdir" 2>"$tmp/err"; rc=$?
n=$((n + 1))
if [ "$rc" != 1 ] || [ "$(wc -l < "$tmp/err")" != 1 ] || [ -n "$(ls -A "$tmp/isdir")" ] ||
   [ -n "$(find "$tmp" -name '.*.tmp.*')" ]; then
  echo "FAIL: output is an existing directory: rc $rc"; fail=1
else
  echo "ok: output is an existing directory: $(cat "$tmp/err")"
fi
mkdir "$tmp/ro"
chmod 555 "$tmp/ro"
if touch "$tmp/ro/probe" 2>/dev/null; then
  rm -f "$tmp/ro/probe"
  # root writes anywhere on a normal file system; /sys is mounted read-only
  if [ -d /sys ] && ! touch /sys/sdd_probe 2>/dev/null; then
    no_output "read-only output directory (/sys)" /sys/sdd_convert_test.h5ad "$IN" /sys/sdd_convert_test.h5ad
  else
    echo "note: no read-only directory to test as root"
  fi
else
  no_output "read-only output directory" "$tmp/ro/out.h5ad" "$IN" "$tmp/ro/out.h5ad"
fi

# inputs that cannot be read
out="$tmp/out.h5ad"
no_output "missing input" "$out" "$tmp/no_such.h5ad" "$out"
: > "$tmp/empty.h5ad"
no_output "empty input" "$out" "$tmp/empty.h5ad" "$out"
printf 'cell\tgene\n' > "$tmp/text.h5ad"
no_output "not HDF5" "$out" "$tmp/text.h5ad" "$out"
head -c 100000 "$IN" > "$tmp/truncated.h5ad"
no_output "truncated input" "$out" "$tmp/truncated.h5ad" "$out"
no_output "missing layer" "$out" --layer no_such_layer "$IN" "$out"
no_output "--raw without raw" "$out" --raw "$IN" "$out"

# an existing output survives a failed conversion untouched
cp "$IN" "$tmp/keep.h5ad"
no_output "failure over an existing output" "$tmp/absent" "$tmp/truncated.h5ad" "$tmp/keep.h5ad"
cmp -s "$IN" "$tmp/keep.h5ad" || { echo "FAIL: a failed conversion changed the existing output"; fail=1; }

# misuse: exit 1 with usage (several lines) on stderr and no output
for args in "$IN" "$IN $out extra" "--layer x --raw $IN $out" "--genome"; do
  n=$((n + 1))
  # shellcheck disable=SC2086
  "$SDD" convert $args 2>"$tmp/err"; rc=$?
  if [ "$rc" != 1 ] || ! grep -q "^Usage: sddcell convert" "$tmp/err" || [ -e "$out" ]; then
    echo "FAIL: misuse 'convert $args': rc $rc"; fail=1
  fi
done

# the reading stage's malformed inputs, when its generator is there
MAL="$SRC/tests/make_malformed.py"
if [ -f "$MAL" ] && "$PY" -c "import h5py, numpy" 2>/dev/null; then
  mkdir "$tmp/mal"
  # it prints one "PATH<TAB>description" line per case
  if "$PY" "$MAL" "$tmp/mal" >"$tmp/cases" 2>"$tmp/err"; then
    while IFS="$(printf '\t')" read -r f what; do
      no_output "malformed: $what" "$tmp/mal_out.h5ad" "$f" "$tmp/mal_out.h5ad"
    done < "$tmp/cases"
  else
    echo "FAIL: $MAL did not run: $(head -3 "$tmp/err")"; fail=1
  fi
fi

# a full disk at every stage of the write (opt-in: mounts small tmpfs file systems, root)
if [ "${SDD_DISKFULL_TEST:-0}" = 1 ]; then
  mkdir "$tmp/full"
  if mount -t tmpfs -o size=64k tmpfs "$tmp/full" 2>/dev/null; then
    umount "$tmp/full"
    # the converted example is 2.6 MB: these sizes run out in X, in the flush, near the end
    for kb in 64 512 1024 1536 2048 2560; do
      mount -t tmpfs -o size=${kb}k tmpfs "$tmp/full" || continue
      no_output "disk full at ${kb} KiB" "$tmp/full/out.h5ad" "$IN" "$tmp/full/out.h5ad"
      umount "$tmp/full"
    done
  else
    echo "note: cannot mount tmpfs; disk-full cases skipped"
  fi
fi

echo "$n cases"
exit $fail
