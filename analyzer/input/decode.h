/* Link layer, IPv4/IPv6 and TCP decoding into a flat packet view.
 * Borrowed pointers only: payload points into the captured packet. */
#ifndef MW_DECODE_H
#define MW_DECODE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_TCP_FIN 0x01
#define MW_TCP_SYN 0x02
#define MW_TCP_RST 0x04
#define MW_TCP_PSH 0x08
#define MW_TCP_ACK 0x10

/* Why a frame was not analysed as a TCP segment: every such frame is counted under one
 * reason (engine stats, the totals, the report; stderr at the end for the losses). Each
 * entry: enum suffix, stable name, words for the totals, and whether it is a loss (mail
 * bytes may have been in it) rather than traffic that is simply not TCP/IP. */
#define MW_DROP_LIST(X)                                                                    \
    X(NOT_IP, "not_ip", "not IP", false)                                                    \
    X(NOT_TCP, "not_tcp", "not TCP", false)                                                 \
    X(TRUNCATED_LINK, "truncated_link", "truncated link header", true)                      \
    X(TRUNCATED_IP, "truncated_ip", "truncated IP header", true)                            \
    X(BAD_IP, "bad_ip", "invalid IP header", true)                                          \
    X(TRUNCATED_TCP, "truncated_tcp", "truncated TCP header", true)                         \
    X(BAD_TCP, "bad_tcp", "invalid TCP header", true)                                       \
    X(TOO_MANY_VLAN, "too_many_vlan_tags", "too many VLAN tags", true)                      \
    X(TOO_MANY_EXT, "too_many_ext_headers", "too many IPv6 extension headers", true)        \
    X(UNSUPPORTED, "unsupported", "unsupported (link type, jumbogram)", true)               \
    X(FRAG_EXPIRED, "fragment_expired", "fragment of a datagram never completed", true)     \
    X(FRAG_CAP, "fragment_cap", "fragment dropped at the fragment caps", true)              \
    X(FRAG_OVERLAP, "fragment_overlap", "fragment overlapping with other bytes", true)      \
    X(FRAG_DUPLICATE, "fragment_duplicate", "duplicate fragment", false)                    \
    X(FRAG_TINY, "fragment_tiny", "tiny first fragment (RFC 1858)", true)                   \
    X(FRAG_TCP_OVERLAP, "fragment_tcp_header_overlap", "fragment over the TCP header", true) \
    X(FRAG_BAD, "fragment_invalid", "invalid fragment (size, ends)", true)                  \
    X(FRAG_TRUNCATED, "fragment_truncated", "fragment cut by the snaplen", true)            \
    X(FILTERED, "filtered", "filtered out by the BPF filter", false)

typedef enum {
#define MW_DROP_ENUM(e, name, text, loss) MW_DROP_##e,
    MW_DROP_LIST(MW_DROP_ENUM)
#undef MW_DROP_ENUM
    MW_DROP_COUNT
} mw_drop;

const char *mw_drop_name(mw_drop r);
const char *mw_drop_text(mw_drop r);
bool mw_drop_is_loss(mw_drop r);
/* "3 truncated TCP header, 1 not IP" for the non-zero counts[MW_DROP_COUNT] (only the
 * losses when losses_only), largest first; returns their sum (0: nothing written). */
uint64_t mw_drops_format(GString *g, const uint64_t *counts, bool losses_only);

typedef struct {
    uint8_t family;         /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t tcp_flags;
    uint8_t reason;         /* mw_drop: why it is not MW_DECODE_TCP */
    bool frag_overlap;      /* a reassembled datagram whose fragments overlapped (differing) */
    const uint8_t *payload;
    size_t payload_len;     /* bytes captured */
    size_t payload_cut;     /* bytes the IP header promises but the capture lacks */
    /* MW_DECODE_FRAGMENT: payload is this piece of the datagram's fragmentable part */
    uint32_t frag_id;       /* IPv4 identification, IPv6 fragment header identification */
    uint32_t frag_off;      /* the piece's byte offset in the datagram */
    bool frag_more;         /* more fragments follow (MF) */
    uint8_t frag_proto;     /* protocol / next header of the fragmentable part */
} mw_packet;

typedef enum {
    MW_DECODE_TCP,          /* *out is a TCP segment */
    MW_DECODE_SKIP,         /* not TCP over IP (ARP, UDP, ...): out->reason says which */
    MW_DECODE_MALFORMED,    /* truncated or inconsistent headers: out->reason says which */
    MW_DECODE_FRAGMENT,     /* one IPv4/IPv6 fragment: for reassembly (input/defrag.h) */
} mw_decode_status;

/* Most 802.1Q/802.1ad tags stepped over (QinQ stacks of 2-3, and provider networks'
 * deeper ones); the frame beyond is counted as too_many_vlan_tags. */
#define MW_MAX_VLAN_TAGS 8
/* Most IPv6 extension headers stepped over before TCP (RFC 8200 allows each type once,
 * destination options twice; 16 leaves room for AH, mobility and repetition). */
#define MW_MAX_IP6_EXT 16

/* A capture timestamp in microseconds, clamped so that hostile files cannot overflow
 * the arithmetic (and later subtractions) on it. */
#include <sys/time.h>
static inline int64_t mw_ts_us(const struct timeval *tv)
{
    const int64_t max_s = INT64_MAX / 1000000 - 1;
    int64_t s = tv->tv_sec < 0 ? 0 : (int64_t)tv->tv_sec > max_s ? max_s : (int64_t)tv->tv_sec;
    int64_t us = tv->tv_usec < 0 ? 0 : tv->tv_usec > 999999 ? 999999 : tv->tv_usec;
    return s * 1000000 + us;
}


/* From the IP header on (exposed for tests and raw-IP link types). */
mw_decode_status mw_decode_ip(const uint8_t *p, size_t len, mw_packet *out);

/* A reassembled datagram's fragmentable part (len bytes, protocol `proto`): IPv6
 * extension headers, if any, then TCP. out keeps its family and addresses. */
mw_decode_status mw_decode_l4(uint8_t proto, const uint8_t *p, size_t len, mw_packet *out);

#endif
