#include "parallel/ring.h"

#include <glib.h>

static void queue_init(mw_batch_queue *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->head = q->count = 0;
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
    pthread_mutex_destroy(&r->free_q.mu);
    pthread_cond_destroy(&r->free_q.cv);
    pthread_mutex_destroy(&r->full_q.mu);
    pthread_cond_destroy(&r->full_q.cv);
}

void mw_batch_push(mw_batch_queue *q, mw_batch *b)
{
    pthread_mutex_lock(&q->mu);
    q->items[(q->head + q->count) % MW_PARALLEL_BATCHES] = b;
    q->count++;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static mw_batch *take(mw_batch_queue *q)
{
    mw_batch *b = q->items[q->head];
    q->head = (q->head + 1) % MW_PARALLEL_BATCHES;
    q->count--;
    return b;
}

mw_batch *mw_batch_pop(mw_batch_queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == 0)
        pthread_cond_wait(&q->cv, &q->mu);
    mw_batch *b = take(q);
    pthread_mutex_unlock(&q->mu);
    return b;
}

mw_batch *mw_batch_try_pop(mw_batch_queue *q)
{
    pthread_mutex_lock(&q->mu);
    mw_batch *b = q->count ? take(q) : NULL;
    pthread_mutex_unlock(&q->mu);
    return b;
}
