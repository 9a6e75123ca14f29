/* The store in PostgreSQL, for several sensors sharing one database: the record as jsonb,
 * a batch sent with COPY (its columns read out of the records by store_fields.c), the
 * schema created or migrated under an advisory lock so sensors starting together agree.
 *
 * A batch is COPYed straight into sessions and findings, in one transaction, streamed: the
 * server stores the first rows while the next ones are encoded. When one of
 * its uids is stored already (a replay after an outage, another sensor with the same
 * session), the unique index refuses the COPY; the batch then goes through per-connection
 * staging tables and one INSERT ... SELECT ... ON CONFLICT (uid) DO NOTHING, which stores
 * the new sessions (and only their findings) and skips the rest. */
#include "store/store_db.h"

#include <libpq-fe.h>
#include <string.h>

#include "store/db/store_pgcopy.h"

/* pg_advisory_xact_lock key for schema changes ("mailwire" in ASCII). */
#define MW_PG_SCHEMA_LOCK 0x6d61696c77697265LL
/* Seconds to wait for a connection before calling the database down. */
#define MW_PG_CONNECT_TIMEOUT_S "10"
/* Rows up to this many bytes stay in the table uncompressed. A record is 1-3 KB, just past
 * the default (2 KB), where every row went through pglz: a quarter of the server's time. */
#define MW_PG_TOAST_TARGET "8160"
/* Bytes of a batch's COPY data handed to the server at a time: it stores the first rows
 * while the next ones are encoded (its own COPY reads 64 KiB at a time). */
#define MW_PG_COPY_CHUNK (64 * 1024)

typedef struct {
    mw_store_db base;
    PGconn *conn;
    bool staging;            /* the staging tables exist on this connection */
    mw_pg_copy copy;         /* the batch's COPY data */
} pg_db;

static const char *const MIGRATIONS[MW_STORE_SCHEMA_VERSION] = {
    "CREATE TABLE sessions ("
    " uid text PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY,"
    " ts_start timestamptz NOT NULL, ts_end timestamptz NOT NULL,"
    " sensor text NOT NULL, input text,"
    " client_ip inet NOT NULL, client_port integer NOT NULL,"
    " server_ip inet NOT NULL, server_port integer NOT NULL,"
    " protocol text NOT NULL, outcome text NOT NULL, \"user\" text, tls_version text,"
    " record jsonb NOT NULL, extra jsonb) WITH (toast_tuple_target = " MW_PG_TOAST_TARGET ");"
    "CREATE TABLE findings ("
    " uid text NOT NULL REFERENCES sessions(uid), flag text NOT NULL, frame bigint,"
    " ts timestamptz, source text NOT NULL, detail text);"
    "CREATE INDEX sessions_ts ON sessions(ts_start);"
    "CREATE INDEX sessions_seq ON sessions(seq);"
    "CREATE INDEX sessions_user ON sessions(\"user\");"
    "CREATE INDEX sessions_client ON sessions(client_ip);"
    "CREATE INDEX sessions_server ON sessions(server_ip);"
    "CREATE INDEX sessions_sensor_ts ON sessions(sensor, ts_start);"
    "CREATE INDEX findings_flag_ts ON findings(flag, ts);"
    "CREATE INDEX findings_uid ON findings(uid);",
    /* 2: a third less of the server's work (bench/store.sh): no foreign key from findings
     * to sessions (its check was a lookup per findings row; mailwire writes a session's
     * findings in the session's own transaction, only when the session is new), no
     * (sensor, ts_start) index and none on findings(uid) (nothing looks findings up by
     * uid), sessions("user") only where there is a user, and the identifiers compared
     * byte for byte (COLLATE "C": uid, sensor, user, flag; the B-tree inserts compared
     * them through the locale's collation). */
    "ALTER TABLE findings DROP CONSTRAINT IF EXISTS findings_uid_fkey;"
    "DROP INDEX IF EXISTS sessions_sensor_ts;"
    "DROP INDEX IF EXISTS findings_uid;"
    "DROP INDEX IF EXISTS sessions_user;"
    "ALTER TABLE sessions ALTER COLUMN uid TYPE text COLLATE \"C\","
    " ALTER COLUMN sensor TYPE text COLLATE \"C\", ALTER COLUMN \"user\" TYPE text COLLATE \"C\";"
    "ALTER TABLE findings ALTER COLUMN uid TYPE text COLLATE \"C\","
    " ALTER COLUMN flag TYPE text COLLATE \"C\";"
    "CREATE INDEX sessions_user ON sessions(\"user\") WHERE \"user\" IS NOT NULL;",
};

