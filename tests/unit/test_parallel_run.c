/* Analysis on several threads end to end (analyzer/parallel/): synthetic SMTP sessions,
 * analysed by one engine and by mw_parallel with 1 to 4 threads and a hold of 1 to 4096
 * records (MW_PARALLEL_HOLD: a thread over it waits for the merger), must give the same
 * records in the same order. The traffic is made to stress the bound: a third of the
 * sessions end by FIN, the rest all go idle at once (one segment after a long silence
 * closes hundreds on every thread), and a second wave is open at the end of the input
 * (every thread closes all its flows, in last-segment order, at once). */
#include <glib.h>
#include <string.h>

#include "core/config.h"
#include "engine/flow.h"
#include "output/record_json.h"
#include "parallel/parallel.h"

#define WAVE 300u       /* sessions per wave */
#define SISN 5000u
#define CISN 1000u

typedef struct {
    mw_packet pkt;
    char payload[64];
    int64_t ts;
} seg;

typedef struct {
    GArray *segs;
    int64_t t;
    guint barrier_at; /* mw_parallel_barrier before this segment (0: none): every thread
                       * has then analysed all before it, and told its idle deadline */
    guint open_at_end; /* flows open when the input ends */
} traffic;

static void add(traffic *tr, bool from_client, uint16_t cport, uint32_t seq, uint32_t ack,
                uint8_t flags, const char *data)
{
    seg s;
    memset(&s, 0, sizeof s);
    s.pkt.family = 4;
    uint8_t c[4] = { 10, 0, (uint8_t)(cport >> 8), (uint8_t)cport }, v[4] = { 10, 9, 9, 9 };
    memcpy(s.pkt.src, from_client ? c : v, 4);
    memcpy(s.pkt.dst, from_client ? v : c, 4);
    s.pkt.sport = from_client ? cport : 25;
    s.pkt.dport = from_client ? 25 : cport;
    s.pkt.seq = seq;
    s.pkt.ack = ack;
    s.pkt.tcp_flags = flags;
    if (data) {
        s.pkt.payload_len = strlen(data);
        memcpy(s.payload, data, s.pkt.payload_len);
    }
    tr->t += 10; /* 10 us a segment */
    s.ts = tr->t;
    g_array_append_val(tr->segs, s);
}

static const char BANNER[] = "220 mx.example ESMTP\r\n";

/* The handshake and the banner of every session of a wave, interleaved. */
static void wave_open(traffic *tr, uint16_t first)
{
    for (uint16_t i = 0; i < WAVE; i++)
        add(tr, true, (uint16_t)(first + i), CISN, 0, MW_TCP_SYN, NULL);
    for (uint16_t i = 0; i < WAVE; i++)
        add(tr, false, (uint16_t)(first + i), SISN, CISN + 1, MW_TCP_SYN | MW_TCP_ACK, NULL);
    for (uint16_t i = 0; i < WAVE; i++)
        add(tr, true, (uint16_t)(first + i), CISN + 1, SISN + 1, MW_TCP_ACK, NULL);
    /* banners in another order: the latest segment of each flow is not its start's order */
    for (uint16_t k = 0; k < WAVE; k++) {
        uint16_t i = (uint16_t)((k * 7u) % WAVE);
        add(tr, false, (uint16_t)(first + i), SISN + 1, CISN + 1, MW_TCP_ACK, BANNER);
    }
}

/* Every third session of the wave: QUIT, 221, FIN both ways. */
static void wave_quit(traffic *tr, uint16_t first)
{
    const uint32_t s1 = SISN + 1 + (uint32_t)strlen(BANNER);
    for (uint16_t i = 0; i < WAVE; i += 3) {
        uint16_t p = (uint16_t)(first + i);
        add(tr, true, p, CISN + 1, s1, MW_TCP_ACK, "QUIT\r\n");
        add(tr, false, p, s1, CISN + 7, MW_TCP_ACK, "221 bye\r\n");
        add(tr, false, p, s1 + 9, CISN + 7, MW_TCP_FIN | MW_TCP_ACK, NULL);
        add(tr, true, p, CISN + 7, s1 + 10, MW_TCP_FIN | MW_TCP_ACK, NULL);
    }
}

static traffic make_traffic(int64_t idle_us)
{
    traffic tr = { g_array_new(FALSE, FALSE, sizeof(seg)), 1700000000000000, 0, 0 };
    wave_open(&tr, 20000);
    wave_quit(&tr, 20000);
    tr.barrier_at = tr.segs->len; /* the ticks for the silence's end go by the deadlines */
    tr.t += idle_us + 1000000; /* silence: the next segment finds the rest of wave 1 idle */
    wave_open(&tr, 30000);
    tr.open_at_end = WAVE;
    return tr;
}

