/* Which analysis thread a TCP segment goes to (analyzer/parallel/): hash(flow) mod N, with
 * a symmetric hash of the 4-tuple (the sum of a hash of each end), so both directions of a
 * connection land on the same thread. IP fragments are reassembled by the dispatcher
 * before the split (parallel.h): a non-first fragment carries no ports.
 *
 * The seed is fixed: the same capture splits the same way on every run (the packets per
 * thread in --thread-stats repeat). A sender who piles its flows onto one thread only
 * slows the run; the flow table's own hash stays seeded at random (engine/flow_table.c). */
#ifndef MW_SHARD_H
#define MW_SHARD_H

#include <stdint.h>

#include "input/decode.h"

#define MW_SHARD_SEED UINT64_C(0x6d61696c77697265) /* "mailwire" */

/* The same value for a segment and its reply (source and destination swapped). */
uint64_t mw_shard_hash(const mw_packet *pkt);

/* The thread of pkt among n (n >= 1). */
static inline unsigned mw_shard_of(const mw_packet *pkt, unsigned n)
{
    return n <= 1 ? 0 : (unsigned)(mw_shard_hash(pkt) % n);
}

#endif
