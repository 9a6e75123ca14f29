/* tail -F for one log (follow.h). Two generations at most: the file under the name now,
 * and the one renamed away, still read for MW_FOLLOW_OLD_KEEP_US because its writer (rsyslog,
 * postlogd) goes on writing into it until it is told to reopen. */
#define _GNU_SOURCE /* O_CLOEXEC with -std=c11 */
#include "maillog/live/follow.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs/dirfd.h"

/* How long a renamed-away file is still read after a new one appeared under the name. */
#define MW_FOLLOW_OLD_KEEP_US (5 * G_USEC_PER_SEC)
/* Bytes read per poll and file at most: a large backlog is read over several polls, so the
 * capture loop that polls is never held up for long. */
#define MW_FOLLOW_POLL_MAX (4u * 1024 * 1024)

typedef struct {
    int fd;          /* -1: none */
    dev_t dev;
    ino_t ino;
    off_t off;       /* bytes read so far */
    uint64_t no;     /* lines handed so far */
    char *part;      /* the unfinished line, max_line + 1 bytes */
    size_t plen;
    bool cutting;    /* inside an over-long line: skipped up to its newline */
    int64_t old_since; /* renamed away: when a new file took the name (monotonic) */
} gen;

struct mw_follow {
    char *path, *base;
    int dir_fd;
    size_t max_line;
    bool from_end;   /* the first open only */
    bool opened_once;
    gen cur, old;
    char *chunk;
    mw_follow_stats st;
    mw_follow_line_cb cb;
    void *user;
};

static void gen_init(gen *g, size_t max_line)
{
    memset(g, 0, sizeof *g);
    g->fd = -1;
    g->part = g_malloc(max_line + 1);
}

static void hand(mw_follow *f, gen *g)
{
    size_t len = g->plen;
    while (len > 0 && g->part[len - 1] == '\r')
        len--;
    g->part[len] = '\0';
    g->no++;
    f->st.lines++;
    f->cb(f->user, g->part, len, g->no);
    g->plen = 0;
}

/* The bytes just read: whole lines handed over, the rest kept in part. */
static void split(mw_follow *f, gen *g, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        if (!g->cutting) {
            size_t room = f->max_line - g->plen, take = MIN(seg, room);
            memcpy(g->part + g->plen, p, take);
            g->plen += take;
            if (seg > room) { /* over-long: what fits is the line, the rest is skipped */
                f->st.cut++;
                hand(f, g);
                g->cutting = true;
            } else if (nl) {
                hand(f, g);
            }
        }
        if (nl)
            g->cutting = false;
        p += seg + (nl != NULL);
        n -= seg + (nl != NULL);
    }
}

/* Read to the end of the file (or MW_FOLLOW_POLL_MAX). */
static void drain(mw_follow *f, gen *g)
{
    size_t total = 0;
    while (g->fd >= 0 && total < MW_FOLLOW_POLL_MAX) {
        ssize_t n = pread(g->fd, f->chunk, MW_FOLLOW_CHUNK, g->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            f->st.read_errors++;
            return;
        }
        if (n == 0)
            return;
        g->off += n;
        total += (size_t)n;
        split(f, g, f->chunk, (size_t)n);
    }
}

/* The end of a generation: its unfinished line handed over as it is. */
static void gen_close(mw_follow *f, gen *g)
{
    if (g->plen && !g->cutting)
        hand(f, g);
    g->plen = 0;
    g->cutting = false;
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
}

static bool gen_open(mw_follow *f, gen *g)
{
    int fd = openat(f->dir_fd, f->base, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT)
            f->st.read_errors++;
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        f->st.read_errors++;
        close(fd);
        return false;
    }
    g->fd = fd;
    g->dev = st.st_dev;
    g->ino = st.st_ino;
    g->off = f->from_end && !f->opened_once ? st.st_size : 0;
    g->no = 0;
    g->plen = 0;
    g->cutting = false;
    f->opened_once = true;
    return true;
}

mw_follow *mw_follow_new(const char *path, size_t max_line, bool from_end, char **err)
{
    char *doing = g_strdup_printf("--maillog %s: cannot follow", path), *base = NULL;
    int dfd = mw_dirfd_open(path, doing, &base, err);
    g_free(doing);
    if (dfd < 0)
        return NULL;
    mw_follow *f = g_new0(mw_follow, 1);
    f->path = g_strdup(path);
    f->base = base;
    f->dir_fd = dfd;
    f->max_line = max_line;
    f->from_end = from_end;
    f->chunk = g_malloc(MW_FOLLOW_CHUNK);
    gen_init(&f->cur, max_line);
    gen_init(&f->old, max_line);
    gen_open(f, &f->cur); /* missing is fine: it is looked for on every poll */
    f->opened_once = true; /* a file that appears later is read from its start */
    return f;
}

/* The name now points elsewhere (or nowhere)? 1: another file, 0: the same, -1: none. */
static int name_moved(const mw_follow *f)
{
    struct stat st;
    if (fstatat(f->dir_fd, f->base, &st, 0) != 0)
        return -1;
    return st.st_dev != f->cur.dev || st.st_ino != f->cur.ino;
}

uint64_t mw_follow_poll(mw_follow *f, mw_follow_line_cb cb, void *user)
{
    uint64_t before = f->st.lines;
    f->cb = cb, f->user = user;
    if (f->old.fd >= 0) {
        drain(f, &f->old);
        if (g_get_monotonic_time() - f->old.old_since > MW_FOLLOW_OLD_KEEP_US)
            gen_close(f, &f->old);
    }
    if (f->cur.fd < 0 && !gen_open(f, &f->cur))
        return f->st.lines - before;
    struct stat st;
    if (fstat(f->cur.fd, &st) == 0 && st.st_size < f->cur.off) { /* truncated in place */
        f->st.truncated++;
        if (f->cur.plen && !f->cur.cutting)
            hand(f, &f->cur);
        f->cur.plen = 0;
        f->cur.cutting = false;
        f->cur.off = 0;
        f->cur.no = 0;
    }
    drain(f, &f->cur);
    if (name_moved(f) == 1) { /* renamed away and a new file took the name */
        f->st.renamed++;
        gen_close(f, &f->old);
        gen tmp = f->old;
        f->old = f->cur;
        f->old.old_since = g_get_monotonic_time();
        f->cur = tmp;
        if (gen_open(f, &f->cur))
            drain(f, &f->cur);
    }
    return f->st.lines - before;
}

uint64_t mw_follow_finish(mw_follow *f, mw_follow_line_cb cb, void *user)
{
    uint64_t n = mw_follow_poll(f, cb, user);
    uint64_t before = f->st.lines;
    gen_close(f, &f->old);
    gen_close(f, &f->cur);
    return n + f->st.lines - before;
}

const mw_follow_stats *mw_follow_stats_get(const mw_follow *f)
{
    return &f->st;
}

int mw_follow_dir_fd(const mw_follow *f)
{
    return f->dir_fd;
}

const char *mw_follow_path(const mw_follow *f)
{
    return f->path;
}

void mw_follow_free(mw_follow *f)
{
    if (!f)
        return;
    if (f->cur.fd >= 0)
        close(f->cur.fd);
    if (f->old.fd >= 0)
        close(f->old.fd);
    close(f->dir_fd);
    g_free(f->cur.part);
    g_free(f->old.part);
    g_free(f->chunk);
    g_free(f->path);
    g_free(f->base);
    g_free(f);
}
