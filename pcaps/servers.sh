# shellcheck shell=bash disable=SC2034  # the variables here are read by the scripts that source it
# servers.sh - the real mail servers mailwire's captures and live tests run against, on the
# loopback of a network namespace of their own. Sourced (not run) by pcaps/record.sh and
# tests/live.sh:
#
#   LOG_TAG=mytool; source pcaps/servers.sh
#   netns_enter mytool "$0" "$@" || skip "$NETNS_ERROR"   # re-runs the script inside namespace
#                                 # mw-mytool-PID (lo up, MTU 1500, offloads off); removed at exit
#   setup_workdir /tmp/mytool     # WORK, LOG_DIR, PF_ETC, DC_CONF (refused outside the namespace)
#   setup_ca                      # throw-away "Mailwire Test CA" + server certificates (PKI, CA_CRT)
#   setup_postfix; setup_dovecot  # configs under $WORK only (/etc/postfix, /etc/dovecot untouched)
#   start_postfix; start_dovecot  # dovecot after postfix: its auth socket is in postfix's queue dir
#   ...
#   stop_all                      # servers stopped, WORK removed (kept with KEEP_WORK=1); safe to
#                                 # call more than once
#
# Call stop_all from an EXIT trap so nothing persists even on failure. Needs root, and the
# Debian packages postfix dovecot-imapd dovecot-pop3d openssl python3 iproute2 (ethtool for
# the offloads). A postfix or dovecot the machine itself runs is never stopped, reloaded or
# reconfigured: ours have their own config, queue, data and base directories (postfix -c DIR,
# dovecot -c FILE) and listen only inside the namespace.
#
# Server logs (for joining logs to captures): postfix writes $WORK/postfix/postfix.log itself
# (maillog_file, postlogd) with the client port (smtpd_client_port_logging = yes) and the TLS
# summary (smtpd_tls_loglevel = 1); dovecot writes $WORK/dovecot/dovecot.log (log_path) with
# auth_verbose and rip/rport/lip/lport in every login line (login_log_format_elements). Both in
# the zone of TZ (the machine's zone by default; postfix and dovecot pass TZ to their daemons).
#
# What the servers do (the captures and tests rely on it):
#   postfix  127.0.0.1/::1 port 25 (STARTTLS offered, AUTH via dovecot SASL also in clear text
#            because smtpd_tls_auth_only=no; relay from 127.0.0.1 denied "554 5.7.1"; unknown
#            local user "550 5.1.1"), 587 (TLS mandatory: "530 5.7.0"), 465 (implicit TLS),
#            127.0.0.5:25 (smtpd_timeout=5s: "421 4.4.2"); nothing is ever delivered (local
#            mail is discarded: status=sent, except bounceme@example.test, accepted and then
#            bounced by local(8): status=bounced; remote mail is refused at RCPT); a
#            Subject containing REJECTME is refused by header_checks ("550 5.7.1").
#   dovecot  127.0.0.1/::1 IMAP 143/993, POP3 110/995 (plaintext auth allowed); 127.0.0.4 143/110
#            with plaintext auth disabled; user alice@example.test / Swordfish-42x.

# ---- test identities: distinctive so tests can grep mailwire's output for them ----------------
USER_NAME='alice@example.test'
PASS_GOOD='Swordfish-42x'
PASS_BAD='Wrong-Pa55word'
MX_NAME='mail.example.test'         # server host name, CN/SAN of the server certificate
CLIENT_HELO='client.example.org'
SENDER='sender@example.org'
BOUNCE_RCPT='bounceme@example.test' # accepted by smtpd, then bounced by local(8) (no such user)

