#include "smtp/smtp_log.h"
#include "smtp/smtp.h"

#include "core/json.h"

mw_smtp_rec *mw_smtp_record(mw_session *s)
{
    if (s->mail.rec && s->mail.owner == &mw_smtp_dissector)
        return s->mail.rec;
    mw_smtp_rec *m = mw_arena_alloc0(mw_session_arena(s), sizeof *m); /* lists empty */
    mw_part_attach(&s->mail, &mw_smtp_dissector, m);
    return m;
}

const mw_smtp_rec *mw_smtp_of(const mw_session *s)
{
    return s->mail.owner == &mw_smtp_dissector ? s->mail.rec : NULL;
}

mw_smtp_tx *mw_smtp_tx_at(mw_smtp_rec *m, unsigned i)
{
    return i >= 1 && i <= m->tx.len ? &mw_avec_at(&m->tx, mw_smtp_tx, i - 1) : NULL;
}

const char *mw_smtp_tx_result_name(mw_tx_result r)
{
    static const char *const names[] = {
        [MW_TX_UNKNOWN] = "unknown",   [MW_TX_ACCEPTED] = "accepted",
        [MW_TX_REJECTED] = "rejected", [MW_TX_DEFERRED] = "deferred",
        [MW_TX_ABORTED] = "aborted",
    };
    return (unsigned)r < G_N_ELEMENTS(names) ? names[r] : "unknown";
}

void mw_smtp_tx_clear(mw_smtp_tx *t)
{
    g_free(t->mail_from);
    g_free(t->size);
    g_free(t->body);
    g_free(t->ret);
    g_free(t->envid);
    g_free(t->text);
    g_free(t->queue_id);
    g_free(t->hdr_block); /* the headers' values */
}

/* Only the transactions' strings: the rest is in the session's arena. */
void mw_smtp_free_record(void *p)
{
    mw_smtp_rec *m = p;
    for (guint i = 0; i < m->tx.len; i++)
        mw_smtp_tx_clear(&mw_avec_at(&m->tx, mw_smtp_tx, i));
}

