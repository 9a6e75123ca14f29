#!/usr/bin/env bash
# --threads (analyzer/parallel/): every recorded capture read with 1, 2 and 4 analysis
# threads, in JSON (with transcripts) and in text (with transcripts), must give the same
# bytes on stdout and stderr; likewise with key logs, a pcapng Decryption Secrets Block, a
# server log join, two small bench mixes, and the full bench captures when they are there
# (THREADS_BENCH=1). Then
# --thread-stats and --threads 0. TAP on stdout.
set -u
cd "$(dirname "$0")/.."
BIN=${1:-build/mailwire}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. tests/tap.sh
export TZ=UTC

# same NAME ARGS...: the run with --threads 1 against 2 and 4, stdout and stderr
same() {
    local name=$1 t bad=""
    shift
    for t in 1 2 4; do
        "$BIN" "$@" --threads $t >"$TMP/out.$t" 2>"$TMP/err.$t"
        echo $? >"$TMP/rc.$t"
    done
    for t in 2 4; do
        cmp -s "$TMP/out.1" "$TMP/out.$t" || bad="$bad stdout($t)"
        cmp -s "$TMP/err.1" "$TMP/err.$t" || bad="$bad stderr($t)"
        cmp -s "$TMP/rc.1" "$TMP/rc.$t" || bad="$bad exit($t)"
    done
    if [ -z "$bad" ]; then ok "$name"
    else not_ok "$name: differs in$bad" "$(diff "$TMP/out.1" "$TMP/out.2" | head -20)"; fi
}

for f in pcaps/*.pcap pcaps/*.pcapng pcaps/public/*.pcap*; do
    [ -f "$f" ] || continue
    same "threads 1/2/4, JSON -v: $f" -r "$f" --json -v
    same "threads 1/2/4, text -v: $f" -r "$f" -v
done
for k in pcaps/keyed-*.keys; do
    f=${k%.keys}.pcap
    [ -f "$f" ] && same "threads 1/2/4 with --keylog: $f" -r "$f" --keylog "$k" --json -v
done
# keys arriving in the capture (pcapng DSB) reach every thread before the packets after it
same "threads 1/2/4, keys in a Decryption Secrets Block" \
    -r pcaps/keyed-embedded-imaps993-auth-failed-tls13.pcapng --json -v
for l in tests/maillog/log-*.log; do
    b=$(basename "$l" .log); b=${b#log-}; b=${b%%.*}
    f=pcaps/log-$b.pcap
    [ -f "$f" ] && same "threads 1/2/4 with --maillog: $(basename "$l")" -r "$f" --maillog "$l" --json
done
same "threads 1/2/4, -q text" -r pcaps/smtp-auth-failed.pcap -q
# the bench mixes, small (bench/make_captures.py, fixed seed: about 10 s): many flows at
# once, so closes of one thread interleave with the others', idle ones by the clock ticks
if python3 bench/make_captures.py --out "$TMP/bench" --sessions 1500 --gateway-sessions 1500 \
        sessions gateway >"$TMP/gen.log" 2>&1; then
    for f in "$TMP"/bench/sessions.pcap "$TMP"/bench/gateway.pcap; do
        b=$(basename "$f")
        same "threads 1/2/4, JSON: bench $b (1500 sessions)" -r "$f" --json
        same "threads 1/2/4, text -v: bench $b" -r "$f" -v
        same "threads 1/2/4, --idle-timeout 1 (idle closes by other threads' clock): $b" \
            -r "$f" --json --idle-timeout 1
        # a hold of one record: every close waits for the merger (worker.c, hold_back)
        same "threads 1/2/4, --thread-hold 1: $b" -r "$f" --json --thread-hold 1
        same "threads 1/2/4, --thread-hold 1 --idle-timeout 1: $b" \
            -r "$f" --json --thread-hold 1 --idle-timeout 1
        # read on the dispatching thread (no reader thread, parallel.h
        # mw_parallel_reads_here): the segments still handed over uncopied, the reader's
        # batches given back by the threads
        MW_READER_THREAD=0 same "threads 1/2/4, no reader thread: $b" -r "$f" --json -v
        MW_READER_THREAD=0 same "threads 1/2/4, no reader thread, --thread-hold 1: $b" \
            -r "$f" --json --thread-hold 1
    done
else
    not_ok "bench/make_captures.py for the small bench mixes" "$(tail -5 "$TMP/gen.log")"
fi
# payloads from the reader's batches, uncopied (parallel.h): a capture of big messages,
# with and without a reader thread
for e in 1 0; do
    MW_READER_THREAD=$e same "threads 1/2/4, reader thread $e: large messages" \
        -r pcaps/imap-append-large.pcap --json -v
    MW_READER_THREAD=$e same "threads 1/2/4, reader thread $e, --thread-hold 1: large" \
        -r pcaps/imap-append-large.pcap --json --thread-hold 1
done
if [ "${THREADS_BENCH:-0}" = 1 ]; then
    for f in build/bench/*.pcap; do
        [ -f "$f" ] && same "threads 1/2/4 on the bench capture $f" -r "$f" --json
    done
fi

# --max-flows is split between the threads: the order of evictions may differ from one
# thread, but two runs with the same threads give the same bytes
f=$TMP/bench/sessions.pcap
a=$("$BIN" -r "$f" --max-flows 50 --json --threads 2 2>&1 | md5sum)
b=$("$BIN" -r "$f" --max-flows 50 --json --threads 2 2>&1 | md5sum)
c=$("$BIN" -r "$f" --max-flows 50 --json --threads 1 2>&1 | grep -c continues_evicted)
[ -f "$f" ] && [ "$a" = "$b" ] && [ "$c" -gt 0 ] &&
    ok "--max-flows with 2 threads: the same bytes run after run" ||
    not_ok "--max-flows with 2 threads: the same bytes run after run"

# --thread-stats: a line per thread, the segments adding up to the totals' TCP segments
f=pcaps/imap-login-ok.pcap
"$BIN" -r "$f" --threads 2 --thread-stats >"$TMP/ts.out" 2>"$TMP/ts.err"
segs=$(sed -n 's/.*analysis thread [0-9]*: \([0-9]*\) TCP segments.*/\1/p' "$TMP/ts.err" | paste -sd+ | bc)
tcp=$(sed -n 's/^Packets: [0-9]* (TCP \([0-9]*\)).*/\1/p' "$TMP/ts.out" | head -1)
lines=$(grep -c "analysis thread" "$TMP/ts.err")
if [ "$lines" = 2 ] && [ -n "$segs" ] && [ "$segs" = "$tcp" ]; then ok "--thread-stats: two threads, $segs segments as in the totals"
else not_ok "--thread-stats: two threads adding up to the totals ($segs vs $tcp)" "$(cat "$TMP/ts.err")"; fi
"$BIN" -r "$f" --threads 1 --thread-stats >/dev/null 2>"$TMP/ts1.err"
[ ! -s "$TMP/ts1.err" ] && ok "--thread-stats with one thread: nothing more said" ||
    not_ok "--thread-stats with one thread: nothing more said" "$(cat "$TMP/ts1.err")"

