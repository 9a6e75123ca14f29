/* SMTP dissector: scripted conversations, each run whole, byte by byte and split at
 * every offset (tu_run_all_ways asserts the records are identical). */
#include "testutil.h"
#include "registry.h"
#include "smtp/smtp_commands.h"
#include "smtp/smtp_log.h"
#include "smtp/smtp_tx.h"
#include "tu_gap.h"
#include "engine/conn_verdict.h"

static mw_session *run(const char *script)
{
    GPtrArray *c = tu_script(script);
    mw_session *s = tu_run_all_ways("smtp", MW_PROTO_SMTP, c);
    tu_free_script(c);
    return s;
}

static void test_accepted(void)
{
    mw_session *s = run("S: 220 mx.example.test ESMTP Postfix\n"
                        "C: EHLO client.example.org\n"
                        "S: 250-mx.example.test\nS+ 250-PIPELINING\nS+ 250-SIZE 10240000\n"
                        "S+ 250 8BITMIME\n"
                        "C: MAIL FROM:<alice@example.org> SIZE=120\n"
                        "S: 250 2.1.0 Ok\n"
                        "C: RCPT TO:<bob@example.test>\n"
                        "S: 250 2.1.5 Ok\n"
                        "C: DATA\n"
                        "S: 354 End data with <CR><LF>.<CR><LF>\n"
                        "C: Subject: hi\nC+ \nC+ ..a dot-stuffed line\nC+ body\nC+ .\n"
                        "S: 250 2.0.0 Ok: queued as ABC\n"
                        "C: QUIT\n"
                        "S: 221 2.0.0 Bye\n");
    g_assert_cmpuint(s->flags, ==, 0);
    g_assert_cmpint(s->outcome, ==, MW_OUT_OK);
    g_assert_cmpstr(mw_smtp_of(s)->helo, ==, "client.example.org");
    g_assert_cmpstr(mw_smtp_of(s)->mail_from, ==, "alice@example.org");
    g_assert_cmpuint(mw_smtp_of(s)->rcpt.len, ==, 1);
    g_assert_cmpstr(mw_avec_at(&mw_smtp_of(s)->rcpt, mw_rcpt, 0).to, ==, "bob@example.test");
    g_assert_cmpint(mw_avec_at(&mw_smtp_of(s)->rcpt, mw_rcpt, 0).code, ==, 250);
    g_assert_cmpuint(mw_smtp_of(s)->messages, ==, 1);
    /* "Subject: hi\r\n" + "\r\n" + "..a dot-stuffed line\r\n" + "body\r\n" */
    g_assert_cmpuint(mw_smtp_of(s)->message_bytes, ==, 13 + 2 + 22 + 6);
    g_assert_cmpuint(mw_smtp_of(s)->capabilities.len, ==, 3);
    g_assert_cmpstr(mw_avec_at(&mw_smtp_of(s)->capabilities, const char *, 0), ==, "PIPELINING");
    g_assert_true(s->quit_seen);
    mw_session_free(s);
}

