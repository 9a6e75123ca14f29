#include "engine/flow.h"

#include <glib.h>
#include <string.h>

#include "dissector.h"
#include "engine/detect.h"
#include "engine/feeder.h"
#include "engine/flow_key.h" /* the lookup, inlined: once a packet */
#include "engine/live/loss.h"
#include "core/spares.h"
#include "engine/tcp_state.h"
#include "input/defrag.h"
#include "registry.h"

typedef enum { F_PROBING, F_MAIL, F_IGNORED } flow_kind;

/* Ordered to leave no holes: a one-segment flow costs well under 1 KB (issue 12). */
typedef struct mw_flow {
    mw_flow_node node;      /* first: the table's handle; its key holds both endpoints */
    mw_tcp tcp;
    mw_feeder feed;         /* dissector, held-back bytes; feed.dis NULL until mail; feed.sess
                             * the flow's session (NULL until mail, and once handed over) */
    char *continues;        /* the id of the evicted record this flow continues, or NULL */
    uint64_t first_frame;
    int64_t first_ts;
    int64_t ts_end;
    /* by direction before the session starts; after, pre_bytes holds (parallel) last_index */
    uint32_t pre_packets[2], pre_bytes[2];
    uint32_t mem_cost;      /* what it holds, as last counted in mem_held (saturating) */
    uint8_t kind;           /* flow_kind */
    bool dir_known;
    uint8_t client;         /* node.key's endpoint (0 or 1) that is the client, dir_known */
    bool time_back;         /* a packet's time went backwards before the session started */
} mw_flow;

/* --max-memory: a flow's cost beyond its buffers (tests/hostile.py: ~950 bytes a flow). */
#define MW_FLOW_FIXED_COST 1024u
/* Earlier than its flow's latest by more: time_went_backwards (less: taps' reordering). */
#define MW_TIME_BACKWARDS_US 1000000
#define MW_FLOW_SPARE_KEPT 256u /* closed flows kept for new ones (engine/spares.h) */
#define MW_PORTS_COUNTED 65536 /* ignored flows are counted by server port, one counter each */

struct mw_engine {
    mw_config cfg;
    mw_session_cb cb;
    void *user;
    mw_session_take_cb take; /* when set, closed sessions are handed over to it */
    void *take_user;
    mw_flow_table table;
    uint32_t *ignored_by_port; /* MW_PORTS_COUNTED counters, made at the first ignored packet */
    mw_ports *ports;         /* the engine's own copy of the port table */
    mw_defrag *defrag;       /* IP fragments in progress (this thread's own) */
    void *slots[MW_MAX_DISSECTORS]; /* per-dissector engine state (engine_new) */
    uint64_t next_id;
    uint64_t index;          /* in parallel: the global index of the packet (mw_engine_index) */
    uint64_t frame;          /* the packet being processed */
    int64_t ts_us;
    int64_t now_us;          /* the latest packet time seen */
    mw_engine_stats stats;
    mw_loss loss;            /* live capture: when the kernel dropped packets */
    size_t mem_held;         /* every flow's mem_cost: what --max-memory bounds */
    mw_spares spare;         /* closed flows kept for reuse */
};

/* A packet of a non-mail flow, by the flow's server port: its SYN's destination when
 * seen, else the lower port (services listen on the low ones). */
static void count_ignored(mw_engine *e, uint16_t server_port)
{
    if (!e->ignored_by_port) /* made at the first: 256 KiB an engine otherwise */
        e->stats.ignored_by_port = e->ignored_by_port = g_new0(uint32_t, MW_PORTS_COUNTED);
    e->ignored_by_port[server_port]++;
}

static mw_flow *flow_of(mw_flow_node *n)
{
    return (mw_flow *)n; /* the node is the flow's first member */
}

/* The endpoint that sends `dir`'s bytes (the flow's direction is known). */
static mw_endpoint flow_ep(const mw_flow *f, mw_dir dir)
{
    const int i = dir == MW_FROM_CLIENT ? f->client : !f->client;
    mw_endpoint ep = { .family = f->node.key.family, .port = f->node.key.port[i] };
    memcpy(ep.addr, f->node.key.addr[i], 16);
    return ep;
}

/* Does the packet come from key endpoint i? */
static bool sent_by(const mw_flow *f, int i, const mw_packet *pkt)
{
    return mw_flow_key_sent_by(&f->node.key, i, pkt);
}

