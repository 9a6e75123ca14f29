#include "prefetch.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

/* A batch: records of a struct pcap_pkthdr followed by caplen bytes, each record starting
 * at a multiple of 8. */
typedef struct {
    uint8_t *buf;
    size_t cap, used;
    int64_t offset; /* the stream's position when the batch was handed over */
    bool last;      /* the reader has finished: rc and err below are its result */
    int rc;
    char *err;
} batch;

typedef struct {
    pcap_t *p;
    FILE *fp;
    GAsyncQueue *free_q, *full_q;
    batch *cur;
} reader;

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

static void hand_over(reader *r)
{
    long off = r->fp ? ftell(r->fp) : -1;
    r->cur->offset = off < 0 ? -1 : (int64_t)off;
    g_async_queue_push(r->full_q, r->cur);
    r->cur = g_async_queue_pop(r->free_q);
    r->cur->used = 0;
}

static void on_read(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    reader *r = (reader *)user;
    const size_t need = ALIGN8(sizeof *h) + ALIGN8(h->caplen);
    if (r->cur->used + need > r->cur->cap && r->cur->used > 0)
        hand_over(r);
    batch *b = r->cur;
    if (need > b->cap) { /* larger than a batch: this one grows to hold it */
        b->buf = g_realloc(b->buf, need);
        b->cap = need;
    }
    memcpy(b->buf + b->used, h, sizeof *h);
    memcpy(b->buf + b->used + ALIGN8(sizeof *h), data, h->caplen);
    b->used += need;
}

static gpointer reader_main(gpointer data)
{
    reader *r = data;
    r->cur = g_async_queue_pop(r->free_q);
    r->cur->used = 0;
    int rc = pcap_dispatch(r->p, -1, on_read, (u_char *)r);
    batch *b = r->cur;
    long off = r->fp ? ftell(r->fp) : -1;
    b->offset = off < 0 ? -1 : (int64_t)off;
    b->last = true;
    b->rc = rc;
    b->err = rc == -1 ? g_strdup(pcap_geterr(r->p)) : NULL;
    g_async_queue_push(r->full_q, b);
    return NULL;
}

int mw_prefetch_run(pcap_t *p, FILE *fp, mw_prefetch_cb cb, void *user, char **err)
{
    batch batches[MW_PREFETCH_BATCHES];
    reader r = { p, fp, g_async_queue_new(), g_async_queue_new(), NULL };
    for (int i = 0; i < MW_PREFETCH_BATCHES; i++) {
        batches[i] = (batch){ .buf = g_malloc(MW_PREFETCH_BATCH_BYTES),
                              .cap = MW_PREFETCH_BATCH_BYTES };
        g_async_queue_push(r.free_q, &batches[i]);
    }
    GThread *t = g_thread_new("mailwire-read", reader_main, &r);
    int rc = 0;
    for (;;) {
        batch *b = g_async_queue_pop(r.full_q);
        for (size_t pos = 0; pos < b->used;) {
            struct pcap_pkthdr h;
            memcpy(&h, b->buf + pos, sizeof h);
            cb(user, &h, b->buf + pos + ALIGN8(sizeof h), b->offset);
            pos += ALIGN8(sizeof h) + ALIGN8(h.caplen);
        }
        if (b->last) {
            rc = b->rc;
            if (err)
                *err = b->err;
            else
                g_free(b->err);
            break;
        }
        g_async_queue_push(r.free_q, b);
    }
    g_thread_join(t);
    for (int i = 0; i < MW_PREFETCH_BATCHES; i++)
        g_free(batches[i].buf);
    g_async_queue_unref(r.free_q);
    g_async_queue_unref(r.full_q);
    return rc;
}
