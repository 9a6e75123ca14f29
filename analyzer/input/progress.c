#include "input/progress.h"

#include <glib.h>
#include <stdio.h>
#include <unistd.h>

/* Look at the clock once every this many packets. */
#define CLOCK_EVERY 256

struct mw_progress {
    const mw_engine *e;
    const mw_engine_stats *(*get)(void *user); /* or these counts */
    void *get_user;
    const mw_capture *cap;   /* the file the byte counts are for */
    int64_t started_us;      /* when this file started */
    int64_t last_draw_us;
    uint64_t packets_at_start;
    unsigned tick;
    bool drawn;
};

mw_progress *mw_progress_new(const mw_engine *e)
{
    if (!isatty(STDERR_FILENO))
        return NULL;
    mw_progress *p = g_new0(mw_progress, 1);
    p->e = e;
    return p;
}

void mw_progress_stats_from(mw_progress *p, const mw_engine_stats *(*get)(void *user),
                            void *user)
{
    if (!p)
        return;
    p->get = get;
    p->get_user = user;
}

static const mw_engine_stats *stats(const mw_progress *p)
{
    return p->get ? p->get(p->get_user) : mw_engine_stats_get(p->e);
}

static void human_bytes(char *buf, size_t n, double b)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    g_snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void draw(mw_progress *p, const mw_capture *c, const char *name, int64_t now)
{
    const mw_engine_stats *st = stats(p);
    double secs = (double)(now - p->started_us) / 1e6;
    if (secs <= 0)
        secs = 1e-6;
    char *base = g_path_get_basename(name);
    GString *line = g_string_new(NULL);
    g_string_append_printf(line, "mailwire: %s: ", base);
    int64_t off = mw_capture_offset(c), size = mw_capture_size(c);
    if (off >= 0) {
        char done[32], total[32], rate[32];
        human_bytes(done, sizeof done, (double)off);
        human_bytes(total, sizeof total, (double)size);
        human_bytes(rate, sizeof rate, (double)off / secs);
        g_string_append_printf(line, "%s of %s (%d%%), %s/s", done, total,
                               size > 0 ? (int)(100.0 * (double)off / (double)size) : 0, rate);
    } else {
        g_string_append_printf(line, "%.0f packets/s",
                               (double)(st->packets - p->packets_at_start) / secs);
    }
    g_string_append_printf(line, ", %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
                                 " sessions written, %zu open", st->packets, st->sessions,
                           st->flows_live);
    /* \r and erase-to-end: the line is redrawn in place */
    fprintf(stderr, "\r%s\033[K", line->str);
    fflush(stderr);
    g_string_free(line, TRUE);
    g_free(base);
    p->drawn = true;
}

void mw_progress_packet(mw_progress *p, const mw_capture *c, const char *name)
{
    if (!p)
        return;
    if (p->cap != c) {
        p->cap = c;
        p->started_us = g_get_monotonic_time();
        p->last_draw_us = p->started_us;
        p->packets_at_start = stats(p)->packets;
        p->tick = 0;
    }
    if (++p->tick % CLOCK_EVERY)
        return;
    int64_t now = g_get_monotonic_time();
    if (now - p->last_draw_us < G_USEC_PER_SEC / MW_PROGRESS_HZ)
        return;
    p->last_draw_us = now;
    draw(p, c, name, now);
}

void mw_progress_clear(mw_progress *p)
{
    if (!p || !p->drawn)
        return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    p->drawn = false;
}

void mw_progress_free(mw_progress *p)
{
    mw_progress_clear(p);
    g_free(p);
}
