#!/bin/sh
# scripts/check-sanitize.sh [DIR]: the sanitizer pass of CI. A copy of the source tree
# (the files git tracks or would track, so a configured source tree does not get in the
# way) is built out of tree in DIR/obj (default build-asan/) with --enable-asan
# --enable-ubsan, and the C unit tests and the malformed-input tests run there
# (`make check-sanitizer`, the list SANITIZER_TESTS in Makefile.am).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
D=${1:-$SRC/build-asan}
case $D in /*) ;; *) D="$(pwd)/$D" ;; esac
t0=$(date +%s)
rm -rf "$D/tree" "$D/obj"
mkdir -p "$D/tree" "$D/obj"
(cd "$SRC" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$D/tree"
(cd "$D/tree" && autoreconf -fi >/dev/null 2>&1) || { echo "check-sanitize: autoreconf failed" >&2; exit 1; }
cd "$D/obj"
"$D/tree/configure" -q --enable-asan --enable-ubsan
make -j2 >make.log 2>&1 || { tail -50 make.log; exit 1; }
# detect_leaks: the tests' own exits are checked for leaks too
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}" \
  make -j2 check-sanitizer || { cat test-suite.log 2>/dev/null | tail -200; exit 1; }
echo "check-sanitize: passed in $(( $(date +%s) - t0 )) s"
