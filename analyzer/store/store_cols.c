/* The store's columns from the session (store_cols.h). Each value is the one the record's
 * writer (output/record_json.c, core/identity.c) puts in the record, unescaped as the
 * scan unescapes it: a string of ASCII only is its own value, any other goes through the
 * writer's escaping (mw_json_str) and back, so bytes that are not UTF-8 come out as the
 * record holds them. */
#define _GNU_SOURCE /* memmem */
#include "store/store_cols.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/identity.h"
#include "core/json.h"
#include "store/db/store_fields.h"

static void pack_str(GString *g, GString *tmp, const char *s)
{
    if (!s) {
        mw_sf_pack(g, MW_SF_NULL, NULL, 0);
        return;
    }
    unsigned char high = 0;
    const char *e = s;
    for (; *e; e++)
        high |= (unsigned char)*e;
    size_t n = (size_t)(e - s);
    if (high < 0x80) { /* ASCII */
        mw_sf_pack(g, MW_SF_STR, s, n);
        return;
    }
    g_string_truncate(tmp, 0);
    mw_json_strn(tmp, s, n);
    GString *plain = g_string_sized_new(tmp->len);
    mw_sf_unescape(tmp->str + 1, tmp->len - 2, plain); /* the writer's own escapes */
    mw_sf_pack(g, MW_SF_STR, plain->str, plain->len);
    g_string_free(plain, TRUE);
}

static void pack_u64(GString *g, GString *tmp, uint64_t v)
{
    g_string_truncate(tmp, 0);
    mw_json_u64(tmp, v);
    mw_sf_pack(g, MW_SF_NUM, tmp->str, tmp->len);
}

static void pack_time(GString *g, GString *tmp, int64_t ts_us)
{
    g_string_truncate(tmp, 0);
    mw_format_time(tmp, ts_us);
    mw_sf_pack(g, MW_SF_STR, tmp->str, tmp->len); /* digits, '-', ':', '.', 'T', 'Z' */
}

/* The address as the record writes it (inet_ntop's form). */
static void pack_ip(GString *g, const mw_endpoint *ep)
{
    char ip[INET6_ADDRSTRLEN];
    size_t n = mw_format_ip(ep, ip, sizeof ip); /* core/json.c */
    mw_sf_pack(g, MW_SF_STR, ip, n);
}

/* A JSON string at p (its opening quote) without escapes: its body; false otherwise. */
static bool plain_string(const char **p, const char *end, const char **body, size_t *n)
{
    if (*p >= end || **p != '"')
        return false;
    const char *b = *p + 1, *q = b;
    while (q < end && *q != '"' && *q != '\\')
        q++;
    if (q >= end || *q != '"')
        return false;
    *body = b;
    *n = (size_t)(q - b);
    *p = q + 1;
    return true;
}

/* "tls":{"client_versions":[...],"version":V — the TLS part is its dissector's own
 * (dissector.h), so its version is read where the record has it: the first ',"tls":' is
 * the top-level key (the members before it hold no object, and a string never holds
 * ',"' unescaped), the version list's names and the version have no escapes. Any other
 * shape: false, and the store thread scans the record. */
static bool pack_tls_version(GString *g, const mw_session *s, const char *json, size_t len)
{
    if (!s->tls.rec) { /* "tls":null */
        mw_sf_pack(g, MW_SF_NULL, NULL, 0);
        return true;
    }
    static const char key[] = ",\"tls\":{\"client_versions\":[";
    const char *end = json + len, *p = memmem(json, len, key, sizeof key - 1);
    if (!p)
        return false;
    p += sizeof key - 1;
    const char *body;
    size_t n;
    while (p < end && *p != ']') {
        if (!plain_string(&p, end, &body, &n))
            return false;
        if (p < end && *p == ',')
            p++;
    }
    static const char next[] = "],\"version\":";
    if ((size_t)(end - p) < sizeof next - 1 || memcmp(p, next, sizeof next - 1) != 0)
        return false;
    p += sizeof next - 1;
    if ((size_t)(end - p) >= 4 && memcmp(p, "null", 4) == 0) {
        mw_sf_pack(g, MW_SF_NULL, NULL, 0);
        return true;
    }
    if (!plain_string(&p, end, &body, &n))
        return false;
    mw_sf_pack(g, MW_SF_STR, body, n);
    return true;
}

static void pack_findings(GString *g, GString *tmp, const mw_session *s)
{
    guint n = s->evidence ? s->evidence->len : 0;
    mw_sf_pack_count(g, n);
    for (guint i = 0; i < n; i++) {
        const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, i);
        pack_str(g, tmp, mw_flag_name(ev->flag));
        if (ev->log_file) /* from a joined server log: frame null, source "log" */
            mw_sf_pack(g, MW_SF_NULL, NULL, 0);
        else
            pack_u64(g, tmp, ev->frame);
        pack_time(g, tmp, ev->ts_us);
        if (ev->log_file)
            mw_sf_pack(g, MW_SF_STR, "log", 3);
        else
            mw_sf_pack(g, MW_SF_NULL, NULL, 0);
        pack_str(g, tmp, ev->detail);
    }
}

bool mw_store_cols(GString *g, GString *tmp, const mw_session *s, const char *json, size_t len)
{
    size_t at = g->len;
    char uid[MW_UID_SIZE];
    mw_identity_uid(s, uid);
    mw_sf_pack(g, MW_SF_STR, uid, MW_UID_LEN);
    pack_time(g, tmp, s->ts_start_us);
    pack_time(g, tmp, s->ts_end_us);
    pack_str(g, tmp, mw_identity_sensor());
    pack_str(g, tmp, s->input);
    pack_ip(g, &s->client);
    pack_u64(g, tmp, s->client.port);
    pack_ip(g, &s->server);
    pack_u64(g, tmp, s->server.port);
    pack_str(g, tmp, mw_proto_name(s->protocol));
    pack_str(g, tmp, mw_outcome_name(s->outcome));
    pack_str(g, tmp, s->auth ? s->auth->user : NULL);
    if (!pack_tls_version(g, s, json, len)) {
        g_string_truncate(g, at);
        return false;
    }
    pack_findings(g, tmp, s);
    return true;
}