/* ---------- the TCP layer's sink: reassembled bytes to the dissector ---------- */

/* What the TCP layer's sink is called with (the flow does not point back to its engine). */
typedef struct {
    mw_engine *e;
    mw_flow *f;
} sink_user;

static void sink_data(void *user, mw_dir dir, const uint8_t *p, size_t len, const mw_tcp_at *at)
{
    mw_flow *f = ((sink_user *)user)->f;
    mw_feeder_data_acked(&f->feed, dir, p, len, at->frame, at->ts_us, at->ack_known,
                         at->peer_acked);
}

static void sink_gap(void *user, mw_dir dir, uint64_t missing, const mw_tcp_at *at)
{
    mw_flow *f = ((sink_user *)user)->f;
    if (!f->feed.sess)
        return;
    mw_loss_flag_gap(&((sink_user *)user)->e->loss, f->feed.sess, f->first_ts, missing,
                     dir == MW_FROM_CLIENT ? "client" : "server", at->frame, at->ts_us);
    mw_feeder_gap(&f->feed, dir, missing, at->frame, at->ts_us);
}

static void sink_overflow(void *user, mw_dir dir)
{
    mw_session_anomaly(((sink_user *)user)->f->feed.sess, MW_ANOM_OOO_OVERFLOW);
}

/* Two copies of the same bytes differed (the first kept); the dissector judges its secrets. */
static void sink_conflict(void *user, mw_dir dir, uint64_t off, const uint8_t *other,
                          size_t len, uint64_t first_frame, const mw_tcp_at *at)
{
    mw_flow *f = ((sink_user *)user)->f;
    if (!f->feed.sess)
        return;
    mw_session_anomaly(f->feed.sess, MW_ANOM_SEGMENT_OVERLAP);
    mw_feeder_overlap_conflict(&f->feed, dir, off, other, len, first_frame, at->frame, at->ts_us);
}

static const mw_tcp_sink flow_sink = { sink_data, sink_gap, sink_overflow, sink_conflict };

/* ---------- session lifecycle ---------- */

/* The session's view of the TCP side: counters, handshake, last packet time. */
static void sync_session(mw_flow *f)
{
    mw_session *s = f->feed.sess;
    s->syn_seen = f->tcp.syn_seen;
    s->synack_seen = f->tcp.synack_seen;
    if (f->ts_end > s->ts_end_us)
        s->ts_end_us = f->ts_end;
}

static void start_session(mw_engine *e, mw_flow *f, const mw_dissector *d, mw_proto proto)
{
    f->kind = F_MAIL;
    f->feed.sess = mw_session_new(e->stats.last_id = e->next_id += e->cfg.session_id_step);
    mw_session *s = f->feed.sess;
    s->client = flow_ep(f, MW_FROM_CLIENT);
    s->server = flow_ep(f, MW_FROM_SERVER);
    s->protocol = proto;
    s->ts_start_us = f->first_ts;
    s->ts_end_us = f->first_ts;
    s->first_frame = f->first_frame;
    for (int k = 0; k < 2; k++) {
        s->packets[k] = f->pre_packets[k];
        s->bytes[k] = f->pre_bytes[k];
    }
    if (f->time_back)
        mw_session_anomaly(s, MW_ANOM_TIME_BACKWARDS);
    if (f->continues) {
        mw_session_more *more = mw_session_more_of(s);
        g_strlcpy(more->continues, f->continues, sizeof more->continues);
        mw_session_anomaly(s, MW_ANOM_CONTINUES_EVICTED);
    }
    sync_session(f);
    if (e->cfg.keep_transcript)
        mw_session_keep_transcript(s);
    mw_feeder_init_in(&f->feed, d, s, &e->cfg, e->slots);
}

/* The record is complete: hand it to the writer (or to the callback). */
static void emit_session(mw_engine *e, mw_flow *f)
{
    mw_session *s = f->feed.sess;
    mw_session_finish(s);
    e->stats.sessions++;
    if (s->close_reason == MW_CLOSE_EVICTED)
        e->stats.evicted++;
    /* the Community ID (a SHA-1) is for the record only: the writer thread works it out
     * when there is one */
    if (e->take) {
        e->take(s, e->take_user);
        f->feed.sess = NULL;
    } else {
        mw_session_community_id(s);
        e->cb(s, e->user);
    }
}

