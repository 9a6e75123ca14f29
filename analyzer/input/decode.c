/* IPv4 (RFC 791), IPv6 (RFC 8200) with extension headers, TCP (RFC 9293). Fragments are
 * recognised here and reassembled by input/defrag.c. */
#include "input/decode.h"

#include <glib.h>
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

static const struct {
    const char *name, *text;
    bool loss;
} drops[MW_DROP_COUNT] = {
#define MW_DROP_ROW(e, n, t, l) [MW_DROP_##e] = { n, t, l },
    MW_DROP_LIST(MW_DROP_ROW)
#undef MW_DROP_ROW
};

const char *mw_drop_name(mw_drop r)
{
    return (unsigned)r < MW_DROP_COUNT ? drops[r].name : "?";
}

const char *mw_drop_text(mw_drop r)
{
    return (unsigned)r < MW_DROP_COUNT ? drops[r].text : "?";
}

bool mw_drop_is_loss(mw_drop r)
{
    return (unsigned)r < MW_DROP_COUNT && drops[r].loss;
}

uint64_t mw_drops_format(GString *g, const uint64_t *counts, bool losses_only)
{
    bool used[MW_DROP_COUNT] = { false };
    uint64_t sum = 0;
    for (;;) { /* a handful of reasons: pick the largest left each time */
        int best = -1;
        for (int r = 0; r < MW_DROP_COUNT; r++)
            if (!used[r] && counts[r] && (!losses_only || drops[r].loss) &&
                (best < 0 || counts[r] > counts[best]))
                best = r;
        if (best < 0)
            return sum;
        used[best] = true;
        g_string_append_printf(g, "%s%" G_GUINT64_FORMAT " %s", sum ? ", " : "", counts[best],
                               drops[best].text);
        sum += counts[best];
    }
}

static mw_decode_status drop(mw_packet *out, mw_decode_status st, mw_drop why)
{
    out->reason = (uint8_t)why;
    return st;
}

static mw_decode_status tcp(mw_cursor *c, size_t ip_payload_len, mw_packet *out)
{
    mw_cursor t = *c;
    uint8_t off_byte, flags;
    if (!mw_cur_be16(&t, &out->sport) || !mw_cur_be16(&t, &out->dport) ||
        !mw_cur_be32(&t, &out->seq) || !mw_cur_be32(&t, &out->ack) ||
        !mw_cur_u8(&t, &off_byte) || !mw_cur_u8(&t, &flags))
        return drop(out, MW_DECODE_MALFORMED, MW_DROP_TRUNCATED_TCP);
    size_t hlen = (size_t)(off_byte >> 4) * 4;
    if (hlen < 20 || hlen > ip_payload_len)
        return drop(out, MW_DECODE_MALFORMED, MW_DROP_BAD_TCP);
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

/* A fragment: the piece's bytes (what was captured of the `promised` ones). */
static mw_decode_status fragment(const mw_cursor *c, size_t promised, mw_packet *out)
{
    out->payload = c->p;
    out->payload_len = c->left < promised ? c->left : promised;
    out->payload_cut = promised - out->payload_len;
    return MW_DECODE_FRAGMENT;
}

static mw_decode_status ipv4(mw_cursor c, mw_packet *out)
{
    uint8_t vihl, proto;
    uint16_t total, id, frag;
    mw_cursor t = c;
    const uint8_t *src, *dst;
    if (!mw_cur_u8(&t, &vihl) || !mw_cur_skip(&t, 1) || !mw_cur_be16(&t, &total) ||
        !mw_cur_be16(&t, &id) || !mw_cur_be16(&t, &frag) || !mw_cur_skip(&t, 1) ||
        !mw_cur_u8(&t, &proto) || !mw_cur_skip(&t, 2) || !mw_cur_bytes(&t, 4, &src) ||
        !mw_cur_bytes(&t, 4, &dst))
        return drop(out, MW_DECODE_MALFORMED, MW_DROP_TRUNCATED_IP);
    size_t ihl = (size_t)(vihl & 0x0f) * 4;
    if (ihl < 20 || total < ihl)
        return drop(out, MW_DECODE_MALFORMED, MW_DROP_BAD_IP);
    memcpy(out->src, src, 4);
    memcpy(out->dst, dst, 4);
    out->family = 4;
    if (proto != IPPROTO_TCP_)
        return drop(out, MW_DECODE_SKIP, MW_DROP_NOT_TCP);
    if (!mw_cur_skip(&c, ihl))
        return drop(out, MW_DECODE_MALFORMED, MW_DROP_TRUNCATED_IP);
    /* c now holds what was captured after the IP header (maybe less than promised) */
    if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0) { /* offset, or More Fragments */
        out->frag_id = id;
        out->frag_off = (uint32_t)(frag & 0x1fff) * 8;
        out->frag_more = (frag & 0x2000) != 0;
        out->frag_proto = proto;
        return fragment(&c, total - ihl, out);
    }
    return tcp(&c, total - ihl, out);
}

