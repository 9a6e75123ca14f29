#include "input/defrag.h"

#include <glib.h>
#include <string.h>

#include "core/cursor.h"
#define XXH_INLINE_ALL
#include <xxhash.h>

#define PROTO_TCP 6
/* Bytes counted against max_bytes per datagram beyond its buffer: the record, its hash
 * entry and the allocator's headers. */
#define MW_DEFRAG_OVERHEAD 256u

/* RFC 791: a datagram is named by source, destination, protocol and identification;
 * RFC 8200: by source, destination and identification (proto 0 then). */
typedef struct {
    uint64_t hash;
    uint32_t id;
    uint8_t family, proto, pad[2];
    uint8_t src[16], dst[16];
} dkey;

typedef struct {
    uint32_t start, end;
} range;

typedef struct dgram {
    dkey key;
    struct dgram *prev, *next; /* by age, oldest first */
    int64_t first_ts;
    uint8_t *buf;
    size_t cap;
    GArray *ranges;            /* range, sorted, disjoint, merged when adjacent */
    uint32_t total;            /* the datagram's length, once the last fragment is seen */
    bool has_last, overlap, refused;
    uint8_t proto;             /* next header of the fragmentable part (offset-0 fragment) */
    mw_drop refused_why;
    unsigned frags;            /* fragments held in it */
    uint32_t tcp_hlen;         /* the first fragment's TCP header length, 0: not seen */
    size_t cost;
} dgram;

struct mw_defrag {
    mw_defrag_limits lim;
    uint64_t *drops;
    GHashTable *map;
    dgram *oldest, *newest;
    uint64_t seed;
    dgram *done;               /* the datagram last completed: its bytes are out's */
    mw_defrag_stats st;
};

static guint key_hash(gconstpointer k)
{
    const uint64_t h = ((const dkey *)k)->hash;
    return (guint)(h ^ (h >> 32));
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(dkey)) == 0;
}

mw_defrag *mw_defrag_new(const mw_defrag_limits *lim, uint64_t *drops)
{
    mw_defrag *d = g_new0(mw_defrag, 1);
    d->lim = *lim;
    d->drops = drops;
    d->map = g_hash_table_new(key_hash, key_equal);
    /* ids and addresses are the sender's choice: a seeded hash keeps chains short */
    d->seed = (uint64_t)g_random_int() << 32 | g_random_int();
    return d;
}

static void dgram_free(dgram *g)
{
    if (!g)
        return;
    g_free(g->buf);
    if (g->ranges)
        g_array_free(g->ranges, TRUE);
    g_free(g);
}

static void set_cost(mw_defrag *d, dgram *g)
{
    size_t c = MW_DEFRAG_OVERHEAD + g->cap + (g->ranges ? g->ranges->len * sizeof(range) : 0);
    d->st.bytes_held = d->st.bytes_held - g->cost + c;
    g->cost = c;
    if (d->st.bytes_held > d->st.bytes_peak)
        d->st.bytes_peak = d->st.bytes_held;
}

/* Out of the table and the age list; its fragments counted under `why` unless it was
 * completed (why < 0) or refused (counted when they came). */
static void unlink_dgram(mw_defrag *d, dgram *g, int why)
{
    g_hash_table_remove(d->map, &g->key);
    if (g->prev)
        g->prev->next = g->next;
    else
        d->oldest = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        d->newest = g->prev;
    d->st.in_progress--;
    d->st.bytes_held -= g->cost;
    g->cost = 0;
    if (why >= 0 && !g->refused)
        d->drops[why] += g->frags;
}

static void drop_dgram(mw_defrag *d, dgram *g, mw_drop why)
{
    unlink_dgram(d, g, (int)why);
    dgram_free(g);
}

void mw_defrag_free(mw_defrag *d)
{
    if (!d)
        return;
    while (d->oldest)
        drop_dgram(d, d->oldest, MW_DROP_FRAG_EXPIRED);
    dgram_free(d->done);
    g_hash_table_destroy(d->map);
    g_free(d);
}

