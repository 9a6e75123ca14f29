#!/usr/bin/env python3
"""Cross-check TLS fields against tshark: for every TLS session in the test captures,
mailwire's negotiated version, cipher suite and SNI must equal tshark's
(tls.handshake.version / supported_version, tls.handshake.ciphersuite,
tls.handshake.extensions_server_name). Prints TAP lines; skips when tshark is missing.
Usage: tshark_xcheck.py MAILWIRE CAPTURE [--ports SPEC] ...
"""
import json
import re
import shutil
import subprocess
import sys

VERSIONS = {"0x0300": "SSLv3", "0x0301": "TLS1.0", "0x0302": "TLS1.1", "0x0303": "TLS1.2",
            "0x0304": "TLS1.3"}


def tshark_fields(cap, filt, fields):
    out = subprocess.run(["tshark", "-r", cap, "-Y", filt, "-T", "fields", "-E", "occurrence=f"]
                         + sum((["-e", f] for f in fields), []),
                         capture_output=True, text=True).stdout
    return [l.split("\t") for l in out.splitlines() if l.strip()]


def cipher_names(cap):
    """(server port, client port) -> IANA name, from tshark's verbose ServerHello."""
    out = subprocess.run(["tshark", "-r", cap, "-Y", "tls.handshake.type==2", "-V"],
                         capture_output=True, text=True).stdout
    names, ports = {}, None
    for line in out.splitlines():
        m = re.search(r"Transmission Control Protocol, Src Port: (\d+), Dst Port: (\d+)", line)
        if m:
            ports = (int(m.group(1)), int(m.group(2)))
        m = re.search(r"Cipher Suite: (\S+) \(0x", line)
        if m and ports and ports not in names:
            names[ports] = m.group(1)
    return names


def main():
    mailwire, args = sys.argv[1], sys.argv[2:]
    if not shutil.which("tshark"):
        print("ok 1 - tshark cross-check skipped: tshark not installed # SKIP")
        return
    caps, i = [], 0
    while i < len(args):
        opts = []
        if i + 2 < len(args) and args[i + 1] == "--ports":
            opts = ["--ports", args[i + 2]]
        caps.append((args[i], opts))
        i += 3 if opts else 1
    n = 0
    for cap, opts in caps:
        recs = [json.loads(l) for l in subprocess.run([mailwire, "-r", cap, "--json"] + opts,
                capture_output=True, text=True).stdout.splitlines()]
        sh = {(int(r[0]), int(r[1])): r for r in
              tshark_fields(cap, "tls.handshake.type==2",
                            ["tcp.srcport", "tcp.dstport", "tls.handshake.version",
                             "tls.handshake.extensions.supported_version"])}
        ch = {(int(r[0]), int(r[1])): r[2] for r in
              tshark_fields(cap, "tls.handshake.type==1",
                            ["tcp.srcport", "tcp.dstport", "tls.handshake.extensions_server_name"])}
        names = cipher_names(cap)
        for rec in recs:
            tls = rec.get("tls")
            if not tls or not tls.get("version"):
                continue
            cport = int(rec["client"].rsplit(":", 1)[1])
            sport = int(rec["server"].rsplit(":", 1)[1])
            problems = []
            hello = sh.get((sport, cport))
            if not hello:
                problems.append("tshark saw no ServerHello")
            else:
                v = hello[3] or hello[2]
                want = VERSIONS.get(v, v)
                if v.startswith("0x7f"):  # draft-ietf-tls-tls13-NN
                    want = f"TLS1.3-draft{int(v[4:], 16)}"
                if tls["version"] != want:
                    problems.append(f"version {tls['version']} != tshark {want}")
                if names.get((sport, cport)) and tls["cipher"] != names[(sport, cport)]:
                    problems.append(f"cipher {tls['cipher']} != tshark {names[(sport, cport)]}")
            want_sni = ch.get((cport, sport)) or None
            if (tls.get("sni") or None) != want_sni:
                problems.append(f"sni {tls.get('sni')} != tshark {want_sni}")
            n += 1
            name = f"tshark agrees on {cap} {rec['id']} ({tls['version']} {tls['cipher']})"
            print(("not ok" if problems else "ok") + f" {n} - {name}")
            for p in problems:
                print(f"#   {p}")
    if n == 0:
        print("not ok 1 - no TLS session found to cross-check")


main()
