/* One session as a JSON Lines record, keys in SPEC.md's order. */
#ifndef MW_RECORD_JSON_H
#define MW_RECORD_JSON_H

#include <glib.h>
#include <stdbool.h>

#include "core/session.h"

/* Appends the record (no trailing newline) to out. */
void mw_record_json(GString *out, const mw_session *s);
/* The same, with the redacted transcript (-v) when the session kept one. */
void mw_record_json_ex(GString *out, const mw_session *s, bool with_transcript);

#endif
