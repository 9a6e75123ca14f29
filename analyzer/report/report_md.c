/* The report as one Markdown file: the same sections as the HTML page, with the timeline
 * as an SVG data URI and plain tables (no sorting or filtering without a script). */
#include <pcap/pcap.h>
#include <string.h>

#include "report/report_model.h"
#include "report/report_text.h"
#include "report/report_svg.h"
#include "report/report_page.h"
#include "report/report_md.h"
#include "report/report_sections.h"
#include "report/report_summary.h"

/* "frame 12", or with several inputs "frame 12 of x.pcap" (", interface eth0"). */
static void frame_md(GString *g, const mw_report *r, uint32_t file, uint64_t frame,
                     const char *iface)
{
    const char *label = mw_report_file_label(r, file);
    g_string_append_printf(g, "frame %" G_GUINT64_FORMAT, frame);
    if (label) {
        g_string_append(g, " of ");
        mw_md_escape(g, label);
        if (iface) {
            g_string_append(g, ", interface ");
            mw_md_escape(g, iface);
        }
    }
}

static void flags_md(GString *g, mw_flagset flags)
{
    bool first = true;
    for (int f = 0; f < MW_FLAG_COUNT; f++) {
        if ((flags >> f) & 1u) {
            g_string_append_printf(g, "%s`%s`", first ? "" : " ", mw_flag_name((mw_flag)f));
            first = false;
        }
    }
}

static void set_md(GString *g, const char *label, GHashTable *set)
{
    if (!g_hash_table_size(set))
        return;
    g_string_append_printf(g, "%s: ", label);
    mw_report_set_list(g, set, mw_md_escape);
    g_string_append(g, "<br>");
}

static void md_table(GString *g, const mw_rtable *t)
{
    g_string_append(g, "|");
    for (unsigned c = 0; c < t->ncols; c++)
        g_string_append_printf(g, " %s |", t->heads[c]);
    g_string_append(g, "\n|");
    for (unsigned c = 0; c < t->ncols; c++)
        g_string_append(g, t->numeric[c] ? "---:|" : "---|");
    g_string_append_c(g, '\n');
    for (guint i = 0; i < t->cells->len; i++) {
        const mw_rcell *cell = &g_array_index(t->cells, mw_rcell, i);
        g_string_append(g, i % t->ncols ? " " : "| ");
        if (cell->kind == MW_RCELL_TEXT || cell->kind == MW_RCELL_MONO)
            mw_md_escape(g, cell->text);
        else if (cell->kind == MW_RCELL_TOTAL)
            g_string_append_printf(g, "**%s**", cell->text);
        else
            g_string_append(g, cell->text);
        g_string_append(g, (i + 1) % t->ncols ? " |" : " |\n");
    }
    g_string_append(g, "\n");
}

static void md_note(GString *g, const char *text)
{
    g_string_append_printf(g, "_%s_\n\n", text);
}

static void md_section(GString *g, const char *id, const char *title)
{
    g_string_append_printf(g, "## %s\n\n", title);
}

static void md_list(GString *g, bool open)
{
    if (!open)
        g_string_append_c(g, '\n');
}

static void md_item(GString *g, const char *sev, const char *flag, unsigned n, const char *cause)
{
    g_string_append_printf(g, "- **%s** `%s`: **%u session%s**: ", sev, flag, n,
                           n == 1 ? "" : "s");
    mw_md_escape(g, cause);
    g_string_append(g, ".\n");
}

static const mw_rmarkup MD = {
    mw_md_escape, md_table, md_note, md_section, "", { "", "\n\n" }, { "**", "**" }, { "", "" },
    md_list, md_item,
};

static void summary(GString *g, const mw_report *r)
{
    mw_report_summary(g, r, &MD);
}

static void analysed(GString *g, const mw_report *r)
{
    mw_report_analysed(g, r, &MD);
}

/* One row of the findings table: flag i's, or (i < 0) the failed sessions without one. */
static void finding_row(GString *g, const mw_report *r, const mw_rfinding *f, int i)
{
    if (i >= 0)
        g_string_append_printf(g, "| `%s` | %s | %u | ", mw_flag_name((mw_flag)i),
                               mw_severity_name(mw_flag_severity((mw_flag)i)), f->sessions);
    else
        g_string_append_printf(g, "| " MW_REPORT_UNFLAGGED_NAME " | " MW_REPORT_UNFLAGGED_SEVERITY
                                  " | %u | ", f->sessions);
    set_md(g, "clients", f->clients);
    set_md(g, "servers", f->servers);
    set_md(g, "users", f->users);
    g_string_append(g, " | ");
    for (guint k = 0; k < f->refs->len; k++) {
        const mw_rref *ref = &g_array_index(f->refs, mw_rref, k);
        if (ref->linked)
            g_string_append_printf(g, "%s[%s](#t-%s) ", k ? "<br>" : "", ref->id, ref->id);
        else
            g_string_append_printf(g, "%s%s ", k ? "<br>" : "", ref->id);
        frame_md(g, r, ref->file, ref->frame, ref->iface);
    }
    if (f->refs_more)
        g_string_append_printf(g, "<br>and %u more", f->refs_more);
    g_string_append(g, " | ");
    mw_md_escape(g, i >= 0 ? mw_flag_diagnosis((mw_flag)i) : MW_REPORT_UNFLAGGED_DIAGNOSIS);
    for (int a = 1; a < MW_ADVICE_COUNT; a++) {
        if (!f->advice[a])
            continue;
        g_string_append_printf(g, "<br>Which side (%u session%s, e.g. %s): ", f->advice[a],
                               f->advice[a] == 1 ? "" : "s", f->advice_id[a]);
        mw_md_escape(g, mw_advice_text((mw_advice)a));
    }
    if (f->example) {
        g_string_append(g, "<br>e.g. ");
        mw_md_escape(g, f->example);
    }
    g_string_append(g, " |\n");
}

