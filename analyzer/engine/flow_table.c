#include "engine/flow_table.h"
#include "engine/flow_key.h"

#include <string.h>

_Static_assert(sizeof(mw_flow_key) == 6 * sizeof(uint64_t), "a key is its hash and 5 words");

/* ---------- the map: linear probing on the seeded hash ---------- */

const mw_flow_key *mw_flow_map_find(const mw_flow_map *m, const mw_flow_key *k)
{
    return map_find(m, k);
}

/* Place k in its home slot (k is not in the map), the entries from there to the first
 * empty slot each moved one on: last come, first served. Every entry stays in the run
 * that starts at or before its home, so no search is cut short; and the newest flows,
 * which carry most of the packets (a short session is busiest just after its SYN), sit
 * nearest their home. Placed at the end of the run instead, as plain linear probing does,
 * a new flow in a table that stays near its load waits behind every older one of its run:
 * measured on the bench captures, 5.5 slots read a lookup against 2.4 the entries' mean. */
static void map_place(mw_flow_slot *slots, size_t mask, const mw_flow_key *k)
{
    const size_t home = (size_t)k->hash & mask;
    size_t e = home;
    while (slots[e])
        e = (e + 1) & mask;
    for (; e != home; e = (e - 1) & mask) {
        const size_t from = (e - 1) & mask;
        slots[e] = slot_moved(slots[from], slot_home(slots[from], from, mask), e, mask);
    }
    slots[home] = slot_make(k, 0);
}

static void map_resize(mw_flow_map *m, size_t nslots)
{
    mw_flow_slot *old = m->slots;
    const size_t oldn = old ? m->mask + 1 : 0;
    m->slots = g_new0(mw_flow_slot, nslots);
    m->mask = nslots - 1;
    for (size_t i = 0; i < oldn; i++)
        if (old[i])
            map_place(m->slots, m->mask, slot_key(old[i]));
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
    if (!m->slots[i])
        return false;
    /* Backward shift: pull each later entry of the run into the hole when the hole lies
     * between its home slot and where it is, so that no search stops early. */
    mw_flow_slot *slots = m->slots;
    const size_t mask = m->mask;
    for (size_t j = (i + 1) & mask; slots[j]; j = (j + 1) & mask) {
        const size_t home = slot_home(slots[j], j, mask);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            slots[i] = slot_moved(slots[j], home, i, mask);
            i = j;
        }
    }
    slots[i] = 0;
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
        if (m->slots[j]) {
            const size_t d = (j - slot_home(m->slots[j], j, m->mask)) & m->mask;
            g_assert(slot_home(m->slots[j], j, m->mask) ==
                     ((size_t)slot_key(m->slots[j])->hash & m->mask)); /* (tests) */
            longest = MAX(longest, d);
        }
    return longest;
}

size_t mw_flow_map_distance(const mw_flow_map *m, const mw_flow_key *k)
{
    if (!m->slots || !m->slots[map_probe(m, k)])
        return SIZE_MAX;
    return (map_probe(m, k) - ((size_t)k->hash & m->mask)) & m->mask;
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

/* SplitMix64's step: the hash's keys drawn from the seed. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

void mw_flow_table_init(mw_flow_table *t)
{
    memset(t, 0, sizeof *t);
    t->seed = (uint64_t)g_random_int() << 32 | g_random_int() | 1;
    uint64_t x = t->seed;
    for (size_t i = 0; i < G_N_ELEMENTS(t->secret); i++)
        t->secret[i] = splitmix64(&x);
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
    evicted *prev = (evicted *)map_find(&t->evicted, k);
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
    evicted *ev = (evicted *)map_find(&t->evicted, k);
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
    closed *c = (closed *)map_find(&t->closed, k);
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
    const closed *c = (const closed *)map_find(&t->closed, k);
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

void mw_flow_key_make(const mw_flow_table *t, const mw_packet *pkt, mw_flow_key *k)
{
    key_make(t, pkt, k);
}

mw_flow_node *mw_flow_table_find(const mw_flow_table *t, const mw_packet *pkt, mw_flow_key *k)
{
    return mw_flow_table_find_inline(t, pkt, k);
}

void mw_flow_table_prefetch_slot(const mw_flow_table *t, const mw_packet *pkt, mw_flow_key *k)
{
    key_make(t, pkt, k);
    if (t->map.slots)
        __builtin_prefetch(&t->map.slots[(size_t)k->hash & t->map.mask]);
}

/* How many slots from the home slot the entry's search looks at: the newest flows, which
 * carry most packets, sit at or near their home (map_place). */
#define PREFETCH_PROBE 4u

const void *mw_flow_table_prefetch_entry(const mw_flow_table *t, uint64_t hash)
{
    const mw_flow_slot *slots = t->map.slots;
    if (!slots)
        return NULL;
    const mw_flow_key probe = { .hash = hash }; /* only its hash is read (slot_may_be) */
    size_t i = (size_t)hash & t->map.mask;
    for (unsigned n = 0; n < PREFETCH_PROBE && slots[i]; n++, i = (i + 1) & t->map.mask)
        if (slot_may_be(slots[i], &probe)) {
            const mw_flow_key *k = slot_key(slots[i]);
            __builtin_prefetch(k);
            return k;
        }
    return NULL;
}

mw_flow_node *mw_flow_table_lookup(const mw_flow_table *t, const mw_flow_key *k)
{
    /* the key is the node's first member */
    return (mw_flow_node *)map_find(&t->map, k);
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
