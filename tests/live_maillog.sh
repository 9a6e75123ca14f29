#!/usr/bin/env bash
# Live capture with a followed server log (issue 14, last item): `mailwire -i lo --maillog
# FILE` in a network namespace of its own, a small SMTP server and client (python sockets) on
# the namespace's loopback, and postfix log lines (copied from pcaps/log-smtp587-auth-failed-
# tls13.maillog, ports and times rewritten to match) appended to FILE by the test a second
# after each session closed - within --log-grace. FILE does not exist when mailwire starts,
# is rotated by rename and then truncated in place mid-run. Each session's record must carry
# the log's verdict (auth_failed, evidence source "log") and its server_log (matched by port).
# Prints TAP lines. Needs root (a namespace, a packet socket) and python3, iproute2.
#
#   sudo bash tests/live_maillog.sh [MAILWIRE]
set -u
MW=${1:-./mailwire}
[[ $MW == /* ]] || MW=$PWD/$MW
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
SKIP_WHAT="live maillog tests"
skip() { skip_all "$1"; }

[[ $(id -u) -eq 0 ]] || skip "not root (live capture needs root)"
command -v python3 >/dev/null 2>&1 || skip "no python3"
[[ -x $MW ]] || { not_ok "mailwire binary" "$MW is not an executable file"; exit 1; }
# shellcheck disable=SC2034  # read by servers.sh
LOG_TAG=live-maillog
# shellcheck source=../pcaps/servers.sh
source pcaps/servers.sh
netns_enter livelog "$SELF" "$MW" || skip "$NETNS_ERROR"

WORK=$(mktemp -d /tmp/mailwire-livelog.XXXXXX)
MW_PID='' SRV_PID=''
cleanup() {
    local rc=$?
    [[ -n $MW_PID ]] && kill -KILL "$MW_PID" 2>/dev/null
    [[ -n $SRV_PID ]] && kill -TERM "$SRV_PID" 2>/dev/null
    [[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
LOG=$WORK/mail.log
OUT=$WORK/live.jsonl

# a minimal SMTP server on 127.0.0.1:587: greeting, 250 to everything, 221 to QUIT
python3 - <<'PY' &
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 587)); s.listen(8)
def serve(c):
    f = c.makefile("rb")
    c.sendall(b"220 mail.example.test ESMTP\r\n")
    for line in f:
        if line.upper().startswith(b"QUIT"):
            c.sendall(b"221 2.0.0 Bye\r\n"); break
        c.sendall(b"250 mail.example.test\r\n")
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
SRV_PID=$!

# client PORT: one session from 127.0.0.41:PORT (EHLO, QUIT), closed by the server's FIN
client() {
    python3 - "$1" <<'PY'
import socket, sys, time
for _ in range(50):
    try:
        c = socket.create_connection(("127.0.0.1", 587), source_address=("127.0.0.41", int(sys.argv[1])))
        break
    except OSError:
        time.sleep(0.1)
f = c.makefile("rb")
f.readline(); c.sendall(b"EHLO client.example.org\r\n"); f.readline()
c.sendall(b"QUIT\r\n"); f.readline(); c.close()
PY
}

# loglines PORT PID: the recorded postfix lines of a failed AUTH, for this port, now (UTC)
loglines() {
    local t
    t=$(date -u '+%b %d %H:%M:%S')
    sed -e "s/44696/$1/g" -e "s/smtpd\[8967\]/smtpd[$2]/" -e "s/^Dec 01 [0-9:]*/$t/" \
        pcaps/log-smtp587-auth-failed-tls13.maillog
}

wait_capturing() {  # the packet socket of PID is open, or give up after 5 s
    local pid=$1 i inode
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        for inode in $(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'); do
            awk 'NR > 1 {print $NF}' /proc/net/packet | grep -qx "$inode" && { sleep 0.5; return 0; }
        done
        sleep 0.1
    done
    return 1
}

"$MW" -i lo --json -o "$OUT" --maillog "$LOG" --log-tz UTC --log-grace 3 \
    >"$WORK/mw.stdout" 2>"$WORK/mw.stderr" &
MW_PID=$!
if wait_capturing "$MW_PID"; then
    ok "mailwire -i lo --maillog (the log not there yet) is capturing"
else
    not_ok "mailwire -i lo --maillog is capturing" "stderr: $(head -c 1000 "$WORK/mw.stderr")"
    exit 1
fi

# A: the log appears after the session closed, a second later (within the grace)
client 40001; sleep 1; loglines 40001 9001 >>"$LOG"; sleep 0.5
# B: rotated by rename (logrotate's default), the lines go to a new file
mv "$LOG" "$LOG.1"; client 40002; sleep 1; loglines 40002 9002 >>"$LOG"; sleep 0.5
# C: truncated in place (copytruncate), then the lines
: >"$LOG"; sleep 0.5; client 40003; sleep 1; loglines 40003 9003 >>"$LOG"
# D: no log line at all
client 40004
sleep 3.5
kill -INT "$MW_PID"
for ((i = 0; i < 100; i++)); do kill -0 "$MW_PID" 2>/dev/null || break; sleep 0.1; done
wait "$MW_PID"; rc=$?
MW_PID=''
[[ $rc -eq 0 ]] && ok "mailwire stopped cleanly (SIGINT, exit 0)" ||
    not_ok "mailwire stopped cleanly" "exit $rc" "$(head -c 1000 "$WORK/mw.stderr")"

if python3 - "$OUT" "$LOG" >"$WORK/why" 2>&1 <<'PY'
import json, sys
recs = {json.loads(l)["client"]: json.loads(l) for l in open(sys.argv[1])}
for port in (40001, 40002, 40003):
    r = recs.get(f"127.0.0.41:{port}")
    assert r, f"no record for port {port}: {sorted(recs)}"
    assert "auth_failed" in r["flags"], (port, r["flags"])
    ev = [e for e in r["evidence"] if e["flag"] == "auth_failed"]
    assert ev and ev[0]["source"] == "log" and ev[0]["frame"] is None, ev
    assert ev[0]["file"] == sys.argv[2] and ev[0]["line"] == 3, ev
    sl = r["server_log"]
    assert sl["matched_by"] == "port", sl
    assert len(sl["lines"]) == 5, sl["lines"]
    assert any(f"unknown[127.0.0.41]:{port}: SASL PLAIN authentication failed" in x["text"]
               for x in sl["lines"]), sl["lines"]
    assert r["outcome"] == "rejected", r["outcome"]
d = recs.get("127.0.0.41:40004")
assert d and "auth_failed" not in d["flags"] and not d.get("server_log"), d
print("ok")
PY
then ok "sessions A (log appears later), B (after a rename), C (after a truncation) carry the log's auth_failed and server_log; D (no log line) none"
else not_ok "live records joined to the followed log" "$(cat "$WORK/why")" "stderr: $(head -c 2000 "$WORK/mw.stderr")"; fi

if grep -q "Followed $LOG: 15 lines, reopened 1 times after a rename, read again 1 times after a truncation" "$WORK/mw.stderr" &&
   grep -q "Joined: 3 of 4 sessions (3 by client port" "$WORK/mw.stderr"; then
    ok "the summary says what was followed (a rename, a truncation) and joined"
else
    not_ok "the summary says what was followed" "$(cat "$WORK/mw.stderr")"
fi
echo "1..$n"
