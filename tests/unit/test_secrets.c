/* Secrets in malformed but plausible logins (issue 12 section 1): every variant, for SMTP,
 * IMAP and POP3, run whole, byte by byte and split at every offset with the transcript
 * kept, and searched for the password in every form an output could hold. */
#include "testutil.h"
#include "text/secrets.h"

/* "Swordfish-42x" and what carries it: base64 (padded and not), upper- and lower-cased
 * (an unknown command word is upper-cased), and the SASL blobs of the scripts below. */
static const char *const secrets[] = {
    "Swordfish-42x", "SWORDFISH", "swordfish", "U3dvcmRmaXNoLTQyeA", "U3DVCMRMAXNOLTQYEA",
    "u3dvcmrmaxnoltqyea", "YWxpY2UAU3dvcmRmaXNoLTQyeA", "AGFsaWNlAFN3b3JkZmlzaC00Mng",
    "dXNlcj1hbGljZSBhdXRoPUJlYXJlciBTd29yZGZpc2gtNDJ4",
    "biwsAWF1dGg9QmVhcmVyIGFiYyxhPVN3b3JkZmlzaC00MngsZGVmAQE", "YWxpY2U= U3dv", NULL,
};

typedef struct {
    const char *name;
    const char *dissector;
    mw_proto proto;
    const char *script;
    const char *user;  /* the user the record must name, or NULL for none */
    bool cleartext;    /* cleartext_auth must be raised */
} variant;

#define SMTP_HELLO "S: 220 mx ESMTP\nC: EHLO c\nS: 250 mx\n"
#define IMAP_HELLO "S: * OK IMAP4rev1 ready\n"
#define POP3_HELLO "S: +OK ready\n"