# --thread-hold: no thread ever has more records waiting in the merge than its hold
g=$TMP/bench/gateway.pcap
"$BIN" -r "$g" --threads 2 --thread-hold 3 --thread-stats --json >/dev/null 2>"$TMP/th.err"
peaks=$(sed -n 's/.*at most \([0-9]*\) of 3 records waiting in the merge/\1/p' "$TMP/th.err")
if [ "$(echo "$peaks" | wc -w)" = 2 ] && [ "$(echo "$peaks" | sort -n | tail -1)" -le 3 ]; then
    ok "--thread-hold 3: at most 3 records waiting a thread ($(echo $peaks))"
else not_ok "--thread-hold 3: at most 3 records waiting a thread" "$(cat "$TMP/th.err")"; fi

# the default: one analysis thread per core
cores=$(nproc); [ "$cores" -gt 64 ] && cores=64
"$BIN" -r "$f" --thread-stats >/dev/null 2>"$TMP/tsd.err"
lines=$(grep -c "analysis thread [0-9]*:" "$TMP/tsd.err")
if [ "$cores" = 1 ] && [ "$lines" = 0 ] || [ "$lines" = "$cores" ]; then
    ok "--threads by default: the cores ($cores)"
else not_ok "--threads by default: the cores ($cores)" "$(cat "$TMP/tsd.err")"; fi
# where one thread is used still, --thread-stats says why, once
"$BIN" -r "$f" -r pcaps/imap-login-failed.pcap --threads 2 --thread-stats -q >/dev/null 2>"$TMP/tsf.err"
"$BIN" -r - --threads 2 --thread-stats -q <"$f" >/dev/null 2>>"$TMP/tsf.err"
"$BIN" -r "$f" --threads 2 --thread-stats --report "$TMP/r.md" -q >/dev/null 2>>"$TMP/tsf.err"
if [ "$(grep -c "one analysis thread, not 2: not yet with" "$TMP/tsf.err")" = 3 ] &&
    grep -q "several -r files" "$TMP/tsf.err" && grep -q "standard input" "$TMP/tsf.err" &&
    grep -q -- "--report" "$TMP/tsf.err"; then ok "--thread-stats: why one thread, once a run"
else not_ok "--thread-stats: why one thread, once a run" "$(cat "$TMP/tsf.err")"; fi
"$BIN" -r "$f" --thread-hold 0 >/dev/null 2>"$TMP/th0.err"
[ $? -ne 0 ] && grep -q -- "--thread-hold" "$TMP/th0.err" &&
    ok "--thread-hold 0: refused" || not_ok "--thread-hold 0: refused" "$(cat "$TMP/th0.err")"

# --threads 0: read and hand over only, the rate on stderr, no record
"$BIN" -r "$f" --threads 0 --json >"$TMP/t0.out" 2>"$TMP/t0.err"
if [ ! -s "$TMP/t0.out" ] && grep -q "threads 0: [0-9]* TCP segments read and handed over" "$TMP/t0.err"
then ok "--threads 0: no record, the reader's rate said"
else not_ok "--threads 0: no record, the reader's rate said" "$(cat "$TMP/t0.err")"; fi
"$BIN" -r "$f" --threads 65 >/dev/null 2>"$TMP/t65.err"
[ $? -ne 0 ] && grep -q -- "--threads must be from 0 to 64" "$TMP/t65.err" &&
    ok "--threads 65: refused" || not_ok "--threads 65: refused" "$(cat "$TMP/t65.err")"
echo "1..$n"
