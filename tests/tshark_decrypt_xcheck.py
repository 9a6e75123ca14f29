#!/usr/bin/env python3
"""tshark as the oracle for decryption: for every keyed capture, tshark decrypts with
-o tls.keylog_file:KEYS (a pcapng with embedded secrets: with no option) and mailwire with
--keylog KEYS (or nothing); session by session (TCP client port), mailwire's transcript of
the mail protocol -- client commands and the server's replies, each with its frame number --
must equal tshark's, inside TLS and before it. Prints TAP lines; skips without tshark.
Usage: tshark_decrypt_xcheck.py MAILWIRE CAPTURE...
"""
import json
import os
import shutil
import subprocess
import sys

AGG = "\x1f"
FIELDS = ["frame.number", "tcp.srcport", "tcp.dstport", "smtp.req.command", "smtp.response.code",
          "imap.request_tag", "imap.response_tag", "imap.response.status",
          "pop.request.command", "pop.response.indicator"]
NOT_MAIL = ("[", "ClientHello", "ServerHello", "HelloRetryRequest", "Certificate", "alert ")


def keys_of(cap):
    k = os.path.splitext(cap)[0] + ".keys"
    return k if os.path.exists(k) else None


def tshark_lines(cap, keys):
    """client port -> ordered [(frame, 'C'|'S', token)] as tshark decodes them."""
    opts = ["-o", "tls.keylog_file:" + keys] if keys else []
    out = subprocess.run(["tshark", "-r", cap] + opts + ["-Y", "smtp || imap || pop", "-T",
                          "fields", "-E", "occurrence=a", "-E", "aggregator=" + AGG]
                         + sum((["-e", f] for f in FIELDS), []),
                         capture_output=True, text=True).stdout
    sess = {}
    for line in out.splitlines():
        v = [x.split(AGG) if x else [] for x in line.split("\t")]
        frame, sport, dport = int(v[0][0]), int(v[1][0]), int(v[2][0])
        server_side = sport < dport
        ev = sess.setdefault(dport if server_side else sport, [])
        for cmd in v[3]:
            ev.append((frame, "C", cmd.upper()[:4]))
        for code in v[4]:  # one per reply (a multi-line reply is one PDU)
            ev.append((frame, "S", code))
        for tag in v[5]:
            ev.append((frame, "C", tag))
        for tag, st in zip(v[6], v[7]):
            if tag not in ("*", "+"):
                ev.append((frame, "S", tag + " " + st.upper()))
        for cmd in v[8]:  # a SASL response line is no command (mailwire: redacted)
            if len(cmd) <= 4 and cmd.isalpha():
                ev.append((frame, "C", cmd.upper()))
        for ind in v[9]:
            ev.append((frame, "S", ind.upper()))
    return sess


def mailwire_lines(mw, cap, keys):
    opts = ["--keylog", keys] if keys else []
    out = subprocess.run([mw, "-r", cap, "--json", "-v"] + opts, capture_output=True,
                         text=True).stdout
    sess = {}
    for l in out.splitlines():
        r = json.loads(l)
        port = int(r["client"].rsplit(":", 1)[1])
        proto = r["protocol"]
        ev = sess.setdefault(port, [])
        for e in r.get("transcript") or []:
            t = e["text"]
            if t.startswith(NOT_MAIL) or not t.strip():
                continue
            side = "C" if e["from"] == "client" else "S"
            w = t.split()
            if proto.startswith(("smtp", "submission")):
                tok = w[0].upper()[:4] if side == "C" else t[:3]
            elif proto.startswith("imap"):
                if side == "S" and (w[0] in ("*", "+") or len(w) < 2):
                    continue
                tok = w[0] if side == "C" else w[0] + " " + w[1].upper()
            else:
                if side == "S" and not w[0].startswith(("+OK", "-ERR")):
                    continue
                tok = w[0].upper()
            ev.append((e["frame"], side, tok))
    return sess


def main():
    mw, caps = sys.argv[1], sys.argv[2:]
    if not shutil.which("tshark"):
        print("ok 1 - tshark decryption cross-check skipped: tshark not installed # SKIP")
        return
    n = fails = 0
    for cap in caps:
        keys = keys_of(cap)
        want, got = tshark_lines(cap, keys), mailwire_lines(mw, cap, keys)
        for port in sorted(set(want) | set(got)):
            n += 1
            w, g = want.get(port, []), got.get(port, [])
            ok = w == g
            print(f"{'ok' if ok else 'not ok'} {n} - {os.path.basename(cap)} client port {port}: "
                  f"{len(g)} mail lines, frames and codes as tshark decrypts them")
            if not ok:
                fails += 1
                for a, b in zip(w + [None] * len(g), g + [None] * len(w)):
                    if a != b:
                        print(f"#   tshark {a}  mailwire {b}")
                        break
    print(f"1..{n}")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
