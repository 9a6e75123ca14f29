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

/* The port table: which dissector and protocol serve each server port. One per engine
 * (main builds one from --ports and the engine keeps its own copy). */
typedef struct mw_ports mw_ports;

/* The registry's default ports. */
mw_ports *mw_ports_new(void);
mw_ports *mw_ports_copy(const mw_ports *t);
void mw_ports_free(mw_ports *t);
/* Parse "smtp=2525,imap=1143" into t; on error returns false and sets *err (g_free it). */
bool mw_ports_add(mw_ports *t, const char *spec, char **err);
/* The entry for a server port, or NULL. */
const mw_port_entry *mw_ports_lookup(const mw_ports *t, uint16_t port);
/* Every port with a protocol, in order (for the live-capture default filter). */
size_t mw_ports_list(const mw_ports *t, uint16_t *out, size_t max);

/* Match a server's first bytes against every dissector's greeting probe. */
const mw_dissector *mw_detect_content(const uint8_t *p, size_t len, mw_proto *proto);
/* Match a client's first bytes against every dissector's client probe (implicit TLS on
 * another port: a ClientHello naming a mail service). */
const mw_dissector *mw_detect_client_content(const uint8_t *p, size_t len, mw_proto *proto);

#endif
