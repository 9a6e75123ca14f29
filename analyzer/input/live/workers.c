/* --workers N: one capture socket per worker in a fanout group (fanout.h), each read and
 * analysed on a thread of its own into its own engine; the calling thread only keeps the
 * time: --stats (per worker and in total) and the stop. The records of every engine go to
 * the one writer (the engines' hand-over, made thread-safe by the caller). */
#include "input/live.h"

#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "input/decode.h"
#include "input/linktype.h"
#include "input/live/fanout.h"
#include "input/live/live_int.h"

/* What a worker last published for --stats (the counters are its own thread's). */
typedef struct {
    uint64_t packets, written;
    unsigned kdrop, ifdrop;
    size_t open;
} worker_snap;

typedef struct live_shared live_shared;

typedef struct {
    int idx;
    live_ctx c;             /* its socket, engine, frame numbers and drop bookkeeping */
    uint64_t packets;
    live_shared *sh;
    pthread_t thread;
    char *err;              /* why it stopped the run, or NULL */
    pthread_mutex_t mu;     /* snap */
    worker_snap snap;
} worker;

struct live_shared {
    const mw_live_opts *o;
    int n;
    worker *w;
    atomic_uint_fast64_t taken; /* -c: packets taken by all workers */
    pthread_mutex_t dump_mu;    /* -w: the one file every worker saves to */
    live_ctx dump;              /* ... its frame numbers are the engines' then */
};

static void worker_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    worker *w = (worker *)user;
    live_shared *sh = w->sh;
    if (sh->o->count && atomic_fetch_add(&sh->taken, 1) >= sh->o->count) {
        mw_live_stop();
        return;
    }
    uint64_t frame;
    if (sh->dump.dump) { /* -w: a packet's frame number is its place in the file */
        pthread_mutex_lock(&sh->dump_mu);
        frame = ++sh->dump.frame;
        mw_live_dump_packet(&sh->dump, h, data);
        pthread_mutex_unlock(&sh->dump_mu);
    } else {
        frame = ++w->c.frame;
    }
    w->packets++;
    mw_packet pkt;
    mw_decode_status ds = mw_decode(w->c.dlt, data, h->caplen, &pkt);
    mw_engine_decoded(w->c.e, ds, &pkt, frame, mw_ts_us(&h->ts));
}

static void publish(worker *w)
{
    const mw_engine_stats *st = mw_engine_stats_get(w->c.e);
    worker_snap s = { w->packets, st->sessions, w->c.last.ps_drop, w->c.last.ps_ifdrop,
                      st->flows_live };
    pthread_mutex_lock(&w->mu);
    w->snap = s;
    pthread_mutex_unlock(&w->mu);
}

static void fail(worker *w, char *msg)
{
    if (!w->err)
        w->err = msg;
    else
        g_free(msg);
    mw_live_stop();
}

/* Idle sessions, the followed logs and the -w flush (worker 1), the counters published. */
static void worker_timers(worker *w)
{
    const mw_live_opts *o = w->sh->o;
    mw_engine_tick(w->c.e, g_get_real_time());
    if (w->idx == 0 && o->tick)
        o->tick(o->tick_user, g_get_monotonic_time());
    if (w->idx == 0 && w->sh->dump.dump) {
        pthread_mutex_lock(&w->sh->dump_mu);
        int rc = pcap_dump_flush(w->sh->dump.dump);
        pthread_mutex_unlock(&w->sh->dump_mu);
        if (rc != 0)
            fail(w, g_strdup_printf("-w %s: cannot write: %s", o->write_file, g_strerror(errno)));
    }
    publish(w);
}

static void probe_drops(void *user)
{
    live_ctx *c = user;
    mw_live_check_drops(c->pcap, c);
}

/* As input/live.c's capture loop, on this worker's socket and engine. */
static void *worker_main(void *data)
{
    worker *w = data;
    pcap_t *p = w->c.pcap;
    const char *iface = w->sh->o->iface;
    struct pollfd pfd = { .fd = pcap_get_selectable_fd(p), .events = POLLIN };
    w->c.lost_checked_us = g_get_real_time();
    int64_t last_timers = 0;
    while (!mw_live_stopping()) {
        mw_live_check_drops(p, &w->c); /* before the batch: its gaps may come from these */
        int n = pcap_dispatch(p, MW_LIVE_DISPATCH_BATCH, worker_packet, (u_char *)w);
        if (n == PCAP_ERROR) {
            fail(w, g_strdup_printf("-i %s: worker %d: capture failed: %s", iface, w->idx + 1,
                                    pcap_geterr(p)));
            break;
        }
        int64_t now = g_get_monotonic_time();
        if (n == 0 || now - last_timers >= MW_LIVE_WAKE_MS * 1000) {
            worker_timers(w);
            last_timers = now;
        }
        if (n == 0 && !mw_live_stopping() && poll(&pfd, 1, MW_LIVE_WAKE_MS) < 0 &&
            errno != EINTR) {
            fail(w, g_strdup_printf("-i %s: poll: %s", iface, g_strerror(errno)));
            break;
        }
    }
    mw_live_check_drops(p, &w->c);
    publish(w);
    return NULL;
}

