/* The readable output: one block per session as it ends, then the findings grouped by
 * flag with who they affect and the diagnosis in plain words. */
#include <glib.h>
#include <string.h>

#include "core/json.h"
#include "output/output.h"
#include "output/text_writer.h"
#include "output/unseen.h"
#include "registry.h"
#include "engine/conn_verdict.h"

/* Distinct values listed per finding before "and N more". */
#define MW_FINDING_LIST_MAX 8

typedef struct {
    unsigned sessions;
    GPtrArray *ids;          /* first MW_FINDING_LIST_MAX session ids */
    GHashTable *clients, *servers, *users; /* string sets */
    char *example;           /* first evidence detail */
    unsigned advice[MW_ADVICE_COUNT];   /* sessions given each side-specific advice */
    char advice_id[MW_ADVICE_COUNT][24]; /* ...the first of them */
} finding;

struct mw_findings {
    finding f[MW_FLAG_COUNT];
    /* sessions that broke down with no flag to name it, by the anomaly that explains it
     * (mw_anomaly_diagnosis), so that a failed session never reads "No problems found" */
    finding a[MW_ANOM_COUNT];
    mw_unseen *unseen; /* sessions TLS kept from view */
};

static void finding_init(finding *f)
{
    f->ids = g_ptr_array_new_with_free_func(g_free);
    f->clients = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->servers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void finding_clear(finding *f)
{
    g_ptr_array_free(f->ids, TRUE);
    g_hash_table_destroy(f->clients);
    g_hash_table_destroy(f->servers);
    g_hash_table_destroy(f->users);
    g_free(f->example);
}

mw_findings *mw_findings_new(void)
{
    mw_findings *fs = g_new0(mw_findings, 1);
    fs->unseen = mw_unseen_new();
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        finding_init(&fs->f[i]);
    for (int i = 0; i < MW_ANOM_COUNT; i++)
        finding_init(&fs->a[i]);
    return fs;
}

void mw_findings_free(mw_findings *fs)
{
    if (!fs)
        return;
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        finding_clear(&fs->f[i]);
    for (int i = 0; i < MW_ANOM_COUNT; i++)
        finding_clear(&fs->a[i]);
    mw_unseen_free(fs->unseen);
    g_free(fs);
}

/* Sets are capped: past the cap only the count of sessions grows. */
static void set_add(GHashTable *set, char *s)
{
    if (g_hash_table_size(set) < 1000 && !g_hash_table_contains(set, s))
        g_hash_table_add(set, s);
    else
        g_free(s);
}

/* The session's share of finding f: its id, client, server, user. */
static void finding_count(finding *f, const mw_session *s)
{
    f->sessions++;
    if (f->ids->len < MW_FINDING_LIST_MAX)
        g_ptr_array_add(f->ids, g_strdup(s->id));
    GString *g = g_string_new(NULL);
    mw_format_endpoint(g, &s->client);
    /* the client's address without its ephemeral port */
    char *colon = strrchr(g->str, ':');
    if (colon)
        g_string_truncate(g, (gsize)(colon - g->str));
    set_add(f->clients, g_string_free(g, FALSE));
    g = g_string_new(NULL);
    mw_format_endpoint(g, &s->server);
    set_add(f->servers, g_string_free(g, FALSE));
    if (s->auth && s->auth->user)
        set_add(f->users, g_strdup(s->auth->user));
}

/* A session that broke down without a flag: under each anomaly that explains it. */
static void findings_add_broken(mw_findings *fs, const mw_session *s)
{
    for (int a = 0; a < MW_ANOM_COUNT; a++) {
        if (!((s->anomalies >> a) & 1u) || !mw_anomaly_diagnosis((mw_anomaly)a))
            continue;
        finding *f = &fs->a[a];
        finding_count(f, s);
        if (!f->example && s->decisive)
            f->example = g_strdup(s->decisive);
    }
}

void mw_findings_add(mw_findings *fs, const mw_session *s)
{
    mw_unseen_add(fs->unseen, s);
    if (s->broken && !s->flags)
        findings_add_broken(fs, s);
    for (int i = 0; i < MW_FLAG_COUNT; i++) {
        if (!mw_session_has(s, (mw_flag)i))
            continue;
        finding *f = &fs->f[i];
        finding_count(f, s);
        mw_advice a = mw_conn_advice(s, (mw_flag)i);
        if (a != MW_ADVICE_NONE && f->advice[a]++ == 0)
            g_strlcpy(f->advice_id[a], s->id, sizeof f->advice_id[a]);
        if (!f->example) {
            for (guint e = 0; s->evidence && e < s->evidence->len; e++) {
                const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, e);
                if (ev->flag == (mw_flag)i) {
                    f->example = g_strdup(ev->detail);
                    break;
                }
            }
        }
    }
}

