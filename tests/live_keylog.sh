#!/usr/bin/env bash
# Live decryption with a key log that grows while mailwire runs (issue 13), as TAP; root.
#
#   sudo bash tests/live_keylog.sh [MAILWIRE]
#
# In a network namespace of its own (mwkl-PID, removed at exit): `mailwire -i lo --keylog K`
# starts with K empty; openssl s_server (TLS 1.3, port 465, a throw-away self-signed
# certificate) and openssl s_client play an SMTPS exchange (220, EHLO, 250, AUTH PLAIN with
# a wrong password, 535). Two sessions:
#   1. the client writes its key log lines into K itself (-keylogfile K): keys that come
#      during the handshake, read again as K grows;
#   2. "late keys": the client's key log goes to another file, appended to K only 3 s after
#      the connection, after the server's encrypted flight, its greeting and the EHLO - the
#      records held meanwhile (--tls-hold-records) are decrypted in order once it does.
# Each session's record must be decrypted (tls.keys found), with the EHLO, the AUTH user
# and the 535 (auth_failed) read from inside TLS. No mail server is started.
set -u
cd "$(dirname "$0")/.."
MW=$(realpath "${1:-./mailwire}")
NS=mwkl-$$
TMP=$(mktemp -d)
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
cleanup() {
    [ -n "${MWPID:-}" ] && kill -INT "$MWPID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] && echo "# kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP needs root (network namespace, capture on its lo)"
    exit 0
fi
ip netns add "$NS" && ip netns exec "$NS" ip link set lo up || { echo "Bail out! netns"; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/s.key" -out "$TMP/s.crt" -days 2 \
    -subj /CN=mail.test 2>/dev/null

# session NAME CLIENT-KEYLOG [DELAY]: one SMTPS exchange; the client's key log goes to
# CLIENT-KEYLOG, which is appended to the followed K after DELAY s when it is not K itself
session() {
    local name=$1 ckeys=$2 delay=${3:-}
    { sleep 1; printf '220 mail.test ESMTP\n'; sleep 2; printf '250 AUTH PLAIN\n'; sleep 2
      printf '535 5.7.8 Error: authentication failed\n'; sleep 2; } |
        timeout 12 ip netns exec "$NS" openssl s_server -accept 127.0.0.1:465 -naccept 1 \
            -cert "$TMP/s.crt" -key "$TMP/s.key" -tls1_3 -crlf >"$TMP/$name.server.log" 2>&1 &
    local srv=$! late=
    sleep 0.5
    if [ -n "$delay" ]; then
        (sleep "$delay"; cat "$ckeys" >>"$TMP/k.keys") &
        late=$!
    fi
    { sleep 2; printf 'EHLO live.test\n'; sleep 2
      printf 'AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABXcm9uZy1QYTU1d29yZA==\n'; sleep 3; } |
        timeout 12 ip netns exec "$NS" openssl s_client -connect 127.0.0.1:465 -keylogfile "$ckeys" \
            -crlf -nocommands >"$TMP/$name.client.log" 2>&1
    wait "$srv" 2>/dev/null
    [ -z "$late" ] || wait "$late"
}

: >"$TMP/k.keys"
ip netns exec "$NS" "$MW" -i lo --keylog "$TMP/k.keys" --json -o "$TMP/out.json" 'tcp port 465' \
    >"$TMP/mw.log" 2>&1 &
MWPID=$!
sleep 2
session direct "$TMP/k.keys"
: >"$TMP/late.keys"
session late "$TMP/late.keys" 3
sleep 1
kill -INT "$MWPID"
wait "$MWPID"
MWPID=

check() { # NTH DESCRIPTION PYTHON-EXPRESSION-over-r
    python3 - "$TMP/out.json" "$1" "$3" <<'EOF' && ok "$2" || not_ok "$2"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
r = rows[int(sys.argv[2])] if len(rows) > int(sys.argv[2]) else None
sys.exit(0 if r is not None and eval(sys.argv[3]) else 1)
EOF
}
inside='r["tls"]["decrypted"] and r["tls"]["keys"] == "found" and r["smtp"]["helo"] == "live.test" and r["auth"]["user"] == "alice@example.test" and "auth_failed" in r["flags"]'
check 0 "keys written during the handshake into the followed key log: session decrypted" "$inside"
check 1 "keys appended 3 s after the connection (late keys): held records decrypted in order" "$inside"
# the certificate (TLS 1.3: inside the held encrypted flight) with the frame that carried it
check 1 "late keys: the held Certificate read, with its own frame (before the 535's)" \
    'r["auth"]["code"] == 535 and [e["frame"] for e in r["evidence"] if e["flag"] == "tls_cert_self_signed"][0] < [e["frame"] for e in r["evidence"] if e["flag"] == "auth_failed"][0]'
if ! grep -q . "$TMP/late.keys"; then not_ok "the late client wrote a key log"; fi
echo "1..$n"
[ "$failed" -eq 0 ]
