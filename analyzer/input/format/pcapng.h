/* A streaming pcapng reader (draft-ietf-opsawg-pcapng), block by block from a FILE*.
 *
 * Why not libpcap for pcapng: libpcap refuses a file whose interfaces have different link
 * types ("an interface has a type 276 different from the type of the first interface":
 * Wireshark on several interfaces, mergecap of an Ethernet and a `tcpdump -i any`
 * capture), gives no interface index or name per packet, and never hands over the
 * Decryption Secrets Block that `editcap --inject-secrets` writes. mailwire therefore reads
 * every pcapng file with this reader and keeps libpcap for classic pcap / pcap-ns.
 *
 * Streaming: one growable block buffer, no allocation per packet, works on pipes and on
 * the decompressing stream (format/decompress.h). Every field is read through the
 * bounds-checked cursor; every length is checked: a block is at least 12 bytes, a multiple
 * of 4, at most max_block, and its trailing length equals its leading one. */
#ifndef MW_PCAPNG_H
#define MW_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Largest block read (a packet block holds one packet: 16 MiB is far above any snaplen). */
#define MW_PCAPNG_MAX_BLOCK (16u * 1024 * 1024)
/* Interfaces in one section (hostile files: an IDB is 20 bytes). */
#define MW_PCAPNG_MAX_IFACES 65536
/* Longest interface name kept (if_name). */
#define MW_PCAPNG_NAME_MAX 128

/* Block types (pcapng §11.1) */
#define MW_PCAPNG_SHB 0x0A0D0D0Au
#define MW_PCAPNG_IDB 0x00000001u
#define MW_PCAPNG_PB  0x00000002u /* obsolete Packet Block */
#define MW_PCAPNG_SPB 0x00000003u
#define MW_PCAPNG_NRB 0x00000004u
#define MW_PCAPNG_ISB 0x00000005u
#define MW_PCAPNG_EPB 0x00000006u
#define MW_PCAPNG_DSB 0x0000000Au
/* DSB secrets type: TLS key log (NSS key log text) */
#define MW_PCAPNG_SECRETS_TLS 0x544c534bu

typedef struct {
    int linktype;            /* LINKTYPE_ value as in the file */
    int dlt;                 /* libpcap DLT_ value for it (mw_pcapng_linktype_to_dlt) */
    uint32_t snaplen;        /* 0: no limit */
    uint64_t tsresol;        /* timestamp units per second (10^n or 2^n) */
    int64_t tsoffset;        /* seconds added to every timestamp (if_tsoffset) */
    char *name;              /* if_name, NULL when absent (capped, as in the file) */
} mw_pcapng_iface;

typedef struct {
    uint32_t iface;              /* interface index in its section */
    const mw_pcapng_iface *ifp;  /* that interface */
    int64_t ts_sec;              /* timestamp: seconds since 1970 (with if_tsoffset) */
    uint32_t ts_nsec;            /* and nanoseconds, truncated like libpcap's scaling */
    uint32_t caplen, origlen;
    const uint8_t *data;         /* caplen bytes */
    uint64_t block;              /* index of its block in the file, from 0 */
} mw_pcapng_packet;

/* What was read, by kind; what was skipped, by reason. */
typedef struct {
    uint64_t blocks, sections, interfaces;
    uint64_t epb, spb, pb;           /* packet blocks delivered */
    uint64_t nrb, isb;               /* name resolution / statistics: skipped, counted */
    uint64_t dsb, dsb_tls;           /* secrets blocks, and those holding a TLS key log */
    uint64_t unknown;                /* blocks of other types: skipped */
    uint64_t malformed;              /* packet or secrets blocks whose fields do not fit */
    uint64_t no_iface;               /* packet blocks naming an interface with no IDB */
} mw_pcapng_stats;

/* A Decryption Secrets Block: data is the secrets (for TLS, key log text), valid only
 * during the call; the reader wipes its copy afterwards. block is the block's index.
 * DSBs come before the packets they decrypt, so delivering them in file order is enough. */
typedef void (*mw_pcapng_secrets_fn)(void *user, uint32_t secrets_type, const uint8_t *data,
                                     size_t len, uint64_t block);

typedef struct {
    size_t max_block;                /* 0: MW_PCAPNG_MAX_BLOCK */
    mw_pcapng_secrets_fn on_secrets; /* may be NULL */
    void *user;
} mw_pcapng_opts;

typedef struct mw_pcapng mw_pcapng;

/* Do these first bytes start a pcapng file? */
bool mw_pcapng_magic(const uint8_t *head, size_t len);

/* Read the Section Header Block from fp (which the reader borrows, never closes).
 * NULL with *err set (g_free it) when fp does not hold a pcapng section. opts may be NULL. */
mw_pcapng *mw_pcapng_open(FILE *fp, const mw_pcapng_opts *opts, char **err);

/* Read the blocks before the first packet (in practice every interface: Wireshark,
 * dumpcap and mergecap write them all first), so that link types can be checked before
 * the run; DSBs met on the way go to on_secrets. The first packet is kept for
 * mw_pcapng_next. False on an error (mw_pcapng_error). */
bool mw_pcapng_prime(mw_pcapng *r);

/* The next packet: 1 (out filled, valid until the next call), 0 at the end, -1 on an
 * error (mw_pcapng_error; a cut-short last block is one: "truncated pcapng file ..."). */
int mw_pcapng_next(mw_pcapng *r, mw_pcapng_packet *out);

/* Why the last call failed (owned by the reader), or NULL. */
const char *mw_pcapng_error(const mw_pcapng *r);
/* Did the error come from the file ending inside a block? */
bool mw_pcapng_truncated(const mw_pcapng *r);

/* Interface i of the current section, or NULL. */
const mw_pcapng_iface *mw_pcapng_iface_get(const mw_pcapng *r, uint32_t i);
uint32_t mw_pcapng_iface_count(const mw_pcapng *r);
/* Interfaces seen so far, in all sections, of more than one link type? */
bool mw_pcapng_mixed_linktypes(const mw_pcapng *r);
const mw_pcapng_stats *mw_pcapng_stats_get(const mw_pcapng *r);

/* LINKTYPE_ (file) to DLT_ (libpcap API): the same number except raw IP and OpenBSD loop,
 * as libpcap's own (internal) linktype_to_dlt maps them. */
int mw_pcapng_linktype_to_dlt(int linktype);

void mw_pcapng_close(mw_pcapng *r);

#endif
