/* Server-log lines (issue 14): format detection and time of real lines in each format
 * (recorded postfix maillog_file and dovecot log_path lines, their journalctl and RFC 5424
 * renderings made by tests/maillog/convert.py, Exchange protocol-log lines from a public
 * log-parser fixture — see pcaps/README.md), the redaction of secrets, and the tables. */
#include <glib.h>
#include <string.h>

#include "maillog/maillog_int.h"

static mw_logline l;

static void parse(const char *line)
{
    g_assert_true(mw_logline_parse(line, strlen(line), &l));
}

static void assert_msg(const char *want)
{
    g_assert_cmpint((int)l.msg_len, ==, (int)strlen(want));
    g_assert_cmpint(memcmp(l.msg, want, l.msg_len), ==, 0);
}

static void test_rfc3164(void)
{
    parse("Dec 01 09:33:00 mail postfix/submission/smtpd[8967]: warning: "
          "unknown[127.0.0.41]:44696: SASL PLAIN authentication failed: (reason "
          "unavailable), sasl_username=alice@example.test");
    g_assert_cmpint(l.fmt, ==, MW_LF_RFC3164);
    g_assert_cmpstr(l.prog, ==, "postfix/submission/smtpd");
    g_assert_cmpint(l.pid, ==, 8967);
    g_assert_true(l.t.yearless);
    g_assert_cmpint(l.t.mon, ==, 12);
    g_assert_cmpint(l.t.day, ==, 1);
    g_assert_cmpint(l.t.hour, ==, 9);
    g_assert_cmpint(l.t.sec, ==, 0);
    assert_msg("warning: unknown[127.0.0.41]:44696: SASL PLAIN authentication failed: (reason "
               "unavailable), sasl_username=alice@example.test");
    /* classic syslog pads the day with a space */
    parse("Dec  1 07:55:10 host postfix/smtpd[123]: connect from x[10.0.0.1]:5000");
    g_assert_cmpint(l.t.day, ==, 1);
    g_assert_cmpint(l.t.min, ==, 55);
    g_assert_cmpint(l.pid, ==, 123);
}

static void test_dovecot(void)
{
    parse("Dec 01 09:34:01 imap-login: Info: Disconnected: Connection closed: SSL_accept() "
          "failed: error:0A000102:SSL routines::unsupported protocol (no auth attempts in 0 "
          "secs): user=<>, rip=127.0.0.47, rport=45099, lip=127.0.0.1, lport=993, TLS "
          "handshaking: SSL_accept() failed: error:0A000102:SSL routines::unsupported "
          "protocol, session=<QUABOo9hK7B/AAAv>");
    g_assert_cmpint(l.fmt, ==, MW_LF_DOVECOT);
    g_assert_cmpstr(l.prog, ==, "imap-login");
    g_assert_cmpint(l.pid, ==, -1);
    g_assert_true(g_str_has_prefix(l.msg, "Info: Disconnected"));
}

static void test_iso_and_journal_short(void)
{
    /* journalctl -o short-iso-precise, Europe/Berlin: 10:34:21+0100 is 09:34:21Z */
    parse("2026-12-01T10:34:21.000000+0100 mail postfix/submission/smtpd[15470]: warning: "
          "unknown[127.0.0.46]:51342: SASL PLAIN authentication failed: (reason "
          "unavailable), sasl_username=alice@example.test");
    g_assert_cmpint(l.fmt, ==, MW_LF_ISO);
    g_assert_false(l.t.yearless);
    GDateTime *want = g_date_time_new_utc(2026, 12, 1, 9, 34, 21);
    g_assert_cmpint(l.t.abs_us, ==, g_date_time_to_unix(want) * G_USEC_PER_SEC);
    /* rsyslog's RFC 3339 form, with a colon in the offset and microseconds */
    parse("2026-12-01T10:34:21.250000+01:00 mail postfix/submission/smtpd[15470]: x y");
    g_assert_cmpint(l.t.abs_us, ==, g_date_time_to_unix(want) * G_USEC_PER_SEC + 250000);
    g_date_time_unref(want);
}

static void test_rfc5424(void)
{
    parse("<22>1 2026-12-01T09:32:58.000000+00:00 mail postfix/submission/smtpd 8967 - - "
          "connect from unknown[127.0.0.41]:44696");
    g_assert_cmpint(l.fmt, ==, MW_LF_RFC5424);
    g_assert_cmpstr(l.prog, ==, "postfix/submission/smtpd");
    g_assert_cmpint(l.pid, ==, 8967);
    assert_msg("connect from unknown[127.0.0.41]:44696");
    parse("<22>1 2026-12-01T09:32:58Z mail dovecot - - [meta x=\"a]b\\]\"] imap-login: x");
    assert_msg("imap-login: x");
}

