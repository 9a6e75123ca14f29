/* POP3 (RFC 1939), CAPA and extended response codes (RFC 2449), STLS (RFC 2595),
 * SASL AUTH (RFC 5034).
 *
 * Client lines are commands, queued in order; each "+OK"/"-ERR" answers the oldest
 * (RFC 2449 section 6.6 keeps replies in order under PIPELINING), while a "+ " line is
 * a SASL challenge inside AUTH and answers nothing. Multi-line answers (RFC 1939
 * section 3: CAPA, RETR, TOP, LIST and UIDL without argument, AUTH without argument)
 * end at the lone dot: message bodies are skipped a line at a time with memchr, never
 * buffered; CAPA is read line by line for STLS. A PASS argument, an APOP digest or a
 * SASL secret is never copied into the record. */
#include <glib.h>
#include <string.h>

#include "dissector.h"
#include "core/spares.h"
#include "text/reply_log.h"
#include "text/lines.h"
#include "text/sasl.h"
#include "text/secrets.h"
#include "text/textproto.h"
#include "text/tlsgate.h"
#include "pop3/pop3.h"

typedef enum {
    PC_OTHER,
    PC_USER,
    PC_PASS,
    PC_APOP,
    PC_AUTH,
    PC_STLS,
    PC_CAPA,
    PC_LIST,
    PC_UIDL,
    PC_RETR,
    PC_TOP,
    PC_QUIT,
    PC_PLAIN, /* known commands that need no special handling */
    PC_COUNT
} pop3_cmd;

static const mw_tp_verb pop3_verbs[] = {
    { "USER", PC_USER }, { "PASS", PC_PASS }, { "APOP", PC_APOP }, { "AUTH", PC_AUTH },
    { "STLS", PC_STLS }, { "CAPA", PC_CAPA }, { "LIST", PC_LIST }, { "UIDL", PC_UIDL },
    { "RETR", PC_RETR }, { "TOP", PC_TOP },   { "QUIT", PC_QUIT }, { "STAT", PC_PLAIN },
    { "DELE", PC_PLAIN }, { "NOOP", PC_PLAIN }, { "RSET", PC_PLAIN }, { "LAST", PC_PLAIN },
    { "XTND", PC_PLAIN }, { "UTF8", PC_PLAIN }, { "LANG", PC_PLAIN },
};

/* When "+OK" opens a multi-line answer (RFC 1939 section 3 and each command's text). */
typedef enum { MULTI_NEVER, MULTI_ALWAYS, MULTI_WITHOUT_ARG } multi_rule;

static const uint8_t multi_rules[PC_COUNT] = {
    [PC_CAPA] = MULTI_ALWAYS,      [PC_RETR] = MULTI_ALWAYS, [PC_TOP] = MULTI_ALWAYS,
    [PC_LIST] = MULTI_WITHOUT_ARG, [PC_UIDL] = MULTI_WITHOUT_ARG,
    [PC_AUTH] = MULTI_WITHOUT_ARG, /* mechanism list, as most servers answer it */
};

typedef enum {
    S_LINE,        /* status lines */
    S_MULTI_SKIP,  /* a message or listing: skipped to the lone dot */
    S_MULTI_LINES, /* CAPA or the AUTH mechanism list: read line by line */
} server_mode;

typedef struct {
    mw_session *sess;
    mw_linestate ls[2];
    bool resync[2];
    mw_tp_queue pending;

    server_mode smode;
    mw_dotblock dot;
    bool stls_offered;     /* CAPA listed STLS */

    bool auth_active;      /* AUTH awaiting its final answer: client lines are SASL */
    char auth_mech[32];
    unsigned auth_step;
    mw_sasl_asks auth_asks; /* what the last "+ " challenge asked for */
    bool auth_failed;      /* a login just failed or was cancelled: stray lines are secret */
    mw_secrets *secrets;   /* the client's secrets, to redact server echoes */
    bool in_tls;
    mw_tlsgate tls_gate;   /* STLS accepted: does the client start TLS? */

    /* transcript (used only when the session keeps one) */
    int64_t sasl_ts;       /* when the client last spoke in the AUTH exchange */
    char list_label[16];   /* "capabilities", "mechanisms": the listing being read */
    GString *list;         /* its lines, joined and capped */
} pop3_state;

