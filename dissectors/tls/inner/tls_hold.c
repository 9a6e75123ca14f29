#include "tls/inner/tls_hold.h"

#include <glib.h>
#include <string.h>

/* Each held record: this header, then its body. */
typedef struct {
    uint64_t frame;
    int64_t ts_us;
    uint32_t len;
    uint16_t version;
    uint8_t type;
} held_hdr;

bool tls_hold_room(const tls_state *st, const tls_dir *d)
{
    return st->eng && st->eng->hold_cap > 0 && !d->hold_over;
}

void tls_hold_drop(tls_state *st, mw_dir dir, const char *why, const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    if (d->held_n == 0)
        return;
    mw_session *s = st->sess;
    if (s->transcript)
        mw_session_event(s, dir, ctx->frame, ctx->ts_us, -1,
                         "[%u encrypted record%s from the %s not decrypted: %s]", d->held_n,
                         d->held_n == 1 ? "" : "s", side_name[dir], why);
    d->opaque_records += d->held_n;
    d->epoch_records += d->held_n; /* passed unread: TLS 1.2 late keys skip them by number */
    d->held_dropped += d->held_n;
    d->held_n = 0;
    /* the held bytes are ciphertext, but nothing of them is kept */
    if (d->held) {
        memset(d->held->data, 0, d->held->len);
        g_byte_array_free(d->held, TRUE);
        d->held = NULL;
    }
}

void tls_hold_push(tls_state *st, mw_dir dir, uint8_t type, uint16_t version,
                   const uint8_t *body, size_t len, const mw_ctx *ctx)
{
    tls_dir *d = &st->d[dir];
    if (!tls_hold_room(st, d) || d->held_n >= st->eng->hold_cap) {
        d->hold_over = true;
        d->held_n++; /* this one too, though not stored: tls_hold_drop counts them all */
        char why[96];
        size_t cap = st->eng ? st->eng->hold_cap : 0;
        g_snprintf(why, sizeof why, "their keys did not come within %zu record%s "
                   "(--tls-hold-records)", cap, cap == 1 ? "" : "s");
        tls_hold_drop(st, dir, why, ctx);
        return;
    }
    if (!d->held)
        d->held = g_byte_array_new();
    held_hdr h = { ctx->frame, ctx->ts_us, (uint32_t)len, version, type };
    g_byte_array_append(d->held, (const guint8 *)&h, sizeof h);
    g_byte_array_append(d->held, body, (guint)len);
    d->held_n++;
}

/* dir's oldest held record, when its keys are there now. */
static bool ready(const tls_state *st, mw_dir dir, held_hdr *h)
{
    const tls_dir *d = &st->d[dir];
    if (!d->held || d->held_n == 0 || d->held->len < sizeof *h || !st->dec ||
        !mw_tls_decoder_keyed(st->dec, (mw_tls_dir)dir) || d->dec_failed ||
        (dir == MW_FROM_CLIENT && st->early_pending))
        return false;
    memcpy(h, d->held->data, sizeof *h);
    return true;
}

void tls_hold_replay(tls_state *st, const mw_ctx *ctx)
{
    uint8_t *body = NULL; /* each record is taken out before it is decrypted: what that
                           * decryption does to either hold cannot pull it from under it */
    for (;;) {
        held_hdr h[2];
        bool r0 = ready(st, MW_FROM_CLIENT, &h[0]), r1 = ready(st, MW_FROM_SERVER, &h[1]);
        if (!r0 && !r1)
            break;
        int dir = !r0 || (r1 && h[1].frame < h[0].frame) ? 1 : 0;
        tls_dir *d = &st->d[dir];
        size_t whole = sizeof(held_hdr) + h[dir].len;
        if (!body)
            body = g_malloc(MW_TLS_BODY_MAX);
        memcpy(body, d->held->data + sizeof(held_hdr), h[dir].len);
        memset(d->held->data, 0, whole);
        g_byte_array_remove_range(d->held, 0, (guint)whole);
        if (--d->held_n == 0) {
            g_byte_array_free(d->held, TRUE);
            d->held = NULL;
        }
        mw_ctx hc = *ctx;
        hc.frame = h[dir].frame;
        hc.ts_us = h[dir].ts_us;
        tls_dec_record_now(st, (mw_dir)dir, h[dir].type, h[dir].version, body, body,
                           h[dir].len, &hc);
    }
    if (body) {
        memset(body, 0, MW_TLS_BODY_MAX);
        g_free(body);
    }
}

void tls_hold_free(tls_state *st)
{
    for (int i = 0; i < 2; i++) {
        if (st->d[i].held)
            g_byte_array_free(st->d[i].held, TRUE);
        st->d[i].held = NULL;
        st->d[i].held_n = 0;
    }
}
