/* The flow table's open-addressing map: insert, find, remove with backward shift (every
 * remaining key still found, in any removal order), growth, per-table seeds, and flows a
 * sender can shape (one client address, every port; one port pair, many addresses) staying
 * in short probe runs. Also the rings of remembered closed and evicted flows. */
#include <glib.h>
#include <string.h>

#include "engine/flow_table.h"

typedef struct {
    mw_flow_node node; /* first: the key the map points at */
    unsigned n;
} entry;

/* client 10.0.x.y:cport <-> server 172.16.0.1:25 */
static mw_packet pkt_of(uint32_t client, uint16_t cport, uint16_t sport)
{
    mw_packet p;
    memset(&p, 0, sizeof p);
    p.family = 4;
    p.src[0] = 10, p.src[1] = (uint8_t)(client >> 16), p.src[2] = (uint8_t)(client >> 8);
    p.src[3] = (uint8_t)client;
    p.dst[0] = 172, p.dst[1] = 16, p.dst[3] = 1;
    p.sport = cport;
    p.dport = sport;
    return p;
}

static entry *make_entries(mw_flow_table *t, unsigned n, bool same_ports)
{
    entry *e = g_new0(entry, n);
    for (unsigned i = 0; i < n; i++) {
        /* same_ports: one port pair, the clients differ in their address only; else one
         * client address and its ports (what a SYN flood from one host looks like) */
        mw_packet p = same_ports ? pkt_of(i, 40000, 25)
                                 : pkt_of(0, (uint16_t)(1024 + i % 64000), (uint16_t)(25 + i / 64000));
        mw_flow_key_make(t, &p, &e[i].node.key);
        e[i].n = i;
    }
    return e;
}

static void check_all(const mw_flow_table *t, entry *e, unsigned n, const bool *present)
{
    for (unsigned i = 0; i < n; i++) {
        mw_flow_node *got = mw_flow_table_lookup(t, &e[i].node.key);
        if (present[i])
            g_assert_true(got == &e[i].node);
        else
            g_assert_null(got);
    }
}

static void test_insert_find_remove(void)
{
    enum { N = 20000 };
    mw_flow_table t;
    mw_flow_table_init(&t);
    entry *e = make_entries(&t, N, false);
    bool *present = g_new0(bool, N);
    for (unsigned i = 0; i < N; i++) {
        mw_flow_table_insert(&t, &e[i].node);
        present[i] = true;
    }
    g_assert_cmpuint(t.live, ==, N);
    g_assert_cmpuint(t.map.used, ==, N);
    /* grown by doubling, never over the load bound */
    g_assert_cmpuint((t.map.mask + 1) & t.map.mask, ==, 0);
    g_assert_cmpuint(t.map.used * MW_FLOW_MAP_LOAD_DEN, <=, (t.map.mask + 1) * MW_FLOW_MAP_LOAD_NUM);
    check_all(&t, e, N, present);
    /* remove in a random order: backward shift must leave every other key reachable */
    GRand *r = g_rand_new_with_seed(18);
    for (unsigned round = 0; round < 4; round++) {
        for (unsigned k = 0; k < N / 8; k++) {
            unsigned i = (unsigned)g_rand_int_range(r, 0, N);
            if (!present[i])
                continue;
            mw_flow_table_remove(&t, &e[i].node);
            present[i] = false;
        }
        check_all(&t, e, N, present);
        mw_flow_map_longest_probe(&t.map); /* (checks every entry's distance) */
    }
    /* and put some back */
    for (unsigned i = 0; i < N; i += 3)
        if (!present[i]) {
            mw_flow_table_insert(&t, &e[i].node);
            present[i] = true;
        }
    check_all(&t, e, N, present);
    g_rand_free(r);
    for (unsigned i = 0; i < N; i++)
        if (present[i])
            mw_flow_table_remove(&t, &e[i].node);
    g_assert_cmpuint(t.map.used, ==, 0);
    g_assert_null(mw_flow_table_oldest(&t));
    mw_flow_table_free(&t);
    g_free(present);
    g_free(e);
}

/* Last come, first served: each key inserted takes its home slot (the run moves on), so the
 * newest flows, the busiest, are found at the first slot read; the older ones are all still
 * found, through growth and removals. */
