/* The store's writer side: the sink on the writer thread, the store thread with its
 * batches, and the way through the spool when the database is away (store.h). */
#include "store/store.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "engine/conn_verdict.h"
#include "registry.h"
#include "store/spool.h"
#include "store/store_cols.h"
#include "store/store_db.h"

struct mw_store {
    mw_store_opts o;
    char *url, *spool_dir;
    mw_store_db *db;          /* NULL while the database is away */
    mw_spool *spool;
    GString *buf, *cols, *tmp; /* the writer thread's formatting buffers */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    char **ring;              /* queued items: record NUL extras NUL, then the columns
                               * (a 32-bit length, 0: none, and mw_store_cols' block) */
    size_t ring_cap;          /* two batches at least: one written while the next fills */
    size_t head, count;
    bool stopping, store_waiting;
    int64_t next_try_us;      /* when to try a database that is away */
    uint64_t stored, refused, queued;
    bool warned_down, warned_full;
};

/* Refused records named one by one on stderr, at most; the rest are counted. */
#define MW_STORE_REFUSED_SHOWN 5

static int64_t now_us(void)
{
    return g_get_monotonic_time();
}

static void warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "mailwire: --db: %s\n", m);
    g_free(m);
}

/* ---- the database, through outages ---- */

static void went_down(mw_store *st, char *err)
{
    if (!st->warned_down)
        warn("database unavailable (%s); records go to the spool %s and are stored when it "
             "is back", err ? err : "?", st->spool_dir);
    st->warned_down = true;
    g_free(err);
    mw_store_db_close(st->db);
    st->db = NULL;
    st->next_try_us = now_us() + (int64_t)(st->o.retry_s * G_USEC_PER_SEC);
}

static void refused(mw_store *st, const char *err)
{
    if (++st->refused <= MW_STORE_REFUSED_SHOWN)
        warn("a record refused by the database (%s): not stored%s", err ? err : "?",
             st->refused == MW_STORE_REFUSED_SHOWN ? " (further ones are only counted)" : "");
}

/* One batch, and row by row when the database refuses the batch for its content: only
 * the rows it refuses alone are lost (counted). */
static mw_db_status write_rows(mw_store *st, const mw_store_row *rows, size_t n)
{
    char *err = NULL;
    mw_db_status s = mw_store_db_write(st->db, rows, n, &err);
    if (s == MW_DB_OK)
        st->stored += n;
    for (size_t i = 0; s == MW_DB_REFUSED && n > 1 && i < n; i++) {
        g_free(err);
        err = NULL;
        mw_db_status one = mw_store_db_write(st->db, &rows[i], 1, &err);
        if (one == MW_DB_DOWN)
            s = MW_DB_DOWN;
        else if (one == MW_DB_OK)
            st->stored++;
        else
            refused(st, err);
        if (i + 1 == n && s != MW_DB_DOWN)
            s = MW_DB_OK;
    }
    if (s == MW_DB_REFUSED) { /* a single row */
        refused(st, err);
        s = MW_DB_OK;
    }
    if (s == MW_DB_DOWN)
        went_down(st, err);
    else
        g_free(err);
    return s;
}

static mw_db_status replay_write(const mw_store_row *rows, size_t n, void *user)
{
    mw_store *st = user;
    return st->db ? write_rows(st, rows, n) : MW_DB_DOWN;
}

/* Reach the database if it is away and it is time to try; then empty the spool into it.
 * True when records can go straight to the database. */
static bool ensure_db(mw_store *st, bool now)
{
    if (!st->db && (now || now_us() >= st->next_try_us)) {
        char *err = NULL;
        st->db = mw_store_db_open(st->url, true, &err);
        if (!st->db)
            went_down(st, err);
    }
    if (st->db && !mw_spool_empty(st->spool)) {
        uint64_t before = mw_spool_replayed(st->spool);
        bool empty = mw_spool_replay(st->spool, (size_t)st->o.batch, replay_write, st);
        if (empty && st->warned_down)
            warn("database back: %" G_GUINT64_FORMAT " spooled records stored",
                 mw_spool_replayed(st->spool) - before);
        if (empty)
            st->warned_down = false;
    }
    return st->db && mw_spool_empty(st->spool);
}

static void deliver(mw_store *st, const mw_store_row *rows, size_t n)
{
    if (ensure_db(st, false) && write_rows(st, rows, n) == MW_DB_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!mw_spool_append(st->spool, &rows[i]) && !st->warned_full) {
            warn("the spool %s is full (--db-spool-max %" G_GINT64_FORMAT " MiB): records "
                 "are dropped and counted until the database is back", st->spool_dir,
                 st->o.spool_max_bytes >> 20);
            st->warned_full = true;
        }
    }
    mw_spool_flush(st->spool);
}

