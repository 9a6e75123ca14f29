/* Analysis on several threads, for capture files (--threads N).
 *
 * The reader (input/prefetch.c and input/capture.c: the file read and the headers decoded
 * on a second thread) hands each decoded packet to the dispatcher, here, on the thread
 * that runs the capture. The dispatcher reassembles IP fragments (its own input/defrag:
 * a non-first fragment has no ports to hash), counts what is not TCP, numbers every TCP
 * segment (the global index, 1-based) and copies it into a batch of the analysis thread
 * mw_shard_of(segment) (parallel/shard.h: both directions to the same thread); every other
 * thread gets a clock tick (the index, frame and time) so that it closes its idle flows
 * at the segment one thread would have (parallel/order.h). Batches circulate in a ring per
 * thread, as prefetch.c's do: memory stays bounded, no lock per packet.
 *
 * A plain pcap file read by the reader thread takes a shorter way (mw_parallel_take,
 * parallel/direct.c): each of the reader's batches goes whole, read only, to every thread,
 * which walks all of its packets and does for itself what the dispatcher does (the index,
 * the clock, the reassembly), analyses its own segments and ticks its clock for the
 * others': nothing copied, no tick records; the batch goes back to the reader when the
 * last thread is done with it (input/prefetch.c, mw_prefetch_release, and
 * parallel/ring.c say how the reads and writes are ordered). pcapng (read on this
 * thread) is dispatched as above.
 *
 * Each analysis thread owns an engine (mw_parallel_engine_new: its flow table, caches and
 * dissector state), so the hot path takes no lock. The sessions each closes go, with
 * their keys, to the merger (parallel/order.h), which runs on the dispatcher's thread and
 * hands each record, renamed, to the run's take callback (the writer, or the maillog join)
 * in the order and with the ids one thread gives them.
 *
 * Shared and read-only while threads run: the port table (each engine copies it), the key
 * log store (cfg->keylog: written only in mw_parallel_barrier, when no thread analyses),
 * the trust store, the sensor and input names (core/identity.h). */
#ifndef MW_PARALLEL_H
#define MW_PARALLEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "engine/flow.h"
#include "input/decode.h"
#include "input/prefetch.h"

/* Analysis threads at most (--threads). */
#define MW_PARALLEL_MAX_THREADS 64
/* Batches in circulation per thread, and the bytes each holds (a larger segment gets a
 * batch grown to its size). A segment read by the reader thread is handed over uncopied:
 * its record points into the reader's batch (input/prefetch.h), which every thread gives
 * back once read; so each of the reader's batches ends the threads' batches that point
 * into it (mw_parallel_batch_end), and a segment is copied only when its bytes do not last
 * (pcapng, read on this thread; a reassembled datagram). */
/* Measured (issue 18, 2-core VM under load ~5, medians of 15 alternating runs): both
 * this and MW_PARALLEL_READER_BATCHES at 8 (+~4.6 MB RSS) cut the context switches on
 * bulk.pcap --threads 2 by ~28% but not the wall (0.41 s vs 0.40 s; one thread 0.33 s),
 * nor keyed-bulk's (0.29 vs 0.31 s, within noise), and sessions.pcap got no faster: kept at 4. */
#define MW_PARALLEL_BATCHES 4
#define MW_PARALLEL_BATCH_BYTES (128u * 1024u)
/* The reader's batches in circulation with the threads (input/prefetch.h's batches): the
 * threads may hold all but one, so that the reader always has one to fill while this
 * thread waits for it (mw_parallel_batch_begin). As many as with one thread: the memory a
 * flow costs (tests/hostile.py) counts them. */
#define MW_PARALLEL_READER_BATCHES MW_PREFETCH_BATCHES

/* Records each analysis thread may have closed and waiting in the merge (--thread-hold):
 * a thread whose records wait for the others' (their place is not settled until every
 * thread has seen the segment they closed at) stops there until the merger has written
 * some (worker.c, hold_back); the dispatcher keeps merging, and feeds the other threads,
 * while it waits for that thread's batches (parallel.c, next_free). */
#define MW_PARALLEL_HOLD 4096u
/* What a waiting record is reckoned to cost against --max-memory (the record and its
 * strings, as hostile.py measures a flow of one segment: about 1 KB with its flow state):
 * each thread's share of --max-memory is less hold x this, the hold made smaller when that
 * would take more than half the share. */
#define MW_PARALLEL_RECORD_COST 512u

typedef struct mw_parallel mw_parallel;

/* One analysis thread's engine: sessions it closes go to take(s, user). Also for live
 * capture's workers. */
