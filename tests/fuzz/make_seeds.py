#!/usr/bin/env python3
"""Seed corpora for the libFuzzer harnesses, from the captures in pcaps/.

  make_seeds.py PCAP_DIR OUT_DIR

OUT_DIR/engine/: the small captures themselves (pcap or pcapng, up to MAX_PCAP bytes).
OUT_DIR/{smtp,imap,pop3,tls}/: each recorded TCP session, its two directions reassembled
naively in packet order (retransmitted bytes dropped, holes ignored), written in the framed
format of tests/fuzz/fuzz_stream.h: a settings byte, then per segment op (bit 0: server),
a 2-byte big-endian length and the bytes. Standard library only (struct).
OUT_DIR/keylog/: every committed key log (*.keys, test keys only) behind fuzz_keylog.c's
two bytes (chunk size, truncate midway), plus hand-made malformed lines.
OUT_DIR/tls_decrypt/: per configuration of fuzz_tls_decrypt.c, a conversation of sealed
records (well-formed and not), KeyUpdates, re-keys and raw fragments in both directions.
"""
import hashlib
import os
import struct
import sys

MAX_PCAP = 64 * 1024      # engine seeds: small captures only
MAX_STREAM = 48 * 1024    # dissector seeds: the first bytes of each session

PORTS = {25: "smtp", 587: "smtp", 2525: "smtp", 143: "imap", 110: "pop3",
         465: "tls", 993: "tls", 995: "tls"}
# settings byte: bits 2-3 pick the protocol from the harness's table (fuzz_*.c)
SETTINGS = {("smtp", 587): 1 << 2, ("tls", 993): 1 << 2, ("tls", 995): 2 << 2}


