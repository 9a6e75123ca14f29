/* HMAC (RFC 2104) over core/digest.h's hashes, for TLS decryption's key schedule (the TLS
 * PRF, HKDF) and the CBC suites' record MAC. A key is set once: its inner and outer states
 * (the hash after key XOR ipad, after key XOR opad, RFC 2104 §4) are kept, and each message
 * starts from a copy of the inner one (struct assignment): two hash compressions per key,
 * none per message beyond the message's own, and no allocation. Callers wipe keys they are
 * done with (mw_hmac_wipe). */
#ifndef MW_TLS_HMAC_H
#define MW_TLS_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include "core/digest.h"

typedef struct {
    mw_hash inner, outer; /* after the padded key's block */
    size_t len;           /* output length: the digest's */
} mw_hmac_key;

/* Keys k with key[0..key_len) under md; a key longer than the block is hashed first
 * (RFC 2104 §2). */
void mw_hmac_key_set(mw_hmac_key *k, mw_md md, const uint8_t *key, size_t key_len);

/* A message under k: start (msg from the inner state), mw_hash_update(msg, ...), end
 * (out gets k->len bytes). msg is used up: it holds the inner hash and what out holds, so a
 * caller deriving secrets wipes it (mw_hash_wipe) when done with its last message, once. */
static inline void mw_hmac_start(const mw_hmac_key *k, mw_hash *msg)
{
    *msg = k->inner;
}
void mw_hmac_end(const mw_hmac_key *k, mw_hash *msg, uint8_t out[MW_DIGEST_MAX]);

/* HMAC of p[0..len) under k, in one call (its message state wiped). */
void mw_hmac(const mw_hmac_key *k, const void *p, size_t len, uint8_t out[MW_DIGEST_MAX]);

void mw_hmac_wipe(mw_hmac_key *k);

#endif
