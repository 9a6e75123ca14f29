/* The store's pure parts: times for --since/--until, the filters' SQL, the spool (cap,
 * drop counter, replay in order, a failed replay kept), the record identity, and the
 * columns read out of a record (the same values as SQLite's json_extract), and the same
 * columns taken from the session (store_cols.c) equal to them. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/identity.h"
#include "store/db/store_fields.h"
#include "store/db/store_pgbin.h"
#include "store/db/store_pgcopy.h"
#include "output/record_json.h"
#include "dissector.h"
#include "store/spool.h"
#include "store/store_cols.h"
#include "store/store_filter.h"

#define NOW (INT64_C(1714554000) * G_USEC_PER_SEC) /* 2024-05-01T09:00:00Z */

static void test_times(void)
{
    int64_t t;
    char *err = NULL;
    g_assert_true(mw_store_parse_time("-2h", NOW, &t, &err));
    g_assert_cmpint(t, ==, NOW - INT64_C(7200) * G_USEC_PER_SEC);
    g_assert_true(mw_store_parse_time("-30m", NOW, &t, &err));
    g_assert_cmpint(t, ==, NOW - INT64_C(1800) * G_USEC_PER_SEC);
    g_assert_true(mw_store_parse_time("-7d", NOW, &t, &err));
    g_assert_cmpint(t, ==, NOW - INT64_C(7 * 86400) * G_USEC_PER_SEC);
    g_assert_true(mw_store_parse_time("-1w", NOW, &t, &err));
    g_assert_cmpint(t, ==, NOW - INT64_C(7 * 86400) * G_USEC_PER_SEC);
    g_assert_true(mw_store_parse_time("-90s", NOW, &t, &err));
    g_assert_cmpint(t, ==, NOW - 90 * G_USEC_PER_SEC);
    g_assert_true(mw_store_parse_time("now", NOW, &t, &err));
    g_assert_cmpint(t, ==, NOW);
    g_assert_true(mw_store_parse_time("2024-05-01T09:00:00Z", 0, &t, &err));
    g_assert_cmpint(t, ==, NOW);
    g_assert_true(mw_store_parse_time("2024-05-01T11:00:00+02:00", 0, &t, &err));
    g_assert_cmpint(t, ==, NOW);
    g_assert_true(mw_store_parse_time("2024-05-01T09:00:00.250000Z", 0, &t, &err));
    g_assert_cmpint(t, ==, NOW + 250000);
    g_assert_true(mw_store_parse_time("2024-05-01", 0, &t, &err));
    g_assert_cmpint(t, ==, NOW - INT64_C(9 * 3600) * G_USEC_PER_SEC);
    const char *bad[] = { "yesterday", "-2", "-h", "-2x", "-2hh", "2h", "", "2024-13-01",
                          "2024-05-01T25:00:00Z", "-999999999999d" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(mw_store_parse_time(bad[i], NOW, &t, &err));
        g_assert_nonnull(err);
        g_clear_pointer(&err, g_free);
    }
}

