#!/usr/bin/env bash
# Captures as users have them (issue 16): gzip/zstd/lz4-compressed files and pipes give the
# records of the plain file; a mergecap'd pcapng with two link types gives the sessions of
# both inputs; a pcapng with embedded TLS secrets (editcap --inject-secrets) reads like its
# source; cut or corrupt compressed files give one clear line naming the file. A BPF
# filter after the options, -r DIR, several captures after -r, files merged by packet time
# (a capture split by editcap is one session), interface names in evidence.
# Every compressed and merged file is made here from pcaps/. Prints one TAP line per test.
# Usage: tests/capture_forms.sh MAILWIRE_BINARY
set -u
MW=${1:?usage: capture_forms.sh MAILWIRE}
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/tap.sh
. tests/tap.sh

for tool in gzip zstd lz4 mergecap editcap tcpdump; do
    if ! command -v "$tool" >/dev/null; then
        skip "capture forms" "$tool missing (scripts/install-deps.sh)"
        exit 0
    fi
done

ETH=pcaps/smtp-relay-denied.pcap   # Ethernet
SLL2=pcaps/smtp-cooked.pcap        # Linux cooked v2 (tcpdump -i any)
mergecap -F pcapng -w "$TMP/merged.pcapng" "$ETH" "$SLL2"

# The records, without what names the input (the file name is meant to differ).
records() { # args: mailwire arguments
    "$MW" --json "$@" 2>"$TMP/records.err" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    for k in ("input", "uid"):
        r.pop(k, None)
    for e in r.get("evidence", []): # a merged file names the interface of each
        e.pop("iface", None)
    print(json.dumps(r, sort_keys=True))'
}

same_records() { # plain compressed-or-other [stdin]
    records -r "$1" >"$TMP/want" || return 1
    if [ "${3:-}" = stdin ]; then records -r - <"$2" >"$TMP/got"; else records -r "$2" >"$TMP/got"; fi
    [ -s "$TMP/want" ] && diff -u "$TMP/want" "$TMP/got" && [ ! -s "$TMP/records.err" ]
}

for src in "$ETH" pcaps/public/bruteshark-smtp-auth-login.pcapng "$TMP/merged.pcapng"; do
    base=$(basename "$src")
    for kind in gz zst lz4; do
        case $kind in
        gz) gzip -c "$src" >"$TMP/$base.$kind" ;;
        zst) zstd -q -c "$src" >"$TMP/$base.$kind" ;;
        lz4) lz4 -q -c "$src" >"$TMP/$base.$kind" ;;
        esac
        check "$base.$kind: the records of the plain file" same_records "$src" "$TMP/$base.$kind"
        check "$base.$kind on stdin: the records of the plain file" \
            same_records "$src" "$TMP/$base.$kind" stdin
    done
done
check "plain pcapng on stdin (a pipe): the records of the file" \
    same_records "$TMP/merged.pcapng" "$TMP/merged.pcapng" stdin

# cat a.gz b.gz: one gzip stream holding both files' bytes; the first capture is read
# and the rest is not a packet: the records of the first file, then a warning.
concatenated() {
    gzip -c "$ETH" >"$TMP/a.gz"
    records -r "$ETH" >"$TMP/want"
    cat "$TMP/a.gz" "$TMP/a.gz" >"$TMP/twice.gz"
    records -r "$TMP/twice.gz" >"$TMP/got"
    diff -u "$TMP/want" "$TMP/got"
}
check "concatenated gzip members are read on" concatenated

