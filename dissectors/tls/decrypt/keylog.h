/* Key log store: the NSS key log format (SSLKEYLOGFILE, RFC 9850) read from files, from
 * memory (pcapng Decryption Secrets Blocks) and, for a live capture, re-read as the file
 * grows. Secrets are keyed by the 32-byte client random.
 *
 * Each line is "LABEL <client_random hex> <secret hex>". Kept: CLIENT_RANDOM (TLS 1.0-1.2
 * master secret, 48 bytes) and the TLS 1.3 traffic secrets (32 or 48 bytes). Ignored and
 * counted: comments (#), blank lines, EXPORTER_SECRET, EARLY_EXPORTER_SECRET, ECH_SECRET,
 * ECH_CONFIG, RSA, and OpenSSL's CLIENT/SERVER_TRAFFIC_SECRET_N (after a KeyUpdate). Anything else is malformed: counted and named once in the messages (source,
 * line number and what is wrong — never the line's content). Nothing is ever fatal.
 *
 * Secrets are wiped when the store is freed; nothing here prints or logs key material.
 * The store is an object the caller owns. It may be used from several threads at once (live
 * --workers): lookups and counters take a read lock, reading and refreshing a write lock. */
#ifndef MW_TLS_KEYLOG_H
#define MW_TLS_KEYLOG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_KEYLOG_RANDOM_LEN 32
#define MW_KEYLOG_SECRET_MAX 48
/* Client randoms held at most; lines for further new randoms are dropped (counted). */
#define MW_KEYLOG_MAX_ENTRIES 200000
/* Longest line accepted (a valid one is under 200 bytes); longer ones are malformed. */
#define MW_KEYLOG_MAX_LINE 512
/* Malformed lines named in messages over the store's life; the rest are only counted. */
#define MW_KEYLOG_MAX_MESSAGES 50

typedef enum {
    MW_KEYLOG_CLIENT_RANDOM = 0,        /* master secret, TLS <= 1.2 */
    MW_KEYLOG_CLIENT_EARLY_TRAFFIC,     /* CLIENT_EARLY_TRAFFIC_SECRET */
    MW_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC, /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
    MW_KEYLOG_SERVER_HANDSHAKE_TRAFFIC, /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
    MW_KEYLOG_CLIENT_TRAFFIC_0,         /* CLIENT_TRAFFIC_SECRET_0 */
    MW_KEYLOG_SERVER_TRAFFIC_0,         /* SERVER_TRAFFIC_SECRET_0 */
    MW_KEYLOG_N_KINDS
} mw_keylog_kind;

typedef struct {
    uint64_t lines;      /* lines read, of every sort */
    uint64_t secrets;    /* secrets stored (a new client random + label) */
    uint64_t duplicates; /* a client random + label seen again (the later value is kept) */
    uint64_t ignored;    /* blank, comment, labels not needed for decryption */
    uint64_t malformed;
    uint64_t dropped;    /* well-formed, but the store was full (MW_KEYLOG_MAX_ENTRIES) */
    uint64_t entries;    /* client randoms held */
} mw_keylog_stats;

typedef struct mw_keylog mw_keylog;

/* An empty store (its hash seeded from GLib's generator, as the engine's tables are). */
mw_keylog *mw_keylog_new(void);
/* Wipes every secret and frees. NULL is fine. */
void mw_keylog_free(mw_keylog *kl);
/* Lowers the entry limit below MW_KEYLOG_MAX_ENTRIES (tests, fuzzing, small systems). */
void mw_keylog_set_max_entries(mw_keylog *kl, unsigned max_entries);

/* Reads the key log at path. follow: the file may still grow (live capture); it is
 * re-read by mw_keylog_refresh, and an unfinished last line waits for its newline.
 * Without follow the file is read once and its last line counts even with no newline.
 * Adding a path already added refreshes it (when followed). False (with a message) when the file cannot
 * be read; the path is still kept for refresh when follow is set. */
bool mw_keylog_add_file(mw_keylog *kl, const char *path, bool follow);

/* Parses a key log held in memory (a pcapng Decryption Secrets Block); source names it
 * in messages ("capture.pcapng DSB 1"). The last line needs no newline. */
void mw_keylog_add_buffer(mw_keylog *kl, const char *source, const void *data, size_t len);

/* Re-reads each followed file from where the last read stopped; a file that shrank, was
 * replaced (another inode) or rewritten before that point is read again from the start.
 * Returns how many new secrets were stored. */
uint64_t mw_keylog_refresh(mw_keylog *kl);

/* The secret of kind for client_random, its length in *len (48 for CLIENT_RANDOM, 32 or
 * 48 otherwise), or NULL. Valid until mw_keylog_free; a later line for the same random
 * and label overwrites it in place, so copy it — from one thread only: another's refresh
 * may overwrite it while it is copied (several threads use mw_keylog_copy). */
const uint8_t *mw_keylog_find(const mw_keylog *kl,
                              const uint8_t client_random[MW_KEYLOG_RANDOM_LEN],
                              mw_keylog_kind kind, size_t *len);

/* As mw_keylog_find, the secret copied into out under the read lock; false when absent. */
bool mw_keylog_copy(const mw_keylog *kl, const uint8_t client_random[MW_KEYLOG_RANDOM_LEN],
                    mw_keylog_kind kind, uint8_t out[MW_KEYLOG_SECRET_MAX], size_t *len);

/* Does the key log hold any secret (of any kind) for client_random? One look-up. */
bool mw_keylog_has_any(const mw_keylog *kl, const uint8_t client_random[MW_KEYLOG_RANDOM_LEN]);

mw_keylog_stats mw_keylog_get_stats(const mw_keylog *kl);

/* The messages (one line each, no newline) added since the last call, oldest first; the
 * caller owns the array (g_ptr_array_unref). Never NULL. */
GPtrArray *mw_keylog_take_messages(mw_keylog *kl);

/* Files and buffers given so far, readable or not (0: no key log was given at all). */
unsigned mw_keylog_sources(const mw_keylog *kl);
/* The counter mw_keylog_sources reads (atomic, never decreases), for a test per record
 * without a call (tls_dec_keyless). NULL for NULL. */
const gint *mw_keylog_sources_counter(const mw_keylog *kl);

/* A followed file is among the sources: secrets may still arrive (mw_keylog_refresh). */
bool mw_keylog_may_grow(const mw_keylog *kl);

/* The directories of followed files, held open so that mw_keylog_refresh can open the
 * files again by openat relative to them (a sandbox allows openat on these only). Up to
 * max descriptors into fds; returns how many. */
size_t mw_keylog_dir_fds(const mw_keylog *kl, int *fds, size_t max);

/* The key log label of kind ("CLIENT_RANDOM", ...). */
const char *mw_keylog_kind_label(mw_keylog_kind kind);

#endif
