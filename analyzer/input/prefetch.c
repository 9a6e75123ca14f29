#include "input/prefetch.h"

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

/* A batch: records of a struct pcap_pkthdr, the packet's note, then its caplen bytes,
 * each part starting at a multiple of 8. */
static atomic_int stop_flag; /* lock-free: safe in a signal handler */

void mw_prefetch_stop(void)
{
    atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

bool mw_prefetch_stopping(void)
{
    return atomic_load_explicit(&stop_flag, memory_order_relaxed) != 0;
}

typedef struct {
    uint8_t *buf;
    size_t cap, used;
    int64_t since;  /* monotonic time of its first packet */
    int64_t offset; /* the stream's position when the batch was handed over */
    bool last;      /* the reader has finished: rc and err below are its result */
    int rc;
    char *err;
} batch;

/* A queue of batch pointers between the two threads. pthreads rather than GAsyncQueue:
 * GLib's futex-based mutexes are invisible to ThreadSanitizer, these are not. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *items[MW_PREFETCH_BATCHES];
    size_t head, count;
} queue;

static void queue_init(queue *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->head = q->count = 0;
}

static void queue_destroy(queue *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

/* Never full: there are only MW_PREFETCH_BATCHES batches in all. */
static void queue_push(queue *q, batch *b)
{
    pthread_mutex_lock(&q->mu);
    q->items[(q->head + q->count) % MW_PREFETCH_BATCHES] = b;
    q->count++;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static batch *queue_pop(queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == 0)
        pthread_cond_wait(&q->cv, &q->mu);
    batch *b = q->items[q->head];
    q->head = (q->head + 1) % MW_PREFETCH_BATCHES;
    q->count--;
    pthread_mutex_unlock(&q->mu);
    return b;
}

typedef struct {
    const mw_prefetch *pf;
    queue free_q, full_q;
    batch *cur;
} reader;

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

static void hand_over(reader *r)
{
    long off = r->pf->fp ? ftell(r->pf->fp) : -1;
    r->cur->offset = off < 0 ? -1 : (int64_t)off;
    queue_push(&r->full_q, r->cur);
    r->cur = queue_pop(&r->free_q);
    r->cur->used = 0;
}

void mw_prefetch_idle(void *handle, bool blocked)
{
    reader *r = handle;
    if (!r || r->cur->used == 0)
        return;
    if (blocked || g_get_monotonic_time() - r->cur->since >= MW_PREFETCH_HOLD_MS * 1000)
        hand_over(r);
}

static void on_read(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    reader *r = (reader *)user;
    const mw_prefetch *pf = r->pf;
    if (mw_prefetch_stopping())
        pcap_breakloop(pf->p); /* this packet is still kept: the loop ends after it */
    const size_t head = ALIGN8(sizeof *h), note = ALIGN8(pf->note_size);
    const size_t need = head + note + ALIGN8(h->caplen);
    if (r->cur->used + need > r->cur->cap && r->cur->used > 0)
        hand_over(r);
    batch *b = r->cur;
    if (b->used == 0 && pf->idle_slot)
        b->since = g_get_monotonic_time();
    if (need > b->cap) { /* larger than a batch: this one grows to hold it */
        b->buf = g_realloc(b->buf, need);
        b->cap = need;
    }
    uint8_t *rec = b->buf + b->used;
    memcpy(rec, h, sizeof *h);
    memcpy(rec + head + note, data, h->caplen);
    if (pf->work)
        pf->work(pf->work_user, h, rec + head + note, rec + head);
    b->used += need;
}

static void *reader_main(void *data)
{
    reader *r = data;
    r->cur = queue_pop(&r->free_q);
    r->cur->used = 0;
    if (r->pf->idle_slot)
        *r->pf->idle_slot = r;
    int rc = pcap_dispatch(r->pf->p, r->pf->max_packets > 0 ? r->pf->max_packets : -1, on_read,
                           (u_char *)r);
    if (r->pf->idle_slot)
        *r->pf->idle_slot = NULL;
    batch *b = r->cur;
    long off = r->pf->fp ? ftell(r->pf->fp) : -1;
    b->offset = off < 0 ? -1 : (int64_t)off;
    b->last = true;
    b->rc = rc;
    b->err = rc == -1 ? g_strdup(pcap_geterr(r->pf->p)) : NULL;
    queue_push(&r->full_q, b);
    return NULL;
}

/* Without a reader thread: pcap_dispatch calls work and cb directly. */
static void on_direct(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    const mw_prefetch *pf = (const mw_prefetch *)user;
    if (mw_prefetch_stopping())
        pcap_breakloop(pf->p);
    uint64_t note[MW_PREFETCH_NOTE_MAX / 8]; /* aligned as a batch's note is */
    if (pf->work)
        pf->work(pf->work_user, h, data, note);
    long off = pf->fp ? ftell(pf->fp) : -1;
    pf->cb(pf->user, h, data, note, off < 0 ? -1 : (int64_t)off);
}

static int read_here(const mw_prefetch *pf, char **err)
{
    int rc = pcap_dispatch(pf->p, pf->max_packets > 0 ? pf->max_packets : -1, on_direct,
                           (u_char *)pf);
    if (rc == -1 && err)
        *err = g_strdup(pcap_geterr(pf->p));
    return rc;
}

int mw_prefetch_run(const mw_prefetch *pf, char **err)
{
    g_assert(pf->note_size <= MW_PREFETCH_NOTE_MAX);
    batch batches[MW_PREFETCH_BATCHES];
    reader r = { .pf = pf };
    queue_init(&r.free_q);
    queue_init(&r.full_q);
    for (int i = 0; i < MW_PREFETCH_BATCHES; i++) {
        batches[i] = (batch){ .buf = g_malloc(MW_PREFETCH_BATCH_BYTES),
                              .cap = MW_PREFETCH_BATCH_BYTES };
        queue_push(&r.free_q, &batches[i]);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, reader_main, &r) != 0) {
        for (int i = 0; i < MW_PREFETCH_BATCHES; i++)
            g_free(batches[i].buf);
        queue_destroy(&r.free_q);
        queue_destroy(&r.full_q);
        return read_here(pf, err); /* no thread to be had */
    }
    const size_t note = ALIGN8(pf->note_size);
    int rc = 0;
    for (;;) {
        batch *b = queue_pop(&r.full_q);
        for (size_t pos = 0; pos < b->used;) {
            struct pcap_pkthdr h;
            memcpy(&h, b->buf + pos, sizeof h);
            const uint8_t *rec_note = b->buf + pos + ALIGN8(sizeof h);
            pf->cb(pf->user, &h, rec_note + note, rec_note, b->offset);
            pos += ALIGN8(sizeof h) + note + ALIGN8(h.caplen);
        }
        if (b->last) {
            rc = b->rc;
            if (err)
                *err = b->err;
            else
                g_free(b->err);
            break;
        }
        queue_push(&r.free_q, b);
    }
    pthread_join(t, NULL);
    for (int i = 0; i < MW_PREFETCH_BATCHES; i++)
        g_free(batches[i].buf);
    queue_destroy(&r.free_q);
    queue_destroy(&r.full_q);
    return rc;
}
