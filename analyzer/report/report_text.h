/* Text helpers every report format uses: cleaning wire text, escapes, times, labels. */
#ifndef MW_REPORT_TEXT_H
#define MW_REPORT_TEXT_H

#include "report/report_model.h"

/* Clean wire text for any output: valid UTF-8 (invalid bytes as U+FFFD), control
 * characters as '.', at most max characters ("..." appended when cut). NULL stays NULL. */
char *mw_report_clean(const char *s, size_t max);
/* Append s escaped for HTML text and attribute values. */
void mw_html_escape(GString *out, const char *s);
/* A set of strings, sorted, the first MW_REPORT_LIST_SHOWN escaped by `escape`, then
 * "and N more" (noting when the set's own cap was reached). */
void mw_report_set_list(GString *g, GHashTable *set, void (*escape)(GString *, const char *));
/* Append s escaped for a Markdown table cell or paragraph. */
void mw_md_escape(GString *out, const char *s);
/* "2026-11-23 09:47:51.297" (UTC, milliseconds) */
void mw_report_time(GString *out, int64_t ts_us);
/* The input file's short name, for "frame 12 of x.pcap" (NULL for a single input). */
const char *mw_report_file_label(const struct mw_report *r, uint32_t file);
/* Outcome colour in the timeline and table. */
const char *mw_report_outcome_colour(mw_outcome o);

#endif
