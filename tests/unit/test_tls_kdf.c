/* Key derivation from HMAC (tls/decrypt/keyschedule.c): HKDF-Expand against RFC 5869's
 * Appendix A, HKDF-Expand-Label and the traffic key/IV against RFC 8448 §3, the TLS 1.2
 * PRF against the published P_SHA256 vector, and every function against OpenSSL's own
 * EVP_KDF (HKDF in EXPAND_ONLY mode, TLS1-PRF) over many digests, lengths and secrets,
 * including outputs of several hash blocks, odd secret lengths (the TLS 1.0 PRF's shared
 * middle byte) and a derivation after another digest or secret (the reused contexts). */
#include <glib.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <string.h>

#include "tls/decrypt/keyschedule.h"
#include "tu_hex.h"

/* ---------- RFC 5869 Appendix A (the Expand step: PRK given) ---------- */

typedef struct {
    const char *path, *digest, *prk, *info, *okm;
} hkdf_case;

static const hkdf_case rfc5869[] = {
    { "/tls-kdf/rfc5869/a1", "SHA256",
      "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", "f0f1f2f3f4f5f6f7f8f9",
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865" },
    { "/tls-kdf/rfc5869/a2", "SHA256",
      "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
      "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdd"
      "dedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
      "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e5"
      "90e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87" },
    { "/tls-kdf/rfc5869/a3", "SHA256",
      "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04", "",
      "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8" },
};

static void test_rfc5869(gconstpointer data)
{
    const hkdf_case *c = data;
    GByteArray *prk = unhex(c->prk), *info = unhex(c->info), *okm = unhex(c->okm);
    uint8_t out[128];
    g_assert_cmpuint(okm->len, <=, sizeof out);
    g_assert_true(mw_hkdf_expand(c->digest, prk->data, prk->len, info->len ? info->data : NULL,
                                 info->len, out, okm->len));
    g_assert_cmpmem(out, okm->len, okm->data, okm->len);
    /* a prefix is the same derivation cut short (L only cuts T(1) | T(2) | ...) */
    g_assert_true(mw_hkdf_expand(c->digest, prk->data, prk->len, info->data, info->len, out, 5));
    g_assert_cmpmem(out, 5, okm->data, 5);
    g_byte_array_unref(prk);
    g_byte_array_unref(info);
    g_byte_array_unref(okm);
}

/* ---------- RFC 8448 §3 ---------- */

/* {server} derive secret "tls13 derived" from the early secret (context: the hash of ""),
 * and the client handshake traffic secret from the handshake secret (context: the
 * transcript hash of ClientHello..ServerHello). */
static void test_rfc8448_expand_label(void)
{
    GByteArray *early = unhex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
    GByteArray *empty_hash =
        unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    GByteArray *derived = unhex("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
    uint8_t out[32];
    g_assert_true(mw_tls13_expand_label("SHA256", early->data, early->len, "derived",
                                        empty_hash->data, empty_hash->len, out, sizeof out));
    g_assert_cmpmem(out, sizeof out, derived->data, derived->len);

    GByteArray *hs = unhex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac");
    GByteArray *th = unhex("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
    GByteArray *c_hs = unhex("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
    g_assert_true(mw_tls13_expand_label("SHA256", hs->data, hs->len, "c hs traffic", th->data,
                                        th->len, out, sizeof out));
    g_assert_cmpmem(out, sizeof out, c_hs->data, c_hs->len);
    GByteArray *all[] = { early, empty_hash, derived, hs, th, c_hs };
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        g_byte_array_unref(all[i]);
}

/* The four traffic secrets' write key and IV (RFC 8448 §3), through mw_tls13_key_iv. */
static void test_rfc8448_key_iv(void)
{
    static const char *const v[][3] = {
        { "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
          "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30" },
        { "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
          "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f" },
        { "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
          "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9" },
        { "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
          "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
        GByteArray *s = unhex(v[i][0]), *k = unhex(v[i][1]), *iv = unhex(v[i][2]);
        uint8_t key[16], nonce[12], key2[16];
        g_assert_true(mw_tls13_key_iv("SHA256", s->data, s->len, key, sizeof key, nonce,
                                      sizeof nonce));
        g_assert_cmpmem(key, sizeof key, k->data, k->len);
        g_assert_cmpmem(nonce, sizeof nonce, iv->data, iv->len);
        /* the label alone gives the same */
        g_assert_true(mw_tls13_expand_label("SHA256", s->data, s->len, "key", NULL, 0, key2,
                                            sizeof key2));
        g_assert_cmpmem(key2, sizeof key2, k->data, k->len);
        g_byte_array_unref(s);
        g_byte_array_unref(k);
        g_byte_array_unref(iv);
    }
}

/* ---------- the TLS 1.2 PRF ---------- */

/* P_SHA256 with label "test label" (the vector posted to the IETF TLS list and used by
 * several TLS stacks' tests), 100 bytes. */
static void test_prf_sha256_vector(void)
{
    GByteArray *secret = unhex("9bbe436ba940f017b17652849a71db35");
    GByteArray *seed = unhex("a0ba9f936cda311827a6f796ffd5198c");
    GByteArray *want = unhex(
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e"
        "14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5"
        "a72e5a5110fff70187347b66");
    uint8_t out[100];
    g_assert_true(mw_tls_prf("SHA256", secret->data, secret->len, "test label", seed->data,
                             seed->len, NULL, 0, out, sizeof out));
    g_assert_cmpmem(out, sizeof out, want->data, want->len);
    g_byte_array_unref(secret);
    g_byte_array_unref(seed);
    g_byte_array_unref(want);
}

/* ---------- against OpenSSL's EVP_KDF ---------- */

static void openssl_hkdf_expand(const char *digest, const uint8_t *prk, size_t prk_len,
                                const uint8_t *info, size_t info_len, uint8_t *out, size_t n)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)prk, prk_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
        OSSL_PARAM_construct_end(),
    };
    g_assert_cmpint(EVP_KDF_derive(ctx, out, n, p), ==, 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
}

static void openssl_prf(const char *digest, const uint8_t *secret, size_t secret_len,
                        const uint8_t *seed, size_t seed_len, uint8_t *out, size_t n)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed, seed_len),
        OSSL_PARAM_construct_end(),
    };
    g_assert_cmpint(EVP_KDF_derive(ctx, out, n, p), ==, 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
}

static void fill(GRand *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)g_rand_int_range(r, 0, 256);
}

