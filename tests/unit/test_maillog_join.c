/* The join of server logs to captured sessions (issue 14), on the recorded logs of pcaps/
 * (run from the repository root): by port, by time alone, refused when ambiguous, in
 * another time zone, corroboration, delivery, Exchange's protocol log, .gz, the caps, and
 * no password in any record. */
#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <zlib.h>

#include "maillog/maillog_int.h"
#include "output/record_json.h"

static int64_t at(const char *iso)
{
    GDateTime *d = g_date_time_new_from_iso8601(iso, NULL);
    g_assert_nonnull(d);
    int64_t us = g_date_time_to_unix(d) * G_USEC_PER_SEC + g_date_time_get_microsecond(d);
    g_date_time_unref(d);
    return us;
}

static void endpoint(mw_endpoint *ep, const char *ip, int port)
{
    ep->family = strchr(ip, ':') ? 6 : 4;
    g_assert_cmpint(inet_pton(ep->family == 6 ? AF_INET6 : AF_INET, ip, ep->addr), ==, 1);
    ep->port = (uint16_t)port;
}

/* A closed, encrypted captured session. */
static mw_session *sess(const char *cip, int cport, const char *sip, int sport, mw_proto p,
                        const char *start, const char *end)
{
    mw_session *s = mw_session_new(1);
    endpoint(&s->client, cip, cport);
    endpoint(&s->server, sip, sport);
    s->protocol = p;
    s->ts_start_us = at(start);
    s->ts_end_us = at(end);
    s->encrypted = true;
    s->close_reason = MW_CLOSE_FIN;
    mw_session_finish(s);
    return s;
}

static mw_maillog *logs(const char *tz, const char *const *files)
{
    char *err = NULL;
    mw_maillog_opts o = { tz, MW_LOG_SKEW_DEFAULT_S, 0, 0 };
    mw_maillog *m = mw_maillog_new(&o, &err);
    g_assert_no_error(NULL);
    g_assert_nonnull(m);
    for (; *files; files++) {
        g_assert_true(mw_maillog_read(m, *files, &err));
        g_assert_null(err);
    }
    return m;
}

static const mw_evidence *evidence(const mw_session *s, mw_flag f)
{
    for (guint i = 0; s->evidence && i < s->evidence->len; i++)
        if (g_array_index(s->evidence, mw_evidence, i).flag == f)
            return &g_array_index(s->evidence, mw_evidence, i);
    return NULL;
}

static bool need_pcaps(void)
{
    if (g_file_test("pcaps/log-smtp587-auth-failed-tls13.maillog", G_FILE_TEST_EXISTS))
        return true;
    g_test_skip("run from the repository root (pcaps/ not found)");
    return false;
}

static void test_port(void)
{
    if (!need_pcaps())
        return;
    const char *f[] = { "pcaps/log-smtp587-auth-failed-tls13.maillog",
                        "pcaps/log-smtp587-auth-failed-tls13.dovecot.log", NULL };
    mw_maillog *m = logs("UTC", f);
    mw_session *s = sess("127.0.0.41", 44696, "127.0.0.1", 587, MW_PROTO_SUBMISSION,
                         "2026-12-01T09:32:58.563370Z", "2026-12-01T09:33:00.092650Z");
    g_assert_cmpint(s->outcome, ==, MW_OUT_ENCRYPTED);
    mw_maillog_join(m, s);
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_cmpint(s->outcome, ==, MW_OUT_REJECTED); /* follows the server's verdict */
    const mw_evidence *e = evidence(s, MW_FLAG_AUTH_FAILED);
    g_assert_nonnull(e);
    g_assert_cmpint((int)e->frame, ==, 0);
    g_assert_cmpstr(e->log_file, ==, f[0]);
    g_assert_cmpint((int)e->log_line, ==, 3); /* the SASL line, not the auth=0/1 count */
    g_assert_cmpint(s->evidence->len, ==, 1);  /* one failure, one evidence entry */
    g_assert_cmpstr(s->server_log->matched_by, ==, "port");
    g_assert_cmpint(s->server_log->lines->len, ==, 5);
    /* decisive first */
    g_assert_cmpint((int)g_array_index(s->server_log->lines, mw_log_ref, 0).line, ==, 3);
    GString *j = g_string_new(NULL);
    mw_record_json(j, s);
    g_assert_nonnull(strstr(j->str, "\"frame\":null,\"source\":\"log\",\"file\":"
                                    "\"pcaps/log-smtp587-auth-failed-tls13.maillog\",\"line\":3"));
    g_assert_nonnull(strstr(j->str, "\"server_log\":{\"files\":["));
    g_string_free(j, TRUE);
    mw_session_free(s);
    mw_maillog_free(m);
}

