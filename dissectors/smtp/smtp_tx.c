#include "smtp/smtp_tx.h"

#include <string.h>

#include "smtp/smtp_category.h"

/* Longest queue id kept. */
#define MW_SMTP_QUEUE_ID_MAX 64
/* Longest MAIL FROM parameter value kept. */
#define MW_SMTP_PARAM_MAX 128

static mw_smtp_tx *current(smtp_state *st, unsigned tx)
{
    return mw_smtp_tx_at(mw_smtp_record(st->sess), tx);
}

/* ---------- MAIL FROM and its parameters ---------- */

/* "<addr>" or "addr" at p; *end: just after it. */
static char *take_path(const uint8_t *p, size_t len, size_t *end)
{
    size_t i = 0;
    while (i < len && p[i] == ' ')
        i++;
    size_t from = i, to;
    if (i < len && p[i] == '<') {
        from = ++i;
        while (i < len && p[i] != '>')
            i++;
        to = i;
        if (i < len)
            i++;
    } else {
        while (i < len && p[i] != ' ')
            i++;
        to = i;
    }
    *end = i;
    return mw_wire_strdup(p + from, to - from, MW_MAX_TEXT);
}

/* One "KEY=value" or "KEY" parameter (RFC 5321 4.1.2 esmtp-param). */
static void mail_param(mw_smtp_tx *t, const uint8_t *p, size_t len)
{
    const uint8_t *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    char key[16];
    if (klen == 0 || klen >= sizeof key)
        return;
    for (size_t i = 0; i < klen; i++)
        key[i] = g_ascii_toupper(p[i]);
    key[klen] = '\0';
    char **slot = strcmp(key, "SIZE") == 0    ? &t->size
                  : strcmp(key, "BODY") == 0  ? &t->body
                  : strcmp(key, "RET") == 0   ? &t->ret
                  : strcmp(key, "ENVID") == 0 ? &t->envid
                                              : NULL;
    if (slot && eq && !*slot)
        *slot = mw_wire_strdup(eq + 1, len - klen - 1, MW_SMTP_PARAM_MAX);
    else if (strcmp(key, "SMTPUTF8") == 0)
        t->smtputf8 = true;
    else if (strcmp(key, "REQUIRETLS") == 0)
        t->requiretls = true;
}

void smtp_tx_mail(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                  const mw_ctx *ctx)
{
    mw_smtp_rec *m = mw_smtp_record(st->sess);
    if (m->tx.len >= MW_MAX_TX) {
        m->tx_dropped++;
        st->cur_tx = 0;
        return;
    }
    mw_smtp_tx t = { 0 };
    t.mail_frame = ctx->frame;
    const uint8_t *colon = memchr(arg, ':', arglen);
    size_t off = colon ? (size_t)(colon - arg) + 1 : arglen, end;
    t.mail_from = take_path(arg + off, arglen - off, &end);
    off += end;
    while (off < arglen) {
        while (off < arglen && arg[off] == ' ')
            off++;
        size_t n = 0;
        while (off + n < arglen && arg[off + n] != ' ')
            n++;
        if (n)
            mail_param(&t, arg + off, n);
        off += n;
    }
    /* (room for one at first: most sessions send one message; then 2, 4, ...) */
    *(mw_smtp_tx *)mw_avec_push(mw_session_arena(st->sess), &m->tx, sizeof t, 1) = t;
    st->cur_tx = m->tx.len;
    c->tx = st->cur_tx;
}

/* The transaction commands go to: none once its whole content was sent (a RCPT or DATA
 * after that, without a new MAIL, is out of sequence). */
static unsigned open_tx(smtp_state *st)
{
    mw_smtp_tx *t = current(st, st->cur_tx);
    return t && !t->sent ? st->cur_tx : 0;
}

void smtp_tx_bad_bdat(smtp_state *st, mw_tp_cmd *c)
{
    c->tx = open_tx(st);
}

