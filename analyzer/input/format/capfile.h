/* What a capture file holds, before anyone reads packets from it: the file decompressed
 * when it is gzip/zstd/lz4 (decompress.h), then either classic pcap / pcap-ns (read by
 * libpcap from mw_capfile_stream) or pcapng (read here with the block reader, pcapng.h,
 * which says why libpcap cannot serve: several link types, interface names, secrets).
 *
 * capture.c owns one of these per file; the split keeps the format decisions out of it. */
#ifndef MW_CAPFILE_H
#define MW_CAPFILE_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "input/format/decompress.h"
#include "input/format/pcapng.h"

/* Secrets from the capture kept until a hook takes them (all of them, in bytes). */
#define MW_CAPFILE_SECRETS_MAX (64u * 1024 * 1024)
/* The file's offset (for progress) is asked every this many pcapng packets: ftell costs
 * a system call. */
#define MW_CAPFILE_OFFSET_EVERY 256

typedef struct mw_capfile mw_capfile;

/* fp: the opened file (stdin for "-"); the capfile owns it from here on, also on failure.
 * name: for messages. NULL with *err naming the file on failure. */
mw_capfile *mw_capfile_open(FILE *fp, const char *name, char **err);

/* pcapng: read by mw_capfile_run_pcapng. Otherwise libpcap reads mw_capfile_stream. */
bool mw_capfile_is_pcapng(const mw_capfile *f);
/* The stream for libpcap. After pcap_fopen_offline took it, call mw_capfile_handed_over
 * (pcap_close then closes it); until then mw_capfile_close does. */
FILE *mw_capfile_stream(const mw_capfile *f);
void mw_capfile_handed_over(mw_capfile *f);
mw_compress_kind mw_capfile_compression(const mw_capfile *f);
/* The content's first bytes (decompressed), *len of them (up to MW_DECOMPRESS_HEAD). */
const uint8_t *mw_capfile_head(const mw_capfile *f, size_t *len);

/* pcapng: the link type (DLT_) of the first interface mailwire decodes among those
 * before the first packet, else of the first interface. */
int mw_capfile_first_dlt(const mw_capfile *f);

/* Every packet of a pcapng file, in file order, with its interface's link type (DLT_)
 * and the file offset reached (-1 on a pipe), until fn returns false. Returns 0 at the
 * end (or when fn stopped it), -1 on an error with *why (g_free it). */
typedef bool (*mw_capfile_packet_fn)(void *user, const struct pcap_pkthdr *h,
                                     const uint8_t *data, int dlt, int64_t offset);
int mw_capfile_run_pcapng(mw_capfile *f, mw_capfile_packet_fn fn, void *user, char **why);
/* The same one packet at a time (the merge of several files, input/files/merge.h): 1 with
 * the packet (data valid until the next call), 0 at the end, -1 on an error (*why). */
int mw_capfile_next_pcapng(mw_capfile *f, struct pcap_pkthdr *h, const uint8_t **data,
                           int *dlt, int64_t *offset, char **why);

/* The packet being delivered: its interface in its section (-1 for classic pcap) and the
 * interface's name (NULL when none is given). */
int mw_capfile_iface(const mw_capfile *f);
const char *mw_capfile_iface_name(const mw_capfile *f);
/* Interfaces in the current section (1 for classic pcap). */
unsigned mw_capfile_iface_count(const mw_capfile *f);
/* Does the file have interfaces of more than one link type? */
bool mw_capfile_mixed(const mw_capfile *f);

/* TLS key log text from the file's Decryption Secrets Blocks (NSS key log format).
 * frames: packets read before it (secrets come before the packets they decrypt). */
typedef void (*mw_capfile_secrets_fn)(void *user, const uint8_t *keylog, size_t len,
                                      uint64_t frames);
/* Secrets already read are handed over at once, later ones as they are read. */
void mw_capfile_on_secrets(mw_capfile *f, mw_capfile_secrets_fn fn, void *user);
/* Secrets blocks kept so far (for tests). */
size_t mw_capfile_secrets_count(const mw_capfile *f);

/* Why the decompressing stream failed, or NULL. */
const char *mw_capfile_stream_error(const mw_capfile *f);
/* A one-line note on what the pcapng reader skipped (unknown or broken blocks, packets
 * on interfaces of link types mailwire does not decode), or NULL (g_free it). */
char *mw_capfile_skipped(const mw_capfile *f);

void mw_capfile_close(mw_capfile *f);

#endif
