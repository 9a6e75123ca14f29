/* HMAC from precomputed pads (hmac.h says why). RFC 2104 §2: H(K XOR opad, H(K XOR ipad,
 * text)), K the key zero-padded to the hash's block (hashed first when longer). */
#include "tls/decrypt/hmac.h"

#include <openssl/crypto.h>
#include <string.h>

/* ipad and opad (RFC 2104 §2) eight bytes at a time: every block length is a multiple of 8 */
#define IPAD8 0x3636363636363636ull
#define OPAD8 0x5c5c5c5c5c5c5c5cull

void mw_hmac_key_set(mw_hmac_key *k, mw_md md, const uint8_t *key, size_t key_len)
{
    size_t block = mw_md_block(md);
    uint64_t pad[MW_DIGEST_BLOCK_MAX / 8] = { 0 };
    if (key_len > block)
        mw_digest(md, key, key_len, (uint8_t *)pad);
    else if (key_len)
        memcpy(pad, key, key_len);
    for (size_t i = 0; i < block / 8; i++)
        pad[i] ^= IPAD8;
    mw_hash_init(&k->inner, md);
    mw_hash_update(&k->inner, pad, block);
    for (size_t i = 0; i < block / 8; i++)
        pad[i] ^= IPAD8 ^ OPAD8;
    mw_hash_init(&k->outer, md);
    mw_hash_update(&k->outer, pad, block);
    k->len = mw_md_size(md);
    OPENSSL_cleanse(pad, sizeof pad);
}

void mw_hmac_end(const mw_hmac_key *k, mw_hash *msg, uint8_t out[MW_DIGEST_MAX])
{
    /* the inner hash goes through out, which the result then overwrites */
    unsigned n = mw_hash_final(msg, out);
    *msg = k->outer;
    mw_hash_update(msg, out, n);
    mw_hash_final(msg, out);
}

void mw_hmac(const mw_hmac_key *k, const void *p, size_t len, uint8_t out[MW_DIGEST_MAX])
{
    mw_hash msg;
    mw_hmac_start(k, &msg);
    mw_hash_update(&msg, p, len);
    mw_hmac_end(k, &msg, out);
    mw_hash_wipe(&msg);
}

void mw_hmac_wipe(mw_hmac_key *k)
{
    OPENSSL_cleanse(k, sizeof *k);
}