static void end_session(mw_engine *e, mw_flow *f, mw_close_reason why)
{
    mw_session *s = f->feed.sess;
    sink_user u = { e, f };
    mw_tcp_release_all(&f->tcp, e->cfg.max_ooo_bytes, &flow_sink, &u);
    s->close_reason = why;
    if (why == MW_CLOSE_NONE || why == MW_CLOSE_IDLE) {
        mw_session_more_of(s)->idle_at_end_us = e->now_us - f->node.last_ts;
        mw_loss_flag_unseen_end(&e->loss, s, f->node.last_ts, e->now_us, e->frame, e->ts_us);
    }
    if (e->index) /* in parallel: the order of closes across threads (parallel/order.h) */
        memcpy(&mw_session_more_of(s)->last_index, f->pre_bytes, sizeof e->index);
    s->syn_seen = f->tcp.syn_seen;
    s->synack_seen = f->tcp.synack_seen;
    mw_tcp_flush(&f->tcp, e->frame, e->ts_us, &flow_sink, &u);
    mw_conn_tcp tcp = { f->tcp.rst, f->tcp.rst_from, f->tcp.syn_count, f->first_frame,
                        f->first_ts, e->now_us };
    mw_feeder_close_conn(&f->feed, &tcp, e->frame, e->ts_us);
    emit_session(e, f);
}

/* A mail connection closed by FIN or RST, with each side's sequence numbers (lookup). */
static void remember_closed(mw_engine *e, const mw_flow *f)
{
    mw_seq_span span[2];
    for (int d = 0; d < 2; d++)
        span[d == MW_FROM_CLIENT ? f->client : !f->client] = mw_stream_span(&f->tcp.stream[d]);
    mw_flow_table_closed(&e->table, &f->node.key, span, e->now_us);
}

static void close_flow(mw_engine *e, mw_flow *f, mw_close_reason why)
{
    if (f->feed.sess && why == MW_CLOSE_EVICTED) /* the flow goes on: its rest will say so */
        mw_flow_table_remember(&e->table, &f->node.key, f->feed.sess->id);
    if (f->feed.sess && f->dir_known && (why == MW_CLOSE_FIN || why == MW_CLOSE_RST))
        remember_closed(e, f);
    if (f->feed.sess)
        end_session(e, f, why);
    else if (f->kind == F_IGNORED)
        e->stats.flows_ignored++;
    mw_session *s = f->feed.sess; /* NULL once handed over */
    mw_tcp_free(&f->tcp);
    mw_feeder_free(&f->feed);
    mw_session_free(s);
    g_free(f->continues);
    mw_flow_table_remove(&e->table, &f->node);
    e->stats.flows_live = e->table.live;
    e->mem_held -= f->mem_cost;
    mw_spares_give(&e->spare, f);
}

static mw_flow *new_flow(mw_engine *e, const mw_flow_key *k, int64_t ts, uint64_t frame)
{
    mw_flow_node *oldest = mw_flow_table_oldest(&e->table);
    if (e->table.live >= e->cfg.max_flows && oldest)
        close_flow(e, flow_of(oldest), MW_CLOSE_EVICTED);
    mw_flow *f = mw_spares_take(&e->spare);
    f->node.key = *k;
    f->first_ts = ts;
    f->first_frame = frame;
    f->mem_cost = MW_FLOW_FIXED_COST;
    e->mem_held += f->mem_cost;
    mw_tcp_init(&f->tcp);
    mw_flow_table_insert(&e->table, &f->node);
    e->stats.flows_live = e->table.live;
    e->stats.flows_peak = e->table.peak;
    return f;
}

static void expire_idle(mw_engine *e)
{
    mw_flow_node *n;
    while ((n = mw_flow_table_oldest(&e->table)) && e->now_us - n->last_ts > e->cfg.idle_timeout_us)
        close_flow(e, flow_of(n), MW_CLOSE_IDLE);
}

/* ---------- classification: which side serves, which protocol ---------- */

