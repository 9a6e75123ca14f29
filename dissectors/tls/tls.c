/* TLS (RFC 5246, RFC 8446; SSL 3.0 RFC 6101; SSLv2-compatible ClientHello).
 *
 * Two layers per direction. The record layer reads 5-byte headers from the reassembled
 * stream; a record that is not complete yet is left to the feeder (NEED_MORE, consumed
 * at the record start; the feeder's cap holds one maximal record). Opaque records
 * (application data, encrypted handshake) are skipped by length across feeds, counted,
 * never scanned. Cleartext handshake records go to a second buffer, where messages that
 * span records are reassembled up to MW_TLS_HS_MAX. Hellos, the server's certificate and
 * cleartext alerts fill the record's tls object and raise the TLS flags of SPEC.md. */
#include <glib.h>
#include <string.h>

#include "core/cursor.h"
#include "dissector.h"
#include "tls/tls.h"
#include "tls/tls_cert.h"
#include "tls/tls_fp.h"
#include "tls/tls_names.h"

/* Largest handshake message reassembled (a certificate chain is the big one). */
#define MW_TLS_HS_MAX (128u * 1024u)
/* RFC 5246 6.2.3: a record body is at most 2^14 + 2048 bytes. */
#define MW_TLS_BODY_MAX (16384u + 2048u)
/* Bytes of a plain-text first line looked at before judging it. */
#define MW_TLS_PLAIN_PEEK 128

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24 };
enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11 };

typedef struct {
    GByteArray *hs;      /* handshake bytes not yet forming a whole message */
    uint16_t hs_record_version;
    uint64_t skip;       /* bytes of an opaque record still to skip */
    bool started;        /* the first bytes were judged */
    bool sslv2;          /* SSLv2 record framing */
    bool ccs;            /* sent ChangeCipherSpec */
    bool finished;       /* an encrypted handshake record (Finished) after its CCS */
    bool appdata;        /* sent application data (TLS 1.3: its encrypted flight too) */
    bool hs_broken;      /* the handshake layer gave up on this direction */
    bool lost;           /* out of sync (gap, garbage): the rest is skipped */
} tls_dir;

typedef struct {
    mw_session *sess;
    tls_dir d[2];
    bool plaintext;      /* not TLS at all (tls_mode_mismatch): nothing more to parse */
    bool client_hello, server_hello;
    uint16_t client_max; /* highest version the client offered */
    uint16_t selected;   /* version the server chose */
    const char *stage;   /* the last cleartext handshake message, for evidence */
    bool done;

    /* transcript (used only when the session keeps one) */
    bool hello_pending;  /* a ClientHello awaits its ServerHello (or HelloRetryRequest) */
    int64_t hello_ts;    /* when it was sent */
    guint app_event[2];  /* 1 + index of the "[encrypted: ...]" event per direction; 0: none */
} tls_state;

static const char *const side_name[2] = { "client", "server" };

static mw_tls_rec *rec_of(tls_state *st)
{
    return mw_session_tls(st->sess);
}

static bool is_tls13(const tls_state *st)
{
    return mw_tls_version_rank(st->selected) >= MW_TLS_V_TLS13;
}

static const char *vname(uint16_t v)
{
    const char *n = mw_tls_version_name(v);
    return n ? n : "an unknown version";
}

/* The client's best offer is a known version below TLS 1.2. */
static bool offer_below_tls12(const tls_state *st)
{
    uint16_t rank = mw_tls_version_rank(st->client_max);
    return st->client_hello && rank && rank < MW_TLS_V_TLS12;
}

static void malformed(tls_state *st, tls_dir *d)
{
    mw_session_anomaly(st->sess, MW_ANOM_TLS_MALFORMED);
    d->hs_broken = true;
}

/* ---------- the ClientHello probe shared with the plain-text dissectors ---------- */

/* Byte i of c, when present. */
static bool byte_at(mw_cursor c, size_t i, uint8_t *v)
{
    return mw_cur_skip(&c, i) && mw_cur_u8(&c, v);
}

