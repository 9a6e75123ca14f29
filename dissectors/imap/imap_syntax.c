#include "imap/imap_syntax.h"

#include <glib.h>
#include <string.h>

#include "imap/imap_transcript.h"

static const mw_tp_verb imap_verbs[] = {
    { "CAPABILITY", IC_CAPABILITY }, { "LOGIN", IC_LOGIN },
    { "AUTHENTICATE", IC_AUTHENTICATE }, { "STARTTLS", IC_STARTTLS },
    { "SELECT", IC_SELECT }, { "EXAMINE", IC_SELECT },
    { "IDLE", IC_IDLE }, { "COMPRESS", IC_COMPRESS },
    { "LOGOUT", IC_LOGOUT }, { "UID", IC_UID },
};

static const mw_tp_verb imap_statuses[] = {
    { "OK", IS_OK }, { "NO", IS_NO }, { "BAD", IS_BAD },
    { "PREAUTH", IS_PREAUTH }, { "BYE", IS_BYE },
};

int imap_verb(const char *word, int dflt)
{
    return mw_tp_lookup(imap_verbs, G_N_ELEMENTS(imap_verbs), word, dflt);
}

int imap_status_of(const char *word)
{
    return mw_tp_lookup(imap_statuses, G_N_ELEMENTS(imap_statuses), word, IS_OTHER);
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
size_t imap_take_tag(const uint8_t *p, size_t len, char out[MW_TP_TAG_MAX])
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

/* Does the line end in a literal announcement "{" number ["+"] "}" (RFC 9051 4.3, RFC
 * 7888)? A brace group at the end whose inside is not a count within IMAP_LITERAL_MAX
 * (a sign, other characters, too many digits) is LIT_BAD. */
lit_status imap_trailing_literal(const uint8_t *p, size_t len, uint64_t *count)
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
void imap_start_literal(imap_state *st, mw_dir dir, const uint8_t *p, size_t len)
{
    uint64_t n = 0;
    lit_status ls = imap_trailing_literal(p, len, &n);
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
        imap_agg_literal(st, n);
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
        const uint8_t *u = (const uint8_t *)st->user_buf;
        if (mw_sasl_user_ok(u, st->user_len))
            mw_tp_auth_user(st->sess, mw_wire_strdup(u, st->user_len, MW_MAX_TEXT));
        else
            mw_secrets_add(&st->secrets, u, st->user_len);
        st->cur.lit_is_user = false;
        if (st->login_due)
            imap_login_event(st, true);
    }
    st->cur.argi++;
}

size_t imap_skip_literal(imap_state *st, mw_dir dir, const uint8_t *p, size_t len)
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
