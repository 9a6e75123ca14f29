# shellcheck shell=bash disable=SC2034  # the variables here are read by the scripts that source it
# servers.sh - the real mail servers mailwire's captures and live tests run against, on loopback.
# Sourced (not run) by pcaps/record.sh and tests/live.sh:
#
#   LOG_TAG=mytool; source pcaps/servers.sh
#   setup_workdir /tmp/mytool     # WORK, LOG_DIR, PF_ETC, DC_CONF
#   free_mail_ports               # stops a system postfix/dovecot holding the mail ports
#   setup_ca                      # throw-away "Mailwire Test CA" + server certificates (PKI, CA_CRT)
#   setup_postfix; setup_dovecot  # configs under $WORK only (/etc/postfix, /etc/dovecot untouched)
#   start_postfix; start_dovecot  # dovecot after postfix: its auth socket is in postfix's queue dir
#   loopback_mtu_1500             # optional: lo at MTU 1500, TSO/GSO/GRO off
#   ...
#   stop_all                      # servers stopped, lo restored, system services restarted, WORK
#                                 # removed (kept with KEEP_WORK=1); safe to call more than once
#
# Call stop_all from an EXIT trap so nothing persists even on failure. Needs root, and the
# Debian packages postfix dovecot-imapd dovecot-pop3d openssl python3 iproute2 (ethtool for
# loopback_mtu_1500).
#
# What the servers do (the captures and tests rely on it):
#   postfix  127.0.0.1/::1 port 25 (STARTTLS offered, AUTH via dovecot SASL also in clear text
#            because smtpd_tls_auth_only=no; relay from 127.0.0.1 denied "554 5.7.1"; unknown
#            local user "550 5.1.1"), 587 (TLS mandatory: "530 5.7.0"), 465 (implicit TLS),
#            127.0.0.5:25 (smtpd_timeout=5s: "421 4.4.2"); nothing is ever delivered.
#   dovecot  127.0.0.1/::1 IMAP 143/993, POP3 110/995 (plaintext auth allowed); 127.0.0.4 143/110
#            with plaintext auth disabled; user alice@example.test / Swordfish-42x.

# ---- test identities: distinctive so tests can grep mailwire's output for them ----------------
USER_NAME='alice@example.test'
PASS_GOOD='Swordfish-42x'
PASS_BAD='Wrong-Pa55word'
MX_NAME='mail.example.test'         # server host name, CN/SAN of the server certificate
CLIENT_HELO='client.example.org'
SENDER='sender@example.org'

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
# environment: work dir, mail ports, loopback MTU, stop_all
# ================================================================================================
WORK=''
LOG_DIR=''
PF_ETC=''
DC_CONF=''
OLD_MTU=''
OLD_TSO=''
OLD_GSO=''
OLD_GRO=''
POSTFIX_UP=0
DOVECOT_UP=0
STOPPED_SERVICES=()

# stop_all - stop the servers started here, put lo back, restart system services that were
# stopped, remove the work dir (unless KEEP_WORK=1). Idempotent; never fails.
stop_all() {
    local s
    if ((POSTFIX_UP)); then
        postfix -c "$PF_ETC" stop >/dev/null 2>&1 || postfix -c "$PF_ETC" abort >/dev/null 2>&1
        POSTFIX_UP=0
    fi
    if ((DOVECOT_UP)); then
        dovecot -c "$DC_CONF" stop >/dev/null 2>&1
        DOVECOT_UP=0
    fi
    restore_loopback
    for s in "${STOPPED_SERVICES[@]}"; do
        log "restarting system service $s"
        case $s in
        sysv:postfix) postfix start >/dev/null 2>&1 ;;
        sysv:dovecot) dovecot >/dev/null 2>&1 ;;
        *) systemctl start "$s" ;;
        esac
    done
    STOPPED_SERVICES=()
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

# setup_workdir [PREFIX] - the temporary directory holding everything configured here
setup_workdir() {
    WORK=$(mktemp -d "${1:-/tmp/mailwire-rec}.XXXXXX")
    chmod 755 "$WORK"   # postfix, dovecot login and mail processes must be able to traverse it
    LOG_DIR=$WORK/logs
    mkdir -p "$LOG_DIR" "$WORK/data"
    PF_ETC=$WORK/postfix/etc
    DC_CONF=$WORK/dovecot/dovecot.conf
}

# mail ports must be free; a system postfix/dovecot (systemd, or started by hand / init script
# in a container) is stopped and started again by stop_all
free_mail_ports() {
    local busy svc
    busy=$(ss -Hltn | awk '{print $4}' | grep -E ':(25|110|143|465|587|993|995)$' || true)
    [[ -z $busy ]] && return 0
    for svc in postfix dovecot; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
            log "stopping system service $svc (restarted at exit)"
            systemctl stop "$svc"
            STOPPED_SERVICES+=("$svc")
        fi
    done
    if postfix status >/dev/null 2>&1; then
        log "stopping the system postfix instance (restarted at exit)"
        postfix stop >/dev/null 2>&1 && STOPPED_SERVICES+=(sysv:postfix)
    fi
    if [[ -f /run/dovecot/master.pid ]] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
        log "stopping the system dovecot instance (restarted at exit)"
        dovecot -c /etc/dovecot/dovecot.conf stop >/dev/null 2>&1 && STOPPED_SERVICES+=(sysv:dovecot)
    fi
    sleep 1
    busy=$(ss -Hltn | awk '{print $4}' | grep -E ':(25|110|143|465|587|993|995)$' || true)
    [[ -z $busy ]] || die "mail ports still in use: $busy"
}

# MTU-realistic loopback: 1500 bytes, and no TSO/GSO super-segments. GRO off too: with any
# offload on, libpcap sizes every ring-buffer slot for a 256 KiB packet and bursts overflow the
# ring (packets "dropped by kernel").
loopback_mtu_1500() {
    OLD_MTU=$(cat /sys/class/net/lo/mtu)
    ip link set lo mtu 1500
    if command -v ethtool >/dev/null 2>&1; then
        OLD_TSO=$(ethtool -k lo | awk '/^tcp-segmentation-offload:/ {print $2}')
        OLD_GSO=$(ethtool -k lo | awk '/^generic-segmentation-offload:/ {print $2}')
        OLD_GRO=$(ethtool -k lo | awk '/^generic-receive-offload:/ {print $2}')
        ethtool -K lo tso off gso off gro off
    fi
    log "lo: mtu 1500 (was $OLD_MTU), tso/gso/gro off (were ${OLD_TSO:-?}/${OLD_GSO:-?}/${OLD_GRO:-?})"
}

restore_loopback() {
    [[ -n $OLD_TSO ]] && ethtool -K lo tso "$OLD_TSO" >/dev/null 2>&1
    [[ -n $OLD_GSO ]] && ethtool -K lo gso "$OLD_GSO" >/dev/null 2>&1
    [[ -n $OLD_GRO ]] && ethtool -K lo gro "$OLD_GRO" >/dev/null 2>&1
    [[ -n $OLD_MTU ]] && ip link set lo mtu "$OLD_MTU"
    OLD_TSO='' OLD_GSO='' OLD_GRO='' OLD_MTU=''
    return 0
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
        >"$WORK/postfix/local_recipients"

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
        "inet_interfaces = loopback-only" \
        "inet_protocols = all" \
        `# never deliver anywhere: remote mail errors out, local mail is accepted then discarded` \
        "default_transport = error:mailwire recording - no outbound mail" \
        "relay_transport = error:mailwire recording - no outbound mail" \
        "local_transport = discard:mailwire recording" \
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
        "smtpd_tls_loglevel = 1"

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

