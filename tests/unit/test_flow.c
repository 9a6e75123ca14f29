/* The flow engine end to end on synthetic TCP segments: handshake, reordering,
 * retransmission, loss, 4-tuple reuse, idle timeout, the live-flow cap, mid-session
 * starts, and non-mail traffic dropped early. */
#include <glib.h>
#include <string.h>

#include "engine/detect.h"
#include "engine/flow.h"
#include "engine/live/loss.h"
#include "output/record_json.h"

typedef struct {
    GPtrArray *records; /* JSON strings */
} collected;

static void collect(const mw_session *s, void *user)
{
    GString *g = g_string_new(NULL);
    mw_record_json(g, s);
    g_ptr_array_add(((collected *)user)->records, g_string_free(g, FALSE));
}

typedef struct {
    mw_packet pkt;
    uint8_t payload[256];
    int64_t ts;
} seg;

/* client 10.0.0.1:cport <-> server 10.0.0.2:sport */
static seg mk(bool from_client, uint16_t cport, uint16_t sport, uint32_t seq, uint32_t ack,
              uint8_t flags, const char *data, int64_t ts)
{
    seg s;
    memset(&s, 0, sizeof s);
    s.pkt.family = 4;
    uint8_t c[4] = { 10, 0, 0, 1 }, v[4] = { 10, 0, 0, 2 };
    memcpy(s.pkt.src, from_client ? c : v, 4);
    memcpy(s.pkt.dst, from_client ? v : c, 4);
    s.pkt.sport = from_client ? cport : sport;
    s.pkt.dport = from_client ? sport : cport;
    s.pkt.seq = seq;
    s.pkt.ack = ack;
    s.pkt.tcp_flags = flags;
    if (data) {
        size_t n = strlen(data);
        g_assert_cmpuint(n, <=, sizeof s.payload);
        memcpy(s.payload, data, n);
        s.pkt.payload_len = n;
    }
    s.ts = ts;
    return s;
}

static void feed(mw_engine *e, seg *segs, size_t n, const size_t *order)
{
    for (size_t i = 0; i < n; i++) {
        seg *s = &segs[order ? order[i] : i];
        s->pkt.payload = s->payload;
        mw_engine_packet(e, &s->pkt, i + 1, s->ts);
    }
}

#define CISN 1000u
#define SISN 5000u
#define A MW_TCP_ACK

/* A relay-denied conversation as 12 segments (sequence numbers precomputed). */
static size_t relay_conversation_isn(seg *out, uint16_t cport, int64_t t0, uint32_t cisn)
{
    const char *s1 = "220 mx ESMTP\r\n";                      /* 14 */
    const char *c1 = "EHLO c\r\n";                            /* 8 */
    const char *s2 = "250 mx\r\n";                            /* 8 */
    const char *c2 = "MAIL FROM:<a@b>\r\n";                   /* 17 */
    const char *s3 = "250 ok\r\n";                            /* 8 */
    const char *c3 = "RCPT TO:<x@far.example>\r\n";           /* 25 */
    const char *s4 = "554 5.7.1 <x@far.example>: Relay access denied\r\n"; /* 48 */
    size_t n = 0;
    uint32_t c = cisn + 1, s = SISN + 1;
    out[n++] = mk(true, cport, 25, cisn, 0, MW_TCP_SYN, NULL, t0);
    out[n++] = mk(false, cport, 25, SISN, c, MW_TCP_SYN | A, NULL, t0 + 1);
    out[n++] = mk(true, cport, 25, c, s, A, NULL, t0 + 2);
    out[n++] = mk(false, cport, 25, s, c, A, s1, t0 + 3); s += 14;
    out[n++] = mk(true, cport, 25, c, s, A, c1, t0 + 4); c += 8;
    out[n++] = mk(false, cport, 25, s, c, A, s2, t0 + 5); s += 8;
    out[n++] = mk(true, cport, 25, c, s, A, c2, t0 + 6); c += 17;
    out[n++] = mk(false, cport, 25, s, c, A, s3, t0 + 7); s += 8;
    out[n++] = mk(true, cport, 25, c, s, A, c3, t0 + 8); c += 25;
    out[n++] = mk(false, cport, 25, s, c, A, s4, t0 + 9); s += 48;
    out[n++] = mk(true, cport, 25, c, s, MW_TCP_FIN | A, NULL, t0 + 10);
    out[n++] = mk(false, cport, 25, s, c + 1, MW_TCP_FIN | A, NULL, t0 + 11);
    return n;
}

