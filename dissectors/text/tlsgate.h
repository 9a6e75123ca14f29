/* The moment after a server accepts STARTTLS/STLS (RFC 3207 section 4, RFC 2595 section
 * 4): TLS begins with the client's next bytes. Shared by SMTP, IMAP and POP3.
 *
 * The hand-off to TLS waits for those bytes. A ClientHello (any byte that cannot start a
 * text command) hands the session to TLS; clear text — a capture decrypted upstream, or
 * a client that announced TLS and never started it — goes on being read as the mail
 * protocol, with the anomaly starttls_not_used, so MAIL FROM and RCPT are not lost.
 * Server bytes that come while the gate waits are held (the feeder keeps them) and go
 * wherever the client's bytes go. */
#ifndef MW_TLSGATE_H
#define MW_TLSGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

typedef struct {
    bool waiting; /* the server agreed; the client's next bytes not seen yet */
    bool early;   /* client TLS bytes came before the server's agreement and are held */
} mw_tlsgate;

/* Can these bytes (at a line start) begin a text command? One byte tells: TLS records
 * start with 0x14-0x18, SSLv2 hellos with a high bit; commands with printable ASCII. */
bool mw_tlsgate_is_text(const uint8_t *p, size_t len);

/* At the top of the dissector's feed while g->waiting. Returns true when the caller must
 * return *r at once: held (server bytes, or none to judge yet) or MW_FEED_UPGRADE_TLS
 * with nothing consumed (*in_tls is then set). False: clear text, read on as before.
 * after_gap: client bytes were lost since the agreement, so the next ones cannot be
 * judged as a line start; they go to TLS, as before this gate existed. */
bool mw_tlsgate_feed(mw_tlsgate *g, mw_session *s, mw_dir dir, const uint8_t *p, size_t len,
                     bool after_gap, const mw_ctx *ctx, bool *in_tls, mw_feed_result *r);

/* Client bytes at a line start while the command asking for TLS awaits its reply: true
 * (hold them: the feed returns NEED_MORE there) when they are TLS, sent early. */
bool mw_tlsgate_early(mw_tlsgate *g, const uint8_t *p, size_t len);

/* The server agreed to TLS; its feed consumed `consumed` of `len` bytes. Returns the
 * feed's result: the upgrade at once when the client's TLS bytes are already held (then
 * *in_tls is set), else the gate waits for them (the rest of the server's bytes held). */
mw_feed_result mw_tlsgate_agreed(mw_tlsgate *g, size_t consumed, size_t len, bool *in_tls);

#endif
