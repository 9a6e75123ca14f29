#define _GNU_SOURCE /* initgroups */
#include "input/live.h"

#include <errno.h>
#include <glib.h>
#include <grp.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "input/decode.h"
#include "engine/detect.h"
#include "input/linktype.h"
#include "input/live/live_int.h"
#include "output/outfile.h"

static atomic_int stop_requested;
static atomic_int stats_requested; /* lock-free: set in a signal handler */
/* the capture handles a stop breaks out of (one, or one per --workers socket) */
static pcap_t *_Atomic live_pcaps[MW_LIVE_MAX_WORKERS];

void mw_live_stop(void)
{
    atomic_store(&stop_requested, 1);
    for (int i = 0; i < MW_LIVE_MAX_WORKERS; i++) {
        pcap_t *p = atomic_load(&live_pcaps[i]);
        if (p)
            pcap_breakloop(p);
    }
}

bool mw_live_stopping(void)
{
    return atomic_load(&stop_requested) != 0;
}

bool mw_live_take_stats_request(void)
{
    return atomic_exchange(&stats_requested, 0) != 0;
}

void mw_live_request_stats(void)
{
    atomic_store(&stats_requested, 1);
}

static void on_stop(int sig)
{
    (void)sig;
    mw_live_stop();
}

static void on_stats(int sig)
{
    (void)sig;
    atomic_store(&stats_requested, 1);
}

/* Every port of the table; a run of consecutive ports as one portrange. */
char *mw_live_default_filter(const struct mw_ports *table)
{
    uint16_t *ports = g_new(uint16_t, 65536);
    size_t n = mw_ports_list(table, ports, 65536);
    GString *g = g_string_new("tcp and (");
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && ports[j + 1] == ports[j] + 1)
            j++;
        if (j > i + 1)
            g_string_append_printf(g, "%sportrange %u-%u", i ? " or " : "", ports[i], ports[j]);
        else
            g_string_append_printf(g, "%sport %u", i ? " or " : "", ports[i]);
        if (j == i + 1) /* two in a row: as two ports, the filter reads better */
            g_string_append_printf(g, " or port %u", ports[j]);
        i = j + 1;
    }
    g_string_append_c(g, ')');
    g_free(ports);
    return g_string_free(g, FALSE);
}

/* -w: the next file, with its own pcap header, between two packets. */
static bool rotate_dump(live_ctx *c)
{
    bool fresh = false;
    int fd = -1;
    errno = 0;
    if (pcap_dump_flush(c->dump) != 0 || ferror(pcap_dump_file(c->dump)))
        c->dump_err = g_strdup_printf("-w %s: cannot write: %s", c->dump_name,
                                      g_strerror(errno ? errno : EIO));
    else if ((fd = mw_rotor_next(c->rot, &fresh)) == -2)
        return true;
    else if (fd < 0)
        c->dump_err = g_strdup(mw_rotor_error(c->rot));
    pcap_dump_close(c->dump);
    c->dump = NULL;
    if (c->dump_err)
        return false;
    FILE *fp = fdopen(fd, "w");
    c->dump = fp ? pcap_dump_fopen(c->pcap, fp) : NULL;
    if (!c->dump) {
        c->dump_err = g_strdup_printf("-w %s: cannot write the new file: %s", c->dump_name,
                                      fp ? pcap_geterr(c->pcap) : g_strerror(errno));
        fp ? fclose(fp) : close(fd);
        return false;
    }
    mw_rotor_wrote_header(c->rot, sizeof(struct pcap_file_header));
    return true;
}

/* -w: one packet, in the current file or, when it is due, in the next one. */
void mw_live_dump_packet(live_ctx *c, const struct pcap_pkthdr *h, const u_char *data)
{
    size_t n = 16 + h->caplen; /* a pcap record header, then the bytes */
    if (c->rot && mw_rotor_due(c->rot, n) && !rotate_dump(c)) {
        mw_live_stop();
        return;
    }
    pcap_dump((u_char *)c->dump, h, data);
    mw_rotor_wrote(c->rot, n);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    live_ctx *c = (live_ctx *)user;
    if (c->count && c->frame >= c->count) {
        mw_live_stop();
        return;
    }
    c->frame++;
    if (c->dump)
        mw_live_dump_packet(c, h, data);
    mw_packet pkt;
    mw_decode_status ds = mw_decode(c->dlt, data, h->caplen, &pkt);
    mw_engine_decoded(c->e, ds, &pkt, c->frame, mw_ts_us(&h->ts));
}

/* groups, gid, uid, in that order (as tcpdump does), and check it cannot be undone. */
bool mw_live_drop_privileges(const char *user, char **err)
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

long mw_live_peak_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

