#!/usr/bin/env bash
# Live capture with 1 and 2 workers (issue 18), a benchmark, not a pass/fail test: a bench
# capture replayed with tcpreplay onto one end of a veth pair (not loopback, which drops
# packets itself at high rates), inside a network namespace of its own, while
#   mailwire -i mwB --workers W --json -o FILE            (default options otherwise)
# captures on the other end, at increasing rates up to tcpreplay's --topspeed (the most the
# veth pair takes from it here). For each rate and W: the rate tcpreplay achieved, packets/s
# mailwire captured, packets seen, kernel drops (summed over the sockets), sessions written
# (of the capture's), each worker's share and peak memory (VmHWM).
# Usage: sudo bash bench/live_veth.sh            (make bench-live)
#   LIVE_SESSIONS=10000   mail sessions in the replayed capture (make_captures.py sessions,
#                         30% background; built in build/bench-live/ when missing)
#   LIVE_RATES="50000 100000 200000 400000 top"   packets/s, "top" for --topspeed
#   LIVE_WORKERS="1 2"
# Needs root, ip, tcpreplay (Debian package tcpreplay: scripts/install-deps.sh --bench;
# bench/pcap_replay.py is used without it, at far lower rates). The namespace is removed at exit; the host's interfaces untouched.
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 1
[[ $(id -u) -eq 0 ]] || { echo "live_veth: run as root" >&2; exit 1; }
command -v ip >/dev/null || { echo "live_veth: ip missing (iproute2)" >&2; exit 1; }
SESSIONS=${LIVE_SESSIONS:-10000}
CAPDIR=build/bench-live
CAP=$CAPDIR/sessions-$SESSIONS.pcap
if [[ -z ${MW_NETNS:-} ]]; then
    make -s mailwire || exit 1
    if [[ ! -s $CAP ]]; then
        mkdir -p "$CAPDIR"
        python3 bench/make_captures.py --out "$CAPDIR" --sessions "$SESSIONS" sessions >&2 &&
            mv "$CAPDIR/sessions.pcap" "$CAP" && mv "$CAPDIR/sessions.pcap.expected" "$CAP.expected" ||
            exit 1
    fi
fi
# shellcheck disable=SC2034
LOG_TAG=bench-live-veth
source pcaps/servers.sh
netns_enter benchveth "$SELF" "$@" || { echo "live_veth: $NETNS_ERROR" >&2; exit 1; }

RATES=${LIVE_RATES:-50000 100000 200000 400000 top}
WORKERS=${LIVE_WORKERS:-1 2}
EXPECT=$(cat "$CAP.expected")
TMP=$(mktemp -d /tmp/mailwire-bench-veth.XXXXXX)
MW_PID=''
trap '[[ -n $MW_PID ]] && kill -KILL $MW_PID 2>/dev/null; ip link del mwA 2>/dev/null; rm -rf "$TMP"' EXIT
ip link add mwA type veth peer name mwB || exit 1
ip link set mwA up && ip link set mwB up || exit 1
ethtool -K mwA tso off gso off gro off >/dev/null 2>&1
ethtool -K mwB tso off gso off gro off >/dev/null 2>&1

replay() {  # replay RATE: prints the achieved packets/s and seconds
    local rate=$1
    if command -v tcpreplay >/dev/null; then
        if [[ $rate == top ]]; then tcpreplay -i mwA --topspeed "$CAP" >"$TMP/replay" 2>&1
        else tcpreplay -i mwA --pps="$rate" "$CAP" >"$TMP/replay" 2>&1; fi
        awk '/Actual:/ {for (i = 1; i <= NF; i++) if ($i == "seconds") s = $(i - 1)}
             /Rated:/ {for (i = 1; i <= NF; i++) if ($i ~ /^pps/) p = $(i - 1)}
             END {printf "%d %s\n", p, s}' "$TMP/replay"
    else
        python3 bench/pcap_replay.py --pps "${rate/top/0}" mwA "$CAP" >"$TMP/replay" 2>&1
        awk '/Actual:/ {print int(substr($8, 2)), $6}' "$TMP/replay"
    fi
}
wait_capturing() {  # wait_capturing PID SOCKETS
    local i inode have
    for ((i = 0; i < 50; i++)); do
        have=0
        for inode in $(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'); do
            awk 'NR > 1 {print $NF}' /proc/net/packet | grep -qx "$inode" && have=$((have + 1))
        done
        ((have >= $2)) && { sleep 0.5; return 0; }
        sleep 0.1
    done
    return 1
}
run() {  # run RATE WORKERS: one table row
    local rate=$1 w=$2 pps secs hwm st pkts drops written shares
    ./mailwire -i mwB --workers "$w" --json -o "$TMP/out.jsonl" >/dev/null 2>"$TMP/err" &
    MW_PID=$!
    wait_capturing "$MW_PID" "$w" || { echo "live_veth: mailwire is not capturing: $(head -3 "$TMP/err")" >&2; return 1; }
    read -r pps secs < <(replay "$rate")
    sleep 1
    hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' /proc/$MW_PID/status)
    kill -USR1 $MW_PID; sleep 0.4
    kill -INT $MW_PID; wait $MW_PID 2>/dev/null
    MW_PID=''
    st=$(grep "stats: [0-9]" "$TMP/err" | tail -1)
    pkts=$(grep -oE "^mailwire: stats: [0-9]+" <<<"$st" | grep -oE "[0-9]+$")
    drops=$(grep -oE "[0-9]+ dropped by the kernel" <<<"$st" | grep -oE "^[0-9]+")
    written=$(wc -l <"$TMP/out.jsonl")
    shares=$(grep -oE "stats: worker [0-9]+ of [0-9]+: [0-9]+" "$TMP/err" | tail -n "$w" |
        awk -v t="${pkts:-1}" '{printf "%s%.0f%%", (NR > 1 ? "/" : ""), 100 * $NF / (t ? t : 1)}')
    printf "%-9s %7s %10s %8s %10s %9s %9s %11s %8s %s\n" "$rate" "$w" "${pps:-?}" \
        "${secs:-?}" "$(echo "${pkts:-0} / ${secs:-1}" | bc)" "${pkts:-?}" "${drops:-?}" \
        "$written/$EXPECT" "${shares:-100%}" "$hwm"
}

echo "# $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $CAP: $(tcpdump -r "$CAP" 2>/dev/null | wc -l) packets, $EXPECT sessions"
printf "%-9s %7s %10s %8s %10s %9s %9s %11s %8s %s\n" rate workers sent_pps seconds captured/s \
    packets k_drops sessions shares peak_MiB
for rate in $RATES; do
    for w in $WORKERS; do
        run "$rate" "$w"
    done
done
