/* The order records come out in when several threads analyse (analyzer/parallel/), and the
 * merger that restores it: the same records, in the same order and with the same ids as
 * one thread writes them.
 *
 * One thread closes sessions in this order: while handling the TCP segment with global
 * index g (1-based, every TCP segment of the input, in read order), first what the
 * segment itself closes (a reused 4-tuple, an eviction by --max-flows, its FIN or RST),
 * then the flows idle for longer than the idle timeout, least recently active first, then
 * evictions by --max-memory; at the end of the input every open flow, least recently
 * active first. "Least recently active" is the order of the index of each session's
 * latest segment (mw_session_more.last_index). So each close has a key:
 *   (g, phase, last_index)   g: the segment (UINT64_MAX at the end of the input),
 *                            phase: START < OWN < IDLE < MEMORY < END,
 *                            last_index: for IDLE, MEMORY and END (0 for OWN).
 * Every thread sees every segment's index and time (its own segments whole, the others as
 * a clock tick), so it closes idle flows at the same g as one thread would, and each
 * thread's closes come in key order. The merger merges the threads' streams by key; two
 * closes with the same key are the same thread's, kept in its order.
 *
 * Ids: one thread numbers sessions s1, s2, ... in the order they start, and at most one
 * session starts per segment. Each thread names a session it starts after the segment's
 * index (sG) and says so (a START event); the merger, which sees the starts in index
 * order, renames it s(rank of G among the starts) when it writes the record, and
 * renames "continues" (the id of an evicted record the session continues) the same way.
 *
 * What differs from one thread, by design (README "Threads"): --max-flows and
 * --max-memory are split between the threads, so which flow is evicted first may differ. */
#ifndef MW_ORDER_H
#define MW_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/flow.h"

typedef enum {
    MW_ORDER_START = 0, /* a session started at g (s: NULL) */
    MW_ORDER_OWN,
    MW_ORDER_IDLE,
    MW_ORDER_MEMORY,
    MW_ORDER_END,
} mw_order_phase;

#define MW_ORDER_AT_END UINT64_MAX

typedef struct {
    uint64_t g;
    uint64_t last;    /* the session's last_index (IDLE, MEMORY, END), else 0 */
    uint32_t phase;   /* mw_order_phase */
    mw_session *s;    /* the closed session, owned by the event; NULL for START */
} mw_order_event;

/* <0, 0, >0 as a sorts before, with, after b. */
int mw_order_cmp(const mw_order_event *a, const mw_order_event *b);

typedef struct mw_merger mw_merger;

/* n streams; each record, renamed, goes to emit (which owns it from then on). */
mw_merger *mw_merger_new(unsigned n, mw_session_take_cb emit, void *user);
/* Stream i's next events (in key order), and its watermark: every event of i with g up to
 * wm has been added (MW_ORDER_AT_END: all of them). */
void mw_merger_add(mw_merger *m, unsigned i, const mw_order_event *ev, size_t count,
                   uint64_t wm);
/* Emit every record whose place is known now; returns how many. */
size_t mw_merger_run(mw_merger *m);
/* While emit runs: the stream the record came from. */
unsigned mw_merger_current(const mw_merger *m);
/* Records of stream i emitted so far. */
uint64_t mw_merger_taken(const mw_merger *m, unsigned i);
/* Records held, not yet emitted. */
size_t mw_merger_held(const mw_merger *m);
/* Frees the merger and any record still held (there is none after a full run). */
void mw_merger_free(mw_merger *m);

#endif
