#include "parallel/parallel.h"

#include <glib.h>
#include <string.h>

#include "input/defrag.h"
#include "parallel/order.h"
#include "parallel/shard.h"
#include "parallel/stats.h"
#include "parallel/worker.h"


struct mw_parallel {
    unsigned n;            /* analysis threads; 0: --threads 0 (one thread discards) */
    unsigned nw;           /* threads started: n, or 1 */
    mw_worker *w;
    mw_outbox_lock lock;
    mw_merger *merger;
    mw_defrag *defrag;     /* fragments are put together before the split */
    uint64_t index;        /* TCP segments handed over */
    uint64_t settled;      /* ... of which every thread has had its record (a segment or
                            * its tick, or nothing) put in a batch */
    uint64_t seen_gen;     /* lock.gen when the outboxes were last read */
    bool backpressure;     /* some thread waits for the merger (worker.c, hold_back) */
    bool clock_back;       /* a segment's time went back: every thread ticks from then on */
    size_t hold;           /* records each thread may have waiting in the merge */
    int64_t now_us;        /* the latest of their times */
    uint64_t last_frame;   /* the latest segment's (the end's closes are dated by it) */
    int64_t last_ts;
    const char *last_iface;
    mw_engine_stats st;    /* the dispatcher's counts, then (mw_parallel_stats) the totals */
    mw_engine_stats progress; /* mw_parallel_progress's */
    uint32_t *ignored_by_port;
    bool finished;
    int64_t started_us, finished_us; /* monotonic */
    mw_session_take_cb take; /* where the merged records go */
    void *take_user;
    GHashTable *origin;    /* mw_parallel_releaser: record -> its thread + 1, until written */
    mw_prefetch_batch *src; /* the reader's batch being delivered, or NULL: copy payloads */
    _Atomic unsigned src_held; /* the reader's batches not yet given back by every thread
                                * (and this one, while delivered) */
    uint64_t walked;       /* packets of the reader's batches the threads walk (take) */
};

static mw_batch *next_free(mw_parallel *p, mw_worker *w);

/* w's batch to its thread, stamped with the watermark it gives (parallel.h), with a
 * reference to the reader's batch its records point into. */
static void push_cur(mw_parallel *p, mw_worker *w)
{
    if (w->cur->src)
        mw_prefetch_retain(w->cur->src);
    w->cur->wm = w->stamped = p->settled;
    mw_batch_push(&w->ring.full_q, w->cur);
}

static void hand_over(mw_parallel *p, mw_worker *w)
{
    push_cur(p, w);
    w->cur = next_free(p, w);
    w->cur->used = 0;
}

/* Room for a record of need bytes in w's batch (a full one handed over first). */
static uint8_t *room(mw_parallel *p, mw_worker *w, size_t need);

/* The merger has written records: each thread told how many of its own (a thread over
 * its hold limit waits for that). */
static void tell_taken(mw_parallel *p)
{
    pthread_mutex_lock(&p->lock.mu);
    bool wake = false;
    for (unsigned i = 0; i < p->nw; i++) {
        p->w[i].out.taken = mw_merger_taken(p->merger, i);
        wake |= p->w[i].out.waiting;
    }
    if (wake)
        pthread_cond_broadcast(&p->lock.cv);
    pthread_mutex_unlock(&p->lock.mu);
}

/* What the threads have posted, to the merger; then every record whose place is known.
 * wait: first block until some thread posts or gives a batch back. */
static void merge_posted(mw_parallel *p, bool wait)
{
    pthread_mutex_lock(&p->lock.mu);
    while (wait && p->lock.gen == p->seen_gen)
        pthread_cond_wait(&p->lock.cv, &p->lock.mu);
    p->seen_gen = p->lock.gen;
    p->backpressure = false;
    for (unsigned i = 0; i < p->nw; i++) {
        mw_outbox *o = &p->w[i].out;
        mw_merger_add(p->merger, i, (const mw_order_event *)(void *)o->ev->data,
                      o->ev->len, o->wm);
        g_array_set_size(o->ev, 0);
        p->backpressure |= o->waiting;
        GPtrArray *back = p->w[i].written; /* records to free, to their thread */
        if (back->len && !o->done) {
            g_ptr_array_extend_and_steal(o->to_free, g_steal_pointer(&p->w[i].written));
            p->w[i].written = g_ptr_array_new();
        }
    }
    pthread_mutex_unlock(&p->lock.mu);
    if (mw_merger_run(p->merger))
        tell_taken(p);
}

