#!/usr/bin/env python3
"""Write captures of malformed but plausible logins (issue 12 section 1) for SMTP, IMAP and
POP3: every variant the secret search must survive. Usage: gen_secret_pcaps.py OUTDIR
Writes OUTDIR/<proto>-<variant>.pcap and OUTDIR/passwords.txt (one password a line).
Generated at test time, never committed: the conversations below are the source."""
import base64
import os
import struct
import sys

PW = "Swordfish-42x"   # both passwords are in pcaps/secrets.txt as well
PW2 = "Wrong-Pa55word"
PW3 = "Marlin-Tusk-77"  # as long as PW2: the differing copies of a segment are as long
USER = "alice"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp + payload)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + tcp + payload


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
CLIENT, SERVER = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])


def capture(port, steps):
    """steps: ("C"|"S", text) a segment; ("gapC", text) client bytes lost from the
    capture; ("overlapC", first, second) a segment and a retransmission that differs;
    ("overlapHeldC", lead, first, second) the same, both copies arriving before `lead` (the
    bytes before them), so that they are held out of order."""
    cseq, sseq, cport = 1000, 5000, 40000 + port
    c2s = lambda seq, ack, fl, p=b"": frame(CLIENT, SERVER, cport, port, seq, ack, fl, p)
    s2c = lambda seq, ack, fl, p=b"": frame(SERVER, CLIENT, port, cport, seq, ack, fl, p)
    out = [c2s(cseq, 0, SYN), s2c(sseq, cseq + 1, SYN | ACK), c2s(cseq + 1, sseq + 1, ACK)]
    cseq += 1
    sseq += 1
    for st in steps:
        kind = st[0]
        data = [s.replace("\n", "\r\n").encode("latin-1") for s in st[1:]]
        if kind == "S":
            out.append(s2c(sseq, cseq, PSH | ACK, data[0]))
            sseq += len(data[0])
            out.append(c2s(cseq, sseq, ACK))
        elif kind == "C":
            out.append(c2s(cseq, sseq, PSH | ACK, data[0]))
            cseq += len(data[0])
            out.append(s2c(sseq, cseq, ACK))
        elif kind == "gapC":
            cseq += len(data[0])  # sent, never captured
        elif kind == "overlapC":
            out.append(c2s(cseq, sseq, PSH | ACK, data[0]))
            out.append(c2s(cseq, sseq, PSH | ACK, data[1]))
            cseq += len(data[0])
            out.append(s2c(sseq, cseq, ACK))
        elif kind == "overlapHeldC":
            out.append(c2s(cseq + len(data[0]), sseq, PSH | ACK, data[1]))
            out.append(c2s(cseq + len(data[0]), sseq, PSH | ACK, data[2]))
            out.append(c2s(cseq, sseq, PSH | ACK, data[0]))
            cseq += len(data[0]) + len(data[1])
            out.append(s2c(sseq, cseq, ACK))
    out += [c2s(cseq, sseq, FIN | ACK), s2c(sseq, cseq + 1, FIN | ACK),
            c2s(cseq + 1, sseq + 1, ACK)]
    return out


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 10, (i % 10) * 100000, len(fr),
                                len(fr)) + fr)


U, P, P2 = b64(USER), b64(PW), b64(PW2)
PLAIN2 = b64(f"{USER}\0{PW}")
XO_BARE = b64(f"user={USER} auth=Bearer {PW}")
OB_COMMAS = b64(f"n,,\x01auth=Bearer abc,a={PW},def\x01\x01")
PLAIN3 = b64(f"\0{USER}\0{PW}")
PLAIN_PW2, PLAIN_PW3 = b64(f"\0{USER}\0{PW2}"), b64(f"\0{USER}\0{PW3}")

SMTP_HELLO = [("S", "220 mx.example.test ESMTP\n"), ("C", "EHLO c.example.org\n"),
              ("S", "250-mx.example.test\n250 AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER\n")]
