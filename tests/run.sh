#!/usr/bin/env bash
# The whole test suite: unit tests (GLib) and end-to-end tests (the binary on captures),
# once with the normal build and once under ASan + UBSan. Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0

count_tap() { # reads TAP on stdin, echoes it, updates the counters via a temp file
    local p=0 f=0 line
    while IFS= read -r line; do
        case "$line" in
        "ok "*) p=$((p + 1)); echo "$line" ;;
        "not ok "*) f=$((f + 1)); echo "$line" ;;
        "#   "*|"# "*|"Bail out!"*|"**"*|"ERROR"*) echo "$line" ;;
        esac
    done
    echo "$p $f" >"$COUNTS"
}

run_suite() { # label, make arguments...
    local label=$1; shift
    local build
    build=$(make -s "$@" print-build)
    echo "== $label: building ($build)"
    if ! make -s -j"$JOBS" "$@" test-bins >"$LOG" 2>&1; then
        cat "$LOG"
        echo "not ok - $label: build failed"
        failed=$((failed + 1))
        return
    fi
    if grep -q "warning:" "$LOG"; then
        grep "warning:" "$LOG"
        echo "not ok - $label: compiler warnings"
        failed=$((failed + 1))
    fi
    for t in "$build"/tests/test_*; do
        [ -x "$t" ] || continue
        echo "== $label: $(basename "$t")"
        local rc
        "$t" --tap 2>&1 | count_tap
        rc=${PIPESTATUS[0]}
        read -r p f <"$COUNTS"
        passed=$((passed + p))
        failed=$((failed + f))
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "not ok - $(basename "$t") exited $rc"
            failed=$((failed + 1))
        fi
    done
    for script in e2e schema report io capture_forms store maillog live live_load live_workers live_keylog live_maillog rotate threads; do
        echo "== $label: $script"
        bash "tests/$script.sh" "$build/mailwire" | count_tap
        read -r p f <"$COUNTS"
        passed=$((passed + p))
        failed=$((failed + f))
    done
}

run_script() { # label, command...
    local label=$1; shift
    echo "== $label"
    "$@" | count_tap
    read -r p f <"$COUNTS"
    passed=$((passed + p))
    failed=$((failed + f))
}

COUNTS=$(mktemp)
LOG=$(mktemp)
trap 'rm -f "$COUNTS" "$LOG"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite "normal build"
run_suite "ASan+UBSan build" SAN=1
# the reader thread under ThreadSanitizer
run_script "ThreadSanitizer" bash tests/tsan.sh
# the layout's figures: file and function sizes, folder sizes, no ../ includes
run_script "layout" python3 tests/layout.py
# man page, make install, the .deb
run_script "packaging" bash tests/package.sh build/mailwire
# memory bounds under hostile streams (optimised build: measures real peak RSS)
run_script "hostile streams" bash tests/hostile.sh build/mailwire
# libFuzzer harnesses: the regression corpus and a short run each (clang needed)
if command -v clang >/dev/null 2>&1 && make -s fuzz-build >"$LOG" 2>&1; then
    run_script "fuzz regressions" bash tests/fuzz_regress.sh
else
    cat "$LOG"
    echo "not ok - fuzz harnesses did not build"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
