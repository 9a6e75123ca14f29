/* The cipher suites the TLS decryption core knows: for each IANA id, how its records are
 * protected (AEAD or CBC with HMAC), the OpenSSL cipher, the key, IV and tag sizes, the
 * MAC hash and the PRF / HKDF hash. A suite absent from the table, or present with kind
 * MW_TLS_KIND_UNSUPPORTED (RC4, NULL), is never guessed at: the decoder says so. */
#ifndef MW_TLS_SUITES_H
#define MW_TLS_SUITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    MW_TLS_KIND_UNSUPPORTED = 0, /* stream (RC4) or NULL ciphers: not decrypted */
    MW_TLS_KIND_AEAD,
    MW_TLS_KIND_CBC,
} mw_tls_suite_kind;

typedef enum {
    MW_TLS_MODE_NONE = 0,
    MW_TLS_MODE_GCM,    /* RFC 5288; TLS 1.3 */
    MW_TLS_MODE_CCM,    /* RFC 6655, RFC 7251; TLS 1.3 */
    MW_TLS_MODE_CHACHA, /* RFC 7905; TLS 1.3 */
    MW_TLS_MODE_CBC,    /* RFC 5246 §6.2.3.2, RFC 7366 */
} mw_tls_cipher_mode;

typedef struct {
    uint16_t id;
    const char *name;       /* IANA name */
    mw_tls_suite_kind kind;
    mw_tls_cipher_mode mode;
    const char *cipher;     /* EVP cipher name; NULL when unsupported */
    uint8_t key_len;
    uint8_t fixed_iv_len;   /* from the key block (1.2) or HKDF "iv" (1.3); CBC: block size */
    uint8_t record_iv_len;  /* explicit nonce / IV carried in each record (1.1+ CBC: block) */
    uint8_t tag_len;        /* AEAD tag */
    uint8_t block_len;      /* CBC block */
    const char *mac_hash;   /* CBC: HMAC digest name */
    uint8_t mac_len;
    const char *prf_hash;   /* TLS 1.2 PRF (RFC 5246 §5) / TLS 1.3 HKDF hash */
    bool tls13;             /* a TLS 1.3 suite (0x13xx) */
    bool tls12_only;        /* AEAD and SHA-256/384 suites need TLS 1.2 */
} mw_tls_suite;

/* The suite with IANA id, or NULL when the table does not know it. */
const mw_tls_suite *mw_tls_suite_find(uint16_t id);

/* Length of the hash named by mw_tls_suite.prf_hash ("SHA256" 32, "SHA384" 48), 0 else. */
size_t mw_tls_hash_len(const char *name);

#endif