static dgram *find_or_add(mw_defrag *d, const mw_packet *f, int64_t ts_us)
{
    dkey k;
    memset(&k, 0, sizeof k);
    k.id = f->frag_id;
    k.family = f->family;
    k.proto = f->family == 4 ? f->frag_proto : 0;
    memcpy(k.src, f->src, 16);
    memcpy(k.dst, f->dst, 16);
    k.hash = XXH3_64bits_withSeed(&k.id, sizeof k - sizeof k.hash, d->seed);
    dgram *g = g_hash_table_lookup(d->map, &k);
    if (g)
        return g;
    while (d->oldest && d->st.in_progress >= d->lim.max_datagrams)
        drop_dgram(d, d->oldest, MW_DROP_FRAG_CAP);
    g = g_new0(dgram, 1);
    g->key = k;
    g->first_ts = ts_us;
    g->prev = d->newest;
    if (d->newest)
        d->newest->next = g;
    else
        d->oldest = g;
    d->newest = g;
    g_hash_table_insert(d->map, &g->key, g);
    d->st.in_progress++;
    set_cost(d, g);
    return g;
}

/* The whole datagram refused (RFC 1858 attacks, an impossible size): what it held is
 * counted under `why`, and so is every later fragment of it until it times out. */
static void refuse(mw_defrag *d, dgram *g, mw_drop why)
{
    d->drops[why] += g->frags + 1;
    g->frags = 0;
    g->refused = true;
    g->refused_why = why;
    g_free(g->buf);
    g->buf = NULL;
    g->cap = 0;
    if (g->ranges)
        g_array_set_size(g->ranges, 0);
    set_cost(d, g);
}

/* Compare [s, e) of the piece with the held bytes it overlaps; copy the rest in and merge
 * the ranges. Returns how many new bytes it brought; *differs: an overlap disagreed. */
static size_t merge(dgram *g, uint32_t s, uint32_t e, const uint8_t *p, bool *differs)
{
    GArray *r = g->ranges;
    size_t added = 0;
    uint32_t at = s;
    guint i = 0;
    while (i < r->len && g_array_index(r, range, i).end < s)
        i++;
    guint first = i;
    for (; i < r->len && g_array_index(r, range, i).start <= e; i++) {
        range h = g_array_index(r, range, i);
        if (h.start > at) {
            memcpy(g->buf + at, p + (at - s), h.start - at);
            added += h.start - at;
        }
        uint32_t os = MAX(h.start, s), oe = MIN(h.end, e);
        if (oe > os && memcmp(g->buf + os, p + (os - s), oe - os) != 0)
            *differs = true;
        at = MAX(at, h.end);
    }
    if (at < e) {
        memcpy(g->buf + at, p + (at - s), e - at);
        added += e - at;
    }
    /* ranges first .. i-1 touch [s, e): they become one */
    range m = { s, e };
    if (i > first) {
        m.start = MIN(s, g_array_index(r, range, first).start);
        m.end = MAX(e, g_array_index(r, range, i - 1).end);
        g_array_remove_range(r, first, i - first);
    }
    g_array_insert_val(r, first, m);
    return added;
}

/* Room in the buffer for bytes up to `end` (bounded by MW_DEFRAG_MAX_DATAGRAM). */
static void grow(mw_defrag *d, dgram *g, uint32_t end)
{
    if (end <= g->cap)
        return;
    size_t cap = g->cap ? g->cap : 2048;
    while (cap < end)
        cap *= 2;
    cap = MIN(cap, (size_t)MW_DEFRAG_MAX_DATAGRAM);
    g->buf = g_realloc(g->buf, cap);
    g->cap = cap;
    if (!g->ranges)
        g->ranges = g_array_new(FALSE, FALSE, sizeof(range));
    set_cost(d, g);
}

/* Over the bytes cap: the oldest datagrams other than g go; then g itself if need be.
 * Returns false when g went. */
static bool within_bytes(mw_defrag *d, dgram *g)
{
    while (d->st.bytes_held > d->lim.max_bytes && d->oldest) {
        dgram *o = d->oldest == g ? g->next : d->oldest;
        if (!o)
            break;
        drop_dgram(d, o, MW_DROP_FRAG_CAP);
    }
    if (d->st.bytes_held <= d->lim.max_bytes)
        return true;
    drop_dgram(d, g, MW_DROP_FRAG_CAP);
    return false;
}

/* The TCP header length a first fragment announces (its data offset), 0 if it is
 * too short to say. */
static uint32_t tcp_hlen(const mw_packet *f)
{
    mw_cursor c = mw_cursor_make(f->payload, f->payload_len);
    uint8_t off;
    if (!mw_cur_skip(&c, 12) || !mw_cur_u8(&c, &off))
        return 0;
    return (uint32_t)(off >> 4) * 4;
}

/* The checks a fragment passes before its bytes are looked at; a reason to count it
 * under, or -1. Some refuse the whole datagram (*whole). */
