/* The record writer's formatting helpers (core/json.c, the uid, the Community ID text),
 * each against the way the same bytes were made before they were written by hand:
 * printf, inet_ntop, strftime, XXH3 streamed, and the escaping loop of de06098. */
#include <arpa/inet.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include <openssl/evp.h>

#include "core/community_id.h"
#include "core/identity.h"
#include "core/json.h"

/* ---- references: the code the helpers replaced ---- */

static void ref_strn(GString *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    g_string_append_c(out, '"');
    const char *end = s + len;
    while (s < end) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x80) {
            gunichar u = g_utf8_get_char_validated(s, end - s);
            if (u < 0x110000) {
                g_string_append_len(out, s, g_utf8_skip[ch]);
                s += g_utf8_skip[ch];
            } else {
                g_string_append_unichar(out, ch);
                s++;
            }
            continue;
        }
        s++;
        switch (ch) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (ch < 0x20 || ch == 0x7f) {
                g_string_append_printf(out, "\\u00%c%c", hex[ch >> 4], hex[ch & 15]);
            } else {
                g_string_append_c(out, (char)ch);
            }
        }
    }
    g_string_append_c(out, '"');
}

/* mw_json_strn's output for s, appended to what g already holds, against the reference */
static void check_strn(GString *g, const char *s, size_t len)
{
    GString *want = g_string_new_len(g->str, g->len);
    ref_strn(want, s, len);
    mw_json_strn(g, s, len);
    g_assert_cmpuint(g->len, ==, want->len);
    g_assert_true(memcmp(g->str, want->str, want->len) == 0);
    g_assert_cmpint(g->str[g->len], ==, '\0');
    g_assert_true(g_utf8_validate(g->str, (gssize)g->len, NULL));
    g_string_free(want, TRUE);
}

static void test_escape_every_byte(void)
{
    for (int b = 0; b < 256; b++) {
        for (size_t pos = 0; pos < 40; pos += 13) { /* alone, in a word, in a chunk */
            char s[64];
            memset(s, 'a', sizeof s);
            s[pos] = (char)b;
            GString *g = g_string_new(NULL);
            check_strn(g, s, pos + 1);
            check_strn(g, s, pos + 20);
            g_string_free(g, TRUE);
        }
    }
    /* every pair of bytes: the two-byte UTF-8 sequences, valid and not */
    GString *g = g_string_new(NULL);
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            char s[2] = { (char)a, (char)b };
            g_string_truncate(g, 0);
            check_strn(g, s, 2);
        }
    }
    g_string_free(g, TRUE);
}

/* every length to 48 with one byte that is not plain at every position: the 16-, 8- and
 * 4-byte windows and their overlaps */
static void test_escape_positions(void)
{
    static const char specials[] = { '"', '\\', '\n', 0x01, 0x7f, '\0', (char)0xff, (char)0xc3 };
    GString *g = g_string_new(NULL);
    for (size_t len = 0; len <= 48; len++) {
        for (size_t pos = 0; pos <= len; pos++) { /* pos == len: none */
            for (size_t k = 0; k < sizeof specials; k++) {
                char s[64];
                for (size_t i = 0; i < sizeof s; i++)
                    s[i] = (char)('A' + i % 26);
                if (pos < len)
                    s[pos] = specials[k];
                if (pos + 1 < len && k == sizeof specials - 1)
                    s[pos + 1] = (char)0xa9; /* a whole two-byte character */
                g_string_truncate(g, 0);
                check_strn(g, s, len);
            }
        }
    }
    g_string_free(g, TRUE);
}

