#!/usr/bin/env python3
"""Build the two benchmark captures for `make bench` from the project's own recorded samples.

  sessions.pcap  tens of thousands of short SMTP/IMAP/POP3/TLS sessions (each a copy of one
                 recorded session from pcaps/), interleaved in time, plus non-mail background
  bulk.pcap      sessions carrying multi-megabyte messages (pcaps/*-large, smtp-attachment)
                 and the TLS sessions, repeated to a few hundred MB, plus background
  keyed-bulk.pcap, keyed-sessions.pcap  the same inside TLS 1.2 and 1.3 with the clients'
                 key logs (pcaps/bulk/keyed-*, pcaps/keyed-*), NAME.pcap.keys beside them

Every copy gets its own client address and port, a server address from a small pool, and
random initial sequence numbers; the server port is kept (it names the protocol). IPv4 header,
TCP and UDP checksums are recomputed, so tshark and tcpdump see valid packets. Segments are
cut to a 1500-byte MTU (the samples were recorded at MTU 1500, so this is a no-op for them).
Background, so mailwire has something to skip: the HTTPS flow of
pcaps/public/ndpi-https-not-mail.pcap copied the same way, and synthetic DNS queries and
answers over UDP (only the background is synthetic; every mail session is a recorded one).

Deterministic: a fixed seed gives byte-identical files. Python 3 standard library only.
Next to each capture it writes NAME.expected (the number of mail sessions = the number of
records mailwire must print) and NAME.meta.json (what went in).
"""
import argparse
import heapq
import json
import os
import random
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PCAPS = os.path.join(ROOT, "pcaps")

MTU = 1500

# Short sessions for sessions.pcap: every recorded Ethernet sample except the large transfers
# (those go to bulk.pcap) and the cooked-link ones (another link type; one file per link type).
SESSION_TEMPLATES = [
    "smtp-accepted", "smtp-relay-denied", "smtp-unknown-user", "smtp-auth-failed",
    "smtp-auth-ok", "smtp-auth-plain-ok", "smtp-pipelining", "smtp-ipv6", "smtp-starttls",
    "smtp-tls-required", "smtp-timeout", "smtp-multi", "smtp-ssl-on-starttls-port",
    "smtps-465",
    "tls-1.0", "tls-1.1", "tls-1.2", "tls-1.3", "tls-version-mismatch", "tls-cert-expired",
    "tls-self-signed", "tls-sni-mismatch",
    "imap-login-ok", "imap-login-failed", "imap-authenticate-ok", "imap-authenticate-failed",
    "imap-starttls", "imap-logindisabled", "imaps-993",
    "pop3-login-ok", "pop3-login-failed", "pop3-auth-plain", "pop3-stls", "pop3s-995",
    "pop3-user-before-stls-refused",
]
# bulk.pcap: the multi-megabyte transfers in clear, and every TLS session we have recorded
# (the recorded TLS sessions are all short: there is no multi-megabyte TLS sample yet).
BULK_LARGE = ["smtp-attachment", "imap-append-large", "imap-fetch-large", "pop3-retr-large"]
BULK_TLS = ["smtps-465", "imaps-993", "pop3s-995", "smtp-starttls", "imap-starttls",
            "pop3-stls", "tls-1.2", "tls-1.3"]
HTTPS_TEMPLATE = os.path.join("public", "ndpi-https-not-mail")
# The keyed workload (issue 13): recorded TLS sessions with the client's key log beside them
# (NAME.keys). keyed-bulk.pcap: the multi-megabyte transfers through TLS 1.3 and 1.2
# (pcaps/bulk/, record.sh group 8) and the short keyed sessions; keyed-sessions.pcap: many
# short keyed sessions. Every copy of a session keeps its client random, so one line per
# template in NAME.pcap.keys opens all its copies.
KEYED_LARGE = ["bulk/keyed-imaps993-fetch-large-tls13", "bulk/keyed-imaps993-fetch-large-tls12-aes128gcm",
               "bulk/keyed-pop3s995-retr-large-tls12-chacha20", "bulk/keyed-smtp587-submit-large-tls13"]