/* ---- the store thread ---- */

static void wait_for_batch(mw_store *st)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += st->o.interval_ms / 1000;
    until.tv_nsec += (long)(st->o.interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (st->count < (size_t)st->o.batch && !st->stopping) {
        st->store_waiting = true;
        int rc = pthread_cond_timedwait(&st->not_empty, &st->mu, &until);
        st->store_waiting = false;
        if (rc == ETIMEDOUT)
            break;
    }
}

static void *store_main(void *data)
{
    mw_store *st = data;
    size_t cap = (size_t)st->o.batch;
    char **items = g_new(char *, cap);
    mw_store_row *rows = g_new(mw_store_row, cap);
    for (;;) {
        pthread_mutex_lock(&st->mu);
        wait_for_batch(st);
        size_t n = 0;
        while (st->count > 0 && n < cap) {
            items[n++] = st->ring[st->head];
            st->head = (st->head + 1) % st->ring_cap;
            st->count--;
        }
        bool done = st->stopping && n == 0;
        pthread_cond_broadcast(&st->not_full);
        pthread_mutex_unlock(&st->mu);
        if (done)
            break;
        if (n == 0) { /* quiet: a chance to reach the database and empty the spool */
            ensure_db(st, false);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            const char *extra = items[i] + strlen(items[i]) + 1;
            const char *cols = extra + strlen(extra) + 1;
            guint32 cl;
            memcpy(&cl, cols, sizeof cl);
            rows[i] = (mw_store_row){ items[i], extra[0] ? extra : NULL,
                                      cl ? cols + sizeof cl : NULL, cl };
        }
        deliver(st, rows, n);
        for (size_t i = 0; i < n; i++)
            g_free(items[i]);
    }
    g_free(items);
    g_free(rows);
    return NULL;
}

/* ---- the writer thread's side ---- */

/* What the report needs beyond the record: the decisive line, the first frame and, for a
 * flagged session, the mail part's text lines (its messages, issue 19) and the redacted
 * transcript (store_report.c reads them back). */
static void format_extra(GString *g, const mw_session *s)
{
    mw_put_lit(g, "{\"first_frame\":");
    mw_json_u64(g, s->first_frame);
    mw_put_lit(g, ",\"decisive\":");
    mw_json_str(g, s->decisive);
    if (s->flags && mw_conn_auth_offered(s))
        mw_put_lit(g, ",\"auth_offered\":true"); /* for the report's "which side" */
    if (s->flags && s->mail.rec) {
        GString *txt = g_string_new(NULL);
        mw_part_write_text(txt, s, &s->mail);
        mw_put_lit(g, ",\"mail_text\":");
        mw_json_str(g, txt->str);
        g_string_free(txt, TRUE);
    }
    if (s->flags && s->transcript) {
        mw_put_lit(g, ",\"transcript_dropped\":");
        mw_json_u64(g, s->transcript_dropped);
        mw_put_lit(g, ",\"transcript\":[");
        for (guint i = 0; i < s->transcript->len; i++) {
            const mw_event *ev = &g_array_index(s->transcript, mw_event, i);
            g_string_append(g, i ? ",{\"ts\":" : "{\"ts\":");
            mw_json_i64(g, ev->ts_us);
            mw_put_lit(g, ",\"frame\":");
            mw_json_u64(g, ev->frame);
            mw_put_lit(g, ",\"from\":");
            mw_json_str(g, ev->dir == MW_FROM_CLIENT ? "client" : "server");
            mw_put_lit(g, ",\"latency_us\":");
            mw_json_i64(g, ev->latency_us);
            mw_put_lit(g, ",\"text\":");
            mw_json_str(g, ev->text);
            g_string_append_c(g, '}');
        }
        g_string_append_c(g, ']');
    }
    g_string_append_c(g, '}');
}

void mw_store_session(const mw_session *s, const char *json, size_t len, void *store)
{
    mw_store *st = store;
    GString *g = st->buf;
    g_string_truncate(g, 0);
    format_extra(g, s);
    /* the columns from the session, so the store thread need not scan the record */
    GString *c = st->cols;
    g_string_truncate(c, 0);
    guint32 cl = 0;
    g_string_append_len(c, (const char *)&cl, sizeof cl);
    if (mw_store_cols(c, st->tmp, s, json, len)) {
        cl = (guint32)(c->len - sizeof cl);
        memcpy(c->str, &cl, sizeof cl);
    } else {
        g_string_truncate(c, sizeof cl);
    }
    /* one block: the record (the text --json wrote, not formatted again), NUL, extras,
     * NUL, the columns */
    char *item = g_malloc(len + 1 + g->len + 1 + c->len);
    memcpy(item, json, len);
    item[len] = '\0';
    memcpy(item + len + 1, g->str, g->len + 1);
    memcpy(item + len + 1 + g->len + 1, c->str, c->len);
    pthread_mutex_lock(&st->mu);
    while (st->count == st->ring_cap) /* the database is slow: the analysis waits */
        pthread_cond_wait(&st->not_full, &st->mu);
    st->ring[(st->head + st->count) % st->ring_cap] = item;
    st->count++;
    st->queued++;
    if (st->store_waiting && st->count >= (size_t)st->o.batch)
        pthread_cond_signal(&st->not_empty);
    pthread_mutex_unlock(&st->mu);
}

