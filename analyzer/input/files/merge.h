/* Several capture files read as one, in timestamp order, as mergecap merges them: a k-way
 * merge on the time of each file's next packet (ties: the file given first), so a session
 * split across two files (`editcap -c`, a rotated `tcpdump -C`) is one session whatever
 * the order the files are given in, and files that overlap in time interleave. Each file
 * keeps its own link types, frame numbers and decoding; only the order of packets across
 * files is the merge's. Within a file the order is the file's, as mergecap keeps it. */
#ifndef MW_MERGE_H
#define MW_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "input/capture.h"

typedef struct {
    mw_capture **caps;
    size_t n;
    mw_engine *e;
    uint64_t limit; /* packets to read in all (-c); 0: every one */
    /* the next packet comes from caps[i], another file than the one before (or the first) */
    void (*on_switch)(void *user, size_t i);
    /* a file ended with a warning (cut short, what the pcapng reader skipped) */
    void (*on_warning)(void *user, const char *msg);
    void *user;
} mw_merge;

/* Reads until every file ends, the limit, or a stop request (mw_capture_stop). A file
 * that fails before its first packet stops the run: false with *err and *failed (its
 * index); the packets read until then are analysed. A file that fails later is a warning
 * and the others go on. */
bool mw_merge_run(const mw_merge *m, size_t *failed, char **err);

/* Put caps (and their names, alike) in the order of their first packets (read ahead now),
 * so that the inputs table and --save-flagged see a session's packets in files up to the
 * one being read. One without a packet (empty, or its first read failed: the merge stops
 * there after the others) goes last; ties in the order given. */
void mw_merge_order_by_time(mw_capture **caps, char **names, size_t n);

#endif
