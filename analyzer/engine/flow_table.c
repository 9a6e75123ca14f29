#include "engine/flow_table.h"

#include <string.h>
/* inlined: the key has a fixed size, and the call is made for every packet */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* ---------- the map: linear probing on the seeded hash ---------- */

static inline bool key_equal(const mw_flow_key *a, const mw_flow_key *b)
{
    return memcmp(a, b, sizeof(mw_flow_key)) == 0;
}

/* The slot of k, or the empty slot where a search for it ends. */
static inline size_t map_probe(const mw_flow_map *m, const mw_flow_key *k)
{
    size_t i = (size_t)k->hash & m->mask;
    while (m->slots[i].key && (m->slots[i].hash != k->hash || !key_equal(m->slots[i].key, k)))
        i = (i + 1) & m->mask;
    return i;
}

const mw_flow_key *mw_flow_map_find(const mw_flow_map *m, const mw_flow_key *k)
{
    if (!m->slots)
        return NULL;
    return m->slots[map_probe(m, k)].key;
}

/* Place k in the first empty slot of its run (k is not in the map). */
static void map_place(mw_flow_slot *slots, size_t mask, const mw_flow_key *k)
{
    size_t i = (size_t)k->hash & mask;
    while (slots[i].key)
        i = (i + 1) & mask;
    slots[i].hash = k->hash;
    slots[i].key = k;
}

static void map_resize(mw_flow_map *m, size_t nslots)
{
    mw_flow_slot *old = m->slots;
    const size_t oldn = old ? m->mask + 1 : 0;
    m->slots = g_new0(mw_flow_slot, nslots);
    m->mask = nslots - 1;
    for (size_t i = 0; i < oldn; i++)
        if (old[i].key)
            map_place(m->slots, m->mask, old[i].key);
    g_free(old);
}

void mw_flow_map_insert(mw_flow_map *m, const mw_flow_key *k)
{
    if (!m->slots)
        map_resize(m, MW_FLOW_MAP_MIN_SLOTS);
    const size_t n = m->mask + 1;
    if ((m->used + 1) * MW_FLOW_MAP_LOAD_DEN > n * MW_FLOW_MAP_LOAD_NUM && n < MW_FLOW_MAP_MAX_SLOTS)
        map_resize(m, n * 2);
    /* At the cap the map fills on (--max-flows keeps it far from full); one slot always
     * stays empty, or a search for a missing key would never end. */
    if (m->used + 1 >= m->mask + 1)
        g_error("flow table: %zu entries, the most it can hold", m->used);
    map_place(m->slots, m->mask, k);
    m->used++;
}

