/* Link types and IP/TCP decoding, including truncated and hostile headers. */
#include <glib.h>
#include <pcap/pcap.h>
#include <string.h>

#include "input/decode.h"
#include "input/linktype.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* IPv4 + TCP (ports 40000 -> 25, seq 7, 4 bytes "EHLO") */
static const uint8_t ip4_tcp[] = {
    0x45, 0x00, 0x00, 44, 0, 0, 0x40, 0x00, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    0x9c, 0x40, 0x00, 0x19, 0, 0, 0, 7, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
    'E', 'H', 'L', 'O',
};

static GByteArray *frame(const uint8_t *hdr, size_t hlen, const uint8_t *ip, size_t iplen)
{
    GByteArray *a = g_byte_array_new();
    g_byte_array_append(a, hdr, (guint)hlen);
    g_byte_array_append(a, ip, (guint)iplen);
    return a;
}

static void check_tcp(int dlt, GByteArray *a)
{
    mw_packet p;
    g_assert_cmpint(mw_decode(dlt, a->data, a->len, &p), ==, MW_DECODE_TCP);
    g_assert_cmpuint(p.family, ==, 4);
    g_assert_cmpuint(p.sport, ==, 40000);
    g_assert_cmpuint(p.dport, ==, 25);
    g_assert_cmpuint(p.seq, ==, 7);
    g_assert_cmpuint(p.payload_len, ==, 4);
    g_assert_cmpmem(p.payload, 4, "EHLO", 4);
    /* every truncation of the frame decodes to something, never reads past the end */
    for (guint cut = 0; cut < a->len; cut++) {
        uint8_t *copy = g_memdup2(a->data, cut ? cut : 1);
        mw_decode(dlt, copy, cut, &p);
        g_free(copy);
    }
    g_byte_array_free(a, TRUE);
}

static void test_ethernet_vlan_qinq(void)
{
    uint8_t eth[14] = { 0 };
    eth[12] = 0x08;
    check_tcp(DLT_EN10MB, frame(eth, sizeof eth, ip4_tcp, sizeof ip4_tcp));
    uint8_t vlan[18] = { 0 };
    vlan[12] = 0x81; vlan[14] = 0x00; vlan[15] = 100; vlan[16] = 0x08;
    check_tcp(DLT_EN10MB, frame(vlan, sizeof vlan, ip4_tcp, sizeof ip4_tcp));
    uint8_t qinq[22] = { 0 };
    qinq[12] = 0x88; qinq[13] = 0xa8; qinq[15] = 10; qinq[16] = 0x81; qinq[19] = 20;
    qinq[20] = 0x08;
    check_tcp(DLT_EN10MB, frame(qinq, sizeof qinq, ip4_tcp, sizeof ip4_tcp));
}

static void test_cooked_null_raw(void)
{
    uint8_t sll[16] = { 0 };
    sll[14] = 0x08;
    check_tcp(DLT_LINUX_SLL, frame(sll, sizeof sll, ip4_tcp, sizeof ip4_tcp));
    uint8_t sll2[20] = { 0 };
    sll2[0] = 0x08;
    check_tcp(DLT_LINUX_SLL2, frame(sll2, sizeof sll2, ip4_tcp, sizeof ip4_tcp));
    uint8_t null_le[4] = { 2, 0, 0, 0 };
    check_tcp(DLT_NULL, frame(null_le, 4, ip4_tcp, sizeof ip4_tcp));
    uint8_t loop_be[4] = { 0, 0, 0, 2 };
    check_tcp(DLT_LOOP, frame(loop_be, 4, ip4_tcp, sizeof ip4_tcp));
    check_tcp(DLT_RAW, frame(NULL, 0, ip4_tcp, sizeof ip4_tcp));
    g_assert_true(mw_linktype_supported(DLT_EN10MB));
    g_assert_false(mw_linktype_supported(DLT_IEEE802_11));
}

