/* The report's collector: a compact copy of each finished session, the findings, and the
 * transcripts of the first flagged sessions; then the file, in the chosen format. */
#include "report/report.h"
#include "report/report_page.h"
#include "output/outfile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "report/report_model.h"
#include "report/report_text.h"
#include "report/report_html.h"
#include "report/report_md.h"
#include "registry.h"
#include "tls/tls_log.h"

static bool has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && g_ascii_strcasecmp(s + n - m, suffix) == 0;
}

bool mw_report_check_name(const char *path, char **err)
{
    if (has_suffix_ci(path, ".html") || has_suffix_ci(path, ".htm") ||
        has_suffix_ci(path, ".md") || has_suffix_ci(path, ".markdown"))
        return true;
    *err = g_strdup_printf("--report %s: the file name must end in .md or .html", path);
    return false;
}

static void finding_init(mw_rfinding *f)
{
    f->clients = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->servers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->refs = g_array_new(FALSE, TRUE, sizeof(mw_rref));
}

static void finding_free(mw_rfinding *f)
{
    g_hash_table_destroy(f->clients);
    g_hash_table_destroy(f->servers);
    g_hash_table_destroy(f->users);
    g_array_free(f->refs, TRUE);
    g_free(f->example);
}

mw_report *mw_report_new(const char *path, FILE *fp, const mw_inputs *inputs, char **err)
{
    if (!mw_report_check_name(path, err)) {
        fclose(fp);
        return NULL;
    }
    bool html = has_suffix_ci(path, ".html") || has_suffix_ci(path, ".htm");
    mw_report *r = g_new0(mw_report, 1);
    r->path = g_strdup(path);
    r->html = html;
    r->fp = fp;
    r->inputs = inputs;
    r->sessions = g_array_new(FALSE, TRUE, sizeof(mw_rsession));
    r->unseen = mw_unseen_new();
    r->transcripts = g_ptr_array_new();
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        finding_init(&r->findings[i]);
    finding_init(&r->failed_unflagged);
    return r;
}

static char *endpoint_str(const mw_endpoint *ep)
{
    GString *g = g_string_new(NULL);
    mw_format_endpoint(g, ep);
    return g_string_free(g, FALSE);
}

/* A Wireshark display filter for the session's TCP connection. */
static char *wireshark_filter(const mw_session *s)
{
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    int af = s->client.family == 6 ? AF_INET6 : AF_INET;
    const char *field = af == AF_INET6 ? "ipv6.addr" : "ip.addr";
    inet_ntop(af, s->client.addr, a, sizeof a);
    inet_ntop(af, s->server.addr, b, sizeof b);
    if (strcmp(a, b) == 0) /* both ends on one host (loopback) */
        return g_strdup_printf("%s==%s && tcp.port==%u && tcp.port==%u", field, a,
                               s->client.port, s->server.port);
    return g_strdup_printf("%s==%s && %s==%s && tcp.port==%u && tcp.port==%u", field, a, field,
                           b, s->client.port, s->server.port);
}

static void set_add(GHashTable *set, char *s)
{
    if (s && g_hash_table_size(set) < MW_REPORT_SET_MAX && !g_hash_table_contains(set, s))
        g_hash_table_add(set, s);
    else
        g_free(s);
}

static char *tls_summary(const mw_session *s)
{
    const mw_tls_rec *t = mw_tls_of(s);
    if (!t)
        return NULL;
    GString *g = g_string_new("TLS: ");
    if (t->version)
        g_string_append_printf(g, "%s %s", t->version, t->cipher);
    else
        g_string_append(g, "nothing negotiated");
    if (t->sni)
        g_string_append_printf(g, "; SNI %s", t->sni);
    if (t->alert.present)
        g_string_append_printf(g, "; alert %s %s from the %s", t->alert.level,
                               t->alert.description,
                               t->alert.from == MW_FROM_CLIENT ? "client" : "server");
    if (t->cert.present)
        g_string_append_printf(g, "; certificate %s, valid %s to %s%s",
                               t->cert.subject ? t->cert.subject : "?", t->cert.not_before,
                               t->cert.not_after, t->cert.self_signed ? ", self-signed" : "");
    char *clean = mw_report_clean(g->str, 1000);
    g_string_free(g, TRUE);
    return clean;
}

/* The mail part's lines as the text output writes them (helo, sender, recipients; SMTP a
 * line per transaction), cleaned and stripped of their indent: the session view lists the
 * messages in both formats (issue 19). */
