/* The report as one self-contained HTML page: inline CSS, SVG and script, no fetch
 * (a Content-Security-Policy forbids any). Everything from the wire is escaped. */
#include <pcap/pcap.h>
#include <string.h>

#include "report/report_model.h"
#include "report/report_text.h"
#include "report/report_svg.h"
#include "report/report_page.h"
#include "report/report_html.h"
#include "report/report_sections.h"
#include "report/report_summary.h"
#include "report/report_html_assets.h"

/* "frame 12" or "frame 12 of x.pcap", with how to find it in Wireshark as a tooltip. */
static void frame_html(GString *g, const mw_report *r, uint32_t file, uint64_t frame,
                       const char *iface)
{
    const char *label = mw_report_file_label(r, file);
    g_string_append_printf(g, "<span class=\"mono\" title=\"Wireshark: Go to Packet "
                              "(Ctrl+G) %" G_GUINT64_FORMAT ", or filter frame.number == %"
                              G_GUINT64_FORMAT "\">frame %" G_GUINT64_FORMAT "</span>",
                           frame, frame, frame);
    if (label) {
        g_string_append(g, " of ");
        mw_html_escape(g, label);
        if (iface) { /* several inputs, a pcapng of several interfaces */
            g_string_append(g, ", interface ");
            mw_html_escape(g, iface);
        }
    }
}

static void set_html(GString *g, const char *label, GHashTable *set)
{
    if (!g_hash_table_size(set))
        return;
    g_string_append_printf(g, "<div><b>%s:</b> ", label);
    mw_report_set_list(g, set, mw_html_escape);
    g_string_append(g, "</div>");
}

static void html_table(GString *g, const mw_rtable *t)
{
    g_string_append_printf(g, "<table id=\"%s\"><thead><tr>", t->id);
    for (unsigned c = 0; c < t->ncols; c++)
        g_string_append_printf(g, "<th>%s</th>", t->heads[c]);
    g_string_append(g, "</tr></thead><tbody>\n");
    for (guint i = 0; i < t->cells->len; i++) {
        const mw_rcell *cell = &g_array_index(t->cells, mw_rcell, i);
        if (i % t->ncols == 0)
            g_string_append(g, "<tr>");
        switch (cell->kind) {
        case MW_RCELL_MONO: g_string_append(g, "<td class=\"mono\">"); break;
        case MW_RCELL_NUM: case MW_RCELL_TOTAL: g_string_append(g, "<td class=\"n\">"); break;
        default: g_string_append(g, "<td>");
        }
        if (cell->kind == MW_RCELL_TEXT || cell->kind == MW_RCELL_MONO)
            mw_html_escape(g, cell->text);
        else if (cell->kind == MW_RCELL_TOTAL)
            g_string_append_printf(g, "<b>%s</b>", cell->text);
        else
            g_string_append(g, cell->text);
        g_string_append(g, (i + 1) % t->ncols ? "</td>" : "</td></tr>\n");
    }
    g_string_append(g, "</tbody></table>\n");
}

static void html_note(GString *g, const char *text)
{
    g_string_append_printf(g, "<p class=\"note\">%s</p>\n", text);
}

