/* The dot-terminated block scan (text/dotblock.c: dot to dot, or line by line when it
 * counts lines) against the one-memchr-per-line scan it replaced, kept here as the
 * reference: the same status, bytes consumed, byte count (and line count when counting)
 * after every call, however the stream is cut (every split offset, byte by byte), on
 * streams rich in dots, CR and LF. */
#include <glib.h>
#include <string.h>

#include "text/textproto.h"

static mw_dot_status ref_skip(mw_dotblock *b, const uint8_t *p, size_t len, size_t *used)
{
    size_t off = 0;
    while (off < len) {
        const uint8_t *q = p + off;
        size_t avail = len - off;
        if (b->line_start && q[0] == '.') {
            if (avail >= 2 && q[1] == '\n') {
                *used = off + 2;
                return MW_DOT_END;
            }
            if (avail >= 3 && q[1] == '\r' && q[2] == '\n') {
                *used = off + 3;
                return MW_DOT_END;
            }
            if (avail < 2 || (avail < 3 && q[1] == '\r')) {
                *used = off;
                return MW_DOT_NEED;
            }
        }
        const uint8_t *nl = memchr(q, '\n', avail);
        size_t n = nl ? (size_t)(nl - q) + 1 : avail;
        b->bytes += n;
        b->lines += nl != NULL;
        b->line_start = nl != NULL;
        off += n;
    }
    *used = off;
    return MW_DOT_CONTINUE;
}

/* One call of each on the same bytes from the same state: the same answer. */
static mw_dot_status both(mw_dotblock *a, mw_dotblock *r, const uint8_t *p, size_t len,
                          size_t *used)
{
    size_t ua = 0, ur = 0;
    mw_dot_status sa = mw_dotblock_skip(a, p, len, &ua);
    mw_dot_status sr = ref_skip(r, p, len, &ur);
    g_assert_cmpint(sa, ==, sr);
    g_assert_cmpuint(ua, ==, ur);
    g_assert_cmpuint(a->bytes, ==, r->bytes);
    if (a->count_lines)
        g_assert_cmpuint(a->lines, ==, r->lines);
    else
        g_assert_cmpuint(a->lines, ==, 0);
    g_assert_cmpint(a->line_start, ==, r->line_start);
    *used = ua;
    return sa;
}

/* Feeds s cut at the offsets in cuts (ascending, then len), keeping an unconsumed tail as
 * the dissectors' feeders do. Returns the stream offset just after the terminator, or 0. */
static size_t feed_cut(const uint8_t *s, size_t len, const size_t *cuts, size_t ncuts,
                       mw_dotblock *a)
{
    mw_dotblock r = *a;
    size_t start = 0; /* first byte not consumed */
    for (size_t c = 0; c <= ncuts; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        while (start < end) {
            size_t used = 0;
            mw_dot_status st = both(a, &r, s + start, end - start, &used);
            start += used;
            if (st == MW_DOT_END)
                return start;
            if (st == MW_DOT_NEED)
                break; /* the tail waits for more bytes */
        }
    }
    return 0;
}

static bool counting; /* the mode under test */

static size_t whole(const uint8_t *s, size_t len, mw_dotblock *out)
{
    mw_dotblock b = { .line_start = true, .count_lines = counting };
    size_t end = feed_cut(s, len, NULL, 0, &b);
    *out = b;
    return end;
}

static void check_all_cuts(const uint8_t *s, size_t len)
{
    mw_dotblock w;
    size_t end = whole(s, len, &w);
    for (size_t cut = 0; cut <= len; cut++) {
        mw_dotblock b = { .line_start = true, .count_lines = counting };
        g_assert_cmpuint(feed_cut(s, len, &cut, 1, &b), ==, end);
        if (end) {
            g_assert_cmpuint(b.bytes, ==, w.bytes);
            g_assert_cmpuint(b.lines, ==, w.lines);
        }
    }
    size_t *cuts = g_new(size_t, len + 1);
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    mw_dotblock b = { .line_start = true, .count_lines = counting };
    g_assert_cmpuint(feed_cut(s, len, cuts, len, &b), ==, end); /* byte by byte */
    g_free(cuts);
}

