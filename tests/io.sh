#!/usr/bin/env bash
# Input and output hardening (issue 12 §2-5, issue 16): write errors, clobbering, pipes and
# signals, numeric options, -o -, -c, the seccomp sandbox. One TAP line per test.
# Usage: tests/io.sh MAILWIRE_BINARY
set -u
MW=${1:?usage: io.sh MAILWIRE}
MW=$(cd "$(dirname "$MW")" && pwd)/$(basename "$MW")
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
MNT=
cleanup() { [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
# shellcheck source=tests/tap.sh
. tests/tap.sh
CAP=pcaps/smtp-relay-denied.pcap

# exit status $1, exactly one line on stderr containing $2; the rest is the command
one_line_exit() {
    local want=$1 text=$2; shift 2
    "$@" >"$TMP/o.out" 2>"$TMP/o.err"
    local rc=$?
    [ "$rc" -eq "$want" ] && [ "$(wc -l <"$TMP/o.err")" -eq 1 ] && grep -qF -- "$text" "$TMP/o.err" ||
        { echo "exit $rc, stderr: $(head -c 500 "$TMP/o.err")"; return 1; }
}

# --- §2 write errors ---
check "-o /dev/full: one line naming it, exit 1" \
    one_line_exit 1 "/dev/full: cannot write: No space left on device" "$MW" -r "$CAP" -o /dev/full
full_stdout() { "$MW" -r "$CAP" --json >/dev/full 2>"$TMP/e"; [ $? -eq 1 ] &&
    grep -q "standard output: cannot write: No space left" "$TMP/e" && [ "$(wc -l <"$TMP/e")" -eq 1 ]; }
check "stdout on a full device: one line, exit 1" full_stdout
closed_stdout() { "$MW" -r "$CAP" >&- 2>"$TMP/e"; [ $? -eq 1 ] && grep -q "standard output is closed" "$TMP/e"; }
check "closed stdout: one line, exit 1" closed_stdout
closed_stdout_o() { "$MW" -r "$CAP" --json -o "$TMP/c.jsonl" >&- && grep -q relay_denied "$TMP/c.jsonl"; }
check "closed stdout with -o FILE: the file gets the records" closed_stdout_o
# many_sessions SRC OUT ROUNDS: SRC's sessions 2^ROUNDS times in one file, each copy later
# than the one before (editcap -t, mergecap), so that they are sessions of their own: the
# same file given many times is one session, its packets merged by time as duplicates
many_sessions() {
    local src=$1 out=$2 rounds=$3 i span=60
    cp "$src" "$out"
    for ((i = 0; i < rounds; i++)); do
        editcap -t "$span" "$out" "$out.later" && mergecap -F pcap -w "$out.both" "$out" "$out.later" &&
            mv "$out.both" "$out" && rm -f "$out.later" || return 1
        span=$((span * 2))
    done
}
# many sessions: long enough that reading all of it would show
many_sessions pcaps/smtp-multi.pcap "$TMP/many.pcap" 9
BIG=(-r "$TMP/many.pcap")
epipe_ignored() {
    local start=$SECONDS
    (trap '' PIPE; "$MW" "${BIG[@]}" --json 2>"$TMP/e"; echo $? >"$TMP/rc") | head -c 1 >/dev/null
    [ "$(cat "$TMP/rc")" -eq 1 ] && [ ! -s "$TMP/e" ] && [ $((SECONDS - start)) -lt 10 ]
}
check "EPIPE with SIGPIPE ignored: quiet, exit 1, stops reading" epipe_ignored
epipe_default() { "$MW" "${BIG[@]}" --json 2>"$TMP/e" | head -1 >/dev/null; [ ! -s "$TMP/e" ]; }
check "| head -1: no error output" epipe_default
ln -s /dev/full "$TMP/full.md"
check "--report to a full device: one line, exit 1" \
    one_line_exit 1 "full.md: cannot write: No space left on device" "$MW" -r "$CAP" --report "$TMP/full.md"
if [ "$(id -u)" -eq 0 ] && MNT=$TMP/small && mkdir -p "$MNT" && mount -t tmpfs -o size=64k tmpfs "$MNT" 2>/dev/null; then
    head -c 60000 /dev/zero >"$MNT/filler" 2>/dev/null
    check "--save-flagged on a full filesystem: one line, exit 1" \
        one_line_exit 1 "cannot write: No space left on device" "$MW" -r pcaps/smtp-attachment.pcap \
        -r "$CAP" -r pcaps/smtp-auth-failed.pcap --save-flagged "$MNT/saved"
    umount "$MNT"; MNT=
else
    MNT=; skip "--save-flagged on a full filesystem" "needs root to mount a small tmpfs"
fi
skip "-w on a full filesystem" "live capture (tests/live.sh runs live)"

# --- §3 clobbering ---
mkdir -p "$TMP/planted"
echo "precious" >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/planted/s1-relay_denied.pcap"
planted_link() {
    "$MW" -r "$CAP" --save-flagged "$TMP/planted" >/dev/null 2>&1 &&
        [ "$(cat "$TMP/victim")" = precious ] && [ -L "$TMP/planted/s1-relay_denied.pcap" ] &&
        tcpdump -r "$TMP/planted/s1-relay_denied-2.pcap" 2>/dev/null | grep -q .
}
check "--save-flagged does not write through a planted link (takes the next name)" planted_link
resave() {
    "$MW" -r "$CAP" --save-flagged "$TMP/again" >/dev/null 2>&1 || return 1
    local f=$TMP/again/s1-relay_denied.pcap sum; sum=$(md5sum <"$f")
    "$MW" -r "$f" --save-flagged "$TMP/again" >/dev/null 2>&1 && [ "$(md5sum <"$f")" = "$sum" ] &&
        [ -s "$TMP/again/s1-relay_denied-2.pcap" ]
}
check "--save-flagged: re-analysing a saved file into its directory keeps it" resave
check "--save-flagged creates DIR" bash -c "'$MW' -r $CAP --save-flagged '$TMP/new/' >/dev/null && [ -s '$TMP/new/s1-relay_denied.pcap' ]"
cp "$CAP" "$TMP/in.pcap"; cp "$CAP" "$TMP/in.md"
sum_in=$(md5sum <"$TMP/in.pcap")
check "-o an input: refused, one line, exit 1" \
    one_line_exit 1 "is an input of this run" "$MW" -r "$TMP/in.pcap" -o "$TMP/in.pcap"
check "-o an input: the input is intact" bash -c "[ \"\$(md5sum <'$TMP/in.pcap')\" = '$sum_in' ]"
ln "$TMP/in.pcap" "$TMP/hardlink.json"
check "-o a hard link to an input: refused" \
    one_line_exit 1 "is an input of this run" "$MW" -r "$TMP/in.pcap" -o "$TMP/hardlink.json"
check "--report an input: refused, one line, exit 1" \
    one_line_exit 1 "is an input of this run" "$MW" -r "$TMP/in.md" --report "$TMP/in.md"
ln -s "$TMP/victim" "$TMP/link.json"
check "-o through a link to a regular file: refused" \
    one_line_exit 1 "is a symbolic link; not followed" "$MW" -r "$CAP" -o "$TMP/link.json"
existing_truncated() { printf 'old text that is longer than nothing\n%.0s' $(seq 500) >"$TMP/old.json"
    "$MW" -r "$CAP" --json -o "$TMP/old.json" && ! grep -q "old text" "$TMP/old.json" &&
    grep -q relay_denied "$TMP/old.json"; }
check "-o an existing regular file: truncated (as tcpdump -w)" existing_truncated
check "-o /dev/stdout (a link to a non-regular file) is followed" \
    bash -c "'$MW' -r $CAP --json -o /dev/stdout | grep -q relay_denied"

# --- §4 pipes, signals, numeric options ---
slow_pipe() { # the pipe stays open 8 s: the record must come long before its end
    ( cat "$CAP"; sleep 8 ) | "$MW" -r - --json >"$TMP/slow.jsonl" 2>/dev/null &
    local t0=$(date +%s%N) got=1
    while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ]; do
        grep -q relay_denied "$TMP/slow.jsonl" && { got=0; break; }
        sleep 0.05
    done
    echo "#   record after $(( ($(date +%s%N) - t0) / 1000000 )) ms (pipe open 8000 ms)"
    wait; return $got
}
check "-r - fed slowly: a closed session's record comes while the pipe is still open (< 3 s; 1 s on a quiet machine)" slow_pipe
tcpdump -r pcaps/smtp-accepted.pcap -c 8 -w "$TMP/open.pcap" 2>/dev/null
sigint_pipe() {
    ( cat "$TMP/open.pcap"; sleep 20 ) | "$MW" -r - --json >"$TMP/int.jsonl" 2>"$TMP/int.err" &
    local pid="" i
    for i in $(seq 50); do pid=$(pgrep -n -f -- "$MW -r - --json" || true); [ -n "$pid" ] && break; sleep 0.1; done
    [ -n "$pid" ] || return 1
    sleep 1 # the packets read before the signal
    kill -INT "$pid"; local start=$SECONDS
    while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - start)) -lt 5 ]; do sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null && grep -q '"outcome":"incomplete"' "$TMP/int.jsonl"
}
check "SIGINT on a pipe: stops, the open session written as incomplete" sigint_pipe
HUGE=(); for _ in $(seq 400); do HUGE+=(-r pcaps/smtp-attachment.pcap); done # some 4 s of reading
sigterm_file() {
    "$MW" "${HUGE[@]}" --json >"$TMP/term.jsonl" 2>/dev/null & local pid=$!
    sleep 0.5; kill -TERM "$pid" || return 1 # still reading when the signal comes
    local start=$SECONDS; wait "$pid"; local rc=$?
    [ "$rc" -eq 0 ] && [ $((SECONDS - start)) -lt 2 ] && [ -s "$TMP/term.jsonl" ] && python3 -c "
import json,sys
for l in open(sys.argv[1]): json.loads(l)" "$TMP/term.jsonl"
}
check "SIGTERM while reading files: exit 0, every record whole" sigterm_file
mkfifo "$TMP/fifo"
fifo() { cat "$CAP" >"$TMP/fifo" & "$MW" -r "$TMP/fifo" --json | grep -q relay_denied; }
check "-r a named pipe is read" fifo
check "-r /dev/stdin is read" bash -c "cat $CAP | '$MW' -r /dev/stdin --json | grep -q relay_denied"
check "-r <(...) is read" bash -c "'$MW' -r <(cat $CAP) --json | grep -q relay_denied"
check "--idle-timeout 9300000000000: one line, exit 1" \
    one_line_exit 1 "--idle-timeout must be from 1 to" "$MW" -r "$CAP" --idle-timeout 9300000000000