#define SESSION_COLUMNS "uid, ts_start, ts_end, sensor, input, client_ip, client_port," \
    " server_ip, server_port, protocol, outcome, \"user\", tls_version, record, extra"
#define FINDING_COLUMNS "uid, flag, frame, ts, source, detail"
static const char COPY_SESSIONS[] = "COPY sessions (" SESSION_COLUMNS ") FROM STDIN";
static const char COPY_FINDINGS[] = "COPY findings (" FINDING_COLUMNS ") FROM STDIN";
/* The staging tables: as the real ones, with n, the row's place in the batch. */
static const char CREATE_STAGING[] =
    "CREATE TEMP TABLE IF NOT EXISTS mw_stage_sessions (n integer NOT NULL,"
    " uid text COLLATE \"C\", ts_start timestamptz, ts_end timestamptz,"
    " sensor text COLLATE \"C\", input text, client_ip inet, client_port integer,"
    " server_ip inet, server_port integer, protocol text, outcome text,"
    " \"user\" text COLLATE \"C\", tls_version text, record jsonb, extra jsonb)"
    " ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS mw_stage_findings (n integer NOT NULL,"
    " uid text COLLATE \"C\", flag text COLLATE \"C\", frame bigint, ts timestamptz,"
    " source text, detail text)"
    " ON COMMIT DELETE ROWS";
static const char COPY_STAGE_SESSIONS[] =
    "COPY mw_stage_sessions (n, " SESSION_COLUMNS ") FROM STDIN";
static const char COPY_STAGE_FINDINGS[] =
    "COPY mw_stage_findings (n, " FINDING_COLUMNS ") FROM STDIN";
/* The new sessions in batch order, and the findings of the first of each uid. */
static const char MERGE_STAGING[] =
    "WITH ins AS (INSERT INTO sessions (" SESSION_COLUMNS ")"
    "  SELECT " SESSION_COLUMNS " FROM mw_stage_sessions ORDER BY n"
    "  ON CONFLICT (uid) DO NOTHING RETURNING uid),"
    " first AS (SELECT uid, min(n) AS n FROM mw_stage_sessions GROUP BY uid)"
    " INSERT INTO findings (" FINDING_COLUMNS ")"
    "  SELECT f.uid, f.flag, f.frame, f.ts, f.source, f.detail FROM mw_stage_findings f"
    "  JOIN first ON first.uid = f.uid AND first.n = f.n JOIN ins ON ins.uid = f.uid"
    "  ORDER BY f.n";

bool mw_store_is_pg(const char *url)
{
    return g_str_has_prefix(url, "postgresql://") || g_str_has_prefix(url, "postgres://") ||
           strchr(url, '=') != NULL;
}

static char *pg_error(PGconn *c, const char *what)
{
    char *m = g_strdup(PQerrorMessage(c));
    g_strchomp(m);
    char *e = g_strdup_printf("%s: %s", what, m);
    g_free(m);
    return e;
}

static bool exec(PGconn *c, const char *sql, char **err)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && err && !*err)
        *err = pg_error(c, "PostgreSQL");
    PQclear(r);
    return ok;
}

