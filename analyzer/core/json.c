#include "core/json.h"

#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* the string copy is small and hot: inlined where it is used, its pointers in registers */
#if defined(__GNUC__)
#define MW_ALWAYS_INLINE __attribute__((always_inline))
#define MW_NOINLINE __attribute__((noinline, cold))
#else
#define MW_ALWAYS_INLINE
#define MW_NOINLINE
#endif

/* What each byte becomes in a JSON string: 0 itself, 1 the first byte of a possible
 * UTF-8 sequence (checked as one), else the escape's first letter after the backslash
 * ('u' for \u00XX: the other controls, NUL and DEL; RFC 8259 section 7). */
#define U4 'u', 'u', 'u', 'u'
#define Z8 0, 0, 0, 0, 0, 0, 0, 0
#define Z16 Z8, Z8
#define H16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char esc_class[256] = {
    U4, U4, 'u', 't', 'n', 'u', 'u', 'r', 'u', 'u',                     /* 0x00 - 0x0f */
    U4, U4, U4, U4,                                                     /* 0x10 - 0x1f */
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                   /* 0x20 - 0x2f */
    Z16, Z16,                                                           /* 0x30 - 0x4f */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,                  /* 0x50 - 0x5f */
    Z16, Z8, 0, 0, 0, 0, 0, 0, 0, 'u',                                  /* 0x60 - 0x7f */
    H16, H16, H16, H16, H16, H16, H16, H16,                             /* 0x80 - 0xff */
};
#undef U4
#undef Z8
#undef Z16
#undef H16

#ifdef __SSE2__
/* The bytes of v that are not plain, as a bit mask: a signed compare puts the bytes of
 * 0x80 and above below 0x20 with the controls. */
static inline unsigned special_mask(__m128i v)
{
    const __m128i below = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    const __m128i bslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(below, quote), _mm_or_si128(bslash, del)));
}
#else
/* Whether any of the 8 bytes of w is not plain (the "determine if a word has a byte less
 * than / greater than / equal to n" bit tricks). */
static inline bool word_has_special(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    const uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    const uint64_t below_20 = (w - ones * 0x20) & ~w;
    const uint64_t is_quote = (q - ones) & ~q, is_backslash = (b - ones) & ~b;
    const uint64_t above_7e = (w + ones * (127 - 0x7e)) | w;
    return ((below_20 | is_quote | is_backslash | above_7e) & high) != 0;
}
#endif

#ifdef __SSE2__
/* Stores what was loaded from p as far as its first byte that is not plain (m: their
 * mask), or whole; moves *sp and *dp to that byte, or to the window's end. Returns
 * whether a byte that is not plain was found. */
MW_ALWAYS_INLINE static inline bool take_window(const char **sp, char **dp, const char *p, __m128i v,
                               unsigned m, size_t width)
{
    char *d = *dp + (p - *sp); /* the window may start before *sp: those bytes are plain */
    if (width == 16)
        _mm_storeu_si128((__m128i *)(void *)d, v);
    else
        _mm_storel_epi64((__m128i *)(void *)d, v);
    size_t k = m ? (size_t)__builtin_ctz(m) : width;
    *sp = p + k;
    *dp = d + k;
    return m != 0;
}
#endif

/* Copies the plain bytes from *sp to *dp, up to end or the first byte that is not, and
 * moves both on: 16 bytes at a time where SSE2 is (every x86-64), the last ones in one
 * window that overlaps bytes already copied; 8 at a time elsewhere. The output has room
 * for every input byte left (mw_json_strn's reservation), so a whole window is stored
 * even when only its start is plain: the rest is written over after. */
