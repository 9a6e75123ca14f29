/* Reading capture files through libpcap (pcap, pcap-ns, pcapng, stdin as "-"). */
#ifndef MW_CAPTURE_H
#define MW_CAPTURE_H

#include <stdbool.h>

#include "flow.h"

typedef struct mw_capture mw_capture;

/* Open a capture file and check its link type. On failure returns NULL and sets *err
 * to one line naming the file (g_free it). */
mw_capture *mw_capture_open(const char *path, char **err);

/* Feed every packet to the engine. Returns false on a read error before any packet
 * (*err set); a truncated tail after good packets is a warning (*warn set), true. */
bool mw_capture_run(mw_capture *c, mw_engine *e, char **err, char **warn);

void mw_capture_close(mw_capture *c);

#endif
