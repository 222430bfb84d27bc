#!/bin/sh
# scripts/check-sanitize.sh [DIR] [asan|tsan]: the sanitizer passes of CI. A copy of the
# source tree (the files git tracks or would track, so a configured source tree does not
# get in the way) is built out of tree in DIR/obj (default build-asan/ or build-tsan/).
#   asan (default): --enable-asan --enable-ubsan; the C unit tests and the malformed-input
#                   tests (`make check-sanitizer`, SANITIZER_TESTS in Makefile.am)
#   tsan:           --enable-tsan; the thread pool, training and sampling tests
#                   (`make check-tsan`, TSAN_TESTS)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
MODE=${2:-asan}
case $MODE in asan|tsan) ;; *) echo "check-sanitize: mode is asan or tsan, not '$MODE'" >&2; exit 2 ;; esac
D=${1:-$SRC/build-$MODE}
case $D in /*) ;; *) D="$(pwd)/$D" ;; esac
t0=$(date +%s)
rm -rf "$D/tree" "$D/obj"
mkdir -p "$D/tree" "$D/obj"
(cd "$SRC" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$D/tree"
(cd "$D/tree" && autoreconf -fi >/dev/null 2>&1) || { echo "check-sanitize: autoreconf failed" >&2; exit 1; }
cd "$D/obj"
if [ "$MODE" = tsan ]; then
    "$D/tree/configure" -q --enable-tsan
    make -j2 >make.log 2>&1 || { tail -50 make.log; exit 1; }
    TSAN_OPTIONS="halt_on_error=1:${TSAN_OPTIONS:-}" make -j2 check-tsan ||
        { cat test-suite.log 2>/dev/null | tail -200; exit 1; }
    echo "check-sanitize: tsan passed in $(( $(date +%s) - t0 )) s"
    exit 0
fi
"$D/tree/configure" -q --enable-asan --enable-ubsan
make -j2 >make.log 2>&1 || { tail -50 make.log; exit 1; }
# detect_leaks: the tests' own exits are checked for leaks too
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}" \
  make -j2 check-sanitizer || { cat test-suite.log 2>/dev/null | tail -200; exit 1; }
echo "check-sanitize: passed in $(( $(date +%s) - t0 )) s"