check "--buffer-size 2048: one line, exit 1" \
    one_line_exit 1 "--buffer-size must be from 1 to 2047 MiB" "$MW" -i lo --buffer-size 2048
check "--max-flows 0: one line, exit 1" one_line_exit 1 "--max-flows must be from 1" "$MW" -r "$CAP" --max-flows 0
check "--max-line 99999999999: one line, exit 1" one_line_exit 1 "--max-line must be from 64" "$MW" -r "$CAP" --max-line 99999999999
check "--stats -1: one line, exit 1" one_line_exit 1 "--stats must be from 0" "$MW" -i lo --stats -1
check "--workers 0: one line, exit 1" one_line_exit 1 "--workers must be from 1 to 64" "$MW" -i lo --workers 0
check "--workers 65: one line, exit 1" one_line_exit 1 "--workers must be from 1 to 64" "$MW" -i lo --workers 65
check "--workers without -i: one line, exit 1" one_line_exit 1 "--workers goes with -i" "$MW" -r "$CAP" --workers 2
# --workers 2 --keylog is accepted (issue 13): the checks go on to the next problem
check "--workers 2 --keylog: accepted (the later check speaks)" one_line_exit 1 "--save-flagged reads the capture files again: it does not go with -i" "$MW" -i lo --workers 2 --keylog /dev/null --save-flagged "$TMP/sf"
check "-c -3: one line, exit 1" one_line_exit 1 "-c must be from 0" "$MW" -r "$CAP" -c -3
check "-o - is standard output" bash -c "'$MW' -r $CAP --json -o - | grep -q relay_denied && [ ! -e ./- ]"
count() { "$MW" -r "$CAP" -r "$CAP" -c 25 | grep -q "^Packets: 25 "; }
check "-c COUNT stops after COUNT packets (across files)" count

