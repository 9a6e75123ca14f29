/* TLS (RFC 5246, RFC 8446; SSL 3.0 RFC 6101; SSLv2-compatible ClientHello).
 *
 * Two layers per direction. The record layer reads 5-byte headers from the reassembled
 * stream; a record that is not complete yet is left to the feeder (NEED_MORE, consumed
 * at the record start; the feeder's cap holds one maximal record). Opaque records
 * (application data, encrypted handshake) are skipped by length across feeds, counted,
 * never scanned. Cleartext handshake records go to a second buffer, where messages that
 * span records are reassembled up to --max-tls-handshake (of a longer certificate chain
 * the leaf is read, the rest skipped by length). Hellos, the server's certificate and
 * cleartext alerts fill the record's tls object and raise the TLS flags of SPEC.md. */
#include <glib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/spares.h"
#include "dissector.h"
#include "tls/tls.h"
#include "tls/tls_cert.h"
#include "tls/tls_fp.h"
#include "tls/tls_names.h"
#include "tls/tls_state.h"
#include "tls/tls_hello.h"
#include "tls/tls_record.h"
#include "tls/tls_handshake.h"
#include "tls/inner/tls_decrypt.h"


/* ---------- the dissector ---------- */

static void *tls_new(mw_session *s, const mw_config *cfg)
{
    (void)cfg;
    tls_state *st = mw_spares_take(mw_spares_here(MW_SPARE_TLS, sizeof *st, MW_STATE_SPARES));
    st->sess = s;
    return st;
}

static void tls_free(void *p)
{
    tls_state *st = p;
    if (!st)
        return;
    for (int i = 0; i < 2; i++) {
        if (st->d[i].hs)
            g_byte_array_free(st->d[i].hs, TRUE);
        tls_rec_give(st, &st->d[i], st->d[i].partial_have); /* before the engine of its own */
    }
    tls_dec_free(st);
    mw_spares_give(mw_spares_here(MW_SPARE_TLS, sizeof *st, MW_STATE_SPARES), st);
}

/* A record all here: decrypted (in place when own, the record's own copy) or read in clear
 * (*clear). */
static void tls_whole_record(tls_state *st, mw_dir dir, bool decrypt, uint8_t type,
                             uint16_t version, const uint8_t *body, uint8_t *own, uint16_t rlen,
                             const mw_ctx *ctx, bool *clear)
{
    if (!decrypt) {
        *clear = true;
        tls_clear_record(st, dir, type, version, body, rlen, ctx);
        return;
    }
    tls_opaque_record(st, dir, type, rlen, true, ctx);
    if (own)
        tls_dec_record_own(st, dir, type, version, own, rlen, ctx);
    else
        tls_dec_record(st, dir, type, version, body, rlen, ctx);
}

/* One record at q (n bytes, at a record boundary): the header checked (a broken one loses
 * the direction: framing is gone), then skipped by length when opaque, decrypted, or parsed
 * in clear (*clear). Returns the bytes taken; *more when the record is not all here yet. */
static size_t tls_one_record(tls_state *st, mw_dir dir, const uint8_t *q, size_t n,
                             const mw_ctx *ctx, bool *more, bool *clear)
{
    tls_dir *d = &st->d[dir];
    if (n < 5) {
        *more = true;
        return 0;
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
        return 0;
    }
    bool keyless = tls_dec_keyless(st); /* the usual case: skipped by length, no more */
    bool decrypt = !keyless && tls_dec_wants(st, dir, type);
    if (!decrypt && tls_record_is_opaque(st, d, type)) {
        d->skip = rlen;
        if (keyless)
            tls_dec_opaque_keyless(st, dir, type);
        else
            tls_dec_opaque(st, dir, type);
        tls_opaque_record(st, dir, type, rlen, false, ctx);
        return 5;
    }
    const uint8_t *body;
    if (!mw_cur_bytes(&c, rlen, &body)) {
        if (!decrypt) {
            *more = true; /* the feeder holds the record's start */
            return 0;
        }
        /* gathered here, for a gap inside it too (tls_dec_gap) */
        tls_rec_take(st, d);
        memcpy(d->rec, q, n);
        d->partial_have = n;
        d->partial_len = 5 + (size_t)rlen;
        return n;
    }
    tls_whole_record(st, dir, decrypt, type, version, body, NULL, rlen, ctx, clear);
    return 5 + (size_t)rlen;
}

