#include "tls/tls_hello.h"

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
#include "tls/inner/tls_decrypt.h"

/* ---------- the ClientHello probe shared with the plain-text dissectors ---------- */

/* Byte i of c, when present. */
bool tls_byte_at(mw_cursor c, size_t i, uint8_t *v)
{
    return mw_cur_skip(&c, i) && mw_cur_u8(&c, v);
}

/* Each byte of the prefix that is present must fit. */
static bool hello_prefix_ok(const uint8_t *p, size_t len, bool *complete)
{
    mw_cursor c = mw_cursor_make(p, len);
    uint8_t b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0;
    *complete = len >= MW_TLS_PROBE_LEN;
    if (!tls_byte_at(c, 0, &b0))
        return true;
    bool h1 = tls_byte_at(c, 1, &b1), h2 = tls_byte_at(c, 2, &b2), h3 = tls_byte_at(c, 3, &b3);
    bool h4 = tls_byte_at(c, 4, &b4), h5 = tls_byte_at(c, 5, &b5);
    if (b0 == CT_HANDSHAKE) {
        /* 16 03 0x LL LL 01: record header, then handshake type client_hello */
        if ((h1 && b1 != 3) || (h2 && b2 > 4) || (h5 && b5 != 1))
            return false;
        return !(h4 && ((b3 << 8) | b4) < 4);
    }
    if (b0 & 0x80) {
        /* SSLv2 2-byte header, msg type 1, version 0x0002 or 0x03xx (RFC 6101 E.2) */
        if ((h2 && b2 != 1) || (h3 && b3 != 0 && b3 != 3))
            return false;
        return !(h4 && ((b3 == 0 && b4 != 2) || (b3 == 3 && b4 > 4)));
    }
    return false;
}

bool mw_tls_looks_like_client_hello(const uint8_t *p, size_t len)
{
    bool complete;
    return hello_prefix_ok(p, len, &complete) && complete;
}

bool mw_tls_could_be_client_hello(const uint8_t *p, size_t len)
{
    bool complete;
    return hello_prefix_ok(p, len, &complete);
}

/* ---------- hellos ---------- */

static bool list16(mw_cursor c, mw_u16_list *l, bool *truncated)
{
    uint16_t v;
    while (c.left >= 2) {
        mw_cur_be16(&c, &v);
        if (mw_tls_is_grease(v))
            continue;
        if (l->n < MW_TLS_MAX_LIST)
            l->v[l->n++] = v;
        else
            *truncated = true;
    }
    return c.left == 0;
}

static void add16(mw_u16_list *l, uint16_t v, bool *truncated)
{
    if (l->n < MW_TLS_MAX_LIST)
        l->v[l->n++] = v;
    else
        *truncated = true;
}

/* RFC 6066 section 3: the first host_name entry. */
static bool ext_sni(mw_cursor c, mw_tls_client_hello *h)
{
    mw_cursor list, name;
    uint8_t type;
    h->has_sni_ext = true;
    if (c.left == 0)
        return true; /* a server's empty acknowledgement form */
    if (!mw_cur_sub_2(&c, &list))
        return false;
    while (list.left > 0) {
        if (!mw_cur_u8(&list, &type) || !mw_cur_sub_2(&list, &name))
            return false;
        if (type == 0 && !h->sni) {
            h->sni = name.p;
            h->sni_len = name.left;
        }
    }
    return true;
}

/* RFC 7301 section 3.1: the first protocol name. */
static bool ext_alpn(mw_cursor c, mw_tls_client_hello *h)
{
    mw_cursor list, name;
    if (!mw_cur_sub_2(&c, &list))
        return false;
    while (list.left > 0) {
        if (!mw_cur_sub_1(&list, &name))
            return false;
        if (!h->alpn) {
            h->alpn = name.p;
            h->alpn_len = name.left;
        }
    }
    return true;
}

