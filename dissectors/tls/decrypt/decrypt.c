/* TLS record decryption: per-direction read state and the record formats of TLS 1.0-1.3.
 * Every primitive is OpenSSL EVP; the cipher and HMAC contexts are made when a direction
 * is keyed and reused for every record (a new nonce / IV per record, no allocation). */
#include "tls/decrypt/decrypt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <limits.h>
#include <string.h>

#include "tls/decrypt/ctx_pool.h"
#include "tls/decrypt/hmac.h"
#include "tls/decrypt/keyschedule.h"

/* Largest key, IV, MAC key and block of the suites in the table. */
#define KEY_MAX 32
#define IV_MAX 16
#define MAC_KEY_MAX 48
#define MAC_MAX EVP_MAX_MD_SIZE
#define BLOCK_MAX 16
#define AEAD_NONCE_LEN 12
/* seq_num(8) + type(1) + version(2) + length(2): the TLS <= 1.2 MAC and AEAD header. */
#define SEQ_HEADER_LEN 13
/* The padding_length byte can say at most this much padding (RFC 5246 §6.2.3.2). */
#define CBC_PAD_MAX 255

typedef struct {
    bool keyed;
    const mw_tls_suite *suite;
    uint16_t version;
    bool etm;
    uint64_t seq;
    uint8_t key[KEY_MAX];
    uint8_t iv[IV_MAX]; /* AEAD salt / 1.3 IV; TLS 1.0 CBC: the first IV (the context chains) */
    uint8_t secret[MW_TLS13_SECRET_MAX];
    size_t secret_len;
    EVP_CIPHER_CTX *cipher;
    mw_hmac_key *mac; /* CBC: the record MAC's key (hmac.h), kept with the cipher context */
} dir_state;

/* The TLS <= 1.2 key block serves both directions: made at the first direction's init12,
 * kept (with what it was made from) for the other's, then wiped and freed once both have
 * taken their keys (a later init12 with the same inputs makes it again). Allocated apart:
 * a TLS 1.3 decoder never has one, a TLS 1.2 one only between the two ChangeCipherSpecs,
 * and thousands of sessions may be open at once. */
#define KEY_BLOCK_MAX (2 * (MAC_KEY_MAX + KEY_MAX + IV_MAX))
typedef struct {
    bool valid;
    uint16_t version, suite;
    uint8_t from[2 * MW_TLS_RANDOM_LEN + MW_TLS_MASTER_LEN];
    uint8_t block[KEY_BLOCK_MAX];
    size_t len;
    unsigned taken; /* bit per mw_tls_dir: that direction has its keys from it */
} key_block;

static bool fix_iv(dir_state *st);

struct mw_tls_decoder {
    dir_state dir[2];
    key_block *kb; /* NULL: none held */
};

/* ---------- direction state ---------- */

/* Keeps st's contexts for a later session of its suite (ctx_pool.h). */
static void ctx_pool_put(dir_state *st)
{
    if (st->cipher || st->mac)
        mw_tls_ctx_pool_put(st->suite, st->cipher, st->mac);
    st->cipher = NULL;
    st->mac = NULL;
}

static void dir_clear(dir_state *st)
{
    ctx_pool_put(st);
    OPENSSL_cleanse(st, sizeof *st);
}

mw_tls_decoder *mw_tls_decoder_new(void)
{
    return OPENSSL_zalloc(sizeof(mw_tls_decoder));
}

void mw_tls_decoder_free(mw_tls_decoder *d)
{
    if (!d)
        return;
    dir_clear(&d->dir[0]);
    dir_clear(&d->dir[1]);
    OPENSSL_clear_free(d->kb, sizeof *d->kb);
    OPENSSL_clear_free(d, sizeof *d);
}

bool mw_tls_decoder_keyed(const mw_tls_decoder *d, mw_tls_dir dir)
{
    return d && (unsigned)dir < 2 && d->dir[dir].keyed;
}

/* Makes st's cipher context for suite with key (and HMAC with mac_key for CBC; cbc_iv: TLS
 * 1.0's first IV, cbc_decrypt chains from it). A context already made for the same suite
 * is only re-keyed. */
