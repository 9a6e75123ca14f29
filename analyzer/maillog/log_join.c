/* The join: a captured session, when it closes, is looked up among the server-side
 * sessions by client address, server address (when logged), client port (when logged:
 * exact) and time overlap within --log-skew; without a port only a unique match is taken.
 * What the server logged then becomes the session's flags, server_log and delivery. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "maillog/maillog_int.h"

/* A wall-clock time in the log's zone, in the given year. */
static int64_t wall_us(GTimeZone *tz, int year, const mw_logtime *t)
{
    GDateTime *dt = g_date_time_new(tz, year, t->mon, t->day, t->hour, t->min, t->sec);
    if (!dt) /* 29 February in a year without one */
        return INT64_MIN;
    int64_t us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + t->usec;
    g_date_time_unref(dt);
    return us;
}

/* RFC 3164 has no year: the one that puts t nearest to ref (the capture's first session). */
static int year_near(GTimeZone *tz, const mw_logtime *t, int64_t ref_us, int ref_year)
{
    int best = ref_year;
    int64_t best_d = INT64_MAX;
    for (int y = ref_year - 1; y <= ref_year + 1; y++) {
        int64_t us = wall_us(tz, y, t);
        int64_t d = us == INT64_MIN ? INT64_MAX : llabs(us - ref_us);
        if (d < best_d)
            best_d = d, best = y;
    }
    return best;
}

static int64_t resolve_one(const mw_maillog *m, const mw_logtime *t, int year,
                           const mw_logtime *t0)
{
    if (!t->yearless && !t->zoneless)
        return t->abs_us;
    if (t->zoneless)
        return wall_us(m->tz, t->year, t);
    /* a session over New Year: its later lines are in the next year */
    int y = t0 && t->mon < t0->mon ? year + 1 : year;
    return wall_us(m->tz, y, t);
}

static void resolve_lines(const mw_maillog *m, GArray *lines, int year, const mw_logtime *t0)
{
    for (guint i = 0; i < lines->len; i++) {
        mw_logref_int *r = &g_array_index(lines, mw_logref_int, i);
        r->ts_us = resolve_one(m, &r->t, year, t0);
    }
}

/* A server-side session's times in UTC; again whenever it gained lines (live). */
static void resolve_sess(mw_maillog *m, mw_logsess *ls)
{
    if (!ls->year_set) { /* RFC 3164: the year that puts it nearest the capture */
        ls->year = ls->t0.yearless ? year_near(m->tz, &ls->t0, m->ref_us, m->ref_year) : 0;
        ls->year_set = true;
    }
    int year = ls->year;
    ls->start_us = resolve_one(m, &ls->t0, year, NULL);
    if (ls->began_secs) { /* dovecot: "(auth failed, 1 attempts in 2 secs)" */
        int64_t b = resolve_one(m, &ls->began_t, year, &ls->t0) -
                    (int64_t)ls->began_secs * G_USEC_PER_SEC;
        ls->start_us = MIN(ls->start_us, b);
    }
    /* a log time is cut to the second: the session may end up to a second later */
    ls->end_us = resolve_one(m, &ls->t1, year, &ls->t0) +
                 (ls->t1.usec == 0 ? G_USEC_PER_SEC : 0);
    resolve_lines(m, ls->lines, year, &ls->t0);
    for (guint q = 0; q < ls->qids->len; q++) {
        mw_qidrec *qr = g_hash_table_lookup(m->x.qids, g_ptr_array_index(ls->qids, q));
        if (qr)
            resolve_lines(m, qr->lines, year, &ls->t0);
    }
}

static void by_ip_add(mw_maillog *m, mw_logsess *ls)
{
    GPtrArray *a = g_hash_table_lookup(m->by_ip, ls->client_ip);
    if (!a) {
        a = g_ptr_array_new();
        g_hash_table_insert(m->by_ip, ls->client_ip, a);
    }
    g_ptr_array_add(a, ls);
    ls->indexed = true;
}

/* The sessions that changed since the last look (reading files: all of them, once):
 * their times to UTC, the new ones into the index by client address. */
