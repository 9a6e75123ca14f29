#include "input/format/pcapfile.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "core/cursor.h"

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du

static uint32_t be32_at(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t le32_at(const uint8_t *p)
{
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

bool mw_pcapfile_init(mw_pcapfile *f, int fd, const uint8_t *head, size_t head_len, pcap_t *p)
{
    if (head_len < 4 || !p || pcap_snapshot(p) <= 0)
        return false;
    uint32_t be = be32_at(head), le = le32_at(head);
    bool big = be == MAGIC_USEC || be == MAGIC_NSEC;
    if (!big && le != MAGIC_USEC && le != MAGIC_NSEC)
        return false; /* pcap-ns and the like: libpcap reads them */
    /* 2.4 only: older versions may have caplen and len the other way round */
    if (pcap_major_version(p) != 2 || pcap_minor_version(p) != 4)
        return false;
    *f = (mw_pcapfile){ .fd = fd, .big = big, .nsec = (big ? be : le) == MAGIC_NSEC,
                        .signed_ts = big == (G_BYTE_ORDER == G_BIG_ENDIAN),
                        .snapshot = (uint32_t)pcap_snapshot(p),
                        .offset = MW_PCAPFILE_FILE_HEAD };
    return f->snapshot <= MW_PCAPFILE_MAX_CAPLEN;
}

ssize_t mw_pcapfile_read(mw_pcapfile *f, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(f->fd, buf + got, len - got, (off_t)f->offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_snprintf(f->err, sizeof f->err, "error reading dump file: %s", g_strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        f->offset += n;
    }
    return (ssize_t)got;
}

/* (inline: four a record, and a call each cost more than the read) */
static inline __attribute__((always_inline)) uint32_t field(const mw_pcapfile *f,
                                                             const uint8_t *p)
{
    return f->big ? be32_at(p) : le32_at(p);
}

int mw_pcapfile_record(mw_pcapfile *f, const uint8_t *p, size_t avail, struct pcap_pkthdr *h,
                       size_t *size)
{
    mw_cursor c = mw_cursor_make(p, avail);
    const uint8_t *hd; /* the record header: one bounds check for its four fields */
    if (!mw_cur_bytes(&c, MW_PCAPFILE_REC_HEAD, &hd))
        return 0;
    uint32_t sec = field(f, hd), frac = field(f, hd + 4), caplen = field(f, hd + 8),
             len = field(f, hd + 12);
    if (caplen > MW_PCAPFILE_MAX_CAPLEN) { /* libpcap's check, before the data is read */
        if (caplen > f->snapshot)
            g_snprintf(f->err, sizeof f->err,
                       "invalid packet capture length %u, bigger than snaplen of %d", caplen,
                       (int)f->snapshot);
        else
            g_snprintf(f->err, sizeof f->err,
                       "invalid packet capture length %u, bigger than maximum of %u", caplen,
                       MW_PCAPFILE_MAX_CAPLEN);
        return -1;
    }
    if (!mw_cur_skip(&c, caplen))
        return 0;
    /* as libpcap 1.10 reads them: signed 32-bit fields (struct pcap_sf_pkthdr), but
     * unsigned ones after its byte swap */
    int64_t s = f->signed_ts ? (int64_t)(int32_t)sec : (int64_t)sec;
    int64_t us = f->signed_ts ? (int64_t)(int32_t)frac : (int64_t)frac;
    h->ts.tv_sec = (time_t)s;
    h->ts.tv_usec = (suseconds_t)(f->nsec ? us / 1000 : us);
    /* over the snapshot length: libpcap hands over the first snapshot bytes */
    h->caplen = caplen > f->snapshot ? f->snapshot : caplen;
    h->len = len;
    *size = MW_PCAPFILE_REC_HEAD + (size_t)caplen;
    return 1;
}

void mw_pcapfile_truncated(mw_pcapfile *f, const uint8_t *p, size_t left)
{
    if (left < MW_PCAPFILE_REC_HEAD) {
        g_snprintf(f->err, sizeof f->err,
                   "truncated dump file; tried to read %u header bytes, only got %zu",
                   (unsigned)MW_PCAPFILE_REC_HEAD, left);
        return;
    }
    mw_cursor c = mw_cursor_make(p, left);
    const uint8_t *hd;
    uint32_t caplen = mw_cur_bytes(&c, MW_PCAPFILE_REC_HEAD, &hd) ? field(f, hd + 8) : 0;
    size_t got = left - MW_PCAPFILE_REC_HEAD;
    /* as libpcap words it: the snapshot's bytes first when the record is longer */
    if (caplen > f->snapshot && got < f->snapshot)
        g_snprintf(f->err, sizeof f->err,
                   "truncated dump file; tried to read %d captured bytes, only got %zu",
                   (int)f->snapshot, got);
    else
        g_snprintf(f->err, sizeof f->err,
                   "truncated dump file; tried to read %u captured bytes, only got %zu", caplen,
                   got);
}
