#include "tls/inner/tls_decrypt.h"

#include <glib.h>
#include <openssl/crypto.h>
#include <string.h>

#include "registry.h"
#include "tls/decrypt/keylog.h"
#include "tls/inner/tls_hold.h"
#include "tls/tls_handshake.h"
#include "tls/tls_record.h"

/* ---------- engine state ---------- */

tls_engine *tls_dec_engine_new(const mw_config *cfg)
{
    tls_engine *e = g_new0(tls_engine, 1);
    e->kl = cfg ? cfg->keylog : NULL;
    e->kl_sources = mw_keylog_sources_counter(e->kl);
    e->last_refresh_us = G_MININT64;
    e->hold_cap = cfg ? cfg->tls_hold_records : MW_DEFAULT_TLS_HOLD_RECORDS;
    return e;
}

void tls_dec_engine_free(tls_engine *e)
{
    if (!e)
        return;
    memset(e->plain, 0, sizeof e->plain); /* the last plaintext held */
    memset(e->secret, 0, sizeof e->secret);
    for (unsigned i = 0; i < e->rec_spares; i++)
        g_free(e->rec_spare[i]); /* wiped when given back */
    g_free(e);
}

void tls_rec_take(tls_state *st, tls_dir *d)
{
    tls_engine *e = st->eng;
    if (d->rec)
        return;
    d->rec = e && e->rec_spares ? e->rec_spare[--e->rec_spares] : g_malloc(MW_TLS_RECORD_MAX);
}

void tls_rec_give(tls_state *st, tls_dir *d, size_t used)
{
    tls_engine *e = st->eng;
    if (!d->rec)
        return;
    /* the plaintext decrypted there (an AUTH line, say): a wipe the compiler cannot drop */
    OPENSSL_cleanse(d->rec, MIN(used, (size_t)MW_TLS_RECORD_MAX));
    if (e && e->rec_spares < MW_TLS_REC_SPARES)
        e->rec_spare[e->rec_spares++] = d->rec;
    else
        g_free(d->rec);
    d->rec = NULL;
}

void tls_dec_attach(tls_state *st, const mw_ctx *ctx)
{
    if (st->eng)
        return;
    if (ctx->engine_state) {
        st->eng = ctx->engine_state;
        return;
    }
    /* no engine (unit tests, fuzzing): one of its own for this session */
    st->own_eng = tls_dec_engine_new(ctx->cfg);
    st->eng = st->own_eng;
}

void tls_dec_free(tls_state *st)
{
    mw_nested_free(&st->inner);
    tls_hold_free(st);
    mw_tls_decoder_free(st->dec);
    st->dec = NULL;
    tls_dec_engine_free(st->own_eng);
    memset(st->client_random, 0, sizeof st->client_random);
}

/* ---------- keys ---------- */

static bool has16(const mw_u16_list *l, uint16_t v)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == v)
            return true;
    return false;
}

enum { EXT_ENCRYPT_THEN_MAC = 22, EXT_EARLY_DATA = 42, EXT_ALPN = 16 };
/* tls_dir.epoch13 */
enum { EPOCH_NONE, EPOCH_HANDSHAKE, EPOCH_APPLICATION, EPOCH_EARLY };

/* The run's key log, when one was given (--keylog, or a capture's secrets so far). */
static struct mw_keylog *keylog_of(const tls_state *st)
{
    struct mw_keylog *kl = st->eng ? st->eng->kl : NULL;
    return kl && mw_keylog_sources(kl) ? kl : NULL;
}

/* The secret of kind for this session, reading a followed (live) key log again when it is
 * not there yet, at most every MW_TLS_KEYLOG_REFRESH_US (per engine). The secret is copied
 * into the engine's buffer (another live worker may refresh the store meanwhile): valid
 * until the next look-up; the caller wipes it (wipe_secret) once used. */
