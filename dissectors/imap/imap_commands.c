#include "text/reply_log.h"
#include "imap/imap_commands.h"

#include <glib.h>
#include <string.h>

#include "imap/imap_syntax.h"
#include "imap/imap_transcript.h"

/* ---------- client: commands ---------- */

/* LOGIN userid password (RFC 9051 6.2.3), each an astring: atom, quoted or literal.
 * Walks the arguments on this line from st->cur.argi; copies the user name only. Stops
 * at a literal announcement, which imap_start_literal() then handles. */
static void login_args(imap_state *st, const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (st->cur.argi < 2) {
        i = mw_tp_skip_sp(p, len, i);
        if (i >= len || p[i] == '{')
            return;
        bool user = st->cur.argi == 0;
        uint8_t buf[MW_MAX_TEXT];
        size_t k = 0;
        if (p[i] == '"') {
            for (i++; i < len && p[i] != '"'; i++) {
                if (p[i] == '\\' && i + 1 < len)
                    i++; /* quoted-specials are escaped */
                if (k < sizeof buf)
                    buf[k++] = p[i];
            }
            i++;
        } else {
            for (; i < len && p[i] != ' '; i++)
                if (k < sizeof buf)
                    buf[k++] = p[i];
        }
        /* a user name only when it cannot be the password ("user<TAB>pass" is one atom) */
        if (user && mw_sasl_user_ok(buf, k))
            mw_tp_auth_user(st->sess, mw_wire_strdup(buf, k, MW_MAX_TEXT));
        else
            mw_secrets_add(&st->secrets, buf, k); /* to redact a server's echo of it */
        explicit_bzero(buf, k);
        st->cur.argi++;
    }
}

/* tls_required at a login attempt the server said it would refuse (RFC 9051 7.2.2:
 * LOGINDISABLED; RFC 5530: PRIVACYREQUIRED). */
static void login_attempt_tls_check(imap_state *st, mw_tp_cmd *c, const mw_ctx *ctx)
{
    if (st->sess->encrypted)
        return;
    const char *why = NULL;
    if (c->kind == IC_LOGIN && st->logindisabled)
        why = "LOGIN attempted although the server advertised LOGINDISABLED";
    else if (st->privacy_required)
        why = "login attempted after the server answered [PRIVACYREQUIRED]";
    if (!why)
        return;
    mw_session_flag_text(st->sess, MW_FLAG_TLS_REQUIRED, ctx->frame, ctx->ts_us, why);
    c->tls_flagged = true;
}

/* AUTHENTICATE mechanism [initial-response] (RFC 9051 6.2.2, RFC 4959). */
static bool authenticate(imap_state *st, const mw_tp_cmd *c, const uint8_t *p, size_t len,
                         const mw_ctx *ctx)
{
    size_t i = mw_tp_skip_sp(p, len, 0);
    size_t m = mw_tp_word(p + i, len - i, st->auth_mech, sizeof st->auth_mech);
    mw_tp_auth_begin(st->sess, st->auth_mech);
    st->auth_active = true;
    mw_strlcpy(st->auth_tag, c->tag, sizeof st->auth_tag);
    st->auth_step = 0;
    i = mw_tp_skip_sp(p, len, i + m);
    st->sasl_ts = ctx->ts_us;
    if (i >= len)
        return false;
    /* SASL-IR; "=" is an empty response (RFC 4959 section 3) */
    mw_secrets_add(&st->secrets, p + i, len - i);
    mw_tp_sasl(st->sess, st->auth_mech, st->auth_step++, st->auth_asks, p + i, len - i, ctx);
    return true;
}