void smtp_tx_rcpt(smtp_state *st, mw_tp_cmd *c, unsigned index)
{
    c->tx = open_tx(st);
    mw_smtp_tx *t = current(st, c->tx);
    if (t && index != G_MAXUINT)
        *(guint *)mw_avec_push(mw_session_arena(st->sess), &t->rcpt, sizeof index, 4) = index;
    else if (t)
        t->rcpt_dropped++;
}

/* ---------- content ---------- */

void smtp_tx_content(smtp_state *st, mw_tp_cmd *c, bool bdat, uint64_t chunk, bool last)
{
    c->tx = open_tx(st);
    mw_smtp_tx *t = current(st, c->tx);
    if (st->body_tx != c->tx || !t || !t->data) {
        /* a new content: its headers are read from its first byte */
        st->hdr_done = false;
        st->hdr_overlong = false;
        st->hdr_last = -1;
        st->hdr_seen = 0;
        if (st->hdr_line)
            g_string_truncate(st->hdr_line, 0);
    }
    st->body_tx = c->tx;
    if (!t)
        return;
    t->data = bdat ? "BDAT" : "DATA";
    if (bdat) {
        t->chunks++;
        t->size_seen += chunk;
        t->sent = last;
    }
}

#define H_MESSAGE_ID "message-id"
#define H_SUBJECT "subject"
#define H_FROM "from"
#define H_TO "to"
#define H_DATE "date"
static const char *const header_names[MW_HDR_COUNT] = {
    [MW_HDR_MESSAGE_ID] = H_MESSAGE_ID, [MW_HDR_SUBJECT] = H_SUBJECT,
    [MW_HDR_FROM] = H_FROM,             [MW_HDR_TO] = H_TO,
    [MW_HDR_DATE] = H_DATE,
};
/* Their lengths, and which lengths occur (a header line's name is measured once). */
#define HLEN(s) (sizeof s - 1)
#define MW_HDR_NAME_MAX HLEN(H_MESSAGE_ID)
static const uint8_t header_len[MW_HDR_COUNT] = {
    [MW_HDR_MESSAGE_ID] = HLEN(H_MESSAGE_ID), [MW_HDR_SUBJECT] = HLEN(H_SUBJECT),
    [MW_HDR_FROM] = HLEN(H_FROM),             [MW_HDR_TO] = HLEN(H_TO),
    [MW_HDR_DATE] = HLEN(H_DATE),
};
#define HBIT(s) (1u << HLEN(s))
static const unsigned header_lens = HBIT(H_MESSAGE_ID) | HBIT(H_SUBJECT) | HBIT(H_FROM) |
                                    HBIT(H_TO) | HBIT(H_DATE);

/* Each header's room in a transaction's hdr_block: its value at the cap, and the NUL. */
#define HDR_ROOM (MW_SMTP_HEADER_MAX + 1)

/* Append wire text to header h's value (made empty now if it was not seen), capped, NULs
 * and CR/LF as spaces. The values share one block, made at the first: one malloc for a
 * message's headers, and a folded line appended in place. */
static void value_append(mw_smtp_tx *t, int h, const char *p, size_t len)
{
    _Static_assert(MW_SMTP_HEADER_MAX <= UINT16_MAX, "hdr_len holds a value's length");
    if (!t->hdr_block)
        t->hdr_block = g_malloc((size_t)HDR_ROOM * MW_HDR_COUNT);
    if (!t->header[h]) {
        t->header[h] = t->hdr_block + (size_t)h * HDR_ROOM;
        t->hdr_len[h] = 0;
    }
    size_t have = t->hdr_len[h];
    if (len > MW_SMTP_HEADER_MAX - have)
        len = MW_SMTP_HEADER_MAX - have;
    char *n = t->header[h];
    for (size_t i = 0; i < len; i++)
        n[have + i] = (p[i] == '\0' || p[i] == '\r' || p[i] == '\n') ? ' ' : p[i];
    n[have + len] = '\0';
    t->hdr_len[h] = (uint16_t)(have + len);
}