static void test_newest_at_home(void)
{
    enum { N = 20000 };
    mw_flow_table t;
    mw_flow_table_init(&t);
    entry *e = make_entries(&t, N, false);
    bool *present = g_new0(bool, N);
    size_t pushed = 0;
    for (unsigned i = 0; i < N; i++) {
        mw_flow_table_insert(&t, &e[i].node);
        present[i] = true;
        g_assert_cmpuint(mw_flow_map_distance(&t.map, &e[i].node.key), ==, 0);
        if (i % 2 == 1) { /* churn: the table stays near its load */
            mw_flow_table_remove(&t, &e[i / 2].node);
            present[i / 2] = false;
        }
    }
    for (unsigned i = 0; i < N; i++)
        if (present[i])
            pushed += mw_flow_map_distance(&t.map, &e[i].node.key) > 0;
    g_assert_cmpuint(pushed, >, 0); /* collisions happened: some older keys moved on */
    g_assert_cmpuint(mw_flow_map_distance(&t.map, &e[0].node.key), ==, SIZE_MAX);
    check_all(&t, e, N, present);
    mw_flow_table_free(&t);
    g_free(present);
    g_free(e);
}

/* Slots keep each entry's distance from its home (up to a cap, past which the entry's hash
 * is read): keys made to share a few home slots push entries far past the cap, and every
 * insert, removal and move must keep the distances true (mw_flow_map_longest_probe checks
 * each against the hash) and every key found. */
static void test_long_runs_keep_distances(void)
{
    enum { N = 1500 };
    mw_flow_map m = { 0 };
    mw_flow_key *k = g_new0(mw_flow_key, N);
    bool *in = g_new0(bool, N);
    GRand *r = g_rand_new_with_seed(255);
    for (unsigned i = 0; i < N; i++) {
        k[i].w[0] = i + 1; /* distinct keys */
        /* four home slots, any tag: runs of hundreds */
        k[i].hash = (uint64_t)g_rand_int(r) << 32 | (i % 4) * 7;
        mw_flow_map_insert(&m, &k[i]);
        in[i] = true;
    }
    g_assert_cmpuint(mw_flow_map_longest_probe(&m), >, 600);
    for (unsigned round = 0; round < 6; round++) {
        for (unsigned n = 0; n < N / 4; n++) {
            unsigned i = (unsigned)g_rand_int_range(r, 0, N);
            if (in[i])
                g_assert_true(mw_flow_map_remove(&m, &k[i]));
            else
                mw_flow_map_insert(&m, &k[i]);
            in[i] = !in[i];
        }
        mw_flow_map_longest_probe(&m);
        for (unsigned i = 0; i < N; i++)
            g_assert_true(mw_flow_map_find(&m, &k[i]) == (in[i] ? &k[i] : NULL));
    }
    g_rand_free(r);
    mw_flow_map_free(&m);
    g_free(in);
    g_free(k);
}

/* Keys a sender chooses (ports in sequence, addresses in sequence) spread like random ones:
 * the hash is seeded per table, so no run of slots grows long. At the 3/4 .. 7/8 load 10^5
 * keys reach, linear probing's longest displacement is a few hundred slots at most (about
 * ln n / (a - 1 - ln a), some 330 at a = 0.76; 120..190 measured); a hash that kept the
 * keys' structure, or one the sender could predict, piles them into one run as long as
 * the table (every insert and lookup walks it: quadratic). */
static void test_colliding_ports_stay_short(void)
{
    enum { N = 100000 };
    for (int same_ports = 0; same_ports < 2; same_ports++) {
        mw_flow_table t;
        mw_flow_table_init(&t);
        entry *e = make_entries(&t, N, same_ports);
        for (unsigned i = 0; i < N; i++)
            mw_flow_table_insert(&t, &e[i].node);
        size_t longest = mw_flow_map_longest_probe(&t.map);
        g_test_message("%s: %zu slots, longest probe %zu", same_ports ? "same ports" : "one host",
                       t.map.mask + 1, longest);
        g_assert_cmpuint(longest, <, 1000);
        mw_flow_table_free(&t);
        g_free(e);
    }
}

