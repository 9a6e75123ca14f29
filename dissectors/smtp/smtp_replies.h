/* SMTP replies (server → client): multi-line assembly, enhanced status codes (RFC 3463),
 * the pairing with the oldest pending command, and each verb's judgement of its reply
 * by a per-verb table. */
#ifndef MW_SMTP_REPLIES_H
#define MW_SMTP_REPLIES_H

#include "smtp/smtp_state.h"

/* "250 ", "250-", "250\r": the start of a reply line. */
bool smtp_looks_like_reply(const uint8_t *p, size_t len);
/* One server line, part of a (multi-line) reply. Returns true when the session upgrades
 * to TLS after it. */
bool smtp_server_line(smtp_state *st, const mw_line *l, const mw_ctx *ctx);

#endif
