/* Compressed captures: files compressed here by the gzip, zstd and lz4 commands, read back
 * through mw_decompress_open from a file and from a pipe; concatenated members and frames,
 * truncated and corrupt data, a plain pipe, a short file, a bomb read in bounded memory,
 * and libpcap and the pcapng reader on top of the stream. */
#include <glib.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "input/format/decompress.h"
#include "input/format/pcapng.h"

#define SAMPLE "pcaps/smtp-relay-denied.pcap"

static char *tmpdir;

static const struct {
    const char *tool, *ext;
    mw_compress_kind kind;
} kinds[] = {
    { "gzip -c", "gz", MW_COMPRESS_GZIP },
    { "zstd -q -c", "zst", MW_COMPRESS_ZSTD },
    { "lz4 -q -c", "lz4", MW_COMPRESS_LZ4 },
};

static bool ready(void)
{
    const char *tools[] = { "gzip", "zstd", "lz4" };
    for (size_t i = 0; i < G_N_ELEMENTS(tools); i++) {
        char *p = g_find_program_in_path(tools[i]);
        if (!p) {
            g_test_skip("gzip, zstd or lz4 command missing (scripts/install-deps.sh)");
            return false;
        }
        g_free(p);
    }
    if (!g_file_test(SAMPLE, G_FILE_TEST_EXISTS)) {
        g_test_skip("run from the repository root (pcaps/ not found)");
        return false;
    }
    return true;
}

static void sh(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *argv[] = { "sh", "-c", cmd, NULL };
    int status;
    GError *e = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                      &e) || !g_spawn_check_wait_status(status, NULL))
        g_error("%s failed", cmd);
    g_free(cmd);
}

static char *tmp(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static GBytes *slurp(const char *path)
{
    char *d;
    gsize n;
    g_assert_true(g_file_get_contents(path, &d, &n, NULL));
    return g_bytes_new_take(d, n);
}

/* Read the whole stream; *failed: the stream reported an error. */
static GByteArray *drain(FILE *f, bool *failed)
{
    GByteArray *b = g_byte_array_new();
    uint8_t buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        g_byte_array_append(b, buf, (guint)k);
    *failed = ferror(f) != 0;
    return b;
}

/* Open path (or, pipe: `cat path |`) through the wrapper; the whole content. */
static GByteArray *read_through(const char *path, bool pipe, mw_decompress_info *info,
                                bool *failed, char **why)
{
    char *cat = g_strdup_printf("cat %s", path);
    FILE *raw = pipe ? popen(cat, "r") : fopen(path, "rb");
    g_assert_nonnull(raw);
    char *err = NULL;
    FILE *f = mw_decompress_open(raw, path, info, &err);
    if (!f) { /* corrupt at the start: refused at open, raw still ours */
        g_assert_nonnull(err);
        pipe ? pclose(raw) : fclose(raw);
        g_free(cat);
        *failed = true;
        *why = err;
        return g_byte_array_new();
    }
    GByteArray *b = drain(f, failed);
    *why = g_strdup(mw_decompress_error(info->state));
    if (pipe && f == raw) { /* a plain pipe is read as it is (peeked bytes pushed back) */
        g_assert_cmpint(info->kind, ==, MW_COMPRESS_NONE);
        pclose(raw);
    } else if (pipe) { /* the wrapper owns raw; pclose wants the FILE itself, so wait here */
        g_assert_cmpint(info->kind, !=, MW_COMPRESS_NONE);
        fclose(f);
    } else {
        fclose(f);
    }
    g_free(cat);
    return b;
}

static void expect_same(GByteArray *got, GBytes *want)
{
    gsize n;
    const void *w = g_bytes_get_data(want, &n);
    g_assert_cmpmem(got->data, got->len, w, n);
}

static void test_each_kind_file_and_pipe(void)
{
    if (!ready())
        return;
    GBytes *orig = slurp(SAMPLE);
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        char *z = tmp(kinds[i].ext);
        sh("%s %s > %s", kinds[i].tool, SAMPLE, z);
        for (int pipe = 0; pipe < 2; pipe++) {
            mw_decompress_info info;
            bool failed;
            char *why;
            GByteArray *got = read_through(z, pipe, &info, &failed, &why);
            g_assert_cmpint(info.kind, ==, kinds[i].kind);
            g_assert_false(failed);
            g_assert_null(why);
            expect_same(got, orig);
            g_assert_cmpuint(info.head_len, ==, MW_DECOMPRESS_HEAD);
            g_assert_cmpmem(info.head, 16, g_bytes_get_data(orig, NULL), 16);
            g_byte_array_free(got, TRUE);
        }
        g_free(z);
    }
    g_bytes_unref(orig);
}