static bool dir_key(dir_state *st, const mw_tls_suite *suite, const uint8_t *key,
                    const uint8_t *mac_key, const uint8_t *cbc_iv)
{
    if (st->cipher && st->suite != suite)
        ctx_pool_put(st); /* another suite (renegotiation): kept for a session of it */
    if (!st->cipher && mw_tls_ctx_pool_take(suite, &st->cipher, &st->mac))
        st->suite = suite;
    if (st->cipher) {
        if (EVP_DecryptInit_ex2(st->cipher, NULL, key, cbc_iv, NULL) != 1)
            return false;
    } else {
        st->cipher = EVP_CIPHER_CTX_new();
        EVP_CIPHER *c = mw_tls_cipher_fetched(suite->cipher);
        bool ok = st->cipher && c && EVP_DecryptInit_ex2(st->cipher, c, NULL, NULL, NULL) == 1;
        if (ok && suite->kind == MW_TLS_KIND_AEAD) {
            ok = EVP_CIPHER_CTX_ctrl(st->cipher, EVP_CTRL_AEAD_SET_IVLEN, AEAD_NONCE_LEN,
                                     NULL) == 1;
            /* CCM fixes the tag length before the key (RFC 6655 §3: 16 or 8). */
            if (ok && suite->mode == MW_TLS_MODE_CCM)
                ok = EVP_CIPHER_CTX_ctrl(st->cipher, EVP_CTRL_AEAD_SET_TAG, suite->tag_len,
                                         NULL) == 1;
        }
        if (ok)
            ok = EVP_DecryptInit_ex2(st->cipher, NULL, key, cbc_iv, NULL) == 1;
        if (ok && suite->kind == MW_TLS_KIND_CBC)
            ok = EVP_CIPHER_CTX_set_padding(st->cipher, 0) == 1;
        if (!ok) {
            EVP_CIPHER_CTX_free(st->cipher);
            st->cipher = NULL;
            return false;
        }
        st->suite = suite; /* the pool files the context under it */
    }
    if (suite->kind == MW_TLS_KIND_CBC) {
        /* RFC 5246 §6.2.3.1: HMAC with the suite's hash, keyed once per key (hmac.h) */
        mw_md md;
        if (!mw_md_by_name(suite->mac_hash, &md) || mw_md_size(md) != suite->mac_len)
            return false;
        if (!st->mac && !(st->mac = OPENSSL_malloc(sizeof *st->mac)))
            return false;
        mw_hmac_key_set(st->mac, md, mac_key, suite->mac_len);
    }
    st->suite = suite;
    return true;
}

/* Wipes the keys of st but keeps its contexts for a re-key. */
static void dir_forget(dir_state *st)
{
    st->keyed = false;
    st->seq = 0;
    OPENSSL_cleanse(st->key, sizeof st->key);
    OPENSSL_cleanse(st->iv, sizeof st->iv);
    OPENSSL_cleanse(st->secret, sizeof st->secret);
    st->secret_len = 0;
}

static bool version_fits(const mw_tls_suite *s, uint16_t version)
{
    if (version < MW_TLS_VERSION_TLS10 || version > MW_TLS_VERSION_TLS12)
        return false; /* SSL 3.0 has its own key derivation and MAC; 1.3 uses init13 */
    return !s->tls13 && (!s->tls12_only || version == MW_TLS_VERSION_TLS12);
}

/* The key block for these inputs: the one kept when they are the same, else made now
 * with the suite's PRF (RFC 5246 §6.3; TLS 1.0/1.1: MD5-SHA1). NULL when OpenSSL refuses. */
static const uint8_t *key_block_of(mw_tls_decoder *d, uint16_t version, const mw_tls_suite *s,
                                   const uint8_t *cr, const uint8_t *sr, const uint8_t *master,
                                   size_t len)
{
    if (!d->kb && !(d->kb = OPENSSL_zalloc(sizeof *d->kb)))
        return NULL;
    key_block *kb = d->kb;
    uint8_t from[sizeof kb->from];
    memcpy(from, cr, MW_TLS_RANDOM_LEN);
    memcpy(from + MW_TLS_RANDOM_LEN, sr, MW_TLS_RANDOM_LEN);
    memcpy(from + 2 * MW_TLS_RANDOM_LEN, master, MW_TLS_MASTER_LEN);
    bool same = kb->valid && kb->version == version && kb->suite == s->id && kb->len == len &&
                CRYPTO_memcmp(kb->from, from, sizeof from) == 0;
    if (!same) {
        const char *prf = version == MW_TLS_VERSION_TLS12 ? s->prf_hash : "MD5-SHA1";
        OPENSSL_cleanse(kb, sizeof *kb);
        if (len > sizeof kb->block ||
            !mw_tls_prf(prf, master, MW_TLS_MASTER_LEN, "key expansion", sr, MW_TLS_RANDOM_LEN,
                        cr, MW_TLS_RANDOM_LEN, kb->block, len)) {
            OPENSSL_cleanse(from, sizeof from);
            return NULL;
        }
        memcpy(kb->from, from, sizeof from);
        kb->version = version;
        kb->suite = s->id;
        kb->len = len;
        kb->valid = true;
    }
    OPENSSL_cleanse(from, sizeof from);
    return kb->block;
}

