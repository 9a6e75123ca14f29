/* IPv4 (RFC 791), IPv6 (RFC 8200) with extension headers, TCP (RFC 9293). */
#include "input/decode.h"

#include <string.h>

#include "core/cursor.h"

#define IPPROTO_TCP_ 6
/* IPv6 extension headers we step over (RFC 8200 section 4). */
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_DSTOPTS 60
#define IP6_MOBILITY 135
#define MW_MAX_IP6_EXT 8

static mw_decode_status tcp(mw_cursor *c, size_t ip_payload_len, mw_packet *out)
{
    mw_cursor t = *c;
    uint8_t off_byte, flags;
    if (!mw_cur_be16(&t, &out->sport) || !mw_cur_be16(&t, &out->dport) ||
        !mw_cur_be32(&t, &out->seq) || !mw_cur_be32(&t, &out->ack) ||
        !mw_cur_u8(&t, &off_byte) || !mw_cur_u8(&t, &flags))
        return MW_DECODE_MALFORMED;
    size_t hlen = (size_t)(off_byte >> 4) * 4;
    if (hlen < 20 || hlen > ip_payload_len)
        return MW_DECODE_MALFORMED;
    out->tcp_flags = flags;
    size_t want = ip_payload_len - hlen; /* payload length the IP header promises */
    if (c->left < hlen) {                /* options cut by the snaplen */
        out->payload = c->p + c->left; /* empty, but never NULL (memcpy of 0 bytes) */
        out->payload_len = 0;
        out->payload_cut = want;
        return MW_DECODE_TCP;
    }
    out->payload = c->p + hlen;
    size_t have = c->left - hlen;
    out->payload_len = have < want ? have : want; /* ignore Ethernet padding */
    out->payload_cut = want - out->payload_len;
    return MW_DECODE_TCP;
}

static mw_decode_status ipv4(mw_cursor c, mw_packet *out)
{
    uint8_t vihl, proto;
    uint16_t total, frag;
    mw_cursor t = c;
    if (!mw_cur_u8(&t, &vihl) || !mw_cur_skip(&t, 1) || !mw_cur_be16(&t, &total) ||
        !mw_cur_skip(&t, 2) || !mw_cur_be16(&t, &frag) || !mw_cur_skip(&t, 1) ||
        !mw_cur_u8(&t, &proto) || !mw_cur_skip(&t, 2))
        return MW_DECODE_MALFORMED;
    size_t ihl = (size_t)(vihl & 0x0f) * 4;
    if (ihl < 20 || total < ihl)
        return MW_DECODE_MALFORMED;
    const uint8_t *a;
    if (!mw_cur_bytes(&t, 4, &a))
        return MW_DECODE_MALFORMED;
    memset(out->src, 0, 16);
    memcpy(out->src, a, 4);
    if (!mw_cur_bytes(&t, 4, &a))
        return MW_DECODE_MALFORMED;
    memset(out->dst, 0, 16);
    memcpy(out->dst, a, 4);
    out->family = 4;
    if (proto != IPPROTO_TCP_)
        return MW_DECODE_SKIP;
    /* Fragments are not reassembled: TCP segments on mail paths are not fragmented in
     * practice (PMTU discovery); any fragment is skipped. */
    if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0)
        return MW_DECODE_SKIP;
    if (!mw_cur_skip(&c, ihl)) {
        return MW_DECODE_MALFORMED;
    }
    /* c now holds what was captured after the IP header (maybe less than promised) */
    return tcp(&c, total - ihl, out);
}

static mw_decode_status ipv6(mw_cursor c, mw_packet *out)
{
    uint16_t plen;
    uint8_t next;
    const uint8_t *a;
    if (!mw_cur_skip(&c, 4) || !mw_cur_be16(&c, &plen) || !mw_cur_u8(&c, &next) ||
        !mw_cur_skip(&c, 1) || !mw_cur_bytes(&c, 16, &a))
        return MW_DECODE_MALFORMED;
    memcpy(out->src, a, 16);
    if (!mw_cur_bytes(&c, 16, &a))
        return MW_DECODE_MALFORMED;
    memcpy(out->dst, a, 16);
    out->family = 6;
    size_t remaining = plen; /* payload length promised by the header (0: jumbogram) */
    for (int i = 0; i < MW_MAX_IP6_EXT && next != IPPROTO_TCP_; i++) {
        uint8_t nh, hl;
        mw_cursor t = c;
        if (!mw_cur_u8(&t, &nh) || !mw_cur_u8(&t, &hl))
            return MW_DECODE_MALFORMED;
        size_t ext;
        switch (next) {
        case IP6_HOPOPTS:
        case IP6_ROUTING:
        case IP6_DSTOPTS:
        case IP6_MOBILITY: ext = ((size_t)hl + 1) * 8; break;
        case IP6_AH: ext = ((size_t)hl + 2) * 4; break;
        case IP6_FRAGMENT: return MW_DECODE_SKIP; /* not reassembled, see ipv4() */
        default: return MW_DECODE_SKIP;           /* UDP, ICMPv6, ESP, ... */
        }
        if (ext > remaining || !mw_cur_skip(&c, ext))
            return MW_DECODE_MALFORMED;
        remaining -= ext;
        next = nh;
    }
    if (next != IPPROTO_TCP_)
        return MW_DECODE_SKIP;
    return tcp(&c, remaining, out);
}

mw_decode_status mw_decode_ip(const uint8_t *p, size_t len, mw_packet *out)
{
    if (len < 1)
        return MW_DECODE_MALFORMED;
    memset(out, 0, sizeof *out);
    mw_cursor c = mw_cursor_make(p, len);
    switch (p[0] >> 4) {
    case 4: return ipv4(c, out);
    case 6: return ipv6(c, out);
    default: return MW_DECODE_SKIP;
    }
}
