#include "imap/imap_transcript.h"

#include <glib.h>
#include <string.h>

#include "imap/imap_syntax.h"

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

bool imap_other_verb(const char *word)
{
    return in_list(other_verbs, G_N_ELEMENTS(other_verbs), word);
}

void imap_agg_reset(imap_agg *a)
{
    memset(a, 0, sizeof *a);
    a->cur = -1;
}

/* One more untagged data response of this kind, summarised later. */
void imap_agg_add(imap_state *st, const char *kind, const mw_ctx *ctx)
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
void imap_agg_literal(imap_state *st, uint64_t n)
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
    imap_agg_reset(a);
}

/* The LOGIN event: "a1 LOGIN alice [password redacted]". user_known: its user-name
 * literal has been read (the record holds the name). */
void imap_login_event(imap_state *st, bool user_known)
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
void imap_flush_held(imap_state *st)
{
    if (!st->sess->transcript)
        return;
    if (st->login_due)
        imap_login_event(st, false);
    agg_flush(st);
}

/* The transcript line of a command, redacted: a LOGIN password, an AUTHENTICATE initial
 * response and the arguments of unknown verbs never appear. An announced literal is
 * shown as its size. */
void imap_command_event(imap_state *st, const mw_tp_cmd *c, const mw_line *l, bool ir,
                          const mw_ctx *ctx)
{
    mw_session *s = st->sess;
    imap_flush_held(st);
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
    if (c->kind == IC_OTHER && !imap_other_verb(verb) &&
        !in_list(display_verbs, G_N_ELEMENTS(display_verbs), verb)) {
        mw_session_event(s, MW_FROM_CLIENT, ctx->frame, ctx->ts_us, -1,
                         "[unrecognised command: %zu bytes]", l->len);
        return;
    }
    uint64_t n = 0;
    if (imap_trailing_literal(l->p, l->len, &n) == LIT_OK) {
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
