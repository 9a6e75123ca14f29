/* The inner dissector's delivery loop: engine/feeder.c's, without the TLS upgrade. */
#include "nested.h"

#include <glib.h>
#include <string.h>

void mw_nested_start(mw_nested *n, const mw_dissector *d, mw_session *s, const mw_config *cfg)
{
    memset(n, 0, sizeof *n);
    n->dis = d;
    n->state = d->state_new(s, cfg);
}

void mw_nested_free(mw_nested *n)
{
    if (n->dis)
        n->dis->state_free(n->state);
    g_free(n->pend[0]);
    g_free(n->pend[1]);
    memset(n, 0, sizeof *n);
}

/* Keep the unconsumed tail p[0..len) of dir; false when it is over the cap. */
static bool keep_tail(mw_nested *n, mw_dir dir, const uint8_t *p, size_t len, size_t cap)
{
    if (len > cap)
        return false;
    if (!n->pend[dir])
        n->pend[dir] = g_malloc(cap);
    memmove(n->pend[dir], p, len);
    n->plen[dir] = len;
    return true;
}

void mw_nested_data(mw_nested *n, mw_dir dir, const uint8_t *p, size_t len, const mw_ctx *ctx)
{
    if (!n->dis || n->dead[dir])
        return;
    const size_t cap = mw_config_pending_cap(ctx->cfg);
    for (;;) {
        bool from_pend = n->plen[dir] > 0;
        const uint8_t *buf = p;
        size_t blen = len;
        if (from_pend) {
            size_t take = MIN(cap - n->plen[dir], len);
            memcpy(n->pend[dir] + n->plen[dir], p, take);
            n->plen[dir] += take;
            p += take;
            len -= take;
            buf = n->pend[dir];
            blen = n->plen[dir];
        } else if (len == 0) {
            return;
        }
        mw_feed_result r = n->dis->feed(n->state, dir, buf, blen, ctx);
        size_t used = MIN(r.consumed, blen);
        if (r.status == MW_FEED_ERROR || r.status == MW_FEED_UPGRADE_TLS) {
            n->dead[dir] = true;
            n->plen[dir] = 0;
            return;
        }
        if (from_pend) {
            memmove(n->pend[dir], n->pend[dir] + used, blen - used);
            n->plen[dir] = blen - used;
            if (used == 0 && n->plen[dir] == cap) {
                /* no progress on a full buffer: a dissector bug or hostile input */
                mw_session_anomaly(ctx->sess, MW_ANOM_LINE_TOO_LONG);
                n->plen[dir] = 0;
                n->dis->on_gap(n->state, dir, 0, ctx);
                continue;
            }
            if ((used == 0 || r.status == MW_FEED_NEED_MORE) && len == 0)
                return;
            continue;
        }
        p += used;
        len -= used;
        if (len == 0)
            return;
        if (used > 0 && r.status == MW_FEED_OK)
            continue;
        if (!keep_tail(n, dir, p, len, cap)) {
            mw_session_anomaly(ctx->sess, MW_ANOM_LINE_TOO_LONG);
            n->dis->on_gap(n->state, dir, len, ctx);
        }
        return;
    }
}

void mw_nested_gap(mw_nested *n, mw_dir dir, uint64_t missing, const mw_ctx *ctx)
{
    n->plen[dir] = 0;
    if (n->dis && !n->dead[dir])
        n->dis->on_gap(n->state, dir, missing, ctx);
}

void mw_nested_close(mw_nested *n, const mw_ctx *ctx)
{
    if (n->dis)
        n->dis->on_close(n->state, ctx);
}