static const uint8_t *find_secret(tls_state *st, mw_keylog_kind kind, size_t *len)
{
    struct mw_keylog *kl = keylog_of(st);
    if (!kl || !st->have_client_random)
        return NULL;
    uint8_t *out = st->eng->secret;
    G_STATIC_ASSERT(sizeof st->eng->secret == MW_KEYLOG_SECRET_MAX);
    bool k = mw_keylog_copy(kl, st->client_random, kind, out, len);
    if (k)
        return out; /* the clock only when a refresh may be due: most look-ups find it */
    int64_t now = g_get_monotonic_time();
    int64_t last = st->eng->last_refresh_us; /* G_MININT64: never (no subtraction then) */
    if (last == G_MININT64 || now - last >= MW_TLS_KEYLOG_REFRESH_US) {
        st->eng->last_refresh_us = now;
        /* looked up again even when this refresh found nothing new: another worker's
         * refresh may have read the line since */
        mw_keylog_refresh(kl);
        k = mw_keylog_copy(kl, st->client_random, kind, out, len);
    }
    return k ? out : NULL;
}

static void wipe_secret(tls_state *st)
{
    if (st->eng)
        memset(st->eng->secret, 0, sizeof st->eng->secret);
}

/* tls.keys: none_given (no key log at all), missing or found. */
static void note_keys(tls_state *st, bool found)
{
    mw_tls_rec *r = rec_of(st);
    if (found)
        r->keys = MW_TLS_KEYS_FOUND;
    else if (r->keys != MW_TLS_KEYS_FOUND)
        r->keys = keylog_of(st) ? MW_TLS_KEYS_MISSING : MW_TLS_KEYS_NONE_GIVEN;
}

static bool any_secret(tls_state *st)
{
    size_t len;
    struct mw_keylog *kl = keylog_of(st);
    if (kl && st->have_client_random && mw_keylog_has_any(kl, st->client_random))
        return true; /* else each kind, a followed key log read again when due */
    for (int k = 0; k < MW_KEYLOG_N_KINDS; k++)
        if (find_secret(st, (mw_keylog_kind)k, &len)) {
            wipe_secret(st);
            return true;
        }
    return false;
}

void tls_keep_client_hello(tls_state *st, const mw_tls_client_hello *h)
{
    if (!h->random)
        return; /* SSLv2 format: its challenge is not a TLS random */
    memcpy(st->client_random, h->random, sizeof st->client_random);
    st->have_client_random = true;
    st->etm_client = has16(&h->exts, EXT_ENCRYPT_THEN_MAC);
    st->early_offered = has16(&h->exts, EXT_EARLY_DATA);
    note_keys(st, any_secret(st));
}

static bool need_decoder(tls_state *st)
{
    if (!st->dec)
        st->dec = mw_tls_decoder_new();
    return st->dec != NULL;
}

/* TLS 1.3: dir's keys from a traffic secret; false when they cannot be had. */
static bool key13(tls_state *st, mw_dir dir, mw_keylog_kind kind, uint8_t epoch)
{
    size_t len = 0;
    const uint8_t *secret = find_secret(st, kind, &len);
    tls_dir *d = &st->d[dir];
    d->epoch13 = epoch;
    d->epoch_records = 0;
    if (!secret) {
        d->dec_wait = true;
        mw_tls_decoder_forget(st->dec, (mw_tls_dir)dir); /* the old keys end here */
        return false;
    }
    note_keys(st, true);
    d->dec_wait = false;
    bool ok = need_decoder(st) &&
              mw_tls_decoder_init13(st->dec, (mw_tls_dir)dir, st->suite, secret, len) ==
                  MW_TLS_DEC_OK;
    wipe_secret(st);
    return ok;
}

/* 0-RTT (RFC 8446 2.3): the client's early records, held since its ClientHello (the
 * suite was not known), are under CLIENT_EARLY_TRAFFIC_SECRET. Whether the server took
 * them is in its EncryptedExtensions: with the server's keys they wait for it (a refused
 * one was never read by the server, nor is it here); without, they are read at once. No
 * early secret logged: they cannot be read (counted), the rest of the session can. */