/* Longest CAPA / mechanism listing kept for its transcript event. */
#define LIST_MAX 200

/* ---------- client: commands ---------- */

/* The argument after the verb, trimmed. */
static const uint8_t *argument(const mw_line *l, size_t verb_len, size_t *alen)
{
    size_t i = mw_tp_skip_sp(l->p, l->len, verb_len);
    size_t end = l->len;
    while (end > i && (l->p[end - 1] == ' ' || l->p[end - 1] == '\t'))
        end--;
    *alen = end - i;
    return l->p + i;
}

/* The first word of an argument ("APOP name digest" -> name). */
static char *first_word(const uint8_t *p, size_t len)
{
    size_t n = 0;
    while (n < len && p[n] != ' ')
        n++;
    return n ? mw_wire_strdup(p, n, MW_MAX_TEXT) : NULL;
}

/* AUTH mechanism [initial-response] (RFC 5034 section 4). */
static void auth_command(pop3_state *st, const uint8_t *arg, size_t alen, const mw_ctx *ctx)
{
    size_t m = mw_tp_word(arg, alen, st->auth_mech, sizeof st->auth_mech);
    mw_tp_auth_begin(st->sess, st->auth_mech);
    st->auth_active = true;
    st->auth_step = 0;
    size_t i = mw_tp_skip_sp(arg, alen, m);
    if (i < alen) { /* initial response; "=" is an empty one */
        mw_secrets_add(&st->secrets, arg + i, alen - i);
        mw_tp_sasl(st->sess, st->auth_mech, st->auth_step++, st->auth_asks, arg + i, alen - i,
                   ctx);
    }
}

/* The transcript line of a command, redacted: a PASS argument, an APOP digest and a
 * SASL initial response never appear, nor anything of an unknown verb's line (after lost
 * sync it might be a password). */
static void command_event(pop3_state *st, const mw_tp_cmd *c, const mw_line *l,
                          const uint8_t *arg, size_t alen, const mw_ctx *ctx)
{
    mw_session *s = st->sess;
    switch (c->kind) {
    case PC_PASS:
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "PASS%s",
                         alen ? " [password redacted]" : "");
        break;
    case PC_USER: /* "USER name pass": the name only when it cannot be the password */
        if (alen && !mw_sasl_user_ok(arg, alen))
            mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                             "USER [argument redacted]");
        else
            mw_tp_event_line(s, MW_FROM_CLIENT, ctx, -1, l->p, l->len);
        break;
    case PC_APOP: {
        size_t n = 0;
        while (n < alen && arg[n] != ' ')
            n++;
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "APOP %.*s%s", (int)MIN(n, (size_t)MW_TP_EVENT_MAX), (const char *)arg,
                         n < alen ? " [digest redacted]" : "");
        break;
    }
    case PC_AUTH: {
        if (!c->has_arg) {
            mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "AUTH");
            break;
        }
        size_t m = 0;
        while (m < alen && arg[m] != ' ')
            m++;
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "AUTH %s%s",
                         st->auth_mech, mw_tp_skip_sp(arg, alen, m) < alen
                                            ? " [initial response redacted]" : "");
        break;
    }
    case PC_OTHER:
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "[unrecognised command: %zu bytes]", l->len);
        break;
    default:
        mw_tp_event_line(s, MW_FROM_CLIENT, ctx, -1, l->p, l->len);
        break;
    }
}

