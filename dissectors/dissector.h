/* The dissector interface.
 *
 * A dissector parses both directions of one session incrementally. The stream layer
 * hands it reassembled bytes in order; feed() returns how many it consumed. Unconsumed
 * bytes (an incomplete line or record) are kept by the stream layer and handed back,
 * with more, on the next call — so a dissector gives the same result however the
 * stream was cut into segments. A dissector must consume input once it holds
 * ctx->cfg->max_line bytes without a complete unit (discarding an over-long line). */
#ifndef MW_DISSECTOR_H
#define MW_DISSECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/session.h"

typedef struct mw_ctx {
    mw_session *sess;
    const mw_config *cfg;
    uint64_t frame;  /* 1-based number of the packet being processed, in its file */
    int64_t ts_us;   /* its timestamp */
    /* How many bytes of the other direction that packet acknowledged (stream offset),
     * when known: a reply cannot answer a command its sender had not received. */
    bool ack_known;
    uint64_t peer_acked;
    /* This dissector's per-engine state (mw_dissector.engine_new), NULL when it has none or
     * when no engine runs (unit tests): what it keeps across sessions, one per engine and
     * so one per analysis thread — caches, a trust store. */
    void *engine_state;
    /* Every dissector's per-engine state by registry slot (mw_dissector_slot), NULL without
     * an engine: a dissector that reads another one nested gives it its own (registry.h
     * mw_ctx_engine_state_of). */
    void *const *engine_slots;
} mw_ctx;

typedef enum {
    MW_FEED_OK,          /* consumed what it could; call again with more */
    MW_FEED_NEED_MORE,   /* the rest is an incomplete unit */
    MW_FEED_UPGRADE_TLS, /* bytes after `consumed`, both ways, are TLS (STARTTLS/STLS) */
    MW_FEED_ERROR,       /* not this protocol; the rest of this direction is skipped */
} mw_feed_status;

typedef struct {
    mw_feed_status status;
    size_t consumed;
} mw_feed_result;

typedef struct {
    uint16_t port;
    mw_proto proto;
} mw_port_proto;

typedef struct mw_dissector {
    const char *name;
    const mw_port_proto *ports;  /* default ports, ending with {0} */
    mw_proto content_proto;      /* protocol named when probe() matches on another port */
    /* This dissector reads TLS streams: its ports are implicit-TLS ports, and it takes a
     * session over after STARTTLS/STLS. The first such dissector of the registry serves
     * them all (a later one, like the opaque dissector, is the fallback). */
    bool tls;
    /* Does the server's first data look like this protocol's greeting? */
    bool (*probe)(const uint8_t *p, size_t len);
    /* On a port of no mail protocol, do a client's first bytes start a mail session of this
     * dissector (e.g. a ClientHello whose SNI or ALPN names a mail service)? Returns the
     * protocol they suggest, or MW_PROTO_UNKNOWN. NULL: the dissector never asks. */
    mw_proto (*client_probe)(const uint8_t *p, size_t len);
    void *(*state_new)(mw_session *s, const mw_config *cfg);
    void (*state_free)(void *state);
    mw_feed_result (*feed)(void *state, mw_dir dir, const uint8_t *p, size_t len,
                           const mw_ctx *ctx);
    /* `missing` bytes of direction `dir` were lost; resynchronise at the next unit. */
    void (*on_gap)(void *state, mw_dir dir, uint64_t missing, const mw_ctx *ctx);
    /* The session ended (any reason); final judgements, e.g. unanswered commands. */
    void (*on_close)(void *state, const mw_ctx *ctx);
    /* Optional: the per-engine state handed to every call as ctx->engine_state, made when
     * an engine starts and freed when it ends. */
    void *(*engine_new)(const mw_config *cfg);
    void (*engine_free)(void *engine_state);
    /* Its part of the record (mw_session.mail; mw_session.tls for the TLS dissector), made
     * by the dissector with mw_part_set and read by no one else: written as the record's
     * protocol key ("smtp":{...}, after a comma as mw_json_key does), as the indented lines
     * of the session's text block, and freed. NULL: the dissector keeps no part. */
    void (*write_json)(GString *out, const mw_session *s, const void *rec);
    void (*write_text)(GString *out, const mw_session *s, const void *rec);
    /* Optional: the text lines for -q (only what has findings, e.g. SMTP's transactions
     * that raised a flag, and a count of what was left out). NULL: write_text. */
    void (*write_text_findings)(GString *out, const mw_session *s, const void *rec);
    void (*free_record)(void *rec);
    /* Optional: two copies of `dir`'s bytes at stream offset `off` differed (a
     * retransmission or an overlap with other bytes); the first copy was, or is about to
     * be, delivered. other/len: the copy that was not (NULL: no longer known);
     * first_frame: the packet that carried the delivered copy. Called once when found and,
     * for a copy held out of order, again just after it was delivered. A line protocol
     * treats both copies as secret inside an authentication (text/secrets.h). */
    void (*on_overlap_conflict)(void *state, mw_dir dir, uint64_t off, const uint8_t *other,
                                size_t len, uint64_t first_frame, const mw_ctx *ctx);
} mw_dissector;

/* Give the session's part (s->mail or s->tls) a record owned by d (d->free_record frees it). */
static inline void mw_part_attach(mw_part *p, const mw_dissector *d, void *rec)
{
    mw_part_set(p, d, rec, d->free_record);
}

#endif
