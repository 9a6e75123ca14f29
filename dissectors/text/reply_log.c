#include "text/reply_log.h"

#include "core/json.h"

/* Replies a record's list has room for at first (most sessions keep one or two). */
#define MW_REPLIES_USUAL 4

mw_reply *mw_replies_add(mw_session *s, mw_avec *list)
{
    if (list->len >= MW_MAX_REPLIES)
        return NULL;
    return mw_avec_push(mw_session_arena(s), list, sizeof(mw_reply), MW_REPLIES_USUAL);
}

void mw_replies_json(GString *out, const mw_avec *a, bool smtp)
{
    g_string_append_c(out, '[');
    for (guint i = 0; i < a->len; i++) {
        const mw_reply *r = &mw_avec_at(a, mw_reply, i);
        if (i)
            g_string_append_c(out, ',');
        mw_json_first(out, "cmd");
        mw_json_opt_str(out, r->cmd);
        if (smtp) {
            mw_json_next(out, "code");
            if (r->code) /* 0: a reply line without a code (SMTP invalid_reply) */
                mw_json_i64(out, r->code);
            else
                mw_put_lit(out, "null");
            mw_json_next(out, "enhanced");
            mw_json_opt_str(out, r->enhanced);
            mw_json_next(out, "category");
            mw_json_str(out, r->category);
        } else {
            mw_json_next(out, "status");
            mw_json_str(out, r->status);
            mw_json_next(out, "code");
            mw_json_opt_str(out, r->enhanced);
        }
        mw_json_next(out, "text");
        mw_json_text(out, r->text);
        mw_json_next(out, "frame");
        mw_json_u64(out, r->frame);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

void mw_cmdrec_free(void *p)
{
    (void)p; /* the record, its list and texts go with the session's arena */
}

mw_cmd_rec *mw_cmdrec_attach(mw_session *s, const mw_dissector *d)
{
    mw_cmd_rec *c = mw_cmdrec_of(s);
    if (c)
        return c;
    c = mw_arena_alloc0(mw_session_arena(s), sizeof *c);
    c->name = d->name;
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
    mw_json_first(out, "commands");
    mw_json_u64(out, c->commands);
    mw_json_next(out, "failures");
    mw_replies_json(out, &c->failures, false);
    g_string_append_c(out, '}');
}

/* The command count and the first failure, in the server's words. */
void mw_cmdrec_write_text(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    const mw_cmd_rec *c = rec;
    g_string_append_printf(out, "      %s commands %u  failures %u", c->name, c->commands,
                           c->failures.len);
    if (c->failures.len) {
        const mw_reply *r = &mw_avec_at(&c->failures, mw_reply, 0);
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
