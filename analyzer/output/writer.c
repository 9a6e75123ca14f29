#include "output/writer.h"

#include <glib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

/* Sessions the writer takes off the queue under one lock; the analysis wakes a sleeping
 * writer only once this many wait (a wake-up per session costs more than writing it),
 * and the writer looks by itself every MW_WRITER_NAP_MS, so that in a quiet live capture
 * a record still comes out within that time. */
#define MW_WRITER_GRAB 256
#define MW_WRITER_NAP_MS 100

#define MW_WRITER_DONE (2 * (MW_WRITER_QUEUE + MW_WRITER_GRAB))

struct mw_writer {
    mw_session_cb out;
    void (*flush)(void *out_user);
    void *out_user;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    mw_session *ring[MW_WRITER_QUEUE];
    size_t head, count;
    /* Written sessions, freed by the analysis thread at its next hand-over: the sessions
     * were allocated there, and glibc's malloc serialises the two threads on its arena
     * lock when one frees what the other allocated. The analysis empties it whenever a
     * grab's worth has gathered, so it stays far below MW_WRITER_DONE. */
    mw_session *done[MW_WRITER_DONE];
    size_t ndone;
    bool stopping;
    bool writer_waiting, taker_waiting; /* signal only a thread that sleeps */
    mw_session_take_cb release; /* NULL: mw_session_free */
    void *release_user;
};

static void nap(mw_writer *w)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += MW_WRITER_NAP_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&w->not_empty, &w->mu, &until);
}

static void *writer_main(void *data)
{
    mw_writer *w = data;
    mw_session *grab[MW_WRITER_GRAB];
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (w->count == 0 && !w->stopping) {
            w->writer_waiting = true;
            nap(w);
            w->writer_waiting = false;
        }
        size_t n = 0;
        while (w->count > 0 && n < MW_WRITER_GRAB) {
            grab[n++] = w->ring[w->head];
            w->head = (w->head + 1) % MW_WRITER_QUEUE;
            w->count--;
        }
        if (n > 0 && w->taker_waiting)
            pthread_cond_signal(&w->not_full);
        bool drained = w->count == 0;
        pthread_mutex_unlock(&w->mu);
        if (n == 0) /* stopping, and nothing left */
            return NULL;
        for (size_t i = 0; i < n; i++) {
            mw_session_community_id(grab[i]);
            w->out(grab[i], w->out_user);
        }
        /* once the queue is empty (at the latest a nap after the records came): a reader
         * of a live capture sees them within MW_WRITER_NAP_MS, at one flush per batch */
        if (drained && w->flush)
            w->flush(w->out_user);
        pthread_mutex_lock(&w->mu);
        size_t i = 0;
        for (; i < n && w->ndone < MW_WRITER_DONE; i++)
            w->done[w->ndone++] = grab[i];
        pthread_mutex_unlock(&w->mu);
        for (; i < n; i++) /* not expected: the analysis empties the list as it goes */
            mw_session_free(grab[i]);
    }
}

mw_writer *mw_writer_start(mw_session_cb out, void (*flush)(void *out_user), void *out_user)
{
    mw_writer *w = g_new0(mw_writer, 1);
    w->out = out;
    w->flush = flush;
    w->out_user = out_user;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* naps immune to clock changes */
    pthread_cond_init(&w->not_empty, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&w->not_full, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->not_empty);
        pthread_cond_destroy(&w->not_full);
        g_free(w);
        return NULL;
    }
    return w;
}

void mw_writer_take(mw_session *s, void *writer)
{
    mw_writer *w = writer;
    mw_session *written[MW_WRITER_DONE];
    size_t nwritten = 0;
    pthread_mutex_lock(&w->mu);
    while (w->count == MW_WRITER_QUEUE) {
        w->taker_waiting = true;
        pthread_cond_wait(&w->not_full, &w->mu);
        w->taker_waiting = false;
    }
    w->ring[(w->head + w->count) % MW_WRITER_QUEUE] = s;
    w->count++;
    if (w->writer_waiting && w->count >= MW_WRITER_GRAB)
        pthread_cond_signal(&w->not_empty);
    if (w->ndone >= MW_WRITER_GRAB) {
        nwritten = w->ndone;
        memcpy(written, w->done, nwritten * sizeof written[0]);
        w->ndone = 0;
    }
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < nwritten; i++)
        w->release ? w->release(written[i], w->release_user) : mw_session_free(written[i]);
}

void mw_writer_on_written(mw_writer *w, mw_session_take_cb release, void *user)
{
    w->release = release;
    w->release_user = user;
}

void mw_writer_stop(mw_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->not_empty);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    for (size_t i = 0; i < w->ndone; i++)
        mw_session_free(w->done[i]);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->not_empty);
    pthread_cond_destroy(&w->not_full);
    g_free(w);
}
