#include "parallel/shard.h"

#include <string.h>

/* A 64-bit finaliser (MurmurHash3's fmix64): every input bit reaches every output bit. */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* One end of the connection: its sixteen address bytes and its port. */
static inline uint64_t endpoint(const uint8_t *addr, uint16_t port)
{
    uint64_t a, b;
    memcpy(&a, addr, 8);
    memcpy(&b, addr + 8, 8);
    return mix64((a ^ MW_SHARD_SEED) + (b << 17 | b >> 47) * UINT64_C(0x9e3779b97f4a7c15) +
                 port);
}

uint64_t mw_shard_hash(const mw_packet *pkt)
{
    /* the sum does not depend on which end is which: both directions hash the same (a
     * canonical order, a compare and copies, cost three times as much on the dispatcher) */
    return mix64(endpoint(pkt->src, pkt->sport) + endpoint(pkt->dst, pkt->dport) +
                 pkt->family);
}
