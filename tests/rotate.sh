#!/usr/bin/env bash
# Output rotation (issue 17, "Output files rotate"): --rotate-size / --rotate-interval for -o
# and -w, SIGHUP reopens (logrotate). Under load no record is lost or cut: the rotated files,
# in name order, are byte for byte the output of the same run without rotation; every -w
# file is a pcap tcpdump reads; a rotation that cannot be done is one line and exit 1.
# The live part (-i lo in a network namespace of its own, python SMTP client and server)
# needs root; without it those checks are skipped.
# Usage: tests/rotate.sh MAILWIRE_BINARY        (TAP on stdout)
set -u
MW=${1:?usage: rotate.sh MAILWIRE}
MW=$(cd "$(dirname "$MW")" && pwd)/$(basename "$MW")
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh

# the files of one rotated output, oldest first: NAME.STAMP[-NNNN] in name order, then NAME
rotated() { ls -1 "$1".2* 2>/dev/null | sort; [ -e "$1" ] && echo "$1"; }
catrot() { local f; for f in $(rotated "$1"); do cat "$f"; done; }

live_part() {
    # shellcheck disable=SC2034
    LOG_TAG=rotate
    # shellcheck source=../pcaps/servers.sh
    source pcaps/servers.sh
    TMP=$(mktemp -d /tmp/mailwire-rotate.XXXXXX)
    local mw_pid srv_pid
    trap 'kill -KILL $mw_pid $srv_pid 2>/dev/null; rm -rf "$TMP"' EXIT
    python3 - <<'PY' &
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 587)); s.listen(64)
def serve(c):
    f = c.makefile("rb")
    c.sendall(b"220 mail.example.test ESMTP\r\n")
    for line in f:
        if line.upper().startswith(b"QUIT"):
            c.sendall(b"221 2.0.0 Bye\r\n"); break
        c.sendall(b"250 2.1.0 Ok " + b"x" * 400 + b"\r\n")
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
    srv_pid=$!
    load() {  # load N: N sessions, 8 at a time, each EHLO, 10 x NOOP, QUIT
        python3 - "$1" <<'PY'
import socket, sys, time
from concurrent.futures import ThreadPoolExecutor
def one(i):
    for _ in range(50):
        try:
            c = socket.create_connection(("127.0.0.1", 587)); break
        except OSError:
            time.sleep(0.1)
    f = c.makefile("rb"); f.readline()
    for cmd in [b"EHLO client.example.org"] + [b"NOOP"] * 10:
        c.sendall(cmd + b"\r\n"); f.readline()
    c.sendall(b"QUIT\r\n"); f.readline(); c.close()
with ThreadPoolExecutor(8) as ex:
    list(ex.map(one, range(int(sys.argv[1]))))
PY
    }
    "$MW" -i lo --json -o "$TMP/live.json" -w "$TMP/live.pcap" --rotate-size 64k \
        >"$TMP/mw.out" 2>"$TMP/mw.err" &
    mw_pid=$!
    local i inode up=
    for ((i = 0; i < 50 && !up; i++)); do
        for inode in $(find "/proc/$mw_pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'); do
            awk 'NR > 1 {print $NF}' /proc/net/packet | grep -qx "$inode" && up=1
        done
        sleep 0.1
    done
    sleep 0.5
    load 150
    # logrotate: rename both, then SIGHUP; the run goes on into new files of the same names
    mv "$TMP/live.json" "$TMP/live.json.2moved"; mv "$TMP/live.pcap" "$TMP/live.pcap.2moved"
    kill -HUP "$mw_pid"
    load 150
    sleep 1
    kill -INT "$mw_pid"
    wait "$mw_pid"
    local rc=$?
    [ "$rc" -eq 0 ] && ok "live: -o and -w rotated under load and after SIGHUP, exit 0" ||
        not_ok "live: exit 0" "exit $rc: $(head -c 1000 "$TMP/mw.err")"
    local nj np bad=0 f
    nj=$(rotated "$TMP/live.json" | wc -l)
    np=$(rotated "$TMP/live.pcap" | wc -l)
    [ "$nj" -gt 3 ] && [ "$np" -gt 3 ] && ok "live: $nj -o files, $np -w files" ||
        not_ok "live: several files" "$nj -o, $np -w: $(ls "$TMP")"
    for f in $(rotated "$TMP/live.pcap"); do
        tcpdump -nr "$f" >/dev/null 2>"$TMP/td.err" && ! grep -qi "truncated\|bogus" "$TMP/td.err" ||
            { bad=1; echo "# $f: $(head -c 300 "$TMP/td.err")"; }
    done
    [ "$bad" -eq 0 ] && ok "live: every -w file (rotated and reopened) is a whole pcap for tcpdump -r" ||
        not_ok "live: -w files readable by tcpdump"
    # every record in exactly one file; the -w files read again give the same records
    catrot "$TMP/live.json" >"$TMP/all.json"
    # shellcheck disable=SC2046
    mergecap -F pcap -w "$TMP/merged.pcap" $(rotated "$TMP/live.pcap") 2>/dev/null
    "$MW" -r "$TMP/merged.pcap" --json -o "$TMP/offline.json" 2>/dev/null
    if python3 - "$TMP/all.json" "$TMP/offline.json" >"$TMP/why" 2>&1 <<'PY'
import json, sys
live = [json.loads(l) for l in open(sys.argv[1])]
off = [json.loads(l) for l in open(sys.argv[2])]
n = sum(1 for r in live if r["server"] == "127.0.0.1:587")
assert n == 300, f"{n} records of 300 sessions in the -o files"
assert len({r["client"] for r in live}) == len(live), "a record twice"
key = lambda r: (r["client"], r["ts_start"], r["packets"]["client"], r["packets"]["server"])
assert sorted(map(key, live)) == sorted(map(key, off)), "the -w files give other records"
PY
    then ok "live: 300 sessions, 300 records across the -o files, the same as -r over the -w files"
    else not_ok "live: no record lost across rotations" "$(cat "$TMP/why")"; fi
}

