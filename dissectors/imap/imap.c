/* IMAP (RFC 9051, RFC 3501), STARTTLS and LOGINDISABLED (RFC 9051 6.2.1, 7.2.2; RFC 2595),
 * SASL-IR (RFC 4959), response codes (RFC 5530), IDLE (RFC 2177), COMPRESS (RFC 4978),
 * LITERAL+ (RFC 7888).
 *
 * Client lines are tagged commands; server lines are untagged data ("* ..."),
 * continuation requests ("+ ...") or tagged completions, which are matched to their
 * command by tag in a bounded table, so several commands may be in flight. A line that
 * ends in a literal "{n}" or "{n+}" is followed by n octets of data and then the rest
 * of the line (RFC 9051 section 4.3): those octets are skipped by count in either
 * direction, never buffered — except the user name of a LOGIN sent as a literal, which
 * is copied up to the record's cap. A LOGIN password, quoted, atom or literal, is never
 * copied anywhere. */
#include <glib.h>
#include <string.h>

#include "dissector.h"
#include "text/lines.h"
#include "text/textproto.h"
#include "imap/imap.h"

/* Largest literal accepted as such. RFC 3501 literal counts are 32-bit numbers; RFC 9051
 * allows 63 bits, but no server accepts an APPEND or sends a FETCH anywhere near 4 GiB.
 * A larger count is treated as malformed: noted, and the line taken as complete rather
 * than letting one hostile number swallow the rest of the session. */
#define IMAP_LITERAL_MAX UINT64_C(0xffffffff)

typedef enum {
    IC_OTHER,
    IC_CAPABILITY,
    IC_LOGIN,
    IC_AUTHENTICATE,
    IC_STARTTLS,
    IC_SELECT,
    IC_IDLE,
    IC_COMPRESS,
    IC_LOGOUT,
    IC_UID,
} imap_cmd;

static const mw_tp_verb imap_verbs[] = {
    { "CAPABILITY", IC_CAPABILITY }, { "LOGIN", IC_LOGIN },
    { "AUTHENTICATE", IC_AUTHENTICATE }, { "STARTTLS", IC_STARTTLS },
    { "SELECT", IC_SELECT }, { "EXAMINE", IC_SELECT },
    { "IDLE", IC_IDLE }, { "COMPRESS", IC_COMPRESS },
    { "LOGOUT", IC_LOGOUT }, { "UID", IC_UID },
};

typedef enum { IS_OTHER, IS_OK, IS_NO, IS_BAD, IS_PREAUTH, IS_BYE } imap_status;

static const mw_tp_verb imap_statuses[] = {
    { "OK", IS_OK }, { "NO", IS_NO }, { "BAD", IS_BAD },
    { "PREAUTH", IS_PREAUTH }, { "BYE", IS_BYE },
};

/* Framing state of one direction. */
typedef struct {
    mw_linestate ls;
    bool resync;       /* after a gap: wait for a plausible line start */
    bool cont;         /* the next line continues the unit a literal interrupted */
    uint64_t lit_left; /* literal octets still to skip */
    uint64_t lit_done; /* octets of the current literal skipped so far */
} imap_side;

/* Untagged data responses kinds summarised per transcript event. */
#define AGG_KINDS 4

/* Untagged data responses (FETCH, EXISTS, LIST, ...) not shown yet: the transcript
 * summarises a run of them as one event instead of a line each. */
typedef struct {
    unsigned total;
    unsigned nkinds, other;
    char kind[AGG_KINDS][16];
    unsigned count[AGG_KINDS];
    int cur;            /* kind of the response being read (its literals), -1: other */
    uint64_t lit_bytes; /* literal octets the responses carried */
    bool lit_not_fetch; /* some literal came with a response other than FETCH */
    uint64_t frame;     /* where the run started */
    int64_t ts_us;
} imap_agg;

/* The client command being read, across its literals. */
typedef struct {
    char tag[MW_TP_TAG_MAX];
    int kind;
    unsigned argi;    /* LOGIN: arguments complete so far (0: user next, 1: password) */
    bool lit_is_user; /* the literal in flight is LOGIN's user name */
} imap_cur;

