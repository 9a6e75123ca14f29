/* TLS decryption core: RFC 8448 §3's key schedule and records, then real OpenSSL
 * connections (client and server in memory, a throw-away self-signed key) for each suite:
 * the wire records of both directions and the NSS key log OpenSSL writes are decrypted
 * through the key log store and the decoder, and must give back what was sent; a flipped
 * ciphertext bit must give AUTH_FAILED. */
#include <glib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "tls/decrypt/ctx_pool.h"
#include "tls/decrypt/decrypt.h"
#include "tls/decrypt/keylog.h"
#include "tls/decrypt/keyschedule.h"
#include "tu_hex.h"

/* ---------- helpers ---------- */


/* ---------- RFC 8448 §3, "Simple 1-RTT Handshake" (TLS_AES_128_GCM_SHA256) ---------- */

static const char rfc_s_hs_secret[] =
    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
static const char rfc_c_hs_secret[] =
    "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
static const char rfc_c_ap_secret[] =
    "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
static const char rfc_s_ap_secret[] =
    "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";

/* {server} send handshake record: EncryptedExtensions, Certificate, CertificateVerify,
 * Finished under the server handshake keys, sequence 0. */
static const char rfc_server_flight_record[] =
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca"
    "07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13b"
    "d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c"
    "7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd61092"
    "8d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a8"
    "9441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f"
    "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a3"
    "6ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e"
    "1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052c"
    "f93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe"
    "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb"
    "5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038"
    "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd50278"
    "4016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e"
    "750edc53370d2b";