mw_engine *mw_parallel_engine_new(const mw_config *cfg, mw_session_take_cb take, void *user);

/* n analysis threads (1..MW_PARALLEL_MAX_THREADS; 0: no analysis, the dispatcher's batches
 * are handed to one thread that only gives them back, to measure the reader and the
 * dispatch alone), each with at most hold records waiting in the merge (0:
 * MW_PARALLEL_HOLD). Every record goes to take(s, user) on the caller's thread. NULL when
 * the threads could not be started (analyse on one thread instead). */
mw_parallel *mw_parallel_new(const mw_config *cfg, unsigned n, size_t hold,
                             mw_session_take_cb take, void *user);
/* Records freed by the thread that made them: a written record given to the returned
 * callback (with p; on the thread that takes the records) goes back to its analysis
 * thread, which frees it with its next post (glibc's malloc pays for a free of another
 * thread's block with that arena's lock, and the maker's next mallocs miss its thread
 * cache). Call before any record is taken; without it the taker frees them. */
mw_session_take_cb mw_parallel_releaser(mw_parallel *p);
/* The hold each thread gets (after --max-memory's share, see MW_PARALLEL_RECORD_COST). */
size_t mw_parallel_hold(const mw_parallel *p);
/* A packet as mw_decode left it (as mw_engine_decoded takes it); iface: its interface
 * label for evidence (interned, NULL: none). */
void mw_parallel_decoded(mw_parallel *p, mw_decode_status ds, const mw_packet *pkt,
                         uint64_t frame, int64_t ts_us, const char *iface);
/* The reader's batches (input/prefetch.h's batch_begin, batch_end, settle; user: p): the
 * payloads of the segments decoded between begin and end are handed over uncopied. */
void mw_parallel_batch_begin(void *p, mw_prefetch_batch *b);
void mw_parallel_batch_end(void *p, mw_prefetch_batch *b);
void mw_parallel_settle(void *p);
/* A reader's batch whole, between its batch_begin and batch_end (input/capture.h's
 * mw_capture_sink.batch; its notes mw_capture_note, with mw_parallel_tcp_hash's hash):
 * every thread walks every packet of it (parallel/direct.c), no copy, no tick; first: the
 * number of its first packet, iface: its packets' label for evidence (interned, or NULL). */
void mw_parallel_take(mw_parallel *p, mw_prefetch_batch *b, uint64_t first, const char *iface);
/* For the reader thread (mw_capture_sink.tcp_hash): what a segment's thread is chosen by. */
uint32_t mw_parallel_tcp_hash(const mw_packet *pkt);
/* Whether the file is read on the dispatching thread (no reader thread): not by default;
 * MW_READER_THREAD=0 in the environment asks for it (to measure, and tests). */
bool mw_parallel_reads_here(const mw_parallel *p);
/* A new capture file starts (mw_engine_new_file on every thread). */
void mw_parallel_new_file(mw_parallel *p);
/* Wait until every thread has analysed all it was handed (before the key log store is
 * written: keys from a pcapng Decryption Secrets Block reach every thread before the
 * packets after it, and no thread reads the store while it changes). */
void mw_parallel_barrier(mw_parallel *p);
/* End of input: every thread closes its flows, every record is handed on, the threads
 * end. NULL is fine. */
void mw_parallel_finish(mw_parallel *p);
/* While the threads run, for the progress line (input/progress.h): packets handed over or
 * counted, records written, flows open (as each thread last told, after a batch); the
 * rest zero. p is a mw_parallel; the counts are valid until the next call. */
const mw_engine_stats *mw_parallel_progress(void *p);
/* After finish: the totals over the dispatcher and every thread (flows_peak: the sum of
 * each thread's peak). */
const mw_engine_stats *mw_parallel_stats(mw_parallel *p);
unsigned mw_parallel_threads(const mw_parallel *p);
/* After finish: TCP segments thread i analysed; and all segments handed over. */
uint64_t mw_parallel_thread_segments(const mw_parallel *p, unsigned i);
uint64_t mw_parallel_segments(const mw_parallel *p);
/* After finish: the written records thread i freed itself (mw_parallel_releaser). */
uint64_t mw_parallel_thread_freed(const mw_parallel *p, unsigned i);
/* After finish: the most records thread i had waiting in the merge at once. */
uint64_t mw_parallel_thread_held_peak(const mw_parallel *p, unsigned i);
/* Wall seconds from mw_parallel_new to the end of mw_parallel_finish. */
double mw_parallel_seconds(const mw_parallel *p);
/* NULL is fine. */
void mw_parallel_free(mw_parallel *p);

#endif
