/* Rows in PostgreSQL's binary COPY format (store_pgbin.h): per row a field count, then
 * each field as a 32-bit length (-1: NULL) and its bytes, all integers big-endian. */
#include "store/db/store_pgbin.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "store/db/store_pgcopy.h"

/* inet's address families on the wire (PostgreSQL's utils/inet.h) */
#define MW_PGSQL_AF_INET 2
#define MW_PGSQL_AF_INET6 3
/* 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01 */
#define MW_PG_EPOCH_DAYS 10957

/* A few bytes onto g: in place when there is room (GString's own append, a call into
 * GLib for every 2 or 4 bytes, was a fifth of the store thread's work for PostgreSQL). */
static inline void put_bytes(GString *g, const char *b, size_t n)
{
    if (g->len + n < g->allocated_len) {
        memcpy(g->str + g->len, b, n);
        g->len += n;
        g->str[g->len] = '\0';
    } else {
        g_string_append_len(g, b, (gssize)n);
    }
}

static void be16(GString *g, uint16_t v)
{
    char b[2] = { (char)(v >> 8), (char)v };
    put_bytes(g, b, 2);
}

static void be32(GString *g, uint32_t v)
{
    char b[4] = { (char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v };
    put_bytes(g, b, 4);
}

static void be64(GString *g, uint64_t v)
{
    be32(g, (uint32_t)(v >> 32));
    be32(g, (uint32_t)v);
}

/* The 32-bit length at `at`: what follows it up to the end of g. */
static void patch_len(GString *g, size_t at)
{
    uint32_t len = (uint32_t)(g->len - at - 4);
    unsigned char *p = (unsigned char *)g->str + at;
    p[0] = (unsigned char)(len >> 24);
    p[1] = (unsigned char)(len >> 16);
    p[2] = (unsigned char)(len >> 8);
    p[3] = (unsigned char)len;
}

void mw_pgbin_begin(GString *g)
{
    g_string_append_len(g, "PGCOPY\n\377\r\n\0", 11);
    be32(g, 0); /* flags */
    be32(g, 0); /* header extension */
}

void mw_pgbin_end(GString *g)
{
    be16(g, 0xffff);
}

static void put_null(GString *g)
{
    be32(g, 0xffffffffu);
}

/* Text as it is, a NUL (text cannot hold one) as U+FFFD, as the text format stores it. */
static void put_text(GString *g, const char *s, size_t n)
{
    size_t at = g->len;
    be32(g, 0);
    const char *end = s + n, *nul;
    while ((nul = memchr(s, '\0', (size_t)(end - s))) != NULL) {
        g_string_append_len(g, s, nul - s);
        g_string_append_len(g, "\xef\xbf\xbd", 3);
        s = nul + 1;
    }
    g_string_append_len(g, s, end - s);
    patch_len(g, at);
}

static void put_str(GString *g, const mw_sf_val *v)
{
    if (v->s)
        put_text(g, v->s, v->n);
    else
        put_null(g);
}

static bool put_int(GString *g, const mw_sf_val *v, bool wide)
{
    gint64 x;
    if (!v->s) {
        put_null(g);
        return true;
    }
    if (!mw_sf_int(v, &x) || (!wide && (x < INT32_MIN || x > INT32_MAX)))
        return false;
    if (wide) {
        be32(g, 8);
        be64(g, (uint64_t)x);
    } else {
        be32(g, 4);
        be32(g, (uint32_t)(int32_t)x);
    }
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static gint64 days_from_civil(gint64 y, int m, int d)
{
    y -= m <= 2;
    gint64 era = (y >= 0 ? y : y - 399) / 400;
    gint64 yoe = y - era * 400;
    gint64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool mw_pgbin_time(const char *s, size_t n, gint64 *out)
{
    /* one pass: each digit into its field (year, month, day, hour, minute, second, µs) */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    static const unsigned char field[] = { 0, 0, 0, 0, 7, 1, 1, 7, 2, 2, 7, 3, 3, 7,
                                           4, 4, 7, 5, 5, 7, 6, 6, 6, 6, 6, 6, 7 };
    if (n != sizeof shape - 1)
        return false;
    int v[8] = { 0 };
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - (unsigned)'0';
        if (shape[i] == 'd' && d <= 9)
            v[field[i]] = v[field[i]] * 10 + (int)d;
        else if (shape[i] == 'd' || s[i] != shape[i])
            return false;
    }
    int y = v[0], mo = v[1], d = v[2], h = v[3], mi = v[4], sec = v[5], us = v[6];
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
        return false;
    gint64 days = days_from_civil(y, mo, d) - MW_PG_EPOCH_DAYS;
    *out = ((days * 86400 + h * 3600 + mi * 60 + sec) * G_USEC_PER_SEC) + us;
    return true;
}

static bool put_time(GString *g, const mw_sf_val *v)
{
    gint64 t;
    if (!v->s) {
        put_null(g);
        return true;
    }
    if (v->num || !mw_pgbin_time(v->s, v->n, &t))
        return false;
    be32(g, 8);
    be64(g, (uint64_t)t);
    return true;
}

static bool put_inet(GString *g, const mw_sf_val *v)
{
    char txt[INET6_ADDRSTRLEN];
    unsigned char addr[16];
    if (!v->s || v->num || v->n == 0 || v->n >= sizeof txt)
        return false;
    memcpy(txt, v->s, v->n);
    txt[v->n] = '\0';
    bool v4 = inet_pton(AF_INET, txt, addr) == 1;
    if (!v4 && inet_pton(AF_INET6, txt, addr) != 1)
        return false;
    int nb = v4 ? 4 : 16;
    be32(g, (uint32_t)(4 + nb));
    char head[4] = { v4 ? MW_PGSQL_AF_INET : MW_PGSQL_AF_INET6, (char)(nb * 8), 0, (char)nb };
    g_string_append_len(g, head, 4);
    g_string_append_len(g, (const char *)addr, nb);
    return true;
}

/* jsonb's binary input: a version byte (1) and the JSON text, written in place as
 * PostgreSQL keeps it (mw_pg_json_text: a NUL as U+FFFD), the length put before it after.
 * The server still parses the text into its tree. */
#define MW_PG_JSONB_VERSION 1

static void put_jsonb(GString *g, const char *json)
{
    if (!json) {
        put_null(g);
        return;
    }
    size_t at = g->len;
    be32(g, 0);
    g_string_append_c(g, MW_PG_JSONB_VERSION);
    mw_pg_json_text(g, json);
    patch_len(g, at);
}

static void put_n(GString *g, int staged)
{
    be32(g, 4);
    be32(g, (uint32_t)staged);
}

bool mw_pgbin_session(GString *g, const mw_store_fields *f, const char *record,
                      const char *extra, int staged)
{
    size_t at = g->len;
    be16(g, staged >= 0 ? 16 : 15);
    if (staged >= 0)
        put_n(g, staged);
    put_str(g, &f->uid);
    bool ok = put_time(g, &f->ts_start) && put_time(g, &f->ts_end);
    if (ok) {
        put_str(g, &f->sensor);
        put_str(g, &f->input);
        ok = put_inet(g, &f->client_ip) && put_int(g, &f->client_port, false) &&
             put_inet(g, &f->server_ip) && put_int(g, &f->server_port, false);
    }
    if (ok) {
        put_str(g, &f->protocol);
        put_str(g, &f->outcome);
        put_str(g, &f->user);
        put_str(g, &f->tls_version);
        put_jsonb(g, record);
        put_jsonb(g, extra);
    }
    if (!ok)
        g_string_truncate(g, at);
    return ok;
}

bool mw_pgbin_finding(GString *g, const mw_store_fields *f, const mw_sf_finding *fd, int staged)
{
    size_t at = g->len;
    be16(g, staged >= 0 ? 7 : 6);
    if (staged >= 0)
        put_n(g, staged);
    put_str(g, &f->uid);
    put_str(g, &fd->flag);
    bool ok = put_int(g, &fd->frame, true) && put_time(g, &fd->ts);
    if (ok) {
        if (fd->source.s)
            put_str(g, &fd->source);
        else
            put_text(g, "wire", 4);
        put_str(g, &fd->detail);
    }
    if (!ok)
        g_string_truncate(g, at);
    return ok;
}