/* ---- open and close ---- */

static bool writable_dir(const char *d)
{
    return g_file_test(d, G_FILE_TEST_IS_DIR) && access(d, W_OK | X_OK) == 0;
}

char *mw_store_default_spool(const char *url)
{
    const char *state = g_getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
    if (state && *state) {
        char *first = g_strdup(state);
        char *colon = strchr(first, ':'); /* several directories: the first */
        if (colon)
            *colon = '\0';
        char *d = g_build_filename(first, "spool", NULL);
        g_free(first);
        return d;
    }
    if (writable_dir("/var/lib/mailwire"))
        return g_strdup("/var/lib/mailwire/spool");
    if (!mw_store_is_pg(url))
        return g_strconcat(url, ".spool", NULL);
    return g_strdup_printf("%s/mailwire-spool-%u", g_get_tmp_dir(), (unsigned)getuid());
}

static void store_free(mw_store *st)
{
    mw_store_db_close(st->db);
    mw_spool_free(st->spool);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->not_empty);
    pthread_cond_destroy(&st->not_full);
    g_free(st->ring);
    g_string_free(st->buf, TRUE);
    g_string_free(st->cols, TRUE);
    g_string_free(st->tmp, TRUE);
    g_free(st->url);
    g_free(st->spool_dir);
    g_free(st);
}

mw_store *mw_store_open(const mw_store_opts *o, char **err)
{
    mw_store *st = g_new0(mw_store, 1);
    st->o = *o;
    st->url = g_strdup(o->url);
    st->spool_dir = o->spool_dir ? g_strdup(o->spool_dir) : mw_store_default_spool(o->url);
    st->spool = mw_spool_open(st->spool_dir, o->spool_max_bytes);
    st->buf = g_string_sized_new(8192);
    st->cols = g_string_sized_new(1024);
    st->tmp = g_string_sized_new(256);
    st->ring_cap = MAX((size_t)MW_STORE_QUEUE, 2 * (size_t)MAX(o->batch, 1));
    st->ring = g_new0(char *, st->ring_cap);
    pthread_mutex_init(&st->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->not_empty, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&st->not_full, NULL);
    char *why = NULL;
    st->db = mw_store_db_open(st->url, true, &why);
    if (!st->db && !mw_store_is_pg(st->url)) { /* a local file that cannot be used */
        *err = why;
        store_free(st);
        return NULL;
    }
    if (!st->db) /* PostgreSQL away: run, and spool until it is back */
        went_down(st, why);
    if (pthread_create(&st->thread, NULL, store_main, st) != 0) {
        *err = g_strdup("--db: cannot start the store thread");
        store_free(st);
        return NULL;
    }
    st->thread_started = true;
    return st;
}

bool mw_store_close(mw_store *st, bool quiet)
{
    if (!st)
        return true;
    pthread_mutex_lock(&st->mu);
    st->stopping = true;
    pthread_cond_signal(&st->not_empty);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->thread, NULL);
    ensure_db(st, true); /* one last try for what waits in the spool */
    uint64_t dropped = mw_spool_dropped(st->spool);
    bool spooled = !mw_spool_empty(st->spool);
    if (spooled)
        warn("%" G_GUINT64_FORMAT " records stored; the database is still unavailable: %"
             G_GINT64_FORMAT " bytes of records wait in the spool %s (stored by the next "
             "run with --db)", st->stored, mw_spool_bytes(st->spool), st->spool_dir);
    if (dropped || st->refused)
        warn("%" G_GUINT64_FORMAT " records NOT stored: %" G_GUINT64_FORMAT " dropped with "
             "the spool full, %" G_GUINT64_FORMAT " refused by the database", dropped + st->refused,
             dropped, st->refused);
    else if (!quiet && !spooled && mw_spool_appended(st->spool))
        warn("%" G_GUINT64_FORMAT " records stored (%" G_GUINT64_FORMAT " of them through the "
             "spool)", st->stored, mw_spool_replayed(st->spool));
    bool ok = dropped == 0 && st->refused == 0;
    store_free(st);
    return ok;
}