/* Its plaintext, message by message. */
static const char rfc_encrypted_extensions[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000";
static const char rfc_certificate[] =
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a"
    "06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a"
    "0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98"
    "0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312"
    "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0"
    "3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355"
    "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f"
    "8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102"
    "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8"
    "f8961229ac9187b42b4de10000";
static const char rfc_certificate_verify[] =
    "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d3"
    "3a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c"
    "9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3";
static const char rfc_server_finished[] =
    "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";

/* {client} Finished under the client handshake keys, sequence 0. */
static const char rfc_client_finished_record[] =
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1c"
    "aeacab6867d726c40546";
static const char rfc_client_finished[] =
    "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61";

/* {server} NewSessionTicket, server application keys, sequence 0. */
static const char rfc_new_session_ticket_record[] =
    "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c758db289a"
    "015940252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e0"
    "9c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406f16e3fc181a77ca475840025db2f0a77"
    "f81b5ab05b94c01346755f69232c86519d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74"
    "bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf15985684f";
static const char rfc_new_session_ticket_start[] = "040000c9";

/* 50 bytes 00..31 each way: client application keys sequence 0, server sequence 1; then
 * close_notify each way. */
static const char rfc_client_data_record[] =
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b"
    "62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4";
static const char rfc_server_data_record[] =
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8"
    "fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d";
static const char rfc_client_close_record[] = "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3";
static const char rfc_server_close_record[] = "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9";

static void rfc_check_keys(const char *secret_hex, const char *key_hex, const char *iv_hex)
{
    GByteArray *secret = unhex(secret_hex), *key = unhex(key_hex), *iv = unhex(iv_hex);
    uint8_t k[16], v[12];
    g_assert_true(mw_tls13_expand_label("SHA256", secret->data, secret->len, "key", NULL, 0,
                                        k, sizeof k));
    g_assert_true(mw_tls13_expand_label("SHA256", secret->data, secret->len, "iv", NULL, 0, v,
                                        sizeof v));
    g_assert_cmpmem(k, sizeof k, key->data, key->len);
    g_assert_cmpmem(v, sizeof v, iv->data, iv->len);
    g_byte_array_unref(secret);
    g_byte_array_unref(key);
    g_byte_array_unref(iv);
}

static void test_rfc8448_keys(void)
{
    rfc_check_keys(rfc_s_hs_secret, "3fce516009c21727d0f2e4e86ee403bc",
                   "5d313eb2671276ee13000b30");
    rfc_check_keys(rfc_c_hs_secret, "dbfaa693d1762c5b666af5d950258d01",
                   "5bd3c71b836e0b76bb73265f");
    rfc_check_keys(rfc_s_ap_secret, "9f02283b6c9c07efc26bb9f2ac92e356",
                   "cf782b88dd83549aadf1e984");
    rfc_check_keys(rfc_c_ap_secret, "17422dda596ed5d9acd890e3c63f5051",
                   "5b78923dee08579033e523d9");
}

/* Decrypts a whole record (header included, as hex) in dir; returns the status and
 * fills plain / inner. */
static mw_tls_dec_status rfc_open(mw_tls_decoder *d, mw_tls_dir dir, const char *record_hex,
                                  GByteArray *plain, uint8_t *inner)
{
    GByteArray *rec = unhex(record_hex);
    g_assert_cmpuint(rec->len, >, 5);
    g_assert_cmpuint((size_t)(rec->data[3] << 8 | rec->data[4]), ==, rec->len - 5);
    uint8_t out[MW_TLS_MAX_CIPHERTEXT];
    size_t n = 0;
    mw_tls_dec_status r =
        mw_tls_decrypt_record(d, dir, rec->data[0], (uint16_t)(rec->data[1] << 8 | rec->data[2]),
                              rec->data + 5, rec->len - 5, out, sizeof out, &n, inner);
    g_byte_array_set_size(plain, 0);
    if (r == MW_TLS_DEC_OK)
        g_byte_array_append(plain, out, (guint)n);
    g_byte_array_unref(rec);
    return r;
}

static void init13_hex(mw_tls_decoder *d, mw_tls_dir dir, const char *secret_hex)
{
    GByteArray *s = unhex(secret_hex);
    g_assert_cmpint(mw_tls_decoder_init13(d, dir, 0x1301, s->data, s->len), ==, MW_TLS_DEC_OK);
    g_byte_array_unref(s);
}

static void assert_plain(GByteArray *plain, const char *const *parts, size_t n)
{
    GByteArray *want = g_byte_array_new();
    for (size_t i = 0; i < n; i++) {
        GByteArray *p = unhex(parts[i]);
        g_byte_array_append(want, p->data, p->len);
        g_byte_array_unref(p);
    }
    g_assert_cmpmem(plain->data, plain->len, want->data, want->len);
    g_byte_array_unref(want);
}

static void test_rfc8448_records(void)
{
    mw_tls_decoder *d = mw_tls_decoder_new();
    GByteArray *plain = g_byte_array_new();
    uint8_t inner = 0;
    uint8_t count[50];
    for (int i = 0; i < 50; i++)
        count[i] = (uint8_t)i;

    /* Server handshake flight. */
    init13_hex(d, MW_TLS_FROM_SERVER, rfc_s_hs_secret);
    g_assert_cmpint(rfc_open(d, MW_TLS_FROM_SERVER, rfc_server_flight_record, plain, &inner), ==,
                    MW_TLS_DEC_OK);
    g_assert_cmpuint(inner, ==, 22);
    const char *const flight[] = { rfc_encrypted_extensions, rfc_certificate,
                                   rfc_certificate_verify, rfc_server_finished };
    assert_plain(plain, flight, G_N_ELEMENTS(flight));

    /* After the server's Finished: its application secret. */
    init13_hex(d, MW_TLS_FROM_SERVER, rfc_s_ap_secret);
    g_assert_cmpint(rfc_open(d, MW_TLS_FROM_SERVER, rfc_new_session_ticket_record, plain,
                             &inner), ==, MW_TLS_DEC_OK);
    g_assert_cmpuint(inner, ==, 22);
    g_assert_cmpuint(plain->len, ==, 205);
    GByteArray *start = unhex(rfc_new_session_ticket_start);
    g_assert_cmpmem(plain->data, 4, start->data, 4);
    g_byte_array_unref(start);

    /* Client Finished, then the client's application secret. */
    init13_hex(d, MW_TLS_FROM_CLIENT, rfc_c_hs_secret);
    g_assert_cmpint(rfc_open(d, MW_TLS_FROM_CLIENT, rfc_client_finished_record, plain, &inner),
                    ==, MW_TLS_DEC_OK);
    g_assert_cmpuint(inner, ==, 22);
    const char *const fin[] = { rfc_client_finished };
    assert_plain(plain, fin, 1);
    init13_hex(d, MW_TLS_FROM_CLIENT, rfc_c_ap_secret);
    g_assert_cmpint(rfc_open(d, MW_TLS_FROM_CLIENT, rfc_client_data_record, plain, &inner), ==,
                    MW_TLS_DEC_OK);
    g_assert_cmpuint(inner, ==, 23);
    g_assert_cmpmem(plain->data, plain->len, count, 50);

    /* Server data is its sequence 1 (the ticket was 0). */
    g_assert_cmpint(rfc_open(d, MW_TLS_FROM_SERVER, rfc_server_data_record, plain, &inner), ==,
                    MW_TLS_DEC_OK);
    g_assert_cmpuint(inner, ==, 23);
    g_assert_cmpmem(plain->data, plain->len, count, 50);

    static const uint8_t close_notify[2] = { 1, 0 };
    g_assert_cmpint(rfc_open(d, MW_TLS_FROM_CLIENT, rfc_client_close_record, plain, &inner), ==,
                    MW_TLS_DEC_OK);
    g_assert_cmpuint(inner, ==, 21);
    g_assert_cmpmem(plain->data, plain->len, close_notify, 2);
    g_assert_cmpint(rfc_open(d, MW_TLS_FROM_SERVER, rfc_server_close_record, plain, &inner), ==,
                    MW_TLS_DEC_OK);
    g_assert_cmpuint(inner, ==, 21);
    g_assert_cmpmem(plain->data, plain->len, close_notify, 2);

    /* Out of order (sequence 0 again): the tag does not match; the direction stops. */
    g_assert_cmpint(rfc_open(d, MW_TLS_FROM_CLIENT, rfc_client_data_record, plain, &inner), ==,
                    MW_TLS_DEC_AUTH_FAILED);
    g_assert_false(mw_tls_decoder_keyed(d, MW_TLS_FROM_CLIENT));
    g_assert_cmpint(rfc_open(d, MW_TLS_FROM_CLIENT, rfc_client_close_record, plain, &inner), ==,
                    MW_TLS_DEC_NO_KEYS);
    g_assert_true(mw_tls_decoder_keyed(d, MW_TLS_FROM_SERVER));

    g_byte_array_unref(plain);
    mw_tls_decoder_free(d);
}

/* One bit flipped anywhere in the record (type, version, ciphertext, tag; the length
 * field is what splits records, the caller's business): AUTH_FAILED. */
static void test_rfc8448_flipped_bits(void)
{
    GByteArray *rec = unhex(rfc_client_data_record);
    GByteArray *secret = unhex(rfc_c_ap_secret);
    uint8_t out[MW_TLS_MAX_CIPHERTEXT];
    for (size_t bit = 0; bit < rec->len * 8; bit += 3) {
        if (bit / 8 == 3 || bit / 8 == 4)
            continue;
        mw_tls_decoder *d = mw_tls_decoder_new();
        g_assert_cmpint(mw_tls_decoder_init13(d, MW_TLS_FROM_CLIENT, 0x1301, secret->data,
                                              secret->len), ==, MW_TLS_DEC_OK);
        rec->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        size_t n = 0;
        uint8_t inner = 0;
        size_t len = rec->len - 5;
        mw_tls_dec_status r = mw_tls_decrypt_record(
            d, MW_TLS_FROM_CLIENT, rec->data[0], (uint16_t)(rec->data[1] << 8 | rec->data[2]),
            rec->data + 5, len, out, sizeof out, &n, &inner);
        g_assert_cmpint(r, ==, MW_TLS_DEC_AUTH_FAILED);
        rec->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        mw_tls_decoder_free(d);
    }
    g_byte_array_unref(rec);
    g_byte_array_unref(secret);
}

/* The client's data record of RFC 8448 under secret (hex), by a new decoder, freed after:
 * its contexts go to the thread's pool, and the next decoder of the suite takes them. */
static mw_tls_dec_status open_client_data(const uint8_t *secret, size_t secret_len)
{
    GByteArray *rec = unhex(rfc_client_data_record);
    uint8_t out[MW_TLS_MAX_CIPHERTEXT], inner = 0;
    size_t n = 0;
    mw_tls_decoder *d = mw_tls_decoder_new();
    g_assert_cmpint(mw_tls_decoder_init13(d, MW_TLS_FROM_CLIENT, 0x1301, secret, secret_len), ==,
                    MW_TLS_DEC_OK);
    mw_tls_dec_status r = mw_tls_decrypt_record(
        d, MW_TLS_FROM_CLIENT, rec->data[0], (uint16_t)(rec->data[1] << 8 | rec->data[2]),
        rec->data + 5, rec->len - 5, out, sizeof out, &n, &inner);
    if (r == MW_TLS_DEC_OK)
        g_assert_cmpuint(n, ==, 50);
    mw_tls_decoder_free(d);
    g_byte_array_unref(rec);
    return r;
}

/* A kept context is re-keyed, IV and all: after a session with the wrong key (its context
 * left failed) the next with the right one opens; with more decoders alive than the pool
 * keeps, every one still opens, and the pool frees the rest. */
static void test_context_pool(void)
{
    GByteArray *secret = unhex(rfc_c_ap_secret);
    g_assert_cmpint(open_client_data(secret->data, secret->len), ==, MW_TLS_DEC_OK);
    secret->data[7] ^= 1;
    g_assert_cmpint(open_client_data(secret->data, secret->len), ==, MW_TLS_DEC_AUTH_FAILED);
    secret->data[7] ^= 1;
    g_assert_cmpint(open_client_data(secret->data, secret->len), ==, MW_TLS_DEC_OK);

    enum { N = MW_TLS_CTX_POOL_MAX + 8 }; /* more than the pool keeps */
    mw_tls_decoder *d[N];
    GByteArray *rec = unhex(rfc_client_data_record);
    uint8_t out[MW_TLS_MAX_CIPHERTEXT], inner = 0;
    for (int i = 0; i < N; i++) {
        d[i] = mw_tls_decoder_new();
        g_assert_cmpint(mw_tls_decoder_init13(d[i], MW_TLS_FROM_CLIENT, 0x1301, secret->data,
                                              secret->len), ==, MW_TLS_DEC_OK);
    }
    for (int i = 0; i < N; i++) {
        size_t n = 0;
        g_assert_cmpint(mw_tls_decrypt_record(d[i], MW_TLS_FROM_CLIENT, rec->data[0],
                                              (uint16_t)(rec->data[1] << 8 | rec->data[2]),
                                              rec->data + 5, rec->len - 5, out, sizeof out, &n,
                                              &inner), ==, MW_TLS_DEC_OK);
        g_assert_cmpuint(n, ==, 50);
    }
    for (int i = 0; i < N; i++)
        mw_tls_decoder_free(d[i]);
    g_assert_cmpint(open_client_data(secret->data, secret->len), ==, MW_TLS_DEC_OK);
    g_byte_array_unref(rec);
    g_byte_array_unref(secret);
}

/* The pool hands back only a context kept for the suite asked, the last kept first; with
 * more suites than it keeps lists for, or more contexts than it keeps, the rest are freed
 * (ASan: no leak) and the kept ones still come back. */
static void test_context_pool_suites(void)
{
    static const uint16_t ids[] = { 0x1301, 0x1302, 0x1303, 0x1304, 0x1305, 0x009C, 0x009D,
                                    0x009E, 0x009F, 0x00A2, 0x00A3, 0xC02B, 0xC02C, 0xC02F,
                                    0xC030, 0xC09C, 0xC09D, 0xC09E, 0xC09F, 0xC0A0 };
    enum { N = sizeof ids / sizeof ids[0] };
    EVP_CIPHER_CTX *c, *kept[N];
    mw_hmac_key *m = NULL;
    const mw_tls_suite *a = mw_tls_suite_find(0x1301), *b = mw_tls_suite_find(0x1302);
    for (int i = 0; i < N; i++) /* what earlier tests left in this thread's pool */
        while (mw_tls_ctx_pool_take(mw_tls_suite_find(ids[i]), &c, &m)) {
            EVP_CIPHER_CTX_free(c);
            OPENSSL_free(m);
        }
    g_assert_false(mw_tls_ctx_pool_take(a, &c, &m));
    EVP_CIPHER_CTX *ca1 = EVP_CIPHER_CTX_new(), *ca2 = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX *cb = EVP_CIPHER_CTX_new();
    mw_tls_ctx_pool_put(a, ca1, NULL);
    mw_tls_ctx_pool_put(b, cb, NULL);
    mw_tls_ctx_pool_put(a, ca2, NULL);
    g_assert_true(mw_tls_ctx_pool_take(b, &c, &m));
    g_assert_true(c == cb);
    g_assert_false(mw_tls_ctx_pool_take(b, &c, &m));
    g_assert_true(mw_tls_ctx_pool_take(a, &c, &m));
    g_assert_true(c == ca2);
    g_assert_true(mw_tls_ctx_pool_take(a, &c, &m));
    g_assert_true(c == ca1);
    g_assert_false(mw_tls_ctx_pool_take(a, &c, &m));
    EVP_CIPHER_CTX_free(ca1);
    EVP_CIPHER_CTX_free(ca2);
    EVP_CIPHER_CTX_free(cb);

    /* one context of each of N suites: those past the lists' count are freed */
    for (int i = 0; i < N; i++) {
        kept[i] = EVP_CIPHER_CTX_new();
        mw_tls_ctx_pool_put(mw_tls_suite_find(ids[i]), kept[i], NULL);
    }
    unsigned back = 0;
    for (int i = 0; i < N; i++) {
        if (!mw_tls_ctx_pool_take(mw_tls_suite_find(ids[i]), &c, &m))
            continue;
        g_assert_true(c == kept[i]);
        EVP_CIPHER_CTX_free(c);
        back++;
    }
    g_assert_cmpuint(back, >=, 8);
    g_assert_cmpuint(back, <, N);
    /* every list empty again: the 20th suite is kept now */
    kept[0] = EVP_CIPHER_CTX_new();
    mw_tls_ctx_pool_put(mw_tls_suite_find(ids[N - 1]), kept[0], NULL);
    g_assert_true(mw_tls_ctx_pool_take(mw_tls_suite_find(ids[N - 1]), &c, &m));
    g_assert_true(c == kept[0]);
    EVP_CIPHER_CTX_free(c);

    /* more than the pool keeps, of one suite: as many come back as it keeps */
    for (int i = 0; i < MW_TLS_CTX_POOL_MAX + 5; i++)
        mw_tls_ctx_pool_put(a, EVP_CIPHER_CTX_new(), NULL);
    back = 0;
    while (mw_tls_ctx_pool_take(a, &c, &m)) {
        EVP_CIPHER_CTX_free(c);
        back++;
    }
    g_assert_cmpuint(back, ==, MW_TLS_CTX_POOL_MAX);
}

static void test_api_edges(void)
{
    mw_tls_decoder *d = mw_tls_decoder_new();
    uint8_t r[32] = { 0 }, ms[48] = { 0 }, out[64], inner;
    size_t n;
    g_assert_cmpint(mw_tls_decrypt_record(d, MW_TLS_FROM_CLIENT, 23, 0x0303, out, 16, out + 32,
                                          32, &n, &inner), ==, MW_TLS_DEC_NO_KEYS);
    /* RC4, an unknown suite, SSL 3.0, a 1.2-only suite on 1.0, a 1.3 suite on 1.2. */
    g_assert_cmpint(mw_tls_decoder_init12(d, 0, 0x0303, 0x0005, r, r, ms, 48, false), ==,
                    MW_TLS_DEC_UNSUPPORTED);
    g_assert_cmpint(mw_tls_decoder_init12(d, 0, 0x0303, 0xFEFE, r, r, ms, 48, false), ==,
                    MW_TLS_DEC_UNSUPPORTED);
    g_assert_cmpint(mw_tls_decoder_init12(d, 0, 0x0300, 0x002F, r, r, ms, 48, false), ==,
                    MW_TLS_DEC_UNSUPPORTED);
    g_assert_cmpint(mw_tls_decoder_init12(d, 0, 0x0301, 0xC02F, r, r, ms, 48, false), ==,
                    MW_TLS_DEC_UNSUPPORTED);
    g_assert_cmpint(mw_tls_decoder_init12(d, 0, 0x0303, 0x1301, r, r, ms, 48, false), ==,
                    MW_TLS_DEC_UNSUPPORTED);
    g_assert_cmpint(mw_tls_decoder_init12(d, 0, 0x0303, 0xC02F, r, r, ms, 47, false), ==,
                    MW_TLS_DEC_BAD_INPUT);
    g_assert_cmpint(mw_tls_decoder_init13(d, 0, 0x1302, ms, 32), ==, MW_TLS_DEC_BAD_INPUT);
    g_assert_cmpint(mw_tls_decoder_init13(d, 0, 0xC02F, ms, 32), ==, MW_TLS_DEC_UNSUPPORTED);
    g_assert_cmpint(mw_tls_decoder_key_update(d, 0), ==, MW_TLS_DEC_NO_KEYS);
    /* Too long, and too short for a tag. */
    g_assert_cmpint(mw_tls_decoder_init13(d, 0, 0x1301, ms, 32), ==, MW_TLS_DEC_OK);
    static uint8_t big[MW_TLS_MAX_CIPHERTEXT + 1];
    g_assert_cmpint(mw_tls_decrypt_record(d, 0, 23, 0x0303, big, MW_TLS13_MAX_CIPHERTEXT + 1,
                                          big, sizeof big, &n, &inner), ==, MW_TLS_DEC_TOO_LONG);
    g_assert_cmpint(mw_tls_decrypt_record(d, 0, 23, 0x0303, big, 40, out, 8, &n, &inner), ==,
                    MW_TLS_DEC_TOO_LONG);
    g_assert_true(mw_tls_decoder_keyed(d, 0)); /* TOO_LONG changes nothing */
    g_assert_cmpint(mw_tls_decrypt_record(d, 0, 23, 0x0303, big, 16, out, sizeof out, &n,
                                          &inner), ==, MW_TLS_DEC_AUTH_FAILED);
    g_assert_cmpstr(mw_tls_dec_status_name(MW_TLS_DEC_AUTH_FAILED), ==, "auth_failed");
    mw_tls_decoder_free(d);
    g_assert_nonnull(mw_tls_suite_find(0x1305));
    g_assert_null(mw_tls_suite_find(0xFEFE));
}

/* ---------- real OpenSSL connections ---------- */

typedef struct {
    const char *path;
    int version;          /* TLS1_VERSION ... TLS1_3_VERSION */
    const char *ciphers;  /* TLS <= 1.2 cipher list */
    const char *suites13; /* TLS 1.3 ciphersuites */
    bool no_etm;
    uint16_t suite;       /* what must be negotiated */
} tcase;

/* The server's throw-away key and self-signed certificate, made once. */
typedef struct {
    EVP_PKEY *key;
    X509 *cert;
} identity;

static identity *make_identity(void)
{
    identity *id = g_new0(identity, 1);
    id->key = EVP_RSA_gen(2048);
    g_assert_nonnull(id->key);
    id->cert = X509_new();
    X509_set_version(id->cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(id->cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(id->cert), 3600);
    X509_NAME *name = X509_get_subject_name(id->cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"mail.test",
                               -1, -1, 0);
    X509_set_issuer_name(id->cert, name);
    X509_set_pubkey(id->cert, id->key);
    g_assert_cmpint(X509_sign(id->cert, id->key, EVP_sha256()), >, 0);
    return id;
}

static void keylog_cb(const SSL *ssl, const char *line)
{
    GString *log = SSL_get_app_data(ssl);
    g_string_append_printf(log, "%s\n", line);
}

/* Both ends of one connection, the bytes each sent, and what each application sent. */
typedef struct {
    SSL_CTX *ctx[2];
    SSL *ssl[2]; /* [MW_TLS_FROM_CLIENT] the client, [MW_TLS_FROM_SERVER] the server */
    BIO *in[2], *out[2];
    GByteArray *wire[2], *sent[2];
    GString *keylog;
} conn;

static SSL_CTX *make_ctx(const tcase *tc, bool server, const identity *id)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    g_assert_nonnull(ctx);
    if (tc->version < TLS1_2_VERSION)
        SSL_CTX_set_security_level(ctx, 0);
    g_assert_true(SSL_CTX_set_min_proto_version(ctx, tc->version));
    g_assert_true(SSL_CTX_set_max_proto_version(ctx, tc->version));
    if (tc->ciphers)
        g_assert_true(SSL_CTX_set_cipher_list(ctx, tc->ciphers));
    if (tc->suites13)
        g_assert_true(SSL_CTX_set_ciphersuites(ctx, tc->suites13));
    if (tc->no_etm)
        SSL_CTX_set_options(ctx, SSL_OP_NO_ENCRYPT_THEN_MAC);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (server) {
        g_assert_true(SSL_CTX_use_certificate(ctx, id->cert));
        g_assert_true(SSL_CTX_use_PrivateKey(ctx, id->key));
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_keylog_callback(ctx, keylog_cb);
    }
    return ctx;
}

/* Moves what each side wrote to the other, keeping a copy. */
static void pump(conn *c)
{
    uint8_t buf[4096];
    for (int d = 0; d < 2; d++) {
        int n;
        while ((n = BIO_read(c->out[d], buf, sizeof buf)) > 0) {
            g_byte_array_append(c->wire[d], buf, (guint)n);
            g_assert_cmpint(BIO_write(c->in[!d], buf, n), ==, n);
        }
    }
}

static conn *conn_open(const tcase *tc, const identity *id)
{
    conn *c = g_new0(conn, 1);
    c->keylog = g_string_new(NULL);
    for (int d = 0; d < 2; d++) {
        c->ctx[d] = make_ctx(tc, d == MW_TLS_FROM_SERVER, id);
        c->ssl[d] = SSL_new(c->ctx[d]);
        c->in[d] = BIO_new(BIO_s_mem());
        c->out[d] = BIO_new(BIO_s_mem());
        SSL_set_bio(c->ssl[d], c->in[d], c->out[d]);
        c->wire[d] = g_byte_array_new();
        c->sent[d] = g_byte_array_new();
    }
    SSL_set_app_data(c->ssl[MW_TLS_FROM_CLIENT], c->keylog);
    SSL_set_connect_state(c->ssl[MW_TLS_FROM_CLIENT]);
    SSL_set_accept_state(c->ssl[MW_TLS_FROM_SERVER]);
    for (int i = 0; i < 20; i++) {
        int a = SSL_do_handshake(c->ssl[0]);
        pump(c);
        int b = SSL_do_handshake(c->ssl[1]);
        pump(c);
        if (a == 1 && b == 1)
            return c;
    }
    ERR_print_errors_fp(stderr);
    g_error("%s: handshake did not finish", tc->path);
}

/* from's application writes n bytes; the peer reads them all. */
static void talk(conn *c, int from, const uint8_t *p, size_t n)
{
    size_t w = 0;
    g_assert_true(SSL_write_ex(c->ssl[from], p, n, &w));
    g_assert_cmpuint(w, ==, n);
    g_byte_array_append(c->sent[from], p, (guint)n);
    pump(c);
    uint8_t buf[32768];
    size_t total = 0, got;
    while (total < n) {
        g_assert_true(SSL_read_ex(c->ssl[!from], buf, sizeof buf, &got));
        g_assert_cmpmem(buf, got, p + total, got);
        total += got;
        pump(c); /* a KeyUpdate answered, a ticket, ... */
    }
}

static void conn_close(conn *c)
{
    SSL_shutdown(c->ssl[0]);
    pump(c);
    SSL_shutdown(c->ssl[1]);
    pump(c);
}

static void conn_free(conn *c)
{
    for (int d = 0; d < 2; d++) {
        SSL_free(c->ssl[d]);
        SSL_CTX_free(c->ctx[d]);
        g_byte_array_unref(c->wire[d]);
        g_byte_array_unref(c->sent[d]);
    }
    g_string_free(c->keylog, TRUE);
    g_free(c);
}

/* ---------- the observer: what the TLS dissector will do ---------- */

typedef struct {
    uint8_t type;
    uint16_t version;
    const uint8_t *frag;
    size_t len;
} rec;

static GArray *split_records(const GByteArray *wire)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(rec));
    size_t at = 0;
    while (at + 5 <= wire->len) {
        rec r = { wire->data[at], (uint16_t)(wire->data[at + 1] << 8 | wire->data[at + 2]),
                  wire->data + at + 5, (size_t)(wire->data[at + 3] << 8 | wire->data[at + 4]) };
        g_assert_cmpuint(at + 5 + r.len, <=, wire->len);
        g_array_append_val(a, r);
        at += 5 + r.len;
    }
    g_assert_cmpuint(at, ==, wire->len);
    return a;
}

