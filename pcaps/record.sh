#!/usr/bin/env bash
# record.sh - regenerate mailwire's sample captures from REAL mail software on loopback.
#
#   sudo ./pcaps/record.sh              # record every scenario into the directory of this script
#   sudo ./pcaps/record.sh smtp-ipv6 tls-1.3   # record only these (names without .pcap)
#   KEEP_WORK=1 sudo ./pcaps/record.sh  # keep the temporary work dir (configs, logs) for debugging
#   sudo ./pcaps/record.sh imap-timeout-bye     # opt-in extra (3 min): not part of the default run
#   sudo ./pcaps/record.sh @new         # only the keyed, server-log and multi-message captures
#                                       # (@keyed, @logs, @multi: one group each)
#   MW_REC_OUT=pcaps/bulk sudo -E ./pcaps/record.sh @bulk-keyed   # the multi-MB keyed
#                                       # transfers make bench copies (pcaps/bulk/, group 8)
#   sudo ./pcaps/record.sh keyed-smtps465-early-data-tls13   # 0-RTT (tests/unit/data/)
#   MW_REC_OUT=/tmp/x sudo -E ./pcaps/record.sh smtp-accepted   # write the captures elsewhere
#                                                # (to try a change without touching pcaps/)
#
# Needs (Debian 12, run as root, no network needed):
#   postfix dovecot-imapd dovecot-pop3d swaks curl tcpdump tshark wireshark-common (editcap)
#   openssl python3 iproute2 libio-socket-inet6-perl (swaks over IPv6)
#   ethtool (optional but recommended: without it loopback hands tcpdump 64 KiB "super segments"
#   even with MTU 1500, because TSO/GSO stay on; Debian package "ethtool").
#
# What it does:
#   * runs inside a network namespace of its own (mw-record-PID, made by netns_enter in
#     servers.sh and removed at exit): every server, listener, client and tcpdump below lives
#     there, so a postfix/dovecot the machine itself runs is never stopped or reconfigured, no
#     host port is bound, and the host's lo keeps its MTU and offloads;
#   * creates a work dir in /tmp holding EVERYTHING it configures: a CA and certificates, a postfix
#     instance (its own config_directory/queue_directory/data_directory, started with
#     `postfix -c DIR`), a dovecot instance (`dovecot -c FILE`, its own base_dir/state_dir),
#     a passwd-file with the test user, and the maildir (that set-up is in pcaps/servers.sh,
#     shared with tests/live.sh);
#   * servers listen on the namespace's loopback addresses only; postfix never delivers anywhere
#     (default_transport/relay_transport = error, local mail is discarded);
#   * the namespace's lo has MTU 1500 and TSO/GSO/GRO off for MTU-realistic segments; every
#     server it started is stopped on exit (trap on EXIT/INT/TERM);
#   * records one capture per scenario with
#     `tcpdump -i lo -U -s 0 --immediate-mode -w FILE 'tcp port N'`, then checks each capture with
#     tshark for what its name promises; exits non-zero if any check fails.
#   * the TCP-level failures (group 4) use throw-away python listeners on 127.0.0.7/8 and, for
#     the SYN timeout and the VLAN/QinQ trunk, veth pairs (inside the namespace) and two more
#     network namespaces named mwrec-client-PID / mwrec-far-PID, removed after each scenario and
#     by the exit trap;
#   * groups 5-7 (issues 13, 14, 19): TLS sessions with the client's key log beside the capture
#     (NAME.keys: curl SSLKEYLOGFILE, openssl s_client -keylogfile, python keylog_filename),
#     checked by decrypting with tshark; and captures with the slice of postfix's maillog_file
#     (NAME.maillog) / dovecot's log_path (NAME.dovecot.log) written during the session;
#   * the whole run (82 captures) takes about 7 minutes on a busy 2-core machine (failed logins,
#     the SMTP idle timeout and the client timeouts wait; the 35 of groups 5-7 about 4).
#
# The system postfix/dovecot config (/etc/postfix, /etc/dovecot) and services are never touched.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${MW_REC_OUT:-$SCRIPT_DIR}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
# shellcheck disable=SC2034  # read by servers.sh
LOG_TAG=record
# shared with tests/live.sh: identities, addresses, the postfix and dovecot instances, stop_all
# shellcheck source=servers.sh
source "$SCRIPT_DIR/servers.sh"

# ================================================================================================
# generic helpers
# ================================================================================================
FAILURES=()
SUMMARY=()

