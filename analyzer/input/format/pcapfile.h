/* Classic pcap records read straight from the file, without libpcap's reader.
 *
 * libpcap reads a savefile with two freads per packet out of the stdio buffer into its
 * own buffer, which the prefetch reader (input/prefetch.h) then copied into a batch: three
 * copies of every byte and half the reader thread's time. For an uncompressed classic
 * pcap regular file the reader instead pread()s large blocks straight into its batches
 * and walks the records in place (bounds-checked, core/cursor.h): one copy, the kernel's.
 * libpcap still opens the file (its header checks and messages), compiles BPF filters and
 * reads everything else (pcap-ns, old versions, compressed files, pipes, stdin).
 *
 * What a record yields is what libpcap's pcap_next_ex yields for it, including its
 * messages for a truncated or corrupt record (sf-pcap.c of libpcap 1.10).
 *
 * pread rather than mmap, measured (issue 18; Linux 6.18 under KVM, files in page cache):
 * mapping a page-cache page costs the kernel about what copying it does (sys time down
 * 0.01-0.04 s a capture), and the record walk then takes the cache misses the copy took
 * before, at a header each (user time up 0.05-0.2 s): reader alone +0.01 to +0.05 s CPU,
 * the default run +0 to +0.09 s, whole-file or per-batch windows, with or without
 * MAP_POPULATE or a software prefetch; callgrind: the same instructions. And a file
 * truncated while mapped would raise SIGBUS on any thread holding a batch. */
#ifndef MW_PCAPFILE_H
#define MW_PCAPFILE_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a record header in the file. */
#define MW_PCAPFILE_REC_HEAD 16
/* The file header's size: records start there. */
#define MW_PCAPFILE_FILE_HEAD 24
/* libpcap's largest accepted caplen for the link types mailwire decodes
 * (MAXIMUM_SNAPLEN, max_snaplen_for_dlt). */
#define MW_PCAPFILE_MAX_CAPLEN 262144u
/* Bytes a record can take in a buffer at most. */
#define MW_PCAPFILE_REC_MAX (MW_PCAPFILE_REC_HEAD + MW_PCAPFILE_MAX_CAPLEN)

typedef struct mw_pcapfile {
    int fd;            /* read with pread: the stream libpcap opened is not moved */
    bool big;          /* the record fields are big-endian (the writer's order) */
    bool nsec;         /* nanosecond timestamps, handed over in microseconds */
    bool signed_ts;    /* in this machine's order: libpcap reads the times signed */
    uint32_t snapshot; /* libpcap's snapshot length (pcap_snapshot) */
    int64_t offset;    /* the file offset of the next byte to read */
    char err[PCAP_ERRBUF_SIZE];
} mw_pcapfile;

/* Can the records of this file be read here? head: the file's first bytes (at least the
 * file header), p: libpcap's handle on it (already opened and checked). Only version 2.4
 * with the microsecond or nanosecond magic, in either byte order; on success *f is set. */
bool mw_pcapfile_init(mw_pcapfile *f, int fd, const uint8_t *head, size_t head_len, pcap_t *p);

/* Read up to len bytes at the next offset into buf: fewer only at the end of the file.
 * -1 on a read error (f->err set as libpcap words it). */
ssize_t mw_pcapfile_read(mw_pcapfile *f, uint8_t *buf, size_t len);

/* The record at p (avail bytes of the buffer): 1 with *h and *size (the bytes it takes;
 * its data starts MW_PCAPFILE_REC_HEAD bytes in); 0 when avail does not hold all of it;
 * -1 when it is invalid (f->err). */
int mw_pcapfile_record(mw_pcapfile *f, const uint8_t *p, size_t avail, struct pcap_pkthdr *h,
                       size_t *size);

/* The file ended with left bytes (> 0) of an incomplete record at p: f->err says so. */
void mw_pcapfile_truncated(mw_pcapfile *f, const uint8_t *p, size_t left);

#endif