static void test_escape_cases(void)
{
    GString *g = g_string_new(NULL);
    mw_json_strn(g, "", 0);
    g_assert_cmpstr(g->str, ==, "\"\"");
    g_string_truncate(g, 0);
    const char ctl[] = "\x00\x01\x08\x0b\x0c\x1f\x7f";
    mw_json_strn(g, ctl, sizeof ctl - 1);
    g_assert_cmpstr(g->str, ==, "\"\\u0000\\u0001\\u0008\\u000b\\u000c\\u001f\\u007f\"");
    g_string_truncate(g, 0);
    /* UTF-8 kept (2, 3, 4 bytes); a cut sequence, a surrogate, an overlong form and a
     * stray continuation byte each become Latin-1 */
    const char u[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xe2\x82|\xed\xa0\x80|\xc0\xaf|\x80";
    mw_json_strn(g, u, sizeof u - 1);
    g_assert_cmpstr(g->str, ==, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xc3\xa2\xc2\x82|"
                                "\xc3\xad\xc2\xa0\xc2\x80|\xc3\x80\xc2\xaf|\xc2\x80\"");
    g_string_truncate(g, 0);
    mw_json_str(g, NULL);
    mw_json_opt_str(g, "");
    mw_json_opt_str(g, NULL);
    mw_json_opt_str(g, "x");
    g_assert_cmpstr(g->str, ==, "nullnullnull\"x\"");
    g_string_free(g, TRUE);
}

/* Random strings, biased towards what needs escaping, appended to a buffer that starts
 * small (so that every reservation grows it at some point), long and short. */
static void test_escape_random(void)
{
    static const char pieces[][8] = { "a", "Z", " ", "\"", "\\", "\n", "\r", "\t", "\x01",
                                      "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                      "\xc3", "\xff", "\x80", "abcdefg", "\xed\xa0\x80" };
    GRand *r = g_rand_new_with_seed(18);
    for (int iter = 0; iter < 20000; iter++) {
        GString *s = g_string_new(NULL);
        int n = g_rand_int_range(r, 0, iter % 10 == 0 ? 400 : 40);
        bool plain = g_rand_int_range(r, 0, 4) == 0; /* mostly letters, a rare escape */
        for (int i = 0; i < n; i++) {
            int k = plain && g_rand_int_range(r, 0, 30) ? 0
                                                       : g_rand_int_range(r, 0, G_N_ELEMENTS(pieces));
            g_string_append(s, pieces[k]);
        }
        if (g_rand_int_range(r, 0, 8) == 0)
            g_string_append_c(s, '\0'); /* a NUL inside: escaped, not an end */
        GString *g = g_string_sized_new(1);
        g_string_append_len(g, "{\"k\":", g_rand_int_range(r, 0, 6));
        check_strn(g, s->str, s->len);
        check_strn(g, s->str, s->len);
        g_string_free(g, TRUE);
        g_string_free(s, TRUE);
    }
    g_rand_free(r);
}

static void test_keys(void)
{
    GString *g = g_string_new(NULL);
    mw_json_key(g, "a"); /* empty buffer: no comma */
    g_string_append_c(g, '1');
    mw_json_key(g, "b");
    g_string_append(g, "{");
    mw_json_key(g, "c");
    g_string_append(g, "[");
    mw_json_key(g, "d");
    mw_json_key_n(g, "efg", 2);
    mw_json_bool(g, true);
    mw_json_key(g, "h");
    mw_json_bool(g, false);
    g_assert_cmpstr(g->str, ==, "\"a\":1,\"b\":{\"c\":[\"d\":,\"ef\":true,\"h\":false");
    g_string_free(g, TRUE);
}

static void test_integers(void)
{
    uint64_t u[200];
    size_t n = 0;
    u[n++] = 0;
    u[n++] = UINT64_MAX;
    u[n++] = UINT64_MAX - 1;
    for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10) {
        u[n++] = p - 1;
        u[n++] = p;
        u[n++] = p + 1;
        u[n++] = p * 9 + p - 1;
    }
    GRand *r = g_rand_new_with_seed(7);
    GString *g = g_string_sized_new(1);
    char want[64];
    for (int iter = 0; iter < 20000 + (int)n; iter++) {
        uint64_t v = iter < (int)n ? u[iter]
                                   : ((uint64_t)g_rand_int(r) << 32 | g_rand_int(r)) >>
                                         g_rand_int_range(r, 0, 64);
        g_string_truncate(g, 0);
        mw_json_u64(g, v);
        snprintf(want, sizeof want, "%" PRIu64, v);
        g_assert_cmpstr(g->str, ==, want);
        int64_t sv = (int64_t)v;
        int64_t cases[] = { sv, -sv, sv / 2, -(sv / 3) };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
            g_string_truncate(g, 0);
            mw_json_i64(g, cases[i]);
            snprintf(want, sizeof want, "%" PRId64, cases[i]);
            g_assert_cmpstr(g->str, ==, want);
        }
    }
    int64_t edges[] = { INT64_MIN, INT64_MIN + 1, INT64_MAX, -1, 0, 1, -10, -9 };
    for (size_t i = 0; i < G_N_ELEMENTS(edges); i++) {
        g_string_truncate(g, 0);
        mw_json_i64(g, edges[i]);
        snprintf(want, sizeof want, "%" PRId64, edges[i]);
        g_assert_cmpstr(g->str, ==, want);
    }
    g_rand_free(r);
    g_string_free(g, TRUE);
}

