#define _GNU_SOURCE /* fopencookie */
#include "input/capture.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <glib.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "input/decode.h"
#include "input/files/bpf.h"
#include "input/format/capfile.h"
#include "input/format/pcapfile.h"
#include "input/prefetch.h"
#include "input/linktype.h"

struct mw_capture {
    pcap_t *pcap;        /* NULL for pcapng, read by file's own reader */
    mw_capfile *file;    /* compression and pcapng (input/format/capfile.h) */
    FILE *fp;            /* the file (for offsets) */
    int64_t offset;      /* bytes read so far, as of the packet being analysed */
    char *path;
    int dlt;
    int64_t size;
    mw_capture_observer observe;
    void *observe_user;
    mw_capture_sink sink; /* set: packets go there instead of to an engine */
    uint64_t limit;      /* packets to read at most, 0: all */
    uint64_t frames;     /* packets read */
    int64_t last_ts_us;  /* the time of the last packet read (the one being analysed) */
    int fd;              /* the descriptor read */
    struct pipe_src *src; /* a pipe's reader, or NULL */
    mw_bpf *bpf;         /* the BPF filter, or NULL */
    bool raw_ok;         /* a plain pcap file: records read by raw, not libpcap */
    mw_pcapfile raw;
    const char *iname;   /* the name shown, interned (for evidence) */
    /* read one packet at a time (the merge of several files): the packet read ahead */
    int head_rc;         /* 1: head holds a packet; 0: at the end; -1: read error */
    bool head_valid;     /* head_rc is for the packet not yet taken */
    struct pcap_pkthdr head_h;
    const uint8_t *head_data;
    int head_dlt;
    int64_t head_offset;
    char *head_why;      /* the read error */
};

/* A pipe, a FIFO or a terminal is read through this (a fopencookie stream): before each
 * read that would block, the packets read so far go to the analysis (prefetch.h), and a
 * stop request ends the read instead of waiting for more data forever. */
typedef struct pipe_src {
    int fd;
    void *reader; /* set by the prefetch reader while it runs */
} pipe_src;

/* How often a read waiting for data looks for a stop request. */
#define MW_CAPTURE_POLL_MS 100

static ssize_t pipe_read(void *cookie, char *buf, size_t size)
{
    pipe_src *src = cookie;
    bool told = false;
    for (;;) {
        if (mw_prefetch_stopping())
            return 0; /* as at the end of the stream */
        struct pollfd pfd = { .fd = src->fd, .events = POLLIN };
        int n = poll(&pfd, 1, told ? MW_CAPTURE_POLL_MS : 0);
        if (n > 0) {
            mw_prefetch_idle(src->reader, false);
            ssize_t got = read(src->fd, buf, size);
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            return got;
        }
        if (n < 0 && errno != EINTR)
            return -1;
        if (!told) {
            mw_prefetch_idle(src->reader, true);
            told = true;
        }
    }
}

static int pipe_close(void *cookie)
{
    pipe_src *src = cookie;
    int rc = src->fd == STDIN_FILENO ? 0 : close(src->fd);
    g_free(src);
    return rc;
}

static FILE *pipe_stream(int fd, pipe_src **out)
{
    pipe_src *src = g_new0(pipe_src, 1);
    src->fd = fd;
    cookie_io_functions_t io = { .read = pipe_read, .close = pipe_close };
    FILE *fp = fopencookie(src, "r", io);
    if (!fp)
        g_free(src);
    *out = fp ? src : NULL;
    return fp;
}

void mw_capture_stop(void)
{
    mw_prefetch_stop();
}

bool mw_capture_stopped(void)
{
    return mw_prefetch_stopping();
}

/* stdio buffer of a capture being read */
#define MW_CAPTURE_READ_BUFFER (256 * 1024)

static const char *display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "(stdin)" : path;
}

static mw_capture *open_checked(mw_capture *c, pcap_t *p, int dlt, char **err);

/* The stream for path: a regular file through stdio with a large buffer, anything else
 * (stdin on a pipe, a FIFO, /dev/stdin, -r <(...)) through pipe_stream. */
