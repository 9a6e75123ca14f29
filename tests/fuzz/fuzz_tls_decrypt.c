/* libFuzzer harness: the record decoder with fixed keys and fuzzed records. Random bytes
 * almost never pass a tag or MAC, so the harness can also seal what the fuzzer gives it
 * with the same keys (its own EVP calls), reaching the code after authentication: TLS 1.3
 * inner plaintext and padding, CBC padding and MAC-then-encrypt checks, TLS 1.0 chaining.
 *
 * Input: byte 0 picks the configuration (version, suite, encrypt_then_mac); then
 * operations, each "op, len_hi, len_lo, bytes": op bit 0 direction, bits 1-2 what
 * (0 record, 1 KeyUpdate, 2 re-key, 3 record decrypted in place), bit 3 seal the bytes
 * (else they are the fragment), bit 4 (when sealing CBC) build a well-formed MAC and
 * padding, bits 5-7 the content type (20 + value). A failed record leaves its direction
 * without keys (as in mailwire); the next operation on it re-keys the decoder, at most
 * MAX_REKEYS times an input: after that the input ends. (Uncapped, nearly every fuzzed
 * record failed and re-keyed: 29 key derivations an execution, 72% of the time, each the
 * same derivation of the same fixed secrets.) KeyUpdates are capped the same way
 * (MAX_KEY_UPDATES, each three HKDF calls in the decoder: the fuzzer had learnt to string
 * 3-byte KeyUpdate operations together).
 * Build and run: see dissectors/tls/decrypt/README.md. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/decrypt/decrypt.h"
#include "tls/decrypt/keyschedule.h"

typedef struct {
    uint16_t version, suite;
    bool etm;
} config;

static const config configs[] = {
    { 0x0304, 0x1301, false }, { 0x0304, 0x1302, false }, { 0x0304, 0x1303, false },
    { 0x0304, 0x1305, false }, { 0x0303, 0xC02F, false }, { 0x0303, 0xCCA8, false },
    { 0x0303, 0xC0A0, false }, { 0x0303, 0xC013, true },  { 0x0303, 0xC013, false },
    { 0x0301, 0xC014, false }, { 0x0301, 0xC014, true },  { 0x0303, 0xC028, false },
    { 0x0302, 0x002F, true },  { 0x0303, 0x000A, false },
};

#define MAX_REKEYS 6      /* re-keyings of the decoder an input (both directions) */
#define MAX_KEY_UPDATES 6 /* TLS 1.3 KeyUpdates an input (both directions) */

static const uint8_t client_random[32] = { 1, 2, 3 }, server_random[32] = { 4, 5, 6 };
static const uint8_t master[48] = { 7, 8, 9 };

/* The harness's copy of one direction's write state (what a sender would hold). */
typedef struct {
    uint8_t key[32], iv[16], mac_key[48], secret[48];
    uint64_t seq;
} sender;

#define N_CONFIGS (sizeof configs / sizeof configs[0])

/* Made once in LLVMFuzzerInitialize, never per input (speed, issue 13): each direction's
 * initial write state (the PRF / HKDF-Expand-Label of the fixed secrets — the key block's
 * TLS1-PRF alone was 70% of an execution), and per configuration one cipher context with
 * its cipher set (re-keyed per record) and, for CBC, an HMAC context per direction keyed
 * with its MAC key (re-initialised per record). The decoder under test still derives its
 * own keys in every execution. */
static struct {
    bool usable; /* this OpenSSL has the cipher (3DES may be missing) */
    sender w0[2];
    sender upd[2][MAX_KEY_UPDATES + 1]; /* TLS 1.3: the sender after k KeyUpdates */
    EVP_CIPHER_CTX *seal;
    EVP_MAC_CTX *mac[2];
} prepared[N_CONFIGS];

