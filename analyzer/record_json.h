/* One session as a JSON Lines record, keys in SPEC.md's order. */
#ifndef MW_RECORD_JSON_H
#define MW_RECORD_JSON_H

#include <glib.h>

#include "session.h"

/* Appends the record (no trailing newline) to out. */
void mw_record_json(GString *out, const mw_session *s);

#endif