static FILE *open_stream(const char *path, int64_t *size, pipe_src **src, char **err)
{
    const char *name = display_name(path);
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        *err = g_strdup_printf("%s: %s%s", name, errno == ENOENT ? "" : "cannot read: ",
                               g_strerror(errno));
        if (fd > STDIN_FILENO)
            close(fd);
        return NULL;
    }
    *size = -1;
    *src = NULL;
    const char *why = S_ISDIR(st.st_mode)                      ? "is a directory, not a capture file"
                      : S_ISREG(st.st_mode) && st.st_size == 0 ? "empty file, not a pcap or pcapng capture"
                                                               : NULL;
    if (why) {
        *err = g_strdup_printf("%s: %s", name, why);
        if (!is_stdin)
            close(fd);
        return NULL;
    }
    FILE *fp;
    if (S_ISREG(st.st_mode)) {
        *size = is_stdin ? -1 : (int64_t)st.st_size;
        fp = is_stdin ? stdin : fdopen(fd, "rb");
    } else {
        fp = pipe_stream(fd, src);
    }
    if (!fp) {
        *err = g_strdup_printf("%s: cannot read: %s", name, g_strerror(errno));
        if (!is_stdin)
            close(fd);
    }
    return fp;
}

mw_capture *mw_capture_open(const char *path, char **err)
{
    const char *name = display_name(path);
    int64_t size;
    pipe_src *src;
    FILE *fp = open_stream(path, &size, &src, err);
    if (!fp)
        return NULL;
    int fd = src ? src->fd : fileno(fp);
    /* Opened here rather than by pcap_open_offline so that the stream gets a large
     * buffer: with stdio's default (4 KiB) reading a capture costs one read(2) per
     * 4 KiB, a tenth of the run on a file of short sessions. */
    setvbuf(fp, NULL, _IOFBF, MW_CAPTURE_READ_BUFFER);
    /* One thread reads it: libpcap's two freads per packet need not take the stream's
     * lock (glibc, stdio_ext.h). */
    __fsetlocking(fp, FSETLOCKING_BYCALLER);
    mw_capfile *file = mw_capfile_open(fp, name, err); /* owns fp from here on */
    if (!file)
        return NULL;
    mw_capture *c = g_new0(mw_capture, 1);
    *c = (mw_capture){ .file = file, .fp = fp, .path = g_strdup(path), .size = size, .fd = fd,
                       .src = src, .iname = g_intern_string(name), .head_offset = -1 };
    if (mw_capfile_is_pcapng(file))
        return open_checked(c, NULL, mw_capfile_first_dlt(file), err);
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    /* Microsecond timestamps whatever the file holds: records carry microseconds.
     * pcap_fopen_offline closes the stream on success (pcap_close), not on failure. */
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(mw_capfile_stream(file),
                                                         PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!p) {
        mw_capfile_close(file);
        g_free(c->path);
        g_free(c);
        if (strstr(errbuf, "unknown file format") || strstr(errbuf, "truncated dump file") ||
            strstr(errbuf, "bad dump file format"))
            *err = g_strdup_printf("%s: not a pcap or pcapng capture (%s)", name, errbuf);
        else
            *err = g_strdup_printf("%s: cannot read: %s", name, errbuf);
        return NULL;
    }
    mw_capfile_handed_over(file);
    /* a plain pcap regular file: read without libpcap's per-packet copies (pcapfile.h) */
    size_t head_len;
    const uint8_t *head = mw_capfile_head(file, &head_len);
    c->raw_ok = !src && size >= 0 && mw_capfile_compression(file) == MW_COMPRESS_NONE &&
                mw_pcapfile_init(&c->raw, fd, head, head_len, p);
    return open_checked(c, p, pcap_datalink(p), err);
}

/* The link type checked (for pcapng, the first interface's), the capture made. */
static mw_capture *open_checked(mw_capture *c, pcap_t *p, int dlt, char **err)
{
    const char *name = display_name(c->path);
    if (!mw_linktype_supported(dlt)) {
        const char *dname = pcap_datalink_val_to_name(dlt);
        const char *ddesc = pcap_datalink_val_to_description(dlt);
        *err = g_strdup_printf("%s: unsupported link type %s (%s, DLT %d); mailwire reads "
                               "Ethernet, Linux cooked, raw IP and BSD loopback captures",
                               name, dname ? dname : "?", ddesc ? ddesc : "unknown", dlt);
        if (p)
            pcap_close(p);
        mw_capfile_close(c->file);
        g_free(c->path);
        g_free(c);
        return NULL;
    }
    c->pcap = p;
    c->dlt = dlt;
    return c;
}

