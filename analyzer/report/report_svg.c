/* The report's timeline: one bar per session over packet time, coloured by outcome.
 *
 * Long idle stretches are cut out of the axis (an axis break, drawn as a shaded band with
 * the idle time), so one session 40 minutes after the others does not squeeze them into a
 * pixel or two: the time axis is a few segments, each as wide as its share of the busy time. */
#include <math.h>

#include "report/report_model.h"
#include "report/report_text.h"
#include "report/report_svg.h"

#define PLOT_LEFT 70   /* room for the session ids */
#define PLOT_WIDTH 1000
#define PLOT_RIGHT 20
#define AXIS_HEIGHT 34
#define TOP 8
#define TICK_EVERY 160 /* pixels between time labels */
#define LABEL_CHAR 6.5 /* pixels per character of a label (11 px sans-serif) */
/* An idle stretch is cut out of the axis when it is longer than this share of the span
 * (and than MIN_BREAK_US); at most MAX_BREAKS of them, the longest. */
#define BREAK_SHARE 0.08
#define MIN_BREAK_US ((int64_t)2 * G_USEC_PER_SEC)
#define MAX_BREAKS 8
#define BREAK_WIDTH 36

typedef struct {
    int64_t a, b;  /* packet time covered */
    double x, w;   /* on the plot */
} segment;

typedef struct {
    segment seg[MAX_BREAKS + 1];
    int n;
} axis;

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

static const mw_rsession *bar_session(const mw_report *r, GArray *idx, guint k)
{
    return &g_array_index(r->sessions, mw_rsession, g_array_index(idx, guint, k));
}

typedef struct {
    int64_t a, b;
} gap;

static int by_length(const void *x, const void *y)
{
    int64_t lx = ((const gap *)x)->b - ((const gap *)x)->a;
    int64_t ly = ((const gap *)y)->b - ((const gap *)y)->a;
    return lx > ly ? -1 : lx < ly;
}

static int by_position(const void *x, const void *y)
{
    int64_t ax = ((const gap *)x)->a, ay = ((const gap *)y)->a;
    return ax < ay ? -1 : ax > ay;
}

/* The segments of the axis: the span less its longest idle stretches. */
static void axis_build(axis *ax, const mw_report *r, GArray *idx, int64_t t0, int64_t t1)
{
    int64_t min_gap = MAX(MIN_BREAK_US, (int64_t)((double)(t1 - t0) * BREAK_SHARE));
    GArray *gaps = g_array_new(FALSE, FALSE, sizeof(gap));
    int64_t reach = t0;
    for (guint k = 0; k < idx->len; k++) {
        const mw_rsession *s = bar_session(r, idx, k);
        if (s->start_us - reach > min_gap) {
            gap g = { reach, s->start_us };
            g_array_append_val(gaps, g);
        }
        reach = MAX(reach, s->end_us);
    }
    guint nb = MIN(gaps->len, MAX_BREAKS);
    if (nb) { /* qsort takes no NULL, even for no element */
        qsort(gaps->data, gaps->len, sizeof(gap), by_length);
        qsort(gaps->data, nb, sizeof(gap), by_position);
    }
    ax->n = (int)nb + 1;
    int64_t busy = 0;
    for (int i = 0; i < ax->n; i++) {
        ax->seg[i].a = i ? g_array_index(gaps, gap, i - 1).b : t0;
        ax->seg[i].b = i < (int)nb ? g_array_index(gaps, gap, i).a : t1;
        busy += ax->seg[i].b - ax->seg[i].a;
    }
    g_array_free(gaps, TRUE);
    /* every segment at least a little wide, also a single short session */
    int64_t floor_us = MAX(busy / (ax->n * 6), 1000);
    double total = 0, avail = PLOT_WIDTH - (ax->n - 1) * BREAK_WIDTH;
    for (int i = 0; i < ax->n; i++)
        total += (double)MAX(ax->seg[i].b - ax->seg[i].a, floor_us);
    double x = PLOT_LEFT;
    for (int i = 0; i < ax->n; i++) {
        ax->seg[i].x = x;
        ax->seg[i].w = avail * (double)MAX(ax->seg[i].b - ax->seg[i].a, floor_us) / total;
        x += ax->seg[i].w + BREAK_WIDTH;
    }
}