static void early_keys(tls_state *st, bool server_keyed, const mw_ctx *ctx)
{
    tls_dir *c = &st->d[MW_FROM_CLIENT];
    if (!st->early_offered)
        return;
    size_t len = 0;
    bool have = find_secret(st, MW_KEYLOG_CLIENT_EARLY_TRAFFIC, &len) != NULL;
    wipe_secret(st);
    if (!have) {
        tls_hold_drop(st, MW_FROM_CLIENT, "0-RTT early data, and the key log has no "
                      "CLIENT_EARLY_TRAFFIC_SECRET for it", ctx);
        return;
    }
    if (!key13(st, MW_FROM_CLIENT, MW_KEYLOG_CLIENT_EARLY_TRAFFIC, EPOCH_EARLY))
        return;
    st->early_pending = server_keyed && c->held_n > 0;
    tls_hold_replay(st, ctx);
}

void tls_keys_server_hello(tls_state *st, const mw_tls_server_hello *h, const mw_ctx *ctx)
{
    if (!h->random)
        return;
    memcpy(st->server_random, h->random, sizeof st->server_random);
    st->have_server_random = true;
    st->suite = h->cipher;
    st->etm_server = has16(&h->exts, EXT_ENCRYPT_THEN_MAC);
    if (!is_tls13(st) || !keylog_of(st))
        return;
    st->keys_looked = true;
    bool server_keyed = key13(st, MW_FROM_SERVER, MW_KEYLOG_SERVER_HANDSHAKE_TRAFFIC, 1);
    key13(st, MW_FROM_CLIENT, MW_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC, 1);
    early_keys(st, server_keyed, ctx);
}

/* TLS <= 1.2: dir's keys from the master secret. */
static bool key12(tls_state *st, mw_dir dir)
{
    size_t len = 0;
    const uint8_t *ms = find_secret(st, MW_KEYLOG_CLIENT_RANDOM, &len);
    tls_dir *d = &st->d[dir];
    if (!ms || !st->have_server_random) {
        d->dec_wait = ms == NULL;
        wipe_secret(st);
        return false;
    }
    note_keys(st, true);
    d->dec_wait = false;
    bool ok = need_decoder(st) &&
              mw_tls_decoder_init12(st->dec, (mw_tls_dir)dir, st->selected, st->suite,
                                    st->client_random, st->server_random, ms, len,
                                    st->etm_client && st->etm_server) == MW_TLS_DEC_OK;
    wipe_secret(st);
    return ok;
}

void tls_keys_ccs(tls_state *st, mw_dir dir, const mw_ctx *ctx)
{
    /* a client's CCS before any ServerHello is TLS 1.3's middlebox compatibility one
     * (RFC 8446 D.4): a TLS 1.2 client sends its CCS only after the server's hello */
    if (dir == MW_FROM_CLIENT && !st->server_hello)
        return;
    if (is_tls13(st) || !keylog_of(st) || !st->have_client_random)
        return;
    st->keys_looked = true;
    st->d[dir].epoch_records = 0;
    key12(st, dir);
}

/* Keys that came late (a live key log written after the handshake began): the records
 * of this epoch already passed are skipped over by sequence number. */
static void late_keys(tls_state *st, mw_dir dir)
{
    tls_dir *d = &st->d[dir];
    uint64_t passed = d->epoch_records;
    bool ok;
    if (is_tls13(st)) {
        /* records passed unread: a Finished may be among them, the epoch is not known */
        if (passed != 0 || (d->epoch13 != EPOCH_HANDSHAKE && d->epoch13 != EPOCH_APPLICATION))
            return;
        bool srv = dir == MW_FROM_SERVER;
        mw_keylog_kind k = d->epoch13 == EPOCH_HANDSHAKE
                               ? (srv ? MW_KEYLOG_SERVER_HANDSHAKE_TRAFFIC
                                      : MW_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC)
                               : (srv ? MW_KEYLOG_SERVER_TRAFFIC_0 : MW_KEYLOG_CLIENT_TRAFFIC_0);
        ok = key13(st, dir, k, d->epoch13);
    } else {
        ok = key12(st, dir);
    }
    d->epoch_records = passed;
    for (uint64_t i = 0; ok && i < passed; i++)
        ok = mw_tls_decoder_skip_record(st->dec, (mw_tls_dir)dir) == MW_TLS_DEC_OK;
}

