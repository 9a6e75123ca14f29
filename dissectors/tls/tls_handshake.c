#include "tls/tls_handshake.h"
#include "tls/inner/tls_decrypt.h"

#include <glib.h>
#include <string.h>

#include "core/cursor.h"
#include "tls/tls.h"
#include "tls/tls_cert.h"
#include "tls/tls_fp.h"
#include "tls/tls_names.h"
#include "tls/tls_state.h"
#include "tls/tls_hello.h"
#include "tls/tls_record.h"
#include "tls/tls_handshake.h"

/* ---------- the certificate ---------- */

/* The subject's CN ("CN=mail.example.test"), or the whole subject when it has none. */
static char *subject_cn(const char *subject)
{
    if (!subject)
        return g_strdup("(no subject)");
    const char *p = subject;
    for (;;) {
        const char *cn = strstr(p, "CN=");
        if (!cn)
            return g_strdup(subject);
        if (cn == subject || cn[-1] == ',' || cn[-1] == '/' || cn[-1] == ' ') {
            size_t n = strcspn(cn, ",/");
            return g_strndup(cn, n);
        }
        p = cn + 3;
    }
}

/* "Certificate CN=mail.example.test (expires 2027-01-01)". */
static void certificate_event(tls_state *st, const mw_tls_cert_verdict *v, const mw_ctx *ctx)
{
    const mw_tls_cert *c = &mw_tls_of_mut(st->sess)->cert;
    char *cn = subject_cn(c->subject);
    const char *when = v->expired ? "expired" : "expires";
    mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, -1,
                     "Certificate %s (%s %.10s%s%s)", cn, when,
                     c->not_after[0] ? c->not_after : "?",
                     v->not_yet_valid ? ", not yet valid" : "",
                     v->self_signed ? ", self-signed" : "");
    g_free(cn);
}

static void certificate_seen(tls_state *st, mw_cursor c, const mw_ctx *ctx)
{
    mw_cursor list;
    mw_tls_rec *r = rec_of(st);
    st->stage = "the server's Certificate";
    if (r->cert.present || !mw_cur_sub_3(&c, &list))
        return;
    mw_tls_cert_verdict v;
    mw_tls_cert_examine(tls_cert_cache(ctx), list, r->sni, ctx->ts_us, &r->cert, &v);
    if (!v.parsed) {
        mw_session_anomaly(st->sess, MW_ANOM_TLS_MALFORMED);
        return;
    }
    const char *subj = r->cert.subject ? r->cert.subject : "?";
    mw_session *s = st->sess;
    if (s->transcript)
        certificate_event(st, &v, ctx);
    if (v.expired)
        mw_session_flag(s, MW_FLAG_TLS_CERT_EXPIRED, ctx->frame, ctx->ts_us,
                        "certificate %s expired %s, before this session", subj,
                        r->cert.not_after);
    if (v.not_yet_valid)
        mw_session_flag(s, MW_FLAG_TLS_CERT_NOT_YET_VALID, ctx->frame, ctx->ts_us,
                        "certificate %s not valid before %s, after this session", subj,
                        r->cert.not_before);
    if (v.self_signed)
        mw_session_flag(s, MW_FLAG_TLS_CERT_SELF_SIGNED, ctx->frame, ctx->ts_us,
                        "certificate %s is self-signed", subj);
    if (v.name_mismatch)
        mw_session_flag(s, MW_FLAG_TLS_CERT_NAME_MISMATCH, ctx->frame, ctx->ts_us,
                        "SNI %s matches neither CN nor SAN of certificate %s", r->sni, subj);
    if (v.untrusted)
        mw_session_flag(s, MW_FLAG_TLS_CERT_UNTRUSTED, ctx->frame, ctx->ts_us,
                        "certificate %s does not verify against the trust store: %s", subj,
                        v.untrusted_why);
}

/* The whole certificates at the start of list (a TLS 1.3 entry carries extensions after
 * its certificate), in the TLS 1.2 form the checks read: a 3-byte length, then each
 * certificate with its own. A list cut short (a message longer than the cap) gives the
 * certificates that are in. */
static GByteArray *whole_certs(mw_cursor list, bool with_exts)
{
    mw_cursor one, exts;
    GByteArray *b = g_byte_array_sized_new((guint)list.left + 3);
    uint8_t hdr[3] = { 0, 0, 0 };
    g_byte_array_append(b, hdr, 3);
    while (list.left > 0) {
        if (!mw_cur_sub_3(&list, &one) || (with_exts && !mw_cur_sub_2(&list, &exts)))
            break;
        uint8_t len[3] = { (uint8_t)(one.left >> 16), (uint8_t)(one.left >> 8),
                           (uint8_t)one.left };
        g_byte_array_append(b, len, 3);
        g_byte_array_append(b, one.p, (guint)one.left);
    }
    size_t body = b->len - 3;
    b->data[0] = (uint8_t)(body >> 16);
    b->data[1] = (uint8_t)(body >> 8);
    b->data[2] = (uint8_t)body;
    return b;
}

