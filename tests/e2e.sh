#!/usr/bin/env bash
# End-to-end tests: the binary against captures. Prints one TAP line per test.
# Usage: tests/e2e.sh MAILWIRE_BINARY
set -u
MW=${1:?usage: e2e.sh MAILWIRE}
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/tap.sh
. tests/tap.sh
# shellcheck source=tests/secrets.sh
. tests/secrets.sh

# --- golden records: tests/golden/cases.tsv  (name  capture  [options]) ---
while IFS=$'\t' read -r name cap opts; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    want="tests/golden/$name.jsonl"
    # shellcheck disable=SC2086
    "$MW" -r "$cap" --json --sensor golden $opts >"$TMP/got.jsonl" 2>"$TMP/err"
    if diff -u "$want" "$TMP/got.jsonl" >"$TMP/diff"; then ok "golden $name"
    else not_ok "golden $name" "$(head -c 3000 "$TMP/diff")"; fi
done < tests/golden/cases.tsv

# --- hand-written expectations ---
python3 tests/check_expect.py "$MW" tests/expect.tsv >"$TMP/expect.tap"
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok * - }" ;;
    "not ok "*) not_ok "${line#not ok * - }" ;;
    *) echo "$line" ;;
    esac
done <"$TMP/expect.tap"

# --- TLS version, cipher and SNI equal tshark's on every TLS session of the test captures ---
python3 tests/tshark_xcheck.py "$MW" pcaps/tls-*.pcap pcaps/smtps-465.pcap pcaps/smtp-starttls.pcap \
    pcaps/imap-starttls.pcap pcaps/pop3-stls.pcap pcaps/imaps-993.pcap pcaps/pop3s-995.pcap \
    pcaps/public/zeek-imap-starttls.pcap pcaps/public/zeek-pop3-starttls-null.pcap \
    pcaps/public/ndpi-smtp-starttls-vlan.pcap pcaps/public/sv-smtp-starttls-tls13.pcap \
    pcaps/public/ndpi-pop3-stls.pcap pcaps/public/zeek-imaps-telesec.pcap \
    pcaps/public/arkime-smtp-starttls.pcap \
    pcaps/public/arkime-ssl3.pcap --ports smtps=443 pcaps/public/arkime-tls12-to-tls10.pcap \
    --ports smtps=443 pcaps/public/zeek-tls-expired-cert.pcap --ports smtps=443 \
    pcaps/public/arkime-tls13-draft18.pcap --ports smtps=443 \
    pcaps/public/sv-tls13-draft28.pcap --ports smtps=4433 \
    pcaps/public/zeek-tls-fragmented-handshake.pcap.gz --ports smtps=4433 \
    >"$TMP/xcheck.tap" 2>&1
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok * - }" ;;
    "not ok "*) not_ok "${line#not ok * - }" ;;
    *) echo "$line" ;;
    esac
done <"$TMP/xcheck.tap"

# --- TLS decryption: tshark cross-check, secrets and keys, honest output without keys ---
# shellcheck source=tests/decrypt_e2e.sh
. tests/decrypt_e2e.sh

