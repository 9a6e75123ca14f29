/* Analysis on several threads (analyzer/parallel/): the symmetric flow hash that picks a
 * segment's thread, and the merger that restores the order and the ids of one thread. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "core/session.h"
#include "parallel/order.h"
#include "parallel/shard.h"

static mw_packet pkt4(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
    mw_packet p;
    memset(&p, 0, sizeof p);
    p.family = 4;
    /* IPv4 in the first four of the sixteen bytes, as mw_decode stores it */
    sscanf(src, "%hhu.%hhu.%hhu.%hhu", &p.src[0], &p.src[1], &p.src[2], &p.src[3]);
    sscanf(dst, "%hhu.%hhu.%hhu.%hhu", &p.dst[0], &p.dst[1], &p.dst[2], &p.dst[3]);
    p.sport = sport;
    p.dport = dport;
    return p;
}

static mw_packet reversed(const mw_packet *p)
{
    mw_packet r = *p;
    memcpy(r.src, p->dst, 16);
    memcpy(r.dst, p->src, 16);
    r.sport = p->dport;
    r.dport = p->sport;
    return r;
}

static void test_symmetric(void)
{
    mw_packet a = pkt4("192.0.2.10", 40000, "198.51.100.25", 25);
    mw_packet b = reversed(&a);
    g_assert_cmpuint(mw_shard_hash(&a), ==, mw_shard_hash(&b));
    for (unsigned n = 1; n <= 8; n++)
        g_assert_cmpuint(mw_shard_of(&a, n), ==, mw_shard_of(&b, n));
    /* the same addresses, ports swapped between the two: another flow, another hash */
    mw_packet c = pkt4("192.0.2.10", 25, "198.51.100.25", 40000);
    g_assert_cmpuint(mw_shard_hash(&a), !=, mw_shard_hash(&c));
    /* IPv6: sixteen bytes each way, and the same address on both ends (ports decide) */
    mw_packet v6;
    memset(&v6, 0, sizeof v6);
    v6.family = 6;
    v6.src[0] = 0x20; v6.src[1] = 0x01; v6.src[2] = 0x0d; v6.src[3] = 0xb8; v6.src[15] = 1;
    v6.dst[0] = 0x20; v6.dst[1] = 0x01; v6.dst[2] = 0x0d; v6.dst[3] = 0xb8; v6.dst[15] = 2;
    v6.sport = 51000;
    v6.dport = 993;
    mw_packet v6r = reversed(&v6);
    g_assert_cmpuint(mw_shard_hash(&v6), ==, mw_shard_hash(&v6r));
    mw_packet lo = v6;
    memcpy(lo.dst, lo.src, 16);
    mw_packet lor = reversed(&lo);
    g_assert_cmpuint(mw_shard_hash(&lo), ==, mw_shard_hash(&lor));
    /* an IPv4 and an IPv6 flow with the same bytes are not the same flow */
    mw_packet f6 = a;
    f6.family = 6;
    g_assert_cmpuint(mw_shard_hash(&a), !=, mw_shard_hash(&f6));
}