typedef struct {
    const mw_keylog *kl;
    mw_tls_decoder *dec;
    uint8_t client_random[32], server_random[32];
    uint16_t version, suite;
    bool etm;
    long flip_dir, flip_at; /* the record to corrupt, or -1 */
    bool flip_last; /* flip the last byte (the tag / MAC / padding), not a middle one */
    int place; /* 0: out of place; 1: in place (mw_tls_decrypt_record_in_place); 2: both, by turns */
    /* results */
    GByteArray *app[2];
    unsigned decrypted[2], alerts[2], key_updates[2];
    long first_app[2];       /* index of the first application data record */
    long failed_at[2];       /* index of the AUTH_FAILED record, or -1 */
    unsigned after_failure[2]; /* NO_KEYS after it */
} observer;

static const uint8_t *find_secret(const observer *o, mw_keylog_kind kind, size_t *len)
{
    const uint8_t *s = mw_keylog_find(o->kl, o->client_random, kind, len);
    g_assert_nonnull(s);
    return s;
}

/* Handshake messages of one decrypted record (TLS 1.3): a Finished or a KeyUpdate means
 * new keys from the next record on (RFC 8446 §5.1: key changes align with records). */
static void scan_handshake(GByteArray *hs, const uint8_t *p, size_t n, bool *finished,
                           bool *key_update)
{
    g_byte_array_append(hs, p, (guint)n);
    while (hs->len >= 4) {
        size_t mlen = (size_t)(hs->data[1] << 16 | hs->data[2] << 8 | hs->data[3]);
        if (hs->len < 4 + mlen)
            break;
        if (hs->data[0] == 20)
            *finished = true;
        if (hs->data[0] == 24)
            *key_update = true;
        g_byte_array_remove_range(hs, 0, (guint)(4 + mlen));
    }
}