static void test_journal_json(void)
{
    parse("{\"__REALTIME_TIMESTAMP\":\"1796117580000000\",\"_HOSTNAME\":\"mail\","
          "\"SYSLOG_IDENTIFIER\":\"postfix/submission/smtpd\",\"SYSLOG_PID\":\"8967\","
          "\"MESSAGE\":\"warning: unknown[127.0.0.41]:44696: SASL PLAIN authentication "
          "failed: \\\"x\\\" \\u00e9\"}");
    g_assert_cmpint(l.fmt, ==, MW_LF_JOURNAL_JSON);
    g_assert_cmpint(l.t.abs_us, ==, 1796117580000000LL);
    g_assert_cmpint(l.pid, ==, 8967);
    g_assert_cmpstr(l.prog, ==, "postfix/submission/smtpd");
    assert_msg("warning: unknown[127.0.0.41]:44696: SASL PLAIN authentication failed: \"x\" "
               "\xc3\xa9");
    /* journald writes a non-UTF-8 MESSAGE as an array of bytes: not understood, counted */
    const char *bin = "{\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":[104,105]}";
    g_assert_false(mw_logline_parse(bin, strlen(bin), &l));
}

static void test_exchange(void)
{
    parse("2023-01-11T16:00:10.644Z,SERVER-HOSTNAME\\Default Frontend SERVER-HOSTNAME,"
          "123453EC62278461,15,10.10.10.10:25,95.10.20.33:56026,*,,Inbound AUTH LOGIN failed "
          "because of LogonDenied");
    g_assert_cmpint(l.fmt, ==, MW_LF_EXCHANGE);
    g_assert_cmpstr(l.session, ==, "123453EC62278461");
    g_assert_cmpstr(l.remote, ==, "95.10.20.33:56026");
    g_assert_cmpstr(l.event, ==, "*");
    /* the data field is empty: the text is the context field's */
    g_assert_cmpstr(l.msg, ==, "Inbound AUTH LOGIN failed because of LogonDenied");
    parse("2026-10-01T08:02:00.000Z,EXCH01\\Default Frontend EXCH01,08DF000000000002,8,"
          "10.0.0.1:25,10.1.1.50:50001,>,\"250 2.6.0 <msg-001@contoso.test> [InternalId=1001, "
          "Hostname=EXCH01.contoso.test] Queued mail for delivery\",");
    g_assert_cmpstr(l.msg, ==, "250 2.6.0 <msg-001@contoso.test> [InternalId=1001, "
                               "Hostname=EXCH01.contoso.test] Queued mail for delivery");
    GDateTime *want = g_date_time_new_utc(2026, 10, 1, 8, 2, 0);
    g_assert_cmpint(l.t.abs_us, ==, g_date_time_to_unix(want) * G_USEC_PER_SEC);
    g_date_time_unref(want);
}

static void test_unknown(void)
{
    const char *lines[] = { "", "hello world, this is no log line", "Foo 01 09:33:00 x y: z",
                            "2026-12-01 nonsense here" };
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
        g_assert_false(mw_logline_parse(lines[i], strlen(lines[i]), &l));
}

/* Each secret form is replaced, the rest of the line kept. */
static void test_redact(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "auth: Debug: passwd-file(alice,1.2.3.4): Password mismatch (given password: "
          "Wrong-Pa55word)",
          "auth: Debug: passwd-file(alice,1.2.3.4): Password mismatch (given password: ***)" },
        { "client in: AUTH\t1\tPLAIN\tservice=imap\tresp=AGFsaWNlAFN3b3JkZmlzaC00Mng=\tlip=1",
          "client in: AUTH\t1\tPLAIN\tservice=imap\tresp=***\tlip=1" },
        { "x: user=alice, password=Swordfish-42x, y", "x: user=alice, password=***, y" },
        { "x pass=\"Swordfish 42x\" y", "x pass=*** y" },
        { "<,AUTH PLAIN AGFsaWNlAFN3b3JkZmlzaC00Mng=,", "<,AUTH PLAIN ***" },
        { "C: PASS Wrong-Pa55word", "C: PASS ***" },
        /* no secret: kept as it is */
        { "imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<alice>",
          "imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<alice>" },
        { "x: bypass=1 sasl_username=alice", "x: bypass=1 sasl_username=alice" },
        { "*,,Inbound AUTH LOGIN failed because of LogonDenied",
          "*,,Inbound AUTH LOGIN failed because of LogonDenied" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char buf[512];
        g_strlcpy(buf, cases[i].in, sizeof buf);
        size_t n = mw_log_redact(buf, strlen(buf));
        g_assert_cmpstr(buf, ==, cases[i].out);
        g_assert_cmpint((int)n, ==, (int)strlen(cases[i].out));
    }
}

