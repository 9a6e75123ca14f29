/* POP3 dissector: scripted conversations, each run whole, byte by byte and split at
 * every offset (tu_run_all_ways asserts the records are identical). */
#include "testutil.h"
#include "registry.h"
#include "text/reply_log.h"
#include "tu_gap.h"

static const char *const secrets[] = {
    TU_PASSWORDS,
    "c4c9334bac560ecc979e58001b3e22fb", /* an APOP digest */
    NULL,
};

/* Every conversation runs with the transcript kept (and compared across all the ways
 * of cutting the input), and once without; no output may hold a secret. */
static mw_session *run_chunks(GPtrArray *c)
{
    return tu_run_no_secret("pop3", MW_PROTO_POP3, c, secrets);
}

static mw_session *run(const char *script)
{
    return run_chunks(tu_script(script));
}

static const mw_reply *failure(const mw_session *s, guint i)
{
    g_assert_nonnull(mw_cmdrec_of(s));
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, >, i);
    return &mw_avec_at(&mw_cmdrec_of(s)->failures, mw_reply, i);
}

#define GREETING "S: +OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us>\n"

/* Multi-line answers whose lines look like status lines, dot-stuffed lines and a
 * terminator split anywhere: skipped to the lone dot. */
static void test_user_pass_retr(void)
{
    mw_session *s = run(GREETING
                        "C: CAPA\n"
                        "S: +OK\nS+ CAPA\nS+ TOP\nS+ UIDL\nS+ RESP-CODES\nS+ USER\nS+ SASL PLAIN\nS+ .\n"
                        "C: USER alice@example.test\nS: +OK\n"
                        "C: PASS Swordfish-42x\nS: +OK Logged in.\n"
                        "C: STAT\nS: +OK 2 320\n"
                        "C: LIST\nS: +OK 2 messages:\nS+ 1 120\nS+ 2 200\nS+ .\n"
                        "C: LIST 2\nS: +OK 2 200\n"
                        "C: UIDL\nS: +OK\nS+ 1 whqtswO00WBw418f9t5JxYwZ\nS+ 2 QhdPYR:00WBw1Ph7x7\nS+ .\n"
                        "C: RETR 1\n"
                        "S: +OK 120 octets\nS+ Subject: hi\nS+ \nS+ -ERR not really\nS+ +OK nor this\n"
                        "S+ ..\nS+ ...stuffed\nS+ .x\nS+ .\n"
                        "C: TOP 2 0\nS: +OK\nS+ Subject: two\nS+ .\n"
                        "C: DELE 1\nS: +OK Marked to be deleted.\n"
                        "C: QUIT\nS: +OK Logging out, messages deleted.\n");
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_CLEARTEXT_AUTH);
    g_assert_cmpint(s->outcome, ==, MW_OUT_OK);
    g_assert_cmpstr(s->auth->mechanism, ==, "USER");
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_SUCCESS);
    g_assert_cmpstr(s->auth->code, ==, "+OK");
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 11);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 0);
    g_assert_true(s->quit_seen);
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_CLEARTEXT_AUTH)->detail, ==,
                    "PASS credentials sent without TLS");
    mw_session_free(s);
}

static void test_pass_failed(void)
{
    mw_session *s = run(GREETING "C: USER alice@example.test\nS: +OK\n"
                        "C: PASS Wrong-Pa55word\nS: -ERR [AUTH] Authentication failed.\n"
                        "C: QUIT\nS: +OK Logging out.\n");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_true(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_cmpint(s->outcome, ==, MW_OUT_REJECTED);
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_FAILURE);
    g_assert_cmpstr(s->auth->code, ==, "-ERR");
    const mw_reply *r = failure(s, 0);
    g_assert_cmpstr(r->cmd, ==, "PASS");
    g_assert_cmpstr(r->status, ==, "-ERR");
    g_assert_cmpstr(r->enhanced, ==, "AUTH");
    g_assert_cmpstr(r->text, ==, "Authentication failed.");
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_AUTH_FAILED)->detail, ==,
                    "-ERR [AUTH] Authentication failed.");
    g_assert_cmpstr(s->decisive, ==, "-ERR [AUTH] Authentication failed.");
    mw_session_free(s);
}