static void test_filter_sql(void)
{
    mw_filter_args a = { .db = "x.sqlite", .since = "-1h", .flag = "auth_failed",
                         .user = "alice", .client = "0::1", .sensor = "gw1" };
    mw_store_filter f;
    char *err = NULL;
    g_assert_true(mw_filter_from_args(&a, NOW, &f, &err));
    char *params[MW_FILTER_MAX_PARAMS];
    GString *w = g_string_new(NULL);
    int n = mw_store_filter_sql(&f, false, w, params);
    g_assert_cmpint(n, ==, 5);
    g_assert_cmpstr(w->str, ==, " WHERE ts_start >= ?1 AND uid IN (SELECT uid FROM findings "
                                "WHERE flag = ?2) AND user = ?3 AND client_ip = ?4 AND "
                                "sensor = ?5");
    g_assert_cmpstr(params[0], ==, "2024-05-01T08:00:00.000000Z");
    g_assert_cmpstr(params[3], ==, "::1"); /* as the store writes it */
    for (int i = 0; i < n; i++)
        g_free(params[i]);
    g_string_truncate(w, 0);
    n = mw_store_filter_sql(&f, true, w, params);
    g_assert_cmpstr(w->str, ==, " WHERE ts_start >= $1::timestamptz AND uid IN (SELECT uid "
                                "FROM findings WHERE flag = $2) AND \"user\" = $3 AND "
                                "client_ip = $4::inet AND sensor = $5");
    for (int i = 0; i < n; i++)
        g_free(params[i]);
    g_string_free(w, TRUE);
    /* refused: an unknown flag, an address that is not one, no --db */
    mw_filter_args b = { .db = "x", .flag = "auth_fail" };
    g_assert_false(mw_filter_from_args(&b, NOW, &f, &err));
    g_clear_pointer(&err, g_free);
    mw_filter_args c = { .db = "x", .server = "mail.example.test" };
    g_assert_false(mw_filter_from_args(&c, NOW, &f, &err));
    g_clear_pointer(&err, g_free);
    mw_filter_args d = { .user = "alice" };
    g_assert_false(mw_filter_from_args(&d, NOW, &f, &err));
    g_clear_pointer(&err, g_free);
}

typedef struct {
    GPtrArray *got;
    int fail_after; /* batches accepted before the "database" goes away; -1: never */
} sink;

static mw_db_status take(const mw_store_row *rows, size_t n, void *user)
{
    sink *k = user;
    if (k->fail_after == 0)
        return MW_DB_DOWN;
    if (k->fail_after > 0)
        k->fail_after--;
    for (size_t i = 0; i < n; i++)
        g_ptr_array_add(k->got, g_strdup_printf("%s|%s", rows[i].record,
                                                rows[i].extra ? rows[i].extra : "-"));
    return MW_DB_OK;
}

static void test_spool(void)
{
    char *dir = g_dir_make_tmp("mw-spool-XXXXXX", NULL);
    char *sub = g_build_filename(dir, "spool", NULL);
    /* 200 KiB: segments of 64 KiB; 1000 records of ~330 bytes do not all fit */
    mw_spool *sp = mw_spool_open(sub, 200 * 1024);
    g_assert_true(mw_spool_empty(sp));
    g_assert_false(g_file_test(sub, G_FILE_TEST_EXISTS)); /* nothing made until needed */
    char rec[320];
    memset(rec, 'a', sizeof rec - 1);
    rec[sizeof rec - 1] = '\0';
    int kept = 0;
    for (int i = 0; i < 1000; i++) {
        char *r = g_strdup_printf("{\"n\":%d,\"pad\":\"%s\"}", i, rec);
        mw_store_row row = { r, i % 2 ? "{\"x\":1}" : NULL, NULL, 0 };
        kept += mw_spool_append(sp, &row);
        g_free(r);
    }
    mw_spool_flush(sp);
    g_assert_cmpint(kept, >, 500);
    g_assert_cmpint(kept, <, 700);
    g_assert_cmpuint(mw_spool_dropped(sp), ==, 1000 - kept);
    g_assert_cmpint(mw_spool_bytes(sp), <=, 200 * 1024);
    /* the database goes away after two batches: the rest stays */
    sink k = { g_ptr_array_new_with_free_func(g_free), 2 };
    g_assert_false(mw_spool_replay(sp, 100, take, &k));
    g_assert_false(mw_spool_empty(sp));
    mw_spool_free(sp);
    /* a new run finds the spool and replays it all, oldest first */
    sp = mw_spool_open(sub, 200 * 1024);
    g_assert_false(mw_spool_empty(sp));
    k.fail_after = -1;
    g_assert_true(mw_spool_replay(sp, 100, take, &k));
    g_assert_true(mw_spool_empty(sp));
    /* every record arrived, in order; a batch cut short may come again (the store's
     * inserts are idempotent), never one out of order */
    int next = 0;
    for (guint i = 0; i < k.got->len; i++) {
        int n = atoi((const char *)g_ptr_array_index(k.got, i) + 5);
        g_assert_cmpint(n, <=, next);
        if (n == next) {
            char *want = g_strdup_printf("{\"n\":%d,\"pad\":\"%s\"}|%s", n, rec,
                                         n % 2 ? "{\"x\":1}" : "-");
            g_assert_cmpstr(g_ptr_array_index(k.got, i), ==, want);
            g_free(want);
            next++;
        }
    }
    g_assert_cmpint(next, ==, kept);
    g_ptr_array_free(k.got, TRUE);
    mw_spool_free(sp);
    g_rmdir(sub);
    g_rmdir(dir);
    g_free(sub);
    g_free(dir);
}