static void index_touched(mw_maillog *m)
{
    GPtrArray *t = m->x.touched;
    for (guint i = 0; i < t->len; i++) {
        mw_logsess *ls = g_ptr_array_index(t, i);
        ls->touched = false;
        resolve_sess(m, ls);
        if (!ls->indexed && ls->client_ip[0])
            by_ip_add(m, ls);
    }
    g_ptr_array_set_size(t, 0);
}

static GHashTable *by_ip_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                 (GDestroyNotify)g_ptr_array_unref);
}

/* Once, at the first session: the year RFC 3164 times are read in. */
static void resolve(mw_maillog *m, int64_t ref_us)
{
    m->resolved = true;
    GDateTime *ref = g_date_time_new_from_unix_utc(ref_us / G_USEC_PER_SEC);
    m->ref_year = ref ? g_date_time_get_year(ref) : 2000;
    m->ref_us = ref_us;
    if (ref)
        g_date_time_unref(ref);
    m->by_ip = by_ip_new();
}

void mw_maillog_index(mw_maillog *m)
{
    if (m->resolved)
        index_touched(m);
}

void mw_maillog_reindex(mw_maillog *m)
{
    if (!m->by_ip)
        return;
    g_hash_table_destroy(m->by_ip); /* its keys are the sessions' own strings */
    m->by_ip = by_ip_new();
    for (guint i = 0; i < m->x.sessions->len; i++) {
        mw_logsess *ls = g_ptr_array_index(m->x.sessions, i);
        if (ls->indexed)
            by_ip_add(m, ls);
    }
}

static void ip_string(const mw_endpoint *ep, char *out, size_t cap)
{
    if (!inet_ntop(ep->family == 6 ? AF_INET6 : AF_INET, ep->addr, out, (socklen_t)cap))
        out[0] = '\0';
}

static bool kind_fits(mw_srv_kind k, mw_proto p)
{
    switch (p) {
    case MW_PROTO_SMTP: case MW_PROTO_SUBMISSION: case MW_PROTO_SMTPS: return k == MW_SRV_SMTP;
    case MW_PROTO_IMAP: case MW_PROTO_IMAPS: return k == MW_SRV_IMAP;
    case MW_PROTO_POP3: case MW_PROTO_POP3S: return k == MW_SRV_POP3;
    default: return true;
    }
}

static bool overlaps(const mw_maillog *m, const mw_logsess *ls, int64_t a, int64_t b)
{
    return ls->start_us - m->skew_us <= b && a <= ls->end_us + m->skew_us;
}

/* The server-side session this captured one is, or NULL; *by "port"/"time"; *n the
 * candidates when refused. */
static mw_logsess *find(mw_maillog *m, const mw_session *s, const char **by, unsigned *n)
{
    char cip[64], sip[64];
    ip_string(&s->client, cip, sizeof cip);
    ip_string(&s->server, sip, sizeof sip);
    GPtrArray *a = g_hash_table_lookup(m->by_ip, cip);
    mw_logsess *exact = NULL, *timed = NULL;
    unsigned ntime = 0;
    for (guint i = 0; a && i < a->len; i++) {
        mw_logsess *ls = g_ptr_array_index(a, i);
        if (!kind_fits(ls->kind, s->protocol) || (ls->server_ip[0] && strcmp(ls->server_ip, sip)) ||
            (ls->server_port >= 0 && ls->server_port != s->server.port) ||
            !overlaps(m, ls, s->ts_start_us, s->ts_end_us))
            continue;
        if (ls->client_port >= 0) {
            if (ls->client_port == s->client.port && !ls->taken && !exact)
                exact = ls;
        } else {
            ntime++;
            timed = ls;
        }
    }
    *n = ntime;
    if (exact) {
        *by = "port";
        return exact;
    }
    if (ntime == 1 && !timed->taken && !timed->ambiguous) {
        *by = "time";
        return timed;
    }
    if (ntime >= 1) /* two server-side sessions could be this one: neither is taken */
        for (guint i = 0; a && i < a->len; i++) {
            mw_logsess *ls = g_ptr_array_index(a, i);
            if (ls->client_port < 0 && overlaps(m, ls, s->ts_start_us, s->ts_end_us))
                ls->ambiguous = true;
        }
    if (ntime == 1 && (timed->taken || timed->ambiguous)) /* another captured session */
        *n = 2;                                            /* could be its too */
    return NULL;
}