static int schema_version(PGconn *c)
{
    PGresult *r = PQexec(c, "SELECT max(version) FROM mailwire_schema");
    int v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static bool migrate(PGconn *c, bool create, char **err)
{
    char lock[96];
    g_snprintf(lock, sizeof lock, "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
               (long long)MW_PG_SCHEMA_LOCK);
    if (!exec(c, lock, err))
        return false;
    /* a missing table is an error that aborts the transaction: ask the catalogue first */
    PGresult *r = PQexec(c, "SELECT to_regclass('mailwire_schema') IS NOT NULL");
    bool have = PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    int v = have ? schema_version(c) : -1;
    bool ok = true;
    if (v < 0 && !create) {
        *err = g_strdup("no mailwire session store here (write one with mailwire --db)");
        ok = false;
    } else if (v > MW_STORE_SCHEMA_VERSION) {
        *err = g_strdup_printf("schema version %d is newer than this mailwire's (%d)", v,
                               MW_STORE_SCHEMA_VERSION);
        ok = false;
    } else if (v < 0) {
        ok = exec(c, "CREATE TABLE mailwire_schema(version integer NOT NULL)", err);
        v = 0;
    }
    for (; ok && v < MW_STORE_SCHEMA_VERSION; v++) {
        char bump[64];
        g_snprintf(bump, sizeof bump, "INSERT INTO mailwire_schema VALUES(%d)", v + 1);
        ok = exec(c, MIGRATIONS[v], err) && exec(c, bump, err);
    }
    return exec(c, ok ? "COMMIT" : "ROLLBACK", ok ? err : NULL) && ok;
}

mw_store_db *mw_pg_open(const char *conninfo, bool create, char **err)
{
    const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *vals[] = { conninfo, MW_PG_CONNECT_TIMEOUT_S, "mailwire", NULL };
    pg_db *p = g_new0(pg_db, 1);
    p->base.pg = true;
    mw_pg_copy_init(&p->copy);
    p->conn = PQconnectdbParams(keys, vals, 1); /* dbname expands a URL or conninfo */
    char *why = NULL;
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        why = p->conn ? pg_error(p->conn, "cannot connect") : g_strdup("out of memory");
    } else {
        exec(p->conn, "SET client_min_messages = warning", NULL);
        migrate(p->conn, create, &why);
    }
    if (why) {
        *err = g_strdup_printf("--db PostgreSQL: %s", why); /* never the conninfo: it may hold a password */
        g_free(why);
        mw_pg_close(&p->base);
        return NULL;
    }
    return &p->base;
}

/* A failed command: the database away (try later) or the rows refused for their content.
 * unique: set when the failure is a uid stored already. */
static mw_db_status failure(pg_db *p, PGresult *r, const char *what, bool *unique, char **err)
{
    if (!*err)
        *err = pg_error(p->conn, what);
    mw_db_status st = PQstatus(p->conn) == CONNECTION_OK ? MW_DB_REFUSED : MW_DB_DOWN;
    /* the server going down mid-statement can leave the connection looking fine */
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (st == MW_DB_REFUSED && state && (g_str_has_prefix(state, "08") ||
                                         g_str_has_prefix(state, "57") ||
                                         g_str_has_prefix(state, "53")))
        st = MW_DB_DOWN;
    if (!r && st == MW_DB_REFUSED) /* no result at all: the connection is gone */
        st = MW_DB_DOWN;
    if (unique)
        *unique = state && strcmp(state, "23505") == 0;
    return st;
}

static mw_db_status command(pg_db *p, const char *sql, bool *unique, char **err)
{
    PGresult *r = PQexec(p->conn, sql);
    ExecStatusType rs = PQresultStatus(r);
    mw_db_status st = rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK
                          ? MW_DB_OK : failure(p, r, "insert", unique, err);
    PQclear(r);
    return st;
}

/* COPY sql FROM STDIN, in the batch's format; NULL (the failure in *st) unless the server
 * waits for the data. */
static bool copy_start(pg_db *p, const char *sql, bool *unique, mw_db_status *st, char **err)
{
    char *full = g_strconcat(sql, p->copy.binary ? " (FORMAT binary)" : "", NULL);
    PGresult *r = PQexec(p->conn, full);
    g_free(full);
    bool in = PQresultStatus(r) == PGRES_COPY_IN;
    if (!in)
        *st = failure(p, r, "copy", unique, err);
    PQclear(r);
    return in;
}

