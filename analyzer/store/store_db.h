/* The two databases behind one interface (store_sqlite.c, store_pg.c): open and migrate,
 * write a batch in one transaction, and read sessions back through a filter. */
#ifndef MW_STORE_DB_H
#define MW_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* The schema version this mailwire writes (see README, "Session store"). */
#define MW_STORE_SCHEMA_VERSION 2

/* One record to store: the JSON record (exactly what --json writes) and the report's
 * extras (decisive line, first frame, transcript of a flagged session) as a JSON object;
 * cols: its columns packed from the session (store_cols.h; NULL: the backend reads them
 * out of the record, as for a record from the spool). */
typedef struct {
    const char *record;
    const char *extra;
    const char *cols;
    size_t cols_len;
} mw_store_row;

/* What `report` and `query` select. Strings NULL and times INT64_MIN when not given. */
typedef struct {
    int64_t since_us, until_us; /* ts_start >= since, ts_start < until */
    const char *flag, *user, *client, *server, *sensor;
} mw_store_filter;

/* One stored session, read back; strings valid during the callback. */
typedef void (*mw_store_row_cb)(const char *record, const char *extra, void *user);
/* A stored session's input (NULL: none) and times as RFC 3339 text in UTC, from their
 * columns (the report's first pass: no record read). */
typedef void (*mw_store_span_cb)(const char *input, const char *ts_start, const char *ts_end,
                                 void *user);

/* How a write went: stored (or already there), the database out of reach (the rows go to
 * the spool and wait for it), or the rows refused for what they hold (retried one by
 * one; a row refused alone is counted and reported). */
typedef enum { MW_DB_OK, MW_DB_DOWN, MW_DB_REFUSED } mw_db_status;

/* Each backend's handle starts with this header. */
typedef struct mw_store_db {
    bool pg;
} mw_store_db;

/* PostgreSQL for postgresql:// or postgres:// URLs and conninfo strings (key=value);
 * anything else is a SQLite file path. */
bool mw_store_is_pg(const char *url);

/* Per backend. create: make or migrate the schema (a writer); false: the schema must be
 * there already (report, query). */
mw_store_db *mw_sqlite_open(const char *path, bool create, char **err);
mw_db_status mw_sqlite_write(mw_store_db *db, const mw_store_row *rows, size_t n, char **err);
bool mw_sqlite_select(mw_store_db *db, const mw_store_filter *f, mw_store_row_cb cb, void *user,
                      char **err);
bool mw_sqlite_spans(mw_store_db *db, const mw_store_filter *f, mw_store_span_cb cb, void *user,
                     char **err);
void mw_sqlite_close(mw_store_db *db);
mw_store_db *mw_pg_open(const char *conninfo, bool create, char **err);
mw_db_status mw_pg_write(mw_store_db *db, const mw_store_row *rows, size_t n, char **err);
bool mw_pg_select(mw_store_db *db, const mw_store_filter *f, mw_store_row_cb cb, void *user,
                  char **err);
bool mw_pg_spans(mw_store_db *db, const mw_store_filter *f, mw_store_span_cb cb, void *user,
                 char **err);
void mw_pg_close(mw_store_db *db);

static inline mw_store_db *mw_store_db_open(const char *url, bool create, char **err)
{
    return mw_store_is_pg(url) ? mw_pg_open(url, create, err) : mw_sqlite_open(url, create, err);
}
/* All rows in one transaction; a uid already stored is skipped, with its findings. */
static inline mw_db_status mw_store_db_write(mw_store_db *db, const mw_store_row *rows, size_t n,
                                             char **err)
{
    return db->pg ? mw_pg_write(db, rows, n, err) : mw_sqlite_write(db, rows, n, err);
}
/* Matching sessions in the order they were stored. */
static inline bool mw_store_db_select(mw_store_db *db, const mw_store_filter *f,
                                      mw_store_row_cb cb, void *user, char **err)
{
    return db->pg ? mw_pg_select(db, f, cb, user, err) : mw_sqlite_select(db, f, cb, user, err);
}
/* The same sessions' inputs and times, in the same order. */
static inline bool mw_store_db_spans(mw_store_db *db, const mw_store_filter *f,
                                     mw_store_span_cb cb, void *user, char **err)
{
    return db->pg ? mw_pg_spans(db, f, cb, user, err) : mw_sqlite_spans(db, f, cb, user, err);
}
static inline void mw_store_db_close(mw_store_db *db)
{
    if (db && db->pg)
        mw_pg_close(db);
    else if (db)
        mw_sqlite_close(db);
}

/* store_filter.c: the WHERE clause for f, with placeholders ?N (SQLite) or $N::type
 * (PostgreSQL); the parameters' text in params[] (at most MW_FILTER_MAX_PARAMS, g_free'd
 * by the caller); returns their count. */
#define MW_FILTER_MAX_PARAMS 8
int mw_store_filter_sql(const mw_store_filter *f, bool pg, GString *where, char **params);

#endif
