#!/usr/bin/env bash
# Captures as users have them (issue 16): gzip/zstd/lz4-compressed files and pipes give the
# records of the plain file; a mergecap'd pcapng with two link types gives the sessions of
# both inputs; a pcapng with embedded TLS secrets (editcap --inject-secrets) reads like its
# source; cut or corrupt compressed files give one clear line naming the file.
# Every compressed and merged file is made here from pcaps/. Prints one TAP line per test.
# Usage: tests/capture_forms.sh MAILWIRE_BINARY
set -u
MW=${1:?usage: capture_forms.sh MAILWIRE}
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/tap.sh
. tests/tap.sh

for tool in gzip zstd lz4 mergecap editcap; do
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

echo "1..$n"
