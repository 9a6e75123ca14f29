#!/usr/bin/env python3
"""Checks for tests/store.sh.
  records A.jsonl B.jsonl [--exact]   same records, same order (--exact: the same text)
  filter  RUN.jsonl Q.jsonl KEY VALUE the run's records where KEY matches, equal to Q
  report  A B                         the same report but the 'What was analysed' section
"""
import json, re, sys

def load(p):
    return [l.rstrip("\n") for l in open(p, encoding="utf-8") if l.strip()]

def main():
    cmd = sys.argv[1]
    if cmd == "records":
        a, b = load(sys.argv[2]), load(sys.argv[3])
        if "--exact" in sys.argv:
            ok = a == b
        else:
            ok = [json.loads(x) for x in a] == [json.loads(x) for x in b]
        if not ok:
            print("# %d records vs %d; first difference at %s" % (len(a), len(b), next(
                (i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))))
        return ok
    if cmd == "filter":
        run = [json.loads(x) for x in load(sys.argv[2])]
        got = [json.loads(x) for x in load(sys.argv[3])]
        key, val = sys.argv[4], sys.argv[5]
        pick = {
            "flag": lambda r: val in r["flags"],
            "user": lambda r: (r["auth"] or {}).get("user") == val,
            "client": lambda r: r["client_ip"] == val,
            "window": lambda r: val.split(",")[0] <= r["ts_start"] < val.split(",")[1],
        }[key]
        want = [r for r in run if pick(r)]
        if want != got or not want:
            print("# want %d records, got %d" % (len(want), len(got)))
        return want == got and len(want) > 0
    if cmd == "report":
        def norm(p):
            t = open(p, encoding="utf-8").read()
            t = re.sub(r'<section id="analysed">.*?</section>', "", t, flags=re.S)
            # the section is last since the summary came first: up to the next heading or the end
            t = re.sub(r"## What was analysed\n.*?(?=\n## |\Z)", "", t, flags=re.S)
            # the sessions TLS hid: the stored record has not what the note says of each
            # (who closed first, silence before the close), so a stored report leaves it out
            t = re.sub(r"<pre id=\"unseen\">.*?</pre>\n?", "", t, flags=re.S)
            t = re.sub(r"\*\*Not seen \(encrypted\)[^\n]*\n\n(?:- [^\n]*\n)*\n?(?:To see inside[^\n]*\n\n?)?", "", t)
            return [l for l in t.splitlines() if "Written by mailwire" not in l and
                    "capture file" not in l]
        a, b = norm(sys.argv[2]), norm(sys.argv[3])
        if a != b:
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    print("# line %d:\n#  run: %s\n#  db:  %s" % (i, x[:200], y[:200]))
                    break
            else:
                print("# %d lines vs %d" % (len(a), len(b)))
        return a == b
    raise SystemExit("unknown check " + cmd)

sys.exit(0 if main() else 1)
