/* TLS PRF and HKDF-Expand(-Label) from HMAC via EVP_MAC (keyschedule.h says why). */
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

/* ---------- HMAC contexts, one per digest and thread ---------- */

/* Digests a thread derives with: SHA-256, SHA-384, MD5 and SHA-1 (the TLS 1.0 PRF), and
 * room for the rest of the suite table's PRF hashes. */
#define HMAC_SLOTS 6

typedef struct {
    char digest[16];
    EVP_MAC_CTX *ctx; /* digest set; keyed with the last secret derived from */
    size_t len;       /* the digest's output length */
} hmac_slot;

typedef struct {
    hmac_slot s[HMAC_SLOTS];
    unsigned n;
} hmac_cache;

/* The contexts keep the HMAC state of the last secret used until the next derivation or
 * the thread's end: no more than the key log itself keeps for the whole run. */
static void hmac_cache_free(gpointer p)
{
    hmac_cache *c = p;
    for (unsigned i = 0; i < c->n; i++)
        EVP_MAC_CTX_free(c->s[i].ctx);
    g_free(c);
}

static GPrivate hmac_key = G_PRIVATE_INIT(hmac_cache_free);

/* This thread's HMAC context for digest (made at first use), NULL when OpenSSL refuses. */
static const hmac_slot *hmac_of(const char *digest)
{
    hmac_cache *c = g_private_get(&hmac_key);
    if (!c) {
        c = g_new0(hmac_cache, 1);
        g_private_set(&hmac_key, c);
    }
    for (unsigned i = 0; i < c->n; i++)
        if (strcmp(c->s[i].digest, digest) == 0)
            return &c->s[i];
    if (c->n == HMAC_SLOTS || strlen(digest) >= sizeof c->s[0].digest)
        return NULL;
    EVP_MAC *mac = mw_tls_fetched(MW_TLS_ALG_MAC, "HMAC");
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end(),
    };
    /* the output length from the digest: OpenSSL 3.0's HMAC knows its size only once keyed */
    EVP_MD *md = EVP_MD_fetch(NULL, digest, NULL);
    int md_len = md ? EVP_MD_get_size(md) : 0;
    EVP_MD_free(md);
    size_t len = md_len > 0 ? (size_t)md_len : 0;
    if (!ctx || EVP_MAC_CTX_set_params(ctx, params) != 1)
        len = 0;
    if (len == 0 || len > EVP_MAX_MD_SIZE) {
        EVP_MAC_CTX_free(ctx);
        return NULL; /* not kept: an unknown name is the caller's error, not a hot path */
    }
    hmac_slot *s = &c->s[c->n++];
    g_strlcpy(s->digest, digest, sizeof s->digest);
    s->ctx = ctx;
    s->len = len;
    return s;
}

/* Starts an HMAC: keyed with key, or (key NULL) with the key it already has, which skips
 * hashing the padded key again (RFC 2104 §4's precomputed inner and outer states). */
static bool hmac_start(const hmac_slot *h, const uint8_t *key, size_t key_len)
{
    static const uint8_t empty[1];
    if (key && key_len == 0)
        key = empty; /* a zero-length key, not "the same key" */
    return EVP_MAC_init(h->ctx, key, key ? key_len : 0, NULL) == 1;
}

static bool hmac_add(const hmac_slot *h, const uint8_t *p, size_t n)
{
    return n == 0 || EVP_MAC_update(h->ctx, p, n) == 1;
}

static bool hmac_end(const hmac_slot *h, uint8_t out[EVP_MAX_MD_SIZE])
{
    size_t n = 0;
    return EVP_MAC_final(h->ctx, out, &n, EVP_MAX_MD_SIZE) == 1 && n == h->len;
}

/* ---------- TLS 1.0-1.2 PRF ---------- */

/* P_hash(secret, seed) (RFC 5246 §5) into out, or XORed into it (RFC 2246 §5's
 * P_MD5 XOR P_SHA-1): A(0) = seed, A(i) = HMAC(secret, A(i-1)), output HMAC(secret,
 * A(1) + seed) | HMAC(secret, A(2) + seed) | ... */
static bool p_hash(const hmac_slot *h, const uint8_t *secret, size_t secret_len,
                   const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len,
                   bool xor)
{
    uint8_t a[EVP_MAX_MD_SIZE], chunk[EVP_MAX_MD_SIZE];
    bool ok = hmac_start(h, secret, secret_len) && hmac_add(h, seed, seed_len) &&
              hmac_end(h, a);
    for (size_t done = 0; ok && done < out_len;) {
        ok = hmac_start(h, NULL, 0) && hmac_add(h, a, h->len) && hmac_add(h, seed, seed_len) &&
             hmac_end(h, chunk);
        size_t n = out_len - done < h->len ? out_len - done : h->len;
        for (size_t i = 0; ok && i < n; i++)
            out[done + i] = (uint8_t)((xor ? out[done + i] : 0) ^ chunk[i]);
        done += n;
        if (ok && done < out_len)
            ok = hmac_start(h, NULL, 0) && hmac_add(h, a, h->len) && hmac_end(h, a);
    }
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(chunk, sizeof chunk);
    return ok;
}

