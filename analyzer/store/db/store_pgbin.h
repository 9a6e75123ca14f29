/* PostgreSQL's binary COPY format for the store's rows (store_pg.c).
 *
 * In the text format the server parses every column of every row from text: the COPY
 * line itself, two timestamps, two inet addresses, ports, and the findings' times; in
 * the binary format it takes them as they are (a timestamp is 8 bytes, an address 8 or 20).
 * On the benchmark's 50,000 sessions that is about a fifth of the server's CPU
 * (bench/store.sh). The jsonb columns still go as text (jsonb's binary input is a version
 * byte and the JSON text, mw_pg_json_text's, parsed as before). A value this cannot encode
 * (a time not in the form mailwire writes, an address that is not one) makes the batch go
 * as text. */
#ifndef MW_STORE_PGBIN_H
#define MW_STORE_PGBIN_H

#include <glib.h>
#include <stdbool.h>

#include "store/db/store_fields.h"

/* The signature and header before the first row, the trailer after the last. */
void mw_pgbin_begin(GString *g);
void mw_pgbin_end(GString *g);
/* One sessions row (staged >= 0: the staging table's n column first), the columns from
 * f, record and extra the JSON texts (extra may be NULL). False when
 * a value cannot be encoded; g is then left as it was. */
bool mw_pgbin_session(GString *g, const mw_store_fields *f, const char *record,
                      const char *extra, int staged);
/* One findings row of the session in f. */
bool mw_pgbin_finding(GString *g, const mw_store_fields *f, const mw_sf_finding *fd, int staged);
/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" (what mailwire writes) as PostgreSQL's timestamptz:
 * microseconds since 2000-01-01 UTC. False for any other form. */
bool mw_pgbin_time(const char *s, size_t n, gint64 *out);

#endif