typedef struct {
    mw_capture *c;
    mw_engine *e;
    uint64_t frame;
} run_state;

/* The reader thread's share of each packet: its link, IP and TCP headers. It keeps no
 * state: a fragment is only marked (MW_DECODE_FRAGMENT) and reassembled by the engine on
 * the analysis thread (input/defrag.h). */
typedef mw_capture_note decoded;

/* Decoded with its link type, unless the BPF filter leaves it out (counted as filtered)
 * or mailwire does not decode the link type (counted as unsupported, and by capfile). */
static void decode_one(mw_capture *c, int dlt, const struct pcap_pkthdr *h,
                       const uint8_t *data, decoded *d)
{
    bool supported = mw_linktype_supported(dlt);
    if (supported && (!c->bpf || mw_bpf_match(c->bpf, dlt, h, data))) {
        d->ds = mw_decode(dlt, data, h->caplen, &d->pkt);
        return;
    }
    memset(&d->pkt, 0, sizeof d->pkt);
    d->ds = MW_DECODE_SKIP;
    d->pkt.reason = supported ? MW_DROP_FILTERED : MW_DROP_UNSUPPORTED;
}

/* On the reader thread: the filter was compiled for the file's one link type at open. */
static void decode_on_reader(void *user, const struct pcap_pkthdr *h, const uint8_t *data,
                             void *note)
{
    mw_capture *c = user;
    decoded *d = note;
    if (!c->bpf) /* the file's one link type was found supported at open */
        d->ds = mw_decode(c->dlt, data, h->caplen, &d->pkt);
    else
        decode_one(c, c->dlt, h, data, d);
    d->hash = d->ds == MW_DECODE_TCP && c->sink.tcp_hash ? c->sink.tcp_hash(&d->pkt) : 0;
}

static void on_packet(void *user, const struct pcap_pkthdr *h, const uint8_t *data,
                      const void *note, int64_t offset)
{
    (void)data;
    run_state *rs = user;
    mw_capture *c = rs->c;
    const decoded *d = note;
    rs->frame++;
    c->frames++;
    c->offset = offset;
    int64_t ts = mw_ts_us(&h->ts);
    c->last_ts_us = ts;
    if (c->observe)
        c->observe(c->observe_user, c, rs->frame, ts);
    if (c->sink.decoded)
        c->sink.decoded(c->sink.user, c, d->ds, &d->pkt, rs->frame, ts);
    else
        mw_engine_decoded(rs->e, d->ds, &d->pkt, rs->frame, ts);
}

/* pcapng: read on this thread (prefetch.c drives libpcap), each packet decoded with its
 * own interface's link type. False: stop (-c COUNT reached, or a stop request). */
static bool on_pcapng_packet(void *user, const struct pcap_pkthdr *h, const uint8_t *data,
                             int dlt, int64_t offset)
{
    run_state *rs = user;
    decoded d;
    decode_one(rs->c, dlt, h, data, &d);
    on_packet(user, h, data, &d, offset);
    return !(rs->c->limit && rs->frame >= rs->c->limit) && !mw_capture_stopped();
}

/* What the pcapng reader skipped, after any other warning. */
static void add_skipped(const mw_capture *c, char **warn)
{
    char *skipped = mw_capfile_skipped(c->file);
    if (!skipped)
        return;
    char *w = *warn ? g_strdup_printf("%s; %s", *warn, skipped)
                    : g_strdup_printf("%s: %s", display_name(c->path), skipped);
    g_free(*warn);
    g_free(skipped);
    *warn = w;
}

/* How a read ended (rc: -1 on an error, why its reason): an error before any packet, a
 * warning after some; then what the pcapng reader skipped. */