SMTP = {
    "plain-two-fields": [("C", f"AUTH PLAIN {PLAIN2}\n"), ("S", "535 5.7.8 failed\n")],
    "login-one-line": [("C", f"AUTH LOGIN {U} {P}\n"), ("S", "535 5.7.8 failed\n")],
    "password-prompt-first": [("C", "AUTH LOGIN\n"), ("S", "334 UGFzc3dvcmQ6\n"), ("C", P + "\n"),
                              ("S", "334 VXNlcm5hbWU6\n"), ("C", U + "\n"), ("S", "535 failed\n")],
    "xoauth2-bare": [("C", f"AUTH XOAUTH2 {XO_BARE}\n"), ("S", "535 5.7.8 failed\n")],
    "oauthbearer-commas": [("C", f"AUTH OAUTHBEARER {OB_COMMAS}\n"), ("S", "535 failed\n")],
    "unanswered-after-535": [("C", "AUTH LOGIN\n"), ("S", "334 VXNlcm5hbWU6\n"), ("C", U + "\n"),
                             ("S", "334 UGFzc3dvcmQ6\n"), ("C", P2 + "\n"),
                             ("S", "535 5.7.8 failed\n"), ("C", P + "\n")],
    "after-cancel-echoed": [("C", "AUTH LOGIN\n"), ("S", "334 VXNlcm5hbWU6\n"), ("C", "*\n"),
                            ("S", "501 5.7.0 cancelled\n"), ("C", PW + "\n"),
                            ("S", f"500 5.5.2 Error: command not recognized: {PW}\n"),
                            ("C", "QUIT\n"), ("S", "221 bye\n")],
    "334-after-gap": [("gapC", "AUTH LOGIN\n"), ("S", "334 VXNlcm5hbWU6\n"), ("C", U + "\n"),
                      ("S", "334 UGFzc3dvcmQ6\n"), ("C", P + "\n")],
    "login-pipelined": [("C", f"AUTH LOGIN\n{U}\n{P}\n"),
                        ("S", "334 VXNlcm5hbWU6\n334 UGFzc3dvcmQ6\n235 2.7.0 ok\n"),
                        ("C", "QUIT\n"), ("S", "221 bye\n")],
    "overlap-differs": [("overlapC", f"AUTX PLAIN {PLAIN3}\n", f"AUTH PLAIN {PLAIN3}\n"),
                        ("S", "235 2.7.0 ok\n"), ("C", "QUIT\n"), ("S", "221 bye\n")],
    # each copy with its own password; the server echoes the copy mailwire did not keep
    "overlap-two-passwords": [("overlapC", f"AUTX PLAIN {PLAIN_PW2}\n",
                               f"AUTH PLAIN {PLAIN_PW3}\n"),
                              ("S", f"535 5.7.8 failed: AUTH PLAIN {PLAIN_PW3}\n"),
                              ("C", "QUIT\n"), ("S", "221 bye\n")],
    # the kept copy is a known verb whose arguments would be quoted in -v
    "overlap-verb-first": [("overlapC", f"HELP PLAIN {PLAIN_PW2}\n", f"AUTH PLAIN {PLAIN_PW3}\n"),
                           ("S", "214 2.0.0 see RFC 5321\n"), ("C", "QUIT\n"), ("S", "221 bye\n")],
    # the two copies held out of order behind a lost-then-resent NOOP
    "overlap-held": [("overlapHeldC", "NOOP\n", f"HELP PLAIN {PLAIN_PW2}\n",
                      f"AUTH PLAIN {PLAIN_PW3}\n"),
                     ("S", "250 ok\n214 2.0.0 see RFC 5321\n"), ("C", "QUIT\n"),
                     ("S", "221 bye\n")],
}

