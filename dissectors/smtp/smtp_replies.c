#include "smtp/smtp_replies.h"

#include <string.h>

#include "smtp/smtp_auth.h"
#include "smtp/smtp_category.h"
#include "smtp/smtp_tx.h"

/* ---------- each verb's part ---------- */
/* The code a record keeps: 0 (null) for a reply that had none. */
static int kept_code(const smtp_state *st)
{
    return st->reply_codeless ? 0 : st->reply_code;
}


/* A finding from a reply to c, named in c's transaction when it has one. */
static void raise_tx(smtp_state *st, const mw_tp_cmd *c, mw_flag f, const mw_ctx *ctx,
                     const char *line)
{
    mw_tp_raise(st->sess, f, ctx, line);
    smtp_tx_flag(st, c, f);
}

typedef struct {
    /* Any complete reply to the command; true when the session upgrades to TLS. */
    bool (*reply)(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx);
    /* A 4xx/5xx the generic judgement left to the verb; low is its text in lower case. */
    void (*refused)(smtp_state *st, const mw_tp_cmd *c, int code, const char *low,
                    const char *line, const mw_ctx *ctx, const char **category);
    bool refused_first; /* judged before the access-code tests (STARTTLS, AUTH) */
} reply_ops;

static bool reply_rcpt(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx)
{
    mw_smtp_rec *rec = mw_smtp_record(st->sess);
    if (c->aux > 0 && c->aux <= rec->rcpt.len) {
        mw_rcpt *r = &mw_avec_at(&rec->rcpt, mw_rcpt, c->aux - 1);
        r->code = kept_code(st);
        mw_strlcpy(r->enhanced, st->reply_enh, sizeof r->enhanced);
        r->category = code >= 400 ? st->reply_category : NULL;
    }
    return false;
}

static bool reply_data(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx)
{
    if (code == 354 && st->mode == C_DATA_WAIT)
        st->mode = C_BODY;
    else if (code >= 400 && st->mode == C_DATA_WAIT)
        st->mode = C_COMMAND; /* refused before the body (a 503 too): none follows */
    return false;
}

static bool reply_message(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx)
{
    if ((c->kind == CMD_DATA_END || c->last) && code >= 200 && code < 300) {
        mw_smtp_record(st->sess)->messages++;
        st->bdat_refused = false; /* the client got a message through after all */
    }
    return false;
}

static bool reply_quit(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx)
{
    if (code == 221)
        st->sess->quit_seen = true;
    return false;
}

static bool reply_starttls(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx)
{
    if (code != 220)
        return false;
    st->sess->starttls = true;
    return true;
}

/* A reply no command asked for: a 334 whose AUTH was lost in a gap still opens SASL. */
static bool reply_unasked(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx)
{
    return code == 334 && smtp_auth_reply(st, c, code, ctx);
}

static void refused_starttls(smtp_state *st, const mw_tp_cmd *c, int code, const char *low,
                             const char *line, const mw_ctx *ctx, const char **category)
{
    raise_tx(st, c, MW_FLAG_STARTTLS_REFUSED, ctx, line);
}

static void refused_auth(smtp_state *st, const mw_tp_cmd *c, int code, const char *low,
                         const char *line, const mw_ctx *ctx, const char **category)
{
    smtp_auth_refused(st, c, code, low, line, ctx);
}

/* SPEC: relay refusals by code and enhanced code, or any "relay" wording. */
static void refused_rcpt(smtp_state *st, const mw_tp_cmd *c, int code, const char *low,
                         const char *line, const mw_ctx *ctx, const char **category)
{
    if (strstr(low, "relay") || strcmp(*category, "relay") == 0) {
        *category = "relay";
        raise_tx(st, c, MW_FLAG_RELAY_DENIED, ctx, line);
    } else {
        raise_tx(st, c, MW_FLAG_RECIPIENT_REJECTED, ctx, line);
    }
}