typedef struct {
    mw_session *sess;
    imap_side side[2];
    imap_cur cur;
    char user_buf[MW_MAX_TEXT];
    size_t user_len;
    mw_tp_queue pending;

    bool logindisabled;    /* the latest CAPABILITY listing has LOGINDISABLED */
    bool privacy_required; /* a [PRIVACYREQUIRED] response code was seen */

    bool auth_active;      /* AUTHENTICATE awaiting its completion: lines are SASL */
    char auth_tag[MW_TP_TAG_MAX];
    char auth_mech[32];
    unsigned auth_step;

    bool idle_active;
    bool compressed;       /* COMPRESS=DEFLATE in effect: nothing more is readable */
    bool in_tls;           /* handed off after STARTTLS */

    /* transcript (used only when the session keeps one) */
    imap_agg agg;
    bool login_due;        /* a LOGIN whose user name is a literal: shown once it is read */
    char login_tag[MW_TP_TAG_MAX];
    uint64_t login_frame, login_lit;
    int64_t login_ts;
    int64_t sasl_ts;       /* when the client last spoke in the AUTHENTICATE exchange */
} imap_state;

/* ---------- transcript ---------- */

/* Verbs whose arguments are shown in the transcript as sent (besides imap_verbs). An
 * unknown verb shows nothing of its line: after lost sync it might be a secret. */
static const char *const other_verbs[] = { "NOOP", "FETCH", "STORE", "SEARCH", "LIST", "LSUB",
                                           "STATUS", "APPEND", "CLOSE", "EXPUNGE", "CREATE",
                                           "DELETE", "RENAME", "SUBSCRIBE", "ENABLE", "ID",
                                           "NAMESPACE", "CHECK", "COPY", "MOVE", "UNSELECT" };
static const char *const display_verbs[] = { "UNSUBSCRIBE", "XLIST", "SORT", "THREAD",
                                             "GETQUOTA", "GETQUOTAROOT", "SETQUOTA", "GETACL",
                                             "SETACL", "MYRIGHTS", "LISTRIGHTS", "GETMETADATA",
                                             "SETMETADATA", "ESEARCH", "UNAUTHENTICATE" };

static bool in_list(const char *const *list, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(word, list[i]) == 0)
            return true;
    return false;
}

static void agg_reset(imap_agg *a)
{
    memset(a, 0, sizeof *a);
    a->cur = -1;
}

/* One more untagged data response of this kind, summarised later. */
static void agg_add(imap_state *st, const char *kind, const mw_ctx *ctx)
{
    imap_agg *a = &st->agg;
    if (!st->sess->transcript)
        return;
    if (a->total == 0) {
        a->frame = ctx->frame;
        a->ts_us = ctx->ts_us;
    }
    a->total++;
    unsigned i = 0;
    while (i < a->nkinds && strcmp(a->kind[i], kind) != 0)
        i++;
    if (i == a->nkinds) {
        if (a->nkinds == AGG_KINDS) {
            a->other++;
            a->cur = -1;
            return;
        }
        g_strlcpy(a->kind[i], kind, sizeof a->kind[i]);
        a->nkinds++;
    }
    a->count[i]++;
    a->cur = (int)i;
}

/* A literal of n octets in the untagged response being read. */
static void agg_literal(imap_state *st, uint64_t n)
{
    imap_agg *a = &st->agg;
    if (!st->sess->transcript || a->total == 0)
        return;
    a->lit_bytes += n;
    if (a->cur < 0 || strcmp(a->kind[a->cur], "FETCH") != 0)
        a->lit_not_fetch = true;
}

static void agg_flush(imap_state *st)
{
    imap_agg *a = &st->agg;
    if (a->total == 0)
        return;
    GString *t = g_string_new(NULL);
    bool fetch_only = a->nkinds == 1 && a->other == 0 && strcmp(a->kind[0], "FETCH") == 0;
    if (fetch_only && a->lit_bytes && !a->lit_not_fetch) {
        if (a->total == 1)
            g_string_printf(t, "[FETCH literal: %" G_GUINT64_FORMAT " bytes]", a->lit_bytes);
        else
            g_string_printf(t, "[%u FETCH responses, literals: %" G_GUINT64_FORMAT " bytes]",
                            a->total, a->lit_bytes);
    } else {
        g_string_assign(t, "[untagged: ");
        for (unsigned i = 0; i < a->nkinds; i++)
            g_string_append_printf(t, "%s%u %s", i ? ", " : "", a->count[i], a->kind[i]);
        if (a->other)
            g_string_append_printf(t, ", %u other", a->other);
        if (a->lit_bytes)
            g_string_append_printf(t, "; literals: %" G_GUINT64_FORMAT " bytes", a->lit_bytes);
        g_string_append_c(t, ']');
    }
    mw_session_event(st->sess, MW_FROM_SERVER, a->frame, a->ts_us, -1, "%s", t->str);
    g_string_free(t, TRUE);
    agg_reset(a);
}