static void print_set(FILE *fp, const char *label, GHashTable *set)
{
    guint n = g_hash_table_size(set);
    if (n == 0)
        return;
    GList *keys = g_list_sort(g_hash_table_get_keys(set), (GCompareFunc)g_strcmp0);
    fprintf(fp, "    %s: ", label);
    guint i = 0;
    for (GList *k = keys; k && i < MW_FINDING_LIST_MAX; k = k->next, i++)
        fprintf(fp, "%s%s", i ? ", " : "", (const char *)k->data);
    if (n > MW_FINDING_LIST_MAX)
        fprintf(fp, " and %u more", n - MW_FINDING_LIST_MAX);
    fprintf(fp, "\n");
    g_list_free(keys);
}

/* One finding's block: who, an example, what it means and which side to fix. */
static void finding_print(FILE *fp, const finding *f, const char *name, const char *what)
{
    fprintf(fp, "\n%s: %u session%s (", name, f->sessions, f->sessions == 1 ? "" : "s");
    for (guint k = 0; k < f->ids->len; k++)
        fprintf(fp, "%s%s", k ? ", " : "", (const char *)g_ptr_array_index(f->ids, k));
    if (f->sessions > f->ids->len)
        fprintf(fp, ", ...");
    fprintf(fp, ")\n");
    if (f->example)
        fprintf(fp, "    e.g. %s\n", f->example);
    print_set(fp, "clients", f->clients);
    print_set(fp, "servers", f->servers);
    print_set(fp, "users", f->users);
    fprintf(fp, "    What it means: %s\n", what);
    for (int a = 1; a < MW_ADVICE_COUNT; a++)
        if (f->advice[a])
            fprintf(fp, "    Which side (%u session%s, e.g. %s): %s\n", f->advice[a],
                    f->advice[a] == 1 ? "" : "s", f->advice_id[a],
                    mw_advice_text((mw_advice)a));
}

void mw_findings_print(const mw_findings *fs, FILE *fp)
{
    bool any = false;
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        any |= fs->f[i].sessions > 0;
    for (int i = 0; i < MW_ANOM_COUNT; i++)
        any |= fs->a[i].sessions > 0;
    fprintf(fp, "\n== Findings ==\n");
    uint64_t unseen = mw_unseen_count(fs->unseen);
    if (unseen) {
        /* never "No problems found" over sessions nobody could read */
        GString *g = g_string_new(NULL);
        if (!any)
            g_string_append(g, "Nothing wrong in what could be read; but ");
        mw_unseen_summary(g, fs->unseen);
        fputs(g->str, fp);
        g_string_free(g, TRUE);
    }
    if (!any) {
        if (!unseen)
            fprintf(fp, "No problems found.\n");
        return;
    }
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        if (fs->f[i].sessions)
            finding_print(fp, &fs->f[i], mw_flag_name((mw_flag)i),
                          mw_flag_diagnosis((mw_flag)i));
    for (int i = 0; i < MW_ANOM_COUNT; i++) {
        if (!fs->a[i].sessions)
            continue;
        /* an anomaly, not a flag of the record: named so that nobody looks for the flag */
        char *name = g_strdup_printf("%s (anomaly; failed, no flag)",
                                     mw_anomaly_name((mw_anomaly)i));
        finding_print(fp, &fs->a[i], name, mw_anomaly_diagnosis((mw_anomaly)i));
        g_free(name);
    }
}