static void test_relay_denied_pipelined(void)
{
    /* PIPELINING: all commands in one segment; each reply answers the oldest command */
    mw_session *s = run("S: 220 mx ESMTP\n"
                        "C: EHLO c\n"
                        "S: 250-mx\nS+ 250 PIPELINING\n"
                        "C: MAIL FROM:<a@b.example>\nC+ RCPT TO:<ok@mx.example>\n"
                        "C+ RCPT TO:<x@elsewhere.example>\nC+ RCPT TO:<nobody@mx.example>\n"
                        "C+ DATA\n"
                        "S: 250 2.1.0 Ok\nS+ 250 2.1.5 Ok\n"
                        "S+ 554 5.7.1 <x@elsewhere.example>: Relay access denied\n"
                        "S+ 550 5.1.1 <nobody@mx.example>: Recipient address rejected: User "
                        "unknown in local recipient table\n"
                        "S+ 354 go ahead\n"
                        "C: hello\nC+ .\n"
                        "S: 250 2.0.0 queued\n"
                        "C: QUIT\nS: 221 Bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_RELAY_DENIED));
    g_assert_true(mw_session_has(s, MW_FLAG_RECIPIENT_REJECTED));
    g_assert_false(mw_session_has(s, MW_FLAG_MESSAGE_REJECTED));
    g_assert_cmpint(s->outcome, ==, MW_OUT_REJECTED);
    g_assert_cmpint(mw_avec_at(&mw_smtp_of(s)->rcpt, mw_rcpt, 0).code, ==, 250);
    g_assert_cmpint(mw_avec_at(&mw_smtp_of(s)->rcpt, mw_rcpt, 1).code, ==, 554);
    g_assert_cmpint(mw_avec_at(&mw_smtp_of(s)->rcpt, mw_rcpt, 2).code, ==, 550);
    g_assert_cmpuint(mw_smtp_of(s)->replies.len, ==, 2);
    const mw_reply *r0 = &mw_avec_at(&mw_smtp_of(s)->replies, mw_reply, 0);
    g_assert_cmpstr(r0->cmd, ==, "RCPT");
    g_assert_cmpstr(r0->enhanced, ==, "5.7.1");
    g_assert_cmpstr(r0->category, ==, "relay");
    const mw_reply *r1 = &mw_avec_at(&mw_smtp_of(s)->replies, mw_reply, 1);
    g_assert_cmpstr(r1->category, ==, "mailbox");
    const mw_evidence *e = tu_evidence(s, MW_FLAG_RELAY_DENIED);
    g_assert_cmpuint(e->frame, ==, 5); /* the packet that carried the reply */
    g_assert_nonnull(e);
    g_assert_cmpstr(e->detail, ==, "554 5.7.1 <x@elsewhere.example>: Relay access denied");
    g_assert_cmpuint(mw_smtp_of(s)->messages, ==, 1);
    mw_session_free(s);
}

static void test_relay_denied_auth_unused(void)
{
    /* issue 15 item 15: the server offered AUTH, the client never logged in */
    const char *head = "S: 220 mx ESMTP\nC: EHLO c\nS: 250-mx\nS+ 250-PIPELINING\nS+ 250 AUTH PLAIN LOGIN\n";
    const char *tail = "C: MAIL FROM:<a@b.example>\nS: 250 2.1.0 Ok\nC: RCPT TO:<x@elsewhere.example>\n"
                       "S: 554 5.7.1 <x@elsewhere.example>: Relay access denied\nC: QUIT\nS: 221 Bye\n";
    char *script = g_strconcat(head, tail, NULL);
    mw_session *s = run(script);
    g_free(script);
    g_assert_true(mw_session_has(s, MW_FLAG_RELAY_DENIED));
    g_assert_cmpint(mw_conn_advice(s, MW_FLAG_RELAY_DENIED), ==, MW_ADVICE_AUTH_UNUSED);
    g_assert_nonnull(strstr(mw_advice_text(MW_ADVICE_AUTH_UNUSED), "offered AUTH"));
    mw_session_free(s);
    /* no AUTH offered: nothing to add */
    script = g_strconcat("S: 220 mx ESMTP\nC: EHLO c\nS: 250-mx\nS+ 250 PIPELINING\n", tail, NULL);
    s = run(script);
    g_free(script);
    g_assert_cmpint(mw_conn_advice(s, MW_FLAG_RELAY_DENIED), ==, MW_ADVICE_NONE);
    mw_session_free(s);
    /* AUTH offered and used (and still refused to relay): not this advice */
    script = g_strconcat(head, "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\nS: 235 2.7.0 Ok\n", tail, NULL);
    s = run(script);
    g_free(script);
    g_assert_nonnull(s->auth);
    g_assert_cmpint(mw_conn_advice(s, MW_FLAG_RELAY_DENIED), ==, MW_ADVICE_NONE);
    mw_session_free(s);
}

static void test_auth_plain_failed(void)
{
    /* AUTH PLAIN with an initial response: \0alice@example.test\0Sup3rSecret */
    mw_session *s = run("S: 220 mx ESMTP\n"
                        "C: EHLO c\nS: 250-mx\nS+ 250 AUTH PLAIN LOGIN\n"
                        "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABTdXAzclNlY3JldA==\n"
                        "S: 535 5.7.8 Error: authentication failed: authentication failure\n"
                        "C: QUIT\nS: 221 Bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_true(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_cmpstr(s->auth->mechanism, ==, "PLAIN");
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_FAILURE);
    g_assert_cmpstr(s->auth->code, ==, "535");
    g_assert_false(tu_json_contains(s, "Sup3rSecret"));
    g_assert_false(tu_json_contains(s, "AGFsaWNlQGV4YW1wbGUudGVzdABTdXAzclNlY3JldA"));
    g_assert_false(tu_json_contains(s, "U3VwM3JTZWNyZXQ")); /* base64 of the password */
    mw_session_free(s);
}

static void test_auth_login_ok(void)
{
    /* LOGIN: user and password each as a response to a 334 challenge */
    mw_session *s = run("S: 220 mx ESMTP\n"
                        "C: EHLO c\nS: 250 mx\n"
                        "C: AUTH LOGIN\n"
                        "S: 334 VXNlcm5hbWU6\n"
                        "C: Ym9iQGV4YW1wbGUudGVzdA==\n"   /* bob@example.test */
                        "S: 334 UGFzc3dvcmQ6\n"
                        "C: aHVudGVyMg==\n"               /* hunter2 */
                        "S: 235 2.7.0 Authentication successful\n"
                        "C: MAIL FROM:<bob@example.test>\nS: 250 ok\n"
                        "C: QUIT\nS: 221 Bye\n");
    g_assert_cmpstr(s->auth->mechanism, ==, "LOGIN");
    g_assert_cmpstr(s->auth->user, ==, "bob@example.test");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_SUCCESS);
    g_assert_true(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_false(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_false(tu_json_contains(s, "hunter2"));
    g_assert_false(tu_json_contains(s, "aHVudGVyMg"));
    g_assert_cmpint(s->outcome, ==, MW_OUT_OK);
    mw_session_free(s);
}

static void test_auth_cancel(void)
{
    mw_session *s = run("S: 220 mx\nC: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: *\n"
                        "S: 501 5.7.0 Authentication aborted\nC: QUIT\nS: 221 Bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_false(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_null(s->auth->user);
    mw_session_free(s);
}

static void test_starttls_hands_off(void)
{
    GPtrArray *c = tu_script("S: 220 mx ESMTP\nC: EHLO c\nS: 250-mx\nS+ 250 STARTTLS\n"
                             "C: STARTTLS\nS: 220 2.0.0 Ready to start TLS\n");
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00 };
    tu_add_raw(c, MW_FROM_CLIENT, hello, sizeof hello);
    mw_session *s = tu_run_all_ways("smtp", MW_PROTO_SMTP, c);
    tu_free_script(c);
    g_assert_true(s->starttls);
    /* the hello went to the TLS side, not to SMTP as a garbage command */
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    g_assert_cmpuint(mw_smtp_of(s)->replies.len, ==, 0);
    mw_session_free(s);
}

static bool has_anomaly(const mw_session *s, mw_anomaly a)
{
    return (s->anomalies >> a) & 1u;
}

static void test_starttls_then_clear_text(void)
{
    /* issue 15 item 4: a capture decrypted upstream (arkime smtp-decrypted.pcap): after
     * "220 Ready to start TLS" the dialogue goes on in clear and is read, not lost */
    mw_session *s = run("S: 220 mx ESMTP\nC: EHLO c\nS: 250-mx\nS+ 250 STARTTLS\n"
                        "C: STARTTLS\nS: 220 2.0.0 SMTP server ready\n"
                        "C: EHLO c\nS: 250-mx\nS+ 250 AUTH LOGIN\n"
                        "C: MAIL FROM:<a@b.example> SIZE=10\nC+ RCPT TO:<c@d.example>\nC+ DATA\n"
                        "S: 250 2.1.0 Sender OK\nS+ 250 2.1.5 Recipient OK\nS+ 354 go\n"
                        "C: Subject: hi\nC+ \nC+ body\nC+ .\nS: 250 2.6.0 queued\n"
                        "C: QUIT\nS: 221 bye\n");
    g_assert_true(s->starttls);
    g_assert_true(has_anomaly(s, MW_ANOM_STARTTLS_NOT_USED));
    g_assert_false(has_anomaly(s, MW_ANOM_TLS_MALFORMED));
    g_assert_cmpstr(mw_smtp_of(s)->mail_from, ==, "a@b.example");
    g_assert_cmpuint(mw_smtp_of(s)->rcpt.len, ==, 1);
    g_assert_cmpuint(mw_smtp_of(s)->messages, ==, 1);
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    mw_session_free(s);
}

static void test_starttls_early_hello(void)
{
    /* a ClientHello sent before the 220 arrives: held, then handed to TLS with it */
    GPtrArray *c = tu_script("S: 220 mx ESMTP\nC: EHLO c\nS: 250-mx\nS+ 250 STARTTLS\n"
                             "C: STARTTLS\n");
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00 };
    tu_add_raw(c, MW_FROM_CLIENT, hello, sizeof hello);
    GPtrArray *r = tu_script("S: 220 2.0.0 Ready to start TLS\n");
    g_ptr_array_add(c, g_ptr_array_index(r, 0));
    g_ptr_array_free(r, TRUE);
    mw_session *s = tu_run_all_ways("smtp", MW_PROTO_SMTP, c);
    tu_free_script(c);
    g_assert_true(s->starttls);
    g_assert_false(has_anomaly(s, MW_ANOM_STARTTLS_NOT_USED));
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    g_assert_cmpuint(mw_smtp_of(s)->replies.len, ==, 0);
    mw_session_free(s);
}

static void test_starttls_refused_and_tls_required(void)
{
    mw_session *s = run("S: 220 mx ESMTP\nC: EHLO c\nS: 250 mx\n"
                        "C: STARTTLS\nS: 454 4.7.0 TLS not available due to local problem\n"
                        "C: MAIL FROM:<a@b>\nS: 530 5.7.0 Must issue a STARTTLS command first\n"
                        "C: QUIT\nS: 221 Bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_STARTTLS_REFUSED));
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_REQUIRED));
    g_assert_false(mw_session_has(s, MW_FLAG_SENDER_REJECTED));
    g_assert_false(s->starttls);
    mw_session_free(s);
}

