/* A freed decoder's cipher (and CBC HMAC) contexts are kept, per thread and suite, for the
 * next session of that suite: a context made afresh costs allocations, a provider context
 * and the cipher's set-up (GCM's tables, CCM's tag length), a kept one only its new key.
 * They hold the last key schedule until re-keyed or the thread ends, no more than the key
 * log itself holds for the whole run (keyschedule.c's HMAC contexts do the same). */
#include "tls/decrypt/ctx_pool.h"

#include <openssl/crypto.h>
#include <glib.h>

#include "tls/decrypt/decrypt.h" /* MW_TLS_CTX_POOL_MAX */

/* Distinct suites a thread keeps contexts of at once (the table has a few dozen; a run
 * sees a handful): contexts of one more are freed, not kept. */
#define POOL_SUITES 16

/* The kept contexts are nodes in one array, linked per suite (and the unused ones in a
 * free list): a take or put looks at POOL_SUITES list heads, not at every kept context. */
typedef struct {
    EVP_CIPHER_CTX *cipher;
    mw_hmac_key *mac; /* wiped: only the allocation is kept */
    int next; /* the next node of the same list, -1: none */
} pool_node;

typedef struct {
    const mw_tls_suite *suite; /* whose contexts; any suite while head is -1 */
    int head;
} pool_list;

typedef struct {
    pool_node node[MW_TLS_CTX_POOL_MAX];
    pool_list list[POOL_SUITES];
    int free_head;
} ctx_pool;

static void ctx_pool_free(gpointer data)
{
    ctx_pool *pool = data;
    for (unsigned l = 0; l < POOL_SUITES; l++) {
        for (int i = pool->list[l].head; i >= 0; i = pool->node[i].next) {
            EVP_CIPHER_CTX_free(pool->node[i].cipher);
            OPENSSL_free(pool->node[i].mac);
        }
    }
    OPENSSL_free(pool);
}

static GPrivate pool_key = G_PRIVATE_INIT(ctx_pool_free);

static ctx_pool *ctx_pool_get(void)
{
    ctx_pool *pool = g_private_get(&pool_key);
    if (!pool) {
        pool = OPENSSL_zalloc(sizeof *pool);
        if (!pool)
            return NULL;
        for (int i = 0; i < MW_TLS_CTX_POOL_MAX; i++)
            pool->node[i].next = i + 1 < MW_TLS_CTX_POOL_MAX ? i + 1 : -1;
        pool->free_head = 0;
        for (unsigned l = 0; l < POOL_SUITES; l++)
            pool->list[l].head = -1;
        g_private_set(&pool_key, pool);
    }
    return pool;
}

/* The list of suite's contexts; with make, an empty one taken for it when it has none
 * (NULL when every list holds another suite's). */
static pool_list *list_of(ctx_pool *pool, const mw_tls_suite *suite, bool make)
{
    pool_list *spare = NULL;
    for (unsigned l = 0; l < POOL_SUITES; l++) {
        pool_list *pl = &pool->list[l];
        if (pl->suite == suite && (pl->head >= 0 || make))
            return pl;
        if (!spare && pl->head < 0)
            spare = pl;
    }
    if (!make || !spare)
        return NULL;
    spare->suite = suite;
    return spare;
}

void mw_tls_ctx_pool_put(const mw_tls_suite *suite, EVP_CIPHER_CTX *cipher, mw_hmac_key *mac)
{
    if (mac)
        mw_hmac_wipe(mac);
    ctx_pool *pool = cipher ? ctx_pool_get() : NULL;
    pool_list *pl = pool && pool->free_head >= 0 ? list_of(pool, suite, true) : NULL;
    if (!pl) {
        EVP_CIPHER_CTX_free(cipher);
        OPENSSL_free(mac);
        return;
    }
    int i = pool->free_head;
    pool->free_head = pool->node[i].next;
    pool->node[i] = (pool_node){ cipher, mac, pl->head };
    pl->head = i;
}

bool mw_tls_ctx_pool_take(const mw_tls_suite *suite, EVP_CIPHER_CTX **cipher,
                          mw_hmac_key **mac)
{
    ctx_pool *pool = g_private_get(&pool_key);
    pool_list *pl = pool ? list_of(pool, suite, false) : NULL;
    if (!pl)
        return false;
    int i = pl->head;
    *cipher = pool->node[i].cipher;
    *mac = pool->node[i].mac;
    pl->head = pool->node[i].next;
    pool->node[i] = (pool_node){ NULL, NULL, pool->free_head };
    pool->free_head = i;
    return true;
}
