/* The default live filter holds every configured port (it kept only the first 256), with
 * runs of ports as port ranges, and libpcap compiles it. */
#include <glib.h>
#include <pcap/pcap.h>
#include <string.h>

#include "engine/detect.h"
#include "input/live.h"

static bool compiles(const char *filter)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    struct bpf_program prog;
    bool ok = pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (ok)
        pcap_freecode(&prog);
    pcap_close(dead);
    return ok;
}

static void test_default_ports(void)
{
    mw_ports *t = mw_ports_new();
    char *f = mw_live_default_filter(t);
    mw_ports_free(t);
    g_assert_true(g_str_has_prefix(f, "tcp and ("));
    g_assert_nonnull(strstr(f, "port 25"));
    g_assert_nonnull(strstr(f, "port 993"));
    g_assert_true(compiles(f));
    g_free(f);
}

static void test_many_ports(void)
{
    mw_ports *t = mw_ports_new();
    /* 600 ports: 20000-20299 in a run, and 300 scattered ones (every other port) */
    for (int p = 20000; p < 20300; p++) {
        char *spec = g_strdup_printf("smtp=%d", p), *err = NULL;
        g_assert_true(mw_ports_add(t, spec, &err));
        g_free(spec);
    }
    for (int p = 30000; p < 30600; p += 2) {
        char *spec = g_strdup_printf("imap=%d", p), *err = NULL;
        g_assert_true(mw_ports_add(t, spec, &err));
        g_free(spec);
    }
    char *f = mw_live_default_filter(t);
    mw_ports_free(t);
    g_assert_nonnull(strstr(f, "portrange 20000-20299"));
    g_assert_nonnull(strstr(f, "port 30000 "));
    g_assert_nonnull(strstr(f, "port 30598)")); /* the last one too */
    g_assert_null(strstr(f, "port 30599"));
    g_assert_true(compiles(f));
    g_free(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/live/filter/default", test_default_ports);
    g_test_add_func("/live/filter/every_port", test_many_ports);
    return g_test_run();
}