static void test_auth_required_and_sender(void)
{
    mw_session *s = run("S: 220 mx\nC: MAIL FROM:<a@b>\n"
                        "S: 530 5.7.0 Authentication required\n"
                        "C: MAIL FROM:<spoof@bank.example>\n"
                        "S: 553 5.7.1 <spoof@bank.example>: Sender address rejected: not owned "
                        "by user alice\nC: QUIT\nS: 221 Bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_REQUIRED));
    g_assert_true(mw_session_has(s, MW_FLAG_SENDER_REJECTED));
    mw_session_free(s);
}

static void test_data_rejected_and_bdat(void)
{
    mw_session *s = run("S: 220 mx\nC: EHLO c\nS: 250-mx\nS+ 250 CHUNKING\n"
                        "C: MAIL FROM:<a@b>\nS: 250 ok\nC: RCPT TO:<c@d>\nS: 250 ok\n"
                        "C: DATA\nS: 354 go\nC: spam spam\nC+ .\n"
                        "S: 554 5.7.1 Message rejected as spam\n"
                        "C: MAIL FROM:<a@b>\nS: 250 ok\nC: RCPT TO:<c@d>\nS: 250 ok\n"
                        "C: BDAT 12 LAST\nC+ 0123456789\n"  /* 10 bytes + CRLF = 12 */
                        "S: 250 2.0.0 queued\nC: QUIT\nS: 221 Bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_MESSAGE_REJECTED));
    g_assert_cmpuint(mw_smtp_of(s)->messages, ==, 1);
    g_assert_cmpuint(mw_smtp_of(s)->tx.len, ==, 2);
    g_assert_cmpint(mw_avec_at(&mw_smtp_of(s)->tx, mw_smtp_tx, 0).result, ==, MW_TX_REJECTED);
    g_assert_cmpint(mw_avec_at(&mw_smtp_of(s)->tx, mw_smtp_tx, 1).result, ==, MW_TX_ACCEPTED);
    const mw_reply *r = &mw_avec_at(&mw_smtp_of(s)->replies, mw_reply, 0);
    g_assert_cmpstr(r->cmd, ==, "DATA");
    g_assert_cmpstr(r->category, ==, "policy");
    mw_session_free(s);
}

static void test_timeout_and_unanswered(void)
{
    mw_session *s = run("S: 220 mx\nC: EHLO c\nS: 250 mx\n"
                        "S: 421 4.4.2 mx Error: timeout exceeded\n");
    g_assert_true(mw_session_has(s, MW_FLAG_SERVER_TIMEOUT));
    g_assert_cmpint(s->outcome, ==, MW_OUT_FAILED);
    mw_session_free(s);

    s = run("S: 220 mx\nC: EHLO c\nS: 250 mx\nC: MAIL FROM:<a@b>\n");
    g_assert_true(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_UNANSWERED_COMMAND)->detail, ==,
                    "MAIL got no reply in 0.0 s before the session ended");
    mw_session_free(s);
}

static void test_no_greeting(void)
{
    GPtrArray *c = g_ptr_array_new();
    mw_session *s = tu_run("smtp", MW_PROTO_SMTP, c, TU_WHOLE, 0, 0);
    g_ptr_array_free(c, TRUE);
    g_assert_true(mw_session_has(s, MW_FLAG_NO_GREETING));
    mw_session_free(s);
}

static void test_overlong_line_and_garbage(void)
{
    GString *g = g_string_new("S: 220 mx\nC: NOOP ");
    for (int i = 0; i < 20000; i++)
        g_string_append_c(g, 'A');
    g_string_append(g, "\nS: 500 5.5.2 Error: line too long\nC: QUIT\nS: 221 Bye\n");
    GPtrArray *c = tu_script(g->str);
    g_string_free(g, TRUE);
    mw_session *s = tu_run("smtp", MW_PROTO_SMTP, c, TU_WHOLE, 0, 0);
    mw_session *b = tu_run("smtp", MW_PROTO_SMTP, c, TU_BYTEWISE, 0, 0);
    char *j1 = tu_json(s), *j2 = tu_json(b);
    g_assert_cmpstr(j1, ==, j2);
    g_free(j1);
    g_free(j2);
    g_assert_true(s->anomalies & (1u << MW_ANOM_LINE_TOO_LONG));
    /* the discarded line still counts as a command: the 500 answers it, QUIT gets 221 */
    g_assert_true(s->quit_seen);
    g_assert_cmpuint(mw_smtp_of(s)->replies.len, ==, 1);
    g_assert_cmpstr(mw_avec_at(&mw_smtp_of(s)->replies, mw_reply, 0).cmd, ==, "?");
    mw_session_free(s);
    mw_session_free(b);
    tu_free_script(c);
}

static void test_binary_and_nul_bytes(void)
{
    GPtrArray *c = tu_script("S: 220 mx\n");
    static const uint8_t junk[] = "\x00\xff\xfe garbage\r\n\x80\x81\r\n";
    tu_add_raw(c, MW_FROM_CLIENT, junk, sizeof junk - 1);
    GPtrArray *rest = tu_script("S: 500 5.5.1 Command unrecognized: \"\\0\xff\"\n"
                                "S: 500 5.5.1 Command unrecognized\n");
    for (guint i = 0; i < rest->len; i++)
        g_ptr_array_add(c, g_ptr_array_index(rest, i));
    g_ptr_array_free(rest, TRUE);
    mw_session *s = tu_run_all_ways("smtp", MW_PROTO_SMTP, c);
    g_assert_cmpuint(mw_smtp_of(s)->replies.len, ==, 2);
    char *j = tu_json(s);
    g_assert_true(g_utf8_validate(j, -1, NULL));
    g_free(j);
    tu_free_script(c);
    mw_session_free(s);
}

static void test_gap_resync(void)
{
    /* a client gap in the middle of a command: the next full line is parsed again */
    mw_config cfg;
    mw_config_defaults(&cfg);
    mw_session *s = mw_session_new(1);
    mw_feeder f;
    mw_feeder_init(&f, mw_dissector_by_name("smtp"), s, &cfg);
    const char *a = "220 mx\r\n", *b = "RCPT TO:<lost", *c2 = "RCPT TO:<x@y>\r\n",
               *d = "554 5.7.1 <x@y>: Relay access denied\r\n";
    mw_feeder_data(&f, MW_FROM_SERVER, (const uint8_t *)a, strlen(a), 1, 0);
    mw_feeder_data(&f, MW_FROM_CLIENT, (const uint8_t *)b, strlen(b), 2, 0);
    mw_feeder_gap(&f, MW_FROM_CLIENT, 100, 3, 0);
    mw_feeder_data(&f, MW_FROM_CLIENT, (const uint8_t *)"tail>\r\n", 7, 4, 0);
    mw_feeder_data(&f, MW_FROM_CLIENT, (const uint8_t *)c2, strlen(c2), 5, 0);
    mw_feeder_data(&f, MW_FROM_SERVER, (const uint8_t *)d, strlen(d), 6, 0);
    g_assert_true(mw_session_has(s, MW_FLAG_RELAY_DENIED));
    g_assert_cmpuint(tu_evidence(s, MW_FLAG_RELAY_DENIED)->frame, ==, 6);
    g_assert_cmpuint(mw_smtp_of(s)->rcpt.len, ==, 1); /* the cut RCPT is gone */
    mw_feeder_free(&f);
    mw_session_free(s);
}

static void test_gap_then_line_any_cut(void)
{
    /* issue 15 item 6: after a client gap, a whole MAIL FROM line is recorded however it
     * was cut (it used to be lost when its first bytes came alone: "MA" is no verb) */
    char *j = tu_gap_all_cuts("smtp", MW_PROTO_SMTP, "S: 220 mx ESMTP\nC: EHLO c\nS: 250 mx\n",
                              MW_FROM_CLIENT, "MAIL FROM:<a@b.example>\r\n",
                              "S: 250 2.1.0 Ok\nC: RCPT TO:<c@d.example>\nS: 250 2.1.5 Ok\n");
    g_assert_nonnull(strstr(j, "\"mail_from\":\"a@b.example\""));
    g_free(j);
    /* the same on the server side: a reply after a gap */
    j = tu_gap_all_cuts("smtp", MW_PROTO_SMTP, "S: 220 mx ESMTP\nC: EHLO c\nS: 250 mx\n"
                        "C: MAIL FROM:<a@b.example>\nS: 250 2.1.0 Ok\nC: RCPT TO:<c@d.example>\n",
                        MW_FROM_SERVER, "554 5.7.1 <c@d.example>: Relay access denied\r\n", "");
    g_assert_nonnull(strstr(j, "Relay access denied"));
    g_free(j);
}

/* ---------- transactions (issue 19) ---------- */

static const mw_smtp_tx *tx_of(const mw_session *s, unsigned i)
{
    const mw_smtp_rec *m = mw_smtp_of(s);
    g_assert_cmpuint(m->tx.len, >=, i);
    return &mw_avec_at(&m->tx, mw_smtp_tx, i - 1);
}

static int tx_rcpt_code(const mw_session *s, const mw_smtp_tx *t, unsigned i)
{
    return mw_avec_at(&mw_smtp_of(s)->rcpt, mw_rcpt, mw_avec_at(&t->rcpt, guint, i)).code;
}

/* Two whole messages pipelined in one client segment, the replies in one server segment:
 * each command is filed under the MAIL FROM before it. */
static void test_tx_pipelined(void)
{
    mw_session *s = run("S: 220 mx ESMTP\n"
                        "C: EHLO c\n"
                        "S: 250-mx\nS+ 250 PIPELINING\n"
                        "C: MAIL FROM:<a@one.example> SIZE=99 BODY=8BITMIME SMTPUTF8\n"
                        "C+ RCPT TO:<x@mx.example>\nC+ DATA\n"
                        "S: 250 2.1.0 Ok\nS+ 250 2.1.5 Ok\nS+ 354 go\n"
                        "C: Message-ID: <m1@one.example>\nC+ Subject: first\nC+  folded\n"
                        "C+ From: A <a@one.example>\nC+ \nC+ Subject: not a header\nC+ .\n"
                        "C+ MAIL FROM:<b@two.example> RET=HDRS ENVID=e2\n"
                        "C+ RCPT TO:<y@mx.example>\nC+ RCPT TO:<z@mx.example>\nC+ DATA\n"
                        "S: 250 2.0.0 Ok: queued as 4AbC1\nS+ 250 Ok\nS+ 250 Ok\n"
                        "S+ 550 5.1.1 <z@mx.example>: no such user\nS+ 354 go\n"
                        "C: Subject: second\nC+ \nC+ body\nC+ .\n"
                        "S: 250 OK id=1tA2bC-000123-Xy\n"
                        "C: QUIT\n"
                        "S: 221 bye\n");
    g_assert_cmpuint(mw_smtp_of(s)->tx.len, ==, 2);
    const mw_smtp_tx *a = tx_of(s, 1), *b = tx_of(s, 2);
    g_assert_cmpstr(a->mail_from, ==, "a@one.example");
    g_assert_cmpstr(a->size, ==, "99");
    g_assert_cmpstr(a->body, ==, "8BITMIME");
    g_assert_true(a->smtputf8);
    g_assert_cmpuint(a->rcpt.len, ==, 1);
    g_assert_cmpint(a->result, ==, MW_TX_ACCEPTED);
    g_assert_cmpstr(a->queue_id, ==, "4AbC1");
    g_assert_cmpstr(a->header[MW_HDR_MESSAGE_ID], ==, "<m1@one.example>");
    g_assert_cmpstr(a->header[MW_HDR_SUBJECT], ==, "first folded");
    g_assert_cmpstr(a->header[MW_HDR_FROM], ==, "A <a@one.example>");
    g_assert_null(a->header[MW_HDR_DATE]);
    g_assert_cmpstr(b->mail_from, ==, "b@two.example");
    g_assert_cmpstr(b->ret, ==, "HDRS");
    g_assert_cmpstr(b->envid, ==, "e2");
    g_assert_cmpuint(b->rcpt.len, ==, 2);
    g_assert_cmpint(tx_rcpt_code(s, b, 0), ==, 250);
    g_assert_cmpint(tx_rcpt_code(s, b, 1), ==, 550);
    g_assert_cmpint(b->result, ==, MW_TX_ACCEPTED);
    g_assert_cmpstr(b->queue_id, ==, "1tA2bC-000123-Xy"); /* Exim */
    g_assert_cmpstr(b->header[MW_HDR_SUBJECT], ==, "second");
    g_assert_cmpuint(b->size_seen, ==, 17 + 2 + 6); /* "Subject: second", "", "body" */
    /* the refused recipient's evidence names its transaction */
    g_assert_true(b->flags & (1u << MW_FLAG_RECIPIENT_REJECTED));
    g_assert_false(a->flags);
    const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, 0);
    g_assert_cmpint(ev->flag, ==, MW_FLAG_RECIPIENT_REJECTED);
    g_assert_cmpuint(ev->tx, ==, 2);
    mw_session_free(s);
}

