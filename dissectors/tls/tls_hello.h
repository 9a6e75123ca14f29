/* TLS hellos: the ClientHello probe the plain-text dissectors and the engine use, the
 * ClientHello and ServerHello (HelloRetryRequest, SSLv2 CLIENT-HELLO/SERVER-HELLO), the
 * mail-service hint from SNI/ALPN. */
#ifndef MW_TLS_HELLO_H
#define MW_TLS_HELLO_H

#include "tls/tls_state.h"

bool tls_byte_at(mw_cursor c, size_t i, uint8_t *v);

void tls_client_hello_seen(tls_state *st, const mw_tls_client_hello *h, const mw_ctx *ctx);

bool tls_sslv2_header(mw_cursor *c, size_t *body);

void tls_sslv2_server_hello(tls_state *st, mw_cursor c, const mw_ctx *ctx);

void tls_server_hello_seen(tls_state *st, const mw_tls_server_hello *h, const mw_ctx *ctx);

void tls_sslv2_client_hello(tls_state *st, mw_cursor c, const mw_ctx *ctx);

bool tls_parse_client_hello(mw_cursor c, mw_tls_client_hello *h);

bool tls_parse_server_hello(mw_cursor c, mw_tls_server_hello *h);

#endif
