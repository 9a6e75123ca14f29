/* Sessions whose content stayed hidden by TLS (no key log, or none for them): never a
 * silent "No problems found". What is visible of each (handshake, who closed first, bytes
 * and records each way, how long the server was silent before the close) and how to see
 * inside. Used by the text summary and the report. */
#ifndef MW_UNSEEN_H
#define MW_UNSEEN_H

#include <glib.h>
#include <stdbool.h>

#include "core/session.h"

/* Sessions described one by one; later ones are only counted. */
#define MW_UNSEEN_LISTED 20

/* Did s carry mail content that TLS kept from view? */
bool mw_session_unseen(const mw_session *s);
/* What can be seen of such a session, in one line without a newline ("handshake
 * completed; client 3 records (153 bytes), server 4 records (1.2 kB); the client closed
 * first; the server was silent 0.2 s before the close; no key log given"). */
void mw_unseen_describe(GString *out, const mw_session *s);

typedef struct mw_unseen mw_unseen;
mw_unseen *mw_unseen_new(void);
void mw_unseen_free(mw_unseen *u);
void mw_unseen_add(mw_unseen *u, const mw_session *s);
uint64_t mw_unseen_count(const mw_unseen *u);
/* The i-th listed session: its id and description. */
guint mw_unseen_listed(const mw_unseen *u);
const char *mw_unseen_id(const mw_unseen *u, guint i);
const char *mw_unseen_line(const mw_unseen *u, guint i);
/* "1 session could not be seen: ..." and how to see inside, in plain text lines. */
void mw_unseen_summary(GString *out, const mw_unseen *u);
/* How to see inside, one sentence. */
const char *mw_unseen_howto(void);

#endif