/* While a thread waits for the merger, the merger waits for the other threads' watermarks:
 * w's batch is handed over, even empty, stamped with p->settled (w had its part of every
 * segment up to there). Only with a free batch at hand: a thread without one has batches
 * to work through, and its watermark moves on as it does. */
static void feed(mw_parallel *p, mw_worker *w)
{
    if (w->cur->used == 0 && w->stamped >= p->settled)
        return;
    mw_batch *fresh = mw_batch_try_pop(&w->ring.free_q);
    if (!fresh)
        return;
    push_cur(p, w);
    w->cur = fresh;
    w->cur->used = 0;
}

/* Waiting for the threads (for a batch of except's, or for the reader's batches to come
 * back): merging meanwhile, and under backpressure feeding the threads other than except
 * (which may itself wait for the merger). */
static void wait_progress(mw_parallel *p, const mw_worker *except)
{
    for (unsigned i = 0; p->backpressure && i < p->nw; i++)
        if (&p->w[i] != except)
            feed(p, &p->w[i]);
    merge_posted(p, true);
}

/* A free batch of w's, waiting while there is none. */
static mw_batch *next_free(mw_parallel *p, mw_worker *w)
{
    for (;;) {
        mw_batch *b = mw_batch_try_pop(&w->ring.free_q);
        if (b)
            return b;
        wait_progress(p, w);
    }
}

static uint8_t *room(mw_parallel *p, mw_worker *w, size_t need)
{
    if (w->cur->used + need > w->cur->cap && w->cur->used > 0) {
        hand_over(p, w);
        merge_posted(p, false);
    }
    mw_batch *b = w->cur;
    if (need > b->cap) { /* larger than a batch: this one grows to hold it */
        b->buf = g_realloc(b->buf, need);
        b->cap = need;
    }
    uint8_t *rec = b->buf + b->used;
    b->used += need;
    return rec;
}

static void put_head(mw_parallel *p, mw_worker *w, mw_rec_kind kind, uint64_t frame,
                     int64_t ts_us, const char *iface)
{
    mw_rec_head h = { kind, (uint32_t)MW_REC_ALIGN(sizeof h), p->index, frame, ts_us, iface };
    memcpy(room(p, w, h.size), &h, sizeof h);
}

/* Whether thread w needs a tick at time ts_us: only when the time moves the clock on (at a
 * time not later than the latest, no flow can have become idle), and, while packet times
 * never went back, only past the thread's idle deadline (worker.h: it only grows then, so
 * the one the thread last told is a lower bound; the thread's own segments close its idle
 * flows themselves). Once a time went back, every time that moves the clock on. */
static bool needs_tick(const mw_parallel *p, mw_worker *w, int64_t ts_us)
{
    return p->clock_back || ts_us > atomic_load_explicit(&w->deadline, memory_order_relaxed);
}

/* The first segment whose time goes back: from now on every thread ticks whenever the time
 * moves on. Before, a thread may have skipped ticks up to the latest time (nothing of its
 * was idle by then): each gets one at that time now, so that its clock is the one a single
 * thread has (its own segments' idle closes go by it). Dated by the previous segment,
 * whose index it takes: it closes nothing. */
static void clock_went_back(mw_parallel *p)
{
    p->clock_back = true;
    p->index--;
    for (unsigned i = 0; i < p->nw; i++)
        put_head(p, &p->w[i], MW_REC_TICK, p->last_frame, p->now_us, p->last_iface);
    p->index++;
}

/* A TCP segment: whole to its thread, as a tick to the others that need one. at_src: its
 * payload is in the reader's batch p->src (not copied). */
