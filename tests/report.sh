#!/usr/bin/env bash
# The incident report and --save-flagged, end to end. Prints one TAP line per test.
# The HTML report is opened in headless Chromium with the network off; its DOM and console
# are checked and a screenshot is kept (skipped cleanly when chromium is not installed).
# Usage: tests/report.sh MAILWIRE_BINARY [ARTIFACT_DIR]   (default: build/report-artifacts)
set -u
MW=${1:?usage: report.sh MAILWIRE [ARTIFACT_DIR]}
MW=$(cd "$(dirname "$MW")" && pwd)/$(basename "$MW")
cd "$(dirname "$0")/.."
ART=${2:-build/report-artifacts}
mkdir -p "$ART"
ART=$(cd "$ART" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/tap.sh
. tests/tap.sh
# shellcheck source=tests/secrets.sh
. tests/secrets.sh

CAPS=(smtp-relay-denied smtp-auth-failed tls-cert-expired imap-login-failed pop3-login-ok
      smtp-accepted)
ARGS=()
for c in "${CAPS[@]}"; do ARGS+=(-r "pcaps/$c.pcap"); done

# --- the run: records, text summary, both reports ---
"$MW" "${ARGS[@]}" --json >"$TMP/records.jsonl" 2>"$TMP/json.err"
"$MW" "${ARGS[@]}" >"$TMP/summary.txt" 2>/dev/null
"$MW" "${ARGS[@]}" --report "$TMP/report.md" -q >/dev/null 2>"$TMP/md.err"
md_rc=$?
"$MW" "${ARGS[@]}" --json --report "$ART/report.html" >"$TMP/with-report.jsonl" 2>"$TMP/html.err"
html_rc=$?

# Facts from the records, for the checks below: flags seen, sessions, and for each flag
# its diagnosis as the text summary prints it (flags.h is the one source of both).
python3 - "$TMP" <<'EOF'
import json, sys, re
tmp = sys.argv[1]
recs = [json.loads(l) for l in open(f"{tmp}/records.jsonl")]
flags = sorted({f for r in recs for f in r["flags"]})
open(f"{tmp}/flags", "w").write("\n".join(flags) + "\n")
open(f"{tmp}/ids", "w").write("\n".join(r["id"] for r in recs) + "\n")
diag = {}
cur = None
for line in open(f"{tmp}/summary.txt"):
    m = re.match(r"^(\w+): \d+ sessions? \(", line)
    if m:
        cur = m.group(1)
    m = re.match(r"^    What it means: (.*)$", line)
    if m and cur:
        diag[cur] = m.group(1)
with open(f"{tmp}/diagnoses", "w") as out:
    for f in flags:
        out.write(f"{f}\t{diag.get(f, '')}\n")
EOF
nflags=$(grep -c . "$TMP/flags")
nsessions=$(grep -c . "$TMP/ids")

check "report.md written (exit 0, nothing on stderr)" \
    test "$md_rc" -eq 0 -a -s "$TMP/report.md" -a ! -s "$TMP/md.err"
check "report.html written alongside --json (exit 0)" \
    test "$html_rc" -eq 0 -a -s "$ART/report.html" -a ! -s "$TMP/html.err"
check "--json output unchanged by --report" diff -u "$TMP/records.jsonl" "$TMP/with-report.jsonl"

md_findings() {
    local f missing=0
    [ "$nflags" -gt 0 ] || { echo "no flags in the test captures"; return 1; }
    while read -r f; do
        grep -qE "^\| \`$f\` \| (critical|high|medium|low) \| [0-9]" "$TMP/report.md" || { echo "no findings row for $f"; missing=1; }
    done <"$TMP/flags"
    [ "$missing" -eq 0 ]
}
check "md: one findings row per flag seen ($nflags)" md_findings

md_diagnoses() {
    # the Markdown escapes punctuation with backslashes: compare without them
    sed 's/\\//g' "$TMP/report.md" >"$TMP/report.plain"
    local f d missing=0
    while IFS=$'\t' read -r f d; do
        [ -n "$d" ] || { echo "no diagnosis for $f in the text summary"; missing=1; continue; }
        grep -qF -- "$d" "$TMP/report.plain" || { echo "diagnosis of $f missing"; missing=1; }
    done <"$TMP/diagnoses"
    [ "$missing" -eq 0 ]
}
check "md: diagnosis and fix of every flag" md_diagnoses

md_order() {
    python3 - "$TMP/report.md" "$TMP/records.jsonl" <<'EOF'
import json, re, sys
md = open(sys.argv[1]).read()
recs = [json.loads(l) for l in open(sys.argv[2])]
heads = re.findall(r"^## (.*)$", md, re.M)
assert heads[0] == "Summary" and heads[1] == "Findings", heads
assert heads[-1] == "What was analysed", f"inputs not at the end: {heads}"
summ = md.split("## Findings")[0]
n = len(recs)
failed = sum(r["outcome"] in ("failed", "rejected") for r in recs)
assert f"**{n}** mail sessions, **{failed} failed or rejected**" in summ, summ
assert re.search(r"Time span: \d{4}-\d\d-\d\d [0-9:.]+ to .* UTC \(", summ), "no time span"
top = re.findall(r"^- \*\*(\w+)\*\* `(\w+)`: \*\*(\d+) sessions?\*\*: (.+)\.$", summ, re.M)
assert top, "no top findings in the summary"
rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (\d+) \|", md, re.M)
rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}
key = [(rank[s], -int(c), f) for f, s, c in rows]
assert key == sorted(key), f"findings not ordered by severity, count: {rows}"
assert [(f, s, c) for s, f, c, _ in top] == rows[:len(top)], (top, rows)
count = {}
for r in recs:
    for f in r["flags"]:
        count[f] = count.get(f, 0) + 1
for f, s, c in rows:
    assert count[f] == int(c), f"{f}: {c} in the report, {count[f]} in the records"
assert all(cause and ":" not in cause for _, _, _, cause in top), top
EOF
}
check "md: summary first (sessions, failed, span, top findings), findings by severity and count, inputs last" md_order