bool mw_flow_map_remove(mw_flow_map *m, const mw_flow_key *k)
{
    if (!m->slots)
        return false;
    size_t i = map_probe(m, k);
    if (!m->slots[i].key)
        return false;
    /* Backward shift: pull each later entry of the run into the hole when the hole lies
     * between its home slot and where it is, so that no search stops early. */
    for (size_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
        const size_t home = (size_t)m->slots[j].hash & m->mask;
        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = NULL;
    m->slots[i].hash = 0;
    m->used--;
    return true;
}

void mw_flow_map_free(mw_flow_map *m)
{
    g_free(m->slots);
    memset(m, 0, sizeof *m);
}

size_t mw_flow_map_longest_probe(const mw_flow_map *m)
{
    size_t longest = 0;
    for (size_t j = 0; m->slots && j <= m->mask; j++)
        if (m->slots[j].key) {
            const size_t d = (j - ((size_t)m->slots[j].hash & m->mask)) & m->mask;
            longest = MAX(longest, d);
        }
    return longest;
}

/* ---------- rings of remembered flows ---------- */

static void *ring_at(const mw_flow_ring *r, size_t nth)
{
    return (char *)r->items + ((r->head + nth) % r->cap) * r->size;
}

static void *ring_oldest(const mw_flow_ring *r)
{
    return r->count ? ring_at(r, 0) : NULL;
}

static void ring_pop(mw_flow_ring *r)
{
    r->head = (r->head + 1) % r->cap;
    r->count--;
}

/* A new newest entry (the ring has room: its callers pop first); not zeroed. */
static void *ring_push(mw_flow_ring *r, size_t size, size_t cap)
{
    if (!r->items) {
        /* not zeroed: pages are touched only as entries are written */
        r->items = g_malloc(size * cap);
        r->size = size;
        r->cap = cap;
    }
    void *e = ring_at(r, r->count);
    r->count++;
    return e;
}

static void ring_free(mw_flow_ring *r)
{
    g_free(r->items);
    memset(r, 0, sizeof *r);
}

void mw_flow_table_init(mw_flow_table *t)
{
    memset(t, 0, sizeof *t);
    t->seed = (uint64_t)g_random_int() << 32 | g_random_int() | 1;
}

typedef struct {
    mw_flow_key key;
    char id[24];
    bool live; /* still in the map (false once recalled or replaced) */
} evicted;

void mw_flow_table_remember(mw_flow_table *t, const mw_flow_key *k, const char *id)
{
    evicted *old;
    while (t->evicted_order.count >= MW_FLOW_EVICTED_REMEMBERED &&
           (old = ring_oldest(&t->evicted_order))) {
        if (old->live)
            mw_flow_map_remove(&t->evicted, &old->key);
        ring_pop(&t->evicted_order);
    }
    evicted *prev = (evicted *)mw_flow_map_find(&t->evicted, k);
    if (prev) {
        mw_flow_map_remove(&t->evicted, k);
        prev->live = false;
    }
    evicted *ev = ring_push(&t->evicted_order, sizeof(evicted), MW_FLOW_EVICTED_REMEMBERED);
    memset(ev, 0, sizeof *ev);
    ev->key = *k;
    g_strlcpy(ev->id, id, sizeof ev->id);
    ev->live = true;
    mw_flow_map_insert(&t->evicted, &ev->key);
}

bool mw_flow_table_recall(mw_flow_table *t, const mw_flow_key *k, char *id)
{
    evicted *ev = (evicted *)mw_flow_map_find(&t->evicted, k);
    if (!ev)
        return false;
    g_strlcpy(id, ev->id, 24);
    mw_flow_map_remove(&t->evicted, k);
    ev->live = false;
    return true;
}

typedef struct {
    mw_flow_key key;
    mw_seq_span span[2];
    int64_t closed_us;
    bool live; /* still in the map (false once forgotten or replaced) */
} closed;

/* Forget the oldest closed connections: over the cap, or older than max_age_us (< 0: age
 * not checked). */
static void closed_expire(mw_flow_table *t, int64_t now_us, int64_t max_age_us)
{
    closed *old;
    while ((old = ring_oldest(&t->closed_order)) &&
           (t->closed_order.count >= MW_FLOW_CLOSED_REMEMBERED || !old->live ||
            (max_age_us >= 0 && now_us - old->closed_us > max_age_us))) {
        if (old->live)
            mw_flow_map_remove(&t->closed, &old->key);
        ring_pop(&t->closed_order);
    }
}

void mw_flow_table_closed(mw_flow_table *t, const mw_flow_key *k, const mw_seq_span span[2],
                          int64_t ts_us)
{
    closed_expire(t, ts_us, -1);
    mw_flow_table_closed_forget(t, k);
    closed *c = ring_push(&t->closed_order, sizeof(closed), MW_FLOW_CLOSED_REMEMBERED);
    memset(c, 0, sizeof *c);
    c->key = *k;
    c->span[0] = span[0];
    c->span[1] = span[1];
    c->closed_us = ts_us;
    c->live = true;
    mw_flow_map_insert(&t->closed, &c->key);
}

void mw_flow_table_closed_forget(mw_flow_table *t, const mw_flow_key *k)
{
    closed *c = (closed *)mw_flow_map_find(&t->closed, k);
    if (!c)
        return;
    mw_flow_map_remove(&t->closed, k);
    c->live = false; /* dropped when it is the oldest in the ring */
}

bool mw_flow_table_after_close(mw_flow_table *t, const mw_flow_key *k, int from, uint32_t seq,
                               int64_t now_us, int64_t timeout_us)
{
    if (!t->closed_order.count)
        return false;
    closed_expire(t, now_us, timeout_us > INT64_MAX / 2 ? INT64_MAX : 2 * timeout_us);
    const closed *c = (const closed *)mw_flow_map_find(&t->closed, k);
    if (!c)
        return false;
    if (now_us - c->closed_us <= timeout_us)
        return true;
    const mw_seq_span *sp = &c->span[from & 1];
    return sp->known && seq - sp->lo <= (sp->hi - sp->lo) + MW_FLOW_CLOSED_SEQ_WINDOW;
}

void mw_flow_table_free(mw_flow_table *t)
{
    mw_flow_map_free(&t->map);
    mw_flow_map_free(&t->evicted);
    ring_free(&t->evicted_order);
    mw_flow_map_free(&t->closed);
    ring_free(&t->closed_order);
    memset(t, 0, sizeof *t);
}

/* The hash is made here from the packet's own fields: hashing the key just built would read
 * it back in words that straddle the smaller stores that wrote it, a store-forwarding stall
 * on every packet. */
void mw_flow_key_make(const mw_flow_table *t, const mw_packet *pkt, mw_flow_key *k)
{
    memset(k, 0, sizeof *k);
    k->family = pkt->family;
    int c = memcmp(pkt->src, pkt->dst, 16);
    bool lo = c < 0 || (c == 0 && pkt->sport <= pkt->dport);
    memcpy(k->addr[lo ? 0 : 1], pkt->src, 16);
    memcpy(k->addr[lo ? 1 : 0], pkt->dst, 16);
    k->port[lo ? 0 : 1] = pkt->sport;
    k->port[lo ? 1 : 0] = pkt->dport;
    const uint64_t ports = (uint64_t)k->port[0] << 16 | k->port[1] | (uint64_t)pkt->family << 32;
    k->hash = XXH3_64bits_withSeed(lo ? pkt->src : pkt->dst, 16,
                                   XXH3_64bits_withSeed(lo ? pkt->dst : pkt->src, 16,
                                                        t->seed ^ ports));
}

mw_flow_node *mw_flow_table_lookup(const mw_flow_table *t, const mw_flow_key *k)
{
    /* the key is the node's first member */
    return (mw_flow_node *)mw_flow_map_find(&t->map, k);
}

static void lru_unlink(mw_flow_table *t, mw_flow_node *n)
{
    if (n->lru_prev)
        n->lru_prev->lru_next = n->lru_next;
    else
        t->lru_head = n->lru_next;
    if (n->lru_next)
        n->lru_next->lru_prev = n->lru_prev;
    else
        t->lru_tail = n->lru_prev;
    n->lru_prev = n->lru_next = NULL;
}

static void lru_append(mw_flow_table *t, mw_flow_node *n)
{
    n->lru_prev = t->lru_tail;
    n->lru_next = NULL;
    if (t->lru_tail)
        t->lru_tail->lru_next = n;
    else
        t->lru_head = n;
    t->lru_tail = n;
}

void mw_flow_table_insert(mw_flow_table *t, mw_flow_node *n)
{
    mw_flow_map_insert(&t->map, &n->key);
    lru_append(t, n);
    if (++t->live > t->peak)
        t->peak = t->live;
}

void mw_flow_table_remove(mw_flow_table *t, mw_flow_node *n)
{
    lru_unlink(t, n);
    mw_flow_map_remove(&t->map, &n->key);
    t->live--;
}

void mw_flow_table_touch(mw_flow_table *t, mw_flow_node *n, int64_t ts)
{
    n->last_ts = ts;
    if (t->lru_tail != n) {
        lru_unlink(t, n);
        lru_append(t, n);
    }
}