/* Set the flow's endpoints with `server_is_src`. */
static void orient(mw_flow *f, const mw_packet *pkt, bool server_is_src)
{
    const int src = sent_by(f, 0, pkt) ? 0 : 1; /* the key endpoint that sent it */
    f->client = (uint8_t)(server_is_src ? !src : src);
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
        const mw_port_entry *ds = mw_ports_lookup(e->ports, pkt->dport);
        const mw_port_entry *ss = mw_ports_lookup(e->ports, pkt->sport);
        if (ds || ss)
            orient(f, pkt, !ds);
    }
    if (f->dir_known) {
        const mw_port_entry *pe = mw_ports_lookup(e->ports, flow_ep(f, MW_FROM_SERVER).port);
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
    bool from_server = f->dir_known && sent_by(f, !f->client, pkt);
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
    return sent_by(f, f->client, pkt) ? MW_FROM_CLIENT : MW_FROM_SERVER;
}

/* ---------- the packet path: lookup, TCP state, delivery ---------- */

/* The packet's flow, made when the packet can start one; NULL: nothing to follow. A new SYN
 * on a known 4-tuple: a retransmission, or the tuple reused after the old one ended. */
static mw_flow *lookup(mw_engine *e, const mw_packet *pkt, uint64_t frame, int64_t ts_us,
                       const mw_flow_key *known)
{
    mw_flow_key k; /* the look-ahead's, or all of it written by mw_flow_table_find: not zeroed */
    mw_flow_node *n = known ? mw_flow_table_lookup(&e->table, memcpy(&k, known, sizeof k))
                            : mw_flow_table_find_inline(&e->table, pkt, &k);
    mw_flow *f = n ? flow_of(n) : NULL;
    bool syn = (pkt->tcp_flags & MW_TCP_SYN) != 0;
    bool ack = (pkt->tcp_flags & MW_TCP_ACK) != 0;
    if (f && syn && !ack) {
        const mw_tcp *t = &f->tcp;
        if (t->syn_seen && pkt->seq == t->client_isn) {
            f->tcp.syn_count++;
        } else if (t->syn_seen || t->fin[0] || t->fin[1] || f->kind != F_PROBING) {
            /* the 4-tuple reused by a new connection: the old one ended unseen */
            close_flow(e, f, (t->fin[0] || t->fin[1]) ? MW_CLOSE_FIN : MW_CLOSE_REUSED);
            f = NULL;
        }
    }
    if (!f && syn && !ack)
        mw_flow_table_closed_forget(&e->table, &k); /* a new connection */
    else if (!f && (pkt->payload_len > 0 || pkt->payload_cut > 0 || syn) &&
             mw_flow_table_after_close(&e->table, &k, mw_flow_key_side(&k, pkt), pkt->seq, e->now_us,
                                       e->cfg.idle_timeout_us)) {
        e->stats.after_close++; /* a stray packet of a closed connection: no new session */
        return NULL;
    }
    if (!f) {
        /* Bare ACKs, FINs and RSTs of connections we never saw start nothing. */
        if (!syn && pkt->payload_len == 0 && pkt->payload_cut == 0)
            return NULL;
        if (!syn && !mw_ports_lookup(e->ports, pkt->dport) && !mw_ports_lookup(e->ports, pkt->sport)) {
            /* mid-session on another port: only a greeting makes it worth a flow */
            mw_proto p;
            if (!mw_detect_content(pkt->payload, pkt->payload_len, &p) &&
                !mw_detect_client_content(pkt->payload, pkt->payload_len, &p)) {
                e->stats.flows_ignored++;
                count_ignored(e, MIN(pkt->sport, pkt->dport));
                return NULL;
            }
        }
        f = new_flow(e, &k, ts_us, frame);
        char evicted_id[24];
        if (mw_flow_table_recall(&e->table, &k, evicted_id) && !syn) /* SYN: a new one */
            f->continues = g_strndup(evicted_id, sizeof evicted_id - 1);
    }
    /* time going backwards is not idleness: the flow keeps its latest time */
    if (n && ts_us < f->node.last_ts) {
        if (f->node.last_ts - ts_us <= MW_TIME_BACKWARDS_US)
            ; /* reordering, not a clock */
        else if (f->feed.sess)
            mw_session_anomaly(f->feed.sess, MW_ANOM_TIME_BACKWARDS);
        else
            f->time_back = true;
        ts_us = f->node.last_ts;
    }
    mw_flow_table_touch(&e->table, &f->node, ts_us);
    return f;
}