/* ---------- records ---------- */

/* 0-RTT: the client's application data records between its ClientHello and the
 * ServerHello (which is when the suite, and so the record keys, become known). */
static bool early_record(const tls_state *st, mw_dir dir, uint8_t type)
{
    return dir == MW_FROM_CLIENT && st->early_offered && st->client_hello && !st->server_hello &&
           type == CT_APPDATA;
}

static bool protected_type(const tls_state *st, const tls_dir *d, uint8_t type)
{
    if (st->early_offered && !st->server_hello && d == &st->d[MW_FROM_CLIENT])
        return type == CT_APPDATA;
    if (is_tls13(st))
        return type == CT_APPDATA && d->epoch13 > 0;
    return d->ccs && type >= CT_ALERT && type <= CT_HEARTBEAT;
}

/* Late keys (live): the records of a direction still waiting for its keys are held
 * while the key log can still grow and none of this epoch's records has passed unread. */
static bool may_hold(tls_state *st, const tls_dir *d)
{
    struct mw_keylog *kl = keylog_of(st);
    return kl && d->dec_wait && d->epoch_records == 0 && mw_keylog_may_grow(kl) &&
           tls_hold_room(st, d);
}

bool tls_dec_wants(tls_state *st, mw_dir dir, uint8_t type)
{
    tls_dir *d = &st->d[dir];
    if (d->dec_failed || !protected_type(st, d, type))
        return false;
    if (early_record(st, dir, type))
        return keylog_of(st) && tls_hold_room(st, d); /* the suite is not known yet */
    if (dir == MW_FROM_CLIENT && st->early_pending)
        return true; /* held until the server's EncryptedExtensions */
    for (int i = 0; i < 2; i++)
        if (st->d[i].dec_wait && (i == (int)dir || st->d[i].held_n))
            late_keys(st, (mw_dir)i);
    if (st->dec && mw_tls_decoder_keyed(st->dec, (mw_tls_dir)dir))
        return true;
    return may_hold(st, d);
}

void tls_dec_opaque_keyless_first(tls_state *st, mw_dir dir, uint8_t type)
{
    tls_dir *d = &st->d[dir];
    if (protected_type(st, d, type))
        d->opaque_records = 1;
}

void tls_dec_opaque(tls_state *st, mw_dir dir, uint8_t type)
{
    tls_dir *d = &st->d[dir];
    if (!protected_type(st, d, type))
        return;
    d->epoch_records++;
    d->opaque_records++;
}

static void dec_failed(tls_state *st, mw_dir dir, mw_tls_dec_status rc, const mw_ctx *ctx)
{
    mw_session *s = st->sess;
    tls_dir *d = &st->d[dir];
    d->dec_failed = true;
    d->opaque_records++;
    if (rc == MW_TLS_DEC_TOO_LONG) {
        mw_session_anomaly(s, MW_ANOM_TLS_MALFORMED);
    } else {
        mw_session_anomaly(s, MW_ANOM_TLS_DECRYPT_FAILED);
        if (!rec_of(st)->decrypt_failed_frame[dir])
            rec_of(st)->decrypt_failed_frame[dir] = ctx->frame;
    }
    if (s->transcript)
        mw_session_event(s, dir, ctx->frame, ctx->ts_us, -1,
                         "[decryption stopped: a record from the %s %s with the logged keys]",
                         side_name[dir],
                         rc == MW_TLS_DEC_TOO_LONG ? "is too long" : "does not authenticate");
    if (mw_nested_started(&st->inner)) {
        mw_ctx ic = *ctx;
        ic.ack_known = false;
        ic.engine_state = NULL;
        mw_nested_gap(&st->inner, dir, 0, &ic);
    }
}