static void certs_seen(tls_state *st, mw_cursor list, bool with_exts, const mw_ctx *ctx)
{
    GByteArray *b = whole_certs(list, with_exts);
    certificate_seen(st, mw_cursor_make(b->data, b->len), ctx);
    g_byte_array_free(b, TRUE);
}

/* RFC 8446 4.4.2: a TLS 1.3 Certificate (decrypted): a context, then the entries. */
static void certificate13_seen(tls_state *st, mw_cursor c, const mw_ctx *ctx)
{
    mw_cursor context, list;
    if (!mw_cur_sub_1(&c, &context) || !mw_cur_sub_3(&c, &list)) {
        mw_session_anomaly(st->sess, MW_ANOM_TLS_MALFORMED);
        return;
    }
    certs_seen(st, list, true, ctx);
}

/* The server's Certificate is read here (not the client's; under TLS 1.3 only decrypted). */
static bool reads_certificate(const tls_state *st, mw_dir dir)
{
    return dir == MW_FROM_SERVER && (!is_tls13(st) || st->dec_now);
}

/* A Certificate body too long to hold whole: once the first `limit` bytes are in, the
 * certificates wholly inside them (the leaf first, the intermediates that fit) are read,
 * the same however the bytes arrived; a leaf longer than that is not read, and said.
 * False: wait for more. */
static bool certificate_start(tls_state *st, mw_dir dir, mw_cursor have, size_t limit,
                              const mw_ctx *ctx)
{
    if (!reads_certificate(st, dir))
        return true;
    if (have.left < limit)
        return false;
    bool tls13 = is_tls13(st);
    mw_cursor c = mw_cursor_make(have.p, limit), context, list, leaf, exts;
    uint32_t list_len;
    bool in = (!tls13 || mw_cur_sub_1(&c, &context)) && mw_cur_be24(&c, &list_len);
    list = c;
    if (in && mw_cur_sub_3(&c, &leaf) && (!tls13 || mw_cur_sub_2(&c, &exts))) {
        certs_seen(st, list, tls13, ctx);
        return true;
    }
    st->stage = "the server's Certificate";
    mw_session_anomaly(st->sess, MW_ANOM_TLS_MALFORMED); /* counted: the leaf is over the cap */
    if (st->sess->transcript)
        mw_session_event(st->sess, dir, ctx->frame, ctx->ts_us, -1,
                         "Certificate (its first certificate is longer than "
                         "--max-tls-handshake: not read)");
    return true;
}

/* ---------- the handshake layer ---------- */

