/* A bump allocator for what lives exactly as long as one session record: many small
 * strings and structs written once (EHLO capabilities, the rarely used part of the
 * record), taken from a few chunks and freed in one go with the record, instead of one
 * malloc and free each. Nothing in it is freed or grown on its own: a field that can be
 * rewritten stays on the heap (a sender repeating it would grow the arena without end).
 *
 * Not thread-safe; a record and its arena are used by one thread at a time (the analysis
 * thread fills it, the writer frees it after the hand-over). */
#ifndef MW_ARENA_H
#define MW_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* The first chunk's size: a session that keeps a few strings fits in it (most do); each
 * later chunk doubles, up to MW_ARENA_CHUNK_MAX. An allocation over a quarter of that gets
 * a chunk of its own. Chunks are made at first use: a record that keeps nothing in the
 * arena costs only its head pointer. */
#define MW_ARENA_FIRST_CHUNK 256u
#define MW_ARENA_CHUNK_MAX 8192u
/* Every allocation is aligned to this (the widest field a record struct holds). */
#define MW_ARENA_ALIGN 8u

typedef struct mw_arena_chunk mw_arena_chunk;

/* One pointer, so that a record that keeps nothing in it costs 8 bytes. */
typedef struct {
    mw_arena_chunk *head; /* the chunk being filled, the older ones behind it; NULL: none */
} mw_arena;

/* n bytes, zeroed, MW_ARENA_ALIGN-aligned; never NULL (GLib's abort on exhaustion). */
void *mw_arena_alloc0(mw_arena *a, size_t n);
/* A NUL-terminated copy of len bytes at p (which need not be terminated). */
char *mw_arena_strndup(mw_arena *a, const char *p, size_t len);
/* Every chunk freed; a is empty again. */
void mw_arena_free(mw_arena *a);
/* What its chunks take in all, headers included, and how many there are (tests). */
size_t mw_arena_bytes(const mw_arena *a, size_t *chunks);

#endif