/* One whole header line (CR/LF trimmed): a field we keep, a continuation, or the end. */
static void header_line(smtp_state *st, mw_smtp_tx *t, const char *l, size_t len)
{
    if (len == 0) {
        st->hdr_done = true; /* the blank line: the body follows, never looked at */
        return;
    }
    if (l[0] == ' ' || l[0] == '\t') {
        if (st->hdr_last >= 0 && t->header[st->hdr_last])
            value_append(t, st->hdr_last, l, len); /* folded: the space stays */
        return;
    }
    st->hdr_last = -1;
    const char *colon = memchr(l, ':', len);
    if (!colon)
        return;
    size_t nlen = (size_t)(colon - l);
    if (nlen > MW_HDR_NAME_MAX || !(header_lens >> nlen & 1u))
        return; /* no kept field has a name that long: most lines are told apart here */
    for (int h = 0; h < MW_HDR_COUNT; h++) {
        if (header_len[h] != nlen || g_ascii_strncasecmp(l, header_names[h], nlen))
            continue;
        if (t->header[h])
            return; /* the first one counts */
        const char *v = colon + 1;
        while (v < l + len && (*v == ' ' || *v == '\t'))
            v++;
        value_append(t, h, v, (size_t)(l + len - v));
        st->hdr_last = h;
        return;
    }
}

void smtp_tx_body(smtp_state *st, const uint8_t *p, size_t len)
{
    mw_smtp_tx *t = current(st, st->body_tx);
    if (!t || st->hdr_done)
        return;
    size_t off = 0;
    while (off < len && !st->hdr_done) {
        const uint8_t *nl = memchr(p + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (p + off)) : len - off;
        size_t held = st->hdr_line ? st->hdr_line->len : 0;
        /* a field longer than a kept value and its name is not read further */
        if (!st->hdr_overlong && held + n > MW_SMTP_HEADER_MAX + 64)
            st->hdr_overlong = true;
        /* a line all in this segment is read where it is; one that spans segments is
         * gathered in hdr_line */
        const char *line = (const char *)p + off;
        size_t l = n;
        if (!st->hdr_overlong && (held || !nl)) {
            if (!st->hdr_line)
                st->hdr_line = g_string_sized_new(128);
            g_string_append_len(st->hdr_line, line, (gssize)n);
            line = st->hdr_line->str;
            l = st->hdr_line->len;
        }
        off += n + (nl != NULL);
        if (!nl)
            break;
        if (l && line[l - 1] == '\r')
            l--;
        if (!st->hdr_overlong)
            header_line(st, t, line, l);
        else
            st->hdr_last = -1;
        st->hdr_overlong = false;
        if (st->hdr_line)
            g_string_truncate(st->hdr_line, 0);
    }
    st->hdr_seen += len;
    if (st->hdr_seen > MW_SMTP_HEADER_SCAN)
        st->hdr_done = true;
}

void smtp_tx_data_end(smtp_state *st, mw_tp_cmd *c)
{
    c->tx = st->body_tx;
    mw_smtp_tx *t = current(st, st->body_tx);
    if (t) {
        t->size_seen += st->body.bytes;
        t->sent = true;
    }
}

/* ---------- replies ---------- */

/* Where each server names its queue id in the reply to a message it took: the id follows
 * the marker, or is the first word of the text when the marker is there. */
static const struct {
    const char *server;
    const char *marker;
    bool first_word;
} queue_id_rules[] = {
    { "postfix", "queued as ", false },                /* 250 2.0.0 Ok: queued as 4Xyz */
    { "exchange", "queued mail for delivery", true },  /* 250 2.6.0 <id> [InternalId=..] Queued */
    { "sendmail", "message accepted for delivery", true }, /* 250 2.0.0 x1 Message accepted */
    { "exim", "ok id=", false },                       /* 250 OK id=1tA2bC-000123-Xy */
};

/* Case-insensitive search. */
static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    /* the first byte in its two cases is tried before a call */
    const char lo = g_ascii_tolower(needle[0]), up = g_ascii_toupper(needle[0]);
    for (const char *p = hay; *p; p++)
        if ((*p == lo || *p == up) && g_ascii_strncasecmp(p, needle, n) == 0)
            return p;
    return NULL;
}

