#include "text/tlsgate.h"

bool mw_tlsgate_is_text(const uint8_t *p, size_t len)
{
    return len > 0 && p[0] >= 0x20 && p[0] < 0x7f;
}

bool mw_tlsgate_feed(mw_tlsgate *g, mw_session *s, mw_dir dir, const uint8_t *p, size_t len,
                     bool after_gap, const mw_ctx *ctx, bool *in_tls, mw_feed_result *r)
{
    if (dir == MW_FROM_SERVER || len == 0) {
        *r = (mw_feed_result){ MW_FEED_NEED_MORE, 0 };
        return true;
    }
    g->waiting = false;
    if (after_gap || !mw_tlsgate_is_text(p, len)) {
        *in_tls = true;
        *r = (mw_feed_result){ MW_FEED_UPGRADE_TLS, 0 };
        return true;
    }
    mw_session_anomaly(s, MW_ANOM_STARTTLS_NOT_USED);
    if (s->transcript)
        mw_session_event(s, dir, ctx->frame, ctx->ts_us, -1,
                         "[clear text after the server agreed to TLS: TLS not used]");
    return false;
}

bool mw_tlsgate_early(mw_tlsgate *g, const uint8_t *p, size_t len)
{
    if (len == 0 || mw_tlsgate_is_text(p, len))
        return false;
    g->early = true;
    return true;
}

mw_feed_result mw_tlsgate_agreed(mw_tlsgate *g, size_t consumed, size_t len, bool *in_tls)
{
    if (g->early) {
        g->early = false;
        *in_tls = true;
        return (mw_feed_result){ MW_FEED_UPGRADE_TLS, consumed };
    }
    g->waiting = true;
    return (mw_feed_result){ consumed < len ? MW_FEED_NEED_MORE : MW_FEED_OK, consumed };
}