mw_tls_dec_status mw_tls_decoder_init12(mw_tls_decoder *d, mw_tls_dir dir, uint16_t version,
                                        uint16_t suite_id,
                                        const uint8_t client_random[MW_TLS_RANDOM_LEN],
                                        const uint8_t server_random[MW_TLS_RANDOM_LEN],
                                        const uint8_t *master, size_t master_len,
                                        bool encrypt_then_mac)
{
    if (!d || (unsigned)dir > 1 || !client_random || !server_random || !master ||
        master_len != MW_TLS_MASTER_LEN)
        return MW_TLS_DEC_BAD_INPUT;
    dir_state *st = &d->dir[dir];
    dir_forget(st);
    const mw_tls_suite *s = mw_tls_suite_find(suite_id);
    if (!s || s->kind == MW_TLS_KIND_UNSUPPORTED || !version_fits(s, version))
        return MW_TLS_DEC_UNSUPPORTED;

    /* key_block = client MAC key, server MAC key, client key, server key, client IV,
     * server IV (RFC 5246 §6.3). The CBC IVs are used by TLS 1.0 only (§6.2.3.2 of
     * RFC 2246: the first record's IV; later ones chain). */
    size_t mac_len = s->kind == MW_TLS_KIND_CBC ? s->mac_len : 0;
    /* TLS 1.1+ CBC carries each record's IV (open12_cbc): the key block's IVs, its last
     * bytes, are not derived (a shorter PRF output is the same prefix, fewer HMACs) */
    bool record_iv = s->kind == MW_TLS_KIND_CBC && version >= MW_TLS_VERSION_TLS11;
    size_t iv_len = record_iv ? 0 : s->fixed_iv_len;
    const uint8_t *block = key_block_of(d, version, s, client_random, server_random, master,
                                        2 * (mac_len + s->key_len + iv_len));
    if (!block)
        return MW_TLS_DEC_UNSUPPORTED;
    size_t side = dir == MW_TLS_FROM_CLIENT ? 0 : 1;
    const uint8_t *mac_key = block + side * mac_len;
    const uint8_t *key = block + 2 * mac_len + side * s->key_len;
    const uint8_t *iv = block + 2 * mac_len + 2 * s->key_len + side * iv_len;
    memcpy(st->key, key, s->key_len);
    memcpy(st->iv, iv, iv_len);
    const uint8_t *cbc_iv = s->kind == MW_TLS_KIND_CBC && !record_iv ? st->iv : NULL;
    bool ok = dir_key(st, s, st->key, mac_key, cbc_iv) && fix_iv(st);
    if (!ok) {
        dir_forget(st);
        return MW_TLS_DEC_UNSUPPORTED;
    }
    d->kb->taken |= 1u << dir;
    if (d->kb->taken == 3) { /* both directions keyed: the block is not needed again */
        OPENSSL_clear_free(d->kb, sizeof *d->kb);
        d->kb = NULL;
    }
    st->version = version;
    st->etm = encrypt_then_mac && s->kind == MW_TLS_KIND_CBC;
    st->keyed = true;
    return MW_TLS_DEC_OK;
}

/* key and iv of a TLS 1.3 traffic secret (RFC 8446 §7.3) into st, and re-key. */
static mw_tls_dec_status dir_key13(dir_state *st, const mw_tls_suite *s)
{
    if (!mw_tls13_key_iv(s->prf_hash, st->secret, st->secret_len, st->key, s->key_len, st->iv,
                         s->fixed_iv_len) ||
        !dir_key(st, s, st->key, NULL, NULL) || !fix_iv(st)) {
        dir_forget(st);
        return MW_TLS_DEC_UNSUPPORTED;
    }
    st->version = MW_TLS_VERSION_TLS13;
    st->etm = false;
    st->seq = 0;
    st->keyed = true;
    return MW_TLS_DEC_OK;
}