/* microseconds as seconds, as "%.6f" of us / 1e6 (exact while the double holds the value
 * to well below a microsecond); the ends of the range exactly, as the integer code gave */
static void test_seconds(void)
{
    GRand *r = g_rand_new_with_seed(9);
    GString *g = g_string_sized_new(1);
    char want[64];
    for (int iter = 0; iter < 20000; iter++) {
        int64_t us = (int64_t)(((uint64_t)g_rand_int(r) << 32 | g_rand_int(r)) >>
                               g_rand_int_range(r, 14, 64));
        if (iter & 1)
            us = -us;
        if (iter < 20)
            us = iter - 10;
        g_string_truncate(g, 0);
        mw_json_seconds(g, us);
        snprintf(want, sizeof want, "%.6f", (double)us / 1e6);
        g_assert_cmpstr(g->str, ==, want);
    }
    g_string_truncate(g, 0);
    mw_json_seconds(g, INT64_MIN);
    g_assert_cmpstr(g->str, ==, "-9223372036854.775808");
    g_string_truncate(g, 0);
    mw_json_seconds(g, INT64_MAX);
    g_assert_cmpstr(g->str, ==, "9223372036854.775807");
    g_rand_free(r);
    g_string_free(g, TRUE);
}

static void test_times(void)
{
    GRand *r = g_rand_new_with_seed(11);
    GString *g = g_string_sized_new(1);
    char want[64];
    for (int iter = 0; iter < 5000; iter++) {
        /* years 1 to 9999, and around 1970 */
        int64_t secs = iter % 3 ? (int64_t)g_rand_double_range(r, -62135596800.0, 253402300799.0)
                                : g_rand_int_range(r, -200000, 200000);
        int64_t us = secs * G_USEC_PER_SEC + g_rand_int_range(r, 0, G_USEC_PER_SEC);
        time_t t = (time_t)secs;
        struct tm tm;
        g_assert_nonnull(gmtime_r(&t, &tm));
        size_t n = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want + n, sizeof want - n, ".%06dZ", (int)(us - secs * G_USEC_PER_SEC));
        if (n != 19) /* years before 1000: %Y is not 4 digits, the fallback as before */
            g_strlcpy(want, "1970-01-01T00:00:00.000000Z", sizeof want);
        g_string_truncate(g, 0);
        mw_format_time(g, us);
        g_assert_cmpstr(g->str, ==, want);
    }
    int64_t outside[] = { INT64_MIN, INT64_MAX, (int64_t)253402300800 * G_USEC_PER_SEC,
                          (int64_t)-62135596801 * G_USEC_PER_SEC };
    for (size_t i = 0; i < G_N_ELEMENTS(outside); i++) {
        g_string_truncate(g, 0);
        mw_format_time(g, outside[i]);
        g_assert_cmpstr(g->str, ==, "1970-01-01T00:00:00.000000Z");
    }
    /* a year before 1000 between two times of one day: the day cached stays whole (it
     * was overwritten with the short date, and the next record held a NUL) */
    const int64_t day_us = INT64_C(1700000000000000), y502 = INT64_C(-46388217600) * 1000000;
    g_string_truncate(g, 0);
    mw_format_time(g, day_us);
    mw_format_time(g, y502);
    mw_format_time(g, day_us + 1);
    g_assert_cmpstr(g->str, ==, "2023-11-14T22:13:20.000000Z1970-01-01T00:00:00.000000Z"
                                "2023-11-14T22:13:20.000001Z");
    g_string_truncate(g, 0);
    mw_format_time(g, -1);
    g_assert_cmpstr(g->str, ==, "1969-12-31T23:59:59.999999Z");
    g_rand_free(r);
    g_string_free(g, TRUE);
}

