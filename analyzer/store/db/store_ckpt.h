/* SQLite's WAL checkpoints on a thread of their own (store_sqlite.c's writer).
 *
 * A checkpoint copies the WAL's pages into the database file and, with synchronous=NORMAL,
 * waits for two fdatasyncs (the WAL before, the file after). Done by the writer itself
 * (SQLite's automatic checkpoint, inside a COMMIT) the store thread stood still for them:
 * on the benchmark's 50,000 sessions 15 fdatasyncs, 0.9 s of the store thread's time
 * with the disk shared, while the queue filled and the analysis waited. Here the writer's
 * connection only notes, after each commit, how long its WAL is (sqlite3_wal_hook); past
 * `pages` this thread, with its own connection, checkpoints PASSIVE (never waiting for
 * the writer or readers) while the writer goes on.
 *
 * A WAL starts again at its beginning only when a transaction begins with all of it
 * copied back; a writer that never pauses always has its last commit not yet copied. So
 * past `max_pages` the writer checkpoints itself after the commit (what the thread has
 * not copied: about one batch, and the fdatasyncs), and its next transaction writes the
 * WAL from the start: the WAL never grows past that, and the writer waits for one short
 * checkpoint where it waited for max_pages / pages long ones. Durability is SQLite's own
 * for WAL with synchronous=NORMAL: a crash of mailwire loses nothing committed, a power
 * cut may lose the last commits but never damages the file. */
#ifndef MW_STORE_CKPT_H
#define MW_STORE_CKPT_H

#include <sqlite3.h>

typedef struct mw_sqlite_ckpt mw_sqlite_ckpt;

/* Turns the writer's automatic checkpoints off and starts the thread, with a connection
 * of its own to path: a checkpoint when a commit leaves the WAL at `pages` or more, the
 * writer's own at `max_pages`. NULL (the writer's automatic checkpoints left as they
 * are) when the connection or the thread cannot be had. */
mw_sqlite_ckpt *mw_sqlite_ckpt_start(sqlite3 *writer, const char *path, int pages,
                                     int max_pages);
/* Stops the thread (after the checkpoint it is in) and closes its connection; before the
 * writer's connection is closed (its close checkpoints what is left). */
void mw_sqlite_ckpt_stop(mw_sqlite_ckpt *c);

#endif
