#include "output/save_flagged.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/decode.h"
#include "input/format/capfile.h"
#include "input/linktype.h"

/* The connection's addresses and ports in a canonical order, so both directions match. */
typedef struct {
    uint8_t family;
    uint8_t lo[16], hi[16];
    uint16_t lo_port, hi_port;
} tuple;

typedef struct {
    tuple key;
    int64_t start_us, end_us;
    uint32_t file_first, file_last;
    int dlt;
    char *path;             /* DIR/NAME, for messages */
    char *name;             /* the file's name in DIR */
    FILE *fp;               /* open, or NULL */
    bool created;
    uint64_t written;
    GList *lru_link;        /* in mw_saver.lru while its file is open */
} saved;

struct mw_saver {
    char *dir;
    int dir_fd;             /* every file is created relative to it (openat) */
    GArray *input_fds;      /* int: each input, kept open for the second pass */
    int error;              /* errno of the first write that failed */
    char *error_path;
    const mw_inputs *inputs;
    GArray *sessions;       /* saved */
    uint64_t dropped;
    GHashTable *index;      /* tuple* -> GArray of guint (indexes into sessions) */
    GQueue lru;             /* indexes of the sessions with an open file, oldest first */
};

static guint tuple_hash(gconstpointer p)
{
    const tuple *t = p;
    guint h = 2166136261u;
    const uint8_t *b = (const uint8_t *)t;
    for (size_t i = 0; i < sizeof *t; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static gboolean tuple_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(tuple)) == 0;
}

static void make_tuple(tuple *t, uint8_t family, const uint8_t *a, uint16_t ap, const uint8_t *b,
                       uint16_t bp)
{
    memset(t, 0, sizeof *t);
    t->family = family;
    size_t n = family == 6 ? 16 : 4;
    int c = memcmp(a, b, n);
    if (c > 0 || (c == 0 && ap > bp)) {
        const uint8_t *x = a;
        a = b;
        b = x;
        uint16_t y = ap;
        ap = bp;
        bp = y;
    }
    memcpy(t->lo, a, n);
    memcpy(t->hi, b, n);
    t->lo_port = ap;
    t->hi_port = bp;
}

mw_saver *mw_saver_new(const char *dir, const mw_inputs *inputs, char **err)
{
    /* Created when missing (only the last component, as mkdir does); owner-only, for the
     * packets hold what the sessions carried. */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        *err = g_strdup_printf("--save-flagged %s: cannot create: %s", dir, g_strerror(errno));
        return NULL;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        *err = g_strdup_printf("--save-flagged %s: %s", dir,
                               errno == ENOTDIR ? "not a directory" : g_strerror(errno));
        return NULL;
    }
    if (faccessat(fd, ".", W_OK | X_OK, 0) != 0) {
        *err = g_strdup_printf("--save-flagged %s: cannot write there: %s", dir,
                               g_strerror(errno));
        close(fd);
        return NULL;
    }
    mw_saver *sv = g_new0(mw_saver, 1);
    sv->dir = g_strdup(dir);
    sv->dir_fd = fd;
    sv->input_fds = g_array_new(FALSE, FALSE, sizeof(int));
    sv->inputs = inputs;
    sv->sessions = g_array_new(FALSE, TRUE, sizeof(saved));
    sv->index = g_hash_table_new_full(tuple_hash, tuple_equal, g_free,
                                      (GDestroyNotify)g_array_unref);
    return sv;
}

bool mw_saver_add_input(mw_saver *sv, const char *path, char **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = g_strdup_printf("--save-flagged: %s: cannot read: %s", path, g_strerror(errno));
        return false;
    }
    g_array_append_val(sv->input_fds, fd);
    return true;
}

int mw_saver_dir_fd(const mw_saver *sv)
{
    return sv->dir_fd;
}

