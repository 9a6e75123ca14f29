#!/usr/bin/env bash
# ThreadSanitizer over the reader thread (analyzer/prefetch.c): mailwire built with
# -fsanitize=thread reads every recorded capture (the largest cycle all the batches) and
# must report no data race. TAP on stdout.
set -u
cd "$(dirname "$0")/.."
BUILD=build/tsan
if ! make -s BUILD=$BUILD CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" SAN= \
        $BUILD/mailwire >"$BUILD.log" 2>&1; then
    echo "not ok - TSan build failed"
    sed 's/^/#   /' "$BUILD.log"
    exit 0
fi
export TSAN_OPTIONS="halt_on_error=0 exitcode=66"
n=0
for f in pcaps/*.pcap; do
    n=$((n + 1))
    out=$($BUILD/mailwire -r "$f" --json -o /dev/null 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && ! grep -q "ThreadSanitizer" <<<"$out"; then
        echo "ok $n - TSan: $f"
    else
        echo "not ok $n - TSan: $f (exit $rc)"
        grep -m20 -E "WARNING|SUMMARY|#[0-9]" <<<"$out" | sed 's/^/#   /'
    fi
done
