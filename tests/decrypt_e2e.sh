# shellcheck shell=bash
# End-to-end checks of TLS decryption (issue 13), sourced by tests/e2e.sh (ok, not_ok, check,
# $MW and $TMP come from there). The keyed captures and their key logs: pcaps/keyed-*.
# Alone: bash tests/decrypt_e2e.sh MAILWIRE (its own TAP plan; exit 1 on a failure).
if ! declare -F check >/dev/null; then
    set -u
    MW=${1:?usage: decrypt_e2e.sh MAILWIRE}
    cd "$(dirname "$0")/.." || exit 2
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
    n=0 dec_failed=0 dec_alone=1
    ok()     { n=$((n + 1)); echo "ok $n - $1"; }
    not_ok() { n=$((n + 1)); dec_failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
    check()  { local name=$1; shift; if "$@" >"$TMP/check.out" 2>&1; then ok "$name"; else not_ok "$name" "$(head -c 2000 "$TMP/check.out")"; fi; }
    # shellcheck source=tests/secrets.sh
    . tests/secrets.sh
fi

# tshark is the oracle: every keyed session's commands, replies and frames as it decrypts them
python3 tests/tshark_decrypt_xcheck.py "$MW" pcaps/keyed-*.pcap pcaps/keyed-*.pcapng \
    >"$TMP/dxcheck.tap" 2>&1
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "decrypt xcheck: ${line#ok * - }" ;;
    "not ok "*) not_ok "decrypt xcheck: ${line#not ok * - }" ;;
    1..*) ;;
    *) echo "$line" ;;
    esac
done <"$TMP/dxcheck.tap"

# No password and no key in any output mode with the keys given: the recorded passwords in
# every form, and each secret of the key logs (hex, and its first 16 bytes) in any case.
keyed_outputs() { # out
    local out=$1 cap keys
    : >"$out"
    for cap in pcaps/keyed-*.pcap pcaps/keyed-*.pcapng; do
        keys=${cap%.*}.keys
        local opt=()
        [ -f "$keys" ] && opt=(--keylog "$keys")
        "$MW" -r "$cap" "${opt[@]}" >>"$out" 2>&1
        "$MW" -r "$cap" "${opt[@]}" -v >>"$out" 2>&1
        "$MW" -r "$cap" "${opt[@]}" --json >>"$out" 2>&1
        "$MW" -r "$cap" "${opt[@]}" --json -v >>"$out" 2>&1
        "$MW" -r "$cap" "${opt[@]}" --report "$TMP/k.html" >>"$out" 2>&1 && cat "$TMP/k.html" >>"$out"
        "$MW" -r "$cap" "${opt[@]}" --report "$TMP/k.md" >>"$out" 2>&1 && cat "$TMP/k.md" >>"$out"
    done
    [ -s "$out" ]
}
keys_absent() { # out
    local found=0 hex
    while read -r _ _ hex; do
        [ -n "$hex" ] || continue
        if grep -aqiF -e "$hex" -e "${hex:0:32}" "$1"; then echo "key log secret found"; found=1; fi
    done < <(cat pcaps/keyed-*.keys)
    [ "$found" -eq 0 ]
}
keyed_outputs "$TMP/keyed-out"
check "decrypted: no password in any output mode" secret_forms_absent "$TMP/keyed-out"
check "decrypted: no key log secret in any output mode" keys_absent "$TMP/keyed-out"

kjson() { "$MW" -r "pcaps/$1" "${@:2}" --json 2>/dev/null; }
check "decrypted: cleartext_auth never raised inside TLS" \
    bash -c '! grep -h cleartext_auth <(for c in pcaps/keyed-*.pcap; do "$0" -r "$c" --keylog "${c%.pcap}.keys" --json; done)' "$MW"
check "keys missing: outcome stays encrypted, text says it could not be seen" \
    bash -c '"$0" -r pcaps/keyed-nokey-smtp587-auth-failed-tls13.pcap --keylog pcaps/keyed-nokey-smtp587-auth-failed-tls13.keys | grep -q "the key log has no key for it"' "$MW"
check "no keys: never 'No problems found.' over encrypted sessions" \
    bash -c 'out=$("$0" -r pcaps/tls-1.3.pcap); ! grep -q "No problems found" <<<"$out" && grep -q "1 session could not be seen" <<<"$out" && grep -q -- "--keylog" <<<"$out"' "$MW"
check "no keys: the report says how many sessions could not be seen" \
    bash -c '"$0" -r pcaps/tls-1.3.pcap --report "$1/nk.md" >/dev/null && grep -q "Not seen (encrypted): 1 session" "$1/nk.md" && ! grep -q "No problems found" "$1/nk.md"' "$MW" "$TMP"
check "pcapng with embedded keys decrypts with no option" \
    grep -q '"decrypted":true,"keys":"found"' <(kjson keyed-embedded-imaps993-auth-failed-tls13.pcapng)
check "TLS 1.3 certificate seen with keys (expired)" \
    grep -q '"tls_cert_expired"' <(kjson keyed-smtps465-cert-expired-tls13.pcap --keylog pcaps/keyed-smtps465-cert-expired-tls13.keys)
check "TLS 1.3 certificate not seen without keys" \
    bash -c '! "$0" -r pcaps/keyed-smtps465-cert-expired-tls13.pcap --json | grep -q tls_cert_expired' "$MW"

# A key log with malformed lines: counted and named by line number, never its content
printf 'CLIENT_RANDOM 00zz 11\nnot a key log line at all\n' >"$TMP/bad.keys"
check "key log: malformed lines named by number, content never printed" \
    bash -c '"$0" -r pcaps/tls-1.3.pcap --keylog "$1" 2>"$2" >/dev/null; grep -q "line 1" "$2" && grep -q "line 2" "$2" && ! grep -q "00zz\|not a key log" "$2"' "$MW" "$TMP/bad.keys" "$TMP/bad.err"
check "key log: a file that cannot be read stops the run (exit 1, one line)" \
    bash -c '"$0" -r pcaps/tls-1.3.pcap --keylog "$1/nosuch.keys" >/dev/null 2>"$1/nk.err"; [ $? -eq 1 ] && [ $(wc -l <"$1/nk.err") -eq 1 ] && grep -q "nosuch.keys" "$1/nk.err"' "$MW" "$TMP"

if [ "${dec_alone:-0}" = 1 ]; then
    echo "1..$n"
    exit "$dec_failed"
fi
