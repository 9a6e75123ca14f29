/* The TCP side of one connection: handshake, counters, both directions' reassembly, and
 * ACK-ordered delivery.
 *
 * Captures from taps and mirror ports reorder the two directions: a segment that
 * acknowledges bytes of the other direction the capture has not shown yet is held back
 * and delivered once those bytes are, so a reply never precedes its command. */
#ifndef MW_TCP_STATE_H
#define MW_TCP_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/reasm.h"
#include "input/decode.h"

typedef struct mw_deferred mw_deferred;
typedef struct mw_tcp_dq mw_tcp_dq;

/* The packet a delivery comes with: its frame and time, and — when it carried an ACK and
 * the other direction has started — how many bytes of the other direction it
 * acknowledged (a stream offset). */
typedef struct {
    uint64_t frame;
    int64_t ts_us;
    bool ack_known;
    uint64_t peer_acked;
} mw_tcp_at;

/* Where a connection's reassembled bytes go. */
typedef struct {
    void (*data)(void *user, mw_dir dir, const uint8_t *p, size_t len, const mw_tcp_at *at);
    void (*gap)(void *user, mw_dir dir, uint64_t missing, const mw_tcp_at *at);
    /* the out-of-order cap gave up on a hole of `dir` */
    void (*overflow)(void *user, mw_dir dir);
    /* two copies of `dir`'s bytes at stream offset `off` differ (reasm.h's conflict) */
    void (*conflict)(void *user, mw_dir dir, uint64_t off, const uint8_t *other, size_t len,
                     uint64_t first_frame, const mw_tcp_at *at);
} mw_tcp_sink;

/* (ordered to leave no holes: one is in every flow) */
typedef struct {
    mw_stream stream[2];         /* [MW_FROM_CLIENT], [MW_FROM_SERVER] */
    mw_tcp_dq *dq;               /* segments held back for ACK order; NULL until one is */
    unsigned syn_count;
    uint32_t client_isn;
    uint8_t rst_from; /* mw_dir */
    bool fin[2];
    bool syn_seen, synack_seen, rst;
} mw_tcp;

void mw_tcp_init(mw_tcp *t);
/* Bytes held back for ACK order in `dir`, bookkeeping included (counted by --max-memory). */
size_t mw_tcp_held(const mw_tcp *t, mw_dir dir);
/* ... in both directions (no call when nothing ever was: the test is made per packet). */
static inline size_t mw_tcp_held_all(const mw_tcp *t)
{
    return t->dq ? mw_tcp_held(t, MW_FROM_CLIENT) + mw_tcp_held(t, MW_FROM_SERVER) : 0;
}
/* Drop what is held, undelivered. */
void mw_tcp_free(mw_tcp *t);
/* Follow the handshake (SYN, SYN-ACK) with a packet of `dir` (the flow counts it). */
void mw_tcp_track(mw_tcp *t, mw_dir dir, const mw_packet *pkt);
/* A packet of `dir` carried an ACK: it may declare a hole of the other direction a gap
 * (the peer got what the capture missed). Call before mw_tcp_segment. */
void mw_tcp_ack(mw_tcp *t, mw_dir dir, const mw_packet *pkt, uint64_t frame, int64_t ts_us,
                const mw_tcp_sink *sink, void *user);
/* The packet's payload, if any: delivered, or held while it acknowledges bytes not seen
 * yet; then whatever held segment the packet released. */
void mw_tcp_segment(mw_tcp *t, mw_dir dir, const mw_packet *pkt, uint64_t frame, int64_t ts_us,
                    size_t max_ooo, const mw_tcp_sink *sink, void *user);
/* The connection ends: everything held back for ACK order, in capture order. */
void mw_tcp_release_all(mw_tcp *t, size_t max_ooo, const mw_tcp_sink *sink, void *user);
/* Then each direction's out-of-order bytes, with its holes as gaps. frame/ts_us: the
 * packet that ended the connection. */
void mw_tcp_flush(mw_tcp *t, uint64_t frame, int64_t ts_us, const mw_tcp_sink *sink,
                  void *user);

#endif