if [ "${1:-}" = --live-inside ] || [ -n "${MW_NETNS:-}" ]; then
    live_part
    echo "1..$n"
    exit 0
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# load: a few thousand short sessions made from the recorded ones (bench/make_captures.py)
python3 bench/make_captures.py --out "$TMP" --sessions 2000 sessions >/dev/null 2>&1
CAP=$TMP/sessions.pcap
[ -s "$CAP" ] || { not_ok "load capture" "bench/make_captures.py failed"; echo "1..$n"; exit 1; }
"$MW" -r "$CAP" --json -o "$TMP/base.json" 2>/dev/null
"$MW" -r "$CAP" -o "$TMP/base.txt" 2>/dev/null
"$MW" -r - --json -o "$TMP/base-stdin.json" <"$CAP" 2>/dev/null # records name their input

# one rotated run compared with the run without rotation: FORMAT ARGS...
same_as_base() {
    local base=$1 out=$2 min=$3; shift 3
    "$MW" -r "$CAP" "$@" -o "$out" 2>"$TMP/err" || { echo "exit $?: $(cat "$TMP/err")"; return 1; }
    local k; k=$(rotated "$out" | wc -l)
    [ "$k" -ge "$min" ] || { echo "$k files"; return 1; }
    catrot "$out" | cmp - "$base" || return 1
}
if same_as_base "$TMP/base.json" "$TMP/r.json" 10 --json --rotate-size 64k; then
    ok "-r --json --rotate-size 64k: $(rotated "$TMP/r.json" | wc -l) files, together byte for byte the run without rotation"
else not_ok "-r --json --rotate-size: no record lost or cut" "$(cmp <(catrot "$TMP/r.json") "$TMP/base.json" 2>&1)"; fi
big=0
for f in $(rotated "$TMP/r.json"); do [ "$(stat -c %s "$f")" -le 65536 ] || big=1; done
[ "$big" -eq 0 ] && ok "every rotated file within --rotate-size" || not_ok "files within --rotate-size" "$(ls -l "$TMP")"
if same_as_base "$TMP/base.txt" "$TMP/r.txt" 5 --rotate-size 16k; then
    ok "text output, --rotate-size 16k: the files together are the run without rotation"
else not_ok "text output rotated" "$(cat "$TMP/err")"; fi

# FILE has records (the run is in the pause of its input), or 5 s passed
wait_written() { local i; for ((i = 0; i < 50; i++)); do [ -s "$1" ] && break; sleep 0.1; done; sleep 0.2; }

# streamed from stdin with a pause: --rotate-interval, and SIGHUP (logrotate's rename + HUP)
SPLIT=$(( $(stat -c %s "$CAP") / 2 ))
"$MW" -r - --json -o "$TMP/i.json" --rotate-interval 1 2>"$TMP/err" \
    < <(head -c "$SPLIT" "$CAP"; sleep 2.2; tail -c +"$((SPLIT + 1))" "$CAP")
if [ "$(rotated "$TMP/i.json" | wc -l)" -ge 2 ] && catrot "$TMP/i.json" | cmp -s - "$TMP/base-stdin.json"; then
    ok "--rotate-interval 1: a new file after the pause, no record lost"
else not_ok "--rotate-interval" "$(ls "$TMP") $(cat "$TMP/err")"; fi

{ head -c "$SPLIT" "$CAP"; sleep 2; tail -c +"$((SPLIT + 1))" "$CAP"; } |
    "$MW" -r - --json -o "$TMP/h.json" 2>"$TMP/err" &
pid=$!
wait_written "$TMP/h.json"
mv "$TMP/h.json" "$TMP/h.json.moved"
kill -HUP "$pid"
wait "$pid"; rc=$?
if [ "$rc" -eq 0 ] && [ -s "$TMP/h.json.moved" ] && [ -s "$TMP/h.json" ] &&
   cat "$TMP/h.json.moved" "$TMP/h.json" | cmp -s - "$TMP/base-stdin.json"; then
    ok "SIGHUP after the file was renamed away: a new file of the name, nothing lost, exit 0"
