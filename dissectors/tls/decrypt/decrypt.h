/* TLS record decryption for a passive observer with the session's secrets (from a key
 * log): one decoder per TLS connection, holding the read state of each direction
 * (client write, server write) — key, IV, MAC key, 64-bit sequence number.
 *
 *   TLS 1.0-1.2: mw_tls_decoder_init12 for a direction when that direction's
 *     ChangeCipherSpec is seen; keys come from the master secret (CLIENT_RANDOM line).
 *   TLS 1.3: mw_tls_decoder_init13 with a traffic secret when the direction switches
 *     keys (handshake secret after ServerHello, application secret after that side's
 *     Finished, early secret for 0-RTT); mw_tls_decoder_key_update after a KeyUpdate.
 *
 * Records are whole (the caller reassembles them); decryption allocates nothing. Keys are
 * wiped on re-init and free (the cipher contexts go to a per-thread pool for the next
 * session, re-keyed there: README.md); nothing here prints, logs or returns key material.
 * Depends only on OpenSSL libcrypto, GLib (the pool's thread-local) and libc. */
#ifndef MW_TLS_DECRYPT_H
#define MW_TLS_DECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/decrypt/suites.h"

/* Longest TLSCiphertext fragment (RFC 5246 §6.2.3: 2^14 + 2048); TLS 1.3 allows less
 * (RFC 8446 §5.2: 2^14 + 256). An output buffer of MW_TLS_MAX_CIPHERTEXT always fits. */
#define MW_TLS_MAX_CIPHERTEXT (16384 + 2048)
#define MW_TLS13_MAX_CIPHERTEXT (16384 + 256)
/* Client and server random (RFC 5246 §7.4.1.2), TLS <= 1.2 master secret (§8.1). */
#define MW_TLS_RANDOM_LEN 32
#define MW_TLS_MASTER_LEN 48
/* Longest TLS 1.3 traffic secret (SHA-384). */
#define MW_TLS13_SECRET_MAX 48

/* Who sent the records; the values match mailwire's mw_dir. */
typedef enum { MW_TLS_FROM_CLIENT = 0, MW_TLS_FROM_SERVER = 1 } mw_tls_dir;

/* TLS protocol versions as on the wire. */
#define MW_TLS_VERSION_SSL3 0x0300
#define MW_TLS_VERSION_TLS10 0x0301
#define MW_TLS_VERSION_TLS11 0x0302
#define MW_TLS_VERSION_TLS12 0x0303
#define MW_TLS_VERSION_TLS13 0x0304

typedef enum {
    MW_TLS_DEC_OK = 0,
    /* Tag or MAC check failed, bad CBC padding, or a fragment too short to carry its
     * tag / MAC: the caller raises tls_decrypt_failed. The direction is stopped. */
    MW_TLS_DEC_AUTH_FAILED,
    /* Fragment longer than the protocol allows, or out_cap too small. Nothing changes
     * (the sequence number does not advance). */
    MW_TLS_DEC_TOO_LONG,
    /* Suite, version or combination not decrypted here (RC4, NULL, SSL 3.0, a suite
     * unknown to the table, a 1.2-only suite on 1.0, ...), or OpenSSL lacks a primitive. */
    MW_TLS_DEC_UNSUPPORTED,
    /* The direction has no keys, or was stopped by an earlier failure. */
    MW_TLS_DEC_NO_KEYS,
    /* TLS 1.3: authenticated, but the inner plaintext is all zeros, so it has no
     * content type (RFC 8446 §5.4). The direction is stopped. */
    MW_TLS_DEC_MALFORMED,
    /* A bad argument from the caller (secret of the wrong length, ...). */
    MW_TLS_DEC_BAD_INPUT,
} mw_tls_dec_status;

/* A short English name for a status ("ok", "auth_failed", ...). */
const char *mw_tls_dec_status_name(mw_tls_dec_status s);

typedef struct mw_tls_decoder mw_tls_decoder;

/* Cipher (and CBC HMAC) contexts a thread keeps from freed decoders for the next ones of
 * the same suite (decrypt.c). Sessions of a dozen suites open and close at random: with
 * 16 kept, 59% of the bench's keyed-sessions contexts were made afresh (and as many freed),
 * with 128 kept 32%, near the floor its ~1,600 sessions open at once set (1024: 29%); at
 * most ~230 KB per thread (a GCM context with its EVP wrapper is ~1.2 KB, a CBC one with
 * its HMAC ~1.6-1.8 KB). */
