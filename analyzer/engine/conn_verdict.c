#include "engine/conn_verdict.h"

#include <glib.h>
#include <string.h>

#include "smtp/smtp_log.h"
#include "tls/tls_log.h"

mw_first_speaker mw_conn_first_speaker(const mw_dissector *d)
{
    if (!d)
        return MW_FIRST_ANY;
    if (d->tls)
        return MW_FIRST_CLIENT;
    return d->probe ? MW_FIRST_SERVER : MW_FIRST_ANY;
}

/* The SYN got a RST, or nothing at all. */
static void judge_handshake(mw_session *s, const mw_conn_tcp *t, uint64_t frame, int64_t ts_us)
{
    if (!s->syn_seen || s->synack_seen)
        return;
    if (t->rst && t->rst_from == MW_FROM_SERVER) {
        mw_session_flag(s, MW_FLAG_CONNECTION_REFUSED, frame, ts_us,
                        "SYN to port %u answered by RST", s->server.port);
    } else if (!t->rst && s->bytes[MW_FROM_CLIENT] == 0 &&
               (t->syn_count >= 2 || t->now_us - t->first_ts >= MW_CONN_SYN_TIMEOUT_US)) {
        mw_session_flag(s, MW_FLAG_CONNECTION_TIMEOUT, t->first_frame, t->first_ts,
                        "SYN to port %u never answered (%u attempt%s)", s->server.port,
                        t->syn_count, t->syn_count == 1 ? "" : "s");
    }
}

/* The connection was up and closed, and the server never spoke. `why` is added to the
 * evidence ("" when nothing is to be said). */
static void judge_no_greeting(mw_session *s, uint64_t frame, int64_t ts_us, const char *why)
{
    if (s->greeted || !s->syn_seen || !s->synack_seen || s->bytes[MW_FROM_SERVER] != 0 ||
        s->close_reason == MW_CLOSE_NONE || s->close_reason == MW_CLOSE_EVICTED)
        return;
    /* the evidence is the moment the client gave up (its FIN), when it did */
    const mw_session_more *more = mw_session_more_get(s);
    bool client_left = more->fin_frame[MW_FROM_CLIENT] != 0;
    uint64_t at_frame = client_left ? more->fin_frame[MW_FROM_CLIENT] : frame;
    int64_t at_ts = client_left ? more->fin_ts_us[MW_FROM_CLIENT] : ts_us;
    mw_session_flag(s, MW_FLAG_NO_GREETING, at_frame, at_ts,
                    "no server greeting in %.1f s before the %s%s",
                    (double)(at_ts - s->ts_start_us) / 1e6,
                    client_left ? "client gave up" : "connection closed", why);
}

/* Nobody spoke on an implicit-TLS port: the client waited for a plain-text greeting,
 * the server for a ClientHello. */
static void judge_silence(mw_session *s, uint64_t frame, int64_t ts_us)
{
    int64_t waited = ts_us - s->ts_start_us;
    bool closed = s->close_reason == MW_CLOSE_FIN || s->close_reason == MW_CLOSE_RST;
    if (s->starttls || !s->syn_seen || !s->synack_seen || s->bytes[0] || s->bytes[1] ||
        s->tls.rec || !closed || waited < MW_CONN_SILENT_US)
        return;
    mw_session_flag(s, MW_FLAG_TLS_MODE_MISMATCH, frame, ts_us,
                    "no ClientHello in %.1f s on implicit-TLS port %u before the connection "
                    "closed: the client waited for a plain-text greeting",
                    (double)waited / 1e6, s->server.port);
}

/* On an implicit-TLS port the client spoke clear text (no ClientHello) and the server
 * never answered: the client waited for a greeting that never came (issue 15 item 16).
 * tls_mode_mismatch (tls_record.c) says why; no_greeting says what the user saw. */
static void judge_clear_client(mw_session *s, uint64_t frame, int64_t ts_us)
{
    if (s->starttls || s->tls.rec || s->bytes[MW_FROM_CLIENT] == 0)
        return;
    char why[96];
    g_snprintf(why, sizeof why, ", after the client spoke clear text on implicit-TLS port %u",
               s->server.port);
    judge_no_greeting(s, frame, ts_us, why);
}

void mw_conn_verdict(mw_session *s, const mw_dissector *d, const mw_conn_tcp *tcp,
                     uint64_t frame, int64_t ts_us)
{
    if (tcp)
        judge_handshake(s, tcp, frame, ts_us);
    switch (mw_conn_first_speaker(d)) {
    case MW_FIRST_SERVER:
        judge_no_greeting(s, frame, ts_us, "");
        break;
    case MW_FIRST_CLIENT:
        judge_silence(s, frame, ts_us);
        judge_clear_client(s, frame, ts_us);
        break;
    case MW_FIRST_ANY:
        break;
    }
}

