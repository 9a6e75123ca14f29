/* IMAP dissector: scripted conversations, each run whole, byte by byte and split at
 * every offset (tu_run_all_ways asserts the records are identical). Literals are
 * written out byte-exact with tu_add_raw so their counts are right. */
#include "testutil.h"
#include "registry.h"
#include "text/reply_log.h"
#include "tu_gap.h"

static const char *const secrets[] = {
    TU_PASSWORDS,
    NULL,
};

/* Every conversation runs with the transcript kept (and compared across all the ways
 * of cutting the input), and once without; no output may hold a secret. */
static mw_session *run_chunks(GPtrArray *c)
{
    return tu_run_no_secret("imap", MW_PROTO_IMAP, c, secrets);
}

static mw_session *run(const char *script)
{
    return run_chunks(tu_script(script));
}

static void add(GPtrArray *c, mw_dir d, const char *text)
{
    tu_add_raw(c, d, text, strlen(text));
}

static const mw_reply *failure(const mw_session *s, guint i)
{
    g_assert_nonnull(mw_cmdrec_of(s));
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, >, i);
    return &mw_avec_at(&mw_cmdrec_of(s)->failures, mw_reply, i);
}

#define GREETING "S: * OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS AUTH=PLAIN] ready\n"

static void test_login_ok(void)
{
    mw_session *s = run(GREETING
                        "C: a1 CAPABILITY\n"
                        "S: * CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\nS+ a1 OK done\n"
                        "C: a2 LOGIN alice@example.test \"Swordfish-42x\"\n"
                        "S: a2 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\n"
                        "C: a3 EXAMINE INBOX\n"
                        "S: * 1 EXISTS\nS+ * OK [UIDVALIDITY 1] x\nS+ a3 OK [READ-ONLY] done\n"
                        "C: a4 LOGOUT\n"
                        "S: * BYE Logging out\nS+ a4 OK Logout completed.\n");
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_CLEARTEXT_AUTH);
    g_assert_cmpint(s->outcome, ==, MW_OUT_OK);
    g_assert_cmpstr(s->auth->mechanism, ==, "LOGIN");
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_SUCCESS);
    g_assert_cmpstr(s->auth->code, ==, "OK");
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 4);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 0);
    g_assert_true(s->quit_seen);
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_CLEARTEXT_AUTH)->detail, ==,
                    "LOGIN credentials sent without TLS");
    mw_session_free(s);
}

static void test_login_failed(void)
{
    mw_session *s = run(GREETING
                        "C: a1 LOGIN \"alice@example.test\" Wrong-Pa55word\n"
                        "S: a1 NO [AUTHENTICATIONFAILED] Authentication failed.\n"
                        "C: a2 LOGOUT\nS: * BYE bye\nS+ a2 OK bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_true(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_false(mw_session_has(s, MW_FLAG_TLS_REQUIRED));
    g_assert_cmpint(s->outcome, ==, MW_OUT_REJECTED);
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_FAILURE);
    g_assert_cmpstr(s->auth->code, ==, "NO");
    const mw_reply *r = failure(s, 0);
    g_assert_cmpstr(r->cmd, ==, "LOGIN");
    g_assert_cmpstr(r->status, ==, "NO");
    g_assert_cmpstr(r->enhanced, ==, "AUTHENTICATIONFAILED");
    g_assert_cmpstr(r->text, ==, "Authentication failed.");
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_AUTH_FAILED)->detail, ==,
                    "NO [AUTHENTICATIONFAILED] Authentication failed.");
    g_assert_cmpstr(s->decisive, ==, "NO [AUTHENTICATIONFAILED] Authentication failed.");
    char *j = tu_json(s);
    g_assert_nonnull(strstr(j, "\"imap\":{\"commands\":2,\"failures\":[{\"cmd\":\"LOGIN\""));
    g_free(j);
    mw_session_free(s);
}

/* LOGIN with both arguments as synchronizing literals (RFC 9051 4.3): the user name is
 * kept, the password literal skipped by count and never copied. */
