/* The store in PostgreSQL, for several sensors sharing one database: the record as jsonb,
 * a batch sent with COPY (its columns read out of the records by store_fields.c), the
 * schema created or migrated under an advisory lock so sensors starting together agree.
 *
 * A batch is COPYed straight into sessions and findings, in one transaction. When one of
 * its uids is stored already (a replay after an outage, another sensor with the same
 * session), the unique index refuses the COPY; the batch then goes through per-connection
 * staging tables and one INSERT ... SELECT ... ON CONFLICT (uid) DO NOTHING, which stores
 * the new sessions (and only their findings) and skips the rest. */
#include "store/store_db.h"

#include <libpq-fe.h>
#include <string.h>

#include "store/db/store_fields.h"
#include "store/db/store_pgbin.h"

/* pg_advisory_xact_lock key for schema changes ("mailwire" in ASCII). */
#define MW_PG_SCHEMA_LOCK 0x6d61696c77697265LL
/* Seconds to wait for a connection before calling the database down. */
#define MW_PG_CONNECT_TIMEOUT_S "10"
/* Rows up to this many bytes stay in the table uncompressed. A record is 1-3 KB, just past
 * the default (2 KB), where every row went through pglz: a quarter of the server's time. */
#define MW_PG_TOAST_TARGET "8160"