mw_tls_dec_status mw_tls_decoder_init13(mw_tls_decoder *d, mw_tls_dir dir, uint16_t suite_id,
                                        const uint8_t *secret, size_t secret_len)
{
    if (!d || (unsigned)dir > 1 || !secret)
        return MW_TLS_DEC_BAD_INPUT;
    dir_state *st = &d->dir[dir];
    dir_forget(st);
    const mw_tls_suite *s = mw_tls_suite_find(suite_id);
    if (!s || !s->tls13)
        return MW_TLS_DEC_UNSUPPORTED;
    if (secret_len != mw_tls_hash_len(s->prf_hash) || secret_len > sizeof st->secret)
        return MW_TLS_DEC_BAD_INPUT;
    memcpy(st->secret, secret, secret_len);
    st->secret_len = secret_len;
    return dir_key13(st, s);
}

mw_tls_dec_status mw_tls_decoder_key_update(mw_tls_decoder *d, mw_tls_dir dir)
{
    if (!d || (unsigned)dir > 1)
        return MW_TLS_DEC_BAD_INPUT;
    dir_state *st = &d->dir[dir];
    if (!st->keyed || st->version != MW_TLS_VERSION_TLS13)
        return MW_TLS_DEC_NO_KEYS;
    uint8_t next[MW_TLS13_SECRET_MAX];
    bool ok = mw_tls13_expand_label(st->suite->prf_hash, st->secret, st->secret_len,
                                    "traffic upd", NULL, 0, next, st->secret_len);
    memcpy(st->secret, next, st->secret_len);
    OPENSSL_cleanse(next, sizeof next);
    if (!ok) {
        dir_forget(st);
        return MW_TLS_DEC_UNSUPPORTED;
    }
    return dir_key13(st, st->suite);
}

void mw_tls_decoder_forget(mw_tls_decoder *d, mw_tls_dir dir)
{
    if (d && (unsigned)dir < 2)
        dir_forget(&d->dir[dir]);
}

mw_tls_dec_status mw_tls_decoder_skip_record(mw_tls_decoder *d, mw_tls_dir dir)
{
    if (!d || (unsigned)dir > 1)
        return MW_TLS_DEC_BAD_INPUT;
    dir_state *st = &d->dir[dir];
    if (!st->keyed)
        return MW_TLS_DEC_NO_KEYS;
    /* TLS 1.0 CBC chains its IV through the lost record's last block: stop */
    if (st->version == MW_TLS_VERSION_TLS10 && st->suite->kind == MW_TLS_KIND_CBC) {
        dir_forget(st);
        return MW_TLS_DEC_NO_KEYS;
    }
    st->seq++;
    return MW_TLS_DEC_OK;
}

/* ---------- record primitives ---------- */

static void put_seq_header(uint8_t h[SEQ_HEADER_LEN], uint64_t seq, uint8_t type,
                           uint16_t version, size_t len)
{
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)(seq >> (56 - 8 * i));
    h[8] = type;
    h[9] = (uint8_t)(version >> 8);
    h[10] = (uint8_t)version;
    h[11] = (uint8_t)(len >> 8);
    h[12] = (uint8_t)len;
}

