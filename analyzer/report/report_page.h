/* The page driver: each format supplies its pieces, one function puts them in order. */
#ifndef MW_REPORT_PAGE_H
#define MW_REPORT_PAGE_H

#include "report/report_model.h"

/* One format's pieces of the page; mw_report_write_page puts them in order. */
typedef struct {
    void (*opening)(GString *g);                   /* up to "Written by mailwire from " */
    void (*written_on)(GString *g, const char *when); /* " on <when>. ..." and after */
    void (*summary)(GString *g, const struct mw_report *r);
    void (*analysed)(GString *g, const struct mw_report *r); /* at the end: inputs, counts */
    void (*findings)(GString *g, const struct mw_report *r);
    void (*timeline)(GString *g, const struct mw_report *r);
    void (*sessions)(GString *g, const struct mw_report *r, FILE *fp); /* may flush */
    void (*transcripts_heading)(GString *g, bool any);
    void (*transcript)(GString *g, const struct mw_report *r, const mw_rtranscript *t);
    void (*transcripts_dropped)(GString *g, uint64_t n);
    const char *transcripts_end;
    void (*closing)(GString *g);
} mw_report_format;

bool mw_report_write_page(const struct mw_report *r, FILE *fp, const mw_report_format *fmt);
/* Write g to fp once it is large (or when force), and empty it. After a failed write
 * nothing more is written; mw_report_page_errno says why (0: no error). */
void mw_report_page_reset(void);
int mw_report_page_errno(void);
void mw_report_flush(GString *g, FILE *fp, bool force);

#endif
