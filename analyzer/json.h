/* Small JSON emitting helpers over a GString. Wire bytes are escaped here, on output:
 * control characters as \u00XX, and bytes that are not valid UTF-8 as the Latin-1
 * character of the same value, so every record is valid UTF-8 whatever the wire held. */
#ifndef MW_JSON_H
#define MW_JSON_H

#include <glib.h>
#include <stdint.h>

#include "session.h"

void mw_json_str(GString *out, const char *s);      /* "..." or null */
void mw_json_strn(GString *out, const char *s, size_t len);
void mw_json_key(GString *out, const char *key);    /* ,"key": (comma when needed) */
/* RFC 3339 UTC with microseconds: 2024-05-01T10:00:00.123456Z */
void mw_format_time(GString *out, int64_t ts_us);
/* ip:port, or [v6]:port */
void mw_format_endpoint(GString *out, const mw_endpoint *ep);

#endif
