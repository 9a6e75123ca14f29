/* TLS dissector: hellos, records and handshake messages built byte by byte here, fed
 * through the real feeder whole, byte by byte and split at every offset (records and
 * handshake messages therefore cut everywhere), with inputs ending at a guard page.
 * Certificates are made with OpenSSL at test time, signed by a test CA that is the
 * only trust anchor (mw_tls_trust_init). Packet times in these runs are in January
 * 1970 (frame N at N ms), so the certificates are dated around then. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>

#include "testutil.h"
#include "smtp/smtp_log.h"
#include "tls/tls.h"
#include "tls/tls_fp.h"
#include "tls/tls_cert.h"
#include "tls/tls_names.h"
#include "registry.h"
#include "engine/conn_verdict.h"

/* ---------- byte builders ---------- */

typedef GByteArray buf;

static void put8(buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    g_byte_array_append(b, &x, 1);
}

static void put16(buf *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void put24(buf *b, unsigned v)
{
    put8(b, v >> 16);
    put16(b, v & 0xffff);
}

static void putn(buf *b, const void *p, size_t n)
{
    g_byte_array_append(b, p, (guint)n);
}

/* Length-prefixed blocks: open returns the offset, close patches the length in. */
static size_t open_len(buf *b, int width)
{
    size_t at = b->len;
    for (int i = 0; i < width; i++)
        put8(b, 0);
    return at;
}

static void close_len(buf *b, size_t at, int width)
{
    size_t n = b->len - at - (size_t)width;
    for (int i = width - 1; i >= 0; i--, n >>= 8)
        b->data[at + (size_t)i] = (uint8_t)(n & 0xff);
}

static void put_u16_list(buf *b, const uint16_t *v, size_t n, int width)
{
    size_t at = open_len(b, width);
    for (size_t i = 0; i < n; i++)
        put16(b, v[i]);
    close_len(b, at, width);
}

static buf *record(unsigned type, unsigned version, const buf *body)
{
    buf *r = g_byte_array_new();
    put8(r, type);
    put16(r, version);
    put16(r, body->len);
    putn(r, body->data, body->len);
    return r;
}

static buf *handshake(unsigned type, const buf *body)
{
    buf *m = g_byte_array_new();
    put8(m, type);
    put24(m, body->len);
    putn(m, body->data, body->len);
    return m;
}

static void add_buf(GPtrArray *chunks, mw_dir d, buf *b)
{
    tu_add_raw(chunks, d, b->data, b->len);
    g_byte_array_free(b, TRUE);
}

/* ---------- hellos ---------- */

typedef struct {
    unsigned legacy_version;
    const uint16_t *ciphers;
    size_t n_ciphers;
    const uint16_t *ext_order; /* extension types in wire order (bodies made up here) */
    size_t n_ext;
    const uint16_t *versions;  /* supported_versions, or NULL */
    size_t n_versions;
    const uint16_t *sigalgs;
    size_t n_sigalgs;
    const char *sni;
    const char *alpn;
} hello_spec;

static void ext_body(buf *b, uint16_t type, const hello_spec *h)
{
    static const uint16_t groups[] = { 0x1a1a, 0x001d, 0x0017, 0x0018 };
    size_t at, inner;
    switch (type) {
    case 0x0000:
        at = open_len(b, 2);
        put8(b, 0);
        inner = open_len(b, 2);
        putn(b, h->sni, strlen(h->sni));
        close_len(b, inner, 2);
        close_len(b, at, 2);
        break;
    case 0x0010:
        at = open_len(b, 2);
        inner = open_len(b, 1);
        putn(b, h->alpn, strlen(h->alpn));
        close_len(b, inner, 1);
        inner = open_len(b, 1);
        putn(b, "http/1.1", 8);
        close_len(b, inner, 1);
        close_len(b, at, 2);
        break;
    case 0x000a:
        put_u16_list(b, groups, G_N_ELEMENTS(groups), 2);
        break;
    case 0x000b:
        put8(b, 1);
        put8(b, 0);
        break;
    case 0x000d:
        put_u16_list(b, h->sigalgs, h->n_sigalgs, 2);
        break;
    case 0x002b:
        at = open_len(b, 1);
        for (size_t i = 0; i < h->n_versions; i++)
            put16(b, h->versions[i]);
        close_len(b, at, 1);
        break;
    default:
        break; /* empty extension body */
    }
}

static buf *client_hello_body(const hello_spec *h)
{
    buf *b = g_byte_array_new();
    uint8_t random[32] = { 0 };
    put16(b, h->legacy_version);
    putn(b, random, 32);
    put8(b, 0); /* session id */
    put_u16_list(b, h->ciphers, h->n_ciphers, 2);
    put8(b, 1);
    put8(b, 0); /* compression: null */
    size_t exts = open_len(b, 2);
    for (size_t i = 0; i < h->n_ext; i++) {
        put16(b, h->ext_order[i]);
        size_t at = open_len(b, 2);
        ext_body(b, h->ext_order[i], h);
        close_len(b, at, 2);
    }
    close_len(b, exts, 2);
    return b;
}

static buf *client_hello_msg(const hello_spec *h)
{
    buf *body = client_hello_body(h);
    buf *m = handshake(1, body);
    g_byte_array_free(body, TRUE);
    return m;
}

static const uint8_t hrr_magic[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* selected: supported_versions value, 0 for none. */
static buf *server_hello_msg(unsigned version, unsigned cipher, unsigned selected, bool hrr)
{
    buf *b = g_byte_array_new();
    uint8_t random[32] = { 1 };
    put16(b, version);
    putn(b, hrr ? hrr_magic : random, 32);
    put8(b, 0);
    put16(b, cipher);
    put8(b, 0);
    size_t exts = open_len(b, 2);
    put16(b, 0xff01);
    put16(b, 1);
    put8(b, 0);
    if (selected) {
        put16(b, 0x002b);
        put16(b, 2);
        put16(b, selected);
    }
    close_len(b, exts, 2);
    buf *m = handshake(2, b);
    g_byte_array_free(b, TRUE);
    return m;
}

static buf *opaque_rec(unsigned type, unsigned version, size_t len)
{
    buf *body = g_byte_array_new();
    for (size_t i = 0; i < len; i++)
        put8(body, (unsigned)(i * 7 + 3));
    buf *r = record(type, version, body);
    g_byte_array_free(body, TRUE);
    return r;
}

static buf *alert_rec(unsigned level, unsigned desc)
{
    buf *body = g_byte_array_new();
    put8(body, level);
    put8(body, desc);
    buf *r = record(21, 0x0303, body);
    g_byte_array_free(body, TRUE);
    return r;
}

static void append_buf(buf *to, buf *b)
{
    putn(to, b->data, b->len);
    g_byte_array_free(b, TRUE);
}

/* ---------- certificates ---------- */

static EVP_PKEY *ca_key, *leaf_key;
static X509 *ca_cert;

/* Validity as offsets in days from the epoch (negative: 1969). */
static X509 *make_cert(const char *cn, const char *san, long nb_days, long na_days,
                       X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key, bool ca)
{
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)g_random_int_range(1, 1 << 30));
    X509_set_version(x, 2);
    ASN1_TIME_adj(X509_getm_notBefore(x), 0, (int)nb_days, 0);
    ASN1_TIME_adj(X509_getm_notAfter(x), 0, (int)na_days, 0);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Test", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(x, key);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e;
    if (ca) {
        e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (san) {
        e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    g_assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
    return x;
}

static buf *der_of(X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    g_assert_cmpint(n, >, 0);
    buf *b = g_byte_array_new();
    putn(b, der, (size_t)n);
    OPENSSL_free(der);
    return b;
}

/* A Certificate message (RFC 5246 7.4.2) carrying leaf [+ CA]. */
static buf *certificate_msg(X509 *leaf, bool with_ca)
{
    buf *body = g_byte_array_new();
    size_t list = open_len(body, 3);
    X509 *chain[2] = { leaf, with_ca ? ca_cert : NULL };
    for (int i = 0; i < 2 && chain[i]; i++) {
        buf *d = der_of(chain[i]);
        put24(body, d->len);
        putn(body, d->data, d->len);
        g_byte_array_free(d, TRUE);
    }
    close_len(body, list, 3);
    buf *m = handshake(11, body);
    g_byte_array_free(body, TRUE);
    return m;
}

static void setup_pki(void)
{
    ca_key = EVP_EC_gen("P-256");
    leaf_key = EVP_EC_gen("P-256");
    g_assert_nonnull(ca_key);
    ca_cert = make_cert("Test CA", NULL, -400, 20000, NULL, ca_key, ca_key, true);
    char *path = g_build_filename(g_get_tmp_dir(), "mailwire-test-ca-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    FILE *fp = fdopen(fd, "w");
    PEM_write_X509(fp, ca_cert);
    fclose(fp);
    char *err = NULL;
    g_assert_true(mw_tls_trust_init(path, &err));
    unlink(path);
    g_free(path);
}

/* ---------- common conversations ---------- */

static const uint16_t ciphers12[] = { 0x0a0a, 0xc02f, 0xc030, 0x009c, 0x002f, 0x00ff };
static const uint16_t exts12[] = { 0x0000, 0x000a, 0x000b, 0x000d, 0xff01 };
static const uint16_t sigalgs[] = { 0x0403, 0x0804, 0x0401 };

static hello_spec hello12(const char *sni)
{
    hello_spec h = { 0x0303, ciphers12, G_N_ELEMENTS(ciphers12), exts12, G_N_ELEMENTS(exts12),
                     NULL, 0, sigalgs, G_N_ELEMENTS(sigalgs), sni, NULL };
    return h;
}

/* A full TLS 1.2 handshake: the ClientHello split over two records, the server's flight
 * in one segment, CCS + Finished both ways, then application data. */
static GPtrArray *tls12_conversation(X509 *leaf, const char *sni, bool close_early)
{
    GPtrArray *c = g_ptr_array_new();
    hello_spec h = hello12(sni);
    buf *ch = client_hello_msg(&h);
    size_t half = ch->len / 2;
    buf *part1 = g_byte_array_new(), *part2 = g_byte_array_new();
    putn(part1, ch->data, half);
    putn(part2, ch->data + half, ch->len - half);
    buf *seg = record(22, 0x0301, part1);
    append_buf(seg, record(22, 0x0301, part2));
    g_byte_array_free(part1, TRUE);
    g_byte_array_free(part2, TRUE);
    g_byte_array_free(ch, TRUE);
    add_buf(c, MW_FROM_CLIENT, seg);

    buf *flight = server_hello_msg(0x0303, 0xc02f, 0, false);
    append_buf(flight, certificate_msg(leaf, false));
    append_buf(flight, handshake(14, &(buf){ 0 }));
    add_buf(c, MW_FROM_SERVER, record(22, 0x0303, flight));
    g_byte_array_free(flight, TRUE);
    if (close_early)
        return c;

    buf *cke = g_byte_array_new();
    put8(cke, 32);
    for (int i = 0; i < 32; i++)
        put8(cke, 0x42);
    buf *m = handshake(16, cke);
    g_byte_array_free(cke, TRUE);
    buf *cflight = record(22, 0x0303, m);
    g_byte_array_free(m, TRUE);
    buf *one = g_byte_array_new();
    put8(one, 1);
    append_buf(cflight, record(20, 0x0303, one));
    append_buf(cflight, opaque_rec(22, 0x0303, 40)); /* encrypted Finished */
    add_buf(c, MW_FROM_CLIENT, cflight);

    buf *sflight = record(20, 0x0303, one);
    append_buf(sflight, opaque_rec(22, 0x0303, 40));
    add_buf(c, MW_FROM_SERVER, sflight);
    g_byte_array_free(one, TRUE);

    add_buf(c, MW_FROM_CLIENT, opaque_rec(23, 0x0303, 100));
    add_buf(c, MW_FROM_SERVER, opaque_rec(23, 0x0303, 300));
    return c;
}

/* Every conversation runs with the transcript kept (and compared across all the ways
 * of cutting the input), and once without: the record must not depend on it. */
static mw_session *run_chunks(GPtrArray *c, mw_proto proto)
{
    return tu_run_with_transcript("tls", proto, c);
}

/* ---------- tests ---------- */

/* The suites table is searched by halving: its ends, entries between, and ids it lacks. */
static void test_cipher_names(void)
{
    g_assert_cmpstr(mw_tls_cipher_name(0x0000), ==, "TLS_NULL_WITH_NULL_NULL");
    g_assert_cmpstr(mw_tls_cipher_name(0x0005), ==, "TLS_RSA_WITH_RC4_128_SHA");
    g_assert_cmpstr(mw_tls_cipher_name(0x1301), ==, "TLS_AES_128_GCM_SHA256");
    g_assert_cmpstr(mw_tls_cipher_name(0xc02f), ==, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    g_assert_cmpstr(mw_tls_cipher_name(0xcca9), ==, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    g_assert_cmpstr(mw_tls_cipher_name(0xccaa), ==, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    g_assert_null(mw_tls_cipher_name(0x0007));
    g_assert_null(mw_tls_cipher_name(0xffff));
    g_assert_null(mw_tls_cipher_name(0x0a0a)); /* GREASE */
}

static void test_tls12_full(void)
{
    X509 *leaf = make_cert("mail.example.test", "DNS:mail.example.test,DNS:*.example.test",
                           -10, 3650, ca_cert, ca_key, leaf_key, false);
    mw_session *s = run_chunks(tls12_conversation(leaf, "mail.example.test", false),
                               MW_PROTO_SMTPS);
    g_assert_cmpuint(s->flags, ==, 0);
    g_assert_cmpint(s->outcome, ==, MW_OUT_ENCRYPTED);
    g_assert_true(s->encrypted);
    const mw_tls_rec *t = mw_tls_of(s);
    g_assert_nonnull(t);
    g_assert_true(t->handshake_done);
    g_assert_cmpstr(t->version, ==, "TLS1.2");
    g_assert_cmpstr(t->cipher, ==, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    g_assert_cmpstr(t->sni, ==, "mail.example.test");
    g_assert_cmpstr(t->hello_version, ==, "TLS1.2");
    g_assert_cmpstr(t->record_version, ==, "TLS1.0");
    g_assert_cmpuint(t->n_client_versions, ==, 1);
    g_assert_cmpstr(mw_tls_client_versions(t)[0], ==, "TLS1.2");
    g_assert_true(t->cert.present);
    g_assert_cmpstr(t->cert.subject, ==, "CN=mail.example.test,O=Test");
    g_assert_cmpstr(t->cert.issuer, ==, "CN=Test CA,O=Test");
    g_assert_cmpuint(t->cert.san->len, ==, 2);
    g_assert_false(t->cert.self_signed);
    g_assert_cmpstr(t->cert.key, ==, "EC 256");
    g_assert_cmpstr(t->cert.sig_alg, ==, "ecdsa-with-SHA256");
    g_assert_cmpuint(strlen(t->cert.sha256), ==, 64);
    g_assert_cmpuint(strlen(t->ja3), ==, 32);
    g_assert_cmpuint(strlen(t->ja3s), ==, 32);
    g_assert_cmpuint(t->app_records[MW_FROM_CLIENT], ==, 1);
    g_assert_cmpuint(t->app_bytes[MW_FROM_SERVER], ==, 300);
    g_assert_cmpuint(s->anomalies, ==, 0);
    /* the handshake summarised; the ServerHello timed from the ClientHello (frame N is
     * at N ms); encrypted data as one summary per direction */
    char *want = g_strdup_printf(
        "C> ClientHello offering TLS1.2 (SNI mail.example.test)\n"
        "S< ServerHello TLS1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (+1000 us)\n"
        "S< Certificate CN=mail.example.test (expires %.10s)\n"
        "C> [encrypted: 1 record, 100 bytes]\n"
        "S< [encrypted: 1 record, 300 bytes]\n",
        t->cert.not_after);
    tu_assert_transcript(s, want);
    g_free(want);
    g_assert_cmpuint(g_array_index(s->transcript, mw_event, 3).frame, ==, 5);
    g_assert_cmpuint(mw_session_more_get(s)->latency.timed, ==, 1);
    g_assert_cmpstr(mw_session_more_get(s)->latency.slowest_cmd, ==, "ClientHello");
    g_assert_cmpint(mw_session_more_get(s)->latency.slowest_us, ==, 1000);
    g_assert_cmpuint(mw_session_more_get(s)->latency.slowest_frame, ==, 2);
    mw_session_free(s);
    X509_free(leaf);
}

static void test_cert_findings(void)
{
    /* expired during 1969, signed by the trusted CA */
    X509 *expired = make_cert("old.example.test", "DNS:old.example.test", -300, -2, ca_cert,
                              ca_key, leaf_key, false);
    mw_session *s = run_chunks(tls12_conversation(expired, "old.example.test", false),
                               MW_PROTO_IMAPS);
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_CERT_EXPIRED));
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_TLS_CERT_EXPIRED);
    g_assert_nonnull(strstr(tu_evidence(s, MW_FLAG_TLS_CERT_EXPIRED)->detail, "expired 1969-"));
    const mw_event *cert_ev = &g_array_index(s->transcript, mw_event, 2);
    g_assert_true(g_str_has_prefix(cert_ev->text, "Certificate CN=old.example.test (expired 1969-"));
    mw_session_free(s);
    X509_free(expired);

    X509 *future = make_cert("new.example.test", "DNS:new.example.test", 2, 400, ca_cert,
                             ca_key, leaf_key, false);
    s = run_chunks(tls12_conversation(future, "new.example.test", false), MW_PROTO_IMAPS);
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_TLS_CERT_NOT_YET_VALID);
    mw_session_free(s);
    X509_free(future);

    /* self-signed: also untrusted (it is not our CA) */
    X509 *self = make_cert("self.example.test", "DNS:self.example.test", -1, 400, NULL,
                           leaf_key, leaf_key, false);
    s = run_chunks(tls12_conversation(self, "self.example.test", false), MW_PROTO_POP3S);
    g_assert_cmpuint(s->flags, ==, (1u << MW_FLAG_TLS_CERT_SELF_SIGNED) |
                                       (1u << MW_FLAG_TLS_CERT_UNTRUSTED));
    g_assert_true(mw_tls_of(s)->cert.self_signed);
    mw_session_free(s);
    X509_free(self);

    /* the SNI names another host */
    X509 *leaf = make_cert("mail.example.test", "DNS:mail.example.test", -1, 400, ca_cert,
                           ca_key, leaf_key, false);
    s = run_chunks(tls12_conversation(leaf, "imap.other.test", false), MW_PROTO_IMAPS);
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_TLS_CERT_NAME_MISMATCH);
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_TLS_CERT_NAME_MISMATCH)->detail, ==,
                    "SNI imap.other.test matches neither CN nor SAN of certificate "
                    "CN=mail.example.test,O=Test");
    mw_session_free(s);
    X509_free(leaf);
}

