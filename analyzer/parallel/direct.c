/* The reader's batches walked by every analysis thread (parallel.h, MW_REC_SHARED).
 *
 * Instead of a dispatcher that copies each TCP segment into the batch of its thread and
 * sends clock ticks to the others, every thread reads every packet of the reader's batch
 * (shared, read only) and does for itself what the dispatcher did: it numbers the TCP
 * segments (the global index), keeps the clock (the latest time, whether a time went
 * back), puts IP fragments together (each thread its own reassembly, fed the same
 * fragments in the same order: the same datagrams come out at the same packets, so the
 * index stays the same on every thread), and finds each segment's thread from the hash
 * the reader thread worked out (input/capture.h, mw_capture_note.hash; parallel/shard.h).
 * Its own segments it analyses; another thread's segment is a tick of its clock when the
 * time moves on past its idle deadline (or, once a time went back, whenever it moves on),
 * as the dispatcher sent them (parallel.c, needs_tick): so its idle flows close at the
 * segment one thread would close them at, and the records' keys are those of one thread
 * (parallel/order.h). The deadline is the one the thread's latest tick returned: while
 * packet times never go back it only grows (a flow's own segments move it on, a new flow's
 * time is the latest), so an older one is lower, never wrong.
 *
 * Frames not analysed as TCP segments are counted by every thread; thread 0's counts are
 * the run's (parallel.c, mw_parallel_stats). */
#include "parallel/worker.h"

#include <glib.h>

#include "input/capture.h"
#include "parallel/shard.h"

/* The look-ahead over the thread's own segments in the batch (as worker.c's over its own
 * records, engine/flow.h mw_engine_prefetch_*): a first pass lists them (the hash in the
 * note tells them apart, in the line the walk reads anyway); then, own segment k about to
 * be handled, the one DIRECT_SLOT on has its flow key made and its slot load begun, the
 * one DIRECT_FLOW on its flow's load (and its payload's first line), the one DIRECT_STATE
 * on what its flow points to. */
#define DIRECT_SLOT 6u
#define DIRECT_FLOW 3u
#define DIRECT_STATE 1u
#define DIRECT_RING 8u /* above DIRECT_SLOT: the keys made and not yet used */
_Static_assert(DIRECT_STATE < DIRECT_FLOW && DIRECT_FLOW < DIRECT_SLOT &&
               DIRECT_SLOT < DIRECT_RING, "look-ahead distances");
_Static_assert(MW_PREFETCH_BATCH_PACKETS < UINT16_MAX, "an entry's number in 16 bits");

typedef struct {
    mw_prefetch_view v;
    const uint16_t *own; /* the entries of this thread's segments, then UINT16_MAX */
    size_t n_own;
    mw_flow_key key[DIRECT_RING]; /* own segment k's at k % DIRECT_RING */
} walk;

/* mw_ts_us (input/decode.h), its clamps tested first: a time within range, as every
 * packet's but a hostile file's, is the sum without them (the same value either way). */
static inline int64_t ts_of(const mw_prefetch_entry *e)
{
    const uint64_t s = (uint64_t)e->h.ts.tv_sec, us = (uint64_t)e->h.ts.tv_usec;
    if (G_LIKELY(s < (uint64_t)(INT64_MAX / 1000000 - 1) && us <= 999999))
        return (int64_t)s * 1000000 + (int64_t)us;
    return mw_ts_us(&e->h.ts);
}

static const mw_capture_note *note_at(const mw_prefetch_view *v, size_t i)
{
    return mw_prefetch_entry_note(mw_prefetch_view_entry(v, i));
}

/* The entries of this thread's segments (w->own), in order; how many. */
static size_t list_own(mw_worker *w, const mw_prefetch_view *v)
{
    if (!w->own)
        w->own = g_new(uint16_t, MW_PREFETCH_BATCH_PACKETS + 1);
    size_t n = 0;
    for (size_t i = 0; i < v->count && !w->discard; i++) {
        const mw_capture_note *d = note_at(v, i);
        w->own[n] = (uint16_t)i; /* kept when it is one: no branch to mispredict */
        n += d->ds == MW_DECODE_TCP && mw_shard_scale(d->hash, w->nw) == w->id;
    }
    w->own[n] = UINT16_MAX;
    return n;
}

/* Own segment k about to be handled: the stages for those after it (see above). */
static void look_on(walk *k, const mw_worker *w, size_t n)
{
    if (n + DIRECT_SLOT < k->n_own)
        mw_engine_prefetch_slot(w->e, &note_at(&k->v, k->own[n + DIRECT_SLOT])->pkt,
                                &k->key[(n + DIRECT_SLOT) % DIRECT_RING]);
    if (n + DIRECT_FLOW < k->n_own) {
        mw_engine_prefetch_flow(w->e, k->key[(n + DIRECT_FLOW) % DIRECT_RING].hash, false);
        const mw_capture_note *d = note_at(&k->v, k->own[n + DIRECT_FLOW]);
        if (d->pkt.payload_len)
            __builtin_prefetch(d->pkt.payload);
    }
    if (n + DIRECT_STATE < k->n_own)
        mw_engine_prefetch_flow(w->e, k->key[(n + DIRECT_STATE) % DIRECT_RING].hash, true);
}