static void test_hkdf_vs_openssl(void)
{
    static const char *const digests[] = { "SHA256", "SHA384", "SHA1", "SHA512" };
    GRand *r = g_rand_new_with_seed(5869);
    uint8_t prk[64], info[300], mine[600], theirs[600];
    for (int round = 0; round < 400; round++) {
        const char *d = digests[round % G_N_ELEMENTS(digests)];
        size_t prk_len = (size_t)g_rand_int_range(r, 1, sizeof prk + 1);
        size_t info_len = (size_t)g_rand_int_range(r, 0, sizeof info + 1);
        size_t n = (size_t)g_rand_int_range(r, 1, round % 5 == 0 ? sizeof mine + 1 : 80);
        fill(r, prk, prk_len);
        fill(r, info, info_len);
        g_assert_true(mw_hkdf_expand(d, prk, prk_len, info, info_len, mine, n));
        openssl_hkdf_expand(d, prk, prk_len, info, info_len, theirs, n);
        g_assert_cmpmem(mine, n, theirs, n);
    }
    g_rand_free(r);
}

/* HKDF-Expand-Label and key/IV as OpenSSL's HKDF computes them over the same HkdfLabel,
 * with derivations of other secrets and digests in between (a kept key must not leak
 * into the next derivation). */
static void test_key_iv_vs_openssl(void)
{
    GRand *r = g_rand_new_with_seed(8446);
    uint8_t secret[48], key[32], iv[12], want[48];
    for (int round = 0; round < 200; round++) {
        bool sha384 = round % 3 == 1;
        const char *d = sha384 ? "SHA384" : "SHA256";
        size_t hl = sha384 ? 48 : 32, key_len = round % 2 ? 32 : 16;
        fill(r, secret, hl);
        g_assert_true(mw_tls13_key_iv(d, secret, hl, key, key_len, iv, sizeof iv));
        uint8_t info_key[] = { 0, (uint8_t)key_len, 9, 't', 'l', 's', '1', '3', ' ', 'k', 'e', 'y', 0 };
        uint8_t info_iv[] = { 0, 12, 8, 't', 'l', 's', '1', '3', ' ', 'i', 'v', 0 };
        openssl_hkdf_expand(d, secret, hl, info_key, sizeof info_key, want, key_len);
        g_assert_cmpmem(key, key_len, want, key_len);
        openssl_hkdf_expand(d, secret, hl, info_iv, sizeof info_iv, want, sizeof iv);
        g_assert_cmpmem(iv, sizeof iv, want, sizeof iv);
        uint8_t upd[48];
        uint8_t info_upd[] = { 0, (uint8_t)hl, 17, 't', 'l', 's', '1', '3', ' ', 't', 'r', 'a',
                               'f', 'f', 'i', 'c', ' ', 'u', 'p', 'd', 0 };
        g_assert_true(mw_tls13_expand_label(d, secret, hl, "traffic upd", NULL, 0, upd, hl));
        openssl_hkdf_expand(d, secret, hl, info_upd, sizeof info_upd, want, hl);
        g_assert_cmpmem(upd, hl, want, hl);
    }
    /* a key or IV longer than one hash block is refused, both outputs zeroed */
    g_assert_false(mw_tls13_key_iv("SHA256", secret, 32, want, 33, iv, sizeof iv));
    static const uint8_t zero[48];
    g_assert_cmpmem(want, 33, zero, 33);
    g_rand_free(r);
}