static void test_apop(void)
{
    mw_session *s = run(GREETING "C: APOP mrose c4c9334bac560ecc979e58001b3e22fb\n"
                        "S: +OK maildrop has 1 message (369 octets)\n");
    g_assert_cmpstr(s->auth->mechanism, ==, "APOP");
    g_assert_cmpstr(s->auth->user, ==, "mrose");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_SUCCESS);
    g_assert_false(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    mw_session_free(s);

    s = run(GREETING "C: APOP mrose c4c9334bac560ecc979e58001b3e22fb\n"
            "S: -ERR [IN-USE] Mailbox locked by another session\n");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_cmpstr(failure(s, 0)->enhanced, ==, "IN-USE");
    mw_session_free(s);
}

static void test_auth_sasl(void)
{
    /* initial response (RFC 5034 4): \0alice@example.test\0Swordfish-42x */
    mw_session *s = run(GREETING "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABTd29yZGZpc2gtNDJ4\n"
                        "S: +OK Logged in.\nC: QUIT\nS: +OK bye\n");
    g_assert_cmpstr(s->auth->mechanism, ==, "PLAIN");
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_SUCCESS);
    g_assert_true(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_false(tu_json_contains(s, "AGFsaWNlQGV4YW1wbGUudGVzdABTd29yZGZpc2gtNDJ4"));
    mw_session_free(s);

    /* multi-step LOGIN, refused */
    s = run(GREETING "C: AUTH LOGIN\nS: + VXNlcm5hbWU6\n"
            "C: YWxpY2VAZXhhbXBsZS50ZXN0\nS: + UGFzc3dvcmQ6\n"
            "C: V3JvbmctUGE1NXdvcmQ=\nS: -ERR [AUTH] Authentication failed.\n"
            "C: QUIT\nS: +OK bye\n");
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_true(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 2);
    g_assert_cmpstr(failure(s, 0)->cmd, ==, "AUTH");
    g_assert_true(s->quit_seen);
    mw_session_free(s);

    /* "*" cancels; AUTH without argument lists mechanisms (multi-line) */
    s = run(GREETING "C: AUTH\nS: +OK\nS+ PLAIN\nS+ LOGIN\nS+ .\n"
            "C: AUTH PLAIN\nS: + \nC: *\nS: -ERR Authentication aborted\n"
            "C: QUIT\nS: +OK bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_false(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 3);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 1);
    mw_session_free(s);
}

static void test_tls_required_and_stls(void)
{
    mw_session *s = run(GREETING "C: CAPA\nS: +OK\nS+ USER\nS+ STLS\nS+ SASL\nS+ .\n"
                        "C: USER alice@example.test\n"
                        "S: -ERR [AUTH] Plaintext authentication disallowed on non-secure "
                        "(SSL/TLS) connections.\n"
                        "C: QUIT\nS: +OK Logging out\n");
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_REQUIRED));
    g_assert_false(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_false(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_cmpint(s->outcome, ==, MW_OUT_REJECTED);
    g_assert_cmpstr(failure(s, 0)->cmd, ==, "USER");
    mw_session_free(s);

    /* [AUTH] on USER after STLS was offered, without wording about TLS */
    s = run(GREETING "C: CAPA\nS: +OK\nS+ STLS\nS+ .\nC: USER a\nS: -ERR [AUTH] Not allowed\n");
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_REQUIRED));
    mw_session_free(s);

    GPtrArray *c = tu_script(GREETING "C: STLS\nS: +OK Begin TLS negotiation now.\n");
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00 };
    tu_add_raw(c, MW_FROM_CLIENT, hello, sizeof hello);
    s = run_chunks(c);
    g_assert_true(s->starttls);
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 1);
    mw_session_free(s);

    s = run(GREETING "C: STLS\nS: -ERR TLS support isn't enabled.\nC: QUIT\nS: +OK bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_STARTTLS_REFUSED));
    g_assert_false(s->starttls);
    mw_session_free(s);
}

