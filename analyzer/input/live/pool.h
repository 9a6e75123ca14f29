/* Live --workers N: the workers' engines, made, finished and freed together, and their
 * counters summed as if one engine had counted them. */
#ifndef MW_LIVE_POOL_H
#define MW_LIVE_POOL_H

#include "core/config.h"
#include "engine/flow.h"
#include "parallel/stats.h"

/* Server ports whose ignored packets an engine counts (mw_engine_stats.ignored_by_port). */
#define MW_LIVE_PORTS_COUNTED MW_STATS_PORTS

typedef struct mw_live_pool mw_live_pool;

/* n engines, each with a 1/n share of --max-flows and --max-memory and its own run of
 * session ids (engine i: i+1, i+1+n, ...), handing every closed session to take(s, user)
 * on the thread that closed it. */
mw_live_pool *mw_live_pool_new(const mw_config *cfg, int n, mw_session_take_cb take,
                               void *user);
mw_engine *const *mw_live_pool_engines(const mw_live_pool *p);
/* End of the capture (the workers stopped): close every engine's open flows. */
void mw_live_pool_finish(mw_live_pool *p);
/* The engines' counters summed; the interface drops counted once (every socket reads the
 * same interface counter); flows_peak is the sum of the peaks, an upper bound. Valid
 * until the next call or mw_live_pool_free. */
const mw_engine_stats *mw_live_pool_stats(mw_live_pool *p);
void mw_live_pool_free(mw_live_pool *p);

#endif