/* A one-certificate chain (the certificate_list body) of leaf. */
static buf *chain_of(X509 *leaf)
{
    buf *d = der_of(leaf);
    buf *list = g_byte_array_new();
    put24(list, d->len);
    putn(list, d->data, d->len);
    g_byte_array_free(d, TRUE);
    return list;
}

/* The cache's description is shared, not copied: a hit hands out the same strings and SAN
 * list, a miss (another chain) its own; each record keeps its strings after the cache that
 * made them is gone (cleared, as a full cache starts over, or freed), and after the other
 * records that shared them are cleared. ASan checks the references balance. */
static void test_cert_shared_description(void)
{
    X509 *a = make_cert("mail.example.test", "DNS:mail.example.test,DNS:imap.example.test", -1,
                        400, ca_cert, ca_key, leaf_key, false);
    X509 *b = make_cert("smtp.example.test", "DNS:smtp.example.test", -1, 400, ca_cert, ca_key,
                        leaf_key, false);
    buf *la = chain_of(a), *lb = chain_of(b);
    mw_tls_cert_cache *certs = mw_tls_cert_cache_new();
    mw_tls_cert r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
    mw_tls_cert_verdict v;
    mw_tls_cert_examine(certs, mw_cursor_make(la->data, la->len), "mail.example.test", 1000000,
                        &r1, &v);
    g_assert_true(v.parsed);
    mw_tls_cert_examine(certs, mw_cursor_make(la->data, la->len), "imap.example.test", 2000000,
                        &r2, &v);
    g_assert_true(v.parsed && !v.name_mismatch);
    g_assert_true(r1.subject == r2.subject && r1.issuer == r2.issuer && r1.san == r2.san);
    mw_tls_cert_examine(certs, mw_cursor_make(lb->data, lb->len), "smtp.example.test", 1000000,
                        &r3, &v);
    g_assert_true(r3.subject != r1.subject && r3.san != r1.san);
    g_assert_cmpstr(r3.subject, ==, "CN=smtp.example.test,O=Test");
    /* no cache: a description of its own */
    mw_tls_cert_examine(NULL, mw_cursor_make(la->data, la->len), NULL, 1000000, &r4, &v);
    g_assert_true(r4.subject != r1.subject);
    g_assert_cmpstr(r4.subject, ==, r1.subject);
    mw_tls_cert_cache_free(certs);
    mw_tls_cert_clear(&r1);
    g_assert_cmpstr(r2.subject, ==, "CN=mail.example.test,O=Test");
    g_assert_cmpstr(r2.issuer, ==, "CN=Test CA,O=Test");
    g_assert_cmpuint(r2.san->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(r2.san, 1), ==, "imap.example.test");
    mw_tls_cert_clear(&r2);
    mw_tls_cert_clear(&r3);
    mw_tls_cert_clear(&r4);
    g_assert_null(r2.subject);
    g_assert_null(r2.san);
    g_byte_array_free(la, TRUE);
    g_byte_array_free(lb, TRUE);
    X509_free(a);
    X509_free(b);
}