static void test_uid(void)
{
    mw_session *s = mw_session_new(1);
    s->client = (mw_endpoint){ .family = 4, .addr = { 10, 0, 0, 1 }, .port = 5000 };
    s->server = (mw_endpoint){ .family = 4, .addr = { 10, 0, 0, 2 }, .port = 25 };
    s->first_frame = 7;
    s->ts_start_us = NOW;
    mw_identity_set_sensor("gw1");
    mw_identity_set_input("a.pcap", FALSE);
    s->input = mw_identity_input();
    char a[MW_UID_SIZE], b[MW_UID_SIZE];
    mw_identity_uid(s, a);
    g_assert_cmpuint(strlen(a), ==, MW_UID_LEN);
    mw_identity_uid(s, b);
    g_assert_cmpstr(a, ==, b); /* stable */
    mw_identity_set_sensor("gw2");
    mw_identity_uid(s, b);
    g_assert_cmpstr(a, !=, b); /* another sensor */
    mw_identity_set_sensor("gw1");
    s->first_frame = 8;
    mw_identity_uid(s, b);
    g_assert_cmpstr(a, !=, b); /* another session */
    g_assert_cmpint(strncmp(a, b, 8), ==, 0); /* same start second: same prefix */
    s->ts_start_us = NOW + G_USEC_PER_SEC;
    mw_identity_uid(s, b);
    g_assert_cmpint(strcmp(a, b), <, 0); /* later sessions sort after */
    mw_identity_set_input("eth0", TRUE);
    g_assert_cmpstr(mw_identity_input(), ==, "iface:eth0");
    GString *g = g_string_new("{");
    mw_identity_json(g, s);
    g_assert_nonnull(strstr(g->str, ",\"input\":\"a.pcap\",\"sensor\":\"gw1\",\"client_ip\":"
                                    "\"10.0.0.1\",\"client_port\":5000,\"server_ip\":"
                                    "\"10.0.0.2\",\"server_port\":25"));
    g_string_free(g, TRUE);
    mw_session_free(s);
}

/* What json_extract(record, path) gives, as text ("(null)" for NULL), and what the scanner
 * gives for the same value as the store binds it (text cut at a NUL, integers). */
static char *extract(sqlite3 *db, const char *record, const char *path)
{
    sqlite3_stmt *st;
    g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT json_extract(?1, ?2)", -1, &st, NULL), ==,
                    SQLITE_OK);
    sqlite3_bind_text(st, 1, record, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    char *r = g_strdup(t ? t : "(null)");
    sqlite3_finalize(st);
    return r;
}

static char *scanned(const mw_sf_val *v)
{
    gint64 x;
    if (!v->s)
        return g_strdup("(null)");
    if (v->num && mw_sf_int(v, &x))
        return g_strdup_printf("%" G_GINT64_FORMAT, x);
    return g_strndup(v->s, strnlen(v->s, v->n));
}

static void same(sqlite3 *db, const char *record, const char *path, const mw_sf_val *v)
{
    char *want = extract(db, record, path), *got = scanned(v);
    g_assert_cmpstr(got, ==, want);
    g_free(want);
    g_free(got);
}

