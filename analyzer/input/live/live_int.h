/* What the live capture's two paths share: input/live.c (one capture socket, the analysis
 * on the calling thread) and input/live/workers.c (--workers N: N sockets in one fanout
 * group, a thread each). Not for use outside input/. */
#ifndef MW_LIVE_INT_H
#define MW_LIVE_INT_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/flow.h"
#include "input/live.h"
#include "output/outfile.h"

/* One capture socket and the engine its packets go to; with -w also the saved file (in
 * --workers mode one shared context holds the file, under a lock). */
typedef struct {
    mw_engine *e;
    int dlt;
    uint64_t frame;
    uint64_t count;         /* -c, 0: none */
    pcap_dumper_t *dump;
    const char *dump_name;
    bool dump_failed;
    uint64_t lost_seen;       /* kernel + interface drops already told to the engine */
    int64_t lost_checked_us;  /* when the counters were last read (wall clock) */
    pcap_t *pcap;
    mw_rotor *rot;            /* -w: rotation and SIGHUP reopen, or NULL */
    char *dump_err;           /* -w: why a rotation failed (the run stops, exit 1) */
    struct pcap_stat last;    /* the socket's counters at the latest look (--stats) */
} live_ctx;

/* pcap_create .. pcap_activate (non-blocking, a link type the decoder reads). */
pcap_t *mw_live_open_iface(const mw_live_opts *o, char **err);
/* The user's BPF filter, or the mail ports. */
bool mw_live_set_filter(pcap_t *p, const mw_live_opts *o, const mw_engine *e, char **err);
/* -Z: groups, gid, uid; checked. */
bool mw_live_drop_privileges(const char *user, char **err);
/* SIGINT/SIGTERM stop, SIGUSR1 asks for the stats; a stop breaks each of the n loops. */
void mw_live_install_handlers(pcap_t *const *p, int n);
void mw_live_clear_handles(void);
bool mw_live_stopping(void);
/* True once per SIGUSR1 (or mw_live_request_stats). */
bool mw_live_take_stats_request(void);
void mw_live_request_stats(void);
/* Kernel drops since the last look, told to the engine (the capture-loss logic). */
void mw_live_check_drops(pcap_t *p, live_ctx *c);
/* -w: the pcap header on the caller's file; one packet; all flushed and closed. */
bool mw_live_open_dump(pcap_t *p, const mw_live_opts *o, live_ctx *c, char **err);
void mw_live_dump_packet(live_ctx *c, const struct pcap_pkthdr *h, const u_char *data);
bool mw_live_close_dump(live_ctx *c, bool ok, char **err);
/* The peak resident memory, MiB. */
long mw_live_peak_mib(void);

#endif