/* ---------- which side to fix ---------- */

static const char *const advice_text[MW_ADVICE_COUNT] = {
    [MW_ADVICE_NONE] = "",
    [MW_ADVICE_TLS_CLIENT_OLD] =
        "The client is the side out of date: it offered only TLS 1.1 or older and the server "
        "refused it. Update the client, or switch on TLS 1.2 in its settings; the server is "
        "right to refuse.",
    [MW_ADVICE_TLS_CLIENT_OLD_ACCEPTED] =
        "The client is the side out of date: it offered only TLS 1.1 or older (the server "
        "still accepts that). Update the client, or switch on TLS 1.2 in its settings; then "
        "switch TLS 1.0/1.1 off on the server.",
    [MW_ADVICE_TLS_SERVER_OLD] =
        "The server is the side out of date: the client offered TLS 1.2 or newer and "
        "the server chose TLS 1.1 or older. Enable TLS 1.2+ on the server.",
    [MW_ADVICE_AUTH_UNUSED] =
        "The server offered AUTH and the client never logged in: switch on \"outgoing "
        "server authentication\" in the client.",
};

const char *mw_advice_text(mw_advice a)
{
    return (unsigned)a < MW_ADVICE_COUNT ? advice_text[a] : "";
}

/* SSL or TLS 1.0/1.1 (the names tls_names.c gives). */
static bool old_version(const char *v)
{
    static const char *const old[] = { "SSLv2", "SSLv3", "TLS1.0", "TLS1.1" };
    for (size_t i = 0; v && i < G_N_ELEMENTS(old); i++)
        if (strcmp(v, old[i]) == 0)
            return true;
    return false;
}

/* Every version the client offered is old (and it offered some). */
static bool client_offer_old(const mw_tls_rec *t)
{
    if (t->n_client_versions == 0)
        return false;
    for (unsigned i = 0; i < t->n_client_versions; i++)
        if (!old_version(mw_tls_client_versions(t)[i]))
            return false;
    return true;
}

static mw_advice tls_advice(const mw_session *s)
{
    const mw_tls_rec *t = mw_tls_of(s);
    if (!t || t->n_client_versions == 0)
        return MW_ADVICE_NONE;
    /* An old offer is the client's fault whoever sent the alert: with no ServerHello the
     * server refused it (by alert or by closing, which the client may answer with an alert
     * of its own), with one the server settled for it. A modern offer answered with an old
     * version is the server's, whether or not the client then refused it by an alert. A
     * modern offer refused without a ServerHello says nothing of sides (the server may
     * want TLS 1.3 only): SPEC.md's text stands. */
    if (client_offer_old(t))
        return t->version ? MW_ADVICE_TLS_CLIENT_OLD_ACCEPTED : MW_ADVICE_TLS_CLIENT_OLD;
    if (t->version && old_version(t->version))
        return MW_ADVICE_TLS_SERVER_OLD;
    return MW_ADVICE_NONE;
}

bool mw_conn_auth_offered(const mw_session *s)
{
    if (s->auth_offered)
        return true;
    const mw_smtp_rec *m = mw_smtp_of(s);
    if (!m)
        return false;
    for (guint i = 0; i < m->capabilities.len; i++) {
        const char *c = mw_avec_at(&m->capabilities, const char *, i);
        if (g_ascii_strncasecmp(c, "AUTH", 4) == 0 && (c[4] == ' ' || c[4] == '=' || !c[4]))
            return true;
    }
    return false;
}

/* The server's EHLO listed AUTH (RFC 4954 section 3) and no AUTH was tried. */
static mw_advice relay_advice(const mw_session *s)
{
    return !s->auth && mw_conn_auth_offered(s) ? MW_ADVICE_AUTH_UNUSED : MW_ADVICE_NONE;
}

mw_advice mw_conn_advice(const mw_session *s, mw_flag f)
{
    if (!mw_session_has(s, f))
        return MW_ADVICE_NONE;
    switch (f) {
    case MW_FLAG_TLS_VERSION_MISMATCH:
    case MW_FLAG_TLS_DEPRECATED_VERSION:
        return tls_advice(s);
    case MW_FLAG_RELAY_DENIED:
        return relay_advice(s);
    default:
        return MW_ADVICE_NONE;
    }
}
