#!/usr/bin/env bash
# Live capture under load (issues 6 and 20), a benchmark, not a pass/fail test: postfix's
# load tools on the loopback of a network namespace of its own - smtp-sink as the server,
# smtp-source as the client (one 2 KB message per session) - while a capture runs:
#   mailwire -i lo --json --ports smtp=2526 'tcp port 2526'   (default options)
#   tcpdump  -i lo -w /dev/null 'tcp port 2526'               (its default 2 MiB buffer)
# For each at 50 and 100 parallel sessions: packets/s, sessions written, kernel drops and peak
# memory (VmHWM). Then the highest rate mailwire still drops nothing at: smtp-source paced
# with -w (a pause per session), from the fastest down.
# Usage: sudo bash bench/live_load.sh            (make bench-live)
#   LOAD_MSGS=20000       sessions per run
#   LOAD_MTU=65536        the namespace's lo MTU (1500 by default; 65536 is a host's lo)
#   LOAD_OFFLOAD=1        TSO/GSO/GRO on, as on a host's lo
# Needs root, ip, smtp-sink/smtp-source (postfix), tcpdump. The namespace is removed at exit.
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 1
[[ $(id -u) -eq 0 ]] || { echo "live_load: run as root" >&2; exit 1; }
for c in /usr/sbin/smtp-sink /usr/sbin/smtp-source tcpdump ip; do
    command -v "$c" >/dev/null || { echo "live_load: $c missing (postfix, tcpdump, iproute2)" >&2; exit 1; }
done
[[ -n ${MW_NETNS:-} ]] || make -s mailwire || exit 1
# shellcheck disable=SC2034
LOG_TAG=bench-live
source pcaps/servers.sh
netns_enter benchlive "$SELF" "$@" || { echo "live_load: $NETNS_ERROR" >&2; exit 1; }

MSGS=${LOAD_MSGS:-20000}
PORT=2526
[[ -n ${LOAD_MTU:-} ]] && ip link set lo mtu "$LOAD_MTU"
[[ -n ${LOAD_OFFLOAD:-} ]] && ethtool -K lo tso on gso on gro on >/dev/null 2>&1
TMP=$(mktemp -d /tmp/mailwire-bench-live.XXXXXX)
SINK=''
trap '[[ -n $SINK ]] && kill $SINK 2>/dev/null; rm -rf "$TMP"' EXIT
/usr/sbin/smtp-sink -u nobody 127.0.0.1:$PORT 1000 &
SINK=$!
wait_listen 127.0.0.1 $PORT

# run TOOL PARALLEL [PAUSE_MS]: one load under one capture; prints one table row
run() {
    local tool=$1 par=$2 pause=${3:-0} cap hwm t0 t1 pkts drops written
    if [[ $tool == mailwire ]]; then
        ./mailwire -i lo --json --ports smtp=$PORT "tcp port $PORT" >"$TMP/out.jsonl" 2>"$TMP/err" &
    else
        tcpdump -i lo -w /dev/null "tcp port $PORT" 2>"$TMP/err" &
    fi
    cap=$!
    sleep 1.5
    local wait_opt=()
    ((pause > 0)) && wait_opt=(-w "$pause")
    t0=$(date +%s.%N)
    timeout 300 /usr/sbin/smtp-source -s "$par" "${wait_opt[@]}" -m "$MSGS" -l 2000 \
        -f a@example.test -t b@example.test 127.0.0.1:$PORT >/dev/null 2>&1
    t1=$(date +%s.%N)
    sleep 1
    hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' /proc/$cap/status)
    [[ $tool == mailwire ]] && { kill -USR1 $cap; sleep 0.3; }
    kill -INT $cap
    wait $cap 2>/dev/null
    if [[ $tool == mailwire ]]; then
        local st
        st=$(grep "stats:" "$TMP/err" | tail -1)
        pkts=$(grep -oE "^mailwire: stats: [0-9]+" <<<"$st" | grep -oE "[0-9]+$")
        drops=$(grep -oE "[0-9]+ dropped by the kernel" <<<"$st" | grep -oE "^[0-9]+")
        written=$(wc -l <"$TMP/out.jsonl")
    else
        pkts=$(grep -oE "^[0-9]+ packets captured" "$TMP/err" | grep -oE "^[0-9]+")
        drops=$(grep -oE "^[0-9]+ packets dropped by kernel" "$TMP/err" | grep -oE "^[0-9]+")
        written=-
    fi
    LAST_DROPS=${drops:-?}
    printf "%-9s %4s %6s %8s %10s %9s %9s %8s\n" "$tool" "$par" "$pause" "$MSGS" \
        "$(echo "${pkts:-0} / ($t1 - $t0)" | bc)" "$written" "${drops:-?}" "$hwm"
}

echo "# $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), lo mtu $(cat /sys/class/net/lo/mtu)"
printf "%-9s %4s %6s %8s %10s %9s %9s %8s\n" tool par wait_ms sessions packets/s written k_drops peak_MiB
for par in 50 100; do
    run tcpdump $par
    run mailwire $par
done
# the highest rate with no kernel drop: mailwire at 100 parallel, full speed first, then paced
for pause in 0 1 2 5 10; do
    run mailwire 100 $pause
    [[ $LAST_DROPS == 0 ]] && { echo "# mailwire drops nothing at the rate above (wait ${pause} ms)"; break; }
done