static size_t relay_conversation(seg *out, uint16_t cport, int64_t t0)
{
    return relay_conversation_isn(out, cport, t0, CISN);
}

static mw_engine *engine(collected *col, size_t max_flows)
{
    mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.max_flows = max_flows;
    col->records = g_ptr_array_new_with_free_func(g_free);

    return mw_engine_new(&cfg, collect, col);
}

static const char *rec(collected *c, guint i)
{
    g_assert_cmpuint(c->records->len, >, i);
    return g_ptr_array_index(c->records, i);
}

static void test_in_order(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg segs[16];
    size_t n = relay_conversation(segs, 40000, 1000000);
    feed(e, segs, n, NULL);
    /* written at FIN, before the end of input */
    g_assert_cmpuint(col.records->len, ==, 1);
    g_assert_nonnull(strstr(rec(&col, 0), "\"flags\":[\"relay_denied\"]"));
    g_assert_nonnull(strstr(rec(&col, 0), "\"client\":\"10.0.0.1:40000\""));
    g_assert_nonnull(strstr(rec(&col, 0), "\"packets\":{\"client\":6,\"server\":6}"));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

static void test_reordered_and_retransmitted(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg segs[20];
    size_t n = relay_conversation(segs, 40001, 1000000);
    segs[n] = segs[6]; /* a retransmission of MAIL FROM after the fact */
    segs[n].ts += 100;
    n++;
    /* server reply 554 before the RCPT it answers; MAIL and EHLO swapped */
    size_t order[] = { 0, 1, 2, 3, 6, 4, 5, 7, 9, 8, 12, 10, 11 };
    feed(e, segs, n, order);
    mw_engine_finish(e);
    if (g_test_verbose())
        g_printerr("%s\n", rec(&col, 0));
    g_assert_cmpuint(col.records->len, ==, 1);
    g_assert_nonnull(strstr(rec(&col, 0), "\"flags\":[\"relay_denied\"]"));
    g_assert_nonnull(strstr(rec(&col, 0), "\"helo\":\"c\""));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

static void test_lost_segment(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg segs[16];
    size_t n = relay_conversation(segs, 40002, 1000000);
    size_t order[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11 }; /* MAIL FROM lost */
    feed(e, segs, n - 1, order);
    g_assert_cmpuint(col.records->len, ==, 1);
    const char *r = rec(&col, 0);
    if (g_test_verbose())
        g_printerr("%s\n", r);
    g_assert_nonnull(strstr(r, "\"capture_gap\""));
    g_assert_nonnull(strstr(r, "\"relay_denied\""));
    g_assert_nonnull(strstr(r, "17 bytes from the client missing from the capture"));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

static void test_tuple_reuse_and_mid_session(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg a[16], b[16];
    size_t na = relay_conversation(a, 40003, 1000000);
    size_t nb = relay_conversation_isn(b, 40003, 2000000, 777777); /* a new ISN */
    feed(e, a, na - 1, NULL);            /* no final FIN from the server */
    feed(e, b, nb, NULL);                /* same 4-tuple, new SYN: a new session */
    g_assert_cmpuint(col.records->len, ==, 2);
    g_assert_nonnull(strstr(rec(&col, 0), "\"id\":\"s1\""));
    g_assert_nonnull(strstr(rec(&col, 1), "\"id\":\"s2\""));
    /* a capture that starts after the handshake still gives the finding */
    seg c[16];
    size_t nc = relay_conversation(c, 40004, 3000000);
    feed(e, c + 6, nc - 6, NULL);
    g_assert_cmpuint(col.records->len, ==, 3);
    g_assert_nonnull(strstr(rec(&col, 2), "capture started mid-session"));
    g_assert_nonnull(strstr(rec(&col, 2), "\"relay_denied\""));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

static void test_idle_timeout_and_cap(void)
{
    collected col;
    mw_engine *e = engine(&col, 2);
    seg a[16];
    for (uint16_t p = 0; p < 3; p++) {
        size_t n = relay_conversation(a, (uint16_t)(41000 + p), 1000000 + p * 100);
        feed(e, a, n - 2, NULL); /* leave each open */
    }
    /* the cap of 2 live flows closed the oldest */
    g_assert_cmpuint(col.records->len, ==, 1);
    g_assert_cmpuint(mw_engine_stats_get(e)->evicted, ==, 1);
    /* a packet 2 hours later (packet time) closes the idle ones */
    seg late = mk(true, 50000, 80, 1, 0, MW_TCP_SYN, NULL, 1000000 + 7200LL * 1000000);
    feed(e, &late, 1, NULL);
    g_assert_cmpuint(col.records->len, ==, 3);
    mw_engine_finish(e);
    g_assert_cmpuint(col.records->len, ==, 3); /* the port-80 flow is not mail: no record */
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

/* issue 12: an evicted session is incomplete, closed_by evicted, with no
 * unanswered_command; the rest of its flow says which record it continues, and blames
 * no capture gap on the network. */
static void test_eviction_continues(void)
{
    collected col;
    mw_engine *e = engine(&col, 1);
    seg a[16], b[16];
    size_t n = relay_conversation(a, 41000, 1000000);
    feed(e, a, 9, NULL); /* up to the RCPT, unanswered yet */
    relay_conversation(b, 42000, 1000100);
    feed(e, b, 1, NULL); /* another connection's SYN: the cap of 1 evicts the first */
    g_assert_cmpuint(col.records->len, ==, 1);
    const char *ev = rec(&col, 0);
    g_assert_nonnull(strstr(ev, "\"id\":\"s1\""));
    g_assert_nonnull(strstr(ev, "\"outcome\":\"incomplete\""));
    g_assert_nonnull(strstr(ev, "\"flags\":[]"));
    g_assert_nonnull(strstr(ev, "\"closed_by\":\"evicted\""));
    g_assert_null(strstr(ev, "continues"));
    feed(e, a + 9, n - 9, NULL); /* the rest of the first flow */
    mw_engine_finish(e);
    g_assert_cmpuint(col.records->len, ==, 3);
    /* s2 evicted in turn when the rest of the first flow came; then that rest, s3 */
    const char *rest = rec(&col, 2);
    g_assert_nonnull(strstr(rest, "\"client\":\"10.0.0.1:41000\""));
    g_assert_nonnull(strstr(rest, "\"code\":554")); /* the reply, without its command */
    g_assert_nonnull(strstr(rest, "\"flags\":[]"));
    g_assert_nonnull(strstr(rest, "\"anomalies\":[\"continues_evicted\"]"));
    g_assert_nonnull(strstr(rest, "\"continues\":\"s1\""));
    g_assert_null(strstr(rest, "capture_gap"));
    g_assert_cmpuint(mw_engine_stats_get(e)->evicted, ==, 2);
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

static void test_greeting_on_other_port(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg s[6];
    s[0] = mk(true, 40100, 8025, 1, 0, MW_TCP_SYN, NULL, 1);
    s[1] = mk(false, 40100, 8025, 100, 2, MW_TCP_SYN | A, NULL, 2);
    s[2] = mk(false, 40100, 8025, 101, 2, A, "220 mx ESMTP\r\n", 3);
    s[3] = mk(true, 40100, 8025, 2, 115, A, "QUIT\r\n", 4);
    s[4] = mk(false, 40100, 8025, 115, 8, A | MW_TCP_FIN, "221 Bye\r\n", 5);
    s[5] = mk(true, 40100, 8025, 8, 125, A | MW_TCP_FIN, NULL, 6);
    feed(e, s, 6, NULL);
    /* an HTTP flow on another port is dropped at its first bytes */
    seg h[3];
    h[0] = mk(true, 40200, 8080, 1, 0, MW_TCP_SYN, NULL, 7);
    h[1] = mk(false, 40200, 8080, 100, 2, MW_TCP_SYN | A, NULL, 8);
    h[2] = mk(true, 40200, 8080, 2, 101, A, "GET / HTTP/1.1\r\n\r\n", 9);
    feed(e, h, 3, NULL);
    mw_engine_finish(e);
    g_assert_cmpuint(col.records->len, ==, 1);
    g_assert_nonnull(strstr(rec(&col, 0), "\"protocol\":\"smtp\""));
    g_assert_nonnull(strstr(rec(&col, 0), "\"outcome\":\"ok\""));
    g_assert_cmpuint(mw_engine_stats_get(e)->flows_ignored, ==, 1);
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

/* The client's last command is lost, then its FIN comes: the bytes between are a gap
 * (the session used to say ok). */
static void test_loss_before_fin(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    uint32_t c = CISN + 1, v = SISN + 1;
    seg s[7];
    s[0] = mk(true, 40400, 25, CISN, 0, MW_TCP_SYN, NULL, 1);
    s[1] = mk(false, 40400, 25, SISN, c, MW_TCP_SYN | A, NULL, 2);
    s[2] = mk(true, 40400, 25, c, v, A, NULL, 3);
    s[3] = mk(false, 40400, 25, v, c, A, "220 mx\r\n", 4);
    /* "QUIT\r\n" (6 bytes at c) never reaches the capture */
    s[4] = mk(true, 40400, 25, c + 6, v + 8, A | MW_TCP_FIN, NULL, 5);
    s[5] = mk(false, 40400, 25, v + 8, c + 7, A | MW_TCP_FIN, NULL, 6);
    s[6] = mk(true, 40400, 25, c + 7, v + 9, A, NULL, 7);
    feed(e, s, 7, NULL);
    mw_engine_finish(e);
    g_assert_cmpuint(col.records->len, ==, 1);
    g_assert_nonnull(strstr(rec(&col, 0), "\"capture_gap\""));
    g_assert_nonnull(strstr(rec(&col, 0), "6 bytes from the client missing from the capture"));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

/* Each engine has its own port table: --ports given to one does not leak into another. */
static void test_port_table_per_engine(void)
{
    mw_ports *ports = mw_ports_new();
    char *err = NULL;
    g_assert_true(mw_ports_add(ports, "imap=1143", &err));
    g_assert_false(mw_ports_add(ports, "gopher=70", &err));
    g_assert_cmpstr(err, ==, "--ports: unknown protocol 'gopher'");
    g_free(err);
    mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.ports = ports;
    collected a = { g_ptr_array_new_with_free_func(g_free) };
    collected b = { g_ptr_array_new_with_free_func(g_free) };
    mw_engine *ea = mw_engine_new(&cfg, collect, &a);
    mw_ports_free(ports); /* the engine keeps its own copy */
    mw_engine *eb = engine(&b, 100);
    seg s[3];
    s[0] = mk(true, 40300, 1143, 1, 0, MW_TCP_SYN, NULL, 1);
    s[1] = mk(false, 40300, 1143, 100, 2, MW_TCP_SYN | A, NULL, 2);
    s[2] = mk(true, 40300, 1143, 2, 101, A | MW_TCP_FIN, NULL, 3);
    feed(ea, s, 3, NULL);
    feed(eb, s, 3, NULL);
    mw_engine_finish(ea);
    mw_engine_finish(eb);
    g_assert_cmpuint(a.records->len, ==, 1);
    g_assert_nonnull(strstr(rec(&a, 0), "\"protocol\":\"imap\""));
    g_assert_cmpuint(b.records->len, ==, 0);
    uint16_t list[16];
    size_t n = mw_ports_list(mw_engine_ports(ea), list, 16);
    g_assert_cmpuint(n, ==, mw_ports_list(mw_engine_ports(eb), list, 16) + 1);
    mw_engine_free(ea);
    mw_engine_free(eb);
    g_ptr_array_free(a.records, TRUE);
    g_ptr_array_free(b.records, TRUE);
}

/* A minimal TLS 1.2 ClientHello with one SNI host name. */
static size_t client_hello(uint8_t *out, const char *host)
{
    size_t hl = strlen(host), n = 0;
    size_t ext = 2 + 2 + 2 + 1 + 2 + hl;            /* one SNI extension */
    size_t body = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + ext;
    uint8_t *p = out;
    p[n++] = 0x16; p[n++] = 3; p[n++] = 1;
    p[n++] = (uint8_t)((body + 4) >> 8); p[n++] = (uint8_t)(body + 4);
    p[n++] = 1; p[n++] = 0; p[n++] = (uint8_t)(body >> 8); p[n++] = (uint8_t)body;
    p[n++] = 3; p[n++] = 3;
    memset(p + n, 0x42, 32); n += 32;
    p[n++] = 0;                          /* session id */
    p[n++] = 0; p[n++] = 2; p[n++] = 0xc0; p[n++] = 0x2f; /* one suite */
    p[n++] = 1; p[n++] = 0;              /* null compression */
    p[n++] = (uint8_t)(ext >> 8); p[n++] = (uint8_t)ext;
    p[n++] = 0; p[n++] = 0;              /* server_name */
    p[n++] = (uint8_t)((ext - 4) >> 8); p[n++] = (uint8_t)(ext - 4);
    p[n++] = (uint8_t)((hl + 3) >> 8); p[n++] = (uint8_t)(hl + 3);
    p[n++] = 0; p[n++] = (uint8_t)(hl >> 8); p[n++] = (uint8_t)hl;
    memcpy(p + n, host, hl); n += hl;
    return n;
}

static void hello_on_port(mw_engine *e, uint16_t cport, uint16_t sport, const char *host)
{
    seg s[4];
    s[0] = mk(true, cport, sport, 1, 0, MW_TCP_SYN, NULL, 10);
    s[1] = mk(false, cport, sport, 100, 2, MW_TCP_SYN | A, NULL, 11);
    s[2] = mk(true, cport, sport, 2, 101, A, NULL, 12);
    s[2].pkt.payload_len = client_hello(s[2].payload, host);
    s[3] = mk(true, cport, sport, 2 + (uint32_t)s[2].pkt.payload_len, 101, A | MW_TCP_RST, NULL, 13);
    feed(e, s, 4, NULL);
}

static void test_client_hello_other_port(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    hello_on_port(e, 40300, 443, "www.example.com");     /* HTTPS: not mail, dropped */
    hello_on_port(e, 40301, 8993, "imap.example.test");  /* IMAP over TLS on another port */
    mw_engine_finish(e);
    g_assert_cmpuint(col.records->len, ==, 1);
    g_assert_nonnull(strstr(rec(&col, 0), "\"protocol\":\"imaps\""));
    if (g_test_verbose())
        g_printerr("%s\n", rec(&col, 0));
    g_assert_nonnull(strstr(rec(&col, 0), "\"sni\":\"imap.example.test\""));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

/* issue 15 item 11: a packet dated years back (a SYN-ACK of 1994 in a 2015 capture) is not
 * idleness: one session, its handshake kept, anomaly time_went_backwards; a reordering of a
 * few microseconds says nothing. */
static void test_time_backwards(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg a[16];
    const int64_t t0 = 1429518024000000LL; /* 2015 */
    size_t n = relay_conversation(a, 40500, t0);
    a[1].ts = 761195582000000LL;           /* 1994 */
    feed(e, a, n, NULL);
    mw_engine_finish(e);
    g_assert_cmpuint(col.records->len, ==, 1);
    const char *r = rec(&col, 0);
    g_assert_nonnull(strstr(r, "\"relay_denied\""));
    g_assert_nonnull(strstr(r, "\"time_went_backwards\""));
    g_assert_nonnull(strstr(r, "\"closed_by\":\"fin\""));
    g_assert_null(strstr(r, "capture_gap"));
    /* microseconds back: reordering, no anomaly */
    seg b[16];
    n = relay_conversation(b, 40501, t0);
    b[4].ts = b[3].ts - 2;
    feed(e, b, n, NULL);
    g_assert_cmpuint(col.records->len, ==, 2);
    g_assert_null(strstr(rec(&col, 1), "time_went_backwards"));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

/* issue 15 item 12: packets of a connection closed by FIN or RST (a retransmitted reply, data
 * after the reset) belong to it: counted, no phantom session with capture_gap; a new SYN
 * opens a new one; a 4-tuple reused without a close seen says closed_by reused. */
static void test_stray_after_close(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg a[16];
    size_t n = relay_conversation(a, 40600, 1000000);
    feed(e, a, n, NULL);                  /* closed by the two FINs */
    g_assert_cmpuint(col.records->len, ==, 1);
    seg again = a[9];                     /* the 554 reply, retransmitted */
    again.ts += 1000;
    feed(e, &again, 1, NULL);
    g_assert_cmpuint(mw_engine_stats_get(e)->after_close, ==, 1);
    /* after an RST: the rest of the server's data */
    seg b[16];
    n = relay_conversation(b, 40601, 2000000);
    feed(e, b, 8, NULL);
    seg rst = mk(true, 40601, 25, CISN + 1 + 8 + 17, SISN + 1 + 14 + 8 + 8, MW_TCP_RST | A, NULL,
                 2000009);
    feed(e, &rst, 1, NULL);
    g_assert_cmpuint(col.records->len, ==, 2);
    g_assert_nonnull(strstr(rec(&col, 1), "\"closed_by\":\"rst\""));
    feed(e, b + 9, 1, NULL);              /* a reply in flight when the client reset */
    g_assert_cmpuint(mw_engine_stats_get(e)->after_close, ==, 2);
    /* a new connection on the same 4-tuple is one */
    seg c[16];
    n = relay_conversation_isn(c, 40601, 3000000, 424242);
    feed(e, c, n, NULL);
    g_assert_cmpuint(col.records->len, ==, 3);
    g_assert_nonnull(strstr(rec(&col, 2), "\"relay_denied\""));
    g_assert_null(strstr(rec(&col, 2), "capture_gap"));
    /* reused with no close seen: the old record says so */
    seg d[16], d2[16];
    n = relay_conversation(d, 40602, 4000000);
    feed(e, d, n - 2, NULL);              /* no FIN either way */
    n = relay_conversation_isn(d2, 40602, 4000100, 99999);
    feed(e, d2, 1, NULL);                 /* a new SYN */
    g_assert_cmpuint(col.records->len, ==, 4);
    g_assert_nonnull(strstr(rec(&col, 3), "\"closed_by\":\"reused\""));
    mw_engine_finish(e);
    g_assert_cmpuint(col.records->len, ==, 5);
    for (guint i = 0; i < col.records->len; i++)
        g_assert_null(strstr(rec(&col, i), "capture started mid-session"));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

/* issue 15 item 13: only the client's packets are in the capture; it acknowledges the
 * server's bytes: they are missing from the capture (capture_gap), not silence. */
static void test_one_sided(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg a[16], c[16];
    size_t n = relay_conversation(a, 40700, 1000000), k = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(a[i].pkt.src, (uint8_t[]){ 10, 0, 0, 1 }, 4) == 0)
            c[k++] = a[i];
    feed(e, c, k, NULL);
    mw_engine_finish(e);
    g_assert_cmpuint(col.records->len, ==, 1);
    const char *r = rec(&col, 0);
    g_assert_nonnull(strstr(r, "\"capture_gap\""));
    /* 14 + 8 + 8 + 48 bytes of replies the client acknowledged */
    g_assert_nonnull(strstr(r, "78 bytes from the server missing from the capture"));
    /* both sides captured: the same acknowledgements raise nothing */
    n = relay_conversation(a, 40701, 2000000);
    feed(e, a, n, NULL);
    g_assert_null(strstr(rec(&col, 1), "capture_gap"));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

/* A SYN-ACK whose IP length claims 4096 bytes the frame does not carry (nDPI
 * tls_invalid_reads.pcap): no gap in front of the server's data (issue 15 item 10). */
static void test_synack_claims_uncaptured_data(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg a[16];
    size_t n = relay_conversation(a, 40800, 1000000);
    a[1].pkt.payload_cut = 4096;
    feed(e, a, n, NULL);
    g_assert_cmpuint(col.records->len, ==, 1);
    const char *r = rec(&col, 0);
    g_assert_nonnull(strstr(r, "\"flags\":[\"relay_denied\"]"));
    g_assert_null(strstr(r, "capture_gap"));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

/* Drop stretches (engine/live/loss.h): drops less than MW_LOSS_MERGE_US apart extend one
 * stretch, only the latest MW_LOSS_STRETCHES are kept, and the probe is asked first. */
static unsigned probed;
static void count_probe(void *user)
{
    (void)user;
    probed++;
}

static void test_loss_stretches(void)
{
    mw_loss l = { .probe = count_probe };
    g_assert_false(mw_loss_between(&l, 0, 1000000000));
    mw_loss_add(&l, 1000, 2000);
    mw_loss_add(&l, 2000 + MW_LOSS_MERGE_US - 1, 3 * MW_LOSS_MERGE_US); /* extends it */
    g_assert_cmpuint(l.nloss, ==, 1);
    g_assert_true(mw_loss_between(&l, 2 * MW_LOSS_MERGE_US, 2 * MW_LOSS_MERGE_US));
    g_assert_false(mw_loss_between(&l, 0, 999));
    g_assert_false(mw_loss_between(&l, 3 * MW_LOSS_MERGE_US + 1, 4 * MW_LOSS_MERGE_US));
    for (int64_t i = 1; i <= MW_LOSS_STRETCHES; i++) /* apart: one stretch each */
        mw_loss_add(&l, 10 * i * MW_LOSS_MERGE_US, 10 * i * MW_LOSS_MERGE_US + 5);
    g_assert_false(mw_loss_between(&l, 1000, 2000)); /* the oldest was forgotten */
    g_assert_true(mw_loss_between(&l, 10 * MW_LOSS_STRETCHES * MW_LOSS_MERGE_US, INT64_MAX));
    g_assert_cmpuint(probed, ==, 6);
}

/* Live: a session still open when the kernel dropped packets after its last captured one
 * (its FIN may be among them) says so at its close, by idle timeout or at the end; one whose
 * last packet came after the drops does not. */
static void test_loss_after_last_packet(void)
{
    collected col;
    mw_engine *e = engine(&col, 100);
    seg a[16], b[16];
    size_t n = relay_conversation(a, 40500, 1000000);
    feed(e, a, n - 2, NULL); /* no FIN seen */
    mw_engine_capture_lost(e, 7, 0, 1000020, 1000030);
    size_t m = relay_conversation(b, 40501, 1000040);
    feed(e, b, m - 2, NULL); /* opened after the loss, open at the end */
    mw_engine_finish(e);
    g_assert_cmpuint(col.records->len, ==, 2);
    const char *lost = strstr(rec(&col, 0), "10.0.0.1:40500") ? rec(&col, 0) : rec(&col, 1);
    const char *kept = lost == rec(&col, 0) ? rec(&col, 1) : rec(&col, 0);
    g_assert_nonnull(strstr(lost, "its end is not in the capture: the kernel dropped packets"));
    g_assert_nonnull(strstr(lost, "\"capture_gap\""));
    g_assert_null(strstr(kept, "capture_gap"));
    mw_engine_free(e);
    g_ptr_array_free(col.records, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/flow/synack_claims_uncaptured_data", test_synack_claims_uncaptured_data);
    g_test_add_func("/flow/in_order", test_in_order);
    g_test_add_func("/flow/reordered_retransmitted", test_reordered_and_retransmitted);
    g_test_add_func("/flow/lost_segment", test_lost_segment);
    g_test_add_func("/flow/tuple_reuse_mid_session", test_tuple_reuse_and_mid_session);
    g_test_add_func("/flow/idle_timeout_cap", test_idle_timeout_and_cap);
    g_test_add_func("/flow/eviction_continues", test_eviction_continues);
    g_test_add_func("/flow/greeting_other_port", test_greeting_on_other_port);
    g_test_add_func("/flow/client_hello_other_port", test_client_hello_other_port);
    g_test_add_func("/flow/port_table_per_engine", test_port_table_per_engine);
    g_test_add_func("/flow/loss_before_fin", test_loss_before_fin);
    g_test_add_func("/flow/time_backwards", test_time_backwards);
    g_test_add_func("/flow/stray_after_close", test_stray_after_close);
    g_test_add_func("/flow/one_sided", test_one_sided);
    g_test_add_func("/flow/loss_stretches", test_loss_stretches);
    g_test_add_func("/flow/loss_after_last_packet", test_loss_after_last_packet);
    return g_test_run();
}
