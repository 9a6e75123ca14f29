/* The WAL checkpoints of the SQLite store beside its writer (store_ckpt.h). */
#include "store/db/store_ckpt.h"

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>

struct mw_sqlite_ckpt {
    sqlite3 *writer, *db;   /* the writer's connection; this thread's own */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    int pages, max_pages;   /* mw_sqlite_ckpt_start's */
    bool pending, running, stopping; /* under mu */
};

/* After each of the writer's commits, on the writer's thread: pages is the WAL's length. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    mw_sqlite_ckpt *c = arg;
    if (pages < c->pages)
        return SQLITE_OK;
    pthread_mutex_lock(&c->mu);
    if (pages < c->max_pages) {
        c->pending = true;
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->mu);
        return SQLITE_OK;
    }
    /* the frames the thread has not copied yet (after the checkpoint it is in: a second
     * one would only find the file busy), and the WAL starts again at the next
     * transaction */
    while (c->running)
        pthread_cond_wait(&c->idle, &c->mu);
    c->pending = false;
    pthread_mutex_unlock(&c->mu);
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    mw_sqlite_ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->pending && !c->stopping)
            pthread_cond_wait(&c->wake, &c->mu);
        if (c->stopping)
            break;
        c->pending = false;
        c->running = true;
        pthread_mutex_unlock(&c->mu);
        /* PASSIVE: what the writer has committed, without waiting for anyone; a failure
         * (the file busy, say) waits for the next commit's call */
        sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
        c->running = false;
        pthread_cond_broadcast(&c->idle);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

mw_sqlite_ckpt *mw_sqlite_ckpt_start(sqlite3 *writer, const char *path, int pages, int max_pages)
{
    mw_sqlite_ckpt *c = g_new0(mw_sqlite_ckpt, 1);
    c->writer = writer;
    c->pages = pages;
    c->max_pages = max_pages;
    /* a read first: a connection sees the file is in WAL mode (and can checkpoint it) only
     * once it has read its header */
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "SELECT 1 FROM sqlite_schema LIMIT 1", NULL, NULL, NULL) !=
            SQLITE_OK) {
        sqlite3_close(c->db);
        g_free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->idle, NULL);
    if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->wake);
        pthread_cond_destroy(&c->idle);
        sqlite3_close(c->db);
        g_free(c);
        return NULL;
    }
    sqlite3_wal_hook(writer, wal_hook, c); /* replaces the automatic checkpoint's hook */
    return c;
}

void mw_sqlite_ckpt_stop(mw_sqlite_ckpt *c)
{
    if (!c)
        return;
    sqlite3_wal_hook(c->writer, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->idle);
    g_free(c);
}