/* RFC 6125 6.4.3: a wildcard stands for exactly one whole left-most label. */
static void test_wildcards(void)
{
    X509 *leaf = make_cert("mail.example.test", "DNS:*.example.test", -1, 400, ca_cert, ca_key,
                           leaf_key, false);
    buf *d = der_of(leaf);
    buf *list = g_byte_array_new();
    put24(list, d->len);
    putn(list, d->data, d->len);
    /* asked through a cache: the answers for one chain and several names stay apart */
    mw_tls_cert_cache *certs = mw_tls_cert_cache_new();
    static const struct {
        const char *sni;
        bool mismatch;
    } cases[] = {
        { "imap.example.test", false }, { "IMAP.Example.Test", false },
        { "mail.example.test", false }, /* the CN */
        { "a.b.example.test", true },   { "example.test", true },
        { "imap.example.org", true },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        mw_tls_cert rec = { 0 };
        mw_tls_cert_verdict v;
        mw_tls_cert_examine(certs, mw_cursor_make(list->data, list->len), cases[i].sni,
                            1000000, &rec, &v);
        g_assert_true(v.parsed);
        if (v.name_mismatch != cases[i].mismatch)
            g_error("SNI %s: mismatch %d", cases[i].sni, v.name_mismatch);
        mw_tls_cert_clear(&rec);
    }
    mw_tls_cert_cache_free(certs);
    g_byte_array_free(list, TRUE);
    g_byte_array_free(d, TRUE);
    X509_free(leaf);
}

/* The fingerprint cache answers what computing would: hellos that differ in one value
 * each get their own fingerprints, asked in turn and again. */
static void test_fingerprint_cache(void)
{
    mw_tls_fp_cache *fp = mw_tls_fp_cache_new();
    mw_tls_client_hello a, b;
    memset(&a, 0, sizeof a);
    a.legacy_version = 0x0303;
    a.has_sni_ext = true;
    const uint16_t ciphers[] = { 0x1301, 0x1302, 0xc02f }, exts[] = { 0x0000, 0x000a, 0x002b };
    memcpy(a.ciphers.v, ciphers, sizeof ciphers);
    a.ciphers.n = 3;
    memcpy(a.exts.v, exts, sizeof exts);
    a.exts.n = 3;
    a.versions.v[0] = 0x0304;
    a.versions.n = 1;
    b = a;
    b.ciphers.v[2] = 0xc030;
    for (int round = 0; round < 3; round++) {
        const mw_tls_client_hello *h = round == 1 ? &b : &a;
        char ja3[33], ja4[48], want3[33], want4[48];
        mw_tls_client_fingerprints(fp, h, ja3, ja4);
        mw_tls_ja3(h, want3);
        mw_tls_ja4(h, want4);
        g_assert_cmpstr(ja3, ==, want3);
        g_assert_cmpstr(ja4, ==, want4);
    }
    char ja3a[33], ja3b[33], ja4[48];
    mw_tls_client_fingerprints(fp, &a, ja3a, ja4);
    mw_tls_client_fingerprints(fp, &b, ja3b, ja4);
    g_assert_cmpstr(ja3a, !=, ja3b);

    mw_tls_server_hello sa, sb;
    memset(&sa, 0, sizeof sa);
    sa.legacy_version = 0x0303;
    sa.cipher = 0x1301;
    sb = sa;
    sb.cipher = 0x1302;
    for (int round = 0; round < 3; round++) {
        const mw_tls_server_hello *h = round == 1 ? &sb : &sa;
        char got[33], want[33];
        mw_tls_server_fingerprint(fp, h, got);
        mw_tls_ja3s(h, want);
        g_assert_cmpstr(got, ==, want);
    }
    mw_tls_fp_cache_free(fp);
}

