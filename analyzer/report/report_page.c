/* The report's page, the same for HTML and Markdown: the sections in their order, the
 * file written in pieces as it grows. Each format supplies its own pieces (report_html.c,
 * report_md.c). */
#include <errno.h>

#include "report/report_model.h"
#include "report/report_text.h"
#include "report/report_page.h"

/* Write the buffer out once it holds this much (or when asked to). */
#define MW_REPORT_FLUSH_AT (64 * 1024)

/* The first write error of the report being written (one report per run, one thread). */
static int page_errno;

void mw_report_page_reset(void)
{
    page_errno = 0;
}

int mw_report_page_errno(void)
{
    return page_errno;
}

void mw_report_flush(GString *g, FILE *fp, bool force)
{
    if (force || g->len >= MW_REPORT_FLUSH_AT) {
        errno = 0;
        if (!page_errno && g->len && fwrite(g->str, 1, g->len, fp) != g->len)
            page_errno = errno ? errno : EIO;
        g_string_truncate(g, 0);
    }
}

bool mw_report_write_page(const mw_report *r, FILE *fp, const mw_report_format *fmt)
{
    GString *g = g_string_sized_new(MW_REPORT_FLUSH_AT * 2);
    fmt->opening(g);
    if (r->live) {
        g_string_append(g, "a live capture");
    } else {
        size_t n = mw_inputs_count(r->inputs);
        g_string_append_printf(g, "%zu capture file%s", n, n == 1 ? "" : "s");
    }
    GDateTime *now = g_date_time_new_now_utc();
    gchar *when = g_date_time_format(now, "%Y-%m-%d %H:%M UTC");
    fmt->written_on(g, when);
    g_free(when);
    g_date_time_unref(now);
    fmt->summary(g, r);
    fmt->findings(g, r);
    fmt->timeline(g, r);
    mw_report_flush(g, fp, true);
    fmt->sessions(g, r, fp);
    fmt->transcripts_heading(g, r->transcripts->len > 0);
    for (guint i = 0; i < r->transcripts->len; i++) {
        fmt->transcript(g, r, g_ptr_array_index(r->transcripts, i));
        mw_report_flush(g, fp, false);
    }
    if (r->transcripts_dropped)
        fmt->transcripts_dropped(g, r->transcripts_dropped);
    g_string_append(g, fmt->transcripts_end);
    fmt->analysed(g, r);
    fmt->closing(g);
    mw_report_flush(g, fp, true);
    g_string_free(g, TRUE);
    return true;
}