/* iv XOR the sequence number left-padded to the IV length (RFC 8446 §5.3, RFC 7905 §2). */
static void xor_nonce(uint8_t nonce[AEAD_NONCE_LEN], const uint8_t iv[AEAD_NONCE_LEN],
                      uint64_t seq)
{
    memcpy(nonce, iv, AEAD_NONCE_LEN);
    for (int i = 0; i < 8; i++)
        nonce[AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(seq >> (8 * i));
}

/* GCM: the nonce's first 4 bytes are the same for every record of a key (TLS 1.2: the
 * salt; TLS 1.3: the IV's, the sequence number reaching only the last 8), so they are set
 * once per key as the "fixed" field and each record sets only the other 8 with its tag, in
 * one parameter call: a whole new IV through EVP_DecryptInit_ex2 costs far more per record
 * (OpenSSL 3 asks the provider for the IV length each time). */
#define GCM_FIXED_LEN 4

/* ChaCha20-Poly1305: the TLS "fixed" IV parameter is the whole 12-byte nonce, and setting
 * it sets the cipher's nonce directly, without a re-init (EVP_DecryptInit_ex2 asks the
 * provider for the IV length and re-derives the state each time). TLS 1.2 sets the key's
 * IV once; each record then passes only its 13-byte header in OpenSSL's TLS AEAD mode,
 * which XORs the header's sequence number into the nonce (RFC 7905 §2), and one update
 * over the whole fragment decrypts and checks the tag at its end (as libssl does). TLS
 * 1.3 (a 5-byte AAD, which that mode does not take) sets each record's nonce that way,
 * with its tag, in one parameter call. */
static bool chacha_set_nonce(EVP_CIPHER_CTX *c, const uint8_t nonce[AEAD_NONCE_LEN],
                             const uint8_t *tag, size_t tag_len)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, (void *)nonce,
                                          AEAD_NONCE_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag, tag_len),
        OSSL_PARAM_construct_end(),
    };
    if (!tag)
        params[1] = OSSL_PARAM_construct_end();
    return EVP_CIPHER_CTX_set_params(c, params) == 1;
}

static bool fix_iv(dir_state *st)
{
    if (st->suite->mode == MW_TLS_MODE_GCM)
        return EVP_CIPHER_CTX_ctrl(st->cipher, EVP_CTRL_GCM_SET_IV_FIXED, GCM_FIXED_LEN,
                                   st->iv) == 1;
    if (st->suite->mode == MW_TLS_MODE_CHACHA && !st->suite->tls13)
        return chacha_set_nonce(st->cipher, st->iv, NULL, 0);
    return true;
}

/* TLS 1.2 AES-GCM and ChaCha20-Poly1305 in OpenSSL's TLS AEAD mode (as libssl decrypts):
 * the 13-byte header aad (seq_num, type, version and the fragment's length: the mode takes
 * the explicit nonce and the tag off it) is the only parameter; one call then decrypts the
 * fragment and checks its tag. GCM takes its explicit nonce from the fragment after the
 * fixed salt (fix_iv) and works only in place (out == in): OpenSSL's mode refuses an output
 * elsewhere; ChaCha20 (no explicit nonce, RFC 7905 §2) may write elsewhere. */
static bool tls_aead_open(dir_state *st, const uint8_t aad[SEQ_HEADER_LEN], const uint8_t *in,
                          size_t len, uint8_t *out)
{
    int n = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD, (void *)aad,
                                          SEQ_HEADER_LEN),
        OSSL_PARAM_construct_end(),
    };
    return EVP_CIPHER_CTX_set_params(st->cipher, params) == 1 &&
           EVP_DecryptUpdate(st->cipher, out, &n, in, (int)len) == 1 &&
           (size_t)n == len - st->suite->record_iv_len - st->suite->tag_len;
}

static bool gcm_open(dir_state *st, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
                     size_t aad_len, const uint8_t *ct, size_t ct_len, const uint8_t *tag,
                     uint8_t *out)
{
    EVP_CIPHER_CTX *c = st->cipher;
    int n = 0, m = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag,
                                          st->suite->tag_len),
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_SET_IV_INV,
                                          (void *)(nonce + GCM_FIXED_LEN),
                                          AEAD_NONCE_LEN - GCM_FIXED_LEN),
        OSSL_PARAM_construct_end(),
    };
    if (memcmp(nonce, st->iv, GCM_FIXED_LEN) != 0 || EVP_CIPHER_CTX_set_params(c, params) != 1 ||
        EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len) != 1)
        return false;
    n = 0;
    if (ct_len && EVP_DecryptUpdate(c, out, &n, ct, (int)ct_len) != 1)
        return false;
    return EVP_DecryptFinal_ex(c, out + n, &m) == 1;
}

