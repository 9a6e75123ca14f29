/* The self-contained HTML report. */
#ifndef MW_REPORT_HTML_H
#define MW_REPORT_HTML_H

#include "report/report_model.h"

bool mw_report_write_html(const struct mw_report *r, FILE *fp);

#endif
