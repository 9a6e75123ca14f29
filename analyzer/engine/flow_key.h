/* The flow table's hot path, inlined where a packet is looked up (engine/flow.c, once a
 * packet): the key made from the packet, its hash, and the probe of the map. A call there
 * saved and restored six registers a packet; flow_table.c uses the same functions. Only
 * flow_table.c and flow.c include this. */
#ifndef MW_FLOW_KEY_H
#define MW_FLOW_KEY_H

#include "engine/flow_table.h"

/* Every byte of a key is in its hash or one of its words. */
static inline bool key_equal(const mw_flow_key *a, const mw_flow_key *b)
{
    return ((a->hash ^ b->hash) | (a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) |
            (a->w[2] ^ b->w[2]) | (a->w[3] ^ b->w[3]) | (a->w[4] ^ b->w[4])) == 0;
}

/* Slots on x86-64 and arm64: the pointer in the low 48 bits (Linux user space keeps its
 * addresses under 2^47; malloc never asks for more), then the entry's distance from its
 * home slot (8 bits, DIST_SAT: that far or farther, read the entry's hash), then 8 bits of
 * its hash (not the bits that pick the home slot). The tag spares a lookup reading entries
 * that are not the one sought; the distance spares moving entries (insert, backward-shift
 * removal) reading each one's hash, a cache miss apiece. Elsewhere slots are plain
 * pointers, and both are read from the entry. */
#if (defined(__x86_64__) || defined(__aarch64__)) && UINTPTR_MAX == UINT64_MAX
#define DIST_SHIFT 48
#define DIST_SAT 255u
#define TAG_SHIFT 56
#define PTR_MASK (((uintptr_t)1 << DIST_SHIFT) - 1)
#define DIST_MASK ((uintptr_t)DIST_SAT << DIST_SHIFT)

static inline mw_flow_slot slot_make(const mw_flow_key *k, size_t dist)
{
    const uintptr_t p = (uintptr_t)k;
    if (p & ~PTR_MASK)
        g_error("flow table: an address above 2^48 (%p)", (const void *)k);
    return p | (uintptr_t)MIN(dist, (size_t)DIST_SAT) << DIST_SHIFT |
           (uintptr_t)(k->hash >> TAG_SHIFT) << TAG_SHIFT;
}

static inline const mw_flow_key *slot_key(mw_flow_slot s)
{
    return (const mw_flow_key *)(s & PTR_MASK);
}

/* Could slot s hold k? A different tag says no without reading the entry. */
static inline bool slot_may_be(mw_flow_slot s, const mw_flow_key *k)
{
    return (s >> TAG_SHIFT) == (k->hash >> TAG_SHIFT);
}

/* The home slot of the entry in slot j. */
static inline size_t slot_home(mw_flow_slot s, size_t j, size_t mask)
{
    const size_t d = (size_t)((s & DIST_MASK) >> DIST_SHIFT);
    return d < DIST_SAT ? (j - d) & mask : (size_t)slot_key(s)->hash & mask;
}

/* Slot s's entry (home slot `home`) moved to slot `to`. */
static inline mw_flow_slot slot_moved(mw_flow_slot s, size_t home, size_t to, size_t mask)
{
    const size_t d = MIN((to - home) & mask, (size_t)DIST_SAT);
    return (s & ~DIST_MASK) | (uintptr_t)d << DIST_SHIFT;
}
#else
static inline mw_flow_slot slot_make(const mw_flow_key *k, size_t dist)
{
    (void)dist;
    return (uintptr_t)k;
}

static inline const mw_flow_key *slot_key(mw_flow_slot s)
{
    return (const mw_flow_key *)s;
}

static inline bool slot_may_be(mw_flow_slot s, const mw_flow_key *k)
{
    return slot_key(s)->hash == k->hash;
}

static inline size_t slot_home(mw_flow_slot s, size_t j, size_t mask)
{
    (void)j;
    return (size_t)slot_key(s)->hash & mask;
}

static inline mw_flow_slot slot_moved(mw_flow_slot s, size_t home, size_t to, size_t mask)
{
    (void)home, (void)to, (void)mask;
    return s;
}
#endif

/* The slot of k, or the empty slot where a search for it ends (the map's fields in
 * locals: the compiler cannot tell that reading entries leaves them unchanged). */