static const variant variants[] = {
    /* ---- SMTP ---- */
    { "smtp plain two fields", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTH PLAIN YWxpY2UAU3dvcmRmaXNoLTQyeA==\nS: 535 5.7.8 failed\nC: QUIT\n"
      "S: 221 bye\n", NULL, true },
    { "smtp login both values on one line", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTH LOGIN YWxpY2U= U3dvcmRmaXNoLTQyeA==\nS: 535 5.7.8 failed\nC: QUIT\n"
      "S: 221 bye\n", NULL, true },
    { "smtp password prompt answered first", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTH LOGIN\nS: 334 UGFzc3dvcmQ6\nC: U3dvcmRmaXNoLTQyeA==\n"
      "S: 334 VXNlcm5hbWU6\nC: YWxpY2U=\nS: 235 2.7.0 ok\nC: QUIT\nS: 221 bye\n", "alice", true },
    { "smtp xoauth2 without separators", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTH XOAUTH2 dXNlcj1hbGljZSBhdXRoPUJlYXJlciBTd29yZGZpc2gtNDJ4\n"
      "S: 535 5.7.8 failed\n", NULL, true },
    { "smtp oauthbearer commas in the token", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTH OAUTHBEARER biwsAWF1dGg9QmVhcmVyIGFiYyxhPVN3b3JkZmlzaC00MngsZGVmAQE=\n"
      "S: 535 5.7.8 failed\n", NULL, true },
    { "smtp xoauth2 well formed", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciBTd29yZGZpc2gtNDJ4AQE=\n"
      "S: 235 ok\n", "alice", true },
    { "smtp unanswered line after 535", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: YWxpY2U=\nS: 334 UGFzc3dvcmQ6\n"
      "C: U3dvcmRmaXNoLTQyeA==\nS: 535 5.7.8 failed\nC: U3dvcmRmaXNoLTQyeA==\n", "alice", true },
    { "smtp line after a cancelled AUTH, echoed", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: *\nS: 501 5.7.0 cancelled\n"
      "C: Swordfish-42x\nS: 500 5.5.2 Error: command not recognized: Swordfish-42x\n"
      "C: QUIT\nS: 221 bye\n", NULL, false },
    { "smtp 334 without its AUTH", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "S: 334 VXNlcm5hbWU6\nC: YWxpY2U=\nS: 334 UGFzc3dvcmQ6\n"
      "C: U3dvcmRmaXNoLTQyeA==\n", NULL, false },
    { "smtp login pipelined", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTH LOGIN\nC+ YWxpY2U=\nC+ U3dvcmRmaXNoLTQyeA==\nS: 334 VXNlcm5hbWU6\n"
      "S+ 334 UGFzc3dvcmQ6\nS+ 235 2.7.0 ok\nC: QUIT\nS: 221 bye\n", "alice", true },
    { "smtp mangled AUTH (overlap copy)", "smtp", MW_PROTO_SMTP,
      SMTP_HELLO "C: AUTX PLAIN AGFsaWNlAFN3b3JkZmlzaC00Mng=\nS: 500 5.5.2 unknown\n", NULL, false },
    /* ---- IMAP ---- */
    { "imap plain two fields", "imap", MW_PROTO_IMAP,
      IMAP_HELLO "C: a1 AUTHENTICATE PLAIN YWxpY2UAU3dvcmRmaXNoLTQyeA==\nS: a1 NO failed\n",
      NULL, true },
    { "imap login both values on one line", "imap", MW_PROTO_IMAP,
      IMAP_HELLO "C: a1 AUTHENTICATE LOGIN YWxpY2U= U3dvcmRmaXNoLTQyeA==\nS: a1 NO failed\n",
      NULL, true },
    { "imap LOGIN with a tab", "imap", MW_PROTO_IMAP,
      IMAP_HELLO "C: a1 LOGIN alice\tSwordfish-42x\nS: a1 NO [AUTHENTICATIONFAILED] failed\n",
      NULL, true },
    { "imap password prompt answered first", "imap", MW_PROTO_IMAP,
      IMAP_HELLO "C: a1 AUTHENTICATE LOGIN\nS: + UGFzc3dvcmQ6\nC: U3dvcmRmaXNoLTQyeA==\n"
      "S: + VXNlcm5hbWU6\nC: YWxpY2U=\nS: a1 OK done\n", "alice", true },
    { "imap xoauth2 without separators", "imap", MW_PROTO_IMAP,
      IMAP_HELLO "C: a1 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZSBhdXRoPUJlYXJlciBTd29yZGZpc2gtNDJ4\n"
      "S: a1 NO failed\n", NULL, true },
    { "imap oauthbearer commas in the token", "imap", MW_PROTO_IMAP,
      IMAP_HELLO "C: a1 AUTHENTICATE OAUTHBEARER "
      "biwsAWF1dGg9QmVhcmVyIGFiYyxhPVN3b3JkZmlzaC00MngsZGVmAQE=\nS: a1 NO failed\n", NULL, true },
    { "imap password after a failure, echoed as a tag", "imap", MW_PROTO_IMAP,
      IMAP_HELLO "C: a1 LOGIN alice wrong\nS: a1 NO failed\nC: Swordfish-42x\n"
      "S: Swordfish-42x BAD Error in IMAP command received by server\nC: a2 LOGOUT\n"
      "S: * BYE\nS+ a2 OK bye\n", "alice", true },
    { "imap cancelled AUTHENTICATE, then the password", "imap", MW_PROTO_IMAP,
      IMAP_HELLO "C: a1 AUTHENTICATE PLAIN\nS: + \nC: *\nS: a1 BAD cancelled\n"
      "C: AGFsaWNlAFN3b3JkZmlzaC00Mng=\n", NULL, false },
    /* ---- POP3 ---- */
    { "pop3 plain two fields", "pop3", MW_PROTO_POP3,
      POP3_HELLO "C: AUTH PLAIN YWxpY2UAU3dvcmRmaXNoLTQyeA==\nS: -ERR failed\n", NULL, true },
    { "pop3 login both values on one line", "pop3", MW_PROTO_POP3,
      POP3_HELLO "C: AUTH LOGIN YWxpY2U= U3dvcmRmaXNoLTQyeA==\nS: -ERR failed\n", NULL, true },
    { "pop3 USER name pass", "pop3", MW_PROTO_POP3,
      POP3_HELLO "C: USER alice Swordfish-42x\nS: -ERR no such user\nC: QUIT\nS: +OK bye\n",
      NULL, false },
    { "pop3 password prompt answered first", "pop3", MW_PROTO_POP3,
      POP3_HELLO "C: AUTH LOGIN\nS: + UGFzc3dvcmQ6\nC: U3dvcmRmaXNoLTQyeA==\n"
      "S: + VXNlcm5hbWU6\nC: YWxpY2U=\nS: +OK logged in\n", "alice", true },
    { "pop3 xoauth2 without separators", "pop3", MW_PROTO_POP3,
      POP3_HELLO "C: AUTH XOAUTH2 dXNlcj1hbGljZSBhdXRoPUJlYXJlciBTd29yZGZpc2gtNDJ4\n"
      "S: -ERR failed\n", NULL, true },
    { "pop3 oauthbearer commas in the token", "pop3", MW_PROTO_POP3,
      POP3_HELLO "C: AUTH OAUTHBEARER biwsAWF1dGg9QmVhcmVyIGFiYyxhPVN3b3JkZmlzaC00MngsZGVmAQE=\n"
      "S: -ERR failed\n", NULL, true },
    { "pop3 password after a failure, echoed", "pop3", MW_PROTO_POP3,
      POP3_HELLO "C: USER alice\nS: +OK\nC: PASS wrong\nS: -ERR [AUTH] failed\n"
      "C: Swordfish-42x\nS: -ERR unknown command Swordfish-42x\nC: QUIT\nS: +OK bye\n",
      "alice", true },
    { "pop3 cancelled AUTH, then the password", "pop3", MW_PROTO_POP3,
      POP3_HELLO "C: AUTH PLAIN\nS: + \nC: *\nS: -ERR cancelled\nC: U3dvcmRmaXNoLTQyeA==\n",
      NULL, false },
};

