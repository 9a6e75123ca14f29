/* The Markdown report. */
#ifndef MW_REPORT_MD_H
#define MW_REPORT_MD_H

#include "report/report_model.h"

bool mw_report_write_md(const struct mw_report *r, FILE *fp);

#endif
