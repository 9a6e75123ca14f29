/* Message digests: JA3/JA4 (MD5, SHA-256) and the Community ID (SHA-1) for every session,
 * and the hash under TLS decryption's HMAC (tls/decrypt/hmac.c: SHA-1/256/384/512, MD5).
 * Computed with OpenSSL's low-level hash functions on a state the caller holds: OpenSSL
 * 3.0's EVP_DigestInit_ex2 allocates a provider context on every init and EVP_MD_CTX_copy_ex
 * on every copy, where this state is a plain struct (copied by assignment, no allocation).
 * Safe from any thread (no shared state). Depends on OpenSSL libcrypto and libc only. */
#ifndef MW_DIGEST_H
#define MW_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { MW_MD5, MW_SHA1, MW_SHA256, MW_SHA384, MW_SHA512 } mw_md;
#define MW_MD_COUNT (MW_SHA512 + 1)

#define MW_DIGEST_MAX 64       /* SHA-512, the longest output */
#define MW_SHA1_SIZE 20        /* SHA-1's output (FIPS 180-4 §6.1) */
#define MW_DIGEST_BLOCK_MAX 128 /* SHA-384/512, the longest block (RFC 6234 §4.2) */
/* Bytes of the largest OpenSSL hash state (SHA512_CTX: 8 + 2 + 16 64-bit words and 2 ints,
 * 216 on LP64); digest.c checks every state fits. */
#define MW_HASH_STATE_MAX 224

/* A running hash: a plain value, copied by struct assignment (HMAC's precomputed pads). */
typedef struct {
    mw_md md;
    _Alignas(8) unsigned char st[MW_HASH_STATE_MAX];
} mw_hash;

/* Output and block length of md (RFC 1321, RFC 6234). */
size_t mw_md_size(mw_md md);
size_t mw_md_block(mw_md md);
/* md for an OpenSSL digest name ("SHA256", "SHA384", "SHA1", "MD5", "SHA512"); false else. */
bool mw_md_by_name(const char *name, mw_md *md);

void mw_hash_init(mw_hash *h, mw_md md);
void mw_hash_update(mw_hash *h, const void *p, size_t len);
/* The digest into out (mw_md_size bytes) and its length; h is used up (init it again). */
unsigned mw_hash_final(mw_hash *h, uint8_t out[MW_DIGEST_MAX]);
/* Zeroes h (a state keyed by a secret: HMAC's pads). */
void mw_hash_wipe(mw_hash *h);

/* The digest of p[0..len) into out; its length. */
unsigned mw_digest(mw_md md, const void *p, size_t len, uint8_t out[MW_DIGEST_MAX]);

/* Lower-case hex of d[0..n) into out (2n + 1 bytes with the NUL). */
void mw_hex(const uint8_t *d, size_t n, char *out);

#endif
