/* The plain pcap reader (input/format/pcapfile.h) against libpcap's own: files written
 * here in both byte orders, with microsecond and nanosecond magic, records over the
 * snapshot length and over libpcap's maximum, odd timestamps, and cut at every byte:
 * each must yield the packets pcap_next_ex yields, then the same end or message. */
#define _GNU_SOURCE /* memfd_create */
#include <glib.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "input/format/pcapfile.h"

typedef struct {
    bool big, nsec;
    uint32_t snaplen;
    uint16_t vmin;
} form;

static void put32(GByteArray *b, bool big, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (big ? 24 - 8 * i : 8 * i));
    g_byte_array_append(b, x, 4);
}

static void put16(GByteArray *b, bool big, uint16_t v)
{
    uint8_t x[2] = { (uint8_t)(big ? v >> 8 : v), (uint8_t)(big ? v : v >> 8) };
    g_byte_array_append(b, x, 2);
}

static void record(GByteArray *b, const form *f, uint32_t sec, uint32_t frac, uint32_t caplen,
                   uint32_t len)
{
    put32(b, f->big, sec);
    put32(b, f->big, frac);
    put32(b, f->big, caplen);
    put32(b, f->big, len);
    for (uint32_t i = 0; i < caplen; i++) {
        uint8_t x = (uint8_t)(i * 7 + caplen);
        g_byte_array_append(b, &x, 1);
    }
}

static GByteArray *make_file(const form *f, bool too_long)
{
    GByteArray *b = g_byte_array_new();
    put32(b, f->big, f->nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
    put16(b, f->big, 2);
    put16(b, f->big, f->vmin);
    put32(b, f->big, 0);
    put32(b, f->big, 0);
    put32(b, f->big, f->snaplen);
    put32(b, f->big, 1); /* Ethernet */
    record(b, f, 1700000000, f->nsec ? 123456789 : 123456, 60, 60);
    record(b, f, 0x80000001u, 999999999, 0, 1514); /* a negative second, an odd fraction */
    record(b, f, 5, 0xfffffff0u, 300, 1500);       /* over a snaplen of 200 */
    record(b, f, 6, 1, 1, 1);
    if (too_long)
        record(b, f, 7, 2, MW_PCAPFILE_MAX_CAPLEN + 1, 70000);
    record(b, f, 8, 3, 54, 54);
    return b;
}

/* Every packet and the end of the file's first len bytes as libpcap reads them and as
 * pcapfile does (the file in memory: a memfd). */
static void compare(const uint8_t *bytes, size_t len)
{
    int fd = memfd_create("pcapfile", 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, bytes, len), ==, (ssize_t)len);
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    FILE *fp = fdopen(dup(fd), "rb");
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO,
                                                         errbuf);
    if (!p) { /* a header libpcap refuses never reaches pcapfile */
        fclose(fp);
        close(fd);
        return;
    }
    const uint8_t *head = bytes;
    size_t head_len = 16;
    mw_pcapfile f;
    if (!mw_pcapfile_init(&f, fd, head, head_len, p)) {
        g_assert_cmpint(pcap_minor_version(p), !=, 4); /* only other versions are refused */
        close(fd);
        pcap_close(p);
        return;
    }
    static uint8_t buf[1 << 20];
    ssize_t got = mw_pcapfile_read(&f, buf, sizeof buf);
    g_assert_cmpint(got, >=, 0);
    size_t pos = 0;
    for (;;) {
        struct pcap_pkthdr *ph, h;
        const u_char *pdata;
        int prc = pcap_next_ex(p, &ph, &pdata);
        size_t size;
        int rc = mw_pcapfile_record(&f, buf + pos, (size_t)got - pos, &h, &size);
        if (prc == 1) {
            g_assert_cmpint(rc, ==, 1);
            g_assert_cmpint(h.caplen, ==, ph->caplen);
            g_assert_cmpint(h.len, ==, ph->len);
                        g_assert_cmpint(h.ts.tv_sec, ==, ph->ts.tv_sec);
            g_assert_cmpint(h.ts.tv_usec, ==, ph->ts.tv_usec);
            g_assert_cmpmem(buf + pos + MW_PCAPFILE_REC_HEAD, h.caplen, pdata, ph->caplen);
            pos += size;
            continue;
        }
        if (prc == -2) { /* the end */
            g_assert_cmpint(rc, ==, 0);
            g_assert_cmpuint(pos, ==, (size_t)got);
        } else if (rc == 0) { /* a record cut short */
            g_assert_cmpuint(pos, <, (size_t)got);
            mw_pcapfile_truncated(&f, buf + pos, (size_t)got - pos);
            g_assert_cmpstr(f.err, ==, pcap_geterr(p));
        } else {
            g_assert_cmpint(rc, ==, -1);
            g_assert_cmpstr(f.err, ==, pcap_geterr(p));
        }
        break;
    }
    close(fd);
    pcap_close(p);
}

static void test_against_libpcap(void)
{
    const form forms[] = {
        { false, false, 262144, 4 }, { true, false, 262144, 4 }, { false, true, 65535, 4 },
        { true, true, 262144, 4 },   { false, false, 200, 4 },   { true, true, 200, 4 },
        { false, false, 0, 4 },      { false, false, 262144, 3 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
        for (int too_long = 0; too_long < 2; too_long++) {
            GByteArray *b = make_file(&forms[i], too_long);
            /* whole, then cut at every length from the first record on */
            for (size_t cut = b->len; cut >= MW_PCAPFILE_FILE_HEAD; cut--) {
                if (too_long && cut < b->len - 100 && cut > 600)
                    cut = 600; /* inside the long record: a few cuts do */
                compare(b->data, cut);
            }
            g_byte_array_free(b, TRUE);
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pcapfile/against_libpcap", test_against_libpcap);
    return g_test_run();
}
