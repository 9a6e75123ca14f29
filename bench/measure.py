#!/usr/bin/env python3
"""Run a command N times; print the median wall time and peak RSS as one line of JSON.

    measure.py RUNS -- CMD [ARG...]

Wall time from a monotonic clock around fork/exec and wait (microsecond resolution, unlike
/usr/bin/time's 10 ms); peak RSS from the child's rusage (ru_maxrss, as /usr/bin/time -f %M
reports it). The command's stdout and stderr go to /dev/null. Exit status 1 if any run of the
command failed (the line is still printed, with "ok": false and the failing status).
"""
import json
import os
import statistics
import subprocess
import sys
import time


def run_once(argv):
    devnull = os.open(os.devnull, os.O_RDWR)
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdin=devnull, stdout=devnull, stderr=devnull)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    os.close(devnull)
    return wall, ru.ru_maxrss * 1024, ru.ru_utime + ru.ru_stime, p.returncode


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: measure.py RUNS -- CMD [ARG...]")
    runs = int(sys.argv[1])
    argv = sys.argv[3:]
    walls, rss, cpu, bad = [], [], [], 0
    for _ in range(runs):
        w, r, c, rc = run_once(argv)
        walls.append(w)
        rss.append(r)
        cpu.append(c)
        if rc != 0:
            bad = rc
    print(json.dumps({
        "wall_s": statistics.median(walls), "walls": walls,
        "cpu_s": statistics.median(cpu), "rss_bytes": max(rss), "runs": runs,
        "ok": bad == 0, "status": bad, "cmd": argv,
    }))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