static void test_stls_then_clear_text(void)
{
    /* issue 15 item 4: clear text after the +OK to STLS is read on */
    mw_session *s = run(GREETING "C: STLS\nS: +OK Begin TLS negotiation now.\n"
                                 "C: RETR 9\nS: -ERR no such message\nC: QUIT\nS: +OK bye\n");
    g_assert_true(s->starttls);
    g_assert_true((s->anomalies >> MW_ANOM_STARTTLS_NOT_USED) & 1u);
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 3);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 1);
    mw_session_free(s);
}

static void test_response_codes(void)
{
    mw_session *s = run(GREETING "C: USER a\nS: +OK\nC: PASS Wrong-Pa55word\n"
                        "S: -ERR [LOGIN-DELAY] wait 300 seconds\n"
                        "C: USER a\nS: +OK\nC: PASS Wrong-Pa55word\n"
                        "S: -ERR [SYS/TEMP] Temporary failure\n"
                        "C: RETR 9\nS: -ERR [SYS/PERM] no such message\n");
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 3);
    g_assert_cmpstr(failure(s, 0)->enhanced, ==, "LOGIN-DELAY");
    g_assert_cmpstr(failure(s, 1)->enhanced, ==, "SYS/TEMP");
    g_assert_cmpstr(failure(s, 2)->enhanced, ==, "SYS/PERM");
    g_assert_cmpstr(failure(s, 2)->cmd, ==, "RETR");
    g_assert_cmpuint(s->evidence_count[MW_FLAG_AUTH_FAILED], ==, 2);
    mw_session_free(s);
}

static void test_timeout_unanswered_no_greeting(void)
{
    mw_session *s = run(GREETING "C: USER a\nS: +OK\nC: NOOP\n"
                        "S: -ERR Disconnected for inactivity.\n");
    g_assert_true(mw_session_has(s, MW_FLAG_SERVER_TIMEOUT));
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    g_assert_cmpint(s->outcome, ==, MW_OUT_FAILED);
    mw_session_free(s);

    /* unsolicited, with nothing pending */
    s = run(GREETING "S: -ERR Autologout; idle for too long\n");
    g_assert_true(mw_session_has(s, MW_FLAG_SERVER_TIMEOUT));
    g_assert_cmpstr(failure(s, 0)->cmd, ==, "");
    mw_session_free(s);

    s = run(GREETING "C: STAT\nS: +OK 1 2\nC: RETR 1\n");
    g_assert_true(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_UNANSWERED_COMMAND)->detail, ==,
                    "RETR got no reply in 0.0 s before the session ended");
    mw_session_free(s);

    s = run(GREETING "C: QUIT\n");
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    mw_session_free(s);

    GPtrArray *c = g_ptr_array_new();
    s = tu_run("pop3", MW_PROTO_POP3, c, TU_WHOLE, 0, 0);
    g_ptr_array_free(c, TRUE);
    g_assert_true(mw_session_has(s, MW_FLAG_NO_GREETING));
    mw_session_free(s);

    s = run("S: -ERR [SYS/TEMP] Too many connections\n");
    g_assert_cmpstr(failure(s, 0)->cmd, ==, "CONNECT");
    g_assert_cmpstr(failure(s, 0)->enhanced, ==, "SYS/TEMP");
    mw_session_free(s);
}

/* A 256 KiB message: skipped by the dot-block skipper, whole and byte by byte. */
static void test_large_retr(void)
{
    GPtrArray *c = tu_script(GREETING "C: USER a\nS: +OK\nC: PASS Swordfish-42x\nS: +OK\n"
                             "C: RETR 1\n");
    GString *m = g_string_new("+OK 262144 octets\r\n");
    while (m->len < (256u << 10))
        g_string_append(m, "..-ERR looks like a status line\r\n+OK\r\n\r\n");
    g_string_append(m, ".\r\n");
    tu_add_raw(c, MW_FROM_SERVER, m->str, m->len);
    g_string_free(m, TRUE);
    GPtrArray *rest = tu_script("C: QUIT\nS: +OK bye\n");
    for (guint i = 0; i < rest->len; i++)
        g_ptr_array_add(c, g_ptr_array_index(rest, i));
    g_ptr_array_free(rest, TRUE);
    mw_session *w = tu_run("pop3", MW_PROTO_POP3, c, TU_WHOLE, 0, 0);
    mw_session *b = tu_run("pop3", MW_PROTO_POP3, c, TU_BYTEWISE, 0, 0);
    char *j1 = tu_json(w), *j2 = tu_json(b);
    g_assert_cmpstr(j1, ==, j2);
    g_free(j1);
    g_free(j2);
    g_assert_cmpuint(mw_cmdrec_of(w)->failures.len, ==, 0);
    g_assert_true(w->quit_seen);
    g_assert_cmpuint(w->anomalies, ==, 0);
    tu_assert_no_secret(w, secrets);
    mw_session_free(w);
    mw_session_free(b);
    tu_free_script(c);
}

