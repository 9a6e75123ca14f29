#!/usr/bin/env bash
# make bench: mailwire's speed and memory beside the read limit (tcpdump), full dissection
# (tshark) and classification (ndpiReader), on three captures built from pcaps/ by
# bench/make_captures.py. See bench/README.md.
#
# Environment:
#   BENCH_DIR            where captures, the build and results go (default build/bench)
#   BENCH_CAPTURES       which captures (default "sessions bulk gateway keyed-sessions
#                        keyed-bulk"; the keyed ones are measured with and without their key log)
#   BENCH_RUNS           runs per tool, the median is reported (default 3)
#   BENCH_SLOW_RUNS      runs for tshark and ndpiReader (default 1: they are slow)
#   BENCH_GEN_ARGS       extra arguments for make_captures.py, e.g. "--sessions 5000"
#                        (the captures are rebuilt when these or the generator change)
#   MAILWIRE             a mailwire binary to measure instead of building one
#   BENCH_STRICT=1       exit 3 when a target is missed (the default only reports it)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_DIR:-build/bench}
CAPTURES=${BENCH_CAPTURES:-sessions bulk gateway keyed-sessions keyed-bulk}
RUNS=${BENCH_RUNS:-3}
SLOW_RUNS=${BENCH_SLOW_RUNS:-1}
GEN_ARGS=${BENCH_GEN_ARGS:-}
mkdir -p "$OUT/results"

# 1. mailwire, the default optimised build (-O2 -g), in its own build directory so a
#    concurrent `make` or `make SAN=1` in the work tree is not disturbed.
if [ -n "${MAILWIRE:-}" ]; then
    MW=$MAILWIRE
else
    MW=$OUT/obj/mailwire
    make --no-print-directory BUILD="$OUT/obj" CFLAGS="-O2 -g" SAN= "$MW" >"$OUT/build.log" 2>&1 ||
        { cat "$OUT/build.log" >&2; echo "bench: building mailwire failed" >&2; exit 1; }
fi

# 2. the captures, when missing or stale
for c in $CAPTURES; do
    stamp="$OUT/$c.pcap.args"
    want="$(sha256sum bench/make_captures.py | cut -c1-16) $GEN_ARGS"
    if [ ! -s "$OUT/$c.pcap" ] || [ ! -s "$OUT/$c.pcap.expected" ] || [ ! -s "$stamp" ] ||
       [ "$(cat "$stamp")" != "$want" ]; then
        # shellcheck disable=SC2086
        python3 bench/make_captures.py --out "$OUT" $GEN_ARGS "$c"
        echo "$want" >"$stamp"
    fi
done

have() { command -v "$1" >/dev/null 2>&1; }
measure() {  # measure NAME CAPTURE RUNS CMD...
    local name=$1 cap=$2 runs=$3
    shift 3
    echo "bench: $cap: $name ($runs run(s))" >&2
    python3 bench/measure.py "$runs" -- "$@" >"$OUT/results/$cap.$name.json" ||
        echo "bench: $cap: $name exited non-zero (see $OUT/results/$cap.$name.json)" >&2
}

# 3. measurements
status=0
for c in $CAPTURES; do
    f="$OUT/$c.pcap"
    rm -f "$OUT/results/$c".*.json
    cat "$f" >/dev/null  # into the page cache: every tool reads from memory
    keys=()
    case $c in keyed-*) keys=(--keylog "$f.keys") ;; esac
    # sanity: one record per mail session generated (keyed: every one decrypted)
    got=$("$MW" -r "$f" "${keys[@]}" --json | wc -l)
    want=$(cat "$f.expected")
    echo "{\"records\": $got, \"expected\": $want}" >"$OUT/results/$c.count.json"
    if [ "$got" != "$want" ]; then
        echo "bench: $c: mailwire printed $got records, the capture has $want mail sessions" >&2
        status=2
    fi
    if [ ${#keys[@]} -gt 0 ]; then
        undecrypted=$("$MW" -r "$f" "${keys[@]}" --json | grep -vc '"decrypted":true' || true)
        if [ "$undecrypted" != 0 ]; then
            echo "bench: $c: $undecrypted records not decrypted with $f.keys" >&2
            status=2
        fi
        # the keyed workload (issue 13): mailwire with keys beside itself without, and
        # beside tshark decrypting with the same key log
        measure mailwire-keys "$c" "$RUNS" "$MW" -r "$f" "${keys[@]}" --json -o /dev/null
        measure mailwire "$c" "$RUNS" "$MW" -r "$f" --json -o /dev/null
        if have tcpdump; then measure tcpdump "$c" "$RUNS" tcpdump -r "$f" -w /dev/null; fi
        if have tshark; then
            measure tshark-keys "$c" "$SLOW_RUNS" tshark -o "tls.keylog_file:$f.keys" -r "$f" -q -z io,phs
        fi
        continue
    fi
    measure mailwire "$c" "$RUNS" "$MW" -r "$f" --json -o /dev/null
    # issue 18: one and two analysis threads (the default is the cores), and the reader
    # alone (--threads 0: read and hand over, no analysis), which bounds what N reach
    measure mailwire-t1 "$c" "$RUNS" "$MW" -r "$f" --threads 1 --json -o /dev/null
    measure mailwire-t2 "$c" "$RUNS" "$MW" -r "$f" --threads 2 --json -o /dev/null
    measure reader-alone "$c" "$RUNS" "$MW" -r "$f" --threads 0 -o /dev/null
    if have tcpdump; then measure tcpdump "$c" "$RUNS" tcpdump -r "$f" -w /dev/null; fi
    if have tshark; then measure tshark "$c" "$SLOW_RUNS" tshark -r "$f" -q -z io,phs; fi
    if have ndpiReader; then measure ndpiReader "$c" "$SLOW_RUNS" ndpiReader -q -i "$f"; fi
done

# 4. the table
set +e
# shellcheck disable=SC2086
python3 bench/report.py "$OUT" $CAPTURES | tee "$OUT/results.md"
rc=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ "${BENCH_STRICT:-0}" = 1 ] && [ "$rc" -ne 0 ]; then exit 3; fi
exit 0