/* FoxIO's worked example (JA4 technical details): t13d1516h2_8daaf6152771_e5627efa2ab1 */
static void test_ja4_reference(void)
{
    static const uint16_t ciphers[] = { 0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
                                        0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
                                        0x002f, 0x0035 };
    static const uint16_t exts[] = { 0x3a3a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
                                     0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01,
                                     0x000b, 0x000a, 0x0015 };
    static const uint16_t sigs[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
                                     0x0601 };
    static const uint16_t versions[] = { 0x5a5a, 0x0304, 0x0303 };
    hello_spec h = { 0x0303, ciphers, G_N_ELEMENTS(ciphers), exts, G_N_ELEMENTS(exts),
                     versions, G_N_ELEMENTS(versions), sigs, G_N_ELEMENTS(sigs),
                     "www.example.test", "h2" };
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_cmpstr(mw_tls_of(s)->ja4, ==, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    tu_assert_transcript(s, "C> ClientHello offering TLS1.3,TLS1.2 (SNI www.example.test, ALPN h2)\n");
    g_assert_cmpstr(mw_tls_of(s)->alpn, ==, "h2");
    g_assert_cmpuint(mw_tls_of(s)->n_client_versions, ==, 2);
    g_assert_cmpstr(mw_tls_client_versions(mw_tls_of(s))[0], ==, "TLS1.3");

    /* JA3: legacy version, then the lists in wire order, decimal, GREASE left out */
    const char *ja3_text = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-"
                           "49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-"
                           "10-21,29-23-24,0";
    unsigned char md[16];
    unsigned n = 0;
    EVP_Digest(ja3_text, strlen(ja3_text), md, &n, EVP_md5(), NULL);
    char hex[33];
    for (int i = 0; i < 16; i++)
        g_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    g_assert_cmpstr(mw_tls_of(s)->ja3, ==, hex);
    /* the client closed without an answer: a handshake that never completed */
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_HANDSHAKE_FAILED));
    g_assert_false(mw_session_has(s, MW_FLAG_TLS_VERSION_MISMATCH));
    mw_session_free(s);
}

static void test_tls13_hrr(void)
{
    static const uint16_t ciphers[] = { 0x1301, 0x1302, 0x1303 };
    static const uint16_t exts[] = { 0x0000, 0x000a, 0x000d, 0x002b, 0x0033 };
    static const uint16_t versions[] = { 0x0304, 0x0303 };
    hello_spec h = { 0x0303, ciphers, 3, exts, G_N_ELEMENTS(exts), versions, 2, sigalgs,
                     G_N_ELEMENTS(sigalgs), "mx.example.test", NULL };
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    buf *hrr = server_hello_msg(0x0303, 0x1302, 0x0304, true);
    add_buf(c, MW_FROM_SERVER, record(22, 0x0303, hrr));
    g_byte_array_free(hrr, TRUE);
    /* compatibility CCS, then the second ClientHello in clear (RFC 8446 D.4) */
    buf *one = g_byte_array_new();
    put8(one, 1);
    buf *seg = record(20, 0x0303, one);
    append_buf(seg, record(22, 0x0303, m));
    add_buf(c, MW_FROM_CLIENT, seg);
    g_byte_array_free(m, TRUE);
    buf *sh = server_hello_msg(0x0303, 0x1302, 0x0304, false);
    seg = record(22, 0x0303, sh);
    g_byte_array_free(sh, TRUE);
    append_buf(seg, record(20, 0x0303, one));
    append_buf(seg, opaque_rec(23, 0x0303, 700)); /* EncryptedExtensions..Finished */
    add_buf(c, MW_FROM_SERVER, seg);
    add_buf(c, MW_FROM_CLIENT, opaque_rec(23, 0x0303, 53)); /* client Finished */
    add_buf(c, MW_FROM_SERVER, opaque_rec(23, 0x0303, 60));
    g_byte_array_free(one, TRUE);
    mw_session *s = run_chunks(c, MW_PROTO_IMAPS);
    g_assert_cmpuint(s->flags, ==, 0);
    g_assert_cmpint(s->outcome, ==, MW_OUT_ENCRYPTED);
    g_assert_true(mw_tls_of(s)->hello_retry);
    g_assert_true(mw_tls_of(s)->handshake_done);
    g_assert_cmpstr(mw_tls_of(s)->version, ==, "TLS1.3");
    g_assert_cmpstr(mw_tls_of(s)->cipher, ==, "TLS_AES_256_GCM_SHA384");
    g_assert_false(mw_tls_of(s)->cert.present);
    g_assert_true(strncmp(mw_tls_of(s)->ja4, "t13d0305", 8) == 0);
    tu_assert_transcript(s, "C> ClientHello offering TLS1.3,TLS1.2 (SNI mx.example.test)\n"
                         "S< HelloRetryRequest TLS1.3 TLS_AES_256_GCM_SHA384 (+1000 us)\n"
                         "C> ClientHello (again, after the HelloRetryRequest)\n"
                         "S< ServerHello TLS1.3 TLS_AES_256_GCM_SHA384 (+1000 us)\n"
                         "S< [encrypted: 2 records, 760 bytes]\n"
                         "C> [encrypted: 1 record, 53 bytes]\n");
    g_assert_cmpuint(mw_session_more_get(s)->latency.timed, ==, 2);
    g_assert_cmpstr(mw_session_more_get(s)->latency.slowest_cmd, ==, "ClientHello");
    mw_session_free(s);
}

static hello_spec hello10(void)
{
    static const uint16_t ciphers[] = { 0xc014, 0x0035, 0x002f, 0x00ff };
    static const uint16_t exts[] = { 0x0000, 0x000b, 0x000a };
    hello_spec h = { 0x0301, ciphers, 4, exts, 3, NULL, 0, NULL, 0, "mail.example.test", NULL };
    return h;
}

static void test_version_mismatch_alert(void)
{
    hello_spec h = hello10();
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    add_buf(c, MW_FROM_SERVER, alert_rec(2, 70));
    mw_session *s = run_chunks(c, MW_PROTO_IMAPS);
    g_assert_cmpuint(s->flags, ==, (1u << MW_FLAG_TLS_VERSION_MISMATCH) |
                                       (1u << MW_FLAG_TLS_HANDSHAKE_FAILED) |
                                       (1u << MW_FLAG_TLS_DEPRECATED_VERSION));
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_TLS_VERSION_MISMATCH)->detail, ==,
                    "fatal alert protocol_version from server after a ClientHello offering at "
                    "most TLS1.0");
    g_assert_cmpuint(tu_evidence(s, MW_FLAG_TLS_VERSION_MISMATCH)->frame, ==, 2);
    g_assert_cmpstr(mw_tls_of(s)->alert.description, ==, "protocol_version");
    g_assert_cmpint(mw_tls_of(s)->alert.from, ==, MW_FROM_SERVER);
    g_assert_null(mw_tls_of(s)->version);
    g_assert_cmpint(s->outcome, ==, MW_OUT_FAILED);
    tu_assert_transcript(s, "C> ClientHello offering TLS1.0 (SNI mail.example.test)\n"
                         "S< alert fatal protocol_version\n");
    g_assert_cmpuint(mw_session_more_get(s)->latency.timed, ==, 0); /* no ServerHello: nothing timed */
    g_assert_true(tu_json_contains(s, "\"latency\":null"));
    mw_session_free(s);
}

static void test_close_after_old_hello(void)
{
    hello_spec h = hello10();
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_VERSION_MISMATCH));
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_HANDSHAKE_FAILED));
    mw_session_free(s);
}

static void test_handshake_failure_alert_modern(void)
{
    hello_spec h = hello12("mail.example.test");
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    add_buf(c, MW_FROM_SERVER, alert_rec(2, 40));
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_TLS_HANDSHAKE_FAILED);
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_TLS_HANDSHAKE_FAILED)->detail, ==,
                    "fatal alert handshake_failure from server after the ClientHello");
    mw_session_free(s);
}

/* A ClientHello (TLS 1.0 only or TLS 1.2), then the server's answer: an alert, or a
 * ServerHello at `sh_version` (0: an alert protocol_version). */
static mw_session *hello_then(bool old_client, unsigned sh_version)
{
    hello_spec h = old_client ? hello10() : hello12("mail.example.test");
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    if (sh_version) {
        buf *sh = server_hello_msg(sh_version, 0x002f, 0, false);
        add_buf(c, MW_FROM_SERVER, record(22, sh_version, sh));
        g_byte_array_free(sh, TRUE);
    } else {
        add_buf(c, MW_FROM_SERVER, alert_rec(2, 70));
    }
    return run_chunks(c, MW_PROTO_SMTPS);
}

/* issue 15 item 15: which side is out of date, from the hellos and the alert */
static void test_side_advice(void)
{
    /* a TLS 1.0-only client refused by a modern server: the client */
    mw_session *s = hello_then(true, 0);
    g_assert_cmpint(mw_conn_advice(s, MW_FLAG_TLS_VERSION_MISMATCH), ==, MW_ADVICE_TLS_CLIENT_OLD);
    g_assert_cmpint(mw_conn_advice(s, MW_FLAG_TLS_DEPRECATED_VERSION), ==, MW_ADVICE_TLS_CLIENT_OLD);
    g_assert_cmpint(mw_conn_advice(s, MW_FLAG_TLS_HANDSHAKE_FAILED), ==, MW_ADVICE_NONE);
    g_assert_nonnull(strstr(mw_advice_text(MW_ADVICE_TLS_CLIENT_OLD), "Update the client"));
    mw_session_free(s);
    /* a TLS 1.2 client, a server that chose TLS 1.1: the server */
    s = hello_then(false, 0x0302);
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_DEPRECATED_VERSION));
    g_assert_cmpint(mw_conn_advice(s, MW_FLAG_TLS_DEPRECATED_VERSION), ==, MW_ADVICE_TLS_SERVER_OLD);
    g_assert_nonnull(strstr(mw_advice_text(MW_ADVICE_TLS_SERVER_OLD), "on the server"));
    mw_session_free(s);
    /* a TLS 1.0-only client the server accepted: the client first */
    s = hello_then(true, 0x0301);
    g_assert_cmpint(mw_conn_advice(s, MW_FLAG_TLS_DEPRECATED_VERSION), ==,
                    MW_ADVICE_TLS_CLIENT_OLD_ACCEPTED);
    mw_session_free(s);
    /* a TLS 1.2 client refused with protocol_version: no side can be told */
    s = hello_then(false, 0);
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_VERSION_MISMATCH));
    g_assert_cmpint(mw_conn_advice(s, MW_FLAG_TLS_VERSION_MISMATCH), ==, MW_ADVICE_NONE);
    mw_session_free(s);
}