static void print_stats(pcap_t *p, mw_engine *e, const live_ctx *c)
{
    struct pcap_stat ps = { 0 };
    const mw_engine_stats *st = mw_engine_stats_get(e);
    if (pcap_stats(p, &ps) != 0)
        memset(&ps, 0, sizeof ps);
    fprintf(stderr,
            "mailwire: stats: %" G_GUINT64_FORMAT " packets seen, %u dropped by the kernel, "
            "%u by the interface, %zu sessions open, %" G_GUINT64_FORMAT " written, "
            "peak memory %ld MiB\n",
            c->frame, ps.ps_drop, ps.ps_ifdrop, st->flows_live, st->sessions,
            mw_live_peak_mib());
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
pcap_t *mw_live_open_iface(const mw_live_opts *o, char **err)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(o->iface, errbuf);
    if (!p) {
        *err = g_strdup_printf("-i %s: %s", o->iface, errbuf);
        return NULL;
    }
    pcap_set_snaplen(p, MW_LIVE_SNAPLEN);
    pcap_set_promisc(p, o->promisc);
    /* Not immediate mode: that is TPACKET_V2 with one wake-up per packet, which falls behind
     * a burst a plain writer absorbs (issue 20). TPACKET_V3 hands over whole blocks, each at
     * the latest MW_LIVE_BLOCK_TIMEOUT_MS after its first packet. */
    pcap_set_immediate_mode(p, 0);
    pcap_set_timeout(p, MW_LIVE_BLOCK_TIMEOUT_MS);
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
    /* the loop polls the descriptor itself, with a timeout: timers run on a quiet link */
    if (pcap_setnonblock(p, 1, errbuf) != 0 || pcap_get_selectable_fd(p) < 0) {
        *err = g_strdup_printf("-i %s: cannot poll the capture: %s", o->iface,
                               errbuf[0] ? errbuf : "no selectable descriptor");
        pcap_close(p);
        return NULL;
    }
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
bool mw_live_set_filter(pcap_t *p, const mw_live_opts *o, const mw_engine *e, char **err)
{
    char *filter = o->filter ? g_strdup(o->filter) : mw_live_default_filter(mw_engine_ports(e));
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

void mw_live_install_handlers(pcap_t *const *p, int n)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_stats;
    sigaction(SIGUSR1, &sa, NULL);
    for (int i = 0; i < n && i < MW_LIVE_MAX_WORKERS; i++)
        atomic_store(&live_pcaps[i], p[i]);
}

void mw_live_clear_handles(void)
{
    for (int i = 0; i < MW_LIVE_MAX_WORKERS; i++)
        atomic_store(&live_pcaps[i], NULL);
}

/* Kernel drops since the last look: the engine learns the stretch of wall time they fell in
 * (a capture_gap there is mailwire's loss, not the network's). */
void mw_live_check_drops(pcap_t *p, live_ctx *c)
{
    if (!p)
        return;
    struct pcap_stat ps;
    int64_t now = g_get_real_time();
    if (pcap_stats(p, &ps) == 0) {
        c->last = ps;
        uint64_t lost = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
        if (lost > c->lost_seen)
            mw_engine_capture_lost(c->e, ps.ps_drop, ps.ps_ifdrop, c->lost_checked_us, now);
        c->lost_seen = lost;
    }
    c->lost_checked_us = now;
}

static void probe_drops(void *user)
{
    live_ctx *c = user;
    mw_live_check_drops(c->pcap, c);
}

/* Timers: idle sessions, -w flush, --stats; after every batch and on every wake-up. */
static bool run_timers(pcap_t *p, const mw_live_opts *o, live_ctx *c, int64_t *next_stats,
                       char **err)
{
    /* quiet links still age: close idle sessions by the wall clock */
    mw_engine_tick(c->e, g_get_real_time());
    if (o->tick)
        o->tick(o->tick_user, g_get_monotonic_time());
    if (c->dump && pcap_dump_flush(c->dump) != 0) {
        *err = g_strdup_printf("-w %s: cannot write: %s", c->dump_name, g_strerror(errno));
        return false;
    }
    if (o->stats_interval_s > 0 && g_get_monotonic_time() >= *next_stats) {
        mw_live_request_stats();
        *next_stats += (int64_t)o->stats_interval_s * G_USEC_PER_SEC;
    }
    if (mw_live_take_stats_request()) {
        print_stats(p, c->e, c);
    }
    return true;
}

/* Until SIGINT/SIGTERM or a capture error. The handle is non-blocking: read what the kernel
 * has, and when it has nothing, sleep in poll for at most MW_LIVE_WAKE_MS. */
static bool capture_loop(pcap_t *p, const mw_live_opts *o, live_ctx *c, char **err)
{
    int64_t next_stats = g_get_monotonic_time() + (int64_t)o->stats_interval_s * G_USEC_PER_SEC;
    struct pollfd pfd = { .fd = pcap_get_selectable_fd(p), .events = POLLIN };
    c->lost_checked_us = g_get_real_time();
    int64_t last_timers = 0;
    while (!atomic_load(&stop_requested)) {
        mw_live_check_drops(p, c); /* before the batch: its gaps may come from these drops */
        int n = pcap_dispatch(p, MW_LIVE_DISPATCH_BATCH, on_packet, (u_char *)c);
        if (n == PCAP_ERROR) {
            *err = g_strdup_printf("-i %s: capture failed: %s", o->iface, pcap_geterr(p));
            return false;
        }
        int64_t now = g_get_monotonic_time();
        if (n == 0 || now - last_timers >= MW_LIVE_WAKE_MS * 1000) {
            if (!run_timers(p, o, c, &next_stats, err))
                return false;
            last_timers = now;
        }
        if (n == 0 && !atomic_load(&stop_requested) && poll(&pfd, 1, MW_LIVE_WAKE_MS) < 0 &&
            errno != EINTR) {
            *err = g_strdup_printf("-i %s: poll: %s", o->iface, g_strerror(errno));
            return false;
        }
    }
    mw_live_check_drops(p, c);
    return true;
}

/* -w: a pcap header on the caller's file. */
bool mw_live_open_dump(pcap_t *p, const mw_live_opts *o, live_ctx *c, char **err)
{
    c->dump = pcap_dump_fopen(p, o->write_fp);
    c->dump_name = o->write_file;
    c->rot = o->write_rotor;
    if (c->dump)
        mw_rotor_wrote_header(c->rot, sizeof(struct pcap_file_header));
    if (!c->dump) {
        *err = g_strdup_printf("-w %s: %s", o->write_file, pcap_geterr(p));
        fclose(o->write_fp);
    }
    return c->dump != NULL;
}

/* The packets saved with -w are all on disk, or the run says which error lost them. */
bool mw_live_close_dump(live_ctx *c, bool ok, char **err)
{
    if (!c->dump)
        return ok;
    errno = 0;
    int rc = pcap_dump_flush(c->dump);
    int saved = errno;
    rc |= ferror(pcap_dump_file(c->dump)) ? -1 : 0;
    pcap_dump_close(c->dump);
    if (rc != 0 && ok) {
        *err = g_strdup_printf("-w %s: cannot write: %s", c->dump_name,
                               g_strerror(saved ? saved : EIO));
        return false;
    }
    return ok;
}

bool mw_live_run(const mw_live_opts *o, mw_engine *e, char **err)
{
    if (o->workers > 1)
        return mw_live_run_workers(o, err);
    pcap_t *p = mw_live_open_iface(o, err);
    if (!p) {
        if (o->write_fp)
            fclose(o->write_fp);
        return false;
    }
    live_ctx c = { .e = e, .dlt = pcap_datalink(p), .count = o->count, .pcap = p };
    bool ok = mw_live_set_filter(p, o, e, err);
    if (o->write_fp) {
        if (ok)
            ok = mw_live_open_dump(p, o, &c, err);
        else
            fclose(o->write_fp);
    }
    if (ok && o->user)
        ok = mw_live_drop_privileges(o->user, err);
    if (ok && o->ready)
        ok = o->ready(o->ready_user, err);
    if (ok) {
        mw_live_install_handlers(&p, 1);
        mw_engine_loss_probe(e, probe_drops, &c);
        ok = capture_loop(p, o, &c, err);
        mw_engine_loss_probe(e, NULL, NULL); /* the gaps found at the end: counters known */
        mw_live_clear_handles();
    }
    if (c.dump_err && ok) {
        *err = c.dump_err;
        ok = false;
    } else {
        g_free(c.dump_err);
    }
    ok = mw_live_close_dump(&c, ok, err);
    pcap_close(p);
    return ok;
}

/* "1,234,567": a count read at a glance. */
static char *grouped(uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" G_GUINT64_FORMAT, v);
    GString *g = g_string_new(NULL);
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            g_string_append_c(g, ',');
        g_string_append_c(g, digits[i]);
    }
    return g_string_free(g, FALSE);
}

/* Live capture: packets the kernel or the interface dropped, said last on stderr. */
void mw_live_loss_lines(const mw_engine_stats *st)
{
    const char *why = "mailwire fell behind - raise --buffer-size";
    if (st->kernel_drops) {
        char *n = grouped(st->kernel_drops);
        fprintf(stderr, "mailwire: the capture lost %s packets (kernel): %s\n", n, why);
        g_free(n);
    }
    if (st->iface_drops) {
        char *n = grouped(st->iface_drops);
        fprintf(stderr, "mailwire: the capture lost %s packets (interface): the interface "
                        "dropped them before the kernel saw them\n", n);
        g_free(n);
    }
}