/* The LOGIN event: "a1 LOGIN alice [password redacted]". user_known: its user-name
 * literal has been read (the record holds the name). */
static void login_event(imap_state *st, bool user_known)
{
    st->login_due = false;
    const char *user = st->sess->auth ? st->sess->auth->user : NULL;
    if (user_known)
        mw_session_event(st->sess, MW_FROM_CLIENT, st->login_frame, st->login_ts, -1,
                         "%s LOGIN %s [password redacted]", st->login_tag, user ? user : "");
    else
        mw_session_event(st->sess, MW_FROM_CLIENT, st->login_frame, st->login_ts, -1,
                         "%s LOGIN [user literal: %" G_GUINT64_FORMAT " bytes]", st->login_tag,
                         st->login_lit);
}

/* Show what is held back (a LOGIN waiting for its user name, a run of untagged data)
 * before the next event, so that events stay in wire order. */
static void flush_held(imap_state *st)
{
    if (!st->sess->transcript)
        return;
    if (st->login_due)
        login_event(st, false);
    agg_flush(st);
}

/* ---------- small parsers ---------- */

/* RFC 9051 section 9: tag = 1*<any ASTRING-CHAR except "+">. */
static bool tag_char(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '%' && c != '*' &&
           c != '"' && c != '\\' && c != '+';
}

/* The tag at p, copied (capped) into out; returns its length, 0 when none is followed by
 * a space. */
static size_t take_tag(const uint8_t *p, size_t len, char out[MW_TP_TAG_MAX])
{
    size_t n = 0;
    while (n < len && tag_char(p[n]))
        n++;
    if (n == 0 || n >= len || p[n] != ' ')
        return 0;
    size_t k = n < MW_TP_TAG_MAX - 1 ? n : MW_TP_TAG_MAX - 1;
    memcpy(out, p, k);
    out[k] = '\0';
    return n;
}

typedef enum { LIT_NONE, LIT_OK, LIT_BAD } lit_status;

/* Does the line end in a literal announcement "{" number ["+"] "}" (RFC 9051 4.3, RFC
 * 7888)? A brace group at the end whose inside is not a count within IMAP_LITERAL_MAX
 * (a sign, other characters, too many digits) is LIT_BAD. */
static lit_status trailing_literal(const uint8_t *p, size_t len, uint64_t *count)
{
    if (len < 3 || p[len - 1] != '}')
        return LIT_NONE;
    size_t end = len - 1; /* index of '}' */
    if (p[end - 1] == '+')
        end--;
    size_t open = end;
    while (open > 0 && p[open - 1] != '{' && end - open < 32)
        open--;
    if (open == 0 || p[open - 1] != '{')
        return LIT_NONE;
    if (open == end)
        return LIT_BAD;
    uint64_t v = 0;
    for (size_t i = open; i < end; i++) {
        if (!g_ascii_isdigit(p[i]))
            return LIT_BAD;
        v = v * 10 + (uint64_t)(p[i] - '0');
        if (v > IMAP_LITERAL_MAX)
            return LIT_BAD;
    }
    *count = v;
    return LIT_OK;
}

/* After a line: start skipping the literal it announces, if any. */
static void start_literal(imap_state *st, mw_dir dir, const uint8_t *p, size_t len)
{
    uint64_t n = 0;
    lit_status ls = trailing_literal(p, len, &n);
    if (ls == LIT_NONE)
        return;
    if (ls == LIT_BAD) {
        mw_session_anomaly(st->sess, MW_ANOM_BAD_LITERAL);
        return;
    }
    imap_side *sd = &st->side[dir];
    sd->lit_done = 0;
    if (dir == MW_FROM_CLIENT) {
        st->cur.lit_is_user = st->cur.kind == IC_LOGIN && st->cur.argi == 0;
        st->user_len = 0;
    } else {
        agg_literal(st, n);
    }
    if (n == 0) {
        sd->cont = true; /* "{0}": the line goes on at once */
        if (dir == MW_FROM_CLIENT && st->cur.lit_is_user) {
            st->cur.lit_is_user = false;
            st->cur.argi++;
        }
        return;
    }
    sd->lit_left = n;
}

/* The literal of `dir` has been skipped whole. */
static void end_literal(imap_state *st, mw_dir dir)
{
    st->side[dir].cont = true;
    if (dir != MW_FROM_CLIENT || st->cur.kind != IC_LOGIN)
        return;
    if (st->cur.lit_is_user) {
        mw_tp_auth_user(st->sess, mw_wire_strdup((const uint8_t *)st->user_buf, st->user_len,
                                                 MW_MAX_TEXT));
        st->cur.lit_is_user = false;
        if (st->login_due)
            login_event(st, true);
    }
    st->cur.argi++;
}