md_rest() {
    local id
    while read -r id; do
        grep -qE "^\| (\[$id\]\(#t-$id\)|$id) \| " "$TMP/report.md" || { echo "no row for $id"; return 1; }
    done <"$TMP/ids"
    grep -q '^## What was analysed' "$TMP/report.md" &&
        grep -q 'pcaps/smtp-relay-denied.pcap' "$TMP/report.md" &&
        grep -q '!\[timeline\](data:image/svg+xml;base64,' "$TMP/report.md" &&
        grep -q 'frame 12 of smtp-relay-denied.pcap' "$TMP/report.md" &&
        grep -q "^<a id=\"t-$(grep relay_denied "$TMP/records.jsonl" | sed 's/^{"id":"\([^"]*\)".*/\1/')\"></a>" "$TMP/report.md" &&
        grep -q 'RCPT TO:<bob@example.net>' "$TMP/report.md"
}
check "md: inputs, timeline, session rows, evidence frames, transcripts" md_rest

secrets_absent() { # files...
    local found=0 pw
    secret_forms_absent "$@" || found=1
    # the timeline is base64 inside the Markdown: look inside it too
    grep -ao 'data:image/svg+xml;base64,[A-Za-z0-9+/=]*' "$TMP/report.md" |
        sed 's/^data:image\/svg+xml;base64,//' | base64 -d >"$TMP/timeline.svg" 2>/dev/null
    while IFS= read -r pw; do
        [ -n "$pw" ] && grep -aqF -- "$pw" "$TMP/timeline.svg" && { echo "secret in timeline"; found=1; }
    done <pcaps/secrets.txt
    [ "$found" -eq 0 ]
}
check "no password in either report (plain or base64)" secrets_absent "$TMP/report.md" "$ART/report.html"

html_static() {
    python3 - "$ART/report.html" <<'EOF'
import sys
from html.parser import HTMLParser
page = open(sys.argv[1], encoding="utf-8").read()
bad = [s for s in ("http://", "https://", "src=", "@import", "url(") if s in page.replace('xmlns="http://www.w3.org/2000/svg"', "")]
if bad:
    sys.exit(f"external reference in the page: {bad}")
HTMLParser().feed(page)
EOF
}
check "html: self-contained (no external reference)" html_static

# --- the timeline survives an outlier: one session 40 minutes after the others ---
editcap -t 2400 pcaps/smtp-accepted.pcap "$TMP/late.pcap" >/dev/null 2>&1
"$MW" "${ARGS[@]}" -r "$TMP/late.pcap" -q --report "$ART/outlier.html" >/dev/null 2>&1
timeline_break() {
    python3 - "$ART/outlier.html" <<'EOF'
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
svg = page[page.index("<svg"):page.index("</svg>")]
assert 'role="img"' in svg and '<title id="timeline-title">' in svg, "no role/title on the SVG"
breaks = re.findall(r'<g class="axis-break"><title>axis break: no session for ([^<]+)</title>', svg)
assert len(breaks) == 1 and breaks[0].endswith("min"), f"axis breaks: {breaks}"
bars = re.findall(r'id="bar-(s\d+)" data-outcome="\w+" x="([\d.]+)" y="\d+" width="([\d.]+)"', svg)
assert len(bars) == 7, bars
bars.sort(key=lambda b: float(b[1]))
early = bars[:-1]
spread = max(float(x) + float(w) for _, x, w in early) - min(float(x) for _, x, w in early)
# without the break the six early sessions (106 s of 2500 s) would share about 42 px
assert spread > 600, f"the early sessions share only {spread:.0f} px"
EOF
}
check "timeline: an idle stretch of 40 min is an axis break; the other sessions keep the width" timeline_break

bad_option() { # name want-regex args...
    local name=$1 re=$2; shift 2
    "$MW" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err" </dev/null
    local rc=$? lines
    lines=$(wc -l <"$TMP/bad.err")
    if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && grep -Eq -- "$re" "$TMP/bad.err"; then ok "$name"
    else not_ok "$name" "exit $rc, stderr: $(cat "$TMP/bad.err")"; fi
}
bad_option "--report with another extension: one line, exit 1" "must end in .md or .html" \
    -r pcaps/smtp-accepted.pcap --report "$TMP/report.pdf"
bad_option "--report in a missing directory: one line, exit 1" "cannot write" \
    -r pcaps/smtp-accepted.pcap --report "$TMP/nosuch/report.html"

# --- wire text hostile to HTML and Markdown is escaped ---
python3 tests/make_hostile_pcap.py "$TMP/hostile.pcap"
"$MW" -r "$TMP/hostile.pcap" -q --report "$ART/hostile.html" >/dev/null 2>&1
"$MW" -r "$TMP/hostile.pcap" -q --report "$TMP/hostile.md" >/dev/null 2>&1
md_escaped() {
    # outside the fenced transcripts no raw tag may reach a Markdown renderer
    awk '/^```/{f=!f; next} !f' "$TMP/hostile.md" >"$TMP/hostile.prose"
    ! grep -nE '<(script|img|b )' "$TMP/hostile.prose" &&
        grep -q 'Relay&lt;/b&gt; denied \\| \\`code\\`' "$TMP/hostile.prose"
}
check "md: wire text escaped (tags, pipes, backticks)" md_escaped
html_escaped() {
    python3 - "$ART/hostile.html" <<'PYEOF'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
assert page.count("<script") == 2, "a <script> from the wire"
assert page.count('<script type="application/json" id="sessions-data">') == 1
assert page.count("<script>\n") == 1
for bad in ("<img", "<b on", "onerror=\"", "\x01"):
    assert bad not in page, f"unescaped {bad!r}"
assert "&lt;script&gt;" in page and "&lt;img src=x onerror=" in page
PYEOF
}
check "html: wire text escaped" html_escaped

# --- the HTML report in a real browser ---
CHROME=""
for c in chromium chromium-browser google-chrome; do
    command -v "$c" >/dev/null 2>&1 && { CHROME=$c; break; }
done
chrome() { # extra args... ; network off: no proxy resolution, no background fetches
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --proxy-server='http://127.0.0.1:9' --proxy-bypass-list='<-loopback>' \
        --user-data-dir="$(mktemp -d "$TMP/profile.XXXX")" "$@"
}
if [ -z "$CHROME" ]; then
    skip "report browser test skipped: chromium not installed (apt-get install chromium)"
else
    url="file://$ART/report.html"
    chrome --dump-dom "$url" >"$ART/report.dom.html" 2>"$TMP/chrome.err"
    chrome --enable-logging=stderr --v=0 --dump-dom "$url" >/dev/null 2>"$ART/console.log"
    chrome --hide-scrollbars --screenshot="$ART/report.png" --window-size=1400,1000 "$url" \
        >/dev/null 2>&1
    chrome --dump-dom "$url?q=auth_failed" >"$TMP/filtered.dom.html" 2>/dev/null

    dom_check() { # what dom-file count-expression
        python3 - "$@" <<'EOF'
import sys, re, html
what, path = sys.argv[1], sys.argv[2]
dom = open(path, encoding="utf-8").read()
flags = [l for l in open(sys.argv[3]).read().split() if l]
ids = [l for l in open(sys.argv[4]).read().split() if l]
if what == "ready":
    assert 'data-ready="1"' in dom, "the page script did not finish (no data-ready)"
elif what == "findings":
    rows = re.findall(r'<tr class="finding" id="f-([a-z_]+)"', dom)
    assert sorted(rows) == sorted(flags), f"findings rows {rows} != flags {flags}"
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    for line in open(sys.argv[5]):
        f, d = line.rstrip("\n").split("\t")
        assert d and d in text, f"diagnosis of {f} not in the page"
elif what == "bars":
    bars = re.findall(r'<rect class="bar" id="bar-(s\d+)"', dom)
    assert sorted(bars) == sorted(ids), f"bars {bars} != sessions {ids}"
elif what == "rows":
    rows = re.findall(r'<tr class="srow" id="row-(s\d+)"', dom)
    assert sorted(rows) == sorted(ids), f"rows {rows} != sessions {ids}"
    m = re.search(r'id="count"[^>]*>([^<]*)<', dom)
    assert m and m.group(1) == f"{len(ids)} of {len(ids)} sessions shown", m and m.group(1)
elif what == "filtered":
    shown = re.findall(r'<tr class="srow" id="row-(s\d+)"', dom)
    assert len(shown) == 2, f"rows shown {shown}"
    assert f"2 of {len(ids)} sessions shown" in dom
elif what == "transcripts":
    arts = re.findall(r'<article class="transcript" id="t-(s\d+)"', dom)
    assert len(arts) > 0 and len(arts) == len(set(arts)), arts
    assert "[password redacted]" in dom, "no redacted line in the transcripts"
EOF
    }
    if [ -s "$ART/report.dom.html" ]; then
        D="$ART/report.dom.html"
        check "browser: script ran to the end (data-ready)" dom_check ready "$D" "$TMP/flags" "$TMP/ids"
        check "browser: one findings row per flag, with its diagnosis" \
            dom_check findings "$D" "$TMP/flags" "$TMP/ids" "$TMP/diagnoses"
        check "browser: one timeline bar per session ($nsessions)" dom_check bars "$D" "$TMP/flags" "$TMP/ids"
        check "browser: one table row per session" dom_check rows "$D" "$TMP/flags" "$TMP/ids"
        check "browser: transcripts of flagged sessions, redacted" \
            dom_check transcripts "$D" "$TMP/flags" "$TMP/ids"
        check "browser: filter ?q=auth_failed shows the 2 matching sessions" \
            dom_check filtered "$TMP/filtered.dom.html" "$TMP/flags" "$TMP/ids"
        # the column headings are buttons: press "id" twice (what Enter or Space on the
        # focused button does), then "start" once
        sed 's|</body></html>|<script>var b=document.querySelectorAll("#sessions th button");b[0].click();b[0].click();</script></body></html>|' \
            "$ART/report.html" >"$TMP/sort1.html"
        sed 's|</body></html>|<script>document.querySelectorAll("#sessions th button")[1].click();</script></body></html>|' \
            "$ART/report.html" >"$TMP/sort2.html"
        chrome --dump-dom "file://$TMP/sort1.html" >"$TMP/sort1.dom" 2>/dev/null
        chrome --dump-dom "file://$TMP/sort2.html" >"$TMP/sort2.dom" 2>/dev/null
        sortable() {
            python3 - "$TMP/sort1.dom" "$TMP/sort2.dom" "$TMP/records.jsonl" <<'EOF'
import json, re, sys
d1, d2 = open(sys.argv[1]).read(), open(sys.argv[2]).read()
recs = [json.loads(l) for l in open(sys.argv[3])]
heads = re.findall(r'<th scope="col" aria-sort="(\w+)"><button type="button">', d1)
assert len(heads) == 9 and heads[0] == "descending" and set(heads[1:]) == {"none"}, heads
rows = re.findall(r'<tr class="srow" id="row-s(\d+)"', d1)
assert [int(x) for x in rows] == sorted((int(r["id"][1:]) for r in recs), reverse=True), rows
by_start = [r["id"] for r in sorted(recs, key=lambda r: (r["ts_start"], int(r["id"][1:])))]
rows2 = ["s" + x for x in re.findall(r'<tr class="srow" id="row-s(\d+)"', d2)]
assert rows2 == by_start, (rows2, by_start)
assert re.search(r'aria-sort="ascending"><button type="button">start', d2)
EOF
        }
        check "browser: columns sort with their heading buttons (aria-sort set)" sortable
        chrome --dump-dom "file://$ART/hostile.html" >"$TMP/hostile.dom.html" 2>/dev/null
        not_pwned() {
            grep -q 'data-ready="1"' "$TMP/hostile.dom.html" &&
                ! grep -q 'data-pwned' "$TMP/hostile.dom.html" &&
                [ "$(grep -c '<img' "$TMP/hostile.dom.html")" -eq 0 ]
        }
        check "browser: hostile wire text runs no script and adds no element" not_pwned
        no_uncaught() { ! grep -E "Uncaught|CONSOLE.*(Error|error)" "$ART/console.log"; }
        check "browser: no script error in the console" no_uncaught
        check "browser: screenshot kept ($ART/report.png)" test -s "$ART/report.png"
        # --- printed to PDF: clean Letter and A4 pages ---
        if command -v pdfinfo >/dev/null && command -v pdftoppm >/dev/null; then
            sed 's|<head>|<head><style>@page{size:A4}</style>|' "$ART/report.html" >"$ART/report-a4.html"
            chrome --no-pdf-header-footer --print-to-pdf="$ART/report-letter.pdf" "$url" >/dev/null 2>&1
            chrome --no-pdf-header-footer --print-to-pdf="$ART/report-a4.pdf" \
                "file://$ART/report-a4.html" >/dev/null 2>&1
            pdf_clean() { # pdf paper
                local pdf=$1 paper=$2 pages
                pages=$(pdfinfo "$pdf" | awk '/^Pages:/{print $2}')
                pdfinfo "$pdf" | grep -qi "^Page size:.*($paper)" || { echo "not $paper: $(pdfinfo "$pdf" | grep 'Page size')"; return 1; }
                # 6 sessions, 5 transcripts: a few pages, not one per table cell
                [ "${pages:-0}" -ge 2 ] && [ "$pages" -le 10 ] || { echo "$pages pages"; return 1; }
                pdftotext -bbox "$pdf" "$TMP/print.html" && python3 - "$TMP/print.html" "$pdf" <<'EOF'
import re, subprocess, sys
bbox = open(sys.argv[1]).read()
pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', bbox, re.S)
words = lambda body: [(float(a), float(b), w) for a, b, w in
                      re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', body)]
text = [" ".join(w for _, _, w in words(body)) for _, body in pages]
allt = " ".join(text)
for gone in ("only sessions with findings", "Previous", "Next", "Sort by a column"):
    assert gone not in allt, f"screen control printed: {gone!r}"
for col in ("Diagnosis and fix", "decisive line", "Sessions", "Summary"):
    assert col in allt, f"{col!r} not printed"
for (w, body) in pages:   # nothing cut at the right edge: every word inside the paper
    for x0, x1, t in words(body):
        assert x1 <= float(w) + 0.5, f"{t!r} ends at {x1} beyond the page width {w}"
tl = [i for i, t in enumerate(text) if "Timeline" in t and "ok failed rejected" in t]
assert tl, "no page with the timeline heading"
assert "UTC, packet time" in text[tl[0]], "the timeline does not fit on the page of its heading"
assert "Summary" in text[0] and "failed or rejected" in text[0], "the summary is not on page 1"
EOF
            }
            check "print: Letter PDF, clean pages (no controls, nothing cut off, timeline on one page)" \
                pdf_clean "$ART/report-letter.pdf" letter
            check "print: A4 PDF, clean pages" pdf_clean "$ART/report-a4.pdf" A4
            pdftoppm -png -r 60 -f 1 -l 2 "$ART/report-a4.pdf" "$ART/report-a4-page"
            check "print: pages rendered by pdftoppm ($ART/report-a4-page-1.png)" \
                test -s "$ART/report-a4-page-1.png"
        else
            skip "print test skipped: pdfinfo/pdftoppm not installed (apt-get install poppler-utils)"
        fi
    else
        not_ok "browser: chromium dumped no DOM" "$(tail -5 "$TMP/chrome.err")"
    fi
fi

# --- a large run: the report stays small and opens quickly (5,000 sessions here; the
# README has the 50,000-session figures) ---
if [ -n "$CHROME" ] && python3 bench/make_captures.py --out "$TMP/bench" --sessions 5000 \
        sessions >/dev/null 2>&1; then
    "$MW" -r "$TMP/bench/sessions.pcap" -q --report "$ART/large.html" >/dev/null 2>&1
    size=$(stat -c %s "$ART/large.html")
    echo '<!DOCTYPE html><html><body data-ready="1"></body></html>' >"$TMP/empty.html"
    t0=$(date +%s.%N); chrome --dump-dom "file://$TMP/empty.html" >/dev/null 2>&1; t1=$(date +%s.%N)
    chrome --dump-dom "file://$ART/large.html" >"$TMP/large.dom.html" 2>/dev/null; t2=$(date +%s.%N)
    render=$(python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); print(f'{max(c-b-(b-a),0):.1f}')" "$t0" "$t1" "$t2")
    echo "# large report: 5000 sessions, $size bytes, Chromium render ${render} s beyond its start-up"
    large_ok() {
        python3 - "$ART/large.html" "$TMP/large.dom.html" "$size" "$render" <<'EOF'
import re, sys
page, dom = open(sys.argv[1]).read(), open(sys.argv[2]).read()
size, render = int(sys.argv[3]), float(sys.argv[4])
assert size < 5000 * 400, f"{size} bytes for 5000 sessions (at most 400 a session)"
assert render < 15, f"Chromium took {render:.1f} s beyond its start-up"
assert 'data-ready="1"' in dom, "the script did not finish"
assert "5000 of 5000 sessions shown" in dom, re.search(r'id="count"[^>]*>[^<]*', dom)
rows = re.findall(r'<tr class="srow" id="row-(s\d+)"', dom)
assert len(rows) == 100, f"{len(rows)} rows in the page (one page of 100)"
assert re.search(r'rows 1-100 of 5000, page 1 of 50', dom), "no pager"
arts = re.findall(r'<article class="transcript" id="t-(s\d+)"', page)
assert 0 < len(arts) <= 200, f"{len(arts)} transcripts"
EOF
    }
    check "large report: 5000 sessions in $size bytes, rendered in ${render} s, one page of rows" large_ok
    chrome --dump-dom "file://$ART/large.html?q=relay_denied#row-s4990" >"$TMP/large-nav.dom.html" 2>/dev/null
    large_nav() { # a link to a row on a later page opens that page
        grep -q '<tr class="srow hit" id="row-s4990"' "$TMP/large-nav.dom.html" ||
            grep -q 'id="row-s4990"[^>]*class="srow hit"' "$TMP/large-nav.dom.html"
    }
    check "large report: #row-ID shows the page holding that session" large_nav
else
    skip "large report skipped: no chromium, or bench/make_captures.py failed"
fi

# --- --save-flagged: each flagged session in its own pcap, read back with libpcap ---
SAVE="$TMP/flagged"
mkdir -p "$SAVE"
SARGS=("${ARGS[@]}" -r pcaps/smtp-cooked-v1.pcap)
"$MW" "${SARGS[@]}" --json --save-flagged "$SAVE" >"$TMP/saved.jsonl" 2>"$TMP/save.err"
save_rc=$?
check "--save-flagged: exit 0, nothing on stderr" test "$save_rc" -eq 0 -a ! -s "$TMP/save.err"
saved_files() {
    python3 - "$TMP/saved.jsonl" "$SAVE" "${SARGS[@]}" <<'EOF'
import json, os, subprocess, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
save = sys.argv[2]
inputs = [a for a in sys.argv[3:] if a != "-r"]
want = {}
for r in recs:
    if r["flags"]:
        want[f"{r['id']}-{r['flags'][0]}.pcap"] = r
got = sorted(os.listdir(save))
assert got == sorted(want), f"files {got} != {sorted(want)}"
def link_type(path):
    p = subprocess.run(["tcpdump", "-r", path, "-c", "1"], capture_output=True, text=True)
    return p.stderr.split("link-type ")[1].split()[0]
in_links = {link_type(i) for i in inputs}
bad = []
for name, r in want.items():
    path = os.path.join(save, name)
    p = subprocess.run(["tcpdump", "-nn", "-r", path], capture_output=True, text=True)
    lines = [l for l in p.stdout.splitlines() if l]
    n = r["packets"]["client"] + r["packets"]["server"]
    if len(lines) != n:
        bad.append(f"{name}: {len(lines)} packets, record says {n}")
    def dotted(ep):  # tcpdump -nn prints ip.port
        host, port = ep.rsplit(":", 1)
        return host.strip("[]") + "." + port
    c, s = dotted(r["client"]), dotted(r["server"])
    for l in lines:
        if not ((f" {c} > {s}:" in l) or (f" {s} > {c}:" in l)):
            bad.append(f"{name}: packet of another connection: {l[:100]}")
            break
    lt = link_type(path) if lines else None
    if lt not in in_links:
        bad.append(f"{name}: link type {lt}, inputs {in_links}")
assert not bad, "\n".join(bad)
print(f"{len(want)} files checked")
EOF
}
check "--save-flagged: one pcap per flagged session, exactly its packets and 4-tuple" saved_files
cooked_kept() {
    local f
    f=$(ls "$SAVE" | grep relay_denied | tail -1)
    tcpdump -r "$SAVE/$f" -c 1 2>&1 >/dev/null | grep -q "link-type LINUX_SLL "
}
check "--save-flagged: a Linux cooked input gives a Linux cooked pcap" cooked_kept
bad_option "--save-flagged with a missing parent directory: one line, exit 1" \
    "cannot create: No such file" -r pcaps/smtp-relay-denied.pcap --save-flagged "$TMP/nosuch/dir"
bad_option "--save-flagged with a file, not a directory: one line, exit 1" "not a directory" \
    -r pcaps/smtp-relay-denied.pcap --save-flagged pcaps/smtp-relay-denied.pcap
bad_option "--save-flagged with stdin: one line, exit 1" "does not go with -r -" \
    -r - --save-flagged "$SAVE"
if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$TMP/ro" && chmod 555 "$TMP/ro"
    bad_option "--save-flagged in a read-only directory: one line, exit 1" "cannot write" \
        -r pcaps/smtp-relay-denied.pcap --save-flagged "$TMP/ro"
fi

# --- progress line: never when stderr is not a terminal ---
"$MW" "${ARGS[@]}" >/dev/null 2>"$TMP/progress.err"
check "no progress line when stderr is not a terminal" test ! -s "$TMP/progress.err"

# --- issue 19: a flagged SMTP session's view lists its messages, in both formats ---
session_messages() {
    "$MW" -r pcaps/smtp-multi-message-rset.pcap --report "$TMP/msgs.html" >/dev/null 2>&1 &&
        "$MW" -r pcaps/smtp-multi-message-rset.pcap --report "$TMP/msgs.md" >/dev/null 2>&1 || return 1
    # each transaction once, in order, with its sender, recipients, size, result, final reply
    python3 - "$TMP/msgs.html" "$TMP/msgs.md" <<'PY'
import re, sys
html, md = (open(f, encoding="utf-8").read() for f in sys.argv[1:3])
want = ["tx 1 from &lt;sender@example.org&gt; \u2192 1 rcpt (1 refused: 550 5.1.1) aborted",
        "tx 2 from &lt;sender@example.org&gt; \u2192 1 rcpt 238 bytes rejected 550 5.7.1 message content rejected",
        "tx 3 from &lt;sender@example.org&gt; \u2192 2 rcpt 278 bytes accepted 250 2.0.0 queued as 15774A7609D"]
ul = re.findall(r'<ul class="messages">(.*?)</ul>', html)
assert len(ul) == 1, ul
items = re.findall(r"<li>(.*?)</li>", ul[0])
assert items[1:] == want, items
lines = [l[2:] for l in md.splitlines() if l.startswith("- tx ")]
assert lines == want, lines
PY
}
check "report: the session view lists each SMTP transaction (sender, rcpt, size, result, reply, queue id) in html and md" session_messages

# --- failed sessions that raised no flag: the findings table's last row, in both formats ---
# (zeek-smtp-bdat-cmd-invalid: three SMTP sessions that fail on a bad BDAT, with no flag;
# beside smtp-auth-failed, whose flags fill the rows above)
failed_unflagged() {
    local caps=(-r pcaps/smtp-auth-failed.pcap -r pcaps/public/zeek-smtp-bdat-cmd-invalid.pcapng)
    "$MW" "${caps[@]}" --report "$TMP/unflagged.md" >/dev/null 2>&1 &&
        "$MW" "${caps[@]}" --report "$TMP/unflagged.html" >/dev/null 2>&1 &&
        "$MW" "${caps[@]}" --json >"$TMP/unflagged.jsonl" 2>/dev/null || return 1
    python3 - "$TMP/unflagged.jsonl" "$TMP/unflagged.md" "$TMP/unflagged.html" <<'PY'
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
want = [r["id"] for r in recs if r["outcome"] == "failed" and not r["flags"]]
assert len(want) == 3, want
md, html = (open(f, encoding="utf-8").read() for f in sys.argv[2:4])
rows = [l for l in md.splitlines() if l.startswith("| (no flag) failed |")]
assert len(rows) == 1, rows
cells = [c.strip() for c in rows[0].split("|")[1:-1]]
assert cells[2] == "3", cells
assert [re.match(r"(\S+) frame \d+ of ", e).group(1) for e in cells[4].split("<br>")] == want, cells[4]
assert "e.g. 521 5.5.4" in cells[5], cells[5]
table = md.split("## Findings")[1].split("\n\n")[1]
assert table.splitlines()[-1] == rows[0], "not the table's last row"
tr = re.findall(r'<tr class="finding" id="f-failed-unflagged">(.*?)</tr>', html)
assert len(tr) == 1, tr
assert '<td class="n">3</td>' in tr[0], tr[0]
assert re.findall(r'<a href="#row-([^"]+)">', tr[0]) == want, tr[0]
body = html.split('<table id="findings-table">')[1].split("</tbody>")[0]
assert body.rstrip().endswith("</tr>") and body.rstrip().rsplit("<tr", 1)[1].startswith(' class="finding" id="f-failed-unflagged"')
PY
}
check "report: failed sessions without a flag are the findings table's last row (md and html)" failed_unflagged

echo "1..$n"
