/* IPv4/IPv6 fragment reassembly (input/defrag.c): every order, overlaps, duplicates,
 * missing pieces, the caps, the RFC 1858 attacks, and IPv6 extension headers in front of
 * the fragment header. Fragments are real packets, decoded by mw_decode_ip. */
#include <glib.h>
#include <string.h>

#include "input/decode.h"
#include "input/defrag.h"

#define S 1000000 /* a second, in microseconds */

/* The datagram: a TCP header (40000 -> 25, seq 7) and 48 bytes of payload. */
static void datagram(uint8_t *d, size_t *len)
{
    memset(d, 0, 20);
    d[0] = 0x9c; d[1] = 0x40; d[2] = 0; d[3] = 25; d[7] = 7; d[12] = 0x50; d[13] = 0x18;
    memcpy(d + 20, "MAIL FROM:<alice@example.test>\r\nRCPT TO:<b@x>\r\n", 48);
    *len = 68;
}

/* An IPv4 fragment at offset off carrying n bytes from piece, id, MF as given, into out;
 * its length. */
static size_t frag4(uint8_t *out, const uint8_t *piece, uint32_t off, size_t n, bool more,
                    uint16_t id)
{
    size_t total = 20 + n;
    memset(out, 0, 20);
    out[0] = 0x45; out[2] = (uint8_t)(total >> 8); out[3] = (uint8_t)total;
    out[4] = (uint8_t)(id >> 8); out[5] = (uint8_t)id;
    uint16_t fo = (uint16_t)(off / 8) | (more ? 0x2000 : 0);
    out[6] = (uint8_t)(fo >> 8); out[7] = (uint8_t)fo;
    out[8] = 64; out[9] = 6;
    out[12] = 10; out[15] = 1; out[16] = 10; out[19] = 2;
    memcpy(out + 20, piece, n);
    return total;
}

typedef struct {
    mw_defrag *d;
    uint64_t drops[MW_DROP_COUNT];
    mw_packet out;
    mw_decode_status ds;
} fx;

static void fx_init(fx *f, size_t max_dg, size_t max_bytes)
{
    memset(f, 0, sizeof *f);
    mw_defrag_limits lim = { max_dg, max_bytes, 30 * (int64_t)S };
    f->d = mw_defrag_new(&lim, f->drops);
}

/* Decode the IPv4 fragment and offer it: did it complete the datagram? */
static bool offer(fx *f, const uint8_t *pkt, size_t len, int64_t ts)
{
    mw_packet p;
    g_assert_cmpint(mw_decode_ip(pkt, len, &p), ==, MW_DECODE_FRAGMENT);
    return mw_defrag_offer(f->d, &p, ts, &f->out, &f->ds);
}

static void assert_whole(fx *f, const uint8_t *dg)
{
    g_assert_cmpint(f->ds, ==, MW_DECODE_TCP);
    g_assert_cmpuint(f->out.family, ==, 4);
    g_assert_cmpuint(f->out.dport, ==, 25);
    g_assert_cmpuint(f->out.seq, ==, 7);
    g_assert_cmpuint(f->out.payload_len, ==, 48);
    g_assert_cmpmem(f->out.payload, 48, dg + 20, 48);
}

/* Three pieces: [0,24) [24,48) [48,68), offered in `order`. */
static void run_order(const int order[3], bool *overlap)
{
    uint8_t dg[68], pkt[3][100];
    size_t dlen, len[3];
    datagram(dg, &dlen);
    len[0] = frag4(pkt[0], dg + 0, 0, 24, true, 9);
    len[1] = frag4(pkt[1], dg + 24, 24, 24, true, 9);
    len[2] = frag4(pkt[2], dg + 48, 48, 20, false, 9);
    fx f;
    fx_init(&f, 16, 1 << 20);
    for (int i = 0; i < 3; i++)
        g_assert_cmpint(offer(&f, pkt[order[i]], len[order[i]], i), ==, i == 2);
    assert_whole(&f, dg);
    *overlap = f.out.frag_overlap;
    g_assert_cmpuint(mw_defrag_stats_get(f.d)->datagrams, ==, 1);
    g_assert_cmpuint(mw_defrag_stats_get(f.d)->fragments, ==, 3);
    g_assert_cmpuint(mw_defrag_stats_get(f.d)->in_progress, ==, 0);
    mw_defrag_free(f.d);
}

