/* TCP reassembly: order, retransmission, overlap (first copy wins), conflicting copies,
 * wrap-around, gaps, and the out-of-order cap. */
#include <glib.h>
#include <string.h>

#include "engine/reasm.h"

typedef struct {
    GString *out;     /* delivered bytes, '#' per missing byte */
    uint64_t gaps;
    unsigned gap_calls;
} sink_rec;

static void rec_data(void *u, mw_dir dir, const uint8_t *p, size_t len, const mw_seg_meta *m)
{
    g_string_append_len(((sink_rec *)u)->out, (const char *)p, (gssize)len);
}

static void rec_gap(void *u, mw_dir dir, uint64_t missing, const mw_seg_meta *at)
{
    sink_rec *r = u;
    r->gaps += missing;
    r->gap_calls++;
    for (uint64_t i = 0; i < missing && i < 64; i++)
        g_string_append_c(r->out, '#');
}

static const mw_stream_sink sink = { rec_data, rec_gap, NULL };

static void seg(mw_stream *s, sink_rec *r, uint32_t seq, const char *txt, size_t max_ooo)
{
    mw_stream_segment(s, seq, (const uint8_t *)txt, strlen(txt), 0, NULL, max_ooo, &sink, r);
}

static void test_in_order_and_retransmit(void)
{
    mw_stream s;
    sink_rec r = { g_string_new(NULL), 0, 0 };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 1000);
    seg(&s, &r, 1000, "HELLO ", 1 << 20);
    seg(&s, &r, 1006, "WORLD", 1 << 20);
    seg(&s, &r, 1000, "XXXXXX", 1 << 20); /* retransmission with other bytes: ignored */
    seg(&s, &r, 1009, "xxY", 1 << 20);    /* overlap: only the new tail "Y" counts */
    g_assert_cmpstr(r.out->str, ==, "HELLO WORLDY");
    g_assert_cmpuint(r.gaps, ==, 0);
    mw_stream_free(&s);
    g_string_free(r.out, TRUE);
}

static void test_out_of_order_overlaps(void)
{
    mw_stream s;
    sink_rec r = { g_string_new(NULL), 0, 0 };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 0);
    seg(&s, &r, 10, "KLMNO", 1 << 20);
    seg(&s, &r, 5, "FGHIJ", 1 << 20);
    seg(&s, &r, 8, "zzzzzzz", 1 << 20);    /* overlaps both held segments: first copy wins */
    seg(&s, &r, 15, "PQ", 1 << 20);
    g_assert_cmpstr(r.out->str, ==, "");
    seg(&s, &r, 0, "ABCDE", 1 << 20);
    g_assert_cmpstr(r.out->str, ==, "ABCDEFGHIJKLMNOPQ");
    g_assert_cmpuint(s.ooo_bytes, ==, 0);
    mw_stream_free(&s);
    g_string_free(r.out, TRUE);
}

static void test_wraparound(void)
{
    mw_stream s;
    sink_rec r = { g_string_new(NULL), 0, 0 };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 0xfffffffcu);
    seg(&s, &r, 0xfffffffcu, "ABCD", 1 << 20);
    seg(&s, &r, 0x00000002u, "GH", 1 << 20); /* out of order, after the wrap */
    seg(&s, &r, 0x00000000u, "EF", 1 << 20);
    g_assert_cmpstr(r.out->str, ==, "ABCDEFGH");
    g_assert_cmpuint(s.next, ==, 8);
    mw_stream_free(&s);
    g_string_free(r.out, TRUE);
}

