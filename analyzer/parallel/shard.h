/* Which analysis thread a TCP segment goes to (analyzer/parallel/): hash(flow) scaled to N, with
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
#include <string.h>

#include "input/decode.h"

#define MW_SHARD_SEED UINT64_C(0x6d61696c77697265) /* "mailwire" */
#define MW_SHARD_SEED2 UINT64_C(0x9e3779b97f4a7c15)

/* One end of the connection (its sixteen address bytes and its port) folded into a word:
 * a 64 x 64 -> 128-bit product, its halves xored (flow_table.c's mixing step), so that
 * the port is not merely added in (a sum of linear terms would give a flow and the one
 * with the two ports swapped the same hash). */
static inline uint64_t mw_shard_endpoint(const uint8_t *addr, uint16_t port)
{
    uint64_t a, b;
    memcpy(&a, addr, 8);
    memcpy(&b, addr + 8, 8);
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 u128;
    const u128 p = (u128)(a ^ MW_SHARD_SEED) * (b ^ MW_SHARD_SEED2 ^ port);
    return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
    uint64_t x = (a ^ MW_SHARD_SEED) + (b << 17 | b >> 47) * MW_SHARD_SEED2 + port;
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    return x ^ (x >> 33);
#endif
}

/* The same value for a segment and its reply (source and destination swapped): the sum
 * does not depend on which end is which (a canonical order, a compare and copies, cost
 * more on the dispatcher); its high half is well mixed (mw_shard_of reads it). */
static inline uint64_t mw_shard_hash(const mw_packet *pkt)
{
    const uint64_t h = mw_shard_endpoint(pkt->src, pkt->sport) +
                       mw_shard_endpoint(pkt->dst, pkt->dport) + pkt->family;
    return h ^ (h << 32); /* the low half's bits into the high half too */
}

/* The hash's high 32 bits: what the thread is chosen by (worked out on the reader thread
 * into each TCP segment's note: input/capture.h, mw_capture_note). */
static inline uint32_t mw_shard_high(const mw_packet *pkt)
{
    return (uint32_t)(mw_shard_hash(pkt) >> 32);
}

/* The thread among n (n >= 1) of the segment whose mw_shard_high is high: scaled to n (a
 * multiply and a shift where a 64-bit division would take tens of cycles). */
static inline unsigned mw_shard_scale(uint32_t high, unsigned n)
{
    return n <= 1 ? 0 : (unsigned)(((uint64_t)high * n) >> 32);
}

/* The thread of pkt among n (n >= 1). */
static inline unsigned mw_shard_of(const mw_packet *pkt, unsigned n)
{
    return mw_shard_scale(mw_shard_high(pkt), n);
}

#endif
