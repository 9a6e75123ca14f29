/* The flow table: TCP connections by canonical 4-tuple, and the order in which they were
 * last active (least recent first), for idle expiry and eviction.
 *
 * Intrusive: a flow embeds an mw_flow_node (as its first member) and the table links
 * nodes; it never allocates or frees a flow. */
#ifndef MW_FLOW_TABLE_H
#define MW_FLOW_TABLE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/reasm.h"
#include "input/decode.h"

/* Canonical 4-tuple: the lower (address, port) endpoint first, and its hash. The fields
 * overlay five 64-bit words (w), so that keys are built, compared and hashed a word at a
 * time (flow_table.c); a key is 48 bytes and has no byte that is not one of them. */
typedef struct {
    uint64_t hash; /* worked out by mw_flow_key_make from the packet (flow_table.c says why) */
    union {
        struct {
            uint8_t addr[2][16];
            uint16_t port[2];
            uint8_t family;
            uint8_t pad[3];
        };
        uint64_t w[5];
    };
} mw_flow_key;

typedef struct mw_flow_node {
    mw_flow_key key;
    struct mw_flow_node *lru_prev, *lru_next;
    int64_t last_ts; /* packet time of its last activity */
} mw_flow_node;

/* An open-addressing map of keys (linear probing, last come first served: a new key takes
 * its home slot and moves the rest of the run on by one; backward-shift deletion, no
 * tombstones):
 * each slot holds a pointer to a key, which is the first member of the entry it stands for
 * (a flow node, a remembered closed or evicted flow), with 8 bits of the key's hash and the
 * entry's distance from its home slot in the pointer's unused top bits, so that a probe
 * rarely reads an entry that is not the one sought, and moving entries reads none
 * (flow_table.c). 8 bytes a slot: a flow's share of the map stays under GLib's hash table's (the
 * per-flow budget of tests/hostile.py is tight). Other platforms than x86-64 and arm64 keep
 * plain pointers (flow_table.c). The map never owns the entries. */
typedef uintptr_t mw_flow_slot; /* 0: empty */

typedef struct {
    mw_flow_slot *slots; /* NULL until the first insert */
    size_t mask;         /* slot count - 1 (a power of two) */
    size_t used;
} mw_flow_map;

/* The map doubles when it would be over MW_FLOW_MAP_LOAD_NUM / MW_FLOW_MAP_LOAD_DEN full
 * (7/8: the tags keep the longer runs cheap to walk, eight slots to a cache line),
 * from MW_FLOW_MAP_MIN_SLOTS up to MW_FLOW_MAP_MAX_SLOTS: 2^28 slots (2 GiB) hold the most
 * flows --max-flows allows (10^8) at well under that load, so the cap is never what stops
 * an insert; past it the map only fills up (probing gets longer, it stays correct). */
#define MW_FLOW_MAP_MIN_SLOTS 64u
#define MW_FLOW_MAP_MAX_SLOTS ((size_t)1 << 28)
#define MW_FLOW_MAP_LOAD_NUM 7u
#define MW_FLOW_MAP_LOAD_DEN 8u

/* The entry of k, or NULL. */
const mw_flow_key *mw_flow_map_find(const mw_flow_map *m, const mw_flow_key *k);
/* Add k (not in the map yet); k points into its entry, which outlives its stay in the map. */
void mw_flow_map_insert(mw_flow_map *m, const mw_flow_key *k);
/* Take k's entry out of the map; false: it was not in it. */
bool mw_flow_map_remove(mw_flow_map *m, const mw_flow_key *k);
void mw_flow_map_free(mw_flow_map *m);
/* The longest distance of an entry from its hash's home slot (tests: hostile keys must not
 * make runs long). */
size_t mw_flow_map_longest_probe(const mw_flow_map *m);
/* How far k's entry is from its home slot (tests: the newest is at home); SIZE_MAX when k
 * is not in the map. */
size_t mw_flow_map_distance(const mw_flow_map *m, const mw_flow_key *k);

/* Remembered flows (closed or evicted) in a ring of fixed capacity, oldest first, made at the
 * first use; entries the map no longer holds (forgotten, replaced) stay in the ring until
 * they are the oldest, exactly as the queue they replace kept them. */
typedef struct {
    void *items;         /* cap entries of `size` bytes, NULL until the first */
    size_t size, cap;
    size_t head, count;  /* the oldest, and how many */
} mw_flow_ring;

typedef struct {
    mw_flow_map map; /* key -> node */
    mw_flow_node *lru_head, *lru_tail;
    /* Seeded at random per table: addresses and ports are chosen by whoever sends the
     * packets, and a hash they could predict would let them pile every flow into one
     * run of slots. */
    uint64_t seed;
    uint64_t secret[6]; /* the hash's keys, drawn from the seed (mw_flow_table_init) */
    size_t live, peak;
    mw_flow_map evicted; /* key -> struct evicted (flow_table.c) */
    mw_flow_ring evicted_order;
    mw_flow_map closed;  /* key -> struct closed (flow_table.c) */
    mw_flow_ring closed_order;
} mw_flow_table;

