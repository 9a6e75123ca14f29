/* A stored record read back as a session (the fields the report and the query's text
 * lines use), so the report code takes sessions from the store as it takes them from a
 * run. json-glib parses the JSON. */
#ifndef MW_STORE_RECORD_H
#define MW_STORE_RECORD_H

#include <stdio.h>

#include "core/session.h"
#include "store/store_db.h"
#include "store/store_filter.h"

/* NULL with *err when the record is not a mailwire record. The session's input is
 * interned; sensor and uid are not kept (see mw_store_record_text). Free with
 * mw_session_free. */
mw_session *mw_store_record_session(const char *record, const char *extra, char **err);
/* The query's text line for a record: start, sensor, uid, protocol, client -> server,
 * outcome, user, flags. */
void mw_store_record_text(GString *out, const char *record, const char *extra);

/* `mailwire report`: the filter made, the store opened. */
int mw_store_report(mw_store_db *db, const mw_store_filter *f, const char *path);

#endif
