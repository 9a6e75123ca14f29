/* The store in PostgreSQL, for several sensors sharing one database: the record as jsonb,
 * a batch sent as one JSON array through one prepared statement (one round trip per
 * batch), the schema created or migrated under an advisory lock so sensors starting
 * together agree. */
#include "store/store_db.h"

#include <libpq-fe.h>
#include <string.h>

/* pg_advisory_xact_lock key for schema changes ("mailwire" in ASCII). */
#define MW_PG_SCHEMA_LOCK 0x6d61696c77697265LL
/* Seconds to wait for a connection before calling the database down. */
#define MW_PG_CONNECT_TIMEOUT_S "10"

typedef struct {
    mw_store_db base;
    PGconn *conn;
} pg_db;

static const char *const MIGRATIONS[MW_STORE_SCHEMA_VERSION] = {
    "CREATE TABLE sessions ("
    " uid text PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY,"
    " ts_start timestamptz NOT NULL, ts_end timestamptz NOT NULL,"
    " sensor text NOT NULL, input text,"
    " client_ip inet NOT NULL, client_port integer NOT NULL,"
    " server_ip inet NOT NULL, server_port integer NOT NULL,"
    " protocol text NOT NULL, outcome text NOT NULL, \"user\" text, tls_version text,"
    " record jsonb NOT NULL, extra jsonb);"
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
};

/* $1: a JSON array of {"r": record, "x": extras}. New sessions and their findings in one
 * statement; a uid already stored is skipped with its findings. */
static const char INSERT_BATCH[] =
    "WITH b AS (SELECT e->'r' AS j, e->'x' AS x, n FROM"
    "  jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(e, n)),"
    " ins AS (INSERT INTO sessions (uid, ts_start, ts_end, sensor, input, client_ip,"
    "  client_port, server_ip, server_port, protocol, outcome, \"user\", tls_version, record,"
    "  extra)"
    "  SELECT j->>'uid', (j->>'ts_start')::timestamptz, (j->>'ts_end')::timestamptz,"
    "  j->>'sensor', j->>'input', (j->>'client_ip')::inet, (j->>'client_port')::integer,"
    "  (j->>'server_ip')::inet, (j->>'server_port')::integer, j->>'protocol',"
    "  j->>'outcome', j->'auth'->>'user', j->'tls'->>'version', j, x FROM b ORDER BY n"
    "  ON CONFLICT (uid) DO NOTHING RETURNING uid, record)"
    " INSERT INTO findings (uid, flag, frame, ts, source, detail)"
    "  SELECT ins.uid, e->>'flag', (e->>'frame')::bigint, (e->>'ts')::timestamptz,"
    "  coalesce(e->>'source', 'wire'), e->>'detail'"
    "  FROM ins, jsonb_array_elements(ins.record->'evidence') AS e";

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
    p->conn = PQconnectdbParams(keys, vals, 1); /* dbname expands a URL or conninfo */
    char *why = NULL;
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        why = p->conn ? pg_error(p->conn, "cannot connect") : g_strdup("out of memory");
    } else {
        exec(p->conn, "SET client_min_messages = warning", NULL);
        if (migrate(p->conn, create, &why)) {
            PGresult *r = PQprepare(p->conn, "mw_insert", INSERT_BATCH, 1, NULL);
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                why = pg_error(p->conn, "prepare");
            PQclear(r);
        }
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

mw_db_status mw_pg_write(mw_store_db *db, const mw_store_row *rows, size_t n, char **err)
{
    pg_db *p = (pg_db *)db;
    GString *batch = g_string_sized_new(n * 2048 + 2);
    g_string_append_c(batch, '[');
    for (size_t i = 0; i < n; i++) {
        g_string_append(batch, i ? ",{\"r\":" : "{\"r\":");
        append_pg_json(batch, rows[i].record);
        g_string_append(batch, ",\"x\":");
        append_pg_json(batch, rows[i].extra ? rows[i].extra : "null");
        g_string_append_c(batch, '}');
    }
    g_string_append_c(batch, ']');
    const char *vals[1] = { batch->str };
    /* one statement is its own transaction */
    PGresult *r = PQexecPrepared(p->conn, "mw_insert", 1, vals, NULL, NULL, 0);
    mw_db_status st = MW_DB_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        *err = pg_error(p->conn, "insert");
        st = PQstatus(p->conn) == CONNECTION_OK ? MW_DB_REFUSED : MW_DB_DOWN;
        /* the server going down mid-statement can leave the connection looking fine */
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (st == MW_DB_REFUSED && state && (g_str_has_prefix(state, "08") ||
                                             g_str_has_prefix(state, "57") ||
                                             g_str_has_prefix(state, "53")))
            st = MW_DB_DOWN;
    }
    PQclear(r);
    g_string_free(batch, TRUE);
    return st;
}

bool mw_pg_select(mw_store_db *db, const mw_store_filter *f, mw_store_row_cb cb, void *user,
                  char **err)
{
    pg_db *p = (pg_db *)db;
    GString *sql = g_string_new("SELECT record::text, extra::text FROM sessions");
    char *params[MW_FILTER_MAX_PARAMS];
    int np = mw_store_filter_sql(f, true, sql, params);
    g_string_append(sql, " ORDER BY seq");
    /* rows one at a time: a month of sessions never sits in memory at once */
    bool ok = PQsendQueryParams(p->conn, sql->str, np, NULL, (const char *const *)params, NULL,
                                NULL, 0) && PQsetSingleRowMode(p->conn);
    PGresult *r;
    while (ok && (r = PQgetResult(p->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE)
            cb(PQgetvalue(r, 0, 0), PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1), user);
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

void mw_pg_close(mw_store_db *db)
{
    pg_db *p = (pg_db *)db;
    if (!p)
        return;
    PQfinish(p->conn);
    g_free(p);
}