static void dispatch(mw_parallel *p, const mw_packet *pkt, uint64_t frame, int64_t ts_us,
                     const char *iface, bool at_src)
{
    p->index++;
    unsigned owner = mw_shard_of(pkt, p->nw);
    bool ticks = ts_us > p->now_us;
    if (ticks)
        p->now_us = ts_us;
    else if (ts_us < p->now_us && !p->clock_back)
        clock_went_back(p);
    p->last_frame = frame;
    p->last_ts = ts_us;
    p->last_iface = iface;
    for (unsigned i = 0; i < p->nw; i++) {
        if (i != owner) {
            if (ticks && needs_tick(p, &p->w[i], ts_us))
                put_head(p, &p->w[i], MW_REC_TICK, frame, ts_us, iface);
            continue;
        }
        const size_t hs = MW_REC_ALIGN(sizeof(mw_rec_head)), ps = MW_REC_ALIGN(sizeof *pkt);
        const size_t need = hs + ps + (at_src ? 0 : MW_REC_ALIGN(pkt->payload_len));
        mw_rec_head h = { at_src ? MW_REC_SEGMENT_AT : MW_REC_SEGMENT, (uint32_t)need,
                          p->index, frame, ts_us, iface };
        uint8_t *rec = room(p, &p->w[i], need);
        memcpy(rec, &h, sizeof h);
        memcpy(rec + hs, pkt, sizeof *pkt);
        if (at_src)
            p->w[i].cur->src = p->src; /* room may have begun a new batch */
        else if (pkt->payload_len)
            memcpy(rec + hs + ps, pkt->payload, pkt->payload_len);
    }
    p->settled = p->index;
}

static void count(mw_parallel *p, unsigned reason)
{
    p->st.packets++;
    p->st.not_decoded[reason < MW_DROP_COUNT ? reason : MW_DROP_UNSUPPORTED]++;
}

/* A fragment: reassembled here; the datagram is the packet that completed it, as
 * mw_engine_decoded does. Apart, so that the common path keeps a small frame. */
static G_GNUC_NO_INLINE void fragment(mw_parallel *p, const mw_packet *pkt, uint64_t frame,
                                     int64_t ts_us, const char *iface)
{
    mw_packet whole;
    mw_decode_status wds;
    bool out = mw_defrag_offer(p->defrag, pkt, ts_us, &whole, &wds);
    if (out && wds == MW_DECODE_TCP) {
        dispatch(p, &whole, frame, ts_us, iface, false); /* the defrag's bytes: copied */
        return;
    }
    p->st.packets++;
    if (out)
        p->st.not_decoded[whole.reason < MW_DROP_COUNT ? whole.reason : MW_DROP_UNSUPPORTED]++;
}

void mw_parallel_decoded(mw_parallel *p, mw_decode_status ds, const mw_packet *pkt,
                         uint64_t frame, int64_t ts_us, const char *iface)
{
    if (ds == MW_DECODE_TCP)
        dispatch(p, pkt, frame, ts_us, iface, p->src != NULL); /* the thread counts it */
    else if (ds == MW_DECODE_FRAGMENT)
        fragment(p, pkt, frame, ts_us, iface);
    else
        count(p, pkt->reason);
}

/* A record for every thread, each batch handed over now. */
static void broadcast(mw_parallel *p, mw_rec_kind kind, uint64_t frame, int64_t ts_us,
                      const char *iface)
{
    for (unsigned i = 0; i < p->nw; i++) {
        put_head(p, &p->w[i], kind, frame, ts_us, iface);
        hand_over(p, &p->w[i]);
    }
}

/* The merger's record: noted with its thread (mw_parallel_releaser), then taken. */
static void emitted(mw_session *s, void *user)
{
    mw_parallel *p = user;
    if (p->origin)
        g_hash_table_insert(p->origin, s, GUINT_TO_POINTER(mw_merger_current(p->merger) + 1));
    p->take(s, p->take_user);
}

static void release(mw_session *s, void *user)
{
    mw_parallel *p = user;
    gpointer v = NULL;
    if (g_hash_table_steal_extended(p->origin, s, NULL, &v) && !p->finished)
        g_ptr_array_add(p->w[GPOINTER_TO_UINT(v) - 1].written, s); /* merge_posted sends */
    else
        mw_session_free(s);
}