static void test_fields(void)
{
    static const char *const good[] = {
        "{\"id\":\"s1\",\"uid\":\"u1\",\"ts_start\":\"2024-05-01T09:00:00.000001Z\","
        "\"ts_end\":\"2024-05-01T09:00:01Z\",\"tls\":{\"sni\":\"x\",\"version\":\"TLS1.3\"},"
        "\"auth\":{\"mech\":\"PLAIN\",\"user\":\"al\\\"ice\\\\ \\u00e9\\ud83d\\ude00\\t\"},"
        "\"evidence\":[{\"flag\":\"auth_failed\",\"frame\":9,\"ts\":\"t\",\"detail\":\"a\\nb\"},"
        "{\"flag\":\"x\",\"frame\":null,\"source\":\"log\",\"detail\":\"[{}]\"}],"
        "\"input\":null,\"sensor\":\"gw\",\"client_ip\":\"::1\",\"client_port\":5000,"
        "\"server_ip\":\"10.0.0.2\",\"server_port\":25,\"protocol\":\"smtp\","
        "\"outcome\":\"ok\",\"nested\":{\"a\":[1,2.5e3,true,false,null,{\"uid\":\"no\"}]}}",
        /* a NUL in a string (json_extract cuts there), a first duplicate key wins, an
         * object where a string was expected, a lone surrogate */
        " { \"uid\" : \"a\\u0000b\" , \"uid\":\"second\", \"sensor\": {\"k\": 1},"
        " \"auth\": null, \"tls\": {\"version\": null}, \"user\": \"top\","
        " \"protocol\": \"\\ud800x\", \"client_port\": -1.5, \"evidence\": [] } ",
        /* the scanner's byte classes: raw UTF-8, DEL, JSON's punctuation inside a string */
        "{\"uid\":\"\xc3\xa9\x7f~{}[]:,\",\"outcome\":\" \\/ \",\"client_port\":12}",
    };
    static const char *const bad[] = {
        "", "[]", "{", "{\"uid\":\"a\"", "{\"uid\":\"a\"} x", "{\"uid\":\"a\\q\"}",
        "{\"uid\":\"a\\u12\"}", "{\"uid\":tru}", "{\"uid\":\"a\nb\"}", "{\"uid\" \"a\"}",
        "{\"a\":[1,]}", "{\"a\":1,}", "{\"uid\":\"a\\", "{\"uid\":\"a\tb\"}",
        "{\"uid\":\"a\x01\"}", "{\"uid\":12x}", "{\"uid\":\"abc",
    };
    sqlite3 *db;
    g_assert_cmpint(sqlite3_open(":memory:", &db), ==, SQLITE_OK);
    mw_store_fields f;
    mw_store_fields_init(&f);
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        const char *r = good[i], *why = NULL;
        g_assert_true(mw_store_fields_parse(&f, r, &why));
        static const char *const paths[] = { "$.uid", "$.ts_start", "$.ts_end", "$.sensor",
            "$.input", "$.client_ip", "$.client_port", "$.server_ip", "$.server_port",
            "$.protocol", "$.outcome", "$.auth.user", "$.tls.version" };
        const mw_sf_val *v[] = { &f.uid, &f.ts_start, &f.ts_end, &f.sensor, &f.input,
            &f.client_ip, &f.client_port, &f.server_ip, &f.server_port, &f.protocol,
            &f.outcome, &f.user, &f.tls_version };
        for (size_t k = 0; k < G_N_ELEMENTS(paths); k++)
            if (!(i == 1 && k == 3)) /* an object: json_extract minifies it, unused */
                same(db, r, paths[k], v[k]);
        for (guint k = 0; k < f.findings->len; k++) {
            const mw_sf_finding *fd = &g_array_index(f.findings, mw_sf_finding, k);
            char p[64];
            const char *keys[] = { "flag", "frame", "ts", "source", "detail" };
            const mw_sf_val *fv[] = { &fd->flag, &fd->frame, &fd->ts, &fd->source, &fd->detail };
            for (int j = 0; j < 5; j++) {
                g_snprintf(p, sizeof p, "$.evidence[%u].%s", k, keys[j]);
                same(db, r, p, fv[j]);
            }
        }
    }
    g_assert_true(mw_store_fields_parse(&f, good[0], NULL));
    g_assert_cmpuint(f.findings->len, ==, 2);
    const mw_sf_finding *second = &g_array_index(f.findings, mw_sf_finding, 1);
    g_assert_true(second->source.n == 3 && memcmp(second->source.s, "log", 3) == 0);
    g_assert_null(second->frame.s);
    g_assert_true(f.client_port.num);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        const char *why = NULL;
        g_assert_false(mw_store_fields_parse(&f, bad[i], &why));
        g_assert_nonnull(why);
    }
    GString *deep = g_string_new("{\"a\":");
    for (int i = 0; i < MW_STORE_FIELDS_MAX_DEPTH + 1; i++)
        g_string_append_c(deep, '[');
    for (int i = 0; i < MW_STORE_FIELDS_MAX_DEPTH + 1; i++)
        g_string_append_c(deep, ']');
    g_string_append_c(deep, '}');
    g_assert_false(mw_store_fields_parse(&f, deep->str, NULL)); /* too deep: refused */
    g_string_free(deep, TRUE);
    mw_store_fields_clear(&f);
    sqlite3_close(db);
}

