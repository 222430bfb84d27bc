#!/bin/sh
# version: the version is set in one place, AC_INIT in configure.ac. configure writes it
# into src/sddcell_version.h (SDD_VERSION); the other places that carry it are checked
# against it here: `sddcell --version`, the R package's DESCRIPTION and the man pages.
set -u
SDD="${SDD_BUILDDIR:-.}/sddcell"
SRC="${SDD_SRCDIR:-.}"
fail=0
no() { echo "FAIL: $*" >&2; fail=1; }

v=${SDD_VERSION:-}
[ -n "$v" ] || { echo "FAIL: SDD_VERSION (configure's version) is not set; run through make check" >&2; exit 1; }
ac=$(sed -n 's/^AC_INIT(\[sddcell\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
[ "$ac" = "$v" ] || no "configure.ac says '$ac' but the build was configured as '$v': run ./configure again"
echo "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || no "version '$v' is not X.Y.Z"

out=$("$SDD" --version) || no "sddcell --version exited with $?"
[ "$out" = "sddcell $v" ] || no "sddcell --version prints '$out', not 'sddcell $v'"

d=$(sed -n 's/^Version:[[:space:]]*//p' "$SRC/R/DESCRIPTION")
[ "$d" = "$v" ] || no "R/DESCRIPTION has Version '$d', configure.ac '$v': change R/DESCRIPTION"

for page in "$SRC"/man/*.1; do
  th=$(sed -n 's/^\.TH .*"sddcell \([^"]*\)".*/\1/p' "$page")
  [ "$th" = "$v" ] || no "$(basename "$page"): .TH names version '$th', configure.ac '$v'"
done

# no other copy of the number in the library's headers
if grep -n '^#define SDD_VERSION "' "$SRC"/src/*.h 2>/dev/null | grep -v 'sddcell_version\.h:' >/dev/null; then
  no "a header under src/ defines SDD_VERSION itself: it comes from src/sddcell_version.h.in"
fi
[ $fail = 0 ] && echo "version $v: configure, sddcell --version, R/DESCRIPTION and $(ls "$SRC"/man/*.1 | wc -l) man pages agree"
exit $fail