static bool aead_open(dir_state *st, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
                      size_t aad_len, const uint8_t *ct, size_t ct_len, const uint8_t *tag,
                      uint8_t *out)
{
    EVP_CIPHER_CTX *c = st->cipher;
    int tag_len = st->suite->tag_len, n = 0, m = 0;
    if (st->suite->mode == MW_TLS_MODE_GCM)
        return gcm_open(st, nonce, aad, aad_len, ct, ct_len, tag, out);
    if (st->suite->mode == MW_TLS_MODE_CCM) {
        /* CCM: tag first, then the message length, then AAD, then the whole text in one
         * update, which checks the tag; there is no final step. */
        return EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, tag_len, (void *)tag) == 1 &&
               EVP_DecryptInit_ex2(c, NULL, NULL, nonce, NULL) == 1 &&
               EVP_DecryptUpdate(c, NULL, &n, NULL, (int)ct_len) == 1 &&
               EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len) == 1 &&
               EVP_DecryptUpdate(c, out, &n, ct, (int)ct_len) == 1;
    }
    /* ChaCha20-Poly1305 (TLS 1.3; 1.2 goes through tls_aead_open) */
    if (!chacha_set_nonce(c, nonce, tag, (size_t)tag_len) ||
        EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len) != 1)
        return false;
    n = 0;
    if (ct_len && EVP_DecryptUpdate(c, out, &n, ct, (int)ct_len) != 1)
        return false;
    return EVP_DecryptFinal_ex(c, out + n, &m) == 1;
}

/* CBC with no IV set per record (EVP_DecryptInit_ex2 re-inits the provider, ~10x an update
 * of one block): the context chains, its state after a record is that record's last
 * ciphertext block. TLS 1.0 wants exactly that (RFC 2246 §6.2.3.2; the first record's IV
 * is set with the key). TLS 1.1+'s record IV is decrypted first as a throwaway block: what
 * comes out is garbage (wiped), the state after it is the IV, so the rest decrypts as with
 * that IV. Padding is off and len a multiple of the block: nothing is held back, no final. */
static bool cbc_decrypt(dir_state *st, const uint8_t *iv_block, const uint8_t *ct, size_t len,
                        uint8_t *out)
{
    int n = 0, m = 0;
    bool ok = true;
    if (iv_block) {
        uint8_t junk[BLOCK_MAX];
        size_t bl = st->suite->block_len;
        ok = EVP_DecryptUpdate(st->cipher, junk, &m, iv_block, (int)bl) == 1 && (size_t)m == bl;
        OPENSSL_cleanse(junk, sizeof junk);
    }
    return ok && EVP_DecryptUpdate(st->cipher, out, &n, ct, (int)len) == 1 && (size_t)n == len;
}

/* HMAC(mac_key, seq + type + version + length + data) (RFC 5246 §6.2.3.1). The message
 * state is not wiped: it holds the MAC and the inner hash, nothing of the key. */
static void record_mac(dir_state *st, uint8_t type, uint16_t version, const uint8_t *data,
                       size_t len, uint8_t mac[MAC_MAX])
{
    uint8_t h[SEQ_HEADER_LEN];
    put_seq_header(h, st->seq, type, version, len);
    mw_hash m;
    mw_hmac_start(st->mac, &m);
    mw_hash_update(&m, h, sizeof h);
    mw_hash_update(&m, data, len);
    mw_hmac_end(st->mac, &m, mac);
}

/* Length of the TLS CBC padding at the end of pt (padding_length + 1 bytes, each equal to
 * padding_length), or -1. Reads the same bytes whatever the padding says ("constant-ish":
 * RFC 5246 §6.2.3.2's advice against a padding timing oracle). */
static long cbc_padding(const uint8_t *pt, size_t len, size_t min_left)
{
    unsigned pad = pt[len - 1];
    unsigned bad = (size_t)pad + 1 + min_left > len;
    size_t scan = len < CBC_PAD_MAX + 1 ? len : CBC_PAD_MAX + 1;
    for (size_t i = 0; i < scan; i++) {
        unsigned in_pad = i <= pad;
        bad |= in_pad & (pt[len - 1 - i] != pad);
    }
    return bad ? -1 : (long)pad + 1;
}

/* ---------- record formats ---------- */