static double axis_x(const axis *ax, int64_t t)
{
    int i = 0;
    while (i + 1 < ax->n && t >= ax->seg[i + 1].a)
        i++;
    const segment *s = &ax->seg[i];
    int64_t len = MAX(s->b - s->a, 1);
    double f = CLAMP((double)(t - s->a) / (double)len, 0.0, 1.0);
    return s->x + f * s->w;
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

/* "39 min", "2.5 h": an idle stretch in a few characters. */
static void idle_text(GString *out, int64_t us, bool full)
{
    double s = (double)us / 1e6;
    if (s >= 86400)
        g_string_append_printf(out, "%.1f%s", s / 86400, full ? " days" : "d");
    else if (s >= 3600)
        g_string_append_printf(out, "%.1f%s", s / 3600, full ? " h" : "h");
    else if (s >= 60)
        g_string_append_printf(out, "%.0f%s", s / 60, full ? " min" : "m");
    else
        g_string_append_printf(out, "%.0f%s", s, full ? " s" : "s");
}

/* The time labels of each segment and the breaks between them. */
static void axis_draw(GString *out, const axis *ax, int axis_y, int64_t span)
{
    double label_end = 0; /* right edge of the last label, to skip one that would overlap */
    for (int i = 0; i < ax->n; i++) {
        const segment *s = &ax->seg[i];
        int nt = MAX(1, (int)(s->w / TICK_EVERY));
        bool last = i == ax->n - 1;
        int64_t len = s->b - s->a;
        for (int j = 0; j <= nt; j++) {
            if (j == nt && (!last || len == 0))
                break;
            double x = s->x + s->w * j / nt;
            GString *label = g_string_new(NULL);
            tick_label(label, s->a + len * j / nt, MAX(span, len) > (int64_t)86400 * G_USEC_PER_SEC
                                                       ? span : len);
            double w = (double)label->len * LABEL_CHAR;
            const char *anchor = j == 0 ? "start" : j == nt ? "end" : "middle";
            double left = j == 0 ? x : j == nt ? x - w : x - w / 2;
            double right_edge = PLOT_LEFT + PLOT_WIDTH + PLOT_RIGHT - 2;
            double tx = x;
            if (left + w > right_edge) { /* a narrow last segment: keep the label inside */
                left = right_edge - w;
                tx = right_edge;
                anchor = "end";
            }
            g_string_append_printf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
                                        "stroke=\"#ddd\"/>\n", x, TOP, x, axis_y);
            if (left >= label_end + 8) {
                g_string_append_printf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" "
                                            "text-anchor=\"%s\" fill=\"#444\">%s</text>\n",
                                       tx, axis_y + 14, anchor, label->str);
                label_end = left + w;
            }
            g_string_free(label, TRUE);
        }
        if (last)
            break;
        /* the break: a shaded band with the idle time cut out */
        double bx = s->x + s->w;
        int64_t idle = ax->seg[i + 1].a - s->b;
        GString *t = g_string_new(NULL), *full = g_string_new(NULL);
        idle_text(t, idle, false);
        idle_text(full, idle, true);
        g_string_append_printf(out, "<g class=\"axis-break\"><title>axis break: no session for "
                                    "%s</title><rect x=\"%.1f\" y=\"%d\" width=\"%d\" "
                                    "height=\"%d\" fill=\"#e9e9e9\"/><path d=\"M%.1f %d l6 -10 "
                                    "M%.1f %d l6 -10\" stroke=\"#888\" stroke-width=\"1.5\"/>"
                                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                                    "font-size=\"10\" fill=\"#555\">+%s</text></g>\n",
                               full->str, bx + 2, TOP, BREAK_WIDTH - 4, axis_y - TOP, bx + 9,
                               axis_y + 5, bx + 21, axis_y + 5, bx + BREAK_WIDTH / 2.0, TOP + 12,
                               t->str);
        g_string_free(t, TRUE);
        g_string_free(full, TRUE);
    }
}

static void bar(GString *out, const axis *ax, const mw_rsession *s, int y, int row, int h)
{
    double x = axis_x(ax, s->start_us);
    double w = axis_x(ax, s->end_us) - x;
    if (w < 2)
        w = 2;
    if (row >= 12)
        g_string_append_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
                                    "fill=\"#333\">%s</text>\n",
                               PLOT_LEFT - 6, y + h - 2, s->id);
    g_string_append_printf(out, "<a href=\"#row-%s\"><rect class=\"bar\" id=\"bar-%s\" "
                                "data-outcome=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                                "height=\"%d\" rx=\"1\" fill=\"%s\"%s><title>",
                           s->id, s->id, mw_outcome_name(s->outcome), x, y, w, h,
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

void mw_report_svg(GString *out, const mw_report *r, char **note)
{
    *note = NULL;
    GArray *idx = pick(r);
    guint n = idx->len;
    int row = n ? (int)CLAMP(640 / (int)n, 3, 18) : 18;
    int h = row > 6 ? row - 3 : row - 1;
    int height = TOP + (int)n * row + AXIS_HEIGHT;
    int width = PLOT_LEFT + PLOT_WIDTH + PLOT_RIGHT;
    int64_t t0 = r->first_us, span = r->last_us - r->first_us;
    if (span < 1000)
        span = 1000;
    axis ax;
    axis_build(&ax, r, idx, t0, t0 + span);
    g_string_append_printf(out,
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" "
                           "role=\"img\" aria-labelledby=\"timeline-title timeline-desc\" "
                           "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                           "font-family=\"sans-serif\" font-size=\"11\">\n"
                           "<title id=\"timeline-title\">Timeline of %u mail sessions</title>\n"
                           "<desc id=\"timeline-desc\">One bar per session over packet time "
                           "(UTC), coloured by outcome; outlined bars have findings; %d idle "
                           "stretch%s cut out of the axis.</desc>\n",
                           width, height, width, height, n, ax.n - 1, ax.n == 2 ? "" : "es");
    g_string_append_printf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
                                "fill=\"#fafafa\"/>\n", width, height);
    int axis_y = TOP + (int)n * row + 4;
    axis_draw(out, &ax, axis_y, span);
    g_string_append_printf(out, "<text x=\"%d\" y=\"%d\" fill=\"#444\">UTC, packet time%s"
                                "</text>\n", PLOT_LEFT, axis_y + 28,
                           ax.n > 1 ? "; grey bands: idle stretches cut out of the axis" : "");
    for (guint k = 0; k < n; k++)
        bar(out, &ax, bar_session(r, idx, k), TOP + (int)k * row, row, h);
    g_string_append(out, "</svg>\n");
    if (n < r->sessions_total)
        *note = g_strdup_printf("The timeline shows %u of %" G_GUINT64_FORMAT " sessions "
                                "(at most %d bars; sessions with findings first).", n,
                                r->sessions_total, MW_REPORT_MAX_BARS);
    g_array_free(idx, TRUE);
}
