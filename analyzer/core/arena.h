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
 * arena costs only its head pointer (the session's record makes its first chunk with its
 * rare part instead, when it is made for the arena: mw_arena_init_in). */
#define MW_ARENA_FIRST_CHUNK 256u
#define MW_ARENA_CHUNK_MAX 8192u
/* Every allocation is aligned to this (the widest field a record struct holds). */
#define MW_ARENA_ALIGN 8u
/* What a chunk's header takes before its data (mw_arena_init_in's buffer holds both). */
#define MW_ARENA_CHUNK_HEAD 32u

typedef struct mw_arena_chunk mw_arena_chunk;

/* One pointer, so that a record that keeps nothing in it costs 8 bytes. */
typedef struct {
    mw_arena_chunk *head; /* the chunk being filled, the older ones behind it; NULL: none */
} mw_arena;

/* Take buf (size bytes, MW_ARENA_ALIGN-aligned, at least MW_ARENA_CHUNK_HEAD + 64) as the
 * first chunk of an empty arena: the owner of a record allocates it with the record, in
 * the same malloc, so that a record whose strings fit in it costs no chunk of its own.
 * mw_arena_free leaves it to its owner (it stays usable, empty again). */
void mw_arena_init_in(mw_arena *a, void *buf, size_t size);
/* n bytes, zeroed, MW_ARENA_ALIGN-aligned; never NULL (GLib's abort on exhaustion). */
void *mw_arena_alloc0(mw_arena *a, size_t n);
/* n bytes, not zeroed (for what is written whole at once). */
void *mw_arena_alloc(mw_arena *a, size_t n);
/* A NUL-terminated copy of len bytes at p (which need not be terminated). */
char *mw_arena_strndup(mw_arena *a, const char *p, size_t len);
/* A copy of the NUL-terminated p, at most cap bytes of it; NULL for NULL. */
char *mw_arena_strdup_cap(mw_arena *a, const char *p, size_t cap);
/* Every chunk freed (but one given by mw_arena_init_in, emptied); a is empty again. */
void mw_arena_free(mw_arena *a);
/* An array in an arena, for a record's list whose length has a cap (recipients, replies,
 * capabilities): grown by doubling into fresh arena space, the old copy left until the
 * arena goes (so all its copies take at most twice the largest). Zeroed: empty. */
typedef struct {
    void *data;
    unsigned len, cap;
} mw_avec;
#define mw_avec_at(v, type, i) (((type *)(v)->data)[i])
/* A zeroed slot at the end (room for `first` elements at the first push). */
void *mw_avec_push(mw_arena *a, mw_avec *v, size_t elem, unsigned first);
/* Element i out, the later ones moved down. */
void mw_avec_remove(mw_avec *v, size_t elem, unsigned i);

/* What its chunks take in all, headers included, and how many there are (tests). */
size_t mw_arena_bytes(const mw_arena *a, size_t *chunks);

#endif
