/* Reading a capture file on a second thread. libpcap's reader (two freads and a copy per
 * packet) is about a quarter of mailwire's time on a file of short sessions; on its own
 * thread it overlaps with the analysis. The reader fills a few fixed batches that
 * circulate between the two threads, so memory stays bounded and the analysis sees the
 * packets in file order, exactly as pcap_dispatch delivers them. A batch holds packet
 * bytes (copied from libpcap, or, for a plain pcap file, read straight from the file with
 * its record headers in between: format/pcapfile.h) and an index of the packets, each
 * with its header, the reader's note and where its bytes are. */
#ifndef MW_PREFETCH_H
#define MW_PREFETCH_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Batches in circulation, the packet bytes each holds (a packet larger than that gets a
 * batch grown to its size) and the packets in its index; a batch is handed over when
 * either is full. Memory: MW_PREFETCH_BATCHES * (MW_PREFETCH_BATCH_BYTES +
 * MW_PREFETCH_BATCH_PACKETS * (32 + the note)), about 4.1 MiB, as the 4 MiB of batches
 * that held the notes in line. */
#define MW_PREFETCH_BATCHES 4
/* ... at most, for a consumer that keeps batches past their delivery (mw_prefetch.batches) */
#define MW_PREFETCH_BATCHES_MAX 8
#define MW_PREFETCH_BATCH_BYTES (640u * 1024)
#define MW_PREFETCH_BATCH_PACKETS 3072u
/* A plain pcap file is read in blocks of this many bytes: what a full index leaves unread
 * in the batch is read again for the next one (format/pcapfile.h). */
#define MW_PREFETCH_READ_BYTES (128u * 1024)

/* Largest per-packet note (see mw_prefetch_work). */
#define MW_PREFETCH_NOTE_MAX 256

/* Optional work done on the reader thread for each packet, on the batch's copy of it:
 * what it writes into note (note_size bytes) travels with the packet. Decoding the
 * headers there takes it off the analysis thread. It must not touch the caller's state. */
typedef void (*mw_prefetch_work)(void *work_user, const struct pcap_pkthdr *h,
                                 const uint8_t *data, void *note);

/* Called on the calling thread for every packet, in file order, with its note; offset is
 * how far into the file the reader had got when it handed over the packet's batch (-1 on
 * a pipe). data and note stay valid until cb returns. */
typedef void (*mw_prefetch_cb)(void *user, const struct pcap_pkthdr *h, const uint8_t *data,
                               const void *note, int64_t offset);

/* A batch that holds packets is handed over after this long even when the stream keeps
 * delivering (a pipe fed slowly): records of closed sessions come out within a second. */
#define MW_PREFETCH_HOLD_MS 200

/* A batch as delivered, for a consumer that reads its packets' bytes after cb returned
 * (analyzer/parallel/ hands them to its threads uncopied). */
typedef struct mw_prefetch_batch mw_prefetch_batch;
/* A batch about to be delivered (begin: the consumer holds the one reference it has then)
 * or delivered (end). */
typedef void (*mw_prefetch_batch_cb)(void *user, mw_prefetch_batch *b);

/* One packet in a batch's index: its header, where its bytes are in the batch, then its
 * note (each part a multiple of 8 bytes). */
typedef struct {
    struct pcap_pkthdr h;
    size_t data; /* where its bytes start in the batch's buffer */
} mw_prefetch_entry;
#define MW_PREFETCH_ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

/* A batch's packets as a consumer that takes batches whole reads them (mw_prefetch.take):
 * read only, valid while the consumer holds a reference to the batch. */
typedef struct {
    const uint8_t *index; /* count entries, stride bytes apart */
    const uint8_t *buf;   /* the packets' bytes */
    size_t stride, count;
    int64_t offset;       /* the stream's position when the batch was handed over */
} mw_prefetch_view;
void mw_prefetch_batch_view(const mw_prefetch_batch *b, mw_prefetch_view *v);
static inline const mw_prefetch_entry *mw_prefetch_view_entry(const mw_prefetch_view *v,
                                                              size_t i)
{
    return (const mw_prefetch_entry *)(const void *)(v->index + i * v->stride);
}
static inline const void *mw_prefetch_entry_note(const mw_prefetch_entry *e)
{
    return (const uint8_t *)e + MW_PREFETCH_ALIGN8(sizeof *e);
}

typedef struct {
    pcap_t *p;
    FILE *fp;                /* p's stream, for offsets; may be NULL */
    struct mw_pcapfile *raw; /* may be NULL; set: the records are read by it, not by p */
    mw_prefetch_work work;   /* may be NULL */
    void *work_user;
    size_t note_size;        /* at most MW_PREFETCH_NOTE_MAX */
    mw_prefetch_cb cb;
    void *user;
    int max_packets;         /* stop after this many; 0: all */
    void **idle_slot;        /* may be NULL; while the reader runs, *idle_slot is the handle
                              * mw_prefetch_idle takes (the stream's read function has it) */
    /* Optional, all three or none, for a consumer that keeps packet bytes past cb: each
     * batch comes with one reference, the consumer's, which it gives back with
     * mw_prefetch_release (in end, or later from any thread, after any it took with
     * mw_prefetch_retain); the batch is read into again only once all are given back.
     * settle, at the end of the run: return once every batch is given back. The consumer
     * must keep at most all batches but one once a batch is delivered (the reader, on its
     * thread or on this one, needs a free one to go on: batch_begin may wait for that). */
    mw_prefetch_batch_cb batch_begin, batch_end;
    void (*settle)(void *user);
    /* Optional, with the three above: the consumer takes each batch whole (between its
     * batch_begin and batch_end, on the calling thread) instead of cb per packet, and
     * reads its packets through mw_prefetch_batch_view. */
    mw_prefetch_batch_cb take;
    bool here;               /* read on the calling thread, no reader thread: where the
                              * consumer's own threads take every core */
    unsigned batches;        /* batches in circulation, 0: MW_PREFETCH_BATCHES (at most
                              * MW_PREFETCH_BATCHES_MAX) */
} mw_prefetch;

/* One more reference to b (the consumer's thread, while it holds one). */
void mw_prefetch_retain(mw_prefetch_batch *b);
/* One reference given back (any thread); true when it was the last (b is read into again). */
bool mw_prefetch_release(mw_prefetch_batch *b);

/* Called by the stream's read function on the reader thread, before a read: blocked when
 * the read would wait for data. Hands the packets read so far to the analysis when it
 * would block, or when they have waited MW_PREFETCH_HOLD_MS. reader may be NULL. */
void mw_prefetch_idle(void *reader, bool blocked);

/* Ask every read in progress to stop at the next packet (async-signal-safe, any thread);
 * the packets read until then are still delivered. */
void mw_prefetch_stop(void);
bool mw_prefetch_stopping(void);

/* Runs pcap_dispatch(p, -1, ...) (or raw's reader) on a reader thread and delivers every
 * packet to cb here. Returns pcap_dispatch's result (-1 on an error, else >= 0 or -2);
 * on -1, *err holds pcap_geterr's text, or raw's (g_free it). */
int mw_prefetch_run(const mw_prefetch *pf, char **err);

#endif