# ---- addresses ----------------------------------------------------------------------------------
# 127.0.0.1 / ::1   postfix (25, 465, 587) and dovecot (110, 143, 993, 995)
# 127.0.0.3         openssl s_server endpoints (TLS version / certificate scenarios)
# 127.0.0.4         dovecot with disable_plaintext_auth=yes (clients connect from 127.0.0.1, so
#                   dovecot does not consider the connection "local/secured")
# 127.0.0.5:25      postfix smtpd with a tiny smtpd_timeout
TLS_ADDR=127.0.0.3
STRICT_ADDR=127.0.0.4
TIMEOUT_ADDR=127.0.0.5
# Failed logins come from their own source addresses: dovecot's anvil "auth penalty" delays the
# next authentication from an address that just failed (2 s, 4 s, ...), which would otherwise
# slow down the next successful login in an unrelated capture.
FAIL_SRC_SMTP=127.0.0.11
FAIL_SRC_IMAP_LOGIN=127.0.0.12
FAIL_SRC_IMAP_AUTH=127.0.0.13
FAIL_SRC_POP3=127.0.0.14

PY=$(command -v /usr/bin/python3 || command -v python3 || true)

# ================================================================================================
# generic helpers
# ================================================================================================
LOG_TAG=${LOG_TAG:-servers}
log()  { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

# wait until something listens on ADDR:PORT (ADDR as ss prints it, e.g. 127.0.0.1 or [::1])
wait_listen() {
    local addr=$1 port=$2 i
    for ((i = 0; i < 100; i++)); do
        ss -Hltn 2>/dev/null | awk '{print $4}' | grep -qxF "$addr:$port" && return 0
        sleep 0.1
    done
    die "nothing listens on $addr:$port"
}


# ================================================================================================
# environment: the network namespace, the work dir, stop_all
# ================================================================================================
# Everything runs inside a network namespace of its own ("mw-<tag>-<pid>"): postfix, dovecot, the
# python listeners, openssl s_server, tcpdump, the clients (and mailwire -i lo in tests/live.sh).
# Its lo is brought up with MTU 1500 and TSO/GSO/GRO off; the host's lo, its ports and a mail
# server the machine itself runs (postfix, dovecot) are never touched, stopped or reconfigured.
#
#   netns_enter TAG SCRIPT ARGS...  (at the top of record.sh / live.sh, before anything else)
#       outside: creates the namespace, runs `bash SCRIPT ARGS` inside it (MW_NETNS names it),
#                removes it afterwards (trap: also on INT/TERM/errors) and exits with the
#                script's status; returns 1 with NETNS_ERROR set if no namespace can be made
#                (not root / no CAP_SYS_ADMIN, no `ip`)
#       inside:  returns 0 at once
NETNS=''
NETNS_ERROR=''
WORK=''
LOG_DIR=''
PF_ETC=''
DC_CONF=''
POSTFIX_UP=0
DOVECOT_UP=0

# in_own_netns - true when this process runs in the namespace netns_enter made (not the host's)
in_own_netns() {
    [[ -n ${MW_NETNS:-} && -e /run/netns/$MW_NETNS ]] || return 1
    [[ $(stat -L -c %i /proc/self/ns/net 2>/dev/null) == "$(stat -L -c %i "/run/netns/$MW_NETNS" 2>/dev/null)" ]] || return 1
    [[ $(stat -L -c %i /proc/self/ns/net 2>/dev/null) != "$(stat -L -c %i /proc/1/ns/net 2>/dev/null)" ]]
}

netns_enter() {
    local tag=$1 script=$2 rc
    shift 2
    if [[ -n ${MW_NETNS:-} ]]; then
        in_own_netns || die "MW_NETNS=$MW_NETNS is set but this is not that network namespace"
        NETNS=$MW_NETNS
        return 0
    fi
    command -v ip >/dev/null 2>&1 || { NETNS_ERROR="no 'ip' command (Debian package iproute2)"; return 1; }
    NETNS=mw-$tag-$$
    local err
    if ! err=$(ip netns add "$NETNS" 2>&1); then
        NETNS_ERROR="cannot create a network namespace (ip netns add: ${err:-failed}; needs root / CAP_SYS_ADMIN)"
        NETNS=''
        return 1
    fi
    trap netns_delete EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if ! err=$(netns_setup_lo 2>&1); then
        NETNS_ERROR="cannot set up lo in namespace $NETNS: $err"
        netns_delete
        trap - EXIT
        return 1
    fi
    log "network namespace $NETNS (lo up, mtu 1500, tso/gso/gro off)"
    # in the background so a signal reaches the traps here at once: they pass it on as TERM
    # (an asynchronous child ignores SIGINT) and wait until the script inside has cleaned up
    MW_NETNS=$NETNS ip netns exec "$NETNS" bash "$script" "$@" <&0 &
    NETNS_CHILD=$!
    trap 'netns_stop_child 130' INT
    trap 'netns_stop_child 143' TERM
    wait "$NETNS_CHILD"
    rc=$?
    NETNS_CHILD=''
    exit "$rc"
}
NETNS_CHILD=''
netns_stop_child() {
    if [[ -n $NETNS_CHILD ]]; then
        kill -TERM "$NETNS_CHILD" 2>/dev/null
        while kill -0 "$NETNS_CHILD" 2>/dev/null; do wait "$NETNS_CHILD"; done
        NETNS_CHILD=''
    fi
    exit "$1"
}

# lo of the namespace: up, MTU 1500, no TSO/GSO super-segments. GRO off too: with any offload
# on, libpcap sizes every ring-buffer slot for a 256 KiB packet and bursts overflow the ring
# ("packets dropped by kernel"). Only ever applied inside the namespace.
netns_setup_lo() {
    ip -n "$NETNS" link set lo up || return 1
    ip -n "$NETNS" link set lo mtu 1500 || return 1
    if command -v ethtool >/dev/null 2>&1; then
        ip netns exec "$NETNS" ethtool -K lo tso off gso off gro off >/dev/null 2>&1 ||
            log "WARNING: ethtool -K lo failed in $NETNS: offloads stay on"
    else
        log "WARNING: ethtool missing - TSO/GSO stay on in the namespace, segments will exceed the MTU (apt-get install ethtool)"
    fi
}

# netns_delete - end what is still running in the namespace (only processes of this run: they
# are the only ones in it), remove it. Idempotent.
netns_delete() {
    [[ -n $NETNS && -e /run/netns/$NETNS ]] || { NETNS=''; return 0; }
    local pids i
    pids=$(ip netns pids "$NETNS" 2>/dev/null)
    if [[ -n $pids ]]; then
        log "ending leftover processes in $NETNS: $(echo $pids)"
        kill -TERM $pids 2>/dev/null
        for ((i = 0; i < 30; i++)); do
            [[ -z $(ip netns pids "$NETNS" 2>/dev/null) ]] && break
            sleep 0.1
        done
        pids=$(ip netns pids "$NETNS" 2>/dev/null)
        [[ -n $pids ]] && kill -KILL $pids 2>/dev/null
    fi
    ip netns del "$NETNS" 2>/dev/null || log "WARNING: could not remove network namespace $NETNS"
    NETNS=''
    return 0
}

# stop_all - stop the servers started here, remove the work dir (unless KEEP_WORK=1).
# Idempotent; never fails. (The namespace itself is removed by the netns_enter trap outside.)
stop_all() {
    if ((POSTFIX_UP)); then
        postfix -c "$PF_ETC" stop >/dev/null 2>&1 || postfix -c "$PF_ETC" abort >/dev/null 2>&1
        POSTFIX_UP=0
    fi
    if ((DOVECOT_UP)); then
        dovecot -c "$DC_CONF" stop >/dev/null 2>&1
        DOVECOT_UP=0
    fi
    if [[ -n $WORK && -d $WORK ]]; then
        if [[ ${KEEP_WORK:-0} == 1 ]]; then
            log "work dir kept: $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    WORK=''
    return 0
}

# setup_workdir [PREFIX] - the temporary directory holding everything configured here; refuses
# to run outside the namespace
setup_workdir() {
    in_own_netns || die "not inside a network namespace of this run (netns_enter first)"
    WORK=$(mktemp -d "${1:-/tmp/mailwire-rec}.XXXXXX")
    chmod 755 "$WORK"   # postfix, dovecot login and mail processes must be able to traverse it
    LOG_DIR=$WORK/logs
    mkdir -p "$LOG_DIR" "$WORK/data"
    PF_ETC=$WORK/postfix/etc
    DC_CONF=$WORK/dovecot/dovecot.conf
}

# ================================================================================================
# certificates: a throw-away CA, the server certificate, an expired and a self-signed one
# ================================================================================================
setup_ca() {
    local d=$WORK/pki
    mkdir -p "$d/newcerts"
    : >"$d/index.txt"
    echo 1000 >"$d/serial"
    cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = mini_ca
[ mini_ca ]
dir             = $d
database        = $d/index.txt
serial          = $d/serial
new_certs_dir   = $d/newcerts
certificate     = $d/ca.crt
private_key     = $d/ca.key
default_md      = sha256
default_days    = 3650
policy          = policy_any
copy_extensions = copy
unique_subject  = no
[ policy_any ]
commonName      = supplied
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
    # the small CA
    openssl req -x509 -new -newkey rsa:2048 -nodes -days 3650 -config "$d/ca.cnf" -extensions v3_ca \
        -subj "/O=Mailwire Test/CN=Mailwire Test CA" -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
    # sign NAME SUBJECT SAN [openssl-ca-date-args...]
    sign() {
        local name=$1 subj=$2 san=$3
        shift 3
        openssl req -new -newkey rsa:2048 -nodes -subj "$subj" -addext "subjectAltName=$san" \
            -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
        openssl ca -batch -config "$d/ca.cnf" -in "$d/$name.csr" -out "$d/$name.crt" -notext "$@" \
            >/dev/null 2>&1 || die "openssl ca failed for $name"
    }
    # the server certificate used by postfix, dovecot and the good s_server endpoints
    sign mail "/O=Mailwire Test/CN=$MX_NAME" "DNS:$MX_NAME,DNS:localhost,IP:127.0.0.1,IP:::1,IP:$TLS_ADDR"
    # an expired certificate: valid only during 2023 (OpenSSL 3.0 req has no -not_after, so `ca`)
    sign expired "/O=Mailwire Test/CN=expired.example.test" "DNS:expired.example.test,IP:$TLS_ADDR" \
        -startdate 20230101000000Z -enddate 20240101000000Z
    # a self-signed certificate (not issued by the CA the client trusts)
    openssl req -x509 -new -newkey rsa:2048 -nodes -days 3650 \
        -subj "/O=Self Signed/CN=selfsigned.example.test" -addext "subjectAltName=DNS:selfsigned.example.test" \
        -keyout "$d/selfsigned.key" -out "$d/selfsigned.crt" 2>/dev/null
    chmod 644 "$d"/*.crt
    chmod 600 "$d"/*.key
    CA_CRT=$d/ca.crt
    PKI=$d
}


# ================================================================================================
# postfix instance
# ================================================================================================
setup_postfix() {
    local spool=$WORK/postfix/spool data=$WORK/postfix/data
    mkdir -p "$PF_ETC" "$spool" "$data"
    chown postfix: "$data"
    touch "$PF_ETC/main.cf"
    [[ -f /etc/postfix/dynamicmaps.cf ]] && cp /etc/postfix/dynamicmaps.cf "$PF_ETC/"
    # recipients that exist (anything else in example.test gets 550 5.1.1)
    printf '%s\n' 'alice x' 'alice@example.test x' 'postmaster x' 'postmaster@example.test x' \
        "${BOUNCE_RCPT%@*} x" "$BOUNCE_RCPT x" >"$WORK/postfix/local_recipients"
    # ... and one that is accepted and then bounces: local(8) finds no such system user
    printf '%s local:\n' "$BOUNCE_RCPT" >"$WORK/postfix/transport"

    postconf -c "$PF_ETC" -e \
        "compatibility_level = 3.6" \
        "queue_directory = $spool" \
        "data_directory = $data" \
        "maillog_file_prefixes = $WORK" \
        "maillog_file = $WORK/postfix/postfix.log" \
        "myhostname = $MX_NAME" \
        "mydomain = example.test" \
        "myorigin = \$mydomain" \
        "mydestination = example.test, localhost" \
        "smtpd_banner = \$myhostname ESMTP Postfix" \
        "biff = no" \
        `# the loopback of the namespace this runs in (not the host's)` \
        "inet_interfaces = loopback-only" \
        "inet_protocols = all" \
        `# never deliver anywhere: remote mail errors out, local mail is accepted then discarded` \
        "default_transport = error:mailwire recording - no outbound mail" \
        "relay_transport = error:mailwire recording - no outbound mail" \
        "local_transport = discard:mailwire recording" \
        "transport_maps = texthash:$WORK/postfix/transport" \
        `# 127.0.0.1 is deliberately NOT in mynetworks -> relaying from 127.0.0.1 is denied.` \
        `# reject_unauth_destination gives 554 5.7.1 (the default defer_unauth_destination: 454)` \
        "mynetworks = 127.0.0.2/32" \
        "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination" \
        `# unknown local user -> 550 5.1.1 User unknown in local recipient table` \
        "local_recipient_maps = texthash:$WORK/postfix/local_recipients" \
        "alias_maps =" \
        "alias_database =" \
        `# room for the ~3 MB attachment (base64 makes it ~4.2 MB)` \
        "message_size_limit = 20480000" \
        `# SASL via dovecot; smtpd_tls_auth_only=no so AUTH is offered in clear text too` \
        "smtpd_sasl_type = dovecot" \
        "smtpd_sasl_path = private/auth" \
        "smtpd_sasl_auth_enable = yes" \
        "smtpd_tls_auth_only = no" \
        `# STARTTLS offered on port 25` \
        "smtpd_tls_cert_file = $PKI/mail.crt" \
        "smtpd_tls_key_file = $PKI/mail.key" \
        "smtpd_tls_security_level = may" \
        "smtpd_tls_loglevel = 1" \
        `# the client port in every smtpd line: unknown[127.0.0.1]:51680 (log-to-capture joins)` \
        "smtpd_client_port_logging = yes" \
        `# a message whose Subject contains REJECTME: "550 5.7.1 Message content rejected"` \
        "header_checks = regexp:$WORK/postfix/header_checks"
    printf '%s\n' '/^Subject: .*REJECTME/ REJECT' >"$WORK/postfix/header_checks"

    cat >"$PF_ETC/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp       inet  n       -       n       -       -       smtpd
# submission: TLS is mandatory -> MAIL before STARTTLS gets "530 5.7.0 Must issue a STARTTLS command first"
submission inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
# implicit TLS (SMTPS) on 465
smtps      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
# a separate listener whose tiny smtpd_timeout produces "421 4.4.2 ... Error: timeout exceeded"
$TIMEOUT_ADDR:smtp inet n       -       n       -       -       smtpd
  -o syslog_name=postfix/smtp-timeout
  -o smtpd_timeout=5s
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
local      unix  -       n       n       -       -       local
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
EOF
    # creates the queue directory tree with the right owners
    postfix -c "$PF_ETC" check >"$LOG_DIR/postfix-check.log" 2>&1 ||
        die "postfix check failed, see $LOG_DIR/postfix-check.log and $WORK/postfix/postfix.log"
}

start_postfix() {
    postfix -c "$PF_ETC" start >"$LOG_DIR/postfix-start.log" 2>&1 ||
        die "postfix start failed: $(tail -3 "$WORK/postfix/postfix.log" 2>/dev/null)"
    POSTFIX_UP=1
    wait_listen 127.0.0.1 25
    wait_listen '[::1]' 25
    wait_listen 127.0.0.1 465
    wait_listen 127.0.0.1 587
    wait_listen $TIMEOUT_ADDR 25
    log "postfix up (config $PF_ETC)"
}

# ================================================================================================
# dovecot instance
# ================================================================================================
setup_dovecot() {
    local d=$WORK/dovecot uid gid
    uid=$(id -u nobody)
    gid=$(id -g nobody)
    mkdir -p "$d/run" "$d/state" "$WORK/mail"
    printf '%s:{PLAIN}%s\n' "$USER_NAME" "$PASS_GOOD" >"$d/passwd"
    chmod 644 "$d/passwd"
    local dh=''
    [[ -r /usr/share/dovecot/dh.pem ]] && dh="ssl_dh = </usr/share/dovecot/dh.pem"

    cat >"$DC_CONF" <<EOF
# mailwire recording instance - nothing here is shared with /etc/dovecot
instance_name = mailwire-rec
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = imap pop3
listen = 127.0.0.1, ::1
hostname = $MX_NAME
login_greeting = Dovecot ready.

ssl = yes
ssl_cert = <$PKI/mail.crt
ssl_key = <$PKI/mail.key
$dh
# a TLS 1.0 client is refused with a protocol_version alert
ssl_min_protocol = TLSv1.2

# plaintext LOGIN/USER/AUTH allowed without TLS (the cleartext-credential captures need it) ...
disable_plaintext_auth = no
# ... except on the 127.0.0.4 listeners: IMAP advertises LOGINDISABLED and refuses LOGIN,
# POP3 refuses USER until STLS
local $STRICT_ADDR {
  disable_plaintext_auth = yes
}
auth_mechanisms = plain login
auth_verbose = yes
# the client's and server's address and port in every login line (log-to-capture joins)
login_log_format_elements = user=<%u> method=%m rip=%r rport=%{rport} lip=%l lport=%{lport} mpid=%e %c session=<%{session}>

passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$WORK/mail/%u
}
mail_location = maildir:$WORK/mail/%u/Maildir
first_valid_uid = 1
first_valid_gid = 1

service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
  inet_listener imap_strict {
    address = $STRICT_ADDR
    port = 143
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
  inet_listener pop3_strict {
    address = $STRICT_ADDR
    port = 110
  }
}
# SASL for postfix (smtpd_sasl_path = private/auth, relative to postfix's queue_directory)
service auth {
  unix_listener $WORK/postfix/spool/private/auth {
    mode = 0666
  }
}
EOF
    # alice's maildir, seeded with $WORK/data/large-message.eml when the caller made one (record.sh:
    # the ~2 MB message fetched by imap-fetch-large, pop3-retr-large)
    local md=$WORK/mail/$USER_NAME/Maildir
    mkdir -p "$md/cur" "$md/new" "$md/tmp"
    local sz
    if [[ -f $WORK/data/large-message.eml ]]; then
        sz=$(stat -c %s "$WORK/data/large-message.eml")
        cp "$WORK/data/large-message.eml" "$md/cur/1704110400.M1P1.$MX_NAME,S=$sz:2,"
    fi
    chown -R "$uid:$gid" "$WORK/mail"
}

start_dovecot() {
    dovecot -c "$DC_CONF" >"$LOG_DIR/dovecot-start.log" 2>&1 ||
        die "dovecot start failed: $(cat "$LOG_DIR/dovecot-start.log")"
    DOVECOT_UP=1
    wait_listen 127.0.0.1 143
    wait_listen 127.0.0.1 993
    wait_listen 127.0.0.1 110
    wait_listen 127.0.0.1 995
    wait_listen $STRICT_ADDR 143
    wait_listen $STRICT_ADDR 110
    log "dovecot up (config $DC_CONF)"
}