/* The mail dissector for the session's protocol, inside TLS. */
static const mw_dissector *inner_dissector(mw_proto p)
{
    switch (p) {
    case MW_PROTO_SMTP:
    case MW_PROTO_SUBMISSION:
    case MW_PROTO_SMTPS:
        return mw_dissector_by_name("smtp");
    case MW_PROTO_IMAP:
    case MW_PROTO_IMAPS:
        return mw_dissector_by_name("imap");
    case MW_PROTO_POP3:
    case MW_PROTO_POP3S:
        return mw_dissector_by_name("pop3");
    default:
        return NULL;
    }
}

/* The context of an inner call: the same packet, but no ACK (its offsets are TCP's, not
 * the plaintext's) and no engine state (the inner dissectors keep none). */
static mw_ctx inner_ctx(const mw_ctx *ctx)
{
    mw_ctx ic = *ctx;
    ic.ack_known = false;
    ic.peer_acked = 0;
    ic.engine_state = NULL;
    return ic;
}

static void app_data(tls_state *st, mw_dir dir, const uint8_t *p, size_t n, const mw_ctx *ctx)
{
    if (!mw_nested_started(&st->inner) && !st->inner_failed) {
        const mw_dissector *d = inner_dissector(st->sess->protocol);
        st->inner_failed = d == NULL;
        if (d)
            mw_nested_start(&st->inner, d, st->sess, ctx->cfg);
    }
    /* inside TLS: a login here never crossed the wire in clear (cleartext_auth) */
    st->sess->encrypted = true;
    mw_ctx ic = inner_ctx(ctx);
    mw_nested_data(&st->inner, dir, p, n, &ic);
}

/* 0-RTT the server refused (RFC 8446 4.2.10): the client's early records do not open with
 * its handshake keys, and are skipped as the server skips them. */
static bool refused_early_data(tls_state *st, mw_dir dir)
{
    tls_dir *d = &st->d[dir];
    if (dir != MW_FROM_CLIENT || !st->early_offered || d->epoch13 != 1 ||
        rec_of(st)->decrypted_records[dir] > 0)
        return false;
    key13(st, dir, MW_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC, 1);
    d->opaque_records++;
    return true;
}

static void dec_record(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                       const uint8_t *body, uint8_t *own, size_t len, const mw_ctx *ctx)
{
    if (st->d[0].held_n || st->d[1].held_n)
        tls_hold_replay(st, ctx); /* older records first, those whose keys came */
    bool keyed = st->dec && mw_tls_decoder_keyed(st->dec, (mw_tls_dir)dir);
    if (!keyed || (dir == MW_FROM_CLIENT && st->early_pending) || st->d[dir].held_n) {
        tls_hold_push(st, dir, type, version, body, len, ctx);
        return;
    }
    tls_dec_record_now(st, dir, type, version, body, own, len, ctx);
}

void tls_dec_record(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                    const uint8_t *body, size_t len, const mw_ctx *ctx)
{
    dec_record(st, dir, type, version, body, NULL, len, ctx);
}

void tls_dec_record_own(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                        uint8_t *body, size_t len, const mw_ctx *ctx)
{
    dec_record(st, dir, type, version, body, body, len, ctx);
}

/* Under the early keys a record that does not open is the first of the handshake keys:
 * the server refused the 0-RTT data, or the client's EndOfEarlyData was not seen. So an
 * early record is decrypted out of place (the second try needs its ciphertext); any other
 * of its own in place. *pt: where the plaintext is. */