static void json_rcpts(GString *out, const mw_avec *rcpt)
{
    g_string_append_c(out, '[');
    for (guint i = 0; i < rcpt->len; i++) {
        const mw_rcpt *r = &mw_avec_at(rcpt, mw_rcpt, i);
        if (i)
            g_string_append_c(out, ',');
        mw_json_first(out, "to");
        mw_json_str(out, r->to);
        mw_json_next(out, "code");
        if (r->code)
            mw_json_i64(out, r->code);
        else
            mw_put_lit(out, "null");
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

static void json_code(GString *out, int code)
{
    if (code)
        mw_json_i64(out, code);
    else
        mw_put_lit(out, "null");
}

static void json_tx_rcpts(GString *out, const mw_smtp_rec *m, const mw_smtp_tx *t)
{
    g_string_append_c(out, '[');
    for (guint i = 0; i < t->rcpt.len; i++) {
        const mw_rcpt *r = &mw_avec_at(&m->rcpt, mw_rcpt, mw_avec_at(&t->rcpt, guint, i));
        if (i)
            g_string_append_c(out, ',');
        mw_json_first(out, "to");
        mw_json_str(out, r->to);
        mw_json_next(out, "code");
        json_code(out, r->code);
        mw_json_next(out, "enhanced");
        mw_json_opt_str(out, r->enhanced);
        mw_json_next(out, "category");
        mw_json_str(out, r->category);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

static void json_flagset(GString *out, mw_flagset flags)
{
    g_string_append_c(out, '[');
    for (mw_flagset left = flags; left; left &= left - 1) { /* the set bits, lowest first */
        int f = __builtin_ctz(left);
        if (f >= MW_FLAG_COUNT)
            break;
        if (left != flags)
            g_string_append_c(out, ',');
        mw_json_str(out, mw_flag_name((mw_flag)f));
    }
    g_string_append_c(out, ']');
}

static void json_tx(GString *out, const mw_smtp_rec *m, const mw_smtp_tx *t, unsigned n)
{
    /* runs of keys and fixed values as one literal each (issue 18): the same bytes */
    mw_json_first(out, "tx");
    mw_json_u64(out, n);
    mw_json_next(out, "mail_from");
    mw_json_str(out, t->mail_from);
    mw_put_lit(out, ",\"mail_params\":{\"size\":");
    mw_json_str(out, t->size);
    mw_json_next(out, "body");
    mw_json_str(out, t->body);
    mw_json_next_bool(out, "smtputf8", t->smtputf8);
    mw_json_next_bool(out, "requiretls", t->requiretls);
    mw_json_next(out, "ret");
    mw_json_str(out, t->ret);
    mw_json_next(out, "envid");
    mw_json_str(out, t->envid);
    mw_put_lit(out, "},\"rcpt\":");
    json_tx_rcpts(out, m, t);
    mw_json_next(out, "data");
    mw_json_str(out, t->data);
    mw_json_next(out, "chunks");
    mw_json_u64(out, t->chunks);
    mw_json_next(out, "size");
    mw_json_u64(out, t->size_seen);
    if (t->chunks_refused) { /* only when there were: older records keep their keys */
        mw_json_next(out, "chunks_refused");
        mw_json_u64(out, t->chunks_refused);
        mw_json_next(out, "bytes_refused");
        mw_json_u64(out, t->bytes_refused);
    }
    mw_json_next(out, "result");
    mw_json_str(out, mw_smtp_tx_result_name(t->result));
    mw_json_next(out, "code");
    json_code(out, t->code);
    mw_json_next(out, "enhanced");
    mw_json_opt_str(out, t->enhanced);
    mw_json_next(out, "text");
    mw_json_str(out, t->text);
    mw_json_next(out, "frame");
    if (t->frame)
        mw_json_u64(out, t->frame);
    else
        mw_put_lit(out, "null");
    mw_json_next(out, "queue_id");
    mw_json_str(out, t->queue_id);
    _Static_assert(MW_HDR_MESSAGE_ID == 0 && MW_HDR_SUBJECT == 1 && MW_HDR_FROM == 2 &&
                       MW_HDR_TO == 3 && MW_HDR_DATE == 4 && MW_HDR_COUNT == 5,
                   "the headers' keys below, in their order");
    mw_put_lit(out, ",\"headers\":{\"message_id\":");
    mw_json_str(out, t->header[MW_HDR_MESSAGE_ID]);
    mw_put_lit(out, ",\"subject\":");
    mw_json_str(out, t->header[MW_HDR_SUBJECT]);
    mw_put_lit(out, ",\"from\":");
    mw_json_str(out, t->header[MW_HDR_FROM]);
    mw_put_lit(out, ",\"to\":");
    mw_json_str(out, t->header[MW_HDR_TO]);
    mw_put_lit(out, ",\"date\":");
    mw_json_str(out, t->header[MW_HDR_DATE]);
    mw_put_lit(out, "},\"flags\":");
    json_flagset(out, t->flags);
    g_string_append_c(out, '}');
}

void mw_smtp_write_json(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    const mw_smtp_rec *m = rec;
    mw_put_lit(out, ",\"smtp\":{\"helo\":");
    mw_json_str(out, m->helo);
    mw_json_next(out, "mail_from");
    mw_json_str(out, m->mail_from);
    mw_json_next(out, "rcpt");
    json_rcpts(out, &m->rcpt);
    mw_json_next(out, "messages");
    mw_json_u64(out, m->messages);
    mw_json_next(out, "replies");
    mw_replies_json(out, &m->replies, true);
    mw_put_lit(out, ",\"transactions\":[");
    for (guint i = 0; i < m->tx.len; i++) {
        if (i)
            g_string_append_c(out, ',');
        json_tx(out, m, &mw_avec_at(&m->tx, mw_smtp_tx, i), i + 1);
    }
    g_string_append_c(out, ']');
    if (m->tx_dropped) {
        mw_json_next(out, "transactions_dropped");
        mw_json_u64(out, m->tx_dropped);
    }
    mw_json_next(out, "message_bytes");
    mw_json_u64(out, m->message_bytes);
    mw_json_next(out, "capabilities");
    mw_json_strv(out, (const char *const *)m->capabilities.data, m->capabilities.len);
    g_string_append_c(out, '}');
}

static void text_size(GString *out, uint64_t n)
{
    if (n < 1024)
        g_string_append_printf(out, " %" G_GUINT64_FORMAT " bytes", n);
    else if (n < 1024 * 1024)
        g_string_append_printf(out, " %" G_GUINT64_FORMAT " KB", (n + 512) / 1024);
    else
        g_string_append_printf(out, " %.1f MB", (double)n / (1024.0 * 1024.0));
}

/* "tx 3 from <a@b> → 2 rcpt (1 refused: 550 5.1.1) 48 KB rejected 554 5.7.1 spam" */
static void text_tx(GString *out, const mw_smtp_rec *m, const mw_smtp_tx *t, unsigned n)
{
    g_string_append_printf(out, "        tx %u from <", n);
    mw_text_printable(out, t->mail_from);
    g_string_append_printf(out, "> \u2192 %u rcpt", t->rcpt.len);
    unsigned refused = 0;
    const mw_rcpt *first = NULL;
    for (guint i = 0; i < t->rcpt.len; i++) {
        const mw_rcpt *r = &mw_avec_at(&m->rcpt, mw_rcpt, mw_avec_at(&t->rcpt, guint, i));
        if (r->code >= 400) {
            refused++;
            first = first ? first : r;
        }
    }
    if (refused) {
        g_string_append_printf(out, " (%u refused: %d", refused, first->code);
        if (first->enhanced[0])
            g_string_append_printf(out, " %s", first->enhanced);
        g_string_append_c(out, ')');
    }
    if (t->data)
        text_size(out, t->size_seen);
    g_string_append_printf(out, " %s", mw_smtp_tx_result_name(t->result));
    if (t->code || t->enhanced[0]) { /* (a reply without a code: its enhanced code) */
        if (t->code)
            g_string_append_printf(out, " %d", t->code);
        if (t->enhanced[0])
            g_string_append_printf(out, " %s", t->enhanced);
        if (t->text && *t->text && t->result != MW_TX_ACCEPTED) {
            g_string_append_c(out, ' ');
            mw_text_printable(out, t->text);
        }
    }
    if (t->queue_id) {
        g_string_append(out, " queued as ");
        mw_text_printable(out, t->queue_id);
    }
    g_string_append_c(out, '\n');
}

/* helo, sender, recipients (how many refused), messages accepted and their bytes; then a
 * line per transaction (-q: per transaction with findings, and how many were not shown) */
static void write_text(GString *out, const mw_smtp_rec *m, bool only_findings)
{
    if (!m->helo && !m->mail_from && !m->rcpt.len)
        return;
    unsigned refused = 0;
    for (guint i = 0; i < m->rcpt.len; i++)
        refused += mw_avec_at(&m->rcpt, mw_rcpt, i).code >= 400;
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
    g_string_append_printf(out, "rcpt %u", m->rcpt.len);
    if (refused)
        g_string_append_printf(out, " (%u refused)", refused);
    g_string_append_printf(out, "  messages %u", m->messages);
    if (m->message_bytes)
        g_string_append_printf(out, " (%" G_GUINT64_FORMAT " bytes)", m->message_bytes);
    g_string_append_c(out, '\n');
    unsigned hidden = 0;
    for (guint i = 0; i < m->tx.len; i++) {
        const mw_smtp_tx *t = &mw_avec_at(&m->tx, mw_smtp_tx, i);
        if (only_findings && !mw_smtp_tx_has_findings(t))
            hidden++;
        else
            text_tx(out, m, t, i + 1);
    }
    if (hidden)
        g_string_append_printf(out, "        (%u transaction%s without findings not shown: -q)\n",
                               hidden, hidden == 1 ? "" : "s");
    if (m->tx_dropped)
        g_string_append_printf(out, "        ... %u more transactions not kept\n", m->tx_dropped);
}

void mw_smtp_write_text(GString *out, const mw_session *s, const void *rec)
{
    write_text(out, rec, false);
}

void mw_smtp_write_text_findings(GString *out, const mw_session *s, const void *rec)
{
    write_text(out, rec, true);
}
