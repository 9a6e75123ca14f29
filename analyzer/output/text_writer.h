/* The readable text summary: one session's lines, its transcript, and the findings
 * grouped by flag at the end of a run. */
#ifndef MW_TEXT_WRITER_H
#define MW_TEXT_WRITER_H

#include <stdio.h>
#include <glib.h>

#include "core/session.h"
#include "engine/flow.h"

/* Ports listed in the hint when a capture has no mail session. */
#define MW_TOP_PORTS 5

typedef struct mw_findings mw_findings;
mw_findings *mw_findings_new(void);
void mw_findings_add(mw_findings *fs, const mw_session *s);
void mw_findings_print(const mw_findings *fs, FILE *fp);
void mw_findings_free(mw_findings *fs);
void mw_text_session(GString *out, const mw_session *s);
/* only_findings (-q): a part's lines only for what has findings (SMTP: the transactions
 * that raised a flag), with a count of the rest. */
void mw_text_session_ex(GString *out, const mw_session *s, bool only_findings);
/* -v: the session's redacted transcript, one line per command or reply. */
void mw_text_transcript(GString *out, const mw_session *s);
/* --local-time: session and transcript times in the local time zone (default UTC). */
void mw_text_local_time(bool on);
/* The run reads several inputs: name the file of each session and evidence frame. */
void mw_text_several_inputs(bool on);
/* "Times: UTC ..." or "Times: local time (CET, UTC+01:00)", for the totals. */
void mw_text_zone(FILE *fp);
/* The server ports of the ignored (non-mail) flows counted most, most first: how many
 * were written to ports/counts (at most max). */
size_t mw_top_ports(const mw_engine_stats *st, uint16_t *ports, uint32_t *counts, size_t max);
/* The findings section of a run without any mail session: why, and what to try. */
void mw_text_no_mail(FILE *fp, const mw_engine_stats *st);

#endif
