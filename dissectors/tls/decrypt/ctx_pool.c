/* A freed decoder's cipher (and CBC HMAC) contexts are kept, per thread and suite, for the
 * next session of that suite: a context made afresh costs allocations, a provider context
 * and the cipher's set-up (GCM's tables, CCM's tag length), a kept one only its new key.
 * They hold the last key schedule until re-keyed or the thread ends, no more than the key
 * log itself holds for the whole run (keyschedule.c's HMAC contexts do the same). */
#include "tls/decrypt/ctx_pool.h"

#include <openssl/crypto.h>
#include <glib.h>

#include "tls/decrypt/decrypt.h" /* MW_TLS_CTX_POOL_MAX */

typedef struct {
    const mw_tls_suite *suite;
    EVP_CIPHER_CTX *cipher;
    EVP_MAC_CTX *mac;
} pooled_ctx;

typedef struct {
    pooled_ctx p[MW_TLS_CTX_POOL_MAX];
    unsigned n;
} ctx_pool;

static void ctx_pool_free(gpointer data)
{
    ctx_pool *pool = data;
    for (unsigned i = 0; i < pool->n; i++) {
        EVP_CIPHER_CTX_free(pool->p[i].cipher);
        EVP_MAC_CTX_free(pool->p[i].mac);
    }
    OPENSSL_free(pool);
}

static GPrivate pool_key = G_PRIVATE_INIT(ctx_pool_free);

static ctx_pool *ctx_pool_get(void)
{
    ctx_pool *pool = g_private_get(&pool_key);
    if (!pool) {
        pool = OPENSSL_zalloc(sizeof *pool);
        if (pool)
            g_private_set(&pool_key, pool);
    }
    return pool;
}

void mw_tls_ctx_pool_put(const mw_tls_suite *suite, EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac)
{
    ctx_pool *pool = cipher ? ctx_pool_get() : NULL;
    if (pool && pool->n < MW_TLS_CTX_POOL_MAX) {
        pool->p[pool->n++] = (pooled_ctx){ suite, cipher, mac };
    } else {
        EVP_CIPHER_CTX_free(cipher);
        EVP_MAC_CTX_free(mac);
    }
}

bool mw_tls_ctx_pool_take(const mw_tls_suite *suite, EVP_CIPHER_CTX **cipher,
                          EVP_MAC_CTX **mac)
{
    ctx_pool *pool = g_private_get(&pool_key);
    for (unsigned i = 0; pool && i < pool->n; i++) {
        if (pool->p[i].suite != suite)
            continue;
        *cipher = pool->p[i].cipher;
        *mac = pool->p[i].mac;
        pool->p[i] = pool->p[--pool->n];
        return true;
    }
    return false;
}
