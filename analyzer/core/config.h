/* Run-time settings and every resource limit, with their defaults.
 * Each limit has a command-line option (see main.c). */
#ifndef MW_CONFIG_H
#define MW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest protocol line accepted before it is discarded as over-long (RFC 5321 4.5.3.1
 * allows 1000 octets for a text line; servers' multi-line replies and IMAP commands are
 * longer, so the default leaves room). */
#define MW_DEFAULT_MAX_LINE 8192
/* Out-of-order bytes held per direction of a flow while waiting for a hole to fill. */
#define MW_DEFAULT_MAX_OOO_BYTES (256u * 1024u)
/* Live flows held at once; the least recently active one is closed to make room. */
#define MW_DEFAULT_MAX_FLOWS 100000u
/* A flow silent for this long (packet time) is closed and written. IMAP IDLE clients
 * refresh at least every 29 minutes (RFC 2177), so 30 minutes keeps them whole. */
#define MW_DEFAULT_IDLE_TIMEOUT_S 1800
/* IP fragment reassembly (input/defrag.h): datagrams in progress at once, the bytes they
 * may hold (Suricata's defrag memcap is 32 MB, its trackers 65535), and how long a
 * datagram may wait for its missing pieces in packet time (Linux's ipfrag_time: 30 s). */
#define MW_DEFAULT_MAX_FRAG_DATAGRAMS 4096u
#define MW_DEFAULT_MAX_FRAG_BYTES (16u * 1024u * 1024u)
#define MW_DEFAULT_FRAG_TIMEOUT_S 30
/* The part of one TLS handshake message held per direction (--max-tls-handshake): a
 * whole message up to it; of a longer Certificate (TLS allows 2^24 - 1 bytes) the leaf
 * and the certificates after it that fit, the rest skipped by length. A leaf with
 * 10,000 names is 340 KB. */
#define MW_DEFAULT_MAX_TLS_HANDSHAKE (1024u * 1024u)
/* Largest SMTP BDAT chunk taken as one (RFC 3030 sets no limit; servers cap the whole
 * message, postfix at 10 MB by default): a BDAT line announcing more is treated as invalid
 * (anomaly bad_bdat) and the bytes after it are read as commands, so a forged size cannot
 * make the rest of the session vanish into a chunk. The cap is kept below 2^32. */
#define MW_DEFAULT_MAX_BDAT_CHUNK (1024u * 1024u * 1024u)
/* Commands awaiting a reply per session (SMTP PIPELINING, IMAP tags). */
#define MW_MAX_PENDING_CMDS 128
/* Largest unconsumed tail a stream keeps for its dissector: one line or one TLS record. */
#define MW_TLS_RECORD_MAX (16384 + 2048 + 5)

/* TLS late-key recovery (live): protected records held per direction of a session whose
 * key log lines have not arrived yet, decrypted in order once they do; past the cap the
 * held records are dropped (counted) and the session stays encrypted. */
#define MW_DEFAULT_TLS_HOLD_RECORDS 32u

struct mw_ports;
struct mw_keylog;

typedef struct mw_config {
    /* The port table (engine/detect.h) from --ports; NULL: the registry's defaults. The
     * engine keeps its own copy. */
    const struct mw_ports *ports;
    size_t max_line;
    size_t max_ooo_bytes;
    size_t max_flows;
    int64_t idle_timeout_us;
    size_t max_frag_datagrams;
    size_t max_frag_bytes;
    int64_t frag_timeout_us;
    uint32_t max_bdat_chunk; /* --max-bdat-chunk: largest SMTP BDAT chunk, bytes */
    size_t max_memory;      /* bytes all flows may hold (--max-memory); 0: no limit */
    size_t max_tls_handshake; /* bytes of a TLS handshake message held per direction */
    bool keep_transcript;   /* -v or --report: sessions keep a redacted transcript */
    /* The run's TLS key log store (tls/decrypt/keylog.h: --keylog, pcapng secrets), owned by
     * main; NULL: none (unit tests). The TLS dissector reads it, one thread at a time. */
    struct mw_keylog *keylog;
    size_t tls_hold_records; /* --tls-hold-records; 0: nothing held */
    /* Session ids go up by this (1: s1, s2, ...). Live --workers N: N, each engine starting
     * from its own first id (input/live/pool.c), so no two engines give out the same one. */
    uint64_t session_id_step;
} mw_config;

static inline size_t mw_config_pending_cap(const mw_config *c)
{
    return (c->max_line > MW_TLS_RECORD_MAX ? c->max_line : MW_TLS_RECORD_MAX) + 64;
}

void mw_config_defaults(mw_config *c);

#endif
