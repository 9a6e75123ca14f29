/* IMAP server lines: tagged completions matched to their command by tag, untagged
 * status and data responses, continuation requests. */
#ifndef MW_IMAP_RESPONSES_H
#define MW_IMAP_RESPONSES_H

#include "imap/imap_state.h"

/* Returns true when the session turns to TLS after this line. */
bool imap_server_line(imap_state *st, const mw_line *l, const mw_ctx *ctx);

#endif
