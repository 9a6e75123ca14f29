#!/usr/bin/env bash
# Load check for live capture (issue 6), a benchmark, not a pass/fail test: replay a large
# capture onto loopback at top speed with tcpreplay while `mailwire -i lo` captures, then
# report packets/s and what the kernel dropped (pcap_stats via SIGUSR1). Run as root.
# Usage: bench/live_load.sh [CAPTURE] (default build/bench/sessions.pcap; make bench builds it)
#        LIVE_BUFFER_MB=32 bench/live_load.sh   (the capture buffer, default 256 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."
CAP=${1:-build/bench/sessions.pcap}
[ "$(id -u)" -eq 0 ] || { echo "live_load: run as root" >&2; exit 1; }
command -v tcpreplay >/dev/null || { echo "live_load: apt-get install tcpreplay" >&2; exit 1; }
[ -f "$CAP" ] || { echo "live_load: $CAP missing (run make bench first)" >&2; exit 1; }
make -s mailwire
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
./mailwire -i lo --buffer-size ${LIVE_BUFFER_MB:-256} --json -o "$TMP/live.jsonl" 2>"$TMP/err" &
MW=$!
sleep 1
start=$(date +%s.%N)
tcpreplay -i lo --topspeed "$CAP" >"$TMP/replay" 2>&1 || true
end=$(date +%s.%N)
sleep 2
kill -USR1 "$MW"
sleep 0.5
kill -INT "$MW"
wait "$MW" || true
pkts=$(grep -oE "Actual: [0-9]+ packets" "$TMP/replay" | grep -oE "[0-9]+" | head -1)
echo "replayed: $pkts packets in $(echo "$end - $start" | bc) s ($(grep -oE "Rated: [0-9.]+ Bps, [0-9.]+ Mbps, [0-9.]+ pps" "$TMP/replay" | head -1))"
grep "stats:" "$TMP/err" | tail -1
echo "records written: $(wc -l <"$TMP/live.jsonl")"