static void test_ipv6_extension_headers(void)
{
    uint8_t pkt[40 + 8 + 8 + 20 + 2] = { 0 };
    pkt[0] = 0x60;
    pkt[4] = 0; pkt[5] = 8 + 8 + 20 + 2; /* payload length */
    pkt[6] = 0;                           /* hop-by-hop */
    pkt[8 + 15] = 1;                      /* src ::1 */
    pkt[24 + 15] = 1;                     /* dst ::1 */
    pkt[40] = 60; pkt[41] = 0;            /* hop-by-hop -> destination options, 8 bytes */
    pkt[48] = 6; pkt[49] = 0;             /* destination options -> TCP */
    uint8_t *t = pkt + 56;
    t[0] = 0x01; t[1] = 0xbb; t[2] = 0x00; t[3] = 143; t[12] = 0x50; t[13] = 0x18;
    t[20] = 'O'; t[21] = 'K';
    mw_packet p;
    g_assert_cmpint(mw_decode_ip(pkt, sizeof pkt, &p), ==, MW_DECODE_TCP);
    g_assert_cmpuint(p.family, ==, 6);
    g_assert_cmpuint(p.dport, ==, 143);
    g_assert_cmpuint(p.payload_len, ==, 2);
    /* a fragment header: a fragment for reassembly (offset 136, more), not misread */
    pkt[48] = 44;
    g_assert_cmpint(mw_decode_ip(pkt, sizeof pkt, &p), ==, MW_DECODE_FRAGMENT);
    g_assert_cmpuint(p.frag_off, ==, 136);
    g_assert_true(p.frag_more);
}

static void test_snaplen_and_bad_headers(void)
{
    mw_packet p;
    /* captured 2 of 4 payload bytes: the rest is reported as cut */
    g_assert_cmpint(mw_decode_ip(ip4_tcp, sizeof ip4_tcp - 2, &p), ==, MW_DECODE_TCP);
    g_assert_cmpuint(p.payload_len, ==, 2);
    g_assert_cmpuint(p.payload_cut, ==, 2);
    uint8_t bad[sizeof ip4_tcp];
    memcpy(bad, ip4_tcp, sizeof bad);
    bad[0] = 0x44; /* IHL 16 bytes: invalid */
    g_assert_cmpint(mw_decode_ip(bad, sizeof bad, &p), ==, MW_DECODE_MALFORMED);
    memcpy(bad, ip4_tcp, sizeof bad);
    bad[32] = 0x10; /* TCP data offset 4 bytes: invalid */
    g_assert_cmpint(mw_decode_ip(bad, sizeof bad, &p), ==, MW_DECODE_MALFORMED);
    memcpy(bad, ip4_tcp, sizeof bad);
    bad[3] = 30; /* total length shorter than the headers */
    g_assert_cmpint(mw_decode_ip(bad, sizeof bad, &p), ==, MW_DECODE_MALFORMED);
}

/* An Ethernet frame with `tags` 802.1Q tags in front of ip4_tcp. */
static mw_decode_status vlan_frame(int tags, mw_packet *p)
{
    uint8_t f[14 + 4 * 12 + sizeof ip4_tcp] = { 0 };
    size_t at = 12;
    for (int i = 0; i < tags; i++, at += 4) {
        f[at] = 0x81;
        f[at + 3] = (uint8_t)(i + 1);
    }
    f[at] = 0x08;
    memcpy(f + at + 2, ip4_tcp, sizeof ip4_tcp);
    return mw_decode(DLT_EN10MB, f, at + 2 + sizeof ip4_tcp, p);
}

/* IPv6 with n destination-options headers, then TCP. */
static mw_decode_status ext_chain(int n, mw_packet *p)
{
    uint8_t pkt[40 + 8 * 20 + 20] = { 0 };
    pkt[0] = 0x60;
    size_t plen = 8 * (size_t)n + 20;
    pkt[4] = (uint8_t)(plen >> 8); pkt[5] = (uint8_t)plen;
    pkt[6] = n ? 60 : 6;
    for (int i = 0; i < n; i++)
        pkt[40 + 8 * i] = i + 1 < n ? 60 : 6;
    uint8_t *t = pkt + 40 + 8 * n;
    t[3] = 25; t[12] = 0x50; t[13] = 0x10;
    return mw_decode_ip(pkt, 40 + plen, p);
}

