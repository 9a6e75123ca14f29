/* TLS decryption end to end through the TLS dissector: a real OpenSSL client and server in
 * memory speak SMTP over implicit TLS (TLS 1.3 and 1.2); their wire bytes, packet by
 * packet, go through the feeder with the client's key log, whole, byte by byte and split
 * at every offset of every packet: the record and the transcript must be the same, and
 * say what happened inside (greeting, EHLO, AUTH failure, QUIT). */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "testutil.h"
#include "tls/decrypt/keylog.h"
#include "tls/tls_log.h"

typedef struct {
    SSL_CTX *ctx[2];
    SSL *ssl[2];
    BIO *in[2], *out[2];
    GPtrArray *chunks; /* tu_chunk: what each side sent, one chunk per write */
    GString *keylog;
} pair;

static EVP_PKEY *key;
static X509 *cert;

static void make_identity(void)
{
    key = EVP_RSA_gen(2048);
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
    /* valid around the test's packet times (near the epoch, see tu_run) */
    ASN1_TIME_set(X509_getm_notBefore(cert), 0);
    ASN1_TIME_set(X509_getm_notAfter(cert), 86400);
    X509_NAME *n = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"mail.test", -1,
                               -1, 0);
    X509_set_issuer_name(cert, n);
    X509_set_pubkey(cert, key);
    X509_sign(cert, key, EVP_sha256());
}

static void keylog_cb(const SSL *ssl, const char *line)
{
    g_string_append_printf(SSL_get_app_data(ssl), "%s\n", line);
}

static void pump(pair *p)
{
    uint8_t buf[16384];
    for (int d = 0; d < 2; d++) {
        int n;
        while ((n = BIO_read(p->out[d], buf, sizeof buf)) > 0) {
            tu_add_raw(p->chunks, (mw_dir)d, buf, (size_t)n);
            BIO_write(p->in[!d], buf, n);
        }
    }
}

static pair *pair_open(int version)
{
    pair *p = g_new0(pair, 1);
    p->chunks = g_ptr_array_new();
    p->keylog = g_string_new(NULL);
    for (int d = 0; d < 2; d++) {
        p->ctx[d] = SSL_CTX_new(d ? TLS_server_method() : TLS_client_method());
        SSL_CTX_set_min_proto_version(p->ctx[d], version);
        SSL_CTX_set_max_proto_version(p->ctx[d], version);
        SSL_CTX_set_options(p->ctx[d], SSL_OP_NO_TICKET);
        if (d) {
            SSL_CTX_use_certificate(p->ctx[d], cert);
            SSL_CTX_use_PrivateKey(p->ctx[d], key);
        } else {
            SSL_CTX_set_verify(p->ctx[d], SSL_VERIFY_NONE, NULL);
            SSL_CTX_set_keylog_callback(p->ctx[d], keylog_cb);
        }
        p->ssl[d] = SSL_new(p->ctx[d]);
        p->in[d] = BIO_new(BIO_s_mem());
        p->out[d] = BIO_new(BIO_s_mem());
        SSL_set_bio(p->ssl[d], p->in[d], p->out[d]);
    }
    SSL_set_app_data(p->ssl[0], p->keylog);
    SSL_set_connect_state(p->ssl[0]);
    SSL_set_accept_state(p->ssl[1]);
    for (int i = 0; i < 20; i++) {
        int a = SSL_do_handshake(p->ssl[0]);
        pump(p);
        int b = SSL_do_handshake(p->ssl[1]);
        pump(p);
        if (a == 1 && b == 1)
            return p;
    }
    g_error("handshake did not finish");
}

static void say(pair *p, int from, const char *text)
{
    size_t w;
    g_assert_true(SSL_write_ex(p->ssl[from], text, strlen(text), &w));
    pump(p);
    char buf[4096];
    size_t got;
    SSL_read_ex(p->ssl[!from], buf, sizeof buf, &got);
    pump(p);
}

static void pair_free(pair *p)
{
    for (int d = 0; d < 2; d++) {
        SSL_free(p->ssl[d]);
        SSL_CTX_free(p->ctx[d]);
    }
    tu_free_script(p->chunks);
    g_string_free(p->keylog, TRUE);
    g_free(p);
}

static void smtps_auth_failed(int version)
{
    pair *p = pair_open(version);
    say(p, 1, "220 mail.test ESMTP\r\n");
    say(p, 0, "EHLO client.test\r\n");
    say(p, 1, "250-mail.test\r\n250 AUTH PLAIN\r\n");
    say(p, 0, "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABXcm9uZy1QYTU1d29yZA==\r\n");
    say(p, 1, "535 5.7.8 Error: authentication failed\r\n");
    say(p, 0, "QUIT\r\n");
    say(p, 1, "221 2.0.0 Bye\r\n");
    SSL_shutdown(p->ssl[0]);
    pump(p);

    mw_keylog *kl = mw_keylog_new();
    mw_keylog_add_buffer(kl, "test", p->keylog->str, p->keylog->len);
    tu_keylog = kl;
    tu_keep_transcript = true;
    mw_session *s = tu_run_all_ways("tls", MW_PROTO_SMTPS, p->chunks);
    g_assert_nonnull(mw_tls_of(s));
    g_assert_true(mw_tls_of(s)->decrypted);
    g_assert_cmpint(mw_tls_of(s)->keys, ==, MW_TLS_KEYS_FOUND);
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_false(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_true(s->quit_seen);
    g_assert_cmpint(s->outcome, ==, MW_OUT_REJECTED);
    g_assert_true(mw_tls_of(s)->cert.present); /* TLS 1.3 too: read from the decrypted handshake */
    const char *pw[] = { TU_PASSWORDS, NULL };
    tu_assert_no_secret(s, pw);
    char *t = tu_transcript(s);
    g_assert_nonnull(strstr(t, "S< 535 5.7.8 Error: authentication failed"));
    g_assert_nonnull(strstr(t, "C> QUIT"));
    g_free(t);
    mw_session_free(s);

    /* the same bytes with a key log that has no key for them: encrypted, keys missing */
    mw_keylog *other = mw_keylog_new();
    mw_keylog_add_buffer(other, "other", "CLIENT_RANDOM 00 00\n", 20);
    tu_keylog = other;
    s = tu_run("tls", MW_PROTO_SMTPS, p->chunks, TU_WHOLE, 0, 0);
    g_assert_false(mw_tls_of(s)->decrypted);
    g_assert_cmpint(mw_tls_of(s)->keys, ==, MW_TLS_KEYS_MISSING);
    g_assert_cmpint(s->outcome, ==, MW_OUT_ENCRYPTED);
    mw_session_free(s);
    /* and with no key log at all */
    tu_keylog = NULL;
    s = tu_run("tls", MW_PROTO_SMTPS, p->chunks, TU_WHOLE, 0, 0);
    g_assert_cmpint(mw_tls_of(s)->keys, ==, MW_TLS_KEYS_NONE_GIVEN);
    mw_session_free(s);
    tu_keep_transcript = false;
    mw_keylog_free(other);
    mw_keylog_free(kl);
    pair_free(p);
}

static void test_tls13(void)
{
    smtps_auth_failed(TLS1_3_VERSION);
}

static void test_tls12(void)
{
    smtps_auth_failed(TLS1_2_VERSION);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    make_identity();
    g_test_add_func("/tls_inner/smtps_tls13_split_everywhere", test_tls13);
    g_test_add_func("/tls_inner/smtps_tls12_split_everywhere", test_tls12);
    int rc = g_test_run();
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