static void run_variant(gconstpointer data)
{
    const variant *v = data;
    mw_session *s = tu_run_no_secret(v->dissector, v->proto, tu_script(v->script), secrets);
    const char *user = s->auth ? s->auth->user : NULL;
    g_assert_cmpstr(user, ==, v->user);
    g_assert_cmpint(mw_session_has(s, MW_FLAG_CLEARTEXT_AUTH), ==, v->cleartext);
    mw_session_free(s);
}

/* The public capture's case: the password's base64, case-folded, named no command. */
static void test_unanswered_is_auth(void)
{
    mw_session *s = tu_run_no_secret("smtp", MW_PROTO_SMTP, tu_script(variants[6].script),
                                     secrets);
    const mw_evidence *e = tu_evidence(s, MW_FLAG_UNANSWERED_COMMAND);
    g_assert_nonnull(e);
    g_assert_true(g_str_has_prefix(e->detail, "AUTH got no reply"));
    mw_session_free(s);
}

/* A server line echoing a secret is redacted wherever the secret starts, also behind many
 * false starts (its first byte over and over: the candidate compares' budget runs out and
 * the rest is searched linearly), and over the short-line limit. */
static void redact_after(const char *secret, size_t pad, size_t tail)
{
    mw_secrets *s = NULL;
    mw_secrets_add(&s, (const uint8_t *)secret, strlen(secret));
    GString *line = g_string_new(NULL), *want = g_string_new(NULL);
    for (size_t i = 0; i < pad; i++)
        g_string_append_c(line, secret[0]);
    g_string_append(want, line->str);
    g_string_append(line, secret);
    g_string_append(want, MW_SECRET_MARK);
    for (size_t i = 0; i < tail; i++) {
        g_string_append_c(line, 'z');
        g_string_append_c(want, 'z');
    }
    size_t n = 0;
    char *got = mw_secrets_redact(s, (const uint8_t *)line->str, line->len, &n);
    g_assert_nonnull(got);
    g_assert_cmpmem(got, n, want->str, want->len);
    g_free(got);
    g_string_free(line, TRUE);
    g_string_free(want, TRUE);
    mw_secrets_free(&s);
}

static void test_redact_false_starts(void)
{
    const char *secret = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"; /* 31 bytes, one word */
    const size_t pads[] = { 0, 1, 30, 200, 900, 993, 2000 };
    for (size_t i = 0; i < G_N_ELEMENTS(pads); i++)
        for (size_t tail = 0; tail < 3; tail++)
            redact_after(secret, pads[i], tail);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(variants); i++) {
        char *path = g_strdup_printf("/secrets/%s", variants[i].name);
        for (char *c = path; *c; c++)
            if (*c == ' ')
                *c = '-';
        g_test_add_data_func(path, &variants[i], run_variant);
        g_free(path);
    }
    g_test_add_func("/secrets/unanswered-is-auth", test_unanswered_is_auth);
    g_test_add_func("/secrets/redact_false_starts", test_redact_false_starts);
    return g_test_run();
}
