#include "engine/feeder.h"
#include "registry.h"

#include <glib.h>
#include <string.h>

_Static_assert(MW_MAX_DISSECTORS <= INT8_MAX, "a registry slot fits mw_feeder.slot");

void mw_feeder_init_in(mw_feeder *f, const mw_dissector *d, mw_session *s,
                       const mw_config *cfg, void *const *slots)
{
    memset(f, 0, sizeof *f);
    f->dis = d;
    f->sess = s;
    f->cfg = cfg;
    f->slots = slots;
    f->slot = (int8_t)(slots && d ? mw_dissector_slot(d) : -1);
    /* the dissector's state is made when it is first needed (its first bytes, a gap or the
     * close): a flow that never carries a byte costs none (issue 12) */
}

/* The dissector's state, made now if it was not. */
static void *state_of(mw_feeder *f)
{
    if (!f->state)
        f->state = f->dis->state_new(f->sess, f->cfg);
    return f->state;
}

void mw_feeder_init(mw_feeder *f, const mw_dissector *d, mw_session *s, const mw_config *cfg)
{
    mw_feeder_init_in(f, d, s, cfg, NULL);
}

/* The context of one dissector call. */
static mw_ctx ctx_of(const mw_feeder *f, uint64_t frame, int64_t ts_us, bool ack_known,
                     uint64_t peer_acked)
{
    mw_ctx ctx = { f->sess, f->cfg, frame, ts_us, ack_known, ack_known ? peer_acked : 0,
                   f->slots && f->slot >= 0 ? f->slots[f->slot] : NULL, f->slots };
    return ctx;
}

void mw_feeder_free(mw_feeder *f)
{
    if (f->dis && f->state)
        f->dis->state_free(f->state);
    for (int d = 0; d < 2; d++)
        if (f->pend[d].alloc)
            g_free(f->pend[d].buf);
    memset(f, 0, sizeof *f);
}

/* Where pd's bytes are. */
static uint8_t *pend_data(mw_pending *pd)
{
    return pd->alloc ? pd->buf : pd->small;
}

/* Room for `need` bytes in pd (need <= cap): the buffer doubles as it fills. */
static void pend_reserve(mw_pending *pd, size_t need, size_t cap)
{
    if (need <= (pd->alloc ? pd->alloc : sizeof pd->small))
        return;
    size_t n = MAX(MAX(need, (size_t)pd->alloc * 2), (size_t)MW_PENDING_MIN);
    n = MIN(n, cap);
    if (pd->alloc) {
        pd->buf = g_realloc(pd->buf, n);
    } else { /* out of place: the bytes held in small move to the buffer */
        uint8_t *b = g_malloc(n);
        memcpy(b, pd->small, pd->len);
        pd->buf = b;
    }
    pd->alloc = (uint32_t)n;
}

/* pd has been emptied: a large buffer is given back. */
static void pend_trim(mw_pending *pd)
{
    if (pd->len == 0 && pd->alloc > MW_PENDING_KEEP) {
        g_free(pd->buf);
        pd->buf = NULL;
        pd->alloc = 0;
    }
}

static void upgrade_to_tls(mw_feeder *f)
{
    if (f->state)
        f->dis->state_free(f->state);
    f->dis = mw_dissector_for_tls();
    f->slot = (int8_t)(f->slots ? mw_dissector_slot(f->dis) : -1);
    f->state = f->dis->state_new(f->sess, f->cfg);
    f->dead[0] = f->dead[1] = false;
}

void mw_feeder_data(mw_feeder *f, mw_dir dir, const uint8_t *p, size_t len, uint64_t frame,
                    int64_t ts_us)
{
    mw_feeder_data_acked(f, dir, p, len, frame, ts_us, false, 0);
}