mw_session_take_cb mw_parallel_releaser(mw_parallel *p)
{
    if (!p->origin)
        p->origin = g_hash_table_new(g_direct_hash, NULL);
    return release;
}

void mw_parallel_batch_begin(void *user, mw_prefetch_batch *b)
{
    mw_parallel *p = user;
    /* with b the threads hold at most all but one once it is delivered: the reader (which
     * hands a batch over before it waits for a free one) always has one to fill, so this
     * thread never waits for the reader while the reader waits for the threads (which may
     * wait for this one's merge) */
    while (atomic_load_explicit(&p->src_held, memory_order_acquire) + 2 >
           MW_PARALLEL_READER_BATCHES)
        wait_progress(p, NULL);
    atomic_fetch_add_explicit(&p->src_held, 1, memory_order_relaxed);
    p->src = b;
}

/* Every batch that points into b handed over (each with its reference), then this
 * thread's reference given back. */
void mw_parallel_batch_end(void *user, mw_prefetch_batch *b)
{
    mw_parallel *p = user;
    bool handed = false;
    for (unsigned i = 0; i < p->nw; i++)
        if (p->w[i].cur->src) {
            hand_over(p, &p->w[i]);
            handed = true;
        }
    if (handed)
        merge_posted(p, false);
    p->src = NULL;
    if (mw_prefetch_release(b))
        atomic_fetch_sub_explicit(&p->src_held, 1, memory_order_relaxed);
}

/* b to every thread as one record (worker.h, mw_rec_shared) in its batch, which
 * mw_parallel_batch_end hands over with a reference to b each: from then on b is read
 * only, by every thread at once, and given back by each (worker.c, give_back) once walked;
 * the last gives it to the reader (input/prefetch.c, mw_prefetch_release, says how each
 * read comes before the reader's next write). */
void mw_parallel_take(mw_parallel *p, mw_prefetch_batch *b, uint64_t first, const char *iface)
{
    mw_prefetch_view v;
    mw_prefetch_batch_view(b, &v);
    p->walked += v.count;
    for (unsigned i = 0; i < p->nw; i++) {
        mw_worker *w = &p->w[i];
        mw_rec_shared r = { { MW_REC_SHARED, (uint32_t)MW_REC_ALIGN(sizeof r), 0, first, 0,
                              iface }, b };
        memcpy(room(p, w, r.h.size), &r, sizeof r);
        w->cur->src = b; /* room may have begun a new batch */
    }
}

uint32_t mw_parallel_tcp_hash(const mw_packet *pkt)
{
    return mw_shard_high(pkt);
}

void mw_parallel_settle(void *user)
{
    mw_parallel *p = user;
    while (atomic_load_explicit(&p->src_held, memory_order_acquire) > 0)
        wait_progress(p, NULL);
}

void mw_parallel_new_file(mw_parallel *p)
{
    for (unsigned i = 0; i < p->nw; i++)
        put_head(p, &p->w[i], MW_REC_NEW_FILE, 0, 0, NULL);
}

void mw_parallel_barrier(mw_parallel *p)
{
    broadcast(p, MW_REC_BARRIER, 0, 0, NULL);
    /* merging meanwhile: a thread may wait for the merger before it gets there */
    for (;;) {
        pthread_mutex_lock(&p->lock.mu);
        bool all = true;
        for (unsigned i = 0; i < p->nw; i++)
            all = all && p->w[i].out.at_barrier;
        for (unsigned i = 0; all && i < p->nw; i++)
            p->w[i].out.at_barrier = false;
        pthread_mutex_unlock(&p->lock.mu);
        if (all)
            break;
        merge_posted(p, true);
    }
    merge_posted(p, false);
}

static bool all_done(mw_parallel *p)
{
    pthread_mutex_lock(&p->lock.mu);
    bool done = true;
    for (unsigned i = 0; i < p->nw; i++)
        done = done && p->w[i].out.done;
    pthread_mutex_unlock(&p->lock.mu);
    return done;
}