/* The SMTP refusal rule the log tables share, as SPEC.md's flags table says. */
static void test_reply_flag(void)
{
    g_assert_cmpint(mw_log_smtp_reply_flag("RCPT", 554, "5.7.1",
                                           "<bob@example.net>: Relay access denied"),
                    ==, MW_FLAG_RELAY_DENIED);
    g_assert_cmpint(mw_log_smtp_reply_flag("RCPT", 550, "5.1.1", "User unknown"), ==,
                    MW_FLAG_RECIPIENT_REJECTED);
    g_assert_cmpint(mw_log_smtp_reply_flag("MAIL", 553, "5.7.1", "Sender address rejected"),
                    ==, MW_FLAG_SENDER_REJECTED);
    g_assert_cmpint(mw_log_smtp_reply_flag("MAIL", 530, "5.7.0",
                                           "Must issue a STARTTLS command first"),
                    ==, MW_FLAG_TLS_REQUIRED);
    g_assert_cmpint(mw_log_smtp_reply_flag("RCPT", 530, "5.7.1", "Authentication required"),
                    ==, MW_FLAG_AUTH_REQUIRED);
    g_assert_cmpint(mw_log_smtp_reply_flag("END-OF-MESSAGE", 550, "5.7.1",
                                           "message content rejected"),
                    ==, MW_FLAG_MESSAGE_REJECTED);
    g_assert_cmpint(mw_log_smtp_reply_flag("DATA", 554, "5.5.1", "no valid recipients"), ==, -1);
    g_assert_cmpint(mw_log_smtp_reply_flag("AUTH", 535, "5.7.3", "Authentication unsuccessful"),
                    ==, MW_FLAG_AUTH_FAILED);
    g_assert_cmpint(mw_log_smtp_reply_flag("DATA", 421, "4.4.2", "timeout exceeded"), ==,
                    MW_FLAG_SERVER_TIMEOUT);
    g_assert_cmpint(mw_log_smtp_reply_flag("RCPT", 250, "2.1.5", "Ok"), ==, -1);
}

/* Every line of every format cut at every length, each cut in a buffer of exactly that
 * size (no terminating NUL): the parser reads nothing past it (ASan) and says no or yes. */
static void test_truncated(void)
{
    static const char *const lines[] = {
        "Dec 01 09:33:00 mail postfix/submission/smtpd[8967]: warning: x[1.2.3.4]:5: SASL",
        "Dec 01 09:33:47 auth: Info: passwd-file(alice@example.test,127.0.0.42,<3h0w>): x",
        "2026-12-01T10:34:21.000000+0100 mail postfix/submission/smtpd[15470]: connect",
        "<22>1 2026-12-01T09:32:58.000000+00:00 mail postfix/smtpd 8967 - [a b=\"]\"] msg",
        "{\"__REALTIME_TIMESTAMP\":\"1796117580000000\",\"MESSAGE\":\"a \\u00e9 \\\" b\"}",
        "2023-01-11T16:00:10.644Z,S\\Default,1234,15,10.1.1.1:25,10.2.2.2:5,*,,\"Inbound \"\"x\"\"\"",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
        size_t len = strlen(lines[i]);
        for (size_t n = 0; n <= len; n++) {
            char *cut = g_malloc(n ? n : 1);
            memcpy(cut, lines[i], n);
            (void)mw_logline_parse(cut, n, &l);
            g_free(cut);
        }
        g_assert_true(mw_logline_parse(lines[i], len, &l));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/maillog/rfc3164", test_rfc3164);
    g_test_add_func("/maillog/dovecot", test_dovecot);
    g_test_add_func("/maillog/iso-and-journal-short", test_iso_and_journal_short);
    g_test_add_func("/maillog/rfc5424", test_rfc5424);
    g_test_add_func("/maillog/journal-json", test_journal_json);
    g_test_add_func("/maillog/exchange", test_exchange);
    g_test_add_func("/maillog/unknown", test_unknown);
    g_test_add_func("/maillog/redact", test_redact);
    g_test_add_func("/maillog/truncated", test_truncated);
    g_test_add_func("/maillog/reply-flag", test_reply_flag);
    return g_test_run();
}