MW_ALWAYS_INLINE static inline void copy_plain(const char **sp, char **dp, const char *end)
{
#ifdef __SSE2__
    const char *s0 = *sp;
    size_t len = (size_t)(end - s0);
    if (len >= 16) {
        while (end - *sp >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)*sp);
            if (take_window(sp, dp, *sp, v, special_mask(v), 16))
                return;
        }
        if (*sp < end) {
            const char *w = end - 16;
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)w);
            take_window(sp, dp, w, v, special_mask(v), 16);
        }
        return;
    }
    if (len >= 8) {
        __m128i v = _mm_loadl_epi64((const __m128i *)(const void *)s0); /* the rest zero */
        if (take_window(sp, dp, s0, v, special_mask(v) & 0xffu, 8) || *sp == end)
            return;
        const char *w = end - 8;
        v = _mm_loadl_epi64((const __m128i *)(const void *)w);
        take_window(sp, dp, w, v, special_mask(v) & 0xffu, 8);
        return;
    }
    if (len >= 4) { /* the first four and the last four, overlapping */
        uint32_t a, b;
        memcpy(&a, s0, 4);
        memcpy(&b, end - 4, 4);
        __m128i v = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)a), _mm_cvtsi32_si128((int)b));
        if ((special_mask(v) & 0xffu) == 0) {
            memcpy(*dp, &a, 4);
            memcpy(*dp + len - 4, &b, 4);
            *sp = end;
            *dp += len;
            return;
        }
    }
#else
    while (end - *sp >= 8) {
        uint64_t w;
        memcpy(&w, *sp, 8);
        if (word_has_special(w))
            break;
        memcpy(*dp, &w, 8);
        *sp += 8;
        *dp += 8;
    }
#endif
    const char *s = *sp;
    char *d = *dp;
    while (s < end && esc_class[(unsigned char)*s] == 0)
        *d++ = *s++;
    *sp = s;
    *dp = d;
}

/* The slow part of mw_json_strn, from the first byte that is not plain: d is where the
 * output goes, with room for every byte left in [s, end) and the closing quote. Each
 * escape makes sure of the extra room it takes. */
MW_NOINLINE static void json_strn_rest(GString *out, char *d, const char *s, const char *end)
{
    static const char hex[] = "0123456789abcdef";
    while (s < end) {
        unsigned char ch = (unsigned char)*s;
        unsigned char c = esc_class[ch];
        size_t left = (size_t)(end - s); /* this byte and the rest, then the quote */
        if (c == 1) {
            /* A valid UTF-8 character is kept as it is; an invalid byte becomes the
             * Latin-1 character of its value, so the record stays valid UTF-8. */
            gunichar u = g_utf8_get_char_validated(s, end - s);
            if (u < 0x110000) {
                size_t n = (size_t)g_utf8_skip[ch];
                memcpy(d, s, n);
                d += n;
                s += n;
            } else {
                mw_commit(out, d);
                d = mw_reserve(out, left + 2);
                *d++ = (char)(0xc0 | (ch >> 6));
                *d++ = (char)(0x80 | (ch & 0x3f));
                s++;
            }
        } else {
            mw_commit(out, d);
            d = mw_reserve(out, left + 6);
            *d++ = '\\';
            *d++ = (char)c;
            if (c == 'u') {
                *d++ = '0';
                *d++ = '0';
                *d++ = hex[ch >> 4];
                *d++ = hex[ch & 15];
            }
            s++;
        }
        copy_plain(&s, &d, end);
    }
    *d++ = '"';
    mw_commit(out, d);
}

MW_NOINLINE static void grow(GString *out, size_t n) /* for n more bytes and the NUL */
{
    mw_reserve(out, n);
}

/* Whether n more bytes (and the NUL) fit without growing the buffer */
static inline bool fits(const GString *out, size_t n)
{
    return out->len + n < out->allocated_len;
}

/* The plain path calls nothing (its registers need no saving): growing the buffer, then
 * starting again, and the escapes are out of line, each a tail call. */
void mw_json_strn(GString *out, const char *s, size_t len)
{
    if (G_UNLIKELY(!fits(out, len + 2))) {
        grow(out, len + 2);
        mw_json_strn(out, s, len);
        return;
    }
    char *d = out->str + out->len;
    *d++ = '"';
    const char *end = s + len;
    copy_plain(&s, &d, end);
    if (G_LIKELY(s == end)) {
        *d++ = '"';
        mw_commit(out, d);
        return;
    }
    json_strn_rest(out, d, s, end);
}