void mw_parallel_finish(mw_parallel *p)
{
    if (!p || p->finished)
        return;
    p->finished = true;
    /* the end's closes are dated by the last segment on every thread, as with one */
    if (p->index)
        for (unsigned i = 0; i < p->nw; i++)
            put_head(p, &p->w[i], MW_REC_TICK, p->last_frame, p->last_ts, p->last_iface);
    broadcast(p, MW_REC_END, 0, 0, NULL);
    while (!all_done(p))
        merge_posted(p, true);
    merge_posted(p, false);
    for (unsigned i = 0; i < p->nw; i++)
        mw_worker_join(&p->w[i]);
    mw_defrag_finish(p->defrag); /* what never completed is counted as expired */
    g_assert(mw_merger_held(p->merger) == 0);
    p->finished_us = g_get_monotonic_time();
}

/* Each thread's part of --max-flows and --max-memory (parallel/order.h: what may differ);
 * the records waiting in the merge are counted in --max-memory (MW_PARALLEL_RECORD_COST). */
static mw_config share_out(const mw_config *cfg, unsigned nw, size_t *hold)
{
    mw_config wc = *cfg;
    if (nw > 1)
        wc.max_flows = MAX(wc.max_flows / nw, 1);
    if (wc.max_memory) {
        size_t share = MAX(wc.max_memory / nw, 2);
        if (*hold * MW_PARALLEL_RECORD_COST > share / 2)
            *hold = MAX(share / 2 / MW_PARALLEL_RECORD_COST, 1);
        wc.max_memory = share - MIN(*hold * MW_PARALLEL_RECORD_COST, share / 2);
    }
    return wc;
}

mw_parallel *mw_parallel_new(const mw_config *cfg, unsigned n, size_t hold,
                             mw_session_take_cb take, void *user)
{
    if (n > MW_PARALLEL_MAX_THREADS)
        n = MW_PARALLEL_MAX_THREADS;
    mw_parallel *p = g_new0(mw_parallel, 1);
    p->n = n;
    p->nw = n ? n : 1;
    p->w = g_new0(mw_worker, p->nw);
    p->started_us = g_get_monotonic_time();
    pthread_mutex_init(&p->lock.mu, NULL);
    pthread_cond_init(&p->lock.cv, NULL);
    atomic_init(&p->src_held, 0);
    p->take = take;
    p->take_user = user;
    p->merger = mw_merger_new(p->nw, emitted, p);
    mw_defrag_limits fl = { cfg->max_frag_datagrams, cfg->max_frag_bytes, cfg->frag_timeout_us };
    p->defrag = mw_defrag_new(&fl, p->st.not_decoded);
    p->hold = hold ? hold : MW_PARALLEL_HOLD;
    mw_config wc = share_out(cfg, p->nw, &p->hold);
    bool ok = true;
    for (unsigned i = 0; i < p->nw && ok; i++) {
        p->w[i].id = i;
        p->w[i].discard = n == 0;
        p->w[i].nw = p->nw;
        p->w[i].src_held = &p->src_held;
        ok = mw_worker_start(&p->w[i], &wc, &p->lock, p->hold);
    }
    if (!ok) {
        p->finished = true; /* the threads that did start are ended by free */
        mw_parallel_free(p);
        return NULL;
    }
    return p;
}