static void html_section(GString *g, const char *id, const char *title)
{
    g_string_append_printf(g, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
}

static void html_list(GString *g, bool open)
{
    g_string_append(g, open ? "<ol id=\"top-findings\">\n" : "</ol>\n");
}

static void html_item(GString *g, const char *sev, const char *flag, unsigned n,
                      const char *cause)
{
    g_string_append_printf(g, "<li data-flag=\"%s\"><span class=\"sev sev-%s\">%s</span> "
                              "<a href=\"#f-%s\"><span class=\"flag\">%s</span></a> "
                              "<b>%u session%s</b>: ", flag, sev, sev, flag, flag, n,
                           n == 1 ? "" : "s");
    mw_html_escape(g, cause);
    g_string_append(g, ".</li>\n");
}

static const mw_rmarkup HTML = {
    mw_html_escape, html_table, html_note, html_section, "</section>\n", { "<p>", "</p>\n" },
    { "<b>", "</b>" }, { "<code>", "</code>" }, html_list, html_item,
};

static void summary(GString *g, const mw_report *r)
{
    mw_report_summary(g, r, &HTML);
}

static void analysed(GString *g, const mw_report *r)
{
    mw_report_analysed(g, r, &HTML);
}

/* One row of the findings table: flag i's, or (i < 0) the failed sessions without one. */
static void finding_row(GString *g, const mw_report *r, const mw_rfinding *f, int i)
{
    if (i >= 0) {
        const char *name = mw_flag_name((mw_flag)i);
        const char *sev = mw_severity_name(mw_flag_severity((mw_flag)i));
        g_string_append_printf(g, "<tr class=\"finding\" id=\"f-%s\" data-flag=\"%s\"><td>"
                                  "<span class=\"flag\">%s</span></td><td><span class=\"sev "
                                  "sev-%s\">%s</span></td><td class=\"n\">%u</td><td>",
                               name, name, name, sev, sev, f->sessions);
    } else {
        g_string_append_printf(g, "<tr class=\"finding\" id=\"f-failed-unflagged\"><td>"
                                  MW_REPORT_UNFLAGGED_NAME "</td><td><span class=\"sev\">"
                                  MW_REPORT_UNFLAGGED_SEVERITY "</span></td><td class=\"n\">"
                                  "%u</td><td>", f->sessions);
    }
    set_html(g, "clients", f->clients);
    set_html(g, "servers", f->servers);
    set_html(g, "users", f->users);
    g_string_append(g, "</td><td>");
    for (guint k = 0; k < f->refs->len; k++) {
        const mw_rref *ref = &g_array_index(f->refs, mw_rref, k);
        g_string_append(g, "<div class=\"ref\">");
        if (ref->linked)
            g_string_append_printf(g, "<a href=\"#t-%s\">%s</a> ", ref->id, ref->id);
        else
            g_string_append_printf(g, "<a href=\"#row-%s\">%s</a> ", ref->id, ref->id);
        frame_html(g, r, ref->file, ref->frame, ref->iface);
        g_string_append(g, "</div>");
    }
    if (f->refs_more)
        g_string_append_printf(g, "<div>and %u more</div>", f->refs_more);
    g_string_append(g, "</td><td>");
    mw_html_escape(g, i >= 0 ? mw_flag_diagnosis((mw_flag)i) : MW_REPORT_UNFLAGGED_DIAGNOSIS);
    for (int a = 1; a < MW_ADVICE_COUNT; a++) {
        if (!f->advice[a])
            continue;
        g_string_append_printf(g, "<div class=\"note\">Which side (%u session%s, e.g. %s): ",
                               f->advice[a], f->advice[a] == 1 ? "" : "s", f->advice_id[a]);
        mw_html_escape(g, mw_advice_text((mw_advice)a));
        g_string_append(g, "</div>");
    }
    if (f->example) {
        g_string_append(g, "<div class=\"note\">e.g. <code>");
        mw_html_escape(g, f->example);
        g_string_append(g, "</code></div>");
    }
    g_string_append(g, "</td></tr>\n");
}

static void findings(GString *g, const mw_report *r)
{
    g_string_append(g, "<section id=\"findings\"><h2>Findings</h2>\n");
    if (mw_unseen_count(r->unseen)) { /* never "No problems found" over unread sessions */
        GString *t = g_string_new(NULL);
        mw_unseen_summary(t, r->unseen);
        g_string_append(g, "<pre id=\"unseen\">");
        mw_html_escape(g, t->str);
        g_string_append(g, "</pre>\n");
        g_string_free(t, TRUE);
    }
    if (!mw_report_any_row(r)) {
        if (!r->sessions_total)
            g_string_append(g, "<p id=\"no-findings\">No mail sessions to check (see the "
                               "summary).</p>");
        else if (!mw_unseen_count(r->unseen)) {
            char buf[256];
            g_string_append_printf(g, "<p id=\"no-findings\">%s</p>",
                                   mw_report_no_flag_text(r, buf, sizeof buf));
        }
        g_string_append(g, "</section>\n");
        return;
    }
    g_string_append(g, "<table id=\"findings-table\"><thead><tr><th>Flag</th><th>Severity</th>"
                       "<th>Sessions</th><th>Affected</th><th>Evidence</th><th>Diagnosis and "
                       "fix</th></tr></thead><tbody>\n");
    mw_flag order[MW_FLAG_COUNT];
    int nflags = mw_report_ranked(r, order);
    for (int k0 = 0; k0 < nflags; k0++)
        finding_row(g, r, &r->findings[order[k0]], (int)order[k0]);
    if (r->failed_unflagged.sessions)
        finding_row(g, r, &r->failed_unflagged, -1);
    g_string_append(g, "</tbody></table>\n<p class=\"note\">Frame numbers are as Wireshark "
                       "numbers them in the named file: Go to Packet (Ctrl+G), or the display "
                       "filter <code>frame.number == N</code>.</p></section>\n");
}

static void timeline(GString *g, const mw_report *r)
{
    g_string_append(g, "<section id=\"timeline-sec\"><h2>Timeline</h2>\n<p class=\"legend\">");
    for (int o = 0; o <= MW_OUT_ENCRYPTED; o++)
        g_string_append_printf(g, "<span><i class=\"sw\" style=\"background:%s\"></i>%s</span>",
                               mw_report_outcome_colour((mw_outcome)o),
                               mw_outcome_name((mw_outcome)o));
    g_string_append(g, "<span>(outlined: with findings; click a bar for its row)</span></p>\n"
                       "<div class=\"tl\">\n");
    char *note = NULL;
    mw_report_svg(g, r, &note);
    g_string_append(g, "</div>\n");
    if (note) {
        g_string_append_printf(g, "<p class=\"note\" id=\"timeline-note\">%s</p>\n", note);
        g_free(note);
    }
    g_string_append(g, "</section>\n");
}

/* Rows of the sessions table in one page of the browser (the script pages through). */
#define MW_REPORT_HTML_PAGE 100

/* s as a JSON string that is safe inside <script>: no '<', '>' or '&' as such. */
static void js_str(GString *g, const char *s)
{
    g_string_append_c(g, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(g, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            g_string_append_printf(g, "\\u%04x", *p);
        else
            g_string_append_c(g, (char)*p);
    }
    g_string_append_c(g, '"');
}

/* The index of s in the string table (added when new), -1 for NULL. */
static long str_index(GString *g, GHashTable *idx, const char *s, bool *first)
{
    if (!s)
        return -1;
    gpointer v;
    if (g_hash_table_lookup_extended(idx, s, NULL, &v))
        return (long)GPOINTER_TO_SIZE(v);
    long n = (long)g_hash_table_size(idx);
    g_hash_table_insert(idx, (gpointer)s, GSIZE_TO_POINTER((gsize)n));
    g_string_append(g, *first ? "" : ",");
    *first = false;
    js_str(g, s);
    return n;
}

/* The vocabulary the rows refer to by number: protocols, outcomes, flags, file labels. */
static void data_vocabulary(GString *g, const mw_report *r)
{
    g_string_append_printf(g, "\"page\":%d,\"t0\":%" G_GINT64_FORMAT ",\"p\":[",
                           MW_REPORT_HTML_PAGE, r->first_us / 1000);
    for (int p = 0; p <= MW_PROTO_POP3S; p++)
        g_string_append_printf(g, "%s\"%s\",\"%s+starttls\"", p ? "," : "",
                               mw_proto_name((mw_proto)p), mw_proto_name((mw_proto)p));
    g_string_append(g, "],\"o\":[");
    for (int o = 0; o <= MW_OUT_ENCRYPTED; o++)
        g_string_append_printf(g, "%s\"%s\"", o ? "," : "", mw_outcome_name((mw_outcome)o));
    g_string_append(g, "],\"c\":[");
    for (int o = 0; o <= MW_OUT_ENCRYPTED; o++)
        g_string_append_printf(g, "%s\"%s\"", o ? "," : "",
                               mw_report_outcome_colour((mw_outcome)o));
    g_string_append(g, "],\"f\":[");
    for (int f = 0; f < MW_FLAG_COUNT; f++)
        g_string_append_printf(g, "%s\"%s\"", f ? "," : "", mw_flag_name((mw_flag)f));
    g_string_append(g, "],\"files\":[");
    for (size_t i = 0; mw_inputs_count(r->inputs) > 1 && i < mw_inputs_count(r->inputs); i++) {
        g_string_append(g, i ? "," : "");
        js_str(g, mw_report_file_label(r, (uint32_t)i));
    }
    g_string_append(g, "],");
}

/* The sessions as compact JSON: strings once in a table, each row an array of numbers
 * (see the script in report_html_assets.h for the field order). */
static void sessions_data(GString *g, const mw_report *r, FILE *fp)
{
    g_string_append(g, "<script type=\"application/json\" id=\"sessions-data\">{");
    data_vocabulary(g, r);
    GHashTable *idx = g_hash_table_new(g_str_hash, g_str_equal);
    GArray *cols = g_array_sized_new(FALSE, FALSE, sizeof(long), r->sessions->len * 5);
    g_string_append(g, "\"s\":[");
    bool first = true;
    for (guint i = 0; i < r->sessions->len; i++) {
        const mw_rsession *s = &g_array_index(r->sessions, mw_rsession, i);
        long v[] = { str_index(g, idx, s->client, &first), str_index(g, idx, s->server, &first),
                     str_index(g, idx, s->user, &first), str_index(g, idx, s->decisive, &first) };
        g_array_append_vals(cols, v, G_N_ELEMENTS(v));
        mw_report_flush(g, fp, false);
    }
    g_string_append(g, "],\n\"rows\":[");
    for (guint i = 0; i < r->sessions->len; i++) {
        const mw_rsession *s = &g_array_index(r->sessions, mw_rsession, i);
        const long *v = &g_array_index(cols, long, i * 4);
        g_string_append_printf(g, "%s[\"%s\",%" G_GINT64_FORMAT ",%ld,%ld,%d,%d,%u,%ld,%ld,%"
                                  G_GUINT64_FORMAT ",%u,%d]\n", i ? "," : "", s->id,
                               s->start_us / 1000 - r->first_us / 1000, v[0], v[1],
                               (int)s->protocol * 2 + (s->starttls ? 1 : 0), (int)s->outcome,
                               (unsigned)s->flags, v[2], v[3], s->decisive_frame, s->file,
                               s->transcript >= 0 ? 1 : 0);
        mw_report_flush(g, fp, false);
    }
    g_string_append(g, "]}</script>\n");
    g_array_free(cols, TRUE);
    g_hash_table_destroy(idx);
}

static void sessions(GString *g, const mw_report *r, FILE *fp)
{
    static const char *const heads[] = { "id", "start (UTC)", "client", "server", "protocol",
                                         "outcome", "flags", "user", "decisive line" };
    g_string_append(g, "<section id=\"sessions-sec\"><h2>Sessions</h2>\n"
                       "<div class=\"controls\" role=\"search\"><label for=\"filter\">Search"
                       "</label><input id=\"filter\" type=\"search\" placeholder=\"address, "
                       "user, flag, text...\"><label for=\"outcome\">Outcome</label>"
                       "<select id=\"outcome\"><option value=\"\">all outcomes</option>");
    for (int o = 0; o <= MW_OUT_ENCRYPTED; o++)
        g_string_append_printf(g, "<option>%s</option>", mw_outcome_name((mw_outcome)o));
    g_string_append(g, "</select><label><input type=\"checkbox\" id=\"flagged\"> only sessions "
                       "with findings</label><span id=\"count\" class=\"meta\" "
                       "aria-live=\"polite\"></span></div>\n<table id=\"sessions\">"
                       "<caption class=\"note\">Sort by a column with its heading button."
                       "</caption><thead><tr>");
    for (size_t c = 0; c < G_N_ELEMENTS(heads); c++)
        g_string_append_printf(g, "<th scope=\"col\" aria-sort=\"none\"><button type=\"button\">"
                                  "%s</button></th>", heads[c]);
    g_string_append(g, "</tr></thead><tbody></tbody></table>\n<div class=\"pager\" id=\"pager\" "
                       "hidden><button type=\"button\" id=\"prev\">Previous</button><span "
                       "id=\"page\" class=\"meta\"></span><button type=\"button\" id=\"next\">"
                       "Next</button></div>\n<noscript><p class=\"note\">The sessions table needs "
                       "JavaScript; the Markdown report (--report FILE.md) lists them as text."
                       "</p></noscript>\n");
    sessions_data(g, r, fp);
    char *note = mw_report_sessions_note(r);
    if (note)
        html_note(g, note);
    g_free(note);
    g_string_append(g, "</section>\n");
}

static void transcript(GString *g, const mw_report *r, const mw_rtranscript *t)
{
    g_string_append_printf(g, "<article class=\"transcript\" id=\"t-%s\"><h3>%s: ", t->id, t->id);
    mw_html_escape(g, t->title);
    g_string_append(g, "</h3>\n<p>");
    const char *label = mw_report_file_label(r, t->file);
    if (label) {
        g_string_append(g, "File <code>");
        mw_html_escape(g, label);
        g_string_append(g, "</code>. ");
    }
    g_string_append(g, "Wireshark filter: <code>");
    mw_html_escape(g, t->wireshark);
    g_string_append(g, "</code></p>\n<ul class=\"evidence\">");
    GHashTable *ev_frames = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < t->evidence->len; i++) {
        const mw_revidence *ev = &g_array_index(t->evidence, mw_revidence, i);
        g_hash_table_add(ev_frames, GSIZE_TO_POINTER((gsize)ev->frame));
        g_string_append_printf(g, "<li><span class=\"flag\">%s</span> ", mw_flag_name(ev->flag));
        frame_html(g, r, ev->file, ev->frame, ev->iface);
        g_string_append(g, ": ");
        mw_html_escape(g, ev->detail);
        g_string_append(g, "</li>");
    }
    g_string_append(g, "</ul>\n");
    if (t->tls) {
        g_string_append(g, "<p>");
        mw_html_escape(g, t->tls);
        g_string_append(g, "</p>\n");
    }
    if (t->mail) {
        g_string_append(g, "<ul class=\"messages\">");
        for (char **l = t->mail; *l; l++) {
            g_string_append(g, "<li>");
            mw_html_escape(g, *l);
            g_string_append(g, "</li>");
        }
        g_string_append(g, "</ul>\n");
    }
    if (t->events->len) {
        g_string_append(g, "<table class=\"tx\"><tbody>\n");
        for (guint i = 0; i < t->events->len; i++) {
            const mw_event *ev = &g_array_index(t->events, mw_event, i);
            bool is_ev = g_hash_table_contains(ev_frames, GSIZE_TO_POINTER((gsize)ev->frame));
            g_string_append_printf(g, "<tr class=\"%s%s\"><td>",
                                   ev->dir == MW_FROM_CLIENT ? "c" : "s", is_ev ? " ev" : "");
            mw_report_time(g, ev->ts_us);
            g_string_append_printf(g, "</td><td>#%" G_GUINT64_FORMAT "</td><td class=\"d\">%s"
                                      "</td><td class=\"txt\">", ev->frame,
                                   ev->dir == MW_FROM_CLIENT ? "C&gt;" : "S&lt;");
            mw_html_escape(g, ev->text);
            g_string_append(g, "</td><td>");
            if (ev->latency_us >= 0)
                g_string_append_printf(g, "+%.3f s", (double)ev->latency_us / 1e6);
            g_string_append(g, "</td></tr>\n");
        }
        g_string_append(g, "</tbody></table>\n");
    } else {
        g_string_append(g, "<p class=\"note\">No protocol lines (see the evidence above).</p>\n");
    }
    if (t->events_dropped)
        g_string_append_printf(g, "<p class=\"note\">%u more lines not kept.</p>\n",
                               t->events_dropped);
    g_string_append(g, "</article>\n");
    g_hash_table_destroy(ev_frames);
}

static void html_opening(GString *g)
{
    g_string_append(g, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                       "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width\">\n"
                       "<title>mailwire incident report</title>\n<style>\n");
    g_string_append(g, STYLE);
    g_string_append(g, "</style></head>\n<body>\n<h1>Mail traffic incident report</h1>\n"
                       "<p class=\"meta\">Written by mailwire from ");
}

static void html_written_on(GString *g, const char *when)
{
    g_string_append_printf(g, " on %s. Passwords and other secrets are redacted.</p>\n", when);
    g_string_append(g, "<nav><a href=\"#summary\">Summary</a><a href=\"#findings\">Findings</a>"
                       "<a href=\"#timeline-sec\">Timeline</a><a href=\"#sessions-sec\">Sessions"
                       "</a><a href=\"#transcripts\">Transcripts</a><a href=\"#analysed\">What "
                       "was analysed</a></nav>\n");
}

static void html_transcripts_heading(GString *g, bool any)
{
    g_string_append(g, "<section id=\"transcripts\"><h2>Transcripts of flagged sessions</h2>\n");
    if (!any)
        g_string_append(g, "<p>No session has findings.</p>\n");
}

static void html_transcripts_dropped(GString *g, uint64_t n)
{
    char *note = mw_report_transcripts_note(n);
    html_note(g, note);
    g_free(note);
}

static void html_closing(GString *g)
{
    g_string_append(g, "<script>\n");
    g_string_append(g, SCRIPT);
    g_string_append(g, "</script>\n</body></html>\n");
}

bool mw_report_write_html(const mw_report *r, FILE *fp)
{
    static const mw_report_format html = {
        html_opening, html_written_on, summary, analysed, findings, timeline, sessions,
        html_transcripts_heading, transcript, html_transcripts_dropped, "</section>\n",
        html_closing,
    };
    return mw_report_write_page(r, fp, &html);
}