static void test_known_blocks(void)
{
    static const struct {
        const char *s;
        size_t end, bytes, lines;
    } cases[] = {
        { ".\r\n", 3, 0, 0 },
        { ".\n", 2, 0, 0 },
        { "a\r\n.\r\n", 6, 3, 1 },
        { "..\r\n.\r\n", 7, 4, 1 },               /* a stuffed dot line */
        { "a.b\r\nx\n.\nrest", 9, 7, 2 },
        { "a\r\n.x\r\n..\r\n.\r\nafter", 14, 11, 3 },
        { "no end\r\n.\r", 0, 0, 0 },             /* may still end: nothing judged */
        { "line\r\n.", 0, 0, 0 },
        { "\n\n\n.\r\n", 6, 3, 3 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const uint8_t *s = (const uint8_t *)cases[i].s;
        size_t len = strlen(cases[i].s);
        mw_dotblock b;
        g_assert_cmpuint(whole(s, len, &b), ==, cases[i].end);
        if (cases[i].end) {
            g_assert_cmpuint(b.bytes, ==, cases[i].bytes);
            g_assert_cmpuint(b.lines, ==, counting ? cases[i].lines : 0);
        }
        check_all_cuts(s, len);
    }
}

/* Random streams of '.', CR, LF and letters. */
static void test_random_streams(void)
{
    GRand *rnd = g_rand_new_with_seed(13);
    static const uint8_t alpha[] = { '.', '\r', '\n', 'a', 'b', '.', '\n', '=' };
    uint8_t buf[300];
    for (int round = 0; round < 400; round++) {
        size_t len = (size_t)g_rand_int_range(rnd, 1, sizeof buf);
        bool few_dots = g_rand_int_range(rnd, 0, 3) == 0;
        for (size_t i = 0; i < len; i++) {
            uint8_t c = alpha[g_rand_int_range(rnd, 0, G_N_ELEMENTS(alpha))];
            if (c == '.' && few_dots && g_rand_int_range(rnd, 0, 8))
                c = 'x';
            buf[i] = c;
        }
        check_all_cuts(buf, len);
    }
    g_rand_free(rnd);
}

/* Long bodies: base64-like lines with no dot (the bench's), and LFs only, then the
 * terminator. */
static void test_long_bodies(void)
{
    GString *g = g_string_new(NULL);
    for (int i = 0; i < 3000; i++)
        g_string_append(g, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n");
    g_string_append(g, ".\r\n");
    mw_dotblock b;
    size_t end = whole((const uint8_t *)g->str, g->len, &b);
    g_assert_cmpuint(end, ==, g->len);
    g_assert_cmpuint(b.lines, ==, counting ? 3000 : 0);
    g_assert_cmpuint(b.bytes, ==, g->len - 3);

    g_string_truncate(g, 0);
    for (int i = 0; i < 20000; i++)
        g_string_append_c(g, '\n');
    g_string_append(g, "x.\n.\r\n");
    end = whole((const uint8_t *)g->str, g->len, &b);
    g_assert_cmpuint(end, ==, g->len);
    g_assert_cmpuint(b.lines, ==, counting ? 20001 : 0);
    size_t cuts[] = { 1, 15, 16, 17, 4079, 4080, 4081, 4097, 19999, 20000, 20003 };
    mw_dotblock c = { .line_start = true, .count_lines = counting };
    g_assert_cmpuint(feed_cut((const uint8_t *)g->str, g->len, cuts, G_N_ELEMENTS(cuts), &c),
                     ==, end);
    g_assert_cmpuint(c.lines, ==, counting ? 20001 : 0);
    g_string_free(g, TRUE);
}

/* Each test in both modes: dot to dot, and line by line with the line count. */
#define BOTH_MODES(name)                                                                   \
    static void name##_both(void)                                                          \
    {                                                                                      \
        counting = false;                                                                  \
        name();                                                                            \
        counting = true;                                                                   \
        name();                                                                            \
    }
BOTH_MODES(test_known_blocks)
BOTH_MODES(test_random_streams)
BOTH_MODES(test_long_bodies)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dotblock/known", test_known_blocks_both);
    g_test_add_func("/dotblock/random", test_random_streams_both);
    g_test_add_func("/dotblock/long", test_long_bodies_both);
    return g_test_run();
}