static void refused_mail(smtp_state *st, const mw_tp_cmd *c, int code, const char *low,
                         const char *line, const mw_ctx *ctx, const char **category)
{
    raise_tx(st, c, MW_FLAG_SENDER_REJECTED, ctx, line);
}

static void refused_message(smtp_state *st, const mw_tp_cmd *c, int code, const char *low,
                            const char *line, const mw_ctx *ctx, const char **category)
{
    if (code >= 500)
        raise_tx(st, c, MW_FLAG_MESSAGE_REJECTED, ctx, line);
}

/* An invalid BDAT line (smtp_commands.c: bad_bdat): refused, its chunk cannot be sent; the
 * server mostly hangs up too (postfix: 521). Unless a message gets through later, the
 * session broke down with no flag to name it (smtp_close). */
static bool reply_bad_bdat(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx)
{
    if (code >= 400 && c->tx)
        st->bdat_refused = true; /* inside a transaction (outside one no message is lost) */
    return false;
}

/* ...refused: the client's syntax error. */
static void refused_bad_bdat(smtp_state *st, const mw_tp_cmd *c, int code, const char *low,
                             const char *line, const mw_ctx *ctx, const char **category)
{
    *category = "syntax";
}

static const reply_ops verb_ops[CMD_COUNT] = {
    [CMD_MAIL] = { NULL, refused_mail, false },
    [CMD_RCPT] = { reply_rcpt, refused_rcpt, false },
    [CMD_DATA] = { reply_data, refused_message, false },
    [CMD_DATA_END] = { reply_message, refused_message, false },
    [CMD_BDAT] = { reply_message, refused_message, false },
    [CMD_BDAT_BAD] = { reply_bad_bdat, refused_bad_bdat, true },
    [CMD_QUIT] = { reply_quit, NULL, false },
    [CMD_AUTH] = { smtp_auth_reply, refused_auth, true },
    [CMD_AUTH_RESP] = { smtp_auth_reply, refused_auth, true },
    [CMD_STARTTLS] = { reply_starttls, refused_starttls, true },
    [CMD_NONE] = { reply_unasked, NULL, false },
};

/* ---------- judging an error reply ---------- */

/* The commands of a mail transaction (RFC 5321 3.3). */
static bool transaction_verb(smtp_cmd k)
{
    return k == CMD_MAIL || k == CMD_RCPT || k == CMD_DATA || k == CMD_DATA_END ||
           k == CMD_BDAT;
}

/* Judge a complete error reply to the command it answers; low is its text in lower case. */
static void judge_lowered(smtp_state *st, const mw_tp_cmd *c, int code, const char *enh,
                          const char *low, const char *line, const mw_ctx *ctx,
                          const char **category)
{
    const reply_ops *ops = &verb_ops[c->kind];
    bool tls_words = strstr(low, "tls") /* STARTTLS too */ || strstr(low, "encryption");
    bool auth_words = strstr(low, "authenticat") || strstr(low, "auth ") ||
                      strstr(low, "login") || strstr(low, "logged in");
    bool access_code = code == 530 || strcmp(enh, "5.7.0") == 0 || strcmp(enh, "5.7.1") == 0 ||
                       strcmp(enh, "4.7.0") == 0 || strcmp(enh, "5.7.10") == 0 ||
                       strcmp(enh, "5.7.11") == 0 || strcmp(enh, "5.7.57") == 0;

    /* 421 4.4.2 (postfix, Exim), or an unsolicited 4xx about a timeout (sendmail's
     * "451 4.7.0 Timeout waiting for client input") before the server hangs up */
    bool timeout_words = strstr(low, "timeout") || strstr(low, "timed out");
    if ((code == 421 && (strcmp(enh, "4.4.2") == 0 || timeout_words)) ||
        (code < 500 && c->kind == CMD_NONE && timeout_words)) {
        raise_tx(st, c, MW_FLAG_SERVER_TIMEOUT, ctx, line);
        return;
    }
    if (ops->refused && ops->refused_first) {
        ops->refused(st, c, code, low, line, ctx, category);
        return;
    }
    if (access_code && tls_words && code >= 500) {
        *category = "tls";
        raise_tx(st, c, MW_FLAG_TLS_REQUIRED, ctx, line);
        return;
    }
    if (access_code && auth_words && !strstr(low, "relay") && code >= 500) {
        *category = "auth";
        raise_tx(st, c, MW_FLAG_AUTH_REQUIRED, ctx, line);
        return;
    }
    /* 503 "bad sequence of commands" to MAIL, RCPT or DATA ("503 sender already given",
     * "valid RCPT command must precede DATA"): the client's sequence error, not a refusal
     * of its sender, recipient or message (issue 15 item 2) */
    if (code == 503 && transaction_verb((smtp_cmd)c->kind)) {
        *category = "syntax";
        return;
    }
    if (ops->refused)
        ops->refused(st, c, code, low, line, ctx, category);
}

