#!/usr/bin/env python3
"""check-style: two structural checks of the sources.

1. Function length: every function definition in the C files given (default src/*.c,
   R/src/*.c) whose lines, from the first line of its declarator to its closing brace,
   number more than --max-lines (120). Definitions are found by their layout: the body
   opens with a '{' line at column 0 (or a column-0 declarator ending in '{') and closes
   with the next '}' line at column 0.
2. Import circles: with --objects, the file-level call graph of libsddcell read with
   `nm` from its object files: file A calls file B when A refers (U, or w for a weak
   reference) to a global symbol that B defines (T, D, B or R). A circle is a pair of files that call into each other.

Exit status 1 when a function is too long, or (with --fail-on-circles) when there is a
circle; otherwise 0. Findings are printed one a line.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

NAME = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*\(')


def functions(path):
    """Yield (name, first line, last line) of the function definitions in a C file."""
    with open(path, encoding='utf-8', errors='replace') as fh:
        lines = fh.read().split('\n')
    i = 0
    while i < len(lines):
        line = lines[i]
        opens = line == '{' or (line[:1].isalpha() and line.rstrip().endswith('{')
                                and '(' in line and '=' not in line)
        if not opens:
            i += 1
            continue
        # the declarator: back over lines until a blank line, a preprocessor line or
        # the end of the previous declaration, statement or comment
        start = i if line != '{' else i - 1
        while start > 0:
            prev = lines[start - 1].rstrip()
            if (not prev or prev.startswith('#') or prev.endswith((';', '}', '*/'))
                    or prev.startswith(('/*', ' *', '//'))):
                break
            start -= 1
        header = ' '.join(lines[start:i + 1])
        m = NAME.search(header)
        end = i + 1
        while end < len(lines) and not lines[end].startswith('}'):
            end += 1
        if m and '=' not in header.split('(')[0]:
            yield m.group(1), start + 1, end + 1
        i = end + 1


def long_functions(files, max_lines):
    out = []
    for path in files:
        for name, first, last in functions(path):
            n = last - first + 1
            if n > max_lines:
                out.append((path, first, name, n))
    return out


def call_graph(objects):
    """{file: set(files it calls)} from the defined and undefined sdd_ symbols."""
    defined, used = {}, {}
    for obj in objects:
        base = os.path.basename(obj)
        src = re.sub(r'^(libsddcell_a-|sddcell-)', '', base)[:-2] + '.c'
        res = subprocess.run(['nm', obj], capture_output=True, text=True, check=True)
        for row in res.stdout.splitlines():
            parts = row.split()
            if len(parts) < 2:
                continue
            kind, sym = parts[-2], parts[-1]
            if kind in ('T', 'D', 'B', 'R'):
                defined[sym] = src
            elif kind in ('U', 'w'):
                used.setdefault(src, set()).add(sym)
    graph = {}
    for src, syms in used.items():
        for sym in syms:
            dst = defined.get(sym)
            if dst and dst != src:
                graph.setdefault(src, {}).setdefault(dst, set()).add(sym)
    return graph


def circles(graph):
    out = []
    for a in sorted(graph):
        for b in sorted(graph[a]):
            if a < b and a in graph.get(b, {}):
                out.append((a, b, sorted(graph[a][b]), sorted(graph[b][a])))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--max-lines', type=int, default=120)
    ap.add_argument('--srcdir', default='.', help='top of the source tree')
    ap.add_argument('--objects', nargs='*', default=None,
                    help='object files for the circle check (none: skipped)')
    ap.add_argument('--fail-on-circles', action='store_true')
    ap.add_argument('files', nargs='*')
    a = ap.parse_args()
    files = a.files or sorted(glob.glob(os.path.join(a.srcdir, 'src', '*.c')) +
                              glob.glob(os.path.join(a.srcdir, 'R', 'src', '*.c')))
    rc = 0
    for path, line, name, n in long_functions(files, a.max_lines):
        print(f'{path}:{line}: {name} is {n} lines (at most {a.max_lines})')
        rc = 1
    if a.objects:
        for x, y, xy, yx in circles(call_graph(a.objects)):
            print(f'circle: {x} <-> {y} ({x} calls {", ".join(xy)}; '
                  f'{y} calls {", ".join(yx)})')
            if a.fail_on_circles:
                rc = 1
    return rc


if __name__ == '__main__':
    sys.exit(main())
