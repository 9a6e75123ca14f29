/* The pcapng reader: files built here block by block (both byte orders, several sections,
 * interfaces of different link types and time resolutions, every packet block, secrets,
 * unknown blocks, bad lengths, truncation at every offset), and real files made by
 * mergecap and editcap, checked against tshark. */
#include <glib.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "input/capture.h"
#include "input/format/pcapng.h"
#include "pcapng_build.h"

/* A FILE* over bytes (a real file: fmemopen refuses a size of 0). */
static FILE *file_of(const uint8_t *p, size_t len)
{
    FILE *f = tmpfile();
    g_assert_nonnull(f);
    g_assert_cmpuint(fwrite(p, 1, len, f), ==, len);
    rewind(f);
    return f;
}

/* ---- secrets sink ---- */

typedef struct {
    GString *text;
    uint32_t type[8];
    uint64_t block[8];
    int n;
} secrets;

static void on_secrets(void *user, uint32_t type, const uint8_t *data, size_t len,
                       uint64_t blk)
{
    secrets *s = user;
    if (s->n < 8) {
        s->type[s->n] = type;
        s->block[s->n] = blk;
    }
    s->n++;
    g_string_append_len(s->text, (const char *)data, (gssize)len);
}

static void capture_secrets(void *user, const uint8_t *keylog, size_t len, uint64_t frames)
{
    on_secrets(user, MW_PCAPNG_SECRETS_TLS, keylog, len, frames);
}

/* ---- tests ---- */

static void expect_packet(mw_pcapng *r, uint32_t iface, int linktype, const char *data,
                          int64_t sec, uint32_t nsec)
{
    mw_pcapng_packet p;
    g_assert_cmpint(mw_pcapng_next(r, &p), ==, 1);
    g_assert_cmpuint(p.iface, ==, iface);
    g_assert_cmpint(p.ifp->linktype, ==, linktype);
    g_assert_cmpuint(p.caplen, ==, strlen(data));
    g_assert_cmpmem(p.data, p.caplen, data, strlen(data));
    g_assert_cmpint(p.ts_sec, ==, sec);
    g_assert_cmpuint(p.ts_nsec, ==, nsec);
}

/* Little-endian section: Ethernet at µs (default) and Linux cooked v2 at ns; big-endian
 * section: raw IP at 2^-10 s with an offset, and loop at ms. EPB, SPB, PB. */
static void test_sections_and_interfaces(void)
{
    ng n = { g_byte_array_new(), false };
    shb(&n, false);
    idb(&n, 1, 65535, "eth0", -1, 0);
    idb(&n, 276, 0, "any", 9, 0);
    epb(&n, 0, 1700000000123456ull, "first", 0);
    epb(&n, 1, 1700000001987654321ull, "second", 0);
    spb(&n, "simple-on-iface0");
    shb(&n, true);
    idb(&n, 101, 0, NULL, 0x80 | 10, 1000);
    idb(&n, 108, 4, "lo0", 3, 0);
    pb(&n, 0, (5ull << 10) | 512, "obsolete");
    epb(&n, 1, 42123, "longpkt8", 0);
    FILE *f = file_of(n.b->data, n.b->len);
    char *err = NULL;
    mw_pcapng *r = mw_pcapng_open(f, NULL, &err);
    g_assert_null(err);
    g_assert_true(mw_pcapng_prime(r)); /* the interfaces before the first packet */
    g_assert_cmpuint(mw_pcapng_iface_count(r), ==, 2);
    g_assert_true(mw_pcapng_mixed_linktypes(r));
    g_assert_true(mw_pcapng_prime(r)); /* again: nothing more is read */
    const mw_pcapng_iface *first = mw_pcapng_iface_get(r, 0);
    g_assert_cmpint(first->linktype, ==, 1);
    g_assert_cmpstr(first->name, ==, "eth0");
    expect_packet(r, 0, 1, "first", 1700000000, 123456000);
    expect_packet(r, 1, 276, "second", 1700000001, 987654321);
    g_assert_cmpstr(mw_pcapng_iface_get(r, 1)->name, ==, "any");
    expect_packet(r, 0, 1, "simple-on-iface0", 0, 0);
    /* second section, big-endian: interface numbers restart */
    expect_packet(r, 0, 101, "obsolete", 1000 + 5, 500000000);
    g_assert_cmpint(mw_pcapng_iface_get(r, 0)->dlt, ==, DLT_RAW);
    g_assert_null(mw_pcapng_iface_get(r, 0)->name);
    mw_pcapng_packet p;
    g_assert_cmpint(mw_pcapng_next(r, &p), ==, 1); /* EPB longer than the snaplen: as is */
    g_assert_cmpuint(p.caplen, ==, 8);
    g_assert_cmpint(p.ts_sec, ==, 42);
    g_assert_cmpuint(p.ts_nsec, ==, 123000000);
    g_assert_cmpstr(p.ifp->name, ==, "lo0");
    g_assert_cmpuint(p.block, ==, 10);
    g_assert_cmpint(mw_pcapng_next(r, &p), ==, 0);
    g_assert_cmpint(mw_pcapng_next(r, &p), ==, 0);
    g_assert_null(mw_pcapng_error(r));
    const mw_pcapng_stats *st = mw_pcapng_stats_get(r);
    g_assert_cmpuint(st->sections, ==, 2);
    g_assert_cmpuint(st->interfaces, ==, 4);
    g_assert_cmpuint(st->epb, ==, 3);
    g_assert_cmpuint(st->spb, ==, 1);
    g_assert_cmpuint(st->pb, ==, 1);
    g_assert_cmpuint(st->blocks, ==, 11);
    g_assert_true(mw_pcapng_mixed_linktypes(r));
    mw_pcapng_close(r);
    fclose(f);
    g_byte_array_free(n.b, TRUE);
}