static void test_gap_on_flush_and_ack(void)
{
    mw_stream s;
    sink_rec r = { g_string_new(NULL), 0, 0 };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 100);
    seg(&s, &r, 100, "ab", 1 << 20);
    seg(&s, &r, 105, "fg", 1 << 20); /* 3 bytes lost */
    mw_stream_ack(&s, 104, NULL, &sink, &r); /* ack does not cover the held data: wait */
    g_assert_cmpstr(r.out->str, ==, "ab");
    mw_stream_ack(&s, 107, NULL, &sink, &r); /* the peer has it all: the hole is a gap */
    g_assert_cmpstr(r.out->str, ==, "ab###fg");
    g_assert_cmpuint(r.gaps, ==, 3);
    seg(&s, &r, 110, "kl", 1 << 20);
    mw_stream_flush(&s, NULL, &sink, &r);
    g_assert_cmpstr(r.out->str, ==, "ab###fg###kl");
    mw_stream_free(&s);
    g_string_free(r.out, TRUE);
}

static void test_ooo_cap(void)
{
    mw_stream s;
    sink_rec r = { g_string_new(NULL), 0, 0 };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 0);
    /* endless out-of-order data never held beyond the cap */
    for (uint32_t i = 0; i < 1000; i++) {
        seg(&s, &r, 10 + i * 10, "0123456789", 64);
        g_assert_cmpuint(s.ooo_bytes, <=, 64);
    }
    g_assert_cmpuint(r.gaps, ==, 10);
    g_assert_cmpuint(s.ooo_bytes, ==, 0); /* once the hole was given up, all in order */
    g_assert_cmpuint(r.out->len, ==, 10 + 1000 * 10);
    mw_stream_free(&s);
    g_string_free(r.out, TRUE);
}

static void test_snaplen_cut(void)
{
    mw_stream s;
    sink_rec r = { g_string_new(NULL), 0, 0 };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 0);
    mw_stream_segment(&s, 0, (const uint8_t *)"abc", 3, 4, NULL, 1 << 20, &sink, &r);
    seg(&s, &r, 7, "hi", 1 << 20);
    g_assert_cmpstr(r.out->str, ==, "abc####hi");
    mw_stream_free(&s);
    g_string_free(r.out, TRUE);
}

/* 1-byte segments in random order: every one is held (logarithmic insert: the old sorted
 * list took 72 s for 100 k), the stream comes out whole, and the cap counts each held
 * segment's overhead, not just its byte. */
static void test_random_order_one_byte(void)
{
    enum { N = 100000 };
    uint32_t *order = g_new(uint32_t, N);
    for (uint32_t i = 0; i < N; i++)
        order[i] = i;
    GRand *rnd = g_rand_new_with_seed(7);
    for (uint32_t i = N - 1; i > 0; i--) {
        uint32_t j = g_rand_int_range(rnd, 0, (gint32)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    g_rand_free(rnd);
    mw_stream s;
    sink_rec r = { g_string_new(NULL), 0, 0 };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 0);
    g_test_timer_start();
    size_t peak = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint8_t b = (uint8_t)('a' + order[i] % 26);
        mw_stream_segment(&s, order[i], &b, 1, 0, NULL, (size_t)N * 256, &sink, &r);
        peak = MAX(peak, s.ooo_bytes);
    }
    double secs = g_test_timer_elapsed();
    g_assert_cmpfloat(secs, <, 5.0);
    g_assert_cmpuint(r.out->len, ==, N);
    for (uint32_t i = 0; i < N; i++)
        g_assert_cmpint(r.out->str[i], ==, 'a' + i % 26);
    g_assert_cmpuint(r.gaps, ==, 0);
    g_assert_cmpuint(peak, >, (size_t)N / 4 * (1 + MW_REASM_SEG_OVERHEAD));
    g_assert_cmpuint(s.ooo_bytes, ==, 0);
    /* a small cap: never over it, overhead included */
    mw_stream_free(&s);
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 0);
    g_string_truncate(r.out, 0);
    for (uint32_t i = 0; i < N; i++) {
        uint8_t b = 'x';
        mw_stream_segment(&s, order[i], &b, 1, 0, NULL, 80 * 1024, &sink, &r);
        g_assert_cmpuint(s.ooo_bytes, <=, 80 * 1024);
    }
    mw_stream_flush(&s, NULL, &sink, &r);
    g_assert_cmpuint(s.next, ==, N);
    mw_stream_free(&s);
    g_string_free(r.out, TRUE);
    g_free(order);
}

