/* The session store (--db): every record written into SQLite (a file path) or PostgreSQL
 * (a postgresql:// URL or any libpq conninfo string), for reports and queries over weeks
 * and over several sensors (store_query.c, store_report.c).
 *
 * The writer thread hands each session's JSON record (the text --json writes, formatted
 * once for both) to the store with the report's extras and queues it; the store's own thread writes the queue in batches, one
 * transaction per --db-batch records or per --db-batch-interval, so a slow or restarting
 * database never stalls the analysis. When the database cannot be written, records go to
 * a bounded spool on disk (spool.h) and are replayed when it is back; inserts are
 * idempotent by uid, so a replay never stores a session twice. */
#ifndef MW_STORE_H
#define MW_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/session.h"

/* Records per transaction, and the longest a record waits for its batch. Each commit
 * rewrites the index pages its batch touched (uid, client, user are all over their
 * indexes): 5000 rather than 1000 halves what SQLite writes for a capture read at full
 * speed; live capture commits once a second anyway. */
#define MW_STORE_DEFAULT_BATCH 5000
#define MW_STORE_DEFAULT_INTERVAL_MS 1000
/* Seconds between attempts to reach a database that is down. */
#define MW_STORE_DEFAULT_RETRY_S 5
/* The spool's cap in MiB (all segments together). */
#define MW_STORE_DEFAULT_SPOOL_MB 256
/* Records queued between the writer thread and the store thread (at least two batches). */
#define MW_STORE_QUEUE 8192

typedef struct {
    const char *url;          /* --db */
    const char *spool_dir;    /* --db-spool; NULL: the default (mw_store_default_spool) */
    int64_t spool_max_bytes;  /* --db-spool-max */
    int batch;                /* --db-batch */
    int interval_ms;          /* --db-batch-interval */
    double retry_s;           /* --db-retry */
} mw_store_opts;

typedef struct mw_store mw_store;

/* Open the store: the database is reached and its schema created or migrated now, so a
 * wrong URL fails before any analysis; a database that is down when a run starts only
 * sends the records to the spool (with a warning), and a spool left by an earlier run is
 * replayed first. NULL with *err (one line) when the store cannot be used at all. */
mw_store *mw_store_open(const mw_store_opts *o, char **err);
/* A finished session with its JSON record (an mw_record_cb, output.h: the text --json
 * writes, formatted once for both): queued with the report's extras for the store thread. */
void mw_store_session(const mw_session *s, const char *json, size_t len, void *store);
/* Write what is queued, try the spool once more, stop the thread, print the store's
 * counts on stderr (records stored, spooled, dropped). False when records were dropped. */
bool mw_store_close(mw_store *st, bool quiet);

/* The spool directory used when --db-spool is not given: $STATE_DIRECTORY/spool under
 * systemd, else /var/lib/mailwire/spool when it can be written, else beside a SQLite
 * file (PATH.spool), else $TMPDIR/mailwire-spool-UID. Owned by the caller. */
char *mw_store_default_spool(const char *url);

#endif
