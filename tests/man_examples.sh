#!/bin/sh
# man_examples: run the commands of every man page's EXAMPLES section (the lines of its
# .nf/.fi blocks that start with `sddcell` or `./sddcell`), so that the documentation
# stays true. Commands whose subcommand the binary does not have yet are skipped. They run
# in a scratch directory that links the source tree's example_data/, so outputs named
# in the examples land there; any non-zero exit fails the test.
set -u
. "$(dirname "$0")/common.sh"
sdd_tmpdir man
ln -s "$SRC/example_data" "$tmp/example_data"
ran=0

for page in "$SRC"/man/*.1; do
  # groff escapes used in examples: \- is '-', \(aq a quote, \e and \\ a backslash
  sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$page" |
    sed -n '/^\.nf/,/^\.fi/p' | grep -E '^(\./)?sddcell( |$)' |
    sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\e/\\/g' -e 's/\\\\/\\/g' > "$tmp/cmds"
  while IFS= read -r line; do
    # the subcommand is the first word after sddcell that is not a global option
    sub=$(echo "$line" | awk '{for (i = 2; i <= NF; i++) { if ($i ~ /^--(threads|seed)$/) { i++; continue }
          if ($i ~ /^-/) continue; print $i; exit }}')
    if [ -n "$sub" ] && ! "$SDD" help "$sub" >/dev/null 2>&1; then
      echo "skip ($sub not built): $line"
      continue
    fi
    cmd=$(echo "$line" | sed -E "s#(^|[|;&] *)(\./)?sddcell( |\$)#\1\"\$SDD\"\3#g")
    if (cd "$tmp" && SDD="$SDD" sh -c "$cmd") > "$tmp/out" 2> "$tmp/err" < /dev/null; then
      echo "ok ($(basename "$page")): $line"
      ran=$((ran + 1))
    else
      echo "FAIL ($(basename "$page")): $line"
      sed 's/^/  | /' "$tmp/err" | tail -5
      fail=1
    fi
  done < "$tmp/cmds"
done
[ $fail = 0 ] && [ $ran = 0 ] && { echo "skip: no example could run"; exit 77; }
echo "$ran examples ran"
exit $fail
