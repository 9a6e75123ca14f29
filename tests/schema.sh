#!/usr/bin/env bash
# Every record the test suite produces is valid against doc/record.schema.json (issue 16):
# every capture of pcaps/ and pcaps/public/ with --json and --json -v, with its key log when
# it has one, with its server logs (and their other renderings) when it has them, with the
# options of tests/golden/cases.tsv, the generated captures of tests/gen_*_pcaps.py, and an
# eviction run (continues). Then crafted records the validator must refuse.
# Usage: tests/schema.sh MAILWIRE_BINARY        (TAP on stdout)
set -u
MW=${1:?usage: schema.sh MAILWIRE}
cd "$(dirname "$0")/.." || exit 2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
VALIDATE=(python3 tests/validate_records.py --schema doc/record.schema.json)

validate() { # name file [validator options]
    local name=$1 file=$2; shift 2
    if "${VALIDATE[@]}" "$@" "$file" >"$TMP/v.out" 2>&1; then ok "schema: $name ($(tail -1 "$TMP/v.out"))"
    else not_ok "schema: $name" "$(head -c 3000 "$TMP/v.out")"; fi
}

if ! python3 -c 'import jsonschema' 2>/dev/null; then
    echo "not ok 1 - schema: python3-jsonschema is not installed (scripts/install-deps.sh)"
    echo "1..1"
    exit 0
fi

# logs_of NAME: the --maillog options for a capture's recorded logs
logs_of() { local l; for l in "pcaps/$1.maillog" "pcaps/$1.dovecot.log"; do [ -f "$l" ] && printf -- '--maillog %s ' "$l"; done; }
run() { "$MW" "$@" --json 2>/dev/null; "$MW" "$@" --json -v 2>/dev/null; }