static inline size_t map_probe(const mw_flow_map *m, const mw_flow_key *k)
{
    const mw_flow_slot *slots = m->slots;
    const size_t mask = m->mask;
    size_t i = (size_t)k->hash & mask;
    for (;; i = (i + 1) & mask) {
        const mw_flow_slot s = slots[i];
        if (!s || (slot_may_be(s, k) && key_equal(slot_key(s), k)))
            return i;
    }
}

static inline const mw_flow_key *map_find(const mw_flow_map *m, const mw_flow_key *k)
{
    if (!m->slots)
        return NULL;
    const mw_flow_slot s = m->slots[map_probe(m, k)];
    return s ? slot_key(s) : NULL;
}

/* 64 x 64 -> 128-bit product, folded: XXH3's and wyhash's mixing step. */
static inline uint64_t mul_fold(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 u128;
    const u128 p = (u128)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
    const uint64_t lo_lo = (a & 0xFFFFFFFFu) * (b & 0xFFFFFFFFu);
    const uint64_t hi_lo = (a >> 32) * (b & 0xFFFFFFFFu);
    const uint64_t lo_hi = (a & 0xFFFFFFFFu) * (b >> 32);
    const uint64_t hi_hi = (a >> 32) * (b >> 32);
    const uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xFFFFFFFFu) + lo_hi;
    const uint64_t upper = (hi_lo >> 32) + (cross >> 32) + hi_hi;
    const uint64_t lower = (cross << 32) | (lo_lo & 0xFFFFFFFFu);
    return lower ^ upper;
#endif
}

/* The key's last word: both ports and the family, as the union lays them out. */
static inline uint64_t tail_word(uint16_t p0, uint16_t p1, uint8_t family)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
    return (uint64_t)p0 | (uint64_t)p1 << 16 | (uint64_t)family << 32;
#else
    return (uint64_t)p0 << 48 | (uint64_t)p1 << 32 | (uint64_t)family << 24;
#endif
}

/* The key is built and hashed a word at a time, from registers: the endpoints are ordered
 * as memcmp orders their bytes (big-endian words), and the hash is XXH3's mixing of the
 * five words with keys drawn from the table's seed (mw_flow_table_init) — an attacker who
 * does not know the seed cannot predict which keys collide. Hashing the key once built
 * would read it back in words that straddle the smaller stores that wrote it, a
 * store-forwarding stall on every packet. */
__attribute__((always_inline)) /* into find: one call a packet */
static inline void key_make(const mw_flow_table *t, const mw_packet *pkt, mw_flow_key *k)
{
    uint64_t s[2], d[2];
    memcpy(s, pkt->src, 16);
    memcpy(d, pkt->dst, 16);
    const uint64_t s0 = GUINT64_FROM_BE(s[0]), d0 = GUINT64_FROM_BE(d[0]);
    const uint64_t s1 = GUINT64_FROM_BE(s[1]), d1 = GUINT64_FROM_BE(d[1]);
    const bool lo = s0 < d0 || (s0 == d0 && (s1 < d1 || (s1 == d1 && pkt->sport <= pkt->dport)));
    const uint64_t w0 = lo ? s[0] : d[0], w1 = lo ? s[1] : d[1];
    const uint64_t w2 = lo ? d[0] : s[0], w3 = lo ? d[1] : s[1];
    const uint64_t w4 = tail_word(lo ? pkt->sport : pkt->dport, lo ? pkt->dport : pkt->sport,
                                  pkt->family);
    k->w[0] = w0, k->w[1] = w1, k->w[2] = w2, k->w[3] = w3, k->w[4] = w4;
    const uint64_t *sec = t->secret;
    uint64_t h = mul_fold(w0 ^ sec[0], w1 ^ sec[1]) + mul_fold(w2 ^ sec[2], w3 ^ sec[3]) +
                 mul_fold(w4 ^ sec[4], t->seed ^ sec[5]);
    h ^= h >> 37; /* XXH3's avalanche */
    h *= 0x165667919E3779F9u;
    k->hash = h ^ (h >> 32);
}

/* mw_flow_table_find (flow_table.h), inlined. */
static inline mw_flow_node *mw_flow_table_find_inline(const mw_flow_table *t,
                                                      const mw_packet *pkt, mw_flow_key *k)
{
    key_make(t, pkt, k);
    return (mw_flow_node *)map_find(&t->map, k); /* (one probe a packet, not two) */
}

#endif