/* A segment overlapping several held ones keeps the held bytes (first copy wins) and
 * fills only the holes between them. */
static void test_overlap_many_held(void)
{
    mw_stream s;
    sink_rec r = { g_string_new(NULL), 0, 0 };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 0);
    seg(&s, &r, 2, "C", 1 << 20);
    seg(&s, &r, 4, "E", 1 << 20);
    seg(&s, &r, 6, "GH", 1 << 20);
    seg(&s, &r, 1, "bcdefghij", 1 << 20);
    g_assert_cmpstr(r.out->str, ==, "");
    seg(&s, &r, 0, "A", 1 << 20);
    g_assert_cmpstr(r.out->str, ==, "AbCdEfGHij");
    g_assert_cmpuint(s.ooo_bytes, ==, 0);
    mw_stream_free(&s);
    g_string_free(r.out, TRUE);
}

/* Conflicting copies: what the conflict sink was told. */
typedef struct {
    sink_rec base;
    unsigned calls, calls_after_delivery;
    uint64_t off, first_frame;
    GString *other;
} conflict_rec;

static void cr_data(void *u, mw_dir dir, const uint8_t *p, size_t len, const mw_seg_meta *m)
{
    rec_data(&((conflict_rec *)u)->base, dir, p, len, m);
}

static void cr_gap(void *u, mw_dir dir, uint64_t missing, const mw_seg_meta *at)
{
    rec_gap(&((conflict_rec *)u)->base, dir, missing, at);
}

static void cr_conflict(void *u, mw_dir dir, uint64_t off, const uint8_t *other, size_t len,
                        uint64_t first_frame, const mw_seg_meta *at)
{
    conflict_rec *r = u;
    r->calls++;
    r->off = off;
    r->first_frame = first_frame;
    if (other)
        g_string_append_len(r->other, (const char *)other, (gssize)len);
    else
        r->calls_after_delivery++;
}

static const mw_stream_sink conflict_sink = { cr_data, cr_gap, cr_conflict };

static void cseg(mw_stream *s, conflict_rec *r, uint32_t seq, const char *txt, uint64_t frame)
{
    mw_seg_meta m = { frame, (int64_t)frame, 0, false };
    mw_stream_segment(s, seq, (const uint8_t *)txt, strlen(txt), 0, &m, 1 << 20, &conflict_sink,
                      r);
}

static void test_conflict_after_delivery(void)
{
    mw_stream s;
    conflict_rec r = { { g_string_new(NULL), 0, 0 }, 0, 0, 0, 0, g_string_new(NULL) };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 1000);
    cseg(&s, &r, 1000, "EHLO x\r\n", 1);
    cseg(&s, &r, 1000, "EHLO x\r\n", 2);        /* the same bytes again: no conflict */
    g_assert_cmpuint(r.calls, ==, 0);
    cseg(&s, &r, 1008, "AUTX PLAIN abc\r\n", 3);
    cseg(&s, &r, 1008, "AUTH PLAIN xyz\r\n", 4); /* the retransmission differs */
    g_assert_cmpuint(r.calls, ==, 1);
    g_assert_cmpuint(r.off, ==, 8);
    g_assert_cmpuint(r.first_frame, ==, 3);      /* the packet whose copy was kept */
    g_assert_cmpstr(r.other->str, ==, "AUTH PLAIN xyz\r\n");
    cseg(&s, &r, 1008, "AUTX PLAIN abc\r\nQUIT\r\n", 5); /* same prefix, more bytes */
    g_assert_cmpuint(r.calls, ==, 1);
    g_assert_cmpstr(r.base.out->str, ==, "EHLO x\r\nAUTX PLAIN abc\r\nQUIT\r\n");
    mw_stream_free(&s);
    g_string_free(r.base.out, TRUE);
    g_string_free(r.other, TRUE);
}