static char **mail_lines(const mw_session *s)
{
    GString *txt = g_string_new(NULL);
    mw_part_write_text(txt, s, &s->mail);
    GPtrArray *out = g_ptr_array_new();
    char **lines = g_strsplit(txt->str, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *t = g_strstrip(*l);
        if (*t)
            g_ptr_array_add(out, mw_report_clean(t, 400));
    }
    g_strfreev(lines);
    g_string_free(txt, TRUE);
    if (!out->len) {
        g_ptr_array_free(out, TRUE);
        return NULL;
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

/* The input an evidence frame is in: the one its entry names (several inputs: a session
 * split across files has evidence in each), else the session's. */
static uint32_t evidence_file(const mw_report *r, const mw_evidence *ev, uint32_t file)
{
    if (!ev->input)
        return file;
    for (size_t i = 0; i < mw_inputs_count(r->inputs); i++)
        if (strcmp(mw_inputs_get(r->inputs, i)->name, ev->input) == 0)
            return (uint32_t)i;
    return file;
}

static int keep_transcript(mw_report *r, const mw_session *s, uint32_t file)
{
    if (r->transcripts->len >= MW_REPORT_MAX_TRANSCRIPTS) {
        r->transcripts_dropped++;
        return -1;
    }
    mw_rtranscript *t = g_new0(mw_rtranscript, 1);
    g_strlcpy(t->id, s->id, sizeof t->id);
    t->file = file;
    char *c = endpoint_str(&s->client), *sv = endpoint_str(&s->server);
    char *title = g_strdup_printf("%s%s %s -> %s, %s", mw_proto_name(s->protocol),
                                  s->starttls ? "+starttls" : "", c, sv,
                                  mw_outcome_name(s->outcome));
    t->title = mw_report_clean(title, 400);
    g_free(title);
    g_free(c);
    g_free(sv);
    t->wireshark = wireshark_filter(s);
    t->tls = tls_summary(s);
    t->mail = mail_lines(s);
    t->evidence = g_array_new(FALSE, TRUE, sizeof(mw_revidence));
    for (guint i = 0; s->evidence && i < s->evidence->len; i++) {
        const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, i);
        mw_revidence re = { ev->flag, ev->frame, ev->ts_us,
                            mw_report_clean(ev->detail, MW_REPORT_TEXT_MAX),
                            evidence_file(r, ev, file), ev->input ? ev->iface : NULL };
        g_array_append_val(t->evidence, re);
    }
    t->events = g_array_new(FALSE, TRUE, sizeof(mw_event));
    for (guint i = 0; s->transcript && i < s->transcript->len; i++) {
        mw_event ev = g_array_index(s->transcript, mw_event, i);
        ev.text = mw_report_clean(ev.text, 1000);
        g_array_append_val(t->events, ev);
    }
    t->events_dropped = s->transcript_dropped;
    g_ptr_array_add(r->transcripts, t);
    return (int)r->transcripts->len - 1;
}

/* The finding's sets: the client's address without its ephemeral port, the server, the user. */
static void affected(mw_rfinding *f, const char *client, const char *server, const char *user)
{
    char *host = g_strdup(client);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    set_add(f->clients, host);
    set_add(f->servers, g_strdup(server));
    set_add(f->users, g_strdup(user));
}

/* A failed session without a flag: counted in the findings table's last row, with its
 * first frame and the line that explains the outcome, so no failure goes unlisted. */
static void add_failed_unflagged(mw_report *r, const mw_session *s, const mw_rsession *rs)
{
    mw_rfinding *f = &r->failed_unflagged;
    f->sessions++;
    affected(f, rs->client, rs->server, rs->user);
    if (!f->example && rs->decisive)
        f->example = g_strdup(rs->decisive);
    if (f->refs->len >= MW_REPORT_REFS_PER_FLAG) {
        f->refs_more++;
        return;
    }
    mw_rref ref = { .file = rs->file, .frame = s->first_frame, .linked = false };
    g_strlcpy(ref.id, s->id, sizeof ref.id);
    g_array_append_val(f->refs, ref);
}

static void add_findings(mw_report *r, const mw_session *s, uint32_t file, bool linked,
                         const char *client, const char *server, const char *user)
{
    for (int i = 0; i < MW_FLAG_COUNT; i++) {
        if (!mw_session_has(s, (mw_flag)i))
            continue;
        mw_rfinding *f = &r->findings[i];
        f->sessions++;
        mw_advice a = mw_conn_advice(s, (mw_flag)i);
        if (a != MW_ADVICE_NONE && f->advice[a]++ == 0)
            g_strlcpy(f->advice_id[a], s->id, sizeof f->advice_id[a]);
        affected(f, client, server, user);
        for (guint e = 0; s->evidence && e < s->evidence->len; e++) {
            const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, e);
            if (ev->flag != (mw_flag)i)
                continue;
            if (!f->example)
                f->example = mw_report_clean(ev->detail, MW_REPORT_TEXT_MAX);
            if (f->refs->len >= MW_REPORT_REFS_PER_FLAG) {
                f->refs_more++;
                continue;
            }
            mw_rref ref = { .file = evidence_file(r, ev, file), .frame = ev->frame,
                            .iface = ev->input ? ev->iface : NULL, .linked = linked };
            g_strlcpy(ref.id, s->id, sizeof ref.id);
            g_array_append_val(f->refs, ref);
        }
    }
}

