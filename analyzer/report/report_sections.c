/* The report's sections that read the same in every format, written once against a
 * format's markup (report_sections.h). */
#include <pcap/pcap.h>

#include "report/report_text.h"
#include "report/report_sections.h"

static void table_init(mw_rtable *t, const char *id)
{
    *t = (mw_rtable){ .id = id, .cells = g_array_new(FALSE, FALSE, sizeof(mw_rcell)) };
}

static void table_col(mw_rtable *t, const char *head, bool numeric)
{
    g_assert(t->ncols < MW_RTABLE_MAX_COLS);
    t->heads[t->ncols] = head;
    t->numeric[t->ncols++] = numeric;
}

/* The cell takes text (g_free'd with the table). */
static void table_cell(mw_rtable *t, mw_rcell_kind kind, char *text)
{
    mw_rcell c = { kind, text };
    g_array_append_val(t->cells, c);
}

static void table_free(mw_rtable *t)
{
    for (guint i = 0; i < t->cells->len; i++)
        g_free(g_array_index(t->cells, mw_rcell, i).text);
    g_array_free(t->cells, TRUE);
}

static char *time_text(int64_t ts_us)
{
    GString *s = g_string_new(NULL);
    mw_report_time(s, ts_us);
    return g_string_free(s, FALSE);
}

static void inputs_table(GString *g, const mw_report *r, const mw_rmarkup *m)
{
    mw_rtable t;
    table_init(&t, "inputs");
    table_col(&t, "Input file", false);
    table_col(&t, "Link type", false);
    table_col(&t, "Packets", true);
    table_col(&t, "First packet (UTC)", false);
    table_col(&t, "Last packet", false);
    for (size_t i = 0; i < mw_inputs_count(r->inputs); i++) {
        const mw_input *in = mw_inputs_get(r->inputs, i);
        const char *dlt = in->dlt >= 0 ? pcap_datalink_val_to_name(in->dlt) : NULL;
        table_cell(&t, MW_RCELL_MONO, g_strdup(in->name));
        table_cell(&t, MW_RCELL_TEXT, g_strdup(dlt ? dlt : "?"));
        table_cell(&t, MW_RCELL_NUM, g_strdup_printf("%" G_GUINT64_FORMAT, in->frames));
        table_cell(&t, MW_RCELL_PLAIN, in->frames ? time_text(in->first_ts_us) : g_strdup(""));
        table_cell(&t, MW_RCELL_PLAIN, in->frames ? time_text(in->last_ts_us) : g_strdup(""));
    }
    m->table(g, &t);
    table_free(&t);
}

/* Sessions by protocol and outcome; protocols with no session are left out. */
static void matrix_table(GString *g, const mw_report *r, const mw_rmarkup *m)
{
    mw_rtable t;
    table_init(&t, "matrix");
    table_col(&t, "Protocol", false);
    for (int o = 0; o <= MW_OUT_ENCRYPTED; o++)
        table_col(&t, mw_outcome_name((mw_outcome)o), true);
    table_col(&t, "total", true);
    for (int p = 0; p <= MW_PROTO_POP3S; p++) {
        uint64_t total = 0;
        for (int o = 0; o <= MW_OUT_ENCRYPTED; o++)
            total += r->by_proto_outcome[p][o];
        if (!total)
            continue;
        table_cell(&t, MW_RCELL_PLAIN, g_strdup(mw_proto_name((mw_proto)p)));
        for (int o = 0; o <= MW_OUT_ENCRYPTED; o++)
            table_cell(&t, MW_RCELL_NUM,
                       g_strdup_printf("%" G_GUINT64_FORMAT, r->by_proto_outcome[p][o]));
        table_cell(&t, MW_RCELL_TOTAL, g_strdup_printf("%" G_GUINT64_FORMAT, total));
    }
    m->table(g, &t);
    table_free(&t);
}

static void counts_para(GString *g, const mw_report *r, const mw_rmarkup *m)
{
    g_string_append_printf(g, "%sPackets: %s%" G_GUINT64_FORMAT "%s (TCP %" G_GUINT64_FORMAT
                              "). Sessions: %s%" G_GUINT64_FORMAT "%s.",
                           m->para[0], m->strong[0], r->stats->packets, m->strong[1],
                           r->stats->tcp_packets, m->strong[0], r->sessions_total, m->strong[1]);
    if (r->sessions_total) {
        g_string_append(g, " Time span: ");
        mw_report_time(g, r->first_us);
        g_string_append(g, " to ");
        mw_report_time(g, r->last_us);
        g_string_append_printf(g, " UTC (%.1f s).", (double)(r->last_us - r->first_us) / 1e6);
    }
    g_string_append(g, m->para[1]);
}

