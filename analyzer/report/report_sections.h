/* Format-neutral pieces of the report: what a section says is decided here once, and each
 * format (report_html.c, report_md.c) only supplies its markup. A table is built as a
 * model (headings, cells of a kind) that each format lays out its own way. */
#ifndef MW_REPORT_SECTIONS_H
#define MW_REPORT_SECTIONS_H

#include "report/report_model.h"

typedef enum {
    MW_RCELL_PLAIN, /* as is (names of our own vocabulary, times) */
    MW_RCELL_TEXT,  /* escaped: from the input */
    MW_RCELL_MONO,  /* escaped, in a monospace font where the format has one */
    MW_RCELL_NUM,   /* a count, right-aligned */
    MW_RCELL_TOTAL, /* a count in bold */
} mw_rcell_kind;

typedef struct {
    mw_rcell_kind kind;
    char *text;
} mw_rcell;

#define MW_RTABLE_MAX_COLS 12

typedef struct {
    const char *id; /* HTML id */
    unsigned ncols;
    const char *heads[MW_RTABLE_MAX_COLS];
    bool numeric[MW_RTABLE_MAX_COLS]; /* a column of counts (right-aligned) */
    GArray *cells;                    /* mw_rcell, ncols per row */
} mw_rtable;

/* A format's markup for the shared sections. */
typedef struct {
    void (*escape)(GString *g, const char *s);
    void (*table)(GString *g, const mw_rtable *t);
    void (*note)(GString *g, const char *text);   /* an aside, in italics */
    void (*section)(GString *g, const char *id, const char *title);
    const char *section_end;
    const char *para[2];   /* paragraph open, close */
    const char *strong[2];
    const char *code[2];   /* an interface name */
    void (*list)(GString *g, bool open);           /* the summary's list of findings */
    void (*item)(GString *g, const char *severity, const char *flag, unsigned sessions,
                 const char *cause);
} mw_rmarkup;

/* "What was analysed": inputs, counts, time span, protocol x outcome, what was left out. */
void mw_report_analysed(GString *g, const mw_report *r, const mw_rmarkup *m);
/* True when any flag has a session. */
bool mw_report_any_finding(const mw_report *r);
/* The findings table has rows: a flag with a session, or a failed session with none
 * (mw_report.failed_unflagged, the last row, named and explained by these). */
bool mw_report_any_row(const mw_report *r);
#define MW_REPORT_UNFLAGGED_NAME "(no flag) failed"
#define MW_REPORT_UNFLAGGED_SEVERITY "unrated"
#define MW_REPORT_UNFLAGGED_DIAGNOSIS                                                       \
    "The session failed, but no flag names the cause: read the line that explains its "  \
    "outcome (e.g. below) and its anomalies in the sessions table, and follow the session " \
    "in Wireshark from its first frame (listed)."
/* The note under the sessions table when some were not kept, NULL when none (g_free). */
char *mw_report_sessions_note(const mw_report *r);
/* The note after the transcripts when some were not kept (g_free). */
char *mw_report_transcripts_note(uint64_t n);

#endif
