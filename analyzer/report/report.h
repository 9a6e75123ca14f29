/* The incident report (--report FILE.md | FILE.html): one self-contained file for a
 * review: what was analysed, the findings with diagnosis and evidence frames, a timeline,
 * the session table, and the redacted transcripts of flagged sessions.
 *
 * Sessions are collected as they end (a compact copy, capped: see report_model.h) and the
 * file is written once at the end of the run, also when a live capture is stopped. */
#ifndef MW_REPORT_H
#define MW_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "engine/flow.h"
#include "input/inputs.h"
#include "core/session.h"

typedef struct mw_report mw_report;

/* The format follows the extension (.md / .markdown, .html / .htm): false with *err
 * otherwise. */
bool mw_report_check_name(const char *path, char **err);
/* The report for path, written to fp (created by the caller before any analysis, so a
 * bad path fails first; see output/outfile.h); fp is the report's from here, also on
 * failure. NULL with *err (one line) otherwise. */
mw_report *mw_report_new(const char *path, FILE *fp, const mw_inputs *inputs, char **err);
/* A finished session (an mw_session_cb). */
void mw_report_session(const mw_session *s, void *report);
/* Write the report. live: the interface name for a live capture, or NULL. */
bool mw_report_write(mw_report *r, const mw_engine_stats *st, const char *live, char **err);
void mw_report_free(mw_report *r);
/* The run's BPF filter (NULL: none), said with what it left out under "What was analysed". */
void mw_report_set_filter(mw_report *r, const char *filter);

#endif
