#include "tls/tls_record.h"

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
#include "registry.h"

/* ---------- handshake completion and alerts ---------- */

/* Finished both ways (up to TLS 1.2), or encrypted records both ways (TLS 1.3, where
 * the rest of the handshake already travels as application data, RFC 8446 5.1). */
void tls_check_done(tls_state *st)
{
    if (st->done)
        return;
    bool both_app = st->d[0].appdata && st->d[1].appdata;
    /* decrypted: the Finished messages themselves say it */
    if (is_tls13(st) && st->dec && !st->d[0].dec_failed && !st->d[1].dec_failed)
        both_app = st->d[0].fin_seen && st->d[1].fin_seen;
    bool both_fin = st->d[0].finished && st->d[1].finished;
    if (!(both_app || (!is_tls13(st) && both_fin)))
        return;
    st->done = true;
    st->sess->encrypted = true;
    if (mw_tls_of(st->sess))
        mw_tls_of_mut(st->sess)->handshake_done = true;
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
        mw_strlcpy(r->alert.level, ln, sizeof r->alert.level);
    else
        g_snprintf(r->alert.level, sizeof r->alert.level, "level(%u)", level);
    if (dn)
        mw_strlcpy(r->alert.description, dn, sizeof r->alert.description);
    else
        g_snprintf(r->alert.description, sizeof r->alert.description, "unknown(%u)", desc);
}

void tls_alert(tls_state *st, mw_dir dir, mw_cursor c, const mw_ctx *ctx)
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

/* ---------- the record layer ---------- */

