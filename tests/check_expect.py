#!/usr/bin/env python3
"""Check hand-written expectations against mailwire's JSON records.

Each line of the expectations file:  CAPTURE  SESSION  ASSERTION...
  SESSION: an id such as s1, or * for assertions about the whole run (sessions=N).
  ASSERTION: dotted.path=value — lists compare as comma-joined values (flags=a,b;
  flags= for none), objects by their key (tls=null), numbers and booleans as JSON text.
Prints one TAP line per expectation line; exit status 0 always (the runner counts).
Usage: check_expect.py MAILWIRE EXPECT_FILE
"""
import json
import subprocess
import sys


def lookup(rec, path):
    cur = rec
    for part in path.split("."):
        if isinstance(cur, list):
            cur = cur[int(part)] if part.isdigit() and int(part) < len(cur) else "<missing>"
        elif isinstance(cur, dict):
            cur = cur.get(part, "<missing>")
        else:
            return "<missing>"
    return cur


def render(v):
    if isinstance(v, list):
        return ",".join(render(x) if not isinstance(x, str) else x for x in v)
    if isinstance(v, str):
        return v
    return json.dumps(v)


def main():
    mailwire, expect_file = sys.argv[1], sys.argv[2]
    cache = {}
    n = 0
    for line in open(expect_file, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split()
        cap, sid, asserts = fields[0], fields[1], fields[2:]
        n += 1
        if cap not in cache:
            # CAPTURE+KEYS: read with --keylog KEYS (decryption)
            path, _, keys = cap.partition("+")
            opts = ["--keylog", keys] if keys else []
            out = subprocess.run([mailwire, "-r", path, "--json"] + opts, capture_output=True,
                                 text=True)
            cache[cap] = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
        recs = cache[cap]
        problems = []
        if sid == "*":
            for a in asserts:
                key, _, want = a.partition("=")
                if key == "sessions":
                    if str(len(recs)) != want:
                        problems.append(f"sessions: got {len(recs)}, want {want}")
                else:
                    problems.append(f"unknown run assertion {key}")
        else:
            rec = next((r for r in recs if r.get("id") == sid), None)
            if rec is None:
                problems.append(f"no session {sid} (got {[r.get('id') for r in recs]})")
            else:
                for a in asserts:
                    key, _, want = a.partition("=")
                    got = render(lookup(rec, key))
                    if got != want:
                        problems.append(f"{key}: got {got!r}, want {want!r}")
        name = f"expect {cap} {sid}"
        if problems:
            print(f"not ok {n} - {name}")
            for p in problems:
                print(f"#   {p}")
        else:
            print(f"ok {n} - {name}")


if __name__ == "__main__":
    main()