static bool copy_put(pg_db *p, GString *g)
{
    bool ok = g->len == 0 || PQputCopyData(p->conn, g->str, (int)g->len) == 1;
    g_string_truncate(g, 0);
    return ok;
}

/* The end of the data (abort: the COPY given up, with that reason) and the server's
 * answer. */
static mw_db_status copy_finish(pg_db *p, bool sent, const char *abort, bool *unique,
                                char **err)
{
    sent = PQputCopyEnd(p->conn, abort) == 1 && sent;
    mw_db_status st = MW_DB_OK;
    PGresult *r;
    while ((r = PQgetResult(p->conn)) != NULL) {
        if (st == MW_DB_OK && !abort && PQresultStatus(r) != PGRES_COMMAND_OK)
            st = failure(p, r, "copy", unique, err);
        PQclear(r);
    }
    if (st == MW_DB_OK && !sent)
        st = failure(p, NULL, "copy", unique, err);
    return st;
}

/* One COPY ... FROM STDIN with data. */
static mw_db_status copy(pg_db *p, const char *sql, GString *data, bool *unique, char **err)
{
    mw_db_status st = MW_DB_OK;
    if (!copy_start(p, sql, unique, &st, err))
        return st;
    return copy_finish(p, copy_put(p, data), NULL, unique, err);
}

/* The batch's sessions, COPYed as they are encoded (MW_PG_COPY_CHUNK at a time; their
 * findings gathered for the next COPY). A row that is not JSON refuses the batch; one
 * the binary format cannot carry sets *unencodable (the batch goes again as text). */
static mw_db_status copy_sessions(pg_db *p, const char *sql, const mw_store_row *rows,
                                  size_t n, bool staged, bool *unique, bool *unencodable,
                                  char **err)
{
    mw_pg_copy *c = &p->copy;
    mw_db_status st = MW_DB_OK;
    mw_pg_copy_begin(c, c->binary);
    if (!copy_start(p, sql, unique, &st, err))
        return st;
    bool sent = true;
    const char *why = NULL;
    mw_pgc_status rs = MW_PGC_OK;
    for (size_t i = 0; i < n && rs == MW_PGC_OK; i++) {
        rs = mw_pg_copy_row(c, &rows[i], staged ? (int)i : -1, &why);
        if (rs == MW_PGC_OK && c->sessions->len >= MW_PG_COPY_CHUNK)
            sent = copy_put(p, c->sessions) && sent;
    }
    if (rs == MW_PGC_OK) {
        mw_pg_copy_end(c);
        return copy_finish(p, copy_put(p, c->sessions) && sent, NULL, unique, err);
    }
    copy_finish(p, false, "mailwire: the batch is sent again", NULL, err);
    g_free(*err); /* the server's word on a COPY we gave up */
    *err = NULL;
    if (rs == MW_PGC_UNENCODABLE) {
        *unencodable = true;
        return MW_DB_REFUSED;
    }
    *err = g_strdup_printf("insert: malformed JSON (%s)", why);
    return MW_DB_REFUSED;
}