/* Refused at MAIL, aborted by RSET, refused at DATA, refused at the end of data. */
static void test_tx_results(void)
{
    mw_session *s = run("S: 220 mx ESMTP\n"
                        "C: HELO c\nS: 250 mx\n"
                        "C: MAIL FROM:<spam@bad.example>\n"
                        "S: 554 5.7.1 <spam@bad.example>: Sender address rejected\n"
                        "C: MAIL FROM:<a@ok.example>\nS: 250 Ok\n"
                        "C: RCPT TO:<x@mx.example>\nS: 250 Ok\n"
                        "C: RSET\nS: 250 Ok\n"
                        "C: MAIL FROM:<b@ok.example>\nS: 250 Ok\n"
                        "C: RCPT TO:<x@mx.example>\nS: 250 Ok\n"
                        "C: DATA\nS: 451 4.3.0 try later\n"
                        "C: MAIL FROM:<c@ok.example>\nS: 250 Ok\n"
                        "C: RCPT TO:<x@mx.example>\nS: 250 Ok\n"
                        "C: DATA\nS: 354 go\n"
                        "C: Subject: buy\nC+ \nC+ x\nC+ .\n"
                        "S: 554 5.7.1 spam\n"
                        "C: MAIL FROM:<d@ok.example>\nS: 250 Ok\n"
                        "C: QUIT\nS: 221 bye\n");
    g_assert_cmpuint(mw_smtp_of(s)->tx.len, ==, 5);
    g_assert_cmpint(tx_of(s, 1)->result, ==, MW_TX_REJECTED);
    g_assert_cmpint(tx_of(s, 1)->code, ==, 554);
    g_assert_true(tx_of(s, 1)->flags & (1u << MW_FLAG_SENDER_REJECTED));
    g_assert_cmpint(tx_of(s, 2)->result, ==, MW_TX_ABORTED);
    g_assert_cmpint(tx_of(s, 3)->result, ==, MW_TX_DEFERRED);
    g_assert_cmpint(tx_of(s, 3)->code, ==, 451);
    g_assert_cmpint(tx_of(s, 4)->result, ==, MW_TX_REJECTED);
    g_assert_cmpstr(tx_of(s, 4)->enhanced, ==, "5.7.1");
    g_assert_cmpstr(tx_of(s, 4)->text, ==, "spam");
    g_assert_null(tx_of(s, 4)->queue_id);
    g_assert_true(tx_of(s, 4)->flags & (1u << MW_FLAG_MESSAGE_REJECTED));
    g_assert_cmpint(tx_of(s, 5)->result, ==, MW_TX_ABORTED); /* by QUIT */
    g_assert_cmpstr(mw_smtp_of(s)->mail_from, ==, "spam@bad.example"); /* the first */
    mw_session_free(s);
}

