#include "engine/reasm.h"

#include <glib.h>
#include <string.h>

struct mw_seg {
    mw_seg *next;
    mw_seg_meta meta;
    uint64_t off;
    size_t len;
    uint8_t data[];
};

void mw_stream_init(mw_stream *s, mw_dir dir)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
}

void mw_stream_free(mw_stream *s)
{
    mw_seg *g = s->ooo;
    while (g) {
        mw_seg *n = g->next;
        g_free(g);
        g = n;
    }
    s->ooo = NULL;
    s->ooo_bytes = 0;
}

void mw_stream_start(mw_stream *s, uint32_t seq)
{
    mw_stream_free(s);
    s->started = true;
    s->isn = seq;
    s->next = 0;
}

/* 32-bit sequence number -> 64-bit offset nearest to the next expected one. */
static uint64_t seq_to_off(const mw_stream *s, uint32_t seq)
{
    uint32_t rel = seq - s->isn;
    int32_t delta = (int32_t)(rel - (uint32_t)s->next);
    int64_t off = (int64_t)s->next + delta;
    return off < 0 ? 0 : (uint64_t)off;
}

uint64_t mw_stream_offset(const mw_stream *s, uint32_t seq)
{
    return seq_to_off(s, seq);
}

static void deliver_gap(mw_stream *s, uint64_t upto, const mw_seg_meta *at,
                        const mw_stream_sink *sink, void *user)
{
    if (upto <= s->next)
        return;
    static const mw_seg_meta none;
    uint64_t missing = upto - s->next;
    s->gap_bytes += missing;
    s->next = upto;
    sink->gap(user, s->dir, missing, at ? at : &none);
}

/* Deliver held segments that are now in order. */
static void drain(mw_stream *s, const mw_stream_sink *sink, void *user)
{
    while (s->ooo && s->ooo->off <= s->next) {
        mw_seg *g = s->ooo;
        s->ooo = g->next;
        s->ooo_bytes -= g->len;
        uint64_t end = g->off + g->len;
        if (end > s->next) {
            size_t skip = (size_t)(s->next - g->off);
            s->next = end;
            sink->data(user, s->dir, g->data + skip, g->len - skip, &g->meta);
        }
        g_free(g);
    }
}

/* Hold [off, off+len) minus what is already held (first copy wins). */
static void hold(mw_stream *s, uint64_t off, const uint8_t *p, size_t len,
                 const mw_seg_meta *meta)
{
    mw_seg **link = &s->ooo;
    while (len > 0) {
        while (*link && (*link)->off + (*link)->len <= off)
            link = &(*link)->next;
        mw_seg *at = *link;
        size_t take = len;
        if (at) {
            if (at->off <= off) { /* overlaps the start: skip the held part */
                size_t dup = (size_t)(at->off + at->len - off);
                if (dup >= len)
                    return;
                off += dup;
                p += dup;
                len -= dup;
                continue;
            }
            if (at->off < off + len)
                take = (size_t)(at->off - off);
        }
        mw_seg *g = g_malloc(sizeof *g + take);
        g->off = off;
        g->meta = *meta;
        g->len = take;
        memcpy(g->data, p, take);
        g->next = at;
        *link = g;
        link = &g->next;
        s->ooo_bytes += take;
        off += take;
        p += take;
        len -= take;
    }
}

bool mw_stream_segment(mw_stream *s, uint32_t seq, const uint8_t *p, size_t len, size_t cut,
                       const mw_seg_meta *meta, size_t max_ooo, const mw_stream_sink *sink,
                       void *user)
{
    static const mw_seg_meta none;
    if (!meta)
        meta = &none;
    if (!s->started)
        mw_stream_start(s, seq);
    uint64_t off = seq_to_off(s, seq);
    uint64_t end = off + len;
    if (end + cut <= s->next)
        return false; /* retransmission of delivered bytes */
    if (off < s->next && end > s->next) { /* overlap with delivered bytes: trim */
        size_t trim = (size_t)(s->next - off);
        p += trim;
        len -= trim;
        off = s->next;
    }
    if (len > 0 && off == s->next) {
        s->next = end;
        sink->data(user, s->dir, p, len, meta);
        if (cut > 0)
            deliver_gap(s, end + cut, meta, sink, user);
        drain(s, sink, user);
        return true;
    }
    if (len == 0) {
        if (cut > 0 && off <= s->next)
            deliver_gap(s, off + cut, meta, sink, user);
        return cut > 0;
    }
    /* Out of order: hold it, within the cap. Over the cap, give up on the oldest hole. */
    while (s->ooo && s->ooo_bytes + len > max_ooo) {
        deliver_gap(s, s->ooo->off, meta, sink, user);
        drain(s, sink, user);
    }
    if (end <= s->next)
        return true;
    if (off < s->next) { /* the gap moved past part of it */
        size_t trim = (size_t)(s->next - off);
        p += trim;
        len -= trim;
        off = s->next;
    }
    if (len > max_ooo || off == s->next) {
        deliver_gap(s, off, meta, sink, user);
        s->next = off + len;
        sink->data(user, s->dir, p, len, meta);
        drain(s, sink, user);
        return true;
    }
    hold(s, off, p, len, meta);
    return true;
}

void mw_stream_ack(mw_stream *s, uint32_t ack, const mw_seg_meta *at,
                   const mw_stream_sink *sink, void *user)
{
    if (!s->started || !s->ooo)
        return;
    uint64_t acked = seq_to_off(s, ack);
    /* Only trust the ACK when it covers held data: the peer got what we missed. */
    while (s->ooo && acked > s->ooo->off && s->ooo->off > s->next) {
        deliver_gap(s, s->ooo->off, at, sink, user);
        drain(s, sink, user);
    }
}

void mw_stream_flush(mw_stream *s, const mw_seg_meta *at, const mw_stream_sink *sink,
                     void *user)
{
    while (s->ooo) {
        deliver_gap(s, s->ooo->off, at, sink, user);
        drain(s, sink, user);
    }
}
