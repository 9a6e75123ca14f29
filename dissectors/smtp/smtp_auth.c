#include "smtp/smtp_auth.h"

#include <string.h>

#include "text/sasl.h"

static void auth_response(smtp_state *st, const uint8_t *p, size_t len, const mw_ctx *ctx)
{
    mw_secrets_add(&st->secrets, p, len);
    if (!st->auth_mech[0])
        return; /* its AUTH was lost in a gap: the mechanism, and what it means, unknown */
    mw_auth_rec *a = mw_session_auth(st->sess);
    mw_sasl_info info = mw_sasl_response(st->auth_mech, st->auth_step++, st->auth_asks, p, len);
    st->auth_asks = MW_SASL_ASKS_UNKNOWN;
    if (info.user && !a->user)
        a->user = info.user;
    else
        g_free(info.user);
    if (info.carries_secret && !st->sess->encrypted)
        mw_session_flag(st->sess, MW_FLAG_CLEARTEXT_AUTH, ctx->frame, ctx->ts_us,
                        "AUTH %s credentials sent without TLS", st->auth_mech);
}

void smtp_auth_command(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                       const mw_ctx *ctx)
{
    size_t m = 0;
    while (m < arglen && arg[m] != ' ')
        m++;
    size_t copy = m < sizeof st->auth_mech - 1 ? m : sizeof st->auth_mech - 1;
    for (size_t i = 0; i < copy; i++)
        st->auth_mech[i] = g_ascii_toupper(arg[i]);
    st->auth_mech[copy] = '\0';
    st->auth_step = 0;
    st->auth_asks = MW_SASL_ASKS_UNKNOWN;
    st->auth_failed = false;
    mw_auth_rec *a = mw_session_auth(st->sess);
    mw_strlcpy(a->mechanism, st->auth_mech, sizeof a->mechanism);
    a->result = MW_AUTH_UNKNOWN;
    a->code[0] = '\0';
    if (m < arglen) /* initial response (RFC 4954 section 4) */
        auth_response(st, arg + m + 1, arglen - m - 1, ctx);
}

void smtp_auth_line(smtp_state *st, const mw_line *l, const mw_ctx *ctx)
{
    mw_tp_cmd c = smtp_cmd_at(CMD_AUTH_RESP, "AUTH", ctx);
    bool cancel = l->len == 1 && l->p[0] == '*'; /* RFC 4954 section 4 */
    if (!cancel)
        auth_response(st, l->p, l->len, ctx);
    if (st->sess->transcript)
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%s",
                         cancel ? "* (cancel)" : "[SASL response redacted]");
    smtp_push(st, &c);
}

/* Is an AUTH command or SASL response still waiting for its reply? */
static bool auth_in_flight(smtp_state *st)
{
    for (unsigned i = 0; i < st->pending.count; i++) {
        int k = mw_tp_at(&st->pending, i)->kind;
        if (k == CMD_AUTH || k == CMD_AUTH_RESP)
            return true;
    }
    return false;
}

bool smtp_auth_window(smtp_state *st)
{
    return st->auth_failed || auth_in_flight(st);
}

void smtp_auth_stray_line(smtp_state *st, const mw_line *l, const mw_ctx *ctx)
{
    if (auth_in_flight(st)) {
        /* sent before the 334 came back (AUTH LOGIN with user and password pipelined) */
        smtp_auth_line(st, l, ctx);
        return;
    }
    /* after a failed or cancelled AUTH: most likely the password sent once more */
    mw_tp_cmd c = smtp_cmd_at(CMD_AUTH_STRAY, "AUTH", ctx);
    mw_secrets_add(&st->secrets, l->p, l->len);
    mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                     "[client line after a failed AUTH redacted: %zu bytes]", l->len);
    smtp_push(st, &c);
}

void smtp_auth_event(smtp_state *st, const mw_line *l, const mw_ctx *ctx)
{
    mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "AUTH %s%s",
                     st->auth_mech,
                     l->len > 5 + strlen(st->auth_mech) ? " [initial response redacted]" : "");
}

bool smtp_auth_reply(smtp_state *st, const mw_tp_cmd *c, int code, const mw_ctx *ctx)
{
    if (code == 334) {
        /* whatever it answers (its AUTH may be lost in a gap), the next line is SASL */
        st->mode = C_AUTH;
        st->auth_asks = mw_sasl_challenge((const uint8_t *)st->reply_text->str,
                                          st->reply_text->len);
    } else if (code >= 200 && code < 300) {
        mw_auth_rec *a = mw_session_auth(st->sess);
        a->result = MW_AUTH_SUCCESS;
        g_snprintf(a->code, sizeof a->code, "%d", code);
        st->mode = C_COMMAND;
    } else if (code < 400) {
        st->mode = C_COMMAND;
    }
    return false;
}

void smtp_auth_refused(smtp_state *st, const mw_tp_cmd *c, int code, const char *low,
                       const char *line, const mw_ctx *ctx)
{
    if (code == 535 || code == 534 || code == 454 || code >= 500) {
        mw_auth_rec *a = mw_session_auth(st->sess);
        a->result = MW_AUTH_FAILURE;
        g_snprintf(a->code, sizeof a->code, "%d", code);
        bool tls_words = strstr(low, "tls") || strstr(low, "encryption");
        if (code == 538 || (code == 530 && tls_words))
            mw_tp_raise(st->sess, MW_FLAG_TLS_REQUIRED, ctx, line);
        else
            mw_tp_raise(st->sess, MW_FLAG_AUTH_FAILED, ctx, line);
    }
    st->auth_failed = true;
    st->mode = C_COMMAND;
}