static void test_deprecated_negotiated(void)
{
    /* a modern client, a server that only speaks TLS 1.1 */
    hello_spec h = hello12("mail.example.test");
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    buf *sh = server_hello_msg(0x0302, 0xc014, 0, false);
    add_buf(c, MW_FROM_SERVER, record(22, 0x0302, sh));
    g_byte_array_free(sh, TRUE);
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_DEPRECATED_VERSION));
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_TLS_DEPRECATED_VERSION)->detail, ==,
                    "TLS1.1 negotiated (ServerHello)");
    mw_session_free(s);
}

static void test_sslv2_hello(void)
{
    /* SSLv2-format CLIENT-HELLO offering TLS 1.0 (RFC 6101 E.2), then a TLS ServerHello */
    buf *b = g_byte_array_new();
    put8(b, 1);
    put16(b, 0x0301);
    put16(b, 9);  /* cipher specs */
    put16(b, 0);  /* session id */
    put16(b, 16); /* challenge */
    static const uint8_t specs[] = { 0x00, 0x00, 0x2f, 0x01, 0x00, 0x80, 0x00, 0x00, 0x35 };
    putn(b, specs, sizeof specs);
    for (int i = 0; i < 16; i++)
        put8(b, (unsigned)i);
    buf *r = g_byte_array_new();
    put16(r, 0x8000 | b->len);
    putn(r, b->data, b->len);
    g_byte_array_free(b, TRUE);
    GPtrArray *c = g_ptr_array_new();
    g_assert_true(mw_tls_looks_like_client_hello(r->data, r->len));
    add_buf(c, MW_FROM_CLIENT, r);
    buf *sh = server_hello_msg(0x0301, 0x002f, 0, false);
    add_buf(c, MW_FROM_SERVER, record(22, 0x0301, sh));
    g_byte_array_free(sh, TRUE);
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_true(mw_tls_of(s)->sslv2_hello);
    g_assert_cmpstr(mw_tls_of(s)->record_version, ==, "SSLv2");
    g_assert_cmpstr(mw_tls_of(s)->version, ==, "TLS1.0");
    g_assert_cmpstr(mw_tls_of(s)->cipher, ==, "TLS_RSA_WITH_AES_128_CBC_SHA");
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_DEPRECATED_VERSION));
    tu_assert_transcript(s, "C> ClientHello (SSLv2 format) offering TLS1.0\n"
                         "S< ServerHello TLS1.0 TLS_RSA_WITH_AES_128_CBC_SHA (+1000 us)\n");
    mw_session_free(s);
}

static void test_plaintext_on_implicit_port(void)
{
    GPtrArray *c = tu_script("S: 220 mx.example.test ESMTP\nC: EHLO client\n");
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    /* the server speaks SMTP in clear, and so does the client: the dialogue is read
     * (issue 15 item 5), and the EHLO the server never answered is said */
    g_assert_cmpuint(s->flags, ==,
                     1u << MW_FLAG_TLS_MODE_MISMATCH | 1u << MW_FLAG_UNANSWERED_COMMAND);
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_TLS_MODE_MISMATCH)->detail, ==,
                    "server sent clear text on port 0, where implicit TLS was expected: "
                    "\"220 mx.example.test ESMTP\"");
    tu_assert_transcript(s, "S< [clear text where TLS was expected: \"220 mx.example.test ESMTP\"]\n"
                            "S< 220 mx.example.test ESMTP (+1000 us)\n"
                            "C> EHLO client\n");
    g_assert_null(mw_tls_of(s));
    g_assert_cmpstr(mw_smtp_of(s)->helo, ==, "client");
    g_assert_cmpint(s->outcome, ==, MW_OUT_FAILED);
    mw_session_free(s);
}

/* Both sides silent on an implicit-TLS port until the client gives up. */
static void test_silent_implicit_port(void)
{
    mw_config cfg;
    mw_config_defaults(&cfg);
    mw_session *s = mw_session_new(1);
    s->protocol = MW_PROTO_IMAPS;
    s->syn_seen = s->synack_seen = true;
    s->server.port = 993;
    mw_feeder f;
    mw_feeder_init(&f, mw_dissector_by_name("tls"), s, &cfg);
    s->close_reason = MW_CLOSE_FIN;
    mw_feeder_close(&f, 9, 30 * G_USEC_PER_SEC);
    mw_feeder_free(&f);
    mw_session_finish(s);
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_TLS_MODE_MISMATCH);
    mw_session_free(s);
}

/* issue 15 item 16: clear text from the client on an implicit-TLS port, no answer until
 * the client gives up: no_greeting, with the wait, beside tls_mode_mismatch. */
static void test_clear_client_no_greeting(void)
{
    GPtrArray *c = tu_script("C: EHLO client.example.org\n");
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_MODE_MISMATCH));
    g_assert_true(mw_session_has(s, MW_FLAG_NO_GREETING));
    g_assert_nonnull(strstr(tu_evidence(s, MW_FLAG_NO_GREETING)->detail, "no server greeting in"));
    g_assert_nonnull(strstr(tu_evidence(s, MW_FLAG_NO_GREETING)->detail,
                            "after the client spoke clear text on implicit-TLS port"));
    mw_session_free(s);
    /* a ClientHello nobody answered is TLS's story, not a missing greeting */
    hello_spec h = hello12("mail.example.test");
    c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0303, m));
    g_byte_array_free(m, TRUE);
    s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_false(mw_session_has(s, MW_FLAG_NO_GREETING));
    mw_session_free(s);
}

/* issue 15 item 5 (suricata-verify smtp-errors, port 50649): a plain-text SMTP server on
 * 465; the client sends its ClientHello after the greeting. The hello is recorded, and
 * the server's replies to it. */
static void test_client_hello_after_clear_greeting(void)
{
    hello_spec h = hello12("mail.example.test");
    GPtrArray *c = tu_script("S: 220 mx ESMTP\n");
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    GPtrArray *rest = tu_script("S: 400 4.5.2 Error: bad syntax\nS+ 400 4.5.2 Error: bad syntax\n");
    g_ptr_array_add(c, g_ptr_array_index(rest, 0));
    g_ptr_array_free(rest, TRUE);
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_TLS_MODE_MISMATCH);
    const mw_tls_rec *t = mw_tls_of(s);
    g_assert_nonnull(t);
    g_assert_cmpstr(t->sni, ==, "mail.example.test");
    g_assert_cmpuint(strlen(t->ja3), ==, 32);
    g_assert_null(t->version);
    g_assert_true(tu_json_contains(s, "\"code\":400"));
    g_assert_true(tu_json_contains(s, "bad syntax"));
    g_assert_cmpint(s->outcome, ==, MW_OUT_FAILED);
    mw_session_free(s);
}

static void test_smtp_client_hello_on_port_25(void)
{
    hello_spec h = hello12("mail.example.test");
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    GPtrArray *rest = tu_script("S: 220 mx ESMTP Postfix\nS: 500 5.5.2 Error: bad syntax\n");
    for (guint i = 0; i < rest->len; i++)
        g_ptr_array_add(c, g_ptr_array_index(rest, i));
    g_ptr_array_free(rest, TRUE);
    mw_session *s = tu_run_all_ways("smtp", MW_PROTO_SMTP, c);
    tu_free_script(c);
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_TLS_MODE_MISMATCH);
    g_assert_cmpint(s->outcome, ==, MW_OUT_FAILED);
    /* issue 15 item 5: the hello is recorded, and the server's replies after it */
    const mw_tls_rec *t = mw_tls_of(s);
    g_assert_nonnull(t);
    g_assert_cmpstr(t->sni, ==, "mail.example.test");
    g_assert_cmpuint(t->n_client_versions, >, 0);
    g_assert_cmpuint(strlen(t->ja3), ==, 32);
    g_assert_cmpuint(strlen(t->ja4), >, 0);
    g_assert_null(t->version);
    g_assert_true(tu_json_contains(s, "bad syntax"));
    mw_session_free(s);
}

