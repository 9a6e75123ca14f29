#include "smtp/smtp_state.h"

#include "core/spares.h"

#include <string.h>

smtp_state *smtp_state_new(mw_session *s)
{
    smtp_state *st = mw_spares_take(mw_spares_here(MW_SPARE_SMTP, sizeof *st, MW_STATE_SPARES));
    st->sess = s;
    st->body.line_start = true;
    st->hdr_last = -1;
    /* the reply buffer and the record are made at their first use (the record at the
     * latest when the session closes): a flow that has shown one segment costs neither
     * (issue 12) */
    return st;
}

void smtp_state_free(smtp_state *st)
{
    if (!st)
        return;
    if (st->reply_text)
        g_string_free(st->reply_text, TRUE);
    if (st->hdr_line)
        g_string_free(st->hdr_line, TRUE);
    mw_secrets_free(&st->secrets);
    mw_tp_queue_free(&st->pending);
    mw_nested_free(&st->client_hello);
    mw_spares_give(mw_spares_here(MW_SPARE_SMTP, sizeof *st, MW_STATE_SPARES), st);
}

void smtp_push(smtp_state *st, mw_tp_cmd *c)
{
    c->end_off = st->cur_end;
    mw_tp_push(&st->pending, st->sess, c);
}

mw_tp_cmd smtp_cmd_at(smtp_cmd kind, const char *name, const mw_ctx *ctx)
{
    mw_tp_cmd c = { .kind = kind, .frame = ctx->frame, .ts_us = ctx->ts_us };
    mw_strlcpy(c.name, name, sizeof c.name);
    return c;
}

const char *smtp_cmd_name(const mw_tp_cmd *c)
{
    return c->kind == CMD_NONE ? "" : c->name;
}
