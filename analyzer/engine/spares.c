#include "engine/spares.h"

#include <glib.h>
#include <string.h>

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
