#include "engine/live/loss.h"

#include <glib.h>

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

void mw_loss_flag_gap(mw_loss *l, mw_session *s, int64_t first_us, uint64_t missing,
                      const char *who, uint64_t frame, int64_t ts_us)
{
    if (mw_loss_between(l, first_us, ts_us))
        mw_session_flag(s, MW_FLAG_CAPTURE_GAP, frame, ts_us,
                        "%" G_GUINT64_FORMAT " bytes from the %s missing: the kernel dropped "
                        "packets during this session (mailwire fell behind, not the network; "
                        "raise --buffer-size)", missing, who);
    else
        mw_session_flag(s, MW_FLAG_CAPTURE_GAP, frame, ts_us,
                        "%" G_GUINT64_FORMAT " bytes from the %s missing from the capture",
                        missing, who);
}

void mw_loss_flag_unseen_end(mw_loss *l, mw_session *s, int64_t last_us, int64_t now_us,
                             uint64_t frame, int64_t ts_us)
{
    if (mw_loss_between(l, last_us, now_us))
        mw_session_flag(s, MW_FLAG_CAPTURE_GAP, frame, ts_us,
                        "its end is not in the capture: the kernel dropped packets while it "
                        "was open, after its last captured packet (mailwire fell behind, not "
                        "the network; raise --buffer-size)");
}