/* Each TLS <= 1.2 direction keyed twice at its ChangeCipherSpec: the second client init12
 * takes the key block kept from the first, the server's first one the same block (which
 * is then dropped), its second one makes it again. Every record must still open. */
static bool init12_twice;

static void observe_direction(observer *o, mw_tls_dir dir, GArray *recs)
{
    bool tls13 = o->version == TLS1_3_VERSION;
    bool keyed = false;
    GByteArray *hs = g_byte_array_new();
    static uint8_t out[MW_TLS_MAX_CIPHERTEXT];
    static uint8_t copy[MW_TLS_MAX_CIPHERTEXT];
    for (guint i = 0; i < recs->len; i++) {
        rec r = g_array_index(recs, rec, i);
        if (r.type == 20) { /* ChangeCipherSpec: 1.3 ignores it; before, keys start here */
            if (!tls13) {
                size_t ml = 0;
                const uint8_t *ms = find_secret(o, MW_KEYLOG_CLIENT_RANDOM, &ml);
                for (int k = 0; k < (init12_twice ? 2 : 1); k++)
                    g_assert_cmpint(mw_tls_decoder_init12(o->dec, dir, o->version, o->suite,
                                                          o->client_random, o->server_random,
                                                          ms, ml, o->etm), ==, MW_TLS_DEC_OK);
                keyed = true;
            }
            continue;
        }
        if (tls13 && !keyed && r.type == 23) {
            size_t sl = 0;
            const uint8_t *s = find_secret(o, dir == MW_TLS_FROM_CLIENT
                                                  ? MW_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC
                                                  : MW_KEYLOG_SERVER_HANDSHAKE_TRAFFIC, &sl);
            g_assert_cmpint(mw_tls_decoder_init13(o->dec, dir, o->suite, s, sl), ==,
                            MW_TLS_DEC_OK);
            keyed = true;
        }
        if (!keyed)
            continue; /* plain-text hello */
        const uint8_t *frag = r.frag;
        if (o->flip_dir == dir && o->flip_at == (long)i) {
            memcpy(copy, r.frag, r.len);
            copy[o->flip_last ? r.len - 1 : r.len / 2] ^= 0x10;
            frag = copy;
        }
        size_t n = 0;
        uint8_t inner = 0;
        const uint8_t *pt = out;
        mw_tls_dec_status st;
        if (o->place == 1 || (o->place == 2 && i % 2)) {
            static uint8_t own[MW_TLS_MAX_CIPHERTEXT];
            size_t off = 0;
            memcpy(own, frag, r.len);
            st = mw_tls_decrypt_record_in_place(o->dec, dir, r.type, r.version, own, r.len,
                                                &off, &n, &inner);
            g_assert_cmpuint(off + n, <=, r.len);
            pt = own + off;
        } else {
            st = mw_tls_decrypt_record(o->dec, dir, r.type, r.version, frag, r.len, out,
                                       sizeof out, &n, &inner);
        }
        if (o->failed_at[dir] >= 0) {
            g_assert_cmpint(st, ==, MW_TLS_DEC_NO_KEYS);
            o->after_failure[dir]++;
            continue;
        }
        if (st == MW_TLS_DEC_AUTH_FAILED && o->flip_dir >= 0) {
            o->failed_at[dir] = (long)i;
            continue;
        }
        g_assert_cmpstr(mw_tls_dec_status_name(st), ==, "ok");
        o->decrypted[dir]++;
        bool finished = false, key_update = false;
        switch (inner) {
        case 22:
            if (tls13)
                scan_handshake(hs, pt, n, &finished, &key_update);
            break;
        case 23:
            if (o->first_app[dir] < 0)
                o->first_app[dir] = (long)i;
            g_byte_array_append(o->app[dir], pt, (guint)n);
            break;
        case 21:
            g_assert_cmpuint(n, ==, 2);
            g_assert_cmpuint(pt[1], ==, 0); /* close_notify */
            o->alerts[dir]++;
            break;
        default:
            g_error("inner content type %u", inner);
        }
        if (finished) {
            size_t sl = 0;
            const uint8_t *s = find_secret(o, dir == MW_TLS_FROM_CLIENT
                                                  ? MW_KEYLOG_CLIENT_TRAFFIC_0
                                                  : MW_KEYLOG_SERVER_TRAFFIC_0, &sl);
            g_assert_cmpint(mw_tls_decoder_init13(o->dec, dir, o->suite, s, sl), ==,
                            MW_TLS_DEC_OK);
        }
        if (key_update) {
            g_assert_cmpint(mw_tls_decoder_key_update(o->dec, dir), ==, MW_TLS_DEC_OK);
            o->key_updates[dir]++;
        }
    }
    g_byte_array_unref(hs);
}

