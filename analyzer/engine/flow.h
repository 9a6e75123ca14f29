/* The flow engine: TCP connections keyed by their 4-tuple, both directions, from first
 * SYN to close; reassembly, protocol detection, dissector feeding, session records.
 *
 * Ownership: the engine owns its flows; a flow owns its streams, dissector state and
 * session. When a session ends its record goes to the callback, then is freed. */
#ifndef MW_FLOW_H
#define MW_FLOW_H

#include <stdint.h>

#include "core/config.h"
#include "input/decode.h"
#include "core/session.h"
#include "engine/flow_table.h"

typedef struct mw_engine mw_engine;
typedef void (*mw_session_cb)(const mw_session *s, void *user);

typedef struct {
    uint64_t packets;       /* frames offered */
    uint64_t tcp_packets;   /* TCP segments analysed (a reassembled datagram counts once) */
    uint64_t skipped;       /* not decoded, not a loss (not TCP/IP, duplicate fragments) */
    uint64_t malformed;     /* not decoded, a loss (see not_decoded for the reasons) */
    uint64_t not_decoded[MW_DROP_COUNT]; /* every frame not analysed, by reason */
    uint64_t frag_datagrams; /* IP datagrams reassembled from fragments */
    uint64_t frag_fragments; /* the fragments they were made of */
    uint64_t frag_overlaps;  /* datagrams whose fragments overlapped with differing bytes */
    uint64_t flows_ignored; /* non-mail flows dropped early */
    uint64_t after_close;   /* segments of a connection already closed by FIN or RST (a
                             * retransmission, data after an RST): counted, no new session */
    const uint32_t *ignored_by_port; /* their packets by server port (65536 counters; NULL:
                                      * none kept), for the hint when a capture has no mail */
    uint64_t sessions;      /* records written */
    uint64_t evicted;       /* sessions closed early by --max-flows or --max-memory */
    uint64_t evicted_memory; /* ... of which by --max-memory */
    uint64_t kernel_drops;  /* live capture: packets the kernel dropped (ring full) */
    uint64_t iface_drops;   /* live capture: packets the interface dropped */
    size_t flows_live, flows_peak;
    uint64_t last_id;       /* the number of the latest session started (its id: sN) */
} mw_engine_stats;

mw_engine *mw_engine_new(const mw_config *cfg, mw_session_cb cb, void *user);
void mw_engine_free(mw_engine *e);
/* Hand each closed session to take(s, user) instead: it then owns s (and frees it with
 * mw_session_free), and the callback given to mw_engine_new is not called. */
typedef void (*mw_session_take_cb)(mw_session *s, void *user);
void mw_engine_hand_over(mw_engine *e, mw_session_take_cb take, void *user);

/* Offer one decoded TCP segment. frame: 1-based number in its file; k: its flow key as
 * mw_engine_prefetch_slot made it (below), or NULL. */
void mw_engine_packet_keyed(mw_engine *e, const mw_packet *pkt, uint64_t frame, int64_t ts_us,
                            const mw_flow_key *k);
static inline void mw_engine_packet(mw_engine *e, const mw_packet *pkt, uint64_t frame,
                                    int64_t ts_us)
{
    mw_engine_packet_keyed(e, pkt, frame, ts_us, NULL);
}
/* Count a frame that was not TCP (or not decodable), under its reason. */
void mw_engine_count(mw_engine *e, mw_drop reason);
/* Offer a frame as mw_decode left it: a TCP segment, a fragment (reassembled here, on the
 * analysis thread: input/defrag.h), or one counted under pkt->reason. */
void mw_engine_decoded(mw_engine *e, mw_decode_status ds, const mw_packet *pkt, uint64_t frame,
                       int64_t ts_us);
/* A new capture file starts: frame numbers restart. */
void mw_engine_new_file(mw_engine *e);
/* Time passes without packets (live capture; another thread's segment in parallel): close
 * what has been idle too long. Returns the time a tick must pass to close anything more
 * (engine/flow_table.h, mw_flow_table_idle_deadline): while packet times never go back it
 * only grows, and parallel.c sends ticks by it. */
int64_t mw_engine_tick(mw_engine *e, int64_t now_us);
/* End of input: close every open flow and write its record. */
void mw_engine_finish(mw_engine *e);

/* Live capture: the kernel (or the interface) dropped packets between from_us and to_us
 * (wall clock, totals so far). A capture_gap in that stretch says the capture lost it. */
void mw_engine_capture_lost(mw_engine *e, uint64_t kernel_total, uint64_t iface_total,
                            int64_t from_us, int64_t to_us);

/* Live capture: called when a gap is found, to report drops not yet told (may be NULL). */
void mw_engine_loss_probe(mw_engine *e, void (*probe)(void *user), void *user);

/* Analysis in parallel (analyzer/parallel/): each thread's engine sees its own flows'
 * segments, and the time of every other TCP segment, so that it closes idle flows at the
 * segment one engine would have. mw_engine_index, before each segment, its own (then
 * mw_engine_packet) or another thread's (then mw_engine_tick with its time): index is the
 * global index of the TCP segment (1-based), frame and ts_us its own. A session it starts
 * gets the id sINDEX (renumbered by the merger, parallel/order.h) and stats.last_id says
 * so; every session keeps the index of its latest segment (mw_session_more.last_index). */
void mw_engine_index(mw_engine *e, uint64_t index, uint64_t frame, int64_t ts_us);

/* Look-ahead (parallel/worker.c walks its batch a few segments ahead): for a segment soon
 * given to mw_engine_packet_keyed (mw_engine_packet with the key made here: the packet's
 * analysis takes it, not made again), mw_engine_prefetch_slot makes its flow key and
 * begins loading its slot in the table; some segments later mw_engine_prefetch_flow
 * begins loading the flow itself, and just before its turn what the flow points to that its analysis
 * reads first (its neighbours in the activity list, its dissector's state, its session).
 * The lookup is two dependent cache misses a packet, the flow's state more: begun early
 * they overlap with the analysis of the segments before. Hints only: nothing changes. */
void mw_engine_prefetch_slot(const mw_engine *e, const mw_packet *pkt, mw_flow_key *k);
/* state false: the flow's own lines; true: what it points to (the state stage). */
void mw_engine_prefetch_flow(const mw_engine *e, uint64_t hash, bool state);

const mw_engine_stats *mw_engine_stats_get(const mw_engine *e);
/* The engine's port table (engine/detect.h), e.g. for the live-capture filter. */
const struct mw_ports *mw_engine_ports(const mw_engine *e);

#endif
