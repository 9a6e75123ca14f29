/* The low-level MD5 / SHA-1 / SHA-2 functions are deprecated in OpenSSL 3.0 (in favour of
 * EVP_Digest*) but present in every 3.x build that does not set no-deprecated, and they are
 * the only OpenSSL interface whose state is a plain struct: EVP_DigestInit_ex2 allocates a
 * provider context per init and EVP_MD_CTX_copy_ex duplicates it with another allocation,
 * which on the keyed-sessions bench was most of the allocations a decrypted session made
 * (HMAC copies its inner and outer states for every message, RFC 2104 §4). So this file,
 * and only this file, uses them and silences the deprecation. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "core/digest.h"

#include <openssl/crypto.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <string.h>

_Static_assert(sizeof(MD5_CTX) <= MW_HASH_STATE_MAX, "MD5 state fits");
_Static_assert(sizeof(SHA_CTX) <= MW_HASH_STATE_MAX, "SHA-1 state fits");
_Static_assert(sizeof(SHA256_CTX) <= MW_HASH_STATE_MAX, "SHA-256 state fits");
_Static_assert(sizeof(SHA512_CTX) <= MW_HASH_STATE_MAX, "SHA-512 state fits");
_Static_assert(SHA512_DIGEST_LENGTH <= MW_DIGEST_MAX, "longest digest fits");
_Static_assert(SHA_DIGEST_LENGTH == MW_SHA1_SIZE, "SHA-1 size");
_Static_assert(SHA512_CBLOCK <= MW_DIGEST_BLOCK_MAX, "longest block fits");

static const struct {
    const char *name;
    unsigned char size, block;
} md_info[MW_MD_COUNT] = {
    [MW_MD5] = { "MD5", MD5_DIGEST_LENGTH, MD5_CBLOCK },
    [MW_SHA1] = { "SHA1", SHA_DIGEST_LENGTH, SHA_CBLOCK },
    [MW_SHA256] = { "SHA256", SHA256_DIGEST_LENGTH, SHA256_CBLOCK },
    [MW_SHA384] = { "SHA384", SHA384_DIGEST_LENGTH, SHA512_CBLOCK },
    [MW_SHA512] = { "SHA512", SHA512_DIGEST_LENGTH, SHA512_CBLOCK },
};

size_t mw_md_size(mw_md md)
{
    return (unsigned)md < MW_MD_COUNT ? md_info[md].size : 0;
}

size_t mw_md_block(mw_md md)
{
    return (unsigned)md < MW_MD_COUNT ? md_info[md].block : 0;
}

bool mw_md_by_name(const char *name, mw_md *md)
{
    for (int i = 0; name && i < MW_MD_COUNT; i++) {
        if (strcmp(md_info[i].name, name) == 0) {
            *md = (mw_md)i;
            return true;
        }
    }
    return false;
}

void mw_hash_init(mw_hash *h, mw_md md)
{
    h->md = md;
    switch (md) {
    case MW_MD5:
        MD5_Init((MD5_CTX *)h->st);
        break;
    case MW_SHA1:
        SHA1_Init((SHA_CTX *)h->st);
        break;
    case MW_SHA256:
        SHA256_Init((SHA256_CTX *)h->st);
        break;
    case MW_SHA384:
        SHA384_Init((SHA512_CTX *)h->st);
        break;
    case MW_SHA512:
        SHA512_Init((SHA512_CTX *)h->st);
        break;
    }
}

void mw_hash_update(mw_hash *h, const void *p, size_t len)
{
    if (len == 0)
        return;
    switch (h->md) {
    case MW_MD5:
        MD5_Update((MD5_CTX *)h->st, p, len);
        break;
    case MW_SHA1:
        SHA1_Update((SHA_CTX *)h->st, p, len);
        break;
    case MW_SHA256:
        SHA256_Update((SHA256_CTX *)h->st, p, len);
        break;
    case MW_SHA384:
        SHA384_Update((SHA512_CTX *)h->st, p, len);
        break;
    case MW_SHA512:
        SHA512_Update((SHA512_CTX *)h->st, p, len);
        break;
    }
}

unsigned mw_hash_final(mw_hash *h, uint8_t out[MW_DIGEST_MAX])
{
    switch (h->md) {
    case MW_MD5:
        MD5_Final(out, (MD5_CTX *)h->st);
        break;
    case MW_SHA1:
        SHA1_Final(out, (SHA_CTX *)h->st);
        break;
    case MW_SHA256:
        SHA256_Final(out, (SHA256_CTX *)h->st);
        break;
    case MW_SHA384:
        SHA384_Final(out, (SHA512_CTX *)h->st);
        break;
    case MW_SHA512:
        SHA512_Final(out, (SHA512_CTX *)h->st);
        break;
    }
    return (unsigned)mw_md_size(h->md);
}

void mw_hash_wipe(mw_hash *h)
{
    OPENSSL_cleanse(h, sizeof *h);
}

unsigned mw_digest(mw_md md, const void *p, size_t len, uint8_t out[MW_DIGEST_MAX])
{
    mw_hash h;
    mw_hash_init(&h, md);
    mw_hash_update(&h, p, len);
    return mw_hash_final(&h, out);
}

void mw_hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}
