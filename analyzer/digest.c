#include "digest.h"

#include <openssl/evp.h>

static const EVP_MD *fetched(mw_md md)
{
    static EVP_MD *cache[MW_SHA256 + 1];
    static const char *const names[] = { [MW_MD5] = "MD5", [MW_SHA1] = "SHA1",
                                         [MW_SHA256] = "SHA256" };
    if (!cache[md])
        cache[md] = EVP_MD_fetch(NULL, names[md], NULL);
    return cache[md];
}

unsigned mw_digest(mw_md md, const void *p, size_t len, uint8_t out[MW_DIGEST_MAX])
{
    static EVP_MD_CTX *ctx;
    const EVP_MD *m = fetched(md);
    if (!ctx)
        ctx = EVP_MD_CTX_new();
    unsigned n = 0;
    if (!m || !ctx || EVP_MD_get_size(m) > MW_DIGEST_MAX || !EVP_DigestInit_ex2(ctx, m, NULL) ||
        !EVP_DigestUpdate(ctx, p, len) || !EVP_DigestFinal_ex(ctx, out, &n))
        return 0;
    return n;
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