void mw_report_session(const mw_session *s, void *report)
{
    mw_report *r = report;
    mw_unseen_add(r->unseen, s);
    r->sessions_total++;
    r->by_proto_outcome[s->protocol][s->outcome]++;
    if (r->sessions_total == 1 || s->ts_start_us < r->first_us)
        r->first_us = s->ts_start_us;
    if (r->sessions_total == 1 || s->ts_end_us > r->last_us)
        r->last_us = s->ts_end_us;
    uint32_t file = (uint32_t)mw_inputs_file_of(r->inputs, s);

    mw_rsession rs = { .file = file, .transcript = -1 };
    g_strlcpy(rs.id, s->id, sizeof rs.id);
    rs.start_us = s->ts_start_us;
    rs.end_us = s->ts_end_us;
    rs.client = endpoint_str(&s->client);
    rs.server = endpoint_str(&s->server);
    rs.user = s->auth ? mw_report_clean(s->auth->user, MW_REPORT_TEXT_MAX) : NULL;
    if (s->decisive) {
        rs.decisive = mw_report_clean(s->decisive, MW_REPORT_TEXT_MAX);
    } else if (s->evidence && s->evidence->len) {
        const mw_evidence *ev = &g_array_index(s->evidence, mw_evidence, 0);
        rs.decisive = mw_report_clean(ev->detail, MW_REPORT_TEXT_MAX);
        rs.decisive_frame = ev->frame;
    }
    rs.protocol = s->protocol;
    rs.starttls = s->starttls;
    rs.outcome = s->outcome;
    rs.flags = s->flags;
    rs.packets = s->packets[0] + s->packets[1];
    rs.bytes = s->bytes[0] + s->bytes[1];
    if (s->flags)
        rs.transcript = keep_transcript(r, s, file);
    add_findings(r, s, file, rs.transcript >= 0, rs.client, rs.server, rs.user);
    if (s->outcome == MW_OUT_FAILED && !s->flags)
        add_failed_unflagged(r, s, &rs);

    if (r->sessions->len < MW_REPORT_MAX_SESSIONS) {
        g_array_append_val(r->sessions, rs);
    } else {
        r->sessions_dropped++;
        g_free(rs.client);
        g_free(rs.server);
        g_free(rs.user);
        g_free(rs.decisive);
    }
}

bool mw_report_write(mw_report *r, const mw_engine_stats *st, const char *live, char **err)
{
    r->stats = st;
    r->live = live;
    mw_report_page_reset();
    if (r->html)
        mw_report_write_html(r, r->fp);
    else
        mw_report_write_md(r, r->fp);
    int e = mw_report_page_errno();
    if (!e)
        e = mw_outfile_error(r->fp);
    if (fclose(r->fp) != 0 && !e)
        e = errno ? errno : EIO;
    r->fp = NULL;
    if (e)
        *err = g_strdup_printf("--report %s: cannot write: %s", r->path, g_strerror(e));
    return e == 0;
}

static void free_transcript(mw_rtranscript *t)
{
    g_strfreev(t->mail);
    g_free(t->title);
    g_free(t->wireshark);
    g_free(t->tls);
    for (guint i = 0; i < t->evidence->len; i++)
        g_free(g_array_index(t->evidence, mw_revidence, i).detail);
    g_array_free(t->evidence, TRUE);
    for (guint i = 0; i < t->events->len; i++)
        g_free(g_array_index(t->events, mw_event, i).text);
    g_array_free(t->events, TRUE);
    g_free(t);
}

void mw_report_set_filter(mw_report *r, const char *filter)
{
    g_free(r->filter);
    r->filter = filter && *filter ? g_strdup(filter) : NULL;
}

void mw_report_free(mw_report *r)
{
    if (!r)
        return;
    g_free(r->filter);
    if (r->fp) { /* never written (the run failed before any packet): no empty report */
        fclose(r->fp);
        remove(r->path);
    }
    mw_unseen_free(r->unseen);
    for (guint i = 0; i < r->sessions->len; i++) {
        mw_rsession *rs = &g_array_index(r->sessions, mw_rsession, i);
        g_free(rs->client);
        g_free(rs->server);
        g_free(rs->user);
        g_free(rs->decisive);
    }
    g_array_free(r->sessions, TRUE);
    for (guint i = 0; i < r->transcripts->len; i++)
        free_transcript(g_ptr_array_index(r->transcripts, i));
    g_ptr_array_free(r->transcripts, TRUE);
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        finding_free(&r->findings[i]);
    finding_free(&r->failed_unflagged);
    g_free(r->path);
    g_free(r);
}
