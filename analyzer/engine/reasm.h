/* Per-direction TCP reassembly.
 *
 * Sequence numbers become 64-bit offsets from the first byte (wrap-around handled).
 * In-order bytes go straight to the sink, borrowed from the packet (no copy); only
 * out-of-order segments are copied and held, in a balanced tree by offset (logarithmic
 * insert, whatever order they come in), up to a per-direction cap that counts each held
 * segment's bookkeeping (MW_REASM_SEG_OVERHEAD) as well as its bytes. The first copy
 * of a byte wins: retransmissions and overlaps never change what was delivered — but a
 * copy that differs is reported (sink.conflict): compared byte for byte with held data,
 * and by a fingerprint (length and hash) of the last segment delivered, so that a
 * retransmission with other bytes is seen without keeping delivered bytes. Holes
 * that can never fill (cap reached, the peer acknowledged past them, the session ended)
 * are reported to the sink as gaps. */
#ifndef MW_REASM_H
#define MW_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "core/session.h"

typedef struct mw_seg mw_seg;

/* Bytes counted against the cap for each held segment beyond its payload: its header, its
 * tree node and the allocator's headers of both (1-byte segments cost this much each). */
#define MW_REASM_SEG_OVERHEAD 128u

/* What the caller wants to know again when a segment's bytes are delivered, possibly
 * later, out of a hole being filled: which packet carried them and what it ACKed. */
typedef struct {
    uint64_t frame;
    int64_t ts_us;
    uint32_t ack;
    bool ack_known;
} mw_seg_meta;

/* Where a stream's bytes go. `dir` is the stream's direction (mw_stream_init). */
typedef struct {
    /* len bytes at the stream's next offset; `m`: the packet that carried them (its frame,
     * time and ACK), however late they come out of a filled hole */
    void (*data)(void *user, mw_dir dir, const uint8_t *p, size_t len, const mw_seg_meta *m);
    /* `missing` bytes lost; `at`: the packet whose arrival, ACK or close revealed it */
    void (*gap)(void *user, mw_dir dir, uint64_t missing, const mw_seg_meta *at);
    /* Two copies of the bytes at offset `off` differ (a retransmission or an overlap with
     * other bytes). `other`/`len`: the copy that was NOT delivered (NULL when no longer
     * known); first_frame: the packet that carried the copy that was (or will be)
     * delivered; `at`: the packet that revealed it. Called once when the conflict is
     * found and, for a held copy, once more right after that copy is delivered (other
     * NULL), so that the receiver can treat what it just got as suspect. May be NULL. */
    void (*conflict)(void *user, mw_dir dir, uint64_t off, const uint8_t *other, size_t len,
                     uint64_t first_frame, const mw_seg_meta *at);
} mw_stream_sink;

/* (ordered to leave no holes: two of these are in every flow) */
typedef struct {
    uint64_t next;     /* next offset expected */
    GTree *ooo;        /* held segments by offset, non-overlapping; NULL until one is held */
    size_t ooo_bytes;  /* their bytes plus MW_REASM_SEG_OVERHEAD each */
    uint64_t fp_frame; /* the last segment delivered: its packet, ... */
    uint32_t fp_seq;   /* ... its first sequence number, ... */
    uint32_t isn;      /* sequence number of offset 0; before the stream started (acked):
                        * the first sequence number the peer acknowledged */
    uint32_t fin_seq;  /* with fin: the FIN's sequence number (the stream ends before it) */
    uint32_t acked_seq; /* with acked: the highest sequence number the peer acknowledged */
    uint16_t fp_hash;  /* (fingerprint) a hash of the first fp_len bytes */
    uint16_t fp_len;   /* (fingerprint) 0: none to compare with */
    uint16_t gaps;     /* gaps reported so far (wraps; only a change is read) */
    uint8_t dir;       /* mw_dir */
    bool started : 1;
    bool fin : 1;      /* a FIN was seen */
    bool acked : 1;    /* the peer acknowledged some of it (acked_seq) */
} mw_stream;

/* The sequence numbers a stream used: [lo, hi), its FIN included. known: false when it
 * never started. */
typedef struct {
    uint32_t lo, hi;
    bool known;
} mw_seq_span;
mw_seq_span mw_stream_span(const mw_stream *s);

void mw_stream_init(mw_stream *s, mw_dir dir);
void mw_stream_free(mw_stream *s);

/* The first data byte of this direction has sequence number seq (SYN's seq + 1). */
void mw_stream_start(mw_stream *s, uint32_t seq);

/* A segment: len captured bytes at seq, then `cut` bytes the capture did not keep.
 * meta: that packet (NULL: frame 0, no ACK). Returns true if the segment had new bytes. */
bool mw_stream_segment(mw_stream *s, uint32_t seq, const uint8_t *p, size_t len, size_t cut,
                       const mw_seg_meta *meta, size_t max_ooo, const mw_stream_sink *sink,
                       void *user);

/* The 64-bit offset of a sequence number of this direction (stream started): the one
 * nearest to the next expected offset (wrap-around). Inline: made for most packets. */
static inline uint64_t mw_stream_offset(const mw_stream *s, uint32_t seq)
{
    uint32_t rel = seq - s->isn;
    int32_t delta = (int32_t)(rel - (uint32_t)s->next);
    int64_t off = (int64_t)s->next + delta;
    return off < 0 ? 0 : (uint64_t)off;
}

/* The peer acknowledged everything before `ack`: a hole before that can never fill, and
 * bytes acknowledged but never seen are a gap when the stream is flushed (a capture of one
 * side only). at: the acknowledging packet. */
void mw_stream_ack_held(mw_stream *s, uint32_t ack, const mw_seg_meta *at,
                        const mw_stream_sink *sink, void *user);
/* mw_stream_ack's number kept; true when segments are held, for mw_stream_ack_held to
 * look at (a caller that has only then to make its arguments). */
static inline bool mw_stream_ack_seq(mw_stream *s, uint32_t ack)
{
    if (!s->acked) {
        s->acked = true;
        s->acked_seq = ack;
        if (!s->started)
            s->isn = ack; /* the base of what the peer acknowledges from now on */
    } else if ((int32_t)(ack - s->acked_seq) > 0) {
        s->acked_seq = ack;
    }
    return s->started && s->ooo;
}

/* (inline: made for nearly every packet, and nearly always only a number to keep) */
static inline void mw_stream_ack(mw_stream *s, uint32_t ack, const mw_seg_meta *at,
                                 const mw_stream_sink *sink, void *user)
{
    if (mw_stream_ack_seq(s, ack))
        mw_stream_ack_held(s, ack, at, sink, user);
}

/* A FIN: the stream's last byte is before sequence number `end` (the FIN's own number).
 * Bytes missing before it are a gap at the latest when the stream is flushed. */
void mw_stream_fin(mw_stream *s, uint32_t end);

/* The session ends: hand over what is held, with gaps for the holes — including bytes
 * lost between the last one seen and the FIN, and bytes the peer acknowledged that the
 * capture never showed. at: the packet that ended it (or the last one). */
void mw_stream_flush(mw_stream *s, const mw_seg_meta *at, const mw_stream_sink *sink,
                     void *user);

#endif