static void test_login_literals(void)
{
    GPtrArray *c = tu_script(GREETING);
    add(c, MW_FROM_CLIENT, "a1 LOGIN {18}\r\n");
    add(c, MW_FROM_SERVER, "+ Ready for literal data\r\n");
    add(c, MW_FROM_CLIENT, "alice@example.test {13}\r\n");
    add(c, MW_FROM_SERVER, "+ Ready for literal data\r\n");
    add(c, MW_FROM_CLIENT, "Swordfish-42x\r\n");
    add(c, MW_FROM_SERVER, "a1 OK Logged in\r\n");
    /* LITERAL+ (RFC 7888): non-synchronizing, all in one segment */
    add(c, MW_FROM_CLIENT, "a2 LOGIN bob {13+}\r\nSwordfish-42x\r\na3 NOOP\r\n");
    add(c, MW_FROM_SERVER, "a2 NO [AUTHENTICATIONFAILED] no\r\na3 OK done\r\n");
    mw_session *s = run_chunks(c);
    g_assert_cmpstr(s->auth->user, ==, "bob");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_FAILURE);
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 3);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 1);
    g_assert_cmpstr(failure(s, 0)->cmd, ==, "LOGIN");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    mw_session_free(s);

    /* the user name as a literal */
    c = tu_script(GREETING);
    add(c, MW_FROM_CLIENT, "x LOGIN {18+}\r\nalice@example.test \"Swordfish-42x\"\r\n");
    add(c, MW_FROM_SERVER, "x OK Logged in\r\n");
    s = run_chunks(c);
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_SUCCESS);
    mw_session_free(s);
}

static void test_authenticate_plain_ir(void)
{
    /* \0alice@example.test\0Wrong-Pa55word */
    mw_session *s = run(GREETING
                        "C: A002 AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABXcm9uZy1QYTU1d29yZA==\n"
                        "S: A002 NO [AUTHENTICATIONFAILED] Authentication failed.\n");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_true(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_cmpstr(s->auth->mechanism, ==, "PLAIN");
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_cmpstr(s->auth->code, ==, "NO");
    g_assert_false(tu_json_contains(s, "AGFsaWNlQGV4YW1wbGUudGVzdABXcm9uZy1QYTU1d29yZA"));
    mw_session_free(s);
}

static void test_authenticate_multistep(void)
{
    /* LOGIN mechanism: user and password each answer a challenge */
    mw_session *s = run(GREETING
                        "C: t1 AUTHENTICATE LOGIN\n"
                        "S: + VXNlcm5hbWU6\n"
                        "C: YWxpY2VAZXhhbXBsZS50ZXN0\n" /* alice@example.test */
                        "S: + UGFzc3dvcmQ6\n"
                        "C: U3dvcmRmaXNoLTQyeA==\n"     /* Swordfish-42x */
                        "S: t1 OK Logged in\n"
                        "C: t2 SELECT INBOX\nS: t2 OK [READ-WRITE] done\n"
                        "C: t3 LOGOUT\nS: t3 OK bye\n");
    g_assert_cmpstr(s->auth->mechanism, ==, "LOGIN");
    g_assert_cmpstr(s->auth->user, ==, "alice@example.test");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_SUCCESS);
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 3);
    g_assert_true(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_false(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_true(s->quit_seen);
    mw_session_free(s);

    /* PLAIN without an initial response, then "*" cancel (RFC 9051 6.2.2) */
    s = run(GREETING "C: t1 AUTHENTICATE PLAIN\nS: + \nC: *\n"
                     "S: t1 BAD Authentication aborted by client.\n"
                     "C: t2 CAPABILITY\nS: * CAPABILITY IMAP4rev1\nS+ t2 OK done\n");
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_false(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_cmpstr(s->auth->code, ==, "BAD");
    g_assert_null(s->auth->user);
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 2);
    g_assert_cmpstr(failure(s, 0)->cmd, ==, "AUTHENTICATE");
    mw_session_free(s);

    /* CRAM-MD5 reveals no password: no cleartext_auth */
    s = run(GREETING "C: c AUTHENTICATE CRAM-MD5\nS: + PDEyMzQ+\n"
                     "C: Ym9iIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\nS: c OK ok\n");
    g_assert_cmpstr(s->auth->user, ==, "bob");
    g_assert_false(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    mw_session_free(s);
}

static void test_logindisabled(void)
{
    mw_session *s = run("S: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\n"
                        "C: a2 LOGIN alice@example.test \"Swordfish-42x\"\n"
                        "S: * BAD [ALERT] Plaintext authentication not allowed\n"
                        "S+ a2 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on "
                        "non-secure (SSL/TLS) connections.\n"
                        "C: a3 LOGOUT\nS: * BYE Logging out\nS+ a3 OK Logout completed.\n");
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_REQUIRED));
    g_assert_true(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH));
    g_assert_false(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_cmpint(s->outcome, ==, MW_OUT_REJECTED);
    g_assert_cmpuint(s->evidence_count[MW_FLAG_TLS_REQUIRED], ==, 1);
    g_assert_cmpstr(failure(s, 0)->enhanced, ==, "PRIVACYREQUIRED");
    g_assert_cmpint(s->auth->result, ==, MW_AUTH_FAILURE);
    mw_session_free(s);

    /* PRIVACYREQUIRED without LOGINDISABLED: raised at the refusal */
    s = run("S: * OK ready\nC: a1 AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABTd29yZGZpc2gtNDJ4\n"
            "S: a1 NO [PRIVACYREQUIRED] Encryption required\n");
    g_assert_true(mw_session_has(s, MW_FLAG_TLS_REQUIRED));
    g_assert_false(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_TLS_REQUIRED)->detail, ==,
                    "NO [PRIVACYREQUIRED] Encryption required");
    mw_session_free(s);
}