/* Several inputs: frame numbers restart in every file, so each session says its file and
 * each evidence frame the file (and pcapng interface) it is in. One input: as before. */
static bool several_inputs;

void mw_text_several_inputs(bool on)
{
    several_inputs = on;
}

/* " of a.pcap, interface eth0" after "frame N", with several inputs. */
static void frame_origin(GString *out, const mw_evidence *ev)
{
    if (!several_inputs || !ev->input)
        return;
    g_string_append(out, " of ");
    mw_text_printable(out, ev->input);
    if (ev->iface) {
        g_string_append(out, ", interface ");
        mw_text_printable(out, ev->iface);
    }
}

/* With several inputs: the session's file, then the evidence frames the session line does
 * not place (in another file, or on a named interface), at most MW_FINDING_LIST_MAX. */
static void origin_lines(GString *out, const mw_session *s, bool first_shown)
{
    if (!several_inputs || !s->input)
        return;
    g_string_append(out, "      input: ");
    mw_text_printable(out, s->input);
    g_string_append_c(out, '\n');
    unsigned listed = 0, more = 0;
    for (guint i = first_shown ? 1 : 0; s->evidence && i < s->evidence->len; i++) {
        const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, i);
        if (!ev->input || (strcmp(ev->input, s->input) == 0 && !ev->iface))
            continue;
        if (listed++ >= MW_FINDING_LIST_MAX) {
            more++;
            continue;
        }
        g_string_append_printf(out, "      %s: frame %" G_GUINT64_FORMAT,
                               mw_flag_name(ev->flag), ev->frame);
        frame_origin(out, ev);
        g_string_append_c(out, '\n');
    }
    if (more)
        g_string_append_printf(out, "      and %u more evidence frames\n", more);
}

/* --local-time: times in the machine's time zone instead of UTC (set before the run). The
 * zone is loaded here, before the sandbox closes the file system (zoneinfo files). */
static bool local_time;
static GTimeZone *local_tz;

void mw_text_local_time(bool on)
{
    local_time = on;
    if (on && !local_tz)
        local_tz = g_time_zone_new_local();
}

static GDateTime *text_time(int64_t secs)
{
    GDateTime *utc = g_date_time_new_from_unix_utc(secs);
    if (!local_time || !utc)
        return utc;
    GDateTime *t = g_date_time_to_timezone(utc, local_tz);
    g_date_time_unref(utc);
    return t;
}

void mw_text_zone(FILE *fp)
{
    if (!local_time) {
        fprintf(fp, "Times: UTC (--local-time for the local time zone)\n");
        return;
    }
    GDateTime *now = g_date_time_new_now(local_tz);
    gchar *z = g_date_time_format(now, "%Z, UTC%:z");
    fprintf(fp, "Times: local time (%s)\n", z ? z : "?");
    g_free(z);
    g_date_time_unref(now);
}

size_t mw_top_ports(const mw_engine_stats *st, uint16_t *ports, uint32_t *counts, size_t max)
{
    size_t n = 0;
    if (!st->ignored_by_port)
        return 0;
    /* the max most counted so far, kept sorted (max is small) */
    for (uint32_t p = 0; p < 65536; p++) {
        uint32_t c = st->ignored_by_port[p];
        if (!c || (n == max && c <= counts[n - 1]))
            continue;
        size_t i = n < max ? n++ : n - 1;
        while (i > 0 && counts[i - 1] < c) {
            ports[i] = ports[i - 1];
            counts[i] = counts[i - 1];
            i--;
        }
        ports[i] = (uint16_t)p;
        counts[i] = c;
    }
    return n;
}

