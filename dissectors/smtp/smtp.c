/* SMTP, submission (RFC 5321, 6409), STARTTLS (RFC 3207), AUTH (RFC 4954),
 * PIPELINING (RFC 2920), CHUNKING/BDAT (RFC 3030), enhanced status codes (RFC 3463).
 *
 * Client lines are commands; each is queued in a FIFO and the next complete server
 * reply answers the oldest (RFC 2920 section 3.1 keeps replies in command order), so a
 * 554 lands on the RCPT it refused however the client pipelined. Message bodies (DATA
 * up to the lone dot, BDAT by count) are skipped and counted, never buffered. */
#include <glib.h>
#include <string.h>

#include "dissector.h"
#include "text/lines.h"
#include "text/sasl.h"
#include "smtp/smtp_category.h"
#include "text/textproto.h"
#include "tls/tls.h"
#include "smtp/smtp.h"

typedef enum {
    CMD_OTHER,
    CMD_HELO,
    CMD_EHLO,
    CMD_MAIL,
    CMD_RCPT,
    CMD_DATA,
    CMD_DATA_END, /* the end-of-data line: the final reply to DATA answers it */
    CMD_BDAT,
    CMD_RSET,
    CMD_QUIT,
    CMD_AUTH,
    CMD_AUTH_RESP, /* a SASL response line after a 334 challenge */
    CMD_STARTTLS,
    CMD_NONE,      /* a reply no command asked for */
} smtp_cmd;

static const struct {
    const char *verb;
    smtp_cmd cmd;
} verb_table[] = {
    { "HELO", CMD_HELO }, { "EHLO", CMD_EHLO }, { "MAIL", CMD_MAIL },
    { "RCPT", CMD_RCPT }, { "DATA", CMD_DATA }, { "BDAT", CMD_BDAT },
    { "RSET", CMD_RSET }, { "QUIT", CMD_QUIT }, { "AUTH", CMD_AUTH },
    { "STARTTLS", CMD_STARTTLS },
    /* known verbs that need no special handling */
    { "NOOP", CMD_OTHER }, { "VRFY", CMD_OTHER }, { "EXPN", CMD_OTHER },
    { "HELP", CMD_OTHER }, { "TURN", CMD_OTHER }, { "ETRN", CMD_OTHER },
    { "XCLIENT", CMD_OTHER }, { "XFORWARD", CMD_OTHER }, { "LHLO", CMD_EHLO },
};

typedef struct {
    smtp_cmd cmd;
    bool bdat_last;
    guint rcpt_index;
    uint64_t end_off;   /* client stream offset just after the command line */
    uint64_t frame;
    int64_t ts_us;
    char name[16];
} pending_cmd;

typedef enum {
    C_COMMAND,
    C_DATA_WAIT, /* DATA sent, 354 not seen yet */
    C_BODY,      /* message content up to the lone dot */
    C_BDAT,      /* skipping a BDAT chunk by count */
    C_AUTH,      /* lines are SASL responses */
} client_mode;

typedef struct {
    mw_session *sess;
    mw_linestate line[2];
    bool resync[2];          /* after a gap or a mid-session start */
    uint64_t pos[2];         /* stream offset of the first byte of the current feed */
    uint64_t cur_end;        /* offset just after the client line being handled */

    client_mode mode;
    mw_dotblock body;        /* inside DATA: skipped to the lone dot, counted */
    uint64_t bdat_left;

    pending_cmd *fifo;       /* ring of cap entries, grown on demand */
    unsigned cap, head, count;

    /* server reply being assembled (multi-line: "250-..." lines then "250 ...") */
    bool in_reply;
    int reply_code;
    char reply_enh[16];
    GString *reply_text;
    unsigned reply_lines;
    bool reply_is_ehlo;

    /* AUTH exchange */
    char auth_mech[32];
    unsigned auth_step;
    bool in_tls;             /* handed off: nothing more to parse */
    bool client_spoke;       /* the client's first bytes were looked at */
    bool client_tls;         /* ...and were a TLS ClientHello: the rest is not SMTP */
} smtp_state;

/* ---------- helpers ---------- */

