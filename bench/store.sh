#!/usr/bin/env bash
# make bench-store: what the session store costs. Times mailwire on the benchmark capture
# (build/bench/sessions.pcap, made by `make bench` or bench/make_captures.py) with --json
# alone, with --db into SQLite, and with --db into a PostgreSQL of its own (temporary
# directory, Unix socket, as in tests/store.sh); prints records stored per second and the
# time added. BENCH_RUNS (default 3): the median is shown.
set -euo pipefail
cd "$(dirname "$0")/.."
CAP=${BENCH_CAPTURE:-build/bench/sessions.pcap}
RUNS=${BENCH_RUNS:-3}
MW=$(realpath "${MAILWIRE:-./mailwire}")
[ -s "$CAP" ] || python3 bench/make_captures.py --out "$(dirname "$CAP")" sessions
T=$(mktemp -d /tmp/mw-bench-store.XXXXXX)
chmod 755 "$T"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd "$T" && runuser -u postgres -- "$@"); else "$@"; fi; }
cleanup() { [ -f "$T/pg/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$T/pg/data" -m immediate stop >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # timeit PREP-COMMAND -- mailwire args...: median wall seconds of RUNS runs
    local prep=$1; shift
    for _ in $(seq "$RUNS"); do
        eval "$prep"
        local s e
        s=$(date +%s.%N)
        "$MW" "$@" >/dev/null 2>>"$T/err"
        e=$(date +%s.%N)
        echo "$e - $s" | bc
    done | median
}
n=$(cat "${CAP}.expected" 2>/dev/null || "$MW" -r "$CAP" --json | wc -l)
plain=$(timeit : -r "$CAP" --json --sensor bench)
sqlite=$(timeit "rm -f $T/b.sqlite*" -r "$CAP" --json --sensor bench --db "$T/b.sqlite")
pg=""
if [ -x "$PGBIN/initdb" ]; then
    mkdir -p "$T/pg"; [ "$(id -u)" -eq 0 ] && chown postgres "$T/pg"
    as_pg "$PGBIN/initdb" -D "$T/pg/data" -A trust -U mw >/dev/null
    as_pg "$PGBIN/pg_ctl" -D "$T/pg/data" -l "$T/pg/log" -w -o "-k $T/pg -c listen_addresses=''" start >/dev/null
    as_pg "$PGBIN/createdb" -h "$T/pg" -U mw mailwire
    URL="postgresql://mw@/mailwire?host=$T/pg"
    pg=$(timeit "$PGBIN/psql -h $T/pg -U mw -d mailwire -qc 'DROP TABLE IF EXISTS findings, sessions, mailwire_schema' 2>/dev/null" \
        -r "$CAP" --json --sensor bench --db "$URL")
fi
printf 'sessions: %s records in %s\n' "$n" "$CAP"
printf '%-28s %8s s\n' "--json" "$plain"
for row in "sqlite:$sqlite" "postgresql:$pg"; do
    name=${row%%:*}; t=${row#*:}
    [ -n "$t" ] || { printf '%-28s (no PostgreSQL server)\n' "--json --db $name"; continue; }
    printf '%-28s %8s s  %8.0f records/s  +%.0f%% over --json alone\n' "--json --db $name" "$t" \
        "$(echo "$n / $t" | bc -l)" "$(echo "($t - $plain) * 100 / $plain" | bc -l)"
done
