/* --maillog during live capture (-i): the logs are followed (follow.h) and their lines go
 * through the same path as a file's (mw_maillog_line, the tables, the index); a closed
 * captured session waits in a queue for its grace, then the one join (log_join.c) looks it
 * up and it goes on to the writer. Memory is bounded: lines held in all (--log-max-pending),
 * sessions waiting (MW_LOG_GRACE_MAX_SESSIONS), and server-side sessions are forgotten once
 * no captured session can join them any more. */
#include <string.h>

#include "maillog/live/follow.h"
#include "maillog/maillog_int.h"

/* The logs are read at most this often (the capture loop's timer runs every 100 ms). */
#define MW_LOG_POLL_US (200 * 1000)
/* Sessions waiting for their grace at most; past it the oldest is joined early (counted). */
#define MW_LOG_GRACE_MAX_SESSIONS 100000
/* A closed server-side session is kept this long after its last line (its captured
 * session may close later: a FIN lost, an idle timeout, the grace), an open one silent
 * this long (a server restarted under it never logs its end). */
#define MW_LOG_KEEP_CLOSED_US (G_GINT64_CONSTANT(600) * G_USEC_PER_SEC)
#define MW_LOG_KEEP_OPEN_US (G_GINT64_CONSTANT(24 * 3600) * G_USEC_PER_SEC)
/* How often forgotten sessions are looked for. */
#define MW_LOG_EVICT_EVERY_US (G_GINT64_CONSTANT(10) * G_USEC_PER_SEC)

typedef struct {
    mw_follow *f;
    uint32_t file; /* its index in the positions' file names */
} followed;

typedef struct {
    mw_session *s;
    int64_t due_us;
} waiting;

struct mw_maillog_live {
    followed logs[MW_LOG_MAX_FOLLOWED];
    size_t n;
    int64_t grace_us;
    GQueue queue;              /* waiting*, in closing order (so also in due order) */
    int64_t last_poll_us, last_evict_us;
    uint64_t released_early, evicted;
};

typedef struct {
    mw_maillog *m;
    uint32_t file;
} line_ctx;

static void on_line(void *user, char *line, size_t len, uint64_t no)
{
    line_ctx *c = user;
    mw_maillog_line(c->m, line, len, c->file, no);
}

bool mw_maillog_follow(mw_maillog *m, const char *path, unsigned grace_ms,
                       uint64_t max_pending, char **err)
{
    if (!m->live) {
        m->live = g_new0(struct mw_maillog_live, 1);
        g_queue_init(&m->live->queue);
    }
    struct mw_maillog_live *l = m->live;
    l->grace_us = (int64_t)grace_ms * 1000;
    m->x.max_held = max_pending ? max_pending : MW_LOG_MAX_PENDING_DEFAULT;
    if (l->n >= MW_LOG_MAX_FOLLOWED) {
        *err = g_strdup_printf("--maillog %s: at most %d logs are followed during live "
                               "capture", path, MW_LOG_MAX_FOLLOWED);
        return false;
    }
    mw_follow *f = mw_follow_new(path, MW_LOG_LINE_MAX, true, err);
    if (!f)
        return false;
    l->logs[l->n].f = f;
    l->logs[l->n].file = m->x.files->len;
    l->n++;
    g_ptr_array_add(m->x.files, g_strdup(path));
    return true;
}

size_t mw_maillog_dir_fds(const mw_maillog *m, int *fds, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; m && m->live && i < m->live->n && n < max; i++)
        fds[n++] = mw_follow_dir_fd(m->live->logs[i].f);
    return n;
}

void mw_maillog_on_release(mw_maillog *m, mw_maillog_release_cb cb, void *user)
{
    m->release = cb;
    m->release_user = user;
}

static void release(mw_maillog *m, mw_session *s)
{
    mw_maillog_join(m, s);
    m->release(s, m->release_user);
}

