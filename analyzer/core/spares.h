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
/* The same with only its first n bytes zeroed, for a block whose rest is zeroed as it is
 * handed out (a record's arena room). */
void *mw_spares_take_zeroing(mw_spares *sp, size_t n);
/* p (from mw_spares_take) is kept for reuse, or freed when max are kept already. */
void mw_spares_give(mw_spares *sp, void *p);
/* Every kept block freed. */
void mw_spares_free(mw_spares *sp);

/* The blocks each thread keeps spares of for itself (mw_spares_here): what is made and
 * freed once per session or flow on the thread that analyses it. */
typedef enum {
    MW_SPARE_RECORD,  /* mw_session (core/session.c) */
    MW_SPARE_MORE,    /* its rare part with the arena's room */
    MW_SPARE_SMTP,    /* the dissectors' states, freed at the flow's close */
    MW_SPARE_TLS,
    MW_SPARE_IMAP,
    MW_SPARE_POP3,
    MW_SPARE_KINDS,
} mw_spare_kind;
/* Per-flow dissector states kept per thread: they are freed as each flow closes, not in
 * batches, so a few cover the flows closing between two opening. */
#define MW_STATE_SPARES 64u
/* This thread's spares of kind k (its blocks `size` bytes, at most max kept; set at the
 * first call). No lock: a block goes back to the spares of the thread that frees it, and
 * a thread's spares are freed when it ends. */
mw_spares *mw_spares_here(mw_spare_kind k, size_t size, unsigned max);

#endif