/* The SPB takes interface 0's snaplen; a resolution too fine to hold is an error. */
static void test_spb_snaplen_and_tsresol_limits(void)
{
    ng n = { g_byte_array_new(), true };
    shb(&n, true);
    idb(&n, 1, 6, NULL, 19, 0);
    spb(&n, "longer-than-six");
    epb(&n, 0, 12345678901234567890ull, "x", 0);
    idb(&n, 1, 0, NULL, 0x80 | 64, 0);
    FILE *f = file_of(n.b->data, n.b->len);
    char *err = NULL;
    mw_pcapng *r = mw_pcapng_open(f, NULL, &err);
    mw_pcapng_packet p;
    g_assert_cmpint(mw_pcapng_next(r, &p), ==, 1);
    g_assert_cmpuint(p.caplen, ==, 6);
    g_assert_cmpuint(p.origlen, ==, 15);
    g_assert_cmpmem(p.data, 6, "longer", 6);
    g_assert_cmpint(mw_pcapng_next(r, &p), ==, 1); /* 10^-19 s units */
    g_assert_cmpint(p.ts_sec, ==, 1);
    g_assert_cmpuint(p.ts_nsec, ==, 234567890);
    g_assert_cmpint(mw_pcapng_next(r, &p), ==, -1);
    g_assert_nonnull(strstr(mw_pcapng_error(r), "time resolution"));
    g_assert_false(mw_pcapng_truncated(r));
    mw_pcapng_close(r);
    fclose(f);
    g_byte_array_free(n.b, TRUE);
}

/* Secrets are handed over in order, with their block; NRB, ISB and unknown blocks are
 * skipped and counted; broken packet blocks are skipped and counted by reason. */
static void test_secrets_and_skipped_blocks(void)
{
    ng n = { g_byte_array_new(), false };
    shb(&n, false);
    dsb(&n, MW_PCAPNG_SECRETS_TLS, "CLIENT_RANDOM aa bb\n");
    idb(&n, 1, 0, NULL, -1, 0);
    raw_block(&n, MW_PCAPNG_NRB, "names");
    raw_block(&n, 0x00000BAD, "custom");
    raw_block(&n, 0x12345678, "");
    epb(&n, 7, 0, "no such interface", 0);
    raw_block(&n, MW_PCAPNG_EPB, "short"); /* fields do not fit */
    dsb(&n, 0x57474b4c, "wireguard");
    epb(&n, 0, 1000000, "ok", 0);
    raw_block(&n, MW_PCAPNG_ISB, "stats......");
    FILE *f = file_of(n.b->data, n.b->len);
    secrets s = { .text = g_string_new(NULL) };
    mw_pcapng_opts o = { .on_secrets = on_secrets, .user = &s };
    char *err = NULL;
    mw_pcapng *r = mw_pcapng_open(f, &o, &err);
    g_assert_true(mw_pcapng_prime(r)); /* the DSBs before the first packet go out here */
    g_assert_cmpint(s.n, ==, 2);
    g_assert_cmpuint(s.type[0], ==, MW_PCAPNG_SECRETS_TLS);
    g_assert_cmpuint(s.block[0], ==, 1);
    mw_pcapng_packet p;
    g_assert_cmpint(mw_pcapng_next(r, &p), ==, 1);
    g_assert_cmpmem(p.data, p.caplen, "ok", 2);
    g_assert_cmpuint(p.block, ==, 9);
    g_assert_cmpuint(s.type[1], ==, 0x57474b4c);
    g_assert_cmpuint(s.block[1], ==, 8);
    g_assert_cmpstr(s.text->str, ==, "CLIENT_RANDOM aa bb\nwireguard");
    g_assert_cmpint(mw_pcapng_next(r, &p), ==, 0);
    const mw_pcapng_stats *st = mw_pcapng_stats_get(r);
    g_assert_cmpuint(st->dsb, ==, 2);
    g_assert_cmpuint(st->dsb_tls, ==, 1);
    g_assert_cmpuint(st->nrb, ==, 1);
    g_assert_cmpuint(st->isb, ==, 1);
    g_assert_cmpuint(st->unknown, ==, 2);
    g_assert_cmpuint(st->no_iface, ==, 1);
    g_assert_cmpuint(st->malformed, ==, 1);
    g_assert_false(mw_pcapng_mixed_linktypes(r));
    mw_pcapng_close(r);
    fclose(f);
    g_string_free(s.text, TRUE);
    g_byte_array_free(n.b, TRUE);
}

