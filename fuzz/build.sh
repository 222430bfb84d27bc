#!/bin/sh
# fuzz/build.sh [DIR]: build the libFuzzer harnesses with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into DIR (default build-fuzz/ in the source tree). The
# library's sources are compiled directly, as the R package does, so this works beside
# a configured source tree. Needs Debian's clang and libclang-rt-dev (libFuzzer).
# Harnesses: fuzz_h5ad and fuzz_tenx (HDF5 structure readers), fuzz_mtx (MTX folders),
# fuzz_model (model files), fuzz_model_json (model metadata).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build-fuzz}
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null 2>&1 || { echo "fuzz/build.sh: $CC not found: apt-get install clang libclang-rt-dev" >&2; exit 1; }
mkdir -p "$B/obj"
pc() { pkg-config "$@" 2>/dev/null || true; }
H5C=$(pc --cflags hdf5-serial); H5L=$(pc --libs hdf5-serial)
[ -n "$H5L" ] || { H5C="-I/usr/include/hdf5/serial"; H5L="-L/usr/lib/$($CC -print-multiarch)/hdf5/serial -lhdf5"; }
BLC=$(pc --cflags openblas); BLL=$(pc --libs openblas)
[ -n "$BLL" ] || BLL="-lopenblas"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# the version header, as configure writes it (the tree need not be configured)
mkdir -p "$B/include"
v=$(sed -n 's/^AC_INIT(\[sddcell\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
sed "s/@PACKAGE_VERSION@/$v/" "$SRC/src/sddcell_version.h.in" > "$B/include/sddcell_version.h.new"
cmp -s "$B/include/sddcell_version.h.new" "$B/include/sddcell_version.h" 2>/dev/null &&
  rm "$B/include/sddcell_version.h.new" || mv "$B/include/sddcell_version.h.new" "$B/include/sddcell_version.h"
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 $SAN -fsanitize=fuzzer-no-link -I$SRC/src -I$B/include $H5C $BLC $(pc --cflags libcjson)"
LIBS="$H5L -lgsl $BLL -lcjson -lz -lm -lpthread"
objs="" changed=0
for f in "$SRC"/src/*.c; do
  b=$(basename "$f" .c)
  case $b in main|cli*) continue ;; esac
  o="$B/obj/$b.o"
  if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || [ -n "$(find "$SRC/src" "$B/include" -name '*.h' -newer "$o")" ]; then
    echo "  CC $b.c"
    $CC $CFLAGS -c "$f" -o "$o"
    changed=1
  fi
  objs="$objs $o"
done
lib="$B/libsddcell_fuzz.a"
if [ $changed = 1 ] || [ ! -f "$lib" ]; then
  rm -f "$lib"
  ar rcs "$lib" $objs
fi
for h in h5ad:fuzz_h5 tenx:fuzz_h5 mtx:fuzz_mtx model:fuzz_model model_json:fuzz_model_json; do
  name=fuzz_${h%%:*} src=${h#*:}
  bin="$B/$name"
  if [ -f "$bin" ] && [ "$bin" -nt "$lib" ] && [ -z "$(find "$SRC/fuzz" -name '*.[ch]' -newer "$bin")" ]; then
    continue
  fi
  echo "  LD $name"
  $CC $CFLAGS -fsanitize=fuzzer -DFUZZ_TEMPLATE="\"$SRC/fuzz/template.sdd\"" "$SRC/fuzz/$src.c" "$lib" $LIBS -o "$bin"
done
