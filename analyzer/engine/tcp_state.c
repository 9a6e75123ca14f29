#include "engine/tcp_state.h"

#include <glib.h>
#include <string.h>

/* Bytes counted against --max-ooo-bytes per held-back segment beyond its payload. */
#define MW_TCP_DEFERRED_OVERHEAD (sizeof(mw_deferred) + 16)

/* A segment held back until the bytes it acknowledges have been delivered. */
struct mw_deferred {
    mw_deferred *next;
    uint32_t seq;
    uint32_t ack;
    uint64_t frame;
    int64_t ts_us;
    size_t len, cut;
    uint8_t data[];
};

/* The held-back queues, made at the first segment held (most flows never have one). */
struct mw_tcp_dq {
    mw_deferred *head[2], *tail[2];
    size_t bytes[2];
};

static mw_deferred *dq_head(const mw_tcp *t, int dir)
{
    return t->dq ? t->dq->head[dir] : NULL;
}

size_t mw_tcp_held(const mw_tcp *t, mw_dir dir)
{
    return t->dq ? t->dq->bytes[dir] : 0;
}

/* What the reassembly sink needs to reach the connection's sink. */
typedef struct {
    mw_tcp *t;
    const mw_tcp_sink *sink;
    void *user;
} relay;

void mw_tcp_init(mw_tcp *t)
{
    memset(t, 0, sizeof *t);
    mw_stream_init(&t->stream[MW_FROM_CLIENT], MW_FROM_CLIENT);
    mw_stream_init(&t->stream[MW_FROM_SERVER], MW_FROM_SERVER);
}

void mw_tcp_free(mw_tcp *t)
{
    for (int d = 0; d < 2; d++) {
        while (t->dq && t->dq->head[d]) {
            mw_deferred *n = t->dq->head[d]->next;
            g_free(t->dq->head[d]);
            t->dq->head[d] = n;
        }
        mw_stream_free(&t->stream[d]);
    }
    g_free(t->dq);
    t->dq = NULL;
}

void mw_tcp_track(mw_tcp *t, mw_dir dir, const mw_packet *pkt)
{
    bool syn = (pkt->tcp_flags & MW_TCP_SYN) != 0;
    bool ack = (pkt->tcp_flags & MW_TCP_ACK) != 0;
    if (!syn)
        return;
    if (dir == MW_FROM_CLIENT && !ack) {
        if (!t->syn_seen) {
            t->syn_seen = true;
            t->client_isn = pkt->seq;
        }
        t->syn_count = MAX(t->syn_count, 1u);
        if (!t->stream[MW_FROM_CLIENT].started)
            mw_stream_start(&t->stream[MW_FROM_CLIENT], pkt->seq + 1);
    } else if (dir == MW_FROM_SERVER && ack) {
        t->synack_seen = true;
        if (!t->stream[MW_FROM_SERVER].started)
            mw_stream_start(&t->stream[MW_FROM_SERVER], pkt->seq + 1);
    }
}

/* ---------- the reassembly sink: bytes and gaps of one direction ---------- */

static void relay_data(void *user, mw_dir dir, const uint8_t *p, size_t len, const mw_seg_meta *m)
{
    relay *r = user;
    const mw_stream *other = &r->t->stream[!dir];
    /* the bytes carry their own packet's frame and ACK, however late they come out */
    mw_tcp_at at = { m->frame, m->ts_us, m->ack_known && other->started, 0 };
    if (at.ack_known)
        at.peer_acked = mw_stream_offset(other, m->ack);
    r->sink->data(r->user, dir, p, len, &at);
}

static void relay_gap(void *user, mw_dir dir, uint64_t missing, const mw_seg_meta *m)
{
    relay *r = user;
    mw_tcp_at at = { m->frame, m->ts_us, false, 0 };
    r->sink->gap(r->user, dir, missing, &at);
}