static int vet(const dgram *g, const mw_packet *f, uint32_t end, bool *whole)
{
    *whole = false;
    if (f->payload_cut > 0)
        return MW_DROP_FRAG_TRUNCATED;
    if (end > MW_DEFRAG_MAX_DATAGRAM || (f->frag_more && f->payload_len % 8 != 0) ||
        (!f->frag_more && g->has_last && end != g->total) ||
        (g->has_last && end > g->total) || f->payload_len == 0 ||
        (!f->frag_more && g->ranges && g->ranges->len &&
         g_array_index(g->ranges, range, g->ranges->len - 1).end > end)) {
        *whole = end > MW_DEFRAG_MAX_DATAGRAM;
        return MW_DROP_FRAG_BAD;
    }
    if (f->frag_proto != PROTO_TCP)
        return -1;
    *whole = true;
    if (f->frag_off == 0 && f->frag_more &&
        (f->payload_len < MW_DEFRAG_MIN_FIRST || f->payload_len < tcp_hlen(f)))
        return MW_DROP_FRAG_TINY;
    if (f->frag_off > 0 && f->frag_off < MAX(MW_DEFRAG_MIN_FIRST, g->tcp_hlen))
        return MW_DROP_FRAG_TCP_OVERLAP;
    *whole = false;
    return -1;
}

static bool complete(const dgram *g)
{
    if (!g->has_last || g->ranges->len != 1)
        return false;
    range r = g_array_index(g->ranges, range, 0);
    return r.start == 0 && r.end == g->total;
}

/* Is proto worth holding (TCP, or an IPv6 extension header that may lead to it)? */
static bool may_be_tcp(const mw_packet *f)
{
    uint8_t p = f->frag_proto;
    return p == PROTO_TCP || (f->family == 6 && (p == 0 || p == 43 || p == 51 || p == 60 ||
                                                 p == 135));
}

static bool finish_dgram(mw_defrag *d, dgram *g, const mw_packet *f, mw_packet *out,
                         mw_decode_status *ds)
{
    unlink_dgram(d, g, -1);
    d->st.datagrams++;
    d->st.fragments += g->frags;
    dgram_free(d->done);
    d->done = g;
    memset(out, 0, sizeof *out);
    out->family = f->family;
    memcpy(out->src, f->src, 16);
    memcpy(out->dst, f->dst, 16);
    *ds = mw_decode_l4(g->proto, g->buf, g->total, out);
    out->frag_overlap = g->overlap;
    return true;
}

bool mw_defrag_offer(mw_defrag *d, const mw_packet *f, int64_t ts_us, mw_packet *out,
                     mw_decode_status *ds)
{
    dgram_free(d->done);
    d->done = NULL;
    mw_defrag_expire(d, ts_us);
    if (!may_be_tcp(f)) {
        d->drops[MW_DROP_NOT_TCP]++;
        return false;
    }
    dgram *g = find_or_add(d, f, ts_us);
    if (g->refused) {
        d->drops[g->refused_why]++;
        return false;
    }
    uint32_t s = f->frag_off, e = s + (uint32_t)f->payload_len;
    bool whole;
    int why = vet(g, f, e, &whole);
    if (why >= 0) {
        if (whole)
            refuse(d, g, (mw_drop)why);
        else
            d->drops[why]++;
        return false;
    }
    grow(d, g, e);
    bool differs = false;
    size_t added = merge(g, s, e, f->payload, &differs);
    if (differs && !g->overlap) {
        g->overlap = true;
        d->st.overlaps++;
    }
    if (added == 0) {
        d->drops[differs ? MW_DROP_FRAG_OVERLAP : MW_DROP_FRAG_DUPLICATE]++;
        return false;
    }
    g->frags++;
    if (s == 0) {
        g->proto = f->frag_proto;
        if (f->frag_proto == PROTO_TCP)
            g->tcp_hlen = tcp_hlen(f);
    }
    if (!f->frag_more) {
        g->has_last = true;
        g->total = e;
    }
    set_cost(d, g);
    if (!within_bytes(d, g))
        return false;
    return complete(g) && finish_dgram(d, g, f, out, ds);
}

void mw_defrag_expire(mw_defrag *d, int64_t now_us)
{
    while (d->oldest && now_us - d->oldest->first_ts > d->lim.timeout_us)
        drop_dgram(d, d->oldest, MW_DROP_FRAG_EXPIRED);
}

void mw_defrag_finish(mw_defrag *d)
{
    while (d->oldest)
        drop_dgram(d, d->oldest, MW_DROP_FRAG_EXPIRED);
    dgram_free(d->done);
    d->done = NULL;
}

const mw_defrag_stats *mw_defrag_stats_get(const mw_defrag *d)
{
    return &d->st;
}