static void sender_init(const config *c, const mw_tls_suite *s, int dir, sender *w)
{
    memset(w, 0, sizeof *w);
    if (s->tls13) {
        size_t hl = mw_tls_hash_len(s->prf_hash);
        memset(w->secret, 0x40 + dir, hl);
        mw_tls13_expand_label(s->prf_hash, w->secret, hl, "key", NULL, 0, w->key, s->key_len);
        mw_tls13_expand_label(s->prf_hash, w->secret, hl, "iv", NULL, 0, w->iv, s->fixed_iv_len);
        return;
    }
    uint8_t block[2 * (48 + 32 + 16)];
    size_t ml = s->kind == MW_TLS_KIND_CBC ? s->mac_len : 0, kl = s->key_len,
           il = s->fixed_iv_len;
    mw_tls_prf(c->version == 0x0303 ? s->prf_hash : "MD5-SHA1", master, 48, "key expansion",
               server_random, 32, client_random, 32, block, 2 * (ml + kl + il));
    memcpy(w->mac_key, block + dir * ml, ml);
    memcpy(w->key, block + ml * 2 + dir * kl, kl);
    memcpy(w->iv, block + 2 * ml + 2 * kl + dir * il, il);
}

/* upd[k]: w after k KeyUpdates (RFC 8446 §7.2: the next secret is "traffic upd" of the
 * last, then its key and iv), sequence numbers 0. */
static void key_updates(const mw_tls_suite *s, const sender *w, sender *upd)
{
    size_t hl = mw_tls_hash_len(s->prf_hash);
    upd[0] = *w;
    for (int k = 1; k <= MAX_KEY_UPDATES; k++) {
        sender *n = &upd[k];
        *n = upd[k - 1];
        mw_tls13_expand_label(s->prf_hash, upd[k - 1].secret, hl, "traffic upd", NULL, 0,
                              n->secret, hl);
        mw_tls13_expand_label(s->prf_hash, n->secret, hl, "key", NULL, 0, n->key, s->key_len);
        mw_tls13_expand_label(s->prf_hash, n->secret, hl, "iv", NULL, 0, n->iv, 12);
    }
}

static void prepare(size_t i)
{
    const config *c = &configs[i];
    const mw_tls_suite *s = mw_tls_suite_find(c->suite);
    if (!s)
        abort();
    EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, s->cipher, NULL);
    if (!ci)
        return; /* left unusable: such inputs only exercise the decoder's refusal */
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    if (!x || EVP_EncryptInit_ex2(x, ci, NULL, NULL, NULL) != 1)
        abort();
    EVP_CIPHER_free(ci); /* the context holds its own reference */
    if (s->kind == MW_TLS_KIND_AEAD) {
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
        if (s->mode == MW_TLS_MODE_CCM)
            EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, s->tag_len, NULL);
    } else {
        EVP_CIPHER_CTX_set_padding(x, 0);
    }
    prepared[i].seal = x;
    for (int dir = 0; dir < 2; dir++) {
        sender_init(c, s, dir, &prepared[i].w0[dir]);
        if (s->tls13)
            key_updates(s, &prepared[i].w0[dir], prepared[i].upd[dir]);
        if (s->kind != MW_TLS_KIND_CBC)
            continue;
        EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *mc = m ? EVP_MAC_CTX_new(m) : NULL;
        EVP_MAC_free(m);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)s->mac_hash, 0),
            OSSL_PARAM_construct_end(),
        };
        if (!mc || EVP_MAC_init(mc, prepared[i].w0[dir].mac_key, s->mac_len, params) != 1)
            abort();
        prepared[i].mac[dir] = mc;
    }
    prepared[i].usable = true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    for (size_t i = 0; i < N_CONFIGS; i++)
        prepare(i);
    return 0;
}

/* Keys direction dir of the decoder under test (its own PRF / HKDF, every time). */
static void decoder_init(mw_tls_decoder *d, const config *c, int dir)
{
    const mw_tls_suite *s = mw_tls_suite_find(c->suite);
    if (s->tls13) {
        uint8_t secret[48];
        size_t hl = mw_tls_hash_len(s->prf_hash);
        memset(secret, 0x40 + dir, hl);
        mw_tls_decoder_init13(d, (mw_tls_dir)dir, c->suite, secret, hl);
    } else {
        mw_tls_decoder_init12(d, (mw_tls_dir)dir, c->version, c->suite, client_random,
                              server_random, master, 48, c->etm);
    }
}