static void test_probe(void)
{
    static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0x80, 0x01 };
    static const uint8_t not_hello[] = { 0x16, 0x03, 0x01, 0x00, 0x80, 0x02 };
    g_assert_true(mw_tls_looks_like_client_hello(tls, sizeof tls));
    g_assert_false(mw_tls_looks_like_client_hello(tls, 5));
    g_assert_true(mw_tls_could_be_client_hello(tls, 3));
    g_assert_false(mw_tls_looks_like_client_hello(not_hello, sizeof not_hello));
    g_assert_false(mw_tls_could_be_client_hello((const uint8_t *)"EHLO x", 6));
    g_assert_false(mw_tls_could_be_client_hello((const uint8_t *)"\x16\x04", 2));
}

/* ---------- hostile input: never a crash, bounded memory, an anomaly ---------- */

static mw_session *run_client_bytes(const uint8_t *p, size_t len)
{
    GPtrArray *c = g_ptr_array_new();
    tu_add_raw(c, MW_FROM_CLIENT, p, len);
    return run_chunks(c, MW_PROTO_SMTPS);
}

static bool has_anomaly(const mw_session *s, mw_anomaly a)
{
    return (s->anomalies >> a) & 1u;
}

static void test_malformed_hellos(void)
{
    hello_spec h = hello12("mail.example.test");
    buf *body = client_hello_body(&h);

    /* the cipher list's length points past the end of the message */
    buf *bad = g_byte_array_new();
    putn(bad, body->data, body->len);
    bad->data[2 + 32 + 1] = 0x7f;
    buf *m = handshake(1, bad);
    buf *r = record(22, 0x0301, m);
    mw_session *s = run_client_bytes(r->data, r->len);
    g_assert_true(has_anomaly(s, MW_ANOM_TLS_MALFORMED));
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_HANDSHAKE_FAILED));
    mw_session_free(s);
    g_byte_array_free(r, TRUE);
    g_byte_array_free(m, TRUE);
    g_byte_array_free(bad, TRUE);

    /* every truncation of a valid hello: a message cut short */
    m = handshake(1, body);
    for (size_t cut = 5; cut < m->len; cut += 7) {
        buf *part = g_byte_array_new();
        putn(part, m->data, cut);
        r = record(22, 0x0301, part);
        s = run_client_bytes(r->data, r->len);
        g_assert_true(has_anomaly(s, MW_ANOM_TLS_MALFORMED));
        mw_session_free(s);
        g_byte_array_free(r, TRUE);
        g_byte_array_free(part, TRUE);
    }
    g_byte_array_free(m, TRUE);
    g_byte_array_free(body, TRUE);

    /* a handshake message that claims 16 MB: refused at once, nothing buffered */
    static const uint8_t huge[] = { 0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0xff, 0xff, 0xff,
                                    0x03, 0x03, 0x00, 0x00 };
    s = run_client_bytes(huge, sizeof huge);
    g_assert_true(has_anomaly(s, MW_ANOM_TLS_MALFORMED));
    g_assert_null(mw_tls_of(s));
    mw_session_free(s);

    /* a record longer than TLS allows */
    static const uint8_t long_rec[] = { 0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00, 0x00 };
    s = run_client_bytes(long_rec, sizeof long_rec);
    g_assert_true(has_anomaly(s, MW_ANOM_TLS_MALFORMED));
    mw_session_free(s);

    /* binary garbage that is neither TLS nor text */
    static const uint8_t junk[] = { 0x00, 0x01, 0x02, 0x03, 0xfe, 0x10 };
    s = run_client_bytes(junk, sizeof junk);
    g_assert_true(has_anomaly(s, MW_ANOM_TLS_MALFORMED));
    mw_session_free(s);

    /* an SSLv2 header whose body is shorter than its own fields say */
    static const uint8_t v2[] = { 0x80, 0x09, 0x01, 0x03, 0x01, 0x7f, 0xff, 0x00, 0x00, 0x00,
                                  0x10 };
    s = run_client_bytes(v2, sizeof v2);
    g_assert_true(has_anomaly(s, MW_ANOM_TLS_MALFORMED));
    mw_session_free(s);
}

/* A certificate chain spread over many records (handshake reassembly above the record
 * layer), and application data skipped by length in records of the largest size. */