static mw_tls_dec_status decrypt_one(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                                     const uint8_t *body, uint8_t *own, size_t len,
                                     const uint8_t **pt, size_t *n, uint8_t *inner)
{
    tls_engine *e = st->eng;
    if (own && st->d[dir].epoch13 != EPOCH_EARLY) {
        size_t off = 0;
        mw_tls_dec_status rc = mw_tls_decrypt_record_in_place(st->dec, (mw_tls_dir)dir, type,
                                                              version, own, len, &off, n, inner);
        *pt = own + off;
        return rc;
    }
    *pt = e->plain;
    mw_tls_dec_status rc = mw_tls_decrypt_record(st->dec, (mw_tls_dir)dir, type, version, body,
                                                 len, e->plain, sizeof e->plain, n, inner);
    if (rc != MW_TLS_DEC_OK && rc != MW_TLS_DEC_TOO_LONG && st->d[dir].epoch13 == EPOCH_EARLY &&
        key13(st, dir, MW_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC, EPOCH_HANDSHAKE))
        rc = mw_tls_decrypt_record(st->dec, (mw_tls_dir)dir, type, version, body, len, e->plain,
                                   sizeof e->plain, n, inner);
    return rc;
}

void tls_dec_record_now(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                        const uint8_t *body, uint8_t *own, size_t len, const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    const uint8_t *pt = NULL;
    size_t n = 0;
    uint8_t inner = 0;
    mw_tls_dec_status rc = decrypt_one(st, dir, type, version, body, own, len, &pt, &n, &inner);
    d->epoch_records++;
    if (rc != MW_TLS_DEC_OK) {
        if (!refused_early_data(st, dir))
            dec_failed(st, dir, rc, ctx);
        return;
    }
    mw_tls_rec *r = rec_of(st);
    r->decrypted = true;
    r->decrypted_records[dir]++;
    switch (inner) {
    case CT_HANDSHAKE:
        st->dec_now = true;
        tls_handshake_bytes(st, dir, version, pt, n, ctx);
        st->dec_now = false;
        break;
    case CT_ALERT:
        tls_alert(st, dir, mw_cursor_make(pt, n), ctx);
        break;
    case CT_APPDATA:
        app_data(st, dir, pt, n, ctx);
        break;
    default:
        break; /* heartbeat: nothing to read */
    }
    if (d->early_end) {
        d->early_end = false;
        key13(st, dir, MW_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC, EPOCH_HANDSHAKE);
    }
    if (d->key_update && !d->dec_failed) {
        d->key_update = false;
        d->epoch_records = 0;
        if (mw_tls_decoder_key_update(st->dec, (mw_tls_dir)dir) != MW_TLS_DEC_OK)
            d->dec_failed = true;
    }
}

/* ---------- the decrypted handshake ---------- */

/* The server's word on 0-RTT (its EncryptedExtensions): the held early records are read,
 * or dropped as the server dropped them, and the client goes on with its handshake keys. */
static void early_answer(tls_state *st, bool accepted, const mw_ctx *ctx)
{
    if (!st->early_pending)
        return;
    st->early_pending = false;
    if (!accepted) {
        tls_hold_drop(st, MW_FROM_CLIENT, "0-RTT early data the server refused", ctx);
        key13(st, MW_FROM_CLIENT, MW_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC, EPOCH_HANDSHAKE);
    }
    tls_hold_replay(st, ctx);
}

/* RFC 8446 4.3.1: the server's EncryptedExtensions, for the ALPN it chose and whether it
 * took the client's early data. */
static void encrypted_extensions(tls_state *st, mw_cursor c, const mw_ctx *ctx)
{
    mw_cursor exts, body, list, name;
    uint16_t type;
    bool early = false;
    if (!mw_cur_sub_2(&c, &exts))
        return;
    while (mw_cur_be16(&exts, &type) && mw_cur_sub_2(&exts, &body)) {
        early = early || type == EXT_EARLY_DATA;
        if (type != EXT_ALPN || !mw_cur_sub_2(&body, &list) || !mw_cur_sub_1(&list, &name))
            continue;
        mw_tls_rec *r = rec_of(st);
        g_free(r->alpn);
        r->alpn = mw_wire_strdup(name.p, name.left, 255);
    }
    early_answer(st, early, ctx);
}

