/* Line framing shared by the text protocols (SMTP, IMAP, POP3).
 *
 * Finds the next CRLF- (or bare LF-) terminated line with memchr. A line longer than
 * the limit is discarded up to the next LF and reported once, so a hostile stream
 * without line ends costs bounded memory. */
#ifndef MW_LINES_H
#define MW_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    bool discarding; /* inside an over-long line: skip to the next LF */
} mw_linestate;

typedef struct {
    const uint8_t *p;
    size_t len;      /* without the CR LF */
} mw_line;

typedef enum {
    MW_LINE_OK,       /* *line holds a complete line */
    MW_LINE_MORE,     /* no complete line: keep the unconsumed bytes and come back */
    MW_LINE_OVERLONG, /* a line over the limit was (or is being) discarded */
} mw_line_status;

/* Take the next line from p[0..len). *used is always set to the bytes consumed. */
mw_line_status mw_line_take(mw_linestate *ls, const uint8_t *p, size_t len, size_t max_line,
                            mw_line *line, size_t *used);

/* Case-insensitive prefix test on a wire line. */
bool mw_line_starts(const mw_line *l, const char *prefix);
/* Case-insensitive search of a NUL-free needle in wire bytes. */
bool mw_bytes_contain(const uint8_t *p, size_t len, const char *needle);

#endif
