/* The one-pass string scan of mw_json_str and mw_json_opt_str (mw_json_plain_end: where
 * a NUL-ended string ends or first needs an escape, never reading past its NUL), the
 * quoted times of mw_json_time with the text of the last second kept per thread, the key
 * literals and the digit count of mw_json_u64. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"

/* the longest string tried, and the alignments a string starts at */
#define SCAN_MAX_LEN 40
#define SCAN_ALIGNS 16

/* bytes that are not plain: escapes, a control, DEL, a valid two-byte UTF-8 start and
 * an invalid byte */
static const unsigned char specials[] = { '"', '\\', '\n', 0x01, 0x1f, 0x7f, 0xc3, 0xff };

/* a plain byte for position i */
static char plain_at(size_t i)
{
    static const char set[] = "abcXYZ019 -_.:/@+=~!#$%&'()*,;<>?[]^`{|}";
    return set[i % (sizeof set - 1)];
}

/* s as mw_json_strn writes it: the reference for mw_json_str (the escaping itself is
 * checked against the old loop in test_json) */
static void check_str(const char *s)
{
    GString *want = g_string_new(NULL), *got = g_string_new(NULL);
    mw_json_strn(want, s, strlen(s));
    mw_json_str(got, s);
    g_assert_cmpstr(got->str, ==, want->str);
    g_string_truncate(got, 0);
    mw_json_opt_str(got, s);
    g_assert_cmpstr(got->str, ==, *s ? want->str : "null");
    /* appended after text already there, in a buffer of one byte that must grow */
    GString *small = g_string_sized_new(1);
    g_string_append_c(small, 'x');
    mw_json_str(small, s);
    g_assert_cmpstr(small->str + 1, ==, want->str);
    g_string_free(small, TRUE);
    g_string_free(want, TRUE);
    g_string_free(got, TRUE);
}

/* s (len bytes before its NUL) checked plain, then with each special byte at each
 * position */
static void check_all(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        s[i] = plain_at(i);
    s[len] = '\0';
    g_assert_true(mw_json_plain_end(s) == s + len);
    check_str(s);
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t k = 0; k < sizeof specials; k++) {
            s[pos] = (char)specials[k];
            g_assert_true(mw_json_plain_end(s) == s + pos);
            check_str(s);
        }
        s[pos] = plain_at(pos);
    }
}

/* every length at every alignment, in a heap block of exactly the string's size (so
 * that ASan reports a read past the NUL) */
static void test_lengths_alignments(void)
{
    for (size_t len = 0; len <= SCAN_MAX_LEN; len++) {
        for (size_t align = 0; align < SCAN_ALIGNS; align++) {
            char *block = malloc(align + len + 1);
            g_assert_nonnull(block);
            check_all(block + align, len);
            free(block);
        }
    }
}

/* a string whose NUL is the last byte before a page that cannot be read: a read past
 * the NUL faults */
static void test_page_end(void)
{
    long page = sysconf(_SC_PAGESIZE);
    g_assert_cmpint(page, >, SCAN_MAX_LEN + 1);
    char *map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    g_assert_true(map != MAP_FAILED);
    g_assert_cmpint(mprotect(map + page, (size_t)page, PROT_NONE), ==, 0);
    for (size_t len = 0; len <= SCAN_MAX_LEN; len++)
        check_all(map + page - 1 - len, len);
    munmap(map, 2 * (size_t)page);
}

