#!/usr/bin/env python3
"""slowcat.py FILE SECONDS: copy a pcap to stdout spread over SECONDS (the global header
first, then the packets in even slices), so a run reading it on stdin lasts that long."""
import sys, time
data = open(sys.argv[1], "rb").read()
seconds = float(sys.argv[2])
out = sys.stdout.buffer
out.write(data[:24])
out.flush()
body, steps = data[24:], 50
chunk = len(body) // steps + 1
for i in range(steps):
    out.write(body[i * chunk:(i + 1) * chunk])
    out.flush()
    time.sleep(seconds / steps)
