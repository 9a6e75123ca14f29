#include "engine/flow.h"

#include <glib.h>
#include <string.h>
/* inlined: the key has a fixed size, and the call is made for every packet */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dissector.h"
#include "engine/detect.h"
#include "engine/feeder.h"
#include "engine/reasm.h"

/* Canonical 4-tuple: the lower (address, port) endpoint first, and its hash. */
typedef struct {
    uint64_t hash;          /* worked out by make_key from the packet (see key_hash) */
    uint8_t family;
    uint8_t pad;
    uint16_t port[2];
    uint8_t addr[2][16];
} flow_key;

typedef enum { F_PROBING, F_MAIL, F_IGNORED } flow_kind;

/* A segment held back because it acknowledges bytes of the other direction that the
 * capture has not shown yet (captures from taps and mirror ports reorder the two
 * directions): delivered once those bytes are, so a reply never precedes its command. */
typedef struct deferred {
    struct deferred *next;
    uint32_t seq;
    uint32_t ack;
    uint64_t frame;
    int64_t ts_us;
    size_t len, cut;
    uint8_t data[];
} deferred;

typedef struct mw_flow {
    flow_key key;
    struct mw_flow *lru_prev, *lru_next;
    int64_t last_ts;
    flow_kind kind;
    bool dir_known;
    mw_endpoint ep[2];      /* [MW_FROM_CLIENT] client, [MW_FROM_SERVER] server */
    mw_stream stream[2];
    deferred *dq_head[2], *dq_tail[2];
    size_t dq_bytes[2];
    mw_feeder feed;         /* dissector and its held-back bytes; feed.dis NULL until mail */
    mw_session *sess;
    bool fin[2];
    bool syn_seen, synack_seen, rst;
    mw_dir rst_from;
    unsigned syn_count;
    uint32_t client_isn;
    uint64_t first_frame;
    int64_t first_ts;
    mw_dir cur_dir;         /* direction being delivered (for the stream sink) */
    uint64_t packets[2], bytes[2];
    int64_t ts_end;
    mw_engine *eng;
} mw_flow;

struct mw_engine {
    mw_config cfg;
    mw_session_cb cb;
    void *user;
    mw_session_take_cb take; /* when set, closed sessions are handed over to it */
    void *take_user;
    GHashTable *flows;
    mw_flow *lru_head, *lru_tail; /* least recently active first */
    uint64_t next_id;
    uint64_t frame;
    int64_t ts_us, now_us;
    mw_engine_stats stats;
};

/* ---------- flow table ---------- */

/* Seeded at random per process: addresses and ports are chosen by whoever sends the
 * packets, and a hash they could predict would let them pile every flow into one chain. */
static uint64_t key_seed;

/* The hash is made in make_key from the packet's own fields: hashing the key just built
 * would read it back in words that straddle the smaller stores that wrote it, a
 * store-forwarding stall on every packet. */
static guint key_hash(gconstpointer k)
{
    const uint64_t h = ((const flow_key *)k)->hash;
    return (guint)(h ^ (h >> 32));
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(flow_key)) == 0;
}

static void make_key(const mw_packet *pkt, flow_key *k, bool *src_is_lo)
{
    memset(k, 0, sizeof *k);
    k->family = pkt->family;
    int c = memcmp(pkt->src, pkt->dst, 16);
    bool lo = c < 0 || (c == 0 && pkt->sport <= pkt->dport);
    *src_is_lo = lo;
    memcpy(k->addr[lo ? 0 : 1], pkt->src, 16);
    memcpy(k->addr[lo ? 1 : 0], pkt->dst, 16);
    k->port[lo ? 0 : 1] = pkt->sport;
    k->port[lo ? 1 : 0] = pkt->dport;
    const uint64_t ports = (uint64_t)k->port[0] << 16 | k->port[1] | (uint64_t)pkt->family << 32;
    k->hash = XXH3_64bits_withSeed(lo ? pkt->src : pkt->dst, 16,
                                   XXH3_64bits_withSeed(lo ? pkt->dst : pkt->src, 16,
                                                        key_seed ^ ports));
}

