#include "store/store_filter.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/flags.h"
#include "core/json.h"

/* "-2h": a count and a unit, back from now. */
static bool parse_relative(const char *s, int64_t now_us, int64_t *out)
{
    static const struct { char unit; int64_t us; } UNITS[] = {
        { 's', G_USEC_PER_SEC }, { 'm', INT64_C(60) * G_USEC_PER_SEC },
        { 'h', INT64_C(3600) * G_USEC_PER_SEC },
        { 'd', INT64_C(86400) * G_USEC_PER_SEC }, { 'w', INT64_C(7 * 86400) * G_USEC_PER_SEC },
    };
    if (s[0] != '-' || !g_ascii_isdigit(s[1]))
        return false;
    char *end = NULL;
    guint64 n = g_ascii_strtoull(s + 1, &end, 10);
    if (!end || end[0] == '\0' || end[1] != '\0' || n > 100000000)
        return false;
    for (size_t i = 0; i < G_N_ELEMENTS(UNITS); i++) {
        if (UNITS[i].unit == end[0]) {
            *out = now_us - (int64_t)n * UNITS[i].us;
            return true;
        }
    }
    return false;
}

bool mw_store_parse_time(const char *s, int64_t now_us, int64_t *out, char **err)
{
    if (strcmp(s, "now") == 0) {
        *out = now_us;
        return true;
    }
    if (parse_relative(s, now_us, out))
        return true;
    /* RFC 3339 wants a date and a time; a date alone is midnight UTC */
    char *full = strlen(s) == 10 ? g_strconcat(s, "T00:00:00Z", NULL) : g_strdup(s);
    GTimeZone *utc = g_time_zone_new_utc();
    GDateTime *dt = strchr(full, 'T') || strchr(full, 't') || strchr(full, ' ')
                        ? g_date_time_new_from_iso8601(full, utc) : NULL;
    g_time_zone_unref(utc);
    g_free(full);
    if (!dt) {
        *err = g_strdup_printf("'%s' is not a time: use RFC 3339 (2024-05-01T09:00:00Z, "
                               "2024-05-01T11:00:00+02:00, 2024-05-01) or -30m, -2h, -7d, -1w",
                               s);
        return false;
    }
    *out = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
    g_date_time_unref(dt);
    return true;
}

void mw_filter_entries(mw_filter_args *a, GOptionEntry *e)
{
    const GOptionEntry rows[MW_FILTER_ENTRIES] = {
        { "db", 0, 0, G_OPTION_ARG_STRING, &a->db,
          "The session store: PATH.sqlite or postgresql://...", "URL" },
        { "since", 0, 0, G_OPTION_ARG_STRING, &a->since,
          "Sessions that started at or after TIME (RFC 3339, or -2h, -7d ...)", "TIME" },
        { "until", 0, 0, G_OPTION_ARG_STRING, &a->until, "...and before TIME", "TIME" },
        { "flag", 0, 0, G_OPTION_ARG_STRING, &a->flag, "Sessions with this flag", "FLAG" },
        { "user", 0, 0, G_OPTION_ARG_STRING, &a->user, "Sessions that logged in as USER",
          "USER" },
        { "client", 0, 0, G_OPTION_ARG_STRING, &a->client, "Sessions from this client IP",
          "IP" },
        { "server", 0, 0, G_OPTION_ARG_STRING, &a->server, "Sessions to this server IP", "IP" },
        { "sensor", 0, 0, G_OPTION_ARG_STRING, &a->sensor, "Sessions seen by this sensor",
          "NAME" },
    };
    memcpy(e, rows, sizeof rows);
}

static bool valid_ip(const char *s)
{
    uint8_t buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool known_flag(const char *s)
{
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        if (strcmp(mw_flag_name((mw_flag)i), s) == 0)
            return true;
    return false;
}

bool mw_filter_from_args(const mw_filter_args *a, int64_t now_us, mw_store_filter *f,
                         char **err)
{
    *f = (mw_store_filter){ INT64_MIN, INT64_MIN, a->flag, a->user, a->client, a->server,
                            a->sensor };
    if (!a->db) {
        *err = g_strdup("--db URL is needed (PATH.sqlite or postgresql://...)");
        return false;
    }
    if (a->since && !mw_store_parse_time(a->since, now_us, &f->since_us, err))
        return false;
    if (a->until && !mw_store_parse_time(a->until, now_us, &f->until_us, err))
        return false;
    if (a->flag && !known_flag(a->flag)) {
        *err = g_strdup_printf("--flag %s: not a mailwire flag (e.g. auth_failed, "
                               "relay_denied)", a->flag);
        return false;
    }
    const char *ip = a->client && !valid_ip(a->client) ? a->client
                     : a->server && !valid_ip(a->server) ? a->server : NULL;
    if (ip) {
        *err = g_strdup_printf("'%s' is not an IP address (--client, --server)", ip);
        return false;
    }
    return true;
}

void mw_filter_args_free(mw_filter_args *a)
{
    g_free(a->db);
    g_free(a->since);
    g_free(a->until);
    g_free(a->flag);
    g_free(a->user);
    g_free(a->client);
    g_free(a->server);
    g_free(a->sensor);
    memset(a, 0, sizeof *a);
}

/* One condition: column op placeholder (with a cast on PostgreSQL). */
static void cond(GString *w, bool pg, int *n, const char *fmt_col, const char *cast,
                 char **params, char *value)
{
    g_string_append(w, *n ? " AND " : " WHERE ");
    (*n)++;
    char ph[24];
    if (pg)
        g_snprintf(ph, sizeof ph, "$%d%s", *n, cast);
    else
        g_snprintf(ph, sizeof ph, "?%d", *n);
    g_string_append_printf(w, fmt_col, ph);
    params[*n - 1] = value;
}

static char *time_param(int64_t us)
{
    GString *g = g_string_new(NULL);
    mw_format_time(g, us); /* the form SQLite's text columns hold: compared as text */
    return g_string_free(g, FALSE);
}

/* The address as inet_ntop writes it (and as the store holds it): "::1", not "0::1". */
static char *norm_ip(const char *s)
{
    uint8_t buf[16];
    char out[INET6_ADDRSTRLEN];
    int af = strchr(s, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(af, s, buf) == 1 && inet_ntop(af, buf, out, sizeof out))
        return g_strdup(out);
    return g_strdup(s);
}

int mw_store_filter_sql(const mw_store_filter *f, bool pg, GString *w, char **params)
{
    int n = 0;
    if (f->since_us != INT64_MIN)
        cond(w, pg, &n, "ts_start >= %s", "::timestamptz", params, time_param(f->since_us));
    if (f->until_us != INT64_MIN)
        cond(w, pg, &n, "ts_start < %s", "::timestamptz", params, time_param(f->until_us));
    if (f->flag)
        cond(w, pg, &n, "uid IN (SELECT uid FROM findings WHERE flag = %s)", "", params,
             g_strdup(f->flag));
    if (f->user)
        cond(w, pg, &n, pg ? "\"user\" = %s" : "user = %s", "", params, g_strdup(f->user));
    if (f->client)
        cond(w, pg, &n, "client_ip = %s", "::inet", params, norm_ip(f->client));
    if (f->server)
        cond(w, pg, &n, "server_ip = %s", "::inet", params, norm_ip(f->server));
    if (f->sensor)
        cond(w, pg, &n, "sensor = %s", "", params, g_strdup(f->sensor));
    return n;
}
