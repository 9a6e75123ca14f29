/* The record's columns in one pass (store_fields.h): a small JSON scanner that keeps the
 * keys the schema has columns for and steps over everything else. */
#include "store/db/store_fields.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    int depth;
    const char *why;
    mw_store_fields *f;
} scan;

static bool fail(scan *s, const char *why)
{
    if (!s->why)
        s->why = why;
    return false;
}

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool take(scan *s, char c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* A code point as UTF-8; a lone surrogate as its own three bytes, as SQLite does. */
static void put_utf8(GString *g, unsigned u)
{
    char b[4];
    int n;
    if (u < 0x80) {
        b[0] = (char)u;
        n = 1;
    } else if (u < 0x800) {
        b[0] = (char)(0xc0 | u >> 6);
        b[1] = (char)(0x80 | (u & 0x3f));
        n = 2;
    } else if (u < 0x10000) {
        b[0] = (char)(0xe0 | u >> 12);
        b[1] = (char)(0x80 | (u >> 6 & 0x3f));
        b[2] = (char)(0x80 | (u & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | u >> 18);
        b[1] = (char)(0x80 | (u >> 12 & 0x3f));
        b[2] = (char)(0x80 | (u >> 6 & 0x3f));
        b[3] = (char)(0x80 | (u & 0x3f));
        n = 4;
    }
    g_string_append_len(g, b, n);
}

bool mw_sf_unescape(const char *p, size_t n, GString *g)
{
    const char *end = p + n;
    g_string_truncate(g, 0);
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        if (!bs) {
            g_string_append_len(g, p, end - p);
            break;
        }
        g_string_append_len(g, p, bs - p);
        if (end - bs < 2)
            return false;
        char c = bs[1];
        p = bs + 2;
        switch (c) {
        case '"': case '\\': case '/': g_string_append_c(g, c); break;
        case 'b': g_string_append_c(g, '\b'); break;
        case 'f': g_string_append_c(g, '\f'); break;
        case 'n': g_string_append_c(g, '\n'); break;
        case 'r': g_string_append_c(g, '\r'); break;
        case 't': g_string_append_c(g, '\t'); break;
        case 'u': {
            int u = end - p >= 4 ? hex4(p) : -1;
            if (u < 0)
                return false;
            p += 4;
            if (u >= 0xd800 && u < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                int lo = hex4(p + 2);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
            }
            put_utf8(g, (unsigned)u);
            break;
        }
        default:
            return false;
        }
    }
    return true;
}

/* The body of a string with escapes, [p, end), unescaped into f->strings. */
static bool unescape(scan *s, const char *p, const char *end, mw_sf_val *out)
{
    GString *g = s->f->tmp;
    if (!mw_sf_unescape(p, (size_t)(end - p), g))
        return fail(s, "a bad escape");
    out->s = g_string_chunk_insert_len(s->f->strings, g->str, (gssize)g->len);
    out->n = g->len;
    return true;
}

/* Bytes a string's body or a number runs over without a second look: the scan is most of
 * the store thread's own work (a record is 1-3 KB, most of it strings), so one table
 * lookup a byte rather than a comparison chain or strchr. */
enum { C_PLAIN = 1, C_NUM = 2 };
static const unsigned char CLASS[256] = {
#define P1(c) [c] = C_PLAIN
#define N1(c) [c] = C_PLAIN | C_NUM
    P1(' '), P1('!'), P1('#'), P1('$'), P1('%'), P1('&'), P1('\''), P1('('), P1(')'), P1('*'),
    N1('+'), P1(','), N1('-'), N1('.'), P1('/'), N1('0'), N1('1'), N1('2'), N1('3'), N1('4'),
    N1('5'), N1('6'), N1('7'), N1('8'), N1('9'), P1(':'), P1(';'), P1('<'), P1('='), P1('>'),
    P1('?'), P1('@'), P1('A'), P1('B'), P1('C'), P1('D'), N1('E'), P1('F'), P1('G'), P1('H'),
    P1('I'), P1('J'), P1('K'), P1('L'), P1('M'), P1('N'), P1('O'), P1('P'), P1('Q'), P1('R'),
    P1('S'), P1('T'), P1('U'), P1('V'), P1('W'), P1('X'), P1('Y'), P1('Z'), P1('['), P1(']'),
    P1('^'), P1('_'), P1('`'), P1('a'), P1('b'), P1('c'), P1('d'), N1('e'), P1('f'), P1('g'),
    P1('h'), P1('i'), P1('j'), P1('k'), P1('l'), P1('m'), P1('n'), P1('o'), P1('p'), P1('q'),
    P1('r'), P1('s'), P1('t'), P1('u'), P1('v'), P1('w'), P1('x'), P1('y'), P1('z'), P1('{'),
    P1('|'), P1('}'), P1('~'), [0x7f ... 0xff] = C_PLAIN,
#undef P1
#undef N1
};

/* A string; out (when not NULL) gets its value. */
static bool string(scan *s, mw_sf_val *out)
{
    ws(s);
    if (s->p >= s->end || *s->p != '"')
        return fail(s, "a string expected");
    const char *b = ++s->p, *q = b;
    bool esc = false;
    for (;;) {
        /* the record ends in a NUL (not plain): no bounds check in the run */
        while (CLASS[(unsigned char)*q] & C_PLAIN)
            q++;
        if (q >= s->end)
            return fail(s, "an unterminated string");
        unsigned char c = (unsigned char)*q;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(s, "a control character in a string");
        /* a backslash */
        if (s->end - q < 2)
            return fail(s, "an unterminated string");
        esc = true;
        q += 2;
    }
    s->p = q + 1;
    if (!out)
        return true;
    out->num = false;
    if (esc)
        return unescape(s, b, q, out);
    out->s = b;
    out->n = (size_t)(q - b);
    return true;
}

static bool literal(scan *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail(s, "a bad literal");
    s->p += n;
    return true;
}

static bool number(scan *s, mw_sf_val *out)
{
    const char *b = s->p;
    while (s->p < s->end && (CLASS[(unsigned char)*s->p] & C_NUM))
        s->p++;
    if (s->p == b)
        return fail(s, "a value expected");
    if (out)
        *out = (mw_sf_val){ b, (size_t)(s->p - b), true };
    return true;
}

static bool value(scan *s, mw_sf_val *out);

/* An object, each member handed to member(); NULL: stepped over. */
typedef bool (*member_fn)(scan *s, const mw_sf_val *key, void *ctx);

static bool object(scan *s, member_fn member, void *ctx)
{
    if (!take(s, '{'))
        return fail(s, "an object expected");
    if (++s->depth > MW_STORE_FIELDS_MAX_DEPTH)
        return fail(s, "nested too deep");
    if (!take(s, '}')) {
        do {
            mw_sf_val key;
            if (!string(s, &key) || !take(s, ':'))
                return fail(s, "a member expected");
            if (!(member ? member(s, &key, ctx) : value(s, NULL)))
                return false;
        } while (take(s, ','));
        if (!take(s, '}'))
            return fail(s, "an unterminated object");
    }
    s->depth--;
    return true;
}

typedef bool (*element_fn)(scan *s, void *ctx);

static bool array(scan *s, element_fn element, void *ctx)
{
    if (!take(s, '['))
        return fail(s, "an array expected");
    if (++s->depth > MW_STORE_FIELDS_MAX_DEPTH)
        return fail(s, "nested too deep");
    if (!take(s, ']')) {
        do {
            if (!(element ? element(s, ctx) : value(s, NULL)))
                return false;
        } while (take(s, ','));
        if (!take(s, ']'))
            return fail(s, "an unterminated array");
    }
    s->depth--;
    return true;
}

/* Any value; out gets strings, numbers and literals (an object or an array: its text). */
static bool value(scan *s, mw_sf_val *out)
{
    ws(s);
    if (s->p >= s->end)
        return fail(s, "a value expected");
    const char *b = s->p;
    bool ok;
    switch (*s->p) {
    case '"': return string(s, out);
    case '{': ok = object(s, NULL, NULL); break;
    case '[': ok = array(s, NULL, NULL); break;
    case 'n':
        if (out)
            *out = (mw_sf_val){ NULL, 0, false };
        return literal(s, "null", 4);
    case 't':
        if (out)
            *out = (mw_sf_val){ "1", 1, true };
        return literal(s, "true", 4);
    case 'f':
        if (out)
            *out = (mw_sf_val){ "0", 1, true };
        return literal(s, "false", 5);
    default: return number(s, out);
    }
    if (ok && out)
        *out = (mw_sf_val){ b, (size_t)(s->p - b), false };
    return ok;
}

static inline bool is_key(const mw_sf_val *k, const char *name)
{
    return k->n && k->s[0] == name[0] && strlen(name) == k->n && memcmp(k->s, name, k->n) == 0;
}

/* The first of duplicate keys counts (as in json_extract); later ones are stepped over. */
static bool keep(scan *s, mw_sf_val *slot, bool *seen)
{
    if (*seen)
        return value(s, NULL);
    *seen = true;
    return value(s, slot);
}

typedef struct {
    mw_sf_val *slot;
    const char *key;
    bool seen;
} one_key;

static bool inner_member(scan *s, const mw_sf_val *key, void *ctx)
{
    one_key *k = ctx;
    return is_key(key, k->key) ? keep(s, k->slot, &k->seen) : value(s, NULL);
}

/* "auth": {"user": ...}, "tls": {"version": ...}; anything but an object leaves NULL. */
static bool inner(scan *s, mw_sf_val *slot, const char *key, bool *seen)
{
    ws(s);
    if (*seen || s->p >= s->end || *s->p != '{')
        return value(s, NULL);
    *seen = true;
    one_key k = { slot, key, false };
    return object(s, inner_member, &k);
}

typedef struct {
    mw_sf_finding *fd;
    bool seen[5];
} finding_ctx;

static bool finding_member(scan *s, const mw_sf_val *key, void *ctx)
{
    finding_ctx *c = ctx;
    static const char *const names[5] = { "flag", "frame", "ts", "source", "detail" };
    mw_sf_val *slots[5] = { &c->fd->flag, &c->fd->frame, &c->fd->ts, &c->fd->source,
                            &c->fd->detail };
    for (int i = 0; i < 5; i++)
        if (is_key(key, names[i]))
            return keep(s, slots[i], &c->seen[i]);
    return value(s, NULL);
}

static bool finding(scan *s, void *ctx)
{
    (void)ctx;
    mw_sf_finding fd = { 0 };
    finding_ctx c = { &fd, { false } };
    ws(s);
    if (s->p < s->end && *s->p != '{') /* not an object: a row without a flag (refused) */
        return value(s, NULL) && (g_array_append_val(s->f->findings, fd), true);
    if (!object(s, finding_member, &c))
        return false;
    g_array_append_val(s->f->findings, fd);
    return true;
}

/* The top level's keys with a column. */
enum { K_UID, K_TS_START, K_TS_END, K_SENSOR, K_INPUT, K_CLIENT_IP, K_CLIENT_PORT, K_SERVER_IP,
       K_SERVER_PORT, K_PROTOCOL, K_OUTCOME, K_AUTH, K_TLS, K_EVIDENCE, K_COUNT };

typedef struct {
    bool seen[K_COUNT];
} top_ctx;

static bool top_member(scan *s, const mw_sf_val *key, void *ctx)
{
    static const char *const names[K_COUNT] = {
        "uid", "ts_start", "ts_end", "sensor", "input", "client_ip", "client_port",
        "server_ip", "server_port", "protocol", "outcome", "auth", "tls", "evidence" };
    top_ctx *c = ctx;
    mw_store_fields *f = s->f;
    mw_sf_val *slots[K_AUTH] = { &f->uid, &f->ts_start, &f->ts_end, &f->sensor, &f->input,
                                 &f->client_ip, &f->client_port, &f->server_ip,
                                 &f->server_port, &f->protocol, &f->outcome };
    int k = 0;
    while (k < K_COUNT && !is_key(key, names[k]))
        k++;
    if (k < K_AUTH)
        return keep(s, slots[k], &c->seen[k]);
    if (k == K_AUTH)
        return inner(s, &f->user, "user", &c->seen[k]);
    if (k == K_TLS)
        return inner(s, &f->tls_version, "version", &c->seen[k]);
    ws(s);
    if (k == K_EVIDENCE && !c->seen[k] && s->p < s->end && *s->p == '[') {
        c->seen[k] = true;
        return array(s, finding, NULL);
    }
    return value(s, NULL);
}

void mw_store_fields_init(mw_store_fields *f)
{
    memset(f, 0, sizeof *f);
    f->findings = g_array_new(FALSE, TRUE, sizeof(mw_sf_finding));
    f->strings = g_string_chunk_new(4096);
    f->tmp = g_string_sized_new(256);
}

void mw_store_fields_clear(mw_store_fields *f)
{
    if (f->findings)
        g_array_free(f->findings, TRUE);
    if (f->strings)
        g_string_chunk_free(f->strings);
    if (f->tmp)
        g_string_free(f->tmp, TRUE);
    memset(f, 0, sizeof *f);
}

bool mw_store_fields_parse(mw_store_fields *f, const char *record, const char **why)
{
    GArray *findings = f->findings;
    GStringChunk *strings = f->strings;
    GString *tmp = f->tmp;
    memset(f, 0, sizeof *f);
    f->findings = findings;
    f->strings = strings;
    f->tmp = tmp;
    g_array_set_size(findings, 0);
    g_string_chunk_clear(strings);
    scan s = { record, record + strlen(record), 0, NULL, f };
    top_ctx c = { { false } };
    bool ok = object(&s, top_member, &c);
    ws(&s);
    if (ok && s.p != s.end)
        ok = fail(&s, "text after the record");
    if (!ok && why)
        *why = s.why ? s.why : "not JSON";
    return ok;
}

bool mw_sf_int(const mw_sf_val *v, gint64 *out)
{
    if (!v->s || !v->num || v->n == 0 || v->n > 20)
        return false;
    char buf[24];
    memcpy(buf, v->s, v->n);
    buf[v->n] = '\0';
    char *end;
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (*end || errno)
        return false;
    *out = x;
    return true;
}

void mw_sf_pack(GString *g, char kind, const char *s, size_t n)
{
    guint32 len = kind == MW_SF_NULL ? 0 : (guint32)n;
    size_t at = g->len;
    g_string_set_size(g, at + 1 + sizeof len + len); /* one call: ~20 values a record */
    char *d = g->str + at;
    d[0] = kind;
    memcpy(d + 1, &len, sizeof len);
    if (len)
        memcpy(d + 1 + sizeof len, s, len);
}

void mw_sf_pack_count(GString *g, guint32 n)
{
    g_string_append_len(g, (const char *)&n, sizeof n);
}

typedef struct {
    const char *p, *end;
} unpacker;

static bool unpack_u32(unpacker *u, guint32 *out)
{
    if ((size_t)(u->end - u->p) < sizeof *out)
        return false;
    memcpy(out, u->p, sizeof *out);
    u->p += sizeof *out;
    return true;
}

static bool unpack_val(unpacker *u, mw_sf_val *v)
{
    guint32 len;
    if (u->p >= u->end)
        return false;
    char kind = *u->p++;
    if (!unpack_u32(u, &len) || (size_t)(u->end - u->p) < len)
        return false;
    if (kind == MW_SF_NULL)
        *v = (mw_sf_val){ NULL, 0, false };
    else if (kind == MW_SF_STR || kind == MW_SF_NUM)
        *v = (mw_sf_val){ len ? u->p : "", len, kind == MW_SF_NUM };
    else
        return false;
    u->p += len;
    return true;
}

bool mw_store_fields_unpack(mw_store_fields *f, const char *packed, size_t n)
{
    g_array_set_size(f->findings, 0);
    unpacker u = { packed, packed + n };
    mw_sf_val *cols[13] = { &f->uid, &f->ts_start, &f->ts_end, &f->sensor, &f->input,
                            &f->client_ip, &f->client_port, &f->server_ip, &f->server_port,
                            &f->protocol, &f->outcome, &f->user, &f->tls_version };
    for (int i = 0; i < 13; i++)
        if (!unpack_val(&u, cols[i]))
            return false;
    guint32 nf;
    if (!unpack_u32(&u, &nf))
        return false;
    for (guint32 i = 0; i < nf; i++) {
        mw_sf_finding fd;
        if (!unpack_val(&u, &fd.flag) || !unpack_val(&u, &fd.frame) || !unpack_val(&u, &fd.ts) ||
            !unpack_val(&u, &fd.source) || !unpack_val(&u, &fd.detail))
            return false;
        g_array_append_val(f->findings, fd);
    }
    return u.p == u.end;
}