static void finished(tls_state *st, mw_dir dir, const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    d->fin_seen = true;
    st->stage = dir == MW_FROM_SERVER ? "the server's Finished" : "the client's Finished";
    if (is_tls13(st) && d->epoch13 == 1) {
        key13(st, dir, dir == MW_FROM_SERVER ? MW_KEYLOG_SERVER_TRAFFIC_0
                                             : MW_KEYLOG_CLIENT_TRAFFIC_0, 2);
        d->key_update = false;
    }
    tls_check_done(st);
}

bool tls_dec_handshake_msg(tls_state *st, mw_dir dir, uint8_t type, mw_cursor body,
                           const mw_ctx *ctx)
{
    switch (type) {
    case HS_ENCRYPTED_EXTENSIONS:
        if (dir == MW_FROM_SERVER)
            encrypted_extensions(st, body, ctx);
        st->stage = "the EncryptedExtensions";
        return true;
    case HS_CERTIFICATE_VERIFY:
        st->stage = dir == MW_FROM_SERVER ? "the server's CertificateVerify"
                                          : "the client's CertificateVerify";
        return true;
    case HS_FINISHED:
        finished(st, dir, ctx);
        return true;
    case HS_KEY_UPDATE:
        if (is_tls13(st))
            st->d[dir].key_update = true; /* new keys from the next record on */
        return true;
    case HS_END_OF_EARLY_DATA:
        if (dir == MW_FROM_CLIENT && st->d[dir].epoch13 == EPOCH_EARLY)
            st->d[dir].early_end = true; /* handshake keys from the next record on */
        return true;
    case HS_NEW_SESSION_TICKET:
        return true;
    default:
        return false;
    }
}

/* ---------- gaps and the end ---------- */

bool tls_dec_gap(tls_state *st, mw_dir dir, uint64_t missing, const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    size_t have = d->partial_have, whole = d->partial_len;
    d->partial_have = d->partial_len = 0;
    tls_rec_give(st, d, have);
    if (!st->dec || !mw_tls_decoder_keyed(st->dec, (mw_tls_dir)dir) || d->dec_failed)
        return false;
    mw_ctx ic = inner_ctx(ctx);
    if (mw_nested_started(&st->inner))
        mw_nested_gap(&st->inner, dir, missing, &ic);
    /* the hole ends inside the record being read: its length says where the next starts */
    if (have == 0 || missing == 0 || missing > whole - have)
        return false;
    d->skip = whole - have - missing;
    d->epoch_records++;
    d->opaque_records++;
    return mw_tls_decoder_skip_record(st->dec, (mw_tls_dir)dir) == MW_TLS_DEC_OK;
}

/* The session ends with records still held: the key log is read once more, then what
 * still has no keys is dropped (counted). */
static void hold_close(tls_state *st, const mw_ctx *ctx)
{
    if (!st->d[0].held_n && !st->d[1].held_n)
        return;
    if (st->early_pending)
        early_answer(st, true, ctx); /* no EncryptedExtensions came: read what was sent */
    if (st->eng)
        st->eng->last_refresh_us = G_MININT64;
    for (int i = 0; i < 2; i++)
        if (st->d[i].dec_wait)
            late_keys(st, (mw_dir)i);
    tls_hold_replay(st, ctx);
    for (int i = 0; i < 2; i++)
        tls_hold_drop(st, (mw_dir)i, "the session ended before their keys reached the key log",
                      ctx);
}

void tls_dec_close(tls_state *st, const mw_ctx *ctx)
{
    hold_close(st, ctx);
    if (!mw_nested_started(&st->inner))
        return;
    mw_ctx ic = inner_ctx(ctx);
    mw_nested_close(&st->inner, &ic);
}

/* Once decrypted whole, the session's content is no longer hidden: its outcome is the
 * mail protocol's. A direction that failed, or records left unread, keep it encrypted. */
void tls_dec_settle(tls_state *st)
{
    mw_session *s = st->sess;
    const mw_tls_rec *t = mw_tls_of(s);
    if (!t || !t->decrypted)
        return;
    for (int i = 0; i < 2; i++)
        if (st->d[i].dec_failed || st->d[i].opaque_records || st->d[i].lost)
            return;
    s->encrypted = false;
}
