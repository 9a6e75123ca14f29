#include "parallel/worker.h"

#include <string.h>

#include "core/identity.h"

mw_engine *mw_parallel_engine_new(const mw_config *cfg, mw_session_take_cb take, void *user)
{
    mw_engine *e = mw_engine_new(cfg, NULL, NULL);
    mw_engine_hand_over(e, take, user);
    return e;
}

/* What was found since the last post, to the outbox (its lock held). */
static void publish(mw_worker *w, bool done, bool barrier)
{
    if (w->pending->len)
        g_array_append_vals(w->out.ev, w->pending->data, w->pending->len);
    w->out.posted += w->pending_recs;
    w->held_seen = w->out.posted - w->out.taken;
    w->out.peak = MAX(w->out.peak, w->held_seen);
    w->out.wm = done ? MW_ORDER_AT_END : w->wm;
    w->out.done = done;
    w->out.at_barrier |= barrier;
    w->lock->gen++;
    pthread_cond_broadcast(&w->lock->cv);
    g_array_set_size(w->pending, 0);
    w->pending_recs = 0;
    if (w->out.to_free->len) { /* freed after the lock (free_written) */
        GPtrArray *t = w->out.to_free;
        w->out.to_free = w->freeing;
        w->freeing = t;
    }
}

/* The records of this thread's that the writer is done with: freed here, where they were
 * made (parallel.h, mw_parallel_releaser). */
static void free_written(mw_worker *w)
{
    for (guint i = 0; i < w->freeing->len; i++)
        mw_session_free(g_ptr_array_index(w->freeing, i));
    w->freed += w->freeing->len;
    g_ptr_array_set_size(w->freeing, 0);
}

static void post(mw_worker *w, bool done, bool barrier)
{
    pthread_mutex_lock(&w->lock->mu);
    publish(w, done, barrier);
    pthread_mutex_unlock(&w->lock->mu);
    free_written(w);
}

/* Over the hold limit: everything posted (so that the merger can go on) and, in the same
 * hold of the lock, "waiting" said (the dispatcher then feeds the other threads, whose
 * watermarks the merger waits for: parallel.c, next_free); then wait until the merger has
 * written records enough to be under the limit again. */
static void hold_back(mw_worker *w)
{
    pthread_mutex_lock(&w->lock->mu);
    publish(w, false, false);
    w->out.waiting = true;
    while (w->out.posted - w->out.taken >= w->hold)
        pthread_cond_wait(&w->lock->cv, &w->lock->mu);
    w->out.waiting = false;
    w->held_seen = w->out.posted - w->out.taken;
    pthread_mutex_unlock(&w->lock->mu);
    free_written(w);
}

/* A session closed by this thread's engine: with its key, for the merger. The phase by
 * what the thread was doing: its own segment (closes by that segment, then idle ones),
 * another's tick (idle, then --max-memory evictions), or the end. */
static void on_close(mw_session *s, void *user)
{
    mw_worker *w = user;
    uint32_t phase = w->base;
    if (w->base == MW_ORDER_OWN && s->close_reason == MW_CLOSE_IDLE)
        phase = MW_ORDER_IDLE;
    else if (w->base == MW_ORDER_IDLE && s->close_reason != MW_CLOSE_IDLE)
        phase = MW_ORDER_MEMORY;
    uint64_t last = phase == MW_ORDER_OWN ? 0 : mw_session_more_get(s)->last_index;
    mw_order_event ev = { w->g, last, phase, s };
    g_array_append_val(w->pending, ev);
    w->pending_recs++;
    /* held_seen only overstates (the merger takes, never gives back): no lock until then */
    if (w->held_seen + w->pending_recs >= w->hold)
        hold_back(w);
    else if (w->pending_recs >= w->hold / 4) /* many closes at once (the end, idle ones) */
        post(w, false, false);
}

/* Evidence of a flag raised now: the interface of the packet being handled, as main's
 * evidence_origin says for one thread (one input: no input named). */
static void origin(void *user, uint64_t frame, int64_t ts_us, const char *session_input,
                   const char **input, const char **iface)
{
    (void)ts_us;
    (void)session_input;
    (void)input;
    const mw_worker *w = user;
    if (frame == w->cur_frame)
        *iface = w->cur_iface;
}

/* A segment of this thread's, global index index: analysed, and a session it starts said
 * to the merger. */
static void own_segment(mw_worker *w, const mw_packet *pkt, uint64_t index, uint64_t frame,
                        int64_t ts_us, const mw_flow_key *k)
{
    w->base = MW_ORDER_OWN;
    mw_engine_index(w->e, index, frame, ts_us);
    mw_engine_packet_keyed(w->e, pkt, frame, ts_us, k);
    if (w->st->last_id == index) { /* it started a session */
        mw_order_event ev = { index, 0, MW_ORDER_START, NULL };
        g_array_append_val(w->pending, ev);
    }
}

