#!/usr/bin/env bash
# Live capture end to end (issue 6): `mailwire -i lo` against real postfix and dovecot on
# loopback, driven by real clients (swaks, curl, python). Prints TAP lines.
#
#   sudo bash tests/live.sh [MAILWIRE]        # MAILWIRE defaults to ./mailwire
#
# Needs root and the Debian packages postfix dovecot-imapd dovecot-pop3d swaks curl python3
# iproute2 (ethtool optional); without them it prints one "# SKIP" line and exits 0.
# The servers are configured by pcaps/servers.sh (the same set-up as pcaps/record.sh) in a
# temporary directory, and everything - postfix, dovecot, the clients and `mailwire -i lo` -
# runs inside a network namespace of its own (mw-live-PID: its own lo, MTU 1500, offloads off),
# so a postfix/dovecot the machine itself runs is never stopped or reconfigured, no host port is
# bound and the host's lo is left as it is; /etc/postfix and /etc/dovecot are not touched. If no
# namespace can be made (not root / no CAP_SYS_ADMIN, no `ip`) it prints "SKIP: <reason>" and
# skips. Everything is undone by the EXIT traps: mailwire and the servers stopped, the temporary
# directory removed (KEEP_WORK=1 keeps it), the namespace deleted. Every wait is bounded; the
# whole test takes about 20 s.
set -u
MW=${1:-./mailwire}
[[ $MW == /* ]] || MW=$PWD/$MW
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 1

SKIP_WHAT="live tests"
# shellcheck source=tests/tap.sh
. tests/tap.sh

# ---- can we run at all? --------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || skip_all "not root (live capture and the mail servers need root)"
missing=()
for c in postfix postconf dovecot swaks curl python3 ip ss; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[[ -x /usr/lib/dovecot/imap && -x /usr/lib/dovecot/pop3 ]] || missing+=("dovecot-imapd/dovecot-pop3d")
((${#missing[@]} == 0)) || skip_all "missing ${missing[*]}"
if [[ ! -x $MW ]]; then
    not_ok "mailwire binary" "$MW is not an executable file"
    exit 1
fi

# shellcheck disable=SC2034  # read by servers.sh
LOG_TAG=live
# shellcheck source=../pcaps/servers.sh
source pcaps/servers.sh
# outside: make the namespace, re-run this script inside it, exit with its status
netns_enter live "$SELF" "$MW" || skip_all "$NETNS_ERROR"
# a set-up failure is a test failure (the EXIT trap still cleans up)
die() { not_ok "set-up: $*"; exit 1; }

MW_PID=''
MW2_PID=''
stop_mw() {  # stop_mw PID - SIGINT, up to 10 s, then SIGKILL; sets MW_RC
    local pid=$1 i
    MW_RC=''
    [[ -n $pid ]] || return 0
    kill -INT "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        MW_RC=killed
    else
        wait "$pid" 2>/dev/null
        MW_RC=$?
    fi
}
cleanup() {
    local rc=$?
    set +e
    [[ -n $MW_PID ]] && stop_mw "$MW_PID"
    [[ -n $MW2_PID ]] && stop_mw "$MW2_PID"
    stop_all
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- servers (as pcaps/record.sh) ----------------------------------------------------------
T0=$SECONDS
setup_workdir /tmp/mailwire-live
setup_ca
setup_postfix
setup_dovecot
start_postfix
start_dovecot
ok "postfix and dovecot up on the loopback of network namespace $NETNS ($((SECONDS - T0)) s)"

OUT=$WORK/live.jsonl
# the packet socket of PID is open (its inode is in /proc/net/packet), or give up after 5 s
wait_capturing() {
    local pid=$1 i inode
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        for inode in $(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'); do
            awk 'NR > 1 {print $NF}' /proc/net/packet | grep -qx "$inode" && { sleep 0.5; return 0; }
        done
        sleep 0.1
    done
    return 1
}
# how many of the expected records are in FILE (the checks below say which is which)
records_present() {
    python3 - "$1" <<'EOF'
import json, sys
want = {"relay": 0, "authfail": 0, "starttls": 0, "imap-auth": 0, "imap-login": 0, "pop3": 0}
try:
    lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
except OSError:
    lines = []
for l in lines:
    try:
        r = json.loads(l)
    except ValueError:
        continue
    c, s = r.get("client", ""), r.get("server", "")
    if s == "127.0.0.1:25" and c.startswith("127.0.0.1:") and not r.get("starttls"):
        want["relay"] = 1
    elif s == "127.0.0.1:25" and c.startswith("127.0.0.11:"):
        want["authfail"] = 1
    elif s == "127.0.0.1:25" and r.get("starttls"):
        want["starttls"] = 1
    elif s == "127.0.0.1:143" and c.startswith("127.0.0.13:"):
        want["imap-auth"] = 1
    elif s == "127.0.0.1:143" and c.startswith("127.0.0.12:"):
        want["imap-login"] = 1
    elif s == "127.0.0.1:110":
        want["pop3"] = 1
print(sum(want.values()), " ".join(k for k, v in want.items() if not v) or "-")
EOF
}

# ---- 1. mailwire -i lo while real sessions run ----------------------------------------------
"$MW" -i lo --json -o "$OUT" >"$WORK/mw.stdout" 2>"$WORK/mw.stderr" &
MW_PID=$!
if wait_capturing "$MW_PID"; then
    ok "mailwire -i lo is capturing (pid $MW_PID)"
else
    not_ok "mailwire -i lo is capturing" "stderr: $(head -c 1000 "$WORK/mw.stderr")"
    exit 1
fi

SWAKS=(swaks --helo "$CLIENT_HELO" --from "$SENDER" --timeout 30)
T1=$SECONDS
# relay denied: 127.0.0.1 is not in mynetworks -> 554 5.7.1
"${SWAKS[@]}" --server 127.0.0.1 --port 25 --to bob@example.net >"$WORK/relay.log" 2>&1
# AUTH LOGIN with the wrong password, in clear text (smtpd_tls_auth_only=no) -> 535 5.7.8
"${SWAKS[@]}" --server 127.0.0.1 --port 25 --local-interface "$FAIL_SRC_SMTP" --to "$USER_NAME" \
    --auth LOGIN --auth-user "$USER_NAME" --auth-password "$PASS_BAD" >"$WORK/authfail.log" 2>&1
# STARTTLS, then a message that is accepted
"${SWAKS[@]}" --server 127.0.0.1 --port 25 --to "$USER_NAME" -tls >"$WORK/starttls.log" 2>&1
# IMAP with the wrong password -> NO [AUTHENTICATIONFAILED] (each after ~2 s; their own source
# addresses, so dovecot's auth penalty does not slow down the POP3 login below):
# curl: AUTHENTICATE PLAIN with SASL-IR (base64 secret); python imaplib: LOGIN (plain secret)
curl -sS -v --max-time 30 --interface "$FAIL_SRC_IMAP_AUTH" -u "$USER_NAME:$PASS_BAD" imap://127.0.0.1/ \
    >"$WORK/imap-auth.out" 2>"$WORK/imap-auth.log"
python3 - "$USER_NAME" "$PASS_BAD" "$FAIL_SRC_IMAP_LOGIN" >"$WORK/imap-login.log" 2>&1 <<'EOF'
import imaplib, socket, sys
user, pw, src = sys.argv[1:4]
class IMAP(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(src, 0))
m = IMAP("127.0.0.1", 143, timeout=30)
try:
    m.login(user, pw)
except imaplib.IMAP4.error as e:
    print("login failed:", e)
m.logout()
EOF
# POP3 USER/PASS that succeeds
python3 - "$USER_NAME" "$PASS_GOOD" >"$WORK/pop3.log" 2>&1 <<'EOF'
import poplib, sys
p = poplib.POP3("127.0.0.1", 110, timeout=30)
p.set_debuglevel(1)
p.user(sys.argv[1])
print(p.pass_(sys.argv[2]))
p.stat()
p.quit()
EOF
CLIENT_S=$((SECONDS - T1))

# the servers did what the checks below expect (otherwise the set-up is wrong, not mailwire)
client_ok() {  # client_ok NAME LOG REGEX
    if grep -qE "$3" "$2"; then ok "client: $1"; else not_ok "client: $1" "no /$3/ in $(basename "$2"):" "$(tail -5 "$2")"; fi
}
client_ok "relay denied by postfix (554 5.7.1)" "$WORK/relay.log" '554 5\.7\.1'
client_ok "SMTP AUTH LOGIN refused (535 5.7.8)" "$WORK/authfail.log" '535 5\.7\.8'
client_ok "STARTTLS message accepted (250 queued)" "$WORK/starttls.log" '250 2\.0\.0 Ok: queued'
client_ok "IMAP AUTHENTICATE PLAIN refused (NO [AUTHENTICATIONFAILED])" "$WORK/imap-auth.log" 'NO \[AUTHENTICATIONFAILED\]'
client_ok "IMAP LOGIN refused (AUTHENTICATIONFAILED)" "$WORK/imap-login.log" 'login failed:.*AUTHENTICATIONFAILED'
client_ok "POP3 USER/PASS accepted (+OK Logged in.)" "$WORK/pop3.log" "\\+OK Logged in"

# ---- 2. the records appear while mailwire still runs ----------------------------------------
T2=$SECONDS
have=0
for ((i = 0; i < 100; i++)); do
    read -r have lacking < <(records_present "$OUT")
    ((have == 6)) && break
    sleep 0.1
done
if ((have == 6)) && kill -0 "$MW_PID" 2>/dev/null; then
    ok "all 6 records written while mailwire runs (clients took ${CLIENT_S} s, records complete $((SECONDS - T2)) s later)"
else
    not_ok "all 6 records written while mailwire runs" "$have of 6 after 10 s; missing: $lacking" \
        "mailwire $(kill -0 "$MW_PID" 2>/dev/null && echo running || echo 'NOT running')" \
        "stderr: $(head -c 500 "$WORK/mw.stderr")"
fi

# ---- 3. SIGINT: clean stop, exit 0 -----------------------------------------------------------
stop_mw "$MW_PID"
MW_PID=''
if [[ $MW_RC == 0 ]]; then
    ok "SIGINT: mailwire exits 0"
else
    not_ok "SIGINT: mailwire exits 0" "exit status: $MW_RC" "stderr: $(head -c 500 "$WORK/mw.stderr")"
fi

# ---- 4. each record ------------------------------------------------------------------------
python3 - "$OUT" "$n" "$USER_NAME" "$PASS_GOOD" "$PASS_BAD" >"$WORK/checks.tap" <<'EOF'
import base64, json, sys
path, n, user = sys.argv[1], int(sys.argv[2]), sys.argv[3]
passwords = sys.argv[4:]
raw = open(path, "rb").read()
def tap(ok, name, *detail):
    global n
    n += 1
    print(("ok" if ok else "not ok"), n, "-", name)
    if not ok:
        for d in detail:
            print("#  ", d)
recs, bad = [], []
for l in raw.decode("utf-8", "replace").splitlines():
    try:
        recs.append(json.loads(l))
    except ValueError:
        bad.append(l[:200])
tap(not bad and recs, "live.jsonl: %d records, every line JSON" % len(recs), *bad[:3])

def find(name, pred):
    m = [r for r in recs if pred(r)]
    return m[0] if len(m) == 1 else None, len(m)
def brief(r):
    return json.dumps({k: r.get(k) for k in ("id", "client", "server", "protocol", "starttls", "outcome",
                                              "flags", "auth", "closed_by")})[:600]
def check(name, pred, conds):
    r, count = find(name, pred)
    if r is None:
        tap(False, name, "expected exactly 1 record, found %d" % count, *[brief(x) for x in recs])
        return
    failed = [what for what, c in conds if not c(r)]
    tap(not failed, name, *(["failed: " + ", ".join(failed), brief(r)] if failed else []))

flags = lambda r: r.get("flags") or []
auth = lambda r: r.get("auth") or {}
tls = lambda r: r.get("tls") or {}
check("relay-denied send: smtp, relay_denied, rejected",
      lambda r: r.get("server") == "127.0.0.1:25" and r.get("client", "").startswith("127.0.0.1:") and not r.get("starttls"),
      [("protocol smtp", lambda r: r.get("protocol") == "smtp"),
       ("flag relay_denied", lambda r: "relay_denied" in flags(r)),
       ("outcome rejected", lambda r: r.get("outcome") == "rejected"),
       ("RCPT 554", lambda r: any(x.get("code") == 554 for x in (r.get("smtp") or {}).get("rcpt") or []))])
check("SMTP AUTH LOGIN wrong password: auth_failed + cleartext_auth, 535",
      lambda r: r.get("server") == "127.0.0.1:25" and r.get("client", "").startswith("127.0.0.11:"),
      [("protocol smtp", lambda r: r.get("protocol") == "smtp"),
       ("flag auth_failed", lambda r: "auth_failed" in flags(r)),
       ("flag cleartext_auth", lambda r: "cleartext_auth" in flags(r)),
       ("auth.mechanism LOGIN", lambda r: auth(r).get("mechanism") == "LOGIN"),
       ("auth.user " + user, lambda r: auth(r).get("user") == user),
       ("auth.result failure", lambda r: auth(r).get("result") == "failure"),
       ("auth.code 535", lambda r: str(auth(r).get("code")) == "535")])
check("STARTTLS send: starttls, TLS handshake seen, outcome encrypted",
      lambda r: r.get("server") == "127.0.0.1:25" and bool(r.get("starttls")),
      [("protocol smtp", lambda r: r.get("protocol") == "smtp"),
       ("starttls true", lambda r: r.get("starttls") is True),
       ("outcome encrypted", lambda r: r.get("outcome") == "encrypted"),
       ("tls.version TLS1.2/1.3", lambda r: tls(r).get("version") in ("TLS1.2", "TLS1.3")),
       ("tls.cipher", lambda r: bool(tls(r).get("cipher"))),
       ("no failure flag", lambda r: not set(flags(r)) & {"starttls_refused", "tls_handshake_failed", "auth_failed"})])
for what, src, mech in (("AUTHENTICATE PLAIN (curl)", "127.0.0.13:", "PLAIN"), ("LOGIN (imaplib)", "127.0.0.12:", "LOGIN")):
    check("IMAP %s wrong password: imap, auth_failed + cleartext_auth" % what,
          lambda r, src=src: r.get("server") == "127.0.0.1:143" and r.get("client", "").startswith(src),
          [("protocol imap", lambda r: r.get("protocol") == "imap"),
           ("flag auth_failed", lambda r: "auth_failed" in flags(r)),
           ("flag cleartext_auth", lambda r: "cleartext_auth" in flags(r)),
           ("auth.mechanism " + mech, lambda r, mech=mech: auth(r).get("mechanism") == mech),
           ("auth.result failure", lambda r: auth(r).get("result") == "failure"),
           ("auth.user " + user, lambda r: auth(r).get("user") == user),
           ("imap.failures has the NO", lambda r: len((r.get("imap") or {}).get("failures") or []) >= 1)])
check("POP3 USER/PASS: pop3, auth success",
      lambda r: r.get("server") == "127.0.0.1:110",
      [("protocol pop3", lambda r: r.get("protocol") == "pop3"),
       ("auth.result success", lambda r: auth(r).get("result") == "success"),
       ("auth.user " + user, lambda r: auth(r).get("user") == user),
       ("no auth_failed", lambda r: "auth_failed" not in flags(r)),
       ("outcome ok", lambda r: r.get("outcome") == "ok")])

forms = []
for pw in passwords:
    forms.append(pw.encode())
    forms.append(base64.b64encode(pw.encode()).rstrip(b"="))
    for u in (user, user.split("@")[0]):
        forms.append(base64.b64encode(b"\0" + u.encode() + b"\0" + pw.encode()).rstrip(b"="))
        forms.append(base64.b64encode(u.encode() + b"\0" + u.encode() + b"\0" + pw.encode()).rstrip(b"="))
found = [f.decode() for f in forms if f in raw]
tap(not found and raw, "no password in live.jsonl (plain or base64)", *["found: " + f for f in found])
print("N", n)
EOF
grep -v '^N ' "$WORK/checks.tap"
n=$(awk '$1 == "N" {print $2}' "$WORK/checks.tap")
[[ -n $n ]] || { n=0; not_ok "record checks ran" "python3 failed"; }

# ---- 5. privilege drop: -Z nobody ----------------------------------------------------------
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
mkdir -p "$WORK/drop"
chown nobody: "$WORK/drop"
OUT2=$WORK/drop/live-z.jsonl
"$MW" -i lo -Z nobody --json -o "$OUT2" >"$WORK/mw2.stdout" 2>"$WORK/mw2.stderr" &
MW2_PID=$!
ids=''
for ((i = 0; i < 50; i++)); do
    kill -0 "$MW2_PID" 2>/dev/null || break
    ids=$(awk '/^(Uid|Gid):/ {print $1, $2, $3, $4, $5}' "/proc/$MW2_PID/status" 2>/dev/null | tr '\n' ' ')
    [[ $ids == "Uid: $NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID Gid: $NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID " ]] && break
    sleep 0.1
done
groups=$(awk '/^Groups:/ {$1 = ""; print}' "/proc/$MW2_PID/status" 2>/dev/null)
if [[ $ids == "Uid: $NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID Gid: $NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID " ]] &&
    ! grep -qw 0 <<<"$groups"; then
    ok "-Z nobody: real, effective, saved and fs uid/gid are nobody's ($NOBODY_UID/$NOBODY_GID), groups:${groups:- none}"
else
    not_ok "-Z nobody: uid/gid are nobody's ($NOBODY_UID/$NOBODY_GID)" "/proc/$MW2_PID/status: ${ids:-process gone} Groups:$groups" \
        "stderr: $(head -c 500 "$WORK/mw2.stderr")"
fi
# and it still captures after the drop
"${SWAKS[@]}" --server 127.0.0.1 --port 25 --to bob@example.net >"$WORK/relay2.log" 2>&1
got=''
for ((i = 0; i < 50; i++)); do
    grep -q '"relay_denied"' "$OUT2" 2>/dev/null && { got=1; break; }
    sleep 0.1
done
if [[ -n $got ]]; then ok "-Z nobody: still captures (relay-denied record written)"; else
    not_ok "-Z nobody: still captures (relay-denied record written)" "$(head -c 500 "$OUT2" 2>/dev/null)" \
        "stderr: $(head -c 500 "$WORK/mw2.stderr")"
fi
stop_mw "$MW2_PID"
MW2_PID=''
if [[ $MW_RC == 0 ]]; then ok "-Z nobody: SIGINT, exit 0"; else
    not_ok "-Z nobody: SIGINT, exit 0" "exit status: $MW_RC" "stderr: $(head -c 500 "$WORK/mw2.stderr")"
fi
echo "# live tests took $((SECONDS - T0)) s"
