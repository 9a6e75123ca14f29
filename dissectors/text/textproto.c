#include "text/textproto.h"

#include <glib.h>
#include <string.h>

#include "text/lines.h"
#include "text/reply_log.h"
#include "text/sasl.h"

/* ---------- commands in flight ---------- */

/* Rings of commands in flight start small and double up to MW_MAX_PENDING_CMDS: an idle
 * or SYN-only session must cost little (1 M half-open connections are a flood, not mail). */
#define MW_RING_START 8

bool mw_ring_make_room(void **buf, unsigned *cap, unsigned *head, unsigned count, size_t elem)
{
    if (count < *cap)
        return true;
    if (*cap >= MW_MAX_PENDING_CMDS)
        return false;
    unsigned ncap = *cap ? *cap * 2 : MW_RING_START;
    if (ncap > MW_MAX_PENDING_CMDS)
        ncap = MW_MAX_PENDING_CMDS;
    uint8_t *n = g_malloc(ncap * elem);
    for (unsigned i = 0; i < count; i++) /* unroll the ring, oldest first */
        memcpy(n + i * elem, (uint8_t *)*buf + ((*head + i) % *cap) * elem, elem);
    g_free(*buf);
    *buf = n;
    *cap = ncap;
    *head = 0;
    return true;
}

