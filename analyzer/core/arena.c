#include "core/arena.h"
#include "core/spares.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

struct mw_arena_chunk {
    mw_arena_chunk *next; /* the older chunk */
    size_t size, used;    /* of data */
    bool borrowed;        /* given by mw_arena_init_in: its owner frees it */
    _Alignas(MW_ARENA_ALIGN) unsigned char data[];
};

_Static_assert(sizeof(mw_arena_chunk) == MW_ARENA_CHUNK_HEAD, "MW_ARENA_CHUNK_HEAD is the header");

static size_t round_up(size_t n)
{
    return (n + MW_ARENA_ALIGN - 1) & ~(size_t)(MW_ARENA_ALIGN - 1);
}

static mw_arena_chunk *chunk_new(size_t size)
{
    mw_arena_chunk *c = g_malloc(sizeof *c + size);
    c->size = size;
    c->used = 0;
    c->borrowed = false;
    return c;
}

void mw_arena_init_in(mw_arena *a, void *buf, size_t size)
{
    g_assert(size >= sizeof(mw_arena_chunk) + 64 && ((uintptr_t)buf & (MW_ARENA_ALIGN - 1)) == 0);
    mw_arena_chunk *c = buf;
    c->next = NULL;
    c->size = (size - sizeof *c) & ~(size_t)(MW_ARENA_ALIGN - 1);
    c->used = 0;
    c->borrowed = true;
    a->head = c;
}

/* n bytes (rounded up), not zeroed. */
static void *take(mw_arena *a, size_t n)
{
    mw_arena_chunk *c = a->head;
    if (c && c->size - c->used >= n) { /* the usual case: room in the chunk being filled */
        void *p = c->data + c->used;
        c->used += n;
        return p;
    }
    if (n > MW_ARENA_CHUNK_MAX / 4) {
        /* its own chunk, behind the one being filled (which keeps its room) */
        mw_arena_chunk *big = chunk_new(n);
        big->used = n;
        if (c) {
            big->next = c->next;
            c->next = big;
        } else {
            big->next = NULL;
            a->head = big;
        }
        return big->data;
    }
    /* twice the one being filled (a big chunk is never the head); at least n: a struct
     * bigger than the first chunks still fits in a fresh one */
    size_t size = c ? MIN(MAX(c->size * 2, (size_t)MW_ARENA_FIRST_CHUNK), (size_t)MW_ARENA_CHUNK_MAX)
                    : MW_ARENA_FIRST_CHUNK;
    mw_arena_chunk *fresh = chunk_new(MAX(size, n));
    fresh->next = c;
    a->head = fresh;
    fresh->used = n;
    return fresh->data;
}

void *mw_arena_alloc(mw_arena *a, size_t n)
{
    return take(a, round_up(n ? n : 1));
}

void *mw_arena_alloc0(mw_arena *a, size_t n)
{
    n = round_up(n ? n : 1);
    return memset(take(a, n), 0, n);
}

char *mw_arena_strndup(mw_arena *a, const char *p, size_t len)
{
    char *s = take(a, round_up(len + 1));
    if (len)
        memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

char *mw_arena_strdup_cap(mw_arena *a, const char *p, size_t cap)
{
    return p ? mw_arena_strndup(a, p, strnlen(p, cap)) : NULL;
}

void *mw_avec_push(mw_arena *a, mw_avec *v, size_t elem, unsigned first)
{
    if (v->len == v->cap) {
        unsigned cap = v->cap ? v->cap * 2 : MAX(first, 1u);
        void *n = mw_arena_alloc(a, (size_t)cap * elem);
        if (v->len)
            memcpy(n, v->data, (size_t)v->len * elem);
        v->data = n;
        v->cap = cap;
    }
    void *slot = (unsigned char *)v->data + (size_t)v->len++ * elem;
    return memset(slot, 0, elem);
}

void mw_avec_remove(mw_avec *v, size_t elem, unsigned i)
{
    if (i >= v->len)
        return;
    unsigned char *d = v->data;
    memmove(d + (size_t)i * elem, d + (size_t)(i + 1) * elem, (size_t)(v->len - i - 1) * elem);
    v->len--;
}

size_t mw_arena_bytes(const mw_arena *a, size_t *chunks)
{
    size_t bytes = 0, n = 0;
    for (const mw_arena_chunk *c = a->head; c; c = c->next, n++)
        bytes += sizeof *c + c->size;
    if (chunks)
        *chunks = n;
    return bytes;
}

void mw_arena_free(mw_arena *a)
{
    mw_arena_chunk *keep = NULL;
    for (mw_arena_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        if (c->borrowed)
            keep = c; /* the oldest: its owner frees it */
        else
            g_free(c);
    }
    memset(a, 0, sizeof *a);
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
        a->head = keep;
    }
}

/* Spare blocks (core/spares.h): with the arena, the other way a record's memory is kept from
 * one session to the next. */
void mw_spares_init(mw_spares *sp, size_t size, unsigned max)
{
    sp->head = NULL;
    sp->n = 0;
    sp->max = max;
    sp->size = size < sizeof(void *) ? sizeof(void *) : size;
}

void *mw_spares_take(mw_spares *sp)
{
    void *p = sp->head;
    if (!p)
        return g_malloc0(sp->size);
    memcpy(&sp->head, p, sizeof(void *));
    sp->n--;
    memset(p, 0, sp->size);
    return p;
}

void *mw_spares_take_zeroing(mw_spares *sp, size_t n)
{
    void *p = sp->head;
    if (p) {
        memcpy(&sp->head, p, sizeof(void *));
        sp->n--;
    } else {
        p = g_malloc(sp->size);
    }
    memset(p, 0, n < sp->size ? n : sp->size);
    return p;
}

void mw_spares_give(mw_spares *sp, void *p)
{
    if (!p)
        return;
    if (sp->n >= sp->max) {
        g_free(p);
        return;
    }
    memcpy(p, &sp->head, sizeof(void *));
    sp->head = p;
    sp->n++;
}

void mw_spares_free(mw_spares *sp)
{
    while (sp->head) {
        void *p = sp->head;
        memcpy(&sp->head, p, sizeof(void *));
        g_free(p);
    }
    sp->n = 0;
}

typedef struct {
    mw_spares kind[MW_SPARE_KINDS];
} here_spares;

static void here_drop(gpointer p)
{
    here_spares *h = p;
    for (unsigned k = 0; k < MW_SPARE_KINDS; k++)
        mw_spares_free(&h->kind[k]);
    g_free(h);
}

static GPrivate here_key = G_PRIVATE_INIT(here_drop);

mw_spares *mw_spares_here(mw_spare_kind k, size_t size, unsigned max)
{
    here_spares *h = g_private_get(&here_key);
    if (G_UNLIKELY(!h)) {
        h = g_new0(here_spares, 1);
        g_private_set(&here_key, h);
    }
    mw_spares *sp = &h->kind[k];
    if (G_UNLIKELY(!sp->size))
        mw_spares_init(sp, size, max);
    return sp;
}