def packets(path):
    """Yield (linktype, frame bytes) for a classic pcap or a pcapng file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    elif magic == b"\x0a\x0d\x0d\x0a":
        yield from pcapng_packets(data)
        return
    else:
        return
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield linktype, data[off:off + caplen]
        off += caplen


def pcapng_packets(data):
    e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    links = []
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack(e + "II", data[off:off + 8])
        if blen < 12:
            return
        body = data[off + 8:off + blen - 4]
        if btype == 0x0A0D0D0A:
            e = "<" if body[:4] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        elif btype == 1:
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            iface, _, _, caplen = struct.unpack(e + "IIII", body[:16])
            if iface < len(links):
                yield links[iface], body[20:20 + caplen]
        elif btype == 3 and links:
            yield links[0], body[4:]
        off += blen


def ip_of(linktype, frame):
    """The IP packet inside a frame, or None."""
    if linktype == 1:  # Ethernet, with VLAN tags
        off = 12
        while off + 2 <= len(frame):
            et = struct.unpack(">H", frame[off:off + 2])[0]
            if et in (0x8100, 0x88A8, 0x9100):
                off += 4
                continue
            return frame[off + 2:] if et in (0x0800, 0x86DD) else None
        return None
    if linktype == 113:
        return frame[16:]
    if linktype == 276:
        return frame[20:]
    if linktype in (0, 108):
        return frame[4:]
    if linktype in (12, 14, 101, 228, 229):
        return frame
    return None


def tcp_of(ip):
    """(src, dst, sport, dport, seq, flags, payload) or None."""
    if not ip:
        return None
    v = ip[0] >> 4
    if v == 4 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 6 or struct.unpack(">H", ip[6:8])[0] & 0x1FFF:
            return None
        src, dst = ip[12:16], ip[16:20]
        seg = ip[ihl:total] if total >= ihl else ip[ihl:]
    elif v == 6 and len(ip) >= 40:
        if ip[6] != 6:  # no extension headers in our captures
            return None
        plen = struct.unpack(">H", ip[4:6])[0]
        src, dst = ip[8:24], ip[24:40]
        seg = ip[40:40 + plen]
    else:
        return None
    if len(seg) < 20:
        return None
    sport, dport, seq = struct.unpack(">HHI", seg[:8])
    doff = (seg[12] >> 4) * 4
    return src, dst, sport, dport, seq, seg[13], seg[doff:]


def sessions(path):
    """Reassembled sessions: list of (server port, [(is_server, bytes), ...])."""
    flows = {}
    order = []
    for lt, frame in packets(path):
        t = tcp_of(ip_of(lt, frame))
        if not t:
            continue
        src, dst, sport, dport, seq, flags, payload = t
        a, b = (src, sport), (dst, dport)
        key = (min(a, b), max(a, b))
        fl = flows.get(key)
        if fl is None:
            # client: the SYN sender, else the side not on a mail port
            if flags & 0x12 == 0x02 or (dport in PORTS and sport not in PORTS):
                client = a
            elif flags & 0x12 == 0x12 or (sport in PORTS):
                client = b
            else:
                client = a if sport > dport else b
            fl = flows[key] = {"client": client, "next": {}, "chunks": []}
            order.append(key)
        is_server = a != fl["client"]
        if flags & 0x02:
            fl["next"][is_server] = (seq + 1) & 0xFFFFFFFF
            continue
        if not payload:
            continue
        nxt = fl["next"].get(is_server)
        if nxt is not None:
            ahead = (seq - nxt) & 0xFFFFFFFF
            if ahead >= 0x80000000:  # starts before what we have: trim the old part
                behind = 0x100000000 - ahead
                if behind >= len(payload):
                    continue
                payload = payload[behind:]
                seq = nxt
        fl["next"][is_server] = (seq + len(payload)) & 0xFFFFFFFF
        fl["chunks"].append((is_server, payload))
    out = []
    for key in order:
        fl = flows[key]
        if not fl["chunks"]:
            continue
        (ca, cp) = fl["client"]
        sp = key[1][1] if key[0] == fl["client"] else key[0][1]
        out.append((sp, fl["chunks"]))
    return out


def harness_for(port, chunks):
    h = PORTS.get(port)
    if h:
        return h
    first = chunks[0][1]
    if first[:1] == b"\x16" and first[1:2] == b"\x03":
        return "tls"
    text = first[:8].upper()
    if text.startswith(b"* OK"):
        return "imap"
    if text.startswith(b"+OK"):
        return "pop3"
    if text.startswith(b"220"):
        return "smtp"
    return None


def frame_stream(settings, chunks):
    out = bytearray([settings])
    total = 0
    for is_server, data in chunks:
        while data and total < MAX_STREAM:
            piece = data[:0xFFFF]
            data = data[0xFFFF:]
            out += struct.pack(">BH", 1 if is_server else 0, len(piece)) + piece
            total += len(piece)
    return bytes(out)


# fuzz_keylog.c: byte 0 = chunk size - 1, byte 1 bit 0 = truncate after the first half
KEYLOG_FRAMES = [(0xFF, 0), (0x7F, 0), (0x3F, 1), (0xC4, 1)]
# the harness refreshes a followed file after every chunk (a few syscalls each): short seeds
# keep it at thousands of executions per second (make fuzz runs it with -max_len=2048)
KEYLOG_MAX = 1536
KEYLOG_LINES = [
    b"# comment\n\nCLIENT_RANDOM " + b"ab" * 32 + b" " + b"cd" * 48 + b"\n",
    b"CLIENT_RANDOM " + b"ab" * 32 + b" " + b"cd" * 32 + b"\r\n",       # wrong length
    b"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + b"0g" * 32 + b" " + b"11" * 32 + b"\n",  # bad hex
    b"SERVER_TRAFFIC_SECRET_0 " + b"12" * 31 + b"3 " + b"11" * 48,      # odd, no newline
    b"CLIENT_EARLY_TRAFFIC_SECRET " + b"12" * 32 + b" " + b"34" * 32 + b" extra\n",
    b"EXPORTER_SECRET " + b"12" * 32 + b" " + b"34" * 32 + b"\nRSA 00 11\nBOGUS x y\n",
    b"CLIENT_TRAFFIC_SECRET_1 " + b"12" * 32 + b" " + b"34" * 48 + b"\n" + b"A" * 600 + b"\n",
    b"".join(b"SERVER_HANDSHAKE_TRAFFIC_SECRET %064x " % i + b"55" * 32 + b"\n"
             for i in range(12)),
]


def keylog_seeds(src):
    """(name, bytes) for fuzz_keylog: the committed key logs and hand-made lines."""
    logs = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if name.endswith(".keys"):
                with open(os.path.join(root, name), "rb") as f:
                    logs.append(f.read()[:KEYLOG_MAX])
    logs += KEYLOG_LINES
    logs.append(b"".join(KEYLOG_LINES)[:KEYLOG_MAX])
    for i, text in enumerate(logs):
        chunk, flags = KEYLOG_FRAMES[i % len(KEYLOG_FRAMES)]
        yield bytes([chunk, flags]) + text


# fuzz_tls_decrypt.c: its configs[] table (version, suite, etm) has 14 rows
TLS_DECRYPT_CONFIGS = 14
SEAL, WELL_FORMED = 8, 16
KEY_UPDATE, REKEY = 1 << 1, 2 << 1


def dec_op(op, payload=b""):
    return struct.pack(">BH", op, len(payload)) + payload


def tls_decrypt_seed(config):
    """Both directions: sealed handshake, application data (short, full-size), an alert;
    a raw fragment, a KeyUpdate, a re-key, an unsealed record after it."""
    app, hs, alert = 3 << 5, 2 << 5, 1 << 5
    out = bytearray([config])
    for d in (0, 1):
        out += dec_op(d | SEAL | WELL_FORMED | hs, b"\x14\x00\x00\x0c" + b"F" * 12)
        out += dec_op(d | SEAL | WELL_FORMED | app, b"EHLO client.example\r\n")
        out += dec_op(d | SEAL | app, b"250 ok, not padded for CBC\r\n")
    out += dec_op(1 | SEAL | WELL_FORMED | app, bytes(range(256)) * 16)  # 4096 bytes
    out += dec_op(0 | app, b"\x00" * 40)                                  # raw: fails
    out += dec_op(0 | REKEY)
    out += dec_op(0 | SEAL | WELL_FORMED | app, b"QUIT\r\n")
    out += dec_op(1 | KEY_UPDATE)
    out += dec_op(1 | SEAL | WELL_FORMED | app, b"221 bye\r\n")
    out += dec_op(1 | SEAL | WELL_FORMED | app, b"")                      # empty record
    out += dec_op(1 | SEAL | WELL_FORMED | alert, b"\x01\x00")
    return bytes(out)


def write_seed(dst, h, seed, counts):
    digest = hashlib.sha1(seed).hexdigest()[:16]
    with open(os.path.join(dst, h, digest), "wb") as o:
        o.write(seed)
    counts[h] = counts.get(h, 0) + 1


def main():
    src, dst = sys.argv[1], sys.argv[2]
    for h in ("engine", "smtp", "imap", "pop3", "tls", "keylog", "tls_decrypt"):
        os.makedirs(os.path.join(dst, h), exist_ok=True)
    counts = {}
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".pcap", ".pcapng")):
                continue
            path = os.path.join(root, name)
            if os.path.getsize(path) <= MAX_PCAP:
                with open(path, "rb") as f, \
                        open(os.path.join(dst, "engine", name), "wb") as o:
                    o.write(f.read())
                counts["engine"] = counts.get("engine", 0) + 1
            for port, chunks in sessions(path):
                h = harness_for(port, chunks)
                if not h:
                    continue
                write_seed(dst, h, frame_stream(SETTINGS.get((h, port), 0), chunks), counts)
    for seed in keylog_seeds(src):
        write_seed(dst, "keylog", seed, counts)
    for config in range(TLS_DECRYPT_CONFIGS):
        write_seed(dst, "tls_decrypt", tls_decrypt_seed(config), counts)
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    main()