static void command(pop3_state *st, const mw_line *l, const mw_ctx *ctx)
{
    mw_tp_cmd c = { 0 };
    size_t v = mw_tp_word(l->p, l->len, c.name, sizeof c.name);
    if (v == 0)
        return; /* not a command: garbage or lost sync */
    c.kind = mw_tp_lookup(pop3_verbs, G_N_ELEMENTS(pop3_verbs), c.name, PC_OTHER);
    if (c.kind == PC_OTHER)
        mw_tp_unknown_verb(c.name, 8);
    size_t alen;
    const uint8_t *arg = argument(l, v, &alen);
    c.has_arg = alen > 0;
    c.exempt = c.kind == PC_QUIT;
    c.frame = ctx->frame;
    c.ts_us = ctx->ts_us;
    mw_cmdrec_of(st->sess)->commands++;

    switch (c.kind) {
    case PC_USER:
        mw_tp_auth_begin(st->sess, "USER");
        if (mw_sasl_user_ok(arg, alen))
            mw_tp_auth_user(st->sess, mw_wire_strdup(arg, alen, MW_MAX_TEXT));
        else
            mw_secrets_add(&st->secrets, arg, alen);
        break;
    case PC_PASS: /* the argument is the password: only its existence is noted */
        mw_secrets_add(&st->secrets, arg, alen);
        if (!st->sess->auth || strcmp(st->sess->auth->mechanism, "USER") != 0)
            mw_tp_auth_begin(st->sess, "USER");
        mw_tp_cleartext(st->sess, "PASS", ctx);
        break;
    case PC_APOP: /* "APOP name digest": the MD5 digest is not kept (RFC 1939 7) */
        mw_tp_auth_begin(st->sess, "APOP");
        mw_tp_auth_user(st->sess, first_word(arg, alen));
        mw_secrets_add(&st->secrets, arg, alen);
        break;
    case PC_AUTH:
        if (c.has_arg)
            auth_command(st, arg, alen, ctx);
        break;
    default:
        break;
    }
    if (st->sess->transcript)
        command_event(st, &c, l, arg, alen, ctx);
    st->sasl_ts = ctx->ts_us;
    mw_tp_push(&st->pending, st->sess, &c);
}

/* A command word of our table, followed by a space or the line's end. */
static bool known_verb(const mw_line *l)
{
    char word[8];
    size_t n = mw_tp_word(l->p, l->len, word, sizeof word);
    if (n == 0 || n > 4 || (n < l->len && l->p[n] != ' '))
        return false;
    return mw_tp_lookup(pop3_verbs, G_N_ELEMENTS(pop3_verbs), word, -1) >= 0;
}

static void client_line(pop3_state *st, const mw_line *l, const mw_ctx *ctx)
{
    if (st->auth_active) {
        /* a SASL response, or "*" to cancel (RFC 5034 section 4) */
        bool cancel = l->len == 1 && l->p[0] == '*';
        if (st->sess->transcript)
            mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%s",
                             cancel ? "* (cancel)" : "[SASL response redacted]");
        st->sasl_ts = ctx->ts_us;
        if (!cancel) {
            mw_secrets_add(&st->secrets, l->p, l->len);
            mw_tp_sasl(st->sess, st->auth_mech, st->auth_step++, st->auth_asks, l->p, l->len,
                       ctx);
            st->auth_asks = MW_SASL_ASKS_UNKNOWN;
        }
        return;
    }
    if (st->auth_failed && !known_verb(l)) {
        /* after a failed or cancelled login: most likely the password once more; the
         * server answers it (-ERR), so it is queued, under the exchange's name */
        mw_tp_cmd c = { .name = "AUTH", .frame = ctx->frame, .ts_us = ctx->ts_us };
        mw_secrets_add(&st->secrets, l->p, l->len);
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "[client line after a failed login redacted: %zu bytes]", l->len);
        mw_tp_push(&st->pending, st->sess, &c);
        return;
    }
    st->auth_failed = false;
    command(st, l, ctx);
}

/* ---------- server: answers ---------- */

static bool is_login(const mw_tp_cmd *c)
{
    return c->kind == PC_PASS || c->kind == PC_APOP || (c->kind == PC_AUTH && c->has_arg);
}

/* Returns true when the session turns to TLS after this line. */
static bool on_ok(pop3_state *st, const mw_tp_cmd *c)
{
    if (is_login(c))
        mw_tp_auth_result(st->sess, true, "+OK");
    else if (c->kind == PC_QUIT)
        st->sess->quit_seen = true;
    else if (c->kind == PC_STLS) {
        st->sess->starttls = true;
        return true;
    }
    multi_rule m = c->kind < PC_COUNT ? multi_rules[c->kind] : MULTI_NEVER;
    if (m == MULTI_ALWAYS || (m == MULTI_WITHOUT_ARG && !c->has_arg)) {
        st->smode = (c->kind == PC_CAPA || c->kind == PC_AUTH) ? S_MULTI_LINES : S_MULTI_SKIP;
        st->dot.line_start = true;
        st->dot.bytes = 0;
        st->dot.lines = 0;
        st->dot.count_lines = st->sess->transcript != NULL; /* "[n lines, m bytes]" */
        if (st->sess->transcript && st->smode == S_MULTI_LINES) {
            g_strlcpy(st->list_label, c->kind == PC_CAPA ? "capabilities" : "mechanisms",
                      sizeof st->list_label);
            if (!st->list)
                st->list = g_string_sized_new(LIST_MAX);
            g_string_truncate(st->list, 0);
        }
    }
    return false;
}

