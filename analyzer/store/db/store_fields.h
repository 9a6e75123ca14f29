/* The columns of a stored session, read out of its JSON record in one pass, in C.
 *
 * Both databases used to pull every column out of the record with their own JSON
 * functions, once per column (SQLite's json_extract, PostgreSQL's ->>), and the batch
 * travelled as one more JSON document: the parse cost more than the insert. The record is
 * scanned here once; the values are the ones json_extract(record, '$.key') gives (strings
 * unescaped, JSON null as SQL NULL, numbers as their literal), so the columns are what
 * they were. A record that is not well-formed JSON is refused, as the databases did. */
#ifndef MW_STORE_FIELDS_H
#define MW_STORE_FIELDS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* Nesting the scanner follows before it calls the record malformed. */
#define MW_STORE_FIELDS_MAX_DEPTH 64

/* One value: s == NULL for JSON null or a missing key. num: the value was a JSON number
 * (or true/false, as "1"/"0", which is what json_extract returns), its literal in s. A
 * string may hold a NUL (from \u0000); each database deals with it (store_sqlite.c,
 * store_pg.c). Valid until the next parse. */
typedef struct {
    const char *s;
    size_t n;
    bool num;
} mw_sf_val;

/* One entry of "evidence": a findings row. */
typedef struct {
    mw_sf_val flag, frame, ts, source, detail;
} mw_sf_finding;

typedef struct {
    mw_sf_val uid, ts_start, ts_end, sensor, input, client_ip, client_port, server_ip,
        server_port, protocol, outcome, user, tls_version;
    GArray *findings;      /* mw_sf_finding */
    GStringChunk *strings; /* unescaped strings */
    GString *tmp;
} mw_store_fields;

void mw_store_fields_init(mw_store_fields *f);
void mw_store_fields_clear(mw_store_fields *f);
/* False (with *why, static text) when the record is not well-formed JSON. */
bool mw_store_fields_parse(mw_store_fields *f, const char *record, const char **why);
/* A number's literal as an integer; false when it is not a plain integer. */
bool mw_sf_int(const mw_sf_val *v, gint64 *out);

/* The columns packed by the writer thread from the session itself (store_cols.c), so the
 * store thread does not scan the record's text for them: the 13 columns in the order of
 * mw_store_fields, a 32-bit count of findings, and the 5 values of each. A value is a
 * kind byte (MW_SF_NULL, MW_SF_STR, MW_SF_NUM), a 32-bit length in host order and its
 * bytes (the unescaped value, as the scan gives it). */
enum { MW_SF_NULL = 'n', MW_SF_STR = 's', MW_SF_NUM = 'd' };
void mw_sf_pack(GString *g, char kind, const char *s, size_t n);
void mw_sf_pack_count(GString *g, guint32 n);
/* f's values point into packed (valid while it is); false when packed is not such a block. */
bool mw_store_fields_unpack(mw_store_fields *f, const char *packed, size_t n);
/* The body of a JSON string (between its quotes, escapes as JSON has them) unescaped into
 * out, as the scan unescapes it; false for a bad escape. */
bool mw_sf_unescape(const char *body, size_t n, GString *out);

#endif