else not_ok "SIGHUP reopen" "exit $rc; $(cat "$TMP/err"); $(ls -l "$TMP")"; fi

{ head -c "$SPLIT" "$CAP"; sleep 2; tail -c +"$((SPLIT + 1))" "$CAP"; } |
    "$MW" -r - --json -o "$TMP/s.json" 2>"$TMP/err" &
pid=$!
wait_written "$TMP/s.json"
kill -HUP "$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 0 ] && cmp -s "$TMP/s.json" "$TMP/base-stdin.json" &&
    ok "SIGHUP with the file still there: written on, nothing lost or doubled" ||
    not_ok "SIGHUP without a rename" "exit $rc; $(cat "$TMP/err")"

# a rotation that cannot be done: one line naming the file and why, exit 1, nothing touched
one_line_exit() {  # WANT-RC TEXT CMD...: exit status, one stderr line containing TEXT
    local want=$1 text=$2; shift 2
    "$@" >"$TMP/o.out" 2>"$TMP/o.err"
    local rc=$?
    [ "$rc" -eq "$want" ] && [ "$(wc -l <"$TMP/o.err")" -eq 1 ] && grep -qF -- "$text" "$TMP/o.err" ||
        { echo "exit $rc, stderr: $(head -c 500 "$TMP/o.err")"; return 1; }
}
plant() {  # plant KIND: the output's name replaced mid-run by a symbolic link or a directory
    echo precious >"$TMP/target"
    { head -c "$SPLIT" "$CAP"; sleep 2; tail -c +"$((SPLIT + 1))" "$CAP"; } |
        "$MW" -r - --json -o "$TMP/p.json" --rotate-size 64k >/dev/null 2>"$TMP/o.err" &
    local pid=$! i
    # once it has rotated (so it is running and past its first file), during the pause
    for ((i = 0; i < 50; i++)); do ls "$TMP"/p.json.2* >/dev/null 2>&1 && break; sleep 0.1; done
    mv "$TMP/p.json" "$TMP/p.json.away"
    if [ "$1" = link ]; then ln -s "$TMP/target" "$TMP/p.json"; else mkdir "$TMP/p.json"; fi
    wait "$pid"
    local rc=$?
    rm -rf "$TMP/p.json" "$TMP"/p.json.2*
    [ "$rc" -eq 1 ] && [ "$(wc -l <"$TMP/o.err")" -eq 1 ] && grep -q "^mailwire: -o $TMP/p.json: cannot rotate: " "$TMP/o.err" &&
        [ "$(cat "$TMP/target")" = precious ] || { echo "exit $rc: $(cat "$TMP/o.err")"; return 1; }
}
if out=$(plant link); then ok "a symbolic link planted under the name: not followed, one line, exit 1 ($(cat "$TMP/o.err"))"
else not_ok "planted link" "$out"; fi
if out=$(plant dir); then ok "a directory under the name: one line, exit 1"
else not_ok "directory under the name" "$out"; fi
if out=$(one_line_exit 1 "--rotate-size and --rotate-interval rotate -o FILE and -w FILE" "$MW" -r "$CAP" --rotate-size 1M); then
    ok "--rotate-size without -o or -w: one line, exit 1"
else not_ok "--rotate-size alone" "$out"; fi
if out=$(one_line_exit 1 "--rotate-size 10: give a size of at least 1024 bytes" "$MW" -r "$CAP" -o "$TMP/x" --rotate-size 10); then
    ok "--rotate-size 10: refused, one line"
else not_ok "--rotate-size 10" "$out"; fi
if out=$(one_line_exit 1 "--rotate-interval 1x: give a duration" "$MW" -r "$CAP" -o "$TMP/x" --rotate-interval 1x); then
    ok "--rotate-interval 1x: refused, one line"
else not_ok "--rotate-interval 1x" "$out"; fi
if out=$(one_line_exit 1 "need a regular file" "$MW" -r "$CAP" -o /dev/null --rotate-size 1M); then
    ok "--rotate-size on a device: refused, one line"
else not_ok "--rotate-size -o /dev/null" "$out"; fi

# live: -o and -w rotated while sessions run, in a namespace of its own
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v tcpdump >/dev/null ||
   ! command -v mergecap >/dev/null; then
    skip "live rotation" "needs root, ip, tcpdump, mergecap"
else
    # shellcheck disable=SC2034
    LOG_TAG=rotate
    # shellcheck source=../pcaps/servers.sh
    source pcaps/servers.sh
    out=$( (netns_enter rotate "$SELF" "$MW") 2>/dev/null) || true
    if [ -z "$out" ]; then skip "live rotation" "no network namespace"
    else
        while IFS= read -r l; do
            case $l in
                "ok "*) n=$((n + 1)); echo "ok $n - ${l#ok * - }" ;;
                "not ok "*) n=$((n + 1)); echo "not ok $n - ${l#not ok * - }" ;;
                "#"*) echo "$l" ;;
            esac
        done <<<"$out"
    fi
fi
echo "1..$n"
