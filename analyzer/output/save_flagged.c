#include "output/save_flagged.h"

#include <errno.h>
#include <glib.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/decode.h"
#include "input/linktype.h"

/* The connection's addresses and ports in a canonical order, so both directions match. */
typedef struct {
    uint8_t family;
    uint8_t lo[16], hi[16];
    uint16_t lo_port, hi_port;
} tuple;

typedef struct {
    tuple key;
    int64_t start_us, end_us;
    uint32_t file_first, file_last;
    int dlt;
    char *path;
    pcap_dumper_t *dumper;  /* open, or NULL */
    bool created;
    uint64_t written;
    GList *lru_link;        /* in mw_saver.lru while the dumper is open */
} saved;

struct mw_saver {
    char *dir;
    const mw_inputs *inputs;
    GArray *sessions;       /* saved */
    uint64_t dropped;
    GHashTable *index;      /* tuple* -> GArray of guint (indexes into sessions) */
    GQueue lru;             /* indexes of the sessions with an open dumper, oldest first */
};

static guint tuple_hash(gconstpointer p)
{
    const tuple *t = p;
    guint h = 2166136261u;
    const uint8_t *b = (const uint8_t *)t;
    for (size_t i = 0; i < sizeof *t; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static gboolean tuple_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(tuple)) == 0;
}

static void make_tuple(tuple *t, uint8_t family, const uint8_t *a, uint16_t ap, const uint8_t *b,
                       uint16_t bp)
{
    memset(t, 0, sizeof *t);
    t->family = family;
    size_t n = family == 6 ? 16 : 4;
    int c = memcmp(a, b, n);
    if (c > 0 || (c == 0 && ap > bp)) {
        const uint8_t *x = a;
        a = b;
        b = x;
        uint16_t y = ap;
        ap = bp;
        bp = y;
    }
    memcpy(t->lo, a, n);
    memcpy(t->hi, b, n);
    t->lo_port = ap;
    t->hi_port = bp;
}

mw_saver *mw_saver_new(const char *dir, const mw_inputs *inputs, char **err)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        *err = g_strdup_printf("--save-flagged %s: %s", dir, g_strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        *err = g_strdup_printf("--save-flagged %s: not a directory", dir);
        return NULL;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        *err = g_strdup_printf("--save-flagged %s: cannot write there: %s", dir,
                               g_strerror(errno));
        return NULL;
    }
    mw_saver *sv = g_new0(mw_saver, 1);
    sv->dir = g_strdup(dir);
    sv->inputs = inputs;
    sv->sessions = g_array_new(FALSE, TRUE, sizeof(saved));
    sv->index = g_hash_table_new_full(tuple_hash, tuple_equal, g_free,
                                      (GDestroyNotify)g_array_unref);
    return sv;
}

void mw_saver_session(const mw_session *s, void *saver)
{
    mw_saver *sv = saver;
    if (!s->flags)
        return;
    if (sv->sessions->len >= MW_SAVE_MAX_SESSIONS) {
        sv->dropped++;
        return;
    }
    saved x = { 0 };
    make_tuple(&x.key, s->client.family, s->client.addr, s->client.port, s->server.addr,
               s->server.port);
    x.start_us = s->ts_start_us;
    x.end_us = s->ts_end_us;
    x.file_first = (uint32_t)mw_inputs_file_of(sv->inputs, s);
    x.file_last = (uint32_t)mw_inputs_current(sv->inputs);
    const mw_input *in = mw_inputs_get(sv->inputs, x.file_first);
    x.dlt = in ? in->dlt : -1;
    int first = 0;
    while (!mw_session_has(s, (mw_flag)first))
        first++;
    char *name = g_strdup_printf("%s-%s.pcap", s->id, mw_flag_name((mw_flag)first));
    x.path = g_build_filename(sv->dir, name, NULL);
    g_free(name);
    g_array_append_val(sv->sessions, x);
    guint i = sv->sessions->len - 1;
    GArray *list = g_hash_table_lookup(sv->index, &x.key);
    if (!list) {
        list = g_array_new(FALSE, FALSE, sizeof(guint));
        g_hash_table_insert(sv->index, g_memdup2(&x.key, sizeof x.key), list);
    }
    g_array_append_val(list, i);
}

static void close_dumper(mw_saver *sv, saved *x)
{
    pcap_dump_close(x->dumper);
    x->dumper = NULL;
    g_queue_delete_link(&sv->lru, x->lru_link);
    x->lru_link = NULL;
}