static size_t skip_literal(imap_state *st, mw_dir dir, const uint8_t *p, size_t len)
{
    imap_side *sd = &st->side[dir];
    size_t take = len < sd->lit_left ? len : (size_t)sd->lit_left;
    if (dir == MW_FROM_CLIENT && st->cur.lit_is_user && st->user_len < sizeof st->user_buf) {
        size_t room = sizeof st->user_buf - st->user_len;
        size_t n = take < room ? take : room;
        memcpy(st->user_buf + st->user_len, p, n);
        st->user_len += n;
    }
    sd->lit_left -= take;
    sd->lit_done += take;
    if (sd->lit_left == 0)
        end_literal(st, dir);
    return take;
}

/* "STARTTLS LOGINDISABLED AUTH=PLAIN ...": each listing is complete (RFC 9051 7.2.2),
 * so LOGINDISABLED holds until a listing without it (e.g. after STARTTLS). */
static void capabilities(imap_state *st, const uint8_t *p, size_t len)
{
    st->logindisabled = mw_bytes_contain(p, len, "LOGINDISABLED");
}

/* ---------- client: commands ---------- */

/* LOGIN userid password (RFC 9051 6.2.3), each an astring: atom, quoted or literal.
 * Walks the arguments on this line from st->cur.argi; copies the user name only. Stops
 * at a literal announcement, which start_literal() then handles. */
static void login_args(imap_state *st, const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (st->cur.argi < 2) {
        i = mw_tp_skip_sp(p, len, i);
        if (i >= len || p[i] == '{')
            return;
        bool user = st->cur.argi == 0;
        char buf[MW_MAX_TEXT];
        size_t k = 0;
        if (p[i] == '"') {
            for (i++; i < len && p[i] != '"'; i++) {
                if (p[i] == '\\' && i + 1 < len)
                    i++; /* quoted-specials are escaped */
                if (user && k < sizeof buf)
                    buf[k++] = (char)p[i];
            }
            i++;
        } else {
            for (; i < len && p[i] != ' '; i++)
                if (user && k < sizeof buf)
                    buf[k++] = (char)p[i];
        }
        if (user)
            mw_tp_auth_user(st->sess, mw_wire_strdup((const uint8_t *)buf, k, MW_MAX_TEXT));
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
    mw_session_flag(st->sess, MW_FLAG_TLS_REQUIRED, ctx->frame, ctx->ts_us, "%s", why);
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
    g_strlcpy(st->auth_tag, c->tag, sizeof st->auth_tag);
    st->auth_step = 0;
    i = mw_tp_skip_sp(p, len, i + m);
    st->sasl_ts = ctx->ts_us;
    if (i >= len)
        return false;
    /* SASL-IR; "=" is an empty response (RFC 4959 section 3) */
    mw_tp_sasl(st->sess, st->auth_mech, st->auth_step++, p + i, len - i, ctx);
    return true;
}

/* The transcript line of a command, redacted: a LOGIN password, an AUTHENTICATE initial
 * response and the arguments of unknown verbs never appear. An announced literal is
 * shown as its size. */
static void command_event(imap_state *st, const mw_tp_cmd *c, const mw_line *l, bool ir,
                          const mw_ctx *ctx)
{
    mw_session *s = st->sess;
    flush_held(st);
    if (c->kind == IC_LOGIN) {
        imap_side *cs = &st->side[MW_FROM_CLIENT];
        if (st->cur.lit_is_user) { /* the user name follows as a literal */
            st->login_due = true;
            g_strlcpy(st->login_tag, c->tag, sizeof st->login_tag);
            st->login_frame = ctx->frame;
            st->login_ts = ctx->ts_us;
            st->login_lit = cs->lit_left;
            return;
        }
        const char *user = s->auth ? s->auth->user : NULL;
        bool pass = st->cur.argi >= 2 || cs->lit_left || cs->cont;
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%s LOGIN%s%s%s",
                         c->tag, user ? " " : "", user ? user : "",
                         pass ? " [password redacted]" : "");
        return;
    }
    if (c->kind == IC_AUTHENTICATE) {
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%s AUTHENTICATE %s%s",
                         c->tag, st->auth_mech, ir ? " [initial response redacted]" : "");
        return;
    }
    char verb[MW_TP_NAME_MAX];
    g_strlcpy(verb, c->name, sizeof verb);
    char *sp = strchr(verb, ' '); /* "UID FETCH" */
    if (sp)
        *sp = '\0';
    if (c->kind == IC_OTHER && !in_list(other_verbs, G_N_ELEMENTS(other_verbs), verb) &&
        !in_list(display_verbs, G_N_ELEMENTS(display_verbs), verb)) {
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "[unrecognised command: %zu bytes]", l->len);
        return;
    }
    uint64_t n = 0;
    if (trailing_literal(l->p, l->len, &n) == LIT_OK) {
        size_t open = l->len;
        while (open > 0 && l->p[open - 1] != '{')
            open--;
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "%.*s[literal: %" G_GUINT64_FORMAT " bytes]",
                         (int)MIN(open - 1, (size_t)MW_TP_EVENT_MAX), (const char *)l->p, n);
        return;
    }
    mw_tp_event_line(s, MW_FROM_CLIENT, ctx, -1, l->p, l->len);
}