static bool client_ext(uint16_t type, mw_cursor body, mw_tls_client_hello *h)
{
    mw_cursor sub;
    uint8_t u8;
    switch (type) {
    case 0x0000:
        return ext_sni(body, h);
    case 0x0010:
        return ext_alpn(body, h);
    case 0x000a: /* supported_groups, RFC 8422 5.1.1 */
        return mw_cur_sub_2(&body, &sub) && list16(sub, &h->groups, &h->truncated);
    case 0x000b: /* ec_point_formats, RFC 8422 5.1.2 */
        if (!mw_cur_sub_1(&body, &sub))
            return false;
        while (mw_cur_u8(&sub, &u8))
            add16(&h->formats, u8, &h->truncated);
        return true;
    case 0x000d: /* signature_algorithms, RFC 8446 4.2.3 */
        return mw_cur_sub_2(&body, &sub) && list16(sub, &h->sigalgs, &h->truncated);
    case 0x002b: /* supported_versions, RFC 8446 4.2.1 */
        return mw_cur_sub_1(&body, &sub) && list16(sub, &h->versions, &h->truncated);
    default:
        return true;
    }
}

/* RFC 5246 7.4.1.2 / RFC 8446 4.1.2. False when not even the version and random are
 * there; a field that does not parse after them sets h->broken and ends the parse, the
 * fields before it kept (a fuzzed hello still says what it offered, issue 15). */
bool tls_parse_client_hello(mw_cursor c, mw_tls_client_hello *h)
{
    mw_cursor sid, suites, comp, exts, body;
    uint16_t type;
    if (!mw_cur_be16(&c, &h->legacy_version) || !mw_cur_bytes(&c, 32, &h->random))
        return false;
    h->broken = true; /* until the end is reached */
    if (!mw_cur_sub_1(&c, &sid) || !mw_cur_sub_2(&c, &suites) ||
        !list16(suites, &h->ciphers, &h->truncated) || !mw_cur_sub_1(&c, &comp))
        return true;
    if (c.left == 0) {
        h->broken = false;
        return true; /* no extensions (allowed before TLS 1.3) */
    }
    if (!mw_cur_sub_2(&c, &exts))
        return true;
    while (exts.left > 0) {
        if (!mw_cur_be16(&exts, &type) || !mw_cur_sub_2(&exts, &body))
            return true;
        if (mw_tls_is_grease(type))
            continue;
        add16(&h->exts, type, &h->truncated);
        if (!client_ext(type, body, h))
            return true;
    }
    h->broken = false;
    return true;
}

/* First label of a host name -> the mail service it usually names. */
static const struct {
    const char *label;
    mw_proto proto;
} sni_hints[] = {
    { "smtp", MW_PROTO_SMTPS },       { "smtps", MW_PROTO_SMTPS },
    { "mail", MW_PROTO_SMTPS },       { "mx", MW_PROTO_SMTPS },
    { "submission", MW_PROTO_SMTPS }, { "relay", MW_PROTO_SMTPS },
    { "imap", MW_PROTO_IMAPS },       { "imaps", MW_PROTO_IMAPS },
    { "pop", MW_PROTO_POP3S },        { "pop3", MW_PROTO_POP3S },
    { "pop3s", MW_PROTO_POP3S },
};

/* RFC 7301 ALPN identifiers of the mail protocols (IANA registry). */
static const struct {
    const char *id;
    mw_proto proto;
} alpn_hints[] = {
    { "imap", MW_PROTO_IMAPS },
    { "pop3", MW_PROTO_POP3S },
    { "smtp", MW_PROTO_SMTPS },
};

int mw_tls_mail_hint(const uint8_t *p, size_t len)
{
    mw_cursor c = mw_cursor_make(p, len), body;
    uint8_t type, hs_type;
    uint16_t version, rec_len;
    uint32_t hs_len;
    if (!mw_cur_u8(&c, &type) || type != CT_HANDSHAKE || !mw_cur_be16(&c, &version) ||
        !mw_cur_be16(&c, &rec_len) || !mw_cur_u8(&c, &hs_type) || hs_type != HS_CLIENT_HELLO ||
        !mw_cur_be24(&c, &hs_len))
        return MW_PROTO_UNKNOWN;
    /* the hello may go on in the next segment: parse what this one holds */
    body = mw_cursor_make(c.p, MIN(c.left, (size_t)hs_len));
    mw_tls_client_hello h;
    memset(&h, 0, sizeof h);
    tls_parse_client_hello(body, &h);
    for (size_t i = 0; h.alpn && i < G_N_ELEMENTS(alpn_hints); i++)
        if (h.alpn_len == strlen(alpn_hints[i].id) &&
            memcmp(h.alpn, alpn_hints[i].id, h.alpn_len) == 0)
            return alpn_hints[i].proto;
    if (h.sni) {
        const uint8_t *dot = memchr(h.sni, '.', h.sni_len);
        size_t label = dot ? (size_t)(dot - h.sni) : h.sni_len;
        for (size_t i = 0; i < G_N_ELEMENTS(sni_hints); i++)
            if (label == strlen(sni_hints[i].label) &&
                g_ascii_strncasecmp((const char *)h.sni, sni_hints[i].label, label) == 0)
                return sni_hints[i].proto;
    }
    return MW_PROTO_UNKNOWN;
}