# --- no password or secret in any output, plain or base64 ---
secrets_absent() {
    local out=$TMP/all-output
    : >"$out"
    for cap in pcaps/*.pcap pcaps/*.pcapng pcaps/public/*.pcap pcaps/public/*.pcapng; do
        [ -f "$cap" ] || continue
        "$MW" -r "$cap" --json >>"$out" 2>&1
        "$MW" -r "$cap" -v >>"$out" 2>&1
    done
    secret_forms_absent "$out" && [ -s "$out" ]
}
check "no secret in any output (plain or base64)" secrets_absent

# --- generated malformed logins (tests/gen_secret_pcaps.py): no password in any output mode ---
python3 tests/gen_secret_pcaps.py build/secrets >/dev/null
gen_secrets_absent() { # capture
    local cap=$1 out=$TMP/gen-out
    : >"$out"
    "$MW" -r "$cap" >>"$out" 2>&1
    "$MW" -r "$cap" -v >>"$out" 2>&1
    "$MW" -r "$cap" --json >>"$out" 2>&1
    "$MW" -r "$cap" --json -v >>"$out" 2>&1
    "$MW" -r "$cap" --report "$TMP/gen.html" >/dev/null 2>&1 && cat "$TMP/gen.html" >>"$out"
    "$MW" -r "$cap" --report "$TMP/gen.md" >/dev/null 2>&1 && cat "$TMP/gen.md" >>"$out"
    [ -s "$TMP/gen.html" ] && [ -s "$TMP/gen.md" ] || { echo "no report written"; return 1; }
    rm -f "$TMP/gen.html" "$TMP/gen.md"
    SECRET_LIST=build/secrets/passwords.txt secret_forms_absent "$out"
}
for cap in build/secrets/*.pcap; do
    check "no secret in any output mode: $(basename "$cap" .pcap)" gen_secrets_absent "$cap"
done
gen_json() { "$MW" -r "build/secrets/$1.pcap" --json 2>/dev/null; }
check "generated: unanswered line after 535 is named AUTH" \
    grep -q '"detail":"AUTH got no reply' <(gen_json smtp-unanswered-after-535)
check "generated: pipelined AUTH LOGIN raises cleartext_auth, names the user" \
    grep -q '"user":"alice".*"cleartext_auth"' <(gen_json smtp-login-pipelined)
check "generated: a Password: prompt answered first is not the user" \
    grep -q '"user":"alice"' <(gen_json smtp-password-prompt-first)
check "generated: differing copies of a segment inside AUTH: anomaly segment_overlap" \
    grep -q '"anomalies":\["segment_overlap"\]' <(gen_json smtp-overlap-two-passwords)
check "generated: a copy held out of order that differs is seen too" \
    grep -q '"segment_overlap"' <(gen_json smtp-overlap-held)
check "generated: PLAIN with two fields names no user" \
    grep -q '"user":null' <(gen_json imap-plain-two-fields)
check "generated: the public capture's password no longer quoted" \
    bash -c '! "$0" -r pcaps/public/pcapplusplus-smtp-excerpts.pcap 2>&1 | grep -qi chvuamfiqdeymw' "$MW"

# --- bad input: one line on stderr naming the file, exit 1 ---
RUN_AS=() # a command prefix for bad_input (another user)
bad_input() { # name expected-exit expected-stderr-regex args...
    local name=$1 want_rc=$2 want_re=$3; shift 3
    "${RUN_AS[@]}" "$MW" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err" </dev/null
    local rc=$? lines
    lines=$(wc -l <"$TMP/bad.err")
    if [ "$rc" -eq "$want_rc" ] && grep -Eq -- "$want_re" "$TMP/bad.err" && [ "$lines" -eq 1 ]; then
        ok "bad input: $name"
    else
        not_ok "bad input: $name" "exit $rc (want $want_rc), stderr: $(cat "$TMP/bad.err")"
    fi
}
printf 'hello, not a capture\n' >"$TMP/text.pcap"
: >"$TMP/empty.pcap"
head -c 24 pcaps/smtp-accepted.pcap >"$TMP/header-only.pcap"
head -c 60 pcaps/smtp-accepted.pcap >"$TMP/cut-first-packet.pcap"
# a pcap header declaring 802.11 (DLT 105): an unsupported link type
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x69\x00\x00\x00' >"$TMP/wifi.pcap"
bad_input "missing file" 1 "nosuch.pcap: No such file" -r "$TMP/nosuch.pcap"
mkdir -p "$TMP/no-captures"
bad_input "directory without captures" 1 "no-captures: no capture files in the directory" -r "$TMP/no-captures"
bad_input "not a capture" 1 "text.pcap: not a pcap or pcapng capture" -r "$TMP/text.pcap"
# stat succeeds, open does not: a file without read permission (as root: read as nobody)
mkdir -p "$TMP/locked" && chmod 711 "$TMP" "$TMP/locked"
cp pcaps/smtp-accepted.pcap "$TMP/locked/noread.pcap" && chmod 000 "$TMP/locked/noread.pcap"
[ "$(id -u)" -eq 0 ] && RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
bad_input "unreadable file" 1 "noread.pcap: cannot read: Permission denied" -r "$TMP/locked/noread.pcap"
RUN_AS=()
bad_input "empty file" 1 "empty.pcap: empty file" -r "$TMP/empty.pcap"
bad_input "truncated in the first packet" 1 "cut-first-packet.pcap: truncated or corrupt" -r "$TMP/cut-first-packet.pcap"
bad_input "unsupported link type" 1 "wifi.pcap: unsupported link type IEEE802_11" -r "$TMP/wifi.pcap"
bad_input "unknown option" 1 "Unknown option --frobnicate" -r pcaps/smtp-accepted.pcap --frobnicate
bad_input "bad --ports protocol" 1 "unknown protocol 'gopher'" -r pcaps/smtp-accepted.pcap --ports gopher=70
bad_input "bad --ports number" 1 "not a port number" -r pcaps/smtp-accepted.pcap --ports smtp=99999
bad_input "no input" 1 "no input" --json
bad_input "unwritable output" 1 "cannot write" -r pcaps/smtp-accepted.pcap -o /nonexistent/dir/out.json

header_only_is_empty() { "$MW" -r "$TMP/header-only.pcap" --json >"$TMP/h.out" 2>&1 && [ ! -s "$TMP/h.out" ]; }
check "capture with a header and no packets: no sessions, exit 0" header_only_is_empty

# a capture cut in the middle of a later packet: warning, the sessions read are written
truncated_tail() {
    local size; size=$(stat -c %s pcaps/smtp-relay-denied.pcap)
    head -c $((size - 30)) pcaps/smtp-relay-denied.pcap >"$TMP/tail-cut.pcap"
    "$MW" -r "$TMP/tail-cut.pcap" --json >"$TMP/t.out" 2>"$TMP/t.err" || return 1
    grep -q "warning: .*tail-cut.pcap: capture cut short" "$TMP/t.err" &&
        grep -q '"relay_denied"' "$TMP/t.out"
}
check "truncated tail: warning, sessions still written, exit 0" truncated_tail

# an input error after good files still writes the sessions read
error_after_good_file() {
    cp pcaps/smtp-relay-denied.pcap "$TMP/a.pcap"
    head -c 100 pcaps/smtp-accepted.pcap >"$TMP/b.pcap" # cut inside the first packet
    "$MW" -r "$TMP/a.pcap" -r "$TMP/b.pcap" --json >"$TMP/e.out" 2>"$TMP/e.err"
    [ $? -eq 1 ] && grep -q "b.pcap" "$TMP/e.err" && grep -q '"relay_denied"' "$TMP/e.out"
}
check "input error after a good file: exit 1, its sessions written" error_after_good_file

# --- several inputs, stdin, -o ---
two_files_in_order() {
    "$MW" -r pcaps/smtp-relay-denied.pcap -r pcaps/smtp-unknown-user.pcap --json >"$TMP/2.out" &&
        [ "$(wc -l <"$TMP/2.out")" -eq 2 ] &&
        head -1 "$TMP/2.out" | grep -q relay_denied && tail -1 "$TMP/2.out" | grep -q recipient_rejected
}
check "two -r files read in order" two_files_in_order
stdin_input() { "$MW" -r - --json <pcaps/smtp-relay-denied.pcap | grep -q '"relay_denied"'; }
check "-r - reads stdin" stdin_input
output_file() {
    "$MW" -r pcaps/smtp-auth-failed.pcap --json -o "$TMP/o.jsonl" >"$TMP/stdout" &&
        [ ! -s "$TMP/stdout" ] && grep -q '"auth_failed"' "$TMP/o.jsonl"
}
check "-o FILE gets the records" output_file

# --- the text a person reads ---
text_summary() {
    "$MW" -r pcaps/smtp-relay-denied.pcap >"$TMP/text" &&
        grep -q "smtp  rejected  \[relay_denied\].*554 5.7.1 <bob@example.net>: Relay access denied" "$TMP/text" &&
        grep -q "outgoing server authentication" "$TMP/text" &&
        grep -q "^Sessions: 1 (smtp 1)" "$TMP/text"
}
check "text output: session line, decisive reply, diagnosis, totals" text_summary
ports_option() {
    # the same SMTP session, declared as IMAP's port: --ports moves it
    "$MW" -r pcaps/smtp-relay-denied.pcap --json --ports submission=25 | grep -q '"protocol":"submission"'
}
check "--ports maps a port to a protocol" ports_option
json_valid_utf8() {
    for cap in pcaps/*.pcap pcaps/public/*.pcap*; do
        "$MW" -r "$cap" --json 2>/dev/null
    done | python3 -c '
import json, sys
keys = ["id","ts_start","ts_end","duration_s","client","server","community_id","protocol",
        "starttls","tls","auth","outcome","flags","evidence","packets","bytes"]
n = 0
for line in sys.stdin.buffer:
    rec = json.loads(line.decode("utf-8"))
    assert list(rec)[:len(keys)] == keys, list(rec)
    assert rec["flags"] == sorted(set(rec["flags"])), rec["flags"]
    assert {e["flag"] for e in rec["evidence"]} == set(rec["flags"]), rec["id"]
    n += 1
assert n > 20, n
'
}
check "every record: valid UTF-8 JSON, SPEC key order, sorted flags, evidence per flag" json_valid_utf8

# --- the engine's hardening (issue 12 section 4): fragments, deep headers, snaplens ---
python3 tests/gen_engine_pcaps.py build/engine >/dev/null
eng() { "$MW" -r "build/engine/$1.pcap" "${@:2}"; }
for c in frag-v4 frag-v4-reversed frag-v6-ext vlan-5 ipv6-ext-9; do
    check "engine: $c: the relay_denied reply is read" \
        grep -q '"flags":\["relay_denied"\]' <(eng "$c" --json 2>/dev/null)
done
clear_client_no_greeting() {
    # issue 15 item 16: clear text on 465, no answer, the client gives up
    eng smtps-clear-client --json >"$TMP/cc.json" 2>/dev/null &&
        grep -q '"flags":\["no_greeting","tls_mode_mismatch"\]' "$TMP/cc.json" &&
        grep -q '"detail":"no server greeting in 2.[0-9] s before the client gave up, after the client spoke clear text on implicit-TLS port 465"' "$TMP/cc.json"
}
check "engine: clear text on an implicit-TLS port, never answered: no_greeting with the wait" clear_client_no_greeting
check "engine: fragments reassembled, said in the totals" \
    grep -q '^IP fragments: 6 reassembled into 2 datagrams' <(eng frag-v4-reversed 2>/dev/null)
frag_overlap() {
    eng frag-overlap --json 2>"$TMP/fo.err" >"$TMP/fo.json" &&
        grep -q '"anomalies":\["fragment_overlap"\]' "$TMP/fo.json" &&
        grep -q '"text":"relay denied"' "$TMP/fo.json" && # the first copy won
        grep -q 'warning: 1 packets not decoded: 1 fragment overlapping' "$TMP/fo.err"
}
check "engine: overlapping fragments: first copy wins, anomaly fragment_overlap, counted" frag_overlap
deep_counted() { # capture reason
    eng "$1" >"$TMP/deep.txt" 2>"$TMP/deep.err" &&
        grep -q "^Not decoded: 24 (24 $2)" "$TMP/deep.txt" &&
        grep -q "warning: 24 packets not decoded: 24 $2" "$TMP/deep.err"
}
check "engine: 9 VLAN tags counted, in the totals and on stderr" deep_counted vlan-9 "too many VLAN tags"
check "engine: 17 IPv6 extension headers counted" deep_counted ipv6-ext-17 "too many IPv6 extension headers"
snaplen_counted() { # snaplen reason
    editcap -s "$1" pcaps/smtp-accepted.pcap "$TMP/snap.pcap" &&
        "$MW" -r "$TMP/snap.pcap" --report "$TMP/snap.md" >"$TMP/snap.txt" 2>"$TMP/snap.err" &&
        grep -q "^Not decoded: 21 (21 $2)" "$TMP/snap.txt" &&
        grep -q "warning: 21 packets not decoded: 21 $2" "$TMP/snap.err" &&
        grep -q "Not decoded: 21 packets (21 $2)" "$TMP/snap.md"
}
check "engine: snaplen 1 counted (truncated link header)" snaplen_counted 1 "truncated link header"
check "engine: snaplen 40 counted (truncated TCP header)" snaplen_counted 40 "truncated TCP header"

# --- implicit TLS picked up mid-session (issue 15 item 7): a recorded 993 session with its
# SYN handshake cut out by editcap; the ClientHello opens the capture of the connection ---
midsession_tls() {
    editcap pcaps/imaps-993.pcap "$TMP/nosyn.pcap" 1-3 &&
        "$MW" -r "$TMP/nosyn.pcap" --json >"$TMP/nosyn.json" 2>/dev/null &&
        "$MW" -r pcaps/imaps-993.pcap --json >"$TMP/syn.json" 2>/dev/null &&
        python3 - "$TMP/nosyn.json" "$TMP/syn.json" <<'PY'
import json, sys
cut, whole = (json.loads(open(f).readline()) for f in sys.argv[1:])
assert cut["tls"] is not None, "tls is null"
assert "capture_gap" in cut["flags"], cut["flags"]
for k in ("client_versions", "version", "cipher", "sni", "ja3", "ja3s", "ja4", "handshake_done"):
    assert cut["tls"][k] == whole["tls"][k], (k, cut["tls"][k], whole["tls"][k])
PY
}
check "implicit TLS without its SYN handshake: the tls object as with it, capture_gap said" midsession_tls

# --- text output: a capture without mail, an input error, --local-time (issue 16) ---
no_mail_hint() {
    "$MW" -r pcaps/public/arkime-ssl3.pcap >"$TMP/nomail.txt" 2>&1 &&
        grep -q '^No mail sessions: none of the 20 TCP packets were on a mail port' "$TMP/nomail.txt" &&
        grep -q '^    TCP ports seen most: 443 (15 packets)$' "$TMP/nomail.txt" &&
        grep -q -- '--ports smtp=443' "$TMP/nomail.txt" &&
        ! grep -q 'No problems found' "$TMP/nomail.txt"
}
check "no mail sessions: said, with the ports seen most and --ports, never 'No problems found.'" no_mail_hint
head -c 40 pcaps/smtp-accepted.pcap >"$TMP/cut40.pcap" # a record header, then nothing
input_error_no_totals() {
    "$MW" -r "$TMP/cut40.pcap" --report "$TMP/cut.md" >"$TMP/cut.txt" 2>"$TMP/cut.err"
    local rc=$?
    # the report is never written (its empty file stays when the sandbox refuses unlink)
    [ "$rc" -eq 1 ] && [ ! -s "$TMP/cut.txt" ] && [ ! -s "$TMP/cut.md" ] &&
        [ "$(wc -l <"$TMP/cut.err")" -eq 1 ] && grep -q 'cut40.pcap: truncated' "$TMP/cut.err"
}
check "input error with nothing read: exit 1, one line, no totals, no report" input_error_no_totals
input_error_partial() {
    "$MW" -r pcaps/smtp-accepted.pcap -r "$TMP/cut40.pcap" >"$TMP/cut2.txt" 2>/dev/null
    [ $? -eq 1 ] && grep -q "^Note: stopped at $TMP/cut40.pcap, which could not be read" "$TMP/cut2.txt" &&
        grep -q '^Sessions: 1 (smtp 1)' "$TMP/cut2.txt"
}
check "input error after some input: the totals say they cover only what was read" input_error_partial
local_time() {
    "$MW" -r pcaps/smtp-accepted.pcap >"$TMP/utc.txt" &&
        TZ=Europe/Berlin "$MW" --local-time -r pcaps/smtp-accepted.pcap -v >"$TMP/local.txt" &&
        grep -q '^2026-11-23 09:47:49  s1 ' "$TMP/utc.txt" &&
        grep -q '^Times: UTC ' "$TMP/utc.txt" &&
        grep -q '^2026-11-23 10:47:49  s1 ' "$TMP/local.txt" &&
        grep -q '^        10:47:49\.' "$TMP/local.txt" &&
        grep -q '^Times: local time (CET, UTC+01:00)$' "$TMP/local.txt"
}
check "--local-time: text times in the local zone, and the text names the zone (UTC by default)" local_time

# --- issue 15: agree with the peers' traces ---
starttls_then_clear() {
    # arkime smtp-decrypted.pcap: after "220 ... ready" the dialogue goes on in clear
    "$MW" -r pcaps/public/arkime-smtp-decrypted.pcap --json >"$TMP/dec.json" &&
        [ "$(grep -c '"starttls_not_used"' "$TMP/dec.json")" -eq 4 ] &&
        grep -q '"mail_from":"papanoel@intradef.gouv.fr","rcpt":\[{"to":"aponcelet@shewa.intradef.gouv.fr","code":250}\]' "$TMP/dec.json" &&
        grep -q '"mail_from":"bg1bulma@bg1.shewa.intradef.gouv.fr"' "$TMP/dec.json" &&
        ! grep -q '"tls_malformed"' "$TMP/dec.json"
}
check "clear text after STARTTLS's 220 is read on: MAIL FROM/RCPT kept, starttls_not_used" starttls_then_clear
hello_after_clear_greeting() {
    # suricata-verify smtp-errors, port 50649: ClientHello after a clear greeting on 465
    "$MW" -r pcaps/public/sv-smtp-errors.pcap --json | grep '"client":"10.4.16.101:50649"' >"$TMP/mm.json" &&
        grep -q '"flags":\["tls_mode_mismatch"\]' "$TMP/mm.json" &&
        grep -q '"client_versions":\["TLS1.3","TLS1.2","TLS1.1","TLS1.0"\]' "$TMP/mm.json" &&
        grep -q '"ja3":"004556e859f3c26c5d19746b3a957c74"' "$TMP/mm.json" &&
        grep -q '"code":400,"enhanced":"4.5.2","category":"syntax","text":"Error: bad syntax"' "$TMP/mm.json"
}
check "ClientHello after a clear greeting: hello (versions, JA3) and the server's replies recorded" hello_after_clear_greeting
side_advice() {
    "$MW" -r pcaps/tls-version-mismatch.pcap >"$TMP/vm.txt" &&
        grep -q "Which side (1 session, e.g. s1): The client is the side out of date" "$TMP/vm.txt" &&
        grep -q "enable TLS 1.2+ on the server" "$TMP/vm.txt" && # SPEC's text stays
        "$MW" -r pcaps/public/arkime-tls12-to-tls10.pcap --ports smtps=443 >"$TMP/so.txt" &&
        grep -q "Which side (1 session, e.g. s1): The server is the side out of date" "$TMP/so.txt" &&
        ! grep -q "The client is the side" "$TMP/so.txt" &&
        "$MW" -r pcaps/smtp-relay-denied.pcap --report "$TMP/relay.md" >"$TMP/relay.txt" &&
        grep -q "Which side (1 session, e.g. s1): The server offered AUTH and the client never logged in" "$TMP/relay.txt" &&
        grep -q "Which side (1 session, e.g. s1): The server offered AUTH" "$TMP/relay.md" &&
        ! "$MW" -r pcaps/smtp-auth-ok.pcap | grep -q "Which side"
}
check "diagnosis says which side: old client refused, old server chosen, AUTH offered and unused" side_advice
# --- SMTP transactions (issue 19) and strict BDAT (issue 15 item 1) ---
quiet_transactions() { # -q: under a flagged session, only its transactions with findings
    "$MW" -r pcaps/smtp-multi-message-rset.pcap >"$TMP/txall.txt" 2>/dev/null &&
        "$MW" -q -r pcaps/smtp-multi-message-rset.pcap >"$TMP/txq.txt" 2>/dev/null &&
        grep -q '^        tx 3 from <sender@example.org> .* accepted 250 2.0.0 queued as ' "$TMP/txall.txt" &&
        ! grep -q 'not shown: -q' "$TMP/txall.txt" &&
        grep -q '^        tx 1 from <sender@example.org> → 1 rcpt (1 refused: 550 5.1.1) aborted$' "$TMP/txq.txt" &&
        grep -q '^        tx 2 from <sender@example.org> → 1 rcpt 238 bytes rejected 550 5.7.1 message content rejected$' "$TMP/txq.txt" &&
        ! grep -q '^        tx 3 ' "$TMP/txq.txt" &&
        grep -q '^        (1 transaction without findings not shown: -q)$' "$TMP/txq.txt" &&
        # a session without findings is not shown at all, as before
        "$MW" -q -r pcaps/smtp-multi.pcap >"$TMP/txq2.txt" 2>/dev/null &&
        ! grep -q '^        tx ' "$TMP/txq2.txt"
}
check "-q: only the transactions with findings under their session, the rest counted" quiet_transactions
bdat_cap() { # --max-bdat-chunk: a chunk over it is no chunk (bad_bdat); 0 is out of range
    "$MW" -r pcaps/public/sv-smtp-rset-null.pcap --json --max-bdat-chunk 12 >"$TMP/cap.jsonl" 2>/dev/null &&
        "$MW" -r pcaps/public/sv-smtp-rset-null.pcap --json >"$TMP/nocap.jsonl" 2>/dev/null &&
        grep -q '"anomalies":\["bad_bdat"\]' "$TMP/cap.jsonl" &&
        ! grep -q 'bad_bdat' "$TMP/nocap.jsonl" &&
        ! "$MW" -r pcaps/public/sv-smtp-rset-null.pcap --max-bdat-chunk 0 >/dev/null 2>"$TMP/cap.err" &&
        grep -q -- '--max-bdat-chunk must be from 1' "$TMP/cap.err"
}
check "--max-bdat-chunk: a larger chunk is the anomaly bad_bdat; 0 refused" bdat_cap

bdat_broken() { # a refused invalid BDAT that leaves no message sent: failed, and said so
    "$MW" -r pcaps/public/zeek-smtp-bdat-chunk-size-overflow.pcap >"$TMP/bb.txt" 2>/dev/null &&
        grep -q '  smtp  failed  (0.2 s)  521 5.5.4 Syntax: BDAT count \[LAST\]$' "$TMP/bb.txt" &&
        grep -q '^Outcomes: failed 1$' "$TMP/bb.txt" &&
        ! grep -q 'No problems found' "$TMP/bb.txt" &&
        grep -q '^bad_bdat (anomaly; failed, no flag): 1 session (s1)$' "$TMP/bb.txt" &&
        grep -q '^    What it means: The client sent a BDAT line that is not' "$TMP/bb.txt" &&
        "$MW" -q -r pcaps/public/sv-smtp-bdat-bad-tail-next-mail.pcap >"$TMP/bbq.txt" 2>/dev/null &&
        grep -q '  smtp  failed  ' "$TMP/bbq.txt" && # -q shows it: it has a finding
        "$MW" -r pcaps/public/zeek-smtp-bdat-cmd-invalid.pcapng --report "$TMP/bb.md" >/dev/null 2>&1 &&
        ! grep -q 'No problems found' "$TMP/bb.md" &&
        grep -q 'No flag was raised, but 3 sessions failed or were rejected' "$TMP/bb.md"
}
check "a refused invalid BDAT that sent no message: outcome failed, a finding in text, -q and report" bdat_broken

several_inputs_named() { # -r a b: each session says its file, each evidence frame its file
    "$MW" -r pcaps/smtp-syn-timeout.pcap pcaps/keyed-smtp587-auth-failed-tls13.pcap pcaps/smtp-relay-denied.pcap \
        --json >"$TMP/si.json" 2>/dev/null &&
        "$MW" -r pcaps/smtp-syn-timeout.pcap pcaps/keyed-smtp587-auth-failed-tls13.pcap pcaps/smtp-relay-denied.pcap \
            --report "$TMP/si.md" >"$TMP/si.txt" 2>/dev/null &&
        # frame 1 is in each file: the SYN's is the timed-out session's own (it was put in
        # the file whose packet was being read)
        grep -q '"flag":"connection_timeout","frame":1,[^}]*"input":"pcaps/smtp-syn-timeout.pcap"' "$TMP/si.json" &&
        grep -q '  SYN to port 25 never answered (7 attempts) (frame 1 of pcaps/smtp-syn-timeout.pcap)$' "$TMP/si.txt" &&
        grep -q '^      input: pcaps/smtp-relay-denied.pcap$' "$TMP/si.txt" &&
        [ "$(grep -c '^      input: ' "$TMP/si.txt")" -eq 3 ] &&
        grep -q 'frame 1 of smtp-syn-timeout.pcap' "$TMP/si.md" &&
        ! grep -q 'frame 1 of keyed-smtp587' "$TMP/si.md" &&
        # one input: no file named, as before
        "$MW" -r pcaps/smtp-syn-timeout.pcap >"$TMP/one.txt" 2>/dev/null &&
        ! grep -q 'input: \|frame 1 of' "$TMP/one.txt"
}
check "several inputs: text and report name the file of each session and evidence frame" several_inputs_named

filter_said() { # a BPF filter leaves packets out on purpose: the totals and the report say it
    "$MW" -r pcaps/smtp-relay-denied.pcap pcaps/smtp-auth-failed.pcap 'port 25 and host 127.0.0.11' \
        --report "$TMP/flt.md" >"$TMP/flt.txt" 2>/dev/null &&
        grep -q '^Filter: port 25 and host 127.0.0.11 (17 packets left out by it)$' "$TMP/flt.txt" &&
        grep -q 'BPF filter: .*port 25 and host 127.0.0.11.* (17 packets left out by it, on purpose)' "$TMP/flt.md" &&
        "$MW" -r pcaps/smtp-relay-denied.pcap --report "$TMP/noflt.md" >"$TMP/noflt.txt" 2>/dev/null &&
        ! grep -q '^Filter:' "$TMP/noflt.txt" && ! grep -q 'BPF filter:' "$TMP/noflt.md"
}
check "a BPF filter is named in the totals and the report, with the packets it left out" filter_said

save_flagged_compressed() { # the second pass reads inputs as the first: compressed, pcapng
    gzip -c pcaps/smtp-relay-denied.pcap >"$TMP/sf.pcap.gz" &&
        zstd -q -c pcaps/smtp-auth-failed.pcap >"$TMP/sf.pcap.zst" &&
        "$MW" -r pcaps/smtp-relay-denied.pcap pcaps/smtp-auth-failed.pcap --save-flagged "$TMP/sf-plain" >/dev/null 2>&1 &&
        "$MW" -r "$TMP/sf.pcap.gz" "$TMP/sf.pcap.zst" --save-flagged "$TMP/sf-z" >/dev/null 2>"$TMP/sf.err" &&
        [ ! -s "$TMP/sf.err" ] &&
        cmp -s "$TMP/sf-plain/s1-relay_denied.pcap" "$TMP/sf-z/s1-relay_denied.pcap" &&
        cmp -s "$TMP/sf-plain/s2-auth_failed.pcap" "$TMP/sf-z/s2-auth_failed.pcap" &&
        "$MW" -r pcaps/keyed-embedded-imaps993-auth-failed-tls13.pcapng --save-flagged "$TMP/sf-ng" >/dev/null 2>&1 &&
        "$MW" -r "$TMP/sf-ng/s1-auth_failed.pcap" --json | grep -q '"protocol":"imaps"' # keys stay behind
}
if command -v zstd >/dev/null; then
    check "--save-flagged reads gzip/zstd inputs and pcapng (DSB) through the input layer" save_flagged_compressed
else
    skip "--save-flagged on compressed inputs" "zstd missing"
fi

many_inputs_fd_limit() { # -r DIR of 300 captures: merged, all open; the limit said in one line
    mkdir -p "$TMP/many" && for i in $(seq -w 1 300); do cp pcaps/smtp-relay-denied.pcap "$TMP/many/c$i.pcap"; done
    # a soft limit under what they need is raised (to the hard one) and the run goes on
    (ulimit -Sn 64 && "$MW" -r "$TMP/many" >"$TMP/many.txt" 2>"$TMP/many.err") &&
        grep -q '^Sessions: 1 (smtp 1)$' "$TMP/many.txt" &&
        # a hard limit under it: one line naming the limit and what to do, exit 1, no output
        ! (ulimit -n 64 && "$MW" -r "$TMP/many" >"$TMP/many2.txt" 2>"$TMP/many2.err") &&
        [ "$(wc -l <"$TMP/many2.err")" -eq 1 ] && [ ! -s "$TMP/many2.txt" ] &&
        grep -q '^mailwire: 300 inputs are read merged by time, all open at once: that needs about 364 open files, over the limit of 64 (ulimit -n); raise it (ulimit -n 364)' "$TMP/many2.err"
}
check "-r DIR of 300 captures: a low soft fd limit is raised; a hard one is said in one line" many_inputs_fd_limit

# plain pcap files are read by mailwire's own record reader (input/format/pcapfile.h), the
# same file on stdin by libpcap's: the same records and messages, whole and cut anywhere
own_reader_as_libpcap() {
    local f out cut size
    for f in pcaps/imap-append-large.pcap pcaps/smtp-starttls.pcap pcaps/smtp-relay-denied.pcap \
        pcaps/public/ndpi-smtp-starttls-vlan.pcap; do
        size=$(stat -c %s "$f")
        for cut in "$size" $((size - 1)) $((size * 2 / 3)) $((size / 3)) 40 30; do
            [ "$cut" -ge 24 ] || continue
            head -c "$cut" "$f" >"$TMP/own.pcap"
            TZ=UTC "$MW" -r "$TMP/own.pcap" --json -v >"$TMP/own.a" 2>"$TMP/own.ae"
            echo "rc $?" >>"$TMP/own.ae"
            TZ=UTC "$MW" -r - --json -v <"$TMP/own.pcap" >"$TMP/own.b" 2>"$TMP/own.be"
            echo "rc $?" >>"$TMP/own.be"
            # the uid is made from the input's identity, which stdin does not share
            for x in a ae b be; do
                sed -i "s#$TMP/own.pcap#INPUT#g; s#(stdin)#INPUT#g; s#\"uid\":\"[^\"]*\"##g" "$TMP/own.$x"
            done
            cmp -s "$TMP/own.a" "$TMP/own.b" && cmp -s "$TMP/own.ae" "$TMP/own.be" ||
                { echo "# $f cut at $cut differs"; return 1; }
        done
    done
}
check "plain pcap: mailwire's record reader and libpcap's (stdin) give the same records and messages" own_reader_as_libpcap

echo "1..$n"
