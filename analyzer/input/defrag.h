/* IPv4 (RFC 791) and IPv6 (RFC 8200 section 4.5) fragment reassembly, bounded.
 *
 * Where it runs: in file mode the headers are decoded on the reader thread
 * (input/prefetch.c), which keeps no state: a fragment is only marked there
 * (MW_DECODE_FRAGMENT, its id, offset and bytes in the note). The reassembly state lives
 * in the engine, one per analysis thread, and every fragment is offered to it on that
 * thread, in file order — so no state is shared between threads, and a datagram comes
 * out exactly where its last fragment sits in the capture (its frame is that packet's).
 *
 * Policy (as Suricata's and Zeek's defrag): the first copy of a byte wins; a later
 * fragment that overlaps held bytes with different ones marks the datagram
 * (frag_overlap on the reassembled packet, an anomaly on its session) and is counted;
 * one that brings nothing new is counted as a duplicate or an overlap. The tiny-fragment
 * and TCP-header-overlap attacks of RFC 1858 (a first fragment too short for the TCP
 * header; a later one at an offset inside it) refuse the whole datagram. Bounded by the
 * datagrams in progress, the bytes held (bookkeeping counted) and a timeout in packet
 * time; every fragment that never reaches the TCP layer is counted by reason. */
#ifndef MW_DEFRAG_H
#define MW_DEFRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "input/decode.h"

/* Largest datagram reassembled: IPv4's total length field, IPv6's payload length. */
#define MW_DEFRAG_MAX_DATAGRAM 65535u
/* A first TCP fragment must hold at least this much (the fixed TCP header, RFC 1858);
 * a later one may not start inside it. */
#define MW_DEFRAG_MIN_FIRST 20u

typedef struct mw_defrag mw_defrag;

typedef struct {
    size_t max_datagrams;  /* in progress at once; the oldest goes when a new one needs room */
    size_t max_bytes;      /* held, bookkeeping included; the oldest datagrams go first */
    int64_t timeout_us;    /* from a datagram's first fragment, in packet time */
} mw_defrag_limits;

typedef struct {
    uint64_t datagrams;    /* reassembled */
    uint64_t fragments;    /* the fragments that went into them */
    uint64_t overlaps;     /* datagrams with overlapping fragments that differed */
    size_t in_progress, bytes_held, bytes_peak;
} mw_defrag_stats;

/* drops: the caller's per-reason counters (MW_DROP_COUNT of them), where every fragment
 * that does not end in a reassembled datagram is counted. */
mw_defrag *mw_defrag_new(const mw_defrag_limits *lim, uint64_t *drops);
void mw_defrag_free(mw_defrag *d);

/* A fragment (decoded as MW_DECODE_FRAGMENT) seen at ts_us. Returns true when it
 * completed its datagram: *out is then the datagram decoded (*ds its status; out's bytes
 * stay valid until the next call). False: the fragment is held, or counted in drops. */
bool mw_defrag_offer(mw_defrag *d, const mw_packet *frag, int64_t ts_us, mw_packet *out,
                     mw_decode_status *ds);
/* Packet time has reached now_us: datagrams older than the timeout expire (counted). */
void mw_defrag_expire(mw_defrag *d, int64_t now_us);
/* End of input: every datagram still in progress expires. */
void mw_defrag_finish(mw_defrag *d);

const mw_defrag_stats *mw_defrag_stats_get(const mw_defrag *d);

#endif
