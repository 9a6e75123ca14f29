/* The store in SQLite: one file, WAL mode (readers such as `mailwire query` never block
 * the writer), the stored record the exact text --json writes, its columns read out of it
 * by store_fields.c and bound to prepared statements made once per connection. */
#include "store/store_db.h"

#include <sqlite3.h>

#include <string.h>

#include "store/db/store_ckpt.h"
#include "store/db/store_fields.h"

/* How long a write waits for another process holding the file's lock. */
#define MW_SQLITE_BUSY_MS 10000
/* Page cache and memory map: the uid index takes inserts all over the file, and without
 * room for its pages every insert reads one back from disk (KiB; bytes). */
#define MW_SQLITE_CACHE_KIB "65536"
#define MW_SQLITE_MMAP_BYTES "1073741824"
/* The page size of a new store file (an existing one keeps its own). Larger pages than
 * SQLite's 4 KiB: fewer pages for each commit to write and checkpoint (a record is 1-3
 * KB, and every batch touches pages all over the uid, client and user indexes); a third
 * less CPU for the writes, and a smaller file. */
#define MW_SQLITE_PAGE_SIZE "16384"
/* WAL pages after which the checkpoint thread copies them into the file (SQLite's default
 * wal_autocheckpoint), and after which the writer does (store_ckpt.h): 16 and 64 MiB. */
#define MW_SQLITE_CKPT_PAGES 1000
#define MW_SQLITE_CKPT_MAX_PAGES 4000
/* Findings rows per INSERT: a statement's own work (its cursors, its start and end) was
 * about half of a findings row's cost, one row per statement. */
#define MW_SQLITE_FINDINGS_ROWS 32
/* Sessions rows per INSERT (rows with their columns packed): a statement's start and end
 * (a cursor opened and closed on the table and each index, the VDBE's halt) were about a
 * fifth of a session's cost at one row to a statement. */
#define MW_SQLITE_SESSIONS_ROWS 32

typedef struct {
    mw_store_db base;
    sqlite3 *db;
    sqlite3_stmt *ins_session, *ins_finding, *ins_findings; /* the last: MW_SQLITE_FINDINGS_ROWS */
    sqlite3_stmt *ins_sessions, *max_rowid, *new_since;   /* MW_SQLITE_SESSIONS_ROWS a statement */
    mw_sqlite_ckpt *ckpt; /* a writer's checkpoints on their own thread (store_ckpt.h) */
    mw_store_fields fields;
    GArray *pending; /* pending_finding: the batch's findings rows, inserted at its end */
    GArray *group;   /* group_finding: the findings of a multi-row INSERT's sessions */
} sqlite_db;

/* A findings row waiting for its INSERT: the values point into the batch's rows (the
 * columns packed from the session), valid until the batch is written. */
typedef struct {
    mw_sf_val uid;
    mw_sf_finding fd;
} pending_finding;

/* ...and one of a session in a multi-row INSERT, until it is known whether it was new. */
typedef struct {
    pending_finding p;
    int row;
} group_finding;

/* Each step migrates from the version before it; [0] creates version 1. */
static const char *const MIGRATIONS[MW_STORE_SCHEMA_VERSION] = {
    "CREATE TABLE sessions ("
    " uid TEXT PRIMARY KEY, ts_start TEXT NOT NULL, ts_end TEXT NOT NULL,"
    " sensor TEXT NOT NULL, input TEXT,"
    " client_ip TEXT NOT NULL, client_port INTEGER NOT NULL,"
    " server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,"
    " protocol TEXT NOT NULL, outcome TEXT NOT NULL, user TEXT, tls_version TEXT,"
    " record TEXT NOT NULL, extra TEXT);"
    "CREATE TABLE findings ("
    " uid TEXT NOT NULL REFERENCES sessions(uid), flag TEXT NOT NULL, frame INTEGER,"
    " ts TEXT, source TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX sessions_ts ON sessions(ts_start);"
    "CREATE INDEX sessions_user ON sessions(user);"
    "CREATE INDEX sessions_client ON sessions(client_ip);"
    "CREATE INDEX sessions_server ON sessions(server_ip);"
    "CREATE INDEX sessions_sensor_ts ON sessions(sensor, ts_start);"
    "CREATE INDEX findings_flag_ts ON findings(flag, ts);"
    "CREATE INDEX findings_uid ON findings(uid);",
    /* 2: fewer index inserts for every session (each index was about a twentieth of the
     * store thread's work): no (sensor, ts_start) index (a sensor's time range goes
     * through sessions_ts), none on findings(uid) (nothing looks findings up by uid; the
     * joins go from findings to the sessions' key), and sessions(user) only where there
     * is a user (two sessions in three have none). The REFERENCES of findings.uid was
     * never enforced (foreign_keys is off): mailwire writes a session's findings in the
     * session's own transaction, only when the session is new. */
    "DROP INDEX IF EXISTS sessions_sensor_ts;"
    "DROP INDEX IF EXISTS findings_uid;"
    "DROP INDEX IF EXISTS sessions_user;"
    "CREATE INDEX sessions_user ON sessions(user) WHERE user IS NOT NULL;",
};

