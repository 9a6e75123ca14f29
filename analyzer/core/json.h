/* Small JSON emitting helpers over a GString. Wire bytes are escaped here, on output:
 * control characters as \u00XX, and bytes that are not valid UTF-8 as the Latin-1
 * character of the same value, so every record is valid UTF-8 whatever the wire held. */
#ifndef MW_JSON_H
#define MW_JSON_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/session.h"

/* Append n bytes: the common case (they fit) inline, as GLib 2.76+ does in
 * g_string_append_len; GLib 2.74 (Debian 12) always calls g_string_insert_len. */
static inline void mw_put(GString *g, const char *p, size_t n)
{
    if (G_LIKELY(g->len + n < g->allocated_len)) {
        memcpy(g->str + g->len, p, n);
        g->len += n;
        g->str[g->len] = '\0';
    } else {
        g_string_append_len(g, p, (gssize)n);
    }
}
#define mw_put_lit(g, lit) mw_put((g), "" lit, sizeof(lit) - 1)

/* Room for n more bytes (and the NUL) after g->len; returns where they go. The writer
 * then fills them and calls mw_commit with the end of what it wrote. */
static inline char *mw_reserve(GString *g, size_t n)
{
    if (G_UNLIKELY(g->len + n >= g->allocated_len)) {
        gsize len = g->len;
        g_string_set_size(g, len + n); /* grows the buffer; the bytes are overwritten */
        g->len = len;
    }
    return g->str + g->len;
}

static inline void mw_commit(GString *g, char *end)
{
    g->len = (gsize)(end - g->str);
    *end = '\0';
}

void mw_json_str(GString *out, const char *s);      /* "..." or null */
void mw_json_strn(GString *out, const char *s, size_t len);
/* The first byte of the NUL-ended s that a JSON string does not hold as it is (an escape,
 * or a byte of 0x80 and above, checked as UTF-8), or its NUL: one pass that finds both the
 * length and whether there is anything to escape. Bytes are read one at a time and none
 * after the NUL, which may be the last byte of a page or of an allocation (a wider read
 * past it is what ASan and ThreadSanitizer report). */
const char *mw_json_plain_end(const char *s);
/* {"key": (an object opened with its first key) and ,"key": (a key after the first) as
 * one literal of a length known at compile time: key must be a string literal. */
#define mw_json_first(out, key) mw_put_lit((out), "{\"" key "\":")
#define mw_json_next(out, key) mw_put_lit((out), ",\"" key "\":")
/* ,"key": (the comma when something precedes it in the object or array). Inline, so that
 * a literal key is copied with its length known at compile time. */
static inline void mw_json_key_n(GString *out, const char *key, size_t len)
{
    char *p = mw_reserve(out, len + 4);
    if (out->len && p[-1] != '{' && p[-1] != '[')
        *p++ = ',';
    *p++ = '"';
    memcpy(p, key, len);
    p += len;
    *p++ = '"';
    *p++ = ':';
    mw_commit(out, p);
}
#define mw_json_key(out, key) mw_json_key_n((out), (key), strlen(key))
/* ,"key":true or ,"key":false as one literal (key a string literal) */
#define mw_json_next_bool(out, key, v)                                                     \
    ((v) ? mw_put_lit((out), ",\"" key "\":true") : mw_put_lit((out), ",\"" key "\":false"))
/* true or false */
static inline void mw_json_bool(GString *out, bool v)
{
    if (v)
        mw_put_lit(out, "true");
    else
        mw_put_lit(out, "false");
}
/* "..." or null when s is NULL or empty */
void mw_json_opt_str(GString *out, const char *s);
/* The same of s with its length known (0: null), so with no scan for the NUL */
static inline void mw_json_opt_strn(GString *out, const char *s, size_t len)
{
    if (len)
        mw_json_strn(out, s, len);
    else
        mw_put_lit(out, "null");
}
/* A text that is mostly long (a flag's detail, a reply, a transcript line): measured by
 * libc's strlen, then mw_json_strn's 16-byte windows; the byte loop of mw_json_str costs 3
 * to 4 instructions a byte, cheaper only for short names and codes. Same bytes written. */
static inline void mw_json_text(GString *out, const char *s)
{
    if (s)
        mw_json_strn(out, s, strlen(s));
    else
        mw_put_lit(out, "null");
}
/* A NUL-ended text in a char array (not a pointer: its size bounds the look): measured by
 * libc's strnlen within the array instead of the byte loop of mw_json_str, then written as
 * mw_json_str and mw_json_opt_str write it. */
#define mw_json_buf(out, arr) mw_json_strn((out), (arr), strnlen((arr), sizeof(arr)))
#define mw_json_opt_buf(out, arr) mw_json_opt_strn((out), (arr), strnlen((arr), sizeof(arr)))
/* ["a","b"] of a GPtrArray of strings ([] when a is NULL) */
void mw_json_strlist(GString *out, const GPtrArray *a);
/* The same for n strings at v (a list in a session's arena). */
void mw_json_strv(GString *out, const char *const *v, size_t n);
/* Wire text for the terminal (the text output): control bytes shown as '.', never raw. */
void mw_text_printable(GString *out, const char *s);
void mw_json_u64_any(GString *out, uint64_t v); /* decimal, no printf */
/* The same, a single digit inline (counts of 0 are the most frequent number written) */
static inline void mw_json_u64(GString *out, uint64_t v)
{
    if (v < 10 && G_LIKELY(out->len + 1 < out->allocated_len)) {
        out->str[out->len++] = (char)('0' + v);
        out->str[out->len] = '\0';
    } else {
        mw_json_u64_any(out, v);
    }
}
void mw_json_i64(GString *out, int64_t v);
/* microseconds as seconds with six decimals, as "%.6f" of us / 1e6 prints them */
void mw_json_seconds(GString *out, int64_t us);
/* RFC 3339 UTC with microseconds: 2024-05-01T10:00:00.123456Z */
void mw_format_time(GString *out, int64_t ts_us);
/* The same quoted, as a JSON string: "2024-05-01T10:00:00.123456Z" */
void mw_json_time(GString *out, int64_t ts_us);
/* The UTC time of day secs as "YYYY-MM-DD HH:MM:SS" (with_date) or "HH:MM:SS", as
 * GDateTime's format gives them; false (nothing written) outside years 1000 to 9999. */
bool mw_format_utc_clock(GString *out, int64_t secs, bool with_date);
/* v (below 1000000) as six digits, zero-padded: "%06u" */
void mw_format_six(GString *out, unsigned v);
/* microseconds as seconds with one decimal: the bytes of "%.1f" of us / 1e6 */
void mw_format_tenths(GString *out, int64_t us);
/* The address alone as text (inet_ntop's form; IPv4 without printf) into out, NUL
 * ended; returns its length ("" and 0 when it does not fit in size). */
size_t mw_format_ip(const mw_endpoint *ep, char *out, size_t size);
/* The same text written at d (room for MW_IP_TEXT_MAX bytes), no NUL; returns its end */
#define MW_IP_TEXT_MAX 45
char *mw_put_ip(char *d, const mw_endpoint *ep);
/* ip:port, or [v6]:port */
void mw_format_endpoint(GString *out, const mw_endpoint *ep);
/* The same quoted, as a JSON string (it holds nothing to escape) */
void mw_json_endpoint(GString *out, const mw_endpoint *ep);

#endif
