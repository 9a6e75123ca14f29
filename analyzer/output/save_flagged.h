/* --save-flagged DIR: the packets of each flagged session in its own pcap, named
 * "<id>-<first flag>.pcap", with the link type of its input.
 *
 * Sessions are noted as they end (4-tuple, time window, input files); after the analysis
 * a second pass over the input files copies every packet of the 4-tuple (either direction)
 * inside the window [ts_start, ts_end]. At most MW_SAVE_MAX_OPEN files are open at once;
 * a file closed to make room is reopened for appending. Files only: not stdin or live.
 * Write errors are kept (the first one is reported) and end the writing. */
#ifndef MW_SAVE_FLAGGED_H
#define MW_SAVE_FLAGGED_H

#include <stdbool.h>

#include "input/inputs.h"
#include "core/session.h"

/* Output files open at once during the second pass. */
#define MW_SAVE_MAX_OPEN 200
/* Flagged sessions saved; later ones are counted and reported. */
#define MW_SAVE_MAX_SESSIONS 10000
/* Snapshot length written in the file headers. */
#define MW_SAVE_SNAPLEN 262144

typedef struct mw_saver mw_saver;

/* Names tried for a session's file when the first is taken ("-2" ... "-99"). */
#define MW_SAVE_NAME_TRIES 99

/* Creates dir when missing (mode 0700) and opens it: every file is created in it with
 * O_CREAT | O_EXCL | O_NOFOLLOW, so no existing file or link is ever written through; a
 * taken name gets a "-2", "-3" ... suffix. NULL with *err (one line). */
mw_saver *mw_saver_new(const char *dir, const mw_inputs *inputs, char **err);
/* Each input, in order, opened now and kept for the second pass. */
bool mw_saver_add_input(mw_saver *sv, const char *path, char **err);
/* The directory's descriptor (the sandbox allows creating files relative to it). */
int mw_saver_dir_fd(const mw_saver *sv);
/* A finished session (an mw_session_cb): noted when it has flags. */
void mw_saver_session(const mw_session *s, void *saver);
/* The second pass. *written: files written. *note: a warning line or NULL (g_free). */
bool mw_saver_run(mw_saver *sv, unsigned *written, char **note, char **err);
void mw_saver_free(mw_saver *sv);

#endif
