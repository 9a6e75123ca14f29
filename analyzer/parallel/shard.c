#include "parallel/shard.h"

#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t mw_shard_hash(const mw_packet *pkt)
{
    /* canonical order: as engine/flow_table.c's key, the lower (address, port) first */
    int c = memcmp(pkt->src, pkt->dst, 16);
    bool lo = c < 0 || (c == 0 && pkt->sport <= pkt->dport);
    struct {
        uint8_t addr[2][16];
        uint16_t port[2];
        uint32_t family;
    } k;
    memcpy(k.addr[0], lo ? pkt->src : pkt->dst, 16);
    memcpy(k.addr[1], lo ? pkt->dst : pkt->src, 16);
    k.port[0] = lo ? pkt->sport : pkt->dport;
    k.port[1] = lo ? pkt->dport : pkt->sport;
    k.family = pkt->family;
    return XXH3_64bits_withSeed(&k, sizeof k, MW_SHARD_SEED);
}