/* Runs the observer over both directions of c. */
static observer *observe(conn *c, const mw_keylog *kl, uint16_t version, bool etm,
                         long flip_dir, long flip_at, int place, bool flip_last)
{
    observer *o = g_new0(observer, 1);
    o->kl = kl;
    o->dec = mw_tls_decoder_new();
    o->version = version;
    o->etm = etm;
    o->flip_dir = flip_dir;
    o->flip_at = flip_at;
    o->place = place;
    o->flip_last = flip_last;
    GArray *recs[2];
    for (int d = 0; d < 2; d++) {
        recs[d] = split_records(c->wire[d]);
        o->app[d] = g_byte_array_new();
        o->first_app[d] = -1;
        o->failed_at[d] = -1;
    }
    /* The hellos: randoms at offset 6 of the handshake message (type, length(3),
     * version(2)); the suite after the ServerHello's session id. */
    rec ch = g_array_index(recs[0], rec, 0), sh = g_array_index(recs[1], rec, 0);
    g_assert_cmpuint(ch.type, ==, 22);
    g_assert_cmpuint(ch.frag[0], ==, 1);
    g_assert_cmpuint(sh.frag[0], ==, 2);
    memcpy(o->client_random, ch.frag + 6, 32);
    memcpy(o->server_random, sh.frag + 6, 32);
    size_t sid = sh.frag[38];
    o->suite = (uint16_t)(sh.frag[39 + sid] << 8 | sh.frag[40 + sid]);
    for (int d = 0; d < 2; d++) {
        observe_direction(o, (mw_tls_dir)d, recs[d]);
        g_array_unref(recs[d]);
    }
    return o;
}

