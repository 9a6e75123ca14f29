/* The batches between the dispatcher and one analysis thread (parallel.h): a fixed set
 * circulating between a free queue and a full queue, as input/prefetch.c's. pthreads
 * rather than GAsyncQueue: GLib's futex mutexes are invisible to ThreadSanitizer. */
#ifndef MW_RING_H
#define MW_RING_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "input/prefetch.h"
#include "parallel/parallel.h"

typedef struct {
    uint8_t *buf;
    size_t cap, used;
    uint64_t wm;  /* when handed over: every segment up to this index is in it or before */
    /* the reader's batch its MW_REC_SEGMENT_AT records point into (one reference to it,
     * taken when handed over, given back by the thread once read), or NULL */
    mw_prefetch_batch *src;
} mw_batch;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mw_batch *items[MW_PARALLEL_BATCHES];
    size_t head, count;
} mw_batch_queue;

typedef struct {
    mw_batch batches[MW_PARALLEL_BATCHES];
    mw_batch_queue free_q, full_q;
} mw_ring;

/* Every batch allocated and free. */
void mw_ring_init(mw_ring *r);
void mw_ring_destroy(mw_ring *r);
/* Never full: there are only MW_PARALLEL_BATCHES batches. */
void mw_batch_push(mw_batch_queue *q, mw_batch *b);
/* Waits for a batch. */
mw_batch *mw_batch_pop(mw_batch_queue *q);
/* A batch if there is one now, else NULL. */
mw_batch *mw_batch_try_pop(mw_batch_queue *q);

#endif
