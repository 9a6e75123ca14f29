#include "smtp/smtp_log.h"
#include "smtp/smtp.h"

#include "core/json.h"

mw_smtp_rec *mw_smtp_record(mw_session *s)
{
    if (s->mail.rec && s->mail.owner == &mw_smtp_dissector)
        return s->mail.rec;
    mw_smtp_rec *m = g_new0(mw_smtp_rec, 1);
    m->rcpt = g_array_new(FALSE, FALSE, sizeof(mw_rcpt));
    m->replies = mw_replies_new();
    m->capabilities = g_ptr_array_new_with_free_func(g_free);
    mw_part_attach(&s->mail, &mw_smtp_dissector, m);
    return m;
}

const mw_smtp_rec *mw_smtp_of(const mw_session *s)
{
    return s->mail.owner == &mw_smtp_dissector ? s->mail.rec : NULL;
}

void mw_smtp_free_record(void *p)
{
    mw_smtp_rec *m = p;
    g_free(m->helo);
    g_free(m->mail_from);
    for (guint i = 0; i < m->rcpt->len; i++)
        g_free(g_array_index(m->rcpt, mw_rcpt, i).to);
    g_array_free(m->rcpt, TRUE);
    g_ptr_array_free(m->capabilities, TRUE);
    mw_replies_free(m->replies);
    g_free(m);
}

static void json_rcpts(GString *out, const GArray *rcpt)
{
    g_string_append_c(out, '[');
    for (guint i = 0; i < rcpt->len; i++) {
        const mw_rcpt *r = &g_array_index(rcpt, mw_rcpt, i);
        if (i)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        mw_json_key(out, "to");
        mw_json_str(out, r->to);
        mw_json_key(out, "code");
        if (r->code)
            mw_json_i64(out, r->code);
        else
            mw_put_lit(out, "null");
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

void mw_smtp_write_json(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    const mw_smtp_rec *m = rec;
    mw_json_key(out, "smtp");
    g_string_append_c(out, '{');
    mw_json_key(out, "helo");
    mw_json_str(out, m->helo);
    mw_json_key(out, "mail_from");
    mw_json_str(out, m->mail_from);
    mw_json_key(out, "rcpt");
    json_rcpts(out, m->rcpt);
    mw_json_key(out, "messages");
    mw_json_u64(out, m->messages);
    mw_json_key(out, "replies");
    mw_replies_json(out, m->replies, true);
    mw_json_key(out, "transactions");
    mw_json_u64(out, m->transactions);
    mw_json_key(out, "message_bytes");
    mw_json_u64(out, m->message_bytes);
    mw_json_key(out, "capabilities");
    mw_json_strlist(out, m->capabilities);
    g_string_append_c(out, '}');
}

/* helo, sender, recipients (how many refused), messages accepted and their bytes */
void mw_smtp_write_text(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    const mw_smtp_rec *m = rec;
    if (!m->helo && !m->mail_from && !m->rcpt->len)
        return;
    unsigned refused = 0;
    for (guint i = 0; i < m->rcpt->len; i++)
        refused += g_array_index(m->rcpt, mw_rcpt, i).code >= 400;
    g_string_append(out, "      ");
    if (m->helo) {
        g_string_append(out, "helo ");
        mw_text_printable(out, m->helo);
        g_string_append(out, "  ");
    }
    if (m->mail_from) {
        g_string_append(out, "from <");
        mw_text_printable(out, m->mail_from);
        g_string_append(out, ">  ");
    }
    g_string_append_printf(out, "rcpt %u", m->rcpt->len);
    if (refused)
        g_string_append_printf(out, " (%u refused)", refused);
    g_string_append_printf(out, "  messages %u", m->messages);
    if (m->message_bytes)
        g_string_append_printf(out, " (%" G_GUINT64_FORMAT " bytes)", m->message_bytes);
    g_string_append_c(out, '\n');
}