static void test_line_without_end(void)
{
    GString *g = g_string_new("USER ");
    for (int i = 0; i < 100000; i++)
        g_string_append_c(g, 'A');
    g_string_append(g, "\r\nQUIT\r\n");
    GPtrArray *c = tu_script(GREETING);
    tu_add_raw(c, MW_FROM_CLIENT, g->str, g->len);
    g_string_free(g, TRUE);
    GPtrArray *rest = tu_script("S: -ERR line too long\nS: +OK bye\n");
    for (guint i = 0; i < rest->len; i++)
        g_ptr_array_add(c, g_ptr_array_index(rest, i));
    g_ptr_array_free(rest, TRUE);
    mw_session *w = tu_run("pop3", MW_PROTO_POP3, c, TU_WHOLE, 0, 0);
    mw_session *b = tu_run("pop3", MW_PROTO_POP3, c, TU_BYTEWISE, 0, 0);
    char *j1 = tu_json(w), *j2 = tu_json(b);
    g_assert_cmpstr(j1, ==, j2);
    g_free(j1);
    g_free(j2);
    g_assert_true(w->anomalies & (1u << MW_ANOM_LINE_TOO_LONG));
    g_assert_cmpuint(mw_cmdrec_of(w)->commands, ==, 1);
    mw_session_free(w);
    mw_session_free(b);
    tu_free_script(c);
}

static void test_gap_in_body(void)
{
    mw_config cfg;
    mw_config_defaults(&cfg);
    mw_session *s = mw_session_new(1);
    mw_feeder f;
    mw_feeder_init(&f, mw_dissector_by_name("pop3"), s, &cfg);
    const char *g = "+OK ready\r\n", *r = "RETR 1\r\n", *b = "+OK\r\nline one\r\nline t";
    mw_feeder_data(&f, MW_FROM_SERVER, (const uint8_t *)g, strlen(g), 1, 0);
    mw_feeder_data(&f, MW_FROM_CLIENT, (const uint8_t *)r, strlen(r), 2, 0);
    mw_feeder_data(&f, MW_FROM_SERVER, (const uint8_t *)b, strlen(b), 3, 0);
    mw_feeder_gap(&f, MW_FROM_SERVER, 1000, 4, 0);
    const char *tail = "end of a line\r\n-ERR inside\r\n.\r\n";
    mw_feeder_data(&f, MW_FROM_SERVER, (const uint8_t *)tail, strlen(tail), 5, 0);
    mw_feeder_data(&f, MW_FROM_CLIENT, (const uint8_t *)"QUIT\r\n", 6, 6, 0);
    mw_feeder_data(&f, MW_FROM_SERVER, (const uint8_t *)"+OK bye\r\n", 9, 7, 0);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 0);
    g_assert_true(s->quit_seen);
    mw_feeder_free(&f);
    mw_session_free(s);
}

/* Lost sync inside AUTH: a SASL response is never taken for a command whose name
 * could reach the record. */