/* BDAT chunks (RFC 3030): counted per transaction, headers read from the first chunk. */
static void test_tx_bdat(void)
{
    mw_session *s = run("S: 220 mx ESMTP\n"
                        "C: EHLO c\nS: 250-mx\nS+ 250 CHUNKING\n"
                        "C: MAIL FROM:<a@ok.example>\nC+ RCPT TO:<x@mx.example>\n"
                        "C+ BDAT 14\nC+ Subject: abc\n"
                        "S: 250 Ok\nS+ 250 Ok\nS+ 250 2.0.0 14 octets\n"
                        "C: BDAT 8 LAST\nC+ \nC+ body\n"
                        "S: 250 2.6.0 <ID1@host.example> [InternalId=1] Queued mail for delivery\n"
                        "C: MAIL FROM:<b@ok.example>\nC+ RCPT TO:<x@mx.example>\n"
                        "C+ BDAT 3 LAST\nC+ x\n"
                        "S: 250 Ok\nS+ 250 Ok\nS+ 552 5.3.4 too big\n"
                        "C: QUIT\nS: 221 bye\n");
    g_assert_cmpuint(mw_smtp_of(s)->tx.len, ==, 2);
    const mw_smtp_tx *a = tx_of(s, 1), *b = tx_of(s, 2);
    g_assert_cmpstr(a->data, ==, "BDAT");
    g_assert_cmpuint(a->chunks, ==, 2);
    g_assert_cmpuint(a->size_seen, ==, 22);
    g_assert_cmpint(a->result, ==, MW_TX_ACCEPTED);
    g_assert_cmpstr(a->queue_id, ==, "ID1@host.example"); /* Exchange */
    g_assert_cmpstr(a->header[MW_HDR_SUBJECT], ==, "abc");
    /* the refused chunk is no part of the message (issue 15 item 1): counted apart */
    g_assert_cmpuint(b->chunks, ==, 0);
    g_assert_cmpuint(b->size_seen, ==, 0);
    g_assert_cmpuint(b->chunks_refused, ==, 1);
    g_assert_cmpuint(b->bytes_refused, ==, 3);
    g_assert_cmpint(b->result, ==, MW_TX_REJECTED);
    g_assert_cmpint(b->code, ==, 552);
    g_assert_cmpuint(mw_smtp_of(s)->messages, ==, 1);
    g_assert_cmpuint(mw_smtp_of(s)->message_bytes, ==, 22);
    mw_session_free(s);
}

/* RFC 3030's BDAT line, strictly: "BDAT" SP chunk-size [SP "LAST"], digits only, capped. */
static void test_bdat_parse(void)
{
    static const struct {
        const char *arg;
        smtp_bdat_status want;
        uint64_t size;
        bool last;
    } cases[] = {
        { "12", SMTP_BDAT_OK, 12, false },
        { "0 LAST", SMTP_BDAT_OK, 0, true },
        { "7  last ", SMTP_BDAT_OK, 7, true },
        { "", SMTP_BDAT_NO_SIZE, 0, false },
        { "SCRAMBLE", SMTP_BDAT_NO_SIZE, 0, false },
        { "-5", SMTP_BDAT_NO_SIZE, 0, false },
        { "+5", SMTP_BDAT_NO_SIZE, 0, false },
        { "5 X", SMTP_BDAT_JUNK, 0, false },
        { "123 SCRAMBLE", SMTP_BDAT_JUNK, 0, false },
        { "1234 SCRAMBLE", SMTP_BDAT_TOO_BIG, 0, false }, /* the size is judged first */
        { "5LAST", SMTP_BDAT_JUNK, 0, false },
        { "5 LAST X", SMTP_BDAT_JUNK, 0, false },
        { "5 LAST\r", SMTP_BDAT_JUNK, 0, false },
        { "0x10", SMTP_BDAT_JUNK, 0, false },
        { "1000", SMTP_BDAT_OK, 1000, false },      /* at the cap */
        { "1001", SMTP_BDAT_TOO_BIG, 0, false },    /* one over */
        { "15555555557777777777 LAST", SMTP_BDAT_TOO_BIG, 0, false }, /* over 2^63 */
        { "99999999999999999999999999999999999999", SMTP_BDAT_TOO_BIG, 0, false },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        uint64_t n = 99;
        bool last = true;
        smtp_bdat_status st = smtp_bdat_parse((const uint8_t *)cases[i].arg,
                                              strlen(cases[i].arg), 1000, &n, &last);
        g_assert_cmpint(st, ==, cases[i].want);
        g_assert_cmpuint(n, ==, cases[i].size);
        g_assert_cmpint(last, ==, cases[i].last);
    }
    /* the cap itself may be the largest the option allows */
    uint64_t n;
    bool last;
    g_assert_cmpint(smtp_bdat_parse((const uint8_t *)"4294967295", 10, 4294967295u, &n, &last),
                    ==, SMTP_BDAT_OK);
    g_assert_cmpuint(n, ==, 4294967295u);
}