static void new_command(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    mw_tp_cmd c = { 0 };
    size_t t = imap_take_tag(l->p, l->len, c.tag);
    if (t == 0)
        return; /* not a command line: garbage or lost sync */
    size_t i = t + 1;
    size_t v = mw_tp_word(l->p + i, l->len - i, c.name, sizeof c.name);
    if (v == 0)
        return;
    c.kind = imap_verb(c.name, IC_OTHER);
    if (c.kind == IC_OTHER)
        mw_tp_unknown_verb(c.name, 16);
    i += v;
    if (c.kind == IC_UID) { /* "UID FETCH": name the real command (RFC 9051 6.4.9) */
        size_t j = mw_tp_skip_sp(l->p, l->len, i);
        char sub[16];
        i = j + mw_tp_word(l->p + j, l->len - j, sub, sizeof sub);
        if (sub[0]) {
            g_strlcat(c.name, " ", sizeof c.name);
            g_strlcat(c.name, sub, sizeof c.name);
        }
    }
    c.frame = ctx->frame;
    c.ts_us = ctx->ts_us;
    c.exempt = c.kind == IC_LOGOUT || c.kind == IC_IDLE;
    mw_cmdrec_of(st->sess)->commands++;

    memset(&st->cur, 0, sizeof st->cur);
    mw_strlcpy(st->cur.tag, c.tag, sizeof st->cur.tag);
    st->cur.kind = c.kind;
    const uint8_t *args = l->p + i;
    size_t alen = l->len - i;
    bool ir = false;
    switch (c.kind) {
    case IC_LOGIN:
        mw_tp_auth_begin(st->sess, "LOGIN");
        login_attempt_tls_check(st, &c, ctx);
        mw_tp_cleartext(st->sess, "LOGIN", ctx);
        login_args(st, args, alen);
        break;
    case IC_AUTHENTICATE:
        login_attempt_tls_check(st, &c, ctx);
        ir = authenticate(st, &c, args, alen, ctx);
        break;
    case IC_IDLE:
        st->idle_active = true;
        break;
    default:
        break;
    }
    mw_tp_push(&st->pending, st->sess, &c);
    if (c.kind != IC_AUTHENTICATE)
        imap_start_literal(st, MW_FROM_CLIENT, l->p, l->len);
    if (st->sess->transcript)
        imap_command_event(st, &c, l, ir, ctx);
}

/* A line inside AUTHENTICATE: a SASL response, or "*" to cancel (RFC 9051 6.2.2). */
static void sasl_line(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    bool cancel = l->len == 1 && l->p[0] == '*';
    if (st->sess->transcript) {
        imap_flush_held(st);
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%s",
                         cancel ? "* (cancel)" : "[SASL response redacted]");
    }
    st->sasl_ts = ctx->ts_us;
    if (cancel)
        return;
    mw_secrets_add(&st->secrets, l->p, l->len);
    mw_tp_sasl(st->sess, st->auth_mech, st->auth_step++, st->auth_asks, l->p, l->len, ctx);
    st->auth_asks = MW_SASL_ASKS_UNKNOWN;
}

/* A tagged command with a verb we know: the client has left a failed login. */
static bool known_command(const mw_line *l)
{
    char tag[MW_TP_TAG_MAX], word[MW_TP_NAME_MAX];
    size_t t = imap_take_tag(l->p, l->len, tag);
    if (t == 0)
        return false;
    size_t w = mw_tp_word(l->p + t + 1, l->len - t - 1, word, sizeof word);
    size_t end = t + 1 + w;
    if (w == 0 || (end < l->len && l->p[end] != ' '))
        return false;
    return imap_verb(word, -1) >= 0 || imap_other_verb(word);
}

void imap_client_line(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    imap_side *sd = &st->side[MW_FROM_CLIENT];
    if (sd->cont) { /* the command goes on after a literal */
        sd->cont = false;
        if (st->cur.kind == IC_LOGIN)
            login_args(st, l->p, l->len);
        imap_start_literal(st, MW_FROM_CLIENT, l->p, l->len);
        return;
    }
    if (st->auth_active) {
        sasl_line(st, l, ctx);
        return;
    }
    if (st->idle_active && l->len == 4 && g_ascii_strncasecmp((const char *)l->p, "DONE", 4) == 0) {
        st->idle_active = false; /* RFC 2177: DONE ends IDLE; the tagged OK follows */
        if (st->sess->transcript) {
            imap_flush_held(st);
            mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "DONE");
        }
        return;
    }
    if (st->auth_failed && !known_command(l)) {
        /* after a failed or cancelled login: most likely the password once more */
        mw_secrets_add(&st->secrets, l->p, l->len);
        if (st->sess->transcript) {
            imap_flush_held(st);
            mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                             "[client line after a failed login redacted: %zu bytes]", l->len);
        }
        return;
    }
    st->auth_failed = false;
    new_command(st, l, ctx);
}
