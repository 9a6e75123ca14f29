#!/usr/bin/env bash
# ThreadSanitizer over the reader and writer threads (input/prefetch.c, output/writer.c)
# and the analysis threads (analyzer/parallel/: the default --threads is the cores):
# mailwire built with -fsanitize=thread reads every recorded capture (the largest cycle
# all the read batches), then all of them in one run in text mode with transcripts, and
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
# GLib 2.74's slice allocator hands blocks between threads under futexes that TSan does
# not see (a false report on any GString or GArray freed by the writer); plain malloc
# here.
export G_SLICE=always-malloc
# Kernels with more mmap randomisation than TSan expects make it abort at start
# ("unexpected memory mapping"): then run it with address randomisation off.
RUN=()
if $BUILD/mailwire --version 2>&1 | grep -q "unexpected memory mapping"; then
    RUN=(setarch "$(uname -m)" -R)
fi
n=0
check() { # check NAME ARGS...: run the TSan build with ARGS, no report allowed
    local name=$1 out rc
    shift
    n=$((n + 1))
    out=$("${RUN[@]}" $BUILD/mailwire "$@" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && ! grep -q "ThreadSanitizer" <<<"$out"; then
        echo "ok $n - TSan: $name"
    else
        echo "not ok $n - TSan: $name (exit $rc)"
        grep -m20 -E "WARNING|SUMMARY|#[0-9]" <<<"$out" | sed 's/^/#   /'
    fi
}
for f in pcaps/*.pcap; do
    check "$f" -r "$f" --json -o /dev/null
done
# the analysis threads (analyzer/parallel/, --threads): four on a few captures, keys from a
# Decryption Secrets Block (the barrier), the server log join on the merger
for f in pcaps/imap-timeout-bye.pcap pcaps/smtp-attachment.pcap pcaps/smtp-pipelining.pcap; do
    [ -f "$f" ] && check "--threads 4: $f" -r "$f" --threads 4 -v -o /dev/null
done
check "--threads 4: keys in a pcapng Decryption Secrets Block" \
    -r pcaps/keyed-embedded-imaps993-auth-failed-tls13.pcapng --threads 4 --json -o /dev/null
# several threads deriving keys at once: the cipher cache (tls/decrypt/keyschedule.c) and the
# reply wordings' index built on first use (smtp/smtp_category.c), both on pthread locks
check "--threads 4: several keyed sessions with their key log" \
    -r pcaps/keyed-multi-sessions.pcap --keylog pcaps/keyed-multi-sessions.keys --threads 4 --json -o /dev/null
check "--threads 0: the reader and the dispatch alone" -r pcaps/smtp-attachment.pcap --threads 0
# segments uncopied in the reader's batches, given back by the threads (parallel.h), with
# and without a reader thread; a hold of one: every close waits for the merger
for e in 1 0; do
    MW_READER_THREAD=$e check "--threads 2, reader thread $e, --thread-hold 1" \
        -r pcaps/imap-append-large.pcap --threads 2 --thread-hold 1 --json -o /dev/null
done
args=()
for f in pcaps/*.pcap; do args+=(-r "$f"); done
check "all recorded captures in one run, text with transcripts" "${args[@]}" -v -o /dev/null
check "all recorded captures in one run, --threads 4" "${args[@]}" --threads 4 --json -o /dev/null
# a pipe fed in two parts: the reader hands partial batches over while the stream waits
# (prefetch.c mw_prefetch_idle, from capture.c's pipe reader)
n=$((n + 1))
f=pcaps/smtp-attachment.pcap
out=$( (head -c 300000 "$f"; sleep 0.5; tail -c +300001 "$f") |
    "${RUN[@]}" $BUILD/mailwire -r - --json -o /dev/null 2>&1); rc=$?
if [ $rc -eq 0 ] && ! grep -q "ThreadSanitizer" <<<"$out"; then echo "ok $n - TSan: a pipe fed in two parts"
else echo "not ok $n - TSan: a pipe fed in two parts (exit $rc)"; grep -m20 -E "WARNING|SUMMARY|#[0-9]" <<<"$out" | sed 's/^/#   /'; fi
# the writer thread finds the reader gone (EPIPE) and stops the reading thread
n=$((n + 1))
err=$( (trap '' PIPE; "${RUN[@]}" $BUILD/mailwire "${args[@]}" "${args[@]}" --json -v 2>"$BUILD.epipe.err" | head -c 1 >/dev/null); cat "$BUILD.epipe.err")
if ! grep -q "ThreadSanitizer" <<<"$err"; then echo "ok $n - TSan: output gone (EPIPE) stops the reader"
else echo "not ok $n - TSan: output gone (EPIPE) stops the reader"; grep -m20 -E "WARNING|SUMMARY|#[0-9]" <<<"$err" | sed 's/^/#   /'; fi
