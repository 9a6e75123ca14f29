#!/usr/bin/env bash
# Packaging (issue 16): the man page covers every option of --help, make install /
# uninstall honour PREFIX and DESTDIR, and Debian's own tools build a .deb that runs.
# TAP lines on stdout.
set -u
cd "$(dirname "$0")/.."
bin=${1:-./mailwire}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && echo "#   $2"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version=$(cat VERSION)

# 1. every long and short option of --help is in the man page (roff escapes '-' as '\-')
missing=()
while read -r opt; do
    esc=${opt//-/\\\\-}
    grep -q -- "$esc" doc/mailwire.1 || missing+=("$opt")
done < <("$bin" --help | grep -oE -- '(^|[ ,])--?[a-zA-Z0-9][a-zA-Z0-9-]*' | tr -d ' ,' | sort -u)
if [ ${#missing[@]} -eq 0 ]; then ok "man page lists every option of --help"
else notok "man page lists every option of --help" "missing: ${missing[*]}"; fi

# 2. one version everywhere
mv=$(sed -n 's/^\.TH MAILWIRE 1 "[^"]*" "mailwire \([^"]*\)".*/\1/p' doc/mailwire.1)
cv=$(sed -n '1s/^mailwire (\([^)]*\)).*/\1/p' debian/changelog)
if [ "$mv" = "$version" ] && [ "$cv" = "$version" ]; then ok "VERSION, man page and debian/changelog agree ($version)"
else notok "VERSION, man page and debian/changelog agree" "VERSION $version, man $mv, changelog $cv"; fi
if "$bin" --version 2>/dev/null | head -1 | grep -qx "mailwire $version" &&
   "$bin" --version | grep -q "libpcap" && "$bin" --version | grep -q "OpenSSL" &&
   "$bin" --version | grep -q "GLib"; then ok "--version names mailwire $version, libpcap, OpenSSL and GLib"
else notok "--version names mailwire $version, libpcap, OpenSSL and GLib" "$("$bin" --version 2>&1 | head -3)"; fi

# 3. the man page renders without warnings (when groff is there)
if command -v groff >/dev/null 2>&1; then
    w=$(groff -man -Tutf8 -ww doc/mailwire.1 2>&1 >/dev/null)
    [ -z "$w" ] && ok "man page renders without groff warnings" || notok "man page renders without groff warnings" "$w"
fi

# 4. make install / uninstall with PREFIX and DESTDIR
d=$tmp/dest
if make -s install DESTDIR="$d" PREFIX=/opt/mw >"$tmp/inst.log" 2>&1 &&
   [ -x "$d/opt/mw/bin/mailwire" ] && [ -f "$d/opt/mw/share/man/man1/mailwire.1" ] &&
   [ -f "$d/opt/mw/share/bash-completion/completions/mailwire" ]; then
    ok "make install DESTDIR PREFIX puts binary, man page and completion in place"
else notok "make install DESTDIR PREFIX puts binary, man page and completion in place" "$(cat "$tmp/inst.log")"; fi
make -s uninstall DESTDIR="$d" PREFIX=/opt/mw >/dev/null 2>&1
left=$(find "$d" -type f | wc -l)
[ "$left" -eq 0 ] && ok "make uninstall removes what install put there" || notok "make uninstall removes what install put there" "$left files left"

# 5. the bash completion offers options from --help
if out=$(bash -c "source contrib/mailwire.bash-completion; COMP_WORDS=('$bin' --rep); COMP_CWORD=1; _mailwire; echo \${COMPREPLY[*]}") &&
   [ "$out" = "--report" ]; then ok "bash completion completes --rep to --report"
else notok "bash completion completes --rep to --report" "got: $out"; fi

# 6. a .deb from dpkg-buildpackage, on a copy of the tracked tree (it writes into the parent)
if ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! dpkg-query -W debhelper >/dev/null 2>&1; then
    notok "dpkg-buildpackage builds a .deb" "dpkg-dev or debhelper missing (scripts/install-deps.sh)"
else
    src=$tmp/src/mailwire-$version
    mkdir -p "$src"
    if git rev-parse --git-dir >/dev/null 2>&1; then
        git ls-files -z -co --exclude-standard | grep -zv '^pcaps/' | xargs -0 cp --parents -t "$src"
    else
        cp -r analyzer dissectors debian doc contrib Makefile VERSION "$src"
    fi
    mkdir -p "$src/pcaps"
    if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/deb.log" 2>&1; then
        deb=$(ls "$tmp"/src/mailwire_"$version"_*.deb 2>/dev/null | head -1)
        if [ -n "$deb" ]; then ok "dpkg-buildpackage -us -uc -b builds $(basename "$deb")"
        else notok "dpkg-buildpackage builds a .deb" "no .deb in $tmp/src"; fi
        list=$(dpkg-deb -c "$deb")
        if echo "$list" | grep -q './usr/bin/mailwire$' && echo "$list" | grep -q 'man1/mailwire.1' &&
           echo "$list" | grep -q 'completions/mailwire$'; then ok "the .deb holds the binary, the man page and the completion"
        else notok "the .deb holds the binary, the man page and the completion" "$list"; fi
        dpkg-deb -x "$deb" "$tmp/root"
        if "$tmp/root/usr/bin/mailwire" -r pcaps/smtp-relay-denied.pcap --json | grep -q '"relay_denied"'; then
            ok "the packaged binary finds relay_denied in pcaps/smtp-relay-denied.pcap"
        else notok "the packaged binary finds relay_denied in pcaps/smtp-relay-denied.pcap"; fi
        dep=$(dpkg-deb -f "$deb" Depends)
        echo "$dep" | grep -q libpcap && ok "the .deb depends on libpcap ($dep)" || notok "the .deb depends on libpcap" "$dep"
    else
        notok "dpkg-buildpackage -us -uc -b builds a .deb" "$(tail -20 "$tmp/deb.log")"
    fi
fi
