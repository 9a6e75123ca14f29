#include "engine/reasm.h"

#include <glib.h>
#include <string.h>
/* inlined: a fingerprint is made of every segment delivered. On x86-64 the loop for long
 * inputs (a full segment) is also built for AVX2 and taken when the CPU has it, as
 * xxhash's own xxh_x86dispatch.c does: the same hash, about twice as fast as SSE2. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MW_FP_AVX2 1
#include <immintrin.h>
#define XXH_DISPATCH_AVX2 1
#define XXH_TARGET_AVX2 __attribute__((__target__("avx2")))
#endif
#define XXH_INLINE_ALL
#include <xxhash.h>

struct mw_seg {
    mw_seg_meta meta;
    uint64_t off; /* the tree's key */
    uint32_t len;
    bool conflict; /* another copy of (part of) these bytes differed */
    uint8_t data[];
};

#ifdef MW_FP_AVX2
XXH_NO_INLINE XXH_TARGET_AVX2 XXH64_hash_t fp_long_avx2(const void *p, size_t len)
{
    return XXH3_hashLong_64b_internal(p, len, XXH3_kSecret, sizeof(XXH3_kSecret),
                                      XXH3_accumulate_512_avx2, XXH3_scrambleAcc_avx2);
}
#endif

static uint16_t fp_hash(const uint8_t *p, size_t len)
{
#ifdef MW_FP_AVX2
    if (len > XXH3_MIDSIZE_MAX && __builtin_cpu_supports("avx2"))
        return (uint16_t)fp_long_avx2(p, len); /* = XXH3_64bits(p, len) */
#endif
    return (uint16_t)XXH3_64bits(p, len);
}

/* The fingerprint of the segment just delivered at `off`. */
static void remember(mw_stream *s, uint64_t off, const uint8_t *p, size_t len, uint64_t frame)
{
    s->fp_seq = s->isn + (uint32_t)off;
    s->fp_len = (uint16_t)MIN(len, (size_t)UINT16_MAX);
    s->fp_hash = fp_hash(p, s->fp_len);
    s->fp_frame = frame;
}

/* Hand len bytes at the stream's next offset to the sink, remembering their fingerprint. */
static void hand_over(mw_stream *s, const uint8_t *p, size_t len, const mw_seg_meta *m,
                      const mw_stream_sink *sink, void *user)
{
    uint64_t off = s->next;
    s->next += len;
    remember(s, off, p, len, m->frame);
    sink->data(user, (mw_dir)s->dir, p, len, m);
}

static void report_conflict(mw_stream *s, uint64_t off, const uint8_t *other, size_t len,
                            uint64_t first_frame, const mw_seg_meta *at,
                            const mw_stream_sink *sink, void *user)
{
    if (sink->conflict)
        sink->conflict(user, (mw_dir)s->dir, off, other, len, first_frame, at);
}

/* A segment at seq starts before the next offset: when it starts where the last delivered
 * segment did and covers it, its bytes must be the same. */
static void check_resent(mw_stream *s, uint32_t seq, const uint8_t *p, size_t len,
                         const mw_seg_meta *meta, const mw_stream_sink *sink, void *user)
{
    if (s->fp_len == 0 || seq != s->fp_seq || len < s->fp_len)
        return;
    if (fp_hash(p, s->fp_len) != s->fp_hash)
        report_conflict(s, mw_stream_offset(s, seq), p, s->fp_len, s->fp_frame, meta, sink,
                        user);
}