static void test_orders(void)
{
    static const int orders[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 }, { 2, 0, 1 } };
    for (size_t i = 0; i < G_N_ELEMENTS(orders); i++) {
        bool ov;
        run_order(orders[i], &ov);
        g_assert_false(ov);
    }
}

static void test_duplicate_and_overlap(void)
{
    uint8_t dg[68], bad[68], pkt[100];
    size_t dlen, n;
    datagram(dg, &dlen);
    memcpy(bad, dg, sizeof bad);
    memcpy(bad + 24, "XXXX", 4); /* what a second copy of bytes 24..27 says instead */
    fx f;
    fx_init(&f, 16, 1 << 20);
    n = frag4(pkt, dg + 0, 0, 24, true, 5);
    g_assert_false(offer(&f, pkt, n, 0));
    g_assert_false(offer(&f, pkt, n, 1)); /* the same again: a duplicate */
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_DUPLICATE], ==, 1);
    n = frag4(pkt, dg + 24, 24, 24, true, 5);
    g_assert_false(offer(&f, pkt, n, 2));
    n = frag4(pkt, bad + 24, 24, 8, true, 5); /* nothing new, and it differs */
    g_assert_false(offer(&f, pkt, n, 3));
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_OVERLAP], ==, 1);
    n = frag4(pkt, bad + 24, 24, 44, false, 5); /* differs in 24..27, brings 48..67: held */
    g_assert_true(offer(&f, pkt, n, 4));
    assert_whole(&f, dg); /* the first copy won */
    g_assert_true(f.out.frag_overlap);
    g_assert_cmpuint(mw_defrag_stats_get(f.d)->overlaps, ==, 1);
    mw_defrag_free(f.d);
}

static void test_missing_piece_expires(void)
{
    uint8_t dg[68], pkt[100];
    size_t dlen, n;
    datagram(dg, &dlen);
    fx f;
    fx_init(&f, 16, 1 << 20);
    n = frag4(pkt, dg + 0, 0, 24, true, 1);
    g_assert_false(offer(&f, pkt, n, 0));
    n = frag4(pkt, dg + 48, 48, 20, false, 1);
    g_assert_false(offer(&f, pkt, n, 1));
    mw_defrag_expire(f.d, 29 * (int64_t)S);
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_EXPIRED], ==, 0);
    mw_defrag_expire(f.d, 31 * (int64_t)S);
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_EXPIRED], ==, 2);
    g_assert_cmpuint(mw_defrag_stats_get(f.d)->in_progress, ==, 0);
    g_assert_cmpuint(mw_defrag_stats_get(f.d)->bytes_held, ==, 0);
    /* and at the end of input, what is still held expires too */
    g_assert_false(offer(&f, pkt, n, 40 * (int64_t)S));
    mw_defrag_finish(f.d);
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_EXPIRED], ==, 3);
    mw_defrag_free(f.d);
}

static void test_caps(void)
{
    uint8_t dg[68], pkt[100];
    size_t dlen, n;
    datagram(dg, &dlen);
    fx f;
    fx_init(&f, 2, 1 << 20); /* two datagrams in progress at most */
    for (uint16_t id = 1; id <= 3; id++) {
        n = frag4(pkt, dg + 0, 0, 24, true, id);
        g_assert_false(offer(&f, pkt, n, id));
    }
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_CAP], ==, 1); /* the oldest went */
    g_assert_cmpuint(mw_defrag_stats_get(f.d)->in_progress, ==, 2);
    mw_defrag_free(f.d);
    fx_init(&f, 100, 5000); /* bytes: each datagram's buffer is 2 KiB and more */
    for (uint16_t id = 1; id <= 3; id++) {
        n = frag4(pkt, dg + 0, 0, 24, true, id);
        g_assert_false(offer(&f, pkt, n, id));
        g_assert_cmpuint(mw_defrag_stats_get(f.d)->bytes_held, <=, 5000);
    }
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_CAP], >=, 1);
    mw_defrag_free(f.d);
}

