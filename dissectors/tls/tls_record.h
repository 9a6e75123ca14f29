/* The TLS record layer (RFC 8446 5.1, RFC 5246 6.2): 5-byte headers, opaque records skipped
 * by length, cleartext records handed to the handshake layer, alerts, the SSLv2 record
 * framing, and the judgement of a direction's first bytes (TLS, SSLv2 or plain text). */
#ifndef MW_TLS_RECORD_H
#define MW_TLS_RECORD_H

#include "tls/tls_state.h"

mw_feed_result tls_sslv2_record(tls_state *st, mw_dir dir, const uint8_t *p, size_t len,
                                   const mw_ctx *ctx);

bool tls_first_bytes(tls_state *st, mw_dir dir, const uint8_t *p, size_t len,
                        const mw_ctx *ctx, mw_feed_result *r);

/* Bytes of a server that greeted in clear (st->clear_server), or of its client answering
 * in clear (st->clear_client): to the mail dissector of the greeting. */
void tls_clear_data(tls_state *st, mw_dir dir, const uint8_t *p, size_t len, const mw_ctx *ctx);

void tls_clear_record(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                         const uint8_t *body, size_t len, const mw_ctx *ctx);

/* A record counted (application data both ways, the handshake's completion); its
 * "[encrypted]" transcript line unless it is being decrypted. */
void tls_opaque_record(tls_state *st, mw_dir dir, uint8_t type, uint32_t len,
                       bool decrypting, const mw_ctx *ctx);
/* The handshake is complete (Finished both ways, or encrypted records both ways). */
void tls_check_done(tls_state *st);
/* An alert record's body, cleartext or decrypted. */
void tls_alert(tls_state *st, mw_dir dir, mw_cursor c, const mw_ctx *ctx);

/* The first bytes of a direction the capture started inside of: NEED_MORE until the
 * record and handshake headers are in; then the direction either goes on as if started
 * (a hello record) or is lost. */
mw_feed_status tls_resync(tls_state *st, mw_dir dir, const uint8_t *p, size_t len);

bool tls_record_is_opaque(const tls_state *st, const tls_dir *d, uint8_t type);

#endif