static void observer_free(observer *o)
{
    mw_tls_decoder_free(o->dec);
    g_byte_array_unref(o->app[0]);
    g_byte_array_unref(o->app[1]);
    g_free(o);
}

/* OpenSSL logs the secret after a KeyUpdate as CLIENT_TRAFFIC_SECRET_N (the store ignores
 * it): it must be HKDF-Expand-Label(secret_0, "traffic upd", "", Hash.length). */
static void check_traffic_update(const GString *log, const mw_keylog *kl, uint16_t suite)
{
    gchar **lines = g_strsplit(log->str, "\n", -1);
    unsigned seen = 0;
    for (gchar **l = lines; *l; l++) {
        gchar **f = g_strsplit(*l, " ", -1);
        bool client = g_strcmp0(f[0], "CLIENT_TRAFFIC_SECRET_N") == 0;
        if (client || g_strcmp0(f[0], "SERVER_TRAFFIC_SECRET_N") == 0) {
            GByteArray *random = unhex(f[1]), *want = unhex(f[2]);
            size_t n = 0;
            const uint8_t *s0 = mw_keylog_find(
                kl, random->data, client ? MW_KEYLOG_CLIENT_TRAFFIC_0 : MW_KEYLOG_SERVER_TRAFFIC_0,
                &n);
            g_assert_nonnull(s0);
            const mw_tls_suite *su = mw_tls_suite_find(suite);
            uint8_t next[48];
            g_assert_cmpuint(n, ==, mw_tls_hash_len(su->prf_hash));
            g_assert_true(mw_tls13_expand_label(su->prf_hash, s0, n, "traffic upd", NULL, 0,
                                                next, n));
            g_assert_cmpmem(next, n, want->data, want->len);
            seen++;
            g_byte_array_unref(random);
            g_byte_array_unref(want);
        }
        g_strfreev(f);
    }
    g_strfreev(lines);
    g_assert_cmpuint(seen, ==, 2);
}

