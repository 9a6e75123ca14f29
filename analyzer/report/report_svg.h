/* The timeline of sessions as inline SVG. */
#ifndef MW_REPORT_SVG_H
#define MW_REPORT_SVG_H

#include "report/report_model.h"

/* The timeline picture, an <svg> element. Writes the note about capped bars to *note
 * (g_free it) when not every session has a bar. */
void mw_report_svg(GString *out, const struct mw_report *r, char **note);

#endif