/* the text output's times: as GDateTime formats them, and "%.1f" / "%06u" */
static void test_text_times(void)
{
    GRand *r = g_rand_new_with_seed(15);
    GString *g = g_string_sized_new(1);
    for (int iter = 0; iter < 3000; iter++) {
        int64_t secs = iter % 3 ? (int64_t)g_rand_double_range(r, -62135596800.0, 253402300799.0)
                                : g_rand_int_range(r, -200000, 200000);
        if (iter < 4)
            secs = iter < 2 ? -62135596800 + iter : 253402300799 - iter;
        GDateTime *dt = g_date_time_new_from_unix_utc(secs);
        g_assert_nonnull(dt);
        for (int with_date = 0; with_date < 2; with_date++) {
            gchar *want = g_date_time_format(dt, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S");
            g_string_truncate(g, 0);
            bool ok = mw_format_utc_clock(g, secs, with_date);
            if (ok)
                g_assert_cmpstr(g->str, ==, want);
            else /* only a year before 1000, with its date */
                g_assert_true(with_date && g_date_time_get_year(dt) < 1000 && g->len == 0);
            g_free(want);
        }
        g_date_time_unref(dt);
    }
    g_string_truncate(g, 0);
    g_assert_false(mw_format_utc_clock(g, INT64_C(253402300800), false));
    g_assert_false(mw_format_utc_clock(g, INT64_C(-62135596801), true));
    g_assert_cmpuint(g->len, ==, 0);
    char want[64];
    for (int iter = 0; iter < 40000; iter++) {
        int64_t us = (int64_t)(((uint64_t)g_rand_int(r) << 32 | g_rand_int(r)) >>
                               g_rand_int_range(r, 10, 64));
        if (iter % 4 == 1)
            us = us / 100000 * 100000 + 50000; /* a tie in decimal */
        if (iter % 4 == 2)
            us = us / 100000 * 100000 + g_rand_int_range(r, 49990, 50010);
        if (iter % 8 == 3)
            us = -us;
        if (iter < 300)
            us = iter * 50000 - 1;
        g_string_truncate(g, 0);
        mw_format_tenths(g, us);
        snprintf(want, sizeof want, "%.1f", (double)us / 1e6);
        g_assert_cmpstr(g->str, ==, want);
    }
    int64_t edges[] = { INT64_MIN, INT64_MAX, 0, -1, INT64_C(999999999999999),
                        INT64_C(1000000000000000), INT64_C(1000000000050000) };
    for (size_t i = 0; i < G_N_ELEMENTS(edges); i++) {
        g_string_truncate(g, 0);
        mw_format_tenths(g, edges[i]);
        snprintf(want, sizeof want, "%.1f", (double)edges[i] / 1e6);
        g_assert_cmpstr(g->str, ==, want);
    }
    unsigned six[] = { 0, 1, 9, 10, 99, 100, 12345, 99999, 100000, 999999 };
    for (size_t i = 0; i < G_N_ELEMENTS(six); i++) {
        g_string_truncate(g, 0);
        mw_format_six(g, six[i]);
        snprintf(want, sizeof want, "%06u", six[i]);
        g_assert_cmpstr(g->str, ==, want);
    }
    g_rand_free(r);
    g_string_free(g, TRUE);
}

static void test_addresses(void)
{
    GRand *r = g_rand_new_with_seed(13);
    GString *g = g_string_sized_new(1);
    char want[INET6_ADDRSTRLEN + 16], got[INET6_ADDRSTRLEN];
    for (int iter = 0; iter < 20000; iter++) {
        mw_endpoint ep = { (iter & 1) ? 6 : 4, { 0 }, (uint16_t)g_rand_int_range(r, 0, 65536) };
        for (int i = 0; i < 16; i++) { /* small bytes and zero runs are the edge cases */
            int k = g_rand_int_range(r, 0, 6);
            ep.addr[i] = (uint8_t)(k == 0 ? 0 : k == 1 ? g_rand_int_range(r, 0, 10)
                                        : k == 2 ? 255 : g_rand_int_range(r, 0, 256));
        }
        for (int i = 0; i < 8 && (iter & 2); i++) /* zero groups: where "::" goes */
            if (g_rand_boolean(r))
                ep.addr[2 * i] = ep.addr[2 * i + 1] = 0;
        if (iter % 7 == 0) { /* the v4-mapped and v4-compatible forms, and near them */
            memset(ep.addr, 0, 10 + g_rand_int_range(r, 0, 3));
            if (g_rand_boolean(r))
                ep.addr[10] = ep.addr[11] = 0xff;
        }
        if (iter < 4) /* the ends */
            memset(ep.addr, iter < 2 ? 0 : 255, sizeof ep.addr);
        char ip[INET6_ADDRSTRLEN];
        g_assert_nonnull(inet_ntop(ep.family == 6 ? AF_INET6 : AF_INET, ep.addr, ip, sizeof ip));
        size_t n = mw_format_ip(&ep, got, sizeof got);
        g_assert_cmpstr(got, ==, ip);
        g_assert_cmpuint(n, ==, strlen(ip));
        /* too small a buffer: nothing, as inet_ntop */
        size_t small = strlen(ip);
        g_assert_cmpuint(mw_format_ip(&ep, got, small), ==, 0);
        g_assert_cmpstr(got, ==, "");
        snprintf(want, sizeof want, ep.family == 6 ? "[%s]:%u" : "%s:%u", ip, ep.port);
        g_string_truncate(g, 0);
        mw_format_endpoint(g, &ep);
        g_assert_cmpstr(g->str, ==, want);
    }
    /* every octet value in every place of a dotted quad (put_ipv4's table), through
     * mw_format_ip and mw_put_ip */
    for (unsigned v = 0; v < 256; v++) {
        mw_endpoint ep = { 4, { (uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v % 10), (uint8_t)v }, 0 };
        char ip[INET6_ADDRSTRLEN], put[MW_IP_TEXT_MAX + 1];
        g_assert_nonnull(inet_ntop(AF_INET, ep.addr, ip, sizeof ip));
        g_assert_cmpuint(mw_format_ip(&ep, got, sizeof got), ==, strlen(ip));
        g_assert_cmpstr(got, ==, ip);
        char *e = mw_put_ip(put, &ep);
        g_assert_cmpmem(put, (size_t)(e - put), ip, strlen(ip));
        ep.family = 6; /* and as the v4-mapped IPv6 form */
        memmove(ep.addr + 12, ep.addr, 4);
        memset(ep.addr, 0, 10);
        ep.addr[10] = ep.addr[11] = 0xff;
        g_assert_nonnull(inet_ntop(AF_INET6, ep.addr, ip, sizeof ip));
        e = mw_put_ip(put, &ep);
        g_assert_cmpmem(put, (size_t)(e - put), ip, strlen(ip));
    }
    static const struct {
        uint8_t a[16];
        const char *text;
    } v6[] = {
        { { 0 }, "::" },
        { { [15] = 1 }, "::1" },
        { { [15] = 2 }, "::2" },
        { { [10] = 0xff, 0xff, 1, 2, 3, 4 }, "::ffff:1.2.3.4" },
        { { [12] = 1, 2, 3, 4 }, "::1.2.3.4" },
        { { [9] = 1, [12] = 1, 2, 3, 4 }, "::1:0:102:304" },
        { { 0, 1 }, "1::" },
        { { 0, 1, [15] = 1 }, "1::1" },
        { { 0, 1, [7] = 1, [15] = 1 }, "1:0:0:1::1" },
        { { 0x20, 0x01, 0x0d, 0xb8, [5] = 1, [15] = 1 }, "2001:db8:1::1" },
        { { 0xfe, 0x80, [8] = 0xab, 0xcd, [14] = 0x0f, 0xff }, "fe80::abcd:0:0:fff" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(v6); i++) {
        mw_endpoint ep = { 6, { 0 }, 25 };
        memcpy(ep.addr, v6[i].a, 16);
        g_assert_cmpuint(mw_format_ip(&ep, got, sizeof got), ==, strlen(v6[i].text));
        g_assert_cmpstr(got, ==, v6[i].text);
    }
    g_rand_free(r);
    g_string_free(g, TRUE);
}

static void test_community_id_text(void)
{
    mw_endpoint a = { 4, { 128, 232, 110, 120 }, 34855 }, b = { 4, { 66, 35, 250, 204 }, 80 };
    const char *full = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
    for (size_t size = 1; size <= strlen(full) + 2; size++) {
        char id[64], want[64];
        memset(id, 'x', sizeof id);
        mw_community_id(&a, &b, id, size);
        snprintf(want, size, "%s", full); /* cut as snprintf cuts */
        g_assert_cmpstr(id, ==, want);
    }
}

/* the Community ID of random pairs, v4 and v6, against SHA-1 and base64 by OpenSSL */
static void test_community_id_random(void)
{
    GRand *r = g_rand_new_with_seed(17);
    for (int iter = 0; iter < 2000; iter++) {
        mw_endpoint a = { (iter & 1) ? 6 : 4, { 0 }, (uint16_t)g_rand_int(r) };
        mw_endpoint b = { a.family, { 0 }, (uint16_t)g_rand_int(r) };
        for (int i = 0; i < 16; i++) {
            a.addr[i] = (uint8_t)g_rand_int(r);
            b.addr[i] = iter % 5 ? (uint8_t)g_rand_int(r) : a.addr[i]; /* same host */
        }
        size_t alen = a.family == 6 ? 16 : 4;
        const mw_endpoint *lo = &a, *hi = &b;
        int c = memcmp(a.addr, b.addr, alen);
        if (c > 0 || (c == 0 && a.port > b.port))
            lo = &b, hi = &a;
        uint8_t buf[40], md[EVP_MAX_MD_SIZE];
        size_t n = 0;
        buf[n++] = 0;
        buf[n++] = 0;
        memcpy(buf + n, lo->addr, alen);
        n += alen;
        memcpy(buf + n, hi->addr, alen);
        n += alen;
        buf[n++] = 6;
        buf[n++] = 0;
        buf[n++] = (uint8_t)(lo->port >> 8);
        buf[n++] = (uint8_t)lo->port;
        buf[n++] = (uint8_t)(hi->port >> 8);
        buf[n++] = (uint8_t)hi->port;
        unsigned mdlen = 0;
        g_assert_true(EVP_Digest(buf, n, md, &mdlen, EVP_sha1(), NULL));
        unsigned char enc[64];
        EVP_EncodeBlock(enc, md, (int)mdlen);
        char want[80], id[80];
        snprintf(want, sizeof want, "1:%s", (const char *)enc);
        mw_community_id(&a, &b, id, sizeof id);
        g_assert_cmpstr(id, ==, want);
    }
    g_rand_free(r);
}

/* the uid's hash as it was computed before: XXH3 streamed field by field */
static void ref_uid_hash_fields(XXH3_state_t *st, const char *s)
{
    s = s ? s : "";
    XXH3_128bits_update(st, s, strlen(s) + 1);
}

static void ref_endpoint(XXH3_state_t *st, const mw_endpoint *ep)
{
    uint8_t b[19];
    b[0] = ep->family;
    memcpy(b + 1, ep->addr, 16);
    b[17] = (uint8_t)(ep->port >> 8);
    b[18] = (uint8_t)ep->port;
    XXH3_128bits_update(st, b, sizeof b);
}

static void test_uid(void)
{
    mw_identity_set_sensor("sensor-1");
    GString *long_input = g_string_new(NULL);
    for (int i = 0; i < 120; i++)
        g_string_append(long_input, "dir/");
    const char *inputs[] = { NULL, "", "a.pcap", "a.pcap", long_input->str, "b.pcap" };
    /* twice, the sensor changed between: the uid's bytes kept per thread for the last
     * sensor and input (identity.c) are made again when either changes */
    for (size_t j = 0; j < 2 * G_N_ELEMENTS(inputs); j++) {
        size_t i = j % G_N_ELEMENTS(inputs);
        if (j == G_N_ELEMENTS(inputs))
            mw_identity_set_sensor("sensor-2");
        mw_session *s = mw_session_new(1);
        s->input = inputs[i];
        s->first_frame = 1234 + i;
        s->ts_start_us = INT64_C(1700000000123456);
        s->client = (mw_endpoint){ 4, { 10, 0, 0, 1 }, 40000 };
        s->server = (mw_endpoint){ 6, { 0x20, 1, 0xd, 0xb8, [15] = 1 }, 587 };
        XXH3_state_t st;
        XXH3_INITSTATE(&st);
        XXH3_128bits_reset(&st);
        ref_uid_hash_fields(&st, mw_identity_sensor());
        ref_uid_hash_fields(&st, s->input);
        uint64_t first[2] = { s->first_frame, (uint64_t)s->ts_start_us };
        XXH3_128bits_update(&st, first, sizeof first);
        ref_endpoint(&st, &s->client);
        ref_endpoint(&st, &s->server);
        XXH128_hash_t h = XXH3_128bits_digest(&st);
        static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
        char want[MW_UID_SIZE] = "m1il7s80", uid[MW_UID_SIZE]; /* 1700000000, base32hex */
        uint64_t hi = h.high64, lo = h.low64;
        for (int k = 7; k < 26; k++) {
            want[1 + k] = b32[lo & 31];
            lo = (lo >> 5) | (hi << 59);
            hi >>= 5;
        }
        want[MW_UID_LEN] = '\0';
        mw_identity_uid(s, uid);
        g_assert_cmpstr(uid, ==, want);
        mw_session_free(s);
    }
    g_string_free(long_input, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json/escape_every_byte", test_escape_every_byte);
    g_test_add_func("/json/escape_positions", test_escape_positions);
    g_test_add_func("/json/escape_cases", test_escape_cases);
    g_test_add_func("/json/escape_random", test_escape_random);
    g_test_add_func("/json/keys", test_keys);
    g_test_add_func("/json/integers", test_integers);
    g_test_add_func("/json/seconds", test_seconds);
    g_test_add_func("/json/times", test_times);
    g_test_add_func("/json/text_times", test_text_times);
    g_test_add_func("/json/addresses", test_addresses);
    g_test_add_func("/json/community_id_text", test_community_id_text);
    g_test_add_func("/json/community_id_random", test_community_id_random);
    g_test_add_func("/json/uid", test_uid);
    return g_test_run();
}
