#define _GNU_SOURCE /* initgroups */
#include "input/live.h"

#include <errno.h>
#include <glib.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "input/decode.h"
#include "engine/detect.h"
#include "input/linktype.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stats_requested;
static pcap_t *live_pcap;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (live_pcap)
        pcap_breakloop(live_pcap);
}

static void on_stats(int sig)
{
    (void)sig;
    stats_requested = 1;
}

char *mw_live_default_filter(void)
{
    uint16_t ports[256];
    size_t n = mw_detect_ports(ports, G_N_ELEMENTS(ports));
    GString *g = g_string_new("tcp and (");
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(g, "%sport %u", i ? " or " : "", ports[i]);
    g_string_append_c(g, ')');
    return g_string_free(g, FALSE);
}

typedef struct {
    mw_engine *e;
    int dlt;
    uint64_t frame;
    pcap_dumper_t *dump;
} live_ctx;

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    live_ctx *c = (live_ctx *)user;
    c->frame++;
    if (c->dump)
        pcap_dump((u_char *)c->dump, h, data);
    mw_packet pkt;
    mw_decode_status ds = mw_decode(c->dlt, data, h->caplen, &pkt);
    if (ds != MW_DECODE_TCP) {
        mw_engine_count(c->e, ds == MW_DECODE_MALFORMED ? 2 : 1);
        return;
    }
    mw_engine_packet(c->e, &pkt, c->frame, mw_ts_us(&h->ts));
}

/* groups, gid, uid, in that order (as tcpdump does), and check it cannot be undone. */
static bool drop_privileges(const char *user, char **err)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        *err = g_strdup_printf("-Z %s: no such user", user);
        return false;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        *err = g_strdup_printf("-Z %s: cannot drop privileges: %s", user, g_strerror(errno));
        return false;
    }
    if (pw->pw_uid != 0 && (setuid(0) == 0 || getuid() != pw->pw_uid || geteuid() != pw->pw_uid)) {
        *err = g_strdup_printf("-Z %s: privileges were not dropped; refusing to run as root",
                               user);
        return false;
    }
    return true;
}

static void print_stats(pcap_t *p, mw_engine *e, const live_ctx *c)
{
    struct pcap_stat ps = { 0 };
    const mw_engine_stats *st = mw_engine_stats_get(e);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (pcap_stats(p, &ps) != 0)
        memset(&ps, 0, sizeof ps);
    fprintf(stderr,
            "mailwire: stats: %" G_GUINT64_FORMAT " packets seen, %u dropped by the kernel, "
            "%u by the interface, %zu sessions open, %" G_GUINT64_FORMAT " written, "
            "peak memory %ld MiB\n",
            c->frame, ps.ps_drop, ps.ps_ifdrop, st->flows_live, st->sessions,
            ru.ru_maxrss / 1024);
}

static const char *activate_error(int rc)
{
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE: return "no such device";
    case PCAP_ERROR_PERM_DENIED:
        return "no permission to capture: run as root, or give the binary CAP_NET_RAW "
               "(setcap cap_net_raw,cap_net_admin=eip mailwire)";
    case PCAP_ERROR_IFACE_NOT_UP: return "the interface is not up";
    case PCAP_ERROR_PROMISC_PERM_DENIED: return "no permission for promiscuous mode";
    default: return NULL;
    }
}

/* pcap_create .. pcap_activate, and a link type the decoder reads. */
static pcap_t *open_iface(const mw_live_opts *o, char **err)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(o->iface, errbuf);
    if (!p) {
        *err = g_strdup_printf("-i %s: %s", o->iface, errbuf);
        return NULL;
    }
    pcap_set_snaplen(p, MW_LIVE_SNAPLEN);
    pcap_set_promisc(p, o->promisc);
    pcap_set_timeout(p, 100);
    pcap_set_immediate_mode(p, 1);
    pcap_set_buffer_size(p, o->buffer_mb * 1024 * 1024);
    int rc = pcap_activate(p);
    if (rc < 0) {
        const char *why = activate_error(rc);
        *err = g_strdup_printf("-i %s: %s%s%s", o->iface, why ? why : pcap_geterr(p),
                               why && rc == PCAP_ERROR ? ": " : "",
                               why && rc == PCAP_ERROR ? pcap_geterr(p) : "");
        pcap_close(p);
        return NULL;
    }
    if (rc > 0)
        fprintf(stderr, "mailwire: warning: -i %s: %s\n", o->iface, pcap_geterr(p));
    int dlt = pcap_datalink(p);
    if (!mw_linktype_supported(dlt)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        *err = g_strdup_printf("-i %s: unsupported link type %s (DLT %d)", o->iface,
                               name ? name : "?", dlt);
        pcap_close(p);
        return NULL;
    }
    return p;
}

/* The user's BPF filter, or the mail ports. */
static bool set_filter(pcap_t *p, const mw_live_opts *o, char **err)
{
    char *filter = o->filter ? g_strdup(o->filter) : mw_live_default_filter();
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        *err = g_strdup_printf("bad filter '%s': %s", filter, pcap_geterr(p));
        g_free(filter);
        return false;
    }
    g_free(filter);
    bool ok = pcap_setfilter(p, &prog) == 0;
    if (!ok)
        *err = g_strdup_printf("-i %s: cannot set the filter: %s", o->iface, pcap_geterr(p));
    pcap_freecode(&prog);
    return ok;
}

static void install_handlers(pcap_t *p)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_stats;
    sigaction(SIGUSR1, &sa, NULL);
    live_pcap = p;
}

/* Until SIGINT/SIGTERM or a capture error. */
static bool capture_loop(pcap_t *p, const mw_live_opts *o, live_ctx *c, char **err)
{
    int64_t next_stats = g_get_monotonic_time() + (int64_t)o->stats_interval_s * G_USEC_PER_SEC;
    while (!stop_requested) {
        int n = pcap_dispatch(p, -1, on_packet, (u_char *)c);
        if (n == PCAP_ERROR) {
            *err = g_strdup_printf("-i %s: capture failed: %s", o->iface, pcap_geterr(p));
            return false;
        }
        /* quiet links still age: close idle sessions by the wall clock */
        mw_engine_tick(c->e, g_get_real_time());
        if (c->dump)
            pcap_dump_flush(c->dump);
        if (o->stats_interval_s > 0 && g_get_monotonic_time() >= next_stats) {
            stats_requested = 1;
            next_stats += (int64_t)o->stats_interval_s * G_USEC_PER_SEC;
        }
        if (stats_requested) {
            stats_requested = 0;
            print_stats(p, c->e, c);
        }
    }
    return true;
}

bool mw_live_run(const mw_live_opts *o, mw_engine *e, char **err)
{
    pcap_t *p = open_iface(o, err);
    if (!p)
        return false;
    live_ctx c = { e, pcap_datalink(p), 0, NULL };
    bool ok = set_filter(p, o, err);
    if (ok && o->write_file) {
        c.dump = pcap_dump_open(p, o->write_file);
        if (!c.dump) {
            *err = g_strdup_printf("-w %s: %s", o->write_file, pcap_geterr(p));
            ok = false;
        }
    }
    if (ok && o->user)
        ok = drop_privileges(o->user, err);
    if (ok) {
        install_handlers(p);
        ok = capture_loop(p, o, &c, err);
        live_pcap = NULL;
    }
    if (c.dump)
        pcap_dump_close(c.dump);
    pcap_close(p);
    return ok;
}