/* A mail session's payload, ACK and end: returns false when the packet closed the flow. */
static bool deliver(mw_engine *e, mw_flow *f, mw_dir dir, const mw_packet *pkt, uint64_t frame,
                    int64_t ts_us)
{
    mw_session *s = f->feed.sess;
    sync_session(f);
    memcpy(f->pre_bytes, &e->index, sizeof e->index); /* not in the record: a live flow's size */
    sink_user u = { e, f };
    mw_tcp_ack(&f->tcp, dir, pkt, frame, ts_us, &flow_sink, &u);
    if (pkt->payload_len > 0 || pkt->payload_cut > 0) {
        if (!f->tcp.stream[dir].started && !f->tcp.syn_seen && !f->tcp.synack_seen) {
            /* the rest of an evicted flow: nothing was lost on the network */
            if (!f->continues)
                mw_session_flag(s, MW_FLAG_CAPTURE_GAP, frame, ts_us,
                                "capture started mid-session%s",
                                mw_loss_between(&e->loss, ts_us - MW_LOSS_MERGE_US, ts_us)
                                    ? ": the kernel dropped packets just before (mailwire "
                                      "fell behind, not the network; raise --buffer-size)"
                                    : "");
            mw_feeder_gap(&f->feed, dir, 0, frame, ts_us);
        }
        if (pkt->payload_cut > 0)
            mw_session_anomaly(s, MW_ANOM_PAYLOAD_CUT);
    }
    if (pkt->frag_overlap)
        mw_session_anomaly(s, MW_ANOM_FRAG_OVERLAP);
    mw_tcp_segment(&f->tcp, dir, pkt, frame, ts_us, e->cfg.max_ooo_bytes, &flow_sink, &u);
    if (pkt->tcp_flags & MW_TCP_RST) {
        f->tcp.rst = true;
        f->tcp.rst_from = dir;
        close_flow(e, f, MW_CLOSE_RST);
        return false;
    }
    if (pkt->tcp_flags & MW_TCP_FIN) {
        f->tcp.fin[dir] = true;
        mw_session_more *more = mw_session_more_of(s);
        if (!more->fin_ts_us[dir]) {
            more->fin_ts_us[dir] = ts_us;
            more->fin_frame[dir] = frame;
        }
        if (f->tcp.fin[0] && f->tcp.fin[1]) {
            close_flow(e, f, MW_CLOSE_FIN);
            return false;
        }
    }
    return true;
}

/* What f holds now: its fixed cost, its out-of-order and held-back segments, and the
 * bytes kept for its dissector. */
static void recount(mw_engine *e, mw_flow *f)
{
    size_t c = MW_FLOW_FIXED_COST + mw_tcp_held_all(&f->tcp);
    for (int d = 0; d < 2; d++)
        c += f->tcp.stream[d].ooo_bytes + f->feed.pend[d].alloc;
    c = MIN(c, (size_t)UINT32_MAX);
    e->mem_held = e->mem_held - f->mem_cost + c;
    f->mem_cost = (uint32_t)c;
}

/* Over --max-memory (flows and fragments together): the least recently active flows
 * are closed as evicted, as Suricata's memcaps do, until the run is under it again. */
static void within_memory(mw_engine *e)
{
    if (!e->cfg.max_memory)
        return;
    mw_flow_node *n;
    while (e->mem_held + mw_defrag_stats_get(e->defrag)->bytes_held > e->cfg.max_memory &&
           (n = mw_flow_table_oldest(&e->table))) {
        bool mail = flow_of(n)->feed.sess != NULL;
        close_flow(e, flow_of(n), MW_CLOSE_EVICTED);
        if (mail)
            e->stats.evicted_memory++;
    }
}

/* Count a packet of an oriented flow: in its session, or until there is one in the flow. */
static void count_packet(mw_flow *f, mw_dir dir, const mw_packet *pkt)
{
    uint64_t n = (uint64_t)pkt->payload_len + pkt->payload_cut;
    if (f->feed.sess) {
        f->feed.sess->packets[dir]++;
        f->feed.sess->bytes[dir] += n;
    } else { /* saturating */
        f->pre_packets[dir] += f->pre_packets[dir] < UINT32_MAX;
        f->pre_bytes[dir] = (uint32_t)MIN(f->pre_bytes[dir] + n, (uint64_t)UINT32_MAX);
    }
}

