/* Output rotation (outfile.h): the file being written renamed aside to NAME.STAMP and a new
 * NAME created, or NAME reopened on SIGHUP; all through the directory's descriptor. */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#include "output/outfile.h"
#include "core/fs/dirfd.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_uint hup_generation;

static void on_hup(int sig)
{
    (void)sig;
    atomic_fetch_add(&hup_generation, 1);
}

void mw_rotor_catch_sighup(void)
{
    static bool installed;
    if (installed)
        return;
    installed = true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
}

struct mw_rotor {
    char *opt, *path, *base;
    int dir_fd;
    mw_rotate_opts o;
    mw_file_id *inputs;
    size_t ninputs;
    dev_t dev;             /* the file written now */
    ino_t ino;
    int64_t bytes;         /* in it */
    uint64_t records;      /* written to it (a file is never rotated before its first) */
    int64_t opened_us;     /* when it was started (monotonic), for the interval */
    int64_t opened_real_us; /* the same, wall clock: its name when renamed aside */
    unsigned hup_seen;
    bool hup_due;
    uint64_t count;
    char *error;
};

/* "<number><unit>" with the units given; false when s is not that. */
static bool number_unit(const char *s, const char *units, const int64_t *mult, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    gint64 v = g_ascii_strtoll(s, &end, 10);
    if (errno || end == s || v <= 0)
        return false;
    int64_t m = 1;
    if (*end) {
        const char *u = strchr(units, g_ascii_tolower(*end));
        if (!u)
            return false;
        m = mult[u - units];
        bool size_unit = strchr("kmg", g_ascii_tolower(*end)) != NULL;
        end++;
        /* "100M", "100MB", "100MiB" alike */
        if (*end && !(size_unit && (!g_ascii_strcasecmp(end, "b") ||
                                    !g_ascii_strcasecmp(end, "ib"))))
            return false;
    }
    if (v > G_MAXINT64 / m)
        return false;
    *out = v * m;
    return true;
}

bool mw_rotate_parse_size(const char *opt, const char *s, int64_t *bytes, char **err)
{
    static const int64_t mult[] = { 1, 1024, 1024 * 1024, 1024LL * 1024 * 1024 };
    if (!number_unit(s, "bkmg", mult, bytes) || *bytes < MW_ROTATE_MIN_BYTES) {
        *err = g_strdup_printf("%s %s: give a size of at least %d bytes, e.g. 100M, 1G, "
                               "512k", opt, s, MW_ROTATE_MIN_BYTES);
        return false;
    }
    return true;
}

bool mw_rotate_parse_duration(const char *opt, const char *s, int64_t *us, char **err)
{
    static const int64_t mult[] = { 1, 60, 3600, 86400 };
    int64_t secs = 0;
    if (!number_unit(s, "smhd", mult, &secs) || secs < MW_ROTATE_MIN_INTERVAL_S ||
        secs > G_MAXINT64 / G_USEC_PER_SEC) {
        *err = g_strdup_printf("%s %s: give a duration of at least %d s, e.g. 3600, 30m, "
                               "1h, 1d", opt, s, MW_ROTATE_MIN_INTERVAL_S);
        return false;
    }
    *us = secs * G_USEC_PER_SEC;
    return true;
}

static void started(mw_rotor *r, const struct stat *st)
{
    r->dev = st->st_dev;
    r->ino = st->st_ino;
    r->bytes = st->st_size;
    r->records = st->st_size > 0; /* reopened with content: not empty */
    r->opened_us = g_get_monotonic_time();
    r->opened_real_us = g_get_real_time();
}

mw_rotor *mw_rotor_new(const char *opt, const char *path, int fd, const mw_rotate_opts *o,
                       const mw_file_id *inputs, size_t ninputs, char **err)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (o->max_bytes || o->interval_us)
            *err = g_strdup_printf("%s %s: --rotate-size and --rotate-interval need a regular "
                                   "file", opt, path);
        return NULL;
    }
    char *doing = g_strdup_printf("%s %s: cannot rotate", opt, path), *base = NULL;
    int dfd = mw_dirfd_open(path, doing, &base, err);
    g_free(doing);
    if (dfd < 0)
        return NULL;
    mw_rotor *r = g_new0(mw_rotor, 1);
    r->opt = g_strdup(opt);
    r->path = g_strdup(path);
    r->base = base;
    r->dir_fd = dfd;
    r->o = *o;
    r->inputs = g_memdup2(inputs, ninputs * sizeof *inputs);
    r->ninputs = ninputs;
    r->hup_seen = atomic_load(&hup_generation);
    started(r, &st);
    return r;
}

bool mw_rotor_due(mw_rotor *r, size_t n)
{
    if (!r || r->error)
        return false;
    unsigned gen = atomic_load(&hup_generation);
    if (gen != r->hup_seen) {
        r->hup_seen = gen;
        r->hup_due = true;
    }
    if (r->hup_due)
        return true;
    if (r->o.max_bytes && r->records && r->bytes + (int64_t)n > r->o.max_bytes)
        return true;
    return r->o.interval_us && r->records &&
           g_get_monotonic_time() - r->opened_us >= r->o.interval_us;
}

void mw_rotor_wrote(mw_rotor *r, size_t n)
{
    if (r) {
        r->bytes += (int64_t)n;
        r->records++;
    }
}

