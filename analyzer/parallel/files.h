/* Reading capture files into the analysis threads (parallel.h), and what is said about
 * them on stderr. */
#ifndef MW_PARALLEL_FILES_H
#define MW_PARALLEL_FILES_H

#include <stdbool.h>
#include <stdio.h>

#include "input/capture.h"
#include "parallel/parallel.h"

/* c's packets go to p's threads (mw_capture_set_sink), with their interface for evidence. */
void mw_parallel_read(mw_capture *c, mw_parallel *p);
/* After mw_parallel_finish: --threads 0, the rate the reader and the dispatch reached
 * alone; per_thread (--thread-stats), the segments each thread took. */
void mw_parallel_report(const mw_parallel *p, bool per_thread, FILE *fp);

#endif