static void fifo_push(smtp_state *st, pending_cmd *c)
{
    c->end_off = st->cur_end;
    if (!mw_ring_make_room((void **)&st->fifo, &st->cap, &st->head, st->count, sizeof *st->fifo)) {
        /* A client that never reads replies: drop the oldest rather than grow. */
        mw_session_anomaly(st->sess, MW_ANOM_TOO_MANY_PENDING);
        st->head = (st->head + 1) % st->cap;
        st->count--;
    }
    st->fifo[(st->head + st->count) % st->cap] = *c;
    st->count++;
}

/* The oldest command, if the server had received it when it sent this reply. */
static bool fifo_pop(smtp_state *st, pending_cmd *out, const mw_ctx *ctx)
{
    if (st->count == 0)
        return false;
    if (ctx->ack_known && st->fifo[st->head].end_off > ctx->peer_acked)
        return false; /* a reply to a command lost from the capture */
    *out = st->fifo[st->head];
    st->head = (st->head + 1) % st->cap;
    st->count--;
    return true;
}

static const char *cmd_name(const pending_cmd *c)
{
    switch (c->cmd) {
    case CMD_DATA_END: return "DATA";
    case CMD_AUTH_RESP: return "AUTH";
    case CMD_NONE: return "";
    default: return c->name;
    }
}

static smtp_cmd lookup_verb(const uint8_t *p, size_t len, char name[16])
{
    size_t n = 0;
    while (n < len && n < 15 && g_ascii_isalpha(p[n])) {
        name[n] = g_ascii_toupper(p[n]);
        n++;
    }
    name[n] = '\0';
    if (n == 0 || (n < len && p[n] != ' ' && p[n] != '\t')) {
        if (n == 0 || n == 15)
            g_strlcpy(name, "?", 16);
        return CMD_OTHER;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(verb_table); i++)
        if (strcmp(name, verb_table[i].verb) == 0)
            return verb_table[i].cmd;
    return CMD_OTHER;
}

static bool is_known_verb(const uint8_t *p, size_t len)
{
    char name[16];
    size_t n = 0;
    while (n < len && n < 15 && g_ascii_isalpha(p[n]))
        n++;
    if (n == 0 || (n < len && p[n] != ' ' && p[n] != '\r' && p[n] != '\n'))
        return false;
    lookup_verb(p, n, name);
    for (size_t i = 0; i < G_N_ELEMENTS(verb_table); i++)
        if (strcmp(name, verb_table[i].verb) == 0)
            return true;
    return false;
}

static bool looks_like_reply(const uint8_t *p, size_t len)
{
    return len >= 4 && g_ascii_isdigit(p[0]) && g_ascii_isdigit(p[1]) &&
           g_ascii_isdigit(p[2]) && (p[3] == ' ' || p[3] == '-' || p[3] == '\r');
}

/* "<addr> params" or "addr" after "FROM:"/"TO:" -> the address without brackets. */
static char *parse_path(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && p[i] == ' ')
        i++;
    if (i < len && p[i] == '<') {
        i++;
        size_t j = i;
        while (j < len && p[j] != '>')
            j++;
        return mw_wire_strdup(p + i, j - i, MW_MAX_TEXT);
    }
    size_t j = i;
    while (j < len && p[j] != ' ')
        j++;
    return mw_wire_strdup(p + i, j - i, MW_MAX_TEXT);
}

/* Argument after "VERB " / after "FROM:" etc. */
static const uint8_t *after_colon(const uint8_t *p, size_t len, size_t *rest)
{
    const uint8_t *c = memchr(p, ':', len);
    if (!c) {
        *rest = 0;
        return p + len;
    }
    *rest = len - (size_t)(c - p) - 1;
    return c + 1;
}

/* ---------- commands (client → server) ---------- */

static void auth_response(smtp_state *st, const uint8_t *p, size_t len, const mw_ctx *ctx)
{
    mw_auth_rec *a = mw_session_auth(st->sess);
    mw_sasl_info info = mw_sasl_response(st->auth_mech, st->auth_step++, p, len);
    if (info.user && !a->user)
        a->user = info.user;
    else
        g_free(info.user);
    if (info.carries_secret && !st->sess->encrypted)
        mw_session_flag(st->sess, MW_FLAG_CLEARTEXT_AUTH, ctx->frame, ctx->ts_us,
                        "AUTH %s credentials sent without TLS", st->auth_mech);
}

