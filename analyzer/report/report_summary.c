/* The report's summary and the ranking of its findings. */
#include <string.h>

#include "report/report_text.h"
#include "report/report_summary.h"
#include "output/text_writer.h"
#include "output/unseen.h"

/* Findings listed in the summary; the rest are in the findings table below it. */
#define MW_REPORT_SUMMARY_TOP 5

/* The one table of severities, a row per flag of flags.h (tests/unit/test_report.c
 * checks that none is missing). */
static const unsigned char SEVERITY[MW_FLAG_COUNT] = {
    [MW_FLAG_CLEARTEXT_AUTH] = MW_SEV_CRITICAL,
    [MW_FLAG_AUTH_FAILED] = MW_SEV_HIGH,
    [MW_FLAG_AUTH_REQUIRED] = MW_SEV_HIGH,
    [MW_FLAG_CONNECTION_REFUSED] = MW_SEV_HIGH,
    [MW_FLAG_CONNECTION_TIMEOUT] = MW_SEV_HIGH,
    [MW_FLAG_NO_GREETING] = MW_SEV_HIGH,
    [MW_FLAG_RELAY_DENIED] = MW_SEV_HIGH,
    [MW_FLAG_STARTTLS_REFUSED] = MW_SEV_HIGH,
    [MW_FLAG_TLS_CERT_EXPIRED] = MW_SEV_HIGH,
    [MW_FLAG_TLS_CERT_NOT_YET_VALID] = MW_SEV_HIGH,
    [MW_FLAG_TLS_HANDSHAKE_FAILED] = MW_SEV_HIGH,
    [MW_FLAG_TLS_MODE_MISMATCH] = MW_SEV_HIGH,
    [MW_FLAG_TLS_REQUIRED] = MW_SEV_HIGH,
    [MW_FLAG_TLS_VERSION_MISMATCH] = MW_SEV_HIGH,
    [MW_FLAG_MESSAGE_REJECTED] = MW_SEV_MEDIUM,
    [MW_FLAG_RECIPIENT_REJECTED] = MW_SEV_MEDIUM,
    [MW_FLAG_SENDER_REJECTED] = MW_SEV_MEDIUM,
    [MW_FLAG_SERVER_TIMEOUT] = MW_SEV_MEDIUM,
    [MW_FLAG_TLS_CERT_NAME_MISMATCH] = MW_SEV_MEDIUM,
    [MW_FLAG_TLS_CERT_SELF_SIGNED] = MW_SEV_MEDIUM,
    [MW_FLAG_TLS_CERT_UNTRUSTED] = MW_SEV_MEDIUM,
    [MW_FLAG_TLS_DEPRECATED_VERSION] = MW_SEV_MEDIUM,
    [MW_FLAG_UNANSWERED_COMMAND] = MW_SEV_MEDIUM,
    [MW_FLAG_CAPTURE_GAP] = MW_SEV_LOW,
};

mw_severity mw_flag_severity(mw_flag f)
{
    return (unsigned)f < MW_FLAG_COUNT ? (mw_severity)SEVERITY[f] : MW_SEV_NONE;
}

const char *mw_severity_name(mw_severity s)
{
    static const char *const names[] = { "?", "low", "medium", "high", "critical" };
    return (unsigned)s <= MW_SEV_CRITICAL ? names[s] : "?";
}

char *mw_flag_cause(mw_flag f)
{
    const char *d = mw_flag_diagnosis(f);
    size_t n = strcspn(d, ":;");
    const char *stop = strstr(d, ". ");
    if (stop && (size_t)(stop - d) < n)
        n = (size_t)(stop - d);
    while (n && d[n - 1] == '.')
        n--;
    return g_strndup(d, n);
}

static const mw_report *rank_of; /* for the comparison (one report at a time) */

static int by_rank(const void *a, const void *b)
{
    mw_flag x = *(const mw_flag *)a, y = *(const mw_flag *)b;
    mw_severity sx = mw_flag_severity(x), sy = mw_flag_severity(y);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    unsigned nx = rank_of->findings[x].sessions, ny = rank_of->findings[y].sessions;
    if (nx != ny)
        return nx > ny ? -1 : 1;
    return strcmp(mw_flag_name(x), mw_flag_name(y));
}

int mw_report_ranked(const mw_report *r, mw_flag order[MW_FLAG_COUNT])
{
    int n = 0;
    for (int i = 0; i < MW_FLAG_COUNT; i++)
        if (r->findings[i].sessions)
            order[n++] = (mw_flag)i;
    rank_of = r;
    qsort(order, (size_t)n, sizeof order[0], by_rank);
    return n;
}

uint64_t mw_report_failed(const mw_report *r)
{
    uint64_t n = 0;
    for (int p = 0; p <= MW_PROTO_POP3S; p++)
        n += r->by_proto_outcome[p][MW_OUT_FAILED] + r->by_proto_outcome[p][MW_OUT_REJECTED];
    return n;
}

