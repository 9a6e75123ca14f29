/* TLS PRF and HKDF-Expand-Label via EVP_KDF. */
#include "tls/decrypt/keyschedule.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <glib.h>
#include <string.h>

/* Distinct algorithms ever fetched: the suite table's ciphers, HMAC, two KDFs. */
#define FETCH_CACHE_MAX 32

typedef struct {
    mw_tls_alg_kind kind;
    char name[32];
    void *alg; /* NULL: not available (remembered too) */
} fetch_entry;

static GMutex fetch_lock;
static fetch_entry fetch_cache[FETCH_CACHE_MAX];
static unsigned fetch_n;

static void *fetch_now(mw_tls_alg_kind kind, const char *name)
{
    switch (kind) {
    case MW_TLS_ALG_CIPHER:
        return EVP_CIPHER_fetch(NULL, name, NULL);
    case MW_TLS_ALG_MAC:
        return EVP_MAC_fetch(NULL, name, NULL);
    default:
        return EVP_KDF_fetch(NULL, name, NULL);
    }
}

void *mw_tls_fetched(mw_tls_alg_kind kind, const char *name)
{
    void *alg = NULL;
    bool found = false;
    g_mutex_lock(&fetch_lock);
    for (unsigned i = 0; i < fetch_n && !found; i++) {
        if (fetch_cache[i].kind == kind && strcmp(fetch_cache[i].name, name) == 0) {
            alg = fetch_cache[i].alg;
            found = true;
        }
    }
    if (!found && strlen(name) < sizeof fetch_cache[0].name) {
        alg = fetch_now(kind, name);
        if (fetch_n < FETCH_CACHE_MAX) {
            fetch_entry *e = &fetch_cache[fetch_n++];
            e->kind = kind;
            g_strlcpy(e->name, name, sizeof e->name);
            e->alg = alg;
        } else {
            g_warning("tls decrypt: algorithm cache full"); /* cannot happen: the table is fixed */
        }
    }
    g_mutex_unlock(&fetch_lock);
    return alg;
}

/* Runs the KDF named kdf_name with params into out; false (out zeroed) on any refusal. */
static bool kdf_run(const char *kdf_name, OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
    bool ok = false;
    EVP_KDF *kdf = mw_tls_fetched(MW_TLS_ALG_KDF, kdf_name);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (ctx)
        ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    if (!ok)
        OPENSSL_cleanse(out, out_len);
    return ok;
}

bool mw_tls_prf(const char *digest, const uint8_t *secret, size_t secret_len,
                const char *label, const uint8_t *seed1, size_t seed1_len,
                const uint8_t *seed2, size_t seed2_len, uint8_t *out, size_t out_len)
{
    /* The PRF seed is label + seed (RFC 5246 §5); one buffer for it. */
    uint8_t seed[MW_TLS_PRF_LABEL_MAX + 2 * 64];
    size_t label_len = strlen(label);
    if (label_len > MW_TLS_PRF_LABEL_MAX || seed1_len > 64 || seed2_len > 64)
        return false;
    memcpy(seed, label, label_len);
    if (seed1_len)
        memcpy(seed + label_len, seed1, seed1_len);
    if (seed2_len)
        memcpy(seed + label_len + seed1_len, seed2, seed2_len);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed,
                                          label_len + seed1_len + seed2_len),
        OSSL_PARAM_construct_end(),
    };
    bool ok = kdf_run("TLS1-PRF", params, out, out_len);
    OPENSSL_cleanse(seed, sizeof seed);
    return ok;
}

bool mw_tls13_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
                           const char *label, const uint8_t *context, size_t context_len,
                           uint8_t *out, size_t out_len)
{
    static const char prefix[] = "tls13 ";
    uint8_t info[2 + 1 + sizeof prefix - 1 + MW_TLS13_LABEL_MAX + 1 + MW_TLS13_CONTEXT_MAX];
    size_t label_len = strlen(label);
    if (label_len > MW_TLS13_LABEL_MAX || context_len > MW_TLS13_CONTEXT_MAX ||
        out_len > 0xffff)
        return false;
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(sizeof prefix - 1 + label_len);
    memcpy(info + n, prefix, sizeof prefix - 1);
    n += sizeof prefix - 1;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = (uint8_t)context_len;
    if (context_len)
        memcpy(info + n, context, context_len);
    n += context_len;

    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
        OSSL_PARAM_construct_end(),
    };
    return kdf_run("HKDF", params, out, out_len);
}