/* The transcript line for a command, redacted: AUTH arguments and SASL responses never
 * appear, only the mechanism. */
static void command_event(smtp_state *st, const pending_cmd *c, const mw_line *l,
                          const mw_ctx *ctx)
{
    if (!st->sess->transcript)
        return;
    if (c->cmd == CMD_AUTH_RESP)
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%s",
                         l->len == 1 && l->p[0] == '*' ? "* (cancel)" : "[SASL response redacted]");
    else if (c->cmd == CMD_AUTH)
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "AUTH %s%s",
                         st->auth_mech, l->len > 5 + strlen(st->auth_mech) ?
                         " [initial response redacted]" : "");
    else
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%.*s",
                         (int)MIN(l->len, 200), (const char *)l->p);
}

static void handle_command(smtp_state *st, const mw_line *l, const mw_ctx *ctx)
{
    pending_cmd c = { 0 };
    c.frame = ctx->frame;
    c.ts_us = ctx->ts_us;
    mw_smtp_rec *rec = mw_session_smtp(st->sess);

    if (st->mode == C_AUTH) {
        c.cmd = CMD_AUTH_RESP;
        g_strlcpy(c.name, "AUTH", sizeof c.name);
        if (!(l->len == 1 && l->p[0] == '*')) /* "*" cancels (RFC 4954 section 4) */
            auth_response(st, l->p, l->len, ctx);
        command_event(st, &c, l, ctx);
        fifo_push(st, &c);
        return;
    }

    c.cmd = lookup_verb(l->p, l->len, c.name);
    size_t vlen = strlen(c.name);
    const uint8_t *arg = l->p + (vlen < l->len ? vlen : l->len);
    size_t arglen = l->len - (size_t)(arg - l->p);
    while (arglen > 0 && (*arg == ' ' || *arg == '\t')) {
        arg++;
        arglen--;
    }

    switch (c.cmd) {
    case CMD_HELO:
    case CMD_EHLO:
        if (!rec->helo)
            rec->helo = mw_wire_strdup(arg, arglen, MW_MAX_TEXT);
        break;
    case CMD_MAIL: {
        size_t rest;
        const uint8_t *a = after_colon(arg, arglen, &rest);
        if (!rec->mail_from)
            rec->mail_from = parse_path(a, rest);
        break;
    }
    case CMD_RCPT: {
        size_t rest;
        const uint8_t *a = after_colon(arg, arglen, &rest);
        if (rec->rcpt->len < MW_MAX_RCPT) {
            mw_rcpt r = { parse_path(a, rest), 0 };
            g_array_append_val(rec->rcpt, r);
            c.rcpt_index = rec->rcpt->len; /* 1-based; 0 = not kept */
        }
        break;
    }
    case CMD_DATA:
        st->mode = C_DATA_WAIT;
        st->body.line_start = true;
        st->body.bytes = 0;
        break;
    case CMD_BDAT: {
        /* RFC 3030: "BDAT" SP chunk-size [ SP "LAST" ]; the chunk follows at once */
        guint64 n = 0;
        const char *s = (const char *)arg;
        size_t i = 0;
        while (i < arglen && g_ascii_isdigit(s[i]) && n < (G_MAXUINT64 / 10 - 10))
            n = n * 10 + (guint64)(s[i++] - '0');
        if (i == 0)
            break; /* malformed: the server answers 5xx; no chunk to skip */
        c.bdat_last = mw_bytes_contain(arg + i, arglen - i, "LAST");
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "[BDAT chunk: %" G_GUINT64_FORMAT " bytes]", (guint64)n);
        st->bdat_left = n;
        mw_session_smtp(st->sess)->message_bytes += n;
        if (n > 0)
            st->mode = C_BDAT;
        break;
    }
    case CMD_AUTH: {
        size_t m = 0;
        while (m < arglen && arg[m] != ' ')
            m++;
        g_strlcpy(st->auth_mech, "", sizeof st->auth_mech);
        size_t copy = m < sizeof st->auth_mech - 1 ? m : sizeof st->auth_mech - 1;
        for (size_t i = 0; i < copy; i++)
            st->auth_mech[i] = g_ascii_toupper(arg[i]);
        st->auth_mech[copy] = '\0';
        st->auth_step = 0;
        mw_auth_rec *a = mw_session_auth(st->sess);
        g_strlcpy(a->mechanism, st->auth_mech, sizeof a->mechanism);
        a->result = MW_AUTH_UNKNOWN;
        a->code[0] = '\0';
        if (m < arglen) { /* initial response (RFC 4954 section 4) */
            const uint8_t *ir = arg + m + 1;
            auth_response(st, ir, arglen - m - 1, ctx);
        }
        break;
    }
    default:
        break;
    }
    command_event(st, &c, l, ctx);
    fifo_push(st, &c);
}