static void test_rfc1858(void)
{
    uint8_t dg[68], pkt[100];
    size_t dlen, n;
    datagram(dg, &dlen);
    fx f;
    fx_init(&f, 16, 1 << 20);
    /* tiny first fragment: 8 bytes, the TCP flags are in the next one */
    n = frag4(pkt, dg + 0, 0, 8, true, 1);
    g_assert_false(offer(&f, pkt, n, 0));
    n = frag4(pkt, dg + 8, 8, 60, false, 1);
    g_assert_false(offer(&f, pkt, n, 1));
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_TINY], ==, 2); /* the whole datagram refused */
    /* a fragment at offset 8 rewriting the TCP header's flags of a proper first one */
    n = frag4(pkt, dg + 0, 0, 24, true, 2);
    g_assert_false(offer(&f, pkt, n, 2));
    n = frag4(pkt, dg + 8, 8, 60, false, 2);
    g_assert_false(offer(&f, pkt, n, 3));
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_TCP_OVERLAP], ==, 2);
    /* larger than any datagram: refused */
    n = frag4(pkt, dg, 65528, 16, false, 3);
    g_assert_false(offer(&f, pkt, n, 4));
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_BAD], ==, 1);
    mw_defrag_finish(f.d);
    g_assert_cmpuint(f.drops[MW_DROP_FRAG_EXPIRED], ==, 0); /* refused ones were counted */
    mw_defrag_free(f.d);
}

/* IPv6: hop-by-hop and destination options, then the fragment header, then TCP. */
static size_t frag6(uint8_t *out, const uint8_t *dg, uint32_t off, size_t n, bool more)
{
    size_t plen = 8 + 8 + 8 + n;
    memset(out, 0, 64);
    out[0] = 0x60; out[4] = (uint8_t)(plen >> 8); out[5] = (uint8_t)plen;
    out[6] = 0; /* hop-by-hop */
    out[23] = 1; out[39] = 2;
    out[40] = 60; /* -> destination options */
    out[48] = 44; /* -> fragment */
    out[56] = 6;  /* -> TCP */
    uint16_t offm = (uint16_t)off | (more ? 1 : 0);
    out[58] = (uint8_t)(offm >> 8); out[59] = (uint8_t)offm;
    out[63] = 77; /* identification */
    memcpy(out + 64, dg + off, n);
    return 64 + n;
}

static void test_ipv6_extension_headers(void)
{
    uint8_t dg[68], pkt[2][200];
    size_t dlen, len[2];
    datagram(dg, &dlen);
    len[0] = frag6(pkt[0], dg, 0, 32, true);
    len[1] = frag6(pkt[1], dg, 32, 36, false);
    fx f;
    fx_init(&f, 16, 1 << 20);
    mw_packet p;
    g_assert_cmpint(mw_decode_ip(pkt[1], len[1], &p), ==, MW_DECODE_FRAGMENT);
    g_assert_cmpuint(p.frag_off, ==, 32);
    g_assert_cmpuint(p.frag_id, ==, 77);
    g_assert_false(mw_defrag_offer(f.d, &p, 0, &f.out, &f.ds));
    g_assert_cmpint(mw_decode_ip(pkt[0], len[0], &p), ==, MW_DECODE_FRAGMENT);
    g_assert_true(mw_defrag_offer(f.d, &p, 1, &f.out, &f.ds));
    g_assert_cmpint(f.ds, ==, MW_DECODE_TCP);
    g_assert_cmpuint(f.out.family, ==, 6);
    g_assert_cmpuint(f.out.dst[15], ==, 2);
    g_assert_cmpuint(f.out.payload_len, ==, 48);
    g_assert_cmpmem(f.out.payload, 48, dg + 20, 48);
    mw_defrag_free(f.d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/defrag/orders", test_orders);
    g_test_add_func("/defrag/duplicate_and_overlap", test_duplicate_and_overlap);
    g_test_add_func("/defrag/missing_piece_expires", test_missing_piece_expires);
    g_test_add_func("/defrag/caps", test_caps);
    g_test_add_func("/defrag/rfc1858", test_rfc1858);
    g_test_add_func("/defrag/ipv6_extension_headers", test_ipv6_extension_headers);
    return g_test_run();
}