typedef struct {
    mw_store_db base;
    PGconn *conn;
    bool staging;            /* the staging tables exist on this connection */
    mw_store_fields fields;
    GString *sessions, *findings, *tmp, *tmp2; /* COPY data, reused */
    bool binary;             /* the batch in sessions/findings is in the binary format */
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
    mw_store_fields_init(&p->fields);
    p->sessions = g_string_sized_new(1 << 20);
    p->findings = g_string_sized_new(1 << 16);
    p->tmp = g_string_sized_new(4096);
    p->tmp2 = g_string_sized_new(1024);
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

/* jsonb cannot hold U+0000: a NUL the wire carried (\u0000 in the record) is stored as
 * U+FFFD, the replacement character. A backslash before "u0000" that is itself escaped
 * ("\\u0000", text) is left alone. */
static void append_pg_json(GString *g, const char *s)
{
    const char *p = s, *hit;
    while ((hit = strstr(p, "\\u0000")) != NULL) {
        size_t slashes = 0;
        for (const char *q = hit; q > s && q[-1] == '\\'; q--)
            slashes++;
        g_string_append_len(g, p, hit - p);
        g_string_append(g, slashes % 2 == 0 ? "\\ufffd" : "\\u0000");
        p = hit + 6;
    }
    g_string_append(g, p);
}

/* COPY's text format: \\, \t, \n, \r escaped; a NUL (from \u0000, text cannot hold it)
 * stored as U+FFFD, as in the record. */
static void copy_text(GString *g, const char *s, size_t n)
{
    const char *end = s + n, *run = s;
    for (; s < end; s++) {
        const char *esc;
        switch (*s) {
        case '\\': esc = "\\\\"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\0': esc = "\xef\xbf\xbd"; break;
        default: continue;
        }
        g_string_append_len(g, run, s - run);
        g_string_append(g, esc);
        run = s + 1;
    }
    g_string_append_len(g, run, end - run);
}

static void copy_val(GString *g, const mw_sf_val *v, char sep)
{
    if (v->s)
        copy_text(g, v->s, v->n);
    else
        g_string_append(g, "\\N");
    g_string_append_c(g, sep);
}

static void copy_json(pg_db *p, GString *g, const char *json, char sep)
{
    if (!json) {
        g_string_append(g, "\\N");
    } else {
        g_string_truncate(p->tmp, 0);
        append_pg_json(p->tmp, json);
        copy_text(g, p->tmp->str, p->tmp->len);
    }
    g_string_append_c(g, sep);
}

/* One row and its findings in the binary format (store_pgbin.h); false: not encodable. */
static bool binary_row(pg_db *p, const mw_store_row *r, int staged)
{
    mw_store_fields *f = &p->fields;
    g_string_truncate(p->tmp, 0);
    append_pg_json(p->tmp, r->record);
    if (r->extra) {
        g_string_truncate(p->tmp2, 0);
        append_pg_json(p->tmp2, r->extra);
    }
    size_t at = p->findings->len;
    if (!mw_pgbin_session(p->sessions, f, p->tmp->str, r->extra ? p->tmp2->str : NULL, staged))
        return false;
    for (guint k = 0; k < f->findings->len; k++) {
        if (!mw_pgbin_finding(p->findings, f, &g_array_index(f->findings, mw_sf_finding, k),
                              staged)) {
            g_string_truncate(p->findings, at);
            return false;
        }
    }
    return true;
}

static void text_row(pg_db *p, const mw_store_row *r, int staged)
{
    mw_store_fields *f = &p->fields;
    GString *g = p->sessions;
    if (staged >= 0)
        g_string_append_printf(g, "%d\t", staged);
    const mw_sf_val *cols[13] = { &f->uid, &f->ts_start, &f->ts_end, &f->sensor, &f->input,
                                  &f->client_ip, &f->client_port, &f->server_ip,
                                  &f->server_port, &f->protocol, &f->outcome, &f->user,
                                  &f->tls_version };
    for (int c = 0; c < 13; c++)
        copy_val(g, cols[c], '\t');
    copy_json(p, g, r->record, '\t');
    copy_json(p, g, r->extra, '\n');
    for (guint k = 0; k < f->findings->len; k++) {
        const mw_sf_finding *fd = &g_array_index(f->findings, mw_sf_finding, k);
        g = p->findings;
        if (staged >= 0)
            g_string_append_printf(g, "%d\t", staged);
        copy_val(g, &f->uid, '\t');
        copy_val(g, &fd->flag, '\t');
        copy_val(g, &fd->frame, '\t');
        copy_val(g, &fd->ts, '\t');
        if (fd->source.s)
            copy_val(g, &fd->source, '\t');
        else
            g_string_append(g, "wire\t");
        copy_val(g, &fd->detail, '\n');
    }
}

/* The batch as COPY data for sessions and findings, in the binary format unless a value
 * cannot be encoded in it (then all as text); staged: each row begins with its place in
 * the batch. False (with *err) for a record that is not JSON. */
static bool copy_data(pg_db *p, const mw_store_row *rows, size_t n, bool staged, char **err)
{
    for (int binary = 1; binary >= 0; binary--) {
        g_string_truncate(p->sessions, 0);
        g_string_truncate(p->findings, 0);
        p->binary = binary;
        if (binary) {
            mw_pgbin_begin(p->sessions);
            mw_pgbin_begin(p->findings);
        }
        size_t i = 0;
        for (; i < n; i++) {
            const char *why = NULL;
            const mw_store_row *r = &rows[i];
            if (r->cols ? !mw_store_fields_unpack(&p->fields, r->cols, r->cols_len)
                        : !mw_store_fields_parse(&p->fields, r->record, &why)) {
                *err = g_strdup_printf("insert: malformed JSON (%s)", why ? why : "bad columns");
                return false;
            }
            int at = staged ? (int)i : -1;
            if (!binary)
                text_row(p, &rows[i], at);
            else if (!binary_row(p, &rows[i], at))
                break;
        }
        if (i == n) {
            if (binary) {
                mw_pgbin_end(p->sessions);
                mw_pgbin_end(p->findings);
            }
            return true;
        }
    }
    return true; /* not reached: the text pass takes every row */
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

/* One COPY ... FROM STDIN with data. */
static mw_db_status copy(pg_db *p, const char *sql, const GString *data, bool *unique,
                         char **err)
{
    char *full = g_strconcat(sql, p->binary ? " (FORMAT binary)" : "", NULL);
    PGresult *r = PQexec(p->conn, full);
    g_free(full);
    bool in = PQresultStatus(r) == PGRES_COPY_IN;
    if (!in) {
        mw_db_status st = failure(p, r, "copy", unique, err);
        PQclear(r);
        return st;
    }
    PQclear(r);
    bool sent = (data->len == 0 || PQputCopyData(p->conn, data->str, (int)data->len) == 1) &&
                PQputCopyEnd(p->conn, NULL) == 1;
    mw_db_status st = MW_DB_OK;
    while ((r = PQgetResult(p->conn)) != NULL) {
        if (st == MW_DB_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
            st = failure(p, r, "copy", unique, err);
        PQclear(r);
    }
    if (st == MW_DB_OK && !sent)
        st = failure(p, NULL, "copy", unique, err);
    return st;
}

static mw_db_status rollback(pg_db *p, mw_db_status st)
{
    if (PQstatus(p->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(p->conn, "ROLLBACK");
        PQclear(r);
    }
    return st;
}

/* Straight into the tables; *unique when a uid of the batch is stored already. */
static mw_db_status write_direct(pg_db *p, bool *unique, char **err)
{
    mw_db_status st = command(p, "BEGIN", NULL, err);
    if (st == MW_DB_OK)
        st = copy(p, COPY_SESSIONS, p->sessions, unique, err);
    if (st == MW_DB_OK)
        st = copy(p, COPY_FINDINGS, p->findings, NULL, err);
    if (st == MW_DB_OK)
        st = command(p, "COMMIT", NULL, err);
    return st == MW_DB_OK ? st : rollback(p, st);
}

static mw_db_status write_merged(pg_db *p, char **err)
{
    mw_db_status st = MW_DB_OK;
    if (!p->staging && (st = command(p, CREATE_STAGING, NULL, err)) != MW_DB_OK)
        return st;
    p->staging = true;
    st = command(p, "BEGIN", NULL, err);
    if (st == MW_DB_OK)
        st = copy(p, COPY_STAGE_SESSIONS, p->sessions, NULL, err);
    if (st == MW_DB_OK)
        st = copy(p, COPY_STAGE_FINDINGS, p->findings, NULL, err);
    if (st == MW_DB_OK)
        st = command(p, MERGE_STAGING, NULL, err);
    if (st == MW_DB_OK)
        st = command(p, "COMMIT", NULL, err); /* the staging tables empty themselves */
    return st == MW_DB_OK ? st : rollback(p, st);
}

mw_db_status mw_pg_write(mw_store_db *db, const mw_store_row *rows, size_t n, char **err)
{
    pg_db *p = (pg_db *)db;
    if (!copy_data(p, rows, n, false, err))
        return MW_DB_REFUSED;
    bool unique = false;
    mw_db_status st = write_direct(p, &unique, err);
    if (st != MW_DB_REFUSED || !unique)
        return st;
    g_free(*err); /* a uid stored already: not an error, the merge skips it */
    *err = NULL;
    copy_data(p, rows, n, true, err);
    return write_merged(p, err);
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
    mw_store_fields_clear(&p->fields);
    g_string_free(p->sessions, TRUE);
    g_string_free(p->findings, TRUE);
    g_string_free(p->tmp, TRUE);
    g_string_free(p->tmp2, TRUE);
    g_free(p);
}
