/* The report's ten-second summary and the order of its findings: a severity per flag
 * (one table, report_summary.c), findings ranked by severity then by sessions. */
#ifndef MW_REPORT_SUMMARY_H
#define MW_REPORT_SUMMARY_H

#include "report/report_model.h"
#include "report/report_sections.h"

typedef enum {
    MW_SEV_NONE = 0, /* no entry: a flag added to flags.h without a severity (a test fails) */
    MW_SEV_LOW,      /* the capture itself is incomplete: findings may be too */
    MW_SEV_MEDIUM,   /* some mail or trust affected; the service works */
    MW_SEV_HIGH,     /* mail does not flow for the affected clients */
    MW_SEV_CRITICAL, /* a security exposure (credentials readable on the wire) */
} mw_severity;

mw_severity mw_flag_severity(mw_flag f);
const char *mw_severity_name(mw_severity s);
/* The diagnosis's first clause, as the one-line cause (g_free). */
char *mw_flag_cause(mw_flag f);
/* The flags with sessions, most severe first, then most sessions, then by name; returns
 * how many were written to order (at most MW_FLAG_COUNT). */
int mw_report_ranked(const mw_report *r, mw_flag order[MW_FLAG_COUNT]);
/* Sessions that failed or were rejected. */
uint64_t mw_report_failed(const mw_report *r);
/* With no flag raised: "No problems found." -- or, when sessions failed all the same (a
 * breakdown no flag names, e.g. a refused invalid BDAT), a sentence that says so. */
const char *mw_report_no_flag_text(const mw_report *r, char *buf, size_t size);
/* "Summary": sessions, failed, time span, the top findings with counts and cause. */
void mw_report_summary(GString *g, const mw_report *r, const mw_rmarkup *m);

#endif