/* -ERR on USER is about the user step, not a password: the server refuses plaintext
 * logins when it says so, or answers [AUTH] before STLS after offering STLS (RFC 2449
 * section 8.1.1 and RFC 2595 section 4). */
static bool tls_refusal(const pop3_state *st, const mw_tp_cmd *c, const mw_tp_resp *r)
{
    if (st->sess->encrypted)
        return false;
    if (mw_tp_tls_words(r->text, r->text_len))
        return true;
    return c->kind == PC_USER && st->stls_offered && strcmp(r->code, "AUTH") == 0;
}

static void on_err(pop3_state *st, const mw_tp_cmd *c, const mw_line *l, const mw_ctx *ctx)
{
    mw_tp_resp r;
    mw_tp_resp_code(l->p + 4, l->len - 4, &r);
    mw_tp_failure(st->sess, c->name, "-ERR", r.code, r.text, r.text_len, ctx);
    char *line = mw_wire_strdup(l->p, l->len, MW_MAX_TEXT);
    if (mw_tp_timeout_words(r.text, r.text_len)) {
        mw_tp_raise(st->sess, MW_FLAG_SERVER_TIMEOUT, ctx, line);
        for (unsigned i = 0; i < st->pending.count; i++)
            mw_tp_at(&st->pending, i)->exempt = true; /* the server is leaving */
    } else if (c->kind == PC_STLS) {
        mw_tp_raise(st->sess, MW_FLAG_STARTTLS_REFUSED, ctx, line);
    } else if (c->kind == PC_USER || is_login(c)) {
        mw_tp_auth_result(st->sess, false, "-ERR");
        st->auth_failed = is_login(c) || st->auth_failed;
        if (tls_refusal(st, c, &r))
            mw_tp_raise(st->sess, MW_FLAG_TLS_REQUIRED, ctx, line);
        else if (is_login(c))
            mw_tp_raise(st->sess, MW_FLAG_AUTH_FAILED, ctx, line);
    } else if (strcmp(c->name, "CONNECT") == 0) {
        mw_tp_decisive(st->sess, line); /* the greeting refused the client */
    }
    g_free(line);
}

static bool line_is(const mw_line *l, const char *status)
{
    size_t n = strlen(status);
    return mw_line_starts(l, status) && (l->len == n || l->p[n] == ' ');
}

/* Returns true when the session turns to TLS after this line. */
static bool server_line(void *p, const mw_line *l, const mw_ctx *ctx)
{
    pop3_state *st = p;
    bool ok = line_is(l, "+OK"), err = line_is(l, "-ERR");
    if (!st->sess->greeted) {
        if (ok || err)
            mw_tp_greeting_event(st->sess, ctx, l->p, l->len);
        st->sess->greeted = true;
        if (err) { /* the server refuses the connection */
            mw_tp_cmd c = { .name = "CONNECT" };
            on_err(st, &c, l, ctx);
        }
        if (ok || err)
            return false;
    }
    if (!ok && !err) {
        /* a SASL challenge "+ ..." (answers nothing), or garbage */
        if (st->auth_active && l->len >= 1 && l->p[0] == '+') {
            size_t c = mw_tp_skip_sp(l->p, l->len, 1);
            st->auth_asks = mw_sasl_challenge(l->p + c, l->len - c);
        }
        if (st->auth_active && l->len >= 1 && l->p[0] == '+')
            mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, ctx->ts_us - st->sasl_ts, l->p,
                             l->len);
        return false;
    }
    mw_tp_cmd c;
    bool paired = mw_tp_pop(&st->pending, &c);
    if (!paired) {
        memset(&c, 0, sizeof c); /* unsolicited, e.g. "-ERR Disconnected for inactivity" */
    } else {
        mw_session_latency(st->sess, c.name, c.ts_us, ctx->ts_us, ctx->frame);
    }
    if (st->sess->transcript) {
        mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, paired ? ctx->ts_us - c.ts_us : -1,
                         l->p, l->len);
        if (ok && c.kind == PC_STLS)
            mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, -1,
                             "[STLS: TLS handshake follows]");
    }
    /* the final answer to AUTH ends the exchange; so does an unpaired one, when a gap
     * lost the AUTH it answers */
    if (!paired || c.kind == PC_AUTH)
        st->auth_active = false;
    if (ok)
        return on_ok(st, &c);
    on_err(st, &c, l, ctx);
    return false;
}