static char *word_at(const char *p)
{
    while (*p == ' ')
        p++;
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != ',' && p[n] != ';' && n < MW_SMTP_QUEUE_ID_MAX)
        n++;
    if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
        p++;
        n -= 2;
    }
    return n ? g_strndup(p, n) : NULL;
}

char *smtp_queue_id(const char *text)
{
    for (size_t i = 0; i < G_N_ELEMENTS(queue_id_rules); i++) {
        const char *m = find_ci(text, queue_id_rules[i].marker);
        if (!m)
            continue;
        if (queue_id_rules[i].first_word)
            return m == text ? NULL : word_at(text);
        return word_at(m + strlen(queue_id_rules[i].marker));
    }
    return NULL;
}

static void finish(smtp_state *st, mw_smtp_tx *t, mw_tx_result r, const mw_ctx *ctx)
{
    t->result = r;
    t->final = true;
    t->code = st->reply_codeless ? 0 : st->reply_code;
    mw_strlcpy(t->enhanced, st->reply_enh, sizeof t->enhanced);
    g_free(t->text);
    t->text = g_strdup(st->reply_text->str);
    t->frame = ctx->frame;
    if (r == MW_TX_ACCEPTED && !t->queue_id)
        t->queue_id = smtp_queue_id(st->reply_text->str);
}

/* An error reply that does not end the transaction (a 503, a refused invalid BDAT line):
 * kept as its last reply, so that one aborted later says what the server last said. */
static void note_reply(smtp_state *st, mw_smtp_tx *t, const mw_ctx *ctx)
{
    t->code = st->reply_codeless ? 0 : st->reply_code;
    mw_strlcpy(t->enhanced, st->reply_enh, sizeof t->enhanced);
    g_free(t->text);
    t->text = g_strdup(st->reply_text->str);
    t->frame = ctx->frame;
}

static mw_tx_result refusal(int code)
{
    return code >= 500 ? MW_TX_REJECTED : MW_TX_DEFERRED;
}

/* A BDAT chunk the server refused: its bytes were sent but are no part of the message
 * (RFC 3030 2: the server discards a refused chunk), so they leave the counts, counted
 * apart. c->aux is the chunk's size. */
static void chunk_refused(smtp_state *st, const mw_tp_cmd *c)
{
    mw_smtp_rec *m = mw_smtp_record(st->sess);
    m->message_bytes -= MIN(m->message_bytes, (uint64_t)c->aux);
    mw_smtp_tx *t = current(st, c->tx);
    if (!t)
        return;
    t->chunks -= t->chunks > 0;
    t->size_seen -= MIN(t->size_seen, (uint64_t)c->aux);
    t->chunks_refused++;
    t->bytes_refused += c->aux;
}

/* Transaction numbers after the removed one n move down by one; n's own become into. */
static unsigned renumber(unsigned tx, unsigned n, unsigned into)
{
    return tx == n ? into : tx > n ? tx - 1 : tx;
}

/* MAIL n was answered 503 while transaction n-1 was still open ("503 sender already
 * given", postfix's "nested MAIL command"): the server kept n-1, so MAIL n opened nothing.
 * What was filed under n goes to n-1 and n leaves the list. False when n-1 is not open. */