/* suricata-verify smtp-bdat-bad-tail-next-mail, as a script: an invalid BDAT refused with
 * 521 takes no chunk, so the BDAT after it and the next MAIL are read as sent. */
static void test_bdat_invalid_line(void)
{
    mw_session *s = run("S: 220 mx ESMTP\n"
                        "C: EHLO c\nS: 250-mx\nS+ 250 CHUNKING\n"
                        "C: mail from:<alice@example.com>\nS: 250 2.1.0 Ok\n"
                        "C: rcpt to:<bob@example.com>\nS: 250 2.1.5 Ok\n"
                        "C: BDAT 5 X\n"
                        "S: 521 5.5.4 Syntax: BDAT count [LAST]\n"
                        "C: BDAT 25 LAST\nC+ Subject: s1\nC+ \nC+ body one\n"
                        "C+ mail from:<bob@example.com>\nC+ rcpt to:<alice@example.com>\n"
                        "C+ data\nC+ Subject: s2\nC+ \nC+ body two\nC+ .\n"
                        "S: 250 2.0.0 Ok: queued as A1\nS+ 250 2.1.0 Ok\nS+ 250 2.1.5 Ok\n"
                        "S+ 354 go\nS+ 250 2.0.0 Ok: queued as B2\n"
                        "C: BDAT 15555555557777777777 LAST\nC+ QUIT\n"
                        "S: 501 5.5.4 Syntax: BDAT count [LAST]\nS+ 221 bye\n");
    g_assert_true(s->anomalies & (1u << MW_ANOM_BAD_BDAT));
    g_assert_false(mw_session_has(s, MW_FLAG_MESSAGE_REJECTED)); /* a client's syntax error */
    g_assert_cmpuint(mw_smtp_of(s)->tx.len, ==, 2);
    const mw_smtp_tx *a = tx_of(s, 1), *b = tx_of(s, 2);
    g_assert_cmpstr(a->mail_from, ==, "alice@example.com");
    g_assert_cmpuint(a->rcpt.len, ==, 1);
    g_assert_cmpstr(a->data, ==, "BDAT");
    g_assert_cmpuint(a->chunks, ==, 1);
    g_assert_cmpuint(a->size_seen, ==, 25);
    g_assert_cmpstr(a->header[MW_HDR_SUBJECT], ==, "s1");
    g_assert_cmpint(a->result, ==, MW_TX_ACCEPTED);
    g_assert_cmpstr(a->queue_id, ==, "A1");
    g_assert_cmpstr(b->mail_from, ==, "bob@example.com");
    g_assert_cmpstr(b->data, ==, "DATA");
    g_assert_cmpstr(b->header[MW_HDR_SUBJECT], ==, "s2");
    g_assert_cmpuint(b->size_seen, ==, 13 + 2 + 10);
    g_assert_cmpint(b->result, ==, MW_TX_ACCEPTED);
    g_assert_cmpstr(b->queue_id, ==, "B2");
    g_assert_cmpuint(mw_smtp_of(s)->messages, ==, 2);
    g_assert_cmpuint(mw_smtp_of(s)->message_bytes, ==, 25 + 25); /* not 15555555557777777777 */
    g_assert_true(s->quit_seen); /* the QUIT after the oversized BDAT is read as a command */
    const mw_reply *r = &mw_avec_at(&mw_smtp_of(s)->replies, mw_reply, 0);
    g_assert_cmpstr(r->cmd, ==, "BDAT");
    g_assert_cmpstr(r->category, ==, "syntax");
    /* the messages got through; the last invalid BDAT had no transaction to break */
    g_assert_false(s->broken);
    g_assert_cmpint(s->outcome, ==, MW_OUT_OK);
    mw_session_free(s);

    /* refused and never followed: the transaction is aborted, the 521 its last reply */
    s = run("S: 220 mx ESMTP\nC: EHLO c\nS: 250 mx\n"
            "C: MAIL FROM:<zeek@localhost>\nS: 250 Ok\nC: RCPT TO:<root@localhost>\nS: 250 Ok\n"
            "C: BDAT\nS: 521 5.5.4 Syntax: BDAT count [LAST]\nC: QUIT\n");
    g_assert_true(s->anomalies & (1u << MW_ANOM_BAD_BDAT));
    g_assert_cmpuint(s->flags, ==, 0);
    g_assert_cmpint(tx_of(s, 1)->result, ==, MW_TX_ABORTED);
    g_assert_cmpint(tx_of(s, 1)->code, ==, 521);
    g_assert_cmpstr(tx_of(s, 1)->enhanced, ==, "5.5.4");
    /* no flag names it, but the transaction broke: never "ok" (zeek smtp-bdat-cmd-invalid) */
    g_assert_true(s->broken);
    g_assert_cmpint(s->outcome, ==, MW_OUT_FAILED);
    mw_session_free(s);

}

/* An invalid BDAT refused inside a transaction: the session is failed unless a message
 * gets through after it (mw_session.broken); a table of what follows the refusal. */
static void test_bdat_refused_outcome(void)
{
    static const char prefix[] = "S: 220 mx ESMTP\nC: EHLO c\nS: 250 mx\n"
                                 "C: MAIL FROM:<a@x>\nS: 250 Ok\nC: RCPT TO:<b@x>\nS: 250 Ok\n"
                                 "C: BDAT 5 X\n";
    static const struct {
        const char *tail;
        bool broken;
    } cases[] = {
        /* a message through DATA after it: the client recovered, the session is ok */
        { "S: 501 5.5.4 Syntax: BDAT count [LAST]\n"
          "C: DATA\nS: 354 go\nC: Subject: t\nC+ \nC+ body\nC+ .\nS: 250 2.0.0 Ok: queued\n"
          "C: QUIT\nS: 221 bye\n", false },
        /* the server hangs up with its 521 (postfix): failed, and no unanswered_command */
        { "S: 521 5.5.4 Syntax: BDAT count [LAST]\n", true },
        /* refused, then QUIT: nothing was sent */
        { "S: 501 5.5.4 Syntax: BDAT count [LAST]\nC: QUIT\nS: 221 bye\n", true },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *script = g_strconcat(prefix, cases[i].tail, NULL);
        mw_session *s = run(script);
        g_assert_true(s->anomalies & (1u << MW_ANOM_BAD_BDAT));
        g_assert_cmpuint(s->flags, ==, 0);
        g_assert_cmpint(s->broken, ==, cases[i].broken);
        g_assert_cmpint(s->outcome, ==, cases[i].broken ? MW_OUT_FAILED : MW_OUT_OK);
        mw_session_free(s);
        g_free(script);
    }
}