static void relay_conflict(void *user, mw_dir dir, uint64_t off, const uint8_t *other,
                           size_t len, uint64_t first_frame, const mw_seg_meta *m)
{
    relay *r = user;
    mw_tcp_at at = { m->frame, m->ts_us, false, 0 };
    if (r->sink->conflict)
        r->sink->conflict(r->user, dir, off, other, len, first_frame, &at);
}

static const mw_stream_sink relay_sink = { relay_data, relay_gap, relay_conflict };

/* ---------- ACK-ordered delivery ---------- */

static void deliver_segment(relay *r, mw_dir dir, uint32_t seq, const uint8_t *p, size_t len,
                            size_t cut, const mw_seg_meta *meta, size_t max_ooo)
{
    mw_stream *st = &r->t->stream[dir];
    uint16_t gaps_before = st->gaps;
    size_t held_before = st->ooo_bytes;
    mw_stream_segment(st, seq, p, len, cut, meta, max_ooo, &relay_sink, r);
    if (st->ooo_bytes < held_before && st->gaps != gaps_before)
        r->sink->overflow(r->user, dir);
}

/* Does a segment of `dir` acknowledge bytes of the other direction not yet delivered? */
static bool acks_unseen(const mw_tcp *t, mw_dir dir, uint32_t ack)
{
    const mw_stream *other = &t->stream[!dir];
    if (!other->started)
        return false;
    uint64_t have = other->next + (t->fin[!dir] ? 1 : 0); /* a FIN takes one number */
    return mw_stream_offset(other, ack) > have;
}

/* Evidence names the packet that carried the bytes, not the one that released them. */
static void release_one(relay *r, mw_dir dir, size_t max_ooo)
{
    mw_tcp *t = r->t;
    mw_deferred *d = t->dq->head[dir];
    t->dq->head[dir] = d->next;
    if (!d->next)
        t->dq->tail[dir] = NULL;
    t->dq->bytes[dir] -= d->len + MW_TCP_DEFERRED_OVERHEAD;
    mw_seg_meta meta = { d->frame, d->ts_us, d->ack, true };
    deliver_segment(r, dir, d->seq, d->data, d->len, d->cut, &meta, max_ooo);
    g_free(d);
}

/* Deliver held segments whose acknowledged bytes have now been seen; at close (`all`),
 * everything held, in capture order. */
static void release_deferred(relay *r, bool all, size_t max_ooo)
{
    mw_tcp *t = r->t;
    for (;;) {
        int pick = -1;
        for (int d = 0; d < 2 && pick < 0; d++)
            if (dq_head(t, d) && !acks_unseen(t, (mw_dir)d, dq_head(t, d)->ack))
                pick = d;
        if (pick < 0 && all && (dq_head(t, 0) || dq_head(t, 1)))
            pick = (dq_head(t, 0) &&
                    (!dq_head(t, 1) || dq_head(t, 0)->frame < dq_head(t, 1)->frame)) ? 0 : 1;
        if (pick < 0)
            return;
        release_one(r, (mw_dir)pick, max_ooo);
    }
}

static void defer_segment(relay *r, mw_dir dir, uint32_t seq, const mw_packet *pkt,
                          const mw_seg_meta *meta, size_t max_ooo)
{
    mw_tcp *t = r->t;
    /* over the cap (bookkeeping counted too), the oldest held segment goes on regardless */
    const size_t cost = pkt->payload_len + MW_TCP_DEFERRED_OVERHEAD;
    while (dq_head(t, dir) && t->dq->bytes[dir] + cost > max_ooo)
        release_one(r, dir, max_ooo);
    if (cost > max_ooo) {
        deliver_segment(r, dir, seq, pkt->payload, pkt->payload_len, pkt->payload_cut, meta,
                        max_ooo);
        return;
    }
    mw_deferred *d = g_malloc(sizeof *d + pkt->payload_len);
    d->next = NULL;
    d->seq = seq;
    d->ack = pkt->ack;
    d->frame = meta->frame;
    d->ts_us = meta->ts_us;
    d->len = pkt->payload_len;
    d->cut = pkt->payload_cut;
    memcpy(d->data, pkt->payload, pkt->payload_len);
    if (!t->dq)
        t->dq = g_new0(mw_tcp_dq, 1);
    if (t->dq->tail[dir])
        t->dq->tail[dir]->next = d;
    else
        t->dq->head[dir] = d;
    t->dq->tail[dir] = d;
    t->dq->bytes[dir] += cost;
}