/* The session's output, opened (created, or reopened for appending) when needed. */
static pcap_dumper_t *dumper_for(mw_saver *sv, guint i, pcap_t *dead, char **err)
{
    saved *x = &g_array_index(sv->sessions, saved, i);
    if (x->dumper) { /* most recently used: to the tail */
        g_queue_unlink(&sv->lru, x->lru_link);
        g_queue_push_tail_link(&sv->lru, x->lru_link);
        return x->dumper;
    }
    if (sv->lru.length >= MW_SAVE_MAX_OPEN) {
        guint oldest = GPOINTER_TO_UINT(g_queue_peek_head(&sv->lru));
        close_dumper(sv, &g_array_index(sv->sessions, saved, oldest));
    }
    x->dumper = x->created ? pcap_dump_open_append(dead, x->path) : pcap_dump_open(dead, x->path);
    if (!x->dumper) {
        *err = g_strdup_printf("--save-flagged: %s", pcap_geterr(dead));
        return NULL;
    }
    x->created = true;
    g_queue_push_tail(&sv->lru, GUINT_TO_POINTER(i));
    x->lru_link = g_queue_peek_tail_link(&sv->lru);
    return x->dumper;
}

static bool pass_file(mw_saver *sv, uint32_t file, char **err)
{
    const mw_input *in = mw_inputs_get(sv->inputs, file);
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(in->name, PCAP_TSTAMP_PRECISION_MICRO,
                                                        errbuf);
    if (!p) {
        *err = g_strdup_printf("--save-flagged: %s: cannot read again: %s", in->name, errbuf);
        return false;
    }
    int dlt = pcap_datalink(p);
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(dlt, MW_SAVE_SNAPLEN,
                                                        PCAP_TSTAMP_PRECISION_MICRO);
    struct pcap_pkthdr *h;
    const u_char *data;
    bool ok = true;
    while (ok && pcap_next_ex(p, &h, &data) == 1) {
        mw_packet pkt;
        if (mw_decode(dlt, data, h->caplen, &pkt) != MW_DECODE_TCP)
            continue;
        tuple k;
        make_tuple(&k, pkt.family, pkt.src, pkt.sport, pkt.dst, pkt.dport);
        GArray *list = g_hash_table_lookup(sv->index, &k);
        if (!list)
            continue;
        int64_t ts = mw_ts_us(&h->ts);
        for (guint i = 0; i < list->len; i++) {
            guint xi = g_array_index(list, guint, i);
            saved *x = &g_array_index(sv->sessions, saved, xi);
            if (file < x->file_first || file > x->file_last || ts < x->start_us ||
                ts > x->end_us || x->dlt != dlt)
                continue;
            pcap_dumper_t *d = dumper_for(sv, xi, dead, err);
            if (!d) {
                ok = false;
                break;
            }
            pcap_dump((u_char *)d, h, data);
            x->written++;
        }
    }
    pcap_close(dead);
    pcap_close(p);
    return ok;
}

bool mw_saver_run(mw_saver *sv, unsigned *written, char **note, char **err)
{
    *written = 0;
    *note = NULL;
    bool ok = true;
    for (uint32_t f = 0; ok && f < mw_inputs_count(sv->inputs); f++)
        ok = pass_file(sv, f, err);
    for (guint i = 0; i < sv->sessions->len; i++) {
        saved *x = &g_array_index(sv->sessions, saved, i);
        if (x->dumper) {
            if (pcap_dump_flush(x->dumper) != 0 && ok) {
                *err = g_strdup_printf("--save-flagged: %s: write failed", x->path);
                ok = false;
            }
            close_dumper(sv, x);
        } else if (!x->created && ok) {
            /* no packet matched (should not happen): still an empty, valid capture */
            pcap_t *dead = pcap_open_dead(x->dlt, MW_SAVE_SNAPLEN);
            pcap_dumper_t *d = pcap_dump_open(dead, x->path);
            if (d)
                pcap_dump_close(d);
            else {
                *err = g_strdup_printf("--save-flagged: %s", pcap_geterr(dead));
                ok = false;
            }
            pcap_close(dead);
        }
        if (ok)
            (*written)++;
    }
    if (sv->dropped)
        *note = g_strdup_printf("--save-flagged: saved the first %d flagged sessions; %"
                                G_GUINT64_FORMAT " more were not saved", MW_SAVE_MAX_SESSIONS,
                                sv->dropped);
    return ok;
}

void mw_saver_free(mw_saver *sv)
{
    if (!sv)
        return;
    for (guint i = 0; i < sv->sessions->len; i++) {
        saved *x = &g_array_index(sv->sessions, saved, i);
        if (x->dumper)
            close_dumper(sv, x);
        g_free(x->path);
    }
    g_array_free(sv->sessions, TRUE);
    g_hash_table_destroy(sv->index);
    g_free(sv->dir);
    g_free(sv);
}