static void new_command(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    mw_tp_cmd c = { 0 };
    size_t t = take_tag(l->p, l->len, c.tag);
    if (t == 0)
        return; /* not a command line: garbage or lost sync */
    size_t i = t + 1;
    size_t v = mw_tp_word(l->p + i, l->len - i, c.name, sizeof c.name);
    if (v == 0)
        return;
    c.kind = mw_tp_lookup(imap_verbs, G_N_ELEMENTS(imap_verbs), c.name, IC_OTHER);
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
    mw_session_cmdrec(st->sess, MW_PROTO_IMAP)->commands++;

    memset(&st->cur, 0, sizeof st->cur);
    g_strlcpy(st->cur.tag, c.tag, sizeof st->cur.tag);
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
        start_literal(st, MW_FROM_CLIENT, l->p, l->len);
    if (st->sess->transcript)
        command_event(st, &c, l, ir, ctx);
}

/* A line inside AUTHENTICATE: a SASL response, or "*" to cancel (RFC 9051 6.2.2). */
static void sasl_line(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    bool cancel = l->len == 1 && l->p[0] == '*';
    if (st->sess->transcript) {
        flush_held(st);
        mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "%s",
                         cancel ? "* (cancel)" : "[SASL response redacted]");
    }
    st->sasl_ts = ctx->ts_us;
    if (cancel)
        return;
    mw_tp_sasl(st->sess, st->auth_mech, st->auth_step++, l->p, l->len, ctx);
}

static void client_line(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    imap_side *sd = &st->side[MW_FROM_CLIENT];
    if (sd->cont) { /* the command goes on after a literal */
        sd->cont = false;
        if (st->cur.kind == IC_LOGIN)
            login_args(st, l->p, l->len);
        start_literal(st, MW_FROM_CLIENT, l->p, l->len);
        return;
    }
    if (st->auth_active) {
        sasl_line(st, l, ctx);
        return;
    }
    if (st->idle_active && l->len == 4 && g_ascii_strncasecmp((const char *)l->p, "DONE", 4) == 0) {
        st->idle_active = false; /* RFC 2177: DONE ends IDLE; the tagged OK follows */
        if (st->sess->transcript) {
            flush_held(st);
            mw_session_event(st->sess, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1, "DONE");
        }
        return;
    }
    new_command(st, l, ctx);
}

/* ---------- server: responses ---------- */

/* "NO [CODE] text" as the server put it, without the tag: the evidence. */
static char *evidence_line(const uint8_t *p, size_t len)
{
    return mw_wire_strdup(p, len, MW_MAX_TEXT);
}

static bool privacy_refusal(const imap_state *st, const mw_tp_cmd *c, const mw_tp_resp *r)
{
    return strcmp(r->code, "PRIVACYREQUIRED") == 0 || (c->kind == IC_LOGIN && st->logindisabled) ||
           mw_tp_tls_words(r->text, r->text_len);
}

static void on_failure(imap_state *st, const mw_tp_cmd *c, const char *status,
                       const mw_tp_resp *r, const char *line, const mw_ctx *ctx)
{
    mw_tp_failure(st->sess, MW_PROTO_IMAP, c->name, status, r->code, r->text, r->text_len, ctx);
    switch (c->kind) {
    case IC_LOGIN:
    case IC_AUTHENTICATE:
        mw_tp_auth_result(st->sess, false, status);
        if (!privacy_refusal(st, c, r))
            mw_tp_raise(st->sess, MW_FLAG_AUTH_FAILED, ctx, line);
        else if (!c->tls_flagged && !st->sess->encrypted)
            mw_tp_raise(st->sess, MW_FLAG_TLS_REQUIRED, ctx, line);
        else /* flagged at the attempt; the server's words explain it best */
            mw_tp_decisive(st->sess, line);
        break;
    case IC_STARTTLS:
        mw_tp_raise(st->sess, MW_FLAG_STARTTLS_REFUSED, ctx, line);
        break;
    default:
        break;
    }
}