/* IPv6 extension headers from `next` on, then TCP; remaining: the bytes the header
 * promises from c on. A fragment header ends the walk (reassembly takes over) unless
 * `in_datagram` (then it is invalid) or the fragment is atomic (RFC 6946). */
static mw_decode_status ip6_chain(mw_cursor c, uint8_t next, size_t remaining, bool in_datagram,
                                  mw_packet *out)
{
    for (int i = 0; next != IPPROTO_TCP_; i++) {
        if (i == MW_MAX_IP6_EXT)
            return drop(out, MW_DECODE_MALFORMED, MW_DROP_TOO_MANY_EXT);
        uint8_t nh, hl;
        mw_cursor t = c;
        if (next != IP6_HOPOPTS && next != IP6_ROUTING && next != IP6_DSTOPTS &&
            next != IP6_MOBILITY && next != IP6_AH && next != IP6_FRAGMENT)
            return drop(out, MW_DECODE_SKIP, MW_DROP_NOT_TCP); /* UDP, ICMPv6, ESP, ... */
        if (!mw_cur_u8(&t, &nh) || !mw_cur_u8(&t, &hl))
            return drop(out, MW_DECODE_MALFORMED, MW_DROP_TRUNCATED_IP);
        size_t ext = next == IP6_AH ? ((size_t)hl + 2) * 4
                     : next == IP6_FRAGMENT ? 8 : ((size_t)hl + 1) * 8;
        if (ext > remaining)
            return drop(out, MW_DECODE_MALFORMED, MW_DROP_BAD_IP);
        if (next == IP6_FRAGMENT) {
            uint16_t offm;
            uint32_t id;
            if (in_datagram)
                return drop(out, MW_DECODE_MALFORMED, MW_DROP_BAD_IP);
            if (!mw_cur_skip(&c, 2) || !mw_cur_be16(&c, &offm) ||
                !mw_cur_be32(&c, &id))
                return drop(out, MW_DECODE_MALFORMED, MW_DROP_TRUNCATED_IP);
            remaining -= ext;
            if ((offm & 0xfff8) != 0 || (offm & 1) != 0) {
                out->frag_id = id;
                out->frag_off = offm & 0xfff8;
                out->frag_more = (offm & 1) != 0;
                out->frag_proto = nh;
                return fragment(&c, remaining, out);
            }
            next = nh; /* an atomic fragment: the whole datagram is here */
            continue;
        }
        if (!mw_cur_skip(&c, ext))
            return drop(out, MW_DECODE_MALFORMED, MW_DROP_TRUNCATED_IP);
        remaining -= ext;
        next = nh;
    }
    return tcp(&c, remaining, out);
}

static mw_decode_status ipv6(mw_cursor c, mw_packet *out)
{
    uint16_t plen;
    uint8_t next;
    const uint8_t *src, *dst;
    if (!mw_cur_skip(&c, 4) || !mw_cur_be16(&c, &plen) || !mw_cur_u8(&c, &next) ||
        !mw_cur_skip(&c, 1) || !mw_cur_bytes(&c, 16, &src) || !mw_cur_bytes(&c, 16, &dst))
        return drop(out, MW_DECODE_MALFORMED, MW_DROP_TRUNCATED_IP);
    memcpy(out->src, src, 16);
    memcpy(out->dst, dst, 16);
    out->family = 6;
    if (plen == 0 && next == IP6_HOPOPTS) /* a jumbogram (RFC 2675) */
        return drop(out, MW_DECODE_SKIP, MW_DROP_UNSUPPORTED);
    return ip6_chain(c, next, plen, false, out);
}