static void put_header(uint8_t *h, uint64_t seq, uint8_t type, uint16_t v, size_t len)
{
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)(seq >> (56 - 8 * i));
    h[8] = type;
    h[9] = (uint8_t)(v >> 8);
    h[10] = (uint8_t)v;
    h[11] = (uint8_t)(len >> 8);
    h[12] = (uint8_t)len;
}

/* HMAC(the direction's MAC key, h + p) into out with the prepared context. */
static size_t hmac(EVP_MAC_CTX *mc, const uint8_t *h, const uint8_t *p, size_t n,
                   uint8_t *out)
{
    size_t len = 0;
    if (EVP_MAC_init(mc, NULL, 0, NULL) != 1 || EVP_MAC_update(mc, h, 13) != 1 ||
        (n && EVP_MAC_update(mc, p, n) != 1) ||
        EVP_MAC_final(mc, out, &len, EVP_MAX_MD_SIZE) != 1)
        abort();
    return len;
}

/* Seals plaintext p (n bytes) as a record of type for direction dir's sender w; returns
 * the fragment length. */
static size_t seal(size_t ci, const mw_tls_suite *s, int dir, sender *w, uint8_t type,
                   bool well_formed, const uint8_t *p, size_t n, uint8_t *frag)
{
    static uint8_t pt[MW_TLS_MAX_CIPHERTEXT + 512];
    const config *c = &configs[ci];
    EVP_CIPHER_CTX *x = prepared[ci].seal;
    int outl = 0, fl = 0;
    size_t len = 0;
    uint16_t v = s->tls13 ? 0x0303 : c->version;
    if (s->kind == MW_TLS_KIND_AEAD) {
        uint8_t nonce[12], aad[13];
        size_t aad_len = 13, explicit_len = s->record_iv_len;
        if (s->tls13 || s->mode == MW_TLS_MODE_CHACHA) {
            memcpy(nonce, w->iv, 12);
            for (int i = 0; i < 8; i++)
                nonce[11 - i] ^= (uint8_t)(w->seq >> (8 * i));
        } else {
            memcpy(nonce, w->iv, 4);
            for (int i = 0; i < 8; i++)
                frag[i] = nonce[4 + i] = (uint8_t)(w->seq * 31 + (uint64_t)i);
        }
        memcpy(pt, p, n);
        if (s->tls13) {
            pt[n++] = type;
            type = 23;
            len = n + s->tag_len;
            uint8_t hdr[5] = { 23, 3, 3, (uint8_t)(len >> 8), (uint8_t)len };
            memcpy(aad, hdr, 5);
            aad_len = 5;
        } else {
            put_header(aad, w->seq, type, v, n);
            len = explicit_len + n + s->tag_len;
        }
        EVP_EncryptInit_ex2(x, NULL, w->key, nonce, NULL);
        if (s->mode == MW_TLS_MODE_CCM)
            EVP_EncryptUpdate(x, NULL, &outl, NULL, (int)n);
        EVP_EncryptUpdate(x, NULL, &outl, aad, (int)aad_len);
        EVP_EncryptUpdate(x, frag + explicit_len, &outl, pt, (int)n);
        EVP_EncryptFinal_ex(x, frag + explicit_len + outl, &fl);
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, s->tag_len, frag + explicit_len + n);
    } else {
        size_t bl = s->block_len, iv_len = c->version >= 0x0302 ? bl : 0;
        uint8_t iv[16], h[13];
        if (iv_len)
            memset(iv, (int)(w->seq & 0xff), bl);
        else
            memcpy(iv, w->iv, bl);
        memcpy(pt, p, n);
        unsigned extra_blocks = n ? p[0] % 4 : 0; /* longer padding than needed */
        if (well_formed) {
            if (!c->etm) {
                put_header(h, w->seq, type, v, n);
                n += hmac(prepared[ci].mac[dir], h, p, n, pt + n);
            }
            size_t pad = (bl - (n + 1) % bl) % bl + extra_blocks * bl;
            memset(pt + n, (int)pad, pad + 1);
            n += pad + 1;
        } else {
            n -= n % bl;
        }
        memcpy(frag, iv, iv_len);
        EVP_EncryptInit_ex2(x, NULL, w->key, iv, NULL);
        EVP_EncryptUpdate(x, frag + iv_len, &outl, pt, (int)n);
        len = iv_len + n;
        if (c->etm) {
            put_header(h, w->seq, type, v, len);
            len += hmac(prepared[ci].mac[dir], h, frag, len, frag + len);
        }
        if (!iv_len && n)
            memcpy(w->iv, frag + n - bl, bl); /* TLS 1.0 chaining */
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t ci = data[0] % N_CONFIGS;
    const config *c = &configs[ci];
    const mw_tls_suite *s = mw_tls_suite_find(c->suite);
    if (!s)
        abort();
    data++;
    size--;
    static uint8_t frag[MW_TLS_MAX_CIPHERTEXT + 1024], out[MW_TLS_MAX_CIPHERTEXT];
    mw_tls_decoder *d = mw_tls_decoder_new();
    sender w[2];
    unsigned rekeys = 0, updates = 0, gen[2] = { 0, 0 }; /* gen: KeyUpdates since keyed */
    for (int dir = 0; dir < 2; dir++) {
        decoder_init(d, c, dir);
        w[dir] = prepared[ci].w0[dir];
    }
    if (!mw_tls_decoder_keyed(d, 0) || !prepared[ci].usable) /* no 3DES in this OpenSSL */
        goto done;
    while (size >= 3) {
        uint8_t op = data[0];
        size_t n = (size_t)(data[1] << 8 | data[2]);
        data += 3;
        size -= 3;
        if (n > size)
            n = size;
        int dir = op & 1, what = (op >> 1) & 3;
        uint8_t type = (uint8_t)(20 + (op >> 5));
        if (what == 1) {
            if (updates++ == MAX_KEY_UPDATES)
                break;
            if (mw_tls_decoder_key_update(d, (mw_tls_dir)dir) == MW_TLS_DEC_OK)
                w[dir] = prepared[ci].upd[dir][++gen[dir]]; /* seq 0 */
        } else if (what == 2 || !mw_tls_decoder_keyed(d, (mw_tls_dir)dir)) {
            if (rekeys++ == MAX_REKEYS)
                break;
            gen[dir] = 0;
            decoder_init(d, c, dir);
            w[dir] = prepared[ci].w0[dir];
        } else {
            size_t len = n;
            sender before = w[dir];
            if ((op & 8) && n <= 16384)
                len = seal(ci, s, dir, &w[dir], type, op & 16, data, n, frag);
            else
                memcpy(frag, data, n);
            if (s->tls13 && (op & 8))
                type = 23;
            size_t got = 0;
            uint8_t inner = 0;
            uint16_t wire = s->tls13 ? 0x0303 : c->version;
            mw_tls_dec_status r;
            if (what == 3) { /* in place: the plaintext where the ciphertext was */
                size_t off = 0;
                r = mw_tls_decrypt_record_in_place(d, (mw_tls_dir)dir, type, wire, frag, len,
                                                   &off, &got, &inner);
                if (r == MW_TLS_DEC_OK && off + got > len)
                    abort();
            } else {
                r = mw_tls_decrypt_record(d, (mw_tls_dir)dir, type, wire, frag, len, out,
                                          sizeof out, &got, &inner);
            }
#ifdef FUZZ_TRACE /* -DFUZZ_TRACE: what each record gave, to check the seeds */
            fprintf(stderr, "dir %d op %02x len %zu: %s\n", dir, op, len,
                    mw_tls_dec_status_name(r));
#endif
            if (r == MW_TLS_DEC_OK) {
                if (got > len)
                    abort();
                w[dir].seq = before.seq + 1;
            } else {
                w[dir] = before; /* the decoder forgot its keys; re-keyed on next use */
            }
        }
        data += n;
        size -= n;
    }
done:
    mw_tls_decoder_free(d);
    ERR_clear_error(); /* a failed EVP call's queued error would be freed by a later input */
    return 0;
}
