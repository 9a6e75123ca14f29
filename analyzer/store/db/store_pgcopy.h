/* A batch's rows as PostgreSQL COPY data (store_pg.c sends it): the sessions rows and
 * their findings rows, in the binary format (store_pgbin.h) or COPY's text format.
 *
 * Rows are encoded one at a time into `sessions` (and `findings`), which store_pg.c
 * hands to the server in chunks as they fill, so the server stores the first rows of a
 * batch while the next ones are encoded; the findings go in a second COPY after them. */
#ifndef MW_STORE_PGCOPY_H
#define MW_STORE_PGCOPY_H

#include <glib.h>
#include <stdbool.h>

#include "store/db/store_fields.h"
#include "store/store_db.h"

typedef struct {
    mw_store_fields fields;
    GString *sessions, *findings; /* COPY data not sent yet */
    GString *tmp;                 /* a record as PostgreSQL takes it (text format) */
    bool binary;
} mw_pg_copy;

/* How a row went: encoded, not JSON (the database would refuse it: why says what), or a
 * value the binary format cannot carry (the batch goes again in the text format). */
typedef enum { MW_PGC_OK, MW_PGC_MALFORMED, MW_PGC_UNENCODABLE } mw_pgc_status;

void mw_pg_copy_init(mw_pg_copy *c);
void mw_pg_copy_clear(mw_pg_copy *c);
/* Empties both buffers and, in the binary format, writes their headers. */
void mw_pg_copy_begin(mw_pg_copy *c, bool binary);
/* One row (staged >= 0: each row begins with its place in the batch, for the staging
 * tables); on anything but MW_PGC_OK the buffers are left as they were. */
mw_pgc_status mw_pg_copy_row(mw_pg_copy *c, const mw_store_row *r, int staged,
                             const char **why);
/* The trailers (binary format) after the last row. */
void mw_pg_copy_end(mw_pg_copy *c);

/* The JSON text as PostgreSQL keeps it: a NUL the wire carried (\u0000 in the record) as
 * U+FFFD (\ufffd), as jsonb cannot hold U+0000; a backslash before "u0000" that is itself
 * escaped ("\\u0000", text) is left alone. */
void mw_pg_json_text(GString *g, const char *json);

#endif
