/* The inputs of a run (capture files, or one live interface), with what was seen in each:
 * link type, packet count and time range. Frame numbers restart in every file, so the
 * report and --save-flagged use this to name the file a session's frames belong to. */
#ifndef MW_INPUTS_H
#define MW_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/session.h"

typedef struct {
    char *name;            /* as given on the command line; "-" shown as "(stdin)" */
    int dlt;               /* libpcap link type, -1 when unknown (live) */
    uint64_t frames;       /* packets read */
    int64_t first_ts_us, last_ts_us; /* 0 when no packet */
} mw_input;

typedef struct mw_inputs mw_inputs;

mw_inputs *mw_inputs_new(void);
void mw_inputs_free(mw_inputs *in);

/* A new input starts being read; it becomes the current one. */
void mw_inputs_begin(mw_inputs *in, const char *name, int dlt);
/* Several inputs read at once, merged by time (input/files/merge.h): every input is
 * begun first, then mw_inputs_select names the input of each packet. */
void mw_inputs_merged(mw_inputs *in);
void mw_inputs_select(mw_inputs *in, size_t i);
/* One packet of the current input. */
void mw_inputs_packet(mw_inputs *in, uint64_t frame, int64_t ts_us);

size_t mw_inputs_count(const mw_inputs *in);
const mw_input *mw_inputs_get(const mw_inputs *in, size_t i);
/* The input being read; merged, the highest input read so far (the inputs are in the
 * order of their first packets, so a session's packets are in inputs up to it). */
size_t mw_inputs_current(const mw_inputs *in);

/* The input a session started in. Sessions normally end in the file they start in; one
 * still open when its file ended is closed later, so the answer is the latest input up to
 * the current one whose time range holds the session's start and whose packet count
 * reaches its first frame. */
size_t mw_inputs_file_of(const mw_inputs *in, const mw_session *s);

/* The input that holds packet frame at ts_us: the one named prefer (a session's own
 * input; NULL: none) when it does, else the latest (up to the current one) whose packets
 * read so far reach frame and whose time range holds ts_us. Inputs overlap in time, so
 * without prefer frame 1 of one file could be taken for frame 1 of another. */
size_t mw_inputs_file_at(const mw_inputs *in, uint64_t frame, int64_t ts_us, const char *prefer);

/* The input's base name, for a reader: "smtp.pcap". Owned by the inputs. */
const char *mw_inputs_short_name(const mw_inputs *in, size_t i);

#endif