static bool read_ended(mw_capture *c, int rc, char *why, char **err, char **warn)
{
    if (rc == -1 && mw_capfile_stream_error(c->file)) { /* the decompressor's reason */
        g_free(why);
        why = g_strdup(mw_capfile_stream_error(c->file));
    }
    bool ok = true;
    if (rc == -1 && !mw_capture_stopped()) { /* a stop cuts a pipe short on purpose */
        if (c->frames == 0) {
            *err = g_strdup_printf("%s: truncated or corrupt capture: %s",
                                   display_name(c->path), why);
            ok = false;
        } else {
            *warn = g_strdup_printf("%s: capture cut short after packet %" G_GUINT64_FORMAT
                                    " (%s); the sessions read so far are written",
                                    display_name(c->path), c->frames, why);
        }
    }
    g_free(why);
    if (ok)
        add_skipped(c, warn);
    return ok;
}

/* The sink's batch hooks (mw_capture_sink), through the reader's user (run_state). */
static void batch_begin(void *user, mw_prefetch_batch *b)
{
    const mw_capture *c = ((run_state *)user)->c;
    c->sink.batch_begin(c->sink.user, b);
}

static void batch_end(void *user, mw_prefetch_batch *b)
{
    const mw_capture *c = ((run_state *)user)->c;
    c->sink.batch_end(c->sink.user, b);
}

static void settle(void *user)
{
    const mw_capture *c = ((run_state *)user)->c;
    c->sink.settle(c->sink.user);
}

/* A reader's batch whole to the sink (mw_capture_sink.batch): what on_packet keeps per
 * packet, kept for the batch (the observer still per packet). */
static void batch_take(void *user, mw_prefetch_batch *b)
{
    run_state *rs = user;
    mw_capture *c = rs->c;
    mw_prefetch_view v;
    mw_prefetch_batch_view(b, &v);
    const uint64_t first = rs->frame + 1;
    c->offset = v.offset;
    for (size_t i = 0; c->observe && i < v.count; i++) {
        c->last_ts_us = mw_ts_us(&mw_prefetch_view_entry(&v, i)->h.ts);
        rs->frame++;
        c->frames++;
        c->observe(c->observe_user, c, rs->frame, c->last_ts_us);
    }
    if (!c->observe && v.count) {
        c->last_ts_us = mw_ts_us(&mw_prefetch_view_entry(&v, v.count - 1)->h.ts);
        rs->frame += v.count;
        c->frames += v.count;
    }
    c->sink.batch(c->sink.user, c, b, first);
}

bool mw_capture_run(mw_capture *c, mw_engine *e, char **err, char **warn)
{
    run_state rs = { c, e, 0 };
    if (c->sink.new_file)
        c->sink.new_file(c->sink.user);
    else
        mw_engine_new_file(e);
    /* The file is read and its headers decoded on a second thread (prefetch.h), the
     * packets analysed here. A read error ends the run with what came before it
     * delivered. */
    mw_prefetch pf = { .p = c->pcap, .fp = c->fp, .raw = c->raw_ok ? &c->raw : NULL, .work = decode_on_reader, .work_user = c,
                       .note_size = sizeof(decoded), .cb = on_packet, .user = &rs,
                       .max_packets = (int)c->limit,
                       .idle_slot = c->src ? &c->src->reader : NULL };
    if (c->sink.batch_begin) {
        pf.batch_begin = batch_begin;
        pf.batch_end = batch_end;
        pf.settle = settle;
        pf.batches = c->sink.batches;
        pf.here = c->sink.here;
        pf.take = c->sink.batch ? batch_take : NULL;
    }
    char *why = NULL;
    int rc = c->pcap ? mw_prefetch_run(&pf, &why)
                     : mw_capfile_run_pcapng(c->file, on_pcapng_packet, &rs, &why);
    return read_ended(c, rc, why, err, warn);
}

/* ---------- one packet at a time, on this thread (the merge) ---------- */