const char *mw_report_no_flag_text(const mw_report *r, char *buf, size_t size)
{
    uint64_t n = mw_report_failed(r);
    if (!n)
        return "No problems found.";
    g_snprintf(buf, size, "No flag was raised, but %" G_GUINT64_FORMAT " session%s failed or "
               "%s rejected: see the session table (outcome, anomalies) and the text output's "
               "findings.", n, n == 1 ? "" : "s", n == 1 ? "was" : "were");
    return buf;
}

static void span_text(GString *g, const mw_report *r)
{
    mw_report_time(g, r->first_us);
    g_string_append(g, " to ");
    mw_report_time(g, r->last_us);
    double s = (double)(r->last_us - r->first_us) / 1e6;
    if (s >= 3600)
        g_string_append_printf(g, " UTC (%.1f h)", s / 3600);
    else if (s >= 120)
        g_string_append_printf(g, " UTC (%.1f min)", s / 60);
    else
        g_string_append_printf(g, " UTC (%.1f s)", s);
}

/* No mail session at all: say so, with the ports seen most and --ports. */
static void no_mail(GString *g, const mw_report *r, const mw_rmarkup *m)
{
    uint16_t ports[MW_TOP_PORTS];
    uint32_t counts[MW_TOP_PORTS];
    size_t n = mw_top_ports(r->stats, ports, counts, MW_TOP_PORTS);
    g_string_append_printf(g, "%sNo mail sessions in this capture: none of its %" G_GUINT64_FORMAT
                              " TCP packets were on a mail port or opened with a mail greeting.",
                           m->para[0], r->stats->tcp_packets);
    if (n) {
        g_string_append(g, " TCP ports seen most:");
        for (size_t i = 0; i < n; i++)
            g_string_append_printf(g, "%s %u (%u packet%s)", i ? "," : "", ports[i], counts[i],
                                   counts[i] == 1 ? "" : "s");
        g_string_append_c(g, '.');
    }
    g_string_append_printf(g, " Mail on another port? Name it with %s--ports smtp=%u%s (also "
                              "submission, smtps, imap, imaps, pop3, pop3s).%s",
                           m->code[0], n ? ports[0] : 2525u, m->code[1], m->para[1]);
}

static void top_findings(GString *g, const mw_report *r, const mw_rmarkup *m)
{
    mw_flag order[MW_FLAG_COUNT];
    int n = mw_report_ranked(r, order);
    if (!r->sessions_total) {
        no_mail(g, r, m);
        return;
    }
    if (!n) { /* never "no problems" over sessions TLS hid (the unseen note says how many) */
        uint64_t unseen = mw_unseen_count(r->unseen);
        if (unseen)
            g_string_append_printf(g, "%sNothing wrong in what could be read, but %" G_GUINT64_FORMAT
                                      " session%s could not be seen inside TLS.%s",
                                   m->para[0], unseen, unseen == 1 ? "" : "s", m->para[1]);
        else if (!mw_report_failed(r))
            g_string_append_printf(g, "%sNo problems found in these sessions.%s", m->para[0],
                                   m->para[1]);
        else {
            char buf[256];
            g_string_append_printf(g, "%s%s%s", m->para[0],
                                   mw_report_no_flag_text(r, buf, sizeof buf), m->para[1]);
        }
        return;
    }
    m->list(g, true);
    for (int i = 0; i < n && i < MW_REPORT_SUMMARY_TOP; i++) {
        char *cause = mw_flag_cause(order[i]);
        unsigned k = r->findings[order[i]].sessions;
        m->item(g, mw_severity_name(mw_flag_severity(order[i])), mw_flag_name(order[i]), k,
                cause);
        g_free(cause);
    }
    m->list(g, false);
    if (n > MW_REPORT_SUMMARY_TOP)
        g_string_append_printf(g, "%s%d more kind%s of finding below.%s", m->para[0],
                               n - MW_REPORT_SUMMARY_TOP,
                               n - MW_REPORT_SUMMARY_TOP == 1 ? "" : "s", m->para[1]);
}

void mw_report_summary(GString *g, const mw_report *r, const mw_rmarkup *m)
{
    m->section(g, "summary", "Summary");
    uint64_t with = 0;
    for (guint i = 0; i < r->sessions->len; i++)
        with += g_array_index(r->sessions, mw_rsession, i).flags != 0;
    g_string_append_printf(g, "%s%s%" G_GUINT64_FORMAT "%s mail session%s, %s%" G_GUINT64_FORMAT
                              " failed or rejected%s",
                           m->para[0], m->strong[0], r->sessions_total, m->strong[1],
                           r->sessions_total == 1 ? "" : "s", m->strong[0], mw_report_failed(r),
                           m->strong[1]);
    if (!r->sessions_dropped)
        g_string_append_printf(g, ", %" G_GUINT64_FORMAT " with findings", with);
    if (r->sessions_total) {
        g_string_append(g, ". Time span: ");
        span_text(g, r);
    }
    g_string_append_printf(g, ".%s", m->para[1]);
    top_findings(g, r, m);
    g_string_append(g, m->section_end);
}