/* Many flows spread over two threads within 10% of half each. */
static void test_spread(void)
{
    unsigned on[2] = { 0, 0 };
    for (unsigned i = 0; i < 10000; i++) {
        char src[32];
        g_snprintf(src, sizeof src, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        mw_packet p = pkt4(src, (uint16_t)(1024 + i % 50000), "192.0.2.1", 587);
        on[mw_shard_of(&p, 2)]++;
    }
    g_assert_cmpuint(on[0], >, 4500);
    g_assert_cmpuint(on[1], >, 4500);
}

typedef struct {
    GPtrArray *ids;        /* "id" or "id<continues" as emitted */
} sink;

static void take(mw_session *s, void *user)
{
    sink *k = user;
    const mw_session_more *m = mw_session_more_get(s);
    g_ptr_array_add(k->ids, m->continues[0] ? g_strdup_printf("%s<%s", s->id, m->continues)
                                            : g_strdup(s->id));
    mw_session_free(s);
}

/* A session a thread started at segment g (named sG, as the engine does in parallel). */
static mw_session *sess(uint64_t g, uint64_t last)
{
    mw_session *s = mw_session_new(g);
    if (last)
        mw_session_more_of(s)->last_index = last;
    return s;
}

static mw_order_event ev(uint64_t g, mw_order_phase ph, mw_session *s)
{
    mw_order_event e = { g, ph == MW_ORDER_OWN || !s ? 0 : mw_session_more_get(s)->last_index, ph, s };
    return e;
}

static void test_merge_order(void)
{
    sink k = { g_ptr_array_new_with_free_func(g_free) };
    mw_merger *m = mw_merger_new(2, take, &k);
    /* thread 0: starts at 1 and 4; segment 6 closes the first by FIN; the second is idle
     * at 9 (its latest segment 5). thread 1: starts at 2, 3 and 7; the one of 3 is idle at
     * 9 too (latest segment 3: before the other's 5), the one of 2 ends by RST at 8, the
     * one of 7 (latest 7) is open at the end, as is thread 0's of 10 (latest 11). */
    mw_session *s4 = sess(4, 5);
    mw_session_more_of(s4); /* continues the record of segment 1 (evicted) */
    g_strlcpy(s4->more->continues, "s1", sizeof s4->more->continues);
    mw_order_event t0a[] = { ev(1, MW_ORDER_START, NULL), ev(4, MW_ORDER_START, NULL),
                             ev(6, MW_ORDER_OWN, sess(1, 6)) };
    mw_order_event t1a[] = { ev(2, MW_ORDER_START, NULL), ev(3, MW_ORDER_START, NULL) };
    mw_merger_add(m, 0, t0a, G_N_ELEMENTS(t0a), 6);
    mw_merger_add(m, 1, t1a, G_N_ELEMENTS(t1a), 5);
    /* thread 1 has told only up to 5: the close at 6 waits */
    g_assert_cmpuint(mw_merger_run(m), ==, 0);
    mw_order_event t1b[] = { ev(7, MW_ORDER_START, NULL), ev(8, MW_ORDER_OWN, sess(2, 8)),
                             ev(9, MW_ORDER_IDLE, sess(3, 3)) };
    mw_merger_add(m, 1, t1b, G_N_ELEMENTS(t1b), 9);
    g_assert_cmpuint(mw_merger_run(m), ==, 1); /* 6; 8 waits for thread 0 to tell up to 8 */
    mw_order_event t0b[] = { ev(9, MW_ORDER_IDLE, s4), ev(10, MW_ORDER_START, NULL),
                             ev(MW_ORDER_AT_END, MW_ORDER_END, sess(10, 11)) };
    mw_merger_add(m, 0, t0b, G_N_ELEMENTS(t0b), MW_ORDER_AT_END);
    g_assert_cmpuint(mw_merger_run(m), ==, 3); /* 8, both idle closes at 9; the end waits */
    mw_order_event t1c[] = { ev(MW_ORDER_AT_END, MW_ORDER_END, sess(7, 7)) };
    mw_merger_add(m, 1, t1c, G_N_ELEMENTS(t1c), MW_ORDER_AT_END);
    g_assert_cmpuint(mw_merger_run(m), ==, 2);
    g_assert_cmpuint(mw_merger_held(m), ==, 0);
    /* one thread's order: by close, idle ones least recently active first; ids by start */
    const char *want[] = { "s1", "s2", "s3", "s4<s1", "s5", "s6" };
    g_assert_cmpuint(k.ids->len, ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < k.ids->len; i++)
        g_assert_cmpstr(g_ptr_array_index(k.ids, i), ==, want[i]);
    mw_merger_free(m);
    g_ptr_array_unref(k.ids);
}

static void test_cmp(void)
{
    mw_order_event a = { 5, 0, MW_ORDER_START, NULL }, b = { 5, 0, MW_ORDER_OWN, NULL };
    mw_order_event c = { 5, 2, MW_ORDER_IDLE, NULL }, d = { 5, 4, MW_ORDER_IDLE, NULL };
    mw_order_event e = { MW_ORDER_AT_END, 1, MW_ORDER_END, NULL };
    g_assert_cmpint(mw_order_cmp(&a, &b), <, 0);
    g_assert_cmpint(mw_order_cmp(&b, &c), <, 0);
    g_assert_cmpint(mw_order_cmp(&c, &d), <, 0);
    g_assert_cmpint(mw_order_cmp(&d, &e), <, 0);
    g_assert_cmpint(mw_order_cmp(&e, &e), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/parallel/hash_symmetric", test_symmetric);
    g_test_add_func("/parallel/hash_spread", test_spread);
    g_test_add_func("/parallel/order_cmp", test_cmp);
    g_test_add_func("/parallel/merge_order", test_merge_order);
    return g_test_run();
}