/* Returns true when the session turns to TLS after this line. */
static bool on_ok(imap_state *st, const mw_tp_cmd *c)
{
    switch (c->kind) {
    case IC_LOGIN:
    case IC_AUTHENTICATE:
        mw_tp_auth_result(st->sess, true, "OK");
        break;
    case IC_STARTTLS:
        st->sess->starttls = true;
        return true;
    case IC_COMPRESS: /* RFC 4978 section 3: both directions compress after the OK */
        st->compressed = true;
        mw_session_anomaly(st->sess, MW_ANOM_COMPRESSED);
        break;
    case IC_LOGOUT:
        st->sess->quit_seen = true;
        break;
    default:
        break;
    }
    return false;
}

/* A tagged completion. Returns true when the session turns to TLS after it. */
static bool tagged(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    char tag[MW_TP_TAG_MAX];
    size_t t = take_tag(l->p, l->len, tag);
    if (t == 0)
        return false;
    const uint8_t *rest = l->p + t + 1;
    size_t rlen = l->len - t - 1;
    char word[16];
    size_t w = mw_tp_word(rest, rlen, word, sizeof word);
    int status = mw_tp_lookup(imap_statuses, G_N_ELEMENTS(imap_statuses), word, IS_OTHER);
    if (status != IS_OK && status != IS_NO && status != IS_BAD)
        return false; /* not a completion: garbage or lost sync */
    mw_tp_resp r;
    mw_tp_resp_code(rest + w, rlen - w, &r);

    mw_tp_cmd c;
    bool paired = mw_tp_take_tag(&st->pending, tag, &c);
    if (!paired) {
        memset(&c, 0, sizeof c); /* its command was not seen (gap, mid-session start) */
        c.kind = IC_OTHER;
    } else {
        mw_session_latency(st->sess, c.name, c.ts_us, ctx->ts_us, ctx->frame);
    }
    if (st->sess->transcript) {
        flush_held(st);
        mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, paired ? ctx->ts_us - c.ts_us : -1,
                         l->p, l->len);
        if (status == IS_OK && c.kind == IC_STARTTLS)
            mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, -1,
                             "[STARTTLS: TLS handshake follows]");
        else if (status == IS_OK && c.kind == IC_COMPRESS)
            mw_session_event(st->sess, MW_FROM_SERVER, ctx->frame, ctx->ts_us, -1,
                             "[COMPRESS: the rest is compressed, not shown]");
    }
    imap_side *cs = &st->side[MW_FROM_CLIENT];
    if (cs->lit_left && cs->lit_done == 0 && strcmp(st->cur.tag, tag) == 0) {
        /* refused before the client sent its literal (RFC 9051 4.3: the server answers
         * BAD instead of "+"): the literal will not come */
        cs->lit_left = 0;
        st->cur.lit_is_user = false;
    }
    if (st->auth_active && strcmp(st->auth_tag, tag) == 0)
        st->auth_active = false;
    if (c.kind == IC_IDLE)
        st->idle_active = false;
    if (strcmp(r.code, "PRIVACYREQUIRED") == 0)
        st->privacy_required = true;
    else if (strcmp(r.code, "CAPABILITY") == 0)
        capabilities(st, r.args, r.args_len);

    if (status == IS_OK)
        return on_ok(st, &c);
    char *line = evidence_line(rest, rlen);
    on_failure(st, &c, word, &r, line, ctx);
    g_free(line);
    return false;
}

