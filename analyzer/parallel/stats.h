/* Several engines' counters summed as if one engine had counted them: the analysis
 * threads of --threads (parallel.c) and live capture's workers (input/live/pool.c). */
#ifndef MW_PARALLEL_STATS_H
#define MW_PARALLEL_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/flow.h"

/* Server ports whose ignored packets an engine counts (mw_engine_stats.ignored_by_port). */
#define MW_STATS_PORTS 65536

/* s added to t; s's ignored packets by port to by_port (MW_STATS_PORTS counters; t's own
 * ignored_by_port is left as it is). Interface drops are the largest, not the sum (every
 * socket reads the same interface counter); flows_peak is the sum of the peaks, an upper
 * bound. Returns whether s kept counters by port. */
bool mw_stats_add(mw_engine_stats *t, uint32_t *by_port, const mw_engine_stats *s);

#endif