void mw_feeder_data_acked(mw_feeder *f, mw_dir dir, const uint8_t *p, size_t len,
                          uint64_t frame, int64_t ts_us, bool ack_known, uint64_t peer_acked)
{
    if (!f->dis || f->dead[dir])
        return;
    const size_t cap = MIN(mw_config_pending_cap(f->cfg), (size_t)UINT32_MAX);
    mw_pending *pd = &f->pend[dir];
    mw_ctx ctx = ctx_of(f, frame, ts_us, ack_known, peer_acked);

    for (;;) {
        const uint8_t *buf;
        size_t blen;
        bool from_pend = pd->len > 0;
        if (from_pend) {
            size_t take = MIN(cap - pd->len, len);
            pend_reserve(pd, pd->len + take, cap);
            memcpy(pend_data(pd) + pd->len, p, take);
            pd->len += (uint32_t)take;
            p += take;
            len -= take;
            buf = pend_data(pd);
            blen = pd->len;
        } else {
            if (len == 0)
                return;
            buf = p;
            blen = len;
        }
        mw_feed_result r = f->dis->feed(state_of(f), dir, buf, blen, &ctx);
        size_t used = MIN(r.consumed, blen);

        if (r.status == MW_FEED_ERROR) {
            f->dead[dir] = true;
            pd->len = 0;
            pend_trim(pd);
            return;
        }
        if (from_pend) {
            memmove(pend_data(pd), pend_data(pd) + used, blen - used);
            pd->len = (uint32_t)(blen - used);
            pend_trim(pd);
        } else {
            p += used;
            len -= used;
        }
        if (r.status == MW_FEED_UPGRADE_TLS) {
            upgrade_to_tls(f);
            ctx = ctx_of(f, frame, ts_us, ack_known, peer_acked);
            /* bytes the other direction held back belong to TLS too */
            mw_dir other = (mw_dir)!dir;
            if (f->pend[other].len) {
                mw_pending held = f->pend[other];
                f->pend[other] = (mw_pending){ .len = 0 };
                mw_feeder_data_acked(f, other, pend_data(&held), held.len, frame, ts_us,
                                     ack_known, peer_acked);
                if (held.alloc)
                    g_free(held.buf);
            }
            continue;
        }
        bool progress = used > 0;
        if (from_pend) {
            if (!progress && pd->len == cap) {
                /* No progress on a full buffer: a dissector bug or hostile input. */
                mw_session_anomaly(f->sess, MW_ANOM_LINE_TOO_LONG);
                pd->len = 0;
                pend_trim(pd);
                f->dis->on_gap(f->state, dir, 0, &ctx);
                continue;
            }
            if ((!progress || r.status == MW_FEED_NEED_MORE) && len == 0)
                return;
            continue;
        }
        if (len == 0)
            return;
        if (progress && r.status == MW_FEED_OK)
            continue;
        /* Keep the incomplete tail for the next segment. */
        if (len > cap) {
            mw_session_anomaly(f->sess, MW_ANOM_LINE_TOO_LONG);
            f->dis->on_gap(f->state, dir, len, &ctx);
            return;
        }
        pend_reserve(pd, len, cap);
        memcpy(pend_data(pd), p, len);
        pd->len = (uint32_t)len;
        return;
    }
}

void mw_feeder_gap(mw_feeder *f, mw_dir dir, uint64_t missing, uint64_t frame, int64_t ts_us)
{
    f->pend[dir].len = 0;
    pend_trim(&f->pend[dir]);
    if (!f->dis || f->dead[dir])
        return;
    mw_ctx ctx = ctx_of(f, frame, ts_us, false, 0);
    f->dis->on_gap(state_of(f), dir, missing, &ctx);
}

void mw_feeder_overlap_conflict(mw_feeder *f, mw_dir dir, uint64_t off, const uint8_t *other,
                                size_t len, uint64_t first_frame, uint64_t frame, int64_t ts_us)
{
    if (!f->dis || !f->dis->on_overlap_conflict)
        return;
    mw_ctx ctx = ctx_of(f, frame, ts_us, false, 0);
    f->dis->on_overlap_conflict(state_of(f), dir, off, other, len, first_frame, &ctx);
}

void mw_feeder_close_conn(mw_feeder *f, const mw_conn_tcp *tcp, uint64_t frame, int64_t ts_us)
{
    if (!f->dis)
        return;
    void *state = state_of(f); /* made before the verdict, as it was made at the SYN */
    mw_conn_verdict(f->sess, f->dis, tcp, frame, ts_us);
    mw_ctx ctx = ctx_of(f, frame, ts_us, false, 0);
    f->dis->on_close(state, &ctx);
}

void mw_feeder_close(mw_feeder *f, uint64_t frame, int64_t ts_us)
{
    mw_feeder_close_conn(f, NULL, frame, ts_us);
}