void mw_text_no_mail(FILE *fp, const mw_engine_stats *st)
{
    fprintf(fp, "\n== Findings ==\n");
    if (!st->tcp_packets) {
        fprintf(fp, "No mail sessions: the capture holds no TCP packets (%" G_GUINT64_FORMAT
                    " packets, %" G_GUINT64_FORMAT " not TCP/IP or not decoded).\n",
                st->packets, st->skipped + st->malformed);
        return;
    }
    fprintf(fp, "No mail sessions: none of the %" G_GUINT64_FORMAT " TCP packets were on a mail "
                "port or opened with a mail greeting.\n", st->tcp_packets);
    uint16_t ports[MW_TOP_PORTS];
    uint32_t counts[MW_TOP_PORTS];
    size_t n = mw_top_ports(st, ports, counts, MW_TOP_PORTS);
    if (n) {
        fprintf(fp, "    TCP ports seen most:");
        for (size_t i = 0; i < n; i++)
            fprintf(fp, "%s %u (%u packet%s)", i ? "," : "", ports[i], counts[i],
                    counts[i] == 1 ? "" : "s");
        fprintf(fp, "\n");
    }
    fprintf(fp, "    Mail on another port? Name it with --ports, e.g. --ports smtp=%u "
                "(also submission, smtps, imap, imaps, pop3, pop3s).\n",
            n ? ports[0] : 2525u);
}

void mw_text_session(GString *out, const mw_session *s)
{
    mw_text_session_ex(out, s, false);
}

void mw_text_session_ex(GString *out, const mw_session *s, bool only_findings)
{
    int64_t secs = s->ts_start_us / G_USEC_PER_SEC;
    /* UTC by hand (the common case: no GDateTime and no format string per record) */
    GDateTime *dt = local_time || !mw_format_utc_clock(out, secs, true) ? text_time(secs) : NULL;
    if (dt) {
        gchar *t = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S");
        g_string_append(out, t);
        g_free(t);
        g_date_time_unref(dt);
    }
    /* "  %-4s " */
    size_t idlen = strlen(s->id);
    mw_put_lit(out, "  ");
    mw_put(out, s->id, idlen);
    mw_put(out, "     ", idlen < 4 ? 5 - idlen : 1);
    mw_format_endpoint(out, &s->client);
    mw_put_lit(out, " -> ");
    mw_format_endpoint(out, &s->server);
    mw_put_lit(out, "  ");
    g_string_append(out, mw_proto_name(s->protocol));
    if (s->starttls)
        mw_put_lit(out, "+starttls");
    mw_put_lit(out, "  ");
    g_string_append(out, mw_outcome_name(s->outcome));
    if (s->flags) {
        mw_put_lit(out, "  [");
        bool first = true;
        for (int f = 0; f < MW_FLAG_COUNT; f++) {
            if (!mw_session_has(s, (mw_flag)f))
                continue;
            if (!first)
                g_string_append_c(out, ' ');
            g_string_append(out, mw_flag_name((mw_flag)f));
            first = false;
        }
        g_string_append_c(out, ']');
    }
    mw_put_lit(out, "  (");
    mw_format_tenths(out, s->ts_end_us - s->ts_start_us);
    mw_put_lit(out, " s)");
    /* the one line that explains the session: the server's decisive reply, or the
     * evidence of the first finding */
    if (s->decisive) {
        g_string_append(out, "  ");
        mw_text_printable(out, s->decisive);
    } else if (s->evidence && s->evidence->len) {
        const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, 0);
        g_string_append(out, "  ");
        mw_text_printable(out, ev->detail);
        mw_put_lit(out, " (frame ");
        mw_json_u64(out, ev->frame);
        frame_origin(out, ev);
        g_string_append_c(out, ')');
    }
    g_string_append_c(out, '\n');
    origin_lines(out, s, !s->decisive);

    if (only_findings)
        mw_part_write_text_findings(out, s, &s->mail);
    else
        mw_part_write_text(out, s, &s->mail);
    if (s->auth) {
        static const char *const results[] = { "result unknown", "succeeded", "failed" };
        g_string_append_printf(out, "      auth %s", s->auth->mechanism[0] ? s->auth->mechanism : "?");
        if (s->auth->user) {
            g_string_append(out, " as ");
            mw_text_printable(out, s->auth->user);
        }
        g_string_append_printf(out, " %s%s%s\n", results[s->auth->result],
                               s->auth->code[0] ? " " : "", s->auth->code);
    }
    const mw_session_more *more = mw_session_more_get(s);
    if (s->outcome == MW_OUT_INCOMPLETE && more->idle_at_end_us >= 0)
        g_string_append_printf(out, "      still open when the %s, idle for %.1f s\n",
                               s->close_reason == MW_CLOSE_IDLE ? "idle timeout closed it"
                                                                : "capture ended",
                               (double)more->idle_at_end_us / 1e6);
    if (more->latency.timed && more->latency.slowest_us >= G_USEC_PER_SEC / 2)
        g_string_append_printf(out, "      slowest reply: %s took %.1f s (frame %" G_GUINT64_FORMAT
                               ")\n", more->latency.slowest_cmd,
                               (double)more->latency.slowest_us / 1e6, more->latency.slowest_frame);
    mw_part_write_text(out, s, &s->tls);
    if (s->tls.rec && mw_session_unseen(s)) {
        g_string_append(out, "      not seen inside TLS: ");
        mw_unseen_describe(out, s);
        g_string_append_c(out, '\n');
    }
    if (s->encrypted && !s->tls.rec)
        g_string_append(out, "      content encrypted (TLS): not observable\n");
}