/* Open and read everything; returns next's last result (0 or -1), *packets counted. */
static int read_all(const uint8_t *p, size_t len, const mw_pcapng_opts *o, int *packets,
                    char **why)
{
    FILE *f = file_of(p, len);
    char *err = NULL;
    mw_pcapng *r = mw_pcapng_open(f, o, &err);
    int rc = -2;
    *packets = 0;
    if (r) {
        mw_pcapng_prime(r);
        mw_pcapng_packet pk;
        for (int guard = 0; guard < 1000 && (rc = mw_pcapng_next(r, &pk)) == 1; guard++)
            (*packets)++;
        g_assert_cmpint(rc, <=, 0);
        *why = rc < 0 ? g_strdup(mw_pcapng_error(r)) : NULL;
        mw_pcapng_close(r);
    } else {
        g_assert_nonnull(err);
        *why = err;
    }
    fclose(f);
    return rc;
}

static void put32_at(GByteArray *b, size_t off, uint32_t v)
{
    memcpy(b->data + off, &v, 4); /* little-endian host and section */
}

static void expect_error(GByteArray *b, const mw_pcapng_opts *o, const char *what)
{
    int packets;
    char *why = NULL;
    int rc = read_all(b->data, b->len, o, &packets, &why);
    g_assert_cmpint(rc, <, 0);
    if (!strstr(why, what))
        g_error("expected \"%s\" in \"%s\"", what, why);
    g_free(why);
}

static ng small_file(void)
{
    ng n = { g_byte_array_new(), false };
    shb(&n, false);
    idb(&n, 1, 0, "eth0", 6, 0);
    epb(&n, 0, 1, "abcdefgh", 0);
    return n;
}

static void test_bad_lengths(void)
{
    const size_t idb_at = 28, epb_at = 28 + 40;
    ng n = small_file();
    g_assert_cmpuint(n.b->len, ==, epb_at + 40);
    put32_at(n.b, epb_at + 4, 8);
    expect_error(n.b, NULL, "bad length 8");
    put32_at(n.b, epb_at + 4, 42);
    expect_error(n.b, NULL, "bad length 42");
    put32_at(n.b, epb_at + 4, 0xfffffff0u);
    expect_error(n.b, NULL, "more than the limit");
    put32_at(n.b, epb_at + 4, 44);
    expect_error(n.b, NULL, "truncated pcapng file");
    put32_at(n.b, epb_at + 4, 40);
    put32_at(n.b, epb_at + 36, 36);
    expect_error(n.b, NULL, "trailing length 36 differ");
    put32_at(n.b, epb_at + 36, 40);
    mw_pcapng_opts small = { .max_block = 36 };
    expect_error(n.b, &small, "more than the limit of 36");
    put32_at(n.b, idb_at + 8 + 8, 0x00ff0002); /* if_name of length 255 */
    expect_error(n.b, NULL, "longer than the block");
    g_byte_array_free(n.b, TRUE);
    n = small_file();
    n.b->data[8] = 0x11; /* byte-order magic */
    expect_error(n.b, NULL, "byte-order magic");
    n.b->data[8] = 0x4D;
    n.b->data[12] = 2; /* major version */
    expect_error(n.b, NULL, "unsupported pcapng version 2.0");
    n.b->data[12] = 1;
    n.b->data[0] = 1; /* an IDB first */
    expect_error(n.b, NULL, "not a pcapng file");
    g_byte_array_free(n.b, TRUE);
}

