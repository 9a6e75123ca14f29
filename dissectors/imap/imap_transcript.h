/* The IMAP transcript: redacted command lines, and runs of untagged data responses
 * summarised as one event. All no-ops unless the session keeps a transcript. */
#ifndef MW_IMAP_TRANSCRIPT_H
#define MW_IMAP_TRANSCRIPT_H

#include "imap/imap_state.h"

/* A verb besides imap_verbs whose arguments are harmless (shown as sent). */
bool imap_other_verb(const char *word);

void imap_agg_reset(imap_agg *a);
/* One more untagged data response of this kind, summarised later. */
void imap_agg_add(imap_state *st, const char *kind, const mw_ctx *ctx);
/* A literal of n octets in the untagged response being read. */
void imap_agg_literal(imap_state *st, uint64_t n);
/* The LOGIN event; user_known: its user-name literal has been read. */
void imap_login_event(imap_state *st, bool user_known);
/* Show what is held back before the next event, so that events stay in wire order. */
void imap_flush_held(imap_state *st);
/* The transcript line of a command, redacted; ir: AUTHENTICATE had an initial response. */
void imap_command_event(imap_state *st, const mw_tp_cmd *c, const mw_line *l, bool ir,
                        const mw_ctx *ctx);

#endif