static void test_prf_vs_openssl(void)
{
    static const char *const digests[] = { "SHA256", "SHA384", "MD5-SHA1" };
    static const char *const labels[] = { "key expansion", "master secret", "client finished",
                                          "" };
    GRand *r = g_rand_new_with_seed(5246);
    uint8_t secret[64], s1[64], s2[64], seed[MW_TLS_PRF_LABEL_MAX + 128], mine[300],
        theirs[300];
    for (int round = 0; round < 300; round++) {
        const char *d = digests[round % G_N_ELEMENTS(digests)];
        const char *label = labels[(round / 3) % G_N_ELEMENTS(labels)];
        size_t secret_len = (size_t)g_rand_int_range(r, 1, sizeof secret + 1); /* odd too */
        size_t s1_len = (size_t)g_rand_int_range(r, 0, 65);
        size_t s2_len = (size_t)g_rand_int_range(r, 0, 65);
        size_t n = (size_t)g_rand_int_range(r, 1, sizeof mine + 1);
        fill(r, secret, secret_len);
        fill(r, s1, s1_len);
        fill(r, s2, s2_len);
        g_assert_true(mw_tls_prf(d, secret, secret_len, label, s1, s1_len, s2, s2_len, mine, n));
        size_t ll = strlen(label);
        memcpy(seed, label, ll);
        memcpy(seed + ll, s1, s1_len);
        memcpy(seed + ll + s1_len, s2, s2_len);
        openssl_prf(d, secret, secret_len, seed, ll + s1_len + s2_len, theirs, n);
        g_assert_cmpmem(mine, n, theirs, n);
    }
    g_rand_free(r);
}

static void test_refusals(void)
{
    uint8_t secret[32] = { 1 }, out[64];
    static const uint8_t zero[64];
    memset(out, 0xAA, sizeof out);
    g_assert_false(mw_hkdf_expand("NO-SUCH-DIGEST", secret, 32, NULL, 0, out, 32));
    g_assert_cmpmem(out, 32, zero, 32);
    /* RFC 5869 §2.3: L <= 255 * HashLen */
    static uint8_t big[255 * 32 + 1];
    g_assert_true(mw_hkdf_expand("SHA256", secret, 32, NULL, 0, big, 255 * 32));
    g_assert_false(mw_hkdf_expand("SHA256", secret, 32, NULL, 0, big, sizeof big));
    memset(out, 0xAA, sizeof out);
    g_assert_false(mw_tls_prf("NO-SUCH-DIGEST", secret, 32, "key expansion", NULL, 0, NULL, 0,
                              out, 40));
    g_assert_cmpmem(out, 40, zero, 40);
    char long_label[MW_TLS13_LABEL_MAX + 2];
    memset(long_label, 'a', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = 0;
    g_assert_false(mw_tls13_expand_label("SHA256", secret, 32, long_label, NULL, 0, out, 16));
    g_assert_false(mw_tls_prf("SHA256", secret, 32, long_label, NULL, 0, NULL, 0, out, 16));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(rfc5869); i++)
        g_test_add_data_func(rfc5869[i].path, &rfc5869[i], test_rfc5869);
    g_test_add_func("/tls-kdf/rfc8448/expand-label", test_rfc8448_expand_label);
    g_test_add_func("/tls-kdf/rfc8448/key-iv", test_rfc8448_key_iv);
    g_test_add_func("/tls-kdf/prf/sha256-vector", test_prf_sha256_vector);
    g_test_add_func("/tls-kdf/openssl/hkdf-expand", test_hkdf_vs_openssl);
    g_test_add_func("/tls-kdf/openssl/key-iv", test_key_iv_vs_openssl);
    g_test_add_func("/tls-kdf/openssl/prf", test_prf_vs_openssl);
    g_test_add_func("/tls-kdf/refusals", test_refusals);
    return g_test_run();
}
