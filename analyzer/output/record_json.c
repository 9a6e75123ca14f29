#include "output/record_json.h"

#include "core/identity.h"
#include "core/json.h"
#include "registry.h"
#include "maillog/maillog.h"

#include <pthread.h>

/* The JSON text (quotes and any escape) of the names a record writes from a fixed list
 * (protocol, outcome, flags, anomalies, close reasons), made once by mw_json_str itself
 * so the bytes cannot differ, then copied with their length known: the scan of each name
 * was a tenth of the writer thread's instructions a record (issue 18). len 0: too long
 * for the slot, written by mw_json_str each time. */
#define MW_NAME_JSON_MAX 48
#define MW_PROTO_NAMES (MW_PROTO_POP3S + 1)
#define MW_OUTCOME_NAMES (MW_OUT_ENCRYPTED + 1)
#define MW_CLOSE_NAMES (MW_CLOSE_REUSED + 1)

typedef struct {
    uint8_t len;
    char text[MW_NAME_JSON_MAX];
} name_json;

static const char *const closes[MW_CLOSE_NAMES] = {
    [MW_CLOSE_NONE] = "capture_end", [MW_CLOSE_FIN] = "fin",
    [MW_CLOSE_RST] = "rst",          [MW_CLOSE_IDLE] = "idle_timeout",
    [MW_CLOSE_EVICTED] = "evicted",  [MW_CLOSE_REUSED] = "reused"
};

static struct {
    name_json proto[MW_PROTO_NAMES], outcome[MW_OUTCOME_NAMES], flag[MW_FLAG_COUNT],
        anomaly[MW_ANOM_COUNT], close[MW_CLOSE_NAMES];
} names;
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void name_fill(name_json *n, const char *s)
{
    GString *g = g_string_new(NULL);
    mw_json_str(g, s);
    n->len = g->len < sizeof n->text ? (uint8_t)g->len : 0;
    if (n->len)
        memcpy(n->text, g->str, g->len);
    g_string_free(g, TRUE);
}

static void names_make(void)
{
    for (int i = 0; i < MW_PROTO_NAMES; i++)
        name_fill(&names.proto[i], mw_proto_name((mw_proto)i));
    for (int i = 0; i < MW_OUTCOME_NAMES; i++)
        name_fill(&names.outcome[i], mw_outcome_name((mw_outcome)i));
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        name_fill(&names.flag[i], mw_flag_name((mw_flag)i));
    for (int i = 0; i < MW_ANOM_COUNT; i++)
        name_fill(&names.anomaly[i], mw_anomaly_name((mw_anomaly)i));
    for (int i = 0; i < MW_CLOSE_NAMES; i++)
        name_fill(&names.close[i], closes[i]);
}

/* s's cached text when i is in the table, else s through mw_json_str */
static inline void put_name(GString *out, const name_json *table, unsigned count, unsigned i,
                            const char *s)
{
    if (G_LIKELY(i < count && table[i].len))
        mw_put(out, table[i].text, table[i].len);
    else
        mw_json_str(out, s);
}
#define PUT_NAME(out, table, i, s) put_name((out), (table), G_N_ELEMENTS(table), (unsigned)(i), (s))

static void json_auth(GString *out, const mw_auth_rec *a) /* a not NULL */
{
    static const char *const results[] = { "unknown", "success", "failure" };
    mw_json_first(out, "mechanism");
    mw_json_opt_str(out, a->mechanism);
    mw_json_next(out, "user");
    mw_json_str(out, a->user);
    mw_json_next(out, "result");
    mw_json_str(out, results[a->result]);
    /* code: SMTP's reply code as a number, like every other reply code (issue 16); IMAP
     * and POP3 answer with a word (OK/NO/BAD, +OK/-ERR), which is the status instead */
    bool numeric = a->code[0] != '\0';
    for (const char *c = a->code; *c; c++)
        numeric = numeric && g_ascii_isdigit(*c);
    mw_json_next(out, "code");
    if (numeric)
        mw_json_i64(out, g_ascii_strtoll(a->code, NULL, 10));
    else
        mw_put_lit(out, "null");
    mw_json_next(out, "status");
    mw_json_opt_str(out, numeric ? NULL : a->code);
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
    mw_put_lit(out, ",\"slowest\":{\"cmd\":");
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
        mw_json_first(out, "ts");
        mw_json_time(out, ev->ts_us);
        mw_json_next(out, "frame");
        mw_json_u64(out, ev->frame);
        mw_json_next(out, "from");
        mw_json_str(out, ev->dir == MW_FROM_CLIENT ? "client" : "server");
        if (ev->latency_us >= 0) {
            mw_json_next(out, "latency_s");
            mw_json_seconds(out, ev->latency_us);
        }
        mw_json_next(out, "text");
        mw_json_text(out, ev->text);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

/* One {flag, frame, ts, detail} per flag occurrence (and tx when a transaction raised it). */
/* The evidence list; an entry from a joined server log (issue 14) has frame null and its
 * source, file and line. */
static void json_evidence(GString *out, const mw_session *s) /* the items, not [ ] */
{
    for (guint i = 0; s->evidence && i < s->evidence->len; i++) {
        const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, i);
        if (i)
            g_string_append_c(out, ',');
        mw_json_first(out, "flag");
        PUT_NAME(out, names.flag, ev->flag, mw_flag_name(ev->flag));
        mw_json_next(out, "frame");
        if (ev->log_file) /* from a joined server log (issue 14) */
            mw_server_log_evidence(out, ev);
        else
            mw_json_u64(out, ev->frame);
        mw_json_next(out, "ts");
        mw_json_time(out, ev->ts_us);
        mw_json_next(out, "detail");
        mw_json_text(out, ev->detail);
        if (ev->tx) {
            mw_json_next(out, "tx");
            mw_json_u64(out, ev->tx);
        }
        if (ev->input) { /* several inputs: the file of the frame */
            mw_json_next(out, "input");
            mw_json_str(out, ev->input);
        }
        if (ev->iface) { /* a file of several interfaces: the frame's */
            mw_json_next(out, "iface");
            mw_json_str(out, ev->iface);
        }
        g_string_append_c(out, '}');
    }
}

