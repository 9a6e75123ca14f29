/* TLS PRF and HKDF-Expand(-Label) from HMAC (hmac.c; keyschedule.h says why). */
#include "tls/decrypt/keyschedule.h"

#include "tls/decrypt/hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <glib.h>
#include <pthread.h>
#include <string.h>

/* Distinct ciphers ever fetched: the suite table's. */
#define FETCH_CACHE_MAX 32

typedef struct {
    char name[32];
    EVP_CIPHER *alg; /* NULL: not available (remembered too) */
} fetch_entry;

/* a pthread mutex, not a GMutex: GLib locks on futexes of its own, which ThreadSanitizer
 * cannot see (it reported this cache as a race with --threads 4 and a key log) */
static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;
static fetch_entry fetch_cache[FETCH_CACHE_MAX];
static unsigned fetch_n;

EVP_CIPHER *mw_tls_cipher_fetched(const char *name)
{
    EVP_CIPHER *alg = NULL;
    bool found = false;
    pthread_mutex_lock(&fetch_lock);
    for (unsigned i = 0; i < fetch_n && !found; i++) {
        if (strcmp(fetch_cache[i].name, name) == 0) {
            alg = fetch_cache[i].alg;
            found = true;
        }
    }
    if (!found && strlen(name) < sizeof fetch_cache[0].name) {
        alg = EVP_CIPHER_fetch(NULL, name, NULL);
        if (fetch_n < FETCH_CACHE_MAX) {
            fetch_entry *e = &fetch_cache[fetch_n++];
            g_strlcpy(e->name, name, sizeof e->name);
            e->alg = alg;
        } else {
            g_warning("tls decrypt: cipher cache full"); /* cannot happen: the table is fixed */
        }
    }
    pthread_mutex_unlock(&fetch_lock);
    return alg;
}

/* ---------- HMAC ---------- */

/* k keyed with key under the named digest (hmac.c: the pads hashed once, each block of a
 * derivation starts from a copy); false when the name is none of core/digest.h's. */
static bool hmac_key(mw_hmac_key *k, const char *digest, const uint8_t *key, size_t key_len)
{
    mw_md md;
    if (!mw_md_by_name(digest, &md))
        return false;
    mw_hmac_key_set(k, md, key, key_len);
    return true;
}

/* ---------- TLS 1.0-1.2 PRF ---------- */

/* P_hash(secret, seed) (RFC 5246 §5) with k keyed with the secret, into out, or XORed into
 * it (RFC 2246 §5's P_MD5 XOR P_SHA-1): A(0) = seed, A(i) = HMAC(secret, A(i-1)), output
 * HMAC(secret, A(1) + seed) | HMAC(secret, A(2) + seed) | ... */
static void p_hash(const mw_hmac_key *k, const uint8_t *seed, size_t seed_len, uint8_t *out,
                   size_t out_len, bool xor)
{
    uint8_t a[MW_DIGEST_MAX], chunk[MW_DIGEST_MAX];
    mw_hash m;
    mw_hmac(k, seed, seed_len, a);
    for (size_t done = 0; done < out_len;) {
        mw_hmac_start(k, &m);
        mw_hash_update(&m, a, k->len);
        mw_hash_update(&m, seed, seed_len);
        mw_hmac_end(k, &m, chunk);
        size_t n = out_len - done < k->len ? out_len - done : k->len;
        for (size_t i = 0; i < n; i++)
            out[done + i] = (uint8_t)((xor ? out[done + i] : 0) ^ chunk[i]);
        done += n;
        if (done < out_len)
            mw_hmac(k, a, k->len, a);
    }
    mw_hash_wipe(&m);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(chunk, sizeof chunk);
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
    mw_hmac_key k;
    bool ok;
    if (strcmp(digest, "MD5-SHA1") == 0) {
        /* RFC 2246 §5: the secret's two halves (sharing the middle byte when its length is
         * odd), P_MD5 of the first XOR P_SHA-1 of the second */
        size_t half = (secret_len + 1) / 2;
        mw_hmac_key_set(&k, MW_MD5, secret, half);
        p_hash(&k, seed, seed_len, out, out_len, false);
        mw_hmac_key_set(&k, MW_SHA1, secret + secret_len - half, half);
        p_hash(&k, seed, seed_len, out, out_len, true);
        ok = true;
    } else {
        ok = hmac_key(&k, digest, secret, secret_len);
        if (ok)
            p_hash(&k, seed, seed_len, out, out_len, false);
    }
    mw_hmac_wipe(&k);
    OPENSSL_cleanse(seed, sizeof seed);
    if (!ok)
        OPENSSL_cleanse(out, out_len);
    return ok;
}

/* ---------- HKDF-Expand ---------- */

/* T(1) | T(2) | ... (RFC 5869 §2.3) with k keyed with the PRK. */
static bool expand(const mw_hmac_key *k, const uint8_t *info, size_t info_len, uint8_t *out,
                   size_t out_len)
{
    uint8_t t[MW_DIGEST_MAX];
    if (out_len > MW_HKDF_BLOCKS_MAX * k->len || info_len > MW_HKDF_INFO_MAX) {
        OPENSSL_cleanse(out, out_len);
        return false;
    }
    size_t done = 0;
    mw_hash m;
    for (unsigned i = 1; done < out_len; i++) {
        uint8_t counter = (uint8_t)i;
        mw_hmac_start(k, &m);
        if (i > 1)
            mw_hash_update(&m, t, k->len);
        mw_hash_update(&m, info, info_len);
        mw_hash_update(&m, &counter, 1);
        mw_hmac_end(k, &m, t);
        size_t n = out_len - done < k->len ? out_len - done : k->len;
        memcpy(out + done, t, n);
        done += n;
    }
    if (out_len)
        mw_hash_wipe(&m);
    OPENSSL_cleanse(t, sizeof t);
    return true;
}

bool mw_hkdf_expand(const char *digest, const uint8_t *prk, size_t prk_len,
                    const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    mw_hmac_key k;
    if ((!info && info_len) || !hmac_key(&k, digest, prk, prk ? prk_len : 0)) {
        OPENSSL_cleanse(out, out_len);
        return false;
    }
    bool ok = expand(&k, info, info_len, out, out_len);
    mw_hmac_wipe(&k);
    return ok;
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
    mw_hmac_key k;
    /* one block each, from one key */
    bool ok = secret && hmac_key(&k, digest, secret, secret_len);
    ok = ok && key_len <= k.len && iv_len <= k.len && expand(&k, key_info, kn, key, key_len) &&
         expand(&k, iv_info, vn, iv, iv_len);
    mw_hmac_wipe(&k);
    if (!ok) {
        OPENSSL_cleanse(key, key_len);
        OPENSSL_cleanse(iv, iv_len);
    }
    return ok;
}