static void test_seeded_per_table(void)
{
    mw_flow_table a, b;
    mw_flow_table_init(&a);
    mw_flow_table_init(&b);
    g_assert_cmpuint(a.seed, !=, b.seed);
    mw_packet p = pkt_of(1, 1025, 25);
    mw_flow_key ka, kb;
    mw_flow_key_make(&a, &p, &ka);
    mw_flow_key_make(&b, &p, &kb);
    g_assert_cmpuint(ka.hash, !=, kb.hash);
    /* both directions make the same key */
    mw_packet q = p;
    memcpy(q.src, p.dst, 16), memcpy(q.dst, p.src, 16);
    q.sport = p.dport, q.dport = p.sport;
    mw_flow_key kq;
    mw_flow_key_make(&a, &q, &kq);
    g_assert_cmpmem(&ka, sizeof ka, &kq, sizeof kq);
    /* find: the key made and the flow looked up in one call, from either direction */
    entry en = { .n = 1 };
    en.node.key = ka;
    mw_flow_key kf;
    g_assert_null(mw_flow_table_find(&a, &q, &kf));
    mw_flow_table_insert(&a, &en.node);
    g_assert_true(mw_flow_table_find(&a, &q, &kf) == &en.node);
    g_assert_cmpmem(&kf, sizeof kf, &ka, sizeof ka);
    g_assert_true(mw_flow_table_find(&a, &p, &kf) == &en.node);
    g_assert_null(mw_flow_table_find(&b, &p, &kf));
    mw_flow_table_remove(&a, &en.node);
    mw_flow_table_free(&a);
    mw_flow_table_free(&b);
}

/* The key orders its endpoints as memcmp orders (address, port) — the first half of an
 * IPv6 address decides before the second, then the port — and a packet's side follows. */
static void test_key_order_as_memcmp(void)
{
    mw_flow_table t;
    mw_flow_table_init(&t);
    GRand *r = g_rand_new_with_seed(7);
    for (unsigned n = 0; n < 20000; n++) {
        mw_packet p;
        memset(&p, 0, sizeof p);
        p.family = n % 2 ? 6 : 4;
        for (int i = 0; i < 16; i++) { /* few values: equal halves and bytes are common */
            p.src[i] = (uint8_t)g_rand_int_range(r, 0, 3);
            p.dst[i] = (uint8_t)(g_rand_boolean(r) ? p.src[i] : g_rand_int_range(r, 0, 3));
        }
        p.sport = (uint16_t)g_rand_int_range(r, 0, 3);
        p.dport = (uint16_t)g_rand_int_range(r, 0, 3);
        mw_flow_key k, kq;
        mw_flow_key_make(&t, &p, &k);
        int c = memcmp(p.src, p.dst, 16);
        bool lo = c < 0 || (c == 0 && p.sport <= p.dport);
        g_assert_cmpmem(k.addr[0], 16, lo ? p.src : p.dst, 16);
        g_assert_cmpmem(k.addr[1], 16, lo ? p.dst : p.src, 16);
        g_assert_cmpuint(k.port[0], ==, lo ? p.sport : p.dport);
        g_assert_cmpuint(k.port[1], ==, lo ? p.dport : p.sport);
        g_assert_cmpuint(k.family, ==, p.family);
        g_assert_cmpuint(k.pad[0] | k.pad[1] | k.pad[2], ==, 0);
        g_assert_cmpint(mw_flow_key_side(&k, &p), ==, lo ? 0 : 1);
        mw_packet q = p;
        memcpy(q.src, p.dst, 16), memcpy(q.dst, p.src, 16);
        q.sport = p.dport, q.dport = p.sport;
        mw_flow_key_make(&t, &q, &kq);
        g_assert_cmpmem(&k, sizeof k, &kq, sizeof kq);
    }
    g_rand_free(r);
    mw_flow_table_free(&t);
}

/* The rings: the oldest is forgotten over the cap, a recall forgets, a forgotten closed flow
 * is no longer "after close". */
