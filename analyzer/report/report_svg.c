/* The report's timeline: one bar per session over packet time, coloured by outcome. */
#include <math.h>

#include "report/report_model.h"
#include "report/report_text.h"
#include "report/report_svg.h"

#define PLOT_LEFT 70   /* room for the session ids */
#define PLOT_WIDTH 1000
#define PLOT_RIGHT 20
#define AXIS_HEIGHT 34
#define TOP 8
#define TICKS 6

static int by_start(gconstpointer a, gconstpointer b, gpointer data)
{
    const mw_rsession *s = data;
    const mw_rsession *x = &s[*(const guint *)a], *y = &s[*(const guint *)b];
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return *(const guint *)a < *(const guint *)b ? -1 : 1;
}

/* The sessions that get a bar: all when they fit, else flagged ones first. */
static GArray *pick(const mw_report *r)
{
    GArray *idx = g_array_new(FALSE, FALSE, sizeof(guint));
    guint n = r->sessions->len;
    bool all = n <= MW_REPORT_MAX_BARS;
    for (int pass = 0; pass < (all ? 1 : 2); pass++) {
        for (guint i = 0; i < n && idx->len < MW_REPORT_MAX_BARS; i++) {
            bool flagged = g_array_index(r->sessions, mw_rsession, i).flags != 0;
            if (all || (pass == 0) == flagged)
                g_array_append_val(idx, i);
        }
    }
    g_array_sort_with_data(idx, by_start, r->sessions->data);
    return idx;
}

static void tick_label(GString *out, int64_t ts_us, int64_t span_us)
{
    int64_t secs = ts_us / G_USEC_PER_SEC;
    GDateTime *dt = g_date_time_new_from_unix_utc(secs);
    if (!dt)
        return;
    const char *fmt = span_us > (int64_t)86400 * G_USEC_PER_SEC ? "%m-%d %H:%M" : "%H:%M:%S";
    gchar *t = g_date_time_format(dt, fmt);
    g_string_append(out, t);
    if (span_us < (int64_t)10 * G_USEC_PER_SEC)
        g_string_append_printf(out, ".%03d", (int)((ts_us % G_USEC_PER_SEC) / 1000));
    g_free(t);
    g_date_time_unref(dt);
}

void mw_report_svg(GString *out, const mw_report *r, char **note)
{
    *note = NULL;
    GArray *idx = pick(r);
    guint n = idx->len;
    int row = n ? (int)CLAMP(640 / (int)n, 3, 18) : 18;
    int bar = row > 6 ? row - 3 : row - 1;
    int height = TOP + (int)n * row + AXIS_HEIGHT;
    int width = PLOT_LEFT + PLOT_WIDTH + PLOT_RIGHT;
    int64_t t0 = r->first_us, span = r->last_us - r->first_us;
    if (span < 1000)
        span = 1000;
    g_string_append_printf(out,
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" "
                           "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                           "font-family=\"sans-serif\" font-size=\"11\">\n",
                           width, height, width, height);
    g_string_append_printf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
                                "fill=\"#fafafa\"/>\n", width, height);
    int axis_y = TOP + (int)n * row + 4;
    for (int k = 0; k < TICKS; k++) {
        double x = PLOT_LEFT + (double)PLOT_WIDTH * k / (TICKS - 1);
        g_string_append_printf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
                                    "stroke=\"#ddd\"/>\n", x, TOP, x, axis_y);
        g_string_append_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" "
                                    "fill=\"#444\">", x, axis_y + 14,
                               k == 0 ? "start" : k == TICKS - 1 ? "end" : "middle");
        tick_label(out, t0 + span * k / (TICKS - 1), span);
        g_string_append(out, "</text>\n");
    }
    g_string_append_printf(out, "<text x=\"%d\" y=\"%d\" fill=\"#444\">UTC, packet time"
                                "</text>\n", PLOT_LEFT, axis_y + 28);
    for (guint k = 0; k < n; k++) {
        const mw_rsession *s =
            &g_array_index(r->sessions, mw_rsession, g_array_index(idx, guint, k));
        double x = PLOT_LEFT + (double)(s->start_us - t0) * PLOT_WIDTH / (double)span;
        double w = (double)(s->end_us - s->start_us) * PLOT_WIDTH / (double)span;
        if (w < 2)
            w = 2;
        int y = TOP + (int)k * row;
        if (row >= 12)
            g_string_append_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
                                        "fill=\"#333\">%s</text>\n",
                                   PLOT_LEFT - 6, y + bar - 2, s->id);
        g_string_append_printf(out, "<a href=\"#row-%s\"><rect class=\"bar\" id=\"bar-%s\" "
                                    "data-outcome=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                                    "height=\"%d\" rx=\"1\" fill=\"%s\"%s><title>",
                               s->id, s->id, mw_outcome_name(s->outcome), x, y, w, bar,
                               mw_report_outcome_colour(s->outcome),
                               s->flags ? " stroke=\"#000\" stroke-width=\"0.6\"" : "");
        g_string_append_printf(out, "%s %s ", s->id, mw_proto_name(s->protocol));
        mw_html_escape(out, s->client);
        g_string_append(out, " -&gt; ");
        mw_html_escape(out, s->server);
        g_string_append_printf(out, ", %s, %.3f s", mw_outcome_name(s->outcome),
                               (double)(s->end_us - s->start_us) / 1e6);
        for (int f = 0; f < MW_FLAG_COUNT; f++)
            if ((s->flags >> f) & 1u)
                g_string_append_printf(out, " %s", mw_flag_name((mw_flag)f));
        g_string_append(out, "</title></rect></a>\n");
    }
    g_string_append(out, "</svg>\n");
    if (n < r->sessions_total)
        *note = g_strdup_printf("The timeline shows %u of %" G_GUINT64_FORMAT " sessions "
                                "(at most %d bars; sessions with findings first).", n,
                                r->sessions_total, MW_REPORT_MAX_BARS);
    g_array_free(idx, TRUE);
}
