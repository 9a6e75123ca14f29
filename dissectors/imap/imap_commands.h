/* IMAP client lines: tagged commands (LOGIN, AUTHENTICATE, IDLE ...), the lines that
 * continue a command after its literal, and SASL responses inside AUTHENTICATE. */
#ifndef MW_IMAP_COMMANDS_H
#define MW_IMAP_COMMANDS_H

#include "imap/imap_state.h"

void imap_client_line(imap_state *st, const mw_line *l, const mw_ctx *ctx);

#endif
