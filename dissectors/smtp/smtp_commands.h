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
typedef enum {
    SMTP_BDAT_OK,
    SMTP_BDAT_NO_SIZE, /* no digits where the size goes */
    SMTP_BDAT_JUNK,    /* something other than LAST after the size */
    SMTP_BDAT_TOO_BIG, /* a size over the cap (however many digits: no overflow) */
} smtp_bdat_status;
/* The arguments of a BDAT line (after the verb and its spaces), RFC 3030 strictly:
 * chunk-size (digits only) then an optional LAST, nothing else. *size and *last are 0 and
 * false unless SMTP_BDAT_OK. */
smtp_bdat_status smtp_bdat_parse(const uint8_t *arg, size_t len, uint64_t cap, uint64_t *size,
                                 bool *last);
/* Does p start with a verb of the table (after a gap: a plausible line start)? */
bool smtp_is_known_verb(const uint8_t *p, size_t len);

#endif