/* "* OK|NO|BAD|PREAUTH|BYE [code] text". */
static void untagged_status(imap_state *st, int status, const uint8_t *p, size_t len,
                            const uint8_t *after, size_t alen, const mw_ctx *ctx)
{
    mw_tp_resp r;
    mw_tp_resp_code(after, alen, &r);
    bool greeting = !st->sess->greeted;
    st->sess->greeted = true;
    if (st->sess->transcript) {
        /* the greeting, goodbyes, warnings and alerts as sent; other status lines
         * ([UIDVALIDITY] and the like) counted with the data responses */
        if (greeting) {
            flush_held(st);
            mw_tp_greeting_event(st->sess, ctx, p - 2, len + 2);
        } else if (status != IS_OK || strcmp(r.code, "ALERT") == 0) {
            flush_held(st);
            mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, -1, p - 2, len + 2);
        } else {
            agg_add(st, "OK", ctx);
        }
    }
    if (strcmp(r.code, "CAPABILITY") == 0)
        capabilities(st, r.args, r.args_len);
    else if (strcmp(r.code, "PRIVACYREQUIRED") == 0)
        st->privacy_required = true;
    if (status != IS_BYE)
        return;
    /* BYE: the server ends the session (RFC 9051 7.1.5). Whatever is pending now will
     * not be answered; that is not the client's command going unanswered. */
    for (unsigned i = 0; i < st->pending.count; i++) {
        mw_tp_cmd *c = mw_tp_at(&st->pending, i);
        c->exempt = true;
        if (c->kind == IC_LOGOUT)
            st->sess->quit_seen = true;
    }
    char *line = evidence_line(p, len);
    if (greeting) /* the server refuses the connection outright */
        mw_tp_failure(st->sess, MW_PROTO_IMAP, "CONNECT", "BYE", r.code, r.text, r.text_len, ctx);
    if (mw_tp_timeout_words(r.text, r.text_len))
        mw_tp_raise(st->sess, MW_FLAG_SERVER_TIMEOUT, ctx, line);
    else if (greeting)
        mw_tp_decisive(st->sess, line);
    g_free(line);
}

static void untagged(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    const uint8_t *p = l->p + 2;
    size_t len = l->len - 2;
    char word[16];
    size_t w = mw_tp_word(p, len, word, sizeof word);
    int status = mw_tp_lookup(imap_statuses, G_N_ELEMENTS(imap_statuses), word, IS_OTHER);
    if (status != IS_OTHER) {
        untagged_status(st, status, p, len, p + w, len - w, ctx);
        return;
    }
    st->sess->greeted = true;
    if (strcmp(word, "CAPABILITY") == 0)
        capabilities(st, p + w, len - w);
    if (st->sess->transcript) {
        if (strcmp(word, "CAPABILITY") == 0 || strcmp(word, "ENABLED") == 0) {
            flush_held(st);
            mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, -1, l->p, l->len);
        } else {
            /* "* 3 FETCH (...)": the kind is the word after the number */
            if (w > 0 && g_ascii_isdigit(p[0])) {
                size_t j = mw_tp_skip_sp(p, len, w);
                mw_tp_word(p + j, len - j, word, sizeof word);
            }
            agg_add(st, word[0] ? word : "?", ctx);
        }
    }
    /* data responses (FETCH, LIST, ...) may carry literals */
    start_literal(st, MW_FROM_SERVER, l->p, l->len);
}

/* Returns true when the session turns to TLS after this line. */
static bool server_line(imap_state *st, const mw_line *l, const mw_ctx *ctx)
{
    imap_side *sd = &st->side[MW_FROM_SERVER];
    if (sd->cont) { /* a data response goes on after a literal */
        sd->cont = false;
        start_literal(st, MW_FROM_SERVER, l->p, l->len);
        return false;
    }
    if (l->len == 0)
        return false;
    if (l->p[0] == '+') {
        /* continuation request: the client's literal, SASL step or IDLE; only SASL
         * challenges are shown (they carry no secret of the client's) */
        if (st->auth_active && st->sess->transcript) {
            flush_held(st);
            mw_tp_event_line(st->sess, MW_FROM_SERVER, ctx, ctx->ts_us - st->sasl_ts, l->p,
                             l->len);
        }
        return false;
    }
    if (l->len >= 2 && l->p[0] == '*' && l->p[1] == ' ') {
        untagged(st, l, ctx);
        return false;
    }
    st->sess->greeted = true;
    return tagged(st, l, ctx);
}

/* ---------- the dissector ---------- */

/* After a gap or a mid-session start: is this plausibly the start of a line? */
static bool plausible_line_start(mw_dir dir, const uint8_t *p, size_t len)
{
    char tag[MW_TP_TAG_MAX], word[16];
    if (dir == MW_FROM_SERVER && len >= 2 && (p[0] == '*' || p[0] == '+') && p[1] == ' ')
        return true;
    size_t t = take_tag(p, len, tag);
    if (t == 0)
        return false;
    size_t w = mw_tp_word(p + t + 1, len - t - 1, word, sizeof word);
    if (w == 0)
        return false;
    if (dir == MW_FROM_SERVER)
        return mw_tp_lookup(imap_statuses, G_N_ELEMENTS(imap_statuses), word, IS_OTHER) != IS_OTHER;
    if (mw_tp_lookup(imap_verbs, G_N_ELEMENTS(imap_verbs), word, -1) >= 0)
        return true;
    return in_list(other_verbs, G_N_ELEMENTS(other_verbs), word);
}

