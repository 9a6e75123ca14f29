#include "core/arena.h"

#include <glib.h>
#include <string.h>

struct mw_arena_chunk {
    mw_arena_chunk *next; /* the older chunk */
    size_t size, used;    /* of data */
    _Alignas(MW_ARENA_ALIGN) unsigned char data[];
};

static size_t round_up(size_t n)
{
    return (n + MW_ARENA_ALIGN - 1) & ~(size_t)(MW_ARENA_ALIGN - 1);
}

static mw_arena_chunk *chunk_new(size_t size)
{
    mw_arena_chunk *c = g_malloc(sizeof *c + size);
    c->size = size;
    c->used = 0;
    return c;
}

void *mw_arena_alloc0(mw_arena *a, size_t n)
{
    n = round_up(n ? n : 1);
    mw_arena_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
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
            memset(big->data, 0, n);
            return big->data;
        }
        /* twice the one being filled (a big chunk is never the head); at least n: a struct
         * bigger than the first chunks still fits in a fresh one */
        size_t size = c ? MIN(c->size * 2, (size_t)MW_ARENA_CHUNK_MAX) : MW_ARENA_FIRST_CHUNK;
        mw_arena_chunk *fresh = chunk_new(MAX(size, n));
        fresh->next = c;
        a->head = c = fresh;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *mw_arena_strndup(mw_arena *a, const char *p, size_t len)
{
    char *s = mw_arena_alloc0(a, len + 1);
    if (len)
        memcpy(s, p, len);
    return s;
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
    for (mw_arena_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        g_free(c);
    }
    memset(a, 0, sizeof *a);
}
