#include "parallel/ring.h"

#include <glib.h>

/* The hand-over of a batch (ring.h): one producer, one consumer, C11 atomics.
 *
 * The producer writes the batch (its records, its watermark, its reference to the
 * reader's batch) and its slot, then stores tail with release; the consumer loads tail
 * with acquire and, seeing the new count, sees the slot and everything written to the
 * batch before (the release store synchronises with the acquire load that reads it). The
 * consumer reads the slot, then stores head with release; the producer, before it writes
 * a slot again, loads head with acquire: the consumer's read of the slot's previous batch
 * happens before the write (and the queue is never full: g_assert says so).
 *
 * Sleeping: a consumer that finds the queue empty says so (sleeping) and looks again; a
 * producer that has stored tail looks whether the consumer sleeps, and then signals it
 * under the mutex. Both the store and the load on either side are seq_cst: in their one
 * total order either the consumer's second look sees the new tail, or the producer's look
 * sees sleeping (the store-load pattern that acquire/release alone does not order), so no
 * wake-up is lost. The consumer says sleeping and waits with the mutex held, the producer
 * signals with it held: the signal comes while it waits, or after it has looked again. */

static void queue_init(mw_batch_queue *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    atomic_init(&q->sleeping, false);
}

static void queue_destroy(mw_batch_queue *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

void mw_ring_init(mw_ring *r)
{
    queue_init(&r->free_q);
    queue_init(&r->full_q);
    for (int i = 0; i < MW_PARALLEL_BATCHES; i++) {
        r->batches[i] = (mw_batch){ g_malloc(MW_PARALLEL_BATCH_BYTES), MW_PARALLEL_BATCH_BYTES,
                                    0, 0, NULL };
        mw_batch_push(&r->free_q, &r->batches[i]);
    }
}

void mw_ring_destroy(mw_ring *r)
{
    for (int i = 0; i < MW_PARALLEL_BATCHES; i++)
        g_free(r->batches[i].buf);
    queue_destroy(&r->free_q);
    queue_destroy(&r->full_q);
}

void mw_batch_push(mw_batch_queue *q, mw_batch *b)
{
    const size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed); /* its own */
    g_assert(t - atomic_load_explicit(&q->head, memory_order_acquire) < MW_PARALLEL_BATCHES);
    q->items[t % MW_PARALLEL_BATCHES] = b;
    atomic_store_explicit(&q->tail, t + 1, memory_order_seq_cst); /* a release, and more */
    if (atomic_load_explicit(&q->sleeping, memory_order_seq_cst)) {
        pthread_mutex_lock(&q->mu);
        pthread_cond_signal(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
}

mw_batch *mw_batch_try_pop(mw_batch_queue *q)
{
    const size_t h = atomic_load_explicit(&q->head, memory_order_relaxed); /* its own */
    if (atomic_load_explicit(&q->tail, memory_order_acquire) == h)
        return NULL;
    mw_batch *b = q->items[h % MW_PARALLEL_BATCHES];
    atomic_store_explicit(&q->head, h + 1, memory_order_release); /* the slot is read */
    return b;
}

mw_batch *mw_batch_pop(mw_batch_queue *q)
{
    for (;;) {
        mw_batch *b = mw_batch_try_pop(q);
        if (b)
            return b;
        pthread_mutex_lock(&q->mu);
        atomic_store_explicit(&q->sleeping, true, memory_order_seq_cst);
        const size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
        while (atomic_load_explicit(&q->tail, memory_order_seq_cst) == h)
            pthread_cond_wait(&q->cv, &q->mu);
        atomic_store_explicit(&q->sleeping, false, memory_order_relaxed);
        pthread_mutex_unlock(&q->mu);
    }
}
