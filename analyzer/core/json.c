#include "core/json.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

/* Appends "\u00XX" for one byte. */
static void json_u00(GString *out, unsigned char ch)
{
    static const char hex[] = "0123456789abcdef";
    char b[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
    mw_put(out, b, 6);
}

/* Byte classes for mw_json_strn: 0 plain ASCII, 1 escaped (RFC 8259 section 7, plus
 * DEL), 2 the first byte of a possible UTF-8 sequence. */
static inline int byte_class(unsigned char ch)
{
    if (ch >= 0x80)
        return 2;
    return ch < 0x20 || ch == '"' || ch == '\\' || ch == 0x7f;
}

/* Whether any of the 8 bytes of w is of class 1 or 2 (the "determine if a word has a
 * byte less than / greater than / equal to n" bit tricks): the plain bytes of a string
 * are skipped a word at a time. */
static inline bool word_has_special(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    const uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    const uint64_t below_20 = (w - ones * 0x20) & ~w;
    const uint64_t is_quote = (q - ones) & ~q, is_backslash = (b - ones) & ~b;
    const uint64_t above_7e = (w + ones * (127 - 0x7e)) | w;
    return ((below_20 | is_quote | is_backslash | above_7e) & high) != 0;
}

void mw_json_strn(GString *out, const char *s, size_t len)
{
    g_string_append_c(out, '"');
    const char *end = s + len;
    while (s < end) {
        /* the run of bytes that need nothing goes out in one piece */
        const char *run = s;
        for (;;) {
            uint64_t w;
            if (end - s >= 8 && (memcpy(&w, s, 8), !word_has_special(w))) {
                s += 8;
                continue;
            }
            if (s < end && byte_class((unsigned char)*s) == 0) {
                s++;
                continue;
            }
            break;
        }
        if (s > run)
            mw_put(out, run, s - run);
        if (s == end)
            break;
        unsigned char ch = (unsigned char)*s;
        if (byte_class(ch) == 1) {
            s++;
            switch (ch) {
            case '"': mw_put(out, "\\\"", 2); break;
            case '\\': mw_put(out, "\\\\", 2); break;
            case '\n': mw_put(out, "\\n", 2); break;
            case '\r': mw_put(out, "\\r", 2); break;
            case '\t': mw_put(out, "\\t", 2); break;
            default: json_u00(out, ch); /* other controls, NUL, DEL */
            }
            continue;
        }
        /* A valid UTF-8 character is kept as it is; an invalid byte becomes the Latin-1
         * character of its value, so the record stays valid UTF-8. */
        gunichar u = g_utf8_get_char_validated(s, end - s);
        if (u < 0x110000) {
            size_t n = (size_t)g_utf8_skip[ch];
            mw_put(out, s, n);
            s += n;
        } else {
            g_string_append_unichar(out, ch);
            s++;
        }
    }
    g_string_append_c(out, '"');
}

void mw_json_str(GString *out, const char *s)
{
    if (!s)
        g_string_append(out, "null");
    else
        mw_json_strn(out, s, strlen(s));
}

void mw_json_key_n(GString *out, const char *key, size_t len)
{
    char last = out->len ? out->str[out->len - 1] : '{';
    if (last != '{' && last != '[')
        g_string_append_c(out, ',');
    g_string_append_c(out, '"');
    mw_put(out, key, len);
    mw_put_lit(out, "\":");
}

void mw_json_opt_str(GString *out, const char *s)
{
    mw_json_str(out, (s && *s) ? s : NULL);
}

void mw_json_strlist(GString *out, const GPtrArray *a)
{
    g_string_append_c(out, '[');
    for (guint i = 0; a && i < a->len; i++) {
        if (i)
            g_string_append_c(out, ',');
        mw_json_str(out, g_ptr_array_index(a, i));
    }
    g_string_append_c(out, ']');
}

void mw_text_printable(GString *out, const char *s)
{
    for (; s && *s; s++)
        g_string_append_c(out, (*s >= 0x20 && *s != 0x7f) ? *s : '.');
}

void mw_json_u64(GString *out, uint64_t v)
{
    char b[20];
    size_t i = sizeof b;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    mw_put(out, b + i, sizeof b - i);
}

void mw_json_i64(GString *out, int64_t v)
{
    if (v < 0) {
        g_string_append_c(out, '-');
        mw_json_u64(out, (uint64_t)0 - (uint64_t)v);
    } else {
        mw_json_u64(out, (uint64_t)v);
    }
}

/* n decimal digits of v, zero-padded */
static void append_digits(GString *out, unsigned v, int n)
{
    char b[10];
    for (int i = n - 1; i >= 0; i--) {
        b[i] = (char)('0' + v % 10);
        v /= 10;
    }
    mw_put(out, b, n);
}

void mw_json_seconds(GString *out, int64_t us)
{
    uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    if (us < 0)
        g_string_append_c(out, '-');
    mw_json_u64(out, a / G_USEC_PER_SEC);
    g_string_append_c(out, '.');
    append_digits(out, (unsigned)(a % G_USEC_PER_SEC), 6);
}

/* GDateTime's range, years 1 to 9999 */
#define MW_TIME_MIN_S INT64_C(-62135596800)
#define MW_TIME_MAX_S INT64_C(253402300799)

void mw_format_time(GString *out, int64_t ts_us)
{
    int64_t secs = ts_us / G_USEC_PER_SEC;
    int64_t usec = ts_us % G_USEC_PER_SEC;
    if (usec < 0) {
        usec += G_USEC_PER_SEC;
        secs--;
    }
    if (secs < MW_TIME_MIN_S || secs > MW_TIME_MAX_S) {
        g_string_append(out, "1970-01-01T00:00:00.000000Z");
        return;
    }
    /* The date through libc, once per day seen (records come in time order, so this is
     * nearly always the last day); the time of day by arithmetic. Per thread: the
     * writer thread and the analysis thread may both format times. */
    static _Thread_local int64_t cached_day = INT64_MIN;
    static _Thread_local char cached_date[16]; /* "YYYY-MM-DDT" */
    int64_t day = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        day--;
    }
    if (day != cached_day) {
        time_t t = (time_t)(day * 86400);
        struct tm tm;
        if (!gmtime_r(&t, &tm) ||
            strftime(cached_date, sizeof cached_date, "%Y-%m-%dT", &tm) != 11) {
            g_string_append(out, "1970-01-01T00:00:00.000000Z");
            return;
        }
        cached_day = day;
    }
    mw_put(out, cached_date, 11);
    append_digits(out, (unsigned)(sod / 3600), 2);
    g_string_append_c(out, ':');
    append_digits(out, (unsigned)(sod / 60 % 60), 2);
    g_string_append_c(out, ':');
    append_digits(out, (unsigned)(sod % 60), 2);
    g_string_append_c(out, '.');
    append_digits(out, (unsigned)usec, 6);
    g_string_append_c(out, 'Z');
}

void mw_format_endpoint(GString *out, const mw_endpoint *ep)
{
    if (ep->family == 6) {
        char buf[INET6_ADDRSTRLEN]; /* RFC 5952 text form: libc's */
        inet_ntop(AF_INET6, ep->addr, buf, sizeof buf);
        g_string_append_c(out, '[');
        mw_put(out, buf, strlen(buf));
        mw_put(out, "]:", 2);
    } else {
        /* dotted quad by hand: glibc's inet_ntop goes through sprintf */
        for (int i = 0; i < 4; i++) {
            if (i)
                g_string_append_c(out, '.');
            mw_json_u64(out, ep->addr[i]);
        }
        g_string_append_c(out, ':');
    }
    mw_json_u64(out, ep->port);
}