# --- the multi-link-type pcapng: the sessions of both inputs ---
both_inputs() {
    records -r "$ETH" -r "$SLL2" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l); print(r["client"], r["server"], r["outcome"], r["ts_start"])' \
        | sort >"$TMP/want"
    records -r "$TMP/merged.pcapng" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l); print(r["client"], r["server"], r["outcome"], r["ts_start"])' \
        | sort >"$TMP/got"
    [ "$(wc -l <"$TMP/want")" -eq 2 ] && diff -u "$TMP/want" "$TMP/got" && [ ! -s "$TMP/records.err" ]
}
check "mergecap of Ethernet + Linux cooked v2: the sessions of both" both_inputs
packets_total() {
    local a b m
    a=$("$MW" -r "$ETH" | sed -n 's/^Packets: \([0-9]*\).*/\1/p')
    b=$("$MW" -r "$SLL2" | sed -n 's/^Packets: \([0-9]*\).*/\1/p')
    m=$("$MW" -r "$TMP/merged.pcapng" | sed -n 's/^Packets: \([0-9]*\).*/\1/p')
    [ -n "$m" ] && [ "$m" -eq $((a + b)) ] && [ "$m" -eq "$(tshark -r "$TMP/merged.pcapng" | wc -l)" ]
}
check "multi-link-type pcapng: every packet read (tshark's count)" packets_total
count_limit() {
    "$MW" -r "$TMP/merged.pcapng" -c 20 | grep -qx 'Packets: 20 (TCP 20)' &&
        gzip -c "$TMP/merged.pcapng" | "$MW" -r - -c 25 | grep -qx 'Packets: 25 (TCP 25)'
}
check "pcapng (and gzip'd on a pipe): -c COUNT stops after COUNT packets" count_limit

# an interface of a link type mailwire does not decode (802.11) beside Ethernet: the
# Ethernet sessions, and a warning that counts what was not decoded
unsupported_iface() {
    printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x69\x00\x00\x00' >"$TMP/wifi.pcap"
    # one packet, stamped after the Ethernet ones (frame numbers stay), on interface 0
    printf '\x00\xff\xff\x7f\x00\x00\x00\x00\x04\x00\x00\x00\x04\x00\x00\x00abcd' >>"$TMP/wifi.pcap"
    mergecap -F pcapng -w "$TMP/wifi-eth.pcapng" "$TMP/wifi.pcap" "$ETH"
    records -r "$ETH" >"$TMP/want"
    records -r "$TMP/wifi-eth.pcapng" >"$TMP/got"
    diff -u "$TMP/want" "$TMP/got" &&
        grep -q "wifi-eth.pcapng: skipped 1 packets on interfaces of link type 105" "$TMP/records.err"
}
check "a pcapng interface of an unsupported link type: counted in a warning" unsupported_iface

# --- secrets embedded by editcap: the file reads like its source ---
with_secrets() {
    printf 'CLIENT_RANDOM %064d %096d\n' 0 0 >"$TMP/keys.txt"
    editcap --inject-secrets "tls,$TMP/keys.txt" pcaps/tls-1.3.pcap "$TMP/dsb.pcapng"
    # the one difference: keys were given (a block), none for this session ("missing")
    records -r pcaps/tls-1.3.pcap | sed 's/"keys": "none_given"/"keys": "missing"/' >"$TMP/want" &&
        records -r "$TMP/dsb.pcapng" >"$TMP/got" && [ -s "$TMP/want" ] && diff -u "$TMP/want" "$TMP/got" && ! "$MW" -r "$TMP/dsb.pcapng" -v 2>&1 | grep -q 'CLIENT_RANDOM\|0000000000000000'
}
check "pcapng with a decryption secrets block: the records of its source, no key shown" with_secrets

# --- damaged compressed files: one line naming the file ---
one_line() { # file expected-regex expected-exit
    "$MW" -r "$1" >/dev/null 2>"$TMP/err"
    local rc=$?
    [ "$rc" -eq "$3" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -Eq -- "$2" "$TMP/err" ||
        { echo "exit $rc, stderr: $(cat "$TMP/err")"; return 1; }
}
big=pcaps/smtp-attachment.pcap
for kind in gz zst lz4; do
    case $kind in
    gz) gzip -c "$big" >"$TMP/big.$kind" ;;
    zst) zstd -q -c "$big" >"$TMP/big.$kind" ;;
    lz4) lz4 -B4 -q -c "$big" >"$TMP/big.$kind" 2>/dev/null ;; # 64 KiB blocks: a cut between them
    esac
    size=$(stat -c %s "$TMP/big.$kind")
    head -c $((size * 3 / 4)) "$TMP/big.$kind" >"$TMP/cut.$kind"
    head -c 40 "$TMP/big.$kind" >"$TMP/start.$kind"
    check "cut $kind file: a warning naming it, the sessions before the cut" \
        one_line "$TMP/cut.$kind" "warning: .*cut.$kind: capture cut short after packet [0-9]+ \(.*truncated" 0
    check "$kind file cut in its first block: an error naming it" \
        one_line "$TMP/start.$kind" "start.$kind: .*truncated" 1