/* Every frame not decoded says why (issue 12: nothing vanishes without a reason). */
static void test_reasons(void)
{
    mw_packet p;
    g_assert_cmpint(vlan_frame(5, &p), ==, MW_DECODE_TCP); /* vanished with a cap of 4 */
    g_assert_cmpint(vlan_frame(MW_MAX_VLAN_TAGS, &p), ==, MW_DECODE_TCP);
    g_assert_cmpint(vlan_frame(MW_MAX_VLAN_TAGS + 1, &p), ==, MW_DECODE_MALFORMED);
    g_assert_cmpuint(p.reason, ==, MW_DROP_TOO_MANY_VLAN);
    g_assert_cmpint(ext_chain(9, &p), ==, MW_DECODE_TCP); /* vanished with a cap of 8 */
    g_assert_cmpint(ext_chain(MW_MAX_IP6_EXT, &p), ==, MW_DECODE_TCP);
    g_assert_cmpint(ext_chain(MW_MAX_IP6_EXT + 1, &p), ==, MW_DECODE_MALFORMED);
    g_assert_cmpuint(p.reason, ==, MW_DROP_TOO_MANY_EXT);
    /* header snaplens: 1 byte of Ethernet, 40 bytes (14 + 20 + 6 of TCP) */
    uint8_t f[14 + sizeof ip4_tcp] = { 0 };
    f[12] = 0x08;
    memcpy(f + 14, ip4_tcp, sizeof ip4_tcp);
    g_assert_cmpint(mw_decode(DLT_EN10MB, f, 1, &p), ==, MW_DECODE_MALFORMED);
    g_assert_cmpuint(p.reason, ==, MW_DROP_TRUNCATED_LINK);
    g_assert_cmpint(mw_decode(DLT_EN10MB, f, 30, &p), ==, MW_DECODE_MALFORMED);
    g_assert_cmpuint(p.reason, ==, MW_DROP_TRUNCATED_IP);
    g_assert_cmpint(mw_decode(DLT_EN10MB, f, 40, &p), ==, MW_DECODE_MALFORMED);
    g_assert_cmpuint(p.reason, ==, MW_DROP_TRUNCATED_TCP);
    f[12] = 0x08; f[13] = 0x06; /* ARP */
    g_assert_cmpint(mw_decode(DLT_EN10MB, f, sizeof f, &p), ==, MW_DECODE_SKIP);
    g_assert_cmpuint(p.reason, ==, MW_DROP_NOT_IP);
    g_assert_false(mw_drop_is_loss(MW_DROP_NOT_IP));
    g_assert_true(mw_drop_is_loss(MW_DROP_TRUNCATED_TCP));
    uint8_t udp[sizeof ip4_tcp];
    memcpy(udp, ip4_tcp, sizeof udp);
    udp[9] = 17;
    g_assert_cmpint(mw_decode_ip(udp, sizeof udp, &p), ==, MW_DECODE_SKIP);
    g_assert_cmpuint(p.reason, ==, MW_DROP_NOT_TCP);
    udp[9] = 6;
    udp[6] = 0x20; /* More Fragments: a fragment, for reassembly */
    g_assert_cmpint(mw_decode_ip(udp, sizeof udp, &p), ==, MW_DECODE_FRAGMENT);
    g_assert_true(p.frag_more);
    g_assert_cmpuint(p.payload_len, ==, sizeof ip4_tcp - 20);
    uint64_t counts[MW_DROP_COUNT] = { 0 };
    counts[MW_DROP_NOT_IP] = 2;
    counts[MW_DROP_TRUNCATED_TCP] = 3;
    GString *g = g_string_new(NULL);
    g_assert_cmpuint(mw_drops_format(g, counts, false), ==, 5);
    g_assert_cmpstr(g->str, ==, "3 truncated TCP header, 2 not IP");
    g_string_truncate(g, 0);
    g_assert_cmpuint(mw_drops_format(g, counts, true), ==, 3);
    g_string_free(g, TRUE);
}

