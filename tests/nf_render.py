#!/usr/bin/env python3
"""nf_render: the shell a Nextflow module runs, for the contract test.

  nf_render.py MODULE/main.nf script|stub|outputs NAME=VALUE...

Takes the process's `script:` or `stub:` block, evaluates its `prefix = task.ext.prefix
?: "..."` default and replaces every ${name} (task.cpus, args, meta.id, the inputs, ...)
with the values given, turns Groovy's \\\\ and \\$ escapes into the shell's characters and
strips the common indentation as Nextflow does; prints the script. `outputs` prints the
file names the output block declares, one a line, with the same values.
"""
import re
import sys
import textwrap


def subst(text, env):
    def one(m):
        k = m.group(1)
        if k not in env:
            sys.exit("nf_render: no value for ${%s}" % k)
        return env[k]
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}", one, text)


def block(src, name):
    m = re.search(r"^\s*%s:\s*$(.*?)^\s*(?:stub|script|output|when|input):\s*$|^\s*%s:\s*$(.*)" % (name, name),
                  src, re.S | re.M)
    body = (m.group(1) or m.group(2)) if m else None
    if body is None:
        sys.exit("nf_render: no %s block" % name)
    return body


def main():
    path, what, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    env = dict(p.split("=", 1) for p in pairs)
    src = open(path).read()
    body = block(src, "stub" if what == "stub" else "script")
    pm = re.search(r'prefix\s*=\s*task\.ext\.prefix\s*\?:\s*"([^"]*)"', body)
    if pm and "prefix" not in env:
        env["prefix"] = subst(pm.group(1), env)
    if what == "outputs":
        out = block(src, "output")
        for name in re.findall(r'path[( ]+"([^"]*)"', out):
            print(subst(name, env))
        return
    m = re.search(r'"""\n(.*?)"""', body, re.S)
    if not m:
        sys.exit("nf_render: no script string")
    text = m.group(1).replace("\\\\", "\x00").replace("\\$", "$").replace("\x00", "\\")
    # ${...} that the shell sees (after \$) are left alone: only Groovy's are replaced
    parts = re.split(r"(\$\([^)]*\))", text)
    text = "".join(p if p.startswith("$(") else subst(p, env) for p in parts)
    print(textwrap.dedent(text))


main()
