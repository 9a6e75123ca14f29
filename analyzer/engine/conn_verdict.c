#include "engine/conn_verdict.h"

#include <glib.h>

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

/* The connection was up and closed, and the server never spoke. */
static void judge_no_greeting(mw_session *s, uint64_t frame, int64_t ts_us)
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
                    "no server greeting in %.1f s before the %s",
                    (double)(at_ts - s->ts_start_us) / 1e6,
                    client_left ? "client gave up" : "connection closed");
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

void mw_conn_verdict(mw_session *s, const mw_dissector *d, const mw_conn_tcp *tcp,
                     uint64_t frame, int64_t ts_us)
{
    if (tcp)
        judge_handshake(s, tcp, frame, ts_us);
    switch (mw_conn_first_speaker(d)) {
    case MW_FIRST_SERVER:
        judge_no_greeting(s, frame, ts_us);
        break;
    case MW_FIRST_CLIENT:
        judge_silence(s, frame, ts_us);
        break;
    case MW_FIRST_ANY:
        break;
    }
}