/* The fields of two decoded packets, their payloads as offsets from base_a / base_b. */
static void assert_same_packet(const mw_packet *a, const uint8_t *base_a, const mw_packet *b,
                               const uint8_t *base_b)
{
    g_assert_cmpuint(a->family, ==, b->family);
    g_assert_cmpmem(a->src, 16, b->src, 16);
    g_assert_cmpmem(a->dst, 16, b->dst, 16);
    g_assert_cmpuint(a->sport, ==, b->sport);
    g_assert_cmpuint(a->dport, ==, b->dport);
    g_assert_cmpuint(a->seq, ==, b->seq);
    g_assert_cmpuint(a->ack, ==, b->ack);
    g_assert_cmpuint(a->tcp_flags, ==, b->tcp_flags);
    g_assert_cmpuint(a->reason, ==, b->reason);
    g_assert_cmpuint(a->frag_overlap, ==, b->frag_overlap);
    g_assert_cmpuint(a->payload_len, ==, b->payload_len);
    g_assert_cmpuint(a->payload_cut, ==, b->payload_cut);
    if (a->payload || b->payload)
        g_assert_cmpint(a->payload - base_a, ==, b->payload - base_b);
    g_assert_cmpuint(a->frag_id, ==, b->frag_id);
    g_assert_cmpuint(a->frag_off, ==, b->frag_off);
    g_assert_cmpuint(a->frag_more, ==, b->frag_more);
    g_assert_cmpuint(a->frag_proto, ==, b->frag_proto);
}

/* IPv4 without options carrying TCP is decoded by a shorter way (decode.c, ipv4_tcp_fast):
 * it must give what the general way gives. The same header with a 4-byte IP option (a NOP
 * and an end of options) takes the general way; every other field and length is drawn at
 * random — TCP header lengths (bad ones too), total lengths shorter and longer than what was
 * captured, fragment bits, flags — and both decodings must agree field for field. */
static void test_ipv4_tcp_fast_way_as_general(void)
{
    GRand *r = g_rand_new_with_seed(1858);
    uint8_t fast[120], slow[124];
    for (int n = 0; n < 50000; n++) {
        for (size_t i = 0; i < sizeof fast; i++)
            fast[i] = (uint8_t)g_rand_int(r);
        fast[0] = 0x45;
        fast[9] = 6;
        if (g_rand_boolean(r)) /* usually not a fragment */
            fast[6] &= 0x40, fast[7] = 0;
        size_t hlen = (size_t)g_rand_int_range(r, 0, 16);
        fast[32] = (uint8_t)(hlen << 4 | (fast[32] & 0x0f));
        size_t total = (size_t)g_rand_int_range(r, 0, 120);
        fast[2] = (uint8_t)(total >> 8), fast[3] = (uint8_t)total;
        size_t caplen = (size_t)g_rand_int_range(r, 0, (int)sizeof fast + 1);
        /* the same with an option: header 24 bytes, total 4 more */
        memcpy(slow, fast, 20);
        slow[0] = 0x46;
        slow[20] = 1, slow[21] = 1, slow[22] = 1, slow[23] = 0;
        memcpy(slow + 24, fast + 20, sizeof fast - 20);
        size_t total6 = total + 4;
        slow[2] = (uint8_t)(total6 >> 8), slow[3] = (uint8_t)total6;
        mw_packet a, b;
        memset(&a, 0xa5, sizeof a); /* nothing left over from before */
        memset(&b, 0x5a, sizeof b);
        mw_decode_status sa = mw_decode_ip(fast, caplen, &a);
        mw_decode_status sb = mw_decode_ip(slow, caplen + 4, &b);
        g_assert_cmpint(sa, ==, sb);
        if (caplen < 20) /* the general way stops before the addresses */
            continue;
        if (sa == MW_DECODE_FRAGMENT) /* its payload: after the IP header, 4 more with options */
            g_assert_cmpint(a.payload - fast, ==, b.payload - slow - 4);
        if (sa == MW_DECODE_FRAGMENT)
            a.payload = b.payload = NULL;
        assert_same_packet(&a, fast, &b, slow + 4);
    }
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/decode/ethernet_vlan_qinq", test_ethernet_vlan_qinq);
    g_test_add_func("/decode/cooked_null_raw", test_cooked_null_raw);
    g_test_add_func("/decode/ipv6_extension_headers", test_ipv6_extension_headers);
    g_test_add_func("/decode/snaplen_and_bad_headers", test_snaplen_and_bad_headers);
    g_test_add_func("/decode/reasons", test_reasons);
    g_test_add_func("/decode/ipv4_tcp_fast_way_as_general", test_ipv4_tcp_fast_way_as_general);
    return g_test_run();
}