/* A line of CAPA (or of the AUTH mechanism list) up to the lone dot. */
static void capa_line(pop3_state *st, const mw_line *l, const mw_ctx *ctx)
{
    if (l->len == 1 && l->p[0] == '.') {
        st->smode = S_LINE;
        if (st->sess->transcript && st->list)
            mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, -1, "[%s: %s]",
                             st->list_label, st->list->str);
        return;
    }
    if (st->sess->transcript && st->list && st->list->len < LIST_MAX) {
        if (st->list->len)
            g_string_append(st->list, ", ");
        size_t room = LIST_MAX - st->list->len;
        g_string_append_len(st->list, (const char *)l->p, (gssize)MIN(l->len, room));
        if (l->len >= room)
            g_string_append(st->list, " ...");
    }
    if (l->len == 4 && g_ascii_strncasecmp((const char *)l->p, "STLS", 4) == 0)
        st->stls_offered = true;
}

/* ---------- the dissector ---------- */

static bool plausible_line_start(mw_dir dir, const uint8_t *p, size_t len)
{
    if (dir == MW_FROM_SERVER)
        return (len >= 3 && memcmp(p, "+OK", 3) == 0) || (len >= 4 && memcmp(p, "-ERR", 4) == 0) ||
               (len >= 2 && p[0] == '+' && p[1] == ' ');
    char word[8];
    size_t n = mw_tp_word(p, len, word, sizeof word);
    if (n == 0 || n > 4 || (n < len && p[n] != ' ' && p[n] != '\r' && p[n] != '\n'))
        return false;
    return mw_tp_lookup(pop3_verbs, G_N_ELEMENTS(pop3_verbs), word, -1) >= 0;
}

static void *pop3_new(mw_session *s, const mw_config *cfg)
{
    (void)cfg;
    pop3_state *st = mw_spares_take(mw_spares_here(MW_SPARE_POP3, sizeof *st, MW_STATE_SPARES));
    st->sess = s;
    mw_cmdrec_attach(s, &mw_pop3_dissector);
    return st;
}

static void pop3_free(void *p)
{
    pop3_state *st = p;
    if (!st)
        return;
    if (st->list)
        g_string_free(st->list, TRUE);
    mw_tp_queue_free(&st->pending);
    mw_secrets_free(&st->secrets);
    mw_spares_give(mw_spares_here(MW_SPARE_POP3, sizeof *st, MW_STATE_SPARES), st);
}

/* Server bytes of a multi-line body: how many were consumed; *need when the tail may be
 * the terminator. */
static size_t skip_multi(pop3_state *st, const uint8_t *p, size_t len, bool *need,
                         const mw_ctx *ctx)
{
    size_t used;
    mw_dot_status ds = mw_dotblock_skip(&st->dot, p, len, &used);
    *need = ds == MW_DOT_NEED;
    if (ds == MW_DOT_END) {
        st->smode = S_LINE;
        /* the content itself is never shown */
        if (st->sess->transcript)
            mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, -1,
                             "[%" G_GUINT64_FORMAT " lines, %" G_GUINT64_FORMAT " bytes]",
                             st->dot.lines, st->dot.bytes);
    }
    return used;
}

/* The last command sent is an STLS still waiting for its reply. */
static bool awaits_stls(pop3_state *st)
{
    const mw_tp_cmd *c = st->pending.count ? mw_tp_at(&st->pending, st->pending.count - 1) : NULL;
    return c && c->kind == PC_STLS;
}