static identity *the_identity;

/* Can this OpenSSL build negotiate tc at all (3DES is often compiled out)? */
static bool available(const tcase *tc)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    bool ok = !tc->ciphers || SSL_CTX_set_cipher_list(ctx, tc->ciphers);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static void test_openssl(gconstpointer data)
{
    const tcase *tc = data;
    if (!available(tc)) {
        g_test_skip("this OpenSSL lacks the suite");
        return;
    }
    conn *c = conn_open(tc, the_identity);
    g_assert_cmpint(SSL_version(c->ssl[1]), ==, tc->version);
    g_assert_cmpuint(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(c->ssl[1])), ==,
                     tc->suite);

    /* Several exchanges, one over several records (and so at the largest record). */
    static uint8_t big[40000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 31 + 7);
    talk(c, 0, (const uint8_t *)"EHLO client.test\r\n", 18);
    talk(c, 1, (const uint8_t *)"250 mail.test\r\n", 15);
    talk(c, 0, big, sizeof big);
    talk(c, 1, big + 1, 1000);
    if (tc->version == TLS1_3_VERSION) {
        /* The client updates its keys and asks the server to do the same. */
        g_assert_true(SSL_key_update(c->ssl[0], SSL_KEY_UPDATE_REQUESTED));
        talk(c, 0, (const uint8_t *)"QUIT\r\n", 6);
        talk(c, 1, (const uint8_t *)"221 bye\r\n", 9);
        talk(c, 0, big, 20000);
    }
    conn_close(c);

    mw_keylog *kl = mw_keylog_new();
    mw_keylog_add_buffer(kl, "openssl keylog", c->keylog->str, c->keylog->len);
    mw_keylog_stats st = mw_keylog_get_stats(kl);
    g_assert_cmpuint(st.malformed, ==, 0);
    g_assert_cmpuint(st.secrets, ==, tc->version == TLS1_3_VERSION ? 4 : 1);

    bool cbc = mw_tls_suite_find(tc->suite)->kind == MW_TLS_KIND_CBC;
    bool etm = cbc && !tc->no_etm;
    uint16_t version = (uint16_t)tc->version;
    /* Out of place, in place, and the two by turns on the same keys (the TLS 1.2 GCM and
     * ChaCha contexts switch between OpenSSL's TLS AEAD mode and the plain one). */
    long first = -1;
    for (int place = 0; place < 3; place++) {
        observer *o = observe(c, kl, version, etm, -1, -1, place, false);
        for (int d = 0; d < 2; d++) {
            g_assert_cmpmem(o->app[d]->data, o->app[d]->len, c->sent[d]->data,
                            c->sent[d]->len);
            g_assert_cmpuint(o->alerts[d], ==, 1);
            g_assert_cmpint(o->first_app[d], >, 0);
        }
        if (tc->version == TLS1_3_VERSION) {
            if (place == 0)
                check_traffic_update(c->keylog, kl, tc->suite);
            g_assert_cmpuint(o->key_updates[0], ==, 1);
            g_assert_cmpuint(o->key_updates[1], ==, 1);
        }
        first = o->first_app[MW_TLS_FROM_CLIENT];
        observer_free(o);
    }
    if (tc->version != TLS1_3_VERSION) {
        init12_twice = true;
        observer *o = observe(c, kl, version, etm, -1, -1, 0, false);
        init12_twice = false;
        for (int d = 0; d < 2; d++)
            g_assert_cmpmem(o->app[d]->data, o->app[d]->len, c->sent[d]->data,
                            c->sent[d]->len);
        observer_free(o);
    }

    /* One ciphertext bit flipped in the client's first data record: AUTH_FAILED there,
     * nothing more from the client; the server's direction is untouched. In place too,
     * and with the last byte (the tag, MAC or padding) flipped instead. */
    observer *o;
    for (int place = 0; place < 4; place++) {
        o = observe(c, kl, version, etm, MW_TLS_FROM_CLIENT, first, place % 2, place >= 2);
        g_assert_cmpint(o->failed_at[0], ==, first);
        g_assert_cmpuint(o->after_failure[0], >, 0);
        g_assert_cmpint(o->failed_at[1], ==, -1);
        g_assert_cmpmem(o->app[1]->data, o->app[1]->len, c->sent[1]->data, c->sent[1]->len);
        observer_free(o);
    }

    if (cbc) {
        /* The wrong encrypt_then_mac setting cannot pass the MAC: the first encrypted
         * record (Finished) fails. */
        o = observe(c, kl, version, !etm, MW_TLS_FROM_CLIENT, -2, 1, false);
        g_assert_cmpint(o->failed_at[0], >, 0);
        g_assert_cmpuint(o->decrypted[0], ==, 0);
        observer_free(o);
    }
    mw_keylog_free(kl);
    conn_free(c);
}

