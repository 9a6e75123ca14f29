#!/usr/bin/env python3
"""Every form in which a password could reach an output, one a line, for tests/secrets.sh:
plain; base64 with and without padding, and as a substring of a larger blob (each of the
three alignments, only the characters the password alone decides); the AUTH PLAIN blobs
for the given users; hex; URL, HTML and JSON \\u escapes; quoted-printable. The search is
case-insensitive (case-folded forms) and also runs over the output with line breaks and
whitespace removed (forms split across lines). Usage: secret_forms.py PASSWORD [USER...]"""
import base64
import html
import json
import quopri
import sys
import urllib.parse


def b64_inner(data):
    """The base64 characters fixed by `data` wherever it sits in a larger blob."""
    out = []
    n = len(data)
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + data + b"\0\0").decode()
        first = -(-8 * k // 6)                 # first char wholly inside data's bits
        last = (8 * (k + n) - 6) // 6          # last such char
        if last >= first:
            out.append(enc[first:last + 1])
    return out


def forms(pw, users):
    p = pw.encode()
    f = {pw}
    full = base64.b64encode(p).decode()
    f |= {full, full.rstrip("=")}
    f |= {s for s in b64_inner(p) if len(s) >= 6}
    for u in users:
        for blob in (b"\0" + u.encode() + b"\0" + p, u.encode() + b"\0" + u.encode() + b"\0" + p,
                     u.encode() + b"\0" + p):
            f.add(base64.b64encode(blob).decode().rstrip("="))
    f.add(p.hex())
    f.add(urllib.parse.quote(pw, safe=""))
    f.add("".join(f"%{c:02X}" for c in p))
    f.add(html.escape(pw))
    f.add("".join(f"&#{c};" for c in p))
    f.add("".join(f"&#x{c:x};" for c in p))
    f.add(json.dumps(pw)[1:-1])
    f.add("".join(f"\\u{c:04x}" for c in p))
    f.add(quopri.encodestring(p).decode().replace("=\n", ""))
    f.add("".join(f"={c:02X}" for c in p))
    return sorted(x for x in f if x)


if __name__ == "__main__":
    for x in forms(sys.argv[1], sys.argv[2:]):
        print(x)