/* The columns come from store_fields.c (one pass over the record), bound as parameters. */
static const char INSERT_SESSION[] =
    "INSERT INTO sessions(uid,ts_start,ts_end,sensor,input,client_ip,client_port,server_ip,"
    "server_port,protocol,outcome,user,tls_version,record,extra) VALUES(?1,?2,?3,?4,?5,?6,?7,"
    "?8,?9,?10,?11,?12,?13,?14,?15) ON CONFLICT(uid) DO NOTHING";
/* OR IGNORE: a multi-row INSERT that may fail part-way needs a statement journal (see
 * findings_insert); a uid stored already is skipped (as ON CONFLICT (uid) DO NOTHING), and
 * rows missing a NOT NULL column go one at a time (insert_group). */
#define SESSION_VALUES "(?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d)"
static const char MAX_ROWID[] = "SELECT coalesce(max(rowid), 0) FROM sessions";
static const char NEW_SINCE[] = "SELECT uid FROM sessions WHERE rowid > ?1 ORDER BY rowid";
static const char INSERT_FINDING[] =
    "INSERT INTO findings(uid,flag,frame,ts,source,detail) VALUES(?1,?2,?3,?4,"
    "coalesce(?5,'wire'),?6)";

/* INSERT OR IGNORE INTO findings ... VALUES (...), (...): n rows of 6 parameters.
 * A statement that writes several rows and may fail part-way (a NOT NULL) makes SQLite
 * copy every page it changes into a statement journal first, to undo the statement
 * alone: on the benchmark's 50,000 sessions 27,000 pages of 16 KiB (440 MB written, half
 * of all the store's writes). OR IGNORE cannot fail part-way, so no journal; the only
 * columns it would ignore a row for (uid and flag NULL: source is coalesced) are checked
 * before (pending_findings), and such a row goes through INSERT_FINDING, which fails. */
static char *findings_insert(int n)
{
    GString *g = g_string_new("INSERT OR IGNORE INTO findings(uid,flag,frame,ts,source,detail) VALUES");
    for (int i = 0; i < n; i++)
        g_string_append_printf(g, "%s(?%d,?%d,?%d,?%d,coalesce(?%d,'wire'),?%d)", i ? "," : "",
                               6 * i + 1, 6 * i + 2, 6 * i + 3, 6 * i + 4, 6 * i + 5, 6 * i + 6);
    return g_string_free(g, FALSE);
}

static char *sessions_insert(int n)
{
    GString *g = g_string_new("INSERT OR IGNORE INTO sessions(uid,ts_start,ts_end,sensor,input,"
                              "client_ip,client_port,server_ip,server_port,protocol,outcome,"
                              "user,tls_version,record,extra) VALUES");
    for (int i = 0, b = 0; i < n; i++, b += 15)
        g_string_append_printf(g, "%s" SESSION_VALUES, i ? "," : "", b + 1, b + 2, b + 3, b + 4,
                               b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, b + 13,
                               b + 14, b + 15);
    return g_string_free(g, FALSE);
}

static char *db_error(sqlite3 *db, const char *what)
{
    return g_strdup_printf("%s: %s", what, sqlite3_errmsg(db));
}

static bool exec(sqlite3 *db, const char *sql, char **err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return true;
    *err = g_strdup(msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return false;
}

static int schema_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM mailwire_schema", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v; /* -1: no schema table */
}

