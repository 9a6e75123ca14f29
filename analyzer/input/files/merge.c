#include "input/files/merge.h"

#include <glib.h>

/* A binary min-heap of the files that have a packet ahead, by (time, index). */
typedef struct {
    int64_t ts;
    size_t i;
    bool failing; /* its read failed before any packet */
} head;

static bool before(const head *a, const head *b)
{
    return a->ts < b->ts || (a->ts == b->ts && a->i < b->i);
}

static void sift_down(head *h, size_t n, size_t k)
{
    for (;;) {
        size_t l = 2 * k + 1, r = l + 1, m = k;
        if (l < n && before(&h[l], &h[m]))
            m = l;
        if (r < n && before(&h[r], &h[m]))
            m = r;
        if (m == k)
            return;
        head t = h[k];
        h[k] = h[m];
        h[m] = t;
        k = m;
    }
}

/* The end of file i: its messages; false when it failed before any packet. */
static bool file_ended(const mw_merge *m, size_t i, char **err)
{
    char *warn = NULL;
    bool ok = mw_capture_pull_end(m->caps[i], err, &warn);
    if (warn && m->on_warning)
        m->on_warning(m->user, warn);
    g_free(warn);
    return ok;
}

/* Put file i's next packet in the heap (at slot k, which is then sifted), or end it. A
 * file that fails before its first packet stays in the heap, last: the others are read
 * first, then the run stops at it (as when files were read one after another). */
static bool refill(const mw_merge *m, head *h, size_t *n, size_t k, size_t i, char **err,
                   bool *failed)
{
    int64_t ts;
    int rc = mw_capture_peek(m->caps[i], &ts);
    if (rc == 1) {
        h[k] = (head){ ts, i, false };
    } else if (rc == -1 && mw_capture_frames(m->caps[i]) == 0 && !mw_capture_stopped()) {
        h[k] = (head){ INT64_MAX, i, true };
    } else {
        *failed = !file_ended(m, i, err);
        h[k] = h[--*n];
    }
    if (k < *n)
        sift_down(h, *n, k);
    return !*failed;
}

bool mw_merge_run(const mw_merge *m, size_t *failed, char **err)
{
    head *h = g_new(head, m->n ? m->n : 1);
    size_t n = 0;
    bool bad = false;
    for (size_t i = 0; i < m->n && !bad; i++) {
        h[n++] = (head){ 0, i, false };
        refill(m, h, &n, n - 1, i, err, &bad);
        if (bad)
            *failed = i;
    }
    for (size_t k = n / 2; k-- > 0;) /* heapify */
        sift_down(h, n, k);
    uint64_t taken = 0;
    size_t last = SIZE_MAX;
    while (!bad && n > 0 && !(m->limit && taken >= m->limit)) {
        size_t i = h[0].i;
        if (h[0].failing) {
            bad = !file_ended(m, i, err);
            *failed = i;
            break;
        }
        if (i != last && m->on_switch)
            m->on_switch(m->user, i);
        last = i;
        mw_capture_take(m->caps[i], m->e);
        taken++;
        if (!refill(m, h, &n, 0, i, err, &bad))
            *failed = i;
    }
    g_free(h);
    return !bad;
}

typedef struct {
    int64_t ts;   /* of the first packet; INT64_MAX: none */
    size_t given; /* the position on the command line */
    mw_capture *cap;
    char *name;
} first_packet;

static gint by_first_packet(gconstpointer pa, gconstpointer pb)
{
    const first_packet *a = pa, *b = pb;
    return a->ts != b->ts ? (a->ts < b->ts ? -1 : 1) : a->given < b->given ? -1 : 1;
}

void mw_merge_order_by_time(mw_capture **caps, char **names, size_t n)
{
    first_packet *fp = g_new(first_packet, n);
    for (size_t i = 0; i < n; i++) {
        fp[i] = (first_packet){ INT64_MAX, i, caps[i], names[i] };
        if (mw_capture_peek(caps[i], &fp[i].ts) != 1)
            fp[i].ts = INT64_MAX;
    }
    qsort(fp, n, sizeof *fp, (int (*)(const void *, const void *))by_first_packet);
    for (size_t i = 0; i < n; i++) {
        caps[i] = fp[i].cap;
        names[i] = fp[i].name;
    }
    g_free(fp);
}