/* The protected record gathered whole in d->rec: read as tls_one_record reads a whole one
 * (its header was checked when it began), decrypted in place. */
static void tls_gathered_record(tls_state *st, mw_dir dir, const mw_ctx *ctx, bool *clear)
{
    tls_dir *d = &st->d[dir];
    size_t whole = d->partial_len;
    d->partial_have = d->partial_len = 0;
    mw_cursor c = mw_cursor_make(d->rec, whole);
    uint8_t type;
    uint16_t version, rlen;
    if (!mw_cur_u8(&c, &type) || !mw_cur_be16(&c, &version) || !mw_cur_be16(&c, &rlen) ||
        (size_t)rlen != c.left)
        return; /* cannot be: the header made the length */
    bool decrypt = tls_dec_wants(st, dir, type);
    if (!decrypt && tls_record_is_opaque(st, d, type)) {
        tls_dec_opaque(st, dir, type);
        tls_opaque_record(st, dir, type, rlen, false, ctx);
        return;
    }
    tls_whole_record(st, dir, decrypt, type, version, d->rec + 5, d->rec + 5, rlen, ctx, clear);
}

/* More bytes of the record being gathered; the record is read once whole. */
static size_t tls_gather(tls_state *st, mw_dir dir, const uint8_t *p, size_t n,
                         const mw_ctx *ctx, bool *clear)
{
    tls_dir *d = &st->d[dir];
    size_t take = MIN(d->partial_len - d->partial_have, n);
    memcpy(d->rec + d->partial_have, p, take);
    d->partial_have += take;
    if (d->partial_have == d->partial_len) {
        size_t whole = d->partial_len;
        tls_gathered_record(st, dir, ctx, clear);
        if (!d->partial_have)
            tls_rec_give(st, d, whole); /* read: the buffer serves the next such record */
    }
    return take;
}