/* Cut at every offset: a clean end at a block boundary, else a "truncated" error; the
 * packets of whole blocks before the cut are delivered; never a crash or a hang. */
static void test_truncation_every_offset(void)
{
    ng n = { g_byte_array_new(), true };
    shb(&n, true);
    dsb(&n, MW_PCAPNG_SECRETS_TLS, "CLIENT_RANDOM 01 02\n");
    idb(&n, 1, 0, "eth0", 9, 0);
    epb(&n, 0, 1, "one", 0);
    spb(&n, "two");
    raw_block(&n, 0xBAD, "x");
    epb(&n, 0, 2, "three", 0);
    /* block boundaries and packets complete at each */
    GArray *ends = g_array_new(FALSE, FALSE, sizeof(size_t));
    for (size_t off = 0; off < n.b->len;) {
        uint32_t len = (uint32_t)n.b->data[off + 4] << 24 | (uint32_t)n.b->data[off + 5] << 16 |
                       (uint32_t)n.b->data[off + 6] << 8 | n.b->data[off + 7];
        off += len;
        g_array_append_val(ends, off);
    }
    g_assert_cmpuint(ends->len, ==, 7);
    static const int packets_at_end[7] = { 0, 0, 0, 1, 2, 2, 3 };
    secrets s = { .text = g_string_new(NULL) };
    mw_pcapng_opts o = { .on_secrets = on_secrets, .user = &s };
    for (size_t cut = 0; cut <= n.b->len; cut++) {
        int packets;
        char *why = NULL;
        int rc = read_all(n.b->data, cut, &o, &packets, &why);
        int whole = 0, expect_packets = 0;
        bool boundary = false;
        for (guint i = 0; i < ends->len; i++) {
            size_t e = g_array_index(ends, size_t, i);
            if (e <= cut) {
                whole = (int)i + 1;
                expect_packets = packets_at_end[i];
            }
            boundary |= e == cut;
        }
        if (whole == 0) { /* no whole section header: open fails */
            g_assert_cmpint(rc, ==, -2);
        } else if (boundary) {
            g_assert_cmpint(rc, ==, 0);
            g_assert_null(why);
        } else {
            g_assert_cmpint(rc, ==, -1);
            g_assert_nonnull(strstr(why, "truncated pcapng file"));
        }
        g_assert_cmpint(packets, ==, expect_packets);
        g_free(why);
    }
    g_string_free(s.text, TRUE);
    g_array_free(ends, TRUE);
    g_byte_array_free(n.b, TRUE);
}

/* ---- through the capture: per-packet interface, a warning for what was not decoded ---- */

static char *tmpdir;

static void session_dropped(mw_session *s, void *user)
{
    (void)user;
    mw_session_free(s);
}

static void observe(void *user, const mw_capture *c, uint64_t frame, int64_t ts_us)
{
    GString *seen = user;
    const char *name = mw_capture_iface_name(c);
    g_string_append_printf(seen, "%" G_GUINT64_FORMAT ":%d:%s:%" G_GINT64_FORMAT " ", frame,
                           mw_capture_iface(c), name ? name : "-", ts_us);
}

static void test_capture_interfaces(void)
{
    ng n = { g_byte_array_new(), false };
    shb(&n, false);
    idb(&n, 1, 0, "eth0", -1, 0);
    idb(&n, 276, 0, "any", 9, 0);
    idb(&n, 105, 0, NULL, -1, 0); /* 802.11: not decoded */
    epb(&n, 0, 1000001, "not an ethernet frame", 0);
    epb(&n, 1, 2000000001000ull, "nor a cooked one", 0);
    epb(&n, 2, 3000000, "wifi", 0);
    char *path = g_build_filename(tmpdir, "ifaces.pcapng", NULL);
    g_assert_true(g_file_set_contents(path, (const char *)n.b->data, n.b->len, NULL));
    char *err = NULL, *warn = NULL;
    mw_capture *c = mw_capture_open(path, &err);
    g_assert_nonnull(c);
    g_assert_true(mw_capture_multi_linktype(c));
    GString *seen = g_string_new(NULL);
    mw_capture_observe(c, observe, seen);
    mw_config cfg;
    mw_config_defaults(&cfg);
    mw_engine *e = mw_engine_new(&cfg, NULL, NULL);
    mw_engine_hand_over(e, session_dropped, NULL);
    g_assert_true(mw_capture_run(c, e, &err, &warn));
    g_assert_cmpstr(seen->str, ==, "1:0:eth0:1000001 2:1:any:2000000001 3:2:-:3000000 ");
    g_assert_nonnull(warn);
    g_assert_nonnull(strstr(warn, "skipped 1 packets on interfaces of link type 105"));
    g_assert_true(g_str_has_prefix(warn, path));
    mw_engine_finish(e);
    mw_engine_free(e);
    mw_capture_close(c);
    g_free(warn);
    g_string_free(seen, TRUE);
    g_free(path);
    g_byte_array_free(n.b, TRUE);
}