/* Uncompressed: a seekable file comes back as is; a pipe through the replaying stream. */
static void test_plain_file_and_pipe(void)
{
    if (!ready())
        return;
    GBytes *orig = slurp(SAMPLE);
    FILE *raw = fopen(SAMPLE, "rb");
    mw_decompress_info info;
    char *err = NULL;
    FILE *f = mw_decompress_open(raw, SAMPLE, &info, &err);
    g_assert_true(f == raw);
    g_assert_null(info.state);
    g_assert_cmpint(info.kind, ==, MW_COMPRESS_NONE);
    bool failed;
    GByteArray *got = drain(f, &failed);
    expect_same(got, orig);
    g_byte_array_free(got, TRUE);
    fclose(f);
    char *why;
    got = read_through(SAMPLE, true, &info, &failed, &why);
    g_assert_null(info.state); /* a plain pipe: no wrapper, the peeked bytes pushed back */
    expect_same(got, orig);
    g_byte_array_free(got, TRUE);
    /* shorter than the peek */
    char *tiny = tmp("tiny");
    g_assert_true(g_file_set_contents(tiny, "abc", 3, NULL));
    for (int pipe = 0; pipe < 2; pipe++) {
        got = read_through(tiny, pipe, &info, &failed, &why);
        g_assert_cmpuint(info.head_len, ==, 3);
        g_assert_cmpmem(got->data, got->len, "abc", 3);
        g_byte_array_free(got, TRUE);
    }
    g_free(tiny);
    g_bytes_unref(orig);
}

/* `cat a.gz b.gz` is one gzip file holding a then b; zstd and lz4 frames alike. */
static void test_concatenated(void)
{
    if (!ready())
        return;
    GBytes *orig = slurp(SAMPLE);
    GByteArray *twice = g_byte_array_new();
    gsize n;
    const guint8 *o = g_bytes_get_data(orig, &n);
    g_byte_array_append(twice, o, (guint)n);
    g_byte_array_append(twice, (const guint8 *)"-", 1);
    g_byte_array_append(twice, o, (guint)n);
    GBytes *want = g_bytes_new(twice->data, twice->len);
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        char *z = tmp("cat");
        sh("(%s %s; printf - | %s; %s %s) > %s", kinds[i].tool, SAMPLE, kinds[i].tool,
           kinds[i].tool, SAMPLE, z);
        mw_decompress_info info;
        bool failed;
        char *why;
        GByteArray *got = read_through(z, false, &info, &failed, &why);
        g_assert_false(failed);
        expect_same(got, want);
        g_byte_array_free(got, TRUE);
        g_free(z);
    }
    g_bytes_unref(want);
    g_byte_array_free(twice, TRUE);
    g_bytes_unref(orig);
}

/* Cut in the middle, or a flipped byte: the stream fails after what it could decode, and
 * the error names the file and says what went wrong. */