static mw_feed_result tls_feed(void *p, mw_dir dir, const uint8_t *data, size_t len,
                               const mw_ctx *ctx)
{
    tls_state *st = p;
    tls_dir *d = &st->d[dir];
    mw_feed_result r = { MW_FEED_OK, 0 };
    if (!st->eng)
        tls_dec_attach(st, ctx);
    if (st->plaintext || d->lost) {
        r.consumed = len;
        return r;
    }
    if ((st->clear_server && dir == MW_FROM_SERVER) ||
        (st->clear_client && dir == MW_FROM_CLIENT)) {
        tls_clear_data(st, dir, data, len, ctx);
        r.consumed = len;
        return r;
    }
    size_t off = 0;
    while (off < len && !d->lost) {
        if (d->partial_have) {
            bool clear = false;
            off += tls_gather(st, dir, data + off, len - off, ctx, &clear);
            if (clear && st->plaintext)
                break;
            continue;
        }
        if (d->skip) {
            size_t take = d->skip < len - off ? (size_t)d->skip : len - off;
            d->skip -= take;
            off += take;
            continue;
        }
        const uint8_t *q = data + off;
        size_t n = len - off;
        if (d->midstream) {
            mw_feed_status rs = tls_resync(st, dir, q, n);
            if (rs == MW_FEED_NEED_MORE) {
                r.status = MW_FEED_NEED_MORE;
                r.consumed = off;
                return r;
            }
            if (d->lost)
                break;
        }
        if (!d->started) {
            mw_feed_result fr = { MW_FEED_OK, 0 };
            if (!tls_first_bytes(st, dir, q, n, ctx, &fr)) {
                r.status = fr.status;
                r.consumed = off + fr.consumed;
                return r;
            }
        }
        if (d->sslv2) {
            mw_feed_result sr = tls_sslv2_record(st, dir, q, n, ctx);
            off += sr.consumed;
            if (sr.status == MW_FEED_NEED_MORE) {
                r.status = MW_FEED_NEED_MORE;
                break;
            }
            continue;
        }
        bool more = false, clear = false;
        off += tls_one_record(st, dir, q, n, ctx, &more, &clear);
        if (more) {
            r.status = MW_FEED_NEED_MORE;
            break;
        }
        if (d->lost || (clear && st->plaintext))
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
    if ((st->clear_server && dir == MW_FROM_SERVER) ||
        (st->clear_client && dir == MW_FROM_CLIENT)) {
        mw_nested_gap(&st->inner, dir, missing, ctx);
        return;
    }
    if (missing == 0 && !d->started && !d->lost) {
        /* the capture started inside the connection, before this direction's first byte
         * here: a record boundary may still come first (tls_resync) */
        d->midstream = true;
        return;
    }
    if (missing > 0 && d->skip >= missing) {
        d->skip -= missing; /* the hole is inside an opaque record: framing holds */
        return;
    }
    if (tls_dec_gap(st, dir, missing, ctx))
        return; /* inside a record being decrypted: the next one still opens */
    d->lost = true;
    d->skip = 0;
    d->hs_skip = 0;
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
    const mw_tls_rec *t = mw_tls_of(s);
    for (int dir = 0; dir < 2; dir++) {
        guint at = st->app_event[dir];
        if (!s->transcript || !t || at == 0 || at == G_MAXUINT || at > s->transcript->len)
            continue;
        mw_event *ev = &g_array_index(s->transcript, mw_event, at - 1);
        g_free(ev->text);
        ev->text = g_strdup_printf("[encrypted: %" G_GUINT64_FORMAT " record%s, %" G_GUINT64_FORMAT
                                   " bytes]", t->app_records[dir],
                                   t->app_records[dir] == 1 ? "" : "s", t->app_bytes[dir]);
        st->app_event[dir] = G_MAXUINT;
    }
}

static void tls_close_outer(tls_state *st, const mw_ctx *ctx)
{
    mw_session *s = st->sess;
    encrypted_summary(st);
    if (st->plaintext || st->clear_server)
        return; /* not a TLS server: no handshake to judge */
    for (int i = 0; i < 2; i++)
        if ((st->d[i].hs && st->d[i].hs->len > 0) || st->d[i].hs_skip)
            mw_session_anomaly(s, MW_ANOM_TLS_MALFORMED); /* a message cut short */
    if (!st->d[0].started && !st->d[1].started && !mw_tls_of(s))
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

static void tls_close(void *p, const mw_ctx *ctx)
{
    tls_state *st = p;
    bool had_line = st->sess->decisive != NULL;
    tls_dec_close(st, ctx); /* the mail protocol inside first: its own judgements */
    if (st->clear_server && !had_line && st->sess->decisive) {
        g_free(st->sess->decisive); /* as in tls_clear_data: the mismatch is the story */
        st->sess->decisive = NULL;
    }
    tls_close_outer(st, ctx);
    tls_dec_settle(st);
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

static void *tls_engine_new(const mw_config *cfg)
{
    tls_engine *e = tls_dec_engine_new(cfg);
    e->fp = mw_tls_fp_cache_new();
    e->certs = mw_tls_cert_cache_new();
    return e;
}

static void tls_engine_free(void *p)
{
    tls_engine *e = p;
    if (!e)
        return;
    mw_tls_fp_cache_free(e->fp);
    mw_tls_cert_cache_free(e->certs);
    tls_dec_engine_free(e);
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
    .engine_new = tls_engine_new,
    .engine_free = tls_engine_free,
    .write_json = mw_tls_write_json,
    .write_text = mw_tls_write_text,
    .free_record = mw_tls_free_record,
};