static void findings(GString *g, const mw_report *r)
{
    g_string_append(g, "## Findings\n\n");
    const mw_unseen *u = r->unseen;
    if (mw_unseen_count(u)) { /* never "No problems found" over unread sessions */
        g_string_append_printf(g, "**Not seen (encrypted): %" G_GUINT64_FORMAT " session%s.** "
                                  "TLS hid the commands, replies and logins.\n\n",
                               mw_unseen_count(u), mw_unseen_count(u) == 1 ? "" : "s");
        for (guint i = 0; i < mw_unseen_listed(u); i++) {
            g_string_append_printf(g, "- %s: ", mw_unseen_id(u, i));
            mw_md_escape(g, mw_unseen_line(u, i));
            g_string_append_c(g, '\n');
        }
        if (mw_unseen_count(u) > mw_unseen_listed(u))
            g_string_append_printf(g, "- and %" G_GUINT64_FORMAT " more\n",
                                   mw_unseen_count(u) - mw_unseen_listed(u));
        g_string_append_c(g, '\n');
        mw_md_escape(g, mw_unseen_howto());
        g_string_append(g, "\n\n");
    }
    if (!mw_report_any_row(r)) {
        if (!r->sessions_total)
            g_string_append(g, "No mail sessions to check (see the summary).\n\n");
        else if (!mw_unseen_count(r->unseen)) {
            char buf[256];
            g_string_append_printf(g, "%s\n\n", mw_report_no_flag_text(r, buf, sizeof buf));
        }
        return;
    }
    g_string_append(g, "| Flag | Severity | Sessions | Affected | Evidence | Diagnosis and fix |\n"
                       "|---|---|---:|---|---|---|\n");
    mw_flag order[MW_FLAG_COUNT];
    int nflags = mw_report_ranked(r, order);
    for (int k0 = 0; k0 < nflags; k0++)
        finding_row(g, r, &r->findings[order[k0]], (int)order[k0]);
    if (r->failed_unflagged.sessions)
        finding_row(g, r, &r->failed_unflagged, -1);
    g_string_append(g, "\nFrame numbers are as Wireshark numbers them in the named file: Go to "
                       "Packet (Ctrl+G), or the display filter `frame.number == N`.\n\n");
}

static void timeline(GString *g, const mw_report *r)
{
    g_string_append(g, "## Timeline\n\nSessions as bars over packet time (UTC), coloured by "
                       "outcome:");
    for (int o = 0; o <= MW_OUT_ENCRYPTED; o++)
        g_string_append_printf(g, " %s %s%s", mw_outcome_name((mw_outcome)o),
                               mw_report_outcome_colour((mw_outcome)o),
                               o < MW_OUT_ENCRYPTED ? "," : ".");
    g_string_append(g, "\n\n");
    GString *svg = g_string_new(NULL);
    char *note = NULL;
    mw_report_svg(svg, r, &note);
    gchar *b64 = g_base64_encode((const guchar *)svg->str, svg->len);
    g_string_append_printf(g, "![timeline](data:image/svg+xml;base64,%s)\n\n", b64);
    g_free(b64);
    g_string_free(svg, TRUE);
    if (note) {
        g_string_append_printf(g, "_%s_\n\n", note);
        g_free(note);
    }
}

