#!/usr/bin/env python3
"""Write a small Ethernet pcap of one SMTP session whose wire text is hostile to HTML and
Markdown (tags, event handlers, table pipes, backticks, invalid UTF-8, control bytes), for
the report's escaping test. Usage: make_hostile_pcap.py OUT.pcap"""
import struct
import sys

CLIENT, SERVER = bytes([10, 9, 8, 7]), bytes([10, 9, 8, 1])
CPORT, SPORT = 40000, 25


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    csum = checksum(pseudo + tcp + payload)
    tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00"
    return eth + ip + tcp + payload


def main(out):
    SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
    cseq, sseq = 1000, 5000
    frames = [frame(CLIENT, SERVER, CPORT, SPORT, cseq, 0, SYN),
              frame(SERVER, CLIENT, SPORT, CPORT, sseq, cseq + 1, SYN | ACK),
              frame(CLIENT, SERVER, CPORT, SPORT, cseq + 1, sseq + 1, ACK)]
    cseq += 1
    sseq += 1
    talk = [
        (b"S", b"220 <script>document.body.dataset.pwned='1'</script> ESMTP\r\n"),
        (b"C", b"EHLO <img src=x onerror=\"document.body.dataset.pwned='2'\">|*_`[x](y)\r\n"),
        (b"S", b"250 ok\r\n"),
        (b"C", b"MAIL FROM:<a@b.test>\r\n"),
        (b"S", b"250 ok\r\n"),
        (b"C", b"RCPT TO:<x@y.test>\r\n"),
        (b"S", b"554 5.7.1 <b onmouseover=x>Relay</b> denied | `code` & \xff\xfe\x01 ]]>\r\n"),
        (b"C", b"QUIT\r\n"),
        (b"S", b"221 bye\r\n"),
    ]
    for who, data in talk:
        if who == b"S":
            frames.append(frame(SERVER, CLIENT, SPORT, CPORT, sseq, cseq, PSH | ACK, data))
            sseq += len(data)
            frames.append(frame(CLIENT, SERVER, CPORT, SPORT, cseq, sseq, ACK))
        else:
            frames.append(frame(CLIENT, SERVER, CPORT, SPORT, cseq, sseq, PSH | ACK, data))
            cseq += len(data)
            frames.append(frame(SERVER, CLIENT, SPORT, CPORT, sseq, cseq, ACK))
    frames.append(frame(SERVER, CLIENT, SPORT, CPORT, sseq, cseq, FIN | ACK))
    frames.append(frame(CLIENT, SERVER, CPORT, SPORT, cseq, sseq + 1, FIN | ACK))
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1767225600, i * 1000, len(fr), len(fr)))
            f.write(fr)


if __name__ == "__main__":
    main(sys.argv[1])