static void test_gap_in_auth(void)
{
    for (int which = 0; which < 2; which++) {
        mw_config cfg;
        mw_config_defaults(&cfg);
        mw_session *s = mw_session_new(1);
        mw_feeder f;
        mw_feeder_init(&f, mw_dissector_by_name("pop3"), s, &cfg);
        const char *steps[][2] = {
            { "S", "+OK ready\r\n" }, { "C", "AUTH LOGIN\r\n" }, { "S", "+ VXNlcm5hbWU6\r\n" },
            { "C", "YWxpY2U=\r\n" },  { "G", "" },  { "C", "U3dvcmRmaXNoLTQyeA==\r\n" },
            { "S", "-ERR [AUTH] failed\r\n" }, { "C", "QUIT\r\n" }, { "S", "+OK bye\r\n" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
            const char *t = steps[i][1];
            if (steps[i][0][0] == 'G')
                mw_feeder_gap(&f, which ? MW_FROM_SERVER : MW_FROM_CLIENT, 20, i + 1, 0);
            else
                mw_feeder_data(&f, steps[i][0][0] == 'C' ? MW_FROM_CLIENT : MW_FROM_SERVER,
                               (const uint8_t *)t, strlen(t), i + 1, 0);
        }
        mw_feeder_close(&f, 99, 0);
        mw_feeder_free(&f);
        mw_session_finish(s);
        tu_assert_no_secret(s, secrets);
        g_assert_true(s->quit_seen);
        g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 2);
        mw_session_free(s);
    }
}

static void test_probe(void)
{
    const mw_dissector *d = mw_dissector_by_name("pop3");
    g_assert_true(d->probe((const uint8_t *)"+OK POP3 ready", 14));
    g_assert_false(d->probe((const uint8_t *)"* OK", 4));
    g_assert_cmpint(d->content_proto, ==, MW_PROTO_POP3);
}

/* The -v transcript: one event per command and per +OK/-ERR (timed from its command:
 * frame N is at N ms in these runs), the greeting timed from the connection, listings
 * and bodies summarised, every secret redacted. */
static void test_transcript(void)
{
    mw_session *s = run(GREETING                                                   /* 1 */
                        "C: CAPA\nS: +OK\nS+ TOP\nS+ USER\nS+ SASL PLAIN LOGIN\nS+ .\n" /* 3 */
                        "C: USER alice@example.test\nS: +OK\n"                        /* 5 */
                        "C: PASS Wrong-Pa55word\nS: -ERR [AUTH] Authentication failed.\n"
                        "C: APOP mrose c4c9334bac560ecc979e58001b3e22fb\n"          /* 8 */
                        "S: -ERR [AUTH] no\n"
                        "C: AUTH LOGIN\nS: + VXNlcm5hbWU6\n"                          /* 11 */
                        "C: YWxpY2VAZXhhbXBsZS50ZXN0\nS: + UGFzc3dvcmQ6\n"            /* 13 */
                        "C: U3dvcmRmaXNoLTQyeA==\nS: +OK Logged in.\n"                /* 15 */
                        "C: LIST\nS: +OK 2 messages:\nS+ 1 120\nS+ 2 200\nS+ .\n"      /* 17 */
                        "C: RETR 1\n"
                        "S: +OK 120 octets\nS+ Subject: hi\nS+ \nS+ -ERR not really\n"
                        "S+ ..\nS+ .\n"                                               /* 19 */
                        "C: Swordfish\nS: -ERR unknown command\n"                     /* 21 */
                        "C: STAT\nC+ NOOP\nS: +OK 2 320\nS+ +OK\n"                     /* 23 */
                        "C: QUIT\nS: +OK Logging out.\n");
    tu_assert_transcript(s,
        "S< +OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us> (+1000 us)\n"
        "C> CAPA\n"
        "S< +OK (+1000 us)\n"
        "S< [capabilities: TOP, USER, SASL PLAIN LOGIN]\n"
        "C> USER alice@example.test\n"
        "S< +OK (+1000 us)\n"
        "C> PASS [password redacted]\n"
        "S< -ERR [AUTH] Authentication failed. (+1000 us)\n"
        "C> APOP mrose [digest redacted]\n"
        "S< -ERR [AUTH] no (+1000 us)\n"
        "C> AUTH LOGIN\n"
        "S< + VXNlcm5hbWU6 (+1000 us)\n"
        "C> [SASL response redacted]\n"
        "S< + UGFzc3dvcmQ6 (+1000 us)\n"
        "C> [SASL response redacted]\n"
        "S< +OK Logged in. (+5000 us)\n"
        "C> LIST\n"
        "S< +OK 2 messages: (+1000 us)\n"
        "S< [2 lines, 14 bytes]\n"
        "C> RETR 1\n"
        "S< +OK 120 octets (+1000 us)\n"
        "S< [4 lines, 36 bytes]\n"
        "C> [unrecognised command: 9 bytes]\n"
        "S< -ERR unknown command (+1000 us)\n"
        "C> STAT\n"
        "C> NOOP\n"
        "S< +OK 2 320 (+1000 us)\n"
        "S< +OK (+1000 us)\n"
        "C> QUIT\n"
        "S< +OK Logging out. (+1000 us)\n");
    g_assert_cmpuint(mw_session_more_get(s)->latency.timed, ==, 11);
    g_assert_cmpint(mw_session_more_get(s)->latency.slowest_us, ==, 5000);
    g_assert_cmpstr(mw_session_more_get(s)->latency.slowest_cmd, ==, "AUTH");
    g_assert_cmpuint(mw_session_more_get(s)->latency.slowest_frame, ==, 15);
    g_assert_true(tu_json_contains(s, "\"latency\":{\"commands\":11,"));
    mw_session_free(s);

    /* an initial response, a cancel, a mechanism listing, and the STLS upgrade */
    GPtrArray *c = tu_script(GREETING
                             "C: AUTH\nS: +OK\nS+ PLAIN\nS+ LOGIN\nS+ .\n"
                             "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABTd29yZGZpc2gtNDJ4\n"
                             "S: -ERR [SYS/TEMP] later\n"
                             "C: AUTH PLAIN\nS: + \nC: *\nS: -ERR Authentication aborted\n"
                             "C: STLS\nS: +OK Begin TLS negotiation now.\n");
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00 };
    tu_add_raw(c, MW_FROM_CLIENT, hello, sizeof hello);
    s = run_chunks(c);
    tu_assert_transcript(s,
        "S< +OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us> (+1000 us)\n"
        "C> AUTH\n"
        "S< +OK (+1000 us)\n"
        "S< [mechanisms: PLAIN, LOGIN]\n"
        "C> AUTH PLAIN [initial response redacted]\n"
        "S< -ERR [SYS/TEMP] later (+1000 us)\n"
        "C> AUTH PLAIN\n"
        "S< +  (+1000 us)\n"
        "C> * (cancel)\n"
        "S< -ERR Authentication aborted (+3000 us)\n"
        "C> STLS\n"
        "S< +OK Begin TLS negotiation now. (+1000 us)\n"
        "S< [STLS: TLS handshake follows]\n");
    g_assert_true(s->starttls);
    mw_session_free(s);
}

