/* The spool: records the database could not take yet, on disk in segment files of one
 * line each ("record<TAB>extras"), replayed oldest first when the database is back. The
 * spool has a cap (all segments together); past it the segments already written are kept
 * and new records are dropped, counted, and reported, never silently. A spool left by an
 * earlier run (the database was down when it ended) is replayed by the next one. */
#ifndef MW_SPOOL_H
#define MW_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store_db.h"

/* A segment is closed and a new one begun past this share of the cap... */
#define MW_SPOOL_SEGMENTS 16
/* ...but never smaller than this. */
#define MW_SPOOL_MIN_SEGMENT (64 * 1024)

typedef struct mw_spool mw_spool;

/* Nothing is created until the first record is spooled. */
mw_spool *mw_spool_open(const char *dir, int64_t cap_bytes);
const char *mw_spool_dir(const mw_spool *sp);
bool mw_spool_empty(const mw_spool *sp);
/* One record. False when it was dropped (cap reached, or the disk refused it). */
bool mw_spool_append(mw_spool *sp, const mw_store_row *row);
/* Flush what was appended (at the end of each batch). */
void mw_spool_flush(mw_spool *sp);

/* Writes a batch; returns MW_DB_OK when it was stored. */
typedef mw_db_status (*mw_spool_write_fn)(const mw_store_row *rows, size_t n, void *user);
/* Replay every segment, oldest first, in batches of `batch`; a segment is removed once
 * all its records are stored. Stops at the first batch not stored. True when empty. */
bool mw_spool_replay(mw_spool *sp, size_t batch, mw_spool_write_fn fn, void *user);

uint64_t mw_spool_appended(const mw_spool *sp);  /* records spooled by this run */
uint64_t mw_spool_replayed(const mw_spool *sp);  /* records replayed from the spool */
uint64_t mw_spool_dropped(const mw_spool *sp);   /* records dropped: spool full */
int64_t mw_spool_bytes(const mw_spool *sp);      /* bytes held now */
void mw_spool_free(mw_spool *sp);

#endif