static void fill_client_versions(mw_tls_rec *r, const mw_tls_client_hello *h)
{
    r->n_client_versions = 0;
    for (size_t i = 0; i < h->versions.n; i++) {
        const char *n = mw_tls_version_name(h->versions.v[i]);
        bool dup = false;
        for (unsigned k = 0; n && k < r->n_client_versions; k++)
            dup |= mw_tls_client_versions(r)[k] == n;
        if (n && !dup)
            mw_tls_client_version_add(r, n);
    }
    if (r->n_client_versions == 0 && mw_tls_version_name(h->legacy_version))
        mw_tls_client_version_add(r, mw_tls_version_name(h->legacy_version));
}

/* "ClientHello offering TLS1.3,TLS1.2 (SNI mail.example.test, ALPN imap)". */
static void client_hello_event(tls_state *st, const mw_tls_client_hello *h, bool again,
                               const mw_ctx *ctx)
{
    mw_session *s = st->sess;
    st->hello_pending = true;
    st->hello_ts = ctx->ts_us;
    if (!s->transcript)
        return;
    if (again) { /* the second hello, after a HelloRetryRequest */
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "ClientHello (again, after the HelloRetryRequest)");
        return;
    }
    GString *t = g_string_new("ClientHello");
    if (h->sslv2_format)
        g_string_append(t, " (SSLv2 format)");
    const mw_tls_rec *r = mw_tls_of(s);
    for (unsigned i = 0; r && i < r->n_client_versions; i++)
        g_string_append_printf(t, "%s%s", i ? "," : " offering ", mw_tls_client_versions(r)[i]);
    if (h->sni)
        g_string_append_printf(t, " (SNI %.*s", (int)MIN(h->sni_len, (size_t)255),
                               (const char *)h->sni);
    if (h->alpn)
        g_string_append_printf(t, "%sALPN %.*s", h->sni ? ", " : " (",
                               (int)MIN(h->alpn_len, (size_t)255), (const char *)h->alpn);
    if (h->sni || h->alpn)
        g_string_append_c(t, ')');
    /* wire bytes: a NUL would cut the text short, which is all it would do */
    mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%s", t->str);
    g_string_free(t, TRUE);
}

void tls_client_hello_seen(tls_state *st, const mw_tls_client_hello *h, const mw_ctx *ctx)
{
    mw_tls_rec *r = rec_of(st);
    st->stage = "the ClientHello";
    if (st->client_hello) {
        client_hello_event(st, h, true, ctx);
        return; /* a second hello (after HelloRetryRequest): the first one describes it */
    }
    st->client_hello = true;
    tls_keep_client_hello(st, h);
    st->client_max = mw_tls_client_max_version(h);
    fill_client_versions(r, h);
    r->hello_version = mw_tls_version_name(h->legacy_version);
    r->record_version = h->sslv2_format ? "SSLv2" : mw_tls_version_name(h->record_version);
    r->sslv2_hello = h->sslv2_format;
    /* written once (the first hello): in the session's arena, with the record */
    if (h->sni && !r->sni)
        r->sni = mw_session_wire_strdup(st->sess, h->sni, h->sni_len, 255);
    if (h->alpn && !r->alpn)
        r->alpn = mw_session_wire_strdup(st->sess, h->alpn, h->alpn_len, 255);
    /* a broken hello keeps what it offered, but a fingerprint of it would match nothing */
    if (!h->sslv2_format && !h->broken)
        mw_tls_client_fingerprints(tls_fp_cache(ctx), h, r->ja3, r->ja4);
    if (h->truncated || h->broken)
        mw_session_anomaly(st->sess, MW_ANOM_TLS_MALFORMED);
    client_hello_event(st, h, false, ctx);
    if (offer_below_tls12(st))
        mw_session_flag(st->sess, MW_FLAG_TLS_DEPRECATED_VERSION, ctx->frame, ctx->ts_us,
                        "client offered at most %s in its ClientHello", vname(st->client_max));
}

/* RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random. */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

bool tls_parse_server_hello(mw_cursor c, mw_tls_server_hello *h)
{
    mw_cursor sid, exts, body;
    const uint8_t *random;
    uint8_t comp;
    uint16_t type;
    if (!mw_cur_be16(&c, &h->legacy_version) || !mw_cur_bytes(&c, 32, &random))
        return false;
    /* draft-ietf-tls-tls13 up to -21: version, random, cipher, extensions */
    bool early_draft = (h->legacy_version >> 8) == 0x7f &&
                       (h->legacy_version & 0xff) < MW_TLS_DRAFT_LEGACY_SH;
    if (early_draft ? !mw_cur_be16(&c, &h->cipher)
                    : (!mw_cur_sub_1(&c, &sid) || !mw_cur_be16(&c, &h->cipher) ||
                       !mw_cur_u8(&c, &comp)))
        return false;
    h->hello_retry = memcmp(random, hrr_random, 32) == 0;
    h->random = random;
    if (c.left == 0)
        return true;
    /* the version and cipher are in: broken extensions do not take them away */
    h->broken = true;
    if (!mw_cur_sub_2(&c, &exts))
        return true;
    bool trunc = false;
    while (exts.left > 0) {
        if (!mw_cur_be16(&exts, &type) || !mw_cur_sub_2(&exts, &body))
            return true;
        add16(&h->exts, type, &trunc);
        if (type == 0x002b && !mw_cur_be16(&body, &h->selected_version))
            return true;
    }
    h->broken = false;
    return true;
}

static void set_cipher(mw_tls_rec *r, const char *name, uint32_t id, int hexdigits)
{
    if (name) { /* by length: g_strlcpy's byte loop cost more than the rest of the hello */
        size_t n = MIN(strlen(name), sizeof r->cipher - 1);
        memcpy(r->cipher, name, n);
        r->cipher[n] = '\0';
    } else
        g_snprintf(r->cipher, sizeof r->cipher, "0x%0*X", hexdigits, id);
}

/* "ServerHello TLS1.3 TLS_AES_256_GCM_SHA384", timed from the ClientHello it answers. */
static void server_hello_event(tls_state *st, const char *what, const mw_ctx *ctx)
{
    mw_session *s = st->sess;
    int64_t latency = -1;
    if (st->hello_pending) {
        latency = ctx->ts_us - st->hello_ts;
        mw_session_latency(s, "ClientHello", st->hello_ts, ctx->ts_us, ctx->frame);
        st->hello_pending = false;
    }
    if (!s->transcript)
        return;
    const mw_tls_rec *r = mw_tls_of(s);
    mw_session_event(s, MW_FROM_SERVER, ctx->frame, ctx->ts_us, latency, "%s %s %s", what,
                     r->version ? r->version : "(unknown version)",
                     r->cipher[0] ? r->cipher : "(no cipher)");
}

static void server_chose(tls_state *st, uint16_t version, const mw_ctx *ctx, const char *what)
{
    mw_tls_rec *r = rec_of(st);
    st->server_hello = true;
    st->selected = version;
    st->tls13 = mw_tls_version_rank(version) >= MW_TLS_V_TLS13;
    r->version = mw_tls_version_name(version);
    server_hello_event(st, what, ctx);
    uint16_t rank = mw_tls_version_rank(version);
    if (rank && rank < MW_TLS_V_TLS12 &&
        !mw_session_has(st->sess, MW_FLAG_TLS_DEPRECATED_VERSION))
        mw_session_flag(st->sess, MW_FLAG_TLS_DEPRECATED_VERSION, ctx->frame, ctx->ts_us,
                        "%s negotiated (ServerHello)", vname(version));
}

