/* SMTP commands (client → server), by a per-verb table: each verb's handler reads its
 * arguments into the record; every command is queued for the reply that answers it. */
#ifndef MW_SMTP_COMMANDS_H
#define MW_SMTP_COMMANDS_H

#include "smtp/smtp_state.h"

/* One complete client line in command (or AUTH) mode. */
void smtp_command(smtp_state *st, const mw_line *l, const mw_ctx *ctx);
/* The lone dot ended the message (RFC 5321 4.1.1.4); end_off is the offset after it. */
void smtp_end_of_data(smtp_state *st, uint64_t end_off, const mw_ctx *ctx);
/* A line over the limit: the server will answer it (500 line too long), so it is queued
 * as a command to keep replies paired. */
void smtp_overlong_command(smtp_state *st, const mw_ctx *ctx);
/* Does p start with a verb of the table (after a gap: a plausible line start)? */
bool smtp_is_known_verb(const uint8_t *p, size_t len);

#endif
