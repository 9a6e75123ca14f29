/* TLS decryption end to end through the TLS dissector: a real OpenSSL client and server in
 * memory speak SMTP over implicit TLS (TLS 1.3 and 1.2); their wire bytes, packet by
 * packet, go through the feeder with the client's key log, whole, byte by byte and split
 * at every offset of every packet: the record and the transcript must be the same, and
 * say what happened inside (greeting, EHLO, AUTH failure, QUIT).
 * Late keys: the key log is a followed file that gets its lines only after the session's
 * first records (held, then decrypted in order; past --tls-hold-records dropped, counted).
 * 0-RTT: a recorded resumed session whose EHLO went as early data, read with
 * CLIENT_EARLY_TRAFFIC_SECRET, and counted as unread without it. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pcap/pcap.h>
#include <stdio.h>

#include "testutil.h"
#include "tls/decrypt/keylog.h"
#include "tls/tls_log.h"
#include "tls/tls_state.h"

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

/* A client and a server that have not spoken yet. */
static pair *pair_new(int version)
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
    return p;
}

static pair *pair_handshake(pair *p)
{
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

static pair *pair_open(int version)
{
    return pair_handshake(pair_new(version));
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

/* ---------- late keys ---------- */

/* Runs chunks through the TLS dissector like tu_run (whole chunks); before chunk `at` the
 * key log text goes into the followed file `path` (and the refresh interval passes). */
static mw_session *run_keys_at(GPtrArray *chunks, mw_keylog *kl, const char *path,
                               const GString *keys, guint at, size_t hold)
{
    static mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.keylog = kl;
    cfg.tls_hold_records = hold;
    mw_session *s = mw_session_new(1);
    mw_session_keep_transcript(s);
    s->protocol = MW_PROTO_SMTPS;
    s->syn_seen = s->synack_seen = true;
    s->client.family = s->server.family = 4;
    mw_feeder f;
    mw_feeder_init(&f, mw_dissector_by_name("tls"), s, &cfg);
    uint64_t frame = 0;
    for (guint i = 0; i < chunks->len; i++) {
        if (i == at && keys) {
            g_assert_true(g_file_set_contents(path, keys->str, (gssize)keys->len, NULL));
            g_usleep(MW_TLS_KEYLOG_REFRESH_US + 20000);
        }
        tu_chunk *c = g_ptr_array_index(chunks, i);
        s->bytes[c->dir] += c->bytes->len;
        frame++;
        tu_feed_guarded(&f, c->dir, c->bytes->data, c->bytes->len, frame);
    }
    s->close_reason = MW_CLOSE_FIN;
    mw_feeder_close(&f, frame + 1, (int64_t)(frame + 1) * 1000);
    mw_feeder_free(&f);
    mw_session_finish(s);
    return s;
}

/* The SMTPS conversation of smtps_auth_failed; *keys_at: the chunk after the client's
 * EHLO (the keys come only then: the server's whole encrypted flight, its greeting, the
 * client's Finished and EHLO are held until they do). */
static pair *auth_failed_pair(int version, guint *keys_at)
{
    pair *p = pair_open(version);
    say(p, 1, "220 mail.test ESMTP\r\n");
    say(p, 0, "EHLO client.test\r\n");
    *keys_at = p->chunks->len;
    say(p, 1, "250-mail.test\r\n250 AUTH PLAIN\r\n");
    say(p, 0, "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABXcm9uZy1QYTU1d29yZA==\r\n");
    say(p, 1, "535 5.7.8 Error: authentication failed\r\n");
    say(p, 0, "QUIT\r\n");
    say(p, 1, "221 2.0.0 Bye\r\n");
    SSL_shutdown(p->ssl[0]);
    pump(p);
    return p;
}

static mw_session *late_run(pair *p, guint at, size_t hold, bool keys_come)
{
    char *path = g_build_filename(g_get_tmp_dir(), "mw-test-late-keys-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    mw_keylog *kl = mw_keylog_new();
    g_assert_true(mw_keylog_add_file(kl, path, true));
    mw_session *s = run_keys_at(p->chunks, kl, path, keys_come ? p->keylog : NULL, at, hold);
    mw_keylog_free(kl);
    unlink(path);
    g_free(path);
    return s;
}

static void late_keys(int version)
{
    guint at;
    pair *p = auth_failed_pair(version, &at);
    mw_session *s = late_run(p, at, MW_DEFAULT_TLS_HOLD_RECORDS, true);
    g_assert_true(mw_tls_of(s)->decrypted);
    g_assert_cmpint(mw_tls_of(s)->keys, ==, MW_TLS_KEYS_FOUND);
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_cmpint(s->outcome, ==, MW_OUT_REJECTED);
    char *t = tu_transcript_ex(s, true);
    /* the held greeting and EHLO with their own frames, in order, before the reply */
    const char *greet = strstr(t, "S< 220 mail.test ESMTP"), *ehlo = strstr(t, "C> EHLO client.test"),
               *reply = strstr(t, "S< 250"), *fail = strstr(t, "S< 535 5.7.8");
    g_assert_nonnull(greet);
    g_assert_nonnull(ehlo);
    g_assert_true(greet < ehlo && ehlo < reply && reply < fail);
    g_assert_null(strstr(t, "not decrypted"));
    g_free(t);
    mw_session_free(s);

    /* a hold too small for the server's first records (TLS 1.3: EncryptedExtensions,
     * Certificate, CertificateVerify, Finished; 1.2: Finished, the greeting): they are
     * dropped, counted, said */
    size_t cap = version == TLS1_3_VERSION ? 2 : 1;
    s = late_run(p, at, cap, true);
    t = tu_transcript(s);
    g_assert_true(s->encrypted);
    char *said = g_strdup_printf("S< [%zu encrypted records from the server not decrypted: their "
                                 "keys did not come within %zu record%s (--tls-hold-records)]",
                                 cap + 1, cap, cap == 1 ? "" : "s");
    g_assert_nonnull(strstr(t, said));
    g_free(said);
    g_assert_null(strstr(t, "S< 220 mail.test")); /* dropped */
    if (version == TLS1_3_VERSION) {
        /* its Finished went by unread: nothing of the server after it either */
        g_assert_false(mw_session_has(s, MW_FLAG_AUTH_FAILED));
        g_assert_null(strstr(t, "S< 535"));
        g_assert_nonnull(strstr(t, "C> EHLO client.test")); /* fitted in the client's hold */
    } else {
        /* TLS 1.2: the dropped records are skipped by number, what follows decrypts */
        g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
        g_assert_nonnull(strstr(t, "S< 535 5.7.8"));
    }
    g_free(t);
    mw_session_free(s);

    /* the keys never come: held to the end, then dropped and said */
    s = late_run(p, at, MW_DEFAULT_TLS_HOLD_RECORDS, false);
    g_assert_cmpint(s->outcome, ==, MW_OUT_ENCRYPTED);
    g_assert_cmpint(mw_tls_of(s)->keys, ==, MW_TLS_KEYS_MISSING);
    t = tu_transcript(s);
    g_assert_nonnull(strstr(t, "not decrypted: the session ended before their keys reached "
                               "the key log]"));
    g_free(t);
    mw_session_free(s);

    /* --tls-hold-records 0: the records that passed are skipped, as before holding */
    s = late_run(p, at, 0, true);
    if (version == TLS1_3_VERSION) {
        g_assert_cmpint(s->outcome, ==, MW_OUT_ENCRYPTED); /* their Finished went by unread */
    } else {
        /* TLS 1.2: the passed records are skipped by number, the rest decrypts */
        g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    }
    mw_session_free(s);
    pair_free(p);
}

static void test_late_keys13(void)
{
    late_keys(TLS1_3_VERSION);
}

static void test_late_keys12(void)
{
    late_keys(TLS1_2_VERSION);
}

/* ---------- 0-RTT ---------- */

/* The TCP payloads of a one-connection Ethernet/IPv4 capture, as chunks (the client: the
 * side that sent the SYN). pcaps/keyed-smtps465-early-data-tls13.pcap is a real 0-RTT
 * session: openssl s_client -sess_in -early_data against openssl s_server -early_data
 * (pcaps/record.sh), its EHLO sent as early data in the ClientHello's segment. */
static GPtrArray *capture_chunks(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    g_assert_nonnull(pc);
    g_assert_cmpint(pcap_datalink(pc), ==, DLT_EN10MB);
    GPtrArray *chunks = g_ptr_array_new();
    struct pcap_pkthdr *h;
    const u_char *f;
    uint16_t client_port = 0;
    while (pcap_next_ex(pc, &h, &f) == 1) {
        g_assert_cmpuint(h->caplen, >=, 14 + 20 + 20);
        const u_char *ip = f + 14, *tcp = ip + (ip[0] & 15) * 4;
        size_t ip_len = (size_t)(ip[2] << 8 | ip[3]);
        size_t off = (size_t)(tcp - ip) + (size_t)(tcp[12] >> 4) * 4;
        uint16_t sport = (uint16_t)(tcp[0] << 8 | tcp[1]);
        if ((tcp[13] & 0x12) == 0x02)
            client_port = sport;
        if (ip_len > off)
            tu_add_raw(chunks, sport == client_port ? MW_FROM_CLIENT : MW_FROM_SERVER,
                       ip + off, ip_len - off);
    }
    pcap_close(pc);
    return chunks;
}

static mw_keylog *keylog_file_without(const char *path, const char *label)
{
    gchar *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    GString *kept = g_string_new(NULL);
    gchar **lines = g_strsplit(text, "\n", -1);
    for (gchar **l = lines; *l; l++)
        if (!label || !g_str_has_prefix(*l, label))
            g_string_append_printf(kept, "%s\n", *l);
    g_strfreev(lines);
    mw_keylog *kl = mw_keylog_new();
    mw_keylog_add_buffer(kl, "test", kept->str, kept->len);
    g_string_free(kept, TRUE);
    g_free(text);
    return kl;
}

#define EARLY_CAPTURE "pcaps/keyed-smtps465-early-data-tls13"

static void test_early_data(void)
{
    GPtrArray *chunks = capture_chunks(EARLY_CAPTURE ".pcap");
    mw_keylog *kl = keylog_file_without(EARLY_CAPTURE ".keys", NULL);
    tu_keylog = kl;
    tu_keep_transcript = true;
    mw_session *s = tu_run_all_ways("tls", MW_PROTO_SMTPS, chunks);
    g_assert_true(mw_tls_of(s)->decrypted);
    g_assert_false(s->encrypted); /* every record read, the early one too */
    char *t = tu_transcript_ex(s, true);
    /* the early EHLO, with the frame that carried it: the ClientHello's (chunk 1) */
    g_assert_nonnull(strstr(t, "#1 1000 C> EHLO client.example.org"));
    g_assert_null(strstr(t, "not decrypted"));
    g_free(t);
    mw_session_free(s);

    /* without the early secret: the EHLO cannot be read (said, counted), nor guessed; the
     * rest of the session decrypts (the client's close_notify under its traffic keys) */
    mw_keylog *kl2 = keylog_file_without(EARLY_CAPTURE ".keys", "CLIENT_EARLY_TRAFFIC_SECRET ");
    tu_keylog = kl2;
    s = tu_run("tls", MW_PROTO_SMTPS, chunks, TU_WHOLE, 0, 0);
    t = tu_transcript(s);
    g_assert_null(strstr(t, "C> EHLO"));
    g_assert_nonnull(strstr(t, "C> [1 encrypted record from the client not decrypted: 0-RTT early "
                               "data, and the key log has no CLIENT_EARLY_TRAFFIC_SECRET for it]"));
    g_assert_true(mw_tls_of(s)->decrypted);
    g_assert_cmpuint(mw_tls_of(s)->decrypted_records[MW_FROM_CLIENT], >, 0);
    g_assert_true(s->encrypted); /* a record of it stayed unread */
    g_assert_false(s->anomalies & (1u << MW_ANOM_TLS_DECRYPT_FAILED));
    g_free(t);
    mw_session_free(s);
    tu_keylog = NULL;
    tu_keep_transcript = false;
    mw_keylog_free(kl2);
    mw_keylog_free(kl);
    tu_free_script(chunks);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    make_identity();
    g_test_add_func("/tls_inner/smtps_tls13_split_everywhere", test_tls13);
    g_test_add_func("/tls_inner/smtps_tls12_split_everywhere", test_tls12);
    g_test_add_func("/tls_inner/late_keys_tls13", test_late_keys13);
    g_test_add_func("/tls_inner/late_keys_tls12", test_late_keys12);
    g_test_add_func("/tls_inner/early_data_tls13", test_early_data);
    int rc = g_test_run();
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