/* Connections closed by FIN or RST remembered, so that their stray packets (a retransmitted
 * segment, data after an RST) are not taken for a new session: at most this many, each
 * for at most twice the idle timeout. */
#define MW_FLOW_CLOSED_REMEMBERED 4096
/* How far past a closed connection's last byte a sequence number still belongs to it. */
#define MW_FLOW_CLOSED_SEQ_WINDOW (1u << 20)



/* Evicted flows remembered, so that the rest of one says it continues the evicted record;
 * the oldest is forgotten first. */
#define MW_FLOW_EVICTED_REMEMBERED 16384

void mw_flow_table_init(mw_flow_table *t);
/* The session of flow k (id) was evicted while the flow went on. */
void mw_flow_table_remember(mw_flow_table *t, const mw_flow_key *k, const char *id);
/* Was flow k evicted? Then its session id into id (24 bytes), and k is forgotten. */
bool mw_flow_table_recall(mw_flow_table *t, const mw_flow_key *k, char *id);
/* Did key endpoint i send the packet? Compared a word at a time. */
static inline bool mw_flow_key_sent_by(const mw_flow_key *k, int i, const mw_packet *pkt)
{
    uint64_t a[2];
    memcpy(a, pkt->src, 16);
    return ((a[0] ^ k->w[2 * i]) | (a[1] ^ k->w[2 * i + 1])) == 0 && pkt->sport == k->port[i];
}

/* Which endpoint of k (0 or 1) sent the packet. */
static inline int mw_flow_key_side(const mw_flow_key *k, const mw_packet *pkt)
{
    return mw_flow_key_sent_by(k, 0, pkt) ? 0 : 1;
}

/* Flow k was closed at ts_us (FIN, RST); span[i]: what key endpoint i sent. */
void mw_flow_table_closed(mw_flow_table *t, const mw_flow_key *k, const mw_seq_span span[2],
                          int64_t ts_us);
/* Does a packet of k, sent by key endpoint `from` with sequence number seq at now_us, belong
 * to a connection of k closed before? Within timeout_us of the close any packet does; later,
 * one whose number fits the side's span (plus MW_FLOW_CLOSED_SEQ_WINDOW). */
bool mw_flow_table_after_close(mw_flow_table *t, const mw_flow_key *k, int from, uint32_t seq,
                               int64_t now_us, int64_t timeout_us);
/* A new connection on k (a SYN): the closed one is forgotten. */
void mw_flow_table_closed_forget(mw_flow_table *t, const mw_flow_key *k);
void mw_flow_table_free(mw_flow_table *t);
void mw_flow_key_make(const mw_flow_table *t, const mw_packet *pkt, mw_flow_key *k);
mw_flow_node *mw_flow_table_lookup(const mw_flow_table *t, const mw_flow_key *k);
/* The packet's key into k (mw_flow_key_make), and its flow (mw_flow_table_lookup). */
mw_flow_node *mw_flow_table_find(const mw_flow_table *t, const mw_packet *pkt, mw_flow_key *k);
/* Look-ahead for a packet analysed soon (engine/flow.h, mw_engine_prefetch_*): its key
 * into k (as mw_flow_key_make), with the load of its home slot begun; then, once that slot
 * has had time to arrive, the load of the entry it (or one of the next few slots) holds
 * with that hash's tag begun, returned (NULL: none seen). Hints only: nothing is changed,
 * no key compared. */
void mw_flow_table_prefetch_slot(const mw_flow_table *t, const mw_packet *pkt, mw_flow_key *k);
const void *mw_flow_table_prefetch_entry(const mw_flow_table *t, uint64_t hash);
/* Add n (its key set) as the most recently active flow. */
void mw_flow_table_insert(mw_flow_table *t, mw_flow_node *n);
void mw_flow_table_remove(mw_flow_table *t, mw_flow_node *n);
/* n was active at ts: it becomes the most recent. */
void mw_flow_table_touch(mw_flow_table *t, mw_flow_node *n, int64_t ts);
/* The least recently active flow, or NULL. */
static inline mw_flow_node *mw_flow_table_oldest(const mw_flow_table *t)
{
    return t->lru_head;
}

/* A tick at a time past this closes the oldest flow as idle (engine/flow.c, expire_idle);
 * with no flow, nothing before now + idle. */
static inline int64_t mw_flow_table_idle_deadline(const mw_flow_table *t, int64_t now,
                                                  int64_t idle)
{
    const mw_flow_node *n = mw_flow_table_oldest(t);
    return (n ? n->last_ts : now) + idle;
}

#endif