KEYED_SHORT = [
    "keyed-smtp587-auth-failed-tls13", "keyed-smtp25-auth-failed-tls13",
    "keyed-smtps465-auth-failed-tls13", "keyed-smtp587-auth-failed-tls12-aes128gcm",
    "keyed-smtp587-auth-failed-tls12-chacha20", "keyed-smtps465-auth-failed-tls12-aes256cbc-sha384",
    "keyed-smtp587-auth-failed-ipv6-tls13", "keyed-smtp25-relay-denied-tls13",
    "keyed-smtp587-relay-denied-tls13", "keyed-imaps993-auth-failed-tls13",
    "keyed-pop3s995-auth-failed-tls13", "keyed-imap143-starttls-login-ok-tls13",
    "keyed-pop3-110-stls-auth-failed-tls13", "keyed-imaps993-login-ok-tls13-chacha20",
    "keyed-pop3s995-login-ok-tls12-aes256gcm", "keyed-imaps993-login-ok-tls12-aes128cbc-etm",
    "keyed-imaps993-login-ok-tls12-aes128cbc-noetm", "keyed-smtp25-auth-failed-tls10",
]
# gateway.pcap (issue 18): what a submission/IMAPS gateway sees. Most sessions in TLS:
# STARTTLS on 587 and 25, implicit TLS on 465/993/995, TLS 1.0-1.3 (every recorded TLS
# session, keyed or not: without --keylog they are skipped by record length); some clear
# sessions; long IMAP sessions and a few multi-megabyte messages; retransmitted and
# reordered segments. Recorded IMAP IDLE sessions do not exist yet: the long IMAP sessions
# are the FETCH/APPEND transfers.
GATEWAY_TLS = [
    "keyed-imap143-starttls-login-ok-tls13", "keyed-imaps993-auth-failed-tls13",
    "keyed-imaps993-login-ok-tls12-aes128cbc-etm", "keyed-imaps993-login-ok-tls12-aes128cbc-noetm",
    "keyed-imaps993-login-ok-tls13-chacha20", "keyed-pop3-110-stls-auth-failed-tls13",
    "keyed-pop3s995-auth-failed-tls13", "keyed-pop3s995-login-ok-tls12-aes256gcm",
    "keyed-smtp25-auth-failed-tls10", "keyed-smtp25-auth-failed-tls13",
    "keyed-smtp25-relay-denied-tls13", "keyed-smtp587-auth-failed-ipv6-tls13",
    "keyed-smtp587-auth-failed-tls12-aes128gcm", "keyed-smtp587-auth-failed-tls12-chacha20",
    "keyed-smtp587-auth-failed-tls13", "keyed-smtp587-relay-denied-tls13",
    "keyed-smtps465-auth-failed-tls12-aes256cbc-sha384", "keyed-smtps465-auth-failed-tls13",
    "keyed-smtps465-cert-expired-tls13", "log-imaps993-auth-failed-tls13",
    "log-pop3s995-auth-failed-tls13", "log-smtp25-relay-denied-starttls-tls13",
    "log-smtp25-starttls-accepted-sent-tls13", "log-smtp587-accepted-bounced-tls13",
    "log-smtp587-auth-failed-tls13", "log-smtps465-relay-denied-tls13",
    "smtps-465", "imaps-993", "pop3s-995", "smtp-starttls", "imap-starttls", "pop3-stls",
    "tls-1.2", "tls-1.3",
]
GATEWAY_CLEAR = ["smtp-accepted", "smtp-relay-denied", "smtp-unknown-user", "smtp-auth-failed",
                 "smtp-pipelining", "smtp-multi", "smtp-multi-message-rset", "smtp-bdat-chunks",
                 "imap-login-ok", "imap-login-failed", "pop3-login-ok", "pop3-login-failed"]
GATEWAY_LONG = ["imap-fetch-large", "imap-append-large", "smtp-attachment", "pop3-retr-large"]
GATEWAY_TLS_SHARE = 0.75      # of the short sessions; the rest are clear
GATEWAY_LONG_PER = 5000       # one long/large session per this many sessions (10 in 50,000)