/* The lone dot ended the message (RFC 5321 4.1.1.4): its final reply answers it. */
static void end_of_data(smtp_state *st, uint64_t end_off, const mw_ctx *ctx)
{
    pending_cmd c = { .cmd = CMD_DATA_END, .frame = ctx->frame, .ts_us = ctx->ts_us };
    g_strlcpy(c.name, "DATA", sizeof c.name);
    st->cur_end = end_off;
    fifo_push(st, &c);
    mw_session_smtp(st->sess)->message_bytes += st->body.bytes;
    mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                     "[message content: %" G_GUINT64_FORMAT " bytes]", st->body.bytes);
    st->mode = C_COMMAND;
}

/* ---------- replies (server → client) ---------- */

/* RFC 3463: class "." subject "." detail, right after the reply code. */
static size_t parse_enhanced(const uint8_t *p, size_t len, char out[16])
{
    size_t i = 0;
    out[0] = '\0';
    if (len < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
        return 0;
    i = 2;
    size_t d1 = 0, d2 = 0;
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

/* The reply as the server put it, for evidence: "554 5.7.1 Relay access denied". */
static char *reply_line(int code, const char *enh, const char *text)
{
    return enh[0] ? g_strdup_printf("%d %s %s", code, enh, text)
                  : g_strdup_printf("%d %s", code, text);
}

/* word (lower case) in low (a lower-cased text) */
static bool has_word(const char *low, const char *word)
{
    return strstr(low, word) != NULL;
}

static void raise_flag(smtp_state *st, mw_flag f, const mw_ctx *ctx, const char *line)
{
    mw_session_flag(st->sess, f, ctx->frame, ctx->ts_us, "%s", line);
    if (!st->sess->decisive)
        mw_session_set_decisive(st->sess, line, strlen(line));
}

/* Judge a complete error reply to the command it answers; low is its text in lower case. */
static void judge_lowered(smtp_state *st, const pending_cmd *c, int code, const char *enh,
                          const char *low, const char *line, const mw_ctx *ctx,
                          const char **category)
{
    bool tls_words = has_word(low, "tls") /* STARTTLS too */ ||
                     has_word(low, "encryption");
    bool auth_words = has_word(low, "authenticat") || has_word(low, "auth ") ||
                      has_word(low, "login") || has_word(low, "logged in");
    bool access_code = code == 530 || strcmp(enh, "5.7.0") == 0 || strcmp(enh, "5.7.1") == 0 ||
                       strcmp(enh, "4.7.0") == 0 || strcmp(enh, "5.7.10") == 0 ||
                       strcmp(enh, "5.7.11") == 0 || strcmp(enh, "5.7.57") == 0;

    /* 421 4.4.2 (postfix, Exim), or an unsolicited 4xx about a timeout (sendmail's
     * "451 4.7.0 Timeout waiting for client input") before the server hangs up */
    bool timeout_words = has_word(low, "timeout") || has_word(low, "timed out");
    if ((code == 421 && (strcmp(enh, "4.4.2") == 0 || timeout_words)) ||
        (code < 500 && c->cmd == CMD_NONE && timeout_words)) {
        raise_flag(st, MW_FLAG_SERVER_TIMEOUT, ctx, line);
        return;
    }
    if (c->cmd == CMD_STARTTLS) {
        raise_flag(st, MW_FLAG_STARTTLS_REFUSED, ctx, line);
        return;
    }
    if (c->cmd == CMD_AUTH || c->cmd == CMD_AUTH_RESP) {
        if (code == 535 || code == 534 || code == 454 || code >= 500) {
            mw_auth_rec *a = mw_session_auth(st->sess);
            a->result = MW_AUTH_FAILURE;
            g_snprintf(a->code, sizeof a->code, "%d", code);
            if (code == 538 || (code == 530 && tls_words))
                raise_flag(st, MW_FLAG_TLS_REQUIRED, ctx, line);
            else
                raise_flag(st, MW_FLAG_AUTH_FAILED, ctx, line);
        }
        st->mode = C_COMMAND;
        return;
    }
    if (access_code && tls_words && code >= 500) {
        *category = "tls";
        raise_flag(st, MW_FLAG_TLS_REQUIRED, ctx, line);
        return;
    }
    if (access_code && auth_words && !has_word(low, "relay") && code >= 500) {
        *category = "auth";
        raise_flag(st, MW_FLAG_AUTH_REQUIRED, ctx, line);
        return;
    }
    switch (c->cmd) {
    case CMD_RCPT:
        /* SPEC: relay refusals by code and enhanced code, or any "relay" wording */
        if (has_word(low, "relay") || strcmp(*category, "relay") == 0) {
            *category = "relay";
            raise_flag(st, MW_FLAG_RELAY_DENIED, ctx, line);
        } else {
            raise_flag(st, MW_FLAG_RECIPIENT_REJECTED, ctx, line);
        }
        break;
    case CMD_MAIL:
        raise_flag(st, MW_FLAG_SENDER_REJECTED, ctx, line);
        break;
    case CMD_DATA:
    case CMD_DATA_END:
    case CMD_BDAT:
        if (c->cmd == CMD_DATA && st->mode == C_DATA_WAIT)
            st->mode = C_COMMAND; /* refused before the body: none follows */
        if (code >= 500)
            raise_flag(st, MW_FLAG_MESSAGE_REJECTED, ctx, line);
        break;
    default:
        break;
    }
}

static void judge_error(smtp_state *st, const pending_cmd *c, int code, const char *enh,
                        const char *text, const char *line, const mw_ctx *ctx,
                        const char **category)
{
    /* lowered once, then searched for each word (was: a case-blind scan per word) */
    char buf[MW_MAX_TEXT + 1];
    size_t len = strlen(text);
    char *low = len < sizeof buf ? buf : g_malloc(len + 1);
    for (size_t i = 0; i <= len; i++)
        low[i] = g_ascii_tolower(text[i]);
    judge_lowered(st, c, code, enh, low, line, ctx, category);
    if (low != buf)
        g_free(low);
}

static void add_reply(smtp_state *st, const pending_cmd *c, int code, const char *enh,
                      const char *category, const char *text, const mw_ctx *ctx)
{
    mw_smtp_rec *rec = mw_session_smtp(st->sess);
    if (rec->replies->len >= MW_MAX_REPLIES)
        return;
    mw_reply r = { 0 };
    g_strlcpy(r.cmd, cmd_name(c), sizeof r.cmd);
    r.code = code;
    g_strlcpy(r.enhanced, enh, sizeof r.enhanced);
    r.category = category;
    r.text = g_strdup(text);
    r.frame = ctx->frame;
    r.ts_us = ctx->ts_us;
    g_array_append_val(rec->replies, r);
}

/* The transcript line for a complete reply (multi-line replies: the first line and how
 * many more there were). */
static void reply_event(smtp_state *st, int code, const char *enh, const char *text,
                        int64_t latency_us, const mw_ctx *ctx)
{
    if (!st->sess->transcript)
        return;
    if (st->reply_lines > 1)
        mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, latency_us,
                         "%d%s%s %.200s (%u lines)", code, enh[0] ? " " : "", enh, text,
                         st->reply_lines);
    else
        mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, latency_us,
                         "%d%s%s %.200s", code, enh[0] ? " " : "", enh, text);
}