static void add_ref(mw_server_log *sl, const mw_maillog *m, const mw_logref_int *r)
{
    if (sl->lines->len >= MW_LOG_RECORD_LINES) {
        sl->lines_dropped++;
        return;
    }
    const char *file = g_ptr_array_index(m->x.files, r->file);
    mw_log_ref o = { g_strdup(file), r->line, r->ts_us, g_strdup(r->text) };
    g_array_append_val(sl->lines, o);
    for (guint i = 0; i < sl->files->len; i++)
        if (!strcmp(g_ptr_array_index(sl->files, i), file))
            return;
    g_ptr_array_add(sl->files, g_strdup(file));
}

/* A verdict line: a flag with log evidence, or corroboration of what the capture showed.
 * One per flag and server-side session (postfix's SASL line and its auth=0/1 count are one
 * failure). */
static void verdict(mw_session *s, const mw_maillog *m, const mw_logref_int *r,
                    mw_flagset *seen, mw_flagset packet_flags)
{
    if (r->flag < 0 || (*seen >> r->flag) & 1u)
        return;
    *seen |= 1u << r->flag;
    if ((packet_flags >> r->flag) & 1u) {
        g_ptr_array_add(s->server_log->corroborated, (gpointer)mw_flag_name((mw_flag)r->flag));
        return;
    }
    mw_session_flag_log(s, (mw_flag)r->flag, g_ptr_array_index(m->x.files, r->file), r->line,
                        r->ts_us, r->detail ? r->detail : r->text);
}

/* Every line of the session and of its queue ids, decisive (verdict) lines first. */
static void collect(GPtrArray *all, const mw_maillog *m, const mw_logsess *ls)
{
    for (guint i = 0; i < ls->lines->len; i++)
        g_ptr_array_add(all, &g_array_index(ls->lines, mw_logref_int, i));
    for (guint q = 0; q < ls->qids->len; q++) {
        mw_qidrec *qr = g_hash_table_lookup(m->x.qids, g_ptr_array_index(ls->qids, q));
        for (guint i = 0; qr && i < qr->lines->len; i++)
            g_ptr_array_add(all, &g_array_index(qr->lines, mw_logref_int, i));
    }
}

static void delivery(mw_server_log *sl, const mw_maillog *m, const mw_logsess *ls)
{
    const mw_qidrec *best = NULL;
    const char *best_id = NULL;
    for (guint q = 0; q < ls->qids->len; q++) {
        const char *id = g_ptr_array_index(ls->qids, q);
        mw_qidrec *qr = g_hash_table_lookup(m->x.qids, id);
        if (qr && qr->rank > 0 && (!best || qr->rank > best->rank))
            best = qr, best_id = id;
    }
    if (!best)
        return;
    sl->queue_id = g_strdup(best_id);
    sl->status = g_strdup(best->status);
    sl->relay = g_strdup(best->relay);
    sl->dsn = g_strdup(best->dsn);
    sl->text = g_strdup(best->text);
}

static mw_server_log *server_log_new(mw_session *s)
{
    mw_server_log *sl = g_new0(mw_server_log, 1);
    sl->files = g_ptr_array_new_with_free_func(g_free);
    sl->lines = g_array_new(FALSE, FALSE, sizeof(mw_log_ref));
    sl->corroborated = g_ptr_array_new();
    s->server_log = sl;
    return sl;
}

static void attach(mw_maillog *m, mw_session *s, mw_logsess *ls, const char *by)
{
    mw_server_log *sl = server_log_new(s);
    sl->matched_by = by;
    sl->skew_us = ls->start_us - s->ts_start_us;
    g_array_append_val(m->skews, sl->skew_us);
    ls->taken = true;
    GPtrArray *all = g_ptr_array_new();
    collect(all, m, ls);
    mw_flagset seen = 0, packet_flags = s->flags;
    for (int pass = 0; pass < 2; pass++) /* verdicts first, then the rest in order */
        for (guint i = 0; i < all->len; i++) {
            const mw_logref_int *r = g_ptr_array_index(all, i);
            if ((r->flag >= 0) != (pass == 0))
                continue;
            if (pass == 0)
                verdict(s, m, r, &seen, packet_flags);
            add_ref(sl, m, r);
        }
    sl->lines_dropped += ls->dropped;
    g_ptr_array_free(all, TRUE);
    delivery(sl, m, ls);
    mw_session_finish(s); /* an encrypted session's outcome follows the server's verdict */
    if (s->outcome == MW_OUT_ENCRYPTED && ls->clean)
        s->outcome = MW_OUT_OK;
}

