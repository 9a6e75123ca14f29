#include "output/record_json.h"

#include "core/identity.h"
#include "core/json.h"

static void json_time(GString *out, int64_t ts)
{
    g_string_append_c(out, '"');
    mw_format_time(out, ts);
    g_string_append_c(out, '"');
}

static void json_endpoint(GString *out, const mw_endpoint *ep)
{
    g_string_append_c(out, '"');
    mw_format_endpoint(out, ep);
    g_string_append_c(out, '"');
}

/* {"client":N,"server":N} */
static void json_pair(GString *out, const uint64_t v[2])
{
    mw_put_lit(out, "{\"client\":");
    mw_json_u64(out, v[0]);
    mw_put_lit(out, ",\"server\":");
    mw_json_u64(out, v[1]);
    g_string_append_c(out, '}');
}

static void json_strlist(GString *out, GPtrArray *a)
{
    g_string_append_c(out, '[');
    for (guint i = 0; a && i < a->len; i++) {
        if (i)
            g_string_append_c(out, ',');
        mw_json_str(out, g_ptr_array_index(a, i));
    }
    g_string_append_c(out, ']');
}

static void json_opt_str(GString *out, const char *s)
{
    mw_json_str(out, (s && *s) ? s : NULL);
}

/* SPEC.md: decrypted, keys; and where decryption stopped, by direction (null: it did not) */
static void json_tls_keys(GString *out, const mw_tls_rec *t)
{
    static const char *const keys[] = { "none_given", "missing", "found" };
    mw_json_key(out, "decrypted");
    g_string_append(out, t->decrypted ? "true" : "false");
    mw_json_key(out, "keys");
    mw_json_str(out, keys[t->keys <= MW_TLS_KEYS_FOUND ? t->keys : 0]);
    mw_json_key(out, "decrypt_failed");
    if (!t->decrypt_failed_frame[0] && !t->decrypt_failed_frame[1]) {
        mw_put_lit(out, "null");
        return;
    }
    g_string_append_c(out, '{');
    for (int d = 0; d < 2; d++) {
        mw_json_key(out, d ? "server_frame" : "client_frame");
        if (t->decrypt_failed_frame[d])
            mw_json_u64(out, t->decrypt_failed_frame[d]);
        else
            mw_put_lit(out, "null");
    }
    g_string_append_c(out, '}');
}

static void json_tls(GString *out, const mw_tls_rec *t)
{
    if (!t) {
        mw_put_lit(out, "null");
        return;
    }
    g_string_append_c(out, '{');
    mw_json_key(out, "client_versions");
    json_strlist(out, t->client_versions);
    mw_json_key(out, "version");
    json_opt_str(out, t->version);
    mw_json_key(out, "cipher");
    json_opt_str(out, t->cipher);
    mw_json_key(out, "sni");
    json_opt_str(out, t->sni);
    mw_json_key(out, "alpn");
    json_opt_str(out, t->alpn);
    mw_json_key(out, "alert");
    if (t->alert.present) {
        g_string_append_c(out, '{');
        mw_json_key(out, "level");
        mw_json_str(out, t->alert.level);
        mw_json_key(out, "description");
        mw_json_str(out, t->alert.description);
        mw_json_key(out, "from");
        mw_json_str(out, t->alert.from == MW_FROM_CLIENT ? "client" : "server");
        g_string_append_c(out, '}');
    } else {
        mw_put_lit(out, "null");
    }
    mw_json_key(out, "cert");
    if (t->cert.present) {
        g_string_append_c(out, '{');
        mw_json_key(out, "subject");
        mw_json_str(out, t->cert.subject);
        mw_json_key(out, "issuer");
        mw_json_str(out, t->cert.issuer);
        mw_json_key(out, "san");
        json_strlist(out, t->cert.san);
        mw_json_key(out, "not_before");
        json_opt_str(out, t->cert.not_before);
        mw_json_key(out, "not_after");
        json_opt_str(out, t->cert.not_after);
        mw_json_key(out, "sha256");
        json_opt_str(out, t->cert.sha256);
        mw_json_key(out, "self_signed");
        g_string_append(out, t->cert.self_signed ? "true" : "false");
        mw_json_key(out, "key");
        json_opt_str(out, t->cert.key);
        mw_json_key(out, "signature_algorithm");
        json_opt_str(out, t->cert.sig_alg);
        g_string_append_c(out, '}');
    } else {
        mw_put_lit(out, "null");
    }
    mw_json_key(out, "ja3");
    json_opt_str(out, t->ja3);
    mw_json_key(out, "ja3s");
    json_opt_str(out, t->ja3s);
    mw_json_key(out, "ja4");
    json_opt_str(out, t->ja4);
    json_tls_keys(out, t);
    /* beyond SPEC.md: what the versions looked like on the wire, and the volume */
    mw_json_key(out, "hello_version");
    json_opt_str(out, t->hello_version);
    mw_json_key(out, "record_version");
    json_opt_str(out, t->record_version);
    mw_json_key(out, "sslv2_hello");
    g_string_append(out, t->sslv2_hello ? "true" : "false");
    mw_json_key(out, "hello_retry");
    g_string_append(out, t->hello_retry ? "true" : "false");
    mw_json_key(out, "handshake_done");
    g_string_append(out, t->handshake_done ? "true" : "false");
    mw_json_key(out, "app_data");
    mw_put_lit(out, "{\"client\":{\"records\":");
    mw_json_u64(out, t->app_records[0]);
    mw_put_lit(out, ",\"bytes\":");
    mw_json_u64(out, t->app_bytes[0]);
    mw_put_lit(out, "},\"server\":{\"records\":");
    mw_json_u64(out, t->app_records[1]);
    mw_put_lit(out, ",\"bytes\":");
    mw_json_u64(out, t->app_bytes[1]);
    mw_put_lit(out, "}}");
    g_string_append_c(out, '}');
}

