/* HMAC from precomputed pads (tls/decrypt/hmac.c) and the digests under it
 * (core/digest.c): the published vectors of RFC 2202 (HMAC-MD5, HMAC-SHA-1) and RFC 4231
 * (HMAC-SHA-256/384/512: short key, short key and data, key and data of 0xaa / 0xdd, a key
 * longer than the block with short and with long data), then every digest and HMAC against
 * OpenSSL's EVP over random keys and messages of every length around the block sizes, fed
 * whole and in pieces, and one key reused for many messages (the inner state is copied per
 * message, never used up). */
#include <glib.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/digest.h"
#include "tls/decrypt/hmac.h"
#include "tu_hex.h"

typedef struct {
    const char *path;
    mw_md md;
    uint8_t key_byte; /* key: key_len bytes of key_byte, or key_text when set */
    size_t key_len;
    const char *key_text;
    uint8_t data_byte; /* data: data_len bytes of data_byte, or data_text when set */
    size_t data_len;
    const char *data_text;
    const char *mac;
} hmac_case;

static const char hash_key_first[] = "Test Using Larger Than Block-Size Key - Hash Key First";
static const char rfc2202_long[] =
    "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
static const char rfc4231_long[] =
    "This is a test using a larger than block-size key and a larger than block-size data. "
    "The key needs to be hashed before being used by the HMAC algorithm.";