static void test_gap_then_line_any_cut(void)
{
    /* issue 15 item 6: the same record for every cut of the line after a gap */
    char *j = tu_gap_all_cuts("pop3", MW_PROTO_POP3, "S: +OK POP3 ready\n", MW_FROM_CLIENT,
                              "RETR 9\r\n", "S: -ERR [SYS/TEMP] no such message\n");
    g_assert_nonnull(strstr(j, "no such message"));
    g_free(j);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pop3/user_pass_retr", test_user_pass_retr);
    g_test_add_func("/pop3/pass_failed", test_pass_failed);
    g_test_add_func("/pop3/apop", test_apop);
    g_test_add_func("/pop3/auth_sasl", test_auth_sasl);
    g_test_add_func("/pop3/tls_required_stls", test_tls_required_and_stls);
    g_test_add_func("/pop3/response_codes", test_response_codes);
    g_test_add_func("/pop3/timeout_unanswered_no_greeting", test_timeout_unanswered_no_greeting);
    g_test_add_func("/pop3/large_retr", test_large_retr);
    g_test_add_func("/pop3/line_without_end", test_line_without_end);
    g_test_add_func("/pop3/gap_in_body", test_gap_in_body);
    g_test_add_func("/pop3/gap_in_auth", test_gap_in_auth);
    g_test_add_func("/pop3/probe", test_probe);
    g_test_add_func("/pop3/transcript", test_transcript);
    g_test_add_func("/pop3/stls_then_clear_text", test_stls_then_clear_text);
    g_test_add_func("/pop3/gap_then_line_any_cut", test_gap_then_line_any_cut);
    return g_test_run();
}
