/* The record's building blocks: Community ID, JSON escaping, time, flags, categories. */
#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

#include "core/community_id.h"
#include "core/json.h"
#include "smtp/smtp_category.h"
#include "text/lines.h"
#include "output/record_json.h"
#include "output/text_writer.h"
#include "registry.h"

static mw_endpoint ep4(const char *ip, uint16_t port)
{
    mw_endpoint e = { 4, { 0 }, port };
    inet_pton(AF_INET, ip, e.addr);
    return e;
}

/* A protocol of its own: the record reaches its part only through the owner's hooks. */
static int toy_freed;
static void toy_json(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    mw_json_key(out, "toy");
    mw_json_str(out, rec);
}
static void toy_text(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    g_string_append_printf(out, "      toy %s\n", (const char *)rec);
}
static void toy_free(void *rec)
{
    toy_freed++;
    g_free(rec);
}
static const mw_dissector toy_dissector = {
    .name = "toy", .write_json = toy_json, .write_text = toy_text, .free_record = toy_free,
};

static void test_record_parts(void)
{
    mw_session *s = mw_session_new(1);
    mw_part_attach(&s->mail, &toy_dissector, g_strdup("hello"));
    GString *g = g_string_new(NULL);
    mw_record_json(g, s);
    /* the part's key stands where the protocol keys go: after "bytes" and the identity
     * keys (ending with "server_port"), before "anomalies" */
    const char *bytes = strstr(g->str, "\"bytes\":");
    const char *toy = strstr(g->str, ",\"toy\":\"hello\",\"anomalies\":");
    const char *port = strstr(g->str, "\"server_port\":");
    g_assert_nonnull(bytes);
    g_assert_nonnull(toy);
    g_assert_nonnull(port);
    g_assert_true(bytes < port && port < toy);
    g_assert_nonnull(strstr(g->str, "\"tls\":null,"));
    g_string_truncate(g, 0);
    mw_text_session(g, s);
    g_assert_nonnull(strstr(g->str, "\n      toy hello\n"));
    g_string_free(g, TRUE);
    /* a part given again frees the old record */
    mw_part_attach(&s->mail, &toy_dissector, g_strdup("again"));
    g_assert_cmpint(toy_freed, ==, 1);
    mw_session_free(s);
    g_assert_cmpint(toy_freed, ==, 2);
}

/* The names from a fixed list (record_json.c writes their JSON text made once): each as
 * mw_json_str writes it, every flag and anomaly set at once in their order */
static void test_record_names(void)
{
    static const char *const closes[] = { "capture_end", "fin", "rst", "idle_timeout",
                                          "evicted", "reused" };
    mw_session *s = mw_session_new(1);
    GString *g = g_string_new(NULL), *want = g_string_new(NULL);
    s->flags = (mw_flagset)((UINT64_C(1) << MW_FLAG_COUNT) - 1);
    s->anomalies = (uint32_t)((UINT64_C(1) << MW_ANOM_COUNT) - 1);
    for (int i = 0; i < 8; i++) {
        s->protocol = (mw_proto)i;
        s->outcome = (mw_outcome)(i % 5);
        s->close_reason = (mw_close_reason)(i % 6);
        g_string_truncate(g, 0);
        mw_record_json(g, s);
        g_string_assign(want, "\"protocol\":");
        mw_json_str(want, mw_proto_name(s->protocol));
        g_assert_nonnull(strstr(g->str, want->str));
        g_string_assign(want, "\"outcome\":");
        mw_json_str(want, mw_outcome_name(s->outcome));
        g_assert_nonnull(strstr(g->str, want->str));
        g_string_printf(want, "\"closed_by\":\"%s\"", closes[i % 6]);
        g_assert_nonnull(strstr(g->str, want->str));
        g_string_assign(want, "\"flags\":[");
        for (int f = 0; f < MW_FLAG_COUNT; f++) {
            if (f)
                g_string_append_c(want, ',');
            mw_json_str(want, mw_flag_name((mw_flag)f));
        }
        g_string_append(want, "],");
        g_assert_nonnull(strstr(g->str, want->str));
        g_string_assign(want, "\"anomalies\":[");
        for (int a = 0; a < MW_ANOM_COUNT; a++) {
            if (a)
                g_string_append_c(want, ',');
            mw_json_str(want, mw_anomaly_name((mw_anomaly)a));
        }
        g_string_append(want, "],");
        g_assert_nonnull(strstr(g->str, want->str));
    }
    g_string_free(g, TRUE);
    g_string_free(want, TRUE);
    mw_session_free(s);
}

