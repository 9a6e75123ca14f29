#include "imap/imap_responses.h"

#include <glib.h>
#include <string.h>

#include "imap/imap_syntax.h"
#include "imap/imap_transcript.h"

/* ---------- server: responses ---------- */

/* "STARTTLS LOGINDISABLED AUTH=PLAIN ...": each listing is complete (RFC 9051 7.2.2),
 * so LOGINDISABLED holds until a listing without it (e.g. after STARTTLS). */
static void capabilities(imap_state *st, const uint8_t *p, size_t len)
{
    st->logindisabled = mw_bytes_contain(p, len, "LOGINDISABLED");
}

/* "NO [CODE] text" as the server put it, without the tag: the evidence. */
static char *evidence_line(const uint8_t *p, size_t len)
{
    return mw_wire_strdup(p, len, MW_MAX_TEXT);
}

static bool privacy_refusal(const imap_state *st, const mw_tp_cmd *c, const mw_tp_resp *r)
{
    return strcmp(r->code, "PRIVACYREQUIRED") == 0 || (c->kind == IC_LOGIN && st->logindisabled) ||
           mw_tp_tls_words(r->text, r->text_len);
}

static void on_failure(imap_state *st, const mw_tp_cmd *c, const char *status,
                       const mw_tp_resp *r, const char *line, const mw_ctx *ctx)
{
    mw_tp_failure(st->sess, c->name, status, r->code, r->text, r->text_len, ctx);
    switch (c->kind) {
    case IC_LOGIN:
    case IC_AUTHENTICATE:
        mw_tp_auth_result(st->sess, false, status);
        st->auth_failed = true;
        if (!privacy_refusal(st, c, r))
            mw_tp_raise(st->sess, MW_FLAG_AUTH_FAILED, ctx, line);
        else if (!c->tls_flagged && !st->sess->encrypted)
            mw_tp_raise(st->sess, MW_FLAG_TLS_REQUIRED, ctx, line);
        else /* flagged at the attempt; the server's words explain it best */
            mw_tp_decisive(st->sess, line);
        break;
    case IC_STARTTLS:
        mw_tp_raise(st->sess, MW_FLAG_STARTTLS_REFUSED, ctx, line);
        break;
    default:
        break;
    }
}

/* Returns true when the session turns to TLS after this line. */
static bool on_ok(imap_state *st, const mw_tp_cmd *c)
{
    switch (c->kind) {
    case IC_LOGIN:
    case IC_AUTHENTICATE:
        mw_tp_auth_result(st->sess, true, "OK");
        break;
    case IC_STARTTLS:
        st->sess->starttls = true;
        return true;
    case IC_COMPRESS: /* RFC 4978 section 3: both directions compress after the OK */
        st->compressed = true;
        mw_session_anomaly(st->sess, MW_ANOM_COMPRESSED);
        break;
    case IC_LOGOUT:
        st->sess->quit_seen = true;
        break;
    default:
        break;
    }
    return false;
}

/* A tagged completion. Returns true when the session turns to TLS after it. */
static bool tagged(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    char tag[MW_TP_TAG_MAX];
    size_t t = imap_take_tag(l->p, l->len, tag);
    if (t == 0)
        return false;
    const uint8_t *rest = l->p + t + 1;
    size_t rlen = l->len - t - 1;
    char word[16];
    size_t w = mw_tp_word(rest, rlen, word, sizeof word);
    int status = imap_status_of(word);
    if (status != IS_OK && status != IS_NO && status != IS_BAD)
        return false; /* not a completion: garbage or lost sync */
    mw_tp_resp r;
    mw_tp_resp_code(rest + w, rlen - w, &r);

    mw_tp_cmd c;
    bool paired = mw_tp_take_tag(&st->pending, tag, &c);
    if (!paired) {
        memset(&c, 0, sizeof c); /* its command was not seen (gap, mid-session start) */
        c.kind = IC_OTHER;
    } else {
        mw_session_latency(st->sess, c.name, c.ts_us, ctx->ts_us, ctx->frame);
    }
    if (st->sess->transcript) {
        imap_flush_held(st);
        mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, paired ? ctx->ts_us - c.ts_us : -1,
                         l->p, l->len);
        if (status == IS_OK && c.kind == IC_STARTTLS)
            mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, -1,
                             "[STARTTLS: TLS handshake follows]");
        else if (status == IS_OK && c.kind == IC_COMPRESS)
            mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, -1,
                             "[COMPRESS: the rest is compressed, not shown]");
    }
    imap_side *cs = &st->side[MW_FROM_CLIENT];
    if (cs->lit_left && cs->lit_done == 0 && strcmp(st->cur.tag, tag) == 0) {
        /* refused before the client sent its literal (RFC 9051 4.3: the server answers
         * BAD instead of "+"): the literal will not come */
        cs->lit_left = 0;
        st->cur.lit_is_user = false;
    }
    if (st->auth_active && strcmp(st->auth_tag, tag) == 0)
        st->auth_active = false;
    if (c.kind == IC_IDLE)
        st->idle_active = false;
    if (strcmp(r.code, "PRIVACYREQUIRED") == 0)
        st->privacy_required = true;
    else if (strcmp(r.code, "CAPABILITY") == 0)
        capabilities(st, r.args, r.args_len);

    if (status == IS_OK)
        return on_ok(st, &c);
    char *line = evidence_line(rest, rlen);
    on_failure(st, &c, word, &r, line, ctx);
    g_free(line);
    return false;
}