/* --stats: a line per worker, then the totals in the one-socket line's form (the kernel
 * drops summed over the sockets; the interface's counter is the same for every socket). */
static void print_stats(const live_shared *sh)
{
    worker_snap t = { 0 };
    for (int i = 0; i < sh->n; i++) {
        worker *w = &sh->w[i];
        pthread_mutex_lock(&w->mu);
        worker_snap s = w->snap;
        pthread_mutex_unlock(&w->mu);
        fprintf(stderr,
                "mailwire: stats: worker %d of %d: %" G_GUINT64_FORMAT " packets seen, %u "
                "dropped by the kernel, %zu sessions open, %" G_GUINT64_FORMAT " written\n",
                i + 1, sh->n, s.packets, s.kdrop, s.open, s.written);
        t.packets += s.packets;
        t.written += s.written;
        t.kdrop += s.kdrop;
        t.open += s.open;
        t.ifdrop = s.ifdrop > t.ifdrop ? s.ifdrop : t.ifdrop;
    }
    fprintf(stderr,
            "mailwire: stats: %" G_GUINT64_FORMAT " packets seen, %u dropped by the kernel, "
            "%u by the interface, %zu sessions open, %" G_GUINT64_FORMAT " written, "
            "peak memory %ld MiB\n",
            t.packets, t.kdrop, t.ifdrop, t.open, t.written, mw_live_peak_mib());
}

/* The calling thread while the workers run: the --stats clock, SIGUSR1, the stop. */
static void keep_time(const live_shared *sh)
{
    const mw_live_opts *o = sh->o;
    int64_t next_stats = g_get_monotonic_time() + (int64_t)o->stats_interval_s * G_USEC_PER_SEC;
    while (!mw_live_stopping()) {
        poll(NULL, 0, MW_LIVE_WAKE_MS);
        if (o->stats_interval_s > 0 && g_get_monotonic_time() >= next_stats) {
            mw_live_request_stats();
            next_stats += (int64_t)o->stats_interval_s * G_USEC_PER_SEC;
        }
        if (mw_live_take_stats_request())
            print_stats(sh);
    }
}

/* Start every worker, keep the time, join them; the first worker's error, if any. */
static bool run_workers(live_shared *sh, pcap_t **p, char **err)
{
    int started = 0;
    for (int i = 0; i < sh->n; i++) {
        worker *w = &sh->w[i];
        mw_engine *e = sh->o->engines[i];
        w->idx = i;
        w->sh = sh;
        w->c = (live_ctx){ .e = e, .dlt = pcap_datalink(p[i]), .pcap = p[i] };
        pthread_mutex_init(&w->mu, NULL);
        mw_engine_loss_probe(e, probe_drops, &w->c);
    }
    for (; started < sh->n; started++)
        if (pthread_create(&sh->w[started].thread, NULL, worker_main, &sh->w[started]) != 0)
            break;
    if (started == sh->n)
        keep_time(sh);
    else
        mw_live_stop();
    for (int i = 0; i < started; i++)
        pthread_join(sh->w[i].thread, NULL);
    bool ok = started == sh->n;
    if (!ok)
        *err = g_strdup_printf("-i %s: --workers: cannot start worker thread %d", sh->o->iface,
                               started + 1);
    for (int i = 0; i < sh->n; i++) {
        worker *w = &sh->w[i];
        mw_engine_loss_probe(sh->o->engines[i], NULL, NULL); /* the socket closes next */
        if (ok && w->err) {
            *err = w->err;
            ok = false;
        } else {
            g_free(w->err);
        }
        pthread_mutex_destroy(&w->mu);
    }
    return ok;
}

bool mw_live_run_workers(const mw_live_opts *o, char **err)
{
    int n = o->workers;
    pcap_t *p[MW_LIVE_MAX_WORKERS];
    if (n > MW_LIVE_MAX_WORKERS || !mw_fanout_open(o, o->engines[0], p, n, err)) {
        if (n > MW_LIVE_MAX_WORKERS)
            *err = g_strdup_printf("--workers %d: at most %d", n, MW_LIVE_MAX_WORKERS);
        if (o->write_fp)
            fclose(o->write_fp);
        return false;
    }
    live_shared sh = { .o = o, .n = n, .w = g_new0(worker, n) };
    pthread_mutex_init(&sh.dump_mu, NULL);
    sh.dump.pcap = p[0];
    bool ok = !o->write_fp || mw_live_open_dump(p[0], o, &sh.dump, err);
    if (ok && o->user)
        ok = mw_live_drop_privileges(o->user, err);
    if (ok && o->ready)
        ok = o->ready(o->ready_user, err);
    if (ok) {
        mw_live_install_handlers(p, n);
        ok = run_workers(&sh, p, err);
        mw_live_clear_handles();
    }
    if (sh.dump.dump_err && ok) {
        *err = sh.dump.dump_err;
        ok = false;
    } else {
        g_free(sh.dump.dump_err);
    }
    ok = mw_live_close_dump(&sh.dump, ok, err);
    pthread_mutex_destroy(&sh.dump_mu);
    for (int i = 0; i < n; i++)
        pcap_close(p[i]);
    g_free(sh.w);
    return ok;
}