/* Wave 1 open, then one segment of another flow half an idle timeout later (the other
 * threads need no tick for it: nothing of theirs is idle by then), then the clock goes back
 * by more than the timeout and wave 2 opens: every thread's clock must still be the
 * latest time (its records' idle_at_end_s say so). */
static traffic make_traffic_back(int64_t idle_us)
{
    traffic tr = { g_array_new(FALSE, FALSE, sizeof(seg)), 1700000000000000, 0, 0 };
    int64_t t0 = tr.t;
    wave_open(&tr, 20000);
    tr.barrier_at = tr.segs->len;
    tr.t += idle_us / 2;
    add(&tr, true, 40000, CISN, 0, MW_TCP_SYN, NULL);
    tr.t = t0 - idle_us;
    wave_open(&tr, 30000);
    tr.open_at_end = 2 * WAVE + 1;
    return tr;
}

static void to_json(mw_session *s, void *user)
{
    GString *g = g_string_new(NULL);
    mw_record_json(g, s);
    g_ptr_array_add(user, g_string_free(g, FALSE));
    mw_session_free(s);
}

static GPtrArray *run_one(const mw_config *cfg, traffic *tr)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    mw_engine *e = mw_engine_new(cfg, NULL, NULL);
    mw_engine_hand_over(e, to_json, out);
    for (guint i = 0; i < tr->segs->len; i++) {
        seg *s = &g_array_index(tr->segs, seg, i);
        s->pkt.payload = (const uint8_t *)s->payload;
        mw_engine_packet(e, &s->pkt, i + 1, s->ts);
    }
    mw_engine_finish(e);
    mw_engine_free(e);
    return out;
}

static GPtrArray *run_threads(const mw_config *cfg, traffic *tr, unsigned n, size_t hold)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    mw_parallel *p = mw_parallel_new(cfg, n, hold, to_json, out);
    g_assert_nonnull(p);
    g_assert_cmpuint(mw_parallel_hold(p), ==, hold);
    for (guint i = 0; i < tr->segs->len; i++) {
        seg *s = &g_array_index(tr->segs, seg, i);
        s->pkt.payload = (const uint8_t *)s->payload;
        if (i && i == tr->barrier_at)
            mw_parallel_barrier(p);
        mw_parallel_decoded(p, MW_DECODE_TCP, &s->pkt, i + 1, s->ts, NULL);
    }
    mw_parallel_barrier(p); /* the progress line's counts, while the threads run */
    g_assert_cmpuint(mw_parallel_progress(p)->packets, ==, tr->segs->len);
    g_assert_cmpuint(mw_parallel_progress(p)->flows_live, ==, tr->open_at_end);
    mw_parallel_finish(p);
    g_assert_cmpuint(mw_parallel_progress(p)->sessions, ==, out->len);
    for (unsigned i = 0; i < n; i++) /* no thread ever had more waiting than its hold */
        g_assert_cmpuint(mw_parallel_thread_held_peak(p, i), <=, hold);
    mw_parallel_free(p);
    return out;
}

static void same(GPtrArray *a, GPtrArray *b)
{
    g_assert_cmpuint(a->len, ==, b->len);
    for (guint i = 0; i < a->len; i++)
        g_assert_cmpstr(g_ptr_array_index(a, i), ==, g_ptr_array_index(b, i));
}

static void test_bounded_merge(void)
{
    mw_config cfg;
    mw_config_defaults(&cfg);
    traffic tr = make_traffic(cfg.idle_timeout_us);
    GPtrArray *want = run_one(&cfg, &tr);
    g_assert_cmpuint(want->len, ==, 2 * WAVE);
    /* the closes the test means: a third by FIN, the rest of wave 1 idle, wave 2 at the end */
    unsigned by[3] = { 0, 0, 0 };
    const char *how[3] = { "\"closed_by\":\"fin\"", "\"closed_by\":\"idle_timeout\"",
                           "\"closed_by\":\"capture_end\"" };
    for (guint i = 0; i < want->len; i++)
        for (int k = 0; k < 3; k++)
            by[k] += strstr(g_ptr_array_index(want, i), how[k]) != NULL;
    g_assert_cmpuint(by[0], ==, WAVE / 3);
    g_assert_cmpuint(by[1], ==, WAVE - WAVE / 3);
    g_assert_cmpuint(by[2], ==, WAVE);
    const size_t holds[] = { 1, 2, 5, 64, MW_PARALLEL_HOLD };
    for (unsigned n = 1; n <= 4; n++)
        for (size_t h = 0; h < G_N_ELEMENTS(holds); h++) {
            GPtrArray *got = run_threads(&cfg, &tr, n, holds[h]);
            same(want, got);
            g_ptr_array_unref(got);
        }
    g_ptr_array_unref(want);
    g_array_free(tr.segs, TRUE);
}