static void test_starttls(void)
{
    GPtrArray *c = tu_script(GREETING "C: a1 STARTTLS\nS: a1 OK Begin TLS negotiation now.\n");
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00 };
    tu_add_raw(c, MW_FROM_CLIENT, hello, sizeof hello);
    mw_session *s = run_chunks(c);
    g_assert_true(s->starttls);
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 1); /* the rest went to the TLS dissector */
    g_assert_null(s->auth);
    mw_session_free(s);

    s = run(GREETING "C: a1 STARTTLS\nS: a1 BAD TLS support isn't enabled.\n"
                     "C: a2 LOGOUT\nS: a2 OK bye\n");
    g_assert_true(mw_session_has(s, MW_FLAG_STARTTLS_REFUSED));
    g_assert_false(s->starttls);
    g_assert_cmpint(s->outcome, ==, MW_OUT_FAILED);
    mw_session_free(s);
}

static void test_starttls_then_clear_text(void)
{
    /* issue 15 item 4: clear text after the OK to STARTTLS is read on */
    mw_session *s = run(GREETING "C: a1 STARTTLS\nS: a1 OK Begin TLS negotiation now.\n"
                                 "C: a2 SELECT INBOX\nS: a2 NO [NONEXISTENT] no such mailbox\n"
                                 "C: a3 LOGOUT\nS: * BYE\nS+ a3 OK bye\n");
    g_assert_true(s->starttls);
    g_assert_true((s->anomalies >> MW_ANOM_STARTTLS_NOT_USED) & 1u);
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 3);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 1);
    mw_session_free(s);
}

/* Literals in both directions carrying text that looks like protocol: skipped by count,
 * never parsed; replies matched by tag out of order. */
static void test_literals_both_ways(void)
{
    const char *body = "From: a@b\r\nSubject: x\r\n\r\na9 LOGIN evil \"Wrong-Pa55word\"\r\n"
                       "* BYE autologout\r\n{5}\r\nA005 NO [ALERT] fake\r\n";
    char *append = g_strdup_printf("A003 APPEND INBOX (\\Seen) {%zu+}\r\n%s\r\n"
                                   "A004 NOOP\r\n", strlen(body), body);
    char *fetch = g_strdup_printf("* 1 FETCH (UID 7 BODY[] {%zu}\r\n%s BODY[HEADER] {3}\r\n"
                                  "abc)\r\nA005 OK Fetch completed.\r\n", strlen(body), body);
    GPtrArray *c = tu_script(GREETING "C: A002 LOGIN a b\nS: A002 OK in\n");
    add(c, MW_FROM_CLIENT, append);
    add(c, MW_FROM_SERVER, "A004 OK noop\r\nA003 OK [APPENDUID 1 7] Append completed.\r\n");
    add(c, MW_FROM_CLIENT, "A005 UID FETCH 7 (BODY[] BODY[HEADER])\r\n");
    add(c, MW_FROM_SERVER, fetch);
    add(c, MW_FROM_CLIENT, "A006 LOGOUT\r\n");
    add(c, MW_FROM_SERVER, "* BYE Logging out\r\nA006 OK Logout completed.\r\n");
    g_free(append);
    g_free(fetch);
    mw_session *s = run_chunks(c);
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 5);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 0);
    g_assert_cmpstr(s->auth->user, ==, "a");
    g_assert_false(mw_session_has(s, MW_FLAG_SERVER_TIMEOUT));
    g_assert_false(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_true(s->quit_seen);
    g_assert_cmpuint(s->anomalies, ==, 0);
    mw_session_free(s);
}