void mw_record_json(GString *out, const mw_session *s)
{
    mw_record_json_ex(out, s, false);
}

void mw_record_json_ex(GString *out, const mw_session *s, bool with_transcript)
{
    pthread_once(&names_once, names_make);
    mw_json_first(out, "id");
    mw_json_str(out, s->id);
    mw_json_next(out, "ts_start");
    mw_json_time(out, s->ts_start_us);
    mw_json_next(out, "ts_end");
    mw_json_time(out, s->ts_end_us);
    mw_json_next(out, "duration_s");
    mw_json_seconds(out, s->ts_end_us - s->ts_start_us);
    mw_json_next(out, "client");
    mw_json_endpoint(out, &s->client);
    mw_json_next(out, "server");
    mw_json_endpoint(out, &s->server);
    mw_json_next(out, "community_id");
    const char *cid = mw_session_more_get(s)->community_id; /* its length known: no scan */
    mw_json_strn(out, cid, strnlen(cid, sizeof mw_session_more_get(s)->community_id));
    mw_json_next(out, "protocol");
    PUT_NAME(out, names.proto, s->protocol, mw_proto_name(s->protocol));
    /* runs of keys and fixed values as one literal each (issue 18): the same bytes */
    if (s->starttls)
        mw_put_lit(out, ",\"starttls\":true");
    else
        mw_put_lit(out, ",\"starttls\":false");
    /* the TLS part, null without one; its owner writes the key (dissector.h) */
    if (!mw_part_write_json(out, s, &s->tls))
        mw_put_lit(out, ",\"tls\":null");
    if (s->auth) {
        mw_json_next(out, "auth");
        json_auth(out, s->auth);
    } else {
        mw_put_lit(out, ",\"auth\":null");
    }
    mw_json_next(out, "outcome");
    PUT_NAME(out, names.outcome, s->outcome, mw_outcome_name(s->outcome));
    mw_put_lit(out, ",\"flags\":[");
    /* the set bits only, lowest first (the order of the flag list) */
    for (mw_flagset left = s->flags; left; left &= left - 1) {
        int f = __builtin_ctz(left);
        if (f >= MW_FLAG_COUNT)
            break;
        if (left != s->flags)
            g_string_append_c(out, ',');
        PUT_NAME(out, names.flag, f, mw_flag_name((mw_flag)f));
    }
    mw_put_lit(out, "],\"evidence\":[");
    json_evidence(out, s);
    mw_put_lit(out, "],\"packets\":{\"client\":");
    mw_json_u64(out, s->packets[0]);
    mw_put_lit(out, ",\"server\":");
    mw_json_u64(out, s->packets[1]);
    mw_put_lit(out, "},\"bytes\":{\"client\":");
    mw_json_u64(out, s->bytes[0]);
    mw_put_lit(out, ",\"server\":");
    mw_json_u64(out, s->bytes[1]);
    g_string_append_c(out, '}');
    mw_identity_json(out, s); /* uid, input, sensor, client_ip, ... */
    /* the mail protocol's keys (SPEC.md "Protocol keys"): its dissector writes them */
    mw_part_write_json(out, s, &s->mail);
    mw_put_lit(out, ",\"anomalies\":[");
    for (uint32_t left = s->anomalies; left; left &= left - 1) {
        int a = __builtin_ctz(left);
        if (a >= MW_ANOM_COUNT)
            break;
        if (left != s->anomalies)
            g_string_append_c(out, ',');
        PUT_NAME(out, names.anomaly, a, mw_anomaly_name((mw_anomaly)a));
    }
    mw_put_lit(out, "],\"latency\":");
    const mw_session_more *more = mw_session_more_get(s);
    json_latency(out, &more->latency);
    mw_json_next(out, "closed_by");
    PUT_NAME(out, names.close, s->close_reason, closes[s->close_reason]);
    mw_json_next(out, "idle_at_end_s");
    if (more->idle_at_end_us >= 0)
        mw_json_seconds(out, more->idle_at_end_us);
    else
        mw_put_lit(out, "null");
    if (more->continues[0]) { /* only on the continuation of an evicted record */
        mw_json_next(out, "continues");
        mw_json_str(out, more->continues);
    }
    if (s->server_log)
        mw_server_log_json(out, s->server_log);
    if (with_transcript && s->transcript) {
        mw_json_next(out, "transcript");
        json_transcript(out, s);
    }
    g_string_append_c(out, '}');
}
