/* TLS as seen by the other dissectors and by main: the "is this a ClientHello?" test a
 * plain-text dissector uses to spot a client set to SSL on a STARTTLS port, and the
 * trust store for certificate checks. */
#ifndef MW_TLS_H
#define MW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes mw_tls_looks_like_client_hello needs to decide. */
#define MW_TLS_PROBE_LEN 6

/* Do the first bytes of a client's stream (at least MW_TLS_PROBE_LEN of them) start a
 * ClientHello: a handshake record 0x16 0x03 0x00-0x04 carrying message type 1, or an
 * SSLv2-format CLIENT-HELLO (RFC 6101 appendix E.2)? */
bool mw_tls_looks_like_client_hello(const uint8_t *p, size_t len);
/* With fewer bytes than MW_TLS_PROBE_LEN: could they still become a ClientHello? A caller
 * that sees true should wait for more before deciding. */
bool mw_tls_could_be_client_hello(const uint8_t *p, size_t len);

/* On a port of no mail protocol, is this first client segment a ClientHello whose SNI or
 * ALPN names a mail service ("smtp.", "mail.", "imap.", "pop3." host names; ALPN "imap",
 * "pop3", "smtp")? Returns the implicit-TLS protocol it suggests, or MW_PROTO_UNKNOWN (not
 * mail: HTTPS and the rest are skipped). */
int mw_tls_mail_hint(const uint8_t *p, size_t len);


#include "dissector.h"

extern const mw_dissector mw_tls_dissector;

#endif
