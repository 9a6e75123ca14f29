/* Live capture on an interface (a mail gateway), for hours or weeks: records are written
 * as sessions end, idle sessions close in wall time too, SIGINT/SIGTERM stop cleanly. */
#ifndef MW_LIVE_H
#define MW_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/flow.h"

/* Kernel capture buffer, MiB (libpcap's default is 2 MiB: too small for a busy gateway). */
#define MW_DEFAULT_LIVE_BUFFER_MB 32
/* Bytes captured per packet: all of it, mail lines can sit anywhere in a segment. */
#define MW_LIVE_SNAPLEN 262144
/* TPACKET_V3 block timeout: a block reaches mailwire at the latest this long after its first
 * packet, so a record still comes out promptly on a quiet link. */
#define MW_LIVE_BLOCK_TIMEOUT_MS 50
/* The longest the loop sleeps with nothing to read: --stats and the idle timeout run at
 * least this often with no traffic at all (issue 15 item 14). */
#define MW_LIVE_WAKE_MS 100
/* Packets per pcap_dispatch call at most (-1 would be one ring's worth): the timers and the
 * drop counters are looked at between batches. */
#define MW_LIVE_DISPATCH_BATCH 4096
/* --workers: capture sockets (and analysis threads) at most. */
#define MW_LIVE_MAX_WORKERS 64

typedef struct {
    const char *iface;
    const char *filter;      /* BPF, or NULL for the mail ports */
    int buffer_mb;
    bool promisc;
    const char *user;        /* -Z: drop to this user after activation */
    const char *write_file;  /* -w: also save the packets (its name, for messages) */
    FILE *write_fp;          /* -w: the file, opened by the caller; closed here */
    struct mw_rotor *write_rotor; /* -w: rotation and SIGHUP reopen (outfile.h), or NULL */
    int stats_interval_s;    /* --stats N: counters on stderr every N s (0: only SIGUSR1) */
    uint64_t count;          /* -c: stop after this many packets; 0: never */
    /* Called once the capture is open and privileges are dropped, before the first
     * packet (the sandbox goes on there); false with *err stops the run. May be NULL. */
    bool (*ready)(void *user, char **err);
    void *ready_user;
    /* Called on the loop's timer (at least every MW_LIVE_WAKE_MS, monotonic time) on the
     * analysis thread: the followed server logs (--maillog). May be NULL. */
    void (*tick)(void *user, int64_t now_mono_us);
    void *tick_user;
    /* --workers N (1: the one socket read on the calling thread, as before): N sockets in one
     * PACKET_FANOUT_HASH group, each read and analysed on a thread of its own into
     * engines[i] (engines[0] is the engine given to mw_live_run). With N > 1 the engines'
     * hand-over and tick must be safe to call from several threads. */
    int workers;
    mw_engine *const *engines;
} mw_live_opts;

/* Capture until SIGINT/SIGTERM. Returns false with *err (one line) when the capture
 * could not start; warnings go to stderr. */
bool mw_live_run(const mw_live_opts *o, mw_engine *e, char **err);
/* The same with o->workers > 1 (input/live/workers.c); mw_live_run calls it. */
bool mw_live_run_workers(const mw_live_opts *o, char **err);

/* Stop the capture (async-signal-safe, any thread), as SIGINT does. */
void mw_live_stop(void);

/* Live capture: the packets the kernel or the interface dropped, on stderr (said last). */
void mw_live_loss_lines(const mw_engine_stats *st);

/* "tcp and (port 25 or port 587 ...)": the mail ports of the port table. */
char *mw_live_default_filter(const struct mw_ports *table);

#endif