done
printf '\x1f\x8bnot really gzip at all' >"$TMP/bad.gz"
check "corrupt gzip: an error naming it" one_line "$TMP/bad.gz" "bad.gz: .*gzip" 1
gzip -c </dev/null >"$TMP/empty.gz"
check "gzip of nothing: not a capture" one_line "$TMP/empty.gz" "empty.gz: not a pcap or pcapng capture" 1

# --- a BPF filter after the options applies to files too (as tcpdump reads them) ---
sessions_of() { "$MW" --json "$@" 2>"$TMP/records.err" | wc -l; }
TWO=pcaps/smtp-cooked-v1.pcap # two sessions, client ports 53656 and 53670
filter_on_file() {
    local all want got
    all=$(sessions_of -r "$TWO")
    want=$(tcpdump -r "$TWO" -w - 'tcp port 53670' 2>/dev/null | sessions_of -r -)
    got=$(sessions_of -r "$TWO" 'tcp port 53670')
    echo "all $all, tcpdump-filtered $want, filtered $got"
    [ "$all" -eq 2 ] && [ "$want" -eq 1 ] && [ "$got" -eq "$want" ] &&
        "$MW" -r "$TWO" 'tcp port 53670' --json | grep -q '"client_port":53670'
}
check "a filter after the options: the sessions tcpdump -w - 'filter' leaves" filter_on_file
filter_counted() {
    local total kept
    total=$(tcpdump -r "$TWO" 2>/dev/null | wc -l)
    kept=$(tcpdump -r "$TWO" 'tcp port 53670' 2>/dev/null | wc -l)
    "$MW" -r "$TWO" tcp port 53670 >"$TMP/f.txt" 2>"$TMP/f.err" # the words unquoted, as tcpdump takes them
    grep -x "Packets: $total (TCP $kept)" "$TMP/f.txt" &&
        grep -x "Not decoded: $((total - kept)) ($((total - kept)) filtered out by the BPF filter)" "$TMP/f.txt" &&
        [ ! -s "$TMP/f.err" ]
}
check "filtered-out packets are counted in the totals, by reason" filter_counted
filter_pcapng() { # our own reader: compiled for each interface's link type
    [ "$(sessions_of -r "$TMP/merged.pcapng" 'tcp port 53650')" -eq 1 ] &&
        "$MW" -r "$TMP/merged.pcapng" 'tcp port 53650' --json | grep -q '"client_port":53650' &&
        [ "$(sessions_of -r "$TMP/merged.pcapng" 'tcp port 34372')" -eq 1 ] &&
        gzip -c "$TMP/merged.pcapng" | "$MW" -r - --json 'tcp port 34372' | grep -q '"client_port":34372'
}
check "a filter on a two-link-type pcapng (and gzip'd on stdin): each interface filtered" filter_pcapng
bad_filter() {
    "$MW" -r "$ETH" 'host 10.0.0.5 and prt 587' >"$TMP/b.out" 2>"$TMP/b.err"
    local rc=$?
    [ "$rc" -eq 1 ] && [ "$(wc -l <"$TMP/b.err")" -eq 1 ] && [ ! -s "$TMP/b.out" ] &&
        grep -q "^mailwire: bad filter 'host 10.0.0.5 and prt 587': " "$TMP/b.err" ||
        { echo "exit $rc: $(cat "$TMP/b.err")"; return 1; }
}
check "a bad filter: one line, exit 1, no output" bad_filter

