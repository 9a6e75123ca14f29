/* The readable text summary: one session's lines, its transcript, and the findings
 * grouped by flag at the end of a run. */
#ifndef MW_TEXT_WRITER_H
#define MW_TEXT_WRITER_H

#include <stdio.h>
#include <glib.h>

#include "core/session.h"

typedef struct mw_findings mw_findings;
mw_findings *mw_findings_new(void);
void mw_findings_add(mw_findings *fs, const mw_session *s);
void mw_findings_print(const mw_findings *fs, FILE *fp);
void mw_findings_free(mw_findings *fs);
void mw_text_session(GString *out, const mw_session *s);
/* -v: the session's redacted transcript, one line per command or reply. */
void mw_text_transcript(GString *out, const mw_session *s);

#endif