MW_ALWAYS_INLINE inline const char *mw_json_plain_end(const char *s)
{
    /* eight bytes a round, each read only once the one before it was found plain (so not
     * the NUL, whose class is an escape's) */
    const unsigned char *p = (const unsigned char *)s;
#define MW_PLAIN_AT(i)                                                                     \
    if (esc_class[p[i]])                                                                   \
    return (const char *)p + (i)
    for (;; p += 8) {
        MW_PLAIN_AT(0);
        MW_PLAIN_AT(1);
        MW_PLAIN_AT(2);
        MW_PLAIN_AT(3);
        MW_PLAIN_AT(4);
        MW_PLAIN_AT(5);
        MW_PLAIN_AT(6);
        MW_PLAIN_AT(7);
    }
#undef MW_PLAIN_AT
}

/* s from its first byte that is not plain, e (not its NUL): the plain bytes before it
 * copied, the rest escaped */
MW_NOINLINE static void json_cstr_rest(GString *out, const char *s, const char *e)
{
    size_t len = (size_t)(e - s) + strlen(e);
    char *d = mw_reserve(out, len + 2);
    *d++ = '"';
    memcpy(d, s, (size_t)(e - s));
    json_strn_rest(out, d + (e - s), e, s + len);
}

/* n bytes from s to d, none read or written outside the n: 16 at a time and the last 16
 * overlapping (SSE2), two overlapping moves of 8 or 4, or the bytes one by one below 4 */
MW_ALWAYS_INLINE static inline void copy_known(char *d, const char *s, size_t n)
{
    if (n >= 16) {
#ifdef __SSE2__
        for (size_t i = 0; i + 16 < n; i += 16)
            _mm_storeu_si128((__m128i *)(void *)(d + i),
                             _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
        _mm_storeu_si128((__m128i *)(void *)(d + n - 16),
                         _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)));
#else
        memcpy(d, s, n);
#endif
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/* The plain s of n bytes when the buffer must grow for it */
MW_NOINLINE static void json_cstr_grow(GString *out, const char *s, size_t n)
{
    grow(out, n + 2);
    mw_json_strn(out, s, n);
}

/* s (not NULL) as a JSON string: its end and whether it is plain found in one pass, then
 * the plain bytes copied with their length known. The byte loop alone measured cheaper
 * on the bench captures than it for 8 or 16 bytes, then strlen and copy_plain's windows
 * (most strings of a record are short: names, codes, versions). */
MW_ALWAYS_INLINE static inline void json_cstr(GString *out, const char *s)
{
    const char *e = mw_json_plain_end(s);
    if (G_UNLIKELY(*e != '\0')) {
        json_cstr_rest(out, s, e);
        return;
    }
    size_t n = (size_t)(e - s);
    if (G_UNLIKELY(!fits(out, n + 2))) {
        json_cstr_grow(out, s, n);
        return;
    }
    char *d = out->str + out->len;
    *d++ = '"';
    copy_known(d, s, n);
    d += n;
    *d++ = '"';
    mw_commit(out, d);
}

void mw_json_str(GString *out, const char *s)
{
    if (!s)
        mw_put_lit(out, "null");
    else
        json_cstr(out, s);
}

void mw_json_opt_str(GString *out, const char *s)
{
    if (s && *s)
        json_cstr(out, s);
    else
        mw_put_lit(out, "null");
}

void mw_json_strv(GString *out, const char *const *v, size_t n)
{
    g_string_append_c(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            g_string_append_c(out, ',');
        mw_json_str(out, v[i]);
    }
    g_string_append_c(out, ']');
}

void mw_json_strlist(GString *out, const GPtrArray *a)
{
    mw_json_strv(out, a ? (const char *const *)a->pdata : NULL, a ? a->len : 0);
}

void mw_text_printable(GString *out, const char *s)
{
    for (; s && *s; s++)
        g_string_append_c(out, (*s >= 0x20 && *s != 0x7f) ? *s : '.');
}

/* "00" to "99": two digits at a time */
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324"
                                  "25262728293031323334353637383940414243444546474849"
                                  "50515253545556575859606162636465666768697071727374"
                                  "75767778798081828384858687888990919293949596979899";

static inline char *put_pair(char *d, unsigned v) /* v < 100, two digits */
{
    memcpy(d, digit_pairs + 2 * v, 2);
    return d + 2;
}

/* 10 to the power of i */
static const uint64_t pow10_u64[20] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
    10000000000u, 100000000000u, 1000000000000u, 10000000000000u, 100000000000000u,
    1000000000000000u, 10000000000000000u, 100000000000000000u, 1000000000000000000u,
    10000000000000000000u,
};