# ---------------------------------------------------------------------------------- pcap I/O

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        sys.exit(f"make_captures: {path}: not a classic pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    pkts = []
    off = 24
    hdr = struct.Struct(e + "IIII")
    while off + 16 <= len(data):
        sec, frac, caplen, origlen = hdr.unpack_from(data, off)
        off += 16
        usec = frac // 1000 if nano else frac
        pkts.append((sec * 1_000_000 + usec, data[off:off + caplen], origlen))
        off += caplen
    return linktype, pkts


class PcapWriter:
    REC = struct.Struct("<IIII")

    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 22)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.packets = 0
        self.bytes = 0
        self.frame_bytes = 0

    def write(self, ts_us, frame):
        n = len(frame)
        self.f.write(self.REC.pack(ts_us // 1_000_000, ts_us % 1_000_000, n, n))
        self.f.write(frame)
        self.packets += 1
        self.bytes += n + 16
        self.frame_bytes += n

    def close(self):
        self.f.close()


# ------------------------------------------------------------------------------ checksums

def words_sum(b):
    """Unfolded one's-complement-style sum of the 16-bit big-endian words of b."""
    if len(b) & 1:
        b = b + b"\x00"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def csum_finish(s):
    return (~fold(s)) & 0xFFFF


def addr_sum(a):
    return words_sum(a)


# ------------------------------------------------------------------------------ templates

class TPkt:
    """One packet of a template, prepared so a copy costs a few pack_into calls.

    frame       the frame with address, port, seq/ack and checksum fields still the original
    v6          IPv6 (else IPv4)
    from_client direction
    ip_off, l4_off
    ip_partial  IPv4 header word sum without addresses and checksum
    l4_partial  TCP/UDP word sum without ports, seq, ack, checksum and pseudo-header addresses
                (the pseudo-header protocol and length are in it)
    seq, ack, has_ack
    dt          microseconds from the template's first packet
    """
    __slots__ = ("frame", "v6", "from_client", "ip_off", "l4_off", "ip_partial",
                 "l4_partial", "seq", "ack", "has_ack", "dt", "proto")


def _parse_eth(frame):
    """Return (l3 offset, ethertype) for Ethernet with up to two VLAN tags."""
    off = 12
    et = struct.unpack_from("!H", frame, off)[0]
    off += 2
    while et in (0x8100, 0x88A8) and off + 4 <= len(frame):
        et = struct.unpack_from("!H", frame, off + 2)[0]
        off += 4
    return off, et


def _resegment(frame, ip_off, v6):
    """Cut a TCP segment whose IP packet exceeds the MTU into MTU-sized ones.

    Returns a list of (frame, seq_delta) pairs (seq_delta: bytes of payload before this one).
    """
    if v6:
        ip_hl = 40
        ip_len = 40 + struct.unpack_from("!H", frame, ip_off + 4)[0]
    else:
        ip_hl = (frame[ip_off] & 0x0F) * 4
        ip_len = struct.unpack_from("!H", frame, ip_off + 2)[0]
    if ip_len <= MTU:
        return [(frame, 0)]
    l4 = ip_off + ip_hl
    th = (frame[l4 + 12] >> 4) * 4
    payload = frame[l4 + th: ip_off + ip_len]
    mss = MTU - ip_hl - th
    out = []
    flags = frame[l4 + 13]
    for i in range(0, len(payload), mss):
        chunk = payload[i:i + mss]
        last = i + mss >= len(payload)
        head = bytearray(frame[:l4 + th])
        if not last:
            head[l4 + 13] = flags & ~0x09  # FIN and PSH only on the last piece
        if v6:
            struct.pack_into("!H", head, ip_off + 4, th + len(chunk))
        else:
            struct.pack_into("!H", head, ip_off + 2, ip_hl + th + len(chunk))
        out.append((bytes(head) + chunk, i))
    return out


def load_template(name, need_sessions=True):
    path = os.path.join(PCAPS, name + ".pcap")
    linktype, pkts = read_pcap(path)
    if linktype != 1:
        sys.exit(f"make_captures: {path}: link type {linktype}, want Ethernet")
    t0 = pkts[0][0]
    client = None  # (addr bytes, port)
    out = []
    flows = set()
    for ts, frame, origlen in pkts:
        if origlen != len(frame):
            sys.exit(f"make_captures: {path}: truncated frame")
        ip_off, et = _parse_eth(frame)
        if et == 0x0800:
            v6 = False
            ip_hl = (frame[ip_off] & 0x0F) * 4
            proto = frame[ip_off + 9]
            src, dst = frame[ip_off + 12:ip_off + 16], frame[ip_off + 16:ip_off + 20]
        elif et == 0x86DD:
            v6 = True
            ip_hl = 40
            proto = frame[ip_off + 6]
            src, dst = frame[ip_off + 8:ip_off + 24], frame[ip_off + 24:ip_off + 40]
        else:
            continue
        if proto != 6:
            continue
        l4 = ip_off + ip_hl
        sport, dport = struct.unpack_from("!HH", frame, l4)
        tflags = frame[l4 + 13]
        if client is None:
            if tflags & 0x02 and not tflags & 0x10:  # SYN
                client = (src, sport)
            else:  # no SYN seen: the side with the higher port is the client
                client = (src, sport) if sport > dport else (dst, dport)
        flows.add(frozenset(((src, sport), (dst, dport))))
        from_client = (src, sport) == client
        for piece, seq_delta in _resegment(frame, ip_off, v6):
            p = TPkt()
            p.frame = piece
            p.v6 = v6
            p.proto = 6
            p.from_client = from_client
            p.ip_off = ip_off
            p.l4_off = l4
            p.dt = ts - t0
            seq, ack = struct.unpack_from("!II", piece, l4 + 4)
            p.seq = (seq + seq_delta) & 0xFFFFFFFF
            p.ack = ack
            p.has_ack = bool(piece[l4 + 13] & 0x10)
            _prepare_sums(p)
            out.append(p)
    if need_sessions and len(flows) != 1:
        sys.exit(f"make_captures: {path}: {len(flows)} TCP connections, want one")
    return out


def _prepare_sums(p):
    f = p.frame
    ip_off, l4 = p.ip_off, p.l4_off
    if p.v6:
        l4_len = struct.unpack_from("!H", f, ip_off + 4)[0]
        p.ip_partial = 0
    else:
        ip_hl = l4 - ip_off
        l4_len = struct.unpack_from("!H", f, ip_off + 2)[0] - ip_hl
        hdr = bytearray(f[ip_off:l4])
        hdr[10:20] = b"\x00" * 10  # checksum and both addresses
        p.ip_partial = words_sum(bytes(hdr))
    seg = bytearray(f[l4:l4 + l4_len])
    if p.proto == 6:
        seg[0:12] = b"\x00" * 12  # ports, seq, ack
        seg[16:18] = b"\x00\x00"  # checksum
    else:
        seg[0:4] = b"\x00" * 4
        seg[6:8] = b"\x00\x00"
    p.l4_partial = words_sum(bytes(seg)) + p.proto + l4_len


def build_copy(p, caddr, cport, saddr, sport, cseq_off, sseq_off):
    """The template packet p as sent between (caddr, cport) and (saddr, sport)."""
    f = bytearray(p.frame)
    ip_off, l4 = p.ip_off, p.l4_off
    if p.from_client:
        src, dst, sp, dp, so, ao = caddr, saddr, cport, sport, cseq_off, sseq_off
    else:
        src, dst, sp, dp, so, ao = saddr, caddr, sport, cport, sseq_off, cseq_off
    seq = (p.seq + so) & 0xFFFFFFFF
    ack = (p.ack + ao) & 0xFFFFFFFF if p.has_ack else p.ack
    asum = addr_sum(src) + addr_sum(dst)
    if p.v6:
        f[ip_off + 8:ip_off + 24] = src
        f[ip_off + 24:ip_off + 40] = dst
    else:
        f[ip_off + 12:ip_off + 16] = src
        f[ip_off + 16:ip_off + 20] = dst
        struct.pack_into("!H", f, ip_off + 10, csum_finish(p.ip_partial + asum))
    s = p.l4_partial + asum + sp + dp + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + (ack & 0xFFFF)
    struct.pack_into("!HHII", f, l4, sp, dp, seq, ack)
    struct.pack_into("!H", f, l4 + 16, csum_finish(s))
    return bytes(f)


# ----------------------------------------------------------------------------- addresses

def v4(a, b, c, d):
    return bytes((a, b, c, d))


def client_v4(i):
    """Distinct mail client addresses: 10.0.0.1 onwards (16 M of them)."""
    i += 1
    return v4(10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF)


def client_v6(i):
    return bytes.fromhex("fd000000000000010000000000") + (i + 1).to_bytes(3, "big")


def server_v4(k):
    return v4(172, 16, k >> 8, (k & 0xFF) + 1)


def server_v6(k):
    return bytes.fromhex("fd000000000000020000000000") + (k + 1).to_bytes(3, "big")


# ------------------------------------------------------------------------ session streams

def session_stream(tmpl, start, sid, rng_state):
    """Yield (ts, sid, index, frame) for one copy of a template."""
    caddr, cport, saddr, sport, cseq, sseq = rng_state
    for idx, p in enumerate(tmpl):
        yield (start + p.dt, sid, idx,
               build_copy(p, caddr, cport, saddr, sport, cseq, sseq))


def tcp_payload_len(p):
    f = p.frame
    if p.v6:
        end = p.ip_off + 40 + struct.unpack_from("!H", f, p.ip_off + 4)[0]
    else:
        end = p.ip_off + struct.unpack_from("!H", f, p.ip_off + 2)[0]
    return end - p.l4_off - (f[p.l4_off + 12] >> 4) * 4


def perturbed_stream(tmpl, start, sid, rng_state, rng, retrans, reorder):
    """session_stream with the faults a tap sees: a share `retrans` of data segments seen
    twice (the copy before the next packet of the connection, as when the original was lost
    behind the tap and resent before the peer acknowledged anything), a share `reorder` seen
    after the next segment when both go the same way. The last segment of each direction is
    left alone, so nothing arrives after the close."""
    caddr, cport, saddr, sport, cseq, sseq = rng_state
    times = [start + p.dt for p in tmpl]
    last = {}
    for i, p in enumerate(tmpl):
        last[p.from_client] = i
    extra = []
    i = 0
    while i < len(tmpl) - 1:
        p, q = tmpl[i], tmpl[i + 1]
        if i == last[p.from_client] or not tcp_payload_len(p):
            i += 1
            continue
        r = rng.random()
        if r < retrans:
            extra.append(((times[i] + times[i + 1]) // 2, i))
        elif r < retrans + reorder and q.from_client == p.from_client and \
                i + 1 != last[q.from_client]:
            times[i], times[i + 1] = times[i + 1], times[i]
            i += 1  # the pair is done
        i += 1
    out = sorted([(t, i) for i, t in enumerate(times)] + extra)
    for n, (t, i) in enumerate(out):
        yield (t, sid, n, build_copy(tmpl[i], caddr, cport, saddr, sport, cseq, sseq))


def tcp_server_port(tmpl):
    for p in tmpl:
        f = p.frame
        sp, dp = struct.unpack_from("!HH", f, p.l4_off)
        return dp if p.from_client else sp


DNS_NAMES = ["www", "mail", "api", "cdn", "img", "static", "login", "news", "shop", "video"]
DNS_DOMAINS = ["example.com", "example.net", "example.org", "test.invalid", "corp.example"]


def dns_packet(src, dst, sport, dport, payload, ip_id):
    udp_len = 8 + len(payload)
    ip_len = 20 + udp_len
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, ip_id, 0x4000, 64, 17, 0,
                               src, dst))
    struct.pack_into("!H", ip, 10, csum_finish(words_sum(bytes(ip))))
    udp = bytearray(struct.pack("!HHHH", sport, dport, udp_len, 0) + payload)
    s = words_sum(bytes(udp)) + words_sum(src) + words_sum(dst) + 17 + udp_len
    c = csum_finish(s) or 0xFFFF
    struct.pack_into("!H", udp, 6, c)
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + bytes(ip) + bytes(udp)


def dns_stream(start, sid, rng, client, resolver):
    """A synthetic DNS A query and its answer (background only)."""
    qid = rng.randrange(65536)
    sport = rng.randrange(1024, 65536)
    name = "%s%d.%s" % (rng.choice(DNS_NAMES), rng.randrange(1000), rng.choice(DNS_DOMAINS))
    qname = b"".join(bytes((len(l),)) + l.encode() for l in name.split(".")) + b"\x00"
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    ans = (struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + qname + struct.pack("!HH", 1, 1)
           + struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4)
           + bytes((203, 0, 113, rng.randrange(1, 255))))
    yield (start, sid, 0, dns_packet(client, resolver, sport, 53, q, rng.randrange(65536)))
    rtt = rng.randrange(300, 30000)
    yield (start + rtt, sid, 1, dns_packet(resolver, client, 53, sport, ans,
                                            rng.randrange(65536)))


# ---------------------------------------------------------------------------------- build

class Builder:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.streams = []
        self.sid = 0
        self.mail_sessions = 0
        self.mail_packets = 0
        self.bg_packets = 0
        self.mail_bytes = 0
        self.per_template = {}
        self.next_client = 0
        self.next_client6 = 0
        self.next_bg = 0
        self.next_dns = 0

    def add_mail(self, name, tmpl, start, nservers=64, faults=None):
        """One copy of a template; faults=(retrans, reorder) sends it through
        perturbed_stream."""
        rng = self.rng
        if tmpl[0].v6:
            caddr = client_v6(self.next_client6)
            self.next_client6 += 1
            saddr = server_v6(rng.randrange(nservers))
        else:
            caddr = client_v4(self.next_client)
            self.next_client += 1
            saddr = server_v4(rng.randrange(nservers))
        state = (caddr, rng.randrange(1024, 65536), saddr, tcp_server_port(tmpl),
                 rng.randrange(1 << 32), rng.randrange(1 << 32))
        if faults:
            self.streams.append(perturbed_stream(tmpl, start, self.sid, state,
                                                 random.Random(rng.random()), *faults))
        else:
            self.streams.append(session_stream(tmpl, start, self.sid, state))
        self.sid += 1
        self.mail_sessions += 1
        self.mail_packets += len(tmpl)
        self.mail_bytes += sum(len(p.frame) for p in tmpl)
        self.per_template[name] = self.per_template.get(name, 0) + 1


    def add_https(self, tmpl, start):
        rng = self.rng
        i = self.next_bg
        self.next_bg += 1
        caddr = v4(100, 64 + ((i >> 16) & 0x3F), (i >> 8) & 0xFF, (i & 0xFF))
        saddr = v4(198, 51, 100, 1 + rng.randrange(250))
        state = (caddr, rng.randrange(1024, 65536), saddr, tcp_server_port(tmpl),
                 rng.randrange(1 << 32), rng.randrange(1 << 32))
        self.streams.append(session_stream(tmpl, start, self.sid, state))
        self.sid += 1
        self.bg_packets += len(tmpl)

    def add_dns(self, start):
        i = self.next_dns
        self.next_dns += 1
        client = v4(100, 128 + ((i >> 16) & 0x3F), (i >> 8) & 0xFF, i & 0xFF)
        self.streams.append(dns_stream(start, self.sid, random.Random(self.rng.random()),
                                       client, v4(192, 0, 2, 53)))
        self.sid += 1
        self.bg_packets += 2

    def add_background(self, https, share, t_start, t_span):
        """Background so that it is `share` of all packets: half HTTPS flows, half DNS."""
        want = int(self.mail_packets * share / (1.0 - share))
        n_https = (want // 2) // len(https)
        n_dns = (want - n_https * len(https)) // 2
        for _ in range(n_https):
            self.add_https(https, t_start + self.rng.randrange(t_span))
        for _ in range(n_dns):
            self.add_dns(t_start + self.rng.randrange(t_span))
        return n_https, n_dns

    def write(self, path):
        w = PcapWriter(path + ".tmp")
        for ts, _sid, _idx, frame in heapq.merge(*self.streams):
            w.write(ts, frame)
        w.close()
        os.replace(path + ".tmp", path)
        self.streams = []
        return w


def base_time(names, latest=False):
    """Start at the samples' own recording time, so certificate validity stays as recorded."""
    t = None
    for n in names:
        _, pkts = read_pcap(os.path.join(PCAPS, n + ".pcap"))
        t = pkts[0][0] if t is None else (max if latest else min)(t, pkts[0][0])
    return (t // 1_000_000) * 1_000_000


def make_sessions(out_dir, n, rate, share, seed):
    t = time.time()
    templates = {name: load_template(name) for name in SESSION_TEMPLATES}
    https = load_template(HTTPS_TEMPLATE)
    b = Builder(seed)
    t0 = base_time(SESSION_TEMPLATES)
    span = max(1, int(n / rate * 1_000_000))
    names = sorted(templates)
    for _ in range(n):
        name = b.rng.choice(names)
        b.add_mail(name, templates[name], t0 + b.rng.randrange(span))
    n_https, n_dns = b.add_background(https, share, t0, span)
    path = os.path.join(out_dir, "sessions.pcap")
    w = b.write(path)
    meta = {
        "capture": "sessions.pcap", "seed": seed, "mail_sessions": b.mail_sessions,
        "mail_packets": b.mail_packets, "background_packets": b.bg_packets,
        "background_https_flows": n_https, "background_dns_exchanges": n_dns,
        "packets": w.packets, "file_bytes": w.bytes + 24, "frame_bytes": w.frame_bytes, "span_s": span / 1e6,
        "sessions_per_s": rate, "per_template": b.per_template,
    }
    finish(path, meta, t)


def make_bulk(out_dir, target_mb, concurrency, share, seed):
    t = time.time()
    large = {name: load_template(name) for name in BULK_LARGE}
    tls = {name: load_template(name) for name in BULK_TLS}
    https = load_template(HTTPS_TEMPLATE)
    b = Builder(seed + 1)
    t0 = base_time(BULK_LARGE + BULK_TLS)
    round_bytes = sum(sum(len(p.frame) + 16 for p in tm) for tm in large.values())
    rounds = max(1, int(target_mb * 1e6 * (1.0 - 0.02) // round_bytes))
    # One round = each large transfer once + each TLS session 5 times. Starts spread so that
    # about `concurrency` large transfers are in flight at any time.
    mean_dur = sum(tm[-1].dt for tm in large.values()) / len(large)
    span = max(1, int(rounds * len(large) * mean_dur / concurrency))
    for _ in range(rounds):
        for name in BULK_LARGE:
            b.add_mail(name, large[name], t0 + b.rng.randrange(span), nservers=8)
        for name in BULK_TLS:
            for _ in range(5):
                b.add_mail(name, tls[name], t0 + b.rng.randrange(span), nservers=8)
    n_https, n_dns = b.add_background(https, share, t0, span)
    path = os.path.join(out_dir, "bulk.pcap")
    w = b.write(path)
    finish(path, bulk_meta("bulk.pcap", seed + 1, rounds, b, w, n_https, n_dns, span), t)


def bulk_meta(capture, seed, rounds, b, w, n_https, n_dns, span):
    """The meta block of a bulk capture (bulk.pcap, keyed-bulk.pcap), keys in this order."""
    return {
        "capture": capture, "seed": seed, "rounds": rounds,
        "mail_sessions": b.mail_sessions, "mail_packets": b.mail_packets,
        "mail_frame_bytes": b.mail_bytes, "background_packets": b.bg_packets,
        "background_https_flows": n_https, "background_dns_exchanges": n_dns,
        "packets": w.packets, "file_bytes": w.bytes + 24, "frame_bytes": w.frame_bytes,
        "span_s": span / 1e6, "per_template": b.per_template,
    }


def write_keys(path, names):
    """The templates' key logs, one after the other: the capture's key log."""
    with open(path + ".keys.tmp", "wb") as o:
        for n in names:
            with open(os.path.join(PCAPS, n + ".keys"), "rb") as f:
                o.write(f.read())
    os.replace(path + ".keys.tmp", path + ".keys")


def make_keyed_bulk(out_dir, target_mb, concurrency, share, seed):
    """Like bulk.pcap, all of it inside TLS with keys: per round each large keyed transfer
    once and each short keyed session twice."""
    t = time.time()
    large = {name: load_template(name) for name in KEYED_LARGE}
    short = {name: load_template(name) for name in KEYED_SHORT}
    https = load_template(HTTPS_TEMPLATE)
    b = Builder(seed + 2)
    t0 = base_time(KEYED_LARGE + KEYED_SHORT)
    round_bytes = sum(sum(len(p.frame) + 16 for p in tm) for tm in large.values())
    rounds = max(1, int(target_mb * 1e6 * (1.0 - share) // round_bytes))
    mean_dur = sum(tm[-1].dt for tm in large.values()) / len(large)
    span = max(1, int(rounds * len(large) * mean_dur / concurrency))
    for _ in range(rounds):
        for name in KEYED_LARGE:
            b.add_mail(name, large[name], t0 + b.rng.randrange(span), nservers=8)
        for name in KEYED_SHORT:
            for _ in range(2):
                b.add_mail(name, short[name], t0 + b.rng.randrange(span), nservers=8)
    n_https, n_dns = b.add_background(https, share, t0, span)
    path = os.path.join(out_dir, "keyed-bulk.pcap")
    w = b.write(path)
    write_keys(path, KEYED_LARGE + KEYED_SHORT)
    meta = bulk_meta("keyed-bulk.pcap", seed + 2, rounds, b, w, n_https, n_dns, span)
    meta["keylog"] = path + ".keys"
    finish(path, meta, t)


def make_keyed_sessions(out_dir, n, rate, share, seed):
    t = time.time()
    templates = {name: load_template(name) for name in KEYED_SHORT}
    https = load_template(HTTPS_TEMPLATE)
    b = Builder(seed + 3)
    t0 = base_time(KEYED_SHORT)
    span = max(1, int(n / rate * 1_000_000))
    names = sorted(templates)
    for _ in range(n):
        name = b.rng.choice(names)
        b.add_mail(name, templates[name], t0 + b.rng.randrange(span))
    n_https, n_dns = b.add_background(https, share, t0, span)
    path = os.path.join(out_dir, "keyed-sessions.pcap")
    w = b.write(path)
    write_keys(path, KEYED_SHORT)
    meta = {
        "capture": "keyed-sessions.pcap", "seed": seed + 3, "mail_sessions": b.mail_sessions,
        "mail_packets": b.mail_packets, "background_packets": b.bg_packets,
        "background_https_flows": n_https, "background_dns_exchanges": n_dns,
        "packets": w.packets, "file_bytes": w.bytes + 24, "frame_bytes": w.frame_bytes,
        "span_s": span / 1e6, "sessions_per_s": rate, "per_template": b.per_template,
        "keylog": path + ".keys",
    }
    finish(path, meta, t)


def make_gateway(out_dir, n, rate, share, seed, retrans=0.01, reorder=0.01):
    retrans, reorder = float(os.environ.get("GW_RETRANS", retrans)), float(os.environ.get("GW_REORDER", reorder))
    t = time.time()
    groups = [GATEWAY_TLS, GATEWAY_CLEAR, GATEWAY_LONG]
    templates = {name: load_template(name) for g in groups for name in g}
    n_long = max(1, n // GATEWAY_LONG_PER)
    https = load_template(HTTPS_TEMPLATE)
    b = Builder(seed + 2)
    t0 = base_time(list(templates), latest=True)  # recorded certificates valid, none "not yet"
    span = max(1, int(n / rate * 1_000_000))
    for i in range(n):
        if i < n_long:
            g = GATEWAY_LONG
        else:
            g = GATEWAY_TLS if b.rng.random() < GATEWAY_TLS_SHARE else GATEWAY_CLEAR
        name = b.rng.choice(g)
        b.add_mail(name, templates[name], t0 + b.rng.randrange(span), faults=(retrans, reorder))
    n_https, n_dns = b.add_background(https, share, t0, span)
    path = os.path.join(out_dir, "gateway.pcap")
    w = b.write(path)
    meta = {
        "capture": "gateway.pcap", "seed": seed + 2, "mail_sessions": b.mail_sessions,
        "mail_packets": b.mail_packets, "background_packets": b.bg_packets,
        "background_https_flows": n_https, "background_dns_exchanges": n_dns,
        "retransmitted_share": retrans, "reordered_share": reorder,
        "tls_share": GATEWAY_TLS_SHARE, "long_sessions": n_long,
        "packets": w.packets, "file_bytes": w.bytes + 24, "frame_bytes": w.frame_bytes,
        "span_s": span / 1e6, "sessions_per_s": rate, "per_template": b.per_template,
    }
    finish(path, meta, t)


def finish(path, meta, t):
    with open(path + ".expected", "w") as f:
        f.write("%d\n" % meta["mail_sessions"])
    with open(path + ".meta.json", "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    print("make_captures: %s: %d packets, %.1f MB, %d mail sessions, %d background packets "
          "(%.0f s)" % (path, meta["packets"], meta["file_bytes"] / 1e6, meta["mail_sessions"],
                        meta["background_packets"], time.time() - t), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench"),
                    help="output directory (default build/bench)")
    ap.add_argument("--sessions", type=int, default=50000,
                    help="mail sessions in sessions.pcap (default 50000)")
    ap.add_argument("--rate", type=float, default=2000.0,
                    help="new sessions per second of capture time (default 2000)")
    ap.add_argument("--bulk-mb", type=float, default=400.0,
                    help="approximate size of bulk.pcap in MB (default 400)")
    ap.add_argument("--bulk-concurrency", type=float, default=8.0,
                    help="large transfers in flight at once in bulk.pcap (default 8)")
    ap.add_argument("--keyed-bulk-mb", type=float, default=150.0,
                    help="approximate size of keyed-bulk.pcap in MB (default 150)")
    ap.add_argument("--keyed-sessions", type=int, default=10000,
                    help="keyed mail sessions in keyed-sessions.pcap (default 10000)")
    ap.add_argument("--background", type=float, default=0.30,
                    help="share of packets that are non-mail background (default 0.30)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    ap.add_argument("--gateway-sessions", type=int, default=50000,
                    help="mail sessions in gateway.pcap (default 50000)")
    ap.add_argument("which", nargs="*",
                    help="sessions, bulk, gateway, keyed-sessions, keyed-bulk (default all)")
    a = ap.parse_args()
    if not 0 <= a.background < 1:
        ap.error("--background must be in [0, 1)")
    kinds = ("sessions", "bulk", "gateway", "keyed-sessions", "keyed-bulk")
    which = a.which or list(kinds)
    for w in which:
        if w not in kinds:
            ap.error("unknown capture %r: want one of %s" % (w, ", ".join(kinds)))
    os.makedirs(a.out, exist_ok=True)
    if "sessions" in which:
        make_sessions(a.out, a.sessions, a.rate, a.background, a.seed)
    if "bulk" in which:
        make_bulk(a.out, a.bulk_mb, a.bulk_concurrency, a.background, a.seed)
    if "gateway" in which:
        make_gateway(a.out, a.gateway_sessions, a.rate, a.background, a.seed)
    if "keyed-sessions" in which:
        make_keyed_sessions(a.out, a.keyed_sessions, a.rate, a.background, a.seed)
    if "keyed-bulk" in which:
        make_keyed_bulk(a.out, a.keyed_bulk_mb, a.bulk_concurrency, a.background, a.seed)


if __name__ == "__main__":
    main()
