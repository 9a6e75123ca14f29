/* Protected TLS records held until their keys are known, per direction, in arrival order:
 * late-key recovery (a live key log whose lines arrive after a session's first records)
 * and 0-RTT (the client's early data comes before the ServerHello names the suite). At
 * most tls_engine.hold_cap records a direction (--tls-hold-records); past it, or when the
 * session ends first, the held records are dropped, counted (held_dropped, opaque) and
 * said in the transcript. Holding copies a record: that happens only while keys are
 * awaited, never on the path of a keyed session. */
#ifndef MW_TLS_HOLD_H
#define MW_TLS_HOLD_H

#include "tls/tls_state.h"

/* May dir hold one more record? (the cap not hit before, a cap at all) */
bool tls_hold_room(const tls_state *st, const tls_dir *d);
/* Holds a copy of the record; at the cap, drops what is held instead (and this one). */
void tls_hold_push(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                   const uint8_t *body, size_t len, const mw_ctx *ctx);
/* Decrypts held records of both directions whose keys are now there, in frame order
 * (each with its own frame and time). */
void tls_hold_replay(tls_state *st, const mw_ctx *ctx);
/* Drops dir's held records (counted; `why` in the transcript). */
void tls_hold_drop(tls_state *st, mw_dir dir, const char *why, const mw_ctx *ctx);
void tls_hold_free(tls_state *st);

/* The decryption of one record (inner/tls_decrypt.c), called for held ones too. own: body
 * itself when it is a copy of the record's own, to be decrypted in place; NULL when body
 * must stay as it is. */
void tls_dec_record_now(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                        const uint8_t *body, uint8_t *own, size_t len, const mw_ctx *ctx);

#endif
