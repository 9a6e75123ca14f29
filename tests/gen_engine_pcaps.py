#!/usr/bin/env python3
"""Write captures for the engine's hardening (issue 12 section 4): IPv4 and IPv6 fragments,
deep VLAN stacks and IPv6 extension-header chains, and a retransmission that differs
inside an AUTH. Usage: gen_engine_pcaps.py OUTDIR. Generated at test time, never
committed: the conversations below are the source."""
import base64
import os
import struct
import sys

SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
C4, S4 = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])
C6, S6 = bytes(15) + b"\x02", bytes(15) + b"\x01"
PW = "Swordfish-42x"   # in pcaps/secrets.txt too


def tcp_bytes(sport, dport, seq, ack, flags, payload):
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                       flags, 65535, 0, 0) + payload


def eth(l3, v6, tags=0):
    hdr = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02"
    for i in range(tags):
        hdr += struct.pack("!HH", 0x88A8 if i == 0 else 0x8100, 100 + i)
    return hdr + struct.pack("!H", 0x86DD if v6 else 0x0800) + l3


def ip4(src, dst, l4, ident=1, frag=0x4000):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, frag, 64, 6, 0, src,
                       dst) + l4


def ip6(src, dst, nxt, rest):
    return struct.pack("!IHBB", 0x60000000, len(rest), nxt, 64) + src + dst + rest


def ext6(n, last):
    """n destination-options headers (8 bytes each), the last one pointing at `last`."""
    return b"".join(struct.pack("!BB6x", 60 if i + 1 < n else last, 0) for i in range(n))