/* A 256 KiB literal each way: skipped by count (whole and byte by byte). */
static void test_large_literal(void)
{
    size_t n = 256u << 10;
    GString *big = g_string_sized_new(n + 64);
    while (big->len < n)
        g_string_append(big, "* 1 FETCH a0 OK {99}\r\n");
    g_string_truncate(big, n);
    GPtrArray *c = tu_script(GREETING);
    char *head = g_strdup_printf("a1 APPEND INBOX {%zu+}\r\n", n);
    add(c, MW_FROM_CLIENT, head);
    tu_add_raw(c, MW_FROM_CLIENT, big->str, big->len);
    add(c, MW_FROM_CLIENT, "\r\n");
    add(c, MW_FROM_SERVER, "a1 OK appended\r\n");
    add(c, MW_FROM_CLIENT, "a2 FETCH 1 BODY[]\r\n");
    g_free(head);
    head = g_strdup_printf("* 1 FETCH (BODY[] {%zu}\r\n", n);
    add(c, MW_FROM_SERVER, head);
    tu_add_raw(c, MW_FROM_SERVER, big->str, big->len);
    add(c, MW_FROM_SERVER, ")\r\na2 NO [UNAVAILABLE] later\r\n");
    g_free(head);
    g_string_free(big, TRUE);
    mw_session *w = tu_run("imap", MW_PROTO_IMAP, c, TU_WHOLE, 0, 0);
    mw_session *b = tu_run("imap", MW_PROTO_IMAP, c, TU_BYTEWISE, 0, 0);
    char *j1 = tu_json(w), *j2 = tu_json(b);
    g_assert_cmpstr(j1, ==, j2);
    g_free(j1);
    g_free(j2);
    g_assert_cmpuint(mw_cmdrec_of(w)->commands, ==, 2);
    g_assert_cmpuint(mw_cmdrec_of(w)->failures.len, ==, 1);
    g_assert_cmpstr(failure(w, 0)->cmd, ==, "FETCH");
    g_assert_cmpstr(failure(w, 0)->enhanced, ==, "UNAVAILABLE");
    g_assert_cmpuint(w->anomalies, ==, 0);
    mw_session_free(w);
    mw_session_free(b);
    tu_free_script(c);
}

static void test_idle_and_autologout(void)
{
    mw_session *s = run(GREETING "C: a1 LOGIN u p\nS: a1 OK in\n"
                        "C: a2 IDLE\nS: + idling\nS: * 3 EXISTS\nC: DONE\nS: a2 OK Idle completed.\n"
                        "C: a3 IDLE\nS: + idling\n"
                        "S: * BYE Autologout; idle for too long\n");
    g_assert_true(mw_session_has(s, MW_FLAG_SERVER_TIMEOUT));
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 3);
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_SERVER_TIMEOUT)->detail, ==,
                    "BYE Autologout; idle for too long");
    g_assert_cmpint(s->outcome, ==, MW_OUT_FAILED);
    mw_session_free(s);

    s = run(GREETING "C: a1 NOOP\nS: * BYE Disconnected for inactivity.\n");
    g_assert_true(mw_session_has(s, MW_FLAG_SERVER_TIMEOUT));
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    mw_session_free(s);
}

static void test_compress(void)
{
    GPtrArray *c = tu_script(GREETING "C: a1 LOGIN u p\nS: a1 OK in\n"
                             "C: a2 COMPRESS DEFLATE\nS: a2 OK DEFLATE active\n");
    static const uint8_t deflated[] = { 0x78, 0x9c, 'a', '9', ' ', 'N', 'O', '\r', '\n', 0xff };
    tu_add_raw(c, MW_FROM_CLIENT, deflated, sizeof deflated);
    tu_add_raw(c, MW_FROM_SERVER, deflated, sizeof deflated);
    mw_session *s = run_chunks(c);
    g_assert_true(s->anomalies & (1u << MW_ANOM_COMPRESSED));
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 2);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 0);
    g_assert_true(tu_json_contains(s, "compressed_not_parsed"));
    mw_session_free(s);
}

static void test_unanswered_and_no_greeting(void)
{
    mw_session *s = run(GREETING "C: a1 LOGIN u p\nS: a1 OK in\nC: a2 SELECT INBOX\n"
                        "C: a3 LOGOUT\n");
    g_assert_true(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    g_assert_cmpstr(tu_evidence(s, MW_FLAG_UNANSWERED_COMMAND)->detail, ==,
                    "SELECT got no reply in 0.0 s before the session ended");
    mw_session_free(s);

    GPtrArray *c = tu_script("C: a1 CAPABILITY\n");
    s = tu_run("imap", MW_PROTO_IMAP, c, TU_WHOLE, 0, 0);
    tu_free_script(c);
    g_assert_true(mw_session_has(s, MW_FLAG_NO_GREETING));
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    mw_session_free(s);
}

/* Malformed literal counts: noted, and the line taken as complete so that the session
 * goes on being read. */
static void test_bad_literals(void)
{
    mw_session *s = run(GREETING "C: a1 LOGIN {99999999999999}\n"
                        "S: a1 BAD Invalid literal size\n"
                        "C: a2 APPEND INBOX {-5}\nS: a2 BAD Invalid\n"
                        "C: a3 APPEND INBOX {12x}\nS: a3 BAD Invalid\n"
                        "C: a4 LOGOUT\nS: a4 OK bye\n");
    g_assert_true(s->anomalies & (1u << MW_ANOM_BAD_LITERAL));
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 4);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 3);
    g_assert_true(s->quit_seen);
    g_assert_true(tu_json_contains(s, "bad_literal"));
    mw_session_free(s);

    /* a legal but large synchronizing literal refused before any data was sent */
    s = run(GREETING "C: a1 APPEND INBOX {4000000000}\nS: a1 NO [TOOBIG] Too big\n"
                     "C: a2 LOGOUT\nS: a2 OK bye\n");
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 2);
    g_assert_cmpstr(failure(s, 0)->enhanced, ==, "TOOBIG");
    g_assert_true(s->quit_seen);
    mw_session_free(s);
}

