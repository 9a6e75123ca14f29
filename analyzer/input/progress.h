/* A progress line on stderr while captures are read: file, bytes read (of the size),
 * rate, packets and sessions. Only when stderr is a terminal; redrawn at most a few
 * times a second; erased at the end so the output that follows starts clean. */
#ifndef MW_PROGRESS_H
#define MW_PROGRESS_H

#include <stdint.h>

#include "input/capture.h"
#include "engine/flow.h"

/* Redraws per second, at most. */
#define MW_PROGRESS_HZ 4

typedef struct mw_progress mw_progress;

/* NULL when stderr is not a terminal: every call below accepts NULL. */
mw_progress *mw_progress_new(const mw_engine *e);
/* The counts come from get(user) instead of the engine (--threads: parallel.h's
 * mw_parallel_progress). */
void mw_progress_stats_from(mw_progress *p, const mw_engine_stats *(*get)(void *user),
                            void *user);
/* One packet of capture c; cheap unless a redraw is due. */
void mw_progress_packet(mw_progress *p, const mw_capture *c, const char *name);
/* Erase the line (end of a file, or before an error message). */
void mw_progress_clear(mw_progress *p);
void mw_progress_free(mw_progress *p);

#endif