static void json_auth(GString *out, const mw_auth_rec *a)
{
    if (!a) {
        mw_put_lit(out, "null");
        return;
    }
    static const char *const results[] = { "unknown", "success", "failure" };
    g_string_append_c(out, '{');
    mw_json_key(out, "mechanism");
    json_opt_str(out, a->mechanism);
    mw_json_key(out, "user");
    mw_json_str(out, a->user);
    mw_json_key(out, "result");
    mw_json_str(out, results[a->result]);
    mw_json_key(out, "code");
    json_opt_str(out, a->code);
    g_string_append_c(out, '}');
}

static void json_replies(GString *out, GArray *a, bool smtp)
{
    g_string_append_c(out, '[');
    for (guint i = 0; a && i < a->len; i++) {
        const mw_reply *r = &g_array_index(a, mw_reply, i);
        if (i)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        mw_json_key(out, "cmd");
        json_opt_str(out, r->cmd);
        if (smtp) {
            mw_json_key(out, "code");
            mw_json_i64(out, r->code);
            mw_json_key(out, "enhanced");
            json_opt_str(out, r->enhanced);
            mw_json_key(out, "category");
            mw_json_str(out, r->category);
        } else {
            mw_json_key(out, "status");
            mw_json_str(out, r->status);
            mw_json_key(out, "code");
            json_opt_str(out, r->enhanced);
        }
        mw_json_key(out, "text");
        mw_json_str(out, r->text);
        mw_json_key(out, "frame");
        mw_json_u64(out, r->frame);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

static void json_smtp(GString *out, const mw_smtp_rec *m)
{
    g_string_append_c(out, '{');
    mw_json_key(out, "helo");
    mw_json_str(out, m->helo);
    mw_json_key(out, "mail_from");
    mw_json_str(out, m->mail_from);
    mw_json_key(out, "rcpt");
    g_string_append_c(out, '[');
    for (guint i = 0; i < m->rcpt->len; i++) {
        const mw_rcpt *r = &g_array_index(m->rcpt, mw_rcpt, i);
        if (i)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        mw_json_key(out, "to");
        mw_json_str(out, r->to);
        mw_json_key(out, "code");
        if (r->code)
            mw_json_i64(out, r->code);
        else
            mw_put_lit(out, "null");
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
    mw_json_key(out, "messages");
    mw_json_u64(out, m->messages);
    mw_json_key(out, "replies");
    json_replies(out, m->replies, true);
    mw_json_key(out, "transactions");
    mw_json_u64(out, m->transactions);
    mw_json_key(out, "message_bytes");
    mw_json_u64(out, m->message_bytes);
    mw_json_key(out, "capabilities");
    json_strlist(out, m->capabilities);
    g_string_append_c(out, '}');
}

static void json_cmdrec(GString *out, const mw_cmd_rec *c)
{
    g_string_append_c(out, '{');
    mw_json_key(out, "commands");
    mw_json_u64(out, c->commands);
    mw_json_key(out, "failures");
    json_replies(out, c->failures, false);
    g_string_append_c(out, '}');
}

static void json_latency(GString *out, const mw_latency *l)
{
    if (!l->timed) {
        mw_put_lit(out, "null");
        return;
    }
    mw_put_lit(out, "{\"commands\":");
    mw_json_u64(out, l->timed);
    mw_put_lit(out, ",\"total_s\":");
    mw_json_seconds(out, l->total_us);
    mw_put_lit(out, ",\"slowest\":{");
    mw_json_key(out, "cmd");
    mw_json_str(out, l->slowest_cmd);
    mw_put_lit(out, ",\"seconds\":");
    mw_json_seconds(out, l->slowest_us);
    mw_put_lit(out, ",\"frame\":");
    mw_json_u64(out, l->slowest_frame);
    mw_put_lit(out, "}}");
}

static void json_transcript(GString *out, const mw_session *s)
{
    g_string_append_c(out, '[');
    for (guint i = 0; i < s->transcript->len; i++) {
        const mw_event *ev = &g_array_index(s->transcript, mw_event, i);
        if (i)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        mw_json_key(out, "ts");
        json_time(out, ev->ts_us);
        mw_json_key(out, "frame");
        mw_json_u64(out, ev->frame);
        mw_json_key(out, "from");
        mw_json_str(out, ev->dir == MW_FROM_CLIENT ? "client" : "server");
        if (ev->latency_us >= 0) {
            mw_json_key(out, "latency_s");
            mw_json_seconds(out, ev->latency_us);
        }
        mw_json_key(out, "text");
        mw_json_str(out, ev->text);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

void mw_record_json(GString *out, const mw_session *s)
{
    mw_record_json_ex(out, s, false);
}

/* The protocol keys (SPEC.md "Protocol keys"): the one place where a protocol's own part of
 * the record is written (the seam for per-dissector record hooks, issue 11). */
static void json_protocols(GString *out, const mw_session *s)
{
    if (s->smtp) {
        mw_json_key(out, "smtp");
        json_smtp(out, s->smtp);
    }
    if (s->imap) {
        mw_json_key(out, "imap");
        json_cmdrec(out, s->imap);
    }
    if (s->pop3) {
        mw_json_key(out, "pop3");
        json_cmdrec(out, s->pop3);
    }
}

void mw_record_json_ex(GString *out, const mw_session *s, bool with_transcript)
{
    g_string_append_c(out, '{');
    mw_json_key(out, "id");
    mw_json_str(out, s->id);
    mw_json_key(out, "ts_start");
    json_time(out, s->ts_start_us);
    mw_json_key(out, "ts_end");
    json_time(out, s->ts_end_us);
    mw_json_key(out, "duration_s");
    mw_json_seconds(out, s->ts_end_us - s->ts_start_us);
    mw_json_key(out, "client");
    json_endpoint(out, &s->client);
    mw_json_key(out, "server");
    json_endpoint(out, &s->server);
    mw_json_key(out, "community_id");
    mw_json_str(out, s->community_id);
    mw_json_key(out, "protocol");
    mw_json_str(out, mw_proto_name(s->protocol));
    mw_json_key(out, "starttls");
    g_string_append(out, s->starttls ? "true" : "false");
    mw_json_key(out, "tls");
    json_tls(out, s->tls);
    mw_json_key(out, "auth");
    json_auth(out, s->auth);
    mw_json_key(out, "outcome");
    mw_json_str(out, mw_outcome_name(s->outcome));
    mw_json_key(out, "flags");
    g_string_append_c(out, '[');
    bool first = true;
    for (int f = 0; f < MW_FLAG_COUNT; f++) {
        if (!mw_session_has(s, (mw_flag)f))
            continue;
        if (!first)
            g_string_append_c(out, ',');
        first = false;
        mw_json_str(out, mw_flag_name((mw_flag)f));
    }
    g_string_append_c(out, ']');
    mw_json_key(out, "evidence");
    g_string_append_c(out, '[');
    for (guint i = 0; i < s->evidence->len; i++) {
        const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, i);
        if (i)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        mw_json_key(out, "flag");
        mw_json_str(out, mw_flag_name(ev->flag));
        mw_json_key(out, "frame");
        mw_json_u64(out, ev->frame);
        mw_json_key(out, "ts");
        json_time(out, ev->ts_us);
        mw_json_key(out, "detail");
        mw_json_str(out, ev->detail);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
    mw_json_key(out, "packets");
    json_pair(out, s->packets);
    mw_json_key(out, "bytes");
    json_pair(out, s->bytes);
    mw_identity_json(out, s); /* uid, input, sensor, client_ip, ... */
    json_protocols(out, s);
    mw_json_key(out, "anomalies");
    g_string_append_c(out, '[');
    first = true;
    for (int a = 0; a < MW_ANOM_COUNT; a++) {
        if (!((s->anomalies >> a) & 1u))
            continue;
        if (!first)
            g_string_append_c(out, ',');
        first = false;
        mw_json_str(out, mw_anomaly_name((mw_anomaly)a));
    }
    g_string_append_c(out, ']');
    mw_json_key(out, "latency");
    json_latency(out, &s->latency);
    static const char *const closes[] = { [MW_CLOSE_NONE] = "capture_end", [MW_CLOSE_FIN] = "fin",
                                          [MW_CLOSE_RST] = "rst", [MW_CLOSE_IDLE] = "idle_timeout",
                                          [MW_CLOSE_EVICTED] = "evicted" };
    mw_json_key(out, "closed_by");
    mw_json_str(out, closes[s->close_reason]);
    mw_json_key(out, "idle_at_end_s");
    if (s->idle_at_end_us >= 0)
        mw_json_seconds(out, s->idle_at_end_us);
    else
        mw_put_lit(out, "null");
    if (with_transcript && s->transcript) {
        mw_json_key(out, "transcript");
        json_transcript(out, s);
    }
    g_string_append_c(out, '}');
}
