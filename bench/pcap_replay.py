#!/usr/bin/env python3
"""Send the frames of a classic pcap file out of an interface (an AF_PACKET socket), for
when tcpreplay is not installed: tests/live_workers.sh and bench/live_veth.sh. Standard
library only; about 100k packets/s at most (tcpreplay goes much further).

    pcap_replay.py [--pps N] IFACE FILE      # N packets a second (0: as fast as it can)
"""
import argparse
import socket
import struct
import sys
import time


def frames(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            order = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            order = ">"
        else:
            sys.exit("pcap_replay: %s: not a classic pcap file" % path)
        if struct.unpack(order + "I", head[20:24])[0] != 1:
            sys.exit("pcap_replay: %s: not Ethernet" % path)
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            caplen = struct.unpack(order + "IIII", rec)[2]
            data = f.read(caplen)
            if len(data) < caplen:
                return
            yield data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pps", type=float, default=0)
    ap.add_argument("iface")
    ap.add_argument("file")
    a = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    t0 = time.monotonic()
    sent = 0
    for data in frames(a.file):
        if a.pps > 0:
            due = t0 + sent / a.pps
            while True:
                now = time.monotonic()
                if now >= due:
                    break
                time.sleep(min(due - now, 0.01))
        while True:
            try:
                s.send(data)
                break
            except BlockingIOError:
                time.sleep(0.0001)
            except OSError as e:
                if e.errno == 105:  # ENOBUFS: the queue is full, wait a little
                    time.sleep(0.0001)
                    continue
                raise
        sent += 1
    secs = time.monotonic() - t0
    print("Actual: %d packets sent in %.2f seconds (%.0f pps)" % (sent, secs, sent / secs if secs else 0))


if __name__ == "__main__":
    main()
