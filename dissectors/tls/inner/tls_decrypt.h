/* Decryption inside the TLS dissector (decrypt/README.md, "How the TLS dissector calls
 * it"): what the hellos say, the keys from the run's key log, each protected record
 * decrypted and its plaintext handed on — handshake messages to the handshake layer,
 * alerts to the record layer, application data to the session's mail dissector. */
#ifndef MW_TLS_DECRYPT_GLUE_H
#define MW_TLS_DECRYPT_GLUE_H

#include "tls/tls_state.h"

/* The decryption part of the TLS engine state (the key log, the plaintext buffer): made
 * and freed by the dissector's engine_new / engine_free (tls.c), which add the caches. */
tls_engine *tls_dec_engine_new(const mw_config *cfg);
void tls_dec_engine_free(tls_engine *e);
/* Called at each feed: the engine's state, or (no engine: unit tests) the session's own. */
void tls_dec_attach(tls_state *st, const mw_ctx *ctx);
void tls_dec_free(tls_state *st);
/* d's record buffer, from the engine's spares or made; given back (its first used bytes
 * wiped: the plaintext read there) when the record is read, lost to a gap or the session
 * ends. */
void tls_rec_take(tls_state *st, tls_dir *d);
void tls_rec_give(tls_state *st, tls_dir *d, size_t used);

void tls_keep_client_hello(tls_state *st, const mw_tls_client_hello *h);
void tls_keys_server_hello(tls_state *st, const mw_tls_server_hello *h, const mw_ctx *ctx);
/* A cleartext ChangeCipherSpec from dir (TLS <= 1.2: the direction's keys start). */
void tls_keys_ccs(tls_state *st, mw_dir dir, const mw_ctx *ctx);

/* No key log source in the run yet (none given, no capture's secrets block so far):
 * nothing can be decrypted. A source is never taken away, so none was there before either
 * (no key was looked up, nothing is held): the record path skips tls_dec_wants. */
static inline bool tls_dec_keyless(const tls_state *st)
{
    const gint *n = st->eng ? st->eng->kl_sources : NULL; /* as keylog_of */
    return !n || g_atomic_int_get(n) == 0;
}
/* Must this record be decrypted (so read whole)? */
bool tls_dec_wants(tls_state *st, mw_dir dir, uint8_t type);
/* A protected record that is not decrypted (no keys): counted. */
void tls_dec_opaque(tls_state *st, mw_dir dir, uint8_t type);
void tls_dec_opaque_keyless_first(tls_state *st, mw_dir dir, uint8_t type);
/* The same when tls_dec_keyless: only whether one protected record passed unread matters
 * then (tls_dec_settle, should a capture's secrets block bring keys later), and
 * epoch_records is reset when keys are first looked up (key13, tls_keys_ccs). Without keys
 * a record is protected only as 0-RTT data or after a CCS up to TLS 1.2 (epoch13 is set
 * with keys), so most records need no test at all. */
static inline void tls_dec_opaque_keyless(tls_state *st, mw_dir dir, uint8_t type)
{
    const tls_dir *d = &st->d[dir];
    if (!d->opaque_records && (st->early_offered || (d->ccs && !st->tls13)))
        tls_dec_opaque_keyless_first(st, dir, type);
}
/* A protected record whole in the stream (body is the stream's: decrypted into the
 * engine's buffer), or gathered in the direction's own buffer (tls_dec_record_own: body is
 * decrypted where it is, its ciphertext gone after). */
void tls_dec_record(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                    const uint8_t *body, size_t len, const mw_ctx *ctx);
void tls_dec_record_own(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                        uint8_t *body, size_t len, const mw_ctx *ctx);
/* A decrypted handshake message the cleartext layer does not know (EncryptedExtensions,
 * Finished, KeyUpdate, TLS 1.3 Certificate, ...): true when it was one. */
bool tls_dec_handshake_msg(tls_state *st, mw_dir dir, uint8_t type, mw_cursor body,
                           const mw_ctx *ctx);
/* A gap in dir: true when decryption goes on after it (the hole was inside one record). */
bool tls_dec_gap(tls_state *st, mw_dir dir, uint64_t missing, const mw_ctx *ctx);
/* The session ends: the mail dissector's close; whether the content is still hidden. */
void tls_dec_close(tls_state *st, const mw_ctx *ctx);
void tls_dec_settle(tls_state *st);

#endif