static void lru_unlink(mw_engine *e, mw_flow *f)
{
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        e->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        e->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_append(mw_engine *e, mw_flow *f)
{
    f->lru_prev = e->lru_tail;
    f->lru_next = NULL;
    if (e->lru_tail)
        e->lru_tail->lru_next = f;
    else
        e->lru_head = f;
    e->lru_tail = f;
}

static void set_endpoint(mw_endpoint *ep, uint8_t family, const uint8_t *addr, uint16_t port)
{
    ep->family = family;
    memcpy(ep->addr, addr, 16);
    ep->port = port;
}

/* Stream sink callbacks: the flow and direction ride in the flow itself. */
static void sink_data(void *user, const uint8_t *p, size_t len)
{
    mw_flow *f = user;
    mw_dir dir = f->cur_dir;
    const mw_seg_meta *m = &f->stream[dir].meta;
    const mw_stream *other = &f->stream[!dir];
    /* the bytes carry their own packet's frame and ACK, however late they come out */
    f->feed.ack_known = m->ack_known && other->started;
    f->feed.peer_acked = f->feed.ack_known ? mw_stream_offset(other, m->ack) : 0;
    mw_feeder_data(&f->feed, dir, p, len, m->frame ? m->frame : f->eng->frame,
                   m->frame ? m->ts_us : f->eng->ts_us);
    f->feed.ack_known = false;
}

static void sink_gap(void *user, uint64_t missing)
{
    mw_flow *f = user;
    mw_engine *e = f->eng;
    mw_dir dir = f->cur_dir;
    if (!f->sess)
        return;
    mw_session_flag(f->sess, MW_FLAG_CAPTURE_GAP, e->frame, e->ts_us,
                    "%" G_GUINT64_FORMAT " bytes from the %s missing from the capture", missing,
                    dir == MW_FROM_CLIENT ? "client" : "server");
    mw_feeder_gap(&f->feed, dir, missing, e->frame, e->ts_us);
}

static const mw_stream_sink flow_sink = { sink_data, sink_gap };

/* ---------- session lifecycle ---------- */

/* The session's view of the TCP side: counters, handshake, last packet time. */
static void sync_session(mw_flow *f)
{
    mw_session *s = f->sess;
    for (int d = 0; d < 2; d++) {
        s->packets[d] = f->packets[d];
        s->bytes[d] = f->bytes[d];
    }
    s->syn_seen = f->syn_seen;
    s->synack_seen = f->synack_seen;
    if (f->ts_end > s->ts_end_us)
        s->ts_end_us = f->ts_end;
}

static void start_session(mw_engine *e, mw_flow *f, const mw_dissector *d, mw_proto proto)
{
    f->kind = F_MAIL;
    f->sess = mw_session_new(++e->next_id);
    mw_session *s = f->sess;
    s->client = f->ep[MW_FROM_CLIENT];
    s->server = f->ep[MW_FROM_SERVER];
    s->protocol = proto;
    s->ts_start_us = f->first_ts;
    s->ts_end_us = f->first_ts;
    s->first_frame = f->first_frame;
    s->syn_seen = f->syn_seen;
    s->synack_seen = f->synack_seen;
    sync_session(f);
    if (e->cfg.keep_transcript)
        mw_session_keep_transcript(s);
    mw_feeder_init(&f->feed, d, s, &e->cfg);
}

static void deliver_segment(mw_engine *e, mw_flow *f, mw_dir dir, uint32_t seq,
                            const uint8_t *p, size_t len, size_t cut, bool has_ack, uint32_t ack)
{
    mw_stream *st = &f->stream[dir];
    f->cur_dir = dir;
    mw_seg_meta meta = { e->frame, e->ts_us, ack, has_ack };
    uint64_t gaps_before = st->gap_bytes;
    size_t held_before = st->ooo_bytes;
    mw_stream_segment(st, seq, p, len, cut, &meta, e->cfg.max_ooo_bytes, &flow_sink, f);
    if (st->ooo_bytes < held_before && st->gap_bytes > gaps_before)
        mw_session_anomaly(f->sess, MW_ANOM_OOO_OVERFLOW);
}

/* Does a segment of `dir` acknowledge bytes of the other direction not yet delivered? */
static bool acks_unseen(const mw_flow *f, mw_dir dir, uint32_t ack)
{
    const mw_stream *other = &f->stream[!dir];
    if (!other->started)
        return false;
    uint64_t have = other->next + (f->fin[!dir] ? 1 : 0); /* a FIN takes one number */
    return mw_stream_offset(other, ack) > have;
}

static void release_one(mw_engine *e, mw_flow *f, mw_dir dir)
{
    deferred *d = f->dq_head[dir];
    f->dq_head[dir] = d->next;
    if (!d->next)
        f->dq_tail[dir] = NULL;
    f->dq_bytes[dir] -= d->len;
    uint64_t frame = e->frame;
    int64_t ts = e->ts_us;
    e->frame = d->frame; /* evidence names the packet that carried the bytes */
    e->ts_us = d->ts_us;
    deliver_segment(e, f, dir, d->seq, d->data, d->len, d->cut, true, d->ack);
    e->frame = frame;
    e->ts_us = ts;
    g_free(d);
}

/* Deliver held segments whose acknowledged bytes have now been seen; at close (`all`),
 * everything held, in capture order. */
static void release_deferred(mw_engine *e, mw_flow *f, bool all)
{
    for (;;) {
        int pick = -1;
        for (int d = 0; d < 2 && pick < 0; d++)
            if (f->dq_head[d] && !acks_unseen(f, (mw_dir)d, f->dq_head[d]->ack))
                pick = d;
        if (pick < 0 && all && (f->dq_head[0] || f->dq_head[1]))
            pick = (f->dq_head[0] &&
                    (!f->dq_head[1] || f->dq_head[0]->frame < f->dq_head[1]->frame)) ? 0 : 1;
        if (pick < 0)
            return;
        release_one(e, f, (mw_dir)pick);
    }
}

static void defer_segment(mw_engine *e, mw_flow *f, mw_dir dir, uint32_t seq, const mw_packet *pkt,
                          uint64_t frame, int64_t ts_us)
{
    /* over the cap, the oldest held segment goes on regardless */
    while (f->dq_head[dir] && f->dq_bytes[dir] + pkt->payload_len > e->cfg.max_ooo_bytes)
        release_one(e, f, dir);
    if (pkt->payload_len > e->cfg.max_ooo_bytes) {
        deliver_segment(e, f, dir, seq, pkt->payload, pkt->payload_len, pkt->payload_cut, true,
                        pkt->ack);
        return;
    }
    deferred *d = g_malloc(sizeof *d + pkt->payload_len);
    d->next = NULL;
    d->seq = seq;
    d->ack = pkt->ack;
    d->frame = frame;
    d->ts_us = ts_us;
    d->len = pkt->payload_len;
    d->cut = pkt->payload_cut;
    memcpy(d->data, pkt->payload, pkt->payload_len);
    if (f->dq_tail[dir])
        f->dq_tail[dir]->next = d;
    else
        f->dq_head[dir] = d;
    f->dq_tail[dir] = d;
    f->dq_bytes[dir] += d->len;
}

static void close_flow(mw_engine *e, mw_flow *f, mw_close_reason why)
{
    if (f->sess)
        release_deferred(e, f, true);
    if (f->sess) {
        mw_session *s = f->sess;
        s->close_reason = why;
        if (why == MW_CLOSE_NONE || why == MW_CLOSE_IDLE)
            s->idle_at_end_us = e->now_us - f->last_ts;
        s->syn_seen = f->syn_seen;
        s->synack_seen = f->synack_seen;
        for (int d = 0; d < 2; d++) {
            f->cur_dir = (mw_dir)d;
            mw_stream_flush(&f->stream[d], &flow_sink, f);
        }
        mw_conn_tcp tcp = { f->rst, f->rst_from, f->syn_count, f->first_frame, f->first_ts,
                            e->now_us };
        mw_feeder_close_conn(&f->feed, &tcp, e->frame, e->ts_us);
        mw_session_finish(s);
        e->stats.sessions++;
        if (why == MW_CLOSE_EVICTED)
            e->stats.evicted++;
        /* the Community ID (a SHA-1) is for the record only: the writer thread works it
         * out when there is one */
        if (e->take) {
            e->take(s, e->take_user);
            f->sess = NULL;
        } else {
            mw_session_community_id(s);
            e->cb(s, e->user);
        }
    } else if (f->kind == F_IGNORED) {
        e->stats.flows_ignored++;
    }
    for (int d = 0; d < 2; d++) {
        while (f->dq_head[d]) {
            deferred *n = f->dq_head[d]->next;
            g_free(f->dq_head[d]);
            f->dq_head[d] = n;
        }
    }
    mw_feeder_free(&f->feed);
    mw_session_free(f->sess);
    for (int d = 0; d < 2; d++)
        mw_stream_free(&f->stream[d]);
    lru_unlink(e, f);
    g_hash_table_remove(e->flows, &f->key);
    e->stats.flows_live--;
    g_free(f);
}

static mw_flow *new_flow(mw_engine *e, const flow_key *k, int64_t ts, uint64_t frame)
{
    if (e->stats.flows_live >= e->cfg.max_flows && e->lru_head)
        close_flow(e, e->lru_head, MW_CLOSE_EVICTED);
    mw_flow *f = g_new0(mw_flow, 1);
    f->key = *k;
    f->eng = e;
    f->first_ts = ts;
    f->first_frame = frame;
    mw_stream_init(&f->stream[0]);
    mw_stream_init(&f->stream[1]);
    g_hash_table_insert(e->flows, &f->key, f);
    lru_append(e, f);
    e->stats.flows_live++;
    if (e->stats.flows_live > e->stats.flows_peak)
        e->stats.flows_peak = e->stats.flows_live;
    return f;
}

static void expire_idle(mw_engine *e)
{
    while (e->lru_head && e->now_us - e->lru_head->last_ts > e->cfg.idle_timeout_us)
        close_flow(e, e->lru_head, MW_CLOSE_IDLE);
}

/* Which side serves? Set the flow's endpoints with `server_is_src`. */
static void orient(mw_flow *f, const mw_packet *pkt, bool server_is_src)
{
    const uint8_t *c_addr = server_is_src ? pkt->dst : pkt->src;
    const uint8_t *s_addr = server_is_src ? pkt->src : pkt->dst;
    uint16_t c_port = server_is_src ? pkt->dport : pkt->sport;
    uint16_t s_port = server_is_src ? pkt->sport : pkt->dport;
    set_endpoint(&f->ep[MW_FROM_CLIENT], pkt->family, c_addr, c_port);
    set_endpoint(&f->ep[MW_FROM_SERVER], pkt->family, s_addr, s_port);
    f->dir_known = true;
}

/* Decide protocol and orientation for a flow that has none yet. */
static void classify(mw_engine *e, mw_flow *f, const mw_packet *pkt)
{
    bool syn = (pkt->tcp_flags & MW_TCP_SYN) != 0;
    bool ack = (pkt->tcp_flags & MW_TCP_ACK) != 0;
    if (syn && !f->dir_known)
        orient(f, pkt, ack); /* SYN from the client, SYN-ACK from the server */
    if (!f->dir_known) {
        const mw_port_entry *ds = mw_detect_port(pkt->dport);
        const mw_port_entry *ss = mw_detect_port(pkt->sport);
        if (ds || ss)
            orient(f, pkt, !ds);
    }
    if (f->dir_known) {
        const mw_port_entry *pe = mw_detect_port(f->ep[MW_FROM_SERVER].port);
        if (pe) {
            start_session(e, f, pe->dissector, pe->proto);
            return;
        }
    }
    if (pkt->payload_len == 0)
        return; /* keep probing */
    /* Another port: the server's greeting decides (SPEC.md). */
    mw_proto proto = MW_PROTO_UNKNOWN;
    const mw_dissector *d = mw_detect_content(pkt->payload, pkt->payload_len, &proto);
    bool from_server = f->dir_known && memcmp(pkt->src, f->ep[MW_FROM_SERVER].addr, 16) == 0 &&
                       pkt->sport == f->ep[MW_FROM_SERVER].port;
    if (d && (!f->dir_known || from_server)) {
        orient(f, pkt, true);
        start_session(e, f, d, proto);
        return;
    }
    /* Implicit TLS on another port: a ClientHello naming a mail service (issue 3); other
     * TLS (HTTPS) is not mail and is dropped here. */
    if (!from_server && (d = mw_detect_client_content(pkt->payload, pkt->payload_len, &proto))) {
        orient(f, pkt, false);
        start_session(e, f, d, proto);
        return;
    }
    f->kind = F_IGNORED;
}

static mw_dir packet_dir(const mw_flow *f, const mw_packet *pkt)
{
    return (memcmp(pkt->src, f->ep[MW_FROM_CLIENT].addr, 16) == 0 &&
            pkt->sport == f->ep[MW_FROM_CLIENT].port)
               ? MW_FROM_CLIENT
               : MW_FROM_SERVER;
}

void mw_engine_packet(mw_engine *e, const mw_packet *pkt, uint64_t frame, int64_t ts_us)
{
    e->stats.packets++;
    e->stats.tcp_packets++;
    e->frame = frame;
    e->ts_us = ts_us;
    if (ts_us > e->now_us)
        e->now_us = ts_us;

    flow_key k;
    bool src_lo;
    make_key(pkt, &k, &src_lo);
    mw_flow *f = g_hash_table_lookup(e->flows, &k);
    bool syn = (pkt->tcp_flags & MW_TCP_SYN) != 0;
    bool ack = (pkt->tcp_flags & MW_TCP_ACK) != 0;

    /* A new SYN on a known 4-tuple: a retransmission, or the tuple reused for a new
     * connection after the old one ended. */
    if (f && syn && !ack) {
        if (f->syn_seen && pkt->seq == f->client_isn) {
            f->syn_count++;
        } else if (f->syn_seen || f->fin[0] || f->fin[1] || f->kind != F_PROBING) {
            close_flow(e, f, (f->fin[0] || f->fin[1]) ? MW_CLOSE_FIN : MW_CLOSE_IDLE);
            f = NULL;
        }
    }
    if (!f) {
        /* Bare ACKs, FINs and RSTs of connections we never saw start nothing. */
        if (!syn && pkt->payload_len == 0 && pkt->payload_cut == 0)
            goto out;
        if (!syn && !mw_detect_port(pkt->dport) && !mw_detect_port(pkt->sport)) {
            /* mid-session on another port: only a greeting makes it worth a flow */
            mw_proto p;
            if (!mw_detect_content(pkt->payload, pkt->payload_len, &p) &&
                !mw_detect_client_content(pkt->payload, pkt->payload_len, &p)) {
                e->stats.flows_ignored++;
                goto out;
            }
        }
        f = new_flow(e, &k, ts_us, frame);
    }
    f->last_ts = ts_us;
    lru_unlink(e, f);
    lru_append(e, f);

    if (f->kind == F_PROBING)
        classify(e, f, pkt);
    if (f->kind == F_IGNORED || !f->dir_known) {
        /* not mail (or nothing to go by yet): forget it as soon as it ends */
        if (pkt->tcp_flags & (MW_TCP_RST | MW_TCP_FIN))
            close_flow(e, f, MW_CLOSE_RST);
        goto out;
    }

    /* TCP bookkeeping for every oriented flow, so that a session that starts when a
     * later packet tells its protocol still knows its handshake and counters */
    mw_dir dir = packet_dir(f, pkt);
    f->packets[dir]++;
    f->bytes[dir] += pkt->payload_len + pkt->payload_cut;
    f->ts_end = ts_us;
    if (syn) {
        if (dir == MW_FROM_CLIENT && !ack) {
            if (!f->syn_seen) {
                f->syn_seen = true;
                f->client_isn = pkt->seq;
            }
            f->syn_count = MAX(f->syn_count, 1u);
            if (!f->stream[MW_FROM_CLIENT].started)
                mw_stream_start(&f->stream[MW_FROM_CLIENT], pkt->seq + 1);
        } else if (dir == MW_FROM_SERVER && ack) {
            f->synack_seen = true;
            if (!f->stream[MW_FROM_SERVER].started)
                mw_stream_start(&f->stream[MW_FROM_SERVER], pkt->seq + 1);
        }
    }
    if (f->kind != F_MAIL) {
        if (pkt->tcp_flags & (MW_TCP_RST | MW_TCP_FIN))
            close_flow(e, f, MW_CLOSE_RST);
        goto out;
    }
    mw_session *s = f->sess;
    sync_session(f);

    if (ack) { /* first: it may declare a hole in the other direction a gap */
        mw_dir other = (mw_dir)!dir;
        f->cur_dir = other;
        mw_stream_ack(&f->stream[other], pkt->ack, &flow_sink, f);
    }
    if (pkt->payload_len > 0 || pkt->payload_cut > 0) {
        mw_stream *st = &f->stream[dir];
        if (!st->started && !f->syn_seen && !f->synack_seen) {
            mw_session_flag(s, MW_FLAG_CAPTURE_GAP, frame, ts_us,
                            "capture started mid-session");
            mw_feeder_gap(&f->feed, dir, 0, frame, ts_us);
        }
        if (pkt->payload_cut > 0)
            mw_session_anomaly(s, MW_ANOM_PAYLOAD_CUT);
        uint32_t seq = syn ? pkt->seq + 1 : pkt->seq;
        /* Hold it back if it acknowledges bytes not seen yet — unless the other side is
         * itself held back (waiting on each other would never end): one queue at a time. */
        if (ack && !f->dq_head[!dir] && acks_unseen(f, dir, pkt->ack))
            defer_segment(e, f, dir, seq, pkt, frame, ts_us);
        else
            deliver_segment(e, f, dir, seq, pkt->payload, pkt->payload_len, pkt->payload_cut,
                            ack, pkt->ack);
    }
    if (f->dq_head[0] || f->dq_head[1])
        release_deferred(e, f, false);
    if (pkt->tcp_flags & MW_TCP_RST) {
        f->rst = true;
        f->rst_from = dir;
        close_flow(e, f, MW_CLOSE_RST);
        goto out;
    }
    if (pkt->tcp_flags & MW_TCP_FIN) {
        f->fin[dir] = true;
        if (!s->fin_ts_us[dir]) {
            s->fin_ts_us[dir] = ts_us;
            s->fin_frame[dir] = frame;
        }
        if (f->fin[0] && f->fin[1]) {
            close_flow(e, f, MW_CLOSE_FIN);
            goto out;
        }
    }
out:
    expire_idle(e);
}

void mw_engine_count(mw_engine *e, int status)
{
    e->stats.packets++;
    if (status == 2)
        e->stats.malformed++;
    else
        e->stats.skipped++;
}

void mw_engine_new_file(mw_engine *e)
{
    e->frame = 0;
}

void mw_engine_tick(mw_engine *e, int64_t now_us)
{
    if (now_us > e->now_us)
        e->now_us = now_us;
    expire_idle(e);
}

void mw_engine_finish(mw_engine *e)
{
    while (e->lru_head)
        close_flow(e, e->lru_head, MW_CLOSE_NONE);
}

mw_engine *mw_engine_new(const mw_config *cfg, mw_session_cb cb, void *user)
{
    mw_engine *e = g_new0(mw_engine, 1);
    e->cfg = *cfg;
    e->cb = cb;
    e->user = user;
    if (!key_seed)
        key_seed = (uint64_t)g_random_int() << 32 | g_random_int() | 1;
    e->flows = g_hash_table_new(key_hash, key_equal);
    return e;
}

void mw_engine_hand_over(mw_engine *e, mw_session_take_cb take, void *user)
{
    e->take = take;
    e->take_user = user;
}

void mw_engine_free(mw_engine *e)
{
    if (!e)
        return;
    mw_engine_finish(e);
    g_hash_table_destroy(e->flows);
    g_free(e);
}

const mw_engine_stats *mw_engine_stats_get(const mw_engine *e)
{
    return &e->stats;
}
