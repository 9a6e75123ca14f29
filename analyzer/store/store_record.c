/* Stored JSON back into a session (store_record.h). Only what the report reads is
 * rebuilt; every string is copied with the record's own caps. */
#include "store/store_record.h"

#include <arpa/inet.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "core/json.h"
#include "dissector.h"
#include "tls/tls_log.h" /* the report reads the TLS part as report.c does */

static const char *str_of(JsonObject *o, const char *key)
{
    if (!o || !json_object_has_member(o, key))
        return NULL;
    JsonNode *n = json_object_get_member(o, key);
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n) : NULL;
}

static int64_t int_of(JsonObject *o, const char *key, int64_t dflt)
{
    if (!o || !json_object_has_member(o, key))
        return dflt;
    JsonNode *n = json_object_get_member(o, key);
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64
               ? json_node_get_int(n) : dflt;
}

static bool bool_of(JsonObject *o, const char *key)
{
    if (!o || !json_object_has_member(o, key))
        return false;
    JsonNode *n = json_object_get_member(o, key);
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
           json_node_get_boolean(n);
}

static JsonObject *obj_of(JsonObject *o, const char *key)
{
    if (!o || !json_object_has_member(o, key))
        return NULL;
    JsonNode *n = json_object_get_member(o, key);
    return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *arr_of(JsonObject *o, const char *key)
{
    if (!o || !json_object_has_member(o, key))
        return NULL;
    JsonNode *n = json_object_get_member(o, key);
    return JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

/* RFC 3339 as the record writes it; 0 when absent. */
static int64_t time_of(JsonObject *o, const char *key)
{
    const char *s = str_of(o, key);
    if (!s)
        return 0;
    GTimeZone *utc = g_time_zone_new_utc();
    GDateTime *dt = g_date_time_new_from_iso8601(s, utc);
    g_time_zone_unref(utc);
    if (!dt)
        return 0;
    int64_t us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
    g_date_time_unref(dt);
    return us;
}

static int index_of(const char *name, const char *(*name_of)(int), int count)
{
    for (int i = 0; name && i < count; i++)
        if (strcmp(name_of(i), name) == 0)
            return i;
    return -1;
}
static const char *flag_name(int i) { return mw_flag_name((mw_flag)i); }
static const char *proto_name(int i) { return mw_proto_name((mw_proto)i); }
static const char *outcome_name(int i) { return mw_outcome_name((mw_outcome)i); }

static void endpoint_of(JsonObject *o, const char *ip_key, const char *port_key,
                        mw_endpoint *ep)
{
    const char *ip = str_of(o, ip_key);
    memset(ep, 0, sizeof *ep);
    ep->family = 4;
    if (ip && strchr(ip, ':') && inet_pton(AF_INET6, ip, ep->addr) == 1)
        ep->family = 6;
    else if (ip)
        inet_pton(AF_INET, ip, ep->addr);
    ep->port = (uint16_t)int_of(o, port_key, 0);
}

static void pair_of(JsonObject *o, const char *key, uint64_t v[2])
{
    JsonObject *p = obj_of(o, key);
    v[0] = (uint64_t)int_of(p, "client", 0);
    v[1] = (uint64_t)int_of(p, "server", 0);
}

static void tls_of(mw_session *s, JsonObject *t)
{
    mw_tls_rec *r = mw_tls_record(s);
    const char *v = str_of(t, "version");
    r->version = v ? g_intern_string(v) : NULL;
    g_strlcpy(r->cipher, str_of(t, "cipher") ? str_of(t, "cipher") : "", sizeof r->cipher);
    r->sni = mw_arena_strdup_cap(mw_session_arena(s), str_of(t, "sni"), SIZE_MAX);
    JsonArray *cv = arr_of(t, "client_versions"); /* the report's "which side" reads them */
    for (guint i = 0; cv && i < json_array_get_length(cv); i++) {
        const char *x = json_array_get_string_element(cv, i);
        if (x)
            mw_tls_client_version_add(r, g_intern_string(x));
    }
    JsonObject *al = obj_of(t, "alert");
    if (al) {
        r->alert.present = true;
        g_strlcpy(r->alert.level, str_of(al, "level") ? str_of(al, "level") : "",
                  sizeof r->alert.level);
        g_strlcpy(r->alert.description, str_of(al, "description") ? str_of(al, "description")
                  : "", sizeof r->alert.description);
        const char *from = str_of(al, "from");
        r->alert.from = from && strcmp(from, "client") == 0 ? MW_FROM_CLIENT : MW_FROM_SERVER;
    }
    JsonObject *c = obj_of(t, "cert");
    if (c) {
        r->cert.present = true;
        const char *subject = str_of(c, "subject"); /* a GRefString, as tls_cert.c's */
        r->cert.subject = subject ? g_ref_string_new(subject) : NULL;
        const char *nb = str_of(c, "not_before"), *na = str_of(c, "not_after");
        g_strlcpy(r->cert.not_before, nb ? nb : "", sizeof r->cert.not_before);
        g_strlcpy(r->cert.not_after, na ? na : "", sizeof r->cert.not_after);
        r->cert.self_signed = bool_of(c, "self_signed");
    }
}

static void evidence_of(mw_session *s, JsonArray *a)
{
    if (!s->evidence) /* made at the first flag; a stored record always has the list */
        s->evidence = mw_arena_alloc0(mw_session_arena(s), sizeof *s->evidence);
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *e = json_array_get_object_element(a, i);
        int f = index_of(str_of(e, "flag"), flag_name, MW_FLAG_COUNT);
        if (!e || f < 0)
            continue;
        mw_evidence ev = { (mw_flag)f, (uint64_t)int_of(e, "frame", 0), time_of(e, "ts"),
                           /* the texts in the session's arena, as a run keeps them */
                           mw_arena_strdup_cap(mw_session_arena(s),
                                               str_of(e, "detail") ? str_of(e, "detail") : "",
                                               SIZE_MAX),
                           mw_arena_strdup_cap(mw_session_arena(s), str_of(e, "file"), SIZE_MAX),
                           (uint64_t)int_of(e, "line", 0),
                           (unsigned)int_of(e, "tx", 0),
                           str_of(e, "input") ? g_intern_string(str_of(e, "input")) : NULL,
                           str_of(e, "iface") ? g_intern_string(str_of(e, "iface")) : NULL };
        *(mw_evidence *)mw_avec_push(mw_session_arena(s), s->evidence, sizeof ev,
                                     MW_EVIDENCE_USUAL) = ev;
    }
}

/* A stored session's mail part as the report needs it: the text lines the run wrote
 * (format_extra's mail_text), given back by write_text. */
static void stored_text_write(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    g_string_append(out, rec);
}

static const mw_dissector stored_mail_text = {
    .name = "stored",
    .write_text = stored_text_write,
    .free_record = g_free,
};

static void extra_of(mw_session *s, JsonObject *x)
{
    s->first_frame = (uint64_t)int_of(x, "first_frame", 0);
    const char *d = str_of(x, "decisive");
    s->decisive = d ? g_strdup(d) : NULL;
    s->auth_offered = bool_of(x, "auth_offered");
    const char *mail = str_of(x, "mail_text");
    if (mail && !s->mail.rec)
        mw_part_attach(&s->mail, &stored_mail_text, g_strdup(mail));
    JsonArray *tr = arr_of(x, "transcript");
    if (!tr)
        return;
    mw_session_keep_transcript(s);
    for (guint i = 0; i < json_array_get_length(tr); i++) {
        JsonObject *e = json_array_get_object_element(tr, i);
        const char *from = str_of(e, "from"), *text = str_of(e, "text");
        mw_event ev = { int_of(e, "ts", 0), (uint64_t)int_of(e, "frame", 0),
                        from && strcmp(from, "client") == 0 ? MW_FROM_CLIENT : MW_FROM_SERVER,
                        int_of(e, "latency_us", -1), g_strdup(text ? text : "") };
        g_array_append_val(s->transcript, ev);
    }
    s->transcript_dropped = (unsigned)int_of(x, "transcript_dropped", 0);
}

static JsonParser *parse(const char *text, JsonObject **obj, char **err)
{
    JsonParser *p = json_parser_new_immutable();
    GError *ge = NULL;
    *obj = NULL;
    if (text && json_parser_load_from_data(p, text, -1, &ge)) {
        JsonNode *root = json_parser_get_root(p);
        if (root && JSON_NODE_HOLDS_OBJECT(root))
            *obj = json_node_get_object(root);
    }
    if (!*obj && err)
        *err = g_strdup_printf("a stored record is not JSON: %s", ge ? ge->message : "?");
    g_clear_error(&ge);
    return p;
}

mw_session *mw_store_record_session(const char *record, const char *extra, char **err)
{
    JsonObject *o, *x = NULL;
    JsonParser *p = parse(record, &o, err), *px = extra ? parse(extra, &x, NULL) : NULL;
    mw_session *s = NULL;
    if (o) {
        s = mw_session_new(0);
        g_strlcpy(s->id, str_of(o, "id") ? str_of(o, "id") : "", sizeof s->id);
        s->ts_start_us = time_of(o, "ts_start");
        s->ts_end_us = time_of(o, "ts_end");
        endpoint_of(o, "client_ip", "client_port", &s->client);
        endpoint_of(o, "server_ip", "server_port", &s->server);
        int proto = index_of(str_of(o, "protocol"), proto_name, MW_PROTO_POP3S + 1);
        s->protocol = proto < 0 ? MW_PROTO_UNKNOWN : (mw_proto)proto;
        int out = index_of(str_of(o, "outcome"), outcome_name, MW_OUT_ENCRYPTED + 1);
        s->outcome = out < 0 ? MW_OUT_INCOMPLETE : (mw_outcome)out;
        s->starttls = bool_of(o, "starttls");
        JsonArray *flags = arr_of(o, "flags");
        for (guint i = 0; flags && i < json_array_get_length(flags); i++) {
            int f = index_of(json_array_get_string_element(flags, i), flag_name, MW_FLAG_COUNT);
            if (f >= 0)
                s->flags |= (mw_flagset)1 << f;
        }
        evidence_of(s, arr_of(o, "evidence"));
        pair_of(o, "packets", s->packets);
        pair_of(o, "bytes", s->bytes);
        JsonObject *auth = obj_of(o, "auth");
        if (auth)
            mw_session_auth(s)->user = g_strdup(str_of(auth, "user"));
        if (obj_of(o, "tls"))
            tls_of(s, obj_of(o, "tls"));
        const char *in = str_of(o, "input");
        s->input = in ? g_intern_string(in) : NULL;
        if (x)
            extra_of(s, x);
    }
    g_object_unref(p);
    if (px)
        g_object_unref(px);
    return s;
}

void mw_store_record_text(GString *g, const char *record, const char *extra)
{
    JsonObject *o;
    JsonParser *p = parse(record, &o, NULL);
    mw_session *s = mw_store_record_session(record, extra, NULL);
    if (!o || !s) {
        g_string_append(g, "(a stored record that does not parse)");
    } else {
        mw_format_time(g, s->ts_start_us);
        g_string_append_printf(g, " %s %s %s ", str_of(o, "sensor") ? str_of(o, "sensor") : "-",
                               str_of(o, "uid") ? str_of(o, "uid") : "-",
                               mw_proto_name(s->protocol));
        mw_format_endpoint(g, &s->client);
        g_string_append(g, " -> ");
        mw_format_endpoint(g, &s->server);
        g_string_append_printf(g, " %s", mw_outcome_name(s->outcome));
        if (s->auth && s->auth->user) {
            g_string_append(g, " user=");
            for (const char *c = s->auth->user; *c; c++) /* no terminal controls */
                g_string_append_c(g, (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c);
        }
        const char *sep = " flags=";
        for (int f = 0; f < MW_FLAG_COUNT; f++) {
            if (mw_session_has(s, (mw_flag)f)) {
                g_string_append_printf(g, "%s%s", sep, mw_flag_name((mw_flag)f));
                sep = ",";
            }
        }
    }
    mw_session_free(s);
    g_object_unref(p);
}