#define MW_TLS_CTX_POOL_MAX 128

/* A decoder with no keys in either direction; NULL only if out of memory. */
mw_tls_decoder *mw_tls_decoder_new(void);
/* Wipes every key and frees. NULL is fine. */
void mw_tls_decoder_free(mw_tls_decoder *d);

/* TLS 1.0-1.2 (version 0x0301-0x0303, the negotiated one from ServerHello), suite the
 * ServerHello's cipher_suite: derives the key block from the 48-byte master secret
 * (RFC 5246 §6.3: PRF(master, "key expansion", server_random + client_random); the
 * MD5+SHA-1 PRF below TLS 1.2) and keys direction dir with sequence number 0.
 * encrypt_then_mac: the extension (RFC 7366) was in both hellos and the suite is CBC. */
mw_tls_dec_status mw_tls_decoder_init12(mw_tls_decoder *d, mw_tls_dir dir, uint16_t version,
                                        uint16_t suite,
                                        const uint8_t client_random[MW_TLS_RANDOM_LEN],
                                        const uint8_t server_random[MW_TLS_RANDOM_LEN],
                                        const uint8_t *master, size_t master_len,
                                        bool encrypt_then_mac);

/* TLS 1.3: keys direction dir from a traffic secret (its length must be the suite's
 * hash length), sequence number 0 (RFC 8446 §7.3: key and iv by HKDF-Expand-Label). */
mw_tls_dec_status mw_tls_decoder_init13(mw_tls_decoder *d, mw_tls_dir dir, uint16_t suite,
                                        const uint8_t *secret, size_t secret_len);

/* TLS 1.3 KeyUpdate sent in dir: the next records of dir use the next secret
 * HKDF-Expand-Label(secret, "traffic upd", "", Hash.length) (RFC 8446 §7.2). */
mw_tls_dec_status mw_tls_decoder_key_update(mw_tls_decoder *d, mw_tls_dir dir);

/* dir has no keys any more (its next keys are not known): later records give NO_KEYS. */
void mw_tls_decoder_forget(mw_tls_decoder *d, mw_tls_dir dir);

/* One record of dir was lost (a capture gap inside it): its sequence number is passed
 * over, so the next whole record still opens. TLS 1.0 CBC, whose IV chains through the
 * lost record, stops the direction instead (NO_KEYS). */
mw_tls_dec_status mw_tls_decoder_skip_record(mw_tls_decoder *d, mw_tls_dir dir);

/* Does dir have keys (and has not failed)? */
bool mw_tls_decoder_keyed(const mw_tls_decoder *d, mw_tls_dir dir);

/* Decrypts one protected record of dir: type and wire_version are its header's, frag its
 * len bytes after the header. On MW_TLS_DEC_OK: out holds *out_len plaintext bytes (at
 * most len; out must not overlap frag, but where mw_tls_decrypt_record_in_place puts it),
 * *inner_type the real content type (TLS 1.3: from TLSInnerPlaintext; before 1.3: type)
 * and the sequence number has advanced. On a failure out holds nothing of the record. */
mw_tls_dec_status mw_tls_decrypt_record(mw_tls_decoder *d, mw_tls_dir dir, uint8_t type,
                                        uint16_t wire_version, const uint8_t *frag, size_t len,
                                        uint8_t *out, size_t out_cap, size_t *out_len,
                                        uint8_t *inner_type);

/* The same in the record's own bytes (frag, writable, len): the plaintext is left at frag +
 * *pt_off (after TLS 1.1+'s explicit nonce or IV), *pt_len bytes; the ciphertext is gone
 * either way (a failure wipes it). No copy, and TLS 1.2 AES-GCM goes through OpenSSL's
 * TLS AEAD mode (one parameter, one call per record), which decrypts only in place. */
mw_tls_dec_status mw_tls_decrypt_record_in_place(mw_tls_decoder *d, mw_tls_dir dir, uint8_t type,
                                                 uint16_t wire_version, uint8_t *frag,
                                                 size_t len, size_t *pt_off, size_t *pt_len,
                                                 uint8_t *inner_type);

#endif