static void test_clock_back(void)
{
    mw_config cfg;
    mw_config_defaults(&cfg);
    traffic tr = make_traffic_back(cfg.idle_timeout_us);
    GPtrArray *want = run_one(&cfg, &tr);
    for (unsigned n = 2; n <= 4; n++) {
        GPtrArray *got = run_threads(&cfg, &tr, n, MW_PARALLEL_HOLD);
        same(want, got);
        g_ptr_array_unref(got);
    }
    g_ptr_array_unref(want);
    g_array_free(tr.segs, TRUE);
}

/* mw_parallel_releaser: a record given back once written (as the writer thread does, from
 * the taking thread) is freed by the thread that made it, with its next post. Every record
 * of wave 1's FIN closes is written by the first barrier; the second makes sure they were
 * sent; each thread's last post frees what it was sent. */
typedef struct {
    GPtrArray *out;
    mw_parallel *p;
    mw_session_take_cb release;
    unsigned released;
} keep;

static void to_json_release(mw_session *s, void *user)
{
    keep *k = user;
    GString *g = g_string_new(NULL);
    mw_record_json(g, s);
    g_ptr_array_add(k->out, g_string_free(g, FALSE));
    k->release(s, k->p);
    k->released++;
}

static void test_freed_by_maker(void)
{
    mw_config cfg;
    mw_config_defaults(&cfg);
    traffic tr = make_traffic(cfg.idle_timeout_us);
    GPtrArray *want = run_one(&cfg, &tr);
    const size_t holds[] = { 1, MW_PARALLEL_HOLD };
    for (size_t h = 0; h < G_N_ELEMENTS(holds); h++) {
        keep k = { g_ptr_array_new_with_free_func(g_free), NULL, NULL, 0 };
        k.p = mw_parallel_new(&cfg, 2, holds[h], to_json_release, &k);
        k.release = mw_parallel_releaser(k.p);
        unsigned by_barrier = 0;
        for (guint i = 0; i < tr.segs->len; i++) {
            seg *s = &g_array_index(tr.segs, seg, i);
            s->pkt.payload = (const uint8_t *)s->payload;
            if (i && i == tr.barrier_at) {
                mw_parallel_barrier(k.p);
                by_barrier = k.released;
                mw_parallel_barrier(k.p);
            }
            mw_parallel_decoded(k.p, MW_DECODE_TCP, &s->pkt, i + 1, s->ts, NULL);
        }
        mw_parallel_finish(k.p);
        same(want, k.out);
        g_assert_cmpuint(by_barrier, >=, WAVE / 3);
        uint64_t freed = mw_parallel_thread_freed(k.p, 0) + mw_parallel_thread_freed(k.p, 1);
        g_assert_cmpuint(freed, >=, by_barrier);
        g_assert_cmpuint(freed, <=, k.released);
        mw_parallel_free(k.p);
        g_ptr_array_unref(k.out);
    }
    g_ptr_array_unref(want);
    g_array_free(tr.segs, TRUE);
}

/* --max-memory covers the records waiting in the merge: the hold is reckoned against each
 * thread's share, and made smaller when it would take more than half of it. */
static void test_hold_in_max_memory(void)
{
    mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.max_memory = 4u << 20; /* 2 MiB a thread: at most 1 MiB of records waiting */
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    mw_parallel *p = mw_parallel_new(&cfg, 2, MW_PARALLEL_HOLD, to_json, out);
    g_assert_cmpuint(mw_parallel_hold(p), ==, (1u << 20) / MW_PARALLEL_RECORD_COST);
    mw_parallel_free(p);
    cfg.max_memory = 0;
    p = mw_parallel_new(&cfg, 2, MW_PARALLEL_HOLD, to_json, out);
    g_assert_cmpuint(mw_parallel_hold(p), ==, MW_PARALLEL_HOLD);
    mw_parallel_free(p);
    g_ptr_array_unref(out);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/parallel/bounded_merge", test_bounded_merge);
    g_test_add_func("/parallel/clock_back", test_clock_back);
    g_test_add_func("/parallel/hold_in_max_memory", test_hold_in_max_memory);
    g_test_add_func("/parallel/freed_by_maker", test_freed_by_maker);
    return g_test_run();
}