static mw_db_status rollback(pg_db *p, mw_db_status st)
{
    if (PQstatus(p->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(p->conn, "ROLLBACK");
        PQclear(r);
    }
    return st;
}

/* The batch in one transaction, straight into the tables (*unique when a uid of it is
 * stored already) or, staged, through the staging tables and the merge. */
static mw_db_status write_once(pg_db *p, const mw_store_row *rows, size_t n, bool staged,
                               bool *unique, bool *unencodable, char **err)
{
    mw_db_status st = MW_DB_OK;
    if (staged && !p->staging && (st = command(p, CREATE_STAGING, NULL, err)) != MW_DB_OK)
        return st;
    p->staging = p->staging || staged;
    st = command(p, "BEGIN", NULL, err);
    if (st == MW_DB_OK)
        st = copy_sessions(p, staged ? COPY_STAGE_SESSIONS : COPY_SESSIONS, rows, n, staged,
                           unique, unencodable, err);
    if (st == MW_DB_OK)
        st = copy(p, staged ? COPY_STAGE_FINDINGS : COPY_FINDINGS, p->copy.findings, NULL, err);
    if (st == MW_DB_OK && staged)
        st = command(p, MERGE_STAGING, NULL, err);
    if (st == MW_DB_OK)
        st = command(p, "COMMIT", NULL, err); /* the staging tables empty themselves */
    return st == MW_DB_OK ? st : rollback(p, st);
}

/* In the binary format, or in the text format when a value does not encode in it. */
static mw_db_status write_batch(pg_db *p, const mw_store_row *rows, size_t n, bool staged,
                                bool *unique, char **err)
{
    bool unencodable = false;
    p->copy.binary = true;
    mw_db_status st = write_once(p, rows, n, staged, unique, &unencodable, err);
    if (!unencodable)
        return st;
    p->copy.binary = false;
    return write_once(p, rows, n, staged, unique, &unencodable, err);
}

mw_db_status mw_pg_write(mw_store_db *db, const mw_store_row *rows, size_t n, char **err)
{
    pg_db *p = (pg_db *)db;
    bool unique = false;
    mw_db_status st = write_batch(p, rows, n, false, &unique, err);
    if (st != MW_DB_REFUSED || !unique)
        return st;
    g_free(*err); /* a uid stored already: not an error, the merge skips it */
    *err = NULL;
    return write_batch(p, rows, n, true, NULL, err);
}

typedef void (*row_fn)(PGresult *r, void *cb, void *user);

/* SELECT what FROM sessions, filtered, in the order stored, a row at a time: a month of
 * sessions never sits in memory at once. */
static bool select_rows(pg_db *p, const char *what, const mw_store_filter *f, row_fn row,
                        void *cb, void *user, char **err)
{
    GString *sql = g_string_new("SELECT ");
    g_string_append_printf(sql, "%s FROM sessions", what);
    char *params[MW_FILTER_MAX_PARAMS];
    int np = mw_store_filter_sql(f, true, sql, params);
    g_string_append(sql, " ORDER BY seq");
    bool ok = PQsendQueryParams(p->conn, sql->str, np, NULL, (const char *const *)params, NULL,
                                NULL, 0) && PQsetSingleRowMode(p->conn);
    PGresult *r;
    while (ok && (r = PQgetResult(p->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE)
            row(r, cb, user);
        else if (st != PGRES_TUPLES_OK)
            ok = false;
        PQclear(r);
    }
    if (!ok) {
        *err = pg_error(p->conn, "select");
        while ((r = PQgetResult(p->conn)) != NULL)
            PQclear(r);
    }
    for (int i = 0; i < np; i++)
        g_free(params[i]);
    g_string_free(sql, TRUE);
    return ok;
}

static const char *value_or_null(PGresult *r, int c)
{
    return PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
}

static void record_row(PGresult *r, void *cb, void *user)
{
    ((mw_store_row_cb)cb)(PQgetvalue(r, 0, 0), value_or_null(r, 1), user);
}

static void span_row(PGresult *r, void *cb, void *user)
{
    ((mw_store_span_cb)cb)(value_or_null(r, 0), value_or_null(r, 1), value_or_null(r, 2), user);
}

bool mw_pg_select(mw_store_db *db, const mw_store_filter *f, mw_store_row_cb cb, void *user,
                  char **err)
{
    return select_rows((pg_db *)db, "record::text, extra::text", f, record_row, (void *)cb, user,
                       err);
}

/* The times as the record writes them (RFC 3339, UTC, microseconds). */
#define PG_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

bool mw_pg_spans(mw_store_db *db, const mw_store_filter *f, mw_store_span_cb cb, void *user,
                 char **err)
{
    return select_rows((pg_db *)db, "input, " PG_RFC3339("ts_start") ", " PG_RFC3339("ts_end"),
                       f, span_row, (void *)cb, user, err);
}

void mw_pg_close(mw_store_db *db)
{
    pg_db *p = (pg_db *)db;
    if (!p)
        return;
    PQfinish(p->conn);
    mw_pg_copy_clear(&p->copy);
    g_free(p);
}