void mw_saver_session(const mw_session *s, void *saver)
{
    mw_saver *sv = saver;
    if (!s->flags)
        return;
    if (sv->sessions->len >= MW_SAVE_MAX_SESSIONS) {
        sv->dropped++;
        return;
    }
    saved x = { 0 };
    make_tuple(&x.key, s->client.family, s->client.addr, s->client.port, s->server.addr,
               s->server.port);
    x.start_us = s->ts_start_us;
    x.end_us = s->ts_end_us;
    x.file_first = (uint32_t)mw_inputs_file_of(sv->inputs, s);
    x.file_last = (uint32_t)mw_inputs_current(sv->inputs);
    const mw_input *in = mw_inputs_get(sv->inputs, x.file_first);
    x.dlt = in ? in->dlt : -1;
    int first = 0;
    while (!mw_session_has(s, (mw_flag)first))
        first++;
    x.name = g_strdup_printf("%s-%s", s->id, mw_flag_name((mw_flag)first)); /* + ".pcap" */
    g_array_append_val(sv->sessions, x);
    guint i = sv->sessions->len - 1;
    GArray *list = g_hash_table_lookup(sv->index, &x.key);
    if (!list) {
        list = g_array_new(FALSE, FALSE, sizeof(guint));
        g_hash_table_insert(sv->index, g_memdup2(&x.key, sizeof x.key), list);
    }
    g_array_append_val(list, i);
}

/* The first error is the one reported; nothing more is written after it. */
static void write_failed(mw_saver *sv, const saved *x, int e)
{
    if (sv->error)
        return;
    sv->error = e ? e : EIO;
    sv->error_path = g_strdup(x->path);
}

static void close_file(mw_saver *sv, saved *x)
{
    errno = 0;
    if (fclose(x->fp) != 0)
        write_failed(sv, x, errno);
    x->fp = NULL;
    g_queue_delete_link(&sv->lru, x->lru_link);
    x->lru_link = NULL;
}

/* The 24-byte pcap file header libpcap writes for dead's link type and snaplen. */
static bool file_header(pcap_t *dead, char **buf, size_t *len)
{
    FILE *ms = open_memstream(buf, len);
    pcap_dumper_t *d = ms ? pcap_dump_fopen(dead, ms) : NULL;
    if (!d) {
        if (ms)
            fclose(ms);
        return false;
    }
    pcap_dump_close(d);
    return true;
}

/* A new file in DIR, never over an existing name nor through a link (O_EXCL and
 * O_NOFOLLOW): a taken name (an earlier run, a saved file read again, a planted link)
 * gets "-2", "-3", ... */