void mw_maillog_join(mw_maillog *m, mw_session *s)
{
    if (!m->resolved)
        resolve(m, s->ts_start_us);
    index_touched(m);
    m->looked_up++;
    m->cap_first_us = MIN(m->cap_first_us, s->ts_start_us);
    m->cap_last_us = MAX(m->cap_last_us, s->ts_end_us);
    const char *by = NULL;
    unsigned n = 0;
    mw_logsess *ls = find(m, s, &by, &n);
    if (ls) {
        attach(m, s, ls, by);
        if (by[0] == 'p')
            m->joined_port++;
        else
            m->joined_time++;
    } else if (n > 0) { /* refused: said in the record and counted */
        m->ambiguous++;
        server_log_new(s)->candidates = n;
    }
}

/* ---- the record keys and the end-of-run paragraph ---- */

static void opt_str(GString *out, const char *key, const char *v)
{
    mw_json_key(out, key);
    mw_json_str(out, v);
}

void mw_server_log_evidence(GString *out, const mw_evidence *ev)
{
    mw_put_lit(out, "null");
    opt_str(out, "source", "log");
    opt_str(out, "file", ev->log_file);
    mw_json_next(out, "line");
    mw_json_u64(out, ev->log_line);
}

void mw_server_log_json(GString *out, const mw_server_log *l)
{
    mw_json_next(out, "server_log");
    mw_json_first(out, "files");
    g_string_append_c(out, '[');
    for (guint i = 0; i < l->files->len; i++) {
        if (i)
            g_string_append_c(out, ',');
        mw_json_str(out, g_ptr_array_index(l->files, i));
    }
    g_string_append_c(out, ']');
    opt_str(out, "matched_by", l->matched_by);
    if (!l->matched_by) { /* refused: how many server-side sessions could have been it */
        mw_json_next(out, "candidates");
        mw_json_u64(out, l->candidates);
    } else {
        mw_json_next(out, "skew_s");
        mw_json_seconds(out, l->skew_us);
    }
    mw_json_next(out, "lines");
    g_string_append_c(out, '[');
    for (guint i = 0; i < l->lines->len; i++) {
        const mw_log_ref *r = &g_array_index(l->lines, mw_log_ref, i);
        if (i)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        opt_str(out, "file", r->file);
        mw_json_next(out, "line");
        mw_json_u64(out, r->line);
        mw_json_next(out, "ts");
        mw_json_time(out, r->ts_us);
        opt_str(out, "text", r->text);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
    if (l->lines_dropped) {
        mw_json_next(out, "lines_dropped");
        mw_json_u64(out, l->lines_dropped);
    }
    mw_json_next(out, "corroborated");
    g_string_append_c(out, '[');
    for (guint i = 0; i < l->corroborated->len; i++) {
        if (i)
            g_string_append_c(out, ',');
        mw_json_str(out, g_ptr_array_index(l->corroborated, i));
    }
    mw_put_lit(out, "]}");
    if (!l->queue_id)
        return;
    mw_json_next(out, "delivery");
    g_string_append_c(out, '{');
    opt_str(out, "queue_id", l->queue_id);
    opt_str(out, "status", l->status);
    opt_str(out, "relay", l->relay);
    opt_str(out, "dsn", l->dsn);
    opt_str(out, "text", l->text);
    g_string_append_c(out, '}');
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Server-side sessions in the capture's time span that no captured session joined. */
static void unmatched(const mw_maillog *m, FILE *fp)
{
    unsigned in_span = 0, outside = 0, shown = 0;
    for (guint i = 0; i < m->x.sessions->len; i++) {
        const mw_logsess *ls = g_ptr_array_index(m->x.sessions, i);
        if (ls->taken || ls->ambiguous || !ls->client_ip[0])
            continue;
        bool in = m->resolved && ls->end_us + m->skew_us >= m->cap_first_us &&
                  ls->start_us - m->skew_us <= m->cap_last_us;
        in ? in_span++ : outside++;
    }
    if (in_span)
        fprintf(fp, "  %u server-side sessions in the capture's time span have no captured "
                    "packets: the capture filter or capture point misses traffic, e.g.\n",
                in_span);
    for (guint i = 0; i < m->x.sessions->len && shown < 3 && in_span; i++) {
        const mw_logsess *ls = g_ptr_array_index(m->x.sessions, i);
        if (ls->taken || ls->ambiguous || !ls->client_ip[0] ||
            ls->end_us + m->skew_us < m->cap_first_us || ls->start_us - m->skew_us > m->cap_last_us)
            continue;
        const mw_logref_int *r = ls->lines->len ? &g_array_index(ls->lines, mw_logref_int, 0) : NULL;
        fprintf(fp, "    %s line %" G_GUINT64_FORMAT ": %s\n",
                r ? (const char *)g_ptr_array_index(m->x.files, r->file) : "?",
                r ? r->line : 0, r ? r->text : ls->label);
        shown++;
    }
    if (outside)
        fprintf(fp, "  %u server-side sessions lie outside the capture's time span.\n", outside);
}

void mw_maillog_summary(const mw_maillog *m, FILE *fp)
{
    uint64_t joined = m->joined_port + m->joined_time;
    fprintf(fp, "\n== Server log ==\n");
    fprintf(fp, "Lines: %" G_GUINT64_FORMAT " read, %" G_GUINT64_FORMAT " understood, %"
                G_GUINT64_FORMAT " not (", m->lines, m->known, m->unknown);
    const char *sep = "";
    for (int f = 1; f < MW_LF_COUNT; f++)
        if (m->by_fmt[f]) {
            fprintf(fp, "%sformat %s %" G_GUINT64_FORMAT, sep, mw_logfmt_name((mw_logfmt)f),
                    m->by_fmt[f]);
            sep = ", ";
        }
    fprintf(fp, ")%s\n", m->cut ? "; over-long lines cut" : "");
    fprintf(fp, "Joined: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " sessions (%"
                G_GUINT64_FORMAT " by client port, %" G_GUINT64_FORMAT " by time alone)\n",
            joined, m->looked_up, m->joined_port, m->joined_time);
    if (m->skews->len) {
        int64_t *v = g_memdup2(m->skews->data, m->skews->len * sizeof *v);
        qsort(v, m->skews->len, sizeof *v, cmp_i64);
        /* a log time is cut to the second: an offset within (-1, 0] s is no skew at all */
        fprintf(fp, "Clock offset (log minus capture, at session start): median %+.3f s, "
                    "range %+.3f to %+.3f s (--log-skew %.0f s)\n",
                v[m->skews->len / 2] / 1e6, v[0] / 1e6, v[m->skews->len - 1] / 1e6,
                m->skew_us / 1e6);
        g_free(v);
    }
    if (m->ambiguous)
        fprintf(fp, "Ambiguous: %" G_GUINT64_FORMAT " sessions matched more than one "
                    "server-side session by address and time (no client port in the log): "
                    "nothing was attached to them. Log the client port (postfix "
                    "smtpd_client_port_logging = yes; dovecot rport in "
                    "login_log_format_elements).\n", m->ambiguous);
    if (m->x.sessions_dropped || m->x.lines_dropped)
        fprintf(fp, "Not kept: %" G_GUINT64_FORMAT " server-side sessions over "
                    "--log-max-sessions, %" G_GUINT64_FORMAT " lines over --log-max-lines\n",
                m->x.sessions_dropped, m->x.lines_dropped);
    mw_maillog_live_summary(m, fp);
    unmatched(m, fp);
}

void mw_maillog_free(mw_maillog *m)
{
    if (!m)
        return;
    mw_maillog_live_free(m);
    if (m->by_ip)
        g_hash_table_destroy(m->by_ip);
    mw_logidx_clear(&m->x);
    g_array_free(m->skews, TRUE);
    g_time_zone_unref(m->tz);
    g_free(m);
}