/* A complete reply: match it to its command and judge it. Returns true when the
 * session upgrades to TLS after it. */
static bool handle_reply(smtp_state *st, const mw_ctx *ctx)
{
    int code = st->reply_code;
    const char *enh = st->reply_enh;
    const char *text = st->reply_text->str;
    mw_smtp_rec *rec = mw_session_smtp(st->sess);
    pending_cmd c;

    if (!st->sess->greeted) {
        st->sess->greeted = true;
        reply_event(st, code, enh, text, ctx->ts_us - st->sess->ts_start_us, ctx);
        memset(&c, 0, sizeof c);
        c.cmd = CMD_NONE;
        g_strlcpy(c.name, "CONNECT", sizeof c.name);
        if (code >= 400) {
            /* A 554 greeting refuses the client outright (RFC 5321 3.1), 421 defers it. */
            char *line = reply_line(code, enh, text);
            const char *cat = mw_smtp_category(code, enh, text);
            if (code == 421)
                judge_error(st, &c, code, enh, text, line, ctx, &cat);
            add_reply(st, &c, code, enh, cat, text, ctx);
            if (!st->sess->decisive)
                mw_session_set_decisive(st->sess, line, strlen(line));
            g_free(line);
        }
        return false;
    }
    if (!fifo_pop(st, &c, ctx)) {
        memset(&c, 0, sizeof c);
        c.cmd = CMD_NONE;
        reply_event(st, code, enh, text, -1, ctx);
    } else {
        mw_session_latency(st->sess, cmd_name(&c), c.ts_us, ctx->ts_us, ctx->frame);
        reply_event(st, code, enh, text, ctx->ts_us - c.ts_us, ctx);
    }

    if (code >= 400) {
        char *line = reply_line(code, enh, text);
        const char *category = mw_smtp_category(code, enh, text);
        judge_error(st, &c, code, enh, text, line, ctx, &category);
        add_reply(st, &c, code, enh, category, text, ctx);
        if (!st->sess->decisive)
            mw_session_set_decisive(st->sess, line, strlen(line));
        g_free(line);
    }

    switch (c.cmd) {
    case CMD_RCPT:
        if (c.rcpt_index > 0 && c.rcpt_index <= rec->rcpt->len)
            g_array_index(rec->rcpt, mw_rcpt, c.rcpt_index - 1).code = code;
        break;
    case CMD_MAIL:
        if (code < 400)
            rec->transactions++;
        break;
    case CMD_DATA:
        if (code == 354) {
            if (st->mode == C_DATA_WAIT)
                st->mode = C_BODY;
        }
        break;
    case CMD_DATA_END:
        if (code >= 200 && code < 300)
            rec->messages++;
        break;
    case CMD_BDAT:
        if (c.bdat_last && code >= 200 && code < 300)
            rec->messages++;
        break;
    case CMD_AUTH:
    case CMD_AUTH_RESP:
        if (code == 334) {
            st->mode = C_AUTH;
        } else if (code >= 200 && code < 300) {
            mw_auth_rec *a = mw_session_auth(st->sess);
            a->result = MW_AUTH_SUCCESS;
            g_snprintf(a->code, sizeof a->code, "%d", code);
            st->mode = C_COMMAND;
        } else if (code < 400) {
            st->mode = C_COMMAND;
        }
        break;
    case CMD_QUIT:
        if (code == 221)
            st->sess->quit_seen = true;
        break;
    case CMD_STARTTLS:
        if (code == 220) {
            st->sess->starttls = true;
            return true;
        }
        break;
    default:
        break;
    }
    return false;
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

/* One server line: part of a (multi-line) reply. */
static bool server_line(smtp_state *st, const mw_line *l, const mw_ctx *ctx)
{
    if (!looks_like_reply(l->p, l->len) && !(l->len == 3 && g_ascii_isdigit(l->p[0]))) {
        return false; /* not a reply line: ignore (garbage or lost sync) */
    }
    int code = (l->p[0] - '0') * 100 + (l->p[1] - '0') * 10 + (l->p[2] - '0');
    bool last = l->len == 3 || l->p[3] == ' ' || l->p[3] == '\r';
    const uint8_t *t = l->p + (l->len > 3 ? 4 : 3);
    size_t tlen = l->len > 3 ? l->len - 4 : 0;

    if (!st->in_reply) {
        st->in_reply = true;
        st->reply_code = code;
        st->reply_lines = 0;
        g_string_truncate(st->reply_text, 0);
        skip_enhanced(&t, &tlen, st->reply_enh);
        st->reply_is_ehlo = st->count > 0 && st->fifo[st->head].cmd == CMD_EHLO &&
                            st->sess->greeted;
    } else if (st->reply_enh[0]) {
        /* continuation lines repeat the enhanced code; drop it from the text */
        char tmp[16];
        skip_enhanced(&t, &tlen, tmp);
    }
    if (st->reply_is_ehlo && st->reply_lines > 0) {
        mw_smtp_rec *rec = mw_session_smtp(st->sess);
        if (rec->capabilities->len < 64)
            g_ptr_array_add(rec->capabilities, mw_wire_strdup(t, tlen, 128));
    } else if (st->reply_text->len < MW_MAX_TEXT) {
        if (st->reply_text->len)
            g_string_append_c(st->reply_text, ' ');
        size_t room = MW_MAX_TEXT - st->reply_text->len;
        g_string_append_len(st->reply_text, (const char *)t, (gssize)(tlen < room ? tlen : room));
    }
    st->reply_lines++;
    if (!last)
        return false;
    st->in_reply = false;
    /* Keep wire bytes printable in the record: NULs would cut C strings short. */
    for (gsize i = 0; i < st->reply_text->len; i++)
        if (st->reply_text->str[i] == '\0')
            st->reply_text->str[i] = ' ';
    return handle_reply(st, ctx);
}

/* ---------- the dissector ---------- */

static void *smtp_new(mw_session *s, const mw_config *cfg)
{
    (void)cfg;
    smtp_state *st = g_new0(smtp_state, 1);
    st->sess = s;
    st->reply_text = g_string_sized_new(128);
    st->body.line_start = true;
    mw_session_smtp(s);
    return st;
}

static void smtp_free(void *p)
{
    smtp_state *st = p;
    if (!st)
        return;
    g_string_free(st->reply_text, TRUE);
    g_free(st->fifo);
    g_free(st);
}

/* After a gap or a mid-session start: is this plausibly the start of a line? */
static bool plausible_line_start(mw_dir dir, const uint8_t *p, size_t len)
{
    if (dir == MW_FROM_SERVER)
        return looks_like_reply(p, len);
    return is_known_verb(p, len);
}

static mw_feed_result smtp_feed(void *p, mw_dir dir, const uint8_t *data, size_t len,
                                const mw_ctx *ctx)
{
    smtp_state *st = p;
    size_t off = 0;
    mw_feed_result r = { MW_FEED_OK, 0 };
    if (st->in_tls) {
        r.consumed = len;
        return r;
    }
    if (dir == MW_FROM_CLIENT && !st->client_spoke) {
        /* a client set to implicit TLS on a STARTTLS port (SPEC.md tls_mode_mismatch) */
        if (len < MW_TLS_PROBE_LEN && mw_tls_could_be_client_hello(data, len)) {
            r.status = MW_FEED_NEED_MORE;
            return r;
        }
        st->client_spoke = true;
        st->client_tls = mw_tls_looks_like_client_hello(data, len);
        if (st->client_tls)
            mw_session_flag(st->sess, MW_FLAG_TLS_MODE_MISMATCH, ctx->frame, ctx->ts_us,
                            "client sent a TLS ClientHello to port %u, where the server speaks "
                            "plain SMTP first (STARTTLS port)",
                            st->sess->server.port);
    }
    if (dir == MW_FROM_CLIENT && st->client_tls) {
        r.consumed = len;
        return r;
    }
    uint64_t base = st->pos[dir];
    if (st->resync[dir] && len > 0) {
        st->resync[dir] = false;
        if (!plausible_line_start(dir, data, len))
            st->line[dir].discarding = true;
    }

    while (off < len) {
        if (dir == MW_FROM_CLIENT && (st->mode == C_BODY || st->mode == C_DATA_WAIT)) {
            if (st->mode == C_DATA_WAIT)
                st->mode = C_BODY; /* body before the 354: the reply was lost or is late */
            size_t used;
            mw_dot_status ds = mw_dotblock_skip(&st->body, data + off, len - off, &used);
            off += used;
            if (ds == MW_DOT_NEED) {
                r.status = MW_FEED_NEED_MORE;
                break;
            }
            if (ds == MW_DOT_END)
                end_of_data(st, base + off, ctx);
            continue;
        }
        if (dir == MW_FROM_CLIENT && st->mode == C_BDAT) {
            uint64_t take = len - off < st->bdat_left ? len - off : st->bdat_left;
            off += take;
            st->bdat_left -= take;
            if (st->bdat_left == 0)
                st->mode = C_COMMAND;
            continue;
        }
        mw_line l;
        size_t used;
        mw_line_status ls =
            mw_line_take(&st->line[dir], data + off, len - off, ctx->cfg->max_line, &l, &used);
        off += used;
        st->cur_end = base + off;
        if (ls == MW_LINE_MORE) {
            r.status = MW_FEED_NEED_MORE;
            break;
        }
        if (ls == MW_LINE_OVERLONG) {
            mw_session_anomaly(st->sess, MW_ANOM_LINE_TOO_LONG);
            if (dir == MW_FROM_CLIENT) {
                /* the server will answer it (500 line too long): keep replies paired */
                pending_cmd c = { .cmd = CMD_OTHER, .frame = ctx->frame, .ts_us = ctx->ts_us };
                g_strlcpy(c.name, "?", sizeof c.name);
                st->cur_end = base + off;
                fifo_push(st, &c);
            }
            continue;
        }
        if (dir == MW_FROM_CLIENT) {
            handle_command(st, &l, ctx);
        } else if (server_line(st, &l, ctx)) {
            st->in_tls = true;
            r.status = MW_FEED_UPGRADE_TLS;
            r.consumed = off;
            st->pos[dir] = base + off;
            return r;
        }
    }
    r.consumed = off;
    st->pos[dir] = base + off;
    return r;
}

static void smtp_gap(void *p, mw_dir dir, uint64_t missing, const mw_ctx *ctx)
{
    (void)ctx;
    smtp_state *st = p;
    st->pos[dir] += missing;
    st->resync[dir] = true;
    st->line[dir].discarding = false;
    if (dir == MW_FROM_SERVER) {
        st->in_reply = false;
        st->sess->greeted = true; /* the greeting may be in the hole */
    } else if (st->mode == C_BDAT) {
        st->bdat_left = missing < st->bdat_left ? st->bdat_left - missing : 0;
        if (st->bdat_left == 0)
            st->mode = C_COMMAND;
        st->resync[dir] = false;
    } else if (st->mode == C_BODY) {
        st->body.line_start = false;
        st->resync[dir] = false;
    }
    /* Replies vanished: the queued commands would pair with the wrong ones. (Commands
     * lost on the client side are caught by the ACK check in fifo_pop.) */
    if (dir == MW_FROM_SERVER)
        st->head = st->count = 0;
}

static void smtp_close(void *p, const mw_ctx *ctx)
{
    smtp_state *st = p;
    mw_session *s = st->sess;
    if (st->in_tls || mw_tp_no_greeting(s, ctx) || s->close_reason == MW_CLOSE_NONE)
        return; /* (capture ended: the reply may simply not have been captured) */
    for (unsigned i = 0; i < st->count; i++) {
        const pending_cmd *c = &st->fifo[(st->head + i) % st->cap];
        if (c->cmd == CMD_QUIT)
            continue;
        /* sent after the server had closed: the close, not silence, is the story */
        if (s->fin_ts_us[MW_FROM_SERVER] && c->ts_us >= s->fin_ts_us[MW_FROM_SERVER])
            continue;
        mw_tp_unanswered(s, cmd_name(c), c->frame, c->ts_us, ctx);
        break;
    }
}

static bool smtp_probe(const uint8_t *p, size_t len)
{
    return len >= 4 && memcmp(p, "220", 3) == 0 && (p[3] == ' ' || p[3] == '-');
}

static const mw_port_proto smtp_ports[] = {
    { 25, MW_PROTO_SMTP },
    { 2525, MW_PROTO_SMTP },
    { 587, MW_PROTO_SUBMISSION },
    { 0, MW_PROTO_UNKNOWN },
};

const mw_dissector mw_smtp_dissector = {
    .name = "smtp",
    .ports = smtp_ports,
    .content_proto = MW_PROTO_SMTP,
    .probe = smtp_probe,
    .state_new = smtp_new,
    .state_free = smtp_free,
    .feed = smtp_feed,
    .on_gap = smtp_gap,
    .on_close = smtp_close,
};