IMAP_HELLO = [("S", "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\n")]
IMAP = {
    "plain-two-fields": [("C", f"a1 AUTHENTICATE PLAIN {PLAIN2}\n"), ("S", "a1 NO failed\n")],
    "login-one-line": [("C", f"a1 AUTHENTICATE LOGIN {U} {P}\n"), ("S", "a1 NO failed\n")],
    "login-tab": [("C", f"a1 LOGIN {USER}\t{PW}\n"), ("S", "a1 NO [AUTHENTICATIONFAILED] no\n")],
    "password-prompt-first": [("C", "a1 AUTHENTICATE LOGIN\n"), ("S", "+ UGFzc3dvcmQ6\n"),
                              ("C", P + "\n"), ("S", "+ VXNlcm5hbWU6\n"), ("C", U + "\n"),
                              ("S", "a1 NO failed\n")],
    "xoauth2-bare": [("C", f"a1 AUTHENTICATE XOAUTH2 {XO_BARE}\n"), ("S", "a1 NO failed\n")],
    "oauthbearer-commas": [("C", f"a1 AUTHENTICATE OAUTHBEARER {OB_COMMAS}\n"),
                           ("S", "a1 NO failed\n")],
    "echo-after-failure": [("C", f"a1 LOGIN {USER} {PW2}\n"), ("S", "a1 NO failed\n"),
                           ("C", PW + "\n"), ("S", f"{PW} BAD Error in IMAP command\n"),
                           ("C", "a2 LOGOUT\n"), ("S", "* BYE\na2 OK bye\n")],
    "after-cancel": [("C", "a1 AUTHENTICATE PLAIN\n"), ("S", "+ \n"), ("C", "*\n"),
                     ("S", "a1 BAD cancelled\n"), ("C", PLAIN3 + "\n")],
    "prompt-after-gap": [("gapC", "a1 AUTHENTICATE LOGIN\n"), ("S", "+ VXNlcm5hbWU6\n"),
                         ("C", U + "\n"), ("S", "+ UGFzc3dvcmQ6\n"), ("C", P + "\n")],
}

POP3_HELLO = [("S", "+OK POP3 ready\n")]
POP3 = {
    "plain-two-fields": [("C", f"AUTH PLAIN {PLAIN2}\n"), ("S", "-ERR failed\n")],
    "login-one-line": [("C", f"AUTH LOGIN {U} {P}\n"), ("S", "-ERR failed\n")],
    "user-name-pass": [("C", f"USER {USER} {PW}\n"), ("S", "-ERR no such user\n"),
                       ("C", "QUIT\n"), ("S", "+OK bye\n")],
    "password-prompt-first": [("C", "AUTH LOGIN\n"), ("S", "+ UGFzc3dvcmQ6\n"), ("C", P + "\n"),
                              ("S", "+ VXNlcm5hbWU6\n"), ("C", U + "\n"), ("S", "-ERR failed\n")],
    "xoauth2-bare": [("C", f"AUTH XOAUTH2 {XO_BARE}\n"), ("S", "-ERR failed\n")],
    "oauthbearer-commas": [("C", f"AUTH OAUTHBEARER {OB_COMMAS}\n"), ("S", "-ERR failed\n")],
    "echo-after-failure": [("C", f"USER {USER}\n"), ("S", "+OK\n"), ("C", f"PASS {PW2}\n"),
                           ("S", "-ERR [AUTH] failed\n"), ("C", PW + "\n"),
                           ("S", f"-ERR unknown command {PW}\n"), ("C", "QUIT\n"),
                           ("S", "+OK bye\n")],
    "after-cancel": [("C", "AUTH PLAIN\n"), ("S", "+ \n"), ("C", "*\n"),
                     ("S", "-ERR cancelled\n"), ("C", P + "\n")],
}


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for proto, port, hello, variants in (("smtp", 25, SMTP_HELLO, SMTP),
                                         ("imap", 143, IMAP_HELLO, IMAP),
                                         ("pop3", 110, POP3_HELLO, POP3)):
        for name, steps in variants.items():
            write_pcap(os.path.join(outdir, f"{proto}-{name}.pcap"), capture(port, hello + steps))
            n += 1
    with open(os.path.join(outdir, "passwords.txt"), "w") as f:
        f.write(f"{PW}\n{PW2}\n{PW3}\n")
    print(f"{n} captures in {outdir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/secrets")