static void segment(mw_worker *w, const mw_rec_head *h, const mw_flow_key *k)
{
    mw_packet pkt;
    memcpy(&pkt, (const uint8_t *)h + MW_REC_ALIGN(sizeof *h), sizeof pkt);
    if (h->kind == MW_REC_SEGMENT) /* else it points into the reader's batch */
        pkt.payload = (const uint8_t *)h + MW_REC_ALIGN(sizeof *h) + MW_REC_ALIGN(sizeof pkt);
    own_segment(w, &pkt, h->index, h->frame, h->ts_us, k);
}

/* Another thread's segment that moves this one's clock on: its idle flows closed at it. */
static void tick(mw_worker *w, uint64_t index, uint64_t frame, int64_t ts_us)
{
    w->base = MW_ORDER_IDLE;
    mw_engine_index(w->e, index, frame, ts_us);
    w->deadline_seen = mw_engine_tick(w->e, ts_us);
}

void mw_worker_segment(mw_worker *w, const mw_packet *pkt, uint64_t index, uint64_t frame,
                       int64_t ts_us, const char *iface, const mw_flow_key *k)
{
    w->g = index;
    w->cur_frame = frame;
    w->cur_iface = iface;
    own_segment(w, pkt, index, frame, ts_us, k);
    w->wm = index;
}

void mw_worker_tick(mw_worker *w, uint64_t index, uint64_t frame, int64_t ts_us,
                    const char *iface)
{
    w->g = index;
    w->cur_frame = frame;
    w->cur_iface = iface;
    tick(w, index, frame, ts_us);
    w->wm = index;
}

/* For the dispatcher's ticks and the progress line (worker.h). */
static void tell_deadline(mw_worker *w)
{
    if (w->discard)
        return;
    atomic_store_explicit(&w->deadline, w->deadline_seen, memory_order_relaxed);
    atomic_store_explicit(&w->flows_live, w->st->flows_live, memory_order_relaxed);
}

/* One record (k: a segment's flow key, made by the look-ahead); false at the end of the
 * input. */
static bool handle(mw_worker *w, const mw_rec_head *h, const mw_flow_key *k)
{
    w->g = h->index;
    w->cur_frame = h->frame;
    w->cur_iface = h->iface;
    switch (h->kind) {
    case MW_REC_SEGMENT:
    case MW_REC_SEGMENT_AT:
        segment(w, h, k);
        break;
    case MW_REC_TICK:
        tick(w, h->index, h->frame, h->ts_us);
        break;
    case MW_REC_SHARED: /* sets wm itself */
        mw_direct_walk(w, (const mw_rec_shared *)(const void *)h);
        return true;
    case MW_REC_NEW_FILE:
        mw_engine_new_file(w->e);
        return true; /* no index of its own */
    case MW_REC_BARRIER: /* its index: every segment handed over before it */
        w->wm = h->index;
        tell_deadline(w);
        post(w, false, true);
        return true;
    case MW_REC_END:
        mw_direct_end(w);
        w->base = MW_ORDER_END;
        w->g = MW_ORDER_AT_END;
        mw_engine_finish(w->e);
        return false;
    }
    w->wm = h->index;
    return true;
}

/* b read: the reader's batch it pointed into given back (parallel.c counts those out). */
static void give_back(mw_worker *w, mw_batch *b)
{
    if (b->src && mw_prefetch_release(b->src))
        atomic_fetch_sub_explicit(w->src_held, 1, memory_order_release);
    b->src = NULL;
}

/* The look-ahead over a batch (engine/flow.h, mw_engine_prefetch_*): a segment's key made
 * and its slot load begun LOOK_SLOT records before it is handled, its flow's load
 * LOOK_FLOW records before, what the flow points to LOOK_STATE before (and the records'
 * own lines LOOK_BYTES on: the dispatcher wrote them on another core). Far enough that a
 * miss (~100 ns) is covered by the records between, near enough that the lines are still
 * in the cache. The ring holds the records from the one being handled on. */
#define LOOK_SLOT 6u
#define LOOK_FLOW 3u
#define LOOK_STATE 1u
#define LOOK_RING 8u /* a power of two above LOOK_SLOT */
#define LOOK_BYTES 1024u /* about seven records on */
_Static_assert(LOOK_STATE < LOOK_FLOW && LOOK_FLOW < LOOK_SLOT && LOOK_SLOT < LOOK_RING,
               "look-ahead distances");

typedef struct {
    const mw_rec_head *h;
    bool segment;
    mw_flow_key key; /* a segment's (mw_engine_prefetch_slot) */
} look_rec;

typedef struct {
    const mw_batch *b;
    size_t pos; /* the next record to look at */
    size_t n;   /* ... its number in the batch */
    look_rec r[LOOK_RING];
} look_ahead;

static const mw_packet *rec_packet(const mw_rec_head *h)
{
    return (const mw_packet *)(const void *)((const uint8_t *)h + MW_REC_ALIGN(sizeof *h));
}

/* Record n about to be handled: the ring filled up to n + LOOK_SLOT; the flow and state
 * stages for the records LOOK_FLOW and LOOK_STATE on. Returns record n's entry. */
