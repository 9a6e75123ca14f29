#include "input/live/fanout.h"

#include <errno.h>
#include <glib.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "input/live/live_int.h"

/* Joins the group: the first socket asks the kernel for a fresh id (UNIQUEID, Linux 4.4),
 * so no other process's group is ever joined; the others join that id. Kernels without
 * UNIQUEID: an id from the process id. */
static bool join(int fd, int *group, char **err, const char *iface)
{
    /* the option is a u32, flags in its top half: unsigned, since DEFRAG (0x8000) shifted
     * into an int's sign bit is undefined behaviour (UBSan in the ASan build said so) */
    uint32_t type = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG;
    if (*group < 0) {
        uint32_t v = (PACKET_FANOUT_FLAG_UNIQUEID | type) << 16;
        socklen_t len = sizeof v;
        if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &v, sizeof v) == 0 &&
            getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &v, &len) == 0) {
            *group = (int)(v & 0xffff);
            return true;
        }
        if (errno != EINVAL) {
            *err = g_strdup_printf("-i %s: --workers: the kernel refuses a PACKET_FANOUT group: "
                                   "%s", iface, g_strerror(errno));
            return false;
        }
        *group = (int)(getpid() & 0xffff);
    }
    uint32_t v = ((uint32_t)*group & 0xffff) | (type << 16);
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &v, sizeof v) == 0)
        return true;
    *err = g_strdup_printf("-i %s: --workers: the kernel refuses to join PACKET_FANOUT group %d "
                           "(hash, defrag): %s", iface, *group, g_strerror(errno));
    return false;
}

/* A filter that takes nothing: set before the sockets join, so none keeps a packet the
 * group hands to another. */
static bool take_nothing(pcap_t *p, const char *iface, char **err)
{
    struct bpf_insn none = BPF_STMT(BPF_RET | BPF_K, 0);
    struct bpf_program prog = { 1, &none };
    if (pcap_setfilter(p, &prog) == 0)
        return true;
    *err = g_strdup_printf("-i %s: cannot set the filter: %s", iface, pcap_geterr(p));
    return false;
}

static void discard(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    (void)user;
    (void)h;
    (void)data;
}

/* What a socket took before its take-nothing filter (each took every packet then). */
static void drain(pcap_t *p)
{
    for (int i = 0; i < 1024 && pcap_dispatch(p, -1, discard, NULL) > 0; i++)
        ;
}

/* The kernel holds a filter on the socket (libpcap filters in user space when it cannot:
 * then every socket would take every packet's copy only to drop it). */
static bool kernel_filter_set(pcap_t *p)
{
    socklen_t len = 0;
    return getsockopt(pcap_fileno(p), SOL_SOCKET, SO_GET_FILTER, NULL, &len) == 0 && len > 0;
}

static void close_all(pcap_t **p, int n)
{
    for (int i = 0; i < n; i++) {
        if (p[i])
            pcap_close(p[i]);
        p[i] = NULL;
    }
}

bool mw_fanout_open(const mw_live_opts *o, const mw_engine *e, pcap_t **p, int n, char **err)
{
    int group = -1;
    memset(p, 0, sizeof *p * (size_t)n);
    for (int i = 0; i < n; i++)
        if (!(p[i] = mw_live_open_iface(o, err)) || !take_nothing(p[i], o->iface, err))
            goto fail;
    for (int i = 0; i < n; i++)
        if (!join(pcap_fileno(p[i]), &group, err, o->iface))
            goto fail;
    poll(NULL, 0, MW_FANOUT_SETTLE_MS);
    for (int i = 0; i < n; i++) {
        drain(p[i]);
        if (!mw_live_set_filter(p[i], o, e, err))
            goto fail;
        if (!kernel_filter_set(p[i]))
            fprintf(stderr, "mailwire: warning: -i %s: worker %d: the filter runs in user "
                            "space, not in the kernel\n", o->iface, i + 1);
    }
    return true;
fail:
    close_all(p, n);
    return false;
}

int mw_fanout_group(pcap_t *p)
{
    int v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &v, &len) != 0)
        return -1;
    return v & 0xffff;
}