/* One packet of a flow that exists. */
static void flow_packet(mw_engine *e, mw_flow *f, const mw_packet *pkt, uint64_t frame,
                        int64_t ts_us)
{
    if (f->kind == F_PROBING)
        classify(e, f, pkt);
    if (f->kind == F_IGNORED || !f->dir_known) {
        if (f->kind == F_IGNORED)
            count_ignored(e, f->dir_known ? flow_ep(f, MW_FROM_SERVER).port
                                          : MIN(pkt->sport, pkt->dport));
        /* not mail (or nothing to go by yet): forget it as soon as it ends */
        if (pkt->tcp_flags & (MW_TCP_RST | MW_TCP_FIN))
            close_flow(e, f, MW_CLOSE_RST);
        return;
    }
    /* TCP bookkeeping for every oriented flow, so that a session that starts when a
     * later packet tells its protocol still knows its handshake and counters */
    mw_dir dir = packet_dir(f, pkt);
    mw_tcp_track(&f->tcp, dir, pkt);
    count_packet(f, dir, pkt);
    f->ts_end = ts_us;
    if (f->kind != F_MAIL) {
        if (pkt->tcp_flags & (MW_TCP_RST | MW_TCP_FIN))
            close_flow(e, f, MW_CLOSE_RST);
        return;
    }
    if (deliver(e, f, dir, pkt, frame, ts_us))
        recount(e, f);
}

/* A TCP segment: one frame, or a datagram reassembled from several (counted already). */
static void engine_segment(mw_engine *e, const mw_packet *pkt, uint64_t frame, int64_t ts_us,
                           const mw_flow_key *known)
{
    e->stats.tcp_packets++;
    e->frame = frame;
    e->ts_us = ts_us;
    if (ts_us > e->now_us)
        e->now_us = ts_us;
    mw_flow *f = lookup(e, pkt, frame, ts_us, known);
    if (f)
        flow_packet(e, f, pkt, frame, ts_us);
    expire_idle(e);
    within_memory(e);
}

void mw_engine_packet_keyed(mw_engine *e, const mw_packet *pkt, uint64_t frame, int64_t ts_us,
                            const mw_flow_key *k)
{
    e->stats.packets++;
    engine_segment(e, pkt, frame, ts_us, k);
}

void mw_engine_prefetch_slot(const mw_engine *e, const mw_packet *pkt, mw_flow_key *k)
{
    mw_flow_table_prefetch_slot(&e->table, pkt, k);
}

void mw_engine_prefetch_flow(const mw_engine *e, uint64_t hash, bool state)
{
    /* a flow the map holds now is live: its fields may be read (the one an earlier stage
     * saw may have closed since); the node is first */
    const mw_flow *f = mw_flow_table_prefetch_entry(&e->table, hash);
    for (size_t off = 64; f && !state && off < sizeof(mw_flow); off += 64)
        __builtin_prefetch((const char *)f + off);
    if (!f || !state)
        return;
    if (f->node.lru_prev && f->node.lru_next) { /* touch moves the flow to the list's end */
        __builtin_prefetch(&f->node.lru_prev->lru_next, 1);
        __builtin_prefetch(&f->node.lru_next->lru_prev, 1);
    }
    __builtin_prefetch(f->feed.state); /* (a prefetch of NULL is a no-op) */
    __builtin_prefetch(f->feed.sess);
}

void mw_engine_count(mw_engine *e, mw_drop reason)
{
    e->stats.packets++;
    e->stats.not_decoded[reason < MW_DROP_COUNT ? reason : MW_DROP_UNSUPPORTED]++;
}

/* skipped and malformed, from the counts by reason (defrag adds to them directly). */
static void sync_drops(mw_engine *e)
{
    e->stats.skipped = e->stats.malformed = 0;
    for (int r = 0; r < MW_DROP_COUNT; r++)
        if (e->stats.not_decoded[r])
            mw_drop_is_loss((mw_drop)r) ? (e->stats.malformed += e->stats.not_decoded[r])
                                        : (e->stats.skipped += e->stats.not_decoded[r]);
    const mw_defrag_stats *ds = mw_defrag_stats_get(e->defrag);
    e->stats.frag_datagrams = ds->datagrams;
    e->stats.frag_fragments = ds->fragments;
    e->stats.frag_overlaps = ds->overlaps;
}