/* postfix in TZ=Europe/Berlin: 10:34 in the log is 09:34 UTC in the capture. */
static void test_zone(void)
{
    if (!need_pcaps())
        return;
    const char *f[] = { "pcaps/log-smtp587-auth-failed-berlin-tls13.maillog", NULL };
    const char *zones[] = { "Europe/Berlin", "UTC" };
    for (int z = 0; z < 2; z++) {
        mw_maillog *m = logs(zones[z], f);
        mw_session *s = sess("127.0.0.46", 51342, "127.0.0.1", 587, MW_PROTO_SUBMISSION,
                             "2026-12-01T09:34:19.618000Z", "2026-12-01T09:34:21.200000Z");
        mw_maillog_join(m, s);
        g_assert_cmpint(mw_session_has(s, MW_FLAG_AUTH_FAILED), ==, z == 0);
        g_assert_cmpint(m->joined_port, ==, z == 0);
        if (z == 0) /* 10:34:19 CET - 09:34:19.618 UTC */
            g_assert_cmpint(s->server_log->skew_us, ==, -618000);
        mw_session_free(s);
        mw_maillog_free(m);
    }
}

static void test_time_only(void)
{
    if (!need_pcaps())
        return;
    const char *f[] = { "pcaps/log-smtp587-noport-auth-failed-tls13.maillog", NULL };
    mw_maillog *m = logs("UTC", f);
    mw_session *s = sess("127.0.0.44", 53156, "127.0.0.9", 587, MW_PROTO_SUBMISSION,
                         "2026-12-01T09:34:05.582000Z", "2026-12-01T09:34:07.100000Z");
    mw_maillog_join(m, s);
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_cmpstr(s->server_log->matched_by, ==, "time");
    /* a second session from the address in that time: the log session is taken already,
     * so it is refused, not given the same lines */
    mw_session *s2 = sess("127.0.0.44", 53160, "127.0.0.9", 587, MW_PROTO_SUBMISSION,
                          "2026-12-01T09:34:06.000000Z", "2026-12-01T09:34:06.500000Z");
    mw_maillog_join(m, s2);
    g_assert_false(mw_session_has(s2, MW_FLAG_AUTH_FAILED));
    g_assert_null(s2->server_log->matched_by);
    g_assert_cmpint(m->ambiguous, ==, 1);
    mw_session_free(s);
    mw_session_free(s2);
    mw_maillog_free(m);
}

