/* Blocks of one size kept for reuse: a closed flow's memory is handed to the next new
 * one instead of a free and a malloc each (a busy link opens and closes flows all the
 * time). At most `max` are kept, so a burst of flows gives its memory back. */
#ifndef MW_SPARES_H
#define MW_SPARES_H

#include <stddef.h>

typedef struct {
    void *head;    /* the kept blocks, linked through their first pointer */
    unsigned n;    /* how many are kept */
    unsigned max;  /* at most this many */
    size_t size;   /* the size of every block (at least a pointer) */
} mw_spares;

void mw_spares_init(mw_spares *sp, size_t size, unsigned max);
/* A zeroed block of sp->size bytes: a kept one, else a new one. */
void *mw_spares_take(mw_spares *sp);
/* p (from mw_spares_take) is kept for reuse, or freed when max are kept already. */
void mw_spares_give(mw_spares *sp, void *p);
/* Every kept block freed. */
void mw_spares_free(mw_spares *sp);

#endif