/* The common case, decided in a few tests: IPv4 without options, not a fragment, carrying
 * TCP whose header was captured whole. The 40 header bytes are borrowed in one bounds check
 * and read through a cursor of that fixed size (its checks fold away); anything else, or
 * anything odd about these (a length too short, an offset, options cut by the snaplen),
 * goes the general way, which decodes these exactly as it does. */
static bool ipv4_tcp_fast(mw_cursor c, mw_packet *out)
{
    const uint8_t *hdr;
    if (c.left < 40 || c.p[0] != 0x45 || c.p[9] != IPPROTO_TCP_ || !mw_cur_bytes(&c, 40, &hdr))
        return false;
    mw_cursor h = mw_cursor_make(hdr, 40);
    uint16_t total, frag, sport, dport;
    uint32_t seq, ack;
    uint8_t off_byte, flags;
    const uint8_t *src, *dst;
    mw_cur_skip(&h, 2), mw_cur_be16(&h, &total), mw_cur_skip(&h, 2), mw_cur_be16(&h, &frag);
    mw_cur_skip(&h, 4), mw_cur_bytes(&h, 4, &src), mw_cur_bytes(&h, 4, &dst);
    mw_cur_be16(&h, &sport), mw_cur_be16(&h, &dport), mw_cur_be32(&h, &seq);
    mw_cur_be32(&h, &ack), mw_cur_u8(&h, &off_byte), mw_cur_u8(&h, &flags);
    const size_t hlen = (size_t)(off_byte >> 4) * 4;
    if ((frag & 0x3fff) != 0 || hlen < 20 || (size_t)total < 20 + hlen || !mw_cur_skip(&c, hlen - 20))
        return false;
    const size_t want = (size_t)total - 20 - hlen; /* payload length the IP header promises */
    const size_t have = MIN(c.left, want);          /* (Ethernet padding ignored) */
    /* every field set, as the general way's memset and stores leave it (a memset of the
     * whole is a string store, slower than these) */
    uint32_t s4, d4;
    memcpy(&s4, src, 4);
    memcpy(&d4, dst, 4);
    const uint64_t sw = s4, dw = d4, zero = 0; /* (built in registers: no store forwarding) */
    out->family = 4;
    memcpy(out->src, &sw, 8), memcpy(out->src + 8, &zero, 8);
    memcpy(out->dst, &dw, 8), memcpy(out->dst + 8, &zero, 8);
    out->sport = sport, out->dport = dport, out->seq = seq, out->ack = ack;
    out->tcp_flags = flags, out->reason = 0, out->frag_overlap = false;
    out->payload = c.p, out->payload_len = have, out->payload_cut = want - have;
    out->frag_id = out->frag_off = 0, out->frag_more = false, out->frag_proto = 0;
    return true;
}

mw_decode_status mw_decode_ip(const uint8_t *p, size_t len, mw_packet *out)
{
    if (ipv4_tcp_fast(mw_cursor_make(p, len), out))
        return MW_DECODE_TCP;
    memset(out, 0, sizeof *out);
    if (len < 1)
        return drop(out, MW_DECODE_MALFORMED, MW_DROP_TRUNCATED_IP);
    mw_cursor c = mw_cursor_make(p, len);
    switch (p[0] >> 4) {
    case 4: return ipv4(c, out);
    case 6: return ipv6(c, out);
    default: return drop(out, MW_DECODE_SKIP, MW_DROP_NOT_IP);
    }
}

mw_decode_status mw_decode_l4(uint8_t proto, const uint8_t *p, size_t len, mw_packet *out)
{
    mw_cursor c = mw_cursor_make(p, len);
    if (out->family == 6)
        return ip6_chain(c, proto, len, true, out);
    if (proto != IPPROTO_TCP_)
        return drop(out, MW_DECODE_SKIP, MW_DROP_NOT_TCP);
    return tcp(&c, len, out);
}