static const char *hs_stage(mw_dir dir, uint8_t type)
{
    static const struct {
        uint8_t type;
        const char *name[2];
    } t[] = {
        { 11, { "the client's Certificate", "the server's Certificate" } },
        { 12, { "a ServerKeyExchange", "the ServerKeyExchange" } },
        { 13, { "a CertificateRequest", "the CertificateRequest" } },
        { 14, { "a ServerHelloDone", "the ServerHelloDone" } },
        { 15, { "the CertificateVerify", "a CertificateVerify" } },
        { 16, { "the ClientKeyExchange", "a ClientKeyExchange" } },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
        if (t[i].type == type)
            return t[i].name[dir];
    return NULL;
}

static void handshake_msg(tls_state *st, mw_dir dir, uint8_t type, mw_cursor body,
                          const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    if (type == HS_CLIENT_HELLO && dir == MW_FROM_CLIENT) {
        /* on the stack: 3 KiB, parsed into and read before this returns */
        mw_tls_client_hello h = { .record_version = d->hs_record_version };
        if (tls_parse_client_hello(body, &h))
            tls_client_hello_seen(st, &h, ctx);
        else
            malformed(st, d);
    } else if (type == HS_SERVER_HELLO && dir == MW_FROM_SERVER) {
        mw_tls_server_hello h = { 0 };
        if (tls_parse_server_hello(body, &h))
            tls_server_hello_seen(st, &h, ctx);
        else
            malformed(st, d);
    } else if (type == HS_CERTIFICATE && reads_certificate(st, dir) && !is_tls13(st)) {
        certificate_seen(st, body, ctx);
    } else if (type == HS_CERTIFICATE && reads_certificate(st, dir)) {
        certificate13_seen(st, body, ctx);
    } else if (st->dec_now && tls_dec_handshake_msg(st, dir, type, body, ctx)) {
        /* a message only decryption shows (inner/tls_decrypt.c) */
    } else {
        const char *stage = hs_stage(dir, type);
        if (stage)
            st->stage = stage;
    }
}

static size_t hs_cap(const mw_ctx *ctx)
{
    return ctx->cfg && ctx->cfg->max_tls_handshake ? ctx->cfg->max_tls_handshake
                                                   : MW_DEFAULT_MAX_TLS_HANDSHAKE;
}

/* A message longer than --max-tls-handshake (the first `have` bytes of its body held):
 * false while it waits for more; true once it was read as far as it is read (a
 * Certificate: the certificates wholly within the cap), the rest of it to skip by length
 * (*held: the bytes of it in the buffer). The same whatever the records' sizes. */
static bool too_long(tls_state *st, mw_dir dir, uint8_t type, uint32_t mlen, mw_cursor have,
                     size_t cap, const mw_ctx *ctx, size_t *held)
{
    tls_dir *d = &st->d[dir];
    if (type == HS_CERTIFICATE && !certificate_start(st, dir, have, cap - 4, ctx))
        return false;
    *held = MIN(have.left, (size_t)mlen);
    d->hs_skip = (uint32_t)(mlen - *held);
    return true;
}

/* Read every whole message at q (n bytes): the bytes taken; a message longer than
 * --max-tls-handshake is read as far as it needs (too_long) and skipped. */
static size_t hs_messages(tls_state *st, mw_dir dir, const uint8_t *q, size_t n,
                          const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    size_t off = 0;
    while (n - off >= 4) {
        mw_cursor c = mw_cursor_make(q + off, n - off);
        uint8_t type;
        uint32_t mlen;
        mw_cur_u8(&c, &type);
        mw_cur_be24(&c, &mlen);
        if ((type == HS_CLIENT_HELLO || type == HS_SERVER_HELLO) && mlen > MW_TLS_HELLO_MAX) {
            malformed(st, d);
            break;
        }
        size_t cap = hs_cap(ctx), held;
        if (4 + (size_t)mlen > cap && type != HS_CLIENT_HELLO && type != HS_SERVER_HELLO) {
            if (!too_long(st, dir, type, mlen, c, cap, ctx, &held))
                break; /* more of it comes in the next record */
            off += 4 + held;
            continue;
        }
        mw_cursor body;
        if (!mw_cur_sub(&c, mlen, &body))
            break; /* the rest comes in the next record */
        handshake_msg(st, dir, type, body, ctx);
        off += 4 + mlen;
    }
    return off;
}

/* Can reading a decrypted message decrypt other records into the engine's one plaintext
 * buffer (the one the message lies in)? Only by replaying held records: 0-RTT ones
 * (EncryptedExtensions, a ServerHello) or those waiting for late keys. */
static bool may_replay(const tls_state *st)
{
    return st->early_offered || st->early_pending || st->d[0].held_n || st->d[1].held_n;
}

/* A record's fragment: its whole messages read where they lie when nothing is held (the
 * usual case: no copy), else after the held bytes; what is left of a message is held for
 * the next record. Decrypted bytes are copied first when a message could refill the
 * engine's plaintext buffer they lie in (may_replay) while the rest is still to be read. */
void tls_handshake_bytes(tls_state *st, mw_dir dir, uint16_t rec_version,
                            const uint8_t *p, size_t len, const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    if (d->hs_broken)
        return;
    if (d->hs_skip) {
        size_t n = MIN(len, (size_t)d->hs_skip);
        d->hs_skip -= (uint32_t)n;
        p += n;
        len -= n;
        if (len == 0)
            return;
    }
    const bool held = d->hs && d->hs->len > 0, copy = held || (st->dec_now && may_replay(st));
    if (!held)
        d->hs_record_version = rec_version;
    size_t off;
    if (copy) {
        if (!d->hs)
            d->hs = g_byte_array_new();
        g_byte_array_append(d->hs, p, (guint)len);
        off = hs_messages(st, dir, d->hs->data, d->hs->len, ctx);
    } else {
        off = hs_messages(st, dir, p, len, ctx);
    }
    if (d->hs_broken) {
        if (d->hs)
            g_byte_array_free(d->hs, TRUE);
        d->hs = NULL;
        return;
    }
    if (copy) {
        g_byte_array_remove_range(d->hs, 0, (guint)off);
    } else if (off < len) {
        if (!d->hs)
            d->hs = g_byte_array_new();
        g_byte_array_append(d->hs, p + off, (guint)(len - off));
    }
    if (d->hs && d->hs->len > 0)
        d->hs_record_version = rec_version;
}
