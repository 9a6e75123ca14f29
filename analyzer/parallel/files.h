/* Reading capture files into the analysis threads (parallel.h), and what is said about
 * them on stderr. */
#ifndef MW_PARALLEL_FILES_H
#define MW_PARALLEL_FILES_H

#include <stdbool.h>
#include <stdio.h>

#include "input/capture.h"
#include "output/writer.h"
#include "parallel/parallel.h"

/* Why a run with n threads asked for analyses on one (a phrase for "not yet with ..."),
 * "" when there is nothing to say (one thread asked for; live capture, which has
 * --workers), NULL when the threads can run: not live, nor with several inputs (evidence
 * names the input by time), a pipe, --report or --save-flagged (their sinks read what the
 * reader updates as it goes). */
const char *mw_parallel_one_thread(unsigned n, const char *iface, bool streaming,
                                   size_t nfiles, const void *report, const void *saver);
/* c's packets go to p's threads (mw_capture_set_sink), with their interface for evidence. */
void mw_parallel_read(mw_capture *c, mw_parallel *p);
/* Each record w writes freed by the analysis thread that made it (mw_parallel_releaser);
 * p or w NULL: nothing to do. */
void mw_parallel_free_written(mw_parallel *p, mw_writer *w);
/* After mw_parallel_finish: --threads 0, the rate the reader and the dispatch reached
 * alone; per_thread (--thread-stats), the segments each thread took. */
void mw_parallel_report(const mw_parallel *p, bool per_thread, FILE *fp);

#endif
