/* SMTP AUTH (RFC 4954): the command, the SASL response lines after a 334 challenge, the
 * replies that end the exchange, and the redacted transcript lines. */
#ifndef MW_SMTP_AUTH_H
#define MW_SMTP_AUTH_H

#include "smtp/smtp_state.h"

/* "AUTH mechanism [initial-response]": the handler of the verb table. */
void smtp_auth_command(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                       const mw_ctx *ctx);
/* A client line while the exchange is open: a SASL response, or "*" to cancel. */
void smtp_auth_line(smtp_state *st, const mw_line *l, const mw_ctx *ctx);
/* While an AUTH may be pending or has just failed, a client line that is not a known
 * command is secret. */
bool smtp_auth_window(smtp_state *st);
/* Such a line: a SASL response when the exchange is still pending (pipelined), else a
 * secret line queued as part of the exchange, redacted everywhere. */
void smtp_auth_stray_line(smtp_state *st, const mw_line *l, const mw_ctx *ctx);
/* The transcript line for the AUTH command: the mechanism only. */
void smtp_auth_event(smtp_state *st, const mw_line *l, const mw_ctx *ctx);
/* A reply to AUTH or to a SASL response: 334 goes on, 2xx succeeds, 3xx ends it. */
bool smtp_auth_reply(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx);
/* An error reply to AUTH: auth_failed, or tls_required when the server says so. */
void smtp_auth_refused(smtp_state *st, const mw_tp_cmd *c, int code, const char *low,
                       const char *line, const mw_ctx *ctx);

#endif
