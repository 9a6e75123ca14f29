#include "core/digest.h"

#include <openssl/evp.h>
#include <pthread.h>

/* The algorithms, fetched once for the process (an EVP_MD may be used by several threads
 * at once); a digest context per thread (the writer thread computes Community IDs while
 * the analysis computes fingerprints), freed when its thread ends. */
static EVP_MD *algorithms[MW_SHA256 + 1];
static pthread_key_t ctx_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void free_ctx(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void init(void)
{
    static const char *const names[] = { [MW_MD5] = "MD5", [MW_SHA1] = "SHA1",
                                         [MW_SHA256] = "SHA256" };
    pthread_key_create(&ctx_key, free_ctx);
    for (int i = 0; i <= MW_SHA256; i++)
        algorithms[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

static EVP_MD_CTX *thread_ctx(void)
{
    EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
    if (!ctx) {
        ctx = EVP_MD_CTX_new();
        if (ctx && pthread_setspecific(ctx_key, ctx) != 0) {
            EVP_MD_CTX_free(ctx);
            ctx = NULL;
        }
    }
    return ctx;
}

unsigned mw_digest(mw_md md, const void *p, size_t len, uint8_t out[MW_DIGEST_MAX])
{
    pthread_once(&init_once, init);
    const EVP_MD *m = algorithms[md];
    EVP_MD_CTX *ctx = thread_ctx();
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