/* v in decimal at d (at most 20 bytes); returns the end. The digits are counted first
 * (from the bit length: log10(2) is about 1233 / 4096, then one compare), then written
 * from the last, two at a time. */
static char *put_u64(char *d, uint64_t v)
{
    if (v < 10) {
        *d = (char)('0' + v);
        return d + 1;
    }
    unsigned t = (unsigned)(64 - __builtin_clzll(v)) * 1233 >> 12;
    char *e = d + t + (v >= pow10_u64[t]), *p = e;
    while (v >= 100) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(p - 2, digit_pairs + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
    return e;
}

/* v < 1000000 as six digits, zero-padded */
static inline char *put_six(char *d, unsigned v)
{
    d = put_pair(d, v / 10000);
    d = put_pair(d, v / 100 % 100);
    return put_pair(d, v % 100);
}

void mw_json_u64_any(GString *out, uint64_t v)
{
    mw_commit(out, put_u64(mw_reserve(out, 20), v));
}

void mw_json_i64(GString *out, int64_t v)
{
    char *d = mw_reserve(out, 21);
    if (v < 0) {
        *d++ = '-';
        mw_commit(out, put_u64(d, (uint64_t)0 - (uint64_t)v));
    } else {
        mw_commit(out, put_u64(d, (uint64_t)v));
    }
}

void mw_json_seconds(GString *out, int64_t us)
{
    uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    char *d = mw_reserve(out, 28);
    if (us < 0)
        *d++ = '-';
    d = put_u64(d, a / G_USEC_PER_SEC);
    *d++ = '.';
    mw_commit(out, put_six(d, (unsigned)(a % G_USEC_PER_SEC)));
}

/* GDateTime's range, years 1 to 9999 */
#define MW_TIME_MIN_S INT64_C(-62135596800)
#define MW_TIME_MAX_S INT64_C(253402300799)

/* The date of day (days since 1970) as "YYYY-MM-DDT", through libc once per day seen
 * (records come in time order, so this is nearly always the last day). Per thread: the
 * writer thread and the analysis thread may both format times. NULL when the year is not
 * four digits. */
static const char *cached_date_of(int64_t day)
{
    static _Thread_local int64_t cached_day = INT64_MIN;
    static _Thread_local char cached_date[16]; /* "YYYY-MM-DDT" */
    if (day != cached_day) {
        time_t t = (time_t)(day * 86400);
        struct tm tm;
        char date[sizeof cached_date];
        /* into the cache only when whole: a year before 1000 is not 4 digits, and the day
         * cached before must stay as it was */
        if (!gmtime_r(&t, &tm) || strftime(date, sizeof date, "%Y-%m-%dT", &tm) != 11)
            return NULL;
        memcpy(cached_date, date, sizeof date);
        cached_day = day;
    }
    return cached_date;
}

/* secs as day and second of the day, rounded down */
static void split_day(int64_t secs, int64_t *day, int64_t *sod)
{
    *day = secs / 86400;
    *sod = secs % 86400;
    if (*sod < 0) {
        *sod += 86400;
        (*day)--;
    }
}

static char *put_clock(char *d, int64_t sod)
{
    d = put_pair(d, (unsigned)(sod / 3600));
    *d++ = ':';
    d = put_pair(d, (unsigned)(sod / 60 % 60));
    *d++ = ':';
    return put_pair(d, (unsigned)(sod % 60));
}

/* The text of a second, '"' and "YYYY-MM-DDTHH:MM:SS." (MW_SECOND_TEXT bytes), kept per
 * thread for the last second formatted: a session's times, and the next session's, are
 * mostly within one second, so only the microseconds are formatted each time. NULL
 * (nothing cached) outside GDateTime's years or before year 1000 (%Y not 4 digits). */
#define MW_SECOND_TEXT 21
static const char *second_text(int64_t secs)
{
    static _Thread_local int64_t cached_secs = INT64_MIN; /* outside the range: none yet */
    static _Thread_local char text[MW_SECOND_TEXT];
    if (secs == cached_secs)
        return text;
    if (secs < MW_TIME_MIN_S || secs > MW_TIME_MAX_S)
        return NULL;
    int64_t day, sod;
    split_day(secs, &day, &sod);
    const char *date = cached_date_of(day);
    if (!date)
        return NULL;
    text[0] = '"';
    memcpy(text + 1, date, 11);
    put_clock(text + 12, sod)[0] = '.';
    cached_secs = secs;
    return text;
}

/* The time at d: quoted (JSON) or not; returns the end (at most 29 bytes) */
static char *put_time(char *d, int64_t ts_us, bool quoted)
{
    int64_t secs = ts_us / G_USEC_PER_SEC;
    int64_t usec = ts_us % G_USEC_PER_SEC;
    if (usec < 0) {
        usec += G_USEC_PER_SEC;
        secs--;
    }
    const char *text = second_text(secs);
    static const char fallback[] = "\"1970-01-01T00:00:00.000000Z\"";
    if (!text) {
        memcpy(d, fallback + !quoted, sizeof fallback - 1 - 2 * !quoted);
        return d + sizeof fallback - 1 - 2 * !quoted;
    }
    memcpy(d, text + !quoted, MW_SECOND_TEXT - !quoted);
    d = put_six(d + MW_SECOND_TEXT - !quoted, (unsigned)usec);
    *d++ = 'Z';
    if (quoted)
        *d++ = '"';
    return d;
}

void mw_format_time(GString *out, int64_t ts_us)
{
    mw_commit(out, put_time(mw_reserve(out, 29), ts_us, false));
}

void mw_json_time(GString *out, int64_t ts_us)
{
    mw_commit(out, put_time(mw_reserve(out, 29), ts_us, true));
}

bool mw_format_utc_clock(GString *out, int64_t secs, bool with_date)
{
    if (secs < MW_TIME_MIN_S || secs > MW_TIME_MAX_S)
        return false;
    int64_t day, sod;
    split_day(secs, &day, &sod);
    const char *date = with_date ? cached_date_of(day) : NULL;
    if (with_date && !date)
        return false;
    char *d = mw_reserve(out, 19);
    if (date) {
        memcpy(d, date, 10);
        d[10] = ' ';
        d += 11;
    }
    mw_commit(out, put_clock(d, sod));
    return true;
}

void mw_format_six(GString *out, unsigned v)
{
    mw_commit(out, put_six(mw_reserve(out, 6), v % 1000000));
}

void mw_format_tenths(GString *out, int64_t us)
{
    /* Away from a tie in decimal (x.x5 s exactly) the double us / 1e6 rounds to the same
     * tenth as the exact value, by far while it is below 1e9 s: by integers then. At a
     * tie printf's rounding of the binary value decides, so printf it is. */
    if (us >= 0 && us < INT64_C(1000000000000000) && us % 100000 != 50000) {
        uint64_t tenths = ((uint64_t)us + 50000) / 100000;
        char *d = mw_reserve(out, 22);
        d = put_u64(d, tenths / 10);
        *d++ = '.';
        *d++ = (char)('0' + tenths % 10);
        mw_commit(out, d);
        return;
    }
    g_string_append_printf(out, "%.1f", (double)us / 1e6);
}

/* An octet's 1 to 3 digits and their count, the 256 made by the preprocessor */
#define MW_OCT_C(v, k, p) ((v) >= (k) ? (char)('0' + (v) / (p) % 10) : 0)
#define MW_OCT(v)                                                                          \
    { { MW_OCT_C(v, 0, (v) >= 100 ? 100 : (v) >= 10 ? 10 : 1),                              \
        MW_OCT_C(v, 10, (v) >= 100 ? 10 : 1), MW_OCT_C(v, 100, 1) },                           \
      (v) >= 100 ? 3 : (v) >= 10 ? 2 : 1 }
#define MW_OCT4(v) MW_OCT(v), MW_OCT((v) + 1), MW_OCT((v) + 2), MW_OCT((v) + 3)
#define MW_OCT16(v) MW_OCT4(v), MW_OCT4((v) + 4), MW_OCT4((v) + 8), MW_OCT4((v) + 12)
#define MW_OCT64(v) MW_OCT16(v), MW_OCT16((v) + 16), MW_OCT16((v) + 32), MW_OCT16((v) + 48)
static const struct { char d[3]; uint8_t n; } octet_text[256] = { MW_OCT64(0), MW_OCT64(64),
                                                                    MW_OCT64(128), MW_OCT64(192) };

/* the dotted quad at d (at most 15 bytes, a 16th written over), each octet 4 bytes from
 * the table, the end moved by its count: not inet_ntop's sprintf, nor divisions (#18) */
#define MW_PUT_OCTET(d, v) (memcpy((d), &octet_text[v], 4), (d) += octet_text[v].n)
static char *put_ipv4(char *d, const uint8_t a[4])
{
    MW_PUT_OCTET(d, a[0]), *d++ = '.';
    MW_PUT_OCTET(d, a[1]), *d++ = '.';
    MW_PUT_OCTET(d, a[2]), *d++ = '.';
    return MW_PUT_OCTET(d, a[3]);
}

/* v in lowercase hex without leading zeros at d; returns the end */
static char *put_hex16(char *d, unsigned v)
{
    static const char hex[] = "0123456789abcdef";
    int shift = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0;
    for (; shift >= 0; shift -= 4)
        *d++ = hex[(v >> shift) & 15];
    return d;
}

/* The RFC 5952 text form at d (at most 45 bytes), as glibc's inet_ntop writes it (which
 * goes through sprintf): the first longest run of two or more zero groups as "::", and
 * the IPv4-compatible and IPv4-mapped forms with a dotted quad. */
static char *put_ipv6(char *d, const uint8_t a[16])
{
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    int best = -1, best_len = 0, cur = -1, cur_len = 0;
    for (int i = 0; i < 8; i++) {
        if (w[i] == 0) {
            if (cur < 0)
                cur = i, cur_len = 0;
            cur_len++;
            if (cur_len > best_len)
                best = cur, best_len = cur_len;
        } else {
            cur = -1;
        }
    }
    if (best_len < 2)
        best = -1;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                *d++ = ':';
            continue;
        }
        if (i)
            *d++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
            return put_ipv4(d, a + 12);
        d = put_hex16(d, w[i]);
    }
    if (best >= 0 && best + best_len == 8)
        *d++ = ':';
    return d;
}