# --- -r DIR, and the captures after -r ---
A=pcaps/smtp-relay-denied.pcap B=pcaps/imap-login-failed.pcap C=pcaps/pop3-login-ok.pcap
mkdir -p "$TMP/dir/sub"
cp "$A" "$B" "$C" "$TMP/dir/" && cp pcaps/README.md "$TMP/dir/" && printf 'x\n' >"$TMP/dir/notes.keys"
gzip -c pcaps/smtp-auth-failed.pcap >"$TMP/dir/z.pcap.gz"
dir_as_files() {
    records -r "$TMP/dir/$(basename "$A")" -r "$TMP/dir/$(basename "$B")" -r "$TMP/dir/$(basename "$C")" \
        -r "$TMP/dir/z.pcap.gz" >"$TMP/want"
    records -r "$TMP/dir" >"$TMP/got"
    [ "$(wc -l <"$TMP/want")" -eq 4 ] && diff -u "$TMP/want" "$TMP/got" &&
        [ "$(cat "$TMP/records.err")" = "mailwire: note: $TMP/dir: skipped 1 sub-directory and 2 files that are not captures (README.md, notes.keys)" ]
}
check "-r DIR: the records of its captures listed, what is not a capture counted in a note" dir_as_files
trailing_files() {
    records -r "$A" -r "$B" -r "$C" >"$TMP/want"
    records -r "$A" "$B" "$C" >"$TMP/got" && diff -u "$TMP/want" "$TMP/got" &&
        records -r "$C" "$B" "$A" >"$TMP/got" && diff -u "$TMP/want" "$TMP/got" &&
        [ "$(sessions_of -r "$A" "$B" "$C" port 143)" -eq 1 ] &&
        [ "$(sessions_of -r "$A" "$B" "$C" -- port 143)" -eq 1 ]
}
check "-r a b c (shell -r *.pcap): the records of -r a -r b -r c in any order; then a filter" trailing_files

