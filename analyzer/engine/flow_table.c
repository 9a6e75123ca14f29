#include "engine/flow_table.h"

#include <string.h>
/* inlined: the key has a fixed size, and the call is made for every packet */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* The hash is made in mw_flow_key_make from the packet's own fields: hashing the key just
 * built would read it back in words that straddle the smaller stores that wrote it, a
 * store-forwarding stall on every packet. */
static guint key_hash(gconstpointer k)
{
    const uint64_t h = ((const mw_flow_key *)k)->hash;
    return (guint)(h ^ (h >> 32));
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(mw_flow_key)) == 0;
}

void mw_flow_table_init(mw_flow_table *t)
{
    memset(t, 0, sizeof *t);
    t->seed = (uint64_t)g_random_int() << 32 | g_random_int() | 1;
    t->map = g_hash_table_new(key_hash, key_equal);
}

typedef struct {
    mw_flow_key key;
    char id[24];
    bool live; /* still in the map (false once recalled) */
} evicted;

void mw_flow_table_remember(mw_flow_table *t, const mw_flow_key *k, const char *id)
{
    if (!t->evicted)
        t->evicted = g_hash_table_new(key_hash, key_equal);
    while (t->evicted_order.length >= MW_FLOW_EVICTED_REMEMBERED) {
        evicted *old = g_queue_pop_head(&t->evicted_order);
        if (old->live)
            g_hash_table_remove(t->evicted, &old->key);
        g_free(old);
    }
    evicted *prev = g_hash_table_lookup(t->evicted, k);
    if (prev) {
        g_hash_table_remove(t->evicted, k);
        prev->live = false;
    }
    evicted *ev = g_new0(evicted, 1);
    ev->key = *k;
    g_strlcpy(ev->id, id, sizeof ev->id);
    ev->live = true;
    g_hash_table_insert(t->evicted, &ev->key, ev);
    g_queue_push_tail(&t->evicted_order, ev);
}

bool mw_flow_table_recall(mw_flow_table *t, const mw_flow_key *k, char *id)
{
    evicted *ev = t->evicted ? g_hash_table_lookup(t->evicted, k) : NULL;
    if (!ev)
        return false;
    g_strlcpy(id, ev->id, 24);
    g_hash_table_remove(t->evicted, k);
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
    while ((old = g_queue_peek_head(&t->closed_order)) &&
           (t->closed_order.length >= MW_FLOW_CLOSED_REMEMBERED || !old->live ||
            (max_age_us >= 0 && now_us - old->closed_us > max_age_us))) {
        g_queue_pop_head(&t->closed_order);
        if (old->live)
            g_hash_table_remove(t->closed, &old->key);
        g_free(old);
    }
}

void mw_flow_table_closed(mw_flow_table *t, const mw_flow_key *k, const mw_seq_span span[2],
                          int64_t ts_us)
{
    if (!t->closed)
        t->closed = g_hash_table_new(key_hash, key_equal);
    closed_expire(t, ts_us, -1);
    mw_flow_table_closed_forget(t, k);
    closed *c = g_new0(closed, 1);
    c->key = *k;
    c->span[0] = span[0];
    c->span[1] = span[1];
    c->closed_us = ts_us;
    c->live = true;
    g_hash_table_insert(t->closed, &c->key, c);
    g_queue_push_tail(&t->closed_order, c);
}

void mw_flow_table_closed_forget(mw_flow_table *t, const mw_flow_key *k)
{
    closed *c = t->closed ? g_hash_table_lookup(t->closed, k) : NULL;
    if (!c)
        return;
    g_hash_table_remove(t->closed, k);
    c->live = false; /* freed when it reaches the head of the queue */
}

bool mw_flow_table_after_close(mw_flow_table *t, const mw_flow_key *k, int from, uint32_t seq,
                               int64_t now_us, int64_t timeout_us)
{
    if (!t->closed)
        return false;
    closed_expire(t, now_us, timeout_us > INT64_MAX / 2 ? INT64_MAX : 2 * timeout_us);
    const closed *c = g_hash_table_lookup(t->closed, k);
    if (!c)
        return false;
    if (now_us - c->closed_us <= timeout_us)
        return true;
    const mw_seq_span *sp = &c->span[from & 1];
    return sp->known && seq - sp->lo <= (sp->hi - sp->lo) + MW_FLOW_CLOSED_SEQ_WINDOW;
}

void mw_flow_table_free(mw_flow_table *t)
{
    if (t->map)
        g_hash_table_destroy(t->map);
    if (t->evicted)
        g_hash_table_destroy(t->evicted);
    g_queue_clear_full(&t->evicted_order, g_free);
    if (t->closed)
        g_hash_table_destroy(t->closed);
    g_queue_clear_full(&t->closed_order, g_free);
    memset(t, 0, sizeof *t);
}

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
    return g_hash_table_lookup(t->map, k);
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
    g_hash_table_insert(t->map, &n->key, n);
    lru_append(t, n);
    if (++t->live > t->peak)
        t->peak = t->live;
}

void mw_flow_table_remove(mw_flow_table *t, mw_flow_node *n)
{
    lru_unlink(t, n);
    g_hash_table_remove(t->map, &n->key);
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
