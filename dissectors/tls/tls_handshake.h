/* The TLS handshake layer: messages reassembled across records up to --max-tls-handshake
 * (a longer Certificate: its leaf read, the rest skipped) and dispatched by type. */
#ifndef MW_TLS_HANDSHAKE_H
#define MW_TLS_HANDSHAKE_H

#include "tls/tls_state.h"

void tls_handshake_bytes(tls_state *st, mw_dir dir, uint16_t rec_version,
                            const uint8_t *p, size_t len, const mw_ctx *ctx);

#endif