static void test_remembered_rings(void)
{
    mw_flow_table t;
    mw_flow_table_init(&t);
    enum { N = MW_FLOW_EVICTED_REMEMBERED + 100 };
    entry *e = make_entries(&t, N, false);
    char id[24];
    for (unsigned i = 0; i < N; i++) {
        g_snprintf(id, sizeof id, "s%u", i);
        mw_flow_table_remember(&t, &e[i].node.key, id);
    }
    g_assert_false(mw_flow_table_recall(&t, &e[99].node.key, id)); /* the oldest went */
    g_assert_true(mw_flow_table_recall(&t, &e[100].node.key, id));
    g_assert_cmpstr(id, ==, "s100");
    g_assert_false(mw_flow_table_recall(&t, &e[100].node.key, id)); /* recalled once */
    g_assert_true(mw_flow_table_recall(&t, &e[N - 1].node.key, id));
    /* remembered again: the newer id wins */
    mw_flow_table_remember(&t, &e[200].node.key, "again");
    g_assert_true(mw_flow_table_recall(&t, &e[200].node.key, id));
    g_assert_cmpstr(id, ==, "again");

    const mw_seq_span span[2] = { { .known = true, .lo = 1000, .hi = 2000 },
                                  { .known = true, .lo = 5000, .hi = 6000 } };
    const int64_t timeout = 1000000;
    for (unsigned i = 0; i < MW_FLOW_CLOSED_REMEMBERED + 10; i++)
        mw_flow_table_closed(&t, &e[i].node.key, span, (int64_t)i);
    int64_t now = MW_FLOW_CLOSED_REMEMBERED + 20;
    g_assert_false(mw_flow_table_after_close(&t, &e[0].node.key, 0, 1500, now, timeout));
    g_assert_true(mw_flow_table_after_close(&t, &e[20].node.key, 0, 1, now, timeout));
    mw_flow_table_closed_forget(&t, &e[20].node.key);
    g_assert_false(mw_flow_table_after_close(&t, &e[20].node.key, 0, 1, now, timeout));
    /* past the timeout, only sequence numbers in the side's span (and window) belong */
    now += timeout + 1;
    g_assert_true(mw_flow_table_after_close(&t, &e[30].node.key, 1, 5500, now, timeout));
    g_assert_false(mw_flow_table_after_close(&t, &e[30].node.key, 1, 5000u + (3u << 20), now,
                                             timeout));
    /* past twice the timeout, all are forgotten */
    now += 2 * timeout;
    g_assert_false(mw_flow_table_after_close(&t, &e[30].node.key, 1, 5500, now, timeout));
    g_assert_cmpuint(t.closed.used, ==, 0);
    mw_flow_table_free(&t);
    g_free(e);
}

/* The look-ahead's helpers (parallel/worker.c): the key prefetch_slot makes is the one
 * mw_flow_key_make makes, and prefetch_entry, given its hash, points at that flow's entry
 * (every flow near its home here) or at nothing for a flow never inserted. */
static void test_prefetch_helpers(void)
{
    enum { N = 2000 };
    mw_flow_table t;
    mw_flow_table_init(&t);
    g_assert_null(mw_flow_table_prefetch_entry(&t, 1)); /* no slots yet */
    entry *e = make_entries(&t, N, false);
    for (unsigned i = 0; i < N; i++)
        mw_flow_table_insert(&t, &e[i].node);
    unsigned found = 0;
    for (unsigned i = 0; i < N; i++) {
        mw_packet p = pkt_of(0, (uint16_t)(1024 + i % 64000), (uint16_t)(25 + i / 64000));
        mw_flow_key k;
        mw_flow_table_prefetch_slot(&t, &p, &k);
        g_assert_cmpmem(&k, sizeof k, &e[i].node.key, sizeof e[i].node.key);
        const void *hint = mw_flow_table_prefetch_entry(&t, k.hash);
        if (mw_flow_map_distance(&t.map, &k) < 4 && hint == &e[i].node)
            found++;
    }
    g_assert_cmpuint(found, >, N * 9 / 10); /* a tag shared with an earlier entry: the rest */
    mw_packet stranger = pkt_of(7, 9, 9);
    mw_flow_key k;
    mw_flow_table_prefetch_slot(&t, &stranger, &k);
    g_assert_null(mw_flow_table_lookup(&t, &k));
    mw_flow_table_free(&t);
    g_free(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/flow_table/insert_find_remove", test_insert_find_remove);
    g_test_add_func("/flow_table/newest_at_home", test_newest_at_home);
    g_test_add_func("/flow_table/long_runs_keep_distances", test_long_runs_keep_distances);
    g_test_add_func("/flow_table/colliding_ports_stay_short", test_colliding_ports_stay_short);
    g_test_add_func("/flow_table/seeded_per_table", test_seeded_per_table);
    g_test_add_func("/flow_table/key_order_as_memcmp", test_key_order_as_memcmp);
    g_test_add_func("/flow_table/remembered_rings", test_remembered_rings);
    g_test_add_func("/flow_table/prefetch_helpers", test_prefetch_helpers);
    return g_test_run();
}
