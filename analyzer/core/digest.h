/* Message digests for the hot path: JA3/JA4 (MD5, SHA-256) and the Community ID (SHA-1)
 * are computed for every session. OpenSSL 3 looks an algorithm up by name on each
 * EVP_md5()/SHA256()/EVP_Digest call and allocates a context; here each algorithm is
 * fetched once and each thread reuses one context. Safe from any thread. */
#ifndef MW_DIGEST_H
#define MW_DIGEST_H

#include <stddef.h>
#include <stdint.h>

typedef enum { MW_MD5, MW_SHA1, MW_SHA256 } mw_md;

#define MW_DIGEST_MAX 32 /* SHA-256, the longest used */

/* The digest of p[0..len) into out; its length, or 0 when OpenSSL fails. */
unsigned mw_digest(mw_md md, const void *p, size_t len, uint8_t out[MW_DIGEST_MAX]);

/* Lower-case hex of d[0..n) into out (2n + 1 bytes with the NUL). */
void mw_hex(const uint8_t *d, size_t n, char *out);

#endif
