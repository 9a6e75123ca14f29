#define _GNU_SOURCE /* explicit_bzero, memmem */
#include "text/secrets.h"

#include <string.h>

/* Wipe and free slot i. */
static void forget(mw_secrets *s, unsigned i)
{
    if (s->text[i]) {
        explicit_bzero(s->text[i], s->len[i]);
        g_free(s->text[i]);
    }
    s->text[i] = NULL;
    s->len[i] = 0;
}

static void keep(mw_secrets *s, const uint8_t *p, size_t len)
{
    if (len < MW_SECRET_MIN)
        return;
    if (len > MW_SECRET_MAX)
        len = MW_SECRET_MAX;
    for (unsigned i = 0; i < MW_SECRETS_KEEP; i++)
        if (s->len[i] == len && memcmp(s->text[i], p, len) == 0)
            return; /* already known */
    unsigned i = s->next++ % MW_SECRETS_KEEP;
    forget(s, i);
    s->text[i] = g_malloc(len);
    memcpy(s->text[i], p, len);
    s->len[i] = (uint16_t)len;
}

void mw_secrets_add(mw_secrets **sp, const uint8_t *p, size_t len)
{
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (len < MW_SECRET_MIN)
        return;
    if (!*sp)
        *sp = g_new0(mw_secrets, 1);
    keep(*sp, p, len);
    /* and each word of it: a server may echo one ("unknown command <word>") */
    size_t i = 0;
    while (i < len) {
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t j = i;
        while (j < len && p[j] != ' ' && p[j] != '\t')
            j++;
        if (j - i < len)
            keep(*sp, p + i, j - i);
        i = j;
    }
}

/* The earliest remembered secret in p[0..len): where, and how long (0: none). */
/* Up to this many bytes (a server line, usually well under) a secret is searched for by
 * its first byte (memchr) and the rest compared: glibc's memmem sets up its linear-time
 * search first, most of its cost on a short line. Longer texts keep memmem. */
#define SECRET_SCAN_MAX 1024
/* ... and the compares of candidates may cost this many times the text's length at most:
 * past that (a hostile line of the secret's first byte over and over, each compare up to
 * MW_SECRET_MAX bytes) the rest goes to memmem, so the search stays linear. */
#define SECRET_SCAN_BUDGET 4

/* The first occurrence of n (nlen bytes, 1 <= nlen <= len) in p, as memmem finds it. */
static const uint8_t *find_secret(const uint8_t *p, size_t len, const uint8_t *n, size_t nlen)
{
    if (len > SECRET_SCAN_MAX)
        return memmem(p, len, n, nlen);
    const uint8_t *const end = p + len, *const last = end - nlen; /* the last start */
    size_t budget = SECRET_SCAN_BUDGET * len;
    while (p <= last) {
        const uint8_t *c = memchr(p, n[0], (size_t)(last - p) + 1);
        if (!c)
            return NULL;
        if (budget < nlen) /* many candidates: the linear search for the rest */
            return memmem(c, (size_t)(end - c), n, nlen);
        budget -= nlen;
        if (memcmp(c + 1, n + 1, nlen - 1) == 0)
            return c;
        p = c + 1;
    }
    return NULL;
}

static size_t first_secret(const mw_secrets *s, const uint8_t *p, size_t len, size_t *at)
{
    size_t best_len = 0, best_at = len;
    for (unsigned i = 0; i < MW_SECRETS_KEEP; i++) {
        if (s->len[i] == 0 || s->len[i] > len)
            continue;
        const uint8_t *m = find_secret(p, len, s->text[i], s->len[i]);
        if (!m)
            continue;
        size_t off = (size_t)(m - p);
        if (off < best_at || (off == best_at && s->len[i] > best_len)) {
            best_at = off;
            best_len = s->len[i];
        }
    }
    *at = best_at;
    return best_len;
}

char *mw_secrets_redact(const mw_secrets *s, const uint8_t *p, size_t len, size_t *out_len)
{
    size_t at, n;
    if (!s || (n = first_secret(s, p, len, &at)) == 0)
        return NULL;
    GString *g = g_string_sized_new(len + sizeof MW_SECRET_MARK);
    size_t off = 0;
    while (n) {
        g_string_append_len(g, (const char *)p + off, (gssize)at);
        g_string_append(g, MW_SECRET_MARK);
        off += at + n;
        n = first_secret(s, p + off, len - off, &at);
    }
    g_string_append_len(g, (const char *)p + off, (gssize)(len - off));
    *out_len = g->len;
    return g_string_free(g, FALSE);
}

bool mw_secrets_server_line(const mw_secrets *s, const mw_line *l, mw_server_line_fn fn,
                            void *state, const mw_ctx *ctx)
{
    size_t n;
    char *red = mw_secrets_redact(s, l->p, l->len, &n);
    if (!red)
        return fn(state, l, ctx);
    mw_line r = { (const uint8_t *)red, n };
    bool ret = fn(state, &r, ctx);
    g_free(red);
    return ret;
}

void mw_secrets_free(mw_secrets **s)
{
    if (!*s)
        return;
    for (unsigned i = 0; i < MW_SECRETS_KEEP; i++)
        forget(*s, i);
    explicit_bzero(*s, sizeof **s);
    g_free(*s);
    *s = NULL;
}

/* Does a client line start like a command that carries credentials (SMTP and POP3 AUTH,
 * IMAP LOGIN and AUTHENTICATE after a tag, POP3 USER, PASS, APOP)? */
static bool login_like(const uint8_t *p, size_t len)
{
    static const char *const verbs[] = { "AUTH", "LOGIN", "AUTHENTICATE", "USER", "PASS",
                                         "APOP" };
    for (int word = 0; word < 2; word++) { /* the verb, or the word after an IMAP tag */
        for (size_t v = 0; v < G_N_ELEMENTS(verbs); v++) {
            size_t n = strlen(verbs[v]);
            if (len >= n && g_ascii_strncasecmp((const char *)p, verbs[v], n) == 0)
                return true;
        }
        while (len > 0 && *p != ' ')
            p++, len--;
        while (len > 0 && *p == ' ')
            p++, len--;
    }
    return false;
}

#define MW_OVERLAP_MARK "[redacted: another copy of these bytes differed]"

void mw_secrets_overlap_conflict(mw_secrets **sp, mw_session *sess, mw_dir dir,
                                 const uint8_t *other, size_t len, uint64_t first_frame,
                                 bool in_auth)
{
    if (dir != MW_FROM_CLIENT)
        return;
    bool suspect = in_auth || (other && login_like(other, len)) ||
                   (*sp && (*sp)->overlap_suspect);
    if (!suspect)
        return;
    if (other) { /* the copy never delivered: its words are secrets too */
        size_t i = 0;
        while (i < len) {
            size_t j = i;
            while (j < len && other[j] != '\n')
                j++;
            mw_secrets_add(sp, other + i, j - i);
            i = j + 1;
        }
    }
    if (!*sp)
        *sp = g_new0(mw_secrets, 1);
    /* held out of order, the delivered copy comes later: the second call redacts it */
    (*sp)->overlap_suspect = other != NULL;
    for (guint i = 0; sess->transcript && i < sess->transcript->len; i++) {
        mw_event *e = &g_array_index(sess->transcript, mw_event, i);
        if (e->dir != MW_FROM_CLIENT || e->frame < first_frame)
            continue;
        if (e->text)
            explicit_bzero(e->text, strlen(e->text));
        g_free(e->text);
        e->text = g_strdup(MW_OVERLAP_MARK);
    }
}