class Conv:
    """One TCP connection; frames() in capture order. opts: v6, tags, ext (IPv6 dst-opts
    headers before TCP), frag (segments fragmented: a list of piece sizes)."""

    def __init__(self, port, v6=False, tags=0, ext=0, cport=40025):
        self.port, self.v6, self.tags, self.ext, self.cport = port, v6, tags, ext, cport
        self.cseq, self.sseq, self.ident, self.out = 1000, 5000, 100, []
        self.seg(True, self.cseq - 1, 0, SYN)
        self.seg(False, self.sseq - 1, self.cseq, SYN | ACK)
        self.seg(True, self.cseq, self.sseq, ACK)

    def packet(self, from_client, l4, frag=0x4000, fraghdr=b""):
        src, dst = (C6, S6) if self.v6 else (C4, S4)
        if from_client is False:
            src, dst = dst, src
        if not self.v6:
            return eth(ip4(src, dst, l4, self.ident, frag), False, self.tags)
        if fraghdr:  # hop-by-hop and destination options, then the fragment header
            rest = struct.pack("!BB6x", 60, 0) + struct.pack("!BB6x", 44, 0) + fraghdr + l4
            return eth(ip6(src, dst, 0, rest), True, self.tags)
        return eth(ip6(src, dst, 60 if self.ext else 6, ext6(self.ext, 6) + l4), True,
                   self.tags)

    def seg(self, from_client, seq, ack, flags, payload=b"", pieces=None, order=None):
        sp, dp = (self.cport, self.port) if from_client else (self.port, self.cport)
        l4 = tcp_bytes(sp, dp, seq, ack, flags, payload)
        if not pieces:
            self.out.append(self.packet(from_client, l4))
            return
        self.ident += 1
        frags, off = [], 0
        for i, n in enumerate(pieces + [len(l4)]):
            n = min(n, len(l4) - off)
            if n <= 0:
                break
            more = off + n < len(l4)
            if self.v6:
                fh = struct.pack("!BBHI", 6, 0, off | (1 if more else 0), self.ident)
                frags.append(self.packet(from_client, l4[off:off + n], fraghdr=fh))
            else:
                frags.append(self.packet(from_client, l4[off:off + n],
                                         (off // 8) | (0x2000 if more else 0)))
            off += n
        for i in (order or range(len(frags))):
            self.out.append(frags[i])

    def c(self, text, **kw):
        data = text.replace("\n", "\r\n").encode()
        self.seg(True, self.cseq, self.sseq, PSH | ACK, data, **kw)
        self.cseq += len(data)
        self.seg(False, self.sseq, self.cseq, ACK)

    def s(self, text, **kw):
        data = text.replace("\n", "\r\n").encode()
        self.seg(False, self.sseq, self.cseq, PSH | ACK, data, **kw)
        self.sseq += len(data)
        self.seg(True, self.cseq, self.sseq, ACK)

    def fin(self):
        self.seg(True, self.cseq, self.sseq, FIN | ACK)
        self.seg(False, self.sseq, self.cseq + 1, FIN | ACK)
        self.seg(True, self.cseq + 1, self.sseq + 1, ACK)
        return self.out


def relay(conv, frag_reply=None, order=None):
    """An SMTP relay attempt; the 554 reply (and the RCPT) fragmented when asked."""
    conv.s("220 mx.example.test ESMTP\n")
    conv.c("EHLO c.example.org\n")
    conv.s("250 mx.example.test\n")
    conv.c("MAIL FROM:<a@example.org>\n")
    conv.s("250 ok\n")
    conv.c("RCPT TO:<bob@example.net>\n", pieces=frag_reply)
    conv.s("554 5.7.1 <bob@example.net>: Relay access denied\n", pieces=frag_reply,
           order=order)
    conv.c("QUIT\n")
    conv.s("221 bye\n")
    return conv.fin()


def overlap_v4():
    """The 554 in two fragments, then a second copy of the first with other bytes."""
    conv = Conv(25)
    conv.s("220 mx.example.test ESMTP\n")
    conv.c("RCPT TO:<bob@example.net>\n")
    data = b"554 5.7.1 relay denied\r\n"
    l4 = tcp_bytes(25, 40025, conv.sseq, conv.cseq, PSH | ACK, data)
    conv.ident += 1
    f1 = conv.packet(False, l4[:32], 0x2000 | 0)
    bad = l4[:24] + b"250 ok!!"
    f1b = conv.packet(False, bad, 0x2000 | 0)
    f2 = conv.packet(False, l4[32:], 4)
    conv.out += [f1, f1b, f2]
    conv.sseq += len(data)
    conv.c("QUIT\n")
    conv.s("221 bye\n")
    return conv.fin()


def overlap_secret():
    """A client segment whose first copy reads NOOP <base64 of the password>, its
    retransmission AUTH PLAIN <the same base64>: the first copy wins in reassembly, and
    both are secret while an AUTH may be pending (issue 12 section 1)."""
    b64 = base64.b64encode(f"\0alice\0{PW}".encode()).decode()
    conv = Conv(25)
    conv.s("220 mx.example.test ESMTP\n")
    conv.c("EHLO c.example.org\n")
    conv.s("250-mx.example.test\n250 AUTH PLAIN\n")
    first = f"NOOP {b64}\r\n".encode()
    second = f"AUTH PLAIN {b64}\r\n".encode()[:len(first)]
    conv.seg(True, conv.cseq, conv.sseq, PSH | ACK, first)
    conv.seg(True, conv.cseq, conv.sseq, PSH | ACK, second)
    conv.cseq += len(first)
    conv.s("235 2.7.0 ok\n")
    conv.c("QUIT\n")
    conv.s("221 bye\n")
    return conv.fin()


def clear_client_implicit_tls():
    """Issue 15 item 16: a client set to plain SMTP on 465 sends EHLO at once; the server
    (waiting for a ClientHello) never answers; the client waits, then gives up."""
    conv = Conv(465)
    conv.c("EHLO client.example.org\n")
    for _ in range(20):  # two seconds of nothing (frames are 0.1 s apart)
        conv.seg(True, conv.cseq, conv.sseq, ACK)
    return conv.fin()


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 10, (i % 10) * 100000, len(fr),
                                len(fr)) + fr)


def main(out):
    os.makedirs(out, exist_ok=True)
    caps = {
        "frag-v4": relay(Conv(25), [24, 24], order=None),
        "frag-v4-reversed": relay(Conv(25), [24, 16], order=[2, 1, 0]),
        "frag-v6-ext": relay(Conv(25, v6=True), [24, 24], order=[1, 2, 0]),
        "frag-overlap": overlap_v4(),
        "vlan-5": relay(Conv(25, tags=5)),
        "vlan-9": relay(Conv(25, tags=9)),
        "ipv6-ext-9": relay(Conv(25, v6=True, ext=9)),
        "ipv6-ext-17": relay(Conv(25, v6=True, ext=17)),
        "overlap-secret": overlap_secret(),
        "smtps-clear-client": clear_client_implicit_tls(),
    }
    for name, frames in caps.items():
        write_pcap(os.path.join(out, name + ".pcap"), frames)
    with open(os.path.join(out, "passwords.txt"), "w") as f:
        f.write(PW + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