static mw_tls_dec_status open13(dir_state *st, uint8_t type, uint16_t wire_version,
                                const uint8_t *frag, size_t len, uint8_t *out, size_t out_cap,
                                size_t *out_len, uint8_t *inner_type)
{
    size_t tag_len = st->suite->tag_len;
    if (len > MW_TLS13_MAX_CIPHERTEXT)
        return MW_TLS_DEC_TOO_LONG;
    if (len < tag_len + 1)
        return MW_TLS_DEC_AUTH_FAILED; /* room for the tag and the content type */
    size_t ct_len = len - tag_len;
    if (out_cap < ct_len)
        return MW_TLS_DEC_TOO_LONG;
    /* AAD = the record header (RFC 8446 §5.2). */
    uint8_t aad[5] = { type, (uint8_t)(wire_version >> 8), (uint8_t)wire_version,
                       (uint8_t)(len >> 8), (uint8_t)len };
    uint8_t nonce[AEAD_NONCE_LEN];
    xor_nonce(nonce, st->iv, st->seq);
    if (!aead_open(st, nonce, aad, sizeof aad, frag, ct_len, frag + ct_len, out))
        return MW_TLS_DEC_AUTH_FAILED;
    st->seq++;
    /* TLSInnerPlaintext: content, type, zeros (RFC 8446 §5.4). */
    size_t i = ct_len;
    while (i > 0 && out[i - 1] == 0)
        i--;
    if (i == 0)
        return MW_TLS_DEC_MALFORMED;
    *inner_type = out[i - 1];
    *out_len = i - 1;
    return MW_TLS_DEC_OK;
}

static mw_tls_dec_status open12_aead(dir_state *st, uint8_t type, uint16_t wire_version,
                                     const uint8_t *frag, size_t len, uint8_t *out,
                                     size_t out_cap, size_t *out_len)
{
    const mw_tls_suite *s = st->suite;
    size_t explicit_len = s->record_iv_len, tag_len = s->tag_len;
    if (len < explicit_len + tag_len)
        return MW_TLS_DEC_AUTH_FAILED;
    size_t pt_len = len - explicit_len - tag_len;
    if (out_cap < pt_len)
        return MW_TLS_DEC_TOO_LONG;
    uint8_t aad[SEQ_HEADER_LEN];
    bool chacha = s->mode == MW_TLS_MODE_CHACHA;
    if (chacha || (s->mode == MW_TLS_MODE_GCM && out == frag + explicit_len)) {
        put_seq_header(aad, st->seq, type, wire_version, len); /* the mode's own AAD */
        /* GCM in place: the mode reads the fragment where its plaintext goes */
        uint8_t *dst = chacha ? out : out - explicit_len;
        if (!tls_aead_open(st, aad, chacha ? frag : dst, len, dst))
            return MW_TLS_DEC_AUTH_FAILED;
        st->seq++;
        *out_len = pt_len;
        return MW_TLS_DEC_OK;
    }
    /* salt(4) + explicit nonce(8) (RFC 5288 §3, RFC 6655 §3) */
    uint8_t nonce[AEAD_NONCE_LEN];
    memcpy(nonce, st->iv, s->fixed_iv_len);
    memcpy(nonce + s->fixed_iv_len, frag, explicit_len);
    /* AAD = seq_num + type + version + length of the plaintext (RFC 5246 §6.2.3.3). */
    put_seq_header(aad, st->seq, type, wire_version, pt_len);
    if (!aead_open(st, nonce, aad, sizeof aad, frag + explicit_len, pt_len,
                   frag + explicit_len + pt_len, out))
        return MW_TLS_DEC_AUTH_FAILED;
    st->seq++;
    *out_len = pt_len;
    return MW_TLS_DEC_OK;
}

/* CBC: TLS 1.1+ carries a per-record IV (RFC 4346 §6.2.3.2); TLS 1.0 chains the last
 * ciphertext block of the previous record (RFC 2246 §6.2.3.2). MAC-then-encrypt unless
 * encrypt_then_mac was negotiated (RFC 7366 §3: the MAC is over IV + ciphertext). */