check_prereqs() {
    [[ $(id -u) -eq 0 ]] || die "run as root (tcpdump on lo, postfix/dovecot start, ip link)"
    local missing=() c
    for c in postfix postconf dovecot doveadm swaks curl tcpdump tshark editcap openssl ip ss; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    [[ -n $PY ]] || missing+=(python3)
    [[ -x /usr/lib/dovecot/imap && -x /usr/lib/dovecot/pop3 ]] || missing+=("dovecot-imapd/dovecot-pop3d")
    if ((${#missing[@]})); then
        die "missing: ${missing[*]}  (apt-get install postfix dovecot-imapd dovecot-pop3d swaks curl tcpdump tshark wireshark-common openssl python3 iproute2 ethtool libio-socket-inet6-perl)"
    fi
    perl -MIO::Socket::INET6 -e 1 2>/dev/null ||
        log "WARNING: perl IO::Socket::INET6 missing - swaks cannot do IPv6 (smtp-ipv6); apt-get install libio-socket-inet6-perl"
    command -v ethtool >/dev/null 2>&1 ||
        log "WARNING: ethtool missing - TSO/GSO stay on, segments in the captures will exceed the MTU (apt-get install ethtool)"
}

# ---- capture helpers ---------------------------------------------------------------------------
CAP_PID=''
CAP_NAME=''
# cap_start NAME FILTER [IFACE [tcpdump options...]]   - start tcpdump writing NAME.pcap in the
# work dir; cap_stop moves it to $OUT_DIR, so an interrupted run never leaves a half capture there
cap_start() {
    CAP_NAME=$1
    local filter=$2 iface=${3:-lo} i
    local opts=("${@:4}")
    local file="$WORK/captures/$CAP_NAME.pcap" errlog="$LOG_DIR/tcpdump-$CAP_NAME.log"
    mkdir -p "$WORK/captures"
    rm -f "$file"
    log "recording $CAP_NAME.pcap  ($iface: $filter)"
    # --immediate-mode: hand every packet to tcpdump at once (otherwise packets still sitting in
    # a not-yet-retired TPACKET_V3 block are lost at SIGINT); -B: room for the 3 MB bursts
    tcpdump -i "$iface" "${opts[@]}" -U -s 0 -Z root --immediate-mode -B 32768 -w "$file" "$filter" 2>"$errlog" &
    CAP_PID=$!
    for ((i = 0; i < 50; i++)); do
        grep -q 'listening on' "$errlog" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.7  # let tcpdump settle before the client starts
}
# cap_stop - wait for trailing packets (FIN/ACK), then stop tcpdump with SIGINT; the kernel must
# not have dropped any packet (on lo "received by filter" counts each packet twice, once per
# direction of the loop, and libpcap keeps one copy, so captured = received/2 is normal)
cap_stop() {
    sleep 1
    if [[ -n $CAP_PID ]]; then
        kill -INT "$CAP_PID" 2>/dev/null || true
        wait "$CAP_PID" 2>/dev/null || true
    fi
    CAP_PID=''
    mv -f "$WORK/captures/$CAP_NAME.pcap" "$OUT_DIR/$CAP_NAME.pcap"
    local errlog="$LOG_DIR/tcpdump-$CAP_NAME.log" captured received dropped
    captured=$(awk '/packets captured/ {print $1}' "$errlog")
    received=$(awk '/packets received by filter/ {print $1}' "$errlog")
    dropped=$(awk '/packets dropped by kernel/ {print $1}' "$errlog")
    if [[ $dropped != 0 || $captured == 0 || $((captured * 2)) -lt $received ]]; then
        FAILURES+=("$CAP_NAME.pcap: tcpdump captured=$captured received=$received dropped=$dropped")
        log "  !! $CAP_NAME.pcap: tcpdump lost packets ($captured of $received, $dropped dropped)"
    fi
}

# ---- verification helpers (tshark) -------------------------------------------------------------
# The checks are queued and evaluated after each scenario (flush_checks): one tshark pass per
# capture (and per set of tshark options, e.g. a key log), counting the frames each display
# filter matches with a small Lua tap script - one tshark start per filter made a full run
# take minutes longer on a loaded machine.
CHECKS=()   # FILE \x1f OPTIONS (\x1e-separated) \x1f MIN \x1f MAX (-1: none) \x1f FILTER \x1f TEXT \x1f SHOWN
# queue_check FILE OPTIONS MIN MAX FILTER TEXT SHOW-COUNT(0/1)
queue_check() {
    CHECKS+=("$1"$'\x1f'"$2"$'\x1f'"$3"$'\x1f'"$4"$'\x1f'"$5"$'\x1f'"$6"$'\x1f'"$7")
}
tap_script() {
    [[ -f $WORK/data/count.lua ]] || cat >"$WORK/data/count.lua" <<'EOF2'
-- one tap per display filter given with -X lua_script1:FILTER; prints each count on a line
local filters = {...}
local counts, taps = {}, {}
for i, f in ipairs(filters) do
    counts[i] = 0
    local ok, tap = pcall(Listener.new, "frame", f)
    if ok then
        taps[i] = tap
        function tap.packet() counts[i] = counts[i] + 1 end
    else
        counts[i] = "bad-filter"
    end
end
local last = Listener.new("frame")
function last.draw()
    for i = 1, #filters do io.write("mwcount ", tostring(counts[i]), "\n") end
end
EOF2
    echo "$WORK/data/count.lua"
}
flush_checks() {
    local -a groups=() args=() counts=() opts=()
    local entry f o min max flt what show i j key seen n base
    ((${#CHECKS[@]})) || return 0
    for entry in "${CHECKS[@]}"; do
        IFS=$'\x1f' read -r f o _ <<<"$entry"
        key="$f"$'\x1f'"$o"
        seen=0
        for j in "${groups[@]}"; do [[ $j == "$key" ]] && { seen=1; break; }; done
        ((seen)) || groups+=("$key")
    done
    for key in "${groups[@]}"; do
        IFS=$'\x1f' read -r f o <<<"$key"
        IFS=$'\x1e' read -r -a opts <<<"$o"
        args=()
        for entry in "${CHECKS[@]}"; do
            IFS=$'\x1f' read -r j i min max flt what show <<<"$entry"
            [[ $j$'\x1f'$i == "$key" ]] && args+=(-X "lua_script1:$flt")
        done
        mapfile -t counts < <( (tshark -q -n -r "$f" "${opts[@]}" -X "lua_script:$(tap_script)" "${args[@]}" 2>/dev/null || true) |
            awk '$1 == "mwcount" {print $2}')
        n=0
        base=$(basename "$f")
        for entry in "${CHECKS[@]}"; do
            IFS=$'\x1f' read -r j i min max flt what show <<<"$entry"
            [[ $j$'\x1f'$i == "$key" ]] || continue
            local c=${counts[$n]:-none}
            n=$((n + 1))
            if [[ $c =~ ^[0-9]+$ ]] && ((c >= min)) && { ((max < 0)) || ((c <= max)); }; then
                if ((show)); then SUMMARY+=("$base: $what ($c)"); else SUMMARY+=("$base: $what"); fi
            else
                FAILURES+=("$base: $c frame(s), wanted $min..$( ((max < 0)) && echo any || echo "$max"): $what   [$flt]")
                log "  !! $base: $c frame(s) for: $what"
            fi
        done
    done
    CHECKS=()
}
# expect NAME DISPLAY-FILTER DESCRIPTION  - at least one frame must match
expect() {
    queue_check "$OUT_DIR/$1.pcap" '' 1 -1 "$2" "$3" 0
}
# expect_count NAME DISPLAY-FILTER MIN DESCRIPTION - at least MIN frames must match
expect_count() {
    queue_check "$OUT_DIR/$1.pcap" '' "$3" -1 "$2" "$4" 1
}
# expect_max_frame NAME BYTES - no frame larger than BYTES (MTU realism)
expect_max_frame() {
    local name=$1 max=$2 big
    big=$( (tshark -n -r "$OUT_DIR/$name.pcap" -T fields -e frame.len 2>/dev/null || true) | sort -n | tail -1)
    if ((big <= max)); then
        SUMMARY+=("$name.pcap: largest frame $big bytes")
    else
        FAILURES+=("$name.pcap: frame of $big bytes > $max (TSO/GSO still on?)")
    fi
}

# ================================================================================================
# environment: cleanup trap (the servers, work dir and loopback set-up are in servers.sh)
# ================================================================================================
SSRV_PID=''
BG_PIDS=()   # helper processes of a scenario: python servers, the VLAN tagger

cleanup() {
    local rc=$?
    set +e
    [[ -n $CAP_PID ]] && { kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; }
    [[ -n $SSRV_PID ]] && { kill "$SSRV_PID" 2>/dev/null; wait "$SSRV_PID" 2>/dev/null; }
    bg_stop_all
    net_teardown
    stop_all
    exit "$rc"
}

# ================================================================================================
# test data
# ================================================================================================
# deterministic pseudo-random payloads (same bytes on every run)
make_data() {
    "$PY" - "$WORK/data" <<'EOF'
import base64, random, sys, textwrap
d = sys.argv[1]
r = random.Random(20240101)
# ~3 MB binary attachment for smtp-attachment
open(f"{d}/attachment.bin", "wb").write(r.randbytes(3 * 1024 * 1024))
# ~2 MB RFC 5322 message for IMAP APPEND/FETCH and POP3 RETR (CRLF line ends)
payload = base64.encodebytes(r.randbytes(1536 * 1024)).decode().replace("\n", "\r\n")
msg = ("From: Sender <sender@example.org>\r\n"
       "To: Alice <alice@example.test>\r\n"
       "Subject: mailwire large sample message\r\n"
       "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
       "Message-ID: <large-sample@example.org>\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=\"mw-boundary\"\r\n"
       "\r\n"
       "--mw-boundary\r\n"
       "Content-Type: text/plain; charset=us-ascii\r\n"
       "\r\n"
       "A large message for mailwire's sample captures.\r\n"
       "\r\n"
       "--mw-boundary\r\n"
       "Content-Type: application/octet-stream; name=\"blob.bin\"\r\n"
       "Content-Transfer-Encoding: base64\r\n"
       "Content-Disposition: attachment; filename=\"blob.bin\"\r\n"
       "\r\n" + payload + "\r\n--mw-boundary--\r\n")
open(f"{d}/large-message.eml", "wb").write(msg.encode())
EOF
}

# ================================================================================================
# clients
# ================================================================================================
# swaks NAME [swaks args...] - one SMTP session, transcript in the log dir
swaks_run() {
    local name=$1
    shift
    swaks --helo "$CLIENT_HELO" --from "$SENDER" --timeout 60 \
        --header "Subject: mailwire sample $name" "$@" >"$LOG_DIR/$name.client.log" 2>&1 || true
}

# openssl s_server in the background: tls_server_start ADDR PORT [s_server args...]
tls_server_start() {
    local addr=$1 port=$2
    shift 2
    openssl s_server -accept "$addr:$port" -naccept 1 -rev "$@" \
        >"$LOG_DIR/$CAP_NAME.server.log" 2>&1 </dev/null &
    SSRV_PID=$!
    wait_listen "$addr" "$port"
}
tls_server_stop() {
    local i
    for ((i = 0; i < 30; i++)); do
        kill -0 "$SSRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill "$SSRV_PID" 2>/dev/null || true
    wait "$SSRV_PID" 2>/dev/null || true
    SSRV_PID=''
}
# tls_client ADDR PORT [s_client args...] - handshake, send one line, close
tls_client() {
    local addr=$1 port=$2
    shift 2
    { printf 'EHLO %s\r\n' "$CLIENT_HELO"; sleep 1; } |
        timeout 20 openssl s_client -connect "$addr:$port" "$@" >"$LOG_DIR/$CAP_NAME.client.log" 2>&1 || true
}

# ================================================================================================
# Group 1: SMTP (postfix + swaks / python smtplib)
# ================================================================================================
F_SMTP_QUEUED='smtp.response.code == 250 && smtp.rsp.parameter contains "queued as"'

rec_smtp_accepted() {
    cap_start smtp-accepted 'tcp port 25'
    swaks_run smtp-accepted --server 127.0.0.1 --port 25 --to "$USER_NAME"
    cap_stop
    expect smtp-accepted "$F_SMTP_QUEUED" "250 2.0.0 Ok: queued as ..."
}

rec_smtp_relay_denied() {
    # 127.0.0.1 is not in mynetworks and example.net is not ours -> reject_unauth_destination
    cap_start smtp-relay-denied 'tcp port 25'
    swaks_run smtp-relay-denied --server 127.0.0.1 --port 25 --to bob@example.net
    cap_stop
    expect smtp-relay-denied 'smtp.response.code == 554 && smtp.rsp.parameter contains "Relay access denied"' \
        "554 5.7.1 Relay access denied"
}

rec_smtp_unknown_user() {
    # local_recipient_maps knows only alice and postmaster
    cap_start smtp-unknown-user 'tcp port 25'
    swaks_run smtp-unknown-user --server 127.0.0.1 --port 25 --to nosuchuser@example.test
    cap_stop
    expect smtp-unknown-user 'smtp.response.code == 550 && smtp.rsp.parameter contains "5.1.1"' \
        "550 5.1.1 User unknown in local recipient table"
}

rec_smtp_auth_failed() {
    # AUTH LOGIN in clear text (smtpd_tls_auth_only=no) with the wrong password
    cap_start smtp-auth-failed 'tcp port 25'
    swaks_run smtp-auth-failed --server 127.0.0.1 --port 25 --local-interface $FAIL_SRC_SMTP --to "$USER_NAME" \
        --auth LOGIN --auth-user "$USER_NAME" --auth-password "$PASS_BAD"
    cap_stop
    expect smtp-auth-failed 'smtp.req.command == "AUTH"' "AUTH LOGIN in clear"
    expect smtp-auth-failed 'smtp.response.code == 535 && smtp.rsp.parameter contains "5.7.8"' \
        "535 5.7.8 authentication failed"
}

rec_smtp_auth_ok() {
    cap_start smtp-auth-ok 'tcp port 25'
    swaks_run smtp-auth-ok --server 127.0.0.1 --port 25 --to "$USER_NAME" \
        --auth LOGIN --auth-user "$USER_NAME" --auth-password "$PASS_GOOD"
    cap_stop
    expect smtp-auth-ok 'smtp.req.command == "AUTH" && smtp.req.parameter contains "LOGIN"' "AUTH LOGIN"
    expect smtp-auth-ok 'smtp.response.code == 235' "235 2.7.0 Authentication successful"
    expect smtp-auth-ok "$F_SMTP_QUEUED" "250 queued"
}

rec_smtp_auth_plain_ok() {
    cap_start smtp-auth-plain-ok 'tcp port 25'
    swaks_run smtp-auth-plain-ok --server 127.0.0.1 --port 25 --to "$USER_NAME" \
        --auth PLAIN --auth-user "$USER_NAME" --auth-password "$PASS_GOOD"
    cap_stop
    expect smtp-auth-plain-ok 'smtp.req.command == "AUTH" && smtp.req.parameter contains "PLAIN"' "AUTH PLAIN"
    expect smtp-auth-plain-ok 'smtp.response.code == 235' "235 2.7.0 Authentication successful"
    expect smtp-auth-plain-ok "$F_SMTP_QUEUED" "250 queued"
}

rec_smtp_pipelining() {
    # PIPELINING: MAIL + 3 RCPT + DATA in one write; nosuchuser gets 550, bob@example.net 554
    cap_start smtp-pipelining 'tcp port 25'
    swaks_run smtp-pipelining --server 127.0.0.1 --port 25 --pipeline \
        --to "$USER_NAME,nosuchuser@example.test,postmaster@example.test"
    cap_stop
    expect smtp-pipelining 'smtp.req.command == "MAIL" && smtp.req.command == "RCPT"' \
        "MAIL and RCPT in the same segment (pipelined)"
    expect smtp-pipelining 'smtp.response.code == 550' "550 5.1.1 for one recipient"
    expect smtp-pipelining "$F_SMTP_QUEUED" "250 queued for the others"
}

rec_smtp_ipv6() {
    cap_start smtp-ipv6 'tcp port 25'
    swaks_run smtp-ipv6 --server ::1 --port 25 --to "$USER_NAME"
    cap_stop
    expect smtp-ipv6 "ipv6 && $F_SMTP_QUEUED" "over ::1, 250 queued"
}

rec_smtp_attachment() {
    cap_start smtp-attachment 'tcp port 25'
    swaks_run smtp-attachment --server 127.0.0.1 --port 25 --to "$USER_NAME" \
        --attach-type application/octet-stream --attach-name blob.bin --attach "@$WORK/data/attachment.bin"
    cap_stop
    expect smtp-attachment "$F_SMTP_QUEUED" "~3 MB attachment, 250 queued"
    expect_max_frame smtp-attachment 1514
}

rec_smtp_starttls() {
    cap_start smtp-starttls 'tcp port 25'
    swaks_run smtp-starttls --server 127.0.0.1 --port 25 --to "$USER_NAME" -tls
    cap_stop
    expect smtp-starttls 'smtp.command_line contains "STARTTLS"' "STARTTLS"
    expect smtp-starttls 'smtp.response.code == 220 && smtp.rsp.parameter contains "TLS"' "220 2.0.0 Ready to start TLS"
    expect smtp-starttls 'tls.handshake.type == 1' "TLS ClientHello after STARTTLS"
    expect smtp-starttls 'tls.app_data' "encrypted SMTP (application data)"
}

rec_smtp_tls_required() {
    # submission with smtpd_tls_security_level=encrypt; swaks without -tls sends MAIL in clear
    cap_start smtp-tls-required 'tcp port 587'
    swaks_run smtp-tls-required --server 127.0.0.1 --port 587 --to "$USER_NAME"
    cap_stop
    expect smtp-tls-required 'smtp.response.code == 530 && smtp.rsp.parameter contains "5.7.0"' \
        "530 5.7.0 Must issue a STARTTLS command first"
}

rec_smtp_timeout() {
    # 127.0.0.5:25 runs smtpd with smtpd_timeout=5s; the client says EHLO and then goes silent
    cap_start smtp-timeout 'tcp port 25'
    "$PY" - "$TIMEOUT_ADDR" "$CLIENT_HELO" >"$LOG_DIR/smtp-timeout.client.log" 2>&1 <<'EOF' || true
import socket, sys
s = socket.create_connection((sys.argv[1], 25), timeout=30)
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline()
        print("S:", line.decode(errors="replace").rstrip())
        if not line or line[3:4] != b"-":
            return
reply()
s.sendall(b"EHLO " + sys.argv[2].encode() + b"\r\n")
reply()
# silence: wait for the server's 421 and its close
reply()
print("S: <eof>" if not f.readline() else "S: more data?")
s.close()
EOF
    cap_stop
    expect smtp-timeout 'smtp.response.code == 421 && smtp.rsp.parameter contains "4.4.2"' \
        "421 4.4.2 Error: timeout exceeded"
}

rec_smtp_multi() {
    # two complete transactions (MAIL/RCPT/DATA twice) in one session, via python smtplib
    cap_start smtp-multi 'tcp port 25'
    "$PY" - "$CLIENT_HELO" "$SENDER" "$USER_NAME" >"$LOG_DIR/smtp-multi.client.log" 2>&1 <<'EOF' || true
import smtplib, sys
helo, sender, rcpt = sys.argv[1:4]
s = smtplib.SMTP("127.0.0.1", 25, local_hostname=helo, timeout=30)
s.set_debuglevel(1)
s.ehlo()
for i in (1, 2):
    msg = (f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: mailwire sample smtp-multi #{i}\r\n"
           f"Message-ID: <multi-{i}@example.org>\r\n\r\nTransaction {i} of 2 in one session.\r\n")
    s.sendmail(sender, [rcpt], msg)
s.quit()
EOF
    cap_stop
    # smtplib sends its commands in lower case ("mail FROM:")
    expect_count smtp-multi 'upper(smtp.req.command) == "MAIL"' 2 "two MAIL FROM in one session"
    expect_count smtp-multi "$F_SMTP_QUEUED" 2 "two 250 queued"
    expect_count smtp-multi 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 1 "one TCP connection"
}

rec_smtp_cooked() {
    # same as smtp-accepted but captured on the "any" pseudo-device -> Linux cooked link type
    cap_start smtp-cooked 'tcp port 25' any
    swaks_run smtp-cooked --server 127.0.0.1 --port 25 --to "$USER_NAME"
    cap_stop
    expect smtp-cooked "sll && $F_SMTP_QUEUED" "Linux cooked capture (v2, LINUX_SLL2), 250 queued"
}

rec_smtp_cooked_v1() {
    # extra: the older Linux cooked v1 header (LINUX_SLL), as in many captures found in the wild
    cap_start smtp-cooked-v1 'tcp port 25' any -y LINUX_SLL
    swaks_run smtp-cooked-v1 --server 127.0.0.1 --port 25 --to "$USER_NAME"
    cap_stop
    expect smtp-cooked-v1 "sll && $F_SMTP_QUEUED" "Linux cooked capture (v1, LINUX_SLL), 250 queued"
}

# ================================================================================================
# Group 2: TLS (openssl s_server/s_client on 127.0.0.3, postfix implicit TLS)
# ================================================================================================
LEGACY=(-cipher 'DEFAULT@SECLEVEL=0')

rec_tls_version() {  # rec_tls_version NAME s_client/s_server-version-flag HEXVERSION
    local name=$1 flag=$2 hex=$3 extra=()
    [[ $flag == -tls1 || $flag == -tls1_1 ]] && extra=("${LEGACY[@]}")
    cap_start "$name" 'tcp port 465'
    tls_server_start $TLS_ADDR 465 -cert "$PKI/mail.crt" -key "$PKI/mail.key" "$flag" "${extra[@]}"
    tls_client $TLS_ADDR 465 "$flag" "${extra[@]}" -CAfile "$CA_CRT" -servername "$MX_NAME"
    tls_server_stop
    cap_stop
    if [[ $hex == 0x0304 ]]; then
        expect "$name" 'tls.handshake.type == 2 && tls.handshake.extensions.supported_version == 0x0304' \
            "ServerHello TLS 1.3 (supported_versions)"
    else
        expect "$name" "tls.handshake.type == 2 && tls.handshake.version == $hex" "ServerHello version $hex"
    fi
    expect "$name" 'tls.app_data' "application data exchanged"
}
rec_tls_1_0() { rec_tls_version tls-1.0 -tls1 0x0301; }
rec_tls_1_1() { rec_tls_version tls-1.1 -tls1_1 0x0302; }
rec_tls_1_2() { rec_tls_version tls-1.2 -tls1_2 0x0303; }
rec_tls_1_3() { rec_tls_version tls-1.3 -tls1_3 0x0304; }

rec_tls_version_mismatch() {
    # a server that requires TLS >= 1.2 and a client that only speaks TLS 1.0.
    # (dovecot's imaps with ssl_min_protocol=TLSv1.2 just closes without an alert, so the
    # server here is s_server, which answers with a protocol_version alert)
    cap_start tls-version-mismatch 'tcp port 993'
    tls_server_start $TLS_ADDR 993 -cert "$PKI/mail.crt" -key "$PKI/mail.key" -min_protocol TLSv1.2
    tls_client $TLS_ADDR 993 -tls1 "${LEGACY[@]}" -servername "$MX_NAME"
    tls_server_stop
    cap_stop
    expect tls-version-mismatch 'tls.handshake.type == 1 && tls.handshake.version == 0x0301' "ClientHello TLS 1.0 only"
    expect tls-version-mismatch 'tls.alert_message.desc == 70' "Alert: protocol_version (70)"
}

rec_tls_cert_expired() {
    # certificate valid 2023-01-01..2024-01-01, signed by the CA the client trusts
    cap_start tls-cert-expired 'tcp port 465'
    tls_server_start $TLS_ADDR 465 -cert "$PKI/expired.crt" -key "$PKI/expired.key"
    tls_client $TLS_ADDR 465 -tls1_2 -CAfile "$CA_CRT" -verify_return_error -servername expired.example.test
    tls_server_stop
    cap_stop
    expect tls-cert-expired 'tls.handshake.type == 11' "Certificate in clear (TLS 1.2)"
    expect tls-cert-expired 'tls.alert_message.desc == 45' "Alert: certificate_expired (45)"
}

rec_tls_self_signed() {
    cap_start tls-self-signed 'tcp port 995'
    tls_server_start $TLS_ADDR 995 -cert "$PKI/selfsigned.crt" -key "$PKI/selfsigned.key"
    tls_client $TLS_ADDR 995 -tls1_2 -CAfile "$CA_CRT" -verify_return_error -servername selfsigned.example.test
    tls_server_stop
    cap_stop
    expect tls-self-signed 'tls.handshake.type == 11' "Certificate in clear (TLS 1.2)"
    expect tls-self-signed 'tls.alert_message.desc == 48' "Alert: unknown_ca (48)"
}

rec_tls_sni_mismatch() {
    # server certificate is for mail.example.test; client asks for (and verifies) another name
    cap_start tls-sni-mismatch 'tcp port 993'
    tls_server_start $TLS_ADDR 993 -cert "$PKI/mail.crt" -key "$PKI/mail.key"
    tls_client $TLS_ADDR 993 -tls1_2 -CAfile "$CA_CRT" -verify_return_error \
        -servername imap.other-domain.test -verify_hostname imap.other-domain.test
    tls_server_stop
    cap_stop
    expect tls-sni-mismatch 'tls.handshake.extensions_server_name == "imap.other-domain.test"' "SNI imap.other-domain.test"
    expect tls-sni-mismatch 'tls.alert_message.level == 2' "fatal alert from the client"
}

rec_smtps_465() {
    cap_start smtps-465 'tcp port 465'
    swaks_run smtps-465 --server 127.0.0.1 --port 465 --to "$USER_NAME" --tls-on-connect
    cap_stop
    expect smtps-465 'tls.handshake.type == 1 && tcp.dstport == 465' "ClientHello right after connect"
    expect smtps-465 'tls.app_data' "encrypted SMTP"
}

rec_smtp_ssl_on_starttls_port() {
    # A client configured for implicit TLS talking to port 25: s_client without -starttls sends
    # its ClientHello as soon as TCP connects. Postfix 3.7 (Debian 12 defaults) sends its 220
    # greeting anyway and takes the binary ClientHello for command lines:
    # "500 5.5.2 Error: bad UTF-8 syntax" (x2), "500 5.5.2 Error: bad syntax"; s_client gives up
    # (wrong version number) and both sides close. (With smtpd_forbid_unauth_pipelining=yes the
    # result would depend on whether the ClientHello beats the greeting - not used here.)
    cap_start smtp-ssl-on-starttls-port 'tcp port 25'
    timeout 20 openssl s_client -connect 127.0.0.1:25 -servername "$MX_NAME" </dev/null \
        >"$LOG_DIR/smtp-ssl-on-starttls-port.client.log" 2>&1 || true
    cap_stop
    expect smtp-ssl-on-starttls-port 'tcp.dstport == 25 && tcp.payload[0:3] == 16:03:01' "TLS ClientHello sent to port 25"
    expect smtp-ssl-on-starttls-port 'smtp.response.code == 220' "220 greeting"
    expect smtp-ssl-on-starttls-port 'smtp.response.code == 500 && smtp.rsp.parameter contains "5.5.2"' \
        "500 5.5.2 Error: bad UTF-8 syntax / bad syntax"
    expect smtp-ssl-on-starttls-port 'tcp.srcport == 25 && tcp.flags.fin == 1' "server closes"
}

# ================================================================================================
# Group 3: IMAP / POP3 (dovecot + curl / python imaplib, poplib)
# ================================================================================================
CURL=(curl -sS -v --max-time 60 --cacert "")   # --cacert filled in after setup_ca
curl_run() {  # curl_run NAME [curl args...]
    local name=$1
    shift
    "${CURL[@]}" "$@" >"$LOG_DIR/$name.client.out" 2>"$LOG_DIR/$name.client.log" || true
}

py_imap_login() {  # py_imap_login PASSWORD SOURCE-ADDRESS
    "$PY" - "$USER_NAME" "$1" "$2" <<'EOF' >"$LOG_DIR/$CAP_NAME.client.log" 2>&1 || true
import imaplib, socket, sys
user, pw, src = sys.argv[1:4]
class IMAP(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(src, 0))
m = IMAP("127.0.0.1", 143, timeout=30)
m.debug = 4
m.capability()
try:
    m.login(user, pw)
    m.select("INBOX", readonly=True)
    m.fetch("1", "(FLAGS RFC822.SIZE ENVELOPE)")
except imaplib.IMAP4.error as e:
    print("login failed:", e)
m.logout()
EOF
}

rec_imap_login_ok() {
    cap_start imap-login-ok 'tcp port 143'
    py_imap_login "$PASS_GOOD" 127.0.0.1
    cap_stop
    expect imap-login-ok 'imap.request.command == "LOGIN"' "LOGIN command"
    expect imap-login-ok 'imap.response.status == "OK" && imap.response contains "Logged in"' "OK Logged in"
}

rec_imap_login_failed() {
    cap_start imap-login-failed 'tcp port 143'
    py_imap_login "$PASS_BAD" $FAIL_SRC_IMAP_LOGIN
    cap_stop
    expect imap-login-failed 'imap.request.command == "LOGIN"' "LOGIN command"
    expect imap-login-failed 'imap.response contains "NO [AUTHENTICATIONFAILED]"' "NO [AUTHENTICATIONFAILED]"
}

rec_imap_authenticate_ok() {
    # curl: AUTHENTICATE PLAIN with SASL-IR, then LIST
    cap_start imap-authenticate-ok 'tcp port 143'
    curl_run imap-authenticate-ok "imap://127.0.0.1/" -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    expect imap-authenticate-ok 'imap.request.command == "AUTHENTICATE"' "AUTHENTICATE PLAIN (SASL-IR)"
    expect imap-authenticate-ok 'imap.response contains "OK Logged in"' "OK Logged in"
}

rec_imap_authenticate_failed() {
    cap_start imap-authenticate-failed 'tcp port 143'
    curl_run imap-authenticate-failed "imap://127.0.0.1/" --interface $FAIL_SRC_IMAP_AUTH -u "$USER_NAME:$PASS_BAD"
    cap_stop
    expect imap-authenticate-failed 'imap.request.command == "AUTHENTICATE"' "AUTHENTICATE PLAIN (SASL-IR)"
    expect imap-authenticate-failed 'imap.response contains "NO [AUTHENTICATIONFAILED]"' "NO [AUTHENTICATIONFAILED]"
}

rec_imap_starttls() {
    cap_start imap-starttls 'tcp port 143'
    curl_run imap-starttls "imap://127.0.0.1/" --ssl-reqd -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    expect imap-starttls 'imap.request.command == "STARTTLS"' "STARTTLS"
    expect imap-starttls 'tls.handshake.type == 1' "TLS ClientHello"
    expect imap-starttls 'tls.app_data' "encrypted IMAP"
}

rec_imap_logindisabled() {
    # 127.0.0.4: disable_plaintext_auth=yes -> CAPABILITY has LOGINDISABLED, LOGIN is refused
    cap_start imap-logindisabled 'tcp port 143'
    "$PY" - "$STRICT_ADDR" "$USER_NAME" "$PASS_GOOD" >"$LOG_DIR/imap-logindisabled.client.log" 2>&1 <<'EOF' || true
import socket, sys
host, user, pw = sys.argv[1:4]
s = socket.create_connection((host, 143), timeout=30)
f = s.makefile("rb")
def tagged(tag):
    while True:
        line = f.readline()
        print("S:", line.decode(errors="replace").rstrip())
        if not line or line.startswith(tag.encode() + b" "):
            return
print("S:", f.readline().decode().rstrip())
for tag, cmd in (("a1", "CAPABILITY"), ("a2", f'LOGIN {user} "{pw}"'), ("a3", "LOGOUT")):
    print("C:", tag, cmd)
    s.sendall(f"{tag} {cmd}\r\n".encode())
    tagged(tag)
s.close()
EOF
    cap_stop
    expect imap-logindisabled 'imap.line contains "LOGINDISABLED"' "CAPABILITY ... LOGINDISABLED"
    expect imap-logindisabled 'imap.response contains "NO [PRIVACYREQUIRED]"' "LOGIN refused: NO [PRIVACYREQUIRED]"
}

rec_imap_append_large() {
    # APPEND of the ~2 MB message (literal, after the server's "+ OK" continuation)
    cap_start imap-append-large 'tcp port 143'
    curl_run imap-append-large "imap://127.0.0.1/INBOX" -u "$USER_NAME:$PASS_GOOD" -T "$WORK/data/large-message.eml"
    cap_stop
    expect imap-append-large 'imap.request.command == "APPEND"' "APPEND {size}"
    expect imap-append-large 'imap.response contains "APPENDUID"' "OK [APPENDUID ...] Append completed"
    expect_max_frame imap-append-large 1514
}

rec_imap_fetch_large() {
    # FETCH of message 1 (the seeded ~2 MB message) as a literal
    cap_start imap-fetch-large 'tcp port 143'
    curl_run imap-fetch-large "imap://127.0.0.1/INBOX;MAILINDEX=1" -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    expect imap-fetch-large 'imap.request.command == "FETCH"' "FETCH 1 BODY[]"
    expect imap-fetch-large 'tcp.srcport == 143 && frame contains "* 1 FETCH (" && frame contains "BODY[] {"' "* 1 FETCH (... BODY[] {size} literal"
}

rec_imaps_993() {
    cap_start imaps-993 'tcp port 993'
    curl_run imaps-993 "imaps://127.0.0.1/" -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    expect imaps-993 'tls.handshake.type == 1 && tcp.dstport == 993' "ClientHello on 993"
    expect imaps-993 'tls.app_data' "encrypted IMAP"
}

py_pop3_login() {  # py_pop3_login PASSWORD SOURCE-ADDRESS
    "$PY" - "$USER_NAME" "$1" "$2" <<'EOF' >"$LOG_DIR/$CAP_NAME.client.log" 2>&1 || true
import poplib, socket, sys
user, pw, src = sys.argv[1:4]
class POP3(poplib.POP3):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(src, 0))
p = POP3("127.0.0.1", 110, timeout=30)
p.set_debuglevel(2)
try:
    p.capa()
    p.user(user)
    p.pass_(pw)
    p.stat()
    p.list()
except poplib.error_proto as e:
    print("failed:", e)
p.quit()
EOF
}

rec_pop3_login_ok() {
    cap_start pop3-login-ok 'tcp port 110'
    py_pop3_login "$PASS_GOOD" 127.0.0.1
    cap_stop
    expect pop3-login-ok 'pop.request.command == "PASS"' "USER/PASS"
    expect pop3-login-ok 'pop.response.indicator == "+OK" && pop.response.description contains "Logged in"' "+OK Logged in."
}

rec_pop3_login_failed() {
    cap_start pop3-login-failed 'tcp port 110'
    py_pop3_login "$PASS_BAD" $FAIL_SRC_POP3
    cap_stop
    expect pop3-login-failed 'pop.request.command == "PASS"' "USER/PASS"
    expect pop3-login-failed 'pop.response.indicator == "-ERR" && pop.response.description contains "[AUTH] Authentication failed"' \
        "-ERR [AUTH] Authentication failed."
}

rec_pop3_auth_plain() {
    # curl: AUTH PLAIN (initial response), then LIST
    cap_start pop3-auth-plain 'tcp port 110'
    curl_run pop3-auth-plain "pop3://127.0.0.1/" -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    expect pop3-auth-plain 'pop.request.command == "AUTH"' "AUTH PLAIN"
    expect pop3-auth-plain 'pop.response.indicator == "+OK" && pop.response.description contains "Logged in"' "+OK Logged in."
}

rec_pop3_stls() {
    cap_start pop3-stls 'tcp port 110'
    curl_run pop3-stls "pop3://127.0.0.1/" --ssl-reqd -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    expect pop3-stls 'pop.request.command == "STLS"' "STLS"
    expect pop3-stls 'tls.handshake.type == 1' "TLS ClientHello"
    expect pop3-stls 'tls.app_data' "encrypted POP3"
}

rec_pop3_retr_large() {
    cap_start pop3-retr-large 'tcp port 110'
    curl_run pop3-retr-large "pop3://127.0.0.1/1" -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    expect pop3-retr-large 'pop.request.command == "RETR"' "RETR 1"
    expect pop3-retr-large 'pop.response.indicator == "+OK" && pop.response.description contains "octets"' "+OK <size> octets"
    expect_max_frame pop3-retr-large 1514
}

rec_pop3s_995() {
    cap_start pop3s-995 'tcp port 995'
    curl_run pop3s-995 "pop3s://127.0.0.1/" -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    expect pop3s-995 'tls.handshake.type == 1 && tcp.dstport == 995' "ClientHello on 995"
    expect pop3s-995 'tls.app_data' "encrypted POP3"
}

rec_pop3_user_before_stls_refused() {
    # 127.0.0.4: disable_plaintext_auth=yes -> USER before STLS is refused
    cap_start pop3-user-before-stls-refused 'tcp port 110'
    "$PY" - "$STRICT_ADDR" "$USER_NAME" >"$LOG_DIR/pop3-user-before-stls-refused.client.log" 2>&1 <<'EOF' || true
import socket, sys
host, user = sys.argv[1:3]
s = socket.create_connection((host, 110), timeout=30)
f = s.makefile("rb")
def reply(multi=False):
    while True:
        line = f.readline()
        print("S:", line.decode(errors="replace").rstrip())
        if not line or not multi or line == b".\r\n" or line.startswith(b"-ERR"):
            return
reply()
for cmd, multi in (("CAPA", True), (f"USER {user}", False), ("QUIT", False)):
    print("C:", cmd)
    s.sendall(cmd.encode() + b"\r\n")
    reply(multi)
s.close()
EOF
    cap_stop
    expect pop3-user-before-stls-refused 'pop.request.command == "USER"' "USER before STLS"
    expect pop3-user-before-stls-refused 'pop.response.indicator == "-ERR" && pop.response.description contains "Plaintext authentication disallowed"' \
        "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
}

rec_imap_timeout_bye() {
    # opt-in, not in the default list: takes 3 min. dovecot's login process disconnects a client
    # that has not logged in within MASTER_LOGIN_TIMEOUT_SECS (3 min, compiled in) with
    # "* BYE Disconnected for inactivity."; the autologout after login is 30 min.
    cap_start imap-timeout-bye 'tcp port 143'
    "$PY" - >"$LOG_DIR/imap-timeout-bye.client.log" 2>&1 <<'EOF' || true
import socket, time
t0 = time.monotonic()
s = socket.create_connection(("127.0.0.1", 143), timeout=240)
f = s.makefile("rb")
print("S:", f.readline().decode().rstrip())
s.sendall(b"a1 CAPABILITY\r\n")
for line in f:   # CAPABILITY, OK; then silence until the server's BYE and close
    print("%6.1f S: %s" % (time.monotonic() - t0, line.decode(errors="replace").rstrip()), flush=True)
print("%6.1f <eof>" % (time.monotonic() - t0))
s.close()
EOF
    cap_stop
    expect imap-timeout-bye 'imap.line contains "BYE Disconnected for inactivity"' \
        "* BYE Disconnected for inactivity."
    expect imap-timeout-bye 'tcp.srcport == 143 && tcp.flags.fin == 1 && frame.time_relative >= 170' \
        "server closes after ~3 min"
}

# ================================================================================================
# Group 4: TCP-level failures (refused, silent, unanswered) and VLAN-tagged links
# ================================================================================================
# Addresses: 127.0.0.6 has no listener (RST), 127.0.0.7:25 accepts and never greets, 127.0.0.8:25
# greets and never answers. The VLAN and SYN-timeout scenarios use veth pairs and a network
# namespace; every name starts with mwr- / mwrec- (the interfaces exist only inside the recording
# namespace) and net_teardown removes them after each scenario and on exit.
REFUSED_ADDR=127.0.0.6
SILENT_ADDR=127.0.0.7
MUTE_ADDR=127.0.0.8
NS_CLIENT=mwrec-client-$$   # client side of the VLAN link
NS_FAR=mwrec-far-$$         # far end of the SYN-timeout link: nothing there answers
HOST_IFS=(mwr-acc-a mwr-trk-a mwr-acc-b mwr-to0)   # host-side veth ends (deleting one deletes its peer)

# bg_start NAME CMD... - a helper process in the background, output in the log dir
bg_start() {
    local name=$1
    shift
    "$@" >"$LOG_DIR/$name.log" 2>&1 &
    BG_PIDS+=($!)
}
bg_stop_all() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    BG_PIDS=()
    return 0
}
net_teardown() {
    local n
    for n in "$NS_CLIENT" "$NS_FAR"; do
        [[ -e /run/netns/$n ]] && { ip netns del "$n" 2>/dev/null || true; }
    done
    for n in "${HOST_IFS[@]}"; do
        [[ -e /sys/class/net/$n ]] && { ip link del "$n" 2>/dev/null || true; }
    done
    return 0
}

# silent_server ADDR PORT [GREETING] - accepts one connection, sends GREETING (if any), then reads
# and never answers until the client closes (gives up after 60 s); the output logs what it read
silent_server() {
    bg_start "$CAP_NAME.server" "$PY" -c '
import socket, sys
addr, port, greet = sys.argv[1], int(sys.argv[2]), (sys.argv[3] if len(sys.argv) > 3 else "")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(1)
s.settimeout(60)
c, peer = s.accept()
print("accepted", peer, flush=True)
c.settimeout(60)
if greet:
    c.sendall(greet.encode() + b"\r\n")
while True:
    d = c.recv(4096)
    if not d:
        break
    print("C:", d, flush=True)
print("client closed", flush=True)
c.close()
' "$@"
    wait_listen "$1" "$2"
}

# py_smtp_client NAME ADDR [COMMAND] - connect (8 s timeout), wait up to 5 s for the greeting;
# if one came, send COMMAND and wait up to 5 s for its reply; then close. Like a mail client
# that gives up, without swaks' extra QUIT after a timeout.
py_smtp_client() {
    "$PY" - "$2" "${3:-}" >"$LOG_DIR/$1.client.log" 2>&1 <<'EOF' || true
import socket, sys, time
addr, cmd = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
def say(*a):
    print("%6.2f" % (time.monotonic() - t0), *a, flush=True)
try:
    s = socket.create_connection((addr, 25), timeout=8)
except OSError as e:
    say("connect failed:", e)
    sys.exit(0)
say("connected")
s.settimeout(5)
def reply(what):
    try:
        d = s.recv(4096)
        say("S:", d)
        return bool(d)
    except socket.timeout:
        say("timeout waiting for", what)
        return False
if reply("greeting") and cmd:
    s.sendall(cmd.encode() + b"\r\n")
    say("C:", cmd)
    reply(cmd)
s.close()
say("closed")
EOF
}

# an interface that says nothing on its own (no IPv6 autoconf/ND) and hands tcpdump MTU-sized,
# fully checksummed frames (no TSO/GSO/GRO, no checksum offload: the VLAN tagger copies frames
# from one interface to another, so checksums must be in the bytes)
quiet_link() {  # quiet_link IFACE [NETNS]
    local x=()
    [[ -n ${2:-} ]] && x=(ip netns exec "$2")
    "${x[@]}" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
    "${x[@]}" ethtool -K "$1" tso off gso off gro off tx off >/dev/null 2>&1 || true
}

# vlan_link_up NET TPID:VID[,TPID:VID...] - a VLAN trunk between a client namespace and the
# recording namespace (where postfix runs):
#
#   [ns mwrec-client] mwr-cli NET.10 --veth-- mwr-acc-a =tagger= mwr-trk-a ~~trunk veth~~ mwr-trk-b
#        =tagger= mwr-acc-b --veth-- mwr-srv NET.25 [recording namespace: postfix listens here]
#
# The tagger (python, AF_PACKET) pushes the tags (outermost first) on every frame it copies from an
# access port onto the trunk and pops them on the way back, like a switch with one access port on
# each side of a trunk; tcpdump on mwr-trk-a sees every frame tagged, both directions. (A tagger
# and not `ip link add ... type vlan`, so it also works on kernels without 802.1Q support
# (CONFIG_VLAN_8021Q off, as in some VMs); the frames on the trunk are the same.)
vlan_link_up() {
    local net=$1 tags=$2 i
    command -v ethtool >/dev/null 2>&1 || die "the VLAN scenarios need ethtool (checksum offload off)"
    net_teardown
    ip netns add "$NS_CLIENT"
    ip -n "$NS_CLIENT" link set lo up
    ip link add mwr-cli type veth peer name mwr-acc-a
    ip link add mwr-trk-a type veth peer name mwr-trk-b
    ip link add mwr-acc-b type veth peer name mwr-srv
    for i in mwr-cli mwr-acc-a mwr-trk-a mwr-trk-b mwr-acc-b mwr-srv; do quiet_link $i; done
    ip link set mwr-trk-a mtu 1600   # room for the tags on 1500-byte IP packets
    ip link set mwr-trk-b mtu 1600
    ip link set mwr-cli netns "$NS_CLIENT"
    quiet_link mwr-cli "$NS_CLIENT"
    ip -n "$NS_CLIENT" addr add "$net.10/24" dev mwr-cli
    ip -n "$NS_CLIENT" link set mwr-cli up
    ip addr add "$net.25/24" dev mwr-srv
    for i in mwr-acc-a mwr-trk-a mwr-trk-b mwr-acc-b mwr-srv; do ip link set "$i" up; done
    bg_start "$CAP_NAME.tagger" "$PY" -u -c '
import select, socket, struct, sys
acc_a, trk_a, trk_b, acc_b, spec = sys.argv[1:6]
tags = b"".join(struct.pack("!HH", int(t, 16), int(v)) for t, v in (x.split(":") for x in spec.split(",")))
PACKET_OUTGOING = 4
socks = {}
for n in (acc_a, trk_a, trk_b, acc_b):
    socks[n] = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
    socks[n].bind((n, 0))
# where a frame received on a port goes, and whether it gets the tags there
route = {acc_a: (trk_a, True), trk_a: (acc_a, False), acc_b: (trk_b, True), trk_b: (acc_b, False)}
def untag(f):  # the kernel moves the outer tag into metadata on receive; inner ones stay inline
    while len(f) >= 18 and f[12:14] in (b"\x81\x00", b"\x88\xa8"):
        f = f[:12] + f[16:]
    return f
print("ready", flush=True)
n = 0
while True:
    for s in select.select(list(socks.values()), [], [])[0]:
        frame, addr = s.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING:
            continue
        out, push = route[addr[0]]
        frame = untag(frame)
        socks[out].send(frame[:12] + tags + frame[12:] if push else frame)
        n += 1
' mwr-acc-a mwr-trk-a mwr-trk-b mwr-acc-b "$tags"
    for ((i = 0; i < 50; i++)); do
        grep -q ready "$LOG_DIR/$CAP_NAME.tagger.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q ready "$LOG_DIR/$CAP_NAME.tagger.log" || die "VLAN tagger did not start: $(cat "$LOG_DIR/$CAP_NAME.tagger.log")"
}

# a postfix smtpd listener on ADDR:25 (the address exists only while its link is up, so it is
# added with a reload and removed again); no reverse DNS lookup of the 10.x client
postfix_listener_add() {
    printf '%s\n' "$1:smtp inet n - n - - smtpd" "  -o syslog_name=postfix/$CAP_NAME" \
        "  -o smtpd_peername_lookup=no" >>"$PF_ETC/master.cf"
    postfix -c "$PF_ETC" reload >>"$LOG_DIR/postfix-reload.log" 2>&1 || die "postfix reload failed"
    wait_listen "$1" 25
}
postfix_listener_del() {
    postconf -c "$PF_ETC" -MX "$1:smtp/inet"
    postfix -c "$PF_ETC" reload >>"$LOG_DIR/postfix-reload.log" 2>&1 || true
}

# expect_none NAME DISPLAY-FILTER DESCRIPTION - no frame may match
expect_none() {
    queue_check "$OUT_DIR/$1.pcap" '' 0 0 "$2" "$3" 0
}

rec_smtp_connection_refused() {
    # nothing listens on 127.0.0.6:25: the kernel answers the SYN with RST, swaks gives up at once
    cap_start smtp-connection-refused "tcp port 25 and host $REFUSED_ADDR"
    swaks_run smtp-connection-refused --server $REFUSED_ADDR --port 25 --to "$USER_NAME"
    cap_stop
    expect smtp-connection-refused "tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == $REFUSED_ADDR" "SYN to $REFUSED_ADDR:25"
    expect smtp-connection-refused "tcp.flags.reset == 1 && ip.src == $REFUSED_ADDR" "answered by RST"
    expect_none smtp-connection-refused 'tcp.flags.syn == 1 && tcp.flags.ack == 1' "no SYN-ACK"
}

rec_smtp_no_greeting() {
    # 127.0.0.7:25 accepts and stays silent; the client waits 5 s for the greeting, gives up, closes
    cap_start smtp-no-greeting "tcp port 25 and host $SILENT_ADDR"
    silent_server $SILENT_ADDR 25
    py_smtp_client smtp-no-greeting $SILENT_ADDR
    cap_stop
    bg_stop_all
    expect smtp-no-greeting 'tcp.flags.syn == 1 && tcp.flags.ack == 1' "TCP established (SYN-ACK)"
    expect_none smtp-no-greeting 'tcp.len > 0' "no payload in either direction (no greeting, no command)"
    expect smtp-no-greeting 'tcp.flags.fin == 1 && tcp.dstport == 25 && frame.time_relative >= 4.5' \
        "client closes after ~5 s of silence"
}

rec_smtp_syn_timeout() {
    # 10.250.99.25 is "on" a veth whose far end is an empty namespace: a permanent neighbour entry
    # with a MAC nobody has, so the SYNs leave and nothing ever answers. The kernel retries the
    # SYN (after 1 s, 3 s, 7 s) and the client gives up after its 8 s connect timeout.
    net_teardown
    ip netns add "$NS_FAR"
    ip link add mwr-to0 type veth peer name mwr-to1
    quiet_link mwr-to0
    quiet_link mwr-to1
    ip link set mwr-to1 netns "$NS_FAR"
    ip -n "$NS_FAR" link set mwr-to1 up
    ip addr add 10.250.99.10/24 dev mwr-to0
    ip link set mwr-to0 up
    ip neigh replace 10.250.99.25 lladdr 02:00:00:00:99:25 dev mwr-to0 nud permanent
    cap_start smtp-syn-timeout 'tcp port 25' mwr-to0
    py_smtp_client smtp-syn-timeout 10.250.99.25
    cap_stop
    net_teardown
    expect_count smtp-syn-timeout 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == 10.250.99.25' 3 \
        "SYN retransmitted"
    expect_none smtp-syn-timeout 'ip.src == 10.250.99.25' "nothing from the server"
}

rec_smtp_unanswered() {
    # 127.0.0.8:25 greets and then reads without ever answering; the client sends EHLO, waits 5 s
    # for the reply, gives up and closes
    cap_start smtp-unanswered "tcp port 25 and host $MUTE_ADDR"
    silent_server $MUTE_ADDR 25 "220 test ESMTP"
    py_smtp_client smtp-unanswered $MUTE_ADDR "EHLO $CLIENT_HELO"
    cap_stop
    bg_stop_all
    expect smtp-unanswered 'smtp.response.code == 220' "220 test ESMTP"
    expect smtp-unanswered 'smtp.req.command == "EHLO"' "EHLO"
    expect_none smtp-unanswered 'tcp.srcport == 25 && tcp.len > 0 && !(smtp.response.code == 220)' \
        "no reply to EHLO"
    expect smtp-unanswered 'tcp.flags.fin == 1 && tcp.dstport == 25 && frame.time_relative >= 4.5' \
        "client closes after ~5 s"
}

# rec_vlan_smtp NAME NET TAGS DISPLAY-FILTER DESCRIPTION - swaks in the client namespace sends a
# message to postfix on NET.25 across the tagged trunk
rec_vlan_smtp() {
    local name=$1 net=$2 tags=$3 filter=$4 what=$5
    CAP_NAME=$name
    vlan_link_up "$net" "$tags"
    postfix_listener_add "$net.25"
    cap_start "$name" 'vlan' mwr-trk-a
    ip netns exec "$NS_CLIENT" swaks --helo "$CLIENT_HELO" --from "$SENDER" --timeout 60 \
        --header "Subject: mailwire sample $name" --server "$net.25" --port 25 --to "$USER_NAME" \
        >"$LOG_DIR/$name.client.log" 2>&1 || true
    cap_stop
    postfix_listener_del "$net.25"
    bg_stop_all
    net_teardown
    expect "$name" "$filter && $F_SMTP_QUEUED" "$what, 250 queued"
    expect_none "$name" "tcp && !($filter)" "every TCP frame tagged"
    expect_max_frame "$name" 1522
}
rec_smtp_vlan() {
    rec_vlan_smtp smtp-vlan 10.250.100 8100:100 'vlan.id == 100 && !ieee8021ad' "802.1Q VLAN 100"
}
rec_smtp_qinq() {
    rec_vlan_smtp smtp-qinq 10.250.20 88a8:10,8100:20 'ieee8021ad.id == 10 && vlan.id == 20' \
        "QinQ: 802.1ad S-tag 10 + 802.1Q C-tag 20"
}

# ================================================================================================
# Groups 5-7: keyed captures (issue 13), captures with their server logs (issue 14), several
# messages in one SMTP session (issue 19)
# ================================================================================================
# Every TLS client here writes a key log (curl SSLKEYLOGFILE, openssl s_client -keylogfile,
# python ssl.SSLContext.keylog_filename) to $WORK/keys/NAME.keys; keys_commit puts it beside the
# capture as NAME.keys (throw-away test keys). Extra postfix listeners (record_listeners, added
# before postfix starts):
#   127.0.0.9:587    submission without port logging (smtpd_client_port_logging = no)
#   127.0.0.15:465   smtps with the expired certificate (valid 2023 only)
#   127.0.0.16:25    smtp that also speaks TLS 1.0 (tls_medium_cipherlist ...@SECLEVEL=0)
# Failed logins each come from a source address of their own (127.0.0.21-47) so dovecot's
# per-address auth penalty never slows down another session.
NOPORT_ADDR=127.0.0.9
EXPIRED_ADDR=127.0.0.15
TLS10_ADDR=127.0.0.16
PF_LOG=''   # postfix's maillog_file, dovecot's log_path (set in main)
DC_LOG=''

record_listeners() {
    cat >>"$PF_ETC/master.cf" <<EOF
# record.sh: submission without the client port in the log lines
$NOPORT_ADDR:submission inet n - n - - smtpd
  -o syslog_name=postfix/submission-noport
  -o smtpd_tls_security_level=encrypt
  -o smtpd_client_port_logging=no
# record.sh: implicit TLS with an expired certificate
$EXPIRED_ADDR:smtps inet n - n - - smtpd
  -o syslog_name=postfix/smtps-expired
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_cert_file=$PKI/expired.crt
  -o smtpd_tls_key_file=$PKI/expired.key
# record.sh: STARTTLS that still accepts a TLS 1.0 client
$TLS10_ADDR:smtp inet n - n - - smtpd
  -o syslog_name=postfix/smtp-tls10
  -o tls_medium_cipherlist=DEFAULT:@SECLEVEL=0
EOF
}
record_listeners_up() {
    wait_listen $NOPORT_ADDR 587
    wait_listen $EXPIRED_ADDR 465
    wait_listen $TLS10_ADDR 25
}

# ---- key logs -----------------------------------------------------------------------------------
keys_path() { mkdir -p "$WORK/keys"; echo "$WORK/keys/$1.keys"; }
# keys_commit NAME [SOURCE-NAME] - the key log written for SOURCE-NAME (default NAME) beside NAME.pcap
keys_commit() {
    local name=$1 src=${2:-$1}
    local f="$WORK/keys/$src.keys"
    if [[ -s $f ]]; then
        install -m 644 "$f" "$OUT_DIR/$name.keys"
        SUMMARY+=("$name.keys: $(grep -c . "$f") key log line(s): $(awk '{print $1}' "$f" | sort -u | tr '\n' ' ')")
    else
        FAILURES+=("$name.keys: the client wrote no key log")
        log "  !! $name: no key log"
    fi
}

# ---- tshark checks on keyed captures ---------------------------------------------------------
# check_frames FILE MIN|0 FILTER DESCRIPTION [tshark options...] - MIN: at least MIN frames
# match; 0: none may match
check_frames() {
    local f=$1 min=$2 flt=$3 what=$4 max=-1 o=''
    shift 4
    ((min == 0)) && max=0
    (($#)) && o=$(IFS=$'\x1e'; echo "$*")
    queue_check "$f" "$o" "$min" "$max" "$flt" "$what" 0
}
keyopts() { echo "-o tls.keylog_file:$OUT_DIR/$1.keys -o smtp.decryption:TRUE"; }
# expect_dec NAME FILTER DESCRIPTION - matches once decrypted with NAME.keys
expect_dec() {
    # shellcheck disable=SC2046
    check_frames "$OUT_DIR/$1.pcap" 1 "$2" "with keys: $3" $(keyopts "$1")
}
# expect_sealed NAME FILTER DESCRIPTION - does not match without the keys (it really is inside TLS)
expect_sealed() {
    check_frames "$OUT_DIR/$1.pcap" 0 "$2" "without keys: no $3"
}
# expect_inner NAME MIN - tshark decrypts and shows at least MIN lines of the inner protocol
# (the transcript is kept in the log dir: LOG_DIR/NAME.inner.txt); nothing without the keys
expect_inner() {
    local name=$1 min=$2 n
    # shellcheck disable=SC2046
    tshark -n -r "$OUT_DIR/$name.pcap" $(keyopts "$name") -Y 'tls && (smtp || imap || pop)' \
        >"$LOG_DIR/$name.inner.txt" 2>/dev/null || true
    n=$(grep -c . "$LOG_DIR/$name.inner.txt" || true)
    if ((n >= min)); then
        SUMMARY+=("$name.pcap: with keys: $n decrypted smtp/imap/pop frames")
    else
        FAILURES+=("$name.pcap: only $n decrypted smtp/imap/pop frames (< $min) with $name.keys")
        log "  !! $name.pcap: only $n decrypted inner frames"
    fi
    expect_sealed "$name" 'tls && (smtp || imap || pop)' "inner smtp/imap/pop frame"
}

# ---- server logs ------------------------------------------------------------------------------
PF_MARK=0
DC_MARK=0
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
# log_quiet - wait (at most 5 s) until neither log has grown for 0.5 s, so a slice never starts
# with the tail of the previous scenario
log_quiet() {
    local i a b
    for ((i = 0; i < 10; i++)); do
        a="$(size_of "$PF_LOG") $(size_of "$DC_LOG")"
        sleep 0.5
        b="$(size_of "$PF_LOG") $(size_of "$DC_LOG")"
        [[ $a == "$b" ]] && return 0
    done
}
log_mark() {
    log_quiet
    PF_MARK=$(size_of "$PF_LOG")
    DC_MARK=$(size_of "$DC_LOG")
}
# log_save NAME [POSTFIX-REGEX [COUNT]] - after the session: wait (at most 20 s) until COUNT
# (default 1) lines matching POSTFIX-REGEX are in the postfix slice, let the logs settle, then
# write NAME.maillog / NAME.dovecot.log (the lines each server wrote since log_mark; a file only
# when that server wrote something)
log_save() {
    local name=$1 re=${2:-} want=${3:-1} i
    if [[ -n $re ]]; then
        for ((i = 0; i < 200; i++)); do
            (($(tail -c +$((PF_MARK + 1)) "$PF_LOG" | grep -cE -- "$re" || true) >= want)) && break
            sleep 0.1
        done
    fi
    log_quiet
    tail -c +$((PF_MARK + 1)) "$PF_LOG" >"$WORK/slice.maillog"
    tail -c +$((DC_MARK + 1)) "$DC_LOG" >"$WORK/slice.dovecot.log"
    local ext
    for ext in maillog dovecot.log; do
        rm -f "$OUT_DIR/$name.$ext"
        if [[ -s $WORK/slice.$ext ]]; then
            install -m 644 "$WORK/slice.$ext" "$OUT_DIR/$name.$ext"
        fi
    done
}
# expect_log NAME EXT REGEX DESCRIPTION [COUNT] - NAME.EXT has at least COUNT lines matching REGEX
expect_log() {
    local name=$1 ext=$2 re=$3 what=$4 want=${5:-1} n=0
    [[ -f $OUT_DIR/$name.$ext ]] && n=$(grep -cE -- "$re" "$OUT_DIR/$name.$ext" || true)
    if ((n >= want)); then
        SUMMARY+=("$name.$ext: $what")
    else
        FAILURES+=("$name.$ext: $n line(s) (< $want): $what   [$re]")
        log "  !! $name.$ext lacks: $what"
    fi
}
# expect_no_log NAME EXT REGEX DESCRIPTION
expect_no_log() {
    local name=$1 ext=$2 re=$3 what=$4 n=0
    [[ -f $OUT_DIR/$name.$ext ]] && n=$(grep -cE -- "$re" "$OUT_DIR/$name.$ext" || true)
    if ((n == 0)); then SUMMARY+=("$name.$ext: $what"); else
        FAILURES+=("$name.$ext: $n line(s) where none expected: $what   [$re]"); fi
}
# restart postfix with TZ=ZONE for its daemons (postlogd stamps the log lines in that zone);
# an empty ZONE: the machine's zone again
postfix_restart_tz() {
    local zone=$1 i
    postfix -c "$PF_ETC" stop >>"$LOG_DIR/postfix-restart.log" 2>&1 || true
    for ((i = 0; i < 100; i++)); do
        postfix -c "$PF_ETC" status >/dev/null 2>&1 || break
        sleep 0.1
    done
    if [[ -n $zone ]]; then
        TZ=$zone postfix -c "$PF_ETC" start >>"$LOG_DIR/postfix-restart.log" 2>&1 || die "postfix start (TZ=$zone) failed"
    else
        env -u TZ postfix -c "$PF_ETC" start >>"$LOG_DIR/postfix-restart.log" 2>&1 || die "postfix start failed"
    fi
    wait_listen 127.0.0.1 587
    wait_listen 127.0.0.1 25
    wait_listen 127.0.0.1 465
    record_listeners_up
}

# ---- clients ----------------------------------------------------------------------------------
# msg_file NAME TO [SUBJECT] - a small RFC 5322 message for curl -T, path on stdout
msg_file() {
    local f="$WORK/data/$1.eml"
    printf '%s\r\n' "From: Sender <$SENDER>" "To: <$2>" "Subject: ${3:-mailwire sample $1}" \
        "Date: Mon, 01 Jan 2024 12:00:00 +0000" "Message-ID: <$1@example.org>" "" \
        "A message for mailwire's keyed sample captures." >"$f"
    echo "$f"
}
# curl_keyed NAME [curl args...] - curl with SSLKEYLOGFILE=$WORK/keys/NAME.keys
curl_keyed() {
    local name=$1 keys
    shift
    keys=$(keys_path "$name")
    SSLKEYLOGFILE=$keys "${CURL[@]}" "$@" >>"$LOG_DIR/$name.client.out" 2>>"$LOG_DIR/$name.client.log" || true
}
# curl_smtp NAME URL [curl args...] - one message from SENDER (recipient, -u ... among the args)
curl_smtp() {
    local name=$1 url=$2
    shift 2
    curl_keyed "$name" "$url" --mail-from "$SENDER" "$@"
}
# py_client NAME MODE [options...] - the python clients (smtplib/imaplib/poplib/socket) in
# $WORK/data/mwclient.py, key log to $WORK/keys/NAME.keys
py_client() {
    local name=$1
    shift
    "$PY" "$WORK/data/mwclient.py" --keylog "$(keys_path "$name")" --cafile "$CA_CRT" \
        --helo "$CLIENT_HELO" --sender "$SENDER" --user "$USER_NAME" "$@" \
        >>"$LOG_DIR/$name.client.log" 2>&1 || true
}
# sclient_keyed NAME SECONDS-BETWEEN-LINES "LINE" ... -- [s_client args...] - openssl s_client
# with -keylogfile; the LINEs are typed (CRLF) after the handshake, a pause between them
sclient_keyed() {
    local name=$1 pause=$2 lines=() keys
    shift 2
    while (($#)) && [[ $1 != -- ]]; do lines+=("$1"); shift; done
    shift
    keys=$(keys_path "$name")
    { sleep 1.5; local l; for l in "${lines[@]}"; do printf '%s\n' "$l"; sleep "$pause"; done; sleep 1; } |
        timeout 30 openssl s_client -keylogfile "$keys" -nocommands -crlf -CAfile "$CA_CRT" "$@" \
            >>"$LOG_DIR/$name.client.log" 2>&1 || true
}

make_pyclient() {
    cat >"$WORK/data/mwclient.py" <<'EOF'
# mailwire recording clients: python stdlib, TLS key logs via SSLContext.keylog_filename
import argparse, imaplib, poplib, smtplib, socket, ssl, sys, time
ap = argparse.ArgumentParser()
ap.add_argument("mode")
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int)
ap.add_argument("--src", default="127.0.0.1")
ap.add_argument("--keylog")
ap.add_argument("--cafile")
ap.add_argument("--tls-max")
ap.add_argument("--ciphers")
ap.add_argument("--no-etm", action="store_true")
ap.add_argument("--user")
ap.add_argument("--password")
ap.add_argument("--helo")
ap.add_argument("--sender")
ap.add_argument("--rcpt", action="append", default=[])
a = ap.parse_args()

# every connection from the scenario's own source address
_create_connection = socket.create_connection
def create_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, **kw):
    return _create_connection(address, timeout, (a.src, 0), **kw)
socket.create_connection = create_connection

def context():
    c = ssl.create_default_context(cafile=a.cafile)
    if a.keylog:
        c.keylog_filename = a.keylog
    if a.tls_max == "1.2":
        c.maximum_version = ssl.TLSVersion.TLSv1_2
    if a.ciphers:
        c.set_ciphers(a.ciphers)
    if a.no_etm:
        c.options |= 0x80000  # SSL_OP_NO_ENCRYPT_THEN_MAC: CBC with MAC-then-encrypt
    return c

def say(*x):
    print(*x, flush=True)

def message(n, subject, rcpts):
    return (f"From: Sender <{a.sender}>\r\nTo: {', '.join('<%s>' % r for r in rcpts)}\r\n"
            f"Subject: {subject}\r\nDate: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
            f"Message-ID: <mw-{a.mode}-{n}@example.org>\r\n\r\n"
            f"Message {n} of mailwire sample {a.mode}.\r\n")

def smtp_starttls_relay():
    s = smtplib.SMTP(a.host, a.port, local_hostname=a.helo, timeout=30)
    s.set_debuglevel(1)
    s.ehlo()
    s.starttls(context=context())
    s.ehlo()
    try:
        s.sendmail(a.sender, a.rcpt, message(1, "mailwire sample " + a.mode, a.rcpt))
    except smtplib.SMTPRecipientsRefused as e:
        say("refused:", e)
    s.quit()

def imap_login(imap):
    imap.debug = 4
    try:
        imap.login(a.user, a.password)
        imap.select("INBOX", readonly=True)
        imap.fetch("1", "(FLAGS RFC822.SIZE)")
    except imaplib.IMAP4.error as e:
        say("login failed:", e)
    imap.logout()

def imap_starttls_login():
    m = imaplib.IMAP4(a.host, a.port, timeout=30)
    m.debug = 4
    m.capability()
    m.starttls(ssl_context=context())
    imap_login(m)

def imaps_login():
    imap_login(imaplib.IMAP4_SSL(a.host, a.port, ssl_context=context(), timeout=30))

def pop3_stls_login():
    p = poplib.POP3(a.host, a.port, timeout=30)
    p.set_debuglevel(2)
    p.capa()
    p.stls(context=context())
    try:
        p.user(a.user)
        p.pass_(a.password)
        p.stat()
    except poplib.error_proto as e:
        say("failed:", e)
    p.quit()

def smtp_multi_message():
    # three messages in one session: a recipient refused (then RSET), a message refused by
    # header_checks at the end of DATA, an accepted one
    s = smtplib.SMTP(a.host, a.port, local_hostname=a.helo, timeout=30)
    s.set_debuglevel(1)
    s.ehlo()
    say("tx1", s.mail(a.sender), s.rcpt("nosuchuser@example.test"))
    say("rset", s.rset())
    say("tx2", s.mail(a.sender), s.rcpt(a.rcpt[0]))
    try:
        s.data(message(2, "mailwire sample REJECTME", a.rcpt[:1]))
    except smtplib.SMTPDataError as e:
        say("tx2 data refused:", e)
    say("tx3", s.mail(a.sender), [s.rcpt(r) for r in a.rcpt])
    say("tx3 data", s.data(message(3, "mailwire sample smtp-multi-message #3", a.rcpt)))
    s.quit()

def smtp_bdat():
    # BDAT (RFC 3030 CHUNKING), written by hand: message 1 in three chunks (split mid-line)
    # and a final "BDAT 0 LAST"; message 2 in two chunks, refused by header_checks at LAST
    s = socket.create_connection((a.host, a.port), timeout=30)
    f = s.makefile("rb")
    def reply():
        while True:
            line = f.readline()
            say("S:", line.decode(errors="replace").rstrip())
            if not line or line[3:4] != b"-":
                return line
    def cmd(c, data=b""):
        say("C:", c, "(+%d bytes)" % len(data) if data else "")
        s.sendall(c.encode() + b"\r\n" + data)
        return reply()
    reply()
    cmd("EHLO " + a.helo)
    for n, subject, cuts, zero_last in ((1, "mailwire sample smtp-bdat #1", (61, 150), True),
                                        (2, "mailwire sample REJECTME", (97,), False)):
        body = message(n, subject, a.rcpt[:1]).encode()
        cmd("MAIL FROM:<%s>" % a.sender)
        cmd("RCPT TO:<%s>" % a.rcpt[0])
        edges = (0,) + cuts + (len(body),)
        for i in range(len(edges) - 1):
            chunk = body[edges[i]:edges[i + 1]]
            last = (i == len(edges) - 2) and not zero_last
            cmd("BDAT %d%s" % (len(chunk), " LAST" if last else ""), chunk)
        if zero_last:
            cmd("BDAT 0 LAST")
    cmd("QUIT")
    s.close()

{"smtp-starttls-relay": smtp_starttls_relay, "imap-starttls-login": imap_starttls_login,
 "imaps-login": imaps_login, "pop3-stls-login": pop3_stls_login,
 "smtp-multi-message": smtp_multi_message, "smtp-bdat": smtp_bdat}[a.mode]()
EOF
}

# ---- Group 5: keyed captures (issue 13) -------------------------------------------------------
F_AUTH='smtp.req.command == "AUTH"'
F_535='smtp.response.code == 535'
F_554_RELAY='smtp.response.code == 554 && smtp.rsp.parameter contains "Relay access denied"'
F_IMAP_AUTHFAIL='imap.response contains "NO [AUTHENTICATIONFAILED]"'
F_POP_AUTHFAIL='pop.response.indicator == "-ERR" && pop.response.description contains "[AUTH] Authentication failed"'
F_TLS13='tls.handshake.type == 2 && tls.handshake.extensions.supported_version == 0x0304'
F_TLS12='tls.handshake.type == 2 && tls.handshake.version == 0x0303 && !tls.handshake.extensions.supported_version'
F_ETM='tls.handshake.type == 2 && tls.handshake.extension.type == 22'
# resolve NAME-PORT-ADDR for curl, so it sends SNI mail.example.test and checks that name
RESOLVE() { echo "--resolve $MX_NAME:$1:$2"; }

# smtp AUTH with the wrong password: keyed_smtp_authfail NAME URL-SCHEME PORT SRC [curl args...]
keyed_smtp_authfail() {
    local name=$1 scheme=$2 port=$3 src=$4 tls=()
    shift 4
    [[ $scheme == smtp ]] && tls=(--ssl-reqd)
    cap_start "$name" "tcp port $port"
    # shellcheck disable=SC2046
    curl_smtp "$name" "$scheme://$MX_NAME:$port/$CLIENT_HELO" $(RESOLVE "$port" 127.0.0.1) "${tls[@]}" \
        --interface "$src" --mail-rcpt "$USER_NAME" -u "$USER_NAME:$PASS_BAD" -T "$(msg_file "$name" "$USER_NAME")" "$@"
    cap_stop
    keys_commit "$name"
    expect_dec "$name" "$F_AUTH" "AUTH (PLAIN, user $USER_NAME)"
    expect_dec "$name" "$F_535" "535 5.7.8 authentication failed"
    expect_sealed "$name" "$F_535" "535"
    expect_inner "$name" 4
}

rec_keyed_smtp587_auth_failed_tls13() {
    keyed_smtp_authfail keyed-smtp587-auth-failed-tls13 smtp 587 127.0.0.21
    expect keyed-smtp587-auth-failed-tls13 "$F_TLS13 && tls.handshake.ciphersuite == 0x1302" "TLS 1.3, TLS_AES_256_GCM_SHA384"
}
rec_keyed_smtp25_auth_failed_tls13() {
    keyed_smtp_authfail keyed-smtp25-auth-failed-tls13 smtp 25 127.0.0.22 --tls13-ciphers TLS_AES_128_GCM_SHA256
    expect keyed-smtp25-auth-failed-tls13 "$F_TLS13 && tls.handshake.ciphersuite == 0x1301" "TLS 1.3, TLS_AES_128_GCM_SHA256"
}
rec_keyed_smtps465_auth_failed_tls13() {
    keyed_smtp_authfail keyed-smtps465-auth-failed-tls13 smtps 465 127.0.0.23
    expect keyed-smtps465-auth-failed-tls13 'tls.handshake.type == 1 && tcp.dstport == 465 && frame.number <= 5' "ClientHello right after connect"
    expect keyed-smtps465-auth-failed-tls13 "$F_TLS13" "TLS 1.3"
    expect_dec keyed-smtps465-auth-failed-tls13 'smtp.response.code == 220' "220 greeting inside TLS"
}
rec_keyed_smtp587_auth_failed_tls12_aes128gcm() {
    keyed_smtp_authfail keyed-smtp587-auth-failed-tls12-aes128gcm smtp 587 127.0.0.27 \
        --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
    expect keyed-smtp587-auth-failed-tls12-aes128gcm "$F_TLS12 && tls.handshake.ciphersuite == 0xc02f" "TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256"
}
rec_keyed_smtp587_auth_failed_tls12_chacha20() {
    keyed_smtp_authfail keyed-smtp587-auth-failed-tls12-chacha20 smtp 587 127.0.0.28 \
        --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305
    expect keyed-smtp587-auth-failed-tls12-chacha20 "$F_TLS12 && tls.handshake.ciphersuite == 0xcca8" "TLS 1.2, ECDHE-RSA-CHACHA20-POLY1305"
}
rec_keyed_smtps465_auth_failed_tls12_aes256cbc_sha384() {
    keyed_smtp_authfail keyed-smtps465-auth-failed-tls12-aes256cbc-sha384 smtps 465 127.0.0.29 \
        --tls-max 1.2 --ciphers ECDHE-RSA-AES256-SHA384
    expect keyed-smtps465-auth-failed-tls12-aes256cbc-sha384 "$F_TLS12 && tls.handshake.ciphersuite == 0xc028" "TLS 1.2, ECDHE-RSA-AES256-SHA384 (CBC, HMAC-SHA384)"
    expect keyed-smtps465-auth-failed-tls12-aes256cbc-sha384 "$F_ETM" "encrypt_then_mac negotiated"
}
rec_keyed_smtp587_auth_failed_ipv6_tls13() {
    local name=keyed-smtp587-auth-failed-ipv6-tls13
    cap_start "$name" 'tcp port 587'
    curl_smtp "$name" "smtp://[::1]:587/$CLIENT_HELO" --ssl-reqd --mail-rcpt "$USER_NAME" \
        -u "$USER_NAME:$PASS_BAD" -T "$(msg_file "$name" "$USER_NAME")"
    cap_stop
    keys_commit "$name"
    expect "$name" "ipv6 && $F_TLS13" "over ::1, TLS 1.3"
    expect_dec "$name" "ipv6 && $F_AUTH" "AUTH over IPv6"
    expect_dec "$name" "$F_535" "535 5.7.8"
    expect_sealed "$name" "$F_535" "535"
    expect_inner "$name" 4
}

rec_keyed_smtp25_relay_denied_tls13() {
    # python smtplib: STARTTLS, then RCPT bob@example.net -> 554 5.7.1 (smtplib then sends RSET)
    local name=keyed-smtp25-relay-denied-tls13
    cap_start "$name" 'tcp port 25'
    py_client "$name" smtp-starttls-relay --port 25 --rcpt bob@example.net
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS13" "TLS 1.3"
    expect_dec "$name" 'upper(smtp.req.command) == "RCPT"' "RCPT TO:<bob@example.net>"
    expect_dec "$name" "$F_554_RELAY" "554 5.7.1 Relay access denied"
    expect_sealed "$name" "$F_554_RELAY" "554"
    expect_inner "$name" 4
}
rec_keyed_smtp587_relay_denied_tls13() {
    # openssl s_client -starttls smtp -keylogfile, commands typed after the handshake
    local name=keyed-smtp587-relay-denied-tls13
    cap_start "$name" 'tcp port 587'
    sclient_keyed "$name" 0.5 "EHLO $CLIENT_HELO" "MAIL FROM:<$SENDER>" "RCPT TO:<bob@example.net>" "QUIT" -- \
        -connect 127.0.0.1:587 -starttls smtp -name "$CLIENT_HELO" -servername "$MX_NAME" -verify_return_error
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS13" "TLS 1.3"
    expect_dec "$name" 'smtp.req.command == "RCPT"' "RCPT TO:<bob@example.net>"
    expect_dec "$name" "$F_554_RELAY" "554 5.7.1 Relay access denied"
    expect_sealed "$name" "$F_554_RELAY" "554"
    expect_inner "$name" 6
}

rec_keyed_imaps993_auth_failed_tls13() {
    local name=keyed-imaps993-auth-failed-tls13
    cap_start "$name" 'tcp port 993'
    # shellcheck disable=SC2046
    curl_keyed "$name" "imaps://$MX_NAME/" $(RESOLVE 993 127.0.0.1) --interface 127.0.0.24 -u "$USER_NAME:$PASS_BAD"
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS13" "TLS 1.3"
    expect_dec "$name" 'imap.request.command == "AUTHENTICATE"' "AUTHENTICATE PLAIN"
    expect_dec "$name" "$F_IMAP_AUTHFAIL" "NO [AUTHENTICATIONFAILED]"
    expect_sealed "$name" "$F_IMAP_AUTHFAIL" "NO"
    expect_inner "$name" 3
}
rec_keyed_pop3s995_auth_failed_tls13() {
    local name=keyed-pop3s995-auth-failed-tls13
    cap_start "$name" 'tcp port 995'
    # shellcheck disable=SC2046
    curl_keyed "$name" "pop3s://$MX_NAME/" $(RESOLVE 995 127.0.0.1) --interface 127.0.0.25 -u "$USER_NAME:$PASS_BAD"
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS13" "TLS 1.3"
    expect_dec "$name" 'pop.request.command == "AUTH"' "AUTH PLAIN"
    expect_dec "$name" "$F_POP_AUTHFAIL" "-ERR [AUTH] Authentication failed."
    expect_sealed "$name" "$F_POP_AUTHFAIL" "-ERR"
    expect_inner "$name" 3
}
rec_keyed_imap143_starttls_login_ok_tls13() {
    # python imaplib: CAPABILITY, STARTTLS, LOGIN (good password), SELECT, FETCH, LOGOUT
    local name=keyed-imap143-starttls-login-ok-tls13
    cap_start "$name" 'tcp port 143'
    py_client "$name" imap-starttls-login --port 143 --password "$PASS_GOOD"
    cap_stop
    keys_commit "$name"
    expect "$name" 'imap.request.command == "STARTTLS"' "STARTTLS in clear"
    expect "$name" "$F_TLS13" "TLS 1.3"
    expect_dec "$name" 'imap.request.command == "LOGIN"' "LOGIN $USER_NAME"
    expect_dec "$name" 'imap.response.status == "OK" && imap.response contains "Logged in"' "OK Logged in"
    expect_sealed "$name" 'imap.request.command == "LOGIN"' "LOGIN"
    expect_inner "$name" 6
}
rec_keyed_pop3_110_stls_auth_failed_tls13() {
    # python poplib: CAPA, STLS, USER, PASS (wrong) -> -ERR [AUTH], QUIT
    local name=keyed-pop3-110-stls-auth-failed-tls13
    cap_start "$name" 'tcp port 110'
    py_client "$name" pop3-stls-login --port 110 --src 127.0.0.26 --password "$PASS_BAD"
    cap_stop
    keys_commit "$name"
    expect "$name" 'pop.request.command == "STLS"' "STLS in clear"
    expect "$name" "$F_TLS13" "TLS 1.3"
    expect_dec "$name" 'pop.request.command == "PASS"' "USER/PASS"
    expect_dec "$name" "$F_POP_AUTHFAIL" "-ERR [AUTH] Authentication failed."
    expect_sealed "$name" "$F_POP_AUTHFAIL" "-ERR"
    expect_inner "$name" 4
}
rec_keyed_imaps993_login_ok_tls13_chacha20() {
    local name=keyed-imaps993-login-ok-tls13-chacha20
    cap_start "$name" 'tcp port 993'
    # shellcheck disable=SC2046
    curl_keyed "$name" "imaps://$MX_NAME/" $(RESOLVE 993 127.0.0.1) --tlsv1.3 \
        --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS13 && tls.handshake.ciphersuite == 0x1303" "TLS 1.3, TLS_CHACHA20_POLY1305_SHA256"
    expect_dec "$name" 'imap.request.command == "AUTHENTICATE"' "AUTHENTICATE PLAIN"
    expect_dec "$name" 'imap.response contains "OK Logged in"' "OK Logged in"
    expect_dec "$name" 'imap.request.command == "LIST"' "LIST"
    expect_inner "$name" 4
}
rec_keyed_pop3s995_login_ok_tls12_aes256gcm() {
    local name=keyed-pop3s995-login-ok-tls12-aes256gcm
    cap_start "$name" 'tcp port 995'
    # shellcheck disable=SC2046
    curl_keyed "$name" "pop3s://$MX_NAME/" $(RESOLVE 995 127.0.0.1) --tls-max 1.2 \
        --ciphers ECDHE-RSA-AES256-GCM-SHA384 -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS12 && tls.handshake.ciphersuite == 0xc030" "TLS 1.2, ECDHE-RSA-AES256-GCM-SHA384"
    expect_dec "$name" 'pop.response.indicator == "+OK" && pop.response.description contains "Logged in"' "+OK Logged in."
    expect_dec "$name" 'pop.request.command == "LIST"' "LIST"
    expect_inner "$name" 4
}
rec_keyed_imaps993_login_ok_tls12_aes128cbc_etm() {
    local name=keyed-imaps993-login-ok-tls12-aes128cbc-etm
    cap_start "$name" 'tcp port 993'
    # shellcheck disable=SC2046
    curl_keyed "$name" "imaps://$MX_NAME/" $(RESOLVE 993 127.0.0.1) --tls-max 1.2 \
        --ciphers ECDHE-RSA-AES128-SHA -u "$USER_NAME:$PASS_GOOD"
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS12 && tls.handshake.ciphersuite == 0xc013" "TLS 1.2, ECDHE-RSA-AES128-SHA (CBC, HMAC-SHA1)"
    expect "$name" "$F_ETM" "encrypt_then_mac negotiated"
    expect_dec "$name" 'imap.response contains "OK Logged in"' "OK Logged in"
    expect_inner "$name" 4
}
rec_keyed_imaps993_login_ok_tls12_aes128cbc_noetm() {
    # python with SSL_OP_NO_ENCRYPT_THEN_MAC: CBC with the MAC inside the encryption
    local name=keyed-imaps993-login-ok-tls12-aes128cbc-noetm
    cap_start "$name" 'tcp port 993'
    py_client "$name" imaps-login --port 993 --password "$PASS_GOOD" --tls-max 1.2 \
        --ciphers ECDHE-RSA-AES128-SHA --no-etm
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS12 && tls.handshake.ciphersuite == 0xc013" "TLS 1.2, ECDHE-RSA-AES128-SHA (CBC, HMAC-SHA1)"
    check_frames "$OUT_DIR/$name.pcap" 0 "$F_ETM" "no encrypt_then_mac (MAC-then-encrypt)"
    expect_dec "$name" 'imap.request.command == "LOGIN"' "LOGIN"
    expect_dec "$name" 'imap.response contains "Logged in"' "OK Logged in"
    expect_inner "$name" 6
}
rec_keyed_smtp25_auth_failed_tls10() {
    # TLS 1.0 (CBC with the chained IV), s_client against the 127.0.0.16 listener that allows it
    local name=keyed-smtp25-auth-failed-tls10 blob
    blob=$(printf '\0%s\0%s' "$USER_NAME" "$PASS_BAD" | base64 -w0)
    cap_start "$name" 'tcp port 25'
    sclient_keyed "$name" 0.5 "EHLO $CLIENT_HELO" "AUTH PLAIN $blob" "QUIT" -- \
        -connect $TLS10_ADDR:25 -bind 127.0.0.33 -starttls smtp -name "$CLIENT_HELO" -servername "$MX_NAME" \
        -tls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
    cap_stop
    keys_commit "$name"
    expect "$name" 'tls.handshake.type == 2 && tls.handshake.version == 0x0301 && tls.handshake.ciphersuite == 0xc013' \
        "TLS 1.0, ECDHE-RSA-AES128-SHA"
    expect_dec "$name" "$F_AUTH" "AUTH PLAIN"
    expect_dec "$name" "$F_535" "535 5.7.8"
    expect_sealed "$name" "$F_535" "535"
    expect_inner "$name" 4
}
rec_keyed_smtps465_cert_expired_tls13() {
    # postfix smtps on 127.0.0.15 serves the expired certificate; under TLS 1.3 the Certificate
    # is encrypted: which certificate it was (and that it expired) is visible only with the keys
    local name=keyed-smtps465-cert-expired-tls13
    cap_start "$name" 'tcp port 465'
    sclient_keyed "$name" 0.5 "EHLO $CLIENT_HELO" -- -connect $EXPIRED_ADDR:465 -servername expired.example.test \
        -tls1_3 -verify_return_error
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS13" "TLS 1.3"
    expect_dec "$name" 'tls.handshake.type == 11 && x509sat.uTF8String == "expired.example.test"' \
        "Certificate CN expired.example.test (valid 2023-01-01..2024-01-01)"
    expect_sealed "$name" 'tls.handshake.type == 11' "Certificate"
    # OpenSSL's client gives up before it switches to its handshake key: the alert itself is a
    # plaintext record (7 bytes), readable with or without keys
    expect "$name" 'tls.alert_message.desc == 45 && tcp.dstport == 465' "client alert certificate_expired (45), plaintext record"
}
rec_keyed_multi_sessions() {
    # three sessions in one capture, one key log: 587 AUTH failure (curl), IMAPS login (curl),
    # POP3 STLS login (python)
    local name=keyed-multi-sessions keys
    keys=$(keys_path "$name")
    cap_start "$name" 'tcp port 587 or tcp port 993 or tcp port 110'
    # shellcheck disable=SC2046
    curl_smtp "$name" "smtp://$MX_NAME:587/$CLIENT_HELO" $(RESOLVE 587 127.0.0.1) --ssl-reqd --interface 127.0.0.30 \
        --mail-rcpt "$USER_NAME" -u "$USER_NAME:$PASS_BAD" -T "$(msg_file "$name" "$USER_NAME")"
    # shellcheck disable=SC2046
    curl_keyed "$name" "imaps://$MX_NAME/" $(RESOLVE 993 127.0.0.1) -u "$USER_NAME:$PASS_GOOD"
    py_client "$name" pop3-stls-login --port 110 --password "$PASS_GOOD"
    cap_stop
    keys_commit "$name"
    expect_count "$name" 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 3 "three TCP sessions"
    expect_count "$name" 'tls.handshake.type == 1' 3 "three ClientHellos"
    expect_dec "$name" "$F_535" "587: 535 5.7.8"
    expect_dec "$name" 'imap.response contains "OK Logged in"' "993: OK Logged in"
    expect_dec "$name" 'pop.response.indicator == "+OK" && pop.response.description contains "Logged in"' "110: +OK Logged in."
    expect_inner "$name" 10
}
rec_keyed_nokey_smtp587_auth_failed_tls13() {
    # the key log beside this capture holds the keys of ANOTHER session (the same exchange, run
    # again without capturing): nothing in the capture decrypts with it
    local name=keyed-nokey-smtp587-auth-failed-tls13
    cap_start "$name" 'tcp port 587'
    # shellcheck disable=SC2046
    curl_smtp "$name.captured" "smtp://$MX_NAME:587/$CLIENT_HELO" $(RESOLVE 587 127.0.0.1) --ssl-reqd --interface 127.0.0.31 \
        --mail-rcpt "$USER_NAME" -u "$USER_NAME:$PASS_BAD" -T "$(msg_file "$name" "$USER_NAME")"
    cap_stop
    # shellcheck disable=SC2046
    curl_smtp "$name" "smtp://$MX_NAME:587/$CLIENT_HELO" $(RESOLVE 587 127.0.0.1) --ssl-reqd --interface 127.0.0.31 \
        --mail-rcpt "$USER_NAME" -u "$USER_NAME:$PASS_BAD" -T "$(msg_file "$name" "$USER_NAME")"
    keys_commit "$name"
    expect "$name" "$F_TLS13" "TLS 1.3"
    check_frames "$OUT_DIR/$name.pcap" 0 "$F_AUTH || $F_535" "with the (foreign) keys: still no AUTH/535" $(keyopts "$name")
    check_frames "$OUT_DIR/$name.pcap" 0 'tls && smtp' "with the (foreign) keys: no inner frame" $(keyopts "$name")
    local rnd
    rnd=$(tshark -n -r "$OUT_DIR/$name.pcap" -Y 'tls.handshake.type == 1' -T fields -e tls.handshake.random 2>/dev/null | tr -d ':')
    if [[ -n $rnd ]] && ! grep -qi -- "$rnd" "$OUT_DIR/$name.keys"; then
        SUMMARY+=("$name.keys: no line for the capture's client random")
    else
        FAILURES+=("$name.keys: holds the capture's client random ($rnd)")
    fi
}
rec_keyed_embedded_imaps993_auth_failed_tls13() {
    # a pcapng with the key log inside (Decryption Secrets Block): decrypts with no option
    local name=keyed-embedded-imaps993-auth-failed-tls13 f
    cap_start "$name" 'tcp port 993'
    # shellcheck disable=SC2046
    curl_keyed "$name" "imaps://$MX_NAME/" $(RESOLVE 993 127.0.0.1) --interface 127.0.0.32 -u "$USER_NAME:$PASS_BAD"
    cap_stop
    f=$OUT_DIR/$name.pcapng
    if editcap --inject-secrets "tls,$WORK/keys/$name.keys" "$OUT_DIR/$name.pcap" "$f" 2>"$LOG_DIR/$name.editcap.log"; then
        chmod 644 "$f"
        SUMMARY+=("$name.pcapng: key log embedded (editcap --inject-secrets)")
    else
        FAILURES+=("$name.pcapng: editcap failed: $(head -c 300 "$LOG_DIR/$name.editcap.log")")
    fi
    rm -f "$OUT_DIR/$name.pcap"
    check_frames "$f" 1 'imap.request.command == "AUTHENTICATE"' "no option: AUTHENTICATE PLAIN decrypted"
    check_frames "$f" 1 "$F_IMAP_AUTHFAIL" "no option: NO [AUTHENTICATIONFAILED] decrypted"
    check_frames "$f" 1 'frame.len > 0' "pcapng readable"
}

# ---- Group 6: captures with their server logs (issue 14) --------------------------------------
# Each: NAME.pcap, NAME.keys (when a client can write one), NAME.maillog (postfix's maillog_file
# lines written during the session) and/or NAME.dovecot.log (dovecot's log_path lines).
# PF_PORT_RE: a client named with its port, as smtpd_client_port_logging = yes writes it
PF_PORT_RE='\[127\.0\.0\.[0-9]+\]:[0-9]+'

rec_log_smtp587_auth_failed_tls13() {
    local name=log-smtp587-auth-failed-tls13
    log_mark
    keyed_smtp_authfail "$name" smtp 587 127.0.0.41
    log_save "$name" 'disconnect from'
    expect_log "$name" maillog "postfix/submission/smtpd\[[0-9]+\]: connect from [^ ]*$PF_PORT_RE" "connect from ...[127.0.0.41]:PORT"
    expect_log "$name" maillog 'TLS connection established from .*TLSv1\.3 with cipher' "TLS connection established ... TLSv1.3"
    expect_log "$name" maillog 'SASL (PLAIN|LOGIN) authentication failed' "SASL ... authentication failed"
    expect_log "$name" maillog "disconnect from .*$PF_PORT_RE .*auth=0/1" "disconnect ... auth=0/1"
}
rec_log_smtp25_relay_denied_starttls_tls13() {
    local name=log-smtp25-relay-denied-starttls-tls13
    log_mark
    cap_start "$name" 'tcp port 25'
    py_client "$name" smtp-starttls-relay --port 25 --rcpt bob@example.net
    cap_stop
    keys_commit "$name"
    log_save "$name" 'disconnect from'
    expect_dec "$name" "$F_554_RELAY" "554 5.7.1 Relay access denied"
    expect_sealed "$name" "$F_554_RELAY" "554"
    expect_log "$name" maillog "NOQUEUE: reject: RCPT from [^ ]*$PF_PORT_RE: 554 5\.7\.1 <bob@example\.net>: Relay access denied" \
        "NOQUEUE: reject: RCPT ... 554 5.7.1 Relay access denied"
    expect_log "$name" maillog 'TLS connection established' "TLS connection established"
}
rec_log_smtps465_relay_denied_tls13() {
    local name=log-smtps465-relay-denied-tls13
    log_mark
    cap_start "$name" 'tcp port 465'
    # shellcheck disable=SC2046
    curl_smtp "$name" "smtps://$MX_NAME:465/$CLIENT_HELO" $(RESOLVE 465 127.0.0.1) --mail-rcpt bob@example.net \
        -T "$(msg_file "$name" bob@example.net)"
    cap_stop
    keys_commit "$name"
    log_save "$name" 'disconnect from'
    expect_dec "$name" "$F_554_RELAY" "554 5.7.1 Relay access denied"
    expect_sealed "$name" "$F_554_RELAY" "554"
    expect_log "$name" maillog "postfix/smtps/smtpd.*NOQUEUE: reject: RCPT from [^ ]*$PF_PORT_RE: 554 5\.7\.1" \
        "smtps: NOQUEUE: reject: RCPT ... 554 5.7.1"
}
rec_log_smtp587_accepted_bounced_tls13() {
    # AUTH PLAIN (good password), a message to bounceme@example.test: a local recipient smtpd
    # accepts (250 queued) whom local(8) then cannot deliver to (no such system user):
    # status=bounced, and the non-delivery notification to the sender (which bounces in turn,
    # default_transport = error)
    local name=log-smtp587-accepted-bounced-tls13
    log_mark
    cap_start "$name" 'tcp port 587'
    # shellcheck disable=SC2046
    curl_smtp "$name" "smtp://$MX_NAME:587/$CLIENT_HELO" $(RESOLVE 587 127.0.0.1) --ssl-reqd --mail-rcpt "$BOUNCE_RCPT" \
        -u "$USER_NAME:$PASS_GOOD" -T "$(msg_file "$name" "$BOUNCE_RCPT")"
    cap_stop
    keys_commit "$name"
    log_save "$name" ': removed$' 3
    expect_dec "$name" 'smtp.response.code == 235' "235 2.7.0 Authentication successful"
    expect_dec "$name" "$F_SMTP_QUEUED" "250 2.0.0 Ok: queued as ..."
    expect_sealed "$name" "$F_SMTP_QUEUED" "250 queued"
    expect_log "$name" maillog 'sasl_method=PLAIN, sasl_username=alice@example\.test' "client=...:PORT, sasl_method=PLAIN, sasl_username=$USER_NAME"
    expect_log "$name" maillog 'to=<bounceme@example\.test>, relay=local, .*status=bounced' "to=<$BOUNCE_RCPT>, relay=local ... status=bounced"
    expect_log "$name" maillog 'sender non-delivery notification' "the bounce (sender non-delivery notification)"
}
rec_log_smtp25_starttls_accepted_sent_tls13() {
    local name=log-smtp25-starttls-accepted-sent-tls13
    log_mark
    cap_start "$name" 'tcp port 25'
    # shellcheck disable=SC2046
    curl_smtp "$name" "smtp://$MX_NAME:25/$CLIENT_HELO" $(RESOLVE 25 127.0.0.1) --ssl-reqd --mail-rcpt "$USER_NAME" \
        -T "$(msg_file "$name" "$USER_NAME")"
    cap_stop
    keys_commit "$name"
    log_save "$name" ': removed$'
    expect_dec "$name" "$F_SMTP_QUEUED" "250 2.0.0 Ok: queued as ..."
    expect_sealed "$name" "$F_SMTP_QUEUED" "250 queued"
    expect_log "$name" maillog 'to=<alice@example\.test>, relay=none, .*status=sent' "to=<$USER_NAME> ... status=sent (discarded)"
}
rec_log_imaps993_auth_failed_tls13() {
    local name=log-imaps993-auth-failed-tls13
    log_mark
    cap_start "$name" 'tcp port 993'
    # shellcheck disable=SC2046
    curl_keyed "$name" "imaps://$MX_NAME/" $(RESOLVE 993 127.0.0.1) --interface 127.0.0.42 -u "$USER_NAME:$PASS_BAD"
    cap_stop
    keys_commit "$name"
    log_save "$name"
    expect_dec "$name" "$F_IMAP_AUTHFAIL" "NO [AUTHENTICATIONFAILED]"
    expect_sealed "$name" "$F_IMAP_AUTHFAIL" "NO"
    expect_log "$name" dovecot.log 'imap-login: Info: Disconnected.*auth failed, 1 attempts.*rip=127\.0\.0\.42, rport=[0-9]+, lip=127\.0\.0\.1, lport=993' \
        "imap-login: Disconnected (auth failed, 1 attempts ...) rip=127.0.0.42, rport=PORT, lip, lport=993"
    expect_log "$name" dovecot.log 'auth: Info: passwd-file\(alice@example\.test,127\.0\.0\.42.*Password mismatch' "auth: ... Password mismatch"
}
rec_log_pop3s995_auth_failed_tls13() {
    local name=log-pop3s995-auth-failed-tls13
    log_mark
    cap_start "$name" 'tcp port 995'
    # shellcheck disable=SC2046
    curl_keyed "$name" "pop3s://$MX_NAME/" $(RESOLVE 995 127.0.0.1) --interface 127.0.0.43 -u "$USER_NAME:$PASS_BAD"
    cap_stop
    keys_commit "$name"
    log_save "$name"
    expect_dec "$name" "$F_POP_AUTHFAIL" "-ERR [AUTH] Authentication failed."
    expect_sealed "$name" "$F_POP_AUTHFAIL" "-ERR"
    expect_log "$name" dovecot.log 'pop3-login: Info: Disconnected.*auth failed, 1 attempts.*rip=127\.0\.0\.43, rport=[0-9]+, lip=127\.0\.0\.1, lport=995' \
        "pop3-login: Disconnected (auth failed, 1 attempts ...) rip=127.0.0.43, rport=PORT, lport=995"
}
rec_log_imaps993_tls10_refused() {
    # a TLS 1.0-only client: dovecot (ssl_min_protocol = TLSv1.2) closes; no keys can exist
    local name=log-imaps993-tls10-refused
    log_mark
    cap_start "$name" 'tcp port 993'
    timeout 20 openssl s_client -connect 127.0.0.1:993 -bind 127.0.0.47 -servername "$MX_NAME" -tls1 \
        -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"$LOG_DIR/$name.client.log" 2>&1 || true
    cap_stop
    log_save "$name"
    expect "$name" 'tls.handshake.type == 1 && tls.handshake.version == 0x0301' "ClientHello TLS 1.0 only"
    check_frames "$OUT_DIR/$name.pcap" 0 'tls.handshake.type == 2' "no ServerHello"
    expect_log "$name" dovecot.log 'imap-login: Info: Disconnected.*rip=127\.0\.0\.47, rport=[0-9]+.*SSL_accept\(\) failed.*(unsupported protocol|wrong version|no protocols available)' \
        "imap-login: ... SSL_accept() failed: ... unsupported protocol"
}
rec_log_smtp587_noport_auth_failed_tls13() {
    # the 127.0.0.9:587 listener logs the client without its port: unknown[127.0.0.44]
    local name=log-smtp587-noport-auth-failed-tls13
    log_mark
    cap_start "$name" 'tcp port 587'
    # shellcheck disable=SC2046
    curl_smtp "$name" "smtp://$MX_NAME:587/$CLIENT_HELO" $(RESOLVE 587 $NOPORT_ADDR) --ssl-reqd --interface 127.0.0.44 \
        --mail-rcpt "$USER_NAME" -u "$USER_NAME:$PASS_BAD" -T "$(msg_file "$name" "$USER_NAME")"
    cap_stop
    keys_commit "$name"
    log_save "$name" 'disconnect from'
    expect_dec "$name" "$F_535" "535 5.7.8"
    expect_log "$name" maillog 'submission-noport/smtpd.*SASL (PLAIN|LOGIN) authentication failed' "SASL ... authentication failed"
    expect_log "$name" maillog 'connect from [^ ]*\[127\.0\.0\.44\]$' "connect from ...[127.0.0.44] (no port)"
    expect_no_log "$name" maillog '\[127\.0\.0\.44\]:[0-9]' "no client port in any line"
}
rec_log_smtp587_noport_ambiguous_tls13() {
    # two overlapping sessions from the same address to the no-port listener: AUTH with the wrong
    # password (535 after ~2 s) and, started 0.3 s later, a relay attempt (554) that ends first.
    # Without ports the log lines cannot be told apart by address and time.
    local name=log-smtp587-noport-ambiguous-tls13 p1
    log_mark
    cap_start "$name" 'tcp port 587'
    # shellcheck disable=SC2046
    curl_smtp "$name" "smtp://$MX_NAME:587/$CLIENT_HELO" $(RESOLVE 587 $NOPORT_ADDR) --ssl-reqd --interface 127.0.0.45 \
        --mail-rcpt "$USER_NAME" -u "$USER_NAME:$PASS_BAD" -T "$(msg_file "$name-a" "$USER_NAME")" &
    p1=$!
    sleep 0.3
    # shellcheck disable=SC2046
    curl_smtp "$name" "smtp://$MX_NAME:587/$CLIENT_HELO" $(RESOLVE 587 $NOPORT_ADDR) --ssl-reqd --interface 127.0.0.45 \
        --mail-rcpt bob@example.net -T "$(msg_file "$name-b" bob@example.net)"
    wait "$p1"
    cap_stop
    keys_commit "$name"
    log_save "$name" 'disconnect from' 2
    expect_count "$name" 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == 127.0.0.45' 2 "two sessions from 127.0.0.45"
    expect_dec "$name" "$F_535" "session 1: 535 5.7.8"
    expect_dec "$name" "$F_554_RELAY" "session 2: 554 5.7.1 Relay access denied"
    expect_log "$name" maillog 'connect from [^ ]*\[127\.0\.0\.45\]$' "connect from ...[127.0.0.45] (no port)" 2
    expect_log "$name" maillog 'NOQUEUE: reject: RCPT from [^ ]*\[127\.0\.0\.45\]: 554 5\.7\.1' "NOQUEUE: reject: RCPT ... 554 5.7.1 (no port)"
    expect_log "$name" maillog 'SASL (PLAIN|LOGIN) authentication failed' "SASL ... authentication failed"
    expect_no_log "$name" maillog '\[127\.0\.0\.45\]:[0-9]' "no client port in any line"
}
rec_log_smtp587_auth_failed_berlin_tls13() {
    # postfix restarted with TZ=Europe/Berlin for this one: its log lines are in CET/CEST
    local name=log-smtp587-auth-failed-berlin-tls13
    postfix_restart_tz Europe/Berlin
    log_mark
    keyed_smtp_authfail "$name" smtp 587 127.0.0.46
    log_save "$name" 'disconnect from'
    postfix_restart_tz ''
    expect_log "$name" maillog 'SASL (PLAIN|LOGIN) authentication failed' "SASL ... authentication failed"
    # the first line's time is the capture's first packet in Berlin time (UTC+1/+2), +-5 s
    local first logt cap
    first=$(grep -m1 'connect from' "$OUT_DIR/$name.maillog" || true)
    cap=$(tshark -n -r "$OUT_DIR/$name.pcap" -c 1 -T fields -e frame.time_epoch 2>/dev/null | cut -d. -f1)
    logt=$("$PY" - "$first" <<'EOF'
import sys, datetime, re
line = sys.argv[1]
m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)|([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)", line)
if not m:
    print(""); sys.exit()
if m.group(1):
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
else:
    t = datetime.datetime.strptime("%d %s" % (datetime.datetime.utcnow().year, m.group(2)), "%Y %b %d %H:%M:%S")
print(int(t.replace(tzinfo=datetime.timezone.utc).timestamp()))
EOF
)
    local off=$(( ${logt:-0} - ${cap:-0} ))
    if [[ -n $logt && -n $cap ]] && { ((off >= 3595 && off <= 3605)) || ((off >= 7195 && off <= 7205)); }; then
        SUMMARY+=("$name.maillog: local time is UTC+$(((off + 5) / 3600)) h (Europe/Berlin)")
    else
        FAILURES+=("$name.maillog: log time - capture time = $off s, not +1 h/+2 h (TZ=Europe/Berlin?)")
    fi
}

# ---- Group 8: keyed bulk transfers and 0-RTT (issue 13: make bench, early data) ------------------
# The multi-megabyte message (large-message.eml, seeded as INBOX message 1) through TLS with the
# client's key log, for bench/make_captures.py's keyed workload; recorded into pcaps/bulk/
# (MW_REC_OUT=pcaps/bulk ... @bulk-keyed), outside the pcaps/*.pcap every test walks.
rec_keyed_imaps993_fetch_large_tls13() {
    local name=keyed-imaps993-fetch-large-tls13
    cap_start "$name" 'tcp port 993'
    # shellcheck disable=SC2046
    curl_keyed "$name" "imaps://$MX_NAME/INBOX;MAILINDEX=1" $(RESOLVE 993 127.0.0.1) --tlsv1.3 \
        --tls13-ciphers TLS_AES_128_GCM_SHA256 -u "$USER_NAME:$PASS_GOOD" -o /dev/null
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS13 && tls.handshake.ciphersuite == 0x1301" "TLS 1.3, TLS_AES_128_GCM_SHA256"
    expect_dec "$name" 'imap.request.command == "FETCH"' "FETCH 1 BODY[]"
    expect_max_frame "$name" 1514
}
rec_keyed_imaps993_fetch_large_tls12_aes128gcm() {
    local name=keyed-imaps993-fetch-large-tls12-aes128gcm
    cap_start "$name" 'tcp port 993'
    # shellcheck disable=SC2046
    curl_keyed "$name" "imaps://$MX_NAME/INBOX;MAILINDEX=1" $(RESOLVE 993 127.0.0.1) --tls-max 1.2 \
        --ciphers ECDHE-RSA-AES128-GCM-SHA256 -u "$USER_NAME:$PASS_GOOD" -o /dev/null
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS12 && tls.handshake.ciphersuite == 0xc02f" "TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256"
    expect_dec "$name" 'imap.request.command == "FETCH"' "FETCH 1 BODY[]"
    expect_max_frame "$name" 1514
}
rec_keyed_pop3s995_retr_large_tls12_chacha20() {
    local name=keyed-pop3s995-retr-large-tls12-chacha20
    cap_start "$name" 'tcp port 995'
    # shellcheck disable=SC2046
    curl_keyed "$name" "pop3s://$MX_NAME/1" $(RESOLVE 995 127.0.0.1) --tls-max 1.2 \
        --ciphers ECDHE-RSA-CHACHA20-POLY1305 -u "$USER_NAME:$PASS_GOOD" -o /dev/null
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS12 && tls.handshake.ciphersuite == 0xcca8" "TLS 1.2, ECDHE-RSA-CHACHA20-POLY1305"
    expect_dec "$name" 'pop.request.command == "RETR"' "RETR 1"
    expect_max_frame "$name" 1514
}
rec_keyed_smtp587_submit_large_tls13() {
    local name=keyed-smtp587-submit-large-tls13
    cap_start "$name" 'tcp port 587'
    # shellcheck disable=SC2046
    curl_smtp "$name" "smtp://$MX_NAME:587/$CLIENT_HELO" $(RESOLVE 587 127.0.0.1) --ssl-reqd \
        --mail-rcpt "$USER_NAME" -u "$USER_NAME:$PASS_GOOD" -T "$WORK/data/large-message.eml"
    cap_stop
    keys_commit "$name"
    expect "$name" "$F_TLS13" "TLS 1.3"
    expect_dec "$name" 'smtp.req.command == "DATA"' "DATA"
    expect_dec "$name" "$F_SMTP_QUEUED" "250 queued"
    expect_max_frame "$name" 1514
}
# 0-RTT: a first s_client gets a ticket (-sess_out), the second resumes with it and sends its
# first line as early data (-early_data); only the second connection is captured, its key log
# holds CLIENT_EARLY_TRAFFIC_SECRET. s_server -early_data accepts it (TLS_ADDR:465).
rec_keyed_smtps465_early_data_tls13() {
    local name=keyed-smtps465-early-data-tls13 sess=$WORK/data/early.sess early=$WORK/data/early.txt
    printf 'EHLO %s\r\n' "$CLIENT_HELO" >"$early"
    CAP_NAME=$name
    openssl s_server -accept "$TLS_ADDR:465" -naccept 2 -early_data -cert "$PKI/mail.crt" -key "$PKI/mail.key" \
        -tls1_3 >"$LOG_DIR/$name.server.log" 2>&1 < <(sleep 12) &
    SSRV_PID=$!
    wait_listen "$TLS_ADDR" 465
    { sleep 1; printf 'NOOP\r\n'; sleep 1; } | timeout 10 openssl s_client -connect "$TLS_ADDR:465" -tls1_3 \
        -CAfile "$CA_CRT" -servername "$MX_NAME" -sess_out "$sess" >"$LOG_DIR/$name.first.log" 2>&1 || true
    cap_start "$name" 'tcp port 465'
    { sleep 1; printf 'QUIT\r\n'; sleep 1; } | timeout 10 openssl s_client -connect "$TLS_ADDR:465" -tls1_3 \
        -CAfile "$CA_CRT" -servername "$MX_NAME" -sess_in "$sess" -early_data "$early" -crlf \
        -keylogfile "$(keys_path "$name")" >"$LOG_DIR/$name.client.log" 2>&1 || true
    cap_stop
    tls_server_stop
    keys_commit "$name"
    expect "$name" "$F_TLS13" "TLS 1.3"
    expect "$name" 'tls.handshake.type == 1 && tls.handshake.extension.type == 42' "ClientHello offers early_data"
    if grep -q '^CLIENT_EARLY_TRAFFIC_SECRET ' "$OUT_DIR/$name.keys" 2>/dev/null; then
        SUMMARY+=("$name.keys: CLIENT_EARLY_TRAFFIC_SECRET logged")
    else
        FAILURES+=("$name.keys: no CLIENT_EARLY_TRAFFIC_SECRET (no 0-RTT)")
    fi
    expect_dec "$name" 'tls.handshake.type == 5' "EndOfEarlyData (the server accepted 0-RTT)"
}

# ---- Group 7: several messages in one SMTP session (issue 19) ---------------------------------
rec_smtp_multi_message_rset() {
    local name=smtp-multi-message-rset
    log_mark
    cap_start "$name" 'tcp port 25'
    "$PY" "$WORK/data/mwclient.py" smtp-multi-message --port 25 --helo "$CLIENT_HELO" --sender "$SENDER" \
        --rcpt "$USER_NAME" --rcpt "postmaster@example.test" >"$LOG_DIR/$name.client.log" 2>&1 || true
    cap_stop
    log_save "$name" ': removed$'
    expect_count "$name" 'upper(smtp.req.command) == "MAIL"' 3 "three MAIL FROM in one session"
    expect "$name" 'upper(smtp.req.command) == "RSET"' "RSET after the refused recipient"
    expect "$name" 'smtp.response.code == 550 && smtp.rsp.parameter contains "5.1.1"' "tx 1: RCPT nosuchuser -> 550 5.1.1"
    expect "$name" 'smtp.response.code == 550 && smtp.rsp.parameter contains "5.7.1"' "tx 2: end of DATA -> 550 5.7.1 Message content rejected"
    expect_count "$name" "$F_SMTP_QUEUED" 1 "tx 3: 250 queued"
    expect_count "$name" 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 1 "one TCP connection"
    expect_log "$name" maillog 'NOQUEUE: reject: RCPT from .*550 5\.1\.1 <nosuchuser@example\.test>' "NOQUEUE: reject: RCPT ... 550 5.1.1"
    expect_log "$name" maillog 'reject: header Subject: mailwire sample REJECTME' "reject: header Subject: ... REJECTME"
    expect_log "$name" maillog 'status=sent' "tx 3 delivered: status=sent" 2
}
rec_smtp_bdat_chunks() {
    local name=smtp-bdat-chunks
    log_mark
    cap_start "$name" 'tcp port 25'
    "$PY" "$WORK/data/mwclient.py" smtp-bdat --port 25 --helo "$CLIENT_HELO" --sender "$SENDER" \
        --rcpt "$USER_NAME" >"$LOG_DIR/$name.client.log" 2>&1 || true
    cap_stop
    log_save "$name" ': removed$'
    expect "$name" 'smtp.response.code == 250 && smtp.rsp.parameter == "CHUNKING"' "EHLO advertises CHUNKING"
    # each BDAT command line travels in the segment of its chunk (tshark calls it "DATA fragment")
    expect_count "$name" 'tcp.dstport == 25 && tcp.payload[0:5] == "BDAT "' 6 "six BDAT commands (4 + 2)"
    expect "$name" 'tcp.dstport == 25 && tcp.payload == "BDAT 0 LAST\r\n"' "BDAT 0 LAST"
    expect_count "$name" 'smtp.response.code == 250 && smtp.rsp.parameter matches "^2\\.0\\.0 Ok: [0-9]+ bytes$"' 3 "250 2.0.0 Ok: N bytes per chunk"
    expect_count "$name" "$F_SMTP_QUEUED" 1 "message 1: 250 queued"
    expect "$name" 'smtp.response.code == 550 && smtp.rsp.parameter contains "5.7.1"' "message 2: 550 5.7.1 at BDAT LAST"
    expect_log "$name" maillog 'reject: header Subject: mailwire sample REJECTME' "reject: header Subject: ... REJECTME"
    expect_log "$name" maillog 'status=sent' "message 1 delivered: status=sent"
}

# ================================================================================================
# main
# ================================================================================================
GROUP1=(smtp-accepted smtp-relay-denied smtp-unknown-user smtp-auth-failed smtp-auth-ok smtp-auth-plain-ok
    smtp-pipelining smtp-ipv6 smtp-attachment smtp-starttls smtp-tls-required smtp-timeout smtp-multi smtp-cooked smtp-cooked-v1)
GROUP2=(tls-1.0 tls-1.1 tls-1.2 tls-1.3 tls-version-mismatch tls-cert-expired tls-self-signed tls-sni-mismatch
    smtps-465 smtp-ssl-on-starttls-port)
GROUP3=(imap-login-ok imap-login-failed imap-authenticate-ok imap-authenticate-failed imap-starttls
    imap-logindisabled imap-append-large imap-fetch-large imaps-993 pop3-login-ok pop3-login-failed
    pop3-auth-plain pop3-stls pop3-retr-large pop3s-995 pop3-user-before-stls-refused)
GROUP4=(smtp-connection-refused smtp-no-greeting smtp-syn-timeout smtp-unanswered smtp-vlan smtp-qinq)
GROUP5=(keyed-smtp587-auth-failed-tls13 keyed-smtp25-auth-failed-tls13 keyed-smtps465-auth-failed-tls13
    keyed-smtp587-auth-failed-tls12-aes128gcm keyed-smtp587-auth-failed-tls12-chacha20
    keyed-smtps465-auth-failed-tls12-aes256cbc-sha384 keyed-smtp587-auth-failed-ipv6-tls13
    keyed-smtp25-relay-denied-tls13 keyed-smtp587-relay-denied-tls13 keyed-imaps993-auth-failed-tls13
    keyed-pop3s995-auth-failed-tls13 keyed-imap143-starttls-login-ok-tls13 keyed-pop3-110-stls-auth-failed-tls13
    keyed-imaps993-login-ok-tls13-chacha20 keyed-pop3s995-login-ok-tls12-aes256gcm
    keyed-imaps993-login-ok-tls12-aes128cbc-etm keyed-imaps993-login-ok-tls12-aes128cbc-noetm
    keyed-smtp25-auth-failed-tls10 keyed-smtps465-cert-expired-tls13 keyed-multi-sessions
    keyed-nokey-smtp587-auth-failed-tls13 keyed-embedded-imaps993-auth-failed-tls13)
GROUP6=(log-smtp587-auth-failed-tls13 log-smtp25-relay-denied-starttls-tls13 log-smtps465-relay-denied-tls13
    log-smtp587-accepted-bounced-tls13 log-smtp25-starttls-accepted-sent-tls13 log-imaps993-auth-failed-tls13
    log-pop3s995-auth-failed-tls13 log-imaps993-tls10-refused log-smtp587-noport-auth-failed-tls13
    log-smtp587-noport-ambiguous-tls13 log-smtp587-auth-failed-berlin-tls13)
GROUP7=(smtp-multi-message-rset smtp-bdat-chunks)
GROUP8=(keyed-imaps993-fetch-large-tls13 keyed-imaps993-fetch-large-tls12-aes128gcm
    keyed-pop3s995-retr-large-tls12-chacha20 keyed-smtp587-submit-large-tls13)
EXTRA=(imap-timeout-bye keyed-smtps465-early-data-tls13)   # only when named: too slow for every run

main() {
    local scenarios=() s fn all=("${GROUP1[@]}" "${GROUP2[@]}" "${GROUP3[@]}" "${GROUP4[@]}" "${GROUP5[@]}" "${GROUP6[@]}" "${GROUP7[@]}")
    # group names: @keyed (issue 13), @logs (issue 14), @multi (issue 19), @new (all three)
    for s in "$@"; do
        case $s in
        @keyed) scenarios+=("${GROUP5[@]}") ;;
        @logs) scenarios+=("${GROUP6[@]}") ;;
        @multi) scenarios+=("${GROUP7[@]}") ;;
        @bulk-keyed) scenarios+=("${GROUP8[@]}") ;;  # MW_REC_OUT=pcaps/bulk (bench only)
        @new) scenarios+=("${GROUP5[@]}" "${GROUP6[@]}" "${GROUP7[@]}") ;;
        *) scenarios+=("$s") ;;
        esac
    done
    ((${#scenarios[@]})) || scenarios=("${all[@]}")
    for s in "${scenarios[@]}"; do
        s=${s%.pcap}
        fn=rec_${s//[-.]/_}
        declare -F "$fn" >/dev/null || die "unknown scenario '$s' (known: ${all[*]} ${EXTRA[*]})"
    done

    check_prereqs
    # outside: re-runs this script inside a fresh network namespace and exits with its status
    netns_enter record "$SCRIPT_DIR/record.sh" "$@" || die "$NETNS_ERROR"
    local t0=$SECONDS
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    setup_workdir
    setup_ca
    CURL=(curl -sS -v --max-time 60 --cacert "$CA_CRT")
    make_data
    make_pyclient
    setup_postfix
    record_listeners
    setup_dovecot
    start_postfix
    record_listeners_up
    PF_LOG=$WORK/postfix/postfix.log
    DC_LOG=$WORK/dovecot/dovecot.log
    start_dovecot   # after postfix: its auth listener lives in postfix's queue directory
    printf '%s\n' "$PASS_GOOD" "$PASS_BAD" >"$OUT_DIR/secrets.txt"

    for s in "${scenarios[@]}"; do
        s=${s%.pcap}
        fn=rec_${s//[-.]/_}
        "$fn"
        flush_checks
    done

    printf '\n==== verified (tshark) ====\n'
    printf '  %s\n' "${SUMMARY[@]}"
    if ((${#FAILURES[@]})); then
        printf '\n==== FAILED CHECKS ====\n'
        printf '  %s\n' "${FAILURES[@]}"
        printf '(logs: rerun with KEEP_WORK=1 and look in the work dir logs/)\n'
    fi
    printf '\n%d scenario(s) recorded in %ds into %s\n' "${#scenarios[@]}" $((SECONDS - t0)) "$OUT_DIR"
    ((${#FAILURES[@]} == 0))
}

main "$@"
