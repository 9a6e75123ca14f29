/* Which dissector a session gets: by port first (SPEC.md defaults plus --ports), then
 * by the server's first bytes on any other port, then by the client's (a dissector's
 * client probe). */
#ifndef MW_DETECT_H
#define MW_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "dissector.h"

typedef struct {
    const mw_dissector *dissector;
    mw_proto proto;
} mw_port_entry;

/* Fill the port table from the registry's defaults. */
void mw_detect_init(void);
/* Parse "smtp=2525,imap=1143"; on error returns false and sets *err (g_free it). */
bool mw_detect_add_ports(const char *spec, char **err);
/* The entry for a server port, or NULL. */
const mw_port_entry *mw_detect_port(uint16_t port);
/* Match a server's first bytes against every dissector's greeting probe. */
const mw_dissector *mw_detect_content(const uint8_t *p, size_t len, mw_proto *proto);
/* Match a client's first bytes against every dissector's client probe (implicit TLS on
 * another port: a ClientHello naming a mail service). */
const mw_dissector *mw_detect_client_content(const uint8_t *p, size_t len, mw_proto *proto);
/* Every port with a protocol, for the live-capture default filter. */
size_t mw_detect_ports(uint16_t *out, size_t max);

#endif