static void test_cert_over_many_records(void)
{
    X509 *leaf = make_cert("mail.example.test", "DNS:mail.example.test", -1, 400, ca_cert,
                           ca_key, leaf_key, false);
    hello_spec h = hello12("mail.example.test");
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    buf *flight = server_hello_msg(0x0303, 0xc030, 0, false);
    append_buf(flight, certificate_msg(leaf, true));
    append_buf(flight, handshake(14, &(buf){ 0 }));
    buf *seg = g_byte_array_new();
    for (size_t off = 0; off < flight->len; off += 100) {
        buf *piece = g_byte_array_new();
        putn(piece, flight->data + off, MIN((size_t)100, flight->len - off));
        append_buf(seg, record(22, 0x0303, piece));
        g_byte_array_free(piece, TRUE);
    }
    g_byte_array_free(flight, TRUE);
    add_buf(c, MW_FROM_SERVER, seg);
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_true(mw_tls_of(s)->cert.present);
    g_assert_cmpstr(mw_tls_of(s)->cipher, ==, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    g_assert_false(mw_session_has(s, MW_FLAG_TLS_CERT_UNTRUSTED));
    g_assert_cmpuint(s->anomalies, ==, 0);
    mw_session_free(s);
    X509_free(leaf);
    X509 *leaf2 = make_cert("mail.example.test", "DNS:mail.example.test", -1, 400, ca_cert,
                            ca_key, leaf_key, false);

    /* maximal application-data records after the handshake: skipped by length, the
     * same record whole and byte by byte */
    GPtrArray *big = tls12_conversation(leaf2, "mail.example.test", false);
    for (int i = 0; i < 3; i++) {
        add_buf(big, MW_FROM_CLIENT, opaque_rec(23, 0x0303, 16384 + 2048));
        add_buf(big, MW_FROM_SERVER, opaque_rec(23, 0x0303, 16384));
    }
    mw_session *w = tu_run("tls", MW_PROTO_SMTPS, big, TU_WHOLE, 0, 0);
    mw_session *bw = tu_run("tls", MW_PROTO_SMTPS, big, TU_BYTEWISE, 0, 0);
    char *jw = tu_json(w), *jb = tu_json(bw);
    g_assert_cmpstr(jw, ==, jb);
    g_assert_cmpuint(mw_tls_of(w)->app_records[MW_FROM_CLIENT], ==, 4);
    g_assert_cmpuint(mw_tls_of(w)->app_bytes[MW_FROM_SERVER], ==, 300 + 3 * 16384);
    g_assert_cmpuint(w->anomalies, ==, 0);
    g_free(jw);
    g_free(jb);
    mw_session_free(w);
    mw_session_free(bw);
    tu_free_script(big);
    X509_free(leaf2);
}

/* ---------- issue 15: mid-session starts, 1.3 drafts, long chains, broken hellos ---------- */

/* tu_run with what the engine does that tu_run does not: a direction the capture started
 * inside of gets on_gap(0) before its first bytes (flow.c, "capture started mid-session"),
 * and a configuration of our own (--max-tls-handshake). */
typedef struct {
    bool midsession;
    size_t max_tls_handshake; /* 0: the default */
} run_opts;

static mw_session *run_opts_mode(GPtrArray *chunks, const run_opts *o, tu_mode mode,
                                 guint split_chunk, size_t split_at)
{
    static mw_config cfg;
    mw_config_defaults(&cfg);
    if (o->max_tls_handshake)
        cfg.max_tls_handshake = o->max_tls_handshake;
    mw_session *s = mw_session_new(1);
    if (tu_keep_transcript)
        mw_session_keep_transcript(s);
    s->protocol = MW_PROTO_IMAPS;
    s->syn_seen = s->synack_seen = !o->midsession;
    s->client.family = s->server.family = 4;
    mw_feeder f;
    mw_feeder_init(&f, mw_dissector_by_name("tls"), s, &cfg);
    bool started[2] = { false, false };
    uint64_t frame = 0;
    for (guint i = 0; i < chunks->len; i++) {
        tu_chunk *c = g_ptr_array_index(chunks, i);
        const uint8_t *p = c->bytes->data;
        size_t len = c->bytes->len;
        s->bytes[c->dir] += len;
        frame++;
        if (o->midsession && !started[c->dir])
            mw_feeder_gap(&f, c->dir, 0, frame, (int64_t)frame * 1000);
        started[c->dir] = true;
        if (mode == TU_BYTEWISE) {
            for (size_t k = 0; k < len; k++)
                tu_feed_guarded(&f, c->dir, p + k, 1, frame);
        } else if (mode == TU_SPLIT && i == split_chunk && split_at < len) {
            tu_feed_guarded(&f, c->dir, p, split_at, frame);
            tu_feed_guarded(&f, c->dir, p + split_at, len - split_at, frame);
        } else {
            tu_feed_guarded(&f, c->dir, p, len, frame);
        }
    }
    s->close_reason = MW_CLOSE_FIN;
    mw_feeder_close(&f, frame + 1, (int64_t)(frame + 1) * 1000);
    mw_feeder_free(&f);
    mw_session_finish(s);
    return s;
}

/* Whole, byte by byte and split at every offset of every chunk (every `stride`th for long
 * inputs), with the transcript: the same record and transcript. Frees the chunks. */
static mw_session *run_opts_all_ways(GPtrArray *chunks, const run_opts *o, size_t stride)
{
    tu_keep_transcript = true;
    mw_session *whole = run_opts_mode(chunks, o, TU_WHOLE, 0, 0);
    char *want = tu_json_and_transcript(whole);
    mw_session *bw = run_opts_mode(chunks, o, TU_BYTEWISE, 0, 0);
    char *got = tu_json_and_transcript(bw);
    g_assert_cmpstr(got, ==, want);
    g_free(got);
    mw_session_free(bw);
    for (guint i = 0; i < chunks->len; i++) {
        tu_chunk *c = g_ptr_array_index(chunks, i);
        for (size_t k = 1; k < c->bytes->len; k += stride) {
            mw_session *sp = run_opts_mode(chunks, o, TU_SPLIT, i, k);
            got = tu_json_and_transcript(sp);
            if (strcmp(got, want) != 0)
                g_error("split of chunk %u at %zu differs:\n got %s\nwant %s", i, k, got, want);
            g_free(got);
            mw_session_free(sp);
        }
    }
    g_free(want);
    tu_keep_transcript = false;
    tu_free_script(chunks);
    return whole;
}

/* Item 7: the capture started inside an implicit-TLS session (no SYN), its first bytes a
 * ClientHello at a record boundary: dissected as if the handshake had been seen. */
static void test_midsession_hello(void)
{
    X509 *leaf = make_cert("imap.example.test", "DNS:imap.example.test", -1, 400, ca_cert,
                           ca_key, leaf_key, false);
    run_opts mid = { .midsession = true };
    mw_session *s = run_opts_all_ways(tls12_conversation(leaf, "imap.example.test", false),
                                      &mid, 1);
    const mw_tls_rec *t = mw_tls_of(s);
    g_assert_nonnull(t);
    g_assert_cmpstr(t->version, ==, "TLS1.2");
    g_assert_cmpstr(t->sni, ==, "imap.example.test");
    g_assert_true(t->cert.present);
    g_assert_true(t->handshake_done);
    g_assert_cmpuint(strlen(t->ja3), ==, 32);
    g_assert_cmpuint(s->anomalies, ==, 0);
    mw_session_free(s);

    /* started inside application data: not a record boundary we can trust, given up
     * quietly as before (no tls object, no anomaly: the engine flags the gap) */
    GPtrArray *c = g_ptr_array_new();
    add_buf(c, MW_FROM_CLIENT, opaque_rec(23, 0x0303, 50));
    add_buf(c, MW_FROM_SERVER, opaque_rec(23, 0x0303, 70));
    s = run_opts_all_ways(c, &mid, 1);
    g_assert_null(mw_tls_of(s));
    g_assert_cmpuint(s->anomalies, ==, 0);
    mw_session_free(s);

    /* a handshake record that is not this side's hello (the client's Finished, say) */
    c = g_ptr_array_new();
    add_buf(c, MW_FROM_CLIENT, opaque_rec(22, 0x0303, 40));
    s = run_opts_all_ways(c, &mid, 1);
    g_assert_null(mw_tls_of(s));
    g_assert_cmpuint(s->anomalies, ==, 0);
    mw_session_free(s);
    X509_free(leaf);
}

/* A draft-ietf-tls-tls13 ServerHello before draft 22: version, random, cipher, extensions
 * (no session id, no compression). */
static buf *draft_server_hello_msg(unsigned version, unsigned cipher)
{
    buf *b = g_byte_array_new();
    uint8_t random[32] = { 2 };
    put16(b, version);
    putn(b, random, 32);
    put16(b, cipher);
    size_t exts = open_len(b, 2);
    put16(b, 0x0028); /* key_share, as the drafts numbered it */
    size_t ks = open_len(b, 2);
    put16(b, 0x001d);
    put16(b, 32);
    for (int i = 0; i < 32; i++)
        put8(b, 0x55);
    close_len(b, ks, 2);
    close_len(b, exts, 2);
    buf *m = handshake(2, b);
    g_byte_array_free(b, TRUE);
    return m;
}

/* Item 8: TLS 1.3 drafts, named as Zeek and Arkime do; draft 18's ServerHello parsed. */
static void test_tls13_drafts(void)
{
    static const uint16_t ciphers13[] = { 0x1301, 0x1302, 0xc02f };
    static const uint16_t exts13[] = { 0x0000, 0x000a, 0x000d, 0x002b };
    static const uint16_t draft18[] = { 0x7f12, 0x0303, 0x0302 };
    hello_spec h = { 0x0303, ciphers13, G_N_ELEMENTS(ciphers13), exts13, G_N_ELEMENTS(exts13),
                     draft18, G_N_ELEMENTS(draft18), sigalgs, G_N_ELEMENTS(sigalgs),
                     "blog.example.test", NULL };
    GPtrArray *c = g_ptr_array_new();
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    m = draft_server_hello_msg(0x7f12, 0x1301);
    buf *flight = record(22, 0x0301, m);
    g_byte_array_free(m, TRUE);
    append_buf(flight, opaque_rec(23, 0x0301, 60)); /* the encrypted rest of the flight */
    add_buf(c, MW_FROM_SERVER, flight);
    add_buf(c, MW_FROM_CLIENT, opaque_rec(23, 0x0301, 40));
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    const mw_tls_rec *t = mw_tls_of(s);
    g_assert_cmpstr(t->version, ==, "TLS1.3-draft18");
    g_assert_cmpstr(t->cipher, ==, "TLS_AES_128_GCM_SHA256");
    g_assert_cmpstr(mw_tls_client_versions(t)[0], ==, "TLS1.3-draft18");
    g_assert_cmpuint(strlen(t->ja3s), ==, 32);
    g_assert_true(t->handshake_done);
    g_assert_cmpuint(s->anomalies, ==, 0);
    g_assert_false(mw_session_has(s, MW_FLAG_TLS_DEPRECATED_VERSION));
    mw_session_free(s);

    /* draft 28: the final ServerHello layout, the draft in supported_versions */
    static const uint16_t draft28[] = { 0x7f1c, 0x0303 };
    h.versions = draft28;
    h.n_versions = G_N_ELEMENTS(draft28);
    c = g_ptr_array_new();
    m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    m = server_hello_msg(0x0303, 0x1302, 0x7f1c, false);
    add_buf(c, MW_FROM_SERVER, record(22, 0x0303, m));
    g_byte_array_free(m, TRUE);
    s = run_chunks(c, MW_PROTO_SMTPS);
    g_assert_cmpstr(mw_tls_of(s)->version, ==, "TLS1.3-draft28");
    g_assert_cmpstr(mw_tls_of(s)->cipher, ==, "TLS_AES_256_GCM_SHA384");
    g_assert_cmpuint(s->anomalies, ==, 0);
    mw_session_free(s);
}

/* "DNS:n1.example.test,...": n names (about 21 bytes each in the certificate). */
static char *many_sans(unsigned n)
{
    GString *g = g_string_new("DNS:mail.example.test");
    for (unsigned i = 1; i < n; i++)
        g_string_append_printf(g, ",DNS:n%u.example.test", i);
    return g_string_free(g, FALSE);
}

/* The server's flight: ServerHello, Certificate (leaf, then extra DER-ish blobs of the
 * given sizes as the rest of the chain), ServerHelloDone, cut into records of 16 KiB. */
static GPtrArray *long_chain_conversation(X509 *leaf, const size_t *extra, size_t n_extra)
{
    GPtrArray *c = g_ptr_array_new();
    hello_spec h = hello12("mail.example.test");
    buf *m = client_hello_msg(&h);
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    buf *body = g_byte_array_new();
    size_t list = open_len(body, 3);
    buf *d = der_of(leaf);
    put24(body, d->len);
    putn(body, d->data, d->len);
    g_byte_array_free(d, TRUE);
    for (size_t i = 0; i < n_extra; i++) {
        put24(body, extra[i]);
        for (size_t k = 0; k < extra[i]; k++)
            put8(body, (unsigned)(k * 13));
    }
    close_len(body, list, 3);
    buf *flight = server_hello_msg(0x0303, 0xc02f, 0, false);
    append_buf(flight, handshake(11, body));
    g_byte_array_free(body, TRUE);
    append_buf(flight, handshake(14, &(buf){ 0 }));
    buf *seg = g_byte_array_new();
    for (size_t off = 0; off < flight->len; off += 16384) {
        buf *piece = g_byte_array_new();
        putn(piece, flight->data + off, MIN((size_t)16384, flight->len - off));
        append_buf(seg, record(22, 0x0303, piece));
        g_byte_array_free(piece, TRUE);
    }
    g_byte_array_free(flight, TRUE);
    add_buf(c, MW_FROM_SERVER, seg);
    return c;
}

/* Item 9: a Certificate message over the old 128 KiB cap is read (not tls_malformed); one
 * over --max-tls-handshake has its leaf read as soon as it is in and the rest skipped by
 * length, the messages after it still read; a leaf over the cap is not read, and said. */
static void test_long_certificate_chains(void)
{
    /* 7,000 names: a leaf of about 140 KB, held whole under the default cap; whole and
     * split every 4 KiB (bytewise and every offset run below, on the same code with a
     * small cap) */
    char *san = many_sans(7000);
    X509 *big = make_cert("mail.example.test", san, -1, 400, ca_cert, ca_key, leaf_key, false);
    g_free(san);
    GPtrArray *c = long_chain_conversation(big, NULL, 0);
    mw_session *w = tu_run("tls", MW_PROTO_SMTPS, c, TU_WHOLE, 0, 0);
    char *jw = tu_json(w), *jb;
    tu_chunk *flight = g_ptr_array_index(c, 1);
    g_assert_cmpuint(flight->bytes->len, >, 128 * 1024 + 100);
    for (size_t k = 1; k < flight->bytes->len; k += 16411) {
        mw_session *sp = tu_run("tls", MW_PROTO_SMTPS, c, TU_SPLIT, 1, k);
        jb = tu_json(sp);
        g_assert_cmpstr(jw, ==, jb);
        g_free(jb);
        mw_session_free(sp);
    }
    g_assert_true(mw_tls_of(w)->cert.present);
    g_assert_cmpstr(mw_tls_of(w)->cert.subject, ==, "CN=mail.example.test,O=Test");
    g_assert_false(mw_session_has(w, MW_FLAG_TLS_CERT_NAME_MISMATCH));
    g_assert_false(mw_session_has(w, MW_FLAG_TLS_CERT_UNTRUSTED));
    g_assert_cmpuint(w->anomalies, ==, 0);
    g_free(jw);
    mw_session_free(w);
    tu_free_script(c);
    X509_free(big);

    /* a cap of 4 KiB (the option's least is 16 KiB; smaller here to cut everywhere
     * quickly): the leaf, then 4.7 KB more of chain, skipped by length after the
     * certificates within the cap were read; the ServerHelloDone after it is read (its
     * stage in the evidence) */
    X509 *leaf = make_cert("mail.example.test", "DNS:mail.example.test", -1, 400, ca_cert,
                           ca_key, leaf_key, false);
    static const size_t rest[] = { 700, 2000, 2000 };
    run_opts small = { .max_tls_handshake = 4096 };
    mw_session *s = run_opts_all_ways(long_chain_conversation(leaf, rest, 3), &small, 1);
    g_assert_true(mw_tls_of(s)->cert.present);
    g_assert_cmpstr(mw_tls_of(s)->cert.subject, ==, "CN=mail.example.test,O=Test");
    g_assert_false(mw_session_has(s, MW_FLAG_TLS_CERT_UNTRUSTED));
    g_assert_cmpuint(s->anomalies, ==, 0);
    g_assert_nonnull(strstr(tu_evidence(s, MW_FLAG_TLS_HANDSHAKE_FAILED)->detail,
                            "after the ServerHelloDone"));
    mw_session_free(s);

    /* the leaf itself over the cap: not read, counted as tls_malformed and said; the
     * messages after it are still read */
    san = many_sans(250);
    X509 *fat = make_cert("mail.example.test", san, -1, 400, ca_cert, ca_key, leaf_key, false);
    g_free(san);
    s = run_opts_all_ways(long_chain_conversation(fat, NULL, 0), &small, 1);
    g_assert_false(mw_tls_of(s)->cert.present);
    g_assert_true(has_anomaly(s, MW_ANOM_TLS_MALFORMED));
    g_assert_cmpstr(mw_tls_of(s)->version, ==, "TLS1.2");
    char *tr = tu_transcript(s);
    g_assert_nonnull(strstr(tr, "longer than --max-tls-handshake: not read"));
    g_free(tr);
    g_assert_nonnull(strstr(tu_evidence(s, MW_FLAG_TLS_HANDSHAKE_FAILED)->detail,
                            "after the ServerHelloDone"));
    mw_session_free(s);
    X509_free(fat);
    X509_free(leaf);
}

/* Item 10: a fuzzed ClientHello (extensions cut after the compression methods, as in
 * nDPI's tls_invalid_reads.pcap) keeps what parsed, and the ServerHello after it is read. */
static void test_broken_client_hello_kept(void)
{
    static const uint16_t ciphers[] = { 0x0004, 0x0005, 0x000a };
    buf *b = g_byte_array_new();
    uint8_t random[32] = { 3 };
    put16(b, 0x0301);
    putn(b, random, 32);
    put8(b, 0);
    put_u16_list(b, ciphers, G_N_ELEMENTS(ciphers), 2);
    put8(b, 0); /* no compression methods (itself odd) */
    put8(b, 0); /* one byte where a 2-byte extensions length belongs */
    buf *m = handshake(1, b);
    g_byte_array_free(b, TRUE);
    GPtrArray *c = g_ptr_array_new();
    add_buf(c, MW_FROM_CLIENT, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    m = server_hello_msg(0x0301, 0x0004, 0, false);
    add_buf(c, MW_FROM_SERVER, record(22, 0x0301, m));
    g_byte_array_free(m, TRUE);
    mw_session *s = run_chunks(c, MW_PROTO_SMTPS);
    const mw_tls_rec *t = mw_tls_of(s);
    g_assert_nonnull(t);
    g_assert_cmpuint(t->n_client_versions, ==, 1);
    g_assert_cmpstr(mw_tls_client_versions(t)[0], ==, "TLS1.0");
    g_assert_cmpstr(t->hello_version, ==, "TLS1.0");
    g_assert_cmpstr(t->ja3, ==, ""); /* no fingerprint of a broken hello */
    g_assert_cmpstr(t->version, ==, "TLS1.0");
    g_assert_cmpstr(t->cipher, ==, "TLS_RSA_WITH_RC4_128_MD5");
    g_assert_cmpuint(strlen(t->ja3s), ==, 32);
    g_assert_true(has_anomaly(s, MW_ANOM_TLS_MALFORMED));
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_DEPRECATED_VERSION));
    mw_session_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    setup_pki();
    g_test_add_func("/tls/probe", test_probe);
    g_test_add_func("/tls/cipher_names", test_cipher_names);
    g_test_add_func("/tls/tls12_full", test_tls12_full);
    g_test_add_func("/tls/cert_findings", test_cert_findings);
    g_test_add_func("/tls/cert_shared_description", test_cert_shared_description);
    g_test_add_func("/tls/wildcards", test_wildcards);
    g_test_add_func("/tls/ja4_reference", test_ja4_reference);
    g_test_add_func("/tls/fingerprint_cache", test_fingerprint_cache);
    g_test_add_func("/tls/tls13_hrr", test_tls13_hrr);
    g_test_add_func("/tls/version_mismatch_alert", test_version_mismatch_alert);
    g_test_add_func("/tls/close_after_old_hello", test_close_after_old_hello);
    g_test_add_func("/tls/handshake_failure_alert", test_handshake_failure_alert_modern);
    g_test_add_func("/tls/deprecated_negotiated", test_deprecated_negotiated);
    g_test_add_func("/tls/sslv2_hello", test_sslv2_hello);
    g_test_add_func("/tls/plaintext_on_implicit_port", test_plaintext_on_implicit_port);
    g_test_add_func("/tls/silent_implicit_port", test_silent_implicit_port);
    g_test_add_func("/tls/clear_client_no_greeting", test_clear_client_no_greeting);
    g_test_add_func("/tls/side_advice", test_side_advice);
    g_test_add_func("/tls/client_hello_after_clear_greeting", test_client_hello_after_clear_greeting);
    g_test_add_func("/tls/smtp_client_hello_on_port_25", test_smtp_client_hello_on_port_25);
    g_test_add_func("/tls/malformed_hellos", test_malformed_hellos);
    g_test_add_func("/tls/cert_over_many_records", test_cert_over_many_records);
    g_test_add_func("/tls/midsession_hello", test_midsession_hello);
    g_test_add_func("/tls/tls13_drafts", test_tls13_drafts);
    g_test_add_func("/tls/long_certificate_chains", test_long_certificate_chains);
    g_test_add_func("/tls/broken_client_hello_kept", test_broken_client_hello_kept);
    int rc = g_test_run();
    X509_free(ca_cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(leaf_key);
    return rc;
}