static void test_community_id(void)
{
    /* the published Community ID v1 test vector, both directions */
    mw_endpoint a = ep4("128.232.110.120", 34855), b = ep4("66.35.250.204", 80);
    char id[40];
    mw_community_id(&a, &b, id, sizeof id);
    g_assert_cmpstr(id, ==, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    mw_community_id(&b, &a, id, sizeof id);
    g_assert_cmpstr(id, ==, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}

static void test_json_escaping(void)
{
    GString *g = g_string_new(NULL);
    const char wire[] = "a\"b\\c\r\n\x01\xff\xc3\xa9 \xe2\x82";
    mw_json_strn(g, wire, sizeof wire - 1);
    g_assert_true(g_utf8_validate(g->str, -1, NULL));
    g_assert_cmpstr(g->str, ==, "\"a\\\"b\\\\c\\r\\n\\u0001\xc3\xbf\xc3\xa9 \xc3\xa2\xc2\x82\"");
    g_string_free(g, TRUE);
}

static void test_time_and_endpoints(void)
{
    GString *g = g_string_new(NULL);
    mw_format_time(g, (int64_t)1700000000 * G_USEC_PER_SEC + 42);
    g_assert_cmpstr(g->str, ==, "2023-11-14T22:13:20.000042Z");
    g_string_truncate(g, 0);
    mw_endpoint v6 = { 6, { 0 }, 587 };
    v6.addr[15] = 1;
    mw_format_endpoint(g, &v6);
    g_assert_cmpstr(g->str, ==, "[::1]:587");
    g_string_free(g, TRUE);
}

static void test_flag_names_sorted(void)
{
    for (int f = 1; f < MW_FLAG_COUNT; f++)
        g_assert_cmpint(strcmp(mw_flag_name((mw_flag)(f - 1)), mw_flag_name((mw_flag)f)), <, 0);
    g_assert_cmpstr(mw_flag_name(MW_FLAG_RELAY_DENIED), ==, "relay_denied");
    g_assert_true(strlen(mw_flag_diagnosis(MW_FLAG_RELAY_DENIED)) > 40);
}

static void test_categories(void)
{
    static const struct {
        int code;
        const char *enh, *text, *want;
    } cases[] = {
        { 554, "5.7.1", "<x@y>: Relay access denied", "relay" },
        { 550, "5.7.1", "Unable to relay for x@y", "relay" },
        { 454, "4.7.1", "<x@y>: Relay access denied", "relay" },
        { 550, "5.1.1", "<x@y>: Recipient address rejected: User unknown", "mailbox" },
        { 552, "5.2.2", "Mailbox full", "mailbox" },
        { 552, "5.3.4", "Message size exceeds fixed limit", "size" },
        { 535, "5.7.8", "Error: authentication failed", "auth" },
        { 530, "5.7.0", "Must issue a STARTTLS command first", "tls" },
        { 450, "4.2.0", "<x@y>: Recipient address rejected: Greylisted", "greylist" },
        { 554, "5.7.1", "Service unavailable; Client host [1.2.3.4] blocked using "
                        "zen.spamhaus.org", "blocklist" },
        { 550, "5.7.606", "Access denied, banned sending IP [1.2.3.4]", "blocklist" },
        { 421, "4.7.28", "Our system has detected an unusual rate of unsolicited mail",
          "rate_limit" },
        { 500, "5.5.2", "Error: command not recognized", "syntax" },
        { 421, "4.4.2", "mx Error: timeout exceeded", "system" },
        { 554, "", "Message rejected as spam", "policy" },
        { 599, "", "something odd", "other" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpstr(mw_smtp_category(cases[i].code, cases[i].enh, cases[i].text), ==,
                        cases[i].want);
}

/* The one-pass wording match keeps the table's order, not the text's: the first entry
 * the text contains wins, wherever it is (smtp_category.c by_wording_lower). */
static void test_category_wording_order(void)
{
    static const struct {
        int code;
        const char *enh, *text, *want;
    } cases[] = {
        /* "policy" comes first in the text, "relay" first in the table */
        { 550, "", "policy says: we do not relay", "relay" },
        /* "quota" (mailbox) is listed before "exceeds" (size) */
        { 552, "", "Message exceeds the quota", "mailbox" },
        /* "starttls" before "tls", both tls; "authentication" before "auth " */
        { 550, "", "Must issue STARTTLS", "tls" },
        { 550, "", "AUTH needed: Authentication required", "auth" },
        /* a near miss at the text's end must not read past it */
        { 550, "", "xx rela", "mailbox" },
        { 550, "", "throttl", "rate_limit" },
        /* mixed case is lowered first */
        { 450, "4.2.0", "GrEyLiStEd, try later", "greylist" },
        /* the enhanced code decides over a non-decisive wording */
        { 550, "5.7.4", "denied", "tls" },
        { 550, "5.9.9", "denied", "policy" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_cmpstr(mw_smtp_category(cases[i].code, cases[i].enh, cases[i].text), ==,
                        cases[i].want);
        char *low = g_ascii_strdown(cases[i].text, -1);
        g_assert_cmpstr(mw_smtp_category_lower(cases[i].code, cases[i].enh, low, strlen(low)),
                        ==, cases[i].want);
        g_free(low);
    }
}

/* mw_bytes_contain against a plain byte-by-byte search: random texts over an alphabet where
 * OR 0x20 joins bytes that do not fold together ('@' and '`', '[' and '{', 0x10 and 0x30),
 * every length around the 16-byte steps, needles cut from the text, changed and not. The
 * text is copied to a buffer of its exact size (ASan: no read past it). */
static bool naive_contain(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        size_t k = 0;
        while (k < n && g_ascii_tolower(p[i + k]) == g_ascii_tolower(needle[k]))
            k++;
        if (k == n)
            return true;
    }
    return false;
}

static void test_bytes_contain_as_naive(void)
{
    static const char alphabet[] = "aAbB@`[{\x10\x30 zZ";
    GRand *r = g_rand_new_with_seed(18);
    for (int round = 0; round < 4000; round++) {
        size_t len = (size_t)g_rand_int_range(r, 0, 70);
        uint8_t *text = g_malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++)
            text[i] = (uint8_t)alphabet[g_rand_int_range(r, 0, sizeof alphabet - 1)];
        char needle[8];
        size_t n = (size_t)g_rand_int_range(r, 1, sizeof needle);
        size_t at = len > n ? (size_t)g_rand_int_range(r, 0, (gint32)(len - n + 1)) : 0;
        for (size_t k = 0; k < n; k++) {
            char other = alphabet[g_rand_int_range(r, 0, sizeof alphabet - 1)];
            needle[k] = at + k < len && g_rand_boolean(r) ? (char)text[at + k] : other;
        }
        needle[n] = '\0';
        g_assert_cmpint(mw_bytes_contain(text, len, needle), ==, naive_contain(text, len, needle));
        g_free(text);
    }
    g_rand_free(r);
}

/* Case-insensitive search on wire bytes (lines.c). */
static void test_bytes_contain(void)
{
    static const uint8_t caps[] = "IMAP4rev1 LITERAL+ LOGIN-REFERRALS logindisabled";
    g_assert_true(mw_bytes_contain(caps, sizeof caps - 1, "LOGINDISABLED"));
    g_assert_false(mw_bytes_contain(caps, sizeof caps - 2, "LOGINDISABLED")); /* cut short */
    g_assert_true(mw_bytes_contain(caps, sizeof caps - 1, "imap4"));
    g_assert_true(mw_bytes_contain(caps, sizeof caps - 1, "-referrals"));
    g_assert_false(mw_bytes_contain(caps, sizeof caps - 1, "STARTTLS"));
    g_assert_true(mw_bytes_contain(caps, 3, ""));
    g_assert_false(mw_bytes_contain(caps, 3, "IMAP"));
    /* candidates in both cases, interleaved, the match after several misses */
    static const uint8_t mix[] = "lLlOLoGiLOGlogIlOgIn";
    g_assert_true(mw_bytes_contain(mix, sizeof mix - 1, "LOGIN"));
    g_assert_false(mw_bytes_contain(mix, sizeof mix - 2, "LOGIN"));
    /* a NUL byte is a byte like any other: no match across it, a match after it */
    static const uint8_t nul[] = { 'l', 'o', 0, 'g', 'i', 'n', ' ', 'L', 'O', 'G', 'I', 'N' };
    g_assert_true(mw_bytes_contain(nul, sizeof nul, "login"));
    g_assert_false(mw_bytes_contain(nul, 7, "login"));
    /* digits and punctuation match only themselves */
    static const uint8_t dig[] = "a0b";
    g_assert_false(mw_bytes_contain(dig, 3, "\x10" "b"));
    g_assert_true(mw_bytes_contain(dig, 3, "0B"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/record/community_id", test_community_id);
    g_test_add_func("/record/names", test_record_names);
    g_test_add_func("/record/json_escaping", test_json_escaping);
    g_test_add_func("/record/time_endpoints", test_time_and_endpoints);
    g_test_add_func("/record/flag_names_sorted", test_flag_names_sorted);
    g_test_add_func("/record/smtp_categories", test_categories);
    g_test_add_func("/record/smtp_category_wording_order", test_category_wording_order);
    g_test_add_func("/record/bytes_contain", test_bytes_contain);
    g_test_add_func("/record/bytes_contain_as_naive", test_bytes_contain_as_naive);
    g_test_add_func("/record/parts_through_hooks", test_record_parts);
    return g_test_run();
}