/* PostgreSQL's binary timestamptz: microseconds since 2000-01-01 UTC, from the one form
 * mailwire writes; any other form is left to the text format (false). */
/* A TLS part of the test's own: the record's "tls" as the TLS dissector writes its start. */
static void tls_json(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    g_string_append(out, rec);
}
static const mw_dissector toy_tls = { .name = "toytls", .write_json = tls_json,
                                      .free_record = g_free };

static void same_val(const mw_sf_val *a, const mw_sf_val *b)
{
    g_assert_cmpint(!a->s, ==, !b->s);
    if (!a->s)
        return;
    g_assert_cmpint(a->num, ==, b->num);
    g_assert_cmpmem(a->s, a->n, b->s, b->n);
}

/* mw_store_cols' values against the scan of the session's own record; false: no columns. */
static bool cols_equal_scan(const mw_session *s)
{
    GString *rec = g_string_new(NULL), *packed = g_string_new(NULL), *tmp = g_string_new(NULL);
    mw_record_json(rec, s);
    bool have = mw_store_cols(packed, tmp, s, rec->str, rec->len);
    if (have) {
        mw_store_fields a, b;
        mw_store_fields_init(&a);
        mw_store_fields_init(&b);
        g_assert_true(mw_store_fields_unpack(&a, packed->str, packed->len));
        g_assert_true(mw_store_fields_parse(&b, rec->str, NULL));
        const mw_sf_val *ca[13] = { &a.uid, &a.ts_start, &a.ts_end, &a.sensor, &a.input,
                                    &a.client_ip, &a.client_port, &a.server_ip, &a.server_port,
                                    &a.protocol, &a.outcome, &a.user, &a.tls_version };
        const mw_sf_val *cb[13] = { &b.uid, &b.ts_start, &b.ts_end, &b.sensor, &b.input,
                                    &b.client_ip, &b.client_port, &b.server_ip, &b.server_port,
                                    &b.protocol, &b.outcome, &b.user, &b.tls_version };
        for (int i = 0; i < 13; i++)
            same_val(ca[i], cb[i]);
        g_assert_cmpuint(a.findings->len, ==, b.findings->len);
        for (guint i = 0; i < a.findings->len; i++) {
            const mw_sf_finding *x = &g_array_index(a.findings, mw_sf_finding, i);
            const mw_sf_finding *y = &g_array_index(b.findings, mw_sf_finding, i);
            same_val(&x->flag, &y->flag);
            same_val(&x->frame, &y->frame);
            same_val(&x->ts, &y->ts);
            same_val(&x->source, &y->source);
            same_val(&x->detail, &y->detail);
        }
        g_assert_false(mw_store_fields_unpack(&a, packed->str, packed->len - 1)); /* cut */
        mw_store_fields_clear(&a);
        mw_store_fields_clear(&b);
    }
    g_string_free(rec, TRUE);
    g_string_free(packed, TRUE);
    g_string_free(tmp, TRUE);
    return have;
}