/* The reply as the server put it, for evidence: "554 5.7.1 Relay access denied" (a reply
 * without a code: "4.7.0 ... deferred"), written into out (room: reply_line_room). Made
 * by hand, not by printf: every error reply makes one. */
static size_t reply_line_room(const char *text, size_t tlen)
{
    (void)text;
    return 3 + 1 + 16 + 1 + tlen + 1; /* code (< 1000), enhanced (< 16), text, NUL */
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

static void reply_line(char *out, int code, const char *enh, const char *text, size_t tlen)
{
    char *o = out;
    if (code) {
        char digits[4];
        size_t n = 0;
        for (int v = code; v > 0 && n < 3; v /= 10)
            digits[n++] = (char)('0' + v % 10);
        while (n > 0)
            *o++ = digits[--n];
        *o++ = ' ';
    }
    if (enh[0] || !code) {
        o = put(o, enh, strlen(enh));
        *o++ = ' ';
    }
    o = put(o, text, tlen);
    *o = '\0';
}

static void add_reply(smtp_state *st, const mw_tp_cmd *c, int code, const char *enh,
                      const char *category, const char *text, const mw_ctx *ctx)
{
    mw_smtp_rec *rec = mw_smtp_record(st->sess);
    mw_reply *r = mw_replies_add(st->sess, &rec->replies);
    if (!r)
        return;
    mw_strlcpy(r->cmd, smtp_cmd_name(c), sizeof r->cmd);
    r->code = kept_code(st);
    mw_strlcpy(r->enhanced, enh, sizeof r->enhanced);
    r->category = category;
    r->text = mw_session_strndup(st->sess, text, strlen(text));
    r->frame = ctx->frame;
    r->ts_us = ctx->ts_us;
}

/* A 4xx/5xx: judged (when judge), kept among the replies, the decisive line if none. */
static void error_reply(smtp_state *st, const mw_tp_cmd *c, bool judge, const mw_ctx *ctx)
{
    int code = st->reply_code;
    const char *enh = st->reply_enh, *text = st->reply_text->str;
    /* the text's length as a C string (a redacted echo may hold none, but be safe) */
    size_t len = strlen(text);
    /* the reply line and the text lowered once, on the stack (replies are capped; a
     * redacted one may be longer: then on the heap), then searched for each word */
    char lbuf[MW_MAX_TEXT + 32], buf[MW_MAX_TEXT + 1];
    size_t room = reply_line_room(text, len);
    char *line = room <= sizeof lbuf ? lbuf : g_malloc(room);
    reply_line(line, kept_code(st), enh, text, len);
    char *low = len < sizeof buf ? buf : g_malloc(len + 1);
    for (size_t i = 0; i <= len; i++) {
        char ch = text[i];
        low[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
    }
    const char *category = mw_smtp_category_lower(code, enh, low, len);
    if (judge)
        judge_lowered(st, c, code, enh, low, line, ctx, &category);
    if (low != buf)
        g_free(low);
    add_reply(st, c, code, enh, category, text, ctx);
    st->reply_category = category;
    mw_tp_decisive(st->sess, line);
    if (line != lbuf)
        g_free(line);
}

/* ---------- a complete reply ---------- */

/* The transcript line for a complete reply (multi-line replies: the first line and how
 * many more there were). */
static void reply_event(smtp_state *st, int64_t latency_us, const mw_ctx *ctx)
{
    if (!st->sess->transcript)
        return;
    int code = st->reply_code;
    const char *enh = st->reply_enh;
    if (st->reply_codeless)
        mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, latency_us,
                         "%s %.200s [no reply code]", enh, st->reply_text->str);
    else if (st->reply_lines > 1)
        mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, latency_us,
                         "%d%s%s %.200s (%u lines)", code, enh[0] ? " " : "", enh,
                         st->reply_text->str, st->reply_lines);
    else
        mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, latency_us,
                         "%d%s%s %.200s", code, enh[0] ? " " : "", enh, st->reply_text->str);
}