void tls_server_hello_seen(tls_state *st, const mw_tls_server_hello *h, const mw_ctx *ctx)
{
    mw_tls_rec *r = rec_of(st);
    st->stage = h->hello_retry ? "the HelloRetryRequest" : "the ServerHello";
    if (h->hello_retry)
        r->hello_retry = true;
    set_cipher(r, mw_tls_cipher_name(h->cipher), h->cipher, 4);
    if (h->broken)
        mw_session_anomaly(st->sess, MW_ANOM_TLS_MALFORMED);
    else
        mw_tls_server_fingerprint(tls_fp_cache(ctx), h, r->ja3s);
    server_chose(st, h->selected_version ? h->selected_version : h->legacy_version, ctx,
                 h->hello_retry ? "HelloRetryRequest" : "ServerHello");
    if (!h->hello_retry && !h->broken) /* keys from a broken hello would be a guess */
        tls_keys_server_hello(st, h, ctx);
}

/* ---------- SSLv2 (RFC 6101 appendix E, draft-hickman SSL 2.0) ---------- */

/* Two-byte header (high bit set) or three-byte header with padding. */
bool tls_sslv2_header(mw_cursor *c, size_t *body)
{
    uint8_t b0, b1, pad;
    if (!mw_cur_u8(c, &b0) || !mw_cur_u8(c, &b1))
        return false;
    if (b0 & 0x80) {
        *body = ((size_t)(b0 & 0x7f) << 8) | b1;
        return true;
    }
    *body = ((size_t)(b0 & 0x3f) << 8) | b1;
    return mw_cur_u8(c, &pad);
}

void tls_sslv2_client_hello(tls_state *st, mw_cursor c, const mw_ctx *ctx)
{
    mw_tls_client_hello *h = g_new0(mw_tls_client_hello, 1);
    uint8_t type;
    uint16_t spec_len, sid_len, chal_len;
    mw_cursor specs;
    h->sslv2_format = true;
    if (!mw_cur_u8(&c, &type) || !mw_cur_be16(&c, &h->legacy_version) ||
        !mw_cur_be16(&c, &spec_len) || !mw_cur_be16(&c, &sid_len) ||
        !mw_cur_be16(&c, &chal_len) || spec_len % 3 != 0 || !mw_cur_sub(&c, spec_len, &specs) ||
        !mw_cur_skip(&c, (size_t)sid_len + chal_len)) {
        malformed(st, &st->d[MW_FROM_CLIENT]);
        g_free(h);
        return;
    }
    const uint8_t *s;
    while (mw_cur_bytes(&specs, 3, &s)) {
        uint16_t v = (uint16_t)((s[1] << 8) | s[2]);
        if (s[0] == 0 && !mw_tls_is_grease(v)) /* a TLS suite in SSLv2 form (E.1) */
            add16(&h->ciphers, v, &h->truncated);
    }
    tls_client_hello_seen(st, h, ctx);
    g_free(h);
}

void tls_sslv2_server_hello(tls_state *st, mw_cursor c, const mw_ctx *ctx)
{
    uint8_t type, hit, cert_type;
    uint16_t version, cert_len, specs_len, conn_len;
    const uint8_t *spec;
    if (!mw_cur_u8(&c, &type) || !mw_cur_u8(&c, &hit) || !mw_cur_u8(&c, &cert_type) ||
        !mw_cur_be16(&c, &version) || !mw_cur_be16(&c, &cert_len) ||
        !mw_cur_be16(&c, &specs_len) || !mw_cur_be16(&c, &conn_len) ||
        !mw_cur_skip(&c, cert_len)) {
        malformed(st, &st->d[MW_FROM_SERVER]);
        return;
    }
    mw_tls_rec *r = rec_of(st);
    st->stage = "the SSLv2 SERVER-HELLO";
    if (specs_len >= 3 && mw_cur_bytes(&c, 3, &spec)) {
        uint32_t id = ((uint32_t)spec[0] << 16) | ((uint32_t)spec[1] << 8) | spec[2];
        set_cipher(r, mw_tls_sslv2_cipher_name(id), id, 6);
    }
    server_chose(st, MW_TLS_V_SSL2, ctx, "SERVER-HELLO");
}