static void test_truncated_and_corrupt(void)
{
    if (!ready())
        return;
    GBytes *orig = slurp(SAMPLE);
    gsize n;
    const guint8 *o = g_bytes_get_data(orig, &n);
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        char *z = tmp(kinds[i].ext), *cut = tmp("cut"), *bad = tmp("bad");
        sh("%s %s > %s", kinds[i].tool, SAMPLE, z);
        sh("head -c $(( $(stat -c %%s %s) / 2 )) %s > %s", z, z, cut);
        sh("cp %s %s && printf '\\377\\377\\377\\377' | dd of=%s bs=1 seek=$(( $(stat -c %%s %s) "
           "/ 2 )) conv=notrunc status=none", z, bad, bad, z);
        for (int pipe = 0; pipe < 2; pipe++) {
            mw_decompress_info info;
            bool failed;
            char *why;
            GByteArray *got = read_through(cut, pipe, &info, &failed, &why);
            g_assert_true(failed);
            g_assert_nonnull(strstr(why, "truncated"));
            g_assert_cmpuint(got->len, <, n);
            g_assert_cmpmem(got->data, got->len, o, got->len); /* a prefix of the content */
            g_byte_array_free(got, TRUE);
            g_free(why);
            got = read_through(bad, pipe, &info, &failed, &why);
            g_assert_true(failed);
            g_assert_nonnull(why);
            g_byte_array_free(got, TRUE);
            g_free(why);
        }
        g_free(z);
        g_free(cut);
        g_free(bad);
    }
    g_bytes_unref(orig);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 512 MiB of zeros in a few kilobytes: read to the end in bounded memory. */
static void test_bomb_bounded_memory(void)
{
    if (!ready())
        return;
    char *z = tmp("bomb.zst");
    sh("head -c 536870912 /dev/zero | zstd -q -c > %s", z);
    long before = max_rss_kb();
    FILE *raw = fopen(z, "rb");
    mw_decompress_info info;
    char *err = NULL;
    FILE *f = mw_decompress_open(raw, z, &info, &err);
    uint8_t buf[65536];
    size_t k, total = 0;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        total += k;
    g_assert_false(ferror(f));
    fclose(f);
    g_assert_cmpuint(total, ==, 536870912u);
    g_assert_cmpint(max_rss_kb() - before, <, 32 * 1024);
    g_free(z);
}

/* libpcap and the pcapng reader read the decompressing stream as they read a file. */
static void test_readers_on_the_stream(void)
{
    if (!ready())
        return;
    char *z = tmp("s.pcap.lz4"), *ngz = tmp("s.pcapng.gz");
    sh("lz4 -q -c %s > %s", SAMPLE, z);
    sh("mergecap -F pcapng -w - %s pcaps/smtp-cooked.pcap | gzip -c > %s", SAMPLE, ngz);
    mw_decompress_info info;
    char *err = NULL;
    FILE *f = mw_decompress_open(fopen(z, "rb"), z, &info, &err);
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_fopen_offline(f, errbuf);
    g_assert_nonnull(p);
    struct pcap_pkthdr *h;
    const u_char *d;
    int packets = 0;
    while (pcap_next_ex(p, &h, &d) == 1)
        packets++;
    pcap_close(p); /* closes f */
    g_assert_cmpint(packets, ==, 17);
    f = mw_decompress_open(fopen(ngz, "rb"), ngz, &info, &err);
    g_assert_true(mw_pcapng_magic(info.head, info.head_len));
    mw_pcapng *r = mw_pcapng_open(f, NULL, &err);
    mw_pcapng_packet pk;
    packets = 0;
    while (mw_pcapng_next(r, &pk) == 1)
        packets++;
    g_assert_null(mw_pcapng_error(r));
    g_assert_true(mw_pcapng_mixed_linktypes(r));
    mw_pcapng_close(r);
    fclose(f);
    g_assert_cmpint(packets, >, 17);
    g_free(z);
    g_free(ngz);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_mkdir_with_parents("build", 0755);
    tmpdir = g_mkdtemp(g_strdup("build/test-decompress-XXXXXX"));
    g_test_add_func("/decompress/each_kind_file_and_pipe", test_each_kind_file_and_pipe);
    g_test_add_func("/decompress/plain_file_and_pipe", test_plain_file_and_pipe);
    g_test_add_func("/decompress/concatenated", test_concatenated);
    g_test_add_func("/decompress/truncated_and_corrupt", test_truncated_and_corrupt);
    g_test_add_func("/decompress/bomb_bounded_memory", test_bomb_bounded_memory);
    g_test_add_func("/decompress/readers_on_the_stream", test_readers_on_the_stream);
    int rc = g_test_run();
    char *rm = g_strdup_printf("rm -rf %s", tmpdir);
    g_assert_cmpint(system(rm), ==, 0);
    g_free(rm);
    g_free(tmpdir);
    return rc;
}