/* a long string, and bytes of every value after a plain start */
static void test_long_and_every_byte(void)
{
    char s[300];
    for (size_t i = 0; i < sizeof s - 1; i++)
        s[i] = plain_at(i);
    s[sizeof s - 1] = '\0';
    check_str(s);
    for (int b = 1; b < 256; b++) {
        s[17] = (char)b;
        check_str(s);
    }
    GString *g = g_string_new(NULL);
    mw_json_str(g, NULL);
    mw_json_opt_str(g, NULL);
    mw_json_opt_str(g, "");
    g_assert_cmpstr(g->str, ==, "nullnullnull");
    g_string_free(g, TRUE);
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" quoted, as GDateTime formats the UTC time (the way the
 * record's times were first written) */
static void want_time(char *want, size_t size, int64_t us)
{
    int64_t secs = us / G_USEC_PER_SEC, frac = us % G_USEC_PER_SEC;
    if (frac < 0) {
        frac += G_USEC_PER_SEC;
        secs--;
    }
    GDateTime *dt = g_date_time_new_from_unix_utc(secs);
    g_assert_nonnull(dt);
    gchar *text = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
    snprintf(want, size, "\"%s.%06dZ\"", text, (int)frac);
    /* and strftime agrees */
    time_t t = (time_t)secs;
    struct tm tm;
    char ref[32];
    g_assert_nonnull(gmtime_r(&t, &tm));
    g_assert_cmpuint(strftime(ref, sizeof ref, "%Y-%m-%dT%H:%M:%S", &tm), ==, 19);
    g_assert_cmpstr(ref, ==, text);
    g_free(text);
    g_date_time_unref(dt);
}

static void check_time(GString *g, int64_t us)
{
    char want[48];
    want_time(want, sizeof want, us);
    g_string_truncate(g, 0);
    mw_json_time(g, us);
    g_assert_cmpstr(g->str, ==, want);
    /* the unquoted form shares the cache */
    g_string_truncate(g, 0);
    mw_format_time(g, us);
    want[strlen(want) - 1] = '\0';
    g_assert_cmpstr(g->str, ==, want + 1);
}

static void check_times(void)
{
    GString *g = g_string_sized_new(1);
    const int64_t base = INT64_C(1700000000) * G_USEC_PER_SEC; /* 2023-11-14T22:13:20Z */
    /* within one cached second, then the next and back */
    for (int64_t us = 0; us < G_USEC_PER_SEC; us += 99991)
        check_time(g, base + us);
    check_time(g, base + G_USEC_PER_SEC);
    check_time(g, base + 999999);
    check_time(g, base + G_USEC_PER_SEC + 1);
    check_time(g, base);
    /* across midnight and a day back, around 1970 and before it */
    const int64_t midnight = INT64_C(1700006400) * G_USEC_PER_SEC;
    for (int64_t d = -2; d <= 2; d++)
        check_time(g, midnight + d * 500000);
    check_time(g, midnight - INT64_C(86400) * G_USEC_PER_SEC);
    for (int64_t us = -3000001; us <= 3000001; us += 500000)
        check_time(g, us);
    check_time(g, -1);
    check_time(g, 0);
    /* random times of years 1000 to 9999 */
    GRand *r = g_rand_new_with_seed(18);
    for (int i = 0; i < 3000; i++) {
        int64_t secs = (int64_t)g_rand_double_range(r, -30610224000.0, 253402300799.0);
        int64_t us = secs * G_USEC_PER_SEC + g_rand_int_range(r, 0, G_USEC_PER_SEC);
        check_time(g, us);
        check_time(g, us + g_rand_int_range(r, 0, 3) * G_USEC_PER_SEC);
    }
    g_rand_free(r);
    /* outside the years, and a year before 1000 between two times of one second: the
     * second cached stays whole */
    g_string_truncate(g, 0);
    mw_json_time(g, base);
    mw_json_time(g, INT64_MIN);
    mw_json_time(g, INT64_C(-46388217600) * G_USEC_PER_SEC);
    mw_json_time(g, base + 7);
    g_assert_cmpstr(g->str, ==, "\"2023-11-14T22:13:20.000000Z\"\"1970-01-01T00:00:00.000000Z\""
                                "\"1970-01-01T00:00:00.000000Z\"\"2023-11-14T22:13:20.000007Z\"");
    g_string_free(g, TRUE);
}

/* UTC whatever the local time zone (the times are never local) */
static void test_times(void)
{
    check_times();
    const char *old = getenv("TZ");
    char *saved = old ? g_strdup(old) : NULL;
    g_setenv("TZ", "America/New_York", TRUE);
    tzset();
    check_times();
    g_setenv("TZ", "Asia/Kathmandu", TRUE); /* +05:45 */
    tzset();
    check_times();
    if (saved)
        g_setenv("TZ", saved, TRUE);
    else
        g_unsetenv("TZ");
    tzset();
    g_free(saved);
}

/* the key literals */
static void test_key_literals(void)
{
    GString *g = g_string_sized_new(1);
    mw_json_first(g, "a");
    mw_json_bool(g, true);
    mw_json_next(g, "bc");
    mw_put_lit(g, "null");
    g_string_append_c(g, '}');
    g_assert_cmpstr(g->str, ==, "{\"a\":true,\"bc\":null}");
    g_string_free(g, TRUE);
}

/* the digits counted from the bit length: every power of two and of ten, and one off */
/* v - 1, v and v + 1 written as printf writes them (a digit count's edges) */
static void check_u64_around(GString *g, uint64_t v)
{
    char want[32];
    uint64_t vs[] = { v - 1, v, v + 1 };
    for (size_t i = 0; i < G_N_ELEMENTS(vs); i++) {
        g_string_truncate(g, 0);
        mw_json_u64(g, vs[i]);
        snprintf(want, sizeof want, "%" G_GUINT64_FORMAT, vs[i]);
        g_assert_cmpstr(g->str, ==, want);
    }
}

static void test_digit_counts(void)
{
    GString *g = g_string_sized_new(1);
    for (int k = 0; k < 64; k++)
        check_u64_around(g, UINT64_C(1) << k);
    for (uint64_t p10 = 1;; p10 *= 10) {
        check_u64_around(g, p10);
        if (p10 > UINT64_MAX / 10)
            break;
    }
    g_string_truncate(g, 0);
    mw_json_u64(g, UINT64_MAX);
    g_assert_cmpstr(g->str, ==, "18446744073709551615");
    g_string_free(g, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json_scan/lengths_alignments", test_lengths_alignments);
    g_test_add_func("/json_scan/page_end", test_page_end);
    g_test_add_func("/json_scan/long_and_every_byte", test_long_and_every_byte);
    g_test_add_func("/json_scan/times", test_times);
    g_test_add_func("/json_scan/key_literals", test_key_literals);
    g_test_add_func("/json_scan/digit_counts", test_digit_counts);
    return g_test_run();
}