/* zeek smtp-mail-transactions-invalid, as a script: 503 sequence errors are no refusals;
 * a MAIL answered "503 sender already given" opened no transaction of its own. */
static void test_sequence_errors(void)
{
    mw_session *s = run("S: 220 mx ESMTP Exim\n"
                        "C: EHLO c\nS: 250 mx\n"
                        "C: MAIL FROM:<bob@example.org>\nS: 250 OK\n"
                        "C: RCPT TO:<alice@example.org>\nS: 250 Accepted\n"
                        "C: DATA\nS: 354 go\nC: Subject: one\nC+ .\nS: 250 OK id=1pgobK-001mwq-ED\n"
                        "C: RCPT TO:<alice@example.org>\nS: 503 sender not yet given\n"
                        "C: DATA\nS: 503-All RCPT commands were rejected with this error:\n"
                        "S+ 503-503 sender not yet given\nS+ 503 valid RCPT command must precede DATA\n"
                        "C: Subject: lost\nS: 500 unrecognized command\nC: .\n"
                        "S: 500 unrecognized command\n"
                        "C: MAIL FROM:<bob@example.org>\nS: 250 OK\n"
                        "C: DATA\nS: 503 valid RCPT command must precede DATA\n"
                        "C: MAIL FROM:<bob@example.org>\nS: 503 sender already given\n"
                        "C: RCPT TO:<alice@example.org>\nS: 250 Accepted\n"
                        "C: DATA\nS: 354 go\nC: Subject: two\nC+ .\nS: 250 OK id=1pgobM-001mwq-Vc\n"
                        "C: QUIT\nS: 221 bye\n");
    g_assert_cmpuint(s->flags, ==, 0);
    g_assert_cmpint(s->outcome, ==, MW_OUT_OK);
    g_assert_cmpuint(mw_smtp_of(s)->messages, ==, 2);
    g_assert_cmpuint(mw_smtp_of(s)->tx.len, ==, 2);
    g_assert_cmpint(tx_of(s, 1)->result, ==, MW_TX_ACCEPTED);
    g_assert_cmpstr(tx_of(s, 1)->queue_id, ==, "1pgobK-001mwq-ED");
    const mw_smtp_tx *b = tx_of(s, 2);
    g_assert_cmpint(b->result, ==, MW_TX_ACCEPTED);
    g_assert_cmpstr(b->queue_id, ==, "1pgobM-001mwq-Vc");
    g_assert_cmpuint(b->rcpt.len, ==, 1);
    g_assert_cmpint(tx_rcpt_code(s, b, 0), ==, 250);
    g_assert_cmpstr(b->header[MW_HDR_SUBJECT], ==, "two");
    /* the stray RCPT keeps its code, as a syntax error */
    const mw_rcpt *r = &mw_avec_at(&mw_smtp_of(s)->rcpt, mw_rcpt, 1);
    g_assert_cmpint(r->code, ==, 503);
    g_assert_cmpstr(r->category, ==, "syntax");
    for (guint i = 0; i < mw_smtp_of(s)->replies.len; i++)
        g_assert_cmpstr(mw_avec_at(&mw_smtp_of(s)->replies, mw_reply, i).category, ==,
                        "syntax");
    mw_session_free(s);
}

/* The same nesting pipelined: MAIL, RCPT and DATA of a nested MAIL sent before its 503
 * came back are filed under the open transaction; a 503 to MAIL before HELO ends its own. */
static void test_sequence_errors_pipelined(void)
{
    mw_session *s = run("S: 220 mx ESMTP\n"
                        "C: MAIL FROM:<early@example.org>\nS: 503 5.5.1 Error: send HELO/EHLO first\n"
                        "C: EHLO c\nS: 250-mx\nS+ 250 PIPELINING\n"
                        "C: MAIL FROM:<a@example.org>\nC+ RCPT TO:<x@mx.example>\n"
                        "S: 250 2.1.0 Ok\nS+ 250 2.1.5 Ok\n"
                        "C: MAIL FROM:<b@example.org>\nC+ RCPT TO:<y@mx.example>\nC+ DATA\n"
                        "S: 503 5.5.1 Error: nested MAIL command\nS+ 250 2.1.5 Ok\nS+ 354 go\n"
                        "C: Subject: nested\nC+ .\n"
                        "S: 250 2.0.0 Ok: queued as 4AbC\n"
                        "C: QUIT\nS: 221 bye\n");
    g_assert_cmpuint(s->flags, ==, 0);
    g_assert_cmpuint(mw_smtp_of(s)->tx.len, ==, 2);
    const mw_smtp_tx *e = tx_of(s, 1), *a = tx_of(s, 2);
    g_assert_cmpstr(e->mail_from, ==, "early@example.org");
    g_assert_cmpint(e->result, ==, MW_TX_REJECTED);
    g_assert_cmpint(e->code, ==, 503);
    g_assert_cmpstr(a->mail_from, ==, "a@example.org");
    g_assert_cmpuint(a->rcpt.len, ==, 2);
    g_assert_cmpint(tx_rcpt_code(s, a, 1), ==, 250);
    g_assert_cmpint(a->result, ==, MW_TX_ACCEPTED);
    g_assert_cmpstr(a->queue_id, ==, "4AbC");
    g_assert_cmpstr(a->header[MW_HDR_SUBJECT], ==, "nested");
    mw_session_free(s);
}

/* suricata-verify smtp-errors (port 49448), as a script: the server answers the end of
 * data with a line that has no reply code, then closes. */
static void test_reply_without_code(void)
{
    mw_session *s = run("S: 220 mta.example ESMTP ready\n"
                        "C: HELO [0.0.0.0]\nS: 250 mta.example\n"
                        "C: MAIL FROM: <ina@example.com>\nS: 250 sender ok\n"
                        "C: RCPT TO: <j@example.net>\nS: 250 recipient ok\n"
                        "C: DATA\nS: 354 go ahead\n"
                        "C: Subject: x\nC+ \nC+ y\nC+ .\n"
                        "S: 4.7.0 [IPTS04] Messages from 192.0.2.1 temporarily deferred\n"
                        "C: QUIT\n");
    g_assert_true(s->anomalies & (1u << MW_ANOM_INVALID_REPLY));
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    g_assert_cmpuint(mw_smtp_of(s)->replies.len, ==, 1);
    const mw_reply *r = &mw_avec_at(&mw_smtp_of(s)->replies, mw_reply, 0);
    g_assert_cmpstr(r->cmd, ==, "DATA");
    g_assert_cmpint(r->code, ==, 0); /* null in JSON */
    g_assert_cmpstr(r->enhanced, ==, "4.7.0");
    g_assert_cmpstr(r->text, ==, "[IPTS04] Messages from 192.0.2.1 temporarily deferred");
    const mw_smtp_tx *t = tx_of(s, 1);
    g_assert_cmpint(t->result, ==, MW_TX_DEFERRED);
    g_assert_cmpint(t->code, ==, 0);
    g_assert_cmpstr(t->enhanced, ==, "4.7.0");
    g_assert_cmpstr(s->decisive, ==,
                    "4.7.0 [IPTS04] Messages from 192.0.2.1 temporarily deferred");
    g_assert_true(tu_json_contains(s, "\"code\":null,\"enhanced\":\"4.7.0\""));
    /* a codeless line no command waits for is still ignored */
    mw_session *g = run("S: 220 mx\nC: NOOP\nS: 250 ok\nS: 4.7.0 stray words\nC: QUIT\nS: 221 bye\n");
    g_assert_false(g->anomalies & (1u << MW_ANOM_INVALID_REPLY));
    g_assert_cmpuint(mw_smtp_of(g)->replies.len, ==, 0);
    mw_session_free(g);
    mw_session_free(s);
}

