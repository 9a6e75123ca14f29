/* Reading capture files (pcap and pcap-ns through libpcap, pcapng through our own reader;
 * gzip/zstd/lz4-compressed alike: see input/format/capfile.h; stdin as "-", pipes and
 * FIFOs read as they arrive). */
#ifndef MW_CAPTURE_H
#define MW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/flow.h"
#include "input/prefetch.h"

typedef struct mw_capture mw_capture;

/* Open a capture file and check its link type. On failure returns NULL and sets *err
 * to one line naming the file (g_free it). */
mw_capture *mw_capture_open(const char *path, char **err);

/* Feed every packet to the engine. Returns false on a read error before any packet
 * (*err set); a truncated tail after good packets is a warning (*warn set), true. */
bool mw_capture_run(mw_capture *c, mw_engine *e, char **err, char **warn);

/* Read only the packets that pass this BPF filter (NULL: all); the others are counted as
 * filtered. Before reading. False with *err ("bad filter '...': ...") when it does not
 * compile for the file's link type. */
bool mw_capture_set_filter(mw_capture *c, const char *expr, char **err);

/* One packet at a time on the calling thread, for the merge of several files by time
 * (input/files/merge.h), instead of mw_capture_run. peek reads the next packet ahead
 * (once; again only after take): 1 with its time, 0 at the end or on a stop request, -1 on
 * a read error. take analyses it. pull_end, at 0 or -1: mw_capture_run's messages. */
int mw_capture_peek(mw_capture *c, int64_t *ts_us);
void mw_capture_take(mw_capture *c, mw_engine *e);
bool mw_capture_pull_end(mw_capture *c, char **err, char **warn);

/* The name shown for the capture ("(stdin)" for "-"), interned. */
const char *mw_capture_name(const mw_capture *c);

/* Called for every packet read, before it is decoded (progress, per-file time ranges). */
typedef void (*mw_capture_observer)(void *user, const mw_capture *c, uint64_t frame,
                                    int64_t ts_us);
void mw_capture_observe(mw_capture *c, mw_capture_observer fn, void *user);
/* Where the decoded packets go instead of the engine given to mw_capture_run (which may
 * then be NULL): analyzer/parallel/ hands them to its threads. decoded is called where
 * mw_engine_decoded would be, on the same thread; new_file where mw_engine_new_file. */
typedef struct {
    void (*decoded)(void *user, const mw_capture *c, mw_decode_status ds, const mw_packet *pkt,
                    uint64_t frame, int64_t ts_us);
    void (*new_file)(void *user);
    void *user;
    /* Optional: pkt->payload stays valid past decoded, until the sink gives back the
     * reader's batch it is in (input/prefetch.h's batch_begin, batch_end, settle and
     * batches, with user). Only for packets decoded between a batch_begin and its
     * batch_end: the others' bytes (pcapng, which has no reader thread) last until decoded
     * returns, as without. */
    mw_prefetch_batch_cb batch_begin, batch_end;
    void (*settle)(void *user);
    unsigned batches;
    bool here; /* with the batch hooks: no reader thread (input/prefetch.h's here) */
    /* Optional, with the batch hooks: each batch of the reader thread's whole (between its
     * batch_begin and batch_end) instead of decoded per packet, first: its first packet's
     * number; its entries' notes are mw_capture_note (input/prefetch.h's view). Packets
     * read on this thread (pcapng) still go to decoded. */
    void (*batch)(void *user, const mw_capture *c, mw_prefetch_batch *b, uint64_t first);
    /* Optional: worked out on the reader thread for each TCP segment, into its note. */
    uint32_t (*tcp_hash)(const mw_packet *pkt);
} mw_capture_sink;
/* What the reader thread decoded of a packet: the note of its batch entry. */
typedef struct {
    mw_decode_status ds;
    uint32_t hash;  /* MW_DECODE_TCP with mw_capture_sink.tcp_hash: its value, else 0 */
    mw_packet pkt;  /* payload points into the batch's copy of the packet */
} mw_capture_note;
void mw_capture_set_sink(mw_capture *c, const mw_capture_sink *sink);
/* Bytes of the file read so far, or -1 when not known (stdin, a pipe). */
int64_t mw_capture_offset(const mw_capture *c);
/* Size of the file, or -1 (stdin). */
int64_t mw_capture_size(const mw_capture *c);
int mw_capture_dlt(const mw_capture *c);
/* Read at most max_packets (0: all); set before mw_capture_run. */
void mw_capture_limit(mw_capture *c, uint64_t max_packets);
/* Packets read so far. */
uint64_t mw_capture_frames(const mw_capture *c);
/* The time of the last packet read: with its number, what tells "the packet being
 * analysed" from frame N of another file. */
int64_t mw_capture_last_ts(const mw_capture *c);
/* The descriptor read (for the identity of an input, see output/outfile.h). */
int mw_capture_fd(const mw_capture *c);
/* Stop reading (SIGINT/SIGTERM, or the output is gone): async-signal-safe, from any
 * thread. The packets read until then are analysed; mw_capture_run returns. */
void mw_capture_stop(void);
bool mw_capture_stopped(void);

/* The packet being analysed (during the observer and the engine's handling of it): its
 * pcapng interface index (-1 for classic pcap) and that interface's name (NULL when the
 * file gives none). For evidence when a file has several interfaces. */
int mw_capture_iface(const mw_capture *c);
const char *mw_capture_iface_name(const mw_capture *c);
/* A pcapng file with interfaces of more than one link type (mergecap of an Ethernet and a
 * `tcpdump -i any` capture). */
bool mw_capture_multi_linktype(const mw_capture *c);
/* For evidence: the interface of the packet being analysed when its file has more than
 * one (its name, else "#N", the index), else NULL. Interned. */
const char *mw_capture_iface_label(const mw_capture *c);

/* TLS key log text (NSS format) from the file's pcapng Decryption Secrets Blocks, for the
 * decryption. Secrets read so far (at open: those before the first interface) are handed
 * over at once, later ones as they are read, before the packets that follow them. frames:
 * the packets read before it. The capture keeps a copy (wiped at close) until then. */
typedef void (*mw_capture_secrets_fn)(void *user, const uint8_t *keylog, size_t len,
                                      uint64_t frames);
void mw_capture_on_secrets(mw_capture *c, mw_capture_secrets_fn fn, void *user);
size_t mw_capture_secrets_count(const mw_capture *c);

void mw_capture_close(mw_capture *c);

#endif
