/* Hands a session's reassembled bytes to its dissector, direction by direction.
 *
 * Keeps what the dissector did not consume (an incomplete line or record, bounded by
 * mw_config_pending_cap) and hands it back with the next bytes; swaps in the TLS
 * dissector when the protocol upgrades (STARTTLS/STLS). Used by the flow engine and,
 * the same way, by the unit tests, so that tests exercise the real delivery path. */
#ifndef MW_FEEDER_H
#define MW_FEEDER_H

#include "dissector.h"
#include "engine/conn_verdict.h"

/* Bytes held back for the dissector. The buffer grows with what it holds (up to the
 * pending cap) and is freed when it empties: a flow that has shown one incomplete line
 * costs that line, not a whole cap's worth (issue 12: 100,000 such flows). */
typedef struct {
    union {
        uint8_t *buf;                      /* alloc > 0 */
        uint8_t small[sizeof(uint8_t *)];  /* alloc 0: up to this many bytes, in place */
    };
    uint32_t len;
    uint32_t alloc; /* bytes allocated at buf (the pending cap is far below 4 GiB); 0: the
                     * bytes are in small (a flow that has shown one short segment
                     * allocates nothing) */
} mw_pending;

/* The smallest pending buffer allocated; above MW_PENDING_KEEP bytes an emptied buffer
 * is freed rather than kept for the next line. */
#define MW_PENDING_MIN 24u /* malloc's smallest chunk: one held byte costs 32 */
#define MW_PENDING_KEEP 1024u

typedef struct {
    const mw_dissector *dis;
    void *state;
    mw_session *sess;
    const mw_config *cfg;
    mw_pending pend[2];
    bool dead[2]; /* the dissector gave up on this direction */
    int8_t slot;  /* dis's registry slot when slots is set, else -1 (looked up once) */
    /* The engine's per-dissector state, by registry slot (mw_engine_slots); NULL: none. */
    void *const *slots;
} mw_feeder;

void mw_feeder_init(mw_feeder *f, const mw_dissector *d, mw_session *s, const mw_config *cfg);
/* The same, inside an engine: each dissector call gets its slot as ctx->engine_state. */
void mw_feeder_init_in(mw_feeder *f, const mw_dissector *d, mw_session *s,
                       const mw_config *cfg, void *const *slots);
void mw_feeder_free(mw_feeder *f);
void mw_feeder_data(mw_feeder *f, mw_dir dir, const uint8_t *p, size_t len, uint64_t frame,
                    int64_t ts_us);
/* The same, from a packet whose ACK is known: it acknowledged peer_acked bytes of the other
 * direction (mw_ctx.peer_acked). */
void mw_feeder_data_acked(mw_feeder *f, mw_dir dir, const uint8_t *p, size_t len,
                          uint64_t frame, int64_t ts_us, bool ack_known, uint64_t peer_acked);
/* Two copies of `dir`'s bytes differed (mw_dissector.on_overlap_conflict). */
void mw_feeder_overlap_conflict(mw_feeder *f, mw_dir dir, uint64_t off, const uint8_t *other,
                                size_t len, uint64_t first_frame, uint64_t frame,
                                int64_t ts_us);
/* `missing` bytes lost in `dir` (0: the stream starts mid-session). */
void mw_feeder_gap(mw_feeder *f, mw_dir dir, uint64_t missing, uint64_t frame, int64_t ts_us);
/* The session ends: the connection-level findings (engine/conn_verdict.h; tcp: what the
 * flow table knows, NULL when only the session record is known), then the dissector's
 * own close. */
void mw_feeder_close_conn(mw_feeder *f, const mw_conn_tcp *tcp, uint64_t frame, int64_t ts_us);
void mw_feeder_close(mw_feeder *f, uint64_t frame, int64_t ts_us);

#endif