/* A fragment (out of line: the datagram it may complete is a large local). */
static G_GNUC_NO_INLINE void engine_fragment(mw_engine *e, const mw_packet *pkt, uint64_t frame,
                                            int64_t ts_us)
{
    e->stats.packets++;
    mw_packet whole;
    mw_decode_status wds;
    if (mw_defrag_offer(e->defrag, pkt, ts_us, &whole, &wds)) {
        if (wds == MW_DECODE_TCP)
            engine_segment(e, &whole, frame, ts_us, NULL); /* frame: the packet that completed it */
        else
            e->stats.not_decoded[whole.reason]++;
    }
}

void mw_engine_decoded(mw_engine *e, mw_decode_status ds, const mw_packet *pkt, uint64_t frame,
                       int64_t ts_us)
{
    if (ds == MW_DECODE_TCP)
        mw_engine_packet(e, pkt, frame, ts_us);
    else if (ds == MW_DECODE_FRAGMENT)
        engine_fragment(e, pkt, frame, ts_us);
    else
        mw_engine_count(e, (mw_drop)pkt->reason);
}

void mw_engine_new_file(mw_engine *e)
{
    e->frame = 0;
}

int64_t mw_engine_tick(mw_engine *e, int64_t now_us)
{
    e->now_us = MAX(e->now_us, now_us);
    expire_idle(e);
    mw_defrag_expire(e->defrag, e->now_us);
    return mw_flow_table_idle_deadline(&e->table, e->now_us, e->cfg.idle_timeout_us);
}

void mw_engine_finish(mw_engine *e)
{
    mw_flow_node *n;
    while ((n = mw_flow_table_oldest(&e->table)))
        close_flow(e, flow_of(n), MW_CLOSE_NONE);
    mw_defrag_finish(e->defrag); /* what never completed is counted as expired */
}

void mw_engine_index(mw_engine *e, uint64_t index, uint64_t frame, int64_t ts_us)
{
    e->next_id = (e->index = index) - 1; /* a session the packet starts is numbered by it */
    e->frame = frame; /* an idle close's evidence is dated by it, as with one thread */
    e->ts_us = ts_us;
}

mw_engine *mw_engine_new(const mw_config *cfg, mw_session_cb cb, void *user)
{
    mw_engine *e = g_new0(mw_engine, 1);
    e->cfg = *cfg;
    e->cb = cb;
    e->user = user;
    mw_flow_table_init(&e->table);
    mw_spares_init(&e->spare, sizeof(mw_flow), MW_FLOW_SPARE_KEPT);
    e->ports = cfg->ports ? mw_ports_copy(cfg->ports) : mw_ports_new();
    e->cfg.ports = e->ports;
    mw_defrag_limits fl = { cfg->max_frag_datagrams, cfg->max_frag_bytes, cfg->frag_timeout_us };
    e->defrag = mw_defrag_new(&fl, e->stats.not_decoded);
    for (int i = 0; i < MW_MAX_DISSECTORS && mw_dissectors[i]; i++)
        if (mw_dissectors[i]->engine_new)
            e->slots[i] = mw_dissectors[i]->engine_new(&e->cfg);
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
    mw_spares_free(&e->spare);
    mw_flow_table_free(&e->table);
    mw_defrag_free(e->defrag);
    for (int i = 0; i < MW_MAX_DISSECTORS && mw_dissectors[i]; i++)
        if (mw_dissectors[i]->engine_free)
            mw_dissectors[i]->engine_free(e->slots[i]);
    mw_ports_free(e->ports);
    g_free(e->ignored_by_port);
    g_free(e);
}

void mw_engine_capture_lost(mw_engine *e, uint64_t kernel_total, uint64_t iface_total,
                            int64_t from_us, int64_t to_us)
{
    e->stats.kernel_drops = kernel_total;
    e->stats.iface_drops = iface_total;
    mw_loss_add(&e->loss, from_us, to_us);
}

void mw_engine_loss_probe(mw_engine *e, void (*probe)(void *user), void *user)
{
    e->loss.probe = probe;
    e->loss.probe_user = user;
}

const mw_engine_stats *mw_engine_stats_get(const mw_engine *e)
{
    sync_drops((mw_engine *)e); /* the counters by reason are the truth; the sums follow */
    return &e->stats;
}

const struct mw_ports *mw_engine_ports(const mw_engine *e)
{
    return e->ports;
}