# --- §5 the sandbox ---
sandboxed_same() {
    local f a b
    for f in pcaps/*.pcap pcaps/public/*.pcap*; do
        [ -f "$f" ] || continue
        a=$("$MW" -r "$f" --json -v 2>&1; echo "rc=$?")
        b=$("$MW" -r "$f" --json -v --no-sandbox 2>&1; echo "rc=$?")
        [ "$a" = "$b" ] || { echo "differs: $f"; return 1; }
    done
}
check "every capture in pcaps/: the same output in the sandbox as without" sandboxed_same
reports_same() {
    local args=(); for f in pcaps/*.pcap; do args+=(-r "$f"); done
    "$MW" "${args[@]}" --report "$TMP/sb.md" --save-flagged "$TMP/sb" >/dev/null 2>&1 || return 1
    "$MW" "${args[@]}" --report "$TMP/nosb.md" --save-flagged "$TMP/nosb" --no-sandbox >/dev/null 2>&1 || return 1
    diff <(grep -v "Written by" "$TMP/sb.md") <(grep -v "Written by" "$TMP/nosb.md") &&
        diff -r "$TMP/sb" "$TMP/nosb"
}
check "--report and --save-flagged: the same in the sandbox" reports_same
all_threads() { # every thread (analysis, reader, writer) is under the filter
    ( cat "$CAP"; sleep 2 ) | "$MW" -r - --json >/dev/null 2>&1 &
    sleep 1
    local pid; pid=$(pgrep -n -f -- "$MW -r - --json" || true)
    [ -n "$pid" ] || return 1
    local modes threads
    modes=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/^Seccomp:/ {print $2}' | sort -u)
    threads=$(ls /proc/"$pid"/task 2>/dev/null | wc -l)
    wait
    echo "threads: $threads, their seccomp modes: $modes"
    [ "$threads" -ge 3 ] && [ "$modes" = 2 ]
}
check "every thread runs under the filter (TSYNC)" all_threads
forbidden() { "$MW" -r "$CAP" --test-open-after-sandbox "$TMP/new-file" >/dev/null 2>&1
    [ $? -eq $((128 + 31)) ] && [ ! -e "$TMP/new-file" ]; }
check "creating a file after the sandbox is on: killed by SIGSYS" forbidden
check "--no-sandbox: the same open is allowed" bash -c "'$MW' -r $CAP --no-sandbox \
    --test-open-after-sandbox '$TMP/new-file2' >/dev/null && [ -e '$TMP/new-file2' ]"
check "the test option is not in --help" bash -c "! '$MW' --help-all | grep -q test-open"
echo "1..$n"
