#!/usr/bin/env python3
"""The layout's figures (issue 11): files over 700 lines, functions over 100 lines,
folders with more than 8 .c files, and `#include "../` paths. Prints the figures and a
TAP line for each rule."""
import os, re, sys

ROOTS = ("analyzer", "dissectors")
MAX_FILE_LINES, MAX_FUNC_LINES, MAX_C_PER_DIR = 700, 100, 8
# the include roots a dissector may use: analyzer/core and the dissector folders
DISSECTOR_MAY_INCLUDE = {"core", "text", "smtp", "imap", "pop3", "tls"}

def sources():
    for root in ROOTS:
        for d, _, files in os.walk(root):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(d, f)

def functions(path, text):
    """(name, lines) of each function definition: a line at column 0 that ends a
    declarator with ')' and opens '{' at column 0 on the next line, to its closing '}'."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines) - 1:
        head, nxt = lines[i], lines[i + 1]
        if nxt == "{" and head and not head[0].isspace() and head.rstrip().endswith(")") \
                and not head.startswith(("#", "/", "}")):
            m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", head)
            j = i + 1
            while j < len(lines) and lines[j] != "}":
                j += 1
            out.append((m.group(1) if m else "?", j - i + 1))
            i = j
        i += 1
    return out

def main():
    big, longf, includes, layering, per_dir = [], [], [], [], {}
    for p in sources():
        text = open(p, encoding="utf-8", errors="replace").read()
        n = text.count("\n")
        if n > MAX_FILE_LINES:
            big.append(f"{p} ({n})")
        if p.endswith(".c"):
            per_dir[os.path.dirname(p)] = per_dir.get(os.path.dirname(p), 0) + 1
            for name, ln in functions(p, text):
                if ln > MAX_FUNC_LINES:
                    longf.append(f"{p}:{name} ({ln})")
        for ln, line in enumerate(text.split("\n"), 1):
            if line.startswith('#include "../'):
                includes.append(f"{p}:{ln}")
            # core depends on nothing else of ours; dissectors only on core and themselves
            m = re.match(r'#include "([a-z_]+)/', line)
            if m and p.startswith("analyzer/core/") and m.group(1) != "core":
                layering.append(f"{p}:{ln} includes {m.group(1)}/")
            if m and p.startswith("dissectors/") and m.group(1) not in DISSECTOR_MAY_INCLUDE:
                layering.append(f"{p}:{ln} includes {m.group(1)}/")
    crowded = [f"{d} ({n})" for d, n in sorted(per_dir.items()) if n > MAX_C_PER_DIR]
    checks = [
        (f"no source file over {MAX_FILE_LINES} lines", big),
        (f"no function over {MAX_FUNC_LINES} lines", longf),
        (f"no folder with more than {MAX_C_PER_DIR} .c files", crowded),
        ('no #include "../', includes),
        ("core includes only core/, dissectors only core/ and dissectors/", layering),
    ]
    bad = 0
    for what, found in checks:
        if found:
            bad += 1
            print(f"not ok - layout: {what}: {len(found)}: " + ", ".join(found))
        else:
            print(f"ok - layout: {what}")
    return 1 if bad else 0

if __name__ == "__main__":
    sys.exit(main())
