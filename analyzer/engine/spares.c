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
