/* Link layer, IPv4/IPv6 and TCP decoding into a flat packet view.
 * Borrowed pointers only: payload points into the captured packet. */
#ifndef MW_DECODE_H
#define MW_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_TCP_FIN 0x01
#define MW_TCP_SYN 0x02
#define MW_TCP_RST 0x04
#define MW_TCP_PSH 0x08
#define MW_TCP_ACK 0x10

typedef struct {
    uint8_t family;         /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t tcp_flags;
    const uint8_t *payload;
    size_t payload_len;     /* bytes captured */
    size_t payload_cut;     /* bytes the IP header promises but the capture lacks */
} mw_packet;

typedef enum {
    MW_DECODE_TCP,          /* *out is a TCP segment */
    MW_DECODE_SKIP,         /* not TCP over IP (ARP, UDP, a later fragment, ...) */
    MW_DECODE_MALFORMED,    /* truncated or inconsistent headers */
} mw_decode_status;

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

#endif