static mw_feed_result pop3_feed(void *p, mw_dir dir, const uint8_t *data, size_t len,
                                const mw_ctx *ctx)
{
    pop3_state *st = p;
    mw_feed_result r = { MW_FEED_OK, len };
    if (st->in_tls)
        return r;
    if (st->tls_gate.waiting && mw_tlsgate_feed(&st->tls_gate, st->sess, dir, data, len,
                                                st->resync[MW_FROM_CLIENT], ctx, &st->in_tls, &r))
        return r;
    if (st->resync[dir] && len > 0) {
        if (!mw_tp_can_judge(data, len)) {
            r.status = MW_FEED_NEED_MORE;
            r.consumed = 0;
            return r;
        }
        st->resync[dir] = false;
        if (!plausible_line_start(dir, data, len))
            st->ls[dir].discarding = true;
    }
    size_t off = 0;
    while (off < len) {
        if (dir == MW_FROM_SERVER && st->smode == S_MULTI_SKIP) {
            bool need;
            off += skip_multi(st, data + off, len - off, &need, ctx);
            if (need) {
                r.status = MW_FEED_NEED_MORE;
                break;
            }
            continue;
        }
        if (dir == MW_FROM_CLIENT && awaits_stls(st) &&
            mw_tlsgate_early(&st->tls_gate, data + off, len - off)) {
            r.status = MW_FEED_NEED_MORE; /* a ClientHello before the +OK: held for TLS */
            break;
        }
        mw_line l;
        size_t used;
        mw_line_status ls =
            mw_line_take(&st->ls[dir], data + off, len - off, ctx->cfg->max_line, &l, &used);
        off += used;
        if (ls == MW_LINE_MORE) {
            r.status = MW_FEED_NEED_MORE;
            break;
        }
        if (ls == MW_LINE_OVERLONG) {
            mw_session_anomaly(st->sess, MW_ANOM_LINE_TOO_LONG);
            continue;
        }
        if (dir == MW_FROM_CLIENT) {
            client_line(st, &l, ctx);
        } else if (st->smode == S_MULTI_LINES) {
            capa_line(st, &l, ctx);
        } else if (mw_secrets_server_line(st->secrets, &l, server_line, st, ctx)) {
            /* (a line that echoes a client secret, "-ERR unknown command <password>", is
             * read redacted) */
            r = mw_tlsgate_agreed(&st->tls_gate, off, len, &st->in_tls);
            return r;
        }
    }
    r.consumed = off;
    return r;
}

static void pop3_gap(void *p, mw_dir dir, uint64_t missing, const mw_ctx *ctx)
{
    (void)missing;
    (void)ctx;
    pop3_state *st = p;
    st->ls[dir].discarding = false;
    if (dir == MW_FROM_SERVER && st->smode != S_LINE) {
        /* inside a multi-line answer: go on skipping to its lone dot */
        st->smode = S_MULTI_SKIP;
        st->dot.line_start = false;
    } else {
        st->resync[dir] = true;
    }
    if (dir == MW_FROM_SERVER)
        st->sess->greeted = true; /* the greeting may be in the hole */
    /* commands or answers vanished: the queue no longer pairs them */
    mw_tp_clear(&st->pending);
}

static void pop3_close(void *p, const mw_ctx *ctx)
{
    pop3_state *st = p;
    mw_tp_close_line(st->sess, st->in_tls, &st->pending, ctx);
}

static bool pop3_probe(const uint8_t *p, size_t len)
{
    return mw_tp_greets(p, len, "+OK");
}

static const mw_port_proto pop3_ports[] = {
    { 110, MW_PROTO_POP3 },
    { 0, MW_PROTO_UNKNOWN },
};

/* Two copies of client bytes differed: inside a login, both are secret (text/secrets.h). */
static void pop3_overlap(void *p, mw_dir dir, uint64_t off, const uint8_t *other, size_t len,
                       uint64_t first_frame, const mw_ctx *ctx)
{
    pop3_state *st = p;
    (void)off;
    (void)ctx;
    mw_secrets_overlap_conflict(&st->secrets, st->sess, dir, other, len, first_frame,
                                st->auth_active || st->auth_failed);
}

const mw_dissector mw_pop3_dissector = MW_TP_DISSECTOR(pop3, MW_PROTO_POP3);
