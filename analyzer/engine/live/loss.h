/* Live capture: the stretches of time in which the kernel (or the interface) dropped
 * packets, remembered so that a capture_gap says whether the capture lost the bytes
 * (mailwire fell behind) or the network did. One per engine, on its thread. */
#ifndef MW_LOSS_H
#define MW_LOSS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/session.h"

/* Stretches of kernel drops remembered for capture_gap evidence (the latest few: a gap is
 * found within its session's life); drops less than MW_LOSS_MERGE_US apart extend one. */
#define MW_LOSS_STRETCHES 16
#define MW_LOSS_MERGE_US 1000000

typedef struct {
    struct { int64_t from_us, to_us; } loss[MW_LOSS_STRETCHES]; /* the latest drop stretches */
    unsigned nloss;
    void (*probe)(void *user); /* live capture: reads the drop counters now (may be NULL) */
    void *probe_user;
} mw_loss;

/* Packets were dropped between from_us and to_us (wall clock). */
void mw_loss_add(mw_loss *l, int64_t from_us, int64_t to_us);
/* Were packets dropped between from_us and to_us? The probe is asked first: drops of the
 * batch being read are not counted yet. */
bool mw_loss_between(mw_loss *l, int64_t from_us, int64_t to_us);

/* capture_gap for `missing` bytes from `who` ("client", "server") found at (frame, ts_us) in
 * session s, open since first_us: the evidence names the kernel when it dropped packets in
 * the session's life. */
void mw_loss_flag_gap(mw_loss *l, mw_session *s, int64_t first_us, uint64_t missing,
                      const char *who, uint64_t frame, int64_t ts_us);
/* At the close of a session whose end was not seen (idle timeout, end of capture): a
 * capture_gap when the kernel dropped packets after its last captured one (last_us) and
 * before now_us - its FIN and last replies may be among them, and no later packet of its
 * own shows a gap in its stream. */
void mw_loss_flag_unseen_end(mw_loss *l, mw_session *s, int64_t last_us, int64_t now_us,
                             uint64_t frame, int64_t ts_us);

#endif
