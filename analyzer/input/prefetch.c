#include "input/prefetch.h"

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "input/format/pcapfile.h"

static atomic_int stop_flag; /* lock-free: safe in a signal handler */

void mw_prefetch_stop(void)
{
    atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

bool mw_prefetch_stopping(void)
{
    return atomic_load_explicit(&stop_flag, memory_order_relaxed) != 0;
}

typedef mw_prefetch_entry entry; /* followed by its note */

struct queue;

typedef struct mw_prefetch_batch {
    uint8_t *buf;   /* the packets' bytes */
    size_t cap, used;
    uint8_t *index; /* entries */
    size_t count;           /* at most MW_PREFETCH_BATCH_PACKETS */
    int64_t since;  /* monotonic time of its first packet */
    int64_t offset; /* the stream's position when the batch was handed over */
    bool last;      /* the reader has finished: rc and err below are its result */
    int rc;
    char *err;
    atomic_int refs;      /* with batch_begin: the consumer's references */
    struct queue *home;   /* the free queue it goes back to */
    size_t stride;        /* of an index entry with its note */
} batch;

/* A queue of batch pointers between the two threads. pthreads rather than GAsyncQueue:
 * GLib's futex-based mutexes are invisible to ThreadSanitizer, these are not. */
typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *items[MW_PREFETCH_BATCHES_MAX];
    size_t head, count, size;
} queue;

static void queue_init(queue *q, size_t size)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->head = q->count = 0;
    q->size = size;
}