static int create_file(mw_saver *sv, saved *x)
{
    for (int n = 1; n <= MW_SAVE_NAME_TRIES; n++) {
        char *name = n == 1 ? g_strdup_printf("%s.pcap", x->name)
                            : g_strdup_printf("%s-%d.pcap", x->name, n);
        int fd = openat(sv->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        if (fd >= 0 || errno != EEXIST) {
            g_free(x->path);
            x->path = g_build_filename(sv->dir, name, NULL);
            g_free(x->name);
            x->name = name;
            return fd;
        }
        g_free(name);
    }
    errno = EEXIST;
    return -1;
}

/* The session's output, opened (created, or reopened for appending) when needed. */
static FILE *file_for(mw_saver *sv, guint i, char **err)
{
    saved *x = &g_array_index(sv->sessions, saved, i);
    if (x->fp) { /* most recently used: to the tail */
        g_queue_unlink(&sv->lru, x->lru_link);
        g_queue_push_tail_link(&sv->lru, x->lru_link);
        return x->fp;
    }
    if (sv->lru.length >= MW_SAVE_MAX_OPEN) {
        guint oldest = GPOINTER_TO_UINT(g_queue_peek_head(&sv->lru));
        close_file(sv, &g_array_index(sv->sessions, saved, oldest));
    }
    int fd = x->created ? openat(sv->dir_fd, x->name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
                        : create_file(sv, x);
    x->fp = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!x->fp) {
        int e = errno;
        char *shown = x->path ? g_strdup(x->path) : g_strdup_printf("%s/%s.pcap", sv->dir, x->name);
        *err = g_strdup_printf("--save-flagged: %s: %s", shown, g_strerror(e));
        g_free(shown);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!x->created) {
        char *hdr = NULL;
        size_t len = 0;
        errno = 0;
        pcap_t *dead = pcap_open_dead_with_tstamp_precision(x->dlt, MW_SAVE_SNAPLEN,
                                                            PCAP_TSTAMP_PRECISION_MICRO);
        if (!dead || !file_header(dead, &hdr, &len) || fwrite(hdr, 1, len, x->fp) != len)
            write_failed(sv, x, errno);
        if (dead)
            pcap_close(dead);
        free(hdr);
        x->created = true;
    }
    g_queue_push_tail(&sv->lru, GUINT_TO_POINTER(i));
    x->lru_link = g_queue_peek_tail_link(&sv->lru);
    return x->fp;
}

/* One record, as libpcap writes it (struct pcap_sf_pkthdr: 32-bit seconds and
 * microseconds, caplen, len, in the host's order like the file header). */
static void write_packet(mw_saver *sv, saved *x, const struct pcap_pkthdr *h, const u_char *data)
{
    uint32_t rec[4] = { (uint32_t)h->ts.tv_sec, (uint32_t)h->ts.tv_usec, h->caplen, h->len };
    errno = 0;
    if (!sv->error && (fwrite(rec, sizeof rec, 1, x->fp) != 1 ||
                       fwrite(data, 1, h->caplen, x->fp) != h->caplen))
        write_failed(sv, x, errno);
}

/* An input read again, through the same format layer as the first pass (decompressed,
 * pcapng by its own reader with each packet's link type, classic pcap by libpcap). */
typedef struct {
    mw_capfile *f;
    pcap_t *p;            /* classic pcap; NULL for pcapng */
    int dlt;              /* classic pcap's link type */
} reread;

/* The input again, from the descriptor kept since the start (no open by name: the
 * sandbox allows none, and the name may point elsewhere by now). */
static bool reopen_input(mw_saver *sv, uint32_t file, const char *name, reread *rr, char **why)
{
    int fd = file < sv->input_fds->len ? g_array_index(sv->input_fds, int, file) : -1;
    int dfd = fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? dup(fd) : -1;
    FILE *fp = dfd >= 0 ? fdopen(dfd, "rb") : NULL;
    if (!fp) {
        *why = g_strdup(g_strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return false;
    }
    rr->p = NULL;
    rr->f = mw_capfile_open(fp, name, why); /* owns fp, also on failure */
    if (!rr->f)
        return false;
    if (mw_capfile_is_pcapng(rr->f))
        return true;
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    rr->p = pcap_fopen_offline_with_tstamp_precision(mw_capfile_stream(rr->f),
                                                     PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!rr->p) {
        *why = g_strdup(errbuf);
        mw_capfile_close(rr->f);
        return false;
    }
    mw_capfile_handed_over(rr->f);
    rr->dlt = pcap_datalink(rr->p);
    return true;
}

/* The next packet: 1 with it, 0 at the end or on an error (the first pass read it). */
static int reread_next(reread *rr, struct pcap_pkthdr *h, const u_char **data, int *dlt)
{
    if (!rr->p) {
        int64_t off;
        char *why = NULL;
        int rc = mw_capfile_next_pcapng(rr->f, h, data, dlt, &off, &why);
        g_free(why);
        return rc == 1;
    }
    struct pcap_pkthdr *ph;
    if (pcap_next_ex(rr->p, &ph, data) != 1)
        return 0;
    *h = *ph;
    *dlt = rr->dlt;
    return 1;
}

static void reread_close(reread *rr)
{
    if (rr->p)
        pcap_close(rr->p); /* closes the stream */
    mw_capfile_close(rr->f);
}

/* The sessions of file that the packet belongs to get it. */
static bool save_packet(mw_saver *sv, uint32_t file, const struct pcap_pkthdr *h,
                        const u_char *data, int dlt, char **err)
{
    mw_packet pkt;
    if (mw_decode(dlt, data, h->caplen, &pkt) != MW_DECODE_TCP)
        return true;
    tuple k;
    make_tuple(&k, pkt.family, pkt.src, pkt.sport, pkt.dst, pkt.dport);
    GArray *list = g_hash_table_lookup(sv->index, &k);
    if (!list)
        return true;
    int64_t ts = mw_ts_us(&h->ts);
    for (guint i = 0; i < list->len; i++) {
        guint xi = g_array_index(list, guint, i);
        saved *x = &g_array_index(sv->sessions, saved, xi);
        if (file < x->file_first || file > x->file_last || ts < x->start_us || ts > x->end_us)
            continue;
        if (!x->created && !x->written)
            x->dlt = dlt; /* a pcapng's interfaces differ: the session's own */
        else if (x->dlt != dlt)
            continue;
        if (!file_for(sv, xi, err))
            return false;
        write_packet(sv, x, h, data);
        x->written++;
    }
    return true;
}

static bool pass_file(mw_saver *sv, uint32_t file, char **err)
{
    const mw_input *in = mw_inputs_get(sv->inputs, file);
    reread rr;
    char *why = NULL;
    if (!reopen_input(sv, file, in->name, &rr, &why)) {
        *err = g_strdup_printf("--save-flagged: %s: cannot read again: %s", in->name,
                               why ? why : "?");
        g_free(why);
        return false;
    }
    struct pcap_pkthdr h;
    const u_char *data;
    int dlt;
    bool ok = true;
    while (ok && reread_next(&rr, &h, &data, &dlt) == 1)
        ok = save_packet(sv, file, &h, data, dlt, err);
    reread_close(&rr);
    return ok;
}

bool mw_saver_run(mw_saver *sv, unsigned *written, char **note, char **err)
{
    *written = 0;
    *note = NULL;
    bool ok = true;
    for (uint32_t f = 0; ok && f < mw_inputs_count(sv->inputs); f++)
        ok = pass_file(sv, f, err);
    for (guint i = 0; i < sv->sessions->len; i++) {
        saved *x = &g_array_index(sv->sessions, saved, i);
        if (!x->fp && !x->created && ok) {
            /* no packet matched (should not happen): still an empty, valid capture */
            ok = file_for(sv, i, err) != NULL;
        }
        if (x->fp)
            close_file(sv, x);
        if (ok && !sv->error)
            (*written)++;
    }
    if (ok && sv->error) {
        *err = g_strdup_printf("--save-flagged: %s: cannot write: %s", sv->error_path,
                               g_strerror(sv->error));
        ok = false;
    }
    if (sv->dropped)
        *note = g_strdup_printf("--save-flagged: saved the first %d flagged sessions; %"
                                G_GUINT64_FORMAT " more were not saved", MW_SAVE_MAX_SESSIONS,
                                sv->dropped);
    return ok;
}

void mw_saver_free(mw_saver *sv)
{
    if (!sv)
        return;
    for (guint i = 0; i < sv->sessions->len; i++) {
        saved *x = &g_array_index(sv->sessions, saved, i);
        if (x->fp)
            close_file(sv, x);
        g_free(x->path);
        g_free(x->name);
    }
    for (guint i = 0; i < sv->input_fds->len; i++)
        close(g_array_index(sv->input_fds, int, i));
    g_array_free(sv->input_fds, TRUE);
    g_array_free(sv->sessions, TRUE);
    g_hash_table_destroy(sv->index);
    close(sv->dir_fd);
    g_free(sv->error_path);
    g_free(sv->dir);
    g_free(sv);
}