/* A full-size segment (the fingerprint's long-input path, AVX2 where the CPU has it):
 * the same bytes again raise nothing; one byte changed anywhere, at its start, middle or
 * end, is a conflict. */
static void test_conflict_full_segment(void)
{
    mw_stream s;
    conflict_rec r = { { g_string_new(NULL), 0, 0 }, 0, 0, 0, 0, g_string_new(NULL) };
    char a[1449];
    for (size_t i = 0; i < sizeof a - 1; i++)
        a[i] = (char)('a' + i * 7 % 26);
    a[sizeof a - 1] = '\0';
    mw_stream_init(&s, MW_FROM_SERVER);
    mw_stream_start(&s, 5000);
    cseg(&s, &r, 5000, a, 1);
    cseg(&s, &r, 5000, a, 2);
    g_assert_cmpuint(r.calls, ==, 0);
    static const size_t at[] = { 0, 241, 724, 1447 };
    for (size_t i = 0; i < G_N_ELEMENTS(at); i++) {
        char b[sizeof a];
        memcpy(b, a, sizeof a);
        b[at[i]] = b[at[i]] == 'Z' ? 'Y' : 'Z';
        cseg(&s, &r, 5000, b, 3 + i);
        g_assert_cmpuint(r.calls, ==, i + 1);
        g_assert_cmpuint(r.first_frame, ==, 1);
    }
    g_assert_cmpuint(r.base.out->len, ==, sizeof a - 1);
    mw_stream_free(&s);
    g_string_free(r.base.out, TRUE);
    g_string_free(r.other, TRUE);
}

static void test_conflict_while_held(void)
{
    mw_stream s;
    conflict_rec r = { { g_string_new(NULL), 0, 0 }, 0, 0, 0, 0, g_string_new(NULL) };
    mw_stream_init(&s, MW_FROM_CLIENT);
    mw_stream_start(&s, 0);
    cseg(&s, &r, 6, "AUTX PLAIN abc\r\n", 1);
    cseg(&s, &r, 11, "PLAIN abc", 2);             /* inside the held copy, the same bytes */
    g_assert_cmpuint(r.calls, ==, 0);
    cseg(&s, &r, 6, "AUTH PLAIN xyz\r\n", 3);   /* differs from the held copy */
    g_assert_cmpuint(r.calls, ==, 1);
    g_assert_cmpuint(r.off, ==, 6);
    g_assert_cmpuint(r.first_frame, ==, 1);
    g_assert_cmpuint(r.calls_after_delivery, ==, 0);
    cseg(&s, &r, 0, "NOOP\r\n", 4);               /* fills the hole: the held copy goes on */
    g_assert_cmpstr(r.base.out->str, ==, "NOOP\r\nAUTX PLAIN abc\r\n");
    g_assert_cmpuint(r.calls, ==, 2);
    g_assert_cmpuint(r.calls_after_delivery, ==, 1); /* told again once it was delivered */
    g_assert_cmpuint(r.first_frame, ==, 1);
    mw_stream_free(&s);
    g_string_free(r.base.out, TRUE);
    g_string_free(r.other, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reasm/in_order_retransmit", test_in_order_and_retransmit);
    g_test_add_func("/reasm/out_of_order_overlaps", test_out_of_order_overlaps);
    g_test_add_func("/reasm/wraparound", test_wraparound);
    g_test_add_func("/reasm/gap_flush_ack", test_gap_on_flush_and_ack);
    g_test_add_func("/reasm/ooo_cap", test_ooo_cap);
    g_test_add_func("/reasm/snaplen_cut", test_snaplen_cut);
    g_test_add_func("/reasm/random_order_one_byte", test_random_order_one_byte);
    g_test_add_func("/reasm/overlap_many_held", test_overlap_many_held);
    g_test_add_func("/reasm/conflict_after_delivery", test_conflict_after_delivery);
    g_test_add_func("/reasm/conflict_while_held", test_conflict_while_held);
    g_test_add_func("/reasm/conflict_full_segment", test_conflict_full_segment);
    return g_test_run();
}
