#!/usr/bin/env bash
# Install the Debian packages mailwire builds and tests with (Debian 12). Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
PKGS=(
    build-essential pkg-config         # compiler (gcc with ASan/UBSan), make
    libpcap-dev libssl-dev libglib2.0-dev  # libpcap, OpenSSL libcrypto, GLib
    libxxhash-dev                       # XXH3: fast keyed hash for the caches
    libseccomp-dev                      # the seccomp sandbox once inputs and outputs are open
    zlib1g-dev libzstd-dev liblz4-dev   # compressed captures (.gz, .zst, .lz4)
    zstd lz4                            # their command-line tools (tests compress captures)
    libsqlite3-dev libpq-dev libjson-glib-dev  # the session store (--db): SQLite, PostgreSQL, stored JSON read back
    postgresql                          # tests/store.sh runs a server of its own (temporary dir, Unix socket)
    python3                             # test checker
    python3-jsonschema                  # tests/schema.sh: every record against doc/record.schema.json
    tcpdump tshark                      # reference tools (tshark brings mergecap, editcap)
    ca-certificates                     # the system trust store (certificate checks)
    clang libclang-rt-dev               # libFuzzer harnesses (make fuzz)
    chromium                            # the HTML report is checked in a real browser
    poppler-utils                       # pdfinfo/pdftoppm: the report printed to PDF is checked
    postfix dovecot-imapd dovecot-pop3d swaks curl openssl iproute2 ethtool  # live test
    libnet-ssleay-perl                  # swaks STARTTLS (a Recommends, not pulled in)
    debhelper dpkg-dev                  # the .deb (dpkg-buildpackage), tests/package.sh
    libio-socket-inet6-perl             # swaks over IPv6 (--server ::1; a Recommends too)
    wireshark-common                    # editcap --inject-secrets (pcapng with the TLS keys inside)
)
# make bench's peers and replayer, not needed by the tests: installed with --bench
BENCH_PKGS=(
    libndpi-bin                         # ndpiReader, the classification peer in make bench
    tcpreplay                           # make bench-live replays captures onto a veth pair
    linux-perf time                     # profiles and peak RSS figures
)
# --list: print the package names (for .ci/run)
if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "${PKGS[@]}"
    exit 0
fi
if [ "${1:-}" = "--bench" ]; then
    PKGS+=("${BENCH_PKGS[@]}")
fi
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    # tshark asks whether non-root users may capture: answer no, without a prompt
    echo "wireshark-common wireshark-common/install-setuid boolean false" | as_root debconf-set-selections
    # postfix asks how mail is delivered: local only (the live test sets its own config)
    echo "postfix postfix/main_mailer_type select Local only" | as_root debconf-set-selections
    echo "postfix postfix/mailname string mail.example.test" | as_root debconf-set-selections
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
