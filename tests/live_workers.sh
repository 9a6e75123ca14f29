#!/usr/bin/env bash
# Live capture with --workers (issue 18): a bench capture of 1,000 mail sessions (and 30%
# non-mail background) is replayed onto one end of a veth pair, inside a network namespace
# of its own, while `mailwire -i` captures on the other end - once with --workers 1, once with
# --workers 2 (and -w). Prints TAP lines.
#
#   sudo bash tests/live_workers.sh [MAILWIRE]        # MAILWIRE defaults to ./mailwire
#
# Checks: both runs write the same set of session records (compared by 4-tuple, the id, uid,
# time and frame fields left out), each session exactly once, the ids unique and "sN"; the
# kernel dropped nothing (else the comparison would mean nothing); --stats shows a line per
# worker, both with packets, and totals that are their sums; the -w file of the 2-worker run
# holds every packet and reads back to the same records. Then the keyed captures of pcaps/
# with --keylog: --workers 2 decrypts the same sessions to the same records as --workers 1,
# and, the keys appended only after the handshakes, holds and decrypts them
# (--tls-hold-records). The replay is tcpreplay (Debian
# package tcpreplay) when installed, else (or with MW_REPLAY=python) bench/pcap_replay.py
# (python, AF_PACKET). Needs root and ip (iproute2); without them one "# SKIP" line. Nothing
# of the host is touched: the namespace (mw-workers-PID) with its veth pair is removed at
# exit. About 20 s.
set -u
MW=${1:-./mailwire}
[[ $MW == /* ]] || MW=$PWD/$MW
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 1

SKIP_WHAT="live --workers tests"
TMP=$(mktemp -d /tmp/mailwire-workers.XXXXXX)
# shellcheck source=tests/tap.sh
. tests/tap.sh

[[ $(id -u) -eq 0 ]] || { rm -rf "$TMP"; skip_all "not root (live capture needs root)"; }
command -v ip >/dev/null 2>&1 || { rm -rf "$TMP"; skip_all "missing ip (iproute2)"; }
[[ -x $MW ]] || { not_ok "mailwire binary" "$MW is not an executable file"; rm -rf "$TMP"; exit 1; }

# shellcheck disable=SC2034  # read by servers.sh
LOG_TAG=live_workers
# shellcheck source=../pcaps/servers.sh
source pcaps/servers.sh
rm -rf "$TMP" # the run inside the namespace makes its own
netns_enter workers "$SELF" "$MW" || skip_all "$NETNS_ERROR"
TMP=$(mktemp -d /tmp/mailwire-workers.XXXXXX)

MW_PID=''
cleanup() {
    local rc=$?
    [[ -n $MW_PID ]] && kill -KILL "$MW_PID" 2>/dev/null
    wait 2>/dev/null
    ip link del mwA 2>/dev/null
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link add mwA type veth peer name mwB || skip_all "cannot make a veth pair in $NETNS"
ip link set mwA up && ip link set mwB up || skip_all "cannot bring the veth pair up"
if command -v ethtool >/dev/null 2>&1; then # frames as they are in the file
    ethtool -K mwA tso off gso off gro off >/dev/null 2>&1
    ethtool -K mwB tso off gso off gro off >/dev/null 2>&1
fi
python3 bench/make_captures.py --out "$TMP" --sessions 1000 sessions >"$TMP/gen.log" 2>&1 ||
    { not_ok "bench capture generated" "$(tail -3 "$TMP/gen.log")"; exit 1; }
CAP=$TMP/sessions.pcap
EXPECT=$(cat "$TMP/sessions.pcap.expected")
if [[ ${MW_REPLAY:-} != python ]] && command -v tcpreplay >/dev/null 2>&1; then
    REPLAY="tcpreplay"
    replay_file() { tcpreplay -q -i mwA --pps=10000 "$1"; }
else
    REPLAY="bench/pcap_replay.py"
    replay_file() { python3 bench/pcap_replay.py --pps 10000 mwA "$1"; }
fi
replay() { replay_file "$CAP"; }
# the checks below, in python: TAP lines numbered on from the shell's, and the records
# compared with the fields that differ from run to run (ids, times, frames) left out
cat >"$TMP/tapjson.py" <<'PY'
import json
n = 0
def tap(ok, name, *detail):
    global n
    n += 1
    print(("ok" if ok else "not ok"), n, "-", name)
    if not ok:
        for d in detail:
            print("#  ", str(d)[:1500])
TIMES = {"id", "uid", "ts", "ts_start", "ts_end", "frame", "seconds", "latency"}
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items()
                if k not in TIMES and not k.endswith(("_s", "_ms", "_us"))}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
def done():
    print("N", n)
PY
echo "# $EXPECT sessions replayed with $REPLAY at 10,000 packets/s"

# the packet sockets of PID are open (their inodes are in /proc/net/packet), or give up
wait_capturing() {
    local pid=$1 want=$2 i inode have
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        have=0
        for inode in $(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'); do
            awk 'NR > 1 {print $NF}' /proc/net/packet | grep -qx "$inode" && have=$((have + 1))
        done
        ((have >= want)) && { sleep 0.5; return 0; }
        sleep 0.1
    done
    return 1
}
# run W OUT ERR ARGS...: one replay under mailwire --workers W; RC its exit status
run() {
    local w=$1 out=$2 err=$3 i
    shift 3
    "$MW" -i mwB --workers "$w" --json -o "$out" "$@" >/dev/null 2>"$err" &
    MW_PID=$!
    wait_capturing "$MW_PID" "$w" || { RC="not capturing: $(head -c 300 "$err")"; return 1; }
    replay >"$TMP/replay-$w.log" 2>&1
    sleep 1 # the last TPACKET_V3 block (50 ms) and the writer (100 ms)
    kill -USR1 "$MW_PID"
    sleep 0.5
    kill -INT "$MW_PID"
    for ((i = 0; i < 100; i++)); do kill -0 "$MW_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$MW_PID"
    RC=$?
    MW_PID=''
}

run 1 "$TMP/w1.jsonl" "$TMP/w1.err" --stats 60
RC1=$RC
run 2 "$TMP/w2.jsonl" "$TMP/w2.err" --stats 60 -w "$TMP/w2.pcap"
RC2=$RC
check "--workers 1: SIGINT, exit 0" test "$RC1" = 0
check "--workers 2: SIGINT, exit 0" test "$RC2" = 0

# the last stats block of each run: the per-worker lines and the totals
python3 - "$TMP" "$EXPECT" "$n" >"$TMP/checks.tap" <<'PY'
import json, re, sys
sys.path.insert(0, sys.argv[1])
import tapjson
from tapjson import tap, strip
tmp, expect, tapjson.n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def records(path):
    by_tuple, ids = {}, []
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        by_tuple.setdefault((r["client"], r["server"]), []).append(json.dumps(strip(r), sort_keys=True))
        ids.append(r["id"])
    return by_tuple, ids
def stats(path):
    lines = [l for l in open(path, encoding="utf-8") if "mailwire: stats:" in l]
    total = [l for l in lines if " of " not in l.split("stats:")[1][:20]]
    workers = [l for l in lines if re.search(r"stats: worker \d+ of \d+:", l)]
    return lines, total[-1] if total else "", workers
num = lambda pat, s: int(re.search(pat, s).group(1)) if re.search(pat, s) else -1

one, ids1 = records(tmp + "/w1.jsonl")
two, ids2 = records(tmp + "/w2.jsonl")
_, total1, _ = stats(tmp + "/w1.err")
lines2, total2, workers2 = stats(tmp + "/w2.err")
for w, total in ((1, total1), (2, total2)):
    tap(num(r"(\d+) dropped by the kernel", total) == 0 and num(r"by the kernel, (\d+) by the interface", total) == 0,
        "--workers %d: the kernel dropped nothing" % w, total or "no stats line")
tap(len(one) == expect and all(len(v) == 1 for v in one.values()),
    "--workers 1: %d sessions, each once" % expect, "%d 4-tuples, %d records" % (len(one), len(ids1)))
dups = [k for k, v in two.items() if len(v) > 1]
tap(len(two) == expect and not dups, "--workers 2: %d sessions, each exactly once" % expect,
    "%d 4-tuples, %d records; twice: %s" % (len(two), len(ids2), dups[:5]))
differ = sorted(k for k in set(one) | set(two) if one.get(k) != two.get(k))
tap(not differ, "--workers 2: the same session records as --workers 1 (by 4-tuple, ids and times aside)",
    "%d differ, e.g. %s" % (len(differ), differ[:3]),
    *(["w1: " + (one.get(differ[0]) or ["-"])[0], "w2: " + (two.get(differ[0]) or ["-"])[0]] if differ else []))
tap(len(set(ids2)) == len(ids2) and all(re.fullmatch(r"s[1-9][0-9]*", i) for i in ids2),
    "--workers 2: session ids unique, in the sN form", sorted(ids2)[:10])
wk = [(num(r"worker (\d+) of", l), num(r": (\d+) packets seen", l), num(r"seen, (\d+) dropped", l),
       num(r", (\d+) written", l)) for l in workers2[-2:]]
tap(len(wk) == 2 and {w[0] for w in wk} == {1, 2} and all(w[1] > 0 for w in wk),
    "--stats: a line per worker, each worker got packets", *lines2[-3:])
tap(len(wk) == 2 and sum(w[1] for w in wk) == num(r"stats: (\d+) packets seen", total2)
    and sum(w[3] for w in wk) == num(r", (\d+) written", total2),
    "--stats: the totals are the workers' sums", *lines2[-3:])
tap(num(r"stats: (\d+) packets seen", total2) == num(r"stats: (\d+) packets seen", total1) > 0,
    "--workers 2 saw as many packets as --workers 1", total1, total2)
tapjson.done()
PY
grep -v '^N ' "$TMP/checks.tap"
m=$(awk '$1 == "N" {print $2}' "$TMP/checks.tap")
[[ -n $m ]] && n=$m || not_ok "record checks ran" "python3 failed: $(tail -3 "$TMP/checks.tap")"

# -w with two workers: one file with every packet, read back to the same records
total2=$(grep "stats: [0-9]" "$TMP/w2.err" | tail -1 | grep -oE "stats: [0-9]+" | grep -oE "[0-9]+")
saved=$("$MW" -r "$TMP/w2.pcap" 2>/dev/null | grep -oE "^Packets: [0-9]+" | grep -oE "[0-9]+")
DETAIL="saved ${saved:-none}, seen ${total2:-none}"
check "--workers 2 -w: the file holds every packet seen (${saved:-?})" test "${saved:-0}" = "${total2:-x}"
"$MW" -r "$TMP/w2.pcap" --json -o "$TMP/w2-read.jsonl" 2>/dev/null
same_read() {
    python3 - "$TMP/w2.jsonl" "$TMP/w2-read.jsonl" <<'PY'
import json, sys
key = lambda p: sorted((json.loads(l)["client"], json.loads(l)["server"], json.loads(l)["outcome"]) for l in open(p))
a, b = key(sys.argv[1]), key(sys.argv[2])
sys.exit(0 if a == b else "%d live, %d read back" % (len(a), len(b)))
PY
}
check "--workers 2 -w: the saved file reads back to the same sessions" same_read

# --keylog with two workers (issue 13): every keyed capture of pcaps/ replayed in turn (their
# 4-tuples are all different), with their key logs in one file; both runs must decrypt the
# same sessions to the same records, and decrypt all but the capture whose keys are missing
KEYED=()
for f in pcaps/keyed-*.pcap; do [[ -f ${f%.pcap}.keys ]] && KEYED+=("$f"); done
if ((${#KEYED[@]})); then
    for f in "${KEYED[@]}"; do cat "${f%.pcap}.keys"; done >"$TMP/keyed.keys"
    replay() { for f in "${KEYED[@]}"; do replay_file "$f" || return 1; done; }
    "$MW" --json -o "$TMP/k0.jsonl" --keylog "$TMP/keyed.keys" $(printf -- '-r %s ' "${KEYED[@]}") 2>/dev/null
    run 1 "$TMP/k1.jsonl" "$TMP/k1.err" --keylog "$TMP/keyed.keys"
    RCK1=$RC
    run 2 "$TMP/k2.jsonl" "$TMP/k2.err" --keylog "$TMP/keyed.keys"
    RCK2=$RC
    check "--workers 1 --keylog: SIGINT, exit 0" test "$RCK1" = 0
    check "--workers 2 --keylog: SIGINT, exit 0 (they go together now)" test "$RCK2" = 0
    python3 - "$TMP" "$n" >"$TMP/keyed.tap" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import tapjson
from tapjson import tap, strip
tmp, tapjson.n = sys.argv[1], int(sys.argv[2])
def records(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        out.setdefault((r["client"], r["server"]), []).append(r)
    return out
read, one, two = (records("%s/k%d.jsonl" % (tmp, i)) for i in (0, 1, 2))
dec = lambda recs: {k for k, v in recs.items() if (v[0].get("tls") or {}).get("decrypted") is True}
want = dec(read)
tap(len(want) >= len(read) - 1 > 0, "keyed captures read from the files: %d sessions, %d decrypted" % (len(read), len(want)))
tap(set(one) == set(read) and dec(one) == want,
    "--workers 1 --keylog: the same sessions decrypted as reading the files",
    "missing %s, not decrypted %s" % (sorted(set(read) - set(one))[:3], sorted(want - dec(one))[:3]))
tap(set(two) == set(read) and all(len(v) == 1 for v in two.values()) and dec(two) == want,
    "--workers 2 --keylog: every session once, the same ones decrypted (\"decrypted\":true)",
    "missing %s, not decrypted %s" % (sorted(set(read) - set(two))[:3], sorted(want - dec(two))[:3]))
norm = lambda recs: {k: [json.dumps(strip(r), sort_keys=True) for r in v] for k, v in recs.items()}
a, b = norm(one), norm(two)
differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
tap(not differ, "--workers 2 --keylog: the same session records as --workers 1 --keylog",
    "%d differ, e.g. %s" % (len(differ), differ[:3]),
    *(["w1: " + (a.get(differ[0]) or ["-"])[0], "w2: " + (b.get(differ[0]) or ["-"])[0]] if differ else []))
tapjson.done()
PY
    grep -v '^N ' "$TMP/keyed.tap"
    m=$(awk '$1 == "N" {print $2}' "$TMP/keyed.tap")
    [[ -n $m ]] && n=$m || not_ok "keyed record checks ran" "python3 failed: $(tail -3 "$TMP/keyed.tap")"

    # late keys (--tls-hold-records) with two workers: each one-session capture cut in two
    # (its first two thirds, then the rest); the first parts replayed with the key log still
    # empty, then the keys appended, then the rest: every worker holds its sessions' records
    # and decrypts them once their keys come (a capture of several sessions one after the
    # other would have some end before the cut, their held records dropped as documented)
    LATE=()
    for f in "${KEYED[@]}"; do
        [[ $("$MW" -r "$f" --json 2>/dev/null | wc -l) == 1 ]] && LATE+=("$f")
    done
    "$MW" --json -o "$TMP/late0.jsonl" --keylog "$TMP/keyed.keys" $(printf -- '-r %s ' "${LATE[@]}") 2>/dev/null
    python3 - "$TMP" "${LATE[@]}" <<'PY'
import struct, sys
tmp, files = sys.argv[1], sys.argv[2:]
for i, f in enumerate(files):
    data = open(f, "rb").read()
    head, off, recs = data[:24], 24, []
    end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    cut = len(recs) * 2 // 3
    open("%s/late-a%d.pcap" % (tmp, i), "wb").write(head + b"".join(recs[:cut]))
    open("%s/late-b%d.pcap" % (tmp, i), "wb").write(head + b"".join(recs[cut:]))
PY
    : >"$TMP/late.keys"
    replay_part() { # replay_part a|b: every capture's first or second part
        local i
        for ((i = 0; i < ${#LATE[@]}; i++)); do
            replay_file "$TMP/late-$1$i.pcap" || return 1
        done
    }
    replay() { replay_part a && sleep 0.5 && cat "$TMP/keyed.keys" >>"$TMP/late.keys" && sleep 0.3 && replay_part b; }
    run 2 "$TMP/late.jsonl" "$TMP/late.err" --keylog "$TMP/late.keys" --tls-hold-records 64
    check "--workers 2 --keylog, keys appended late: SIGINT, exit 0" test "$RC" = 0
    late_same() {
        python3 - "$TMP/late0.jsonl" "$TMP/late.jsonl" <<'PY'
import json, sys
dec = lambda p: sorted((r["client"], r["server"]) for r in map(json.loads, open(p))
                       if (r.get("tls") or {}).get("decrypted") is True)
a, b = dec(sys.argv[1]), dec(sys.argv[2])
sys.exit(0 if a == b and a else "read from the files: %d decrypted, late: %d; not late: %s" % (len(a), len(b), sorted(set(a) - set(b))[:3]))
PY
    }
    check "--workers 2, keys late: held records decrypted: the same sessions as reading the files" late_same
fi
echo "1..$n"