void mw_rotor_wrote_header(mw_rotor *r, size_t n)
{
    if (r)
        r->bytes += (int64_t)n;
}

static int fail(mw_rotor *r, const char *what, int e)
{
    g_free(r->error);
    r->error = g_strdup_printf("%s %s: cannot rotate: %s: %s", r->opt, r->path, what,
                               g_strerror(e));
    return -1;
}

static bool is_input(const mw_rotor *r, const struct stat *st)
{
    for (size_t i = 0; i < r->ninputs; i++)
        if (r->inputs[i].dev == st->st_dev && r->inputs[i].ino == st->st_ino)
            return true;
    return false;
}

/* NAME renamed aside to NAME.STAMP[-N], never over an existing file. */
static int rename_aside(mw_rotor *r)
{
    GDateTime *t = g_date_time_new_from_unix_utc(r->opened_real_us / G_USEC_PER_SEC);
    char *stamp = g_date_time_format(t, "%Y%m%dT%H%M%SZ");
    g_date_time_unref(t);
    int rc = -1, e = EEXIST;
    for (int i = 0; i <= MW_ROTATE_MAX_SUFFIX && e == EEXIST; i++) {
        char *to = i ? g_strdup_printf("%s.%s-%04d", r->base, stamp, i)
                     : g_strdup_printf("%s.%s", r->base, stamp);
        rc = renameat2(r->dir_fd, r->base, r->dir_fd, to, RENAME_NOREPLACE);
        e = rc == 0 ? 0 : errno;
        if (rc != 0 && (e == EINVAL || e == ENOSYS)) { /* no RENAME_NOREPLACE here */
            struct stat st;
            if (fstatat(r->dir_fd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                e = EEXIST;
            } else {
                rc = renameat(r->dir_fd, r->base, r->dir_fd, to);
                e = rc == 0 ? 0 : errno;
            }
        }
        if (rc == 0) { /* what was moved must be ours: the name may have been replaced
                        * between the look and the rename */
            struct stat st;
            if (fstatat(r->dir_fd, to, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != r->dev ||
                st.st_ino != r->ino) {
                renameat2(r->dir_fd, to, r->dir_fd, r->base, RENAME_NOREPLACE); /* put back */
                g_free(to);
                g_free(stamp);
                return fail(r, "the file under the name was replaced meanwhile", EEXIST);
            }
        }
        g_free(to);
    }
    g_free(stamp);
    if (rc != 0)
        return fail(r, "rename", e);
    return 0;
}

/* Open NAME: create (O_EXCL) after a rename, else create or append (SIGHUP). */
static int open_next(mw_rotor *r, bool excl, struct stat *st)
{
    int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (excl ? O_EXCL : O_APPEND);
    int fd = openat(r->dir_fd, r->base, flags, 0644);
    if (fd < 0)
        return fail(r, errno == ELOOP ? "a symbolic link took its name" : "open", errno);
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return fail(r, "not a regular file", EINVAL);
    }
    if (is_input(r, st)) {
        close(fd);
        return fail(r, "it is an input of this run", EEXIST);
    }
    return fd;
}

int mw_rotor_next(mw_rotor *r, bool *fresh)
{
    struct stat named, st;
    bool ours = fstatat(r->dir_fd, r->base, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
                named.st_dev == r->dev && named.st_ino == r->ino;
    bool hup = r->hup_due;
    r->hup_due = false;
    if (hup && ours) /* nobody moved it: go on writing where we are */
        return -2;
    if (!hup && ours && rename_aside(r) != 0)
        return -1;
    /* after our rename NAME must not exist; after logrotate's it may (its "create") */
    int fd = open_next(r, !hup && ours, &st);
    if (fd < 0)
        return -1;
    *fresh = st.st_size == 0;
    if (r->o.pcap && !*fresh) {
        close(fd);
        return fail(r, "another file under the name is not empty (a pcap is not appended to)",
                    EEXIST);
    }
    started(r, &st);
    r->count++;
    return fd;
}

bool mw_rotor_swap_stream(mw_rotor *r, FILE *fp)
{
    errno = 0;
    if (fflush(fp) != 0 || ferror(fp))
        return fail(r, "write", errno ? errno : EIO), false;
    bool fresh = false;
    int fd = mw_rotor_next(r, &fresh);
    if (fd == -2)
        return true;
    if (fd < 0)
        return false;
    int rc = dup3(fd, fileno(fp), O_CLOEXEC); /* dup3: the sandbox allows it, not dup2 */
    int e = errno;
    close(fd);
    if (rc < 0)
        return fail(r, "dup3", e), false;
    return true;
}

const char *mw_rotor_error(const mw_rotor *r)
{
    return r ? r->error : NULL;
}

int mw_rotor_dir_fd(const mw_rotor *r)
{
    return r ? r->dir_fd : -1;
}

uint64_t mw_rotor_count(const mw_rotor *r)
{
    return r ? r->count : 0;
}

void mw_rotor_free(mw_rotor *r)
{
    if (!r)
        return;
    close(r->dir_fd);
    g_free(r->opt), g_free(r->path), g_free(r->base), g_free(r->inputs), g_free(r->error);
    g_free(r);
}
