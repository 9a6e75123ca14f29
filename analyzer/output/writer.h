/* Writing records on a second thread. Formatting a record (JSON or text) and freeing the
 * session is about a fifth of mailwire's time on short sessions; handed to a writer
 * thread it overlaps with the analysis. Sessions queue in closing order and are written
 * in that order, so output is the same as when written in line. The queue is bounded:
 * when the writer falls behind, the analysis waits. */
#ifndef MW_WRITER_H
#define MW_WRITER_H

#include "engine/flow.h"
#include "core/session.h"

/* Sessions waiting to be written, at most. */
#define MW_WRITER_QUEUE 1024

typedef struct mw_writer mw_writer;

/* Start a writer that calls out(s, out_user) then frees s, for every session taken.
 * NULL when no thread could be started (write in line instead). */
/* flush (may be NULL) runs on the writer thread whenever the queue has been emptied, so a
 * streaming output is flushed once per batch rather than once per record. */
mw_writer *mw_writer_start(mw_session_cb out, void (*flush)(void *out_user), void *out_user);
/* The engine's hand-over callback (mw_engine_hand_over): queue s for the writer. */
void mw_writer_take(mw_session *s, void *writer);
/* Before the first take: each written session goes to release(s, user), on the thread
 * that takes (in mw_writer_take), instead of to mw_session_free: to be freed by the thread
 * that allocated it (analyzer/parallel/). Those left at mw_writer_stop are freed there. */
void mw_writer_on_written(mw_writer *w, mw_session_take_cb release, void *user);
/* Write what is queued, stop the thread, free the writer. */
void mw_writer_stop(mw_writer *w);

#endif
