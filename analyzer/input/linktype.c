/* Link-layer headers: find the IP packet inside a frame of a given libpcap link type. */
#include <pcap/pcap.h>
#include <string.h>

#include "core/cursor.h"
#include "input/decode.h"
#include "input/linktype.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_VLAN 0x8100 /* IEEE 802.1Q */
#define ETHERTYPE_QINQ 0x88A8 /* IEEE 802.1ad */
#define ETHERTYPE_QINQ_OLD 0x9100

/* What a link header leads to: the IP packet, or why not (an mw_drop). */
#define L3_IP (-1)

static bool is_ip(uint16_t type)
{
    return type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6;
}

/* Ethernet II, skipping up to MW_MAX_VLAN_TAGS 802.1Q/802.1ad tags. */
static int ethernet(mw_cursor *c)
{
    uint16_t type;
    if (!mw_cur_skip(c, 12) || !mw_cur_be16(c, &type))
        return MW_DROP_TRUNCATED_LINK;
    for (int tags = 0; (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
                        type == ETHERTYPE_QINQ_OLD);
         tags++) {
        if (tags == MW_MAX_VLAN_TAGS)
            return MW_DROP_TOO_MANY_VLAN;
        if (!mw_cur_skip(c, 2) || !mw_cur_be16(c, &type))
            return MW_DROP_TRUNCATED_LINK;
    }
    return is_ip(type) ? L3_IP : MW_DROP_NOT_IP;
}

/* Linux cooked v1: 16-byte header, protocol in its last two bytes. */
static int linux_sll(mw_cursor *c)
{
    uint16_t proto;
    if (!mw_cur_skip(c, 14) || !mw_cur_be16(c, &proto))
        return MW_DROP_TRUNCATED_LINK;
    return is_ip(proto) ? L3_IP : MW_DROP_NOT_IP;
}

/* Linux cooked v2: 20-byte header, protocol first. */
static int linux_sll2(mw_cursor *c)
{
    uint16_t proto;
    if (!mw_cur_be16(c, &proto) || !mw_cur_skip(c, 18))
        return MW_DROP_TRUNCATED_LINK;
    return is_ip(proto) ? L3_IP : MW_DROP_NOT_IP;
}

/* BSD loopback: a 4-byte address family, in the capturing host's byte order for
 * DLT_NULL and in network order for DLT_LOOP. AF_INET is 2 everywhere; AF_INET6 is
 * 24, 28 or 30 depending on the BSD. */
static bool af_is_ip(uint32_t af)
{
    return af == 2 || af == 24 || af == 28 || af == 30;
}

static int bsd_null(mw_cursor *c, bool network_order)
{
    mw_cursor t = *c;
    uint32_t be, le;
    if (!mw_cur_be32(&t, &be))
        return MW_DROP_TRUNCATED_LINK;
    t = *c;
    mw_cur_le32(&t, &le);
    mw_cur_skip(c, 4);
    if (network_order)
        return af_is_ip(be) ? L3_IP : MW_DROP_NOT_IP;
    return (af_is_ip(le) || af_is_ip(be)) ? L3_IP : MW_DROP_NOT_IP;
}

static const int supported[] = {
    DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL, DLT_LOOP,
#ifdef DLT_IPV4
    DLT_IPV4,   DLT_IPV6,
#endif
};

bool mw_linktype_supported(int dlt)
{
    for (size_t i = 0; i < sizeof supported / sizeof supported[0]; i++)
        if (supported[i] == dlt)
            return true;
    return false;
}

mw_decode_status mw_decode(int dlt, const uint8_t *frame, size_t caplen, mw_packet *out)
{
    mw_cursor c = mw_cursor_make(frame, caplen);
    const uint8_t *eth;
    if (dlt == DLT_EN10MB && mw_cur_bytes(&c, 14, &eth) && eth[12] == 0x08 && eth[13] == 0x00)
        return mw_decode_ip(c.p, c.left, out); /* untagged IPv4: the common case, at once */
    c = mw_cursor_make(frame, caplen);
    int k;
    switch (dlt) {
    case DLT_EN10MB: k = ethernet(&c); break;
    case DLT_LINUX_SLL: k = linux_sll(&c); break;
    case DLT_LINUX_SLL2: k = linux_sll2(&c); break;
    case DLT_NULL: k = bsd_null(&c, false); break;
    case DLT_LOOP: k = bsd_null(&c, true); break;
    default: k = L3_IP; break; /* raw IP link types */
    }
    if (k != L3_IP) {
        memset(out, 0, sizeof *out);
        out->reason = (uint8_t)k;
        return k == MW_DROP_NOT_IP ? MW_DECODE_SKIP : MW_DECODE_MALFORMED;
    }
    return mw_decode_ip(c.p, c.left, out);
}
