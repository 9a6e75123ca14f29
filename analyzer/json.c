#include "json.h"

#include <arpa/inet.h>
#include <string.h>

void mw_json_strn(GString *out, const char *s, size_t len)
{
    g_string_append_c(out, '"');
    const char *end = s + len;
    while (s < end) {
        const char *valid_end;
        g_utf8_validate(s, end - s, &valid_end);
        for (const char *c = s; c < valid_end; c++) {
            unsigned char ch = (unsigned char)*c;
            switch (ch) {
            case '"': g_string_append(out, "\\\""); break;
            case '\\': g_string_append(out, "\\\\"); break;
            case '\n': g_string_append(out, "\\n"); break;
            case '\r': g_string_append(out, "\\r"); break;
            case '\t': g_string_append(out, "\\t"); break;
            default:
                if (ch < 0x20 || ch == 0x7f)
                    g_string_append_printf(out, "\\u%04x", ch);
                else
                    g_string_append_c(out, (char)ch);
            }
        }
        s = valid_end;
        if (s < end) { /* an invalid byte (or a NUL): keep its value visible */
            unsigned char ch = (unsigned char)*s++;
            if (ch < 0x80)
                g_string_append_printf(out, "\\u%04x", ch);
            else
                g_string_append_unichar(out, ch);
        }
    }
    g_string_append_c(out, '"');
}

void mw_json_str(GString *out, const char *s)
{
    if (!s)
        g_string_append(out, "null");
    else
        mw_json_strn(out, s, strlen(s));
}

void mw_json_key(GString *out, const char *key)
{
    char last = out->len ? out->str[out->len - 1] : '{';
    if (last != '{' && last != '[')
        g_string_append_c(out, ',');
    g_string_append_c(out, '"');
    g_string_append(out, key);
    g_string_append(out, "\":");
}

void mw_format_time(GString *out, int64_t ts_us)
{
    int64_t secs = ts_us / G_USEC_PER_SEC;
    int64_t usec = ts_us % G_USEC_PER_SEC;
    if (usec < 0) {
        usec += G_USEC_PER_SEC;
        secs--;
    }
    GDateTime *dt = g_date_time_new_from_unix_utc(secs);
    if (!dt) {
        g_string_append(out, "1970-01-01T00:00:00.000000Z");
        return;
    }
    gchar *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
    g_string_append_printf(out, "%s.%06dZ", s, (int)usec);
    g_free(s);
    g_date_time_unref(dt);
}

void mw_format_endpoint(GString *out, const mw_endpoint *ep)
{
    char buf[INET6_ADDRSTRLEN];
    if (ep->family == 6) {
        inet_ntop(AF_INET6, ep->addr, buf, sizeof buf);
        g_string_append_printf(out, "[%s]:%u", buf, ep->port);
    } else {
        inet_ntop(AF_INET, ep->addr, buf, sizeof buf);
        g_string_append_printf(out, "%s:%u", buf, ep->port);
    }
}
