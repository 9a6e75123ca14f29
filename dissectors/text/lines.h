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
#include <string.h>

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

/* Take the next line from p[0..len). *used is always set to the bytes consumed.
 * Inline: it runs once per line of every text protocol, and a call cost a third of it. */
static inline mw_line_status mw_line_take(mw_linestate *ls, const uint8_t *p, size_t len,
                                          size_t max_line, mw_line *line, size_t *used)
{
    size_t off = 0;
    if (ls->discarding) {
        const uint8_t *nl = memchr(p, '\n', len);
        if (!nl) {
            *used = len;
            return MW_LINE_MORE;
        }
        off = (size_t)(nl - p) + 1;
        ls->discarding = false;
    }
    const uint8_t *nl = memchr(p + off, '\n', len - off);
    if (!nl) {
        if (len - off >= max_line) {
            ls->discarding = true;
            *used = len;
            return MW_LINE_OVERLONG;
        }
        *used = off;
        return MW_LINE_MORE;
    }
    size_t end = (size_t)(nl - p);
    *used = end + 1;
    if (end - off > max_line)
        return MW_LINE_OVERLONG;
    line->p = p + off;
    line->len = end - off;
    if (line->len > 0 && line->p[line->len - 1] == '\r')
        line->len--;
    return MW_LINE_OK;
}

/* Case-insensitive prefix test on a wire line. */
bool mw_line_starts(const mw_line *l, const char *prefix);
/* Case-insensitive search of a NUL-free needle in wire bytes. */
bool mw_bytes_contain(const uint8_t *p, size_t len, const char *needle);

#endif