int mw_capture_peek(mw_capture *c, int64_t *ts_us)
{
    if (!c->head_valid) {
        c->head_valid = true;
        if (mw_capture_stopped()) {
            c->head_rc = 0;
        } else if (c->pcap) {
            struct pcap_pkthdr *h;
            const u_char *data;
            int rc = pcap_next_ex(c->pcap, &h, &data);
            c->head_rc = rc == 1 ? 1 : rc == -2 ? 0 : -1;
            if (rc == 1) {
                c->head_h = *h;
                c->head_data = data;
                c->head_dlt = c->dlt;
                /* ftell costs a system call: the offset is for progress only */
                if (c->frames % MW_CAPFILE_OFFSET_EVERY == 0) {
                    long off = c->size >= 0 ? ftell(c->fp) : -1;
                    c->head_offset = off < 0 ? -1 : (int64_t)off;
                }
            } else if (rc == -1) {
                c->head_why = g_strdup(pcap_geterr(c->pcap));
            }
        } else {
            c->head_rc = mw_capfile_next_pcapng(c->file, &c->head_h, &c->head_data,
                                                &c->head_dlt, &c->head_offset, &c->head_why);
        }
    }
    if (c->head_rc == 1)
        *ts_us = mw_ts_us(&c->head_h.ts);
    return c->head_rc;
}

void mw_capture_take(mw_capture *c, mw_engine *e)
{
    if (!c->head_valid || c->head_rc != 1)
        return;
    run_state rs = { c, e, c->frames };
    decoded d;
    decode_one(c, c->head_dlt, &c->head_h, c->head_data, &d);
    on_packet(&rs, &c->head_h, c->head_data, &d, c->head_offset);
    c->head_valid = false;
}

bool mw_capture_pull_end(mw_capture *c, char **err, char **warn)
{
    char *why = c->head_why;
    c->head_why = NULL;
    return read_ended(c, c->head_valid ? c->head_rc : 0, why, err, warn);
}

bool mw_capture_set_filter(mw_capture *c, const char *expr, char **err)
{
    if (!expr)
        return true;
    c->bpf = mw_bpf_new(expr);
    return mw_bpf_prepare(c->bpf, c->pcap, c->dlt, err);
}

const char *mw_capture_name(const mw_capture *c)
{
    return c->iname;
}

const char *mw_capture_iface_label(const mw_capture *c)
{
    if (c->pcap) /* classic pcap: one interface (asked for every packet) */
        return NULL;
    if (mw_capfile_iface_count(c->file) < 2 || mw_capfile_iface(c->file) < 0)
        return NULL;
    const char *name = mw_capfile_iface_name(c->file);
    if (name)
        return g_intern_string(name);
    char num[24];
    g_snprintf(num, sizeof num, "#%d", mw_capfile_iface(c->file));
    return g_intern_string(num);
}

void mw_capture_set_sink(mw_capture *c, const mw_capture_sink *sink)
{
    c->sink = *sink;
}

void mw_capture_observe(mw_capture *c, mw_capture_observer fn, void *user)
{
    c->observe = fn;
    c->observe_user = user;
}

int64_t mw_capture_offset(const mw_capture *c)
{
    return c->size < 0 ? -1 : c->offset;
}

int64_t mw_capture_size(const mw_capture *c)
{
    return c->size;
}

void mw_capture_limit(mw_capture *c, uint64_t max_packets)
{
    c->limit = max_packets;
}

uint64_t mw_capture_frames(const mw_capture *c)
{
    return c->frames;
}

int64_t mw_capture_last_ts(const mw_capture *c)
{
    return c->last_ts_us;
}

int mw_capture_fd(const mw_capture *c)
{
    return c->fd;
}

int mw_capture_dlt(const mw_capture *c)
{
    return c->dlt;
}

int mw_capture_iface(const mw_capture *c)
{
    return mw_capfile_iface(c->file);
}

const char *mw_capture_iface_name(const mw_capture *c)
{
    return mw_capfile_iface_name(c->file);
}

bool mw_capture_multi_linktype(const mw_capture *c)
{
    return mw_capfile_mixed(c->file);
}

void mw_capture_on_secrets(mw_capture *c, mw_capture_secrets_fn fn, void *user)
{
    mw_capfile_on_secrets(c->file, fn, user);
}

size_t mw_capture_secrets_count(const mw_capture *c)
{
    return mw_capfile_secrets_count(c->file);
}

void mw_capture_close(mw_capture *c)
{
    if (!c)
        return;
    if (c->pcap)
        pcap_close(c->pcap);
    mw_capfile_close(c->file);
    mw_bpf_free(c->bpf);
    g_free(c->head_why);
    g_free(c->path);
    g_free(c);
}
