#include "input/live/pool.h"

#include <glib.h>
#include <string.h>

#include "parallel/stats.h"

struct mw_live_pool {
    int n;
    mw_engine **e;
    mw_engine_stats total;
    uint32_t *by_port; /* MW_LIVE_PORTS_COUNTED: total.ignored_by_port */
};

mw_live_pool *mw_live_pool_new(const mw_config *cfg, int n, mw_session_take_cb take,
                               void *user)
{
    mw_live_pool *p = g_new0(mw_live_pool, 1);
    p->n = n;
    p->e = g_new0(mw_engine *, n);
    p->by_port = g_new0(uint32_t, MW_LIVE_PORTS_COUNTED);
    mw_config wc = *cfg;
    wc.max_flows = cfg->max_flows / (size_t)n ? cfg->max_flows / (size_t)n : 1;
    wc.max_memory = cfg->max_memory / (size_t)n;
    wc.session_id_step = (uint64_t)n;
    for (int i = 0; i < n; i++) {
        p->e[i] = mw_engine_new(&wc, NULL, NULL); /* the hand-over takes every session */
        mw_engine_hand_over(p->e[i], take, user);
        /* the last id given out before the first: i+1-n (mod 2^64), so ids i+1, i+1+n, ...
         * (the index the parallel merger orders by means nothing live) */
        mw_engine_index(p->e[i], (uint64_t)i + 2 - (uint64_t)n, 0, 0);
    }
    return p;
}

mw_engine *const *mw_live_pool_engines(const mw_live_pool *p)
{
    return p->e;
}

void mw_live_pool_finish(mw_live_pool *p)
{
    for (int i = 0; i < p->n; i++)
        mw_engine_finish(p->e[i]);
}

const mw_engine_stats *mw_live_pool_stats(mw_live_pool *p)
{
    memset(&p->total, 0, sizeof p->total);
    memset(p->by_port, 0, sizeof *p->by_port * MW_LIVE_PORTS_COUNTED);
    p->total.ignored_by_port = p->by_port;
    for (int i = 0; i < p->n; i++)
        mw_stats_add(&p->total, p->by_port, mw_engine_stats_get(p->e[i]));
    return &p->total;
}

void mw_live_pool_free(mw_live_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        mw_engine_free(p->e[i]);
    g_free(p->e);
    g_free(p->by_port);
    g_free(p);
}
