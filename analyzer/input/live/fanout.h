/* --workers N: N capture sockets on one interface, in one PACKET_FANOUT_HASH group of this
 * process, so the kernel hands each flow (both directions: the hash is symmetric) to one
 * socket, and an IP datagram's fragments, reassembled first (PACKET_FANOUT_FLAG_DEFRAG),
 * to the same one. libpcap has no fanout API: the handles are activated as usual, then
 * their descriptors join the group. */
#ifndef MW_FANOUT_H
#define MW_FANOUT_H

#include <pcap/pcap.h>
#include <stdbool.h>

#include "engine/flow.h"
#include "input/live.h"

/* How long the sockets are left to take nothing before they are drained: longer than a
 * TPACKET_V3 block's timeout, so the last block a socket filled before it joined the group
 * is handed over and thrown away (it would duplicate another worker's packets). */
#define MW_FANOUT_SETTLE_MS (2 * MW_LIVE_BLOCK_TIMEOUT_MS)

/* Open n handles on o->iface, join them in one new fanout group, set the filter on each
 * (the user's, or the engine's mail ports) and check it is set. False with *err (one line)
 * and nothing left open. */
bool mw_fanout_open(const mw_live_opts *o, const mw_engine *e, pcap_t **p, int n, char **err);

/* The group's id (for messages and tests), once mw_fanout_open succeeded; -1 before. */
int mw_fanout_group(pcap_t *p);

#endif