static void sessions(GString *g, const mw_report *r, FILE *fp)
{
    g_string_append(g, "## Sessions\n\n| id | start (UTC) | client | server | protocol | "
                       "outcome | flags | user | decisive line |\n"
                       "|---|---|---|---|---|---|---|---|---|\n");
    for (guint i = 0; i < r->sessions->len; i++) {
        const mw_rsession *s = &g_array_index(r->sessions, mw_rsession, i);
        if (s->transcript >= 0)
            g_string_append_printf(g, "| [%s](#t-%s) | ", s->id, s->id);
        else
            g_string_append_printf(g, "| %s | ", s->id);
        mw_report_time(g, s->start_us);
        g_string_append(g, " | ");
        mw_md_escape(g, s->client);
        g_string_append(g, " | ");
        mw_md_escape(g, s->server);
        g_string_append_printf(g, " | %s%s | %s | ", mw_proto_name(s->protocol),
                               s->starttls ? "+starttls" : "", mw_outcome_name(s->outcome));
        flags_md(g, s->flags);
        g_string_append(g, " | ");
        mw_md_escape(g, s->user);
        g_string_append(g, " | ");
        mw_md_escape(g, s->decisive);
        if (s->decisive_frame) {
            g_string_append(g, " (");
            frame_md(g, r, s->file, s->decisive_frame, NULL);
            g_string_append(g, ")");
        }
        g_string_append(g, " |\n");
        mw_report_flush(g, fp, false);
    }
    g_string_append(g, "\n");
    char *note = mw_report_sessions_note(r);
    if (note)
        md_note(g, note);
    g_free(note);
}

/* A code fence longer than any run of backticks in the lines, so none can close it. */
static int fence_len(const mw_rtranscript *t)
{
    int longest = 0;
    for (guint i = 0; i < t->events->len; i++) {
        int run = 0;
        for (const char *p = g_array_index(t->events, mw_event, i).text; p && *p; p++) {
            run = *p == '`' ? run + 1 : 0;
            longest = MAX(longest, run);
        }
    }
    return MAX(3, longest + 1);
}

static void transcript(GString *g, const mw_report *r, const mw_rtranscript *t)
{
    g_string_append_printf(g, "<a id=\"t-%s\"></a>\n\n### %s: ", t->id, t->id);
    mw_md_escape(g, t->title);
    g_string_append(g, "\n\n");
    const char *label = mw_report_file_label(r, t->file);
    if (label) {
        g_string_append(g, "File ");
        mw_md_escape(g, label);
        g_string_append(g, ". ");
    }
    g_string_append_printf(g, "Wireshark filter: `%s`\n\n", t->wireshark);
    for (guint i = 0; i < t->evidence->len; i++) {
        const mw_revidence *ev = &g_array_index(t->evidence, mw_revidence, i);
        g_string_append_printf(g, "- `%s` ", mw_flag_name(ev->flag));
        frame_md(g, r, ev->file, ev->frame, ev->iface);
        g_string_append(g, ": ");
        mw_md_escape(g, ev->detail);
        g_string_append_c(g, '\n');
    }
    g_string_append_c(g, '\n');
    if (t->tls) {
        mw_md_escape(g, t->tls);
        g_string_append(g, "\n\n");
    }
    if (t->mail) {
        for (char **l = t->mail; *l; l++) {
            g_string_append(g, "- ");
            mw_md_escape(g, *l);
            g_string_append_c(g, '\n');
        }
        g_string_append_c(g, '\n');
    }
    if (t->events->len) {
        int fl = fence_len(t);
        for (int k = 0; k < fl; k++)
            g_string_append_c(g, '`');
        g_string_append_c(g, '\n');
        for (guint i = 0; i < t->events->len; i++) {
            const mw_event *ev = &g_array_index(t->events, mw_event, i);
            mw_report_time(g, ev->ts_us);
            g_string_append_printf(g, "  #%-6" G_GUINT64_FORMAT " %s %s", ev->frame,
                                   ev->dir == MW_FROM_CLIENT ? "C>" : "S<", ev->text);
            if (ev->latency_us >= 0)
                g_string_append_printf(g, "   (+%.3f s)", (double)ev->latency_us / 1e6);
            g_string_append_c(g, '\n');
        }
        for (int k = 0; k < fl; k++)
            g_string_append_c(g, '`');
        g_string_append(g, "\n\n");
    }
    if (t->events_dropped)
        g_string_append_printf(g, "_%u more lines not kept._\n\n", t->events_dropped);
}

static void md_opening(GString *g)
{
    g_string_append(g, "# Mail traffic incident report\n\nWritten by mailwire from ");
}

static void md_written_on(GString *g, const char *when)
{
    g_string_append_printf(g, " on %s. Passwords and other secrets are redacted.\n\n", when);
}

static void md_transcripts_heading(GString *g, bool any)
{
    g_string_append(g, "## Transcripts of flagged sessions\n\n");
    if (!any)
        g_string_append(g, "No session has findings.\n\n");
}

static void md_transcripts_dropped(GString *g, uint64_t n)
{
    char *note = mw_report_transcripts_note(n);
    g_string_append_printf(g, "_%s_\n\n", note);
    g_free(note);
}

static void md_closing(GString *g)
{
    (void)g;
}

bool mw_report_write_md(const mw_report *r, FILE *fp)
{
    static const mw_report_format md = {
        md_opening, md_written_on, summary, analysed, findings, timeline, sessions,
        md_transcripts_heading, transcript, md_transcripts_dropped, "", md_closing,
    };
    return mw_report_write_page(r, fp, &md);
}
