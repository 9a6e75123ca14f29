#include "input/capture.h"

#include <errno.h>
#include <glib.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/stat.h>

#include "input/decode.h"
#include "input/prefetch.h"
#include "input/linktype.h"

struct mw_capture {
    pcap_t *pcap;
    FILE *fp;            /* the stream libpcap reads (owned by pcap) */
    int64_t offset;      /* bytes read so far, as of the packet being analysed */
    char *path;
    int dlt;
    int64_t size;
    mw_capture_observer observe;
    void *observe_user;
};

/* stdio buffer of a capture being read */
#define MW_CAPTURE_READ_BUFFER (256 * 1024)

static const char *display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "(stdin)" : path;
}

mw_capture *mw_capture_open(const char *path, char **err)
{
    const char *name = display_name(path);
    int64_t size = -1;
    if (strcmp(path, "-") != 0) {
        struct stat st;
        if (stat(path, &st) != 0) {
            *err = g_strdup_printf("%s: %s", name, g_strerror(errno));
            return NULL;
        }
        if (S_ISDIR(st.st_mode)) {
            *err = g_strdup_printf("%s: is a directory, not a capture file", name);
            return NULL;
        }
        if (st.st_size == 0) {
            *err = g_strdup_printf("%s: empty file, not a pcap or pcapng capture", name);
            return NULL;
        }
        if (S_ISREG(st.st_mode))
            size = (int64_t)st.st_size;
    }
    /* Opened here rather than by pcap_open_offline so that the stream gets a large
     * buffer: with stdio's default (4 KiB) reading a capture costs one read(2) per
     * 4 KiB, a tenth of the run on a file of short sessions. */
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!fp) {
        *err = g_strdup_printf("%s: cannot read: %s", name, g_strerror(errno));
        return NULL;
    }
    setvbuf(fp, NULL, _IOFBF, MW_CAPTURE_READ_BUFFER);
    /* One thread reads it: libpcap's two freads per packet need not take the stream's
     * lock (glibc, stdio_ext.h). */
    __fsetlocking(fp, FSETLOCKING_BYCALLER);
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    /* Microsecond timestamps whatever the file holds: records carry microseconds.
     * pcap_fopen_offline closes fp on success (pcap_close), not on failure. */
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO,
                                                         errbuf);
    if (!p) {
        if (fp != stdin)
            fclose(fp);
        if (strstr(errbuf, "unknown file format") || strstr(errbuf, "truncated dump file") ||
            strstr(errbuf, "bad dump file format"))
            *err = g_strdup_printf("%s: not a pcap or pcapng capture (%s)", name, errbuf);
        else
            *err = g_strdup_printf("%s: cannot read: %s", name, errbuf);
        return NULL;
    }
    int dlt = pcap_datalink(p);
    if (!mw_linktype_supported(dlt)) {
        const char *dname = pcap_datalink_val_to_name(dlt);
        const char *ddesc = pcap_datalink_val_to_description(dlt);
        *err = g_strdup_printf("%s: unsupported link type %s (%s, DLT %d); mailwire reads "
                               "Ethernet, Linux cooked, raw IP and BSD loopback captures",
                               name, dname ? dname : "?", ddesc ? ddesc : "unknown", dlt);
        pcap_close(p);
        return NULL;
    }
    mw_capture *c = g_new0(mw_capture, 1);
    c->pcap = p;
    c->fp = fp;
    c->path = g_strdup(path);
    c->dlt = dlt;
    c->size = size;
    return c;
}

typedef struct {
    mw_capture *c;
    mw_engine *e;
    uint64_t frame;
} run_state;

/* The reader thread's share of each packet: its link, IP and TCP headers. */
typedef struct {
    mw_decode_status ds;
    mw_packet pkt; /* payload points into the batch's copy of the packet */
} decoded;

static void decode_on_reader(void *user, const struct pcap_pkthdr *h, const uint8_t *data,
                             void *note)
{
    const mw_capture *c = user;
    decoded *d = note;
    d->ds = mw_decode(c->dlt, data, h->caplen, &d->pkt);
}

static void on_packet(void *user, const struct pcap_pkthdr *h, const uint8_t *data,
                      const void *note, int64_t offset)
{
    (void)data;
    run_state *rs = user;
    mw_capture *c = rs->c;
    const decoded *d = note;
    rs->frame++;
    c->offset = offset;
    int64_t ts = mw_ts_us(&h->ts);
    if (c->observe)
        c->observe(c->observe_user, c, rs->frame, ts);
    if (d->ds != MW_DECODE_TCP) {
        mw_engine_count(rs->e, d->ds == MW_DECODE_MALFORMED ? 2 : 1);
        return;
    }
    mw_engine_packet(rs->e, &d->pkt, rs->frame, ts);
}

bool mw_capture_run(mw_capture *c, mw_engine *e, char **err, char **warn)
{
    run_state rs = { c, e, 0 };
    mw_engine_new_file(e);
    /* The file is read and its headers decoded on a second thread (prefetch.h), the
     * packets analysed here. A read error ends the run with what came before it
     * delivered. */
    mw_prefetch pf = { .p = c->pcap, .fp = c->fp, .work = decode_on_reader, .work_user = c,
                       .note_size = sizeof(decoded), .cb = on_packet, .user = &rs };
    char *why = NULL;
    int rc = mw_prefetch_run(&pf, &why);
    bool ok = true;
    if (rc == -1) {
        if (rs.frame == 0) {
            *err = g_strdup_printf("%s: truncated or corrupt capture: %s",
                                   display_name(c->path), why);
            ok = false;
        } else {
            *warn = g_strdup_printf("%s: capture cut short after packet %" G_GUINT64_FORMAT
                                    " (%s); the sessions read so far are written",
                                    display_name(c->path), rs.frame, why);
        }
    }
    g_free(why);
    return ok;
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

int mw_capture_dlt(const mw_capture *c)
{
    return c->dlt;
}

void mw_capture_close(mw_capture *c)
{
    if (!c)
        return;
    pcap_close(c->pcap);
    g_free(c->path);
    g_free(c);
}
