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

static const char STYLE[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;"
    "max-width:1240px;padding:0 16px;color:#222;background:#fff}\n"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 10px;"
    "border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}\n"
    ".meta,.note{color:#555}.note{font-style:italic}\n"
    "nav a{margin-right:14px}\n"
    "table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #ddd;"
    "padding:4px 7px;text-align:left;vertical-align:top}th{background:#f2f4f7}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}\n"
    "#findings-table td:last-child{max-width:460px}\n"
    "#sessions{font-size:12.5px;width:100%}#sessions th{cursor:pointer;user-select:none;"
    "white-space:nowrap}#sessions th[aria-sort=ascending]::after{content:' \\25B2'}"
    "#sessions th[aria-sort=descending]::after{content:' \\25BC'}\n"
    "#sessions td.dec{min-width:300px;max-width:420px;overflow-wrap:anywhere}"
    "#sessions td.fl{max-width:210px}\n"
    "tr:target{outline:2px solid #1e6fb8}\n"
    ".controls{margin:6px 0;display:flex;gap:12px;align-items:center;flex-wrap:wrap}\n"
    ".controls input[type=search]{width:280px;padding:4px}\n"
    ".o{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px}\n"
    ".legend span{margin-right:12px}.sw{display:inline-block;width:12px;height:12px;"
    "vertical-align:-1px;margin-right:4px;border-radius:2px}\n"
    ".tl{overflow-x:auto;border:1px solid #eee}.ref{white-space:nowrap}\n"
    ".flag{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;background:#fdecea;"
    "border-radius:3px;padding:0 4px;margin-right:3px;white-space:nowrap}\n"
    "article.transcript{border:1px solid #e3e3e3;border-radius:6px;padding:4px 14px 10px;"
    "margin:14px 0}\n"
    "table.tx{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;width:100%}\n"
    "table.tx td{border:none;border-bottom:1px solid #f0f0f0;padding:1px 6px;"
    "white-space:nowrap}\n"
    "table.tx tr.c td.d{color:#1e6fb8}table.tx tr.s td.d{color:#6a1b9a}\n"
    "table.tx tr.ev{background:#fff3cd}table.tx td.txt{white-space:pre-wrap;"
    "overflow-wrap:anywhere;width:100%}\n";

static const char SCRIPT[] =
    "(function(){\n"
    "var table=document.getElementById('sessions');\n"
    "if(table){\n"
    "var tbody=table.tBodies[0];\n"
    "var rows=Array.prototype.map.call(tbody.rows,function(r){"
    "return {r:r,t:r.textContent.toLowerCase()};});\n"
    "var q=document.getElementById('filter'),o=document.getElementById('outcome'),"
    "f=document.getElementById('flagged'),count=document.getElementById('count');\n"
    "function apply(){var s=q.value.toLowerCase().trim(),ov=o.value,fo=f.checked,n=0;"
    "rows.forEach(function(x){var ok=(!s||x.t.indexOf(s)>=0)&&(!ov||x.r.dataset.outcome===ov)"
    "&&(!fo||x.r.dataset.flagged==='1');x.r.style.display=ok?'':'none';if(ok)n++;});"
    "count.textContent=n+' of '+rows.length+' sessions shown';}\n"
    "q.addEventListener('input',apply);o.addEventListener('change',apply);"
    "f.addEventListener('change',apply);\n"
    "var ths=table.tHead.rows[0].cells;\n"
    "Array.prototype.forEach.call(ths,function(th,col){th.addEventListener('click',function(){"
    "var num=th.dataset.type==='num',asc=th.getAttribute('aria-sort')!=='ascending';"
    "Array.prototype.forEach.call(ths,function(h){h.removeAttribute('aria-sort');});"
    "th.setAttribute('aria-sort',asc?'ascending':'descending');"
    "rows.forEach(function(x,i){var c=x.r.cells[col],k=c.getAttribute('data-k');"
    "if(k===null)k=c.textContent;x.k=num?parseFloat(k):k.toLowerCase();x.i=i;});"
    "rows.sort(function(a,b){var d=a.k<b.k?-1:a.k>b.k?1:a.i-b.i;return asc?d:-d;});"
    "var frag=document.createDocumentFragment();rows.forEach(function(x){frag.appendChild(x.r);});"
    "tbody.appendChild(frag);});});\n"
    "var m=/[?&]q=([^&]*)/.exec(location.search);"
    "if(m)q.value=decodeURIComponent(m[1].replace(/\\+/g,' '));\n"
    "apply();\n"
    "}\n"
    "document.body.dataset.ready='1';\n"
    "})();\n";

static void flags_html(GString *g, mw_flagset flags)
{
    for (int f = 0; f < MW_FLAG_COUNT; f++)
        if ((flags >> f) & 1u)
            g_string_append_printf(g, "<span class=\"flag\">%s</span>", mw_flag_name((mw_flag)f));
}

static void outcome_html(GString *g, mw_outcome o)
{
    g_string_append_printf(g, "<span class=\"o\" style=\"background:%s\">%s</span>",
                           mw_report_outcome_colour(o), mw_outcome_name(o));
}

/* "frame 12" or "frame 12 of x.pcap", with how to find it in Wireshark as a tooltip. */
static void frame_html(GString *g, const mw_report *r, uint32_t file, uint64_t frame)
{
    const char *label = mw_report_file_label(r, file);
    g_string_append_printf(g, "<span class=\"mono\" title=\"Wireshark: Go to Packet "
                              "(Ctrl+G) %" G_GUINT64_FORMAT ", or filter frame.number == %"
                              G_GUINT64_FORMAT "\">frame %" G_GUINT64_FORMAT "</span>",
                           frame, frame, frame);
    if (label) {
        g_string_append(g, " of ");
        mw_html_escape(g, label);
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

static const mw_rmarkup HTML = {
    mw_html_escape, html_table, html_note, html_section, "</section>\n", { "<p>", "</p>\n" },
    { "<b>", "</b>" }, { "<code>", "</code>" },
};

static void analysed(GString *g, const mw_report *r)
{
    mw_report_analysed(g, r, &HTML);
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
    if (!mw_report_any_finding(r)) {
        if (!mw_unseen_count(r->unseen))
            g_string_append(g, "<p id=\"no-findings\">No problems found.</p>");
        g_string_append(g, "</section>\n");
        return;
    }
    g_string_append(g, "<table id=\"findings-table\"><thead><tr><th>Flag</th><th>Sessions</th>"
                       "<th>Affected</th><th>Evidence</th><th>Diagnosis and fix</th></tr>"
                       "</thead><tbody>\n");
    for (int i = 0; i < MW_FLAG_COUNT; i++) {
        const mw_rfinding *f = &r->findings[i];
        if (!f->sessions)
            continue;
        const char *name = mw_flag_name((mw_flag)i);
        g_string_append_printf(g, "<tr class=\"finding\" id=\"f-%s\" data-flag=\"%s\"><td>"
                                  "<span class=\"flag\">%s</span></td><td class=\"n\">%u</td>"
                                  "<td>", name, name, name, f->sessions);
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
            frame_html(g, r, ref->file, ref->frame);
            g_string_append(g, "</div>");
        }
        if (f->refs_more)
            g_string_append_printf(g, "<div>and %u more</div>", f->refs_more);
        g_string_append(g, "</td><td>");
        mw_html_escape(g, mw_flag_diagnosis((mw_flag)i));
        if (f->example) {
            g_string_append(g, "<div class=\"note\">e.g. <code>");
            mw_html_escape(g, f->example);
            g_string_append(g, "</code></div>");
        }
        g_string_append(g, "</td></tr>\n");
    }
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

static void session_row(GString *g, const mw_report *r, const mw_rsession *s)
{
    g_string_append_printf(g, "<tr class=\"srow\" id=\"row-%s\" data-outcome=\"%s\" "
                              "data-flagged=\"%d\"><td data-k=\"%s\">",
                           s->id, mw_outcome_name(s->outcome), s->flags ? 1 : 0, s->id + 1);
    if (s->transcript >= 0)
        g_string_append_printf(g, "<a href=\"#t-%s\">%s</a>", s->id, s->id);
    else
        g_string_append(g, s->id);
    g_string_append_printf(g, "</td><td data-k=\"%" G_GINT64_FORMAT "\">", s->start_us);
    mw_report_time(g, s->start_us);
    g_string_append(g, "</td><td class=\"mono\">");
    mw_html_escape(g, s->client);
    g_string_append(g, "</td><td class=\"mono\">");
    mw_html_escape(g, s->server);
    g_string_append_printf(g, "</td><td>%s%s</td><td>", mw_proto_name(s->protocol),
                           s->starttls ? "+starttls" : "");
    outcome_html(g, s->outcome);
    g_string_append(g, "</td><td class=\"fl\">");
    flags_html(g, s->flags);
    g_string_append(g, "</td><td>");
    mw_html_escape(g, s->user);
    g_string_append(g, "</td><td class=\"dec\">");
    mw_html_escape(g, s->decisive);
    if (s->decisive_frame) {
        g_string_append(g, " <span class=\"note\">(");
        frame_html(g, r, s->file, s->decisive_frame);
        g_string_append(g, ")</span>");
    }
    g_string_append(g, "</td></tr>\n");
}

static void sessions(GString *g, const mw_report *r, FILE *fp)
{
    g_string_append(g, "<section id=\"sessions-sec\"><h2>Sessions</h2>\n"
                       "<div class=\"controls\"><input id=\"filter\" type=\"search\" "
                       "placeholder=\"Filter: address, user, flag, text...\">"
                       "<select id=\"outcome\"><option value=\"\">all outcomes</option>");
    for (int o = 0; o <= MW_OUT_ENCRYPTED; o++)
        g_string_append_printf(g, "<option>%s</option>", mw_outcome_name((mw_outcome)o));
    g_string_append(g, "</select><label><input type=\"checkbox\" id=\"flagged\"> only sessions "
                       "with findings</label><span id=\"count\" class=\"meta\"></span></div>\n"
                       "<table id=\"sessions\"><thead><tr><th data-type=\"num\">id</th>"
                       "<th data-type=\"num\">start (UTC)</th><th>client</th><th>server</th>"
                       "<th>protocol</th><th>outcome</th><th>flags</th><th>user</th>"
                       "<th>decisive line</th></tr></thead><tbody>\n");
    for (guint i = 0; i < r->sessions->len; i++) {
        session_row(g, r, &g_array_index(r->sessions, mw_rsession, i));
        mw_report_flush(g, fp, false);
    }
    g_string_append(g, "</tbody></table>\n");
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
        frame_html(g, r, t->file, ev->frame);
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
    g_string_append(g, "<nav><a href=\"#analysed\">What was analysed</a><a href=\"#findings\">"
                       "Findings</a><a href=\"#timeline-sec\">Timeline</a><a href=\"#sessions-sec\">"
                       "Sessions</a><a href=\"#transcripts\">Transcripts</a></nav>\n");
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
    g_string_append(g, "</section>\n<script>\n");
    g_string_append(g, SCRIPT);
    g_string_append(g, "</script>\n</body></html>\n");
}

bool mw_report_write_html(const mw_report *r, FILE *fp)
{
    static const mw_report_format html = {
        html_opening, html_written_on, analysed, findings, timeline, sessions,
        html_transcripts_heading, transcript, html_transcripts_dropped, html_closing,
    };
    return mw_report_write_page(r, fp, &html);
}
