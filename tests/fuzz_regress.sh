#!/usr/bin/env bash
# Fuzzing in CI (TAP): every reproducer under tests/fuzz/regressions/NAME/ and every
# input of the curated corpus tests/fuzz/corpus/NAME/ run once through build/fuzz/fuzz_NAME
# (libFuzzer runs the files it is given and exits non-zero on a crash, leak, UB or
# timeout), then a short fixed-time fuzz run per harness from that corpus.
#   FUZZ_REGRESS_SECONDS  length of each short run (default 20; 0 skips them)
#   FUZZ_NAMES            harnesses (default: smtp imap pop3 tls engine keylog tls_decrypt)
# Build first: make fuzz-build. New crashes land in build/fuzz/artifacts/NAME/.
set -u
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_REGRESS_SECONDS:-20}
NAMES=${FUZZ_NAMES:-smtp imap pop3 tls engine keylog tls_decrypt}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
FLAGS=(-timeout=10 -rss_limit_mb=2048)
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
show_log() { # the sanitizer's report, indented as TAP diagnostics
    grep -E "ERROR|SUMMARY|runtime error|#[0-9]+ 0x|Running:|Test unit written" "$1" |
        head -40 | sed 's/^/#   /'
}

for name in $NAMES; do
    bin=build/fuzz/fuzz_$name
    if [ ! -x "$bin" ]; then
        not_ok "fuzz_$name: not built (make fuzz-build)"
        continue
    fi
    # Reproducers: one run each, so that a failure names its file.
    for f in tests/fuzz/regressions/"$name"/*; do
        [ -f "$f" ] || continue
        if "$bin" "${FLAGS[@]}" "$f" >"$tmp/log" 2>&1; then
            ok "fuzz_$name: regression $(basename "$f")"
        else
            not_ok "fuzz_$name: regression $(basename "$f")"
            show_log "$tmp/log"
        fi
    done
    # The curated corpus: all files in one process.
    files=(tests/fuzz/corpus/"$name"/*)
    if [ -f "${files[0]}" ]; then
        if "$bin" "${FLAGS[@]}" "${files[@]}" >"$tmp/log" 2>&1; then
            ok "fuzz_$name: corpus (${#files[@]} inputs)"
        else
            not_ok "fuzz_$name: corpus (${#files[@]} inputs)"
            show_log "$tmp/log"
        fi
    fi
    # A short fuzz run from the corpus (and the seeds, when make fuzz-build made them).
    [ "$SECONDS_EACH" -gt 0 ] || continue
    work=$tmp/corpus-$name
    arts=build/fuzz/artifacts/$name
    mkdir -p "$work" "$arts"
    dict=()
    [ -f tests/fuzz/$name.dict ] && dict=(-dict=tests/fuzz/$name.dict)
    seeds=()
    [ -d build/fuzz/seeds/$name ] && seeds=(build/fuzz/seeds/$name)
    [ -d tests/fuzz/corpus/$name ] && seeds+=(tests/fuzz/corpus/$name)
    maxlen=16896
    [ "$name" = engine ] && maxlen=65536
    [ "$name" = keylog ] && maxlen=2048  # a refresh per chunk: short inputs stay fast
    if "$bin" "${FLAGS[@]}" -max_len=$maxlen "${dict[@]}" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -artifact_prefix="$arts/" "$work" "${seeds[@]}" >"$tmp/log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log")
        ok "fuzz_$name: ${SECONDS_EACH} s fuzz run, ${execs:-?} executions"
    else
        not_ok "fuzz_$name: ${SECONDS_EACH} s fuzz run found a failure (reproducer in $arts/)"
        show_log "$tmp/log"
    fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