void mw_tp_push(mw_tp_queue *q, mw_session *s, const mw_tp_cmd *c)
{
    if (!mw_ring_make_room((void **)&q->q, &q->cap, &q->head, q->count, sizeof *q->q)) {
        /* A client that never reads replies: drop the oldest rather than grow. */
        mw_session_anomaly(s, MW_ANOM_TOO_MANY_PENDING);
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    q->q[(q->head + q->count) % q->cap] = *c;
    q->count++;
}

bool mw_tp_pop(mw_tp_queue *q, mw_tp_cmd *out)
{
    if (q->count == 0)
        return false;
    *out = q->q[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return true;
}

bool mw_tp_pop_answered(mw_tp_queue *q, const mw_ctx *ctx, mw_tp_cmd *out)
{
    if (q->count && ctx->ack_known && q->q[q->head].end_off > ctx->peer_acked)
        return false;
    return mw_tp_pop(q, out);
}

mw_tp_cmd *mw_tp_at(mw_tp_queue *q, unsigned i)
{
    return i < q->count ? &q->q[(q->head + i) % q->cap] : NULL;
}

void mw_tp_queue_free(mw_tp_queue *q)
{
    g_free(q->q);
    memset(q, 0, sizeof *q);
}

static int find_tag(const mw_tp_queue *q, const char *tag)
{
    for (unsigned i = 0; i < q->count; i++)
        if (strcmp(q->q[(q->head + i) % q->cap].tag, tag) == 0)
            return (int)i;
    return -1;
}

bool mw_tp_take_tag(mw_tp_queue *q, const char *tag, mw_tp_cmd *out)
{
    int i = find_tag(q, tag);
    if (i < 0)
        return false;
    *out = *mw_tp_at(q, (unsigned)i);
    /* close the hole, keeping the others in order */
    for (unsigned j = (unsigned)i; j + 1 < q->count; j++)
        q->q[(q->head + j) % q->cap] = q->q[(q->head + j + 1) % q->cap];
    q->count--;
    return true;
}

void mw_tp_clear(mw_tp_queue *q)
{
    q->head = q->count = 0;
}

/* ---------- words and name tables ---------- */

static bool word_char(uint8_t c)
{
    return g_ascii_isalnum(c) || c == '-' || c == '=' || c == '_' || c == '.';
}

size_t mw_tp_word(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t n = 0, k = 0;
    while (n < len && word_char(p[n])) {
        if (k + 1 < cap)
            out[k++] = (char)(p[n] >= 'a' && p[n] <= 'z' ? p[n] - 32 : p[n]); /* no call */
        n++;
    }
    if (cap)
        out[k] = '\0';
    return n;
}

int mw_tp_lookup(const mw_tp_verb *tab, size_t n, const char *name, int dflt)
{
    for (size_t i = 0; i < n; i++)
        if (tab[i].name[0] == name[0] && strcmp(tab[i].name, name) == 0)
            return tab[i].kind;
    return dflt;
}

void mw_tp_unknown_verb(char *name, size_t max)
{
    size_t n = 0;
    while (name[n] && g_ascii_isalpha(name[n]))
        n++;
    if (n == 0 || name[n] != '\0' || n > max)
        strcpy(name, "?");
}

size_t mw_tp_skip_sp(const uint8_t *p, size_t len, size_t off)
{
    while (off < len && (p[off] == ' ' || p[off] == '\t'))
        off++;
    return off;
}

bool mw_tp_can_judge(const uint8_t *p, size_t len)
{
    return len >= 64 || memchr(p, '\n', len) != NULL;
}

/* ---------- response codes ---------- */

void mw_tp_resp_code(const uint8_t *p, size_t len, mw_tp_resp *out)
{
    memset(out, 0, sizeof *out);
    size_t i = mw_tp_skip_sp(p, len, 0);
    out->text = p + i;
    out->text_len = len - i;
    if (i >= len || p[i] != '[')
        return;
    const uint8_t *close = memchr(p + i, ']', len - i);
    if (!close)
        return;
    size_t end = (size_t)(close - p);
    size_t a = i + 1, k = 0;
    /* resp-text-code atom: RFC 9051 section 9 "atom"; POP3 adds "/" (RFC 2449 8) */
    while (a < end && p[a] != ' ') {
        if (k + 1 < sizeof out->code)
            out->code[k++] = g_ascii_toupper(p[a]);
        a++;
    }
    out->code[k] = '\0';
    a = mw_tp_skip_sp(p, end, a);
    out->args = p + a;
    out->args_len = end - a;
    size_t t = mw_tp_skip_sp(p, len, end + 1);
    out->text = p + t;
    out->text_len = len - t;
}

/* ---------- the record ---------- */

/* Wire text for the record, in the session's arena: capped, CR/LF trimmed, NUL bytes
 * (which would cut C strings short) as spaces. */
static char *record_text(mw_session *s, const uint8_t *p, size_t len)
{
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (len > MW_MAX_TEXT)
        len = MW_MAX_TEXT;
    char *t = mw_arena_alloc(mw_session_arena(s), len + 1);
    for (size_t i = 0; i < len; i++)
        t[i] = p[i] ? (char)p[i] : ' ';
    t[len] = '\0';
    return t;
}

void mw_tp_failure(mw_session *s, const char *cmd, const char *status,
                   const char *code, const uint8_t *text, size_t tlen, const mw_ctx *ctx)
{
    mw_cmd_rec *rec = mw_cmdrec_of(s);
    mw_reply *r = rec ? mw_replies_add(s, &rec->failures) : NULL;
    if (!r)
        return;
    mw_strlcpy(r->cmd, cmd, sizeof r->cmd);
    mw_strlcpy(r->status, status, sizeof r->status);
    mw_strlcpy(r->enhanced, code, sizeof r->enhanced);
    r->text = record_text(s, text, tlen);
    r->frame = ctx->frame;
    r->ts_us = ctx->ts_us;
}

void mw_tp_decisive(mw_session *s, const char *line)
{
    if (!s->decisive)
        mw_session_set_decisive(s, line, strlen(line));
}

void mw_tp_raise(mw_session *s, mw_flag f, const mw_ctx *ctx, const char *line)
{
    mw_session_flag_text(s, f, ctx->frame, ctx->ts_us, line);
    mw_tp_decisive(s, line);
}

void mw_tp_auth_begin(mw_session *s, const char *mech)
{
    mw_auth_rec *a = mw_session_auth(s);
    mw_strlcpy(a->mechanism, mech, sizeof a->mechanism);
    a->result = MW_AUTH_UNKNOWN;
    a->code[0] = '\0';
}

void mw_tp_auth_user(mw_session *s, char *user)
{
    if (!user)
        return;
    mw_auth_rec *a = mw_session_auth(s);
    g_free(a->user);
    a->user = user;
}

void mw_tp_auth_result(mw_session *s, bool ok, const char *code)
{
    mw_auth_rec *a = mw_session_auth(s);
    a->result = ok ? MW_AUTH_SUCCESS : MW_AUTH_FAILURE;
    mw_strlcpy(a->code, code, sizeof a->code);
}

void mw_tp_cleartext(mw_session *s, const char *what, const mw_ctx *ctx)
{
    static const char tail[] = " credentials sent without TLS";
    if (s->encrypted)
        return;
    char buf[128]; /* what is a verb or "AUTH <mechanism>": put together without printf */
    size_t n = strlen(what);
    if (n + sizeof tail > sizeof buf) {
        mw_session_flag(s, MW_FLAG_CLEARTEXT_AUTH, ctx->frame, ctx->ts_us,
                        "%s credentials sent without TLS", what);
        return;
    }
    memcpy(buf, what, n);
    memcpy(buf + n, tail, sizeof tail);
    mw_session_flag_text(s, MW_FLAG_CLEARTEXT_AUTH, ctx->frame, ctx->ts_us, buf);
}

void mw_tp_sasl(mw_session *s, const char *mech, unsigned step, mw_sasl_asks asks,
                const uint8_t *b64, size_t len, const mw_ctx *ctx)
{
    mw_sasl_info info = mw_sasl_response(mech, step, asks, b64, len);
    mw_tp_auth_user(s, info.user);
    if (info.carries_secret) {
        char what[48]; /* "AUTH %s", cut as g_snprintf would */
        size_t m = strlen(mech);
        if (m > sizeof what - 6)
            m = sizeof what - 6;
        memcpy(what, "AUTH ", 5);
        memcpy(what + 5, mech, m);
        what[5 + m] = '\0';
        mw_tp_cleartext(s, what, ctx);
    }
}

/* ---------- wording ---------- */

static bool any_word(const uint8_t *p, size_t len, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (mw_bytes_contain(p, len, words[i]))
            return true;
    return false;
}

bool mw_tp_timeout_words(const uint8_t *p, size_t len)
{
    static const char *const words[] = { "autologout", "inactivity", "idle for too long",
                                         "timeout",    "timed out",  "idle time" };
    return any_word(p, len, words, G_N_ELEMENTS(words));
}

bool mw_tp_tls_words(const uint8_t *p, size_t len)
{
    static const char *const words[] = { "tls",       "ssl",     "plaintext", "plain text",
                                         "encrypt",   "privacy", "secure" };
    return any_word(p, len, words, G_N_ELEMENTS(words));
}

/* ---------- transcript ---------- */

void mw_tp_event_line(mw_session *s, mw_dir dir, const mw_ctx *ctx, int64_t latency_us,
                      const uint8_t *p, size_t len)
{
    if (!s->transcript)
        return;
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    mw_session_event(s, dir, ctx->frame, ctx->ts_us, latency_us, "%.*s",
                     (int)MIN(len, (size_t)MW_TP_EVENT_MAX), (const char *)p);
}

void mw_tp_greeting_event(mw_session *s, const mw_ctx *ctx, const uint8_t *p, size_t len)
{
    mw_tp_event_line(s, MW_FROM_SERVER, ctx, ctx->ts_us - s->ts_start_us, p, len);
}

/* ---------- end of session ---------- */

/* Without a flag to explain the session, the first failure is the line to show. */
static void decisive_from_failures(mw_session *s)
{
    const mw_cmd_rec *rec = mw_cmdrec_of(s);
    if (s->decisive || !rec || rec->failures.len == 0)
        return;
    const mw_reply *r = &mw_avec_at(&rec->failures, mw_reply, 0);
    char *line = r->enhanced[0] ? g_strdup_printf("%s [%s] %s", r->status, r->enhanced, r->text)
                                : g_strdup_printf("%s %s", r->status, r->text);
    mw_session_set_decisive(s, line, strlen(line));
    g_free(line);
}

bool mw_tp_no_greeting(mw_session *s, const mw_ctx *ctx)
{
    (void)ctx;
    return mw_session_has(s, MW_FLAG_NO_GREETING); /* judged by the engine (conn_verdict.c) */
}

void mw_tp_unanswered(mw_session *s, const char *name, uint64_t frame, int64_t ts_us,
                      const mw_ctx *ctx)
{
    mw_session_flag(s, MW_FLAG_UNANSWERED_COMMAND, frame, ts_us,
                    "%s got no reply in %.1f s before the session ended", name,
                    (double)(ctx->ts_us - ts_us) / 1e6);
}

void mw_tp_close(mw_session *s, mw_tp_queue *q, const mw_ctx *ctx)
{
    decisive_from_failures(s);
    if (mw_tp_no_greeting(s, ctx))
        return;
    if (s->close_reason == MW_CLOSE_NONE || s->close_reason == MW_CLOSE_EVICTED)
        return; /* the capture ended, or the record was cut short to make room (the flow
                 * goes on): the reply may simply come later or not have been captured */
    for (unsigned i = 0; i < q->count; i++) {
        const mw_tp_cmd *c = mw_tp_at(q, i);
        if (c->exempt)
            continue;
        mw_tp_unanswered(s, c->name, c->frame, c->ts_us, ctx);
        break;
    }
}

void mw_tp_close_line(mw_session *s, bool in_tls, mw_tp_queue *q, const mw_ctx *ctx)
{
    if (!in_tls)
        mw_tp_close(s, q, ctx);
}

bool mw_tp_greets(const uint8_t *p, size_t len, const char *greeting)
{
    size_t n = strlen(greeting);
    return len >= n && memcmp(p, greeting, n) == 0;
}
