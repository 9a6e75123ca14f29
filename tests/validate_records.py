#!/usr/bin/env python3
"""Validate mailwire JSON Lines records against doc/record.schema.json (JSON Schema 2020-12).

Usage: validate_records.py [--schema FILE] [--vocabulary SRC_ROOT] [--coverage] FILE...
  FILE: JSON Lines (one record a line), '-' for stdin.
  --vocabulary ROOT: also check that the schema's flag and anomaly enums are exactly the
      names in the sources (ROOT/analyzer/core/flags.h, ROOT/analyzer/core/session.c), so a
      flag added to the code without the schema fails here instead of in a log shipper.
  --coverage: print (as '# ' lines) the schema properties no record used.
Besides the schema, the keys of each record must come in the schema's order (SPEC.md: keys
in this order). Prints one line per invalid record (FILE:LINE: path: message, at most 20)
and a summary; exit 0 when every record is valid and there was at least one, else 1.
"""
import json
import re
import sys

from jsonschema import Draft202012Validator, FormatChecker

MAX_SHOWN = 20


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    return schema


def source_vocabulary(root):
    flags_h = open(f"{root}/analyzer/core/flags.h", encoding="utf-8").read()
    session_c = open(f"{root}/analyzer/core/session.c", encoding="utf-8").read()
    flags = set(re.findall(r'X\([A-Z_0-9]+,\s*"([a-z_0-9]+)"', flags_h))
    names = re.search(r"mw_anomaly_name.*?\{(.*?)\};", session_c, re.S).group(1)
    anomalies = set(re.findall(r'=\s*"([a-z_0-9]+)"', names))
    return flags, anomalies


def check_vocabulary(schema, root):
    flags, anomalies = source_vocabulary(root)
    problems = []
    for name, want in (("flag", flags), ("anomaly", anomalies)):
        have = set(schema["$defs"][name]["enum"])
        if not want:
            problems.append(f"no {name} names found in the sources under {root}")
        if have - want:
            problems.append(f"schema {name}s not in the sources: {sorted(have - want)}")
        if want - have:
            problems.append(f"source {name}s missing from the schema: {sorted(want - have)}")
    return problems


def key_order_problem(schema, rec):
    order = list(schema["properties"])
    pos = [order.index(k) for k in rec if k in order]
    if pos != sorted(pos):
        return f"keys out of the schema's order: {list(rec)}"
    return None


def used_paths(v, prefix, out):
    """Every object key path of a record (list items as [])."""
    if isinstance(v, dict):
        for k, x in v.items():
            p = f"{prefix}.{k}" if prefix else k
            out.add(p)
            used_paths(x, p, out)
    elif isinstance(v, list):
        for x in v:
            used_paths(x, prefix + "[]", out)


def schema_paths(schema, node, prefix, out, depth=0):
    """Every property path the schema names (through $ref, anyOf/oneOf, items)."""
    if depth > 12 or not isinstance(node, dict):
        return
    if "$ref" in node:
        schema_paths(schema, schema["$defs"][node["$ref"].rsplit("/", 1)[1]], prefix, out,
                     depth + 1)
    for alt in node.get("anyOf", []) + node.get("oneOf", []):
        schema_paths(schema, alt, prefix, out, depth + 1)
    if "items" in node:
        schema_paths(schema, node["items"], prefix + "[]", out, depth + 1)
    for k, sub in node.get("properties", {}).items():
        p = f"{prefix}.{k}" if prefix else k
        out.add(p)
        schema_paths(schema, sub, p, out, depth + 1)


def main(argv):
    schema_file, vocab_root, coverage, files = "doc/record.schema.json", None, False, []
    it = iter(argv)
    for a in it:
        if a == "--schema":
            schema_file = next(it)
        elif a == "--vocabulary":
            vocab_root = next(it)
        elif a == "--coverage":
            coverage = True
        else:
            files.append(a)
    schema = load_schema(schema_file)
    bad = []
    if vocab_root:
        bad += [f"vocabulary: {p}" for p in check_vocabulary(schema, vocab_root)]
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    n = 0
    used = set()
    for name in files or ["-"]:
        f = sys.stdin if name == "-" else open(name, encoding="utf-8")
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            n += 1
            where = f"{name}:{lineno}"
            try:
                rec = json.loads(line)
            except ValueError as e:
                bad.append(f"{where}: not JSON: {e}")
                continue
            errors = sorted(validator.iter_errors(rec), key=lambda e: list(e.absolute_path))
            for e in errors[:3]:
                path = "/".join(str(p) for p in e.absolute_path) or "(record)"
                bad.append(f"{where}: {rec.get('id', '?') if isinstance(rec, dict) else '?'} "
                           f"{path}: {e.message[:300]}")
            if isinstance(rec, dict):
                problem = key_order_problem(schema, rec)
                if problem:
                    bad.append(f"{where}: {problem}")
                used_paths(rec, "", used)
        if f is not sys.stdin:
            f.close()
    for b in bad[:MAX_SHOWN]:
        print(b)
    if len(bad) > MAX_SHOWN:
        print(f"... and {len(bad) - MAX_SHOWN} more")
    if coverage:
        named = set()
        schema_paths(schema, schema, "", named)
        for p in sorted(named - used):
            print(f"# no record used: {p}")
    print(f"{n} records, {len(bad)} problems")
    return 0 if n and not bad else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