static void test_ambiguous(void)
{
    if (!need_pcaps())
        return;
    const char *f[] = { "pcaps/log-smtp587-noport-ambiguous-tls13.maillog", NULL };
    mw_maillog *m = logs("UTC", f);
    mw_session *b = sess("127.0.0.45", 41304, "127.0.0.9", 587, MW_PROTO_SUBMISSION,
                         "2026-12-01T09:34:11.400000Z", "2026-12-01T09:34:11.900000Z");
    mw_session *a = sess("127.0.0.45", 41298, "127.0.0.9", 587, MW_PROTO_SUBMISSION,
                         "2026-12-01T09:34:11.100000Z", "2026-12-01T09:34:13.200000Z");
    mw_maillog_join(m, b);
    mw_maillog_join(m, a);
    for (int i = 0; i < 2; i++) {
        mw_session *s = i ? a : b;
        g_assert_cmpint(s->flags, ==, 0);
        g_assert_cmpint(s->outcome, ==, MW_OUT_ENCRYPTED);
        g_assert_nonnull(s->server_log);
        g_assert_null(s->server_log->matched_by);
        g_assert_cmpint(s->server_log->candidates, ==, 2);
        g_assert_cmpint(s->server_log->lines->len, ==, 0);
    }
    g_assert_cmpint(m->ambiguous, ==, 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    mw_maillog_summary(m, fp);
    fclose(fp);
    g_assert_nonnull(strstr(buf, "Ambiguous: 2 sessions"));
    g_assert_null(strstr(buf, "no captured packets")); /* refused ones are no "missed" ones */
    free(buf);
    mw_session_free(a);
    mw_session_free(b);
    mw_maillog_free(m);
}

static void test_corroborate_and_delivery(void)
{
    if (!need_pcaps())
        return;
    const char *f[] = { "pcaps/log-smtp25-relay-denied-starttls-tls13.maillog",
                        "pcaps/log-smtp587-accepted-bounced-tls13.maillog", NULL };
    mw_maillog *m = logs("UTC", f);
    mw_session *s = sess("127.0.0.1", 35011, "127.0.0.1", 25, MW_PROTO_SMTP,
                         "2026-12-01T09:33:05.303000Z", "2026-12-01T09:33:05.700000Z");
    mw_session_flag(s, MW_FLAG_RELAY_DENIED, 17, s->ts_start_us, "554 5.7.1 decrypted");
    mw_maillog_join(m, s);
    g_assert_cmpint(s->evidence->len, ==, 1); /* corroboration, not a second finding */
    g_assert_cmpint(s->server_log->corroborated->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(s->server_log->corroborated, 0), ==, "relay_denied");
    mw_session *d = sess("127.0.0.1", 42984, "127.0.0.1", 587, MW_PROTO_SUBMISSION,
                         "2026-12-01T09:33:14.389000Z", "2026-12-01T09:33:14.600000Z");
    mw_maillog_join(m, d);
    g_assert_cmpstr(d->server_log->queue_id, ==, "6365EA764D2");
    g_assert_cmpstr(d->server_log->status, ==, "bounced");
    g_assert_cmpstr(d->server_log->dsn, ==, "5.1.1");
    g_assert_cmpstr(d->server_log->relay, ==, "local");
    g_assert_cmpstr(d->server_log->text, ==, "unknown user: \"bounceme\"");
    g_assert_cmpint(d->flags, ==, 0);
    g_assert_cmpint(d->outcome, ==, MW_OUT_OK); /* quit=1, no failed command */
    mw_session_free(s);
    mw_session_free(d);
    mw_maillog_free(m);
}

static void test_dovecot(void)
{
    if (!need_pcaps())
        return;
    const char *f[] = { "pcaps/log-imaps993-auth-failed-tls13.dovecot.log",
                        "pcaps/log-imaps993-tls10-refused.dovecot.log", NULL };
    mw_maillog *m = logs("UTC", f);
    mw_session *s = sess("127.0.0.42", 49878, "127.0.0.1", 993, MW_PROTO_IMAPS,
                         "2026-12-01T09:33:47.913000Z", "2026-12-01T09:33:49.500000Z");
    mw_maillog_join(m, s);
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_cmpint(s->server_log->lines->len, ==, 2); /* the auth line by its session id */
    /* the wrong server port: not that session */
    mw_session *t = sess("127.0.0.47", 45099, "127.0.0.1", 995, MW_PROTO_POP3S,
                         "2026-12-01T09:34:01.600000Z", "2026-12-01T09:34:01.700000Z");
    mw_maillog_join(m, t);
    g_assert_null(t->server_log);
    t->server.port = 993;
    t->protocol = MW_PROTO_IMAPS;
    mw_maillog_join(m, t);
    g_assert_true(mw_session_has(t, MW_FLAG_TLS_VERSION_MISMATCH));
    g_assert_cmpint(t->outcome, ==, MW_OUT_FAILED);
    mw_session_free(s);
    mw_session_free(t);
    mw_maillog_free(m);
}

static void test_exchange(void)
{
    const char *path = "tests/maillog/exchange-smtpreceive.log";
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_test_skip("run from the repository root");
        return;
    }
    const char *f[] = { path, NULL };
    mw_maillog *m = logs("UTC", f);
    g_assert_cmpint(m->unknown, ==, 0);
    g_assert_cmpint(m->by_fmt[MW_LF_EXCHANGE], ==, 29);
    mw_session *s = sess("95.10.20.33", 56026, "10.10.10.10", 25, MW_PROTO_SMTP,
                         "2023-01-11T15:59:51.400Z", "2023-01-11T16:00:11.000Z");
    mw_maillog_join(m, s);
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    mw_session *r = sess("203.0.113.9", 40000, "10.0.0.1", 25, MW_PROTO_SMTP,
                         "2026-10-01T08:04:00.000Z", "2026-10-01T08:04:00.500Z");
    mw_maillog_join(m, r);
    g_assert_true(mw_session_has(r, MW_FLAG_RECIPIENT_REJECTED));
    g_assert_cmpstr(evidence(r, MW_FLAG_RECIPIENT_REJECTED)->detail, ==,
                    "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found");
    mw_session_free(s);
    mw_session_free(r);
    mw_maillog_free(m);
}

