#include "output/unseen.h"

#include <string.h>

#include "tls/tls_log.h"

struct mw_unseen {
    uint64_t count;
    GPtrArray *ids, *lines; /* owned strings, the first MW_UNSEEN_LISTED */
    bool no_keys, keys_missing;
};

bool mw_session_unseen(const mw_session *s)
{
    if (!s->encrypted)
        return false;
    if (!mw_tls_of(s))
        return true; /* the opaque dissector: bytes counted, never read */
    const mw_tls_rec *t = mw_tls_of(s);
    return t->handshake_done || t->app_records[0] || t->app_records[1];
}

static void side_volume(GString *out, const char *who, uint64_t records, uint64_t bytes)
{
    g_string_append_printf(out, "%s %" G_GUINT64_FORMAT " record%s (%" G_GUINT64_FORMAT
                                " bytes)", who, records, records == 1 ? "" : "s", bytes);
}

/* Who ended the connection first, and when (0: not seen). */
static int64_t close_of(const mw_session *s, const char **who)
{
    const int64_t *fin = mw_session_more_get(s)->fin_ts_us;
    int64_t c = fin[MW_FROM_CLIENT], v = fin[MW_FROM_SERVER];
    *who = NULL;
    if (c && (!v || c <= v)) {
        *who = "the client";
        return c;
    }
    if (v) {
        *who = "the server";
        return v;
    }
    return s->close_reason == MW_CLOSE_RST ? s->ts_end_us : 0;
}

void mw_unseen_describe(GString *out, const mw_session *s)
{
    const mw_tls_rec *t = mw_tls_of(s);
    if (!t) {
        g_string_append(out, "encrypted after the upgrade; no TLS reader for it");
        return;
    }
    g_string_append(out, t->handshake_done ? "handshake completed; "
                                           : "handshake not seen to complete; ");
    side_volume(out, "client", t->app_records[0], t->app_bytes[0]);
    g_string_append(out, ", ");
    side_volume(out, "server", t->app_records[1], t->app_bytes[1]);
    const char *who;
    int64_t at = close_of(s, &who);
    if (who)
        g_string_append_printf(out, "; %s closed first", who);
    else if (s->close_reason == MW_CLOSE_RST)
        g_string_append(out, "; the connection was reset");
    else
        g_string_append(out, "; still open at the end");
    if (at && t->last_record_us[MW_FROM_SERVER] && at >= t->last_record_us[MW_FROM_SERVER])
        g_string_append_printf(out, "; the server was silent %.1f s before the close",
                               (double)(at - t->last_record_us[MW_FROM_SERVER]) / 1e6);
    g_string_append(out, t->keys == MW_TLS_KEYS_MISSING ? "; the key log has no key for it"
                         : t->keys == MW_TLS_KEYS_FOUND
                             ? "; keys found, but some of its records could not be decrypted"
                             : "; no key log given");
}

mw_unseen *mw_unseen_new(void)
{
    mw_unseen *u = g_new0(mw_unseen, 1);
    u->ids = g_ptr_array_new_with_free_func(g_free);
    u->lines = g_ptr_array_new_with_free_func(g_free);
    return u;
}

void mw_unseen_free(mw_unseen *u)
{
    if (!u)
        return;
    g_ptr_array_free(u->ids, TRUE);
    g_ptr_array_free(u->lines, TRUE);
    g_free(u);
}

void mw_unseen_add(mw_unseen *u, const mw_session *s)
{
    if (!mw_session_unseen(s))
        return;
    u->count++;
    if (u->ids->len >= MW_UNSEEN_LISTED)
        return;
    GString *g = g_string_new(NULL);
    mw_unseen_describe(g, s);
    g_ptr_array_add(u->ids, g_strdup(s->id));
    g_ptr_array_add(u->lines, g_string_free(g, FALSE));
}

uint64_t mw_unseen_count(const mw_unseen *u)
{
    return u ? u->count : 0;
}

guint mw_unseen_listed(const mw_unseen *u)
{
    return u->ids->len;
}

const char *mw_unseen_id(const mw_unseen *u, guint i)
{
    return g_ptr_array_index(u->ids, i);
}

const char *mw_unseen_line(const mw_unseen *u, guint i)
{
    return g_ptr_array_index(u->lines, i);
}

const char *mw_unseen_howto(void)
{
    return "To see inside, give mailwire the session keys with --keylog FILE: a key log "
           "written by the client (curl, Firefox and Thunderbird write one when "
           "SSLKEYLOGFILE=FILE is set; openssl s_client -keylogfile FILE), or a pcapng with "
           "the keys embedded (editcap --inject-secrets tls,FILE). Or join the server's log "
           "with --maillog FILE.";
}

void mw_unseen_summary(GString *out, const mw_unseen *u)
{
    g_string_append_printf(out, "%" G_GUINT64_FORMAT " session%s could not be seen: TLS "
                                "encrypts %s commands, replies and logins.\n",
                           u->count, u->count == 1 ? "" : "s", u->count == 1 ? "its" : "their");
    for (guint i = 0; i < u->ids->len; i++)
        g_string_append_printf(out, "  %s: %s\n", mw_unseen_id(u, i), mw_unseen_line(u, i));
    if (u->count > u->ids->len)
        g_string_append_printf(out, "  and %" G_GUINT64_FORMAT " more\n",
                               u->count - u->ids->len);
    g_string_append_printf(out, "%s\n", mw_unseen_howto());
}