static void queue_destroy(queue *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

/* Never full: there are only q->size batches in all. */
static void queue_push(queue *q, batch *b)
{
    pthread_mutex_lock(&q->mu);
    q->items[(q->head + q->count) % q->size] = b;
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
    q->head = (q->head + 1) % q->size;
    q->count--;
    pthread_mutex_unlock(&q->mu);
    return b;
}

#define ALIGN8(n) MW_PREFETCH_ALIGN8(n)

typedef struct {
    const mw_prefetch *pf;
    size_t stride;  /* of an index entry with its note */
    bool direct;    /* no reader thread: batches are delivered as they fill, on this one */
    bool kept;      /* the consumer keeps batches (mw_prefetch.batch_begin) */
    queue free_q, full_q;
    batch *cur;
    batch *spare;   /* direct: the other batch */
} reader;

void mw_prefetch_retain(mw_prefetch_batch *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

/* The hand-over of a kept batch's bytes (the reader's writes to the consumers' reads, and
 * back): the reader fills the batch, then pushes it to full_q under its mutex; the calling
 * thread pops it under that mutex (acquire: it sees every byte written) and passes it on
 * to its own threads by queues that synchronise the same way, each with a reference
 * (mw_prefetch_retain, relaxed: the caller holds one already, so refs cannot reach zero
 * meanwhile). Each holder's last read comes before its mw_prefetch_release, a release in
 * the read-modify-write chain on refs; the one that brings refs to zero reads it with
 * acquire, so every holder's reads happen before its queue_push to the free queue, and so
 * before the reader's pop of it and its next write into the bytes. No holder touches the
 * batch after its release (it may be read into at once). */
bool mw_prefetch_release(mw_prefetch_batch *b)
{
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return false;
    queue_push(b->home, b);
    return true;
}

void mw_prefetch_batch_view(const mw_prefetch_batch *b, mw_prefetch_view *v)
{
    *v = (mw_prefetch_view){ b->index, b->buf, b->stride, b->count, b->offset };
}

/* Every packet of a full batch to the callback, in order. kept: the consumer keeps
 * references (batch_begin), and gives the batch back itself. */
static void deliver(const reader *r, batch *b, bool kept)
{
    const mw_prefetch *pf = r->pf;
    const size_t head = ALIGN8(sizeof(entry));
    if (kept) {
        atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
        pf->batch_begin(pf->user, b);
    }
    if (kept && pf->take) {
        pf->take(pf->user, b);
        pf->batch_end(pf->user, b); /* b is not touched after: it may be read into */
        return;
    }
    for (size_t i = 0; i < b->count; i++) {
        const uint8_t *rec = b->index + i * r->stride;
        const entry *e = (const entry *)(const void *)rec;
        pf->cb(pf->user, &e->h, b->buf + e->data, rec + head, b->offset);
    }
    if (kept)
        pf->batch_end(pf->user, b);
}

static long stream_offset(const mw_prefetch *pf)
{
    if (pf->raw)
        return (long)pf->raw->offset;
    return pf->fp ? ftell(pf->fp) : -1;
}

/* The current batch to the analysis, the next one to fill. */
static void hand_over(reader *r)
{
    batch *b = r->cur;
    long off = stream_offset(r->pf);
    b->offset = off < 0 ? -1 : (int64_t)off;
    batch *next;
    if (!r->direct) { /* handed over before the wait: a consumer that keeps batches counts on it */
        queue_push(&r->full_q, b);
        next = queue_pop(&r->free_q);
    } else if (r->kept) {
        /* the consumer's batch_begin waited until it kept at most all but one: one is free */
        deliver(r, b, true);
        next = queue_pop(&r->free_q);
    } else {
        deliver(r, b, false);
        next = r->spare;
        r->spare = b;
    }
    next->used = 0;
    next->count = 0;
    r->cur = next;
}

void mw_prefetch_idle(void *handle, bool blocked)
{
    reader *r = handle;
    if (!r || r->cur->count == 0)
        return;
    if (blocked || g_get_monotonic_time() - r->cur->since >= MW_PREFETCH_HOLD_MS * 1000)
        hand_over(r);
}

/* A packet into the current batch's index (its bytes at data in buf), with its note. */
static void add_entry(reader *r, const struct pcap_pkthdr *h, size_t data)
{
    batch *b = r->cur;
    if (b->count == 0 && r->pf->idle_slot)
        b->since = g_get_monotonic_time();
    uint8_t *rec = b->index + b->count * r->stride;
    entry *e = (entry *)(void *)rec;
    e->h = *h;
    e->data = data;
    b->count++;
    if (r->pf->work)
        r->pf->work(r->pf->work_user, &e->h, b->buf + data, rec + ALIGN8(sizeof(entry)));
}

static void on_read(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    reader *r = (reader *)user;
    const mw_prefetch *pf = r->pf;
    if (mw_prefetch_stopping())
        pcap_breakloop(pf->p); /* this packet is still kept: the loop ends after it */
    const size_t need = ALIGN8(h->caplen);
    if ((r->cur->used + need > r->cur->cap && r->cur->count > 0) ||
        r->cur->count == MW_PREFETCH_BATCH_PACKETS)
        hand_over(r);
    batch *b = r->cur;
    if (need > b->cap) { /* larger than a batch: this one grows to hold it */
        b->buf = g_realloc(b->buf, need);
        b->cap = need;
    }
    memcpy(b->buf + b->used, data, h->caplen);
    b->used += need;
    add_entry(r, h, b->used - need);
}

/* A plain pcap file: blocks of it read into the batches, the records indexed in place.
 * What a full batch holds past its last whole record is read again into the next one.
 * Returns as pcap_dispatch would (the packets read, or -1 with *err). */
static int read_raw(reader *r, char **err)
{
    const mw_prefetch *pf = r->pf;
    mw_pcapfile *f = pf->raw;
    size_t pos = 0; /* the next record in the current batch */
    int n = 0;
    for (;;) {
        batch *b = r->cur;
        struct pcap_pkthdr h;
        size_t size;
        int rc = 0;
        while (b->count < MW_PREFETCH_BATCH_PACKETS &&
               (rc = mw_pcapfile_record(f, b->buf + pos, b->used - pos, &h, &size)) == 1) {
            add_entry(r, &h, pos + MW_PCAPFILE_REC_HEAD);
            pos += size;
            n++;
            if ((pf->max_packets > 0 && n >= pf->max_packets) || mw_prefetch_stopping())
                return n;
        }
        if (rc < 0) {
            *err = g_strdup(f->err);
            return -1;
        }
        if (b->count == MW_PREFETCH_BATCH_PACKETS || b->used == b->cap) {
            f->offset -= (int64_t)(b->used - pos); /* unread: the next batch reads it */
            b->used = pos;
            hand_over(r);
            b = r->cur;
            pos = 0;
        }
        size_t want = MIN(b->cap - b->used, MW_PREFETCH_READ_BYTES);
        ssize_t got = mw_pcapfile_read(f, b->buf + b->used, want);
        if (got < 0) {
            *err = g_strdup(f->err);
            return -1;
        }
        if (got == 0) {
            if (pos == b->used)
                return n;
            mw_pcapfile_truncated(f, b->buf + pos, b->used - pos);
            *err = g_strdup(f->err);
            return -1;
        }
        b->used += (size_t)got;
    }
}

/* Reads everything into batches (handed over as they fill); the last one, with the
 * result, is handed over too. */
static void read_all(reader *r)
{
    const mw_prefetch *pf = r->pf;
    if (pf->idle_slot)
        *pf->idle_slot = r;
    char *err = NULL;
    int rc;
    if (pf->raw) {
        rc = read_raw(r, &err);
    } else {
        rc = pcap_dispatch(pf->p, pf->max_packets > 0 ? pf->max_packets : -1, on_read,
                           (u_char *)r);
        err = rc == -1 ? g_strdup(pcap_geterr(pf->p)) : NULL;
    }
    if (pf->idle_slot)
        *pf->idle_slot = NULL;
    batch *b = r->cur;
    long off = stream_offset(pf);
    b->offset = off < 0 ? -1 : (int64_t)off;
    b->last = true;
    b->rc = rc;
    b->err = err;
    if (r->direct)
        deliver(r, b, r->kept);
    else
        queue_push(&r->full_q, b);
}

static void *reader_main(void *data)
{
    reader *r = data;
    r->cur = queue_pop(&r->free_q);
    r->cur->used = r->cur->count = 0;
    read_all(r);
    return NULL;
}

static void batch_init(batch *b, size_t stride)
{
    *b = (batch){ .buf = g_malloc(MW_PREFETCH_BATCH_BYTES), .cap = MW_PREFETCH_BATCH_BYTES,
                  .index = g_malloc(MW_PREFETCH_BATCH_PACKETS * stride) };
}

/* Without a reader thread: each batch delivered here as it fills; two in turn, or, when
 * the consumer keeps them, the free ones. */
static int read_here(reader *r, batch *batches, char **err)
{
    r->direct = true;
    if (r->kept) {
        r->cur = queue_pop(&r->free_q);
    } else {
        r->cur = &batches[0];
        r->spare = &batches[1];
    }
    r->cur->used = r->cur->count = 0;
    read_all(r);
    batch *b = r->cur;
    if (err)
        *err = b->err;
    else
        g_free(b->err);
    return b->rc;
}

int mw_prefetch_run(const mw_prefetch *pf, char **err)
{
    g_assert(pf->note_size <= MW_PREFETCH_NOTE_MAX);
    g_assert(pf->batches <= MW_PREFETCH_BATCHES_MAX);
    g_assert(!pf->batch_begin == !pf->batch_end && !pf->batch_begin == !pf->settle);
    g_assert(!pf->take || pf->batch_begin);
    /* a record read again at the start of the next batch fits there, whole */
    G_STATIC_ASSERT(MW_PREFETCH_BATCH_BYTES >= MW_PCAPFILE_REC_MAX);
    const size_t nb = pf->batches ? pf->batches : MW_PREFETCH_BATCHES;
    batch batches[MW_PREFETCH_BATCHES_MAX];
    reader r = { .pf = pf, .stride = ALIGN8(sizeof(entry)) + ALIGN8(pf->note_size) };
    queue_init(&r.free_q, nb);
    queue_init(&r.full_q, nb);
    for (size_t i = 0; i < nb; i++) {
        batch_init(&batches[i], r.stride);
        batches[i].home = &r.free_q;
        batches[i].stride = r.stride;
        queue_push(&r.free_q, &batches[i]);
    }
    const bool kept = r.kept = pf->batch_begin != NULL;
    pthread_t t;
    int rc = 0;
    if (pf->here || pthread_create(&t, NULL, reader_main, &r) != 0) {
        rc = read_here(&r, batches, err); /* asked to, or no thread to be had */
    } else {
        for (;;) {
            batch *b = queue_pop(&r.full_q);
            /* read first: a kept batch may be given back by another thread meanwhile */
            bool last = b->last;
            int brc = b->rc;
            char *berr = b->err;
            deliver(&r, b, kept);
            if (last) {
                rc = brc;
                if (err)
                    *err = berr;
                else
                    g_free(berr);
                break;
            }
            if (!kept)
                queue_push(&r.free_q, b);
        }
        pthread_join(t, NULL);
    }
    if (kept) /* no batch is freed while another thread reads it */
        pf->settle(pf->user);
    for (size_t i = 0; i < nb; i++) {
        g_free(batches[i].buf);
        g_free(batches[i].index);
    }
    queue_destroy(&r.free_q);
    queue_destroy(&r.full_q);
    return rc;
}