static void test_cols(void)
{
    mw_identity_set_sensor("gw\xc3\xa9-1"); /* UTF-8 */
    mw_identity_set_input("caf\xe9.pcap", FALSE); /* not UTF-8: Latin-1 in the record */
    mw_session *s = mw_session_new(3);
    s->input = mw_identity_input();
    s->client = (mw_endpoint){ .family = 4, .addr = { 192, 0, 2, 10 }, .port = 65535 };
    s->server = (mw_endpoint){ .family = 6, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, .port = 0 };
    s->ts_start_us = NOW + 1;
    s->ts_end_us = NOW + 2 * G_USEC_PER_SEC;
    s->first_frame = 4;
    g_assert_true(cols_equal_scan(s)); /* no auth, no TLS, no findings */
    mw_auth_rec *a = mw_session_auth(s);
    a->user = g_strdup("al\"ice\\\t\x01\x7f\xff\xc3\xa9 \xf0\x9f\x98\x80");
    mw_session_flag(s, MW_FLAG_AUTH_FAILED, 9, NOW + 5, "user \"%s\" \xc3(\n)", "x");
    mw_session_flag_log(s, MW_FLAG_AUTH_FAILED, "/var/log/mail.log", 12, NOW + 6, "log\tline");
    mw_part_attach(&s->tls, &toy_tls,
                   g_strdup(",\"tls\":{\"client_versions\":[\"TLS1.3\",\"TLS1.2\"],"
                            "\"version\":\"TLS1.2\",\"sni\":\"a,\\\"tls\\\":{\"}"));
    mw_session_finish(s);
    g_assert_true(cols_equal_scan(s));
    mw_part_attach(&s->tls, &toy_tls, g_strdup(",\"tls\":{\"client_versions\":[],\"version\":null}"));
    g_assert_true(cols_equal_scan(s));
    /* a shape the writer does not make: no columns, the store thread scans the record */
    mw_part_attach(&s->tls, &toy_tls, g_strdup(",\"tls\":{\"client_versions\":[\"T\\u0031\"],"
                                               "\"version\":null}"));
    g_assert_false(cols_equal_scan(s));
    mw_part_attach(&s->tls, &toy_tls, g_strdup(",\"tls\":{\"version\":\"TLS1.3\"}"));
    g_assert_false(cols_equal_scan(s));
    mw_session_free(s);
    mw_identity_set_sensor("gw1");
}

static void test_pgbin_time(void)
{
    static const struct { const char *s; gint64 us; } good[] = {
        { "2000-01-01T00:00:00.000000Z", 0 },
        { "1970-01-01T00:00:00.000000Z", INT64_C(-946684800000000) },
        { "2024-05-01T09:00:00.000001Z", INT64_C(767869200000001) },
        { "2024-02-29T23:59:59.999999Z", INT64_C(762566399999999) },
        { "1999-12-31T23:59:59.500000Z", INT64_C(-500000) },
        { "0001-01-01T00:00:00.000000Z", INT64_C(-63082281600000000) },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        gint64 t = 0;
        g_assert_true(mw_pgbin_time(good[i].s, strlen(good[i].s), &t));
        g_assert_cmpint(t, ==, good[i].us);
    }
    static const char *const bad[] = {
        "2023-02-29T00:00:00.000000Z", "2024-04-31T00:00:00.000000Z", "2024-13-01T00:00:00.000000Z",
        "2024-05-01T24:00:00.000000Z", "2024-05-01T09:00:00Z", "2024-05-01T09:00:00.000000+00:00",
        "2024-05-01 09:00:00.000000Z", "0000-01-01T00:00:00.000000Z", "2024-05-01T09:00:60.000000Z",
        "2024-05-0aT09:00:00.000000Z", "2024-05-01T09:00:00.00000aZ", "2024505-01T09:00:00.000000Z",
        "2024-05-01T09:00:00.000000z",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        gint64 t;
        g_assert_false(mw_pgbin_time(bad[i], strlen(bad[i]), &t));
    }
}