static void test_queue_ids(void)
{
    static const struct {
        const char *text, *id;
    } cases[] = {
        { "Ok: queued as 4Xyz12AB", "4Xyz12AB" },                      /* postfix */
        { "<a1@b.example> Queued mail for delivery", "a1@b.example" }, /* Exchange */
        { "OK id=1tA2bC-000123-Xy", "1tA2bC-000123-Xy" },              /* Exim */
        { "x7HFbTQd012345 Message accepted for delivery", "x7HFbTQd012345" }, /* sendmail */
        { "Ok", NULL },
        { "Message accepted for delivery", NULL }, /* no id before the words */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *id = smtp_queue_id(cases[i].text);
        g_assert_cmpstr(id, ==, cases[i].id);
        g_free(id);
    }
}

/* EHLO keywords: a second EHLO's repeats kept once, at most MW_SMTP_MAX_CAPABILITIES of
 * them, each cut to MW_SMTP_MAX_CAPABILITY bytes (copies in the session's arena). */
static void test_capabilities_once_and_capped(void)
{
    GString *sc = g_string_new("S: 220 mx ESMTP\nC: EHLO c\nS: 250-mx\nS+ 250-PIPELINING\n");
    g_string_append(sc, "S+ 250-X");
    for (int i = 0; i < 200; i++)
        g_string_append_c(sc, 'A');
    g_string_append(sc, "\n");
    for (int i = 0; i < 70; i++)
        g_string_append_printf(sc, "S+ 250-XCAP%d\n", i);
    g_string_append(sc, "S+ 250 SIZE 100\nC: EHLO c\nS: 250-mx\nS+ 250-PIPELINING\nS+ 250 SIZE 100\n"
                        "C: QUIT\nS: 221 bye\n");
    mw_session *s = run(sc->str);
    const mw_avec *caps = &mw_smtp_of(s)->capabilities;
    g_assert_cmpuint(caps->len, ==, MW_SMTP_MAX_CAPABILITIES);
    g_assert_cmpstr(mw_avec_at(caps, const char *, 0), ==, "PIPELINING");
    g_assert_cmpuint(strlen(mw_avec_at(caps, const char *, 1)), ==, MW_SMTP_MAX_CAPABILITY);
    g_assert_cmpstr(mw_avec_at(caps, const char *, 2), ==, "XCAP0");
    guint pipelining = 0;
    for (guint i = 0; i < caps->len; i++)
        pipelining += strcmp(mw_avec_at(caps, const char *, i), "PIPELINING") == 0;
    g_assert_cmpuint(pipelining, ==, 1);
    mw_session_free(s);
    g_string_free(sc, TRUE);

    /* the second EHLO adds only what is new */
    s = run("S: 220 mx ESMTP\nC: EHLO c\nS: 250-mx\nS+ 250-PIPELINING\nS+ 250 STARTTLS\n"
            "C: EHLO c\nS: 250-mx\nS+ 250-PIPELINING\nS+ 250-STARTTLS\nS+ 250 AUTH PLAIN\n"
            "C: QUIT\nS: 221 bye\n");
    caps = &mw_smtp_of(s)->capabilities;
    g_assert_cmpuint(caps->len, ==, 3);
    g_assert_cmpstr(mw_avec_at(caps, const char *, 2), ==, "AUTH PLAIN");
    mw_session_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/smtp/accepted", test_accepted);
    g_test_add_func("/smtp/relay_denied_pipelined", test_relay_denied_pipelined);
    g_test_add_func("/smtp/relay_denied_auth_unused", test_relay_denied_auth_unused);
    g_test_add_func("/smtp/auth_plain_failed", test_auth_plain_failed);
    g_test_add_func("/smtp/auth_login_ok", test_auth_login_ok);
    g_test_add_func("/smtp/auth_cancel", test_auth_cancel);
    g_test_add_func("/smtp/starttls_hands_off", test_starttls_hands_off);
    g_test_add_func("/smtp/starttls_then_clear_text", test_starttls_then_clear_text);
    g_test_add_func("/smtp/starttls_early_hello", test_starttls_early_hello);
    g_test_add_func("/smtp/starttls_refused_tls_required", test_starttls_refused_and_tls_required);
    g_test_add_func("/smtp/auth_required_sender", test_auth_required_and_sender);
    g_test_add_func("/smtp/data_rejected_bdat", test_data_rejected_and_bdat);
    g_test_add_func("/smtp/timeout_unanswered", test_timeout_and_unanswered);
    g_test_add_func("/smtp/no_greeting", test_no_greeting);
    g_test_add_func("/smtp/overlong_line", test_overlong_line_and_garbage);
    g_test_add_func("/smtp/binary_bytes", test_binary_and_nul_bytes);
    g_test_add_func("/smtp/gap_resync", test_gap_resync);
    g_test_add_func("/smtp/gap_then_line_any_cut", test_gap_then_line_any_cut);
    g_test_add_func("/smtp/tx_pipelined", test_tx_pipelined);
    g_test_add_func("/smtp/tx_results", test_tx_results);
    g_test_add_func("/smtp/tx_bdat", test_tx_bdat);
    g_test_add_func("/smtp/queue_ids", test_queue_ids);
    g_test_add_func("/smtp/bdat_parse", test_bdat_parse);
    g_test_add_func("/smtp/bdat_invalid_line", test_bdat_invalid_line);
    g_test_add_func("/smtp/bdat_refused_outcome", test_bdat_refused_outcome);
    g_test_add_func("/smtp/sequence_errors", test_sequence_errors);
    g_test_add_func("/smtp/sequence_errors_pipelined", test_sequence_errors_pipelined);
    g_test_add_func("/smtp/reply_without_code", test_reply_without_code);
    g_test_add_func("/smtp/capabilities_once_and_capped", test_capabilities_once_and_capped);
    return g_test_run();
}