static void left_out_notes(GString *g, const mw_report *r, const mw_rmarkup *m)
{
    char *s = NULL;
    if (r->stats->kernel_drops || r->stats->iface_drops) {
        s = g_strdup_printf("The capture lost %" G_GUINT64_FORMAT " packets (kernel) and %"
                            G_GUINT64_FORMAT " (interface): mailwire fell behind, sessions "
                            "near the loss are incomplete; raise --buffer-size.",
                            r->stats->kernel_drops, r->stats->iface_drops);
        m->note(g, s);
        g_free(s);
    }
    if (r->stats->evicted > r->stats->evicted_memory) {
        s = g_strdup_printf("%" G_GUINT64_FORMAT " sessions were closed early to stay within "
                            "--max-flows.", r->stats->evicted - r->stats->evicted_memory);
        m->note(g, s);
        g_free(s);
    }
    if (r->stats->evicted_memory) {
        s = g_strdup_printf("%" G_GUINT64_FORMAT " sessions were closed early to stay within "
                            "--max-memory.", r->stats->evicted_memory);
        m->note(g, s);
        g_free(s);
    }
    GString *d = g_string_new(NULL);
    uint64_t nd = mw_drops_format(d, r->stats->not_decoded, false);
    if (nd) {
        s = g_strdup_printf("Not decoded: %" G_GUINT64_FORMAT " packets (%s).", nd, d->str);
        m->note(g, s);
        g_free(s);
    }
    g_string_free(d, TRUE);
    if (r->stats->frag_datagrams || r->stats->frag_overlaps) {
        s = g_strdup_printf("IP fragments: %" G_GUINT64_FORMAT " reassembled into %"
                            G_GUINT64_FORMAT " datagrams (%" G_GUINT64_FORMAT " with "
                            "overlapping fragments).", r->stats->frag_fragments,
                            r->stats->frag_datagrams, r->stats->frag_overlaps);
        m->note(g, s);
        g_free(s);
    }
    if (r->sessions_dropped) {
        s = g_strdup_printf("Left out: the table and timeline hold the first %d sessions; %"
                            G_GUINT64_FORMAT " later sessions are only counted (findings "
                            "include them).", MW_REPORT_MAX_SESSIONS, r->sessions_dropped);
        m->note(g, s);
        g_free(s);
    }
    if (r->transcripts_dropped) {
        s = g_strdup_printf("Left out: transcripts are kept for the first %d sessions with "
                            "findings; %" G_GUINT64_FORMAT " more sessions with findings have "
                            "no transcript here.", MW_REPORT_MAX_TRANSCRIPTS,
                            r->transcripts_dropped);
        m->note(g, s);
        g_free(s);
    }
}

void mw_report_analysed(GString *g, const mw_report *r, const mw_rmarkup *m)
{
    m->section(g, "analysed", "What was analysed");
    if (r->live) {
        g_string_append_printf(g, "%sLive capture on interface %s", m->para[0], m->code[0]);
        m->escape(g, r->live);
        g_string_append_printf(g, "%s.%s", m->code[1], m->para[1]);
    } else {
        inputs_table(g, r, m);
    }
    if (r->filter) { /* packets left out on purpose: the reader must know */
        uint64_t n = r->stats->not_decoded[MW_DROP_FILTERED];
        g_string_append_printf(g, "%sBPF filter: %s", m->para[0], m->code[0]);
        m->escape(g, r->filter);
        g_string_append_printf(g, "%s (%" G_GUINT64_FORMAT " packet%s left out by it, on "
                                  "purpose).%s", m->code[1], n, n == 1 ? "" : "s", m->para[1]);
    }
    counts_para(g, r, m);
    if (r->sessions_total)
        matrix_table(g, r, m);
    left_out_notes(g, r, m);
    g_string_append(g, m->section_end);
}

bool mw_report_any_finding(const mw_report *r)
{
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        if (r->findings[i].sessions > 0)
            return true;
    return false;
}

bool mw_report_any_row(const mw_report *r)
{
    return mw_report_any_finding(r) || r->failed_unflagged.sessions > 0;
}

char *mw_report_sessions_note(const mw_report *r)
{
    if (!r->sessions_dropped)
        return NULL;
    return g_strdup_printf("%" G_GUINT64_FORMAT " later sessions are not listed (at most %d).",
                           r->sessions_dropped, MW_REPORT_MAX_SESSIONS);
}

char *mw_report_transcripts_note(uint64_t n)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT " more sessions with findings are not "
                           "transcribed here (at most %d).", n, MW_REPORT_MAX_TRANSCRIPTS);
}
