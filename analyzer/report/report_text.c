/* Text helpers of the report writers: cleaning wire text and escaping it. */
#include <string.h>

#include "report/report_model.h"
#include "report/report_text.h"

char *mw_report_clean(const char *s, size_t max)
{
    if (!s)
        return NULL;
    char *valid = g_utf8_make_valid(s, -1);
    GString *out = g_string_sized_new(strlen(valid));
    size_t n = 0;
    for (const char *p = valid; *p && n < max; p = g_utf8_next_char(p), n++) {
        gunichar c = g_utf8_get_char(p);
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
            g_string_append_c(out, '.');
        else
            g_string_append_unichar(out, c);
    }
    if (valid[0] && n >= max && *g_utf8_offset_to_pointer(valid, (glong)n))
        g_string_append(out, "...");
    g_free(valid);
    return g_string_free(out, FALSE);
}

void mw_html_escape(GString *out, const char *s)
{
    if (!s)
        return;
    char *e = g_markup_escape_text(s, -1);
    g_string_append(out, e);
    g_free(e);
}

void mw_md_escape(GString *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '&': g_string_append(out, "&amp;"); break;
        case '|': case '\\': case '*': case '_': case '`': case '[': case ']': case '#':
        case '~': case '!':
            g_string_append_c(out, '\\');
            g_string_append_c(out, *s);
            break;
        default:
            g_string_append_c(out, *s);
        }
    }
}

void mw_report_time(GString *out, int64_t ts_us)
{
    int64_t secs = ts_us / G_USEC_PER_SEC, usec = ts_us % G_USEC_PER_SEC;
    if (usec < 0) {
        usec += G_USEC_PER_SEC;
        secs--;
    }
    GDateTime *dt = g_date_time_new_from_unix_utc(secs);
    if (!dt) {
        g_string_append(out, "?");
        return;
    }
    gchar *t = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S");
    g_string_append_printf(out, "%s.%03d", t, (int)(usec / 1000));
    g_free(t);
    g_date_time_unref(dt);
}

const char *mw_report_file_label(const struct mw_report *r, uint32_t file)
{
    if (mw_inputs_count(r->inputs) <= 1)
        return NULL;
    return mw_inputs_short_name(r->inputs, file);
}

const char *mw_report_outcome_colour(mw_outcome o)
{
    static const char *const colours[] = {
        [MW_OUT_OK] = "#2e8b57",        [MW_OUT_FAILED] = "#c62828",
        [MW_OUT_REJECTED] = "#ef6c00",  [MW_OUT_INCOMPLETE] = "#8d8d8d",
        [MW_OUT_ENCRYPTED] = "#1e6fb8",
    };
    return (unsigned)o <= MW_OUT_ENCRYPTED ? colours[o] : "#000";
}

void mw_report_set_list(GString *g, GHashTable *set, void (*escape)(GString *, const char *))
{
    guint n = g_hash_table_size(set);
    GList *keys = g_list_sort(g_hash_table_get_keys(set), (GCompareFunc)g_strcmp0);
    guint i = 0;
    for (GList *k = keys; k && i < MW_REPORT_LIST_SHOWN; k = k->next, i++) {
        if (i)
            g_string_append(g, ", ");
        escape(g, k->data);
    }
    if (n > MW_REPORT_LIST_SHOWN)
        g_string_append_printf(g, " and %u more%s", n - MW_REPORT_LIST_SHOWN,
                               n >= MW_REPORT_SET_MAX ? " (count capped)" : "");
    g_list_free(keys);
}