static bool nested_mail(smtp_state *st, unsigned n)
{
    mw_smtp_rec *m = mw_smtp_record(st->sess);
    mw_smtp_tx *t = current(st, n), *prev = current(st, n - 1);
    if (!t || !prev || prev->final || prev->sent)
        return false;
    for (guint i = 0; i < t->rcpt.len; i++)
        *(guint *)mw_avec_push(mw_session_arena(st->sess), &prev->rcpt, sizeof(guint), 4) =
            mw_avec_at(&t->rcpt, guint, i);
    prev->rcpt_dropped += t->rcpt_dropped;
    prev->flags |= t->flags;
    if (t->data && !prev->data) { /* content pipelined before the 503 came */
        prev->data = t->data;
        prev->chunks = t->chunks;
        prev->size_seen = t->size_seen;
        prev->chunks_refused = t->chunks_refused;
        prev->bytes_refused = t->bytes_refused;
        prev->sent = t->sent;
        g_free(prev->hdr_block); /* (none: it sent no content) */
        prev->hdr_block = t->hdr_block;
        t->hdr_block = NULL;
        for (int h = 0; h < MW_HDR_COUNT; h++) {
            prev->header[h] = t->header[h];
            prev->hdr_len[h] = t->hdr_len[h];
            t->header[h] = NULL;
        }
    }
    mw_smtp_tx_clear(t);
    mw_avec_remove(&m->tx, sizeof(mw_smtp_tx), n - 1);
    for (unsigned i = 0; i < st->pending.count; i++) {
        mw_tp_cmd *c = mw_tp_at(&st->pending, i);
        c->tx = renumber(c->tx, n, n - 1);
    }
    st->cur_tx = renumber(st->cur_tx, n, n - 1);
    st->body_tx = renumber(st->body_tx, n, n - 1);
    for (guint i = 0; st->sess->evidence && i < st->sess->evidence->len; i++) {
        mw_evidence *e = &g_array_index(st->sess->evidence, mw_evidence, i);
        e->tx = renumber(e->tx, n, n - 1);
    }
    return true;
}

void smtp_tx_reply(smtp_state *st, const mw_tp_cmd *c, const mw_ctx *ctx)
{
    int code = st->reply_code;
    if (c->kind == CMD_BDAT && code >= 400)
        chunk_refused(st, c);
    mw_smtp_tx *t = current(st, c->tx);
    if (!t || t->final)
        return;
    /* 503 is a client's sequence error ("need RCPT", "sender already given"), not a
     * verdict on the message: the transaction goes on (issue 15 item 2). A MAIL answered
     * 503 opened none: it was nested in the open one, or came before HELO. */
    if (code == 503) {
        if (c->kind != CMD_MAIL)
            note_reply(st, t, ctx);
        else if (!nested_mail(st, c->tx))
            finish(st, t, MW_TX_REJECTED, ctx);
        return;
    }
    if (c->kind == CMD_BDAT_BAD) { /* no chunk went: the transaction goes on */
        if (code >= 400)
            note_reply(st, t, ctx);
        return;
    }
    switch (c->kind) {
    case CMD_RCPT:
        break; /* the recipient's own code is in its entry */
    case CMD_MAIL:
    case CMD_DATA:
        if (code >= 400)
            finish(st, t, refusal(code), ctx);
        break;
    case CMD_BDAT:
        if (code >= 400)
            finish(st, t, refusal(code), ctx);
        else if (c->last && code < 300)
            finish(st, t, MW_TX_ACCEPTED, ctx);
        break;
    case CMD_DATA_END:
        finish(st, t, code < 300 ? MW_TX_ACCEPTED : code < 400 ? MW_TX_UNKNOWN
                                                                 : refusal(code), ctx);
        break;
    default:
        break;
    }
}

/* Not finished and not waiting for the final reply to a whole content: aborted there (the
 * recipients' own codes say when the server had refused them all). */
static void end_unfinished(mw_smtp_tx *t)
{
    if (t->final || t->sent)
        return;
    t->result = MW_TX_ABORTED;
    t->final = true;
}

void smtp_tx_abort(smtp_state *st)
{
    mw_smtp_tx *t = current(st, st->cur_tx);
    if (t)
        end_unfinished(t);
    st->cur_tx = 0;
}

void smtp_tx_close(smtp_state *st)
{
    mw_session *s = st->sess;
    if (st->in_tls || s->close_reason == MW_CLOSE_NONE || s->close_reason == MW_CLOSE_EVICTED)
        return; /* TLS hides the rest; or the capture ended, or the record was evicted */
    mw_smtp_rec *m = mw_smtp_record(s);
    for (unsigned i = 1; i <= m->tx.len; i++)
        end_unfinished(mw_smtp_tx_at(m, i));
}

void smtp_tx_flag(smtp_state *st, const mw_tp_cmd *c, mw_flag f)
{
    mw_smtp_tx *t = current(st, c->tx);
    if (!t)
        return;
    t->flags |= 1u << f;
    mw_session_evidence_tx(st->sess, f, c->tx);
}