# --- every capture, plain, with its keys, with its logs ---
out=$TMP/captures.jsonl
: >"$out"
for cap in pcaps/*.pcap pcaps/*.pcapng pcaps/public/*.pcap pcaps/public/*.pcapng pcaps/public/*.gz; do
    [ -f "$cap" ] || continue
    run -r "$cap" >>"$out"
    base=${cap%.pcap*}
    name=$(basename "$base")
    [ -f "$base.keys" ] && run -r "$cap" --keylog "$base.keys" >>"$out"
    logs=$(logs_of "$name")
    if [ -n "$logs" ]; then
        # shellcheck disable=SC2086
        run -r "$cap" $logs --log-tz UTC >>"$out"
        # shellcheck disable=SC2086
        [ -f "$base.keys" ] && run -r "$cap" --keylog "$base.keys" $logs --log-tz UTC >>"$out"
    fi
done
validate "every capture (--json, --json -v, keys, server logs)" "$out" --vocabulary .

# --- the golden cases with their options (--ports, --keylog) ---
out=$TMP/golden.jsonl
: >"$out"
while IFS=$'\t' read -r name cap opts; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    # shellcheck disable=SC2086
    run -r "$cap" --sensor golden $opts >>"$out"
done < tests/golden/cases.tsv
validate "golden cases with their options" "$out"

# --- the server logs' other renderings (journalctl json, short-iso-precise, RFC 5424, gzip) ---
out=$TMP/maillog.jsonl
: >"$out"
gzip -c pcaps/log-smtp587-auth-failed-tls13.maillog >"$TMP/maillog.1.gz"
for f in tests/maillog/log-*.log "$TMP/maillog.1.gz"; do
    name=$(basename "$f"); name=${name%%.*}
    [ "$f" = "$TMP/maillog.1.gz" ] && name=log-smtp587-auth-failed-tls13
    [ -f "pcaps/$name.pcap" ] || continue
    run -r "pcaps/$name.pcap" --maillog "$f" >>"$out"
done
# shellcheck disable=SC2046
run -r pcaps/log-smtp587-auth-failed-berlin-tls13.pcap $(logs_of log-smtp587-auth-failed-berlin-tls13) \
    --log-tz Europe/Berlin >>"$out"
validate "server-log renderings and zones" "$out"

# --- generated captures, several inputs, eviction (continues) ---
python3 tests/gen_secret_pcaps.py "$TMP/secrets" >/dev/null
python3 tests/gen_engine_pcaps.py "$TMP/engine" >/dev/null
out=$TMP/generated.jsonl
: >"$out"
for cap in "$TMP"/secrets/*.pcap "$TMP"/engine/*.pcap; do
    run -r "$cap" >>"$out"
done
run -r pcaps/smtp-relay-denied.pcap -r pcaps/imap-login-failed.pcap -r pcaps/pop3-login-ok.pcap >>"$out"
# two sessions at once (the second capture's times moved onto the first's, by editcap) with
# room for one: each evicts the other, the rests are records that continue them (one analysis
# thread: with N, --max-flows is shared out and the two flows may sit in different threads)
start() { capinfos -Sa -T -r "$1" | cut -f2; }
shift_s=$(python3 -c 'import sys; print(f"{float(sys.argv[1]) - float(sys.argv[2]) + 0.0001:.6f}")' \
    "$(start pcaps/smtp-relay-denied.pcap)" "$(start pcaps/smtp-unknown-user.pcap)")
editcap -t "$shift_s" pcaps/smtp-unknown-user.pcap "$TMP/shifted.pcap" &&
    mergecap -w "$TMP/overlap.pcap" pcaps/smtp-relay-denied.pcap "$TMP/shifted.pcap"
run -r "$TMP/overlap.pcap" --max-flows 1 --threads 1 >>"$out"
validate "generated captures, several inputs, eviction" "$out"
check_continues() { grep -q '"continues":"s' "$out"; }
if check_continues; then ok "schema: the eviction run has a continues record"
else not_ok "schema: the eviction run has a continues record" "no \"continues\" key in $out"; fi

# the schema's keys no record above used (said, not a failure: e.g. transactions_dropped
# needs more transactions than any capture holds)
"${VALIDATE[@]}" --coverage "$TMP"/captures.jsonl "$TMP"/golden.jsonl "$TMP"/maillog.jsonl \
    "$out" 2>&1 | grep '^# '

# --- crafted records: the validator refuses each ---
good=$TMP/good.jsonl
"$MW" -r pcaps/smtp-auth-ok.pcap --json >"$good" 2>/dev/null
validate "the base record of the crafted ones" "$good"
craft() { # name python-expression-on-r
    local name=$1 expr=$2
    python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
exec(sys.argv[2])
print(json.dumps(r))' "$good" "$expr" >"$TMP/bad.jsonl" || { not_ok "schema refuses $name" "craft failed"; return; }
    if "${VALIDATE[@]}" "$TMP/bad.jsonl" >"$TMP/v.out" 2>&1; then
        not_ok "schema refuses $name" "accepted: $(head -c 500 "$TMP/bad.jsonl")"
    else
        ok "schema refuses $name"
    fi
}
craft "an unknown top-level key" 'r["colour"] = "blue"'
craft "an unknown key in auth" 'r["auth"]["password"] = "x"'
craft "an unknown key in a transaction" 'r["smtp"]["transactions"][0]["spam_score"] = 1'
craft "an unknown key in an evidence entry" 'r["evidence"][0]["why"] = "x"'
craft "auth.code as a string" 'r["auth"]["code"] = "535"'
craft "a port as a string" 'r["server_port"] = "25"'
craft "a flag not in the vocabulary" 'r["flags"].append("zz_unknown_flag")'
craft "an anomaly not in the vocabulary" 'r["anomalies"] = ["weird"]'
craft "a missing required key" 'del r["community_id"]'
craft "a log evidence entry with a frame" 'r["evidence"][0].update(source="log", file="f", line=1)'
craft "keys out of order" 'r = {"ts_start": r.pop("ts_start"), **r}'
craft "a timestamp without microseconds" 'r["ts_start"] = "2026-11-23T09:47:49Z"'
craft "an IP that is not one" 'r["client_ip"] = "999.1.1.1"'
craft "two mail protocol objects" 'r["imap"] = {"commands": 0, "failures": []}'
echo '{"id":"s1"' >"$TMP/notjson.jsonl"
if "${VALIDATE[@]}" "$TMP/notjson.jsonl" >/dev/null 2>&1; then not_ok "schema refuses a line that is not JSON"
else ok "schema refuses a line that is not JSON"; fi
# a flag added to the sources but not to the schema is caught
mkdir -p "$TMP/src/analyzer/core"
sed 's/X(AUTH_FAILED, "auth_failed",/X(AUTH_FAILED, "auth_failed",) X(NEW_ONE, "brand_new_flag",/' \
    analyzer/core/flags.h >"$TMP/src/analyzer/core/flags.h"
cp analyzer/core/session.c "$TMP/src/analyzer/core/"
if ! "${VALIDATE[@]}" --vocabulary "$TMP/src" "$good" >"$TMP/v.out" 2>&1 && grep -q brand_new_flag "$TMP/v.out"; then
    ok "schema: a flag in the sources missing from the schema is named"
else not_ok "schema: a flag in the sources missing from the schema is named" "$(cat "$TMP/v.out")"; fi
echo "1..$n"