/* Creates or migrates under the write lock, so two writers starting at once agree. */
static bool migrate(sqlite3 *db, bool create, char **err)
{
    if (!exec(db, "BEGIN IMMEDIATE", err))
        return false;
    int v = schema_version(db);
    bool ok = true;
    if (v < 0 && !create) {
        *err = g_strdup("no mailwire session store here (write one with mailwire --db)");
        ok = false;
    } else if (v > MW_STORE_SCHEMA_VERSION) {
        *err = g_strdup_printf("schema version %d is newer than this mailwire's (%d)", v,
                               MW_STORE_SCHEMA_VERSION);
        ok = false;
    } else if (v < 0) {
        ok = exec(db, "CREATE TABLE mailwire_schema(version INTEGER NOT NULL)", err);
        v = 0;
    }
    for (; ok && v < MW_STORE_SCHEMA_VERSION; v++) {
        char *bump = g_strdup_printf("INSERT INTO mailwire_schema VALUES(%d)", v + 1);
        ok = exec(db, MIGRATIONS[v], err) && exec(db, bump, err);
        g_free(bump);
    }
    char *ignored = NULL;
    if (!exec(db, ok ? "COMMIT" : "ROLLBACK", ok ? err : &ignored))
        ok = false;
    g_free(ignored);
    return ok;
}

