/* Key derivation for TLS decryption: the TLS 1.0-1.2 PRF (RFC 5246 §5, RFC 2246 §5) and
 * TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1, RFC 5869 §2.3), computed from HMAC
 * (hmac.h): a derivation keys HMAC once with its secret (the inner and outer pads hashed
 * once) and starts every block from a copy of that state. No OpenSSL context, no
 * allocation: EVP_KDF (HKDF, TLS1-PRF; no EVP_KDF_CTX_dup in 3.0) and then EVP_MAC both
 * allocated per init and per copy. Callers wipe what they get back. */
#ifndef MW_TLS_KEYSCHEDULE_H
#define MW_TLS_KEYSCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h> /* EVP_CIPHER */

/* Longest label mw_tls_prf takes ("key expansion", "master secret", ...). */
#define MW_TLS_PRF_LABEL_MAX 32
/* Longest HKDF-Expand-Label label without the "tls13 " prefix (RFC 8446 §7.1: the full
 * label is at most 255 bytes) and longest context. */
#define MW_TLS13_LABEL_MAX 64
#define MW_TLS13_CONTEXT_MAX 64
/* Longest HKDF-Expand output: 255 blocks (RFC 5869 §2.3); longest info taken. */
#define MW_HKDF_BLOCKS_MAX 255
#define MW_HKDF_INFO_MAX 1024

/* PRF(secret, label, seed1 + seed2) -> out (RFC 5246 §5; RFC 2246 §5 for digest
 * "MD5-SHA1", the TLS 1.0/1.1 PRF). digest is an EVP name: "SHA256", "SHA384",
 * "MD5-SHA1". False when OpenSSL refuses (out is then zeroed). */
bool mw_tls_prf(const char *digest, const uint8_t *secret, size_t secret_len,
                const char *label, const uint8_t *seed1, size_t seed1_len,
                const uint8_t *seed2, size_t seed2_len, uint8_t *out, size_t out_len);

/* HKDF-Expand(PRK, info, L) (RFC 5869 §2.3) with HMAC-digest: T(1) | T(2) | ... cut to
 * out_len, T(i) = HMAC(PRK, T(i-1) | info | i). False (out zeroed) when out_len is over
 * 255 hash lengths, info over MW_HKDF_INFO_MAX, or OpenSSL refuses. */
bool mw_hkdf_expand(const char *digest, const uint8_t *prk, size_t prk_len,
                    const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* HKDF-Expand-Label(secret, label, context, out_len) (RFC 8446 §7.1): HKDF-Expand with
 * info = uint16 length, "tls13 " + label (1-byte length), context (1-byte length). */
bool mw_tls13_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
                           const char *label, const uint8_t *context, size_t context_len,
                           uint8_t *out, size_t out_len);

/* A traffic secret's write key and IV (RFC 8446 §7.3): HKDF-Expand-Label(secret, "key",
 * "", key_len) and (secret, "iv", "", iv_len), HMAC keyed with the secret once for both.
 * Each must fit one hash length (every TLS 1.3 suite's do). False (both zeroed) else. */
bool mw_tls13_key_iv(const char *digest, const uint8_t *secret, size_t secret_len,
                     uint8_t *key, size_t key_len, uint8_t *iv, size_t iv_len);

/* OpenSSL ciphers fetched once per process and kept (EVP_CIPHER_fetch takes locks and
 * walks the provider store: per session it cost more than the key derivation itself).
 * NULL when this OpenSSL lacks the cipher. Shared, read-only, safe from any thread; never
 * freed (the caller must not free them either). */
EVP_CIPHER *mw_tls_cipher_fetched(const char *name);

#endif
