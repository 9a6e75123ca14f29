/* Reading capture files through libpcap (pcap, pcap-ns, pcapng; stdin as "-", pipes and FIFOs read
 * as they arrive). */
#ifndef MW_CAPTURE_H
#define MW_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/flow.h"

typedef struct mw_capture mw_capture;

/* Open a capture file and check its link type. On failure returns NULL and sets *err
 * to one line naming the file (g_free it). */
mw_capture *mw_capture_open(const char *path, char **err);

/* Feed every packet to the engine. Returns false on a read error before any packet
 * (*err set); a truncated tail after good packets is a warning (*warn set), true. */
bool mw_capture_run(mw_capture *c, mw_engine *e, char **err, char **warn);

/* Called for every packet read, before it is decoded (progress, per-file time ranges). */
typedef void (*mw_capture_observer)(void *user, const mw_capture *c, uint64_t frame,
                                    int64_t ts_us);
void mw_capture_observe(mw_capture *c, mw_capture_observer fn, void *user);
/* Bytes of the file read so far, or -1 when not known (stdin, a pipe). */
int64_t mw_capture_offset(const mw_capture *c);
/* Size of the file, or -1 (stdin). */
int64_t mw_capture_size(const mw_capture *c);
int mw_capture_dlt(const mw_capture *c);
/* Read at most max_packets (0: all); set before mw_capture_run. */
void mw_capture_limit(mw_capture *c, uint64_t max_packets);
/* Packets read so far. */
uint64_t mw_capture_frames(const mw_capture *c);
/* The descriptor read (for the identity of an input, see output/outfile.h). */
int mw_capture_fd(const mw_capture *c);
/* Stop reading (SIGINT/SIGTERM, or the output is gone): async-signal-safe, from any
 * thread. The packets read until then are analysed; mw_capture_run returns. */
void mw_capture_stop(void);
bool mw_capture_stopped(void);

void mw_capture_close(mw_capture *c);

#endif