static void poll_logs(mw_maillog *m, int64_t now_us, bool last)
{
    struct mw_maillog_live *l = m->live;
    m->x.now_us = now_us;
    for (size_t i = 0; i < l->n; i++) {
        line_ctx c = { m, l->logs[i].file };
        if (last)
            mw_follow_finish(l->logs[i].f, on_line, &c);
        else
            mw_follow_poll(l->logs[i].f, on_line, &c);
    }
    l->last_poll_us = now_us;
}

void mw_maillog_take(mw_maillog *m, mw_session *s)
{
    struct mw_maillog_live *l = m->live;
    if (!l) { /* reading files: every line is in already */
        release(m, s);
        return;
    }
    int64_t now = g_get_monotonic_time();
    if (l->grace_us == 0) {
        poll_logs(m, now, false);
        release(m, s);
        return;
    }
    if (l->queue.length >= MW_LOG_GRACE_MAX_SESSIONS) {
        waiting *w = g_queue_pop_head(&l->queue);
        l->released_early++;
        release(m, w->s);
        g_free(w);
    }
    waiting *w = g_new(waiting, 1);
    w->s = s;
    w->due_us = now + l->grace_us;
    g_queue_push_tail(&l->queue, w);
}

void mw_maillog_tick(mw_maillog *m, int64_t now_us)
{
    struct mw_maillog_live *l = m->live;
    if (!l)
        return;
    waiting *head = g_queue_peek_head(&l->queue);
    /* read before a release, so that every line written within its grace is in */
    if (now_us - l->last_poll_us >= MW_LOG_POLL_US || (head && head->due_us <= now_us))
        poll_logs(m, now_us, false);
    while ((head = g_queue_peek_head(&l->queue)) && head->due_us <= now_us) {
        g_queue_pop_head(&l->queue);
        release(m, head->s);
        g_free(head);
    }
    if (now_us - l->last_evict_us >= MW_LOG_EVICT_EVERY_US) {
        l->last_evict_us = now_us;
        unsigned gone = mw_logidx_evict(&m->x, now_us - MW_LOG_KEEP_CLOSED_US,
                                        now_us - MW_LOG_KEEP_OPEN_US);
        if (gone) {
            l->evicted += gone;
            mw_maillog_reindex(m);
        }
    }
}

void mw_maillog_drain(mw_maillog *m)
{
    struct mw_maillog_live *l = m->live;
    if (!l)
        return;
    poll_logs(m, g_get_monotonic_time(), true);
    waiting *w;
    while ((w = g_queue_pop_head(&l->queue))) {
        release(m, w->s);
        g_free(w);
    }
    mw_maillog_index(m);
}

void mw_maillog_live_summary(const mw_maillog *m, FILE *fp)
{
    const struct mw_maillog_live *l = m->live;
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        const mw_follow_stats *st = mw_follow_stats_get(l->logs[i].f);
        fprintf(fp, "Followed %s: %" G_GUINT64_FORMAT " lines, reopened %" G_GUINT64_FORMAT
                    " times after a rename, read again %" G_GUINT64_FORMAT " times after a "
                    "truncation%s\n", mw_follow_path(l->logs[i].f), st->lines, st->renamed,
                st->truncated, st->read_errors ? "; some reads failed (permissions?)" : "");
    }
    if (m->x.pending_dropped)
        fprintf(fp, "Not kept: %" G_GUINT64_FORMAT " lines over --log-max-pending %"
                    G_GUINT64_FORMAT " (lines held for sessions not yet joined)\n",
                m->x.pending_dropped, m->x.max_held);
    if (l->released_early)
        fprintf(fp, "Joined before their grace ended: %" G_GUINT64_FORMAT " sessions (more "
                    "than %d waiting at once)\n", l->released_early, MW_LOG_GRACE_MAX_SESSIONS);
}

void mw_maillog_live_free(mw_maillog *m)
{
    struct mw_maillog_live *l = m->live;
    if (!l)
        return;
    waiting *w;
    while ((w = g_queue_pop_head(&l->queue))) {
        mw_session_free(w->s);
        g_free(w);
    }
    for (size_t i = 0; i < l->n; i++)
        mw_follow_free(l->logs[i].f);
    g_free(l);
    m->live = NULL;
}