static const look_rec *look(look_ahead *la, const mw_engine *e, size_t n)
{
    const mw_batch *b = la->b;
    for (; la->n <= n + LOOK_SLOT && la->pos < b->used; la->n++) {
        if (la->pos + LOOK_BYTES + 128 <= b->used) { /* two lines a record: about as long */
            __builtin_prefetch(b->buf + la->pos + LOOK_BYTES);
            __builtin_prefetch(b->buf + la->pos + LOOK_BYTES + 64);
        }
        look_rec *r = &la->r[la->n % LOOK_RING];
        r->h = (const mw_rec_head *)(const void *)(b->buf + la->pos);
        r->segment = r->h->kind == MW_REC_SEGMENT || r->h->kind == MW_REC_SEGMENT_AT;
        if (r->segment)
            mw_engine_prefetch_slot(e, rec_packet(r->h), &r->key);
        la->pos += r->h->size;
    }
    if (n + LOOK_FLOW < la->n) {
        const look_rec *r = &la->r[(n + LOOK_FLOW) % LOOK_RING];
        if (r->segment) {
            mw_engine_prefetch_flow(e, r->key.hash, false);
            const mw_packet *pkt = rec_packet(r->h);
            if (r->h->kind == MW_REC_SEGMENT_AT && pkt->payload_len) /* else it follows */
                __builtin_prefetch(pkt->payload);
        }
    }
    if (n + LOOK_STATE < la->n && la->r[(n + LOOK_STATE) % LOOK_RING].segment)
        mw_engine_prefetch_flow(e, la->r[(n + LOOK_STATE) % LOOK_RING].key.hash, true);
    return &la->r[n % LOOK_RING];
}

static void *worker_main(void *data)
{
    mw_worker *w = data;
    mw_identity_set_origin(origin, w);
    for (;;) {
        mw_batch *b = mw_batch_pop(&w->ring.full_q);
        bool more = true;
        look_ahead la = { .b = b };
        for (size_t pos = 0, n = 0; pos < b->used && more; n++) {
            const mw_rec_head *h = (const mw_rec_head *)(void *)(b->buf + pos);
            pos += h->size;
            if (w->discard) {
                more = h->kind != MW_REC_END;
                if (h->kind == MW_REC_SHARED) /* counts the segments */
                    mw_direct_walk(w, (const mw_rec_shared *)(const void *)h);
            } else {
                more = handle(w, h, &look(&la, w->e, n)->key);
            }
            if (w->discard && h->kind == MW_REC_BARRIER)
                post(w, false, true);
        }
        give_back(w, b);
        if (!more) {
            post(w, true, false);
            return NULL;
        }
        if (b->wm > w->wm) /* nothing of ours up to there (parallel.c, feed) */
            w->wm = b->wm;
        tell_deadline(w);
        mw_batch_push(&w->ring.free_q, b);
        post(w, false, false); /* after the push: the dispatcher may wait for the batch */
    }
}

bool mw_worker_start(mw_worker *w, const mw_config *cfg, mw_outbox_lock *lock, size_t hold)
{
    w->lock = lock;
    w->hold = MAX(hold, 1);
    w->frag_limits = (mw_defrag_limits){ cfg->max_frag_datagrams, cfg->max_frag_bytes,
                                         cfg->frag_timeout_us };
    atomic_init(&w->deadline, INT64_MIN); /* every tick until one has told */
    w->deadline_seen = INT64_MIN;
    atomic_init(&w->flows_live, 0);
    mw_ring_init(&w->ring);
    w->cur = mw_batch_pop(&w->ring.free_q);
    w->cur->used = 0;
    w->out.ev = g_array_new(FALSE, FALSE, sizeof(mw_order_event));
    w->out.to_free = g_ptr_array_new();
    w->written = g_ptr_array_new();
    w->freeing = g_ptr_array_new();
    w->pending = g_array_new(FALSE, FALSE, sizeof(mw_order_event));
    w->e = mw_parallel_engine_new(cfg, on_close, w);
    w->st = mw_engine_stats_get(w->e); /* the counters live in the engine: read in place */
    w->started = pthread_create(&w->thread, NULL, worker_main, w) == 0;
    return w->started;
}

void mw_worker_join(mw_worker *w)
{
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = false;
}

void mw_worker_free(mw_worker *w)
{
    if (!w->out.ev)
        return;
    mw_engine_free(w->e);
    mw_direct_free(w);
    for (guint i = 0; i < w->out.ev->len; i++)
        mw_session_free(g_array_index(w->out.ev, mw_order_event, i).s);
    g_array_free(w->out.ev, TRUE);
    g_array_free(w->pending, TRUE);
    GPtrArray *lists[] = { w->out.to_free, w->written, w->freeing }; /* after the thread */
    for (size_t k = 0; k < G_N_ELEMENTS(lists); k++) {
        for (guint i = 0; i < lists[k]->len; i++)
            mw_session_free(g_ptr_array_index(lists[k], i));
        g_ptr_array_free(lists[k], TRUE);
    }
    mw_ring_destroy(&w->ring);
}