const mw_engine_stats *mw_parallel_stats(mw_parallel *p)
{
    static const mw_engine_stats zero;
    mw_engine_stats t = zero;
    /* the frames not analysed as segments: the dispatcher's, or thread 0's walk's */
    t.packets = p->st.packets + p->w[0].packets;
    for (int r = 0; r < MW_DROP_COUNT; r++)
        t.not_decoded[r] = p->st.not_decoded[r] + p->w[0].not_decoded[r];
    bool ignored = false; /* as one engine: no counters until a flow is ignored */
    for (unsigned i = 0; i < p->nw && !ignored; i++)
        ignored = !p->w[i].discard && mw_engine_stats_get(p->w[i].e)->ignored_by_port;
    if (ignored) { /* made only then: 256 KB a run's peak memory need not hold */
        g_free(p->ignored_by_port);
        p->ignored_by_port = g_new0(uint32_t, MW_STATS_PORTS);
    }
    for (unsigned i = 0; i < p->nw; i++)
        if (!p->w[i].discard)
            mw_stats_add(&t, p->ignored_by_port, mw_engine_stats_get(p->w[i].e));
    t.ignored_by_port = ignored ? p->ignored_by_port : NULL;
    const mw_defrag *frag[] = { p->defrag, p->w[0].defrag };
    for (size_t k = 0; k < G_N_ELEMENTS(frag); k++) {
        if (!frag[k])
            continue;
        const mw_defrag_stats *ds = mw_defrag_stats_get(frag[k]);
        t.frag_datagrams += ds->datagrams;
        t.frag_fragments += ds->fragments;
        t.frag_overlaps += ds->overlaps;
    }
    for (int r = 0; r < MW_DROP_COUNT; r++)
        if (t.not_decoded[r])
            mw_drop_is_loss((mw_drop)r) ? (t.malformed += t.not_decoded[r])
                                        : (t.skipped += t.not_decoded[r]);
    /* the dispatcher's own counters are kept in p->st.not_decoded (the defrag adds to
     * them): the totals go in a copy */
    static _Thread_local mw_engine_stats out;
    out = t;
    return &out;
}

const mw_engine_stats *mw_parallel_progress(void *user)
{
    mw_parallel *p = user;
    memset(&p->progress, 0, sizeof p->progress);
    /* a thread counts each segment once; or the packets of the batches walked */
    p->progress.packets = p->st.packets + p->index + p->walked;
    for (unsigned i = 0; i < p->nw; i++) {
        p->progress.sessions += mw_merger_taken(p->merger, i);
        p->progress.flows_live += atomic_load_explicit(&p->w[i].flows_live, memory_order_relaxed);
    }
    return &p->progress;
}

bool mw_parallel_reads_here(const mw_parallel *p)
{
    const char *force = g_getenv("MW_READER_THREAD");
    if (force && (*force == '0' || *force == '1'))
        return *force == '0';
    (void)p;
    return false;
}

size_t mw_parallel_hold(const mw_parallel *p)
{
    return p->hold;
}

unsigned mw_parallel_threads(const mw_parallel *p)
{
    return p->n;
}

uint64_t mw_parallel_thread_segments(const mw_parallel *p, unsigned i)
{
    return i < p->nw && !p->w[i].discard ? mw_engine_stats_get(p->w[i].e)->tcp_packets : 0;
}

uint64_t mw_parallel_thread_freed(const mw_parallel *p, unsigned i)
{
    return i < p->nw ? p->w[i].freed : 0;
}

uint64_t mw_parallel_thread_held_peak(const mw_parallel *p, unsigned i)
{
    return i < p->nw ? p->w[i].out.peak : 0;
}

uint64_t mw_parallel_segments(const mw_parallel *p)
{
    return p->index + p->w[0].index; /* handed over, or walked (every thread's the same) */
}

double mw_parallel_seconds(const mw_parallel *p)
{
    return (double)(p->finished_us - p->started_us) / 1e6;
}

void mw_parallel_free(mw_parallel *p)
{
    if (!p)
        return;
    if (!p->finished)
        mw_parallel_finish(p);
    for (unsigned i = 0; i < p->nw; i++) {
        if (p->w[i].started) { /* a start that failed part-way: end those that run */
            put_head(p, &p->w[i], MW_REC_END, 0, 0, NULL);
            push_cur(p, &p->w[i]);
            mw_worker_join(&p->w[i]);
        }
        mw_worker_free(&p->w[i]);
    }
    mw_merger_free(p->merger);
    mw_defrag_free(p->defrag);
    if (p->origin)
        g_hash_table_destroy(p->origin);
    pthread_mutex_destroy(&p->lock.mu);
    pthread_cond_destroy(&p->lock.cv);
    g_free(p->ignored_by_port);
    g_free(p->w);
    g_free(p);
}