/* ---- real files: mergecap and editcap output, tshark as the oracle ---- */

static bool have_tools(void)
{
    const char *tools[] = { "mergecap", "editcap", "tshark" };
    for (size_t i = 0; i < G_N_ELEMENTS(tools); i++) {
        char *p = g_find_program_in_path(tools[i]);
        if (!p) {
            g_test_skip("mergecap, editcap or tshark missing (wireshark-common, tshark)");
            return false;
        }
        g_free(p);
    }
    if (!g_file_test("pcaps/smtp-cooked.pcap", G_FILE_TEST_EXISTS)) {
        g_test_skip("run from the repository root (pcaps/ not found)");
        return false;
    }
    return true;
}

static char *run(const char *cmd)
{
    char *out = NULL, *err = NULL;
    int status = 0;
    GError *e = NULL;
    if (!g_spawn_command_line_sync(cmd, &out, &err, &status, &e))
        g_error("%s: %s", cmd, e->message);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s failed: %s", cmd, err);
    g_free(err);
    return out;
}

/* Every packet of path: "iface<TAB>sec.nsec<TAB>caplen" lines, ours and tshark's. */
static void check_against_tshark(const char *path, int *linktypes_seen)
{
    char *cmd = g_strdup_printf("tshark -r %s -T fields -e frame.interface_id "
                                "-e frame.time_epoch -e frame.cap_len", path);
    char *want = run(cmd);
    GString *got = g_string_new(NULL);
    FILE *f = fopen(path, "rb");
    char *err = NULL;
    mw_pcapng *r = mw_pcapng_open(f, NULL, &err);
    g_assert_nonnull(r);
    mw_pcapng_packet p;
    while (mw_pcapng_next(r, &p) == 1) {
        g_string_append_printf(got, "%u\t%" G_GINT64_FORMAT ".%09u\t%u\n", p.iface, p.ts_sec,
                               p.ts_nsec, p.caplen);
        if (linktypes_seen && p.iface < 4)
            linktypes_seen[p.iface] = p.ifp->linktype;
    }
    g_assert_null(mw_pcapng_error(r));
    g_assert_cmpstr(got->str, ==, want);
    mw_pcapng_close(r);
    fclose(f);
    g_string_free(got, TRUE);
    g_free(want);
    g_free(cmd);
}

static void test_mergecap_multi_linktype(void)
{
    if (!have_tools())
        return;
    char *out = g_build_filename(tmpdir, "merged.pcapng", NULL);
    char *cmd = g_strdup_printf("mergecap -F pcapng -w %s pcaps/smtp-relay-denied.pcap "
                                "pcaps/smtp-cooked.pcap", out);
    g_free(run(cmd));
    int lt[4] = { -1, -1, -1, -1 };
    check_against_tshark(out, lt);
    g_assert_cmpint(lt[0], ==, 1);   /* Ethernet */
    g_assert_cmpint(lt[1], ==, 276); /* Linux cooked v2 */
    char *err = NULL;
    mw_capture *c = mw_capture_open(out, &err);
    g_assert_nonnull(c);
    g_assert_true(mw_capture_multi_linktype(c));
    g_assert_cmpint(mw_capture_dlt(c), ==, 1);
    g_assert_cmpuint(mw_capture_secrets_count(c), ==, 0);
    mw_capture_close(c);
    g_free(cmd);
    g_free(out);
}