char *mw_put_ip(char *d, const mw_endpoint *ep)
{
    return ep->family == 6 ? put_ipv6(d, ep->addr) : put_ipv4(d, ep->addr);
}

size_t mw_format_ip(const mw_endpoint *ep, char *out, size_t size)
{
    char b[48];
    size_t n = (size_t)((ep->family == 6 ? put_ipv6(b, ep->addr) : put_ipv4(b, ep->addr)) - b);
    if (n >= size) { /* as inet_ntop: nothing when it does not fit */
        if (size)
            out[0] = '\0';
        return 0;
    }
    memcpy(out, b, n);
    out[n] = '\0';
    return n;
}

/* ip:port at d (at most 53 bytes) */
static char *put_endpoint(char *d, const mw_endpoint *ep)
{
    if (ep->family == 6) {
        *d++ = '[';
        d = put_ipv6(d, ep->addr);
        *d++ = ']';
    } else {
        d = put_ipv4(d, ep->addr);
    }
    *d++ = ':';
    return put_u64(d, ep->port);
}

void mw_format_endpoint(GString *out, const mw_endpoint *ep)
{
    mw_commit(out, put_endpoint(mw_reserve(out, 53), ep));
}

void mw_json_endpoint(GString *out, const mw_endpoint *ep)
{
    char *d = mw_reserve(out, 55);
    *d = '"';
    d = put_endpoint(d + 1, ep);
    *d++ = '"';
    mw_commit(out, d);
}