static const hmac_case cases[] = {
    /* RFC 2202 §2 (HMAC-MD5), test cases 1, 2, 3, 6, 7 */
    { "/hmac/rfc2202/md5/1", MW_MD5, 0x0b, 16, NULL, 0, 0, "Hi There",
      "9294727a3638bb1c13f48ef8158bfc9d" },
    { "/hmac/rfc2202/md5/2", MW_MD5, 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
      "750c783e6ab0b503eaa86e310a5db738" },
    { "/hmac/rfc2202/md5/3", MW_MD5, 0xaa, 16, NULL, 0xdd, 50, NULL,
      "56be34521d144c88dbb8c733f0e8b3f6" },
    { "/hmac/rfc2202/md5/6", MW_MD5, 0xaa, 80, NULL, 0, 0, hash_key_first,
      "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd" },
    { "/hmac/rfc2202/md5/7", MW_MD5, 0xaa, 80, NULL, 0, 0, rfc2202_long,
      "6f630fad67cda0ee1fb1f562db3aa53e" },
    /* RFC 2202 §3 (HMAC-SHA-1), test cases 1, 2, 3, 6, 7 */
    { "/hmac/rfc2202/sha1/1", MW_SHA1, 0x0b, 20, NULL, 0, 0, "Hi There",
      "b617318655057264e28bc0b6fb378c8ef146be00" },
    { "/hmac/rfc2202/sha1/2", MW_SHA1, 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
      "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
    { "/hmac/rfc2202/sha1/3", MW_SHA1, 0xaa, 20, NULL, 0xdd, 50, NULL,
      "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
    { "/hmac/rfc2202/sha1/6", MW_SHA1, 0xaa, 80, NULL, 0, 0, hash_key_first,
      "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
    { "/hmac/rfc2202/sha1/7", MW_SHA1, 0xaa, 80, NULL, 0, 0, rfc2202_long,
      "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
    /* RFC 4231 §4.2, §4.3, §4.4, §4.7, §4.8 */
    { "/hmac/rfc4231/1/sha256", MW_SHA256, 0x0b, 20, NULL, 0, 0, "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { "/hmac/rfc4231/1/sha384", MW_SHA384, 0x0b, 20, NULL, 0, 0, "Hi There",
      "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
      "faea9ea9076ede7f4af152e8b2fa9cb6" },
    { "/hmac/rfc4231/1/sha512", MW_SHA512, 0x0b, 20, NULL, 0, 0, "Hi There",
      "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
      "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
    { "/hmac/rfc4231/2/sha256", MW_SHA256, 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    { "/hmac/rfc4231/2/sha384", MW_SHA384, 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
      "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
      "8e2240ca5e69e2c78b3239ecfab21649" },
    { "/hmac/rfc4231/2/sha512", MW_SHA512, 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
    { "/hmac/rfc4231/3/sha256", MW_SHA256, 0xaa, 20, NULL, 0xdd, 50, NULL,
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
    { "/hmac/rfc4231/6/sha256", MW_SHA256, 0xaa, 131, NULL, 0, 0, hash_key_first,
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    { "/hmac/rfc4231/6/sha384", MW_SHA384, 0xaa, 131, NULL, 0, 0, hash_key_first,
      "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
      "0c2ef6ab4030fe8296248df163f44952" },
    { "/hmac/rfc4231/6/sha512", MW_SHA512, 0xaa, 131, NULL, 0, 0, hash_key_first,
      "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
      "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
    { "/hmac/rfc4231/7/sha256", MW_SHA256, 0xaa, 131, NULL, 0, 0, rfc4231_long,
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
    { "/hmac/rfc4231/7/sha384", MW_SHA384, 0xaa, 131, NULL, 0, 0, rfc4231_long,
      "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
      "a678cc31e799176d3860e6110c46523e" },
    { "/hmac/rfc4231/7/sha512", MW_SHA512, 0xaa, 131, NULL, 0, 0, rfc4231_long,
      "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
      "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
};

static void test_vector(gconstpointer data)
{
    const hmac_case *c = data;
    uint8_t key[256], msg[256], out[MW_DIGEST_MAX];
    size_t key_len = c->key_text ? strlen(c->key_text) : c->key_len;
    size_t msg_len = c->data_text ? strlen(c->data_text) : c->data_len;
    g_assert_cmpuint(key_len, <=, sizeof key);
    g_assert_cmpuint(msg_len, <=, sizeof msg);
    if (c->key_text)
        memcpy(key, c->key_text, key_len);
    else
        memset(key, c->key_byte, key_len);
    if (c->data_text)
        memcpy(msg, c->data_text, msg_len);
    else
        memset(msg, c->data_byte, msg_len);
    GByteArray *want = unhex(c->mac);
    mw_hmac_key k;
    mw_hmac_key_set(&k, c->md, key, key_len);
    g_assert_cmpuint(k.len, ==, want->len);
    mw_hmac(&k, msg, msg_len, out);
    g_assert_cmpmem(out, k.len, want->data, want->len);
    /* the same key again, the message in two pieces: the key's states are not used up */
    mw_hash m;
    mw_hmac_start(&k, &m);
    mw_hash_update(&m, msg, msg_len / 3);
    mw_hash_update(&m, msg + msg_len / 3, msg_len - msg_len / 3);
    memset(out, 0, sizeof out);
    mw_hmac_end(&k, &m, out);
    g_assert_cmpmem(out, k.len, want->data, want->len);
    mw_hmac_wipe(&k);
    g_byte_array_unref(want);
}

static const char *const md_names[MW_MD_COUNT] = { "MD5", "SHA1", "SHA256", "SHA384",
                                                   "SHA512" };

static void fill(GRand *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)g_rand_int_range(r, 0, 256);
}

/* mw_digest and a hash fed in random pieces against EVP_Digest, every length 0..300 (across
 * one and two blocks of every digest, and the padding's spill into another block). */
static void test_digest_vs_openssl(void)
{
    GRand *r = g_rand_new_with_seed(2104);
    uint8_t msg[300], want[EVP_MAX_MD_SIZE], got[MW_DIGEST_MAX];
    fill(r, msg, sizeof msg);
    for (int md = 0; md < MW_MD_COUNT; md++) {
        mw_md found;
        g_assert_true(mw_md_by_name(md_names[md], &found));
        g_assert_cmpint(found, ==, md);
        EVP_MD *evp = EVP_MD_fetch(NULL, md_names[md], NULL);
        g_assert_nonnull(evp);
        g_assert_cmpuint(mw_md_size((mw_md)md), ==, (size_t)EVP_MD_get_size(evp));
        g_assert_cmpuint(mw_md_block((mw_md)md), ==, (size_t)EVP_MD_get_block_size(evp));
        for (size_t len = 0; len <= sizeof msg; len++) {
            unsigned wn = 0;
            g_assert_true(EVP_Digest(msg, len, want, &wn, evp, NULL) == 1);
            g_assert_cmpuint(mw_digest((mw_md)md, msg, len, got), ==, wn);
            g_assert_cmpmem(got, wn, want, wn);
            mw_hash h;
            mw_hash_init(&h, (mw_md)md);
            for (size_t done = 0; done < len;) {
                size_t piece = (size_t)g_rand_int_range(r, 0, 140);
                size_t n = MIN(len - done, piece);
                mw_hash_update(&h, msg + done, n);
                done += n;
            }
            memset(got, 0, sizeof got);
            g_assert_cmpuint(mw_hash_final(&h, got), ==, wn);
            g_assert_cmpmem(got, wn, want, wn);
        }
        EVP_MD_free(evp);
    }
    mw_md none;
    g_assert_false(mw_md_by_name("SHA3-256", &none));
    g_assert_false(mw_md_by_name("MD5-SHA1", &none));
    g_rand_free(r);
}

/* HMAC against OpenSSL's (EVP_Q_mac) for keys of 0..2 blocks + 1 bytes and messages of
 * random lengths; each key serves several messages. */
static void test_hmac_vs_openssl(void)
{
    GRand *r = g_rand_new_with_seed(4231);
    uint8_t key[2 * MW_DIGEST_BLOCK_MAX + 1], msg[400], want[EVP_MAX_MD_SIZE], got[MW_DIGEST_MAX];
    for (int md = 0; md < MW_MD_COUNT; md++) {
        for (size_t key_len = 0; key_len <= 2 * mw_md_block((mw_md)md) + 1; key_len++) {
            fill(r, key, key_len);
            mw_hmac_key k;
            mw_hmac_key_set(&k, (mw_md)md, key, key_len);
            for (int i = 0; i < 3; i++) {
                size_t len = (size_t)g_rand_int_range(r, 0, sizeof msg + 1);
                fill(r, msg, len);
                size_t wn = 0;
                g_assert_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, md_names[md], NULL, key,
                                           key_len, msg, len, want, sizeof want, &wn));
                g_assert_cmpuint(k.len, ==, wn);
                mw_hmac(&k, msg, len, got);
                g_assert_cmpmem(got, wn, want, wn);
            }
            mw_hmac_wipe(&k);
        }
    }
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        g_test_add_data_func(cases[i].path, &cases[i], test_vector);
    g_test_add_func("/hmac/digest/openssl", test_digest_vs_openssl);
    g_test_add_func("/hmac/openssl", test_hmac_vs_openssl);
    return g_test_run();
}