/* The greeting: a 554 refuses the client outright (RFC 5321 3.1), a 421 defers it. */
static void greeting(smtp_state *st, const mw_ctx *ctx)
{
    st->sess->greeted = true;
    reply_event(st, ctx->ts_us - st->sess->ts_start_us, ctx);
    mw_tp_cmd c = smtp_cmd_at(CMD_NONE, "CONNECT", ctx);
    if (st->reply_code >= 400)
        error_reply(st, &c, st->reply_code == 421, ctx);
}

/* A complete reply: match it to its command and judge it. Returns true when the
 * session upgrades to TLS after it. */
static bool handle_reply(smtp_state *st, const mw_ctx *ctx)
{
    if (!st->sess->greeted) {
        greeting(st, ctx);
        return false;
    }
    mw_tp_cmd c;
    if (!mw_tp_pop_answered(&st->pending, ctx, &c)) {
        c = smtp_cmd_at(CMD_NONE, "", ctx);
        reply_event(st, -1, ctx);
    } else {
        mw_session_latency(st->sess, smtp_cmd_name(&c), c.ts_us, ctx->ts_us, ctx->frame);
        reply_event(st, ctx->ts_us - c.ts_us, ctx);
    }
    if (st->reply_code >= 400)
        error_reply(st, &c, true, ctx);
    smtp_tx_reply(st, &c, ctx);
    const reply_ops *ops = &verb_ops[c.kind];
    return ops->reply && ops->reply(st, &c, st->reply_code, ctx);
}

/* ---------- reply lines ---------- */

bool smtp_looks_like_reply(const uint8_t *p, size_t len)
{
    return len >= 4 && g_ascii_isdigit(p[0]) && g_ascii_isdigit(p[1]) &&
           g_ascii_isdigit(p[2]) && (p[3] == ' ' || p[3] == '-' || p[3] == '\r');
}