/* Lines without end: discarded at max_line, memory stays bounded (the feeder's pending
 * buffer is capped), the next line is parsed. */
static void test_line_without_end(void)
{
    GString *g = g_string_new("a1 NOOP ");
    for (int i = 0; i < 100000; i++)
        g_string_append_c(g, 'A');
    g_string_append(g, "\r\na2 LOGOUT\r\n");
    GPtrArray *c = tu_script(GREETING);
    tu_add_raw(c, MW_FROM_CLIENT, g->str, g->len);
    add(c, MW_FROM_SERVER, "a2 OK bye\r\n");
    g_string_free(g, TRUE);
    mw_session *w = tu_run("imap", MW_PROTO_IMAP, c, TU_WHOLE, 0, 0);
    mw_session *b = tu_run("imap", MW_PROTO_IMAP, c, TU_BYTEWISE, 0, 0);
    char *j1 = tu_json(w), *j2 = tu_json(b);
    g_assert_cmpstr(j1, ==, j2);
    g_free(j1);
    g_free(j2);
    g_assert_true(w->anomalies & (1u << MW_ANOM_LINE_TOO_LONG));
    g_assert_true(w->quit_seen);
    g_assert_cmpuint(mw_cmdrec_of(w)->commands, ==, 1);
    mw_session_free(w);
    mw_session_free(b);
    tu_free_script(c);

    /* binary garbage without any line end from the server */
    c = tu_script(GREETING "C: a1 NOOP\n");
    uint8_t junk[30000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 7 + 1) == '\n' ? 0 : (uint8_t)(i * 7 + 1);
    tu_add_raw(c, MW_FROM_SERVER, junk, sizeof junk);
    w = tu_run("imap", MW_PROTO_IMAP, c, TU_WHOLE, 0, 0);
    g_assert_true(w->anomalies & (1u << MW_ANOM_LINE_TOO_LONG));
    mw_session_free(w);
    tu_free_script(c);
}

static void test_pipelined_out_of_order(void)
{
    mw_session *s = run(GREETING "C: a1 LOGIN u p\nS: a1 OK in\n"
                        "C: b1 SELECT Nope\nC+ b2 STATUS INBOX (MESSAGES)\nC+ b3 UID FETCH 1:* FLAGS\n"
                        "S: * STATUS INBOX (MESSAGES 2)\nS+ b2 OK done\n"
                        "S+ b3 BAD [CLIENTBUG] No mailbox selected\n"
                        "S+ b1 NO [NONEXISTENT] Mailbox doesn't exist: Nope\n");
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 2);
    g_assert_cmpstr(failure(s, 0)->cmd, ==, "UID FETCH");
    g_assert_cmpstr(failure(s, 0)->status, ==, "BAD");
    g_assert_cmpstr(failure(s, 1)->cmd, ==, "SELECT");
    g_assert_cmpstr(failure(s, 1)->enhanced, ==, "NONEXISTENT");
    g_assert_cmpstr(failure(s, 1)->text, ==, "Mailbox doesn't exist: Nope");
    g_assert_false(mw_session_has(s, MW_FLAG_UNANSWERED_COMMAND));
    g_assert_cmpuint(s->flags, ==, 1u << MW_FLAG_CLEARTEXT_AUTH);
    mw_session_free(s);
}

static void test_gap_in_literal(void)
{
    mw_config cfg;
    mw_config_defaults(&cfg);
    mw_session *s = mw_session_new(1);
    mw_feeder f;
    mw_feeder_init(&f, mw_dissector_by_name("imap"), s, &cfg);
    const char *g = "* OK ready\r\n", *a = "a1 APPEND INBOX {1000}\r\n0123456789";
    mw_feeder_data(&f, MW_FROM_SERVER, (const uint8_t *)g, strlen(g), 1, 0);
    mw_feeder_data(&f, MW_FROM_CLIENT, (const uint8_t *)a, strlen(a), 2, 0);
    mw_feeder_gap(&f, MW_FROM_CLIENT, 500, 3, 0);
    /* 490 octets of literal remain, then the line end and the next command */
    GString *rest = g_string_new(NULL);
    for (int i = 0; i < 490; i++)
        g_string_append_c(rest, 'x');
    g_string_append(rest, "\r\na2 LOGOUT\r\n");
    mw_feeder_data(&f, MW_FROM_CLIENT, (const uint8_t *)rest->str, rest->len, 4, 0);
    g_string_free(rest, TRUE);
    const char *r = "a1 OK done\r\na2 OK bye\r\n";
    mw_feeder_data(&f, MW_FROM_SERVER, (const uint8_t *)r, strlen(r), 5, 0);
    g_assert_true(s->quit_seen);
    g_assert_cmpuint(mw_cmdrec_of(s)->commands, ==, 2);
    /* a gap in the server's data mid-line: resynchronised at the next tagged line */
    mw_feeder_gap(&f, MW_FROM_SERVER, 10, 6, 0);
    mw_feeder_data(&f, MW_FROM_CLIENT, (const uint8_t *)"a3 NOOP\r\n", 9, 7, 0);
    mw_feeder_data(&f, MW_FROM_SERVER, (const uint8_t *)"ed\r\na3 NO x\r\n", 13, 8, 0);
    g_assert_cmpuint(mw_cmdrec_of(s)->failures.len, ==, 1);
    g_assert_cmpstr(failure(s, 0)->cmd, ==, "NOOP");
    mw_feeder_free(&f);
    mw_session_free(s);
}