/* A row the binary format cannot carry (a time in another form) leaves the buffer as it
 * was, so the batch goes as text; one it can starts with its field count and the uid. */
static void test_pgbin_row(void)
{
    static const char rec[] =
        "{\"uid\":\"m1\",\"ts_start\":\"2024-05-01T09:00:00.000001Z\","
        "\"ts_end\":\"%s\",\"sensor\":\"gw\",\"input\":null,\"client_ip\":\"%s\","
        "\"client_port\":5000,\"server_ip\":\"10.0.0.2\",\"server_port\":25,"
        "\"protocol\":\"smtp\",\"outcome\":\"ok\","
        "\"evidence\":[{\"flag\":\"auth_failed\",\"frame\":3,\"ts\":\"%s\"}]}";
    static const struct { const char *end, *ip, *fts; bool ok; } cases[] = {
        { "2024-05-01T09:00:01.000000Z", "::1", "2024-05-01T09:00:00.500000Z", true },
        { "2024-05-01T09:00:01Z", "::1", "2024-05-01T09:00:00.500000Z", false },
        { "2024-05-01T09:00:01.000000Z", "not-an-ip", "2024-05-01T09:00:00.500000Z", false },
        { "2024-05-01T09:00:01.000000Z", "10.0.0.1", "yesterday", false },
    };
    mw_store_fields f;
    mw_store_fields_init(&f);
    GString *g = g_string_new("x");
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *r = g_strdup_printf(rec, cases[i].end, cases[i].ip, cases[i].fts);
        g_assert_true(mw_store_fields_parse(&f, r, NULL));
        g_string_assign(g, "x");
        bool ok = mw_pgbin_session(g, &f, r, NULL, -1);
        if (!ok)
            g_assert_cmpuint(g->len, ==, 1); /* as it was */
        if (ok) {
            g_assert_true(memcmp(g->str, "x\0\17\0\0\0\2m1", 10) == 0); /* 15 fields, uid */
            size_t before = g->len;
            ok = mw_pgbin_finding(g, &f, &g_array_index(f.findings, mw_sf_finding, 0), -1);
            if (!ok)
                g_assert_cmpuint(g->len, ==, before);
        }
        g_assert_cmpint(ok, ==, cases[i].ok);
        g_free(r);
    }
    g_string_free(g, TRUE);
    mw_store_fields_clear(&f);
}

/* The record as PostgreSQL keeps it: a NUL the wire carried as U+FFFD, an escaped
 * backslash before "u0000" left alone. */
static void test_pg_json_text(void)
{
    GString *g = g_string_new("x");
    mw_pg_json_text(g, "{\"a\":\"x\\u0000y\",\"b\":\"\\\\u0000\",\"c\":\"\\\\\\u0000\"}");
    g_assert_cmpstr(g->str, ==, "x{\"a\":\"x\\ufffdy\",\"b\":\"\\\\u0000\",\"c\":\"\\\\\\ufffd\"}");
    g_string_free(g, TRUE);
}

/* A row for COPY: in the binary format the record is jsonb's binary input (its length,
 * the version byte 1, then the text with a NUL as U+FFFD); a record that is not JSON, or a
 * value the binary format cannot carry, leaves both buffers as they were; the text format
 * takes it. */