/* "        %s.%06d  #%-6lu %s " of a transcript line by hand, for a UTC time after 1970
 * (the common case); false, nothing written, outside it */
static bool transcript_prefix(GString *out, const mw_event *ev, int64_t secs)
{
    gsize start = out->len;
    mw_put_lit(out, "        ");
    if (!mw_format_utc_clock(out, secs, false)) {
        g_string_truncate(out, start);
        return false;
    }
    g_string_append_c(out, '.');
    mw_format_six(out, (unsigned)(ev->ts_us % G_USEC_PER_SEC));
    mw_put_lit(out, "  #");
    gsize f = out->len;
    mw_json_u64(out, ev->frame);
    gsize n = out->len - f;
    if (n < 6)
        mw_put(out, "      ", 6 - n);
    g_string_append_c(out, ' ');
    mw_put(out, ev->dir == MW_FROM_CLIENT ? "C> " : "S< ", 3);
    return true;
}

void mw_text_transcript(GString *out, const mw_session *s)
{
    if (!s->transcript)
        return;
    for (guint i = 0; i < s->transcript->len; i++) {
        const mw_event *ev = &g_array_index(s->transcript, mw_event, i);
        int64_t secs = ev->ts_us / G_USEC_PER_SEC;
        if (!local_time && ev->ts_us >= 0 && transcript_prefix(out, ev, secs)) {
            mw_text_printable(out, ev->text);
        } else {
            GDateTime *dt = text_time(secs);
            gchar *t = dt ? g_date_time_format(dt, "%H:%M:%S") : g_strdup("??:??:??");
            g_string_append_printf(out, "        %s.%06d  #%-6" G_GUINT64_FORMAT " %s ", t,
                                   (int)(ev->ts_us % G_USEC_PER_SEC), ev->frame,
                                   ev->dir == MW_FROM_CLIENT ? "C>" : "S<");
            g_free(t);
            if (dt)
                g_date_time_unref(dt);
            mw_text_printable(out, ev->text);
        }
        if (ev->latency_us >= 0)
            g_string_append_printf(out, "   (+%.3f s)", (double)ev->latency_us / 1e6);
        g_string_append_c(out, '\n');
    }
    if (s->transcript_dropped)
        g_string_append_printf(out, "        ... %u more lines not kept\n", s->transcript_dropped);
}