static void test_greeting_bye_and_probe(void)
{
    mw_session *s = run("S: * BYE Too many connections from your IP\n");
    g_assert_cmpstr(failure(s, 0)->cmd, ==, "CONNECT");
    g_assert_cmpstr(failure(s, 0)->status, ==, "BYE");
    g_assert_cmpstr(s->decisive, ==, "BYE Too many connections from your IP");
    mw_session_free(s);
    const mw_dissector *d = mw_dissector_by_name("imap");
    g_assert_true(d->probe((const uint8_t *)"* OK ready", 10));
    g_assert_false(d->probe((const uint8_t *)"+OK ready", 9));
    g_assert_cmpint(d->content_proto, ==, MW_PROTO_IMAP);
}

/* The -v transcript of a login conversation: one event per command and per tagged reply
 * (with its latency: frame N is at N ms in these runs), the greeting timed from the
 * connection, untagged data summarised, literals as sizes, secrets redacted. */
static void test_transcript_login(void)
{
    GPtrArray *c = tu_script(GREETING                                              /* 1 */
                             "C: a1 CAPABILITY\n"                                  /* 2 */
                             "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN\nS+ a1 OK done\n" /* 3 */
                             "C: a2 LOGIN alice@example.test \"Swordfish-42x\"\n"  /* 4 */
                             "S: a2 NO [AUTHENTICATIONFAILED] Authentication failed.\n"
                             "C: a3 LOGIN alice@example.test {13}\n"              /* 6 */
                             "S: + go\n");                                        /* 7 */
    add(c, MW_FROM_CLIENT, "Swordfish-42x\r\n");                                   /* 8 */
    add(c, MW_FROM_SERVER, "a3 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n");     /* 9 */
    add(c, MW_FROM_CLIENT, "a4 SELECT INBOX\r\n");                                 /* 10 */
    add(c, MW_FROM_SERVER, "* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] x\r\n"
                           "* OK [UNSEEN 1] y\r\n* OK [ALERT] Mailbox almost full\r\n"
                           "a4 OK [READ-WRITE] done\r\n");                         /* 11 */
    add(c, MW_FROM_CLIENT, "a5 FETCH 1:2 BODY[]\r\n");                             /* 12 */
    add(c, MW_FROM_SERVER, "* 1 FETCH (BODY[] {5}\r\nhello)\r\n"
                           "* 2 FETCH (BODY[] {3}\r\nbye FLAGS (\\Seen))\r\n"
                           "a5 OK Fetch completed.\r\n");                          /* 13 */
    add(c, MW_FROM_CLIENT, "a6 APPEND INBOX (\\Seen) {11+}\r\nHello world\r\n"); /* 14 */
    add(c, MW_FROM_SERVER, "a6 OK [APPENDUID 1 3] Append completed.\r\n");          /* 15 */
    add(c, MW_FROM_CLIENT, "a7 IDLE\r\n");                                         /* 16 */
    add(c, MW_FROM_SERVER, "+ idling\r\n* 3 EXISTS\r\n");                         /* 17 */
    add(c, MW_FROM_CLIENT, "DONE\r\n");                                            /* 18 */
    add(c, MW_FROM_SERVER, "a7 OK Idle completed.\r\n");                           /* 19 */
    add(c, MW_FROM_CLIENT, "a8 LOGOUT\r\n");                                       /* 20 */
    add(c, MW_FROM_SERVER, "* BYE Logging out\r\na8 OK Logout completed.\r\n");   /* 21 */
    mw_session *s = run_chunks(c);
    tu_assert_transcript(s,
        "S< * OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS AUTH=PLAIN] ready (+1000 us)\n"
        "C> a1 CAPABILITY\n"
        "S< * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"
        "S< a1 OK done (+1000 us)\n"
        "C> a2 LOGIN alice@example.test [password redacted]\n"
        "S< a2 NO [AUTHENTICATIONFAILED] Authentication failed. (+1000 us)\n"
        "C> a3 LOGIN alice@example.test [password redacted]\n"
        "S< a3 OK [CAPABILITY IMAP4rev1 IDLE] Logged in (+3000 us)\n"
        "C> a4 SELECT INBOX\n"
        "S< [untagged: 1 EXISTS, 1 RECENT, 2 OK]\n"
        "S< * OK [ALERT] Mailbox almost full\n"
        "S< a4 OK [READ-WRITE] done (+1000 us)\n"
        "C> a5 FETCH 1:2 BODY[]\n"
        "S< [2 FETCH responses, literals: 8 bytes]\n"
        "S< a5 OK Fetch completed. (+1000 us)\n"
        "C> a6 APPEND INBOX (\\Seen) [literal: 11 bytes]\n"
        "S< a6 OK [APPENDUID 1 3] Append completed. (+1000 us)\n"
        "C> a7 IDLE\n"
        "S< [untagged: 1 EXISTS]\n"
        "C> DONE\n"
        "S< a7 OK Idle completed. (+3000 us)\n"
        "C> a8 LOGOUT\n"
        "S< * BYE Logging out\n"
        "S< a8 OK Logout completed. (+1000 us)\n");
    /* one timed reply per command; the slowest is the first to take 3 ms */
    g_assert_cmpuint(mw_session_more_get(s)->latency.timed, ==, 8);
    g_assert_cmpint(mw_session_more_get(s)->latency.total_us, ==, 12000);
    g_assert_cmpint(mw_session_more_get(s)->latency.slowest_us, ==, 3000);
    g_assert_cmpstr(mw_session_more_get(s)->latency.slowest_cmd, ==, "LOGIN");
    g_assert_cmpuint(mw_session_more_get(s)->latency.slowest_frame, ==, 9);
    const mw_event *e = &g_array_index(s->transcript, mw_event, 0);
    g_assert_cmpuint(e->frame, ==, 1);
    g_assert_cmpint(e->dir, ==, MW_FROM_SERVER);
    g_assert_true(tu_json_contains(s, "\"latency\":{\"commands\":8,"));
    mw_session_free(s);
}

