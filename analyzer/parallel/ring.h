/* The batches between the dispatcher and one analysis thread (parallel.h): a fixed set
 * circulating between a free queue and a full queue, as input/prefetch.c's. Each queue has
 * one producer and one consumer (full: the dispatcher pushes, the thread pops; free: the
 * other way round), so a batch is handed over by C11 atomics, no lock (ring.c says how);
 * a consumer with nothing to take sleeps on a pthreads condition (pthreads rather than
 * GLib's futexes, which ThreadSanitizer does not see). */
#ifndef MW_RING_H
#define MW_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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
    mw_batch *items[MW_PARALLEL_BATCHES]; /* slot i % MW_PARALLEL_BATCHES: the i-th pushed */
    _Atomic size_t tail;   /* batches pushed, ever (the producer's) */
    _Atomic size_t head;   /* batches popped, ever (the consumer's) */
    _Atomic bool sleeping; /* the consumer waits on cv, or is about to */
    pthread_mutex_t mu;    /* for cv only */
    pthread_cond_t cv;
} mw_batch_queue;

typedef struct {
    mw_batch batches[MW_PARALLEL_BATCHES];
    mw_batch_queue free_q, full_q;
} mw_ring;

/* Every batch allocated and free. */
void mw_ring_init(mw_ring *r);
void mw_ring_destroy(mw_ring *r);
/* The producer's (one thread): never full, there are only MW_PARALLEL_BATCHES batches. */
void mw_batch_push(mw_batch_queue *q, mw_batch *b);
/* The consumer's (one thread): waits for a batch. */
mw_batch *mw_batch_pop(mw_batch_queue *q);
/* The consumer's: a batch if there is one now, else NULL. */
mw_batch *mw_batch_try_pop(mw_batch_queue *q);

#endif