# --- files merged by time, like mergecap ---
# no frame numbers (they restart in each file) and no names of inputs
unframed() {
    python3 -c '
import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("frame", "input", "uid")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
for line in open(sys.argv[1]):
    print(json.dumps(strip(json.loads(line)), sort_keys=True))' "$1"
}
split_reverse() {
    editcap -c 10 "$A" "$TMP/part.pcap" || return 1
    local parts=("$TMP"/part_*.pcap)
    [ "${#parts[@]}" -eq 2 ] || { echo "parts: ${parts[*]}"; return 1; }
    "$MW" -r "$A" --json >"$TMP/whole.json" && "$MW" -r "${parts[1]}" "${parts[0]}" --json >"$TMP/split.json" &&
        [ "$(wc -l <"$TMP/split.json")" -eq 1 ] && diff -u <(unframed "$TMP/whole.json") <(unframed "$TMP/split.json") &&
        # the evidence names its file: frame 12 of the whole is frame 2 of the second part
        python3 - "$TMP/split.json" "${parts[1]}" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
ev = r["evidence"][0]
assert r["input"].endswith("part_00000_20261123094751.pcap"), r["input"]
assert (ev["flag"], ev["frame"], ev["input"]) == ("relay_denied", 2, sys.argv[2]), ev
PY
}
check "a capture split in two (editcap -c), given in reverse: one session, the whole's record" split_reverse
split_saved() { # --save-flagged reads both parts again: the packets saved from the whole
    local parts=("$TMP"/part_*.pcap)
    "$MW" -r "$A" --save-flagged "$TMP/saved-whole" >/dev/null &&
        "$MW" -r "${parts[1]}" "${parts[0]}" --save-flagged "$TMP/saved-split" >/dev/null &&
        cmp <(tcpdump -r "$TMP"/saved-whole/*.pcap 2>/dev/null) <(tcpdump -r "$TMP"/saved-split/*.pcap 2>/dev/null) &&
        [ "$(tcpdump -r "$TMP"/saved-split/*.pcap 2>/dev/null | wc -l)" -gt 10 ]
}
check "--save-flagged over the two parts given in reverse: the packets saved from the whole" split_saved
split_by_time() { # editcap -i: by seconds; the IMAP session spans two files
    editcap -i 1 pcaps/imap-timeout-bye.pcap "$TMP/sec.pcap" 2>/dev/null || return 1
    local parts=("$TMP"/sec_*.pcap)
    [ "${#parts[@]}" -ge 2 ] || { echo "parts: ${parts[*]}"; return 1; }
    "$MW" -r pcaps/imap-timeout-bye.pcap --json >"$TMP/whole.json" &&
        "$MW" -r $(printf '%s\n' "${parts[@]}" | sort -r) --json >"$TMP/split.json" &&
        [ "$(wc -l <"$TMP/split.json")" -eq 1 ] && diff -u <(unframed "$TMP/whole.json") <(unframed "$TMP/split.json")
}
check "a capture split by time (editcap -i) given in reverse: one session" split_by_time
tuple_reused() { # the same 4-tuple a minute later, new SYN after the close: two sessions
    editcap -t 60 "$A" "$TMP/later.pcap" &&
        "$MW" -r "$TMP/later.pcap" -r "$A" --json >"$TMP/two.json" &&
        [ "$(wc -l <"$TMP/two.json")" -eq 2 ] && ! grep -q capture_gap "$TMP/two.json" &&
        head -1 "$TMP/two.json" | grep -q "\"input\":\"$A\""
}
check "a 4-tuple reused after its close, in another file: a new session, in time order" tuple_reused
all_smtp() { # they used to merge into each other's sessions (capture_gap on most of them)
    local sep=0 gaps=0 f
    for f in pcaps/smtp-*.pcap; do
        sep=$((sep + $("$MW" -r "$f" --json 2>/dev/null | wc -l)))
        gaps=$((gaps + $("$MW" -r "$f" --json 2>/dev/null | grep -c capture_gap)))
    done
    "$MW" -r pcaps/smtp-*.pcap --json >"$TMP/all.json" 2>/dev/null
    echo "one by one: $sep sessions, $gaps capture_gap; together: $(wc -l <"$TMP/all.json"), $(grep -c capture_gap "$TMP/all.json")"
    [ "$(wc -l <"$TMP/all.json")" -eq "$sep" ] && [ "$(grep -c capture_gap "$TMP/all.json")" -eq "$gaps" ]
}
check "-r pcaps/smtp-*.pcap: the sessions of each file read alone" all_smtp

# --- the interface of each packet, in a pcapng of several (names given by text2pcap -N) ---
named() { # capture linktype name out: the packets re-written to a pcapng naming its interface
    tshark -r "$1" -P -x -t e -o 'gui.column.format:"Time","%t"' 2>/dev/null | sed 's/^ *//' |
        text2pcap -q -l "$2" -N "$3" -t '%s.%f' - "$4" 2>/dev/null
}
iface_names() {
    # two interfaces with findings (relay_denied, auth_failed), and a Linux cooked one
    named "$ETH" 1 eth0 "$TMP/eth0.pcapng" && named pcaps/smtp-auth-failed.pcap 1 eth1 "$TMP/eth1.pcapng" &&
        named "$SLL2" 276 any "$TMP/any.pcapng" &&
        mergecap -w "$TMP/two-ifaces.pcapng" "$TMP/eth0.pcapng" "$TMP/eth1.pcapng" "$TMP/any.pcapng" ||
        return 1
    "$MW" -r "$TMP/two-ifaces.pcapng" --json | python3 -c '
import json, sys
seen = {}
for line in sys.stdin:
    r = json.loads(line)
    for e in r["evidence"]:
        seen[r["client_port"]] = e.get("iface")
        assert "input" not in e, e
print(seen)
assert seen == {34372: "eth0", 57889: "eth1"}, seen' &&
        ! "$MW" -r "$TMP/eth0.pcapng" --json | grep -q '"iface"' && # one interface: not said
        # with another input the text and the report place each frame: file and interface
        "$MW" -r "$TMP/two-ifaces.pcapng" pcaps/smtp-syn-timeout.pcap --report "$TMP/if.md" \
            >"$TMP/if.txt" 2>/dev/null &&
        grep -q "^      relay_denied: frame [0-9]* of $TMP/two-ifaces.pcapng, interface eth0$" "$TMP/if.txt" &&
        grep -q "^      auth_failed: frame [0-9]* of $TMP/two-ifaces.pcapng, interface eth1$" "$TMP/if.txt" &&
        grep -q 'frame [0-9]* of two-ifaces.pcapng, interface eth1' "$TMP/if.md" &&
        ! "$MW" -r "$TMP/two-ifaces.pcapng" | grep -q 'interface eth' # one input: as before
}
if command -v text2pcap >/dev/null && command -v tshark >/dev/null; then
    check "a mergecap'd pcapng of named interfaces: each evidence names its interface" iface_names
else
    skip "interface names in evidence" "text2pcap or tshark missing"
fi

echo "1..$n"
