#include "parallel/order.h"

#include <glib.h>
#include <stdlib.h>

int mw_order_cmp(const mw_order_event *a, const mw_order_event *b)
{
    if (a->g != b->g)
        return a->g < b->g ? -1 : 1;
    if (a->phase != b->phase)
        return a->phase < b->phase ? -1 : 1;
    if (a->last != b->last)
        return a->last < b->last ? -1 : 1;
    return 0;
}

typedef struct {
    GArray *ev;   /* mw_order_event, from head on not yet merged */
    size_t head;
    uint64_t wm;
    uint64_t taken; /* records emitted */
} stream;

struct mw_merger {
    unsigned n;
    stream *st;
    GArray *starts; /* the indexes of the sessions started, in order: ids are ranks here */
    mw_session_take_cb emit;
    void *user;
    unsigned current; /* the stream being emitted from */
};

mw_merger *mw_merger_new(unsigned n, mw_session_take_cb emit, void *user)
{
    mw_merger *m = g_new0(mw_merger, 1);
    m->n = n;
    m->st = g_new0(stream, n);
    for (unsigned i = 0; i < n; i++)
        m->st[i].ev = g_array_new(FALSE, FALSE, sizeof(mw_order_event));
    m->starts = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    m->emit = emit;
    m->user = user;
    return m;
}

void mw_merger_add(mw_merger *m, unsigned i, const mw_order_event *ev, size_t count,
                   uint64_t wm)
{
    stream *s = &m->st[i];
    if (s->head > 0 && s->head >= s->ev->len / 2) { /* drop what was merged */
        g_array_remove_range(s->ev, 0, (guint)s->head);
        s->head = 0;
    }
    if (count)
        g_array_append_vals(s->ev, ev, (guint)count);
    s->wm = wm;
}

/* The rank (1-based) of index g among the starts merged so far: its session's number. */
static uint64_t rank_of(const mw_merger *m, uint64_t g)
{
    const uint64_t *a = (const uint64_t *)(void *)m->starts->data;
    size_t lo = 0, hi = m->starts->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < g)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint64_t)lo + 1;
}

/* "sG" (named by the thread after its start's index) to "sN", N its place among starts.
 * By hand: once per record, where strtoull and snprintf cost ten times as much. */
static void rename_id(const mw_merger *m, char *id, size_t size)
{
    if (id[0] != 's' || id[1] < '0' || id[1] > '9')
        return;
    uint64_t g = 0;
    for (const char *c = id + 1; *c >= '0' && *c <= '9'; c++)
        g = g * 10 + (uint64_t)(*c - '0');
    char digits[24];
    size_t n = 0;
    for (uint64_t r = rank_of(m, g); r || n == 0; r /= 10)
        digits[n++] = (char)('0' + r % 10);
    if (n + 2 > size)
        return;
    for (size_t i = 0; i < n; i++)
        id[1 + i] = digits[n - 1 - i];
    id[1 + n] = '\0';
}

static void emit_one(mw_merger *m, mw_order_event *e)
{
    if (e->phase == MW_ORDER_START) {
        g_array_append_val(m->starts, e->g);
        return;
    }
    mw_session *s = e->s;
    rename_id(m, s->id, sizeof s->id);
    if (s->more && s->more->continues[0])
        rename_id(m, s->more->continues, sizeof s->more->continues);
    e->s = NULL;
    m->emit(s, m->user);
}

/* The stream whose head comes first, when its place is sure (every other stream has a
 * later head, or has told all it has up to that index); -1 otherwise. */
static int next_stream(const mw_merger *m)
{
    int best = -1;
    for (unsigned i = 0; i < m->n; i++) {
        const stream *s = &m->st[i];
        if (s->head >= s->ev->len)
            continue;
        const mw_order_event *h = &g_array_index(s->ev, mw_order_event, s->head);
        if (best < 0 || mw_order_cmp(h, &g_array_index(m->st[best].ev, mw_order_event,
                                                       m->st[best].head)) < 0)
            best = (int)i;
    }
    if (best < 0)
        return -1;
    uint64_t g = g_array_index(m->st[best].ev, mw_order_event, m->st[best].head).g;
    for (unsigned i = 0; i < m->n; i++) {
        const stream *s = &m->st[i];
        if (s->head >= s->ev->len && s->wm < g)
            return -1; /* stream i may still say something before it */
    }
    return best;
}

size_t mw_merger_run(mw_merger *m)
{
    size_t n = 0;
    int i;
    while ((i = next_stream(m)) >= 0) {
        stream *s = &m->st[i];
        mw_order_event *e = &g_array_index(s->ev, mw_order_event, s->head++);
        n += e->phase != MW_ORDER_START;
        s->taken += e->phase != MW_ORDER_START;
        m->current = (unsigned)i;
        emit_one(m, e);
    }
    return n;
}

unsigned mw_merger_current(const mw_merger *m)
{
    return m->current;
}

uint64_t mw_merger_taken(const mw_merger *m, unsigned i)
{
    return m->st[i].taken;
}

size_t mw_merger_held(const mw_merger *m)
{
    size_t n = 0;
    for (unsigned i = 0; i < m->n; i++)
        for (size_t k = m->st[i].head; k < m->st[i].ev->len; k++)
            n += g_array_index(m->st[i].ev, mw_order_event, k).s != NULL;
    return n;
}

void mw_merger_free(mw_merger *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->n; i++) {
        stream *s = &m->st[i];
        for (size_t k = s->head; k < s->ev->len; k++)
            mw_session_free(g_array_index(s->ev, mw_order_event, k).s);
        g_array_free(s->ev, TRUE);
    }
    g_array_free(m->starts, TRUE);
    g_free(m->st);
    g_free(m);
}
