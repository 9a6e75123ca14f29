#include "engine/live/loss.h"

void mw_loss_add(mw_loss *l, int64_t from_us, int64_t to_us)
{
    if (l->nloss) {
        int64_t *last_to = &l->loss[(l->nloss - 1) % MW_LOSS_STRETCHES].to_us;
        if (from_us - *last_to < MW_LOSS_MERGE_US) {
            *last_to = to_us;
            return;
        }
    }
    l->loss[l->nloss % MW_LOSS_STRETCHES].from_us = from_us;
    l->loss[l->nloss % MW_LOSS_STRETCHES].to_us = to_us;
    l->nloss++;
}

bool mw_loss_between(mw_loss *l, int64_t from_us, int64_t to_us)
{
    if (l->probe)
        l->probe(l->probe_user);
    unsigned n = l->nloss < MW_LOSS_STRETCHES ? l->nloss : MW_LOSS_STRETCHES;
    for (unsigned i = 0; i < n; i++)
        if (l->loss[i].from_us <= to_us && l->loss[i].to_us >= from_us)
            return true;
    return false;
}