static mw_tls_dec_status open12_cbc(dir_state *st, uint8_t type, uint16_t wire_version,
                                    const uint8_t *frag, size_t len, uint8_t *out,
                                    size_t out_cap, size_t *out_len)
{
    const mw_tls_suite *s = st->suite;
    size_t bl = s->block_len, mac_len = s->mac_len;
    size_t iv_len = st->version >= MW_TLS_VERSION_TLS11 ? bl : 0;
    size_t enc_len = len - (st->etm ? mac_len : 0); /* IV + ciphertext */
    if (len < iv_len + (st->etm ? mac_len : 0) + bl || (enc_len - iv_len) % bl != 0)
        return MW_TLS_DEC_AUTH_FAILED;
    size_t ct_len = enc_len - iv_len;
    if (!st->etm && ct_len < mac_len + 1)
        return MW_TLS_DEC_AUTH_FAILED;
    if (out_cap < ct_len)
        return MW_TLS_DEC_TOO_LONG;
    uint8_t mac[MAC_MAX];
    if (st->etm) {
        record_mac(st, type, wire_version, frag, enc_len, mac);
        if (CRYPTO_memcmp(mac, frag + enc_len, mac_len) != 0)
            return MW_TLS_DEC_AUTH_FAILED;
    }
    if (!cbc_decrypt(st, iv_len ? frag : NULL, frag + iv_len, ct_len, out))
        return MW_TLS_DEC_AUTH_FAILED;
    long pad = cbc_padding(out, ct_len, st->etm ? 0 : mac_len);
    size_t content_len;
    if (st->etm) {
        if (pad < 0)
            return MW_TLS_DEC_AUTH_FAILED;
        content_len = ct_len - (size_t)pad;
    } else {
        /* On bad padding still compute a MAC (over as if there were none) and fail. */
        content_len = ct_len - mac_len - (pad < 0 ? 1 : (size_t)pad);
        record_mac(st, type, wire_version, out, content_len, mac);
        bool ok = CRYPTO_memcmp(mac, out + content_len, mac_len) == 0;
        if (!ok || pad < 0)
            return MW_TLS_DEC_AUTH_FAILED;
    }
    st->seq++;
    *out_len = content_len;
    return MW_TLS_DEC_OK;
}

mw_tls_dec_status mw_tls_decrypt_record(mw_tls_decoder *d, mw_tls_dir dir, uint8_t type,
                                        uint16_t wire_version, const uint8_t *frag, size_t len,
                                        uint8_t *out, size_t out_cap, size_t *out_len,
                                        uint8_t *inner_type)
{
    if (!d || (unsigned)dir > 1 || (!frag && len) || !out || !out_len || !inner_type)
        return MW_TLS_DEC_BAD_INPUT;
    dir_state *st = &d->dir[dir];
    if (!st->keyed)
        return MW_TLS_DEC_NO_KEYS;
    if (len > MW_TLS_MAX_CIPHERTEXT || len > (size_t)INT_MAX)
        return MW_TLS_DEC_TOO_LONG;
    mw_tls_dec_status r;
    if (st->version == MW_TLS_VERSION_TLS13) {
        r = open13(st, type, wire_version, frag, len, out, out_cap, out_len, inner_type);
    } else {
        *inner_type = type;
        r = st->suite->kind == MW_TLS_KIND_AEAD
                ? open12_aead(st, type, wire_version, frag, len, out, out_cap, out_len)
                : open12_cbc(st, type, wire_version, frag, len, out, out_cap, out_len);
    }
    if (r == MW_TLS_DEC_AUTH_FAILED || r == MW_TLS_DEC_MALFORMED) {
        OPENSSL_cleanse(out, len < out_cap ? len : out_cap); /* nothing unauthenticated */
        dir_forget(st);
    }
    return r;
}

mw_tls_dec_status mw_tls_decrypt_record_in_place(mw_tls_decoder *d, mw_tls_dir dir, uint8_t type,
                                                 uint16_t wire_version, uint8_t *frag,
                                                 size_t len, size_t *pt_off, size_t *pt_len,
                                                 uint8_t *inner_type)
{
    if (!d || (unsigned)dir > 1 || !frag || !pt_off)
        return MW_TLS_DEC_BAD_INPUT;
    /* the plaintext starts after the explicit nonce / IV, where the ciphertext does */
    const dir_state *st = &d->dir[dir];
    size_t off = 0;
    if (st->keyed && st->version != MW_TLS_VERSION_TLS13)
        off = st->suite->kind == MW_TLS_KIND_AEAD ? st->suite->record_iv_len
              : st->version >= MW_TLS_VERSION_TLS11 ? st->suite->block_len
                                                    : 0;
    off = off < len ? off : len;
    *pt_off = off;
    return mw_tls_decrypt_record(d, dir, type, wire_version, frag, len, frag + off, len - off,
                                 pt_len, inner_type);
}