bool mw_tls_prf(const char *digest, const uint8_t *secret, size_t secret_len,
                const char *label, const uint8_t *seed1, size_t seed1_len,
                const uint8_t *seed2, size_t seed2_len, uint8_t *out, size_t out_len)
{
    /* The PRF seed is label + seed (RFC 5246 §5); one buffer for it. */
    uint8_t seed[MW_TLS_PRF_LABEL_MAX + 2 * 64];
    size_t label_len = strlen(label);
    if (label_len > MW_TLS_PRF_LABEL_MAX || seed1_len > 64 || seed2_len > 64) {
        OPENSSL_cleanse(out, out_len);
        return false;
    }
    memcpy(seed, label, label_len);
    if (seed1_len)
        memcpy(seed + label_len, seed1, seed1_len);
    if (seed2_len)
        memcpy(seed + label_len + seed1_len, seed2, seed2_len);
    size_t seed_len = label_len + seed1_len + seed2_len;
    bool ok;
    if (strcmp(digest, "MD5-SHA1") == 0) {
        /* RFC 2246 §5: the secret's two halves (sharing the middle byte when its length is
         * odd), P_MD5 of the first XOR P_SHA-1 of the second */
        size_t half = (secret_len + 1) / 2;
        const hmac_slot *md5 = hmac_of("MD5"), *sha1 = hmac_of("SHA1");
        ok = md5 && sha1 && p_hash(md5, secret, half, seed, seed_len, out, out_len, false) &&
             p_hash(sha1, secret + secret_len - half, half, seed, seed_len, out, out_len, true);
    } else {
        const hmac_slot *h = hmac_of(digest);
        ok = h && p_hash(h, secret, secret_len, seed, seed_len, out, out_len, false);
    }
    OPENSSL_cleanse(seed, sizeof seed);
    if (!ok)
        OPENSSL_cleanse(out, out_len);
    return ok;
}

/* ---------- HKDF-Expand ---------- */

/* T(1) | T(2) | ... (RFC 5869 §2.3) with h keyed with prk, or (prk NULL) with the key h
 * has from the derivation before. */
static bool expand(const hmac_slot *h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                   size_t info_len, uint8_t *out, size_t out_len)
{
    uint8_t t[EVP_MAX_MD_SIZE];
    bool ok = out_len <= MW_HKDF_BLOCKS_MAX * h->len && info_len <= MW_HKDF_INFO_MAX;
    size_t done = 0;
    for (unsigned i = 1; ok && done < out_len; i++) {
        uint8_t counter = (uint8_t)i;
        ok = hmac_start(h, i == 1 ? prk : NULL, prk_len) && (i == 1 || hmac_add(h, t, h->len)) &&
             hmac_add(h, info, info_len) && hmac_add(h, &counter, 1) && hmac_end(h, t);
        size_t n = out_len - done < h->len ? out_len - done : h->len;
        if (ok)
            memcpy(out + done, t, n);
        done += n;
    }
    OPENSSL_cleanse(t, sizeof t);
    if (!ok)
        OPENSSL_cleanse(out, out_len);
    return ok;
}

bool mw_hkdf_expand(const char *digest, const uint8_t *prk, size_t prk_len,
                    const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    static const uint8_t empty[1];
    const hmac_slot *h = hmac_of(digest);
    if (!h || (!info && info_len)) {
        OPENSSL_cleanse(out, out_len);
        return false;
    }
    return expand(h, prk ? prk : empty, prk ? prk_len : 0, info, info_len, out, out_len);
}

/* HkdfLabel (RFC 8446 §7.1) into info; its length, 0 when label or context is too long. */
static size_t hkdf_label(uint8_t *info, size_t out_len, const char *label,
                         const uint8_t *context, size_t context_len)
{
    static const char prefix[] = "tls13 ";
    size_t label_len = strlen(label);
    if (label_len > MW_TLS13_LABEL_MAX || context_len > MW_TLS13_CONTEXT_MAX ||
        out_len > 0xffff)
        return 0;
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
    return n + context_len;
}

#define HKDF_LABEL_MAX (2 + 1 + 6 + MW_TLS13_LABEL_MAX + 1 + MW_TLS13_CONTEXT_MAX)

bool mw_tls13_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
                           const char *label, const uint8_t *context, size_t context_len,
                           uint8_t *out, size_t out_len)
{
    uint8_t info[HKDF_LABEL_MAX];
    size_t n = hkdf_label(info, out_len, label, context, context_len);
    if (n == 0 || !secret) {
        OPENSSL_cleanse(out, out_len);
        return false;
    }
    return mw_hkdf_expand(digest, secret, secret_len, info, n, out, out_len);
}

bool mw_tls13_key_iv(const char *digest, const uint8_t *secret, size_t secret_len,
                     uint8_t *key, size_t key_len, uint8_t *iv, size_t iv_len)
{
    uint8_t key_info[HKDF_LABEL_MAX], iv_info[HKDF_LABEL_MAX];
    size_t kn = hkdf_label(key_info, key_len, "key", NULL, 0);
    size_t vn = hkdf_label(iv_info, iv_len, "iv", NULL, 0);
    const hmac_slot *h = hmac_of(digest);
    /* one block each: the second reuses the key the first set */
    bool ok = h && secret && key_len <= h->len && iv_len <= h->len &&
              expand(h, secret, secret_len, key_info, kn, key, key_len) &&
              expand(h, NULL, 0, iv_info, vn, iv, iv_len);
    if (!ok) {
        OPENSSL_cleanse(key, key_len);
        OPENSSL_cleanse(iv, iv_len);
    }
    return ok;
}