static void test_pg_copy_row(void)
{
    static const char good[] =
        "{\"uid\":\"m1\",\"ts_start\":\"2024-05-01T09:00:00.000001Z\","
        "\"ts_end\":\"%s\",\"sensor\":\"gw\",\"input\":null,\"client_ip\":\"10.0.0.1\","
        "\"client_port\":5000,\"server_ip\":\"10.0.0.2\",\"server_port\":25,"
        "\"protocol\":\"smtp\",\"outcome\":\"ok\",\"x\":\"a\\u0000b\","
        "\"evidence\":[{\"flag\":\"auth_failed\",\"frame\":3,\"ts\":null}]}";
    char *rec = g_strdup_printf(good, "2024-05-01T09:00:01.000000Z");
    char *odd = g_strdup_printf(good, "2024-05-01T09:00:01Z");
    mw_pg_copy c;
    mw_pg_copy_init(&c);
    const char *why = NULL;
    mw_pg_copy_begin(&c, true);
    size_t s0 = c.sessions->len, f0 = c.findings->len;
    mw_store_row r = { rec, "{\"first_frame\":1}", NULL, 0 };
    g_assert_cmpint(mw_pg_copy_row(&c, &r, -1, &why), ==, MW_PGC_OK);
    GString *want = g_string_new(NULL);
    mw_pg_json_text(want, rec);
    const char *at = NULL;
    for (size_t i = 4; !at && i + want->len <= c.sessions->len; i++)
        if (memcmp(c.sessions->str + i, want->str, want->len) == 0)
            at = c.sessions->str + i;
    g_assert_nonnull(at);
    g_assert_cmpint(at[-1], ==, 1); /* jsonb's binary format version */
    guint32 len = (guint32)(unsigned char)at[-5] << 24 | (guint32)(unsigned char)at[-4] << 16 |
                  (guint32)(unsigned char)at[-3] << 8 | (unsigned char)at[-2];
    g_assert_cmpuint(len, ==, want->len + 1);
    g_assert_cmpuint(c.findings->len, >, f0);
    s0 = c.sessions->len;
    f0 = c.findings->len;
    mw_store_row bad = { "{\"uid\": nope", NULL, NULL, 0 };
    g_assert_cmpint(mw_pg_copy_row(&c, &bad, -1, &why), ==, MW_PGC_MALFORMED);
    g_assert_nonnull(why);
    mw_store_row o = { odd, NULL, NULL, 0 };
    g_assert_cmpint(mw_pg_copy_row(&c, &o, 3, &why), ==, MW_PGC_UNENCODABLE);
    g_assert_cmpuint(c.sessions->len, ==, s0);
    g_assert_cmpuint(c.findings->len, ==, f0);
    mw_pg_copy_begin(&c, false);
    g_assert_cmpint(mw_pg_copy_row(&c, &o, 3, &why), ==, MW_PGC_OK);
    g_assert_true(g_str_has_prefix(c.sessions->str, "3\tm1\t2024-05-01T09:00:00.000001Z\t"
                                                    "2024-05-01T09:00:01Z\tgw\t\\N\t"));
    g_assert_nonnull(strstr(c.sessions->str, "\"x\":\"a\\\\ufffdb\""));
    g_assert_true(g_str_has_suffix(c.sessions->str, "]}\t\\N\n"));
    g_assert_cmpstr(c.findings->str, ==, "3\tm1\tauth_failed\t3\t\\N\twire\t\\N\n");
    g_string_free(want, TRUE);
    mw_pg_copy_clear(&c);
    g_free(rec);
    g_free(odd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/times", test_times);
    g_test_add_func("/store/filter_sql", test_filter_sql);
    g_test_add_func("/store/spool", test_spool);
    g_test_add_func("/store/uid", test_uid);
    g_test_add_func("/store/fields", test_fields);
    g_test_add_func("/store/cols", test_cols);
    g_test_add_func("/store/pgbin_time", test_pgbin_time);
    g_test_add_func("/store/pgbin_row", test_pgbin_row);
    g_test_add_func("/store/pg_json_text", test_pg_json_text);
    g_test_add_func("/store/pg_copy_row", test_pg_copy_row);
    return g_test_run();
}