void mw_tcp_ack(mw_tcp *t, mw_dir dir, const mw_packet *pkt, uint64_t frame, int64_t ts_us,
                const mw_tcp_sink *sink, void *user)
{
    if (!(pkt->tcp_flags & MW_TCP_ACK) || !mw_stream_ack_seq(&t->stream[!dir], pkt->ack))
        return; /* nearly always: only the number kept */
    relay r = { t, sink, user };
    mw_seg_meta meta = { frame, ts_us, pkt->ack, true };
    mw_stream_ack_held(&t->stream[!dir], pkt->ack, &meta, &relay_sink, &r);
}

void mw_tcp_segment(mw_tcp *t, mw_dir dir, const mw_packet *pkt, uint64_t frame, int64_t ts_us,
                    size_t max_ooo, const mw_tcp_sink *sink, void *user)
{
    relay r = { t, sink, user };
    bool ack = (pkt->tcp_flags & MW_TCP_ACK) != 0;
    mw_seg_meta meta = { frame, ts_us, pkt->ack, ack };
    /* A SYN or SYN-ACK whose IP length claims data the frame does not carry (a fuzzed or
     * broken length; TCP Fast Open data would be in the frame): no stream bytes, not a gap
     * in front of the data that follows (nDPI tls_invalid_reads.pcap, issue 15 item 10).
     * The packet stays counted as cut by the decoder. */
    bool syn_cut_only = (pkt->tcp_flags & MW_TCP_SYN) && pkt->payload_len == 0;
    if (pkt->payload_len > 0 || (pkt->payload_cut > 0 && !syn_cut_only)) {
        uint32_t seq = (pkt->tcp_flags & MW_TCP_SYN) ? pkt->seq + 1 : pkt->seq;
        /* Hold it back if it acknowledges bytes not seen yet — unless the other side is
         * itself held back (waiting on each other would never end): one queue at a time. */
        if (ack && !dq_head(t, !dir) && acks_unseen(t, dir, pkt->ack))
            defer_segment(&r, dir, seq, pkt, &meta, max_ooo);
        else
            deliver_segment(&r, dir, seq, pkt->payload, pkt->payload_len, pkt->payload_cut,
                            &meta, max_ooo);
    }
    if (dq_head(t, 0) || dq_head(t, 1))
        release_deferred(&r, false, max_ooo);
    if (pkt->tcp_flags & MW_TCP_FIN) {
        uint32_t seq = (pkt->tcp_flags & MW_TCP_SYN) ? pkt->seq + 1 : pkt->seq;
        mw_stream_fin(&t->stream[dir], seq + (uint32_t)(pkt->payload_len +
                                                        (syn_cut_only ? 0 : pkt->payload_cut)));
    }
}

void mw_tcp_release_all(mw_tcp *t, size_t max_ooo, const mw_tcp_sink *sink, void *user)
{
    relay r = { t, sink, user };
    release_deferred(&r, true, max_ooo);
}

void mw_tcp_flush(mw_tcp *t, uint64_t frame, int64_t ts_us, const mw_tcp_sink *sink,
                  void *user)
{
    relay r = { t, sink, user };
    mw_seg_meta at = { frame, ts_us, 0, false };
    for (int d = 0; d < 2; d++)
        mw_stream_flush(&t->stream[d], &at, &relay_sink, &r);
}