void tls_opaque_record(tls_state *st, mw_dir dir, uint8_t type, uint32_t len,
                       bool decrypting, const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    mw_tls_rec *t = mw_tls_of_mut(st->sess); /* looked up once: this runs for every record */
    if (t)
        t->last_record_us[dir] = ctx->ts_us;
    if (type == CT_APPDATA) {
        d->appdata = true;
        if (t) {
            t->app_records[dir]++;
            t->app_bytes[dir] += len;
            if (st->sess->transcript && !st->app_event[dir] && !decrypting) {
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
    if (!st->done)
        tls_check_done(st);
}

/* A whole cleartext record. */
void tls_clear_record(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                         const uint8_t *body, size_t len, const mw_ctx *ctx)
{
    switch (type) {
    case CT_HANDSHAKE:
        tls_handshake_bytes(st, dir, version, body, len, ctx);
        break;
    case CT_ALERT:
        tls_alert(st, dir, mw_cursor_make(body, len), ctx);
        break;
    case CT_CCS:
        st->d[dir].ccs = true;
        tls_keys_ccs(st, dir, ctx);
        break;
    default:
        break;
    }
}

/* Is a record of this type opaque? After a CCS up to TLS 1.2 handshake and alert records
 * are encrypted; in TLS 1.3 encrypted ones all travel as application data. */
bool tls_record_is_opaque(const tls_state *st, const tls_dir *d, uint8_t type)
{
    if (type == CT_APPDATA || type == CT_HEARTBEAT)
        return true;
    return (type == CT_HANDSHAKE || type == CT_ALERT) && d->ccs && !is_tls13(st);
}


/* One SSLv2 record; the hellos are read, the rest is opaque. */
mw_feed_result tls_sslv2_record(tls_state *st, mw_dir dir, const uint8_t *p, size_t len,
                                   const mw_ctx *ctx)
{
    mw_feed_result r = { MW_FEED_NEED_MORE, 0 };
    tls_dir *d = &st->d[dir];
    mw_cursor c = mw_cursor_make(p, len);
    size_t body;
    uint8_t msg;
    if (!tls_sslv2_header(&c, &body))
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
        tls_opaque_record(st, dir, CT_APPDATA, (uint32_t)body, false, ctx);
        return r;
    }
    mw_cursor m;
    if (!mw_cur_sub(&c, body, &m))
        return r;
    if (dir == MW_FROM_CLIENT) {
        tls_sslv2_client_hello(st, m, ctx);
        /* a version-3 client goes on in TLS records (RFC 6101 E.1) */
        d->sslv2 = mw_tls_version_rank(st->client_max) == MW_TLS_V_SSL2;
    } else {
        tls_sslv2_server_hello(st, m, ctx);
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
    if (!tls_byte_at(c, 0, &b0))
        return FIRST_MORE;
    if (b0 >= CT_CCS && b0 <= CT_HEARTBEAT)
        return FIRST_TLS;
    if (b0 & 0x80) {
        if (!tls_byte_at(c, 2, &b2))
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

/* The mail dissector whose greeting this is, or NULL. */
static const mw_dissector *greeting_of(const uint8_t *p, size_t len)
{
    for (size_t i = 0; mw_dissectors[i]; i++) {
        const mw_dissector *d = mw_dissectors[i];
        if (!d->tls && d->probe && d->probe(p, len))
            return d;
    }
    return NULL;
}

void tls_clear_data(tls_state *st, mw_dir dir, const uint8_t *p, size_t len, const mw_ctx *ctx)
{
    mw_ctx ic = *ctx;
    ic.ack_known = false; /* as for any nested dissector */
    ic.peer_acked = 0;
    ic.engine_state = NULL;
    bool had_line = st->sess->decisive != NULL;
    mw_nested_data(&st->inner, dir, p, len, &ic);
    if (!had_line && st->sess->decisive) {
        /* the mode mismatch explains the session, not the replies to a ClientHello */
        g_free(st->sess->decisive);
        st->sess->decisive = NULL;
    }
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
    const mw_dissector *mail = NULL;
    if (dir == MW_FROM_SERVER && !st->sess->starttls && !mw_nested_started(&st->inner))
        mail = greeting_of(p, len);
    /* a mail greeting: the server speaks that protocol in clear; read its replies, and
     * the client's TLS for the record */
    st->clear_server = mail != NULL;
    st->plaintext = mail == NULL;
    if (mail)
        mw_nested_start(&st->inner, mail, st->sess, ctx->cfg);
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
bool tls_first_bytes(tls_state *st, mw_dir dir, const uint8_t *p, size_t len,
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
        /* the server greeted in clear, the client speaks clear too: the mail protocol */
        st->clear_client = dir == MW_FROM_CLIENT && st->clear_server;
        if (!st->clear_client)
            plain_text(st, dir, p, len, ctx);
        if (st->clear_server)
            tls_clear_data(st, dir, p, len, ctx);
        r->status = st->clear_server ? MW_FEED_OK : MW_FEED_ERROR;
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

/* A direction whose start the capture missed (mid-session): its first bytes are dissected
 * only when they open a handshake record that carries this side's hello (a ClientHello
 * from the client, a ServerHello from the server) with a plausible header, as they do
 * when the capture merely lost the TCP handshake. Anything else may be the middle of a
 * record, and the direction is given up quietly as before (the engine flags the gap). */
mw_feed_status tls_resync(tls_state *st, mw_dir dir, const uint8_t *p, size_t len)
{
    tls_dir *d = &st->d[dir];
    mw_cursor c = mw_cursor_make(p, len);
    uint8_t type, hs;
    uint16_t version, rlen;
    if (!mw_cur_u8(&c, &type) || !mw_cur_be16(&c, &version) || !mw_cur_be16(&c, &rlen) ||
        !mw_cur_u8(&c, &hs))
        return MW_FEED_NEED_MORE;
    d->midstream = false;
    uint8_t want = dir == MW_FROM_CLIENT ? HS_CLIENT_HELLO : HS_SERVER_HELLO;
    if (type != CT_HANDSHAKE || (version >> 8) != 3 || (version & 0xff) > 4 || rlen < 4 ||
        rlen > MW_TLS_BODY_MAX || hs != want) {
        d->lost = true;
        d->skip = 0;
    }
    return MW_FEED_OK;
}