/* A TCP segment's place: the next index, the clock moved on (true when the time is later
 * than every one before), and the first time that goes back makes every later advance a
 * tick; the thread gets one at the latest time then (dated by the previous segment, whose
 * index it takes: it closes nothing), as the dispatcher's clock_went_back gave it. */
static G_ALWAYS_INLINE inline bool clock_step(mw_worker *w, uint64_t frame, int64_t ts_us, const char *iface)
{
    w->index++;
    const bool ticks = ts_us > w->now_us;
    if (ticks) {
        w->now_us = ts_us;
    } else if (ts_us < w->now_us && !w->clock_back) {
        w->clock_back = true;
        if (!w->discard)
            mw_worker_tick(w, w->index - 1, w->last_frame, w->now_us, w->last_iface);
    }
    w->last_frame = frame;
    w->last_ts = ts_us;
    w->last_iface = iface;
    return ticks;
}

/* Another thread's segment: a tick only when it may close something here. */
static void other(mw_worker *w, bool ticks, uint64_t frame, int64_t ts_us, const char *iface)
{
    if (ticks && !w->discard && (w->clock_back || ts_us > w->deadline_seen))
        mw_worker_tick(w, w->index, frame, ts_us, iface);
    else
        w->wm = w->index;
}

static void count(mw_worker *w, unsigned reason)
{
    w->packets++;
    w->not_decoded[reason < MW_DROP_COUNT ? reason : MW_DROP_UNSUPPORTED]++;
}

/* A fragment into this thread's reassembly; a TCP datagram it completes is a segment at
 * this packet (its frame) as the dispatcher's reassembly made it, its thread by its own
 * hash. Apart, so that the common path keeps a small frame. */
static G_GNUC_NO_INLINE void fragment(mw_worker *w, const mw_packet *pkt, uint64_t frame,
                                     int64_t ts_us, const char *iface)
{
    if (!w->defrag)
        w->defrag = mw_defrag_new(&w->frag_limits, w->not_decoded);
    mw_packet whole;
    mw_decode_status wds;
    const bool out = mw_defrag_offer(w->defrag, pkt, ts_us, &whole, &wds);
    if (out && wds == MW_DECODE_TCP) {
        const bool ticks = clock_step(w, frame, ts_us, iface);
        if (!w->discard && mw_shard_of(&whole, w->nw) == w->id) /* the defrag's bytes */
            mw_worker_segment(w, &whole, w->index, frame, ts_us, iface, NULL);
        else
            other(w, ticks, frame, ts_us, iface);
        return;
    }
    w->packets++;
    if (out)
        w->not_decoded[whole.reason < MW_DROP_COUNT ? whole.reason : MW_DROP_UNSUPPORTED]++;
}

void mw_direct_walk(mw_worker *w, const mw_rec_shared *r)
{
    walk k;
    mw_prefetch_batch_view(r->b, &k.v);
    k.n_own = list_own(w, &k.v);
    k.own = w->own;
    for (size_t n = 0; n < DIRECT_SLOT && n < k.n_own; n++)
        mw_engine_prefetch_slot(w->e, &note_at(&k.v, k.own[n])->pkt, &k.key[n % DIRECT_RING]);
    const char *iface = r->h.iface;
    size_t n = 0; /* the next own segment */
    for (size_t i = 0; i < k.v.count; i++) {
        const mw_prefetch_entry *e = mw_prefetch_view_entry(&k.v, i);
        const mw_capture_note *d = mw_prefetch_entry_note(e);
        const uint64_t frame = r->h.frame + i;
        if (d->ds == MW_DECODE_TCP) {
            const int64_t ts_us = ts_of(e);
            const bool ticks = clock_step(w, frame, ts_us, iface);
            if (i == k.own[n]) {
                look_on(&k, w, n);
                mw_worker_segment(w, &d->pkt, w->index, frame, ts_us, iface,
                                  &k.key[n % DIRECT_RING]);
                n++;
            } else {
                other(w, ticks, frame, ts_us, iface);
            }
        } else if (d->ds == MW_DECODE_FRAGMENT) {
            fragment(w, &d->pkt, frame, ts_of(e), iface);
        } else {
            count(w, d->pkt.reason);
        }
    }
    /* every segment up to w->index is handled (or was nothing of this thread's) */
    w->wm = w->index;
}

void mw_direct_end(mw_worker *w)
{
    if (w->index) /* the end's closes are dated by the last segment, as with one thread */
        mw_worker_tick(w, w->index, w->last_frame, w->last_ts, w->last_iface);
    if (w->defrag)
        mw_defrag_finish(w->defrag); /* what never completed is counted as expired */
}

void mw_direct_free(mw_worker *w)
{
    g_free(w->own);
    w->own = NULL;
    mw_defrag_free(w->defrag);
    w->defrag = NULL;
}