static void test_editcap_secrets(void)
{
    if (!have_tools())
        return;
    char *keys = g_build_filename(tmpdir, "keys.txt", NULL);
    const char *text = "# test keys only\n"
                       "CLIENT_RANDOM 00112233445566778899aabbccddeeff00112233445566778899aabb"
                       "ccddeeff 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c"
                       "1d1e1f202122232425262728292a2b2c2d2e2f\n";
    g_assert_true(g_file_set_contents(keys, text, -1, NULL));
    char *out = g_build_filename(tmpdir, "dsb.pcapng", NULL);
    char *cmd = g_strdup_printf("editcap --inject-secrets tls,%s pcaps/tls-1.3.pcap %s",
                                keys, out);
    g_free(run(cmd));
    secrets s = { .text = g_string_new(NULL) };
    mw_pcapng_opts o = { .on_secrets = on_secrets, .user = &s };
    FILE *f = fopen(out, "rb");
    char *err = NULL;
    mw_pcapng *r = mw_pcapng_open(f, &o, &err);
    mw_pcapng_packet p;
    int packets = 0;
    while (mw_pcapng_next(r, &p) == 1)
        packets++;
    g_assert_cmpint(s.n, ==, 1);
    g_assert_cmpuint(s.type[0], ==, MW_PCAPNG_SECRETS_TLS);
    g_assert_cmpstr(s.text->str, ==, text);
    g_assert_cmpuint(mw_pcapng_stats_get(r)->dsb_tls, ==, 1);
    char *wc = g_strdup_printf("sh -c 'tshark -r %s | wc -l'", out);
    char *count = run(wc);
    g_free(wc);
    g_assert_cmpint(packets, ==, atoi(count));
    mw_pcapng_close(r);
    fclose(f);
    check_against_tshark(out, NULL);
    /* through the capture: kept at open (the DSB precedes the interfaces), handed to the
     * hook when it is set; gzip-compressed the same */
    char *gz = g_strdup_printf("%s.gz", out);
    char *zip = g_strdup_printf("sh -c 'gzip -c %s > %s'", out, gz);
    g_free(run(zip));
    const char *paths[] = { out, gz };
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
        mw_capture *c = mw_capture_open(paths[i], &err);
        g_assert_null(err);
        g_assert_cmpuint(mw_capture_secrets_count(c), ==, 1);
        g_assert_false(mw_capture_multi_linktype(c));
        g_assert_cmpint(mw_capture_iface(c), ==, -1); /* no packet read yet */
        secrets hooked = { .text = g_string_new(NULL) };
        mw_capture_on_secrets(c, capture_secrets, &hooked);
        g_assert_cmpint(hooked.n, ==, 1);
        g_assert_cmpuint(hooked.block[0], ==, 0); /* frames before it */
        g_assert_cmpstr(hooked.text->str, ==, text);
        mw_capture_close(c);
        g_string_free(hooked.text, TRUE);
    }
    g_free(zip);
    g_free(gz);
    g_free(count);
    g_string_free(s.text, TRUE);
    g_free(cmd);
    g_free(out);
    g_free(keys);
}

/* The public pcapng captures of the test set, as tshark reads them. */
static void test_public_pcapng(void)
{
    if (!have_tools())
        return;
    GDir *d = g_dir_open("pcaps/public", 0, NULL);
    const char *name;
    int n = 0;
    while (d && (name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".pcapng"))
            continue;
        char *p = g_build_filename("pcaps/public", name, NULL);
        check_against_tshark(p, NULL);
        g_free(p);
        n++;
    }
    if (d)
        g_dir_close(d);
    g_assert_cmpint(n, >, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_mkdir_with_parents("build", 0755);
    tmpdir = g_mkdtemp(g_strdup("build/test-pcapng-XXXXXX"));
    g_test_add_func("/pcapng/sections_and_interfaces", test_sections_and_interfaces);
    g_test_add_func("/pcapng/spb_snaplen_and_tsresol_limits", test_spb_snaplen_and_tsresol_limits);
    g_test_add_func("/pcapng/secrets_and_skipped_blocks", test_secrets_and_skipped_blocks);
    g_test_add_func("/pcapng/bad_lengths", test_bad_lengths);
    g_test_add_func("/pcapng/truncation_every_offset", test_truncation_every_offset);
    g_test_add_func("/pcapng/capture_interfaces", test_capture_interfaces);
    g_test_add_func("/pcapng/mergecap_multi_linktype", test_mergecap_multi_linktype);
    g_test_add_func("/pcapng/editcap_secrets", test_editcap_secrets);
    g_test_add_func("/pcapng/public_pcapng", test_public_pcapng);
    int rc = g_test_run();
    char *rm = g_strdup_printf("rm -rf %s", tmpdir);
    g_assert_cmpint(system(rm), ==, 0);
    g_free(rm);
    g_free(tmpdir);
    return rc;
}