/* "* OK|NO|BAD|PREAUTH|BYE [code] text". */
static void untagged_status(imap_state *st, int status, const uint8_t *p, size_t len,
                            const uint8_t *after, size_t alen, const mw_ctx *ctx)
{
    mw_tp_resp r;
    mw_tp_resp_code(after, alen, &r);
    bool greeting = !st->sess->greeted;
    st->sess->greeted = true;
    if (st->sess->transcript) {
        /* the greeting, goodbyes, warnings and alerts as sent; other status lines
         * ([UIDVALIDITY] and the like) counted with the data responses */
        if (greeting) {
            imap_flush_held(st);
            mw_tp_greeting_event(st->sess, ctx, p - 2, len + 2);
        } else if (status != IS_OK || strcmp(r.code, "ALERT") == 0) {
            imap_flush_held(st);
            mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, -1, p - 2, len + 2);
        } else {
            imap_agg_add(st, "OK", ctx);
        }
    }
    if (strcmp(r.code, "CAPABILITY") == 0)
        capabilities(st, r.args, r.args_len);
    else if (strcmp(r.code, "PRIVACYREQUIRED") == 0)
        st->privacy_required = true;
    if (status != IS_BYE)
        return;
    /* BYE: the server ends the session (RFC 9051 7.1.5). Whatever is pending now will
     * not be answered; that is not the client's command going unanswered. */
    for (unsigned i = 0; i < st->pending.count; i++) {
        mw_tp_cmd *c = mw_tp_at(&st->pending, i);
        c->exempt = true;
        if (c->kind == IC_LOGOUT)
            st->sess->quit_seen = true;
    }
    char *line = evidence_line(p, len);
    if (greeting) /* the server refuses the connection outright */
        mw_tp_failure(st->sess, "CONNECT", "BYE", r.code, r.text, r.text_len, ctx);
    if (mw_tp_timeout_words(r.text, r.text_len))
        mw_tp_raise(st->sess, MW_FLAG_SERVER_TIMEOUT, ctx, line);
    else if (greeting)
        mw_tp_decisive(st->sess, line);
    g_free(line);
}

static void untagged(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    const uint8_t *p = l->p + 2;
    size_t len = l->len - 2;
    char word[16];
    size_t w = mw_tp_word(p, len, word, sizeof word);
    int status = imap_status_of(word);
    if (status != IS_OTHER) {
        untagged_status(st, status, p, len, p + w, len - w, ctx);
        return;
    }
    st->sess->greeted = true;
    if (strcmp(word, "CAPABILITY") == 0)
        capabilities(st, p + w, len - w);
    if (st->sess->transcript) {
        if (strcmp(word, "CAPABILITY") == 0 || strcmp(word, "ENABLED") == 0) {
            imap_flush_held(st);
            mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, -1, l->p, l->len);
        } else {
            /* "* 3 FETCH (...)": the kind is the word after the number */
            if (w > 0 && g_ascii_isdigit(p[0])) {
                size_t j = mw_tp_skip_sp(p, len, w);
                mw_tp_word(p + j, len - j, word, sizeof word);
            }
            imap_agg_add(st, word[0] ? word : "?", ctx);
        }
    }
    /* data responses (FETCH, LIST, ...) may carry literals */
    imap_start_literal(st, MW_FROM_SERVER, l->p, l->len);
}

/* Returns true when the session turns to TLS after this line. */
static bool server_line(void *p, const mw_line *l, const mw_ctx *ctx);

bool imap_server_line(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    /* a line that echoes a client secret ("<password> BAD ...") is read redacted */
    return mw_secrets_server_line(st->secrets, l, server_line, st, ctx);
}

static bool server_line(void *p, const mw_line *l, const mw_ctx *ctx)
{
    imap_state *st = p;
    imap_side *sd = &st->side[MW_FROM_SERVER];
    if (sd->cont) { /* a data response goes on after a literal */
        sd->cont = false;
        imap_start_literal(st, MW_FROM_SERVER, l->p, l->len);
        return false;
    }
    if (l->len == 0)
        return false;
    if (l->p[0] == '+') {
        /* continuation request: the client's literal, SASL step or IDLE; only SASL
         * challenges are shown (they carry no secret of the client's) */
        if (st->auth_active) {
            size_t c = mw_tp_skip_sp(l->p, l->len, 1);
            st->auth_asks = mw_sasl_challenge(l->p + c, l->len - c);
        }
        if (st->auth_active && st->sess->transcript) {
            imap_flush_held(st);
            mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, ctx->ts_us - st->sasl_ts, l->p,
                             l->len);
        }
        return false;
    }
    if (l->len >= 2 && l->p[0] == '*' && l->p[1] == ' ') {
        untagged(st, l, ctx);
        return false;
    }
    st->sess->greeted = true;
    return tagged(st, l, ctx);
}
