#include "text/reply_log.h"

#include "core/json.h"

GArray *mw_replies_new(void)
{
    return g_array_new(FALSE, FALSE, sizeof(mw_reply));
}

void mw_replies_free(GArray *a)
{
    if (!a)
        return;
    for (guint i = 0; i < a->len; i++)
        g_free(g_array_index(a, mw_reply, i).text);
    g_array_free(a, TRUE);
}

void mw_replies_json(GString *out, const GArray *a, bool smtp)
{
    g_string_append_c(out, '[');
    for (guint i = 0; a && i < a->len; i++) {
        const mw_reply *r = &g_array_index(a, mw_reply, i);
        if (i)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        mw_json_key(out, "cmd");
        mw_json_opt_str(out, r->cmd);
        if (smtp) {
            mw_json_key(out, "code");
            if (r->code) /* 0: a reply line without a code (SMTP invalid_reply) */
                mw_json_i64(out, r->code);
            else
                mw_put_lit(out, "null");
            mw_json_key(out, "enhanced");
            mw_json_opt_str(out, r->enhanced);
            mw_json_key(out, "category");
            mw_json_str(out, r->category);
        } else {
            mw_json_key(out, "status");
            mw_json_str(out, r->status);
            mw_json_key(out, "code");
            mw_json_opt_str(out, r->enhanced);
        }
        mw_json_key(out, "text");
        mw_json_str(out, r->text);
        mw_json_key(out, "frame");
        mw_json_u64(out, r->frame);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

void mw_cmdrec_free(void *p)
{
    mw_cmd_rec *c = p;
    mw_replies_free(c->failures);
    g_free(c);
}

mw_cmd_rec *mw_cmdrec_attach(mw_session *s, const mw_dissector *d)
{
    mw_cmd_rec *c = mw_cmdrec_of(s);
    if (c)
        return c;
    c = g_new0(mw_cmd_rec, 1);
    c->name = d->name;
    c->failures = mw_replies_new();
    mw_part_attach(&s->mail, d, c);
    return c;
}

mw_cmd_rec *mw_cmdrec_of(const mw_session *s)
{
    /* the part's kind is told by its free hook: only command records have this one */
    return s->mail.free_record == mw_cmdrec_free ? s->mail.rec : NULL;
}

void mw_cmdrec_write_json(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    const mw_cmd_rec *c = rec;
    mw_json_key(out, c->name);
    g_string_append_c(out, '{');
    mw_json_key(out, "commands");
    mw_json_u64(out, c->commands);
    mw_json_key(out, "failures");
    mw_replies_json(out, c->failures, false);
    g_string_append_c(out, '}');
}

/* The command count and the first failure, in the server's words. */
void mw_cmdrec_write_text(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    const mw_cmd_rec *c = rec;
    g_string_append_printf(out, "      %s commands %u  failures %u", c->name, c->commands,
                           c->failures->len);
    if (c->failures->len) {
        const mw_reply *r = &g_array_index(c->failures, mw_reply, 0);
        g_string_append(out, "  first: ");
        mw_text_printable(out, r->cmd[0] ? r->cmd : "(unsolicited)");
        g_string_append_c(out, ' ');
        mw_text_printable(out, r->status);
        if (r->enhanced[0]) {
            g_string_append(out, " [");
            mw_text_printable(out, r->enhanced);
            g_string_append_c(out, ']');
        }
        g_string_append_c(out, ' ');
        mw_text_printable(out, r->text);
    }
    g_string_append_c(out, '\n');
}