mw_store_db *mw_sqlite_open(const char *path, bool create, char **err)
{
    sqlite_db *s = g_new0(sqlite_db, 1);
    mw_store_fields_init(&s->fields);
    s->pending = g_array_new(FALSE, FALSE, sizeof(pending_finding));
    s->group = g_array_new(FALSE, FALSE, sizeof(group_finding));
    char *many = findings_insert(MW_SQLITE_FINDINGS_ROWS);
    char *many_s = sessions_insert(MW_SQLITE_SESSIONS_ROWS);
    char *why = NULL;
    /* one thread at a time uses a connection (the store thread; the caller after it) */
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
                SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        why = g_strdup(s->db ? sqlite3_errmsg(s->db) : "out of memory");
    } else {
        sqlite3_busy_timeout(s->db, MW_SQLITE_BUSY_MS);
        /* WAL: readers beside the writer; NORMAL sync: a power cut may lose the last
         * transactions but never corrupts the file (and the records are in -o too) */
        if (exec(s->db, "PRAGMA page_size=" MW_SQLITE_PAGE_SIZE "; PRAGMA journal_mode=WAL;"
                        " PRAGMA synchronous=NORMAL; PRAGMA cache_size=-" MW_SQLITE_CACHE_KIB ";"
                        " PRAGMA mmap_size=" MW_SQLITE_MMAP_BYTES, &why) &&
            migrate(s->db, create, &why) &&
            (sqlite3_prepare_v2(s->db, INSERT_SESSION, -1, &s->ins_session, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(s->db, INSERT_FINDING, -1, &s->ins_finding, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(s->db, many, -1, &s->ins_findings, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(s->db, many_s, -1, &s->ins_sessions, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(s->db, MAX_ROWID, -1, &s->max_rowid, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(s->db, NEW_SINCE, -1, &s->new_since, NULL) != SQLITE_OK))
            why = g_strdup(sqlite3_errmsg(s->db));
    }
    g_free(many);
    g_free(many_s);
    if (!why && create)
        s->ckpt = mw_sqlite_ckpt_start(s->db, path, MW_SQLITE_CKPT_PAGES,
                                       MW_SQLITE_CKPT_MAX_PAGES);
    if (why) {
        *err = g_strdup_printf("--db %s: %s", path, why);
        g_free(why);
        mw_sqlite_close(&s->base);
        return NULL;
    }
    return &s->base;
}

/* A value as json_extract gives it: NULL, an integer, or text (up to a NUL, as
 * json_extract cuts a string at \u0000). */
static void bind(sqlite3_stmt *st, int i, const mw_sf_val *v)
{
    gint64 x;
    if (!v->s)
        sqlite3_bind_null(st, i);
    else if (v->num && mw_sf_int(v, &x))
        sqlite3_bind_int64(st, i, x);
    else
        sqlite3_bind_text(st, i, v->s, (int)strnlen(v->s, v->n), SQLITE_STATIC);
}

static void bind_finding(sqlite3_stmt *b, int at, const mw_sf_val *uid, const mw_sf_finding *fd)
{
    bind(b, at + 1, uid);
    bind(b, at + 2, &fd->flag);
    bind(b, at + 3, &fd->frame);
    bind(b, at + 4, &fd->ts);
    bind(b, at + 5, &fd->source);
    bind(b, at + 6, &fd->detail);
}

/* The session in s->fields is new: its findings rows now (values that the next record's
 * scan replaces), or, when its columns came packed with the row, with the batch's others
 * at its end (pending_findings). */
static bool insert_findings(sqlite_db *s, bool packed)
{
    sqlite3_stmt *b = s->ins_finding;
    bool ok = true;
    for (guint i = 0; ok && i < s->fields.findings->len; i++) {
        const mw_sf_finding *fd = &g_array_index(s->fields.findings, mw_sf_finding, i);
        if (packed) {
            pending_finding p = { s->fields.uid, *fd };
            g_array_append_val(s->pending, p);
            continue;
        }
        bind_finding(b, 0, &s->fields.uid, fd);
        ok = sqlite3_step(b) == SQLITE_DONE;
        sqlite3_reset(b);
    }
    sqlite3_clear_bindings(b);
    return ok;
}

/* The batch's waiting findings rows, MW_SQLITE_FINDINGS_ROWS to a statement, in order (all
 * one at a time when one has no uid or flag: its INSERT fails, and with it the batch). */
static bool pending_findings(sqlite_db *s)
{
    const pending_finding *p = (const pending_finding *)(void *)s->pending->data;
    guint n = s->pending->len, i = 0;
    bool ok = true, all_set = true;
    for (guint k = 0; all_set && k < n; k++)
        all_set = p[k].uid.s && p[k].fd.flag.s;
    for (; ok && all_set && n - i >= MW_SQLITE_FINDINGS_ROWS; i += MW_SQLITE_FINDINGS_ROWS) {
        for (int k = 0; k < MW_SQLITE_FINDINGS_ROWS; k++)
            bind_finding(s->ins_findings, 6 * k, &p[i + k].uid, &p[i + k].fd);
        ok = sqlite3_step(s->ins_findings) == SQLITE_DONE;
        sqlite3_reset(s->ins_findings);
    }
    sqlite3_clear_bindings(s->ins_findings);
    for (; ok && i < n; i++) {
        bind_finding(s->ins_finding, 0, &p[i].uid, &p[i].fd);
        ok = sqlite3_step(s->ins_finding) == SQLITE_DONE;
        sqlite3_reset(s->ins_finding);
    }
    sqlite3_clear_bindings(s->ins_finding);
    g_array_set_size(s->pending, 0);
    return ok;
}

static bool insert_one(sqlite_db *s, const mw_store_row *r, char **err)
{
    mw_store_fields *f = &s->fields;
    const char *why = NULL;
    if (r->cols ? !mw_store_fields_unpack(f, r->cols, r->cols_len)
                : !mw_store_fields_parse(f, r->record, &why)) {
        *err = g_strdup_printf("insert: malformed JSON (%s)", why ? why : "bad columns");
        return false;
    }
    sqlite3_stmt *a = s->ins_session;
    const mw_sf_val *cols[13] = { &f->uid, &f->ts_start, &f->ts_end, &f->sensor, &f->input,
                                  &f->client_ip, &f->client_port, &f->server_ip,
                                  &f->server_port, &f->protocol, &f->outcome, &f->user,
                                  &f->tls_version };
    for (int i = 0; i < 13; i++)
        bind(a, i + 1, cols[i]);
    sqlite3_bind_text(a, 14, r->record, -1, SQLITE_STATIC);
    sqlite3_bind_text(a, 15, r->extra, -1, SQLITE_STATIC);
    bool ok = sqlite3_step(a) == SQLITE_DONE;
    sqlite3_reset(a);
    sqlite3_clear_bindings(a);
    if (ok && sqlite3_changes(s->db) == 1) /* new: its findings too */
        ok = insert_findings(s, r->cols != NULL);
    return ok;
}

/* A row a multi-row INSERT can take: its columns packed, and every NOT NULL column (and
 * the uid, which tells the new rows) there, so OR IGNORE never skips it for them. */
static bool row_complete(const mw_store_fields *f, const mw_store_row *r)
{
    return f->uid.s && f->ts_start.s && f->ts_end.s && f->sensor.s && f->client_ip.s &&
           f->client_port.s && f->server_ip.s && f->server_port.s && f->protocol.s &&
           f->outcome.s && r->record;
}

static int64_t step_int(sqlite3_stmt *st)
{
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return v;
}

/* Which of the group's rows were new: the rows stored since `before` (rowids are given in
 * order, past the largest), matched to the group in order by uid. */
static void mark_new(sqlite_db *s, const mw_sf_val *uids, bool *fresh, int64_t before)
{
    sqlite3_bind_int64(s->new_since, 1, before);
    int j = 0;
    while (sqlite3_step(s->new_since) == SQLITE_ROW && j < MW_SQLITE_SESSIONS_ROWS) {
        const char *u = (const char *)sqlite3_column_text(s->new_since, 0);
        size_t un = (size_t)sqlite3_column_bytes(s->new_since, 0);
        for (; j < MW_SQLITE_SESSIONS_ROWS; j++) {
            size_t n = strnlen(uids[j].s, uids[j].n); /* as bound */
            if (u && n == un && memcmp(u, uids[j].s, n) == 0) {
                fresh[j++] = true;
                break;
            }
        }
    }
    sqlite3_reset(s->new_since);
}

/* MW_SQLITE_SESSIONS_ROWS rows in one INSERT, the findings of the new ones queued:
 * 1 stored, 0 failed, -1 not for a multi-row INSERT (the rows go one at a time). */
static int insert_group(sqlite_db *s, const mw_store_row *rows)
{
    mw_store_fields *f = &s->fields;
    sqlite3_stmt *a = s->ins_sessions;
    mw_sf_val uids[MW_SQLITE_SESSIONS_ROWS];
    bool fresh[MW_SQLITE_SESSIONS_ROWS] = { false };
    g_array_set_size(s->group, 0);
    for (int j = 0; j < MW_SQLITE_SESSIONS_ROWS; j++) {
        const mw_store_row *r = &rows[j];
        if (!r->cols || !mw_store_fields_unpack(f, r->cols, r->cols_len) || !row_complete(f, r)) {
            sqlite3_clear_bindings(a);
            return -1;
        }
        const mw_sf_val *cols[13] = { &f->uid, &f->ts_start, &f->ts_end, &f->sensor, &f->input,
                                      &f->client_ip, &f->client_port, &f->server_ip,
                                      &f->server_port, &f->protocol, &f->outcome, &f->user,
                                      &f->tls_version };
        for (int i = 0; i < 13; i++)
            bind(a, 15 * j + i + 1, cols[i]);
        sqlite3_bind_text(a, 15 * j + 14, r->record, -1, SQLITE_STATIC);
        sqlite3_bind_text(a, 15 * j + 15, r->extra, -1, SQLITE_STATIC);
        uids[j] = f->uid; /* values in r->cols: valid for the batch */
        for (guint k = 0; k < f->findings->len; k++) {
            group_finding g = { { f->uid, g_array_index(f->findings, mw_sf_finding, k) }, j };
            g_array_append_val(s->group, g);
        }
    }
    int64_t before = step_int(s->max_rowid);
    bool ok = before >= 0 && sqlite3_step(a) == SQLITE_DONE;
    sqlite3_reset(a);
    sqlite3_clear_bindings(a);
    if (!ok)
        return 0;
    int changes = sqlite3_changes(s->db);
    if (changes == MW_SQLITE_SESSIONS_ROWS)
        memset(fresh, 1, sizeof fresh);
    else if (changes > 0)
        mark_new(s, uids, fresh, before);
    for (guint k = 0; k < s->group->len; k++) {
        const group_finding *g = &g_array_index(s->group, group_finding, k);
        if (fresh[g->row])
            g_array_append_val(s->pending, g->p);
    }
    return 1;
}

/* Errors of the file or the lock mean "try later"; anything else is about the rows. */
static mw_db_status classify(int code)
{
    switch (code & 0xff) {
    case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_FULL: case SQLITE_IOERR:
    case SQLITE_CANTOPEN: case SQLITE_READONLY: case SQLITE_PROTOCOL: case SQLITE_NOMEM:
    case SQLITE_CORRUPT: case SQLITE_NOTADB:
        return MW_DB_DOWN;
    default:
        return MW_DB_REFUSED;
    }
}

mw_db_status mw_sqlite_write(mw_store_db *db, const mw_store_row *rows, size_t n, char **err)
{
    sqlite_db *s = (sqlite_db *)db;
    char *ignored = NULL;
    if (!exec(s->db, "BEGIN IMMEDIATE", err))
        return classify(sqlite3_extended_errcode(s->db));
    bool ok = true;
    g_array_set_size(s->pending, 0);
    for (size_t i = 0; ok && i < n;) {
        int g = n - i >= MW_SQLITE_SESSIONS_ROWS ? insert_group(s, &rows[i]) : -1;
        size_t one = g < 0 ? (n - i < MW_SQLITE_SESSIONS_ROWS ? n - i : MW_SQLITE_SESSIONS_ROWS)
                           : 0;
        ok = g != 0;
        for (size_t k = 0; ok && k < one; k++)
            ok = insert_one(s, &rows[i + k], err);
        i += g > 0 ? MW_SQLITE_SESSIONS_ROWS : one;
    }
    bool not_json = !ok && *err; /* refused for its content */
    ok = ok && pending_findings(s);
    if (ok && exec(s->db, "COMMIT", err))
        return MW_DB_OK;
    int code = not_json ? SQLITE_MISMATCH : sqlite3_extended_errcode(s->db);
    if (!*err)
        *err = db_error(s->db, "insert");
    exec(s->db, "ROLLBACK", &ignored);
    g_free(ignored);
    return classify(code);
}

/* SELECT what FROM sessions, filtered, in the order stored; each row's first ncols
 * columns as text to row(). */
typedef void (*row_fn)(const char *const *vals, void *cb, void *user);

static bool select_rows(sqlite_db *s, const char *what, int ncols, const mw_store_filter *f,
                        row_fn row, void *cb, void *user, char **err)
{
    GString *sql = g_string_new("SELECT ");
    g_string_append_printf(sql, "%s FROM sessions", what);
    char *params[MW_FILTER_MAX_PARAMS];
    int np = mw_store_filter_sql(f, false, sql, params);
    g_string_append(sql, " ORDER BY rowid");
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(s->db, sql->str, -1, &st, NULL) == SQLITE_OK;
    for (int i = 0; ok && i < np; i++)
        sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
    int rc = SQLITE_DONE;
    const char *vals[3];
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < ncols; c++)
            vals[c] = (const char *)sqlite3_column_text(st, c);
        row(vals, cb, user);
    }
    if (!ok || rc != SQLITE_DONE) {
        *err = db_error(s->db, "select");
        ok = false;
    }
    sqlite3_finalize(st);
    for (int i = 0; i < np; i++)
        g_free(params[i]);
    g_string_free(sql, TRUE);
    return ok;
}

static void record_row(const char *const *v, void *cb, void *user)
{
    ((mw_store_row_cb)cb)(v[0], v[1], user);
}

static void span_row(const char *const *v, void *cb, void *user)
{
    ((mw_store_span_cb)cb)(v[0], v[1], v[2], user);
}

bool mw_sqlite_select(mw_store_db *db, const mw_store_filter *f, mw_store_row_cb cb, void *user,
                      char **err)
{
    return select_rows((sqlite_db *)db, "record, extra", 2, f, record_row, (void *)cb, user, err);
}

bool mw_sqlite_spans(mw_store_db *db, const mw_store_filter *f, mw_store_span_cb cb, void *user,
                     char **err)
{
    return select_rows((sqlite_db *)db, "input, ts_start, ts_end", 3, f, span_row, (void *)cb,
                       user, err);
}

void mw_sqlite_close(mw_store_db *db)
{
    sqlite_db *s = (sqlite_db *)db;
    if (!s)
        return;
    mw_sqlite_ckpt_stop(s->ckpt); /* first: the close checkpoints what is left */
    sqlite3_finalize(s->ins_session);
    sqlite3_finalize(s->ins_finding);
    sqlite3_finalize(s->ins_findings);
    sqlite3_finalize(s->ins_sessions);
    sqlite3_finalize(s->max_rowid);
    sqlite3_finalize(s->new_since);
    sqlite3_close(s->db);
    g_array_free(s->pending, TRUE);
    g_array_free(s->group, TRUE);
    mw_store_fields_clear(&s->fields);
    g_free(s);
}
