/* Dot-terminated multi-line blocks (POP3 RFC 1939 section 3, SMTP DATA RFC 5321 4.1.1.4):
 * their bytes (and lines, when asked) up to the terminator, never buffered. Only a '.' at
 * a line start can end a block, so without a line count the scan goes from dot to dot
 * (memchr for '.', then the byte before it), not from line to line: a base64 body has
 * no '.' at all, and one memchr call per 78-byte line was the cost of skipping it. */
#include "text/textproto.h"

#include <string.h>

/* The first j in (from, len) with p[j-1] == '\n' and p[j] == '.' (a dot that starts a
 * line), or len. from < len. Counting: line by line, *lines grown by each '\n' passed. */
static size_t next_line_dot(const uint8_t *p, size_t from, size_t len, bool count,
                            uint64_t *lines)
{
    size_t i = from;
    if (count) {
        while (i < len) {
            const uint8_t *nl = memchr(p + i, '\n', len - i);
            if (!nl)
                return len;
            (*lines)++;
            i = (size_t)(nl - p) + 1;
            if (i < len && p[i] == '.')
                return i;
        }
        return len;
    }
    for (i++; i < len; i++) {
        const uint8_t *dot = memchr(p + i, '.', len - i);
        if (!dot)
            return len;
        i = (size_t)(dot - p);
        if (p[i - 1] == '\n')
            return i;
    }
    return len;
}

mw_dot_status mw_dotblock_skip(mw_dotblock *b, const uint8_t *p, size_t len, size_t *used)
{
    size_t off = 0;
    while (off < len) {
        const uint8_t *q = p + off;
        size_t avail = len - off;
        if (b->line_start && q[0] == '.') {
            /* ".\r\n" or ".\n" ends the block; ".." is a stuffed dot (RFC 1939 3) */
            if (avail >= 2 && q[1] == '\n') {
                *used = off + 2;
                return MW_DOT_END;
            }
            if (avail >= 3 && q[1] == '\r' && q[2] == '\n') {
                *used = off + 3;
                return MW_DOT_END;
            }
            if (avail < 2 || (avail < 3 && q[1] == '\r')) {
                *used = off;
                return MW_DOT_NEED;
            }
        }
        size_t j = next_line_dot(p, off, len, b->count_lines, &b->lines);
        b->bytes += j - off;
        b->line_start = j < len || p[len - 1] == '\n';
        off = j;
    }
    *used = off;
    return MW_DOT_CONTINUE;
}