static void *imap_new(mw_session *s, const mw_config *cfg)
{
    (void)cfg;
    imap_state *st = g_new0(imap_state, 1);
    st->sess = s;
    agg_reset(&st->agg);
    mw_session_cmdrec(s, MW_PROTO_IMAP);
    return st;
}

static void imap_free(void *p)
{
    imap_state *st = p;
    if (!st)
        return;
    explicit_bzero(st->user_buf, sizeof st->user_buf);
    mw_tp_queue_free(&st->pending);
    g_free(st);
}

static mw_feed_result imap_feed(void *p, mw_dir dir, const uint8_t *data, size_t len,
                                const mw_ctx *ctx)
{
    imap_state *st = p;
    imap_side *sd = &st->side[dir];
    mw_feed_result r = { MW_FEED_OK, len };
    if (st->in_tls || st->compressed)
        return r;
    if (sd->resync && len > 0 && sd->lit_left == 0) {
        if (!mw_tp_can_judge(data, len)) {
            r.status = MW_FEED_NEED_MORE;
            r.consumed = 0;
            return r;
        }
        sd->resync = false;
        if (!plausible_line_start(dir, data, len))
            sd->ls.discarding = true;
    }
    size_t off = 0;
    while (off < len) {
        if (sd->lit_left) {
            off += skip_literal(st, dir, data + off, len - off);
            continue;
        }
        mw_line l;
        size_t used;
        mw_line_status ls =
            mw_line_take(&sd->ls, data + off, len - off, ctx->cfg->max_line, &l, &used);
        off += used;
        if (ls == MW_LINE_MORE) {
            r.status = MW_FEED_NEED_MORE;
            break;
        }
        if (ls == MW_LINE_OVERLONG) {
            mw_session_anomaly(st->sess, MW_ANOM_LINE_TOO_LONG);
            sd->cont = false;
            continue;
        }
        if (dir == MW_FROM_CLIENT) {
            client_line(st, &l, ctx);
        } else if (server_line(st, &l, ctx)) {
            st->in_tls = true;
            r.status = MW_FEED_UPGRADE_TLS;
            break;
        }
        if (st->compressed) {
            off = len; /* the rest is deflate data (RFC 4978) */
            break;
        }
    }
    r.consumed = off;
    return r;
}

static void imap_gap(void *p, mw_dir dir, uint64_t missing, const mw_ctx *ctx)
{
    (void)ctx;
    imap_state *st = p;
    imap_side *sd = &st->side[dir];
    flush_held(st);
    if (sd->lit_left && missing > 0 && missing < sd->lit_left) {
        /* the hole is inside a literal: skip the rest of it by count as before */
        sd->lit_left -= missing;
        sd->lit_done += missing;
        if (dir == MW_FROM_CLIENT)
            st->cur.lit_is_user = false;
        return;
    }
    sd->lit_left = 0;
    sd->cont = false;
    sd->resync = true;
    sd->ls.discarding = false;
    if (dir == MW_FROM_SERVER) {
        st->sess->greeted = true; /* the greeting may be in the hole */
        /* AUTHENTICATE's completion may be in the hole; SASL lines read as commands
         * afterwards have no tag and are ignored */
        st->auth_active = false;
        /* replies may be in the hole: what is pending cannot be judged unanswered */
        for (unsigned i = 0; i < st->pending.count; i++)
            mw_tp_at(&st->pending, i)->exempt = true;
    } else {
        memset(&st->cur, 0, sizeof st->cur);
        st->auth_active = false;
    }
}

static void imap_close(void *p, const mw_ctx *ctx)
{
    imap_state *st = p;
    flush_held(st);
    if (st->in_tls)
        return;
    mw_tp_close(st->sess, MW_PROTO_IMAP, &st->pending, ctx);
}

static bool imap_probe(const uint8_t *p, size_t len)
{
    return len >= 4 && memcmp(p, "* OK", 4) == 0;
}

static const mw_port_proto imap_ports[] = {
    { 143, MW_PROTO_IMAP },
    { 0, MW_PROTO_UNKNOWN },
};

const mw_dissector mw_imap_dissector = {
    .name = "imap",
    .ports = imap_ports,
    .content_proto = MW_PROTO_IMAP,
    .probe = imap_probe,
    .state_new = imap_new,
    .state_free = imap_free,
    .feed = imap_feed,
    .on_gap = imap_gap,
    .on_close = imap_close,
};