/* A log with secrets, plain and gzip: none reaches a record; the cap on lines holds. */
static void test_secrets_gz_caps(void)
{
    const char *lines =
        "Dec 01 09:33:47 auth: Debug: passwd-file(alice@example.test,127.0.0.42,<S1>): "
        "Password mismatch (given password: Wrong-Pa55word)\n"
        "Dec 01 09:33:47 auth: Debug: client in: AUTH\t1\tPLAIN\tservice=imap\t"
        "session=S1\tresp=AGFsaWNlQGV4YW1wbGUudGVzdABXcm9uZy1QYTU1d29yZA==\n"
        "Dec 01 09:33:49 imap-login: Info: Disconnected (auth failed, 1 attempts in 2 secs): "
        "user=<alice@example.test>, method=PLAIN, rip=127.0.0.42, rport=49878, "
        "lip=127.0.0.1, lport=993, TLS, session=<S1>\n"
        "2023-01-11T16:00:03.115Z,X\\Default,S9,12,10.1.1.1:587,10.2.2.2:5000,<,AUTH LOGIN,\n"
        "2023-01-11T16:00:03.200Z,X\\Default,S9,13,10.1.1.1:587,10.2.2.2:5000,>,334 VXNlcm5hbWU6,\n"
        "2023-01-11T16:00:03.300Z,X\\Default,S9,14,10.1.1.1:587,10.2.2.2:5000,<,V3JvbmctUGE1NXdvcmQ=,\n";
    char *dir = g_dir_make_tmp("mwlog-XXXXXX", NULL);
    char *plain = g_build_filename(dir, "a.log", NULL), *gz = g_build_filename(dir, "a.log.gz", NULL);
    g_assert_true(g_file_set_contents(plain, lines, -1, NULL));
    gzFile z = gzopen(gz, "wb");
    gzputs(z, lines);
    gzclose(z);
    for (int i = 0; i < 2; i++) {
        const char *f[] = { i ? gz : plain, NULL };
        mw_maillog *m = logs("UTC", f);
        mw_session *s = sess("127.0.0.42", 49878, "127.0.0.1", 993, MW_PROTO_IMAPS,
                             "2026-12-01T09:33:47.5Z", "2026-12-01T09:33:49.5Z");
        mw_session *x = sess("10.2.2.2", 5000, "10.1.1.1", 587, MW_PROTO_SUBMISSION,
                             "2023-01-11T16:00:03Z", "2023-01-11T16:00:04Z");
        mw_maillog_join(m, s);
        mw_maillog_join(m, x);
        g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
        GString *j = g_string_new(NULL);
        mw_record_json(j, s);
        mw_record_json(j, x);
        g_assert_nonnull(strstr(j->str, "given password: ***"));
        g_assert_nonnull(strstr(j->str, "SASL response redacted"));
        g_assert_null(strstr(j->str, "Wrong-Pa55word"));
        g_assert_null(strstr(j->str, "V3JvbmctUGE1NXdvcmQ"));
        g_assert_null(strstr(j->str, "AGFsaWNlQGV4YW1wbGUudGVzdABXcm9uZy1QYTU1d29yZA"));
        g_string_free(j, TRUE);
        mw_session_free(s);
        mw_session_free(x);
        mw_maillog_free(m);
    }
    /* at most one line held per server-side session: the rest counted */
    char *err = NULL;
    mw_maillog_opts o = { "UTC", 2, 1, 0 };
    mw_maillog *m = mw_maillog_new(&o, &err);
    g_assert_true(mw_maillog_read(m, plain, &err));
    g_assert_cmpint(m->x.lines_dropped, ==, 3);
    mw_maillog_free(m);
    /* an unknown zone and a missing file are clear errors */
    mw_maillog_opts bad = { "Nowhere/Atlantis", 2, 0, 0 };
    g_assert_null(mw_maillog_new(&bad, &err));
    g_assert_nonnull(strstr(err, "--log-tz Nowhere/Atlantis"));
    g_free(err);
    err = NULL;
    m = mw_maillog_new(&o, &err);
    g_assert_false(mw_maillog_read(m, "/nonexistent/mail.log", &err));
    g_assert_nonnull(strstr(err, "--maillog /nonexistent/mail.log"));
    g_free(err);
    mw_maillog_free(m);
    g_unlink(plain);
    g_unlink(gz);
    g_rmdir(dir);
    g_free(plain), g_free(gz), g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/maillog-join/port", test_port);
    g_test_add_func("/maillog-join/zone", test_zone);
    g_test_add_func("/maillog-join/time-only", test_time_only);
    g_test_add_func("/maillog-join/ambiguous", test_ambiguous);
    g_test_add_func("/maillog-join/corroborate-and-delivery", test_corroborate_and_delivery);
    g_test_add_func("/maillog-join/dovecot", test_dovecot);
    g_test_add_func("/maillog-join/exchange", test_exchange);
    g_test_add_func("/maillog-join/secrets-gz-caps", test_secrets_gz_caps);
    return g_test_run();
}
