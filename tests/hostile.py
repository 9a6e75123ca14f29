#!/usr/bin/env python3
"""Hostile-stream memory tests: mailwire must finish, say what happened, and keep its
peak RSS under a bound derived from its caps, whatever a sender puts on the wire.

  hostile.py [MAILWIRE]      (default build/mailwire); prints TAP

Each case also has a time bound (TIME_LIMIT unless it names a smaller one): 1-byte
segments in random order must not make reassembly quadratic.

Each case writes a capture (raw-IP link type, built with struct) into a temporary
directory, runs mailwire --json on it with a time limit, reads the child's peak RSS
(/usr/bin/time's %M: the child's ru_maxrss in KiB), and checks the record's flags / anomalies.

Bounds. A baseline run (a one-packet capture) gives mailwire's fixed footprint (libc,
GLib, OpenSSL, the 64 Ki-entry port table). A single hostile flow may then hold at most
2 x --max-ooo-bytes (256 KiB each way) of out-of-order data, 2 x the pending cap (one
line or one TLS record, ~18.5 KiB each way) and the dissectors' bounded state (TLS
handshake reassembly, IMAP/SMTP records capped by MW_MAX_*): well under 2 MiB, so
the bound is baseline + 16 MiB, room for allocator slack but far below what buffering
the hostile bytes would take (100 MiB .. 1 GiB). The SYN flood runs with --max-flows
10000: 10000 live flows at a few KiB each (flow, session record, hash entry) fit in
48 MiB, so its bound is baseline + 48 MiB (< 64 MiB in all); without the cap it would be
a million flows. Generated files live in a temporary directory, never in the tree.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

MW = sys.argv[1] if len(sys.argv) > 1 else "build/mailwire"
TIME_LIMIT = 60  # seconds per run
# What a flow that has shown one segment may cost (peak RSS over the baseline, per flow):
# 2121 bytes before issue 12's slimming, about 950 after it (dissector state, record,
# arrays and buffers made at first use; the session's rare parts behind a pointer).
MAX_BYTES_PER_FLOW = 1024
# The per-flow figure is the growth from a run of PER_FLOW_REFERENCE flows (same generator,
# same options) to the case's run, over the flows added: buffers whose size does not depend
# on the flows (the reader's batches, the thread rings, the writer's buffer) are in both
# runs and cancel, where the tiny baseline capture never fills them.
PER_FLOW_REFERENCE = 10_000
MiB = 1024 * 1024

CLIENT = bytes([10, 0, 0, 1])
SERVER = bytes([10, 0, 0, 2])


class Pcap:
    """A classic pcap, LINKTYPE_RAW (IPv4 packets), microsecond timestamps."""

    def __init__(self, path):
        self.f = open(path, "wb", buffering=4 * MiB)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        self.t = 1_700_000_000_000_000

    def tcp(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        self.t += 10
        tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        total = 20 + 20 + len(payload)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
        self.f.write(struct.pack("<IIII", self.t // 1_000_000, self.t % 1_000_000, total,
                                 total))
        self.f.write(ip)
        self.f.write(tcp)
        self.f.write(payload)

    def close(self):
        self.f.close()


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16


class Conn:
    """One TCP connection, client port cport to server port sport; tracks sequences."""

    def __init__(self, pc, cport, sport, cli=CLIENT, srv=SERVER, handshake=True):
        self.pc, self.cport, self.sport, self.cli, self.srv = pc, cport, sport, cli, srv
        self.cseq, self.sseq = 1000, 5000
        if handshake:
            pc.tcp(cli, srv, cport, sport, self.cseq - 1, 0, SYN)
            pc.tcp(srv, cli, sport, cport, self.sseq - 1, self.cseq, SYN | ACK)
            pc.tcp(cli, srv, cport, sport, self.cseq, self.sseq, ACK)

    def c(self, data, seg=1460):
        for i in range(0, len(data), seg):
            piece = data[i:i + seg]
            self.pc.tcp(self.cli, self.srv, self.cport, self.sport, self.cseq, self.sseq,
                        PSH | ACK, piece)
            self.cseq += len(piece)

    def s(self, data, seg=1460):
        for i in range(0, len(data), seg):
            piece = data[i:i + seg]
            self.pc.tcp(self.srv, self.cli, self.sport, self.cport, self.sseq, self.cseq,
                        PSH | ACK, piece)
            self.sseq += len(piece)

    def fin(self):
        self.pc.tcp(self.cli, self.srv, self.cport, self.sport, self.cseq, self.sseq, FIN | ACK)
        self.pc.tcp(self.srv, self.cli, self.sport, self.cport, self.sseq, self.cseq + 1,
                    FIN | ACK)
        self.pc.tcp(self.cli, self.srv, self.cport, self.sport, self.cseq + 1, self.sseq + 1,
                    ACK)


def repeat_c(conn, unit, total, seg=1460):
    """Send `total` bytes made of `unit` repeated, from the client, in seg-byte segments,
    without building them all in memory (unit length must divide seg)."""
    block = unit * (seg // len(unit))
    sent = 0
    while sent < total:
        n = min(seg, total - sent)
        conn.c(block[:n], seg)
        sent += n


# ---- the cases -------------------------------------------------------------------------

def gen_baseline(pc):
    conn = Conn(pc, 40000, 25)
    conn.s(b"220 mx.example.test ESMTP\r\n")
    conn.fin()


def gen_smtp_long_line(pc):
    """100 MiB of one SMTP command line, no CRLF, then the rest of a session."""
    conn = Conn(pc, 40001, 25)
    conn.s(b"220 mx.example.test ESMTP\r\n")
    conn.c(b"EHLO client.example.test\r\n")
    conn.s(b"250 mx.example.test\r\n")
    repeat_c(conn, b"A" * 20, 100 * MiB)
    conn.c(b"\r\nQUIT\r\n")
    conn.s(b"500 5.5.2 line too long\r\n221 bye\r\n")
    conn.fin()


def gen_imap_literal_gap(pc):
    """A 1 GiB APPEND literal announced, then the client's sequence numbers jump past it:
    the bytes are never in the capture."""
    conn = Conn(pc, 40002, 143)
    conn.s(b"* OK [CAPABILITY IMAP4rev1] ready\r\n")
    conn.c(b"a1 LOGIN user pass\r\n")
    conn.s(b"a1 OK logged in\r\n")
    conn.c(b"a2 APPEND INBOX {1073741824}\r\n")
    conn.s(b"+ Ready for literal data\r\n")
    conn.cseq += 1 << 30
    conn.c(b"\r\na3 LOGOUT\r\n")
    conn.s(b"* BYE\r\na3 OK bye\r\n")
    conn.fin()


def gen_imap_literal_partial(pc):
    """A 1 GiB literal announced, 64 MiB of it sent, then the connection closes."""
    conn = Conn(pc, 40003, 143)
    conn.s(b"* OK ready\r\n")
    conn.c(b"a1 LOGIN user pass\r\n")
    conn.s(b"a1 OK logged in\r\n")
    conn.c(b"a2 APPEND INBOX {1073741824}\r\n")
    conn.s(b"+ Ready for literal data\r\n")
    repeat_c(conn, b"0123456789\r\n" + b"x" * 8, 64 * MiB)
    conn.fin()


def gen_imap_literal_bad(pc):
    """A literal count beyond any limit (over 2^32 - 1)."""
    conn = Conn(pc, 40004, 143)
    conn.s(b"* OK ready\r\n")
    conn.c(b"a1 APPEND INBOX {99999999999999999999}\r\n")
    conn.s(b"a1 BAD literal too big\r\n")
    conn.c(b"a2 LOGOUT\r\n")
    conn.s(b"* BYE\r\na2 OK bye\r\n")
    conn.fin()


def gen_syn_flood(pc):
    """1 M SYNs to port 25 from distinct sources (10.16.0.0/12 .. counting up)."""
    pc_tcp = pc.tcp
    for i in range(1_000_000):
        a = 0x0A100000 + i
        pc_tcp(struct.pack(">I", a), SERVER, 1024 + (i % 60000), 25, i * 7919, 0, SYN)


def gen_tls_16m_handshake(pc):
    """Implicit TLS (465): a ClientHello whose handshake header announces 16 MiB - 1,
    then 20 MiB of handshake records continuing it."""
    conn = Conn(pc, 40005, 465)
    body = b"\x01" + b"\xff\xff\xff" + b"\x03\x03" + b"\x00" * 1000
    conn.c(b"\x16\x03\x01" + struct.pack(">H", len(body)) + body)
    frag = b"\x16\x03\x01" + struct.pack(">H", 16384) + bytes(16384)
    for _ in range(20 * 64):
        conn.c(frag)
    conn.fin()


def gen_ooo_endless(pc):
    """After the handshake and greeting, the client's first segment is lost and 200000
    later segments (1000 bytes each, 200 MB) arrive; the hole is never filled."""
    conn = Conn(pc, 40006, 25)
    conn.s(b"220 mx.example.test ESMTP\r\n")
    data = b"X" * 998 + b"\r\n"
    base = conn.cseq + 1000  # 1000 bytes never arrive
    for i in range(200_000):
        pc.tcp(CLIENT, SERVER, 40006, 25, base + i * 1000, conn.sseq, PSH | ACK, data)
    conn.cseq = base + 200_000 * 1000
    conn.fin()


def gen_one_byte_random(n):
    """After the greeting, n client bytes ("NOOP\\r\\n" repeated) as n 1-byte segments in a
    random order (fixed seed), then the close: reassembly must stay logarithmic."""
    def gen(pc):
        import random
        conn = Conn(pc, 40007, 25)
        conn.s(b"220 mx.example.test ESMTP\r\n")
        data = (b"NOOP\r\n" * (n // 6 + 1))[:n]
        order = list(range(n))
        random.Random(12).shuffle(order)
        tcp, base, sseq = pc.tcp, conn.cseq, conn.sseq
        for i in order:
            tcp(CLIENT, SERVER, 40007, 25, base + i, sseq, PSH | ACK, data[i:i + 1])
        conn.cseq = base + n
        conn.fin()
    return gen


def gen_flows_one_segment(n):
    """n connections to port 25, each a handshake and one client byte (an incomplete line
    held for the dissector): what a flow that has shown one segment costs."""
    def gen(pc):
        tcp = pc.tcp
        for i in range(n):
            a = struct.pack(">I", 0x0A100000 + i)
            p = 1024 + (i % 60000)
            tcp(a, SERVER, p, 25, 999, 0, SYN)
            tcp(SERVER, a, 25, p, 4999, 1000, SYN | ACK)
            tcp(a, SERVER, p, 25, 1000, 5000, PSH | ACK, b"E")
    return gen


def gen_flows_holding_ooo(pc):
    """400 connections, each with its first client segment lost and 150 later ones of 1400
    bytes held out of order (210 KB a flow, under --max-ooo-bytes): 84 MB held in all
    unless a global cap says otherwise."""
    seg = b"Y" * 1398 + b"\r\n"
    for i in range(400):
        a = struct.pack(">I", 0x0A200000 + i)
        p = 2000 + i
        pc.tcp(a, SERVER, p, 25, 999, 0, SYN)
        pc.tcp(SERVER, a, 25, p, 4999, 1000, SYN | ACK)
        for k in range(150):
            pc.tcp(a, SERVER, p, 25, 1000 + 100 + k * 1400, 5000, PSH | ACK, seg)


def no_flag(f):
    return lambda sm: f not in sm["flags"], "no flag " + f


# name, generator, extra options, RSS allowance over baseline (MiB), checks on records,
# time bound (seconds)
def has_flag(f):
    return lambda sm: f in sm["flags"], "flag " + f


def has_anom(a):
    return lambda sm: a in sm["anomalies"], "anomaly " + a


def n_records(n):
    return lambda sm: sm["n"] == n, "%d records" % n


CASES = [
    ("smtp 100 MiB line without CRLF", gen_smtp_long_line, [], 16,
     [has_anom("line_too_long"), n_records(1)]),
    ("imap 1 GiB literal announced, never sent (sequence jump)", gen_imap_literal_gap, [], 16,
     [has_flag("capture_gap"), n_records(1)]),
    ("imap 1 GiB literal announced, 64 MiB sent", gen_imap_literal_partial, [], 16,
     [n_records(1)]),
    ("imap literal count beyond 2^32-1", gen_imap_literal_bad, [], 16,
     [has_anom("bad_literal"), n_records(1)]),
    ("1 M SYNs to port 25 from distinct sources, --max-flows 10000", gen_syn_flood,
     ["--max-flows", "10000"], 48, [n_records(1_000_000)]),
    ("tls handshake message announcing 16 MiB", gen_tls_16m_handshake, [], 16,
     [has_anom("tls_malformed"), n_records(1)]),
    ("200 MB of out-of-order segments behind a hole", gen_ooo_endless, [], 16,
     [has_anom("out_of_order_overflow"), has_flag("capture_gap"), n_records(1)]),
    # each held 1-byte segment costs ~130 bytes against the cap: 100 k fit in 16 MB
    ("100 k 1-byte segments in random order, all held", gen_one_byte_random(100_000),
     ["--max-ooo-bytes", "16000000"], 48, [no_flag("capture_gap"), n_records(1)], 10),
    ("1 M 1-byte segments in random order, default cap", gen_one_byte_random(1_000_000), [],
     16, [has_anom("out_of_order_overflow"), has_flag("capture_gap"), n_records(1)], 20),
    # per-flow buffers are allocated as needed: 100 k flows of one segment each cost about
    # 950 bytes a flow, asserted under MAX_BYTES_PER_FLOW (the pending buffer alone was
    # 18.5 KB allocated, ~6 KB resident, before; then 2.1 KB a flow)
    ("100 k flows of one segment each (bytes per flow)", gen_flows_one_segment(100_000),
     ["--max-flows", "200000"], 256, [n_records(100_000)], 30, 100_000,
     gen_flows_one_segment(PER_FLOW_REFERENCE)),
    ("100 k flows of one segment each, --max-memory 32 MiB", gen_flows_one_segment(100_000),
     ["--max-flows", "200000", "--max-memory", str(32 * MiB)], 48, [n_records(100_000)], 30),
    ("400 flows holding 210 KB out of order each, --max-memory 16 MiB", gen_flows_holding_ooo,
     ["--max-memory", str(16 * MiB)], 32, [n_records(400), has_flag("capture_gap")], 30),
]


def run(path, opts):
    """Run mailwire; (exit status, seconds, peak RSS KiB, summary of the records).

    The peak RSS comes from /usr/bin/time (its child's ru_maxrss): a child exec'd straight
    from this Python process would inherit Python's own high-water mark in ru_maxrss."""
    out = path + ".jsonl"
    rss_file = path + ".rss"
    t0 = time.monotonic()
    with open(out, "wb") as o:
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file, MW, "--json", "-r",
                              path] + opts, stdout=o, stderr=subprocess.DEVNULL)
        try:
            rc = p.wait(timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
    secs = time.monotonic() - t0
    try:
        with open(rss_file) as f:
            kib = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        kib = 1 << 30
    summary = {"n": 0, "flags": set(), "anomalies": set(), "first": []}
    with open(out, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            summary["n"] += 1
            summary["flags"].update(r.get("flags") or [])
            summary["anomalies"].update(r.get("anomalies") or [])
            if len(summary["first"]) < 3:
                summary["first"].append((r.get("flags"), r.get("anomalies"), r.get("outcome")))
    for x in (out, rss_file):
        if os.path.exists(x):
            os.unlink(x)
    return rc, secs, kib, summary


def main():
    tmp = tempfile.mkdtemp(prefix="mw-hostile-")
    n = 0
    failed = 0
    print("1..%d" % (len(CASES) + 1))
    try:
        base_path = os.path.join(tmp, "baseline.pcap")
        pc = Pcap(base_path)
        gen_baseline(pc)
        pc.close()
        rc, secs, base_kib, _ = run(base_path, [])
        n += 1
        print("%s %d - baseline run (rc %d, peak RSS %.1f MiB)"
              % ("ok" if rc == 0 else "not ok", n, rc, base_kib / 1024))
        failed += rc != 0
        for case in CASES:
            name, gen, opts, allow_mib, checks = case[:5]
            max_secs = case[5] if len(case) > 5 else TIME_LIMIT
            per_flow = case[6] if len(case) > 6 else 0
            ref_kib = base_kib
            if per_flow:  # the same flows, fewer of them: what does not grow with flows
                ref_path = os.path.join(tmp, "reference.pcap")
                pc = Pcap(ref_path)
                case[7](pc)
                pc.close()
                _, _, ref_kib, _ = run(ref_path, opts)
                os.unlink(ref_path)
            n += 1
            path = os.path.join(tmp, "case%d.pcap" % n)
            g0 = time.monotonic()
            pc = Pcap(path)
            gen(pc)
            pc.close()
            gsecs = time.monotonic() - g0
            size = os.path.getsize(path)
            rc, secs, kib, sm = run(path, opts)
            os.unlink(path)
            bound = base_kib + allow_mib * 1024
            why = []
            if rc != 0:
                why.append("exit %d (killed after %d s?)" % (rc, TIME_LIMIT) if secs >= TIME_LIMIT
                           else "exit %d" % rc)
            if rc == 0 and secs > max_secs:
                why.append("took %.1f s, over the bound of %d s" % (secs, max_secs))
            if kib > bound:
                why.append("peak RSS %.1f MiB over the bound %.1f MiB" % (kib / 1024,
                                                                          bound / 1024))
            bpf = (kib - ref_kib) * 1024 / (per_flow - PER_FLOW_REFERENCE) if per_flow else 0
            if per_flow and rc == 0:
                if bpf >= MAX_BYTES_PER_FLOW:
                    why.append("%.0f bytes per flow, over the bound of %d"
                               % (bpf, MAX_BYTES_PER_FLOW))
            for check, label in checks:
                if not check(sm):
                    why.append("missing " + label)
            ok = not why
            failed += not ok
            print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
            print("#   capture %.1f MB (generated in %.1f s); mailwire %.1f s (bound %d s), peak"
                  " RSS %.1f MiB (bound %.1f MiB = baseline + %d MiB), %d records"
                  % (size / 1e6, gsecs, secs, max_secs, kib / 1024, bound / 1024, allow_mib,
                     sm["n"]))
            if per_flow:
                print("#   %.0f bytes per flow: peak RSS %.1f MiB with %d flows, %.1f MiB with"
                      " %d (bound %d; over the tiny baseline it would be %.0f)"
                      % (bpf, kib / 1024, per_flow, ref_kib / 1024, PER_FLOW_REFERENCE,
                         MAX_BYTES_PER_FLOW, (kib - base_kib) * 1024 / per_flow))
            for flags, anoms, outcome in sm["first"]:
                print("#   flags %s anomalies %s outcome %s" % (flags, anoms, outcome))
            for w in why:
                print("#   " + w)
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