/* Each byte of the prefix that is present must fit. */
static bool hello_prefix_ok(const uint8_t *p, size_t len, bool *complete)
{
    mw_cursor c = mw_cursor_make(p, len);
    uint8_t b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0;
    *complete = len >= MW_TLS_PROBE_LEN;
    if (!byte_at(c, 0, &b0))
        return true;
    bool h1 = byte_at(c, 1, &b1), h2 = byte_at(c, 2, &b2), h3 = byte_at(c, 3, &b3);
    bool h4 = byte_at(c, 4, &b4), h5 = byte_at(c, 5, &b5);
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

/* ---------- handshake completion and alerts ---------- */

/* Finished both ways (up to TLS 1.2), or encrypted records both ways (TLS 1.3, where
 * the rest of the handshake already travels as application data, RFC 8446 5.1). */
static void check_done(tls_state *st)
{
    if (st->done)
        return;
    bool both_app = st->d[0].appdata && st->d[1].appdata;
    bool both_fin = st->d[0].finished && st->d[1].finished;
    if (!(both_app || (!is_tls13(st) && both_fin)))
        return;
    st->done = true;
    st->sess->encrypted = true;
    if (st->sess->tls)
        st->sess->tls->handshake_done = true;
}

static void set_alert(mw_tls_rec *r, uint8_t level, uint8_t desc, mw_dir from)
{
    /* keep the first fatal alert; a warning only until a fatal one comes */
    if (r->alert.present && (strcmp(r->alert.level, "fatal") == 0 || level != 2))
        return;
    const char *ln = mw_tls_alert_level_name(level);
    const char *dn = mw_tls_alert_name(desc);
    r->alert.present = true;
    r->alert.from = from;
    if (ln)
        g_strlcpy(r->alert.level, ln, sizeof r->alert.level);
    else
        g_snprintf(r->alert.level, sizeof r->alert.level, "level(%u)", level);
    if (dn)
        g_strlcpy(r->alert.description, dn, sizeof r->alert.description);
    else
        g_snprintf(r->alert.description, sizeof r->alert.description, "unknown(%u)", desc);
}

static void handle_alert(tls_state *st, mw_dir dir, mw_cursor c, const mw_ctx *ctx)
{
    uint8_t level, desc;
    if (!mw_cur_u8(&c, &level) || !mw_cur_u8(&c, &desc)) {
        malformed(st, &st->d[dir]);
        return;
    }
    mw_tls_rec *r = rec_of(st);
    set_alert(r, level, desc, dir);
    const char *dn = mw_tls_alert_name(desc);
    char dbuf[16];
    if (!dn) {
        g_snprintf(dbuf, sizeof dbuf, "unknown(%u)", desc);
        dn = dbuf;
    }
    const char *after = st->stage ? st->stage : "the first handshake message";
    bool fatal = level == 2;
    if (st->sess->transcript) {
        const char *ln = mw_tls_alert_level_name(level);
        mw_session_event(st->sess, dir, ctx->frame, ctx->ts_us, -1, "alert %s %s",
                         ln ? ln : "(unknown level)", dn);
    }
    if (fatal && !st->done)
        mw_session_flag(st->sess, MW_FLAG_TLS_HANDSHAKE_FAILED, ctx->frame, ctx->ts_us,
                        "fatal alert %s from %s after %s", dn, side_name[dir], after);
    bool low_offer = offer_below_tls12(st);
    /* SPEC.md: protocol_version at any offer, or any fatal alert right after a
     * ClientHello whose highest version is below TLS 1.2 */
    if (desc == 70 || (fatal && !st->server_hello && low_offer))
        mw_session_flag(st->sess, MW_FLAG_TLS_VERSION_MISMATCH, ctx->frame, ctx->ts_us,
                        "%s alert %s from %s after a ClientHello offering at most %s",
                        fatal ? "fatal" : "warning", dn, side_name[dir],
                        st->client_hello ? vname(st->client_max) : "(not seen)");
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

/* RFC 5246 7.4.1.2 / RFC 8446 4.1.2. */
static bool parse_client_hello(mw_cursor c, mw_tls_client_hello *h)
{
    mw_cursor sid, suites, comp, exts, body;
    uint16_t type;
    if (!mw_cur_be16(&c, &h->legacy_version) || !mw_cur_skip(&c, 32) ||
        !mw_cur_sub_1(&c, &sid) || !mw_cur_sub_2(&c, &suites) || !mw_cur_sub_1(&c, &comp))
        return false;
    if (!list16(suites, &h->ciphers, &h->truncated))
        return false;
    if (c.left == 0)
        return true; /* no extensions (allowed before TLS 1.3) */
    if (!mw_cur_sub_2(&c, &exts))
        return false;
    while (exts.left > 0) {
        if (!mw_cur_be16(&exts, &type) || !mw_cur_sub_2(&exts, &body))
            return false;
        if (mw_tls_is_grease(type))
            continue;
        add16(&h->exts, type, &h->truncated);
        if (!client_ext(type, body, h))
            return false;
    }
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
    parse_client_hello(body, &h);
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
    g_ptr_array_set_size(r->client_versions, 0);
    for (size_t i = 0; i < h->versions.n; i++) {
        const char *n = mw_tls_version_name(h->versions.v[i]);
        bool dup = false;
        for (guint k = 0; n && k < r->client_versions->len; k++)
            dup |= g_ptr_array_index(r->client_versions, k) == n;
        if (n && !dup)
            g_ptr_array_add(r->client_versions, (gpointer)n);
    }
    if (r->client_versions->len == 0 && mw_tls_version_name(h->legacy_version))
        g_ptr_array_add(r->client_versions, (gpointer)mw_tls_version_name(h->legacy_version));
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
    const mw_tls_rec *r = s->tls;
    for (guint i = 0; r && i < r->client_versions->len; i++)
        g_string_append_printf(t, "%s%s", i ? "," : " offering ",
                               (const char *)g_ptr_array_index(r->client_versions, i));
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

static void client_hello_seen(tls_state *st, const mw_tls_client_hello *h, const mw_ctx *ctx)
{
    mw_tls_rec *r = rec_of(st);
    st->stage = "the ClientHello";
    if (st->client_hello) {
        client_hello_event(st, h, true, ctx);
        return; /* a second hello (after HelloRetryRequest): the first one describes it */
    }
    st->client_hello = true;
    st->client_max = mw_tls_client_max_version(h);
    fill_client_versions(r, h);
    r->hello_version = mw_tls_version_name(h->legacy_version);
    r->record_version = h->sslv2_format ? "SSLv2" : mw_tls_version_name(h->record_version);
    r->sslv2_hello = h->sslv2_format;
    if (h->sni && !r->sni)
        r->sni = mw_wire_strdup(h->sni, h->sni_len, 255);
    if (h->alpn && !r->alpn)
        r->alpn = mw_wire_strdup(h->alpn, h->alpn_len, 255);
    if (!h->sslv2_format) {
        mw_tls_client_fingerprints(h, r->ja3, r->ja4);
    }
    if (h->truncated)
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

static bool parse_server_hello(mw_cursor c, mw_tls_server_hello *h)
{
    mw_cursor sid, exts, body;
    const uint8_t *random;
    uint8_t comp;
    uint16_t type;
    if (!mw_cur_be16(&c, &h->legacy_version) || !mw_cur_bytes(&c, 32, &random) ||
        !mw_cur_sub_1(&c, &sid) || !mw_cur_be16(&c, &h->cipher) || !mw_cur_u8(&c, &comp))
        return false;
    h->hello_retry = memcmp(random, hrr_random, 32) == 0;
    if (c.left == 0)
        return true;
    if (!mw_cur_sub_2(&c, &exts))
        return false;
    bool trunc = false;
    while (exts.left > 0) {
        if (!mw_cur_be16(&exts, &type) || !mw_cur_sub_2(&exts, &body))
            return false;
        add16(&h->exts, type, &trunc);
        if (type == 0x002b && !mw_cur_be16(&body, &h->selected_version))
            return false;
    }
    return true;
}

static void set_cipher(mw_tls_rec *r, const char *name, uint32_t id, int hexdigits)
{
    if (name)
        g_strlcpy(r->cipher, name, sizeof r->cipher);
    else
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
    const mw_tls_rec *r = s->tls;
    mw_session_event(s, MW_FROM_SERVER, ctx->frame, ctx->ts_us, latency, "%s %s %s", what,
                     r->version ? r->version : "(unknown version)",
                     r->cipher[0] ? r->cipher : "(no cipher)");
}

static void server_chose(tls_state *st, uint16_t version, const mw_ctx *ctx, const char *what)
{
    mw_tls_rec *r = rec_of(st);
    st->server_hello = true;
    st->selected = version;
    r->version = mw_tls_version_name(version);
    server_hello_event(st, what, ctx);
    uint16_t rank = mw_tls_version_rank(version);
    if (rank && rank < MW_TLS_V_TLS12 &&
        !mw_session_has(st->sess, MW_FLAG_TLS_DEPRECATED_VERSION))
        mw_session_flag(st->sess, MW_FLAG_TLS_DEPRECATED_VERSION, ctx->frame, ctx->ts_us,
                        "%s negotiated (ServerHello)", vname(version));
}

static void server_hello_seen(tls_state *st, const mw_tls_server_hello *h, const mw_ctx *ctx)
{
    mw_tls_rec *r = rec_of(st);
    st->stage = h->hello_retry ? "the HelloRetryRequest" : "the ServerHello";
    if (h->hello_retry)
        r->hello_retry = true;
    set_cipher(r, mw_tls_cipher_name(h->cipher), h->cipher, 4);
    mw_tls_server_fingerprint(h, r->ja3s);
    server_chose(st, h->selected_version ? h->selected_version : h->legacy_version, ctx,
                 h->hello_retry ? "HelloRetryRequest" : "ServerHello");
}

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
    const mw_tls_cert *c = &st->sess->tls->cert;
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
    mw_tls_cert_examine(list, r->sni, ctx->ts_us, &r->cert, &v);
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
        mw_tls_client_hello *h = g_new0(mw_tls_client_hello, 1);
        h->record_version = d->hs_record_version;
        if (parse_client_hello(body, h))
            client_hello_seen(st, h, ctx);
        else
            malformed(st, d);
        g_free(h);
    } else if (type == HS_SERVER_HELLO && dir == MW_FROM_SERVER) {
        mw_tls_server_hello *h = g_new0(mw_tls_server_hello, 1);
        if (parse_server_hello(body, h))
            server_hello_seen(st, h, ctx);
        else
            malformed(st, d);
        g_free(h);
    } else if (type == HS_CERTIFICATE && dir == MW_FROM_SERVER && !is_tls13(st)) {
        certificate_seen(st, body, ctx);
    } else {
        const char *stage = hs_stage(dir, type);
        if (stage)
            st->stage = stage;
    }
}

/* Append a record's fragment and take every whole message out of the buffer. */
static void handshake_bytes(tls_state *st, mw_dir dir, uint16_t rec_version,
                            const uint8_t *p, size_t len, const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    if (d->hs_broken)
        return;
    if (!d->hs)
        d->hs = g_byte_array_new();
    if (d->hs->len == 0)
        d->hs_record_version = rec_version;
    g_byte_array_append(d->hs, p, (guint)len);
    size_t off = 0;
    while (d->hs->len - off >= 4) {
        mw_cursor c = mw_cursor_make(d->hs->data + off, d->hs->len - off);
        uint8_t type;
        uint32_t mlen;
        mw_cur_u8(&c, &type);
        mw_cur_be24(&c, &mlen);
        if (mlen > MW_TLS_HS_MAX) {
            malformed(st, d);
            break;
        }
        mw_cursor body;
        if (!mw_cur_sub(&c, mlen, &body))
            break; /* the rest comes in the next record */
        handshake_msg(st, dir, type, body, ctx);
        off += 4 + mlen;
    }
    if (d->hs_broken) {
        g_byte_array_free(d->hs, TRUE);
        d->hs = NULL;
        return;
    }
    g_byte_array_remove_range(d->hs, 0, (guint)off);
    if (d->hs->len > 0)
        d->hs_record_version = rec_version;
}

/* ---------- the record layer ---------- */

static void opaque_record(tls_state *st, mw_dir dir, uint8_t type, uint32_t len,
                          const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    if (type == CT_APPDATA) {
        d->appdata = true;
        if (st->sess->tls) {
            st->sess->tls->app_records[dir]++;
            st->sess->tls->app_bytes[dir] += len;
            if (st->sess->transcript && !st->app_event[dir]) {
                /* one event per direction where the encrypted data starts; its counts
                 * are filled in at the close (encrypted_summary) */
                guint at = st->sess->transcript->len;
                mw_session_event(st->sess, dir, ctx->frame, ctx->ts_us, -1, "[encrypted]");
                st->app_event[dir] = st->sess->transcript->len > at ? at + 1 : G_MAXUINT;
            }
        }
    } else if (type == CT_HANDSHAKE) {
        d->finished = true;
    }
    check_done(st);
}

/* A whole cleartext record. */
static void clear_record(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                         const uint8_t *body, size_t len, const mw_ctx *ctx)
{
    switch (type) {
    case CT_HANDSHAKE:
        handshake_bytes(st, dir, version, body, len, ctx);
        break;
    case CT_ALERT:
        handle_alert(st, dir, mw_cursor_make(body, len), ctx);
        break;
    case CT_CCS:
        st->d[dir].ccs = true;
        break;
    default:
        break;
    }
}

/* Is a record of this type opaque? After a CCS up to TLS 1.2 handshake and alert records
 * are encrypted; in TLS 1.3 encrypted ones all travel as application data. */
static bool record_is_opaque(const tls_state *st, const tls_dir *d, uint8_t type)
{
    if (type == CT_APPDATA || type == CT_HEARTBEAT)
        return true;
    return (type == CT_HANDSHAKE || type == CT_ALERT) && d->ccs && !is_tls13(st);
}

/* ---------- SSLv2 (RFC 6101 appendix E, draft-hickman SSL 2.0) ---------- */

/* Two-byte header (high bit set) or three-byte header with padding. */
static bool sslv2_header(mw_cursor *c, size_t *body)
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

static void sslv2_client_hello(tls_state *st, mw_cursor c, const mw_ctx *ctx)
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
    client_hello_seen(st, h, ctx);
    g_free(h);
}

static void sslv2_server_hello(tls_state *st, mw_cursor c, const mw_ctx *ctx)
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

/* One SSLv2 record; the hellos are read, the rest is opaque. */
static mw_feed_result sslv2_record(tls_state *st, mw_dir dir, const uint8_t *p, size_t len,
                                   const mw_ctx *ctx)
{
    mw_feed_result r = { MW_FEED_NEED_MORE, 0 };
    tls_dir *d = &st->d[dir];
    mw_cursor c = mw_cursor_make(p, len);
    size_t body;
    uint8_t msg;
    if (!sslv2_header(&c, &body))
        return r;
    size_t hdr = len - c.left;
    if (body > MW_TLS_BODY_MAX) {
        malformed(st, d);
        d->lost = true;
        r.status = MW_FEED_OK;
        r.consumed = len;
        return r;
    }
    mw_cursor peek = c;
    if (body > 0 && !mw_cur_u8(&peek, &msg))
        return r;
    bool hello = body > 0 && ((dir == MW_FROM_CLIENT && msg == 1 && !st->client_hello) ||
                              (dir == MW_FROM_SERVER && msg == 4 && !st->server_hello));
    if (!hello) {
        r.status = MW_FEED_OK;
        r.consumed = hdr;
        d->skip = body;
        opaque_record(st, dir, CT_APPDATA, (uint32_t)body, ctx);
        return r;
    }
    mw_cursor m;
    if (!mw_cur_sub(&c, body, &m))
        return r;
    if (dir == MW_FROM_CLIENT) {
        sslv2_client_hello(st, m, ctx);
        /* a version-3 client goes on in TLS records (RFC 6101 E.1) */
        d->sslv2 = mw_tls_version_rank(st->client_max) == MW_TLS_V_SSL2;
    } else {
        sslv2_server_hello(st, m, ctx);
    }
    r.status = MW_FEED_OK;
    r.consumed = hdr + body;
    return r;
}

/* ---------- the first bytes of a direction ---------- */

typedef enum { FIRST_MORE, FIRST_TLS, FIRST_SSLV2, FIRST_NOT_TLS } first_kind;

static first_kind judge_first(mw_dir dir, const uint8_t *p, size_t len)
{
    mw_cursor c = mw_cursor_make(p, len);
    uint8_t b0 = 0, b2 = 0;
    if (!byte_at(c, 0, &b0))
        return FIRST_MORE;
    if (b0 >= CT_CCS && b0 <= CT_HEARTBEAT)
        return FIRST_TLS;
    if (b0 & 0x80) {
        if (!byte_at(c, 2, &b2))
            return FIRST_MORE;
        uint8_t want = dir == MW_FROM_CLIENT ? 1 : 4; /* CLIENT-HELLO / SERVER-HELLO */
        return b2 == want ? FIRST_SSLV2 : FIRST_NOT_TLS;
    }
    return FIRST_NOT_TLS;
}

static bool printable_start(const uint8_t *p, size_t len)
{
    size_t n = len < 4 ? len : 4;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return false;
    return n > 0;
}

/* Clear text where TLS was expected: the greeting or command, quoted for evidence. */
static void plain_text(tls_state *st, mw_dir dir, const uint8_t *p, size_t len,
                       const mw_ctx *ctx)
{
    size_t n = 0;
    char quote[MW_TLS_PLAIN_PEEK + 1];
    while (n < len && n < 100 && p[n] != '\r' && p[n] != '\n') {
        quote[n] = (p[n] >= 0x20 && p[n] < 0x7f) ? (char)p[n] : '.';
        n++;
    }
    quote[n] = '\0';
    st->plaintext = true;
    if (st->sess->transcript)
        mw_session_event(st->sess, dir, ctx->frame, ctx->ts_us, -1,
                         "[clear text where TLS was expected: \"%s\"]", quote);
    if (st->sess->starttls) {
        mw_session_anomaly(st->sess, MW_ANOM_TLS_MALFORMED);
        return;
    }
    mw_session_flag(st->sess, MW_FLAG_TLS_MODE_MISMATCH, ctx->frame, ctx->ts_us,
                    "%s sent clear text on port %u, where implicit TLS was expected: \"%s\"",
                    side_name[dir], st->sess->server.port, quote);
}

/* Decide what the first bytes of a direction are. Returns false when the caller must
 * stop (need more bytes, or this direction is not TLS); r says how. */
static bool first_bytes(tls_state *st, mw_dir dir, const uint8_t *p, size_t len,
                        const mw_ctx *ctx, mw_feed_result *r)
{
    tls_dir *d = &st->d[dir];
    first_kind k = judge_first(dir, p, len);
    if (k == FIRST_MORE) {
        r->status = MW_FEED_NEED_MORE;
        return false;
    }
    if (k == FIRST_TLS || k == FIRST_SSLV2) {
        d->started = true;
        d->sslv2 = k == FIRST_SSLV2;
        return true;
    }
    if (printable_start(p, len)) {
        const uint8_t *nl = memchr(p, '\n', len < MW_TLS_PLAIN_PEEK ? len : MW_TLS_PLAIN_PEEK);
        if (!nl && len < MW_TLS_PLAIN_PEEK) {
            r->status = MW_FEED_NEED_MORE;
            return false;
        }
        plain_text(st, dir, p, len, ctx);
        r->status = MW_FEED_ERROR;
        r->consumed = len;
        return false;
    }
    d->started = true;
    malformed(st, d);
    d->lost = true;
    r->status = MW_FEED_OK;
    r->consumed = len;
    return false;
}

/* ---------- the dissector ---------- */

static void *tls_new(mw_session *s, const mw_config *cfg)
{
    (void)cfg;
    tls_state *st = g_new0(tls_state, 1);
    st->sess = s;
    return st;
}

static void tls_free(void *p)
{
    tls_state *st = p;
    if (!st)
        return;
    for (int i = 0; i < 2; i++)
        if (st->d[i].hs)
            g_byte_array_free(st->d[i].hs, TRUE);
    g_free(st);
}

static mw_feed_result tls_feed(void *p, mw_dir dir, const uint8_t *data, size_t len,
                               const mw_ctx *ctx)
{
    tls_state *st = p;
    tls_dir *d = &st->d[dir];
    mw_feed_result r = { MW_FEED_OK, 0 };
    if (st->plaintext || d->lost) {
        r.consumed = len;
        return r;
    }
    size_t off = 0;
    while (off < len && !d->lost) {
        if (d->skip) {
            size_t take = d->skip < len - off ? (size_t)d->skip : len - off;
            d->skip -= take;
            off += take;
            continue;
        }
        const uint8_t *q = data + off;
        size_t n = len - off;
        if (!d->started) {
            mw_feed_result fr = { MW_FEED_OK, 0 };
            if (!first_bytes(st, dir, q, n, ctx, &fr)) {
                r.status = fr.status;
                r.consumed = off + fr.consumed;
                return r;
            }
        }
        if (d->sslv2) {
            mw_feed_result sr = sslv2_record(st, dir, q, n, ctx);
            off += sr.consumed;
            if (sr.status == MW_FEED_NEED_MORE) {
                r.status = MW_FEED_NEED_MORE;
                break;
            }
            continue;
        }
        if (n < 5) {
            r.status = MW_FEED_NEED_MORE;
            break;
        }
        mw_cursor c = mw_cursor_make(q, n);
        uint8_t type;
        uint16_t version, rlen;
        mw_cur_u8(&c, &type);
        mw_cur_be16(&c, &version);
        mw_cur_be16(&c, &rlen);
        if (type < CT_CCS || type > CT_HEARTBEAT || (version >> 8) != 3 ||
            rlen > MW_TLS_BODY_MAX) {
            malformed(st, d);
            d->lost = true; /* record framing is gone: nothing after it can be trusted */
            off = len;
            break;
        }
        if (record_is_opaque(st, d, type)) {
            off += 5;
            d->skip = rlen;
            opaque_record(st, dir, type, rlen, ctx);
            continue;
        }
        const uint8_t *body;
        if (!mw_cur_bytes(&c, rlen, &body)) {
            r.status = MW_FEED_NEED_MORE;
            break;
        }
        clear_record(st, dir, type, version, body, rlen, ctx);
        off += 5 + (size_t)rlen;
        if (st->plaintext)
            break;
    }
    if (d->lost || st->plaintext)
        off = len;
    r.consumed = off;
    return r;
}

static void tls_gap(void *p, mw_dir dir, uint64_t missing, const mw_ctx *ctx)
{
    (void)ctx;
    tls_state *st = p;
    tls_dir *d = &st->d[dir];
    if (missing > 0 && d->skip >= missing) {
        d->skip -= missing; /* the hole is inside an opaque record: framing holds */
        return;
    }
    d->lost = true;
    d->skip = 0;
    if (d->hs)
        g_byte_array_set_size(d->hs, 0);
}

static bool closed_for_real(const mw_session *s)
{
    return s->close_reason == MW_CLOSE_FIN || s->close_reason == MW_CLOSE_RST;
}

/* "[encrypted: 12 records, 3456 bytes]" for each direction that sent application data. */
static void encrypted_summary(tls_state *st)
{
    mw_session *s = st->sess;
    for (int dir = 0; dir < 2; dir++) {
        guint at = st->app_event[dir];
        if (!s->transcript || !s->tls || at == 0 || at == G_MAXUINT || at > s->transcript->len)
            continue;
        mw_event *ev = &g_array_index(s->transcript, mw_event, at - 1);
        g_free(ev->text);
        ev->text = g_strdup_printf("[encrypted: %" G_GUINT64_FORMAT " record%s, %" G_GUINT64_FORMAT
                                   " bytes]", s->tls->app_records[dir],
                                   s->tls->app_records[dir] == 1 ? "" : "s",
                                   s->tls->app_bytes[dir]);
        st->app_event[dir] = G_MAXUINT;
    }
}

static void tls_close(void *p, const mw_ctx *ctx)
{
    tls_state *st = p;
    mw_session *s = st->sess;
    encrypted_summary(st);
    if (st->plaintext)
        return;
    for (int i = 0; i < 2; i++)
        if (st->d[i].hs && st->d[i].hs->len > 0)
            mw_session_anomaly(s, MW_ANOM_TLS_MALFORMED); /* a message cut short */
    if (!st->d[0].started && !st->d[1].started && !s->tls)
        return; /* nobody spoke: the engine judges the silence (conn_verdict.c) */
    s->encrypted = true; /* whatever followed the first TLS record is not readable */
    /* judge a handshake only when the client's side of it was seen */
    bool attempted = st->d[MW_FROM_CLIENT].started || st->client_hello;
    if (!attempted || st->done || !closed_for_real(s) || st->d[0].lost || st->d[1].lost)
        return;
    const char *how = s->close_reason == MW_CLOSE_RST ? "reset" : "closed";
    if (!mw_session_has(s, MW_FLAG_TLS_HANDSHAKE_FAILED))
        mw_session_flag(s, MW_FLAG_TLS_HANDSHAKE_FAILED, ctx->frame, ctx->ts_us,
                        "connection %s after %s, before the TLS handshake completed", how,
                        st->stage ? st->stage : "the first TLS bytes");
    if (!st->server_hello && offer_below_tls12(st) &&
        !mw_session_has(s, MW_FLAG_TLS_VERSION_MISMATCH))
        mw_session_flag(s, MW_FLAG_TLS_VERSION_MISMATCH, ctx->frame, ctx->ts_us,
                        "connection %s right after a ClientHello offering at most %s, "
                        "with no ServerHello",
                        how, vname(st->client_max));
}

static const mw_port_proto tls_ports[] = {
    { 465, MW_PROTO_SMTPS },
    { 993, MW_PROTO_IMAPS },
    { 995, MW_PROTO_POP3S },
    { 0, MW_PROTO_UNKNOWN },
};

/* The engine's test of a client's first bytes on a port of no mail protocol. */
static mw_proto tls_client_probe(const uint8_t *p, size_t len)
{
    if (!mw_tls_looks_like_client_hello(p, len))
        return MW_PROTO_UNKNOWN;
    return (mw_proto)mw_tls_mail_hint(p, len);
}

const mw_dissector mw_tls_dissector = {
    .name = "tls",
    .ports = tls_ports,
    .content_proto = MW_PROTO_UNKNOWN,
    .tls = true,
    .probe = NULL,
    .client_probe = tls_client_probe,
    .state_new = tls_new,
    .state_free = tls_free,
    .feed = tls_feed,
    .on_gap = tls_gap,
    .on_close = tls_close,
};