/* A LOGIN whose user name is a literal is shown once the name has been read; SASL
 * responses and initial responses are redacted; challenges are shown, timed. */
static void test_transcript_literals_and_sasl(void)
{
    GPtrArray *c = tu_script(GREETING);
    add(c, MW_FROM_CLIENT, "a1 LOGIN {18}\r\n");
    add(c, MW_FROM_SERVER, "+ Ready for literal data\r\n");
    add(c, MW_FROM_CLIENT, "alice@example.test {13}\r\n");
    add(c, MW_FROM_SERVER, "+ Ready for literal data\r\n");
    add(c, MW_FROM_CLIENT, "Swordfish-42x\r\n");
    add(c, MW_FROM_SERVER, "a1 NO [AUTHENTICATIONFAILED] no\r\n");
    add(c, MW_FROM_CLIENT, "a2 AUTHENTICATE LOGIN\r\n");
    add(c, MW_FROM_SERVER, "+ VXNlcm5hbWU6\r\n");
    add(c, MW_FROM_CLIENT, "YWxpY2VAZXhhbXBsZS50ZXN0\r\n");
    add(c, MW_FROM_SERVER, "+ UGFzc3dvcmQ6\r\n");
    add(c, MW_FROM_CLIENT, "U3dvcmRmaXNoLTQyeA==\r\n");
    add(c, MW_FROM_SERVER, "a2 NO [AUTHENTICATIONFAILED] no\r\n");
    add(c, MW_FROM_CLIENT, "a3 AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABTd29yZGZpc2gtNDJ4\r\n");
    add(c, MW_FROM_SERVER, "a3 OK in\r\n");
    add(c, MW_FROM_CLIENT, "a4 XSECRET Swordfish-42x\r\n");
    add(c, MW_FROM_SERVER, "a4 BAD unknown\r\n");
    mw_session *s = run_chunks(c);
    tu_assert_transcript(s,
        "S< * OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS AUTH=PLAIN] ready (+1000 us)\n"
        "C> a1 LOGIN alice@example.test [password redacted]\n"
        "S< a1 NO [AUTHENTICATIONFAILED] no (+5000 us)\n"
        "C> a2 AUTHENTICATE LOGIN\n"
        "S< + VXNlcm5hbWU6 (+1000 us)\n"
        "C> [SASL response redacted]\n"
        "S< + UGFzc3dvcmQ6 (+1000 us)\n"
        "C> [SASL response redacted]\n"
        "S< a2 NO [AUTHENTICATIONFAILED] no (+5000 us)\n"
        "C> a3 AUTHENTICATE PLAIN [initial response redacted]\n"
        "S< a3 OK in (+1000 us)\n"
        "C> [unrecognised command: 24 bytes]\n"
        "S< a4 BAD unknown (+1000 us)\n");
    g_assert_cmpstr(mw_session_more_get(s)->latency.slowest_cmd, ==, "LOGIN");
    mw_session_free(s);

    /* refused before the user-name literal was sent: the LOGIN is still shown */
    c = tu_script(GREETING);
    add(c, MW_FROM_CLIENT, "a1 LOGIN {18}\r\n");
    add(c, MW_FROM_SERVER, "a1 BAD [PRIVACYREQUIRED] no plaintext\r\n");
    add(c, MW_FROM_CLIENT, "a2 STARTTLS\r\n");
    add(c, MW_FROM_SERVER, "a2 OK Begin TLS\r\n");
    s = run_chunks(c);
    tu_assert_transcript(s,
        "S< * OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS AUTH=PLAIN] ready (+1000 us)\n"
        "C> a1 LOGIN [user literal: 18 bytes]\n"
        "S< a1 BAD [PRIVACYREQUIRED] no plaintext (+1000 us)\n"
        "C> a2 STARTTLS\n"
        "S< a2 OK Begin TLS (+1000 us)\n"
        "S< [STARTTLS: TLS handshake follows]\n");
    mw_session_free(s);
}

