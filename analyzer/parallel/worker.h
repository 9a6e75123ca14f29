/* One analysis thread of parallel.h, and the records the dispatcher writes into its
 * batches. Internal to analyzer/parallel/. */
#ifndef MW_WORKER_H
#define MW_WORKER_H

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/flow.h"
#include "input/defrag.h"
#include "parallel/order.h"
#include "parallel/ring.h"

typedef enum {
    MW_REC_SEGMENT = 1, /* a TCP segment of this thread's: rec_head, mw_packet, payload */
    MW_REC_SEGMENT_AT,  /* the same, the payload where mw_packet says: in the reader's batch
                         * (the mw_batch's src), not copied */
    MW_REC_TICK,        /* another thread's TCP segment: rec_head alone */
    MW_REC_SHARED,      /* a reader's batch whole (mw_rec_shared), the same to every thread:
                         * each walks all of its packets (parallel/direct.c) */
    MW_REC_NEW_FILE,
    MW_REC_BARRIER,     /* say "done" (mw_parallel_barrier) */
    MW_REC_END,         /* the input ended: close every flow */
} mw_rec_kind;

typedef struct {
    uint32_t kind;   /* mw_rec_kind */
    uint32_t size;   /* the whole record's, a multiple of 8 */
    uint64_t index;  /* the segment's global index */
    uint64_t frame;
    int64_t ts_us;
    const char *iface;
} mw_rec_head;

#define MW_REC_ALIGN(n) (((n) + 7u) & ~(size_t)7u)

typedef struct {
    mw_rec_head h;        /* frame: the number of the batch's first packet; iface: its
                           * packets' label; index unused */
    mw_prefetch_batch *b; /* read only; the mw_batch's src holds this thread's reference */
} mw_rec_shared;

/* Where a thread's results wait for the merger (under mw_outbox_lock's mutex). The
 * records a thread has closed and the merger not yet written (posted - taken) are bounded
 * by its hold limit: over it, the thread waits (parallel.h, MW_PARALLEL_HOLD). */
typedef struct {
    GArray *ev;     /* mw_order_event */
    uint64_t wm;    /* every event up to this index is in ev (or was taken) */
    uint64_t posted; /* session records put in ev, ever */
    uint64_t taken;  /* ... and written by the merger (set by the dispatcher) */
    uint64_t peak;  /* the most posted - taken has been (at most the hold) */
    bool waiting;   /* the thread waits for taken to catch up */
    bool done;      /* the thread has finished */
    bool at_barrier;
    GPtrArray *to_free; /* written records of this thread's, to free (the dispatcher's) */
} mw_outbox;

/* Shared by the threads and the dispatcher: one lock and condition for every outbox.
 * gen moves on at every post and every batch given back: the dispatcher waits for it. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t gen;
} mw_outbox_lock;

typedef struct mw_worker {
    unsigned id;
    bool discard;          /* --threads 0: batches given back unread */
    mw_ring ring;
    mw_batch *cur;         /* the dispatcher's batch being filled */
    uint64_t stamped;      /* the dispatcher's: the watermark of the latest batch handed over */
    /* the idle deadline the latest tick returned (mw_engine_tick), told after each batch:
     * the dispatcher sends a tick only when the time passes it (parallel.c, needs_tick). A
     * deadline told earlier is lower, never wrong: an own segment that moves it on makes
     * at most one tick more, which tells the new one. */
    _Atomic int64_t deadline;
    int64_t deadline_seen;
    _Atomic size_t flows_live; /* the engine's, after the latest batch (the progress line) */
    /* the dispatcher's count of the reader's batches not yet given back (parallel.c): the
     * thread that gives one back for good counts it down */
    _Atomic unsigned *src_held;
    size_t hold;           /* records this thread may have waiting in the merge */
    pthread_t thread;
    bool started;
    mw_engine *e;
    const mw_engine_stats *st;
    mw_outbox_lock *lock;
    mw_outbox out;
    GPtrArray *written;    /* the dispatcher's: written records of this thread's, to send */
    GPtrArray *freeing;    /* the thread's: taken from out.to_free, freed after the lock */
    uint64_t freed;        /* ... records freed so far (read after the thread ended) */
    /* the analysis thread's own */
    GArray *pending;       /* events since the last post */
    size_t pending_recs;   /* ... of which session records */
    uint64_t held_seen;    /* posted - taken at the last post */
    uint64_t g;            /* the index being handled */
    uint32_t base;         /* MW_ORDER_OWN, _IDLE (a tick) or _END */
    uint64_t wm;
    uint64_t cur_frame;    /* for evidence: the packet being handled */
    const char *cur_iface;
    /* the walk of the reader's batches (MW_REC_SHARED, parallel/direct.c), the analysis
     * thread's own: what the dispatcher keeps for the copies it hands over, each thread
     * keeps itself, from the same packets in the same order, so each comes to the same
     * index, clock and reassembled datagrams */
    unsigned nw;           /* analysis threads: the segments' thread is hash scaled to it */
    uint64_t index;        /* TCP segments so far (the global index) */
    int64_t now_us;        /* the latest of their times */
    bool clock_back;       /* a time went back: a tick whenever the time moves on */
    uint64_t last_frame;   /* the latest segment's (the end's closes are dated by it) */
    int64_t last_ts;
    const char *last_iface;
    mw_defrag_limits frag_limits;
    struct mw_defrag *defrag; /* this thread's reassembly, made at the first fragment */
    uint16_t *own;         /* the entries of its own segments in the batch walked */
    uint64_t packets;      /* frames not analysed as a TCP segment (thread 0's are counted) */
    uint64_t not_decoded[MW_DROP_COUNT]; /* ... by reason; the defrag adds to them */
} mw_worker;

/* The records of one thread (worker.c), for the walk of the reader's batches: a segment of
 * its own (k: its flow key as the look-ahead made it, or NULL), and a tick of its clock. */
void mw_worker_segment(mw_worker *w, const mw_packet *pkt, uint64_t index, uint64_t frame,
                       int64_t ts_us, const char *iface, const mw_flow_key *k);
void mw_worker_tick(mw_worker *w, uint64_t index, uint64_t frame, int64_t ts_us,
                    const char *iface);
/* parallel/direct.c: every packet of r's batch (the thread's wm then its index); at the
 * end of the input, before the flows are closed: the end's tick, as the dispatcher's. */
void mw_direct_walk(mw_worker *w, const mw_rec_shared *r);
void mw_direct_end(mw_worker *w);
void mw_direct_free(mw_worker *w);

/* Start the thread (its engine made from cfg, at most hold records of its waiting in the
 * merge); false when it could not be. */
bool mw_worker_start(mw_worker *w, const mw_config *cfg, mw_outbox_lock *lock, size_t hold);
/* After MW_REC_END was handed over and the thread said done. */
void mw_worker_join(mw_worker *w);
void mw_worker_free(mw_worker *w);

#endif
