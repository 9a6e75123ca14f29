#include "smtp/smtp_commands.h"

#include <string.h>

#include "smtp/smtp_auth.h"
#include "smtp/smtp_tx.h"

typedef void (*command_fn)(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                           const mw_ctx *ctx);

typedef struct {
    const char *verb;
    smtp_cmd cmd;
    command_fn handle; /* NULL: nothing to read from the arguments */
} smtp_verb;

/* "<addr> params" or "addr" after "FROM:"/"TO:" -> the address without brackets, in the
 * session's arena (kept once: the first MAIL FROM, each recipient up to the cap). */
static char *parse_path(mw_session *s, const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && p[i] == ' ')
        i++;
    if (i < len && p[i] == '<') {
        i++;
        size_t j = i;
        while (j < len && p[j] != '>')
            j++;
        return mw_session_wire_strdup(s, p + i, j - i, MW_MAX_TEXT);
    }
    size_t j = i;
    while (j < len && p[j] != ' ')
        j++;
    return mw_session_wire_strdup(s, p + i, j - i, MW_MAX_TEXT);
}

/* The path after "FROM:" / "TO:". */
static char *path_after_colon(mw_session *s, const uint8_t *p, size_t len)
{
    const uint8_t *c = memchr(p, ':', len);
    if (!c)
        return parse_path(s, p + len, 0);
    return parse_path(s, c + 1, len - (size_t)(c - p) - 1);
}

static void on_helo(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                    const mw_ctx *ctx)
{
    mw_smtp_rec *rec = mw_smtp_record(st->sess);
    if (!rec->helo) /* the first one, kept in the arena */
        rec->helo = mw_session_wire_strdup(st->sess, arg, arglen, MW_MAX_TEXT);
}

static void on_mail(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                    const mw_ctx *ctx)
{
    mw_smtp_rec *rec = mw_smtp_record(st->sess);
    if (!rec->mail_from) /* the first one */
        rec->mail_from = path_after_colon(st->sess, arg, arglen);
    smtp_tx_mail(st, c, arg, arglen, ctx);
}

static void on_rcpt(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                    const mw_ctx *ctx)
{
    mw_smtp_rec *rec = mw_smtp_record(st->sess);
    if (rec->rcpt.len < MW_MAX_RCPT) {
        mw_rcpt *r = mw_avec_push(mw_session_arena(st->sess), &rec->rcpt, sizeof *r, 4);
        r->to = path_after_colon(st->sess, arg, arglen);
        c->aux = rec->rcpt.len; /* 1-based; 0 = not kept */
    }
    smtp_tx_rcpt(st, c, c->aux ? c->aux - 1 : G_MAXUINT);
}

static void on_data(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                    const mw_ctx *ctx)
{
    st->mode = C_DATA_WAIT;
    st->body.line_start = true;
    st->body.bytes = 0;
    smtp_tx_content(st, c, false, 0, false);
}

/* RSET and QUIT: the transaction not finished by then is aborted. */
static void on_abort(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                     const mw_ctx *ctx)
{
    smtp_tx_abort(st);
}

smtp_bdat_status smtp_bdat_parse(const uint8_t *arg, size_t len, uint64_t cap, uint64_t *size,
                                 bool *last)
{
    size_t i = 0;
    uint64_t n = 0;
    bool over = false;
    *size = 0;
    *last = false;
    while (i < len && g_ascii_isdigit(arg[i])) {
        /* past the cap the value no longer matters: no overflow, however many digits */
        uint64_t d = (uint64_t)(arg[i] - '0');
        if (!over && (d > cap || n > (cap - d) / 10))
            over = true;
        if (!over)
            n = n * 10 + d;
        i++;
    }
    if (i == 0)
        return SMTP_BDAT_NO_SIZE; /* "BDAT", "BDAT SCRAMBLE", "BDAT -5" */
    if (over)
        return SMTP_BDAT_TOO_BIG;
    size_t sp = i;
    while (i < len && arg[i] == ' ')
        i++;
    if (i > sp && len - i >= 4 && g_ascii_strncasecmp((const char *)arg + i, "LAST", 4) == 0) {
        *last = true;
        i += 4;
    }
    while (i < len && (arg[i] == ' ' || arg[i] == '\t'))
        i++;
    if (i < len) {
        *last = false;
        return SMTP_BDAT_JUNK; /* "BDAT 5 X", "BDAT 1234 SCRAMBLE" */
    }
    *size = n;
    return SMTP_BDAT_OK;
}

/* RFC 3030: "BDAT" SP chunk-size [ SP "LAST" ]; the chunk follows at once. A line that is
 * not that announces no chunk the server could read either (it answers 501/521): the
 * bytes after it are commands. */
static void on_bdat(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                    const mw_ctx *ctx)
{
    static const char *const why[] = {
        [SMTP_BDAT_NO_SIZE] = "not followed by a chunk size",
        [SMTP_BDAT_JUNK] = "chunk size followed by more than LAST",
        [SMTP_BDAT_TOO_BIG] = "chunk size over --max-bdat-chunk",
    };
    uint64_t n;
    bool last;
    smtp_bdat_status bs = smtp_bdat_parse(arg, arglen, ctx->cfg->max_bdat_chunk, &n, &last);
    if (bs != SMTP_BDAT_OK) {
        c->kind = CMD_BDAT_BAD;
        smtp_tx_bad_bdat(st, c);
        mw_session_anomaly(st->sess, MW_ANOM_BAD_BDAT);
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "[invalid BDAT: %s; no chunk]", why[bs]);
        return;
    }
    c->last = last;
    c->aux = (unsigned)n; /* the chunk's size (under the cap, < 2^32), settled by its reply */
    mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                     "[BDAT chunk: %" G_GUINT64_FORMAT " bytes]", (guint64)n);
    st->bdat_left = n;
    mw_smtp_record(st->sess)->message_bytes += n;
    smtp_tx_content(st, c, true, n, c->last);
    if (n > 0)
        st->mode = C_BDAT;
}