static gint off_cmp(gconstpointer a, gconstpointer b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void mw_stream_init(mw_stream *s, mw_dir dir)
{
    memset(s, 0, sizeof *s);
    s->dir = (uint8_t)dir;
}

static gboolean free_seg(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    (void)data;
    g_free(value);
    return FALSE;
}

mw_seq_span mw_stream_span(const mw_stream *s)
{
    mw_seq_span sp = { s->isn, s->isn + (uint32_t)s->next + (s->fin ? 1u : 0u), s->started };
    return sp;
}

void mw_stream_free(mw_stream *s)
{
    if (s->ooo) {
        g_tree_foreach(s->ooo, free_seg, NULL);
        g_tree_destroy(s->ooo);
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

/* (the offset nearest to the next expected one: reasm.h's mw_stream_offset) */
static uint64_t seq_to_off(const mw_stream *s, uint32_t seq)
{
    return mw_stream_offset(s, seq);
}

/* The held segment with the lowest offset, or NULL. */
static mw_seg *first_held(const mw_stream *s)
{
    GTreeNode *n = s->ooo ? g_tree_node_first(s->ooo) : NULL;
    return n ? g_tree_node_value(n) : NULL;
}

static void deliver_gap(mw_stream *s, uint64_t upto, const mw_seg_meta *at,
                        const mw_stream_sink *sink, void *user)
{
    if (upto <= s->next)
        return;
    static const mw_seg_meta none;
    uint64_t missing = upto - s->next;
    s->gaps++;
    s->next = upto;
    s->fp_len = 0; /* nothing delivered to compare a retransmission with */
    sink->gap(user, (mw_dir)s->dir, missing, at ? at : &none);
}

/* Deliver held segments that are now in order. */
static void drain_held(mw_stream *s, const mw_stream_sink *sink, void *user);

/* (inlined: most streams hold nothing, and an in-order segment then needs no call) */
static inline void drain(mw_stream *s, const mw_stream_sink *sink, void *user)
{
    if (s->ooo)
        drain_held(s, sink, user);
}

static void drain_held(mw_stream *s, const mw_stream_sink *sink, void *user)
{
    mw_seg *g;
    while ((g = first_held(s)) && g->off <= s->next) {
        g_tree_steal(s->ooo, &g->off);
        s->ooo_bytes -= g->len + MW_REASM_SEG_OVERHEAD;
        uint64_t end = g->off + g->len;
        if (end > s->next) {
            size_t skip = (size_t)(s->next - g->off);
            uint64_t at = s->next;
            hand_over(s, g->data + skip, g->len - skip, &g->meta, sink, user);
            if (g->conflict) /* what was just delivered had a differing copy */
                report_conflict(s, at, NULL, g->len - skip, g->meta.frame, &g->meta, sink,
                                user);
        }
        g_free(g);
    }
}

static void hold_piece(mw_stream *s, uint64_t off, const uint8_t *p, size_t len,
                       const mw_seg_meta *meta)
{
    mw_seg *g = g_malloc(sizeof *g + len);
    g->off = off;
    g->meta = *meta;
    g->len = (uint32_t)len;
    g->conflict = false;
    memcpy(g->data, p, len);
    if (!s->ooo)
        s->ooo = g_tree_new(off_cmp);
    g_tree_insert(s->ooo, &g->off, g);
    s->ooo_bytes += len + MW_REASM_SEG_OVERHEAD;
}

/* The new copy of [off, off+n) (at p) overlaps held segment g: the same bytes? */
static void compare_held(mw_stream *s, mw_seg *g, uint64_t off, const uint8_t *p, size_t n,
                         const mw_seg_meta *meta, const mw_stream_sink *sink, void *user)
{
    if (n == 0 || memcmp(g->data + (off - g->off), p, n) == 0)
        return;
    g->conflict = true;
    report_conflict(s, off, p, n, g->meta.frame, meta, sink, user);
}

/* Hold [off, off+len) minus what is already held (first copy wins; a differing copy is
 * reported). Held segments do not overlap, so only the one starting before `off` can
 * cover its start; the others are met in order after it. */
static void hold(mw_stream *s, uint64_t off, const uint8_t *p, size_t len,
                 const mw_seg_meta *meta, const mw_stream_sink *sink, void *user)
{
    const uint64_t end = off + len;
    if (s->ooo) {
        GTreeNode *after = g_tree_upper_bound(s->ooo, &off); /* first start > off */
        GTreeNode *before = after ? g_tree_node_previous(after) : g_tree_node_last(s->ooo);
        mw_seg *b = before ? g_tree_node_value(before) : NULL;
        if (b && b->off + b->len > off) {
            size_t dup = (size_t)(MIN(b->off + b->len, end) - off);
            compare_held(s, b, off, p, dup, meta, sink, user);
            if (b->off + b->len >= end)
                return;
            off += dup;
            p += dup;
        }
        while (off < end && after) {
            mw_seg *a = g_tree_node_value(after);
            if (a->off >= end)
                break;
            if (a->off > off)
                hold_piece(s, off, p, (size_t)(a->off - off), meta);
            uint64_t skip_to = MIN(a->off + a->len, end);
            compare_held(s, a, a->off, p + (a->off - off), (size_t)(skip_to - a->off), meta,
                         sink, user);
            p += skip_to - off;
            off = skip_to;
            after = g_tree_node_next(after);
        }
    }
    if (off < end)
        hold_piece(s, off, p, (size_t)(end - off), meta);
}

/* Room for len more bytes: over the cap, give up on the oldest hole. */
static void make_room(mw_stream *s, size_t len, size_t max_ooo, const mw_seg_meta *meta,
                      const mw_stream_sink *sink, void *user)
{
    mw_seg *g;
    while ((g = first_held(s)) && s->ooo_bytes + len + MW_REASM_SEG_OVERHEAD > max_ooo) {
        deliver_gap(s, g->off, meta, sink, user);
        drain(s, sink, user);
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
    if (off < s->next)
        check_resent(s, seq, p, len, meta, sink, user);
    if (end + cut <= s->next)
        return false; /* retransmission of delivered bytes */
    if (off < s->next && end > s->next) { /* overlap with delivered bytes: trim */
        size_t trim = (size_t)(s->next - off);
        p += trim;
        len -= trim;
        off = s->next;
    }
    if (len > 0 && off == s->next) {
        hand_over(s, p, len, meta, sink, user);
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
    /* Out of order: hold it, within the cap. */
    make_room(s, len, max_ooo, meta, sink, user);
    if (end <= s->next)
        return true;
    if (off < s->next) { /* the gap moved past part of it */
        size_t trim = (size_t)(s->next - off);
        p += trim;
        len -= trim;
        off = s->next;
    }
    if (len + MW_REASM_SEG_OVERHEAD > max_ooo || off == s->next) {
        deliver_gap(s, off, meta, sink, user);
        hand_over(s, p, len, meta, sink, user);
        drain(s, sink, user);
        return true;
    }
    hold(s, off, p, len, meta, sink, user);
    return true;
}

/* (mw_stream_ack, reasm.h, has kept the number: segments are held) */
void mw_stream_ack_held(mw_stream *s, uint32_t ack, const mw_seg_meta *at,
                        const mw_stream_sink *sink, void *user)
{
    uint64_t acked = seq_to_off(s, ack);
    /* Only trust the ACK when it covers held data: the peer got what we missed. */
    mw_seg *g;
    while ((g = first_held(s)) && acked > g->off && g->off > s->next) {
        deliver_gap(s, g->off, at, sink, user);
        drain(s, sink, user);
    }
}

void mw_stream_fin(mw_stream *s, uint32_t end)
{
    if (s->fin || (!s->started && !s->acked))
        return; /* the first FIN counts: a retransmitted one says the same. Not started,
                 * the stream's numbers count from what the peer acknowledged first */
    s->fin = true;
    s->fin_seq = end;
}

void mw_stream_flush(mw_stream *s, const mw_seg_meta *at, const mw_stream_sink *sink,
                     void *user)
{
    mw_seg *g;
    while ((g = first_held(s))) {
        deliver_gap(s, g->off, at, sink, user);
        drain(s, sink, user);
    }
    if (s->fin)  /* bytes lost just before the FIN */
        deliver_gap(s, seq_to_off(s, s->fin_seq), at, sink, user);
    if (!s->acked)
        return;
    /* acknowledged by the peer, never in the capture (one side captured; the FIN takes one
     * number; a wrapped or bogus ACK, 2 GiB ahead or more, says nothing) */
    const uint64_t fin = s->fin ? 1 : 0;
    uint64_t acked = s->started ? seq_to_off(s, s->acked_seq) : (uint32_t)(s->acked_seq - s->isn);
    if (acked > s->next + fin && acked - s->next - fin < (1u << 31))
        deliver_gap(s, acked - fin, at, sink, user);
}
