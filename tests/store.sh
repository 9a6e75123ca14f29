#!/usr/bin/env bash
# The session store (--db, report --db, query): SQLite in a temporary directory, and a
# PostgreSQL of our own (initdb + pg_ctl in a temporary directory, Unix socket only, as an
# unprivileged user; stopped at the end; never the system's server or port 5432).
# Usage: tests/store.sh [path/to/mailwire]   TAP lines on stdout.
set -u
cd "$(dirname "$0")/.."
MW=$(realpath "${1:-./mailwire}")
T=$(mktemp -d /tmp/mw-store.XXXXXX)
TMP=$T
chmod 755 "$T"
# shellcheck source=tests/tap.sh
. tests/tap.sh
CMP="python3 tests/store/compare.py"
PG=""
cleanup() {
    [ -n "$PG" ] && pg_as "$PGBIN/pg_ctl" -D "$T/pg/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
# every sample capture, as one run
ARGS=()
for f in pcaps/*.pcap; do ARGS+=(-r "$f"); done

# ---- SQLite: the stored records are the run's JSON Lines, session by session
"$MW" "${ARGS[@]}" --json --sensor t1 --db "$T/s.sqlite" --db-transcripts \
    --report "$T/run.html" >"$T/run.jsonl" 2>"$T/err"
check "sqlite: a run with --db exits 0" test -s "$T/run.jsonl"
sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print("\n".join("|".join("" if v is None else str(v) for v in r) for r in c.execute(sys.argv[2])))' "$@"; }
sql "$T/s.sqlite" "select record from sessions order by rowid" >"$T/stored.jsonl"
check "sqlite: stored records equal the run's JSON Lines, byte for byte" \
    $CMP records "$T/run.jsonl" "$T/stored.jsonl" --exact
check "sqlite: journal in WAL mode" test "$(sql "$T/s.sqlite" "pragma journal_mode")" = wal
check "sqlite: schema version 2" test "$(sql "$T/s.sqlite" "select max(version) from mailwire_schema")" = 2
check "sqlite: the indexes of schema 2 (time, user where there is one, client, server, flag)" test \
    "$(sql "$T/s.sqlite" "select group_concat(name || ':' || (sql like '%WHERE user IS NOT NULL%'), ',') from (select name, sql from sqlite_master where type = 'index' and sql is not null order by name)")" = \
    "findings_flag_ts:0,sessions_client:0,sessions_server:0,sessions_ts:0,sessions_user:1"
# a store written by schema 1 is migrated: its rows kept, the indexes of schema 2
python3 - "$T/v1.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""CREATE TABLE mailwire_schema(version INTEGER NOT NULL); INSERT INTO mailwire_schema VALUES(1);
CREATE TABLE sessions (uid TEXT PRIMARY KEY, ts_start TEXT NOT NULL, ts_end TEXT NOT NULL, sensor TEXT NOT NULL, input TEXT,
 client_ip TEXT NOT NULL, client_port INTEGER NOT NULL, server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,
 protocol TEXT NOT NULL, outcome TEXT NOT NULL, user TEXT, tls_version TEXT, record TEXT NOT NULL, extra TEXT);
CREATE TABLE findings (uid TEXT NOT NULL REFERENCES sessions(uid), flag TEXT NOT NULL, frame INTEGER, ts TEXT, source TEXT NOT NULL, detail TEXT);
CREATE INDEX sessions_ts ON sessions(ts_start); CREATE INDEX sessions_user ON sessions(user);
CREATE INDEX sessions_client ON sessions(client_ip); CREATE INDEX sessions_server ON sessions(server_ip);
CREATE INDEX sessions_sensor_ts ON sessions(sensor, ts_start); CREATE INDEX findings_flag_ts ON findings(flag, ts);
CREATE INDEX findings_uid ON findings(uid);
INSERT INTO sessions VALUES('mold','2024-01-01T00:00:00Z','2024-01-01T00:00:01Z','old',NULL,'10.0.0.1',1,'10.0.0.2',25,'smtp','ok',NULL,NULL,'{}',NULL);""")
c.commit()
PY
"$MW" -r pcaps/smtp-relay-denied.pcap --sensor t1 --db "$T/v1.sqlite" >/dev/null 2>&1
check "sqlite: a schema 1 store is migrated to 2, its sessions kept" test \
    "$(sql "$T/v1.sqlite" "select (select max(version) from mailwire_schema) || ',' || (select count(*) from sessions) || ',' || (select count(*) from sqlite_master where name in ('sessions_sensor_ts', 'findings_uid'))")" = "2,2,0"
want=$(python3 -c 'import json,sys; print(sum(len(json.loads(l)["evidence"]) for l in open(sys.argv[1])))' "$T/run.jsonl")
check "sqlite: one findings row per evidence entry ($want)" \
    test "$(sql "$T/s.sqlite" "select count(*) from findings")" = "$want"
cols="uid,ts_start,ts_end,sensor,input,client_ip,client_port,server_ip,server_port,protocol,outcome"
jcols=$(echo "$cols" | sed "s/\([a-z_]*\)/json_extract(record,'\$.\1')/g")
check "sqlite: every column is what json_extract reads from the record" test "$(sql "$T/s.sqlite" \
    "select count(*) from sessions where ($cols,user,tls_version) is not ($jcols,json_extract(record,'\$.auth.user'),json_extract(record,'\$.tls.version'))")" = 0
check "sqlite: the findings rows are the records' evidence, field by field" test "$(sql "$T/s.sqlite" \
    "select count(*) from (select s.uid, json_extract(e.value,'\$.flag'), json_extract(e.value,'\$.frame'), json_extract(e.value,'\$.ts'), coalesce(json_extract(e.value,'\$.source'),'wire'), json_extract(e.value,'\$.detail') from sessions s, json_each(s.record,'\$.evidence') e except select uid, flag, frame, ts, source, detail from findings)")" = 0
"$MW" "${ARGS[@]}" --sensor t1 --db "$T/s.sqlite" >"$T/again.txt" 2>&1
check "sqlite: a second run of the same input stores nothing twice" \
    test "$(sql "$T/s.sqlite" "select count(*) from sessions")" = "$(wc -l <"$T/run.jsonl")"
check "sqlite: --db alone prints no records (the totals only)" \
    bash -c "! grep -q '^\[s1\]\|^{' '$T/again.txt' && grep -q 'Totals' '$T/again.txt'"

# ---- report --db and query --db against the run's own
"$MW" report --db "$T/s.sqlite" --report "$T/db.html"
check "report --db: the run's own report (HTML; all but 'What was analysed')" \
    $CMP report "$T/run.html" "$T/db.html"
"$MW" "${ARGS[@]}" --sensor t1 --report "$T/run.md" >/dev/null 2>&1
"$MW" report --db "$T/s.sqlite" --report "$T/db.md"
check "report --db: the run's own report (Markdown)" $CMP report "$T/run.md" "$T/db.md"
"$MW" query --db "$T/s.sqlite" --json >"$T/q.jsonl"
check "query --json: every stored record, in order" $CMP records "$T/run.jsonl" "$T/q.jsonl" --exact
"$MW" query --db "$T/s.sqlite" --flag auth_failed --json >"$T/q.jsonl"
check "query --flag auth_failed" $CMP filter "$T/run.jsonl" "$T/q.jsonl" flag auth_failed
"$MW" query --db "$T/s.sqlite" --user alice@example.test --json >"$T/q.jsonl"
check "query --user" $CMP filter "$T/run.jsonl" "$T/q.jsonl" user alice@example.test
client=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["client_ip"])' "$T/run.jsonl")
"$MW" query --db "$T/s.sqlite" --client "$client" --json >"$T/q.jsonl"
check "query --client $client" $CMP filter "$T/run.jsonl" "$T/q.jsonl" client "$client"
read -r since until < <(python3 -c '
import json,sys; ts=sorted(json.loads(l)["ts_start"] for l in open(sys.argv[1])); print(ts[len(ts)//4], ts[3*len(ts)//4])' "$T/run.jsonl")
"$MW" query --db "$T/s.sqlite" --since "$since" --until "$until" --json >"$T/q.jsonl"
check "query --since/--until (RFC 3339)" $CMP filter "$T/run.jsonl" "$T/q.jsonl" window "$since,$until"
"$MW" report --db "$T/s.sqlite" --flag auth_failed --report "$T/fa.md"
"$MW" "${ARGS[@]}" --report "$T/fa-run.md" >/dev/null 2>&1 # (whole run, for the flag's count)
check "report --db --flag: only auth_failed sessions" \
    bash -c "grep -q auth_failed '$T/fa.md' && ! grep -q '| relay_denied' '$T/fa.md'"
# relative times count back from now: exactly the sessions that started in the last hour
# (the recorded captures may be older or, freshly recorded, younger)
"$MW" query --db "$T/s.sqlite" --since -1h --json >"$T/q.jsonl" 2>&1
check "query --since -1h: the sessions of the last hour, no other" python3 -c '
import json, sys, datetime
cut = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
want = [r["uid"] for r in map(json.loads, open(sys.argv[1])) if r["ts_start"] >= cut]
got = [r["uid"] for r in map(json.loads, open(sys.argv[2]))]
sys.exit(0 if want == got else 1)' "$T/run.jsonl" "$T/q.jsonl"
"$MW" query --db "$T/s.sqlite" --flag auth_failed | head -1 >"$T/q.txt"
check "query text: one line per session (time sensor uid protocol client -> server outcome)" \
    grep -Eq '^[0-9T:.-]+Z t1 m[0-9a-z]{26} [a-z0-9]+ .* -> .* (ok|failed|rejected|incomplete|encrypted) .*flags=.*auth_failed' "$T/q.txt"
check "query: a bad time is refused" bash -c "! '$MW' query --db '$T/s.sqlite' --since yesterday 2>/dev/null"
check "query: a store that is not there is refused" bash -c "! '$MW' query --db '$T/none.sqlite' 2>/dev/null && test ! -e '$T/none.sqlite'"

# ---- the systemd unit
if command -v systemd-analyze >/dev/null 2>&1; then
    sed "s|^ExecStart=mailwire|ExecStart=$MW|" contrib/mailwire.service >"$T/mailwire.service"
    check "contrib/mailwire.service: systemd-analyze verify" systemd-analyze verify --man=no "$T/mailwire.service"
    check "mailwire.service: capture capabilities only, ProtectSystem=strict, NoNewPrivileges, StateDirectory=mailwire" \
        bash -c "grep -qx 'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN' contrib/mailwire.service &&
                 grep -qx 'ProtectSystem=strict' contrib/mailwire.service &&
                 grep -qx 'NoNewPrivileges=yes' contrib/mailwire.service &&
                 grep -qx 'StateDirectory=mailwire' contrib/mailwire.service"
else
    skip "contrib/mailwire.service: systemd-analyze verify" "no systemd-analyze (Debian package systemd)"
fi
make -s install DESTDIR="$T/inst" PREFIX=/usr >/dev/null 2>&1
check "make install puts the unit in lib/systemd/system" test -f "$T/inst/usr/lib/systemd/system/mailwire.service"

# ---- PostgreSQL of our own
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PGUSER_OS=""
if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then PGUSER_OS=postgres
elif [ "$(id -u)" -ne 0 ]; then PGUSER_OS=$(id -un); fi
pg_as() { if [ "$(id -u)" -eq 0 ]; then (cd "$T" && runuser -u "$PGUSER_OS" -- "$@"); else "$@"; fi; }
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || [ -z "$PGUSER_OS" ]; then
    skip "PostgreSQL tests" "no PostgreSQL server (Debian package postgresql) or no user to run it as"
    echo "1..$n"; exit 0
fi
mkdir -p "$T/pg"
chown "$PGUSER_OS" "$T/pg" 2>/dev/null
pg_as "$PGBIN/initdb" -D "$T/pg/data" -A trust -U mw >"$T/pg/initdb.log" 2>&1
pg_start() { pg_as "$PGBIN/pg_ctl" -D "$T/pg/data" -l "$T/pg/log" -w -o "-k $T/pg -c listen_addresses='' -c fsync=off" start >/dev/null 2>&1; }
pg_stop() { pg_as "$PGBIN/pg_ctl" -D "$T/pg/data" -m fast -w stop >/dev/null 2>&1; }
if ! pg_start; then
    skip "PostgreSQL tests" "initdb/pg_ctl failed: $(tail -2 "$T/pg/log" "$T/pg/initdb.log" 2>/dev/null | tr '\n' ' ')"
    echo "1..$n"; exit 0
fi
PG=1
pg_as "$PGBIN/createdb" -h "$T/pg" -U mw mailwire
URL="postgresql://mw@/mailwire?host=$T/pg"
psqlq() { "$PGBIN/psql" -h "$T/pg" -U mw -d mailwire -Atc "$1"; }

"$MW" "${ARGS[@]}" --json --sensor t1 --db "$URL" >"$T/pg-run.jsonl" 2>"$T/err"
"$MW" query --db "$URL" --json >"$T/pg-q.jsonl"
check "postgresql: stored records equal the run's JSON Lines (as JSON: jsonb orders keys)" \
    $CMP records "$T/pg-run.jsonl" "$T/pg-q.jsonl"
check "postgresql: record and extra are jsonb, client_ip inet, ts_start timestamptz" \
    test "$(psqlq "select pg_typeof(record)::text||','||pg_typeof(extra)::text||','||pg_typeof(client_ip)::text||','||pg_typeof(ts_start)::text from sessions limit 1")" = "jsonb,jsonb,inet,timestamp with time zone"
check "postgresql: schema 2: no foreign key, uid/user/flag compared byte for byte, the user index partial" \
    test "$(psqlq "select (select max(version) from mailwire_schema) || ',' ||
        (select count(*) from pg_constraint where contype = 'f' and conrelid = 'findings'::regclass) || ',' ||
        (select string_agg(a.attname || '=' || c.collname, ' ' order by a.attrelid, a.attname) from pg_attribute a join pg_collation c on c.oid = a.attcollation
          where a.attrelid in ('sessions'::regclass, 'findings'::regclass) and a.attname in ('uid', 'user', 'flag', 'sensor')) || ',' ||
        (select string_agg(indexname, ' ' order by indexname) from pg_indexes where tablename in ('sessions', 'findings')) || ',' ||
        (select count(*) from pg_indexes where indexname = 'sessions_user' and indexdef like '%WHERE%IS NOT NULL%')")" = \
        "2,0,sensor=C uid=C user=C flag=C uid=C,findings_flag_ts sessions_client sessions_pkey sessions_seq sessions_server sessions_ts sessions_user,1"
check "postgresql: every column is what the record holds" test "$(psqlq "select count(*) from sessions where
    (uid, ts_start, ts_end, sensor, input, client_ip, client_port, server_ip, server_port, protocol, outcome, \"user\", tls_version) is distinct from
    (record->>'uid', (record->>'ts_start')::timestamptz, (record->>'ts_end')::timestamptz, record->>'sensor', record->>'input', (record->>'client_ip')::inet,
     (record->>'client_port')::int, (record->>'server_ip')::inet, (record->>'server_port')::int, record->>'protocol', record->>'outcome',
     record->'auth'->>'user', record->'tls'->>'version')")" = 0
pg_findings() { psqlq "select (select count(*) from findings) = (select count(*) from sessions, jsonb_array_elements(record->'evidence')) and not exists (
    select s.uid, e->>'flag', (e->>'frame')::bigint, (e->>'ts')::timestamptz, coalesce(e->>'source', 'wire'), e->>'detail' from sessions s, jsonb_array_elements(s.record->'evidence') e
    except select uid, flag, frame, ts, source, detail from findings)"; }
check "postgresql: the findings rows are the records' evidence" test "$(pg_findings)" = t
"$MW" "${ARGS[@]}" --sensor t1 --db "$URL" >/dev/null 2>&1
check "postgresql: a second run stores nothing twice" \
    test "$(psqlq "select count(*) from sessions")" = "$(wc -l <"$T/pg-run.jsonl")"
check "postgresql: ... nor their findings" test "$(pg_findings)" = t
"$MW" query --db "$URL" --flag auth_failed --json >"$T/q.jsonl"
check "postgresql: query --flag auth_failed" $CMP filter "$T/pg-run.jsonl" "$T/q.jsonl" flag auth_failed
"$MW" query --db "$URL" --client "$client" --json >"$T/q.jsonl"
check "postgresql: query --client" $CMP filter "$T/pg-run.jsonl" "$T/q.jsonl" client "$client"
"$MW" query --db "$URL" --since "$since" --until "$until" --json >"$T/q.jsonl"
check "postgresql: query --since/--until" $CMP filter "$T/pg-run.jsonl" "$T/q.jsonl" window "$since,$until"
# every other session gone: a run's batches hold stored and new sessions at once
psqlq "delete from findings where uid in (select uid from sessions where seq % 2 = 0); delete from sessions where seq % 2 = 0" >/dev/null
"$MW" "${ARGS[@]}" --sensor t1 --db "$URL" --db-batch 7 >/dev/null 2>&1
check "postgresql: batches of stored and new sessions: each stored once, with its findings" \
    test "$(psqlq "select count(distinct uid) = count(*) and count(*) = $(wc -l <"$T/pg-run.jsonl") from sessions")$(pg_findings)" = tt
"$MW" "${ARGS[@]}" --sensor t1 --report "$T/run2.md" >/dev/null 2>&1
psqlq "truncate findings, sessions" >/dev/null
"$MW" "${ARGS[@]}" --sensor t1 --db "$URL" --db-transcripts >/dev/null 2>&1
"$MW" report --db "$URL" --report "$T/pg.md"
check "postgresql: report --db equals the run's own" $CMP report "$T/run2.md" "$T/pg.md"

# a store written by schema 1 is migrated to 2 (foreign key and two indexes dropped, C collation)
pg_as "$PGBIN/createdb" -h "$T/pg" -U mw mailwire_v1
"$PGBIN/psql" -h "$T/pg" -U mw -d mailwire_v1 -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE mailwire_schema(version integer NOT NULL); INSERT INTO mailwire_schema VALUES(1);
CREATE TABLE sessions (uid text PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY, ts_start timestamptz NOT NULL,
 ts_end timestamptz NOT NULL, sensor text NOT NULL, input text, client_ip inet NOT NULL, client_port integer NOT NULL,
 server_ip inet NOT NULL, server_port integer NOT NULL, protocol text NOT NULL, outcome text NOT NULL, "user" text,
 tls_version text, record jsonb NOT NULL, extra jsonb) WITH (toast_tuple_target = 8160);
CREATE TABLE findings (uid text NOT NULL REFERENCES sessions(uid), flag text NOT NULL, frame bigint, ts timestamptz,
 source text NOT NULL, detail text);
CREATE INDEX sessions_ts ON sessions(ts_start); CREATE INDEX sessions_seq ON sessions(seq);
CREATE INDEX sessions_user ON sessions("user"); CREATE INDEX sessions_client ON sessions(client_ip);
CREATE INDEX sessions_server ON sessions(server_ip); CREATE INDEX sessions_sensor_ts ON sessions(sensor, ts_start);
CREATE INDEX findings_flag_ts ON findings(flag, ts); CREATE INDEX findings_uid ON findings(uid);
INSERT INTO sessions (uid, ts_start, ts_end, sensor, client_ip, client_port, server_ip, server_port, protocol, outcome, record, extra)
 VALUES ('mold', '2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z', 'old', '10.0.0.1', 1, '10.0.0.2', 25, 'smtp', 'ok', '{"uid": "mold", "a": [1, 2]}', '{"first_frame": 7}');
INSERT INTO findings VALUES ('mold', 'auth_failed', 1, '2024-01-01T00:00:00Z', 'wire', NULL);
SQL
"$MW" -r pcaps/smtp-relay-denied.pcap --sensor t1 --db "postgresql://mw@/mailwire_v1?host=$T/pg" >/dev/null 2>&1
check "postgresql: a schema 1 store is migrated to 2, its rows kept (record and extra still jsonb)" test "$("$PGBIN/psql" -h "$T/pg" -U mw -d mailwire_v1 -Atc \
    "select (select max(version) from mailwire_schema) || ',' || (select count(*) from sessions) || ',' || (select count(*) from findings where uid = 'mold') || ',' ||
     (select count(*) from pg_constraint where contype = 'f') || ',' || (select count(*) from pg_indexes where indexname in ('sessions_sensor_ts', 'findings_uid')) || ',' ||
     (select pg_typeof(record)::text || ':' || (record->'a'->>1) || ':' || pg_typeof(extra)::text || ':' || (extra->>'first_frame') from sessions where uid = 'mold')")" = "2,2,1,0,0,jsonb:2:jsonb:7"

# the spool replayed in one batch holding a value the binary COPY cannot carry (a time
# without its microseconds: the batch given up mid-stream and sent again as text) and a
# record that is not JSON (the batch refused, then row by row: that one alone refused and
# counted); the others stored
mkdir -p "$T/spool3"
python3 - "$T/pg-run.jsonl" "$T/spool3/seg-0000000000000001.spool" <<'PY'
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])][:2]
a["uid"], b["uid"] = "mspoolaaaaaaaaaaaaaaaaaaaaaa", "mspoolbbbbbbbbbbbbbbbbbbbbbb"
b["ts_end"] = "2024-05-01T09:00:01Z"
with open(sys.argv[2], "w") as f:
    for line in (json.dumps(a, separators=(",", ":")), json.dumps(b, separators=(",", ":")), "{\"uid\": not json"):
        f.write(line + "\t{\"first_frame\":1}\n")
PY
"$MW" -r pcaps/smtp-relay-denied.pcap --sensor t1 --db "$URL" --db-spool "$T/spool3" >/dev/null 2>"$T/s3.err"
rc=$?
check "spool replay: a row the binary COPY cannot carry stored (as text), one not JSON refused alone and counted" \
    test "$rc,$(psqlq "select string_agg(uid || '=' || (ts_end = '2024-05-01T09:00:01Z'), ' ' order by uid) from sessions where uid like 'mspool%'"),$(grep -c 'refused by the database (insert: malformed JSON' "$T/s3.err"),$(grep -c ' 1 refused by the database' "$T/s3.err")" = \
    "1,mspoolaaaaaaaaaaaaaaaaaaaaaa=false mspoolbbbbbbbbbbbbbbbbbbbbbb=true,1,1"

# ---- a bigger input: many sessions (the benchmark's generator)
python3 bench/make_captures.py --out "$T/big" --sessions 3000 sessions >/dev/null 2>&1
BIG=$T/big/sessions.pcap
if [ ! -s "$BIG" ]; then
    not_ok "bench/make_captures.py builds a capture for the outage tests"
    echo "1..$n"; exit 0
fi
# two sensors at once into one PostgreSQL
psqlq "truncate findings, sessions" >/dev/null
"$MW" -r "$BIG" --json --sensor gw-a --db "$URL" --db-batch 200 >"$T/a.jsonl" 2>"$T/a.err" &
pa=$!
"$MW" -r "$BIG" --json --sensor gw-b --db "$URL" --db-batch 200 >"$T/b.jsonl" 2>"$T/b.err" &
pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
nb=$(wc -l <"$T/a.jsonl")
check "two sensors at once into one PostgreSQL: both exit 0" test "$ra$rb" = 00
check "two sensors: each sensor's $nb sessions stored once" \
    test "$(psqlq "select string_agg(sensor||'='||c, ',' order by sensor) from (select sensor, count(distinct uid) c from sessions group by 1) x")" = "gw-a=$nb,gw-b=$nb"
"$MW" query --db "$URL" --sensor gw-b --json >"$T/q.jsonl"
check "query --sensor gw-b: that sensor's records" $CMP records "$T/b.jsonl" "$T/q.jsonl"

# the database stopped in the middle of a run, then started again
psqlq "truncate findings, sessions" >/dev/null
python3 tests/store/slowcat.py "$BIG" 6 |
    "$MW" -r - --json --sensor gw-a --db "$URL" --db-batch 100 --db-batch-interval 100 \
        --db-retry 0.3 --db-spool "$T/spool" >"$T/o.jsonl" 2>"$T/o.err" &
pm=$!
sleep 1.5
pg_stop
sleep 2
pg_start
wait $pm
rm_=$?
total=$(wc -l <"$T/o.jsonl")
check "outage: the run exits 0" test "$rm_" = 0
check "outage: the run saw the database go away and come back" \
    bash -c "grep -q 'database unavailable' '$T/o.err' && grep -q 'database back' '$T/o.err'"
check "outage: every one of the $total sessions stored exactly once" \
    test "$(psqlq "select count(*)||','||count(distinct uid) from sessions")" = "$total,$total"
psqlq "select record::text from sessions order by seq" >"$T/q.jsonl"
check "outage: the stored records are the run's" \
    python3 -c 'import json,sys; a=sorted(json.dumps(json.loads(l),sort_keys=True) for l in open(sys.argv[1])); b=sorted(json.dumps(json.loads(l),sort_keys=True) for l in open(sys.argv[2])); sys.exit(a!=b)' "$T/o.jsonl" "$T/q.jsonl"
check "outage: the spool is empty afterwards" bash -c "! ls '$T/spool'/seg-* >/dev/null 2>&1"

# the spool's cap: the database away for a whole run
pg_stop
psq_total=$(wc -l <"$T/o.jsonl")
"$MW" -r "$BIG" --json --sensor gw-c --db "$URL" --db-spool "$T/spool2" --db-spool-max 1 \
    >"$T/c.jsonl" 2>"$T/c.err"
rc=$?
dropped=$(sed -n 's/.*NOT stored: \([0-9]*\) dropped.*/\1/p' "$T/c.err")
check "spool cap: the run says how many records were dropped, and exits 1" \
    bash -c "[ '$rc' = 1 ] && [ -n '$dropped' ] && [ '$dropped' -gt 0 ] && grep -q 'spool .* is full' '$T/c.err'"
check "spool cap: at most 1 MiB kept on disk" \
    test "$(du -sb "$T/spool2" | cut -f1)" -le $((1024 * 1024 + 4096))
pg_start
"$MW" -r pcaps/smtp-relay-denied.pcap --sensor gw-c --db "$URL" --db-spool "$T/spool2" >/dev/null 2>"$T/c2.err"
c_total=$(wc -l <"$T/c.jsonl")
stored=$(psqlq "select count(*) from sessions where sensor = 'gw-c' and input <> 'pcaps/smtp-relay-denied.pcap'")
check "spool cap: the next run stores the spool; stored + dropped = all ($stored + $dropped = $c_total)" \
    test "$((stored + dropped))" = "$c_total"
check "spool cap: the spool is empty after the replay" bash -c "! ls '$T/spool2'/seg-* >/dev/null 2>&1"
echo "1..$n"
