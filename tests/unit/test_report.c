/* The report's severity table and ranking of findings (report/report_summary.c). */
#include <glib.h>
#include <string.h>

#include "report/report_summary.h"
#include "output/text_writer.h"

/* Every flag of flags.h has a severity: a new flag without one fails here. */
static void test_every_flag_has_a_severity(void)
{
    for (int i = 0; i < MW_FLAG_COUNT; i++) {
        mw_severity s = mw_flag_severity((mw_flag)i);
        if (s == MW_SEV_NONE)
            g_test_message("no severity for %s", mw_flag_name((mw_flag)i));
        g_assert_cmpint(s, !=, MW_SEV_NONE);
        g_assert_cmpstr(mw_severity_name(s), !=, "?");
    }
    g_assert_cmpint(mw_flag_severity(MW_FLAG_CLEARTEXT_AUTH), ==, MW_SEV_CRITICAL);
    g_assert_cmpint(mw_flag_severity(MW_FLAG_CAPTURE_GAP), ==, MW_SEV_LOW);
}

/* The cause is the diagnosis's first clause: short, no colon, no trailing period. */
static void test_cause_is_one_clause(void)
{
    for (int i = 0; i < MW_FLAG_COUNT; i++) {
        char *c = mw_flag_cause((mw_flag)i);
        g_assert_cmpuint(strlen(c), >, 10);
        g_assert_cmpuint(strlen(c), <, 120);
        g_assert_null(strpbrk(c, ":;"));
        g_assert_true(g_str_has_prefix(mw_flag_diagnosis((mw_flag)i), c));
        g_free(c);
    }
    char *c = mw_flag_cause(MW_FLAG_AUTH_FAILED);
    g_assert_cmpstr(c, ==, "The server refused the login");
    g_free(c);
}

/* Most severe first, then most sessions, then by name; flags without sessions left out. */
static void test_ranking(void)
{
    mw_report *r = g_new0(mw_report, 1);
    r->findings[MW_FLAG_CAPTURE_GAP].sessions = 50;         /* low */
    r->findings[MW_FLAG_RECIPIENT_REJECTED].sessions = 9;   /* medium */
    r->findings[MW_FLAG_AUTH_FAILED].sessions = 2;          /* high */
    r->findings[MW_FLAG_RELAY_DENIED].sessions = 7;         /* high */
    r->findings[MW_FLAG_NO_GREETING].sessions = 2;          /* high, after auth_failed */
    r->findings[MW_FLAG_CLEARTEXT_AUTH].sessions = 1;       /* critical */
    mw_flag order[MW_FLAG_COUNT];
    int n = mw_report_ranked(r, order);
    static const mw_flag want[] = { MW_FLAG_CLEARTEXT_AUTH, MW_FLAG_RELAY_DENIED,
                                    MW_FLAG_AUTH_FAILED, MW_FLAG_NO_GREETING,
                                    MW_FLAG_RECIPIENT_REJECTED, MW_FLAG_CAPTURE_GAP };
    g_assert_cmpint(n, ==, G_N_ELEMENTS(want));
    for (int i = 0; i < n; i++)
        g_assert_cmpstr(mw_flag_name(order[i]), ==, mw_flag_name(want[i]));
    g_free(r);
}

/* The no-mail hint's ports: the most counted first, ties by port, at most max. */
static void test_top_ports(void)
{
    uint32_t *by_port = g_new0(uint32_t, 65536);
    by_port[443] = 50;
    by_port[53] = 7;
    by_port[8080] = 50;
    by_port[65535] = 3;
    by_port[0] = 1;
    by_port[22] = 9;
    mw_engine_stats st = { .ignored_by_port = by_port };
    uint16_t ports[3];
    uint32_t counts[3];
    g_assert_cmpuint(mw_top_ports(&st, ports, counts, 3), ==, 3);
    g_assert_cmpuint(ports[0], ==, 443);
    g_assert_cmpuint(ports[1], ==, 8080);
    g_assert_cmpuint(ports[2], ==, 22);
    g_assert_cmpuint(counts[2], ==, 9);
    uint16_t all[MW_TOP_PORTS];
    uint32_t c[MW_TOP_PORTS];
    g_assert_cmpuint(mw_top_ports(&st, all, c, MW_TOP_PORTS), ==, 5);
    g_assert_cmpuint(all[4], ==, 65535);
    mw_engine_stats none = { 0 };
    g_assert_cmpuint(mw_top_ports(&none, all, c, MW_TOP_PORTS), ==, 0);
    g_free(by_port);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/report/severity/every-flag", test_every_flag_has_a_severity);
    g_test_add_func("/report/severity/cause", test_cause_is_one_clause);
    g_test_add_func("/report/severity/ranking", test_ranking);
    g_test_add_func("/report/no-mail/top-ports", test_top_ports);
    return g_test_run();
}
