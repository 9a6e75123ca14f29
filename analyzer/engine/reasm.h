/* Per-direction TCP reassembly.
 *
 * Sequence numbers become 64-bit offsets from the first byte (wrap-around handled).
 * In-order bytes go straight to the sink, borrowed from the packet (no copy); only
 * out-of-order segments are copied and held, in a balanced tree by offset (logarithmic
 * insert, whatever order they come in), up to a per-direction cap that counts each held
 * segment's bookkeeping (MW_REASM_SEG_OVERHEAD) as well as its bytes. The first copy
 * of a byte wins: retransmissions and overlaps never change what was delivered. Holes
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
} mw_stream_sink;

typedef struct {
    mw_dir dir;
    bool started;
    uint32_t isn;      /* sequence number of offset 0 */
    uint64_t next;     /* next offset expected */
    GTree *ooo;        /* held segments by offset, non-overlapping; NULL until one is held */
    size_t ooo_bytes;  /* their bytes plus MW_REASM_SEG_OVERHEAD each */
    uint64_t gap_bytes;
    bool fin;          /* a FIN was seen: the stream ends at fin_off */
    uint64_t fin_off;
} mw_stream;

void mw_stream_init(mw_stream *s, mw_dir dir);
void mw_stream_free(mw_stream *s);

/* The first data byte of this direction has sequence number seq (SYN's seq + 1). */
void mw_stream_start(mw_stream *s, uint32_t seq);

/* A segment: len captured bytes at seq, then `cut` bytes the capture did not keep.
 * meta: that packet (NULL: frame 0, no ACK). Returns true if the segment had new bytes. */
bool mw_stream_segment(mw_stream *s, uint32_t seq, const uint8_t *p, size_t len, size_t cut,
                       const mw_seg_meta *meta, size_t max_ooo, const mw_stream_sink *sink,
                       void *user);

/* The 64-bit offset of a sequence number of this direction (stream started). */
uint64_t mw_stream_offset(const mw_stream *s, uint32_t seq);

/* The peer acknowledged everything before `ack`: a hole before that can never fill.
 * at: the acknowledging packet. */
void mw_stream_ack(mw_stream *s, uint32_t ack, const mw_seg_meta *at,
                   const mw_stream_sink *sink, void *user);

/* A FIN: the stream's last byte is before sequence number `end` (the FIN's own number).
 * Bytes missing before it are a gap at the latest when the stream is flushed. */
void mw_stream_fin(mw_stream *s, uint32_t end);

/* The session ends: hand over what is held, with gaps for the holes — including bytes
 * lost between the last one seen and the FIN. at: the packet that ended it (or the last
 * one). */
void mw_stream_flush(mw_stream *s, const mw_seg_meta *at, const mw_stream_sink *sink,
                     void *user);

#endif