/* The transcript is bounded: MW_MAX_TRANSCRIPT events, the rest counted. */
static void test_transcript_cap(void)
{
    GString *script = g_string_new(GREETING);
    for (int i = 0; i < MW_MAX_TRANSCRIPT; i++)
        g_string_append_printf(script, "C: n%d NOOP\nS: n%d OK done\n", i, i);
    GPtrArray *c = tu_script(script->str);
    tu_keep_transcript = true;
    mw_session *s = tu_run("imap", MW_PROTO_IMAP, c, TU_WHOLE, 0, 0);
    tu_keep_transcript = false;
    g_assert_cmpuint(s->transcript->len, ==, MW_MAX_TRANSCRIPT);
    g_assert_cmpuint(s->transcript_dropped, ==, MW_MAX_TRANSCRIPT + 1);
    g_assert_cmpuint(mw_session_more_get(s)->latency.timed, ==, MW_MAX_TRANSCRIPT);
    mw_session_free(s);
    tu_free_script(c);
    g_string_free(script, TRUE);
}

static void test_gap_then_line_any_cut(void)
{
    /* issue 15 item 6: the same record for every cut of the line after a gap */
    char *j = tu_gap_all_cuts("imap", MW_PROTO_IMAP, "S: * OK IMAP4rev1 ready\n",
                              MW_FROM_CLIENT, "a2 SELECT INBOX\r\n",
                              "S: a2 NO [NONEXISTENT] Mailbox does not exist\n");
    g_assert_nonnull(strstr(j, "NONEXISTENT"));
    g_free(j);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/imap/login_ok", test_login_ok);
    g_test_add_func("/imap/login_failed", test_login_failed);
    g_test_add_func("/imap/login_literals", test_login_literals);
    g_test_add_func("/imap/authenticate_plain_ir", test_authenticate_plain_ir);
    g_test_add_func("/imap/authenticate_multistep", test_authenticate_multistep);
    g_test_add_func("/imap/logindisabled", test_logindisabled);
    g_test_add_func("/imap/starttls", test_starttls);
    g_test_add_func("/imap/starttls_then_clear_text", test_starttls_then_clear_text);
    g_test_add_func("/imap/literals_both_ways", test_literals_both_ways);
    g_test_add_func("/imap/large_literal", test_large_literal);
    g_test_add_func("/imap/idle_autologout", test_idle_and_autologout);
    g_test_add_func("/imap/compress", test_compress);
    g_test_add_func("/imap/unanswered_no_greeting", test_unanswered_and_no_greeting);
    g_test_add_func("/imap/bad_literals", test_bad_literals);
    g_test_add_func("/imap/line_without_end", test_line_without_end);
    g_test_add_func("/imap/pipelined_out_of_order", test_pipelined_out_of_order);
    g_test_add_func("/imap/gap_in_literal", test_gap_in_literal);
    g_test_add_func("/imap/greeting_bye_probe", test_greeting_bye_and_probe);
    g_test_add_func("/imap/transcript_login", test_transcript_login);
    g_test_add_func("/imap/transcript_literals_sasl", test_transcript_literals_and_sasl);
    g_test_add_func("/imap/transcript_cap", test_transcript_cap);
    g_test_add_func("/imap/gap_then_line_any_cut", test_gap_then_line_any_cut);
    return g_test_run();
}