/* RFC 3463: class "." subject "." detail, right after the reply code. */
static size_t parse_enhanced(const uint8_t *p, size_t len, char out[16])
{
    out[0] = '\0';
    if (len < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
        return 0;
    size_t i = 2, d1 = 0, d2 = 0;
    while (i < len && g_ascii_isdigit(p[i]) && d1 < 3) {
        i++;
        d1++;
    }
    if (d1 == 0 || i >= len || p[i] != '.')
        return 0;
    i++;
    while (i < len && g_ascii_isdigit(p[i]) && d2 < 3) {
        i++;
        d2++;
    }
    if (d2 == 0 || (i < len && p[i] != ' '))
        return 0;
    memcpy(out, p, i);
    out[i] = '\0';
    return i;
}

/* Move *t past an enhanced code (kept in out) and the spaces after it. */
static void skip_enhanced(const uint8_t **t, size_t *tlen, char out[16])
{
    size_t e = parse_enhanced(*t, *tlen, out);
    if (!e)
        return;
    *t += e;
    *tlen -= e;
    while (*tlen > 0 && **t == ' ') {
        (*t)++;
        (*tlen)--;
    }
}

/* Capabilities an EHLO reply usually lists (postfix 10, Exchange 15). */
#define SMTP_CAPABILITIES_USUAL 16

/* EHLO lines most servers send as they are (RFC 5321 section 4.1.1.1: keywords of the
 * IANA SMTP Service Extensions registry without parameters, Exchange's own X- keywords,
 * the usual AUTH lists), by length: a line equal to one, byte for byte, is recorded as
 * this static string instead of a copy in the session's arena. */
#define SMTP_KNOWN_CAP_LEN 19
#define SMTP_KNOWN_CAP_PER_LEN 6
static const char *const known_caps[SMTP_KNOWN_CAP_LEN + 1][SMTP_KNOWN_CAP_PER_LEN] = {
    [3] = { "DSN" },
    [4] = { "VRFY", "ETRN", "HELP", "EXPN", "ATRN", "XUSR" },
    [5] = { "XRDST" },
    [7] = { "XEXCH50" },
    [8] = { "STARTTLS", "8BITMIME", "SMTPUTF8", "CHUNKING" },
    [9] = { "DELIVERBY" },
    [10] = { "PIPELINING", "BINARYMIME", "REQUIRETLS", "AUTH PLAIN", "AUTH LOGIN" },
    [14] = { "X-ANONYMOUSTLS" },
    [16] = { "AUTH PLAIN LOGIN", "AUTH LOGIN PLAIN", "AUTH=PLAIN LOGIN", "AUTH=LOGIN PLAIN" },
    [19] = { "ENHANCEDSTATUSCODES" },
};

static const char *known_cap(const uint8_t *t, size_t n)
{
    if (n == 0 || n > SMTP_KNOWN_CAP_LEN)
        return NULL;
    const char *const *row = known_caps[n];
    for (size_t j = 0; j < SMTP_KNOWN_CAP_PER_LEN && row[j]; j++)
        if (row[j][0] == (char)t[0] && memcmp(row[j], t, n) == 0)
            return row[j];
    return NULL;
}

/* The text of one reply line: an EHLO keyword, or more of the reply's text. */
static void reply_text(smtp_state *st, const uint8_t *t, size_t tlen)
{
    if (st->reply_is_ehlo && st->reply_lines > 0) {
        mw_smtp_rec *rec = mw_smtp_record(st->sess);
        /* a second EHLO (after STARTTLS, decrypted) repeats keywords: each is kept once;
         * compared before it is copied (the copy, in the record's arena, is never freed
         * before the record: at most MW_SMTP_MAX_CAPABILITIES of them) */
        size_t n = mw_wire_len(t, tlen, MW_SMTP_MAX_CAPABILITY);
        const uint8_t *nul = memchr(t, '\0', n);
        if (nul)
            n = (size_t)(nul - t); /* the string ends there, as a copy of it would */
        bool seen = false;
        for (guint i = 0; !seen && i < rec->capabilities.len; i++) {
            const char *have = mw_avec_at(&rec->capabilities, const char *, i);
            /* the first byte tells most apart without a call */
            if (n == 0)
                seen = have[0] == '\0';
            else if (have[0] == (char)t[0])
                seen = strncmp(have, (const char *)t, n) == 0 && have[n] == '\0';
        }
        if (!seen && rec->capabilities.len < MW_SMTP_MAX_CAPABILITIES) {
            /* room for a usual EHLO list at the first (the list is in the arena too) */
            const char **slot = mw_avec_push(mw_session_arena(st->sess), &rec->capabilities,
                                             sizeof *slot, SMTP_CAPABILITIES_USUAL);
            const char *known = known_cap(t, n);
            *slot = known ? known : mw_session_wire_strdup(st->sess, t, n, n);
        }
    } else if (st->reply_text->len < MW_MAX_TEXT) {
        if (st->reply_text->len)
            g_string_append_c(st->reply_text, ' ');
        size_t room = MW_MAX_TEXT - st->reply_text->len;
        g_string_append_len(st->reply_text, (const char *)t, (gssize)(tlen < room ? tlen : room));
    }
}

/* A complete reply's text made safe for the record, then handled. */
static bool reply_complete(smtp_state *st, const mw_ctx *ctx)
{
    st->in_reply = false;
    /* Keep wire bytes printable in the record: NULs would cut C strings short. */
    char *z = st->reply_text->str, *zend = z + st->reply_text->len;
    while ((z = memchr(z, '\0', (size_t)(zend - z))) != NULL)
        *z++ = ' ';
    /* a reply that echoes a client secret ("500 unrecognized command <password>") */
    size_t rlen;
    char *red = mw_secrets_redact(st->secrets, (const uint8_t *)st->reply_text->str,
                                  st->reply_text->len, &rlen);
    if (red) {
        g_string_truncate(st->reply_text, 0);
        g_string_append_len(st->reply_text, red, (gssize)rlen);
        g_free(red);
    }
    return handle_reply(st, ctx);
}

/* A server line without a reply code where a reply is due, that starts with an enhanced
 * status code (Yahoo's "4.7.0 [IPTS04] Messages ... temporarily deferred" before it
 * closes): kept as the reply (code null, anomaly invalid_reply), judged by its class. */
static bool codeless_reply(smtp_state *st, const mw_line *l)
{
    const uint8_t *t = l->p;
    size_t tlen = l->len;
    char enh[16];
    if (st->in_reply || !st->sess->greeted || st->pending.count == 0 ||
        !parse_enhanced(t, tlen, enh))
        return false;
    mw_session_anomaly(st->sess, MW_ANOM_INVALID_REPLY);
    st->reply_code = (enh[0] - '0') * 100;
    st->reply_codeless = true;
    st->reply_lines = 1;
    st->reply_is_ehlo = false;
    if (!st->reply_text)
        st->reply_text = g_string_sized_new(128);
    g_string_truncate(st->reply_text, 0);
    skip_enhanced(&t, &tlen, st->reply_enh);
    reply_text(st, t, tlen);
    return true;
}

bool smtp_server_line(smtp_state *st, const mw_line *l, const mw_ctx *ctx)
{
    if (!smtp_looks_like_reply(l->p, l->len) && !(l->len == 3 && g_ascii_isdigit(l->p[0]))) {
        if (codeless_reply(st, l))
            return reply_complete(st, ctx);
        return false; /* not a reply line: ignore (garbage or lost sync) */
    }
    int code = (l->p[0] - '0') * 100 + (l->p[1] - '0') * 10 + (l->p[2] - '0');
    bool last = l->len == 3 || l->p[3] == ' ' || l->p[3] == '\r';
    const uint8_t *t = l->p + (l->len > 3 ? 4 : 3);
    size_t tlen = l->len > 3 ? l->len - 4 : 0;

    if (!st->in_reply) {
        st->in_reply = true;
        st->reply_code = code;
        st->reply_codeless = false;
        st->reply_lines = 0;
        if (!st->reply_text)
            st->reply_text = g_string_sized_new(128);
        g_string_truncate(st->reply_text, 0);
        skip_enhanced(&t, &tlen, st->reply_enh);
        const mw_tp_cmd *oldest = mw_tp_at(&st->pending, 0);
        st->reply_is_ehlo = oldest && oldest->kind == CMD_EHLO && st->sess->greeted;
    } else if (st->reply_enh[0]) {
        /* continuation lines repeat the enhanced code; drop it from the text */
        char tmp[16];
        skip_enhanced(&t, &tlen, tmp);
    }
    reply_text(st, t, tlen);
    st->reply_lines++;
    if (!last)
        return false;
    return reply_complete(st, ctx);
}
