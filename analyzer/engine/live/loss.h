/* Live capture: the stretches of time in which the kernel (or the interface) dropped
 * packets, remembered so that a capture_gap says whether the capture lost the bytes
 * (mailwire fell behind) or the network did. One per engine, on its thread. */
#ifndef MW_LOSS_H
#define MW_LOSS_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