static const smtp_verb verb_table[] = {
    { "HELO", CMD_HELO, on_helo }, { "EHLO", CMD_EHLO, on_helo }, { "MAIL", CMD_MAIL, on_mail },
    { "RCPT", CMD_RCPT, on_rcpt }, { "DATA", CMD_DATA, on_data }, { "BDAT", CMD_BDAT, on_bdat },
    { "RSET", CMD_RSET, on_abort }, { "QUIT", CMD_QUIT, on_abort },
    { "AUTH", CMD_AUTH, smtp_auth_command },
    { "STARTTLS", CMD_STARTTLS, NULL },
    /* known verbs that need no special handling */
    { "NOOP", CMD_OTHER, NULL }, { "VRFY", CMD_OTHER, NULL }, { "EXPN", CMD_OTHER, NULL },
    { "HELP", CMD_OTHER, NULL }, { "TURN", CMD_OTHER, NULL }, { "ETRN", CMD_OTHER, NULL },
    { "XCLIENT", CMD_OTHER, NULL }, { "XFORWARD", CMD_OTHER, NULL },
    { "LHLO", CMD_EHLO, on_helo },
};

static const smtp_verb *find_verb(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(verb_table); i++)
        if (name[0] == verb_table[i].verb[0] && strcmp(name, verb_table[i].verb) == 0)
            return &verb_table[i];
    return NULL;
}

/* The verb at p, upper-cased into name ("?" when it is none a command could have), and
 * its table entry when it is one of ours followed by a space or the line's end. */
static const smtp_verb *lookup_verb(const uint8_t *p, size_t len, char name[SMTP_VERB_MAX])
{
    size_t n = 0;
    while (n < len && n < SMTP_VERB_MAX - 1 && g_ascii_isalpha(p[n])) {
        name[n] = (char)(p[n] & ~0x20); /* a letter: upper case without a call */
        n++;
    }
    name[n] = '\0';
    if (n == 0 || (n < len && p[n] != ' ' && p[n] != '\t')) {
        /* not a verb: its letters might be the start of a secret (after lost sync) */
        g_strlcpy(name, "?", SMTP_VERB_MAX);
        return NULL;
    }
    return find_verb(name);
}

bool smtp_is_known_verb(const uint8_t *p, size_t len)
{
    char name[SMTP_VERB_MAX];
    size_t n = 0;
    while (n < len && n < SMTP_VERB_MAX - 1 && g_ascii_isalpha(p[n]))
        n++;
    if (n == 0 || (n < len && p[n] != ' ' && p[n] != '\r' && p[n] != '\n'))
        return false;
    lookup_verb(p, n, name);
    return find_verb(name) != NULL;
}

/* The transcript line for a command; AUTH's is redacted by its own file. */
static void command_event(smtp_state *st, const mw_tp_cmd *c, const mw_line *l, bool known,
                          const mw_ctx *ctx)
{
    if (!st->sess->transcript)
        return;
    if (c->kind == CMD_AUTH)
        smtp_auth_event(st, l, ctx);
    else if (!known) /* after lost sync or a mangled copy, it might be a secret */
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "[unrecognised command: %zu bytes]", l->len);
    else
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%.*s",
                         (int)MIN(l->len, 200), (const char *)l->p);
}

void smtp_command(smtp_state *st, const mw_line *l, const mw_ctx *ctx)
{
    if (st->mode == C_AUTH) {
        smtp_auth_line(st, l, ctx);
        return;
    }
    mw_tp_cmd c = smtp_cmd_at(CMD_OTHER, "", ctx);
    const smtp_verb *v = lookup_verb(l->p, l->len, c.name);
    if (!v && smtp_auth_window(st)) {
        smtp_auth_stray_line(st, l, ctx);
        return;
    }
    if (v) {
        c.kind = v->cmd;
        st->auth_failed = false; /* a command: the client has left the exchange */
    }
    size_t vlen = strlen(c.name);
    const uint8_t *arg = l->p + (vlen < l->len ? vlen : l->len);
    size_t arglen = l->len - (size_t)(arg - l->p);
    while (arglen > 0 && (*arg == ' ' || *arg == '\t')) {
        arg++;
        arglen--;
    }
    if (v && v->handle)
        v->handle(st, &c, arg, arglen, ctx);
    command_event(st, &c, l, v != NULL, ctx);
    smtp_push(st, &c);
}

void smtp_end_of_data(smtp_state *st, uint64_t end_off, const mw_ctx *ctx)
{
    mw_tp_cmd c = smtp_cmd_at(CMD_DATA_END, "DATA", ctx);
    st->cur_end = end_off;
    smtp_tx_data_end(st, &c);
    smtp_push(st, &c);
    mw_smtp_record(st->sess)->message_bytes += st->body.bytes;
    mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                     "[message content: %" G_GUINT64_FORMAT " bytes]", st->body.bytes);
    st->mode = C_COMMAND;
}

void smtp_overlong_command(smtp_state *st, const mw_ctx *ctx)
{
    mw_tp_cmd c = smtp_cmd_at(CMD_OTHER, "?", ctx);
    smtp_push(st, &c);
}