static const tcase cases[] = {
    { "/tls-decrypt/openssl/tls13-aes128gcm", TLS1_3_VERSION, NULL, "TLS_AES_128_GCM_SHA256",
      false, 0x1301 },
    { "/tls-decrypt/openssl/tls13-aes256gcm", TLS1_3_VERSION, NULL, "TLS_AES_256_GCM_SHA384",
      false, 0x1302 },
    { "/tls-decrypt/openssl/tls13-chacha20", TLS1_3_VERSION, NULL,
      "TLS_CHACHA20_POLY1305_SHA256", false, 0x1303 },
    { "/tls-decrypt/openssl/tls13-aes128ccm", TLS1_3_VERSION, NULL, "TLS_AES_128_CCM_SHA256",
      false, 0x1304 },
    { "/tls-decrypt/openssl/tls13-aes128ccm8", TLS1_3_VERSION, NULL,
      "TLS_AES_128_CCM_8_SHA256", false, 0x1305 },
    { "/tls-decrypt/openssl/tls12-ecdhe-aes128gcm", TLS1_2_VERSION,
      "ECDHE-RSA-AES128-GCM-SHA256", NULL, false, 0xC02F },
    { "/tls-decrypt/openssl/tls12-ecdhe-aes256gcm", TLS1_2_VERSION,
      "ECDHE-RSA-AES256-GCM-SHA384", NULL, false, 0xC030 },
    { "/tls-decrypt/openssl/tls12-ecdhe-chacha20", TLS1_2_VERSION,
      "ECDHE-RSA-CHACHA20-POLY1305", NULL, false, 0xCCA8 },
    { "/tls-decrypt/openssl/tls12-rsa-aes128ccm", TLS1_2_VERSION, "AES128-CCM", NULL, false,
      0xC09C },
    { "/tls-decrypt/openssl/tls12-rsa-aes256ccm8", TLS1_2_VERSION, "AES256-CCM8", NULL, false,
      0xC0A1 },
    { "/tls-decrypt/openssl/tls12-ecdhe-aes128-sha-etm", TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA",
      NULL, false, 0xC013 },
    { "/tls-decrypt/openssl/tls12-ecdhe-aes128-sha-mte", TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA",
      NULL, true, 0xC013 },
    { "/tls-decrypt/openssl/tls12-ecdhe-aes128-sha256-etm", TLS1_2_VERSION,
      "ECDHE-RSA-AES128-SHA256", NULL, false, 0xC027 },
    { "/tls-decrypt/openssl/tls12-ecdhe-aes128-sha256-mte", TLS1_2_VERSION,
      "ECDHE-RSA-AES128-SHA256", NULL, true, 0xC027 },
    { "/tls-decrypt/openssl/tls12-ecdhe-aes256-sha384-etm", TLS1_2_VERSION,
      "ECDHE-RSA-AES256-SHA384", NULL, false, 0xC028 },
    { "/tls-decrypt/openssl/tls12-ecdhe-aes256-sha384-mte", TLS1_2_VERSION,
      "ECDHE-RSA-AES256-SHA384", NULL, true, 0xC028 },
    { "/tls-decrypt/openssl/tls11-ecdhe-aes128-sha-etm", TLS1_1_VERSION,
      "ECDHE-RSA-AES128-SHA:@SECLEVEL=0", NULL, false, 0xC013 },
    { "/tls-decrypt/openssl/tls11-ecdhe-aes128-sha-mte", TLS1_1_VERSION,
      "ECDHE-RSA-AES128-SHA:@SECLEVEL=0", NULL, true, 0xC013 },
    { "/tls-decrypt/openssl/tls10-ecdhe-aes256-sha-etm", TLS1_VERSION,
      "ECDHE-RSA-AES256-SHA:@SECLEVEL=0", NULL, false, 0xC014 },
    { "/tls-decrypt/openssl/tls10-ecdhe-aes256-sha-mte", TLS1_VERSION,
      "ECDHE-RSA-AES256-SHA:@SECLEVEL=0", NULL, true, 0xC014 },
    { "/tls-decrypt/openssl/tls12-rsa-3des-sha", TLS1_2_VERSION, "DES-CBC3-SHA:@SECLEVEL=0",
      NULL, true, 0x000A },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tls-decrypt/rfc8448/keys", test_rfc8448_keys);
    g_test_add_func("/tls-decrypt/rfc8448/records", test_rfc8448_records);
    g_test_add_func("/tls-decrypt/rfc8448/flipped-bits", test_rfc8448_flipped_bits);
    g_test_add_func("/tls-decrypt/context-pool", test_context_pool);
    g_test_add_func("/tls-decrypt/context-pool/suites", test_context_pool_suites);
    g_test_add_func("/tls-decrypt/api-edges", test_api_edges);
    the_identity = make_identity();
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        g_test_add_data_func(cases[i].path, &cases[i], test_openssl);
    int r = g_test_run();
    EVP_PKEY_free(the_identity->key);
    X509_free(the_identity->cert);
    g_free(the_identity);
    return r;
}
